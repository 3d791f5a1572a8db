"""Rule file text -> AST (``Module``), with spans and friendly syntax errors.

A text is parsed by the fast parser (``lalr``), which builds the AST during the LALR parse; a
text it hands back (a syntax error, an error found while building) is parsed again through
Lark's tree (``tree``), which reports it."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, VisitError

from kam_policy.errors import Diagnostic, PolicySyntaxError
from kam_policy.grammar import ast, tree
from kam_policy.grammar.builder import AstBuilder
from kam_policy.grammar.lalr import FastParser
from kam_policy.grammar.span import Span, point_span

MAX_NESTING = 64
MAX_FILE_BYTES = 16_000_000

_TOKEN_WORDS = {
    "NAME": "a name",
    "STRING": 'a text in double quotes ("...")',
    "NUMBER": "a number",
    "DURATION": "a duration such as 4h or 30d",
    "BUSINESS": "working time such as 4 business_hours",
    "COMP_OP": "a comparison (== != < <= > >=)",
    "LPAR": "'('",
    "RPAR": "')'",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "LSQB": "'['",
    "RSQB": "']'",
    "COMMA": "','",
    "COLON": "':'",
    "EQUAL": "'='",
    "VBAR": "'|'",
    "$END": "the end of the file",
}


@cache
def _parser() -> Lark:
    text = resources.files("kam_policy.grammar").joinpath("policy.lark").read_text("utf-8")
    return Lark(text, parser="lalr", propagate_positions=True, maybe_placeholders=True)


@cache
def _fast_parser() -> FastParser | None:
    try:
        return FastParser(_parser())
    except Exception:  # a Lark release whose insides differ: Lark's tree does it all
        return None


def parse(text: str, source: str = "<policy>") -> ast.Module:
    """Parse one rule file into a ``Module``.

    Args:
        text: the rule file's text.
        source: the name spans carry (usually the path relative to the policy folder).

    Returns:
        The module's AST.

    Raises:
        PolicySyntaxError: the text is not a valid rule file (with the location and a hint).
    """
    _check_limits(text, source)
    fast = _fast_parser()
    if fast is not None:
        try:
            module: ast.Module = fast.parse(text, AstBuilder(source, text))
            return module
        except Exception:  # Lark's tree parses it again, and reports as it always did
            pass
    return _parse_tree(text, source)


def _parse_tree(text: str, source: str) -> ast.Module:
    """``parse`` through Lark's parse tree, as it always was (limits already checked)."""
    try:
        parsed = _parser().parse(text)
    except UnexpectedInput as error:
        raise _error([_syntax_diagnostic(error, text, source)], source, text) from None
    except RecursionError:
        raise _too_deep(source, text) from None
    try:
        module: ast.Module = tree.build(parsed, AstBuilder(source, text))
    except VisitError as error:
        if isinstance(error.orig_exc, PolicySyntaxError):
            raise _error(error.orig_exc.diagnostics, source, text) from None
        if isinstance(error.orig_exc, RecursionError):
            raise _too_deep(source, text) from None
        raise
    except RecursionError:
        raise _too_deep(source, text) from None
    return module


def _error(diagnostics: list[Diagnostic], source: str, text: str) -> PolicySyntaxError:
    from kam_policy.engine.render import render

    return PolicySyntaxError(diagnostics, render(diagnostics, {source: text}))


def _too_deep(source: str, text: str) -> PolicySyntaxError:
    return _error([Diagnostic(
        "parse.too-deep", "an expression is nested too deeply to read",
        point_span(source, text, 0), "split it with 'let' bindings or 'define' functions")],
        source, text)


def _check_limits(text: str, source: str) -> None:
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        raise PolicySyntaxError(
            [Diagnostic("parse.too-large", f"rule file is larger than {MAX_FILE_BYTES} bytes",
                        point_span(source, text, 0))]
        )
    _check_nesting(text, source)


# What the bracket count skips over: a comment (to the end of its line), a text in quotes (to
# its first quote not right after a backslash, or to the end), and the brackets counted.
_BRACKETS = re.compile(r'#[^\n]*|"[^"]*(?:(?<=\\)"[^"]*)*"?|[(\[{)\]}]')


def _check_nesting(text: str, source: str) -> None:
    if text.count("(") + text.count("[") + text.count("{") <= MAX_NESTING:
        return  # too few brackets to nest too deep
    depth = 0
    for found in _BRACKETS.finditer(text):
        char = text[found.start()]
        if char in "([{":
            depth += 1
            if depth > MAX_NESTING:
                raise PolicySyntaxError([Diagnostic(
                    "parse.too-deep", f"brackets are nested more than {MAX_NESTING} deep",
                    point_span(source, text, found.start()),
                    "split the expression with 'let' bindings")])
        elif char in ")]}":
            depth = max(0, depth - 1)


def _syntax_diagnostic(error: UnexpectedInput, text: str, source: str) -> Diagnostic:
    offset = getattr(error, "pos_in_stream", None)
    token = getattr(error, "token", None)
    if offset is None and isinstance(token, Token):
        offset = token.start_pos
    if offset is None:
        offset = len(text)
    span = point_span(source, text, offset)
    if isinstance(token, Token) and token.end_pos is not None and token.type != "$END":
        span = _token_span(token, source)
    expected = sorted(getattr(error, "expected", None) or getattr(error, "allowed", None) or [])
    described = {_describe_terminal(e) for e in expected if e != "$END"}
    # words first ("a comparison (...)", "a name"), then punctuation
    words = sorted(described, key=lambda w: (w.startswith("'"), w))
    hint = f"expected {', '.join(words[:8])}" if words else None
    if isinstance(error, UnexpectedCharacters):
        char = text[offset] if offset < len(text) else ""
        message = f"unexpected character {char!r}"
        if char == "'":
            hint = 'texts are written in double quotes: "like this"'
    elif isinstance(error, UnexpectedEOF) or (isinstance(token, Token) and token.type == "$END"):
        message = "unexpected end of file"
        hint = (hint + "; is a '}' or ')' missing?") if hint else "is a '}' or ')' missing?"
    else:
        shown = str(token) if token is not None else "?"
        message = f"unexpected {shown!r}"
    return Diagnostic("parse.unexpected-token", message, span, hint)


def _describe_terminal(name: str) -> str:
    """What a person writes for a grammar terminal: 'count(', a name, a text..."""
    if name in _TOKEN_WORDS:
        return _TOKEN_WORDS[name]
    if name.startswith("AGG_"):
        return "an aggregate such as count(...) or sum(...)"
    try:
        pattern = _parser().get_terminal(name).pattern
    except KeyError:
        return name.lower()
    if pattern.type == "str":
        return repr(pattern.value)
    return name.lower()


def _token_span(token: Token, source: str) -> Span:
    return Span(source, token.start_pos or 0, token.end_pos or 0, token.line or 1,
                token.column or 1, token.end_line or 1, token.end_column or 1)
