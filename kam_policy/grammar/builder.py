"""Grammar rules -> AST nodes: one method per rule alias, called with the node's span and its
children (tokens as ``Tok`` tuples, nodes as built, None for a missing optional part).

Both parsers feed it: the fast one during the LALR parse (``lalr``), the reference one from
Lark's parse tree (``tree``); so both build the same nodes by the same code.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any, Final, NoReturn

from kam_policy.errors import Diagnostic, PolicySyntaxError
from kam_policy.grammar import ast
from kam_policy.grammar.span import Span

# A token: its position (Span's fields from ``start`` on, in Span's order), None (no span is
# made for it until needed), its terminal name and its text.
Tok = tuple[int, int, int, int, int, int, None, str, str]
TYPE: Final = 7
TEXT: Final = 8

Fields = tuple[ast.FieldDecl, ...]

MAX_NUMBER_DIGITS = 30
MAX_STRING_CHARS = 10_000

_UNIT_MICROSECONDS = {"s": 1_000_000, "m": 60_000_000, "h": 3_600_000_000, "d": 86_400_000_000}
_BUSINESS_AMOUNT = re.compile(r"[\d.]+")
_decode = json.JSONDecoder().decode


def token_span(source: str, token: Tok) -> Span:
    """The span of one token."""
    return Span(source, token[0], token[1], token[2], token[3], token[4], token[5])


class AstBuilder:
    """Builds the AST nodes of one rule file (``source``, ``text``)."""

    def __init__(self, source: str, text: str) -> None:
        self.source = source
        self.text = text
        self._strings: dict[str, str] = {}  # a text written again is decoded (and kept) once
        self._rows = 0  # the rows of the table being read, so far

    def _tspan(self, token: Tok) -> Span:
        return token_span(self.source, token)

    def _fail(self, code: str, message: str, span: Span, hint: str | None = None) -> NoReturn:
        raise PolicySyntaxError([Diagnostic(code, message, span, hint)])

    # ---- literals ----
    def _string(self, token: Tok) -> str:
        raw = token[TEXT]
        value = self._strings.get(raw)
        if value is not None:
            return value
        try:
            value = _decode(raw)
        except json.JSONDecodeError:
            self._fail("parse.bad-string", "this text has an invalid escape sequence",
                       self._tspan(token), r'use \" for a quote, \\ for a backslash, \n')
        assert isinstance(value, str)
        if len(value) > MAX_STRING_CHARS:
            self._fail("parse.string-too-long", f"text is longer than {MAX_STRING_CHARS} "
                       "characters", self._tspan(token))
        self._strings[raw] = value
        return value

    def _decimal(self, digits: str, token: Tok) -> Decimal | int:
        if len(digits.replace(".", "")) > MAX_NUMBER_DIGITS:
            self._fail("parse.number-too-long", f"number has more than {MAX_NUMBER_DIGITS} digits",
                       self._tspan(token))
        return int(digits) if "." not in digits else Decimal(digits)

    def number(self, span: Span, token: Tok) -> ast.Literal:
        return ast.Literal(self._decimal(token[TEXT], token), "number", span)

    def duration(self, span: Span, token: Tok) -> ast.Literal:
        text = token[TEXT]
        amount = self._decimal(text[:-1], token)
        micros = Decimal(amount) * _UNIT_MICROSECONDS[text[-1]]
        if micros != micros.to_integral_value():
            self._fail("parse.bad-duration",
                       f"duration {text} is not a whole number of microseconds", span)
        return ast.Literal(int(micros), "duration", span)

    def business(self, span: Span, token: Tok) -> ast.Literal:
        digits = _BUSINESS_AMOUNT.match(token[TEXT])
        assert digits is not None
        amount = self._decimal(digits.group(0), token)
        working = ast.BusinessDuration(amount, "days" if "day" in token[TEXT] else "hours")
        return ast.Literal(working, "business", span)

    def string(self, span: Span, token: Tok) -> ast.Literal:
        return ast.Literal(self._string(token), "text", span)

    def true(self, span: Span) -> ast.Literal:
        return ast.Literal(True, "bool", span)

    def false(self, span: Span) -> ast.Literal:
        return ast.Literal(False, "bool", span)

    def null(self, span: Span) -> ast.Literal:
        return ast.Literal(None, "null", span)

    def name(self, span: Span, token: Tok) -> ast.Name:
        return ast.Name(token[TEXT], span)

    # ---- compound expressions ----
    def list_(self, span: Span, *items: ast.Expr | None) -> ast.ListExpr:
        return ast.ListExpr(tuple(i for i in items if i is not None), span)

    def entry(self, span: Span, key: Tok, value: ast.Expr) -> ast.MapEntry:
        text = self._string(key) if key[TYPE] == "STRING" else key[TEXT]
        return ast.MapEntry(text, value, span)

    def map_(self, span: Span, *entries: ast.MapEntry | None) -> ast.MapExpr:
        present = tuple(e for e in entries if e is not None)
        seen: set[str] = set()
        for entry in present:
            if entry.key in seen:
                self._fail("parse.duplicate-key", f"key {entry.key!r} appears twice in this table",
                           entry.span)
            seen.add(entry.key)
        return ast.MapExpr(present, span)

    def quantifier(self, span: Span, func: Tok, var: Tok, source: ast.Expr,
                   where: ast.Expr | None) -> ast.Aggregate:
        return ast.Aggregate(func[TEXT], var[TEXT], source, where, None, span)

    def fold(self, span: Span, func: Tok, value: ast.Expr, var: Tok, source: ast.Expr,
             where: ast.Expr | None) -> ast.Aggregate:
        return ast.Aggregate(func[TEXT], var[TEXT], source, where, value, span)

    def attr(self, span: Span, obj: ast.Expr, name: Tok) -> ast.Attr:
        return ast.Attr(obj, name[TEXT], span)

    def index(self, span: Span, obj: ast.Expr, key: ast.Expr) -> ast.Index:
        return ast.Index(obj, key, span)

    def arg(self, span: Span, name: Tok | None, value: ast.Expr) -> ast.Arg:
        return ast.Arg(name[TEXT] if name is not None else None, value, span)

    def call(self, span: Span, func: Tok, *args: ast.Arg | None) -> ast.Call:
        return ast.Call(func[TEXT], tuple(a for a in args if a is not None), span)

    def neg(self, span: Span, operand: ast.Expr) -> ast.Unary:
        return ast.Unary("-", operand, span)

    def not_(self, span: Span, operand: ast.Expr) -> ast.Unary:
        return ast.Unary("not", operand, span)

    def add(self, span: Span, left: ast.Expr, right: ast.Expr) -> ast.Binary:
        return ast.Binary("+", left, right, span)

    def sub(self, span: Span, left: ast.Expr, right: ast.Expr) -> ast.Binary:
        return ast.Binary("-", left, right, span)

    def mul(self, span: Span, left: ast.Expr, right: ast.Expr) -> ast.Binary:
        return ast.Binary("*", left, right, span)

    def div(self, span: Span, left: ast.Expr, right: ast.Expr) -> ast.Binary:
        return ast.Binary("/", left, right, span)

    def coalesce(self, span: Span, *values: ast.Expr) -> ast.Expr:
        result = values[-1]
        for value in reversed(values[:-1]):
            result = ast.Binary("??", value, result, span)
        return result

    def compare(self, span: Span, left: ast.Expr, op: Tok, right: ast.Expr) -> ast.Compare:
        return ast.Compare(op[TEXT], left, right, span)

    def in_(self, span: Span, left: ast.Expr, right: ast.Expr) -> ast.Compare:
        return ast.Compare("in", left, right, span)

    def not_in(self, span: Span, left: ast.Expr, right: ast.Expr) -> ast.Compare:
        return ast.Compare("not in", left, right, span)

    def is_null(self, span: Span, operand: ast.Expr) -> ast.IsNull:
        return ast.IsNull(operand, False, span)

    def is_not_null(self, span: Span, operand: ast.Expr) -> ast.IsNull:
        return ast.IsNull(operand, True, span)

    def and_(self, span: Span, *values: ast.Expr) -> ast.BoolOp:
        return ast.BoolOp("and", values, span)

    def or_(self, span: Span, *values: ast.Expr) -> ast.BoolOp:
        return ast.BoolOp("or", values, span)

    def if_expr(self, span: Span, cond: ast.Expr, then: ast.Expr, orelse: ast.Expr) -> ast.IfExpr:
        return ast.IfExpr(cond, then, orelse, span)

    # ---- declarations ----
    def header(self, span: Span, name: Tok, version: Tok) -> ast.Header:
        return ast.Header(self._string(name), self._string(version), span)

    def include(self, span: Span, path: Tok) -> ast.Include:
        return ast.Include(self._string(path), span)

    def param(self, span: Span, name: Tok, type_: ast.TypeExpr | None,
              value: ast.Expr) -> ast.Param:
        return ast.Param(name[TEXT], type_, value, span)

    def ordered_enum(self, span: Span, name: Tok, *members: Tok) -> ast.EnumDecl:
        return self._enum(span, name, members, ordered=True)

    def plain_enum(self, span: Span, name: Tok, *members: Tok) -> ast.EnumDecl:
        return self._enum(span, name, members, ordered=False)

    def _enum(self, span: Span, name: Tok, members: tuple[Tok, ...],
              ordered: bool) -> ast.EnumDecl:
        values = tuple(m[TEXT] for m in members)
        for index, member in enumerate(members):
            if member[TEXT] in values[:index]:
                self._fail("parse.duplicate-member", f"enum member {member[TEXT]} is listed twice",
                           self._tspan(member))
        return ast.EnumDecl(name[TEXT], values, ordered, span)

    def field_decl(self, span: Span, name: Tok, optional: Tok | None,
                   type_: ast.TypeExpr) -> ast.FieldDecl:
        return ast.FieldDecl(name[TEXT], type_, span, optional is not None)

    def simple_type(self, span: Span, name: Tok, precision: Tok | None,
                    optional: Tok | None) -> ast.TypeExpr:
        digits = int(precision[TEXT]) if precision is not None else None
        return ast.TypeExpr(name[TEXT], (), digits, optional is not None, span)

    def list_type(self, span: Span, item: ast.TypeExpr, optional: Tok | None) -> ast.TypeExpr:
        return ast.TypeExpr("list", (item,), None, optional is not None, span)

    def map_type(self, span: Span, key: ast.TypeExpr, value: ast.TypeExpr,
                 optional: Tok | None) -> ast.TypeExpr:
        return ast.TypeExpr("map", (key, value), None, optional is not None, span)

    def conclusion_decl(self, span: Span, name: Tok, *rest: Any) -> ast.ConclusionDecl:
        *fields, about, title = rest
        return ast.ConclusionDecl(
            name[TEXT], tuple(f for f in fields if f is not None), about[TEXT],
            self._string(title) if title is not None else None, span)

    def define(self, span: Span, name: Tok, *rest: Any) -> ast.Define:
        *params, body = rest
        return ast.Define(name[TEXT], tuple(p for p in params if p is not None), body, span)

    # ---- tables ----
    def table_section(self, span: Span, text: Tok) -> tuple[str, str]:
        return ("section", self._string(text))

    def hit_first(self, span: Span) -> tuple[str, None]:
        return ("first", None)

    def hit_unique(self, span: Span) -> tuple[str, None]:
        return ("unique", None)

    def hit_any(self, span: Span) -> tuple[str, None]:
        return ("any", None)

    def hit_priority(self, span: Span) -> tuple[str, None]:
        return ("priority", None)

    def hit_collect(self, span: Span, aggregator: Tok | None) -> tuple[str, str | None]:
        return ("collect", aggregator[TEXT] if aggregator is not None else None)

    def hit_rule_order(self, span: Span) -> tuple[str, None]:
        return ("rule order", None)

    def any_cell(self, span: Span) -> ast.Cell:
        return ast.Cell("any", None, None, span)

    def compare_cell(self, span: Span, op: Tok, expr: ast.Expr) -> ast.Cell:
        return ast.Cell("compare", op[TEXT], expr, span)

    def in_cell(self, span: Span, expr: ast.Expr) -> ast.Cell:
        return ast.Cell("in", None, expr, span)

    def not_in_cell(self, span: Span, expr: ast.Expr) -> ast.Cell:
        return ast.Cell("not in", None, expr, span)

    def value_cell(self, span: Span, expr: ast.Expr) -> ast.Cell:
        return ast.Cell("value", None, expr, span)

    def row(self, span: Span, *cells: ast.Cell) -> ast.Row:
        self._rows += 1  # rows come just before their table, so this counts the table's rows
        return ast.Row(self._rows, cells, span)

    def table_inputs(self, span: Span, *fields: ast.FieldDecl) -> tuple[str, Fields]:
        return ("in", fields)

    def table_outputs(self, span: Span, *fields: ast.FieldDecl) -> tuple[str, Fields]:
        return ("out", fields)

    def table(self, span: Span, name: Tok, title: Tok | None, *rest: Any) -> ast.Table:
        section = next((r[1] for r in rest if isinstance(r, tuple) and r[0] == "section"), None)
        hit, aggregator = next(r for r in rest if isinstance(r, tuple) and r[0] not in
                               ("section", "in", "out"))
        inputs = next(r[1] for r in rest if isinstance(r, tuple) and r[0] == "in")
        outputs = next(r[1] for r in rest if isinstance(r, tuple) and r[0] == "out")
        rows = tuple(r for r in rest if isinstance(r, ast.Row))
        self._rows = 0
        if any(r.number != i for i, r in enumerate(rows, 1)):
            rows = tuple(ast.Row(i, r.cells, r.span) for i, r in enumerate(rows, 1))
        return ast.Table(name[TEXT], self._string(title) if title is not None else None, section,
                         hit, aggregator, inputs, outputs, rows, span)

    # ---- rules ----
    def rule_id(self, span: Span, *parts: Tok) -> str:
        return ".".join(p[TEXT] for p in parts)

    def section(self, span: Span, text: Tok) -> tuple[str, str]:
        return ("section", self._string(text))

    def description(self, span: Span, text: Tok) -> tuple[str, str]:
        return ("description", self._string(text))

    def meta(self, span: Span, key: Tok, text: Tok) -> tuple[str, str]:
        return (key[TEXT], self._string(text))

    def for_clause(self, span: Span, var: Tok, source: ast.Expr,
                   where: ast.Expr | None) -> ast.ForClause:
        return ast.ForClause(var[TEXT], source, where, span)

    def let_clause(self, span: Span, name: Tok, value: ast.Expr) -> ast.LetClause:
        return ast.LetClause(name[TEXT], value, span)

    def when_clause(self, span: Span, cond: ast.Expr) -> ast.WhenClause:
        return ast.WhenClause(cond, span)

    def named_arg(self, span: Span, name: Tok, value: ast.Expr) -> ast.Arg:
        return ast.Arg(name[TEXT], value, span)

    def emit(self, span: Span, name: Tok, *rest: Any) -> ast.Emit:
        *args, about = rest
        return ast.Emit(name[TEXT], tuple(a for a in args if a is not None), about, span)

    def because(self, span: Span, text: Tok) -> _Because:
        return _Because(self._string(text), self._tspan(text), text[TEXT])

    def rule(self, span: Span, rule_id: str, title: Tok | None, *rest: Any) -> ast.Rule:
        because = rest[-1] if isinstance(rest[-1], _Because) else None
        if because is not None:
            rest = rest[:-1]
        metas = [r for r in rest if isinstance(r, tuple)]
        clauses = tuple(r for r in rest if isinstance(r, ast.ForClause | ast.LetClause
                                                       | ast.WhenClause))
        emits = tuple(r for r in rest if isinstance(r, ast.Emit))
        known: dict[str, str] = dict(metas)
        extra = tuple((k, v) for k, v in metas if k not in ("section", "description"))
        return ast.Rule(rule_id, self._string(title) if title is not None else None,
                        known.get("section"), known.get("description"), extra, clauses, emits,
                        because.text if because else None, span,
                        because.span if because else None, because.raw if because else None)

    def start(self, span: Span, *items: ast.Item) -> ast.Module:
        return ast.Module(self.source, items, span)


class _Because:
    """A rule's ``because "..."``: the text, where it is written, and the text as written."""

    __slots__ = ("raw", "span", "text")

    def __init__(self, text: str, span: Span, raw: str) -> None:
        self.text = text
        self.span = span
        self.raw = raw
