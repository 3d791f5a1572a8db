"""The parser as it was before the fast path (issue #5), kept verbatim as the oracle that
tests/test_parse_speedups.py compares the fast parser with: Lark tree -> Transformer -> AST."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, VisitError
from lark.tree import Meta

from kam_policy.errors import Diagnostic, PolicySyntaxError
from kam_policy.grammar import ast
from kam_policy.grammar.span import Span, point_span

Fields = tuple[ast.FieldDecl, ...]

MAX_NESTING = 64
MAX_NUMBER_DIGITS = 30
MAX_FILE_BYTES = 16_000_000
MAX_STRING_CHARS = 10_000

_UNIT_MICROSECONDS = {"s": 1_000_000, "m": 60_000_000, "h": 3_600_000_000, "d": 86_400_000_000}

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
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as error:
        raise _error([_syntax_diagnostic(error, text, source)], source, text) from None
    except RecursionError:
        raise _too_deep(source, text) from None
    try:
        module: ast.Module = _ToAst(source, text).transform(tree)
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
    depth = 0
    in_string = in_comment = False
    for offset, char in enumerate(text):
        if in_comment:
            in_comment = char != "\n"
        elif in_string:
            in_string = char != '"' or text[offset - 1] == "\\"
        elif char == "#":
            in_comment = True
        elif char == '"':
            in_string = True
        elif char in "([{":
            depth += 1
            if depth > MAX_NESTING:
                raise PolicySyntaxError([Diagnostic(
                    "parse.too-deep", f"brackets are nested more than {MAX_NESTING} deep",
                    point_span(source, text, offset), "split the expression with 'let' bindings")])
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


@v_args(meta=True, inline=True)
class _ToAst(Transformer[Token, ast.Module]):
    """Lark tree -> AST. One method per grammar alias."""

    def __init__(self, source: str, text: str) -> None:
        super().__init__()
        self.source = source
        self.text = text

    def _span(self, meta: Meta) -> Span:
        if getattr(meta, "empty", True):
            return point_span(self.source, self.text, 0)
        return Span(self.source, meta.start_pos, meta.end_pos, meta.line, meta.column,
                    meta.end_line, meta.end_column)

    def _tspan(self, token: Token) -> Span:
        return _token_span(token, self.source)

    def _fail(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        raise PolicySyntaxError([Diagnostic(code, message, span, hint)])

    # ---- literals ----
    def _string(self, token: Token) -> str:
        try:
            value: str = json.loads(str(token))
        except json.JSONDecodeError:
            self._fail("parse.bad-string", "this text has an invalid escape sequence",
                       self._tspan(token), r'use \" for a quote, \\ for a backslash, \n')
            raise AssertionError from None
        if len(value) > MAX_STRING_CHARS:
            self._fail("parse.string-too-long", f"text is longer than {MAX_STRING_CHARS} "
                       "characters", self._tspan(token))
        return value

    def _decimal(self, digits: str, token: Token) -> Decimal | int:
        if len(digits.replace(".", "")) > MAX_NUMBER_DIGITS:
            self._fail("parse.number-too-long", f"number has more than {MAX_NUMBER_DIGITS} digits",
                       self._tspan(token))
        return int(digits) if "." not in digits else Decimal(digits)

    def number(self, meta: Meta, token: Token) -> ast.Literal:
        return ast.Literal(self._decimal(str(token), token), "number", self._span(meta))

    def duration(self, meta: Meta, token: Token) -> ast.Literal:
        text = str(token)
        amount = self._decimal(text[:-1], token)
        micros = Decimal(amount) * _UNIT_MICROSECONDS[text[-1]]
        if micros != micros.to_integral_value():
            self._fail("parse.bad-duration",
                       f"duration {text} is not a whole number of microseconds", self._span(meta))
        return ast.Literal(int(micros), "duration", self._span(meta))

    def business(self, meta: Meta, token: Token) -> ast.Literal:
        digits = re.match(r"[\d.]+", str(token))
        assert digits is not None
        amount = self._decimal(digits.group(0), token)
        working = ast.BusinessDuration(amount, "days" if "day" in str(token) else "hours")
        return ast.Literal(working, "business", self._span(meta))

    def string(self, meta: Meta, token: Token) -> ast.Literal:
        return ast.Literal(self._string(token), "text", self._span(meta))

    def true(self, meta: Meta) -> ast.Literal:
        return ast.Literal(True, "bool", self._span(meta))

    def false(self, meta: Meta) -> ast.Literal:
        return ast.Literal(False, "bool", self._span(meta))

    def null(self, meta: Meta) -> ast.Literal:
        return ast.Literal(None, "null", self._span(meta))

    def name(self, meta: Meta, token: Token) -> ast.Name:
        return ast.Name(str(token), self._span(meta))

    # ---- compound expressions ----
    def list_(self, meta: Meta, *items: ast.Expr | None) -> ast.ListExpr:
        return ast.ListExpr(tuple(i for i in items if i is not None), self._span(meta))

    def entry(self, meta: Meta, key: Token, value: ast.Expr) -> ast.MapEntry:
        text = self._string(key) if key.type == "STRING" else str(key)
        return ast.MapEntry(text, value, self._span(meta))

    def map_(self, meta: Meta, *entries: ast.MapEntry | None) -> ast.MapExpr:
        present = tuple(e for e in entries if e is not None)
        seen: set[str] = set()
        for entry in present:
            if entry.key in seen:
                self._fail("parse.duplicate-key", f"key {entry.key!r} appears twice in this table",
                           entry.span)
            seen.add(entry.key)
        return ast.MapExpr(present, self._span(meta))

    def quantifier(self, meta: Meta, func: Token, var: Token, source: ast.Expr,
                   where: ast.Expr | None) -> ast.Aggregate:
        return ast.Aggregate(str(func), str(var), source, where, None, self._span(meta))

    def fold(self, meta: Meta, func: Token, value: ast.Expr, var: Token, source: ast.Expr,
             where: ast.Expr | None) -> ast.Aggregate:
        return ast.Aggregate(str(func), str(var), source, where, value, self._span(meta))

    def attr(self, meta: Meta, obj: ast.Expr, name: Token) -> ast.Attr:
        return ast.Attr(obj, str(name), self._span(meta))

    def index(self, meta: Meta, obj: ast.Expr, key: ast.Expr) -> ast.Index:
        return ast.Index(obj, key, self._span(meta))

    def arg(self, meta: Meta, name: Token | None, value: ast.Expr) -> ast.Arg:
        return ast.Arg(str(name) if name is not None else None, value, self._span(meta))

    def call(self, meta: Meta, func: Token, *args: ast.Arg | None) -> ast.Call:
        return ast.Call(str(func), tuple(a for a in args if a is not None), self._span(meta))

    def neg(self, meta: Meta, operand: ast.Expr) -> ast.Unary:
        return ast.Unary("-", operand, self._span(meta))

    def not_(self, meta: Meta, operand: ast.Expr) -> ast.Unary:
        return ast.Unary("not", operand, self._span(meta))

    def _binary(self, op: str, meta: Meta, left: ast.Expr, right: ast.Expr) -> ast.Binary:
        return ast.Binary(op, left, right, self._span(meta))

    def add(self, meta: Meta, left: ast.Expr, right: ast.Expr) -> ast.Binary:
        return self._binary("+", meta, left, right)

    def sub(self, meta: Meta, left: ast.Expr, right: ast.Expr) -> ast.Binary:
        return self._binary("-", meta, left, right)

    def mul(self, meta: Meta, left: ast.Expr, right: ast.Expr) -> ast.Binary:
        return self._binary("*", meta, left, right)

    def div(self, meta: Meta, left: ast.Expr, right: ast.Expr) -> ast.Binary:
        return self._binary("/", meta, left, right)

    def coalesce(self, meta: Meta, *values: ast.Expr) -> ast.Expr:
        result = values[-1]
        for value in reversed(values[:-1]):
            result = ast.Binary("??", value, result, self._span(meta))
        return result

    def compare(self, meta: Meta, left: ast.Expr, op: Token, right: ast.Expr) -> ast.Compare:
        return ast.Compare(str(op), left, right, self._span(meta))

    def in_(self, meta: Meta, left: ast.Expr, right: ast.Expr) -> ast.Compare:
        return ast.Compare("in", left, right, self._span(meta))

    def not_in(self, meta: Meta, left: ast.Expr, right: ast.Expr) -> ast.Compare:
        return ast.Compare("not in", left, right, self._span(meta))

    def is_null(self, meta: Meta, operand: ast.Expr) -> ast.IsNull:
        return ast.IsNull(operand, False, self._span(meta))

    def is_not_null(self, meta: Meta, operand: ast.Expr) -> ast.IsNull:
        return ast.IsNull(operand, True, self._span(meta))

    def and_(self, meta: Meta, *values: ast.Expr) -> ast.BoolOp:
        return ast.BoolOp("and", values, self._span(meta))

    def or_(self, meta: Meta, *values: ast.Expr) -> ast.BoolOp:
        return ast.BoolOp("or", values, self._span(meta))

    def if_expr(self, meta: Meta, cond: ast.Expr, then: ast.Expr, orelse: ast.Expr) -> ast.IfExpr:
        return ast.IfExpr(cond, then, orelse, self._span(meta))

    # ---- declarations ----
    def header(self, meta: Meta, name: Token, version: Token) -> ast.Header:
        return ast.Header(self._string(name), self._string(version), self._span(meta))

    def include(self, meta: Meta, path: Token) -> ast.Include:
        return ast.Include(self._string(path), self._span(meta))

    def param(self, meta: Meta, name: Token, type_: ast.TypeExpr | None,
              value: ast.Expr) -> ast.Param:
        return ast.Param(str(name), type_, value, self._span(meta))

    def ordered_enum(self, meta: Meta, name: Token, *members: Token) -> ast.EnumDecl:
        return self._enum(meta, name, members, ordered=True)

    def plain_enum(self, meta: Meta, name: Token, *members: Token) -> ast.EnumDecl:
        return self._enum(meta, name, members, ordered=False)

    def _enum(self, meta: Meta, name: Token, members: tuple[Token, ...],
              ordered: bool) -> ast.EnumDecl:
        values = tuple(str(m) for m in members)
        for index, member in enumerate(members):
            if str(member) in values[:index]:
                self._fail("parse.duplicate-member", f"enum member {member!s} is listed twice",
                           self._tspan(member))
        return ast.EnumDecl(str(name), values, ordered, self._span(meta))

    def field_decl(self, meta: Meta, name: Token, optional: Token | None,
                   type_: ast.TypeExpr) -> ast.FieldDecl:
        return ast.FieldDecl(str(name), type_, self._span(meta), optional is not None)

    def simple_type(self, meta: Meta, name: Token, precision: Token | None,
                    optional: Token | None) -> ast.TypeExpr:
        digits = int(str(precision)) if precision is not None else None
        return ast.TypeExpr(str(name), (), digits, optional is not None, self._span(meta))

    def list_type(self, meta: Meta, item: ast.TypeExpr, optional: Token | None) -> ast.TypeExpr:
        return ast.TypeExpr("list", (item,), None, optional is not None, self._span(meta))

    def map_type(self, meta: Meta, key: ast.TypeExpr, value: ast.TypeExpr,
                 optional: Token | None) -> ast.TypeExpr:
        return ast.TypeExpr("map", (key, value), None, optional is not None, self._span(meta))

    def conclusion_decl(self, meta: Meta, name: Token, *rest: Any) -> ast.ConclusionDecl:
        *fields, about, title = rest
        return ast.ConclusionDecl(
            str(name), tuple(f for f in fields if f is not None), str(about),
            self._string(title) if title is not None else None, self._span(meta))

    def define(self, meta: Meta, name: Token, *rest: Any) -> ast.Define:
        *params, body = rest
        return ast.Define(str(name), tuple(p for p in params if p is not None), body,
                          self._span(meta))

    # ---- tables ----
    def table_section(self, meta: Meta, text: Token) -> tuple[str, str]:
        return ("section", self._string(text))

    def hit_first(self, meta: Meta) -> tuple[str, None]:
        return ("first", None)

    def hit_unique(self, meta: Meta) -> tuple[str, None]:
        return ("unique", None)

    def hit_any(self, meta: Meta) -> tuple[str, None]:
        return ("any", None)

    def hit_priority(self, meta: Meta) -> tuple[str, None]:
        return ("priority", None)

    def hit_collect(self, meta: Meta, aggregator: Token | None) -> tuple[str, str | None]:
        return ("collect", str(aggregator) if aggregator is not None else None)

    def hit_rule_order(self, meta: Meta) -> tuple[str, None]:
        return ("rule order", None)

    def any_cell(self, meta: Meta) -> ast.Cell:
        return ast.Cell("any", None, None, self._span(meta))

    def compare_cell(self, meta: Meta, op: Token, expr: ast.Expr) -> ast.Cell:
        return ast.Cell("compare", str(op), expr, self._span(meta))

    def in_cell(self, meta: Meta, expr: ast.Expr) -> ast.Cell:
        return ast.Cell("in", None, expr, self._span(meta))

    def not_in_cell(self, meta: Meta, expr: ast.Expr) -> ast.Cell:
        return ast.Cell("not in", None, expr, self._span(meta))

    def value_cell(self, meta: Meta, expr: ast.Expr) -> ast.Cell:
        return ast.Cell("value", None, expr, self._span(meta))

    def row(self, meta: Meta, *cells: ast.Cell) -> ast.Row:
        return ast.Row(0, cells, self._span(meta))

    def table_inputs(self, meta: Meta, *fields: ast.FieldDecl) -> tuple[str, Fields]:
        return ("in", fields)

    def table_outputs(self, meta: Meta, *fields: ast.FieldDecl) -> tuple[str, Fields]:
        return ("out", fields)

    def table(self, meta: Meta, name: Token, title: Token | None, *rest: Any) -> ast.Table:
        section = next((r[1] for r in rest if isinstance(r, tuple) and r[0] == "section"), None)
        hit, aggregator = next(r for r in rest if isinstance(r, tuple) and r[0] not in
                               ("section", "in", "out"))
        inputs = next(r[1] for r in rest if isinstance(r, tuple) and r[0] == "in")
        outputs = next(r[1] for r in rest if isinstance(r, tuple) and r[0] == "out")
        rows = [r for r in rest if isinstance(r, ast.Row)]
        numbered = tuple(ast.Row(i + 1, r.cells, r.span) for i, r in enumerate(rows))
        return ast.Table(str(name), self._string(title) if title is not None else None, section,
                         hit, aggregator, inputs, outputs, numbered, self._span(meta))

    # ---- rules ----
    def rule_id(self, meta: Meta, *parts: Token) -> str:
        return ".".join(str(p) for p in parts)

    def section(self, meta: Meta, text: Token) -> tuple[str, str]:
        return ("section", self._string(text))

    def description(self, meta: Meta, text: Token) -> tuple[str, str]:
        return ("description", self._string(text))

    def meta(self, meta: Meta, key: Token, text: Token) -> tuple[str, str]:
        return (str(key), self._string(text))

    def for_clause(self, meta: Meta, var: Token, source: ast.Expr,
                   where: ast.Expr | None) -> ast.ForClause:
        return ast.ForClause(str(var), source, where, self._span(meta))

    def let_clause(self, meta: Meta, name: Token, value: ast.Expr) -> ast.LetClause:
        return ast.LetClause(str(name), value, self._span(meta))

    def when_clause(self, meta: Meta, cond: ast.Expr) -> ast.WhenClause:
        return ast.WhenClause(cond, self._span(meta))

    def named_arg(self, meta: Meta, name: Token, value: ast.Expr) -> ast.Arg:
        return ast.Arg(str(name), value, self._span(meta))

    def emit(self, meta: Meta, name: Token, *rest: Any) -> ast.Emit:
        *args, about = rest
        return ast.Emit(str(name), tuple(a for a in args if a is not None), about,
                        self._span(meta))

    def because(self, meta: Meta, text: Token) -> tuple[str, Span]:
        return (self._string(text), self._tspan(text), str(text))  # type: ignore[return-value]

    def rule(self, meta: Meta, rule_id: str, title: Token | None, *rest: Any) -> ast.Rule:
        because_parts = rest[-1] if isinstance(rest[-1], tuple) and len(rest[-1]) == 3 and \
            isinstance(rest[-1][1], Span) else None
        if because_parts is not None:
            rest = rest[:-1]
        metas = [r for r in rest if isinstance(r, tuple)]
        clauses = tuple(r for r in rest if isinstance(r, ast.ForClause | ast.LetClause
                                                       | ast.WhenClause))
        emits = tuple(r for r in rest if isinstance(r, ast.Emit))
        because = because_parts[0] if because_parts else None
        known: dict[str, str] = dict(metas)
        extra = tuple((k, v) for k, v in metas if k not in ("section", "description"))
        return ast.Rule(rule_id, self._string(title) if title is not None else None,
                        known.get("section"), known.get("description"), extra, clauses, emits,
                        because, self._span(meta), because_parts[1] if because_parts else None,
                        because_parts[2] if because_parts else None)

    def start(self, meta: Meta, *items: ast.Item) -> ast.Module:
        return ast.Module(self.source, items, self._span(meta))
