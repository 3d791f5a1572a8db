"""Lark's parse tree -> AST: the reference path, for texts the fast parser hands back
(``lalr.Rejected``), and the measure the fast parser is tested against."""

from __future__ import annotations

from typing import Any

from lark import Token, Transformer, Tree
from lark.exceptions import VisitError
from lark.tree import Meta

from kam_policy.grammar.builder import AstBuilder, Tok
from kam_policy.grammar.span import Span, point_span


def tok(token: Token) -> Tok:
    """A Lark token as the builder takes it."""
    return (token.start_pos or 0, token.end_pos or 0, token.line or 1, token.column or 1,
            token.end_line or 1, token.end_column or 1, None, token.type, str(token))


def build(tree: Tree[Token], builder: AstBuilder) -> Any:
    """The AST of a Lark parse tree made with ``propagate_positions=True``.

    Raises:
        lark.exceptions.VisitError: wrapping what a builder method raised.
    """
    return _ToAst(builder).transform(tree)


class _ToAst(Transformer[Token, Any]):
    """Each tree node -> the builder's method of the node's rule, with the node's span."""

    def __init__(self, builder: AstBuilder) -> None:
        super().__init__(visit_tokens=False)
        self._builder = builder

    def __default__(self, data: Any, children: list[Any], meta: Meta) -> Any:
        method = getattr(self._builder, str(data))
        parts = [tok(c) if isinstance(c, Token) else c for c in children]
        try:
            return method(self._span(meta), *parts)
        except Exception as error:  # as Lark wraps what a transformer's own method raises
            tree = Tree(data, children, meta)
            raise VisitError(str(data), tree, error) from error  # type: ignore[no-untyped-call]

    def _span(self, meta: Meta) -> Span:
        builder = self._builder
        if getattr(meta, "empty", True):
            return point_span(builder.source, builder.text, 0)
        return Span(builder.source, meta.start_pos, meta.end_pos, meta.line, meta.column,
                    meta.end_line, meta.end_column)
