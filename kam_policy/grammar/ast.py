"""The policy AST: frozen dataclasses whose spans never take part in equality."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Literal as TLiteral

from kam_policy.grammar.span import Span


@dataclass(frozen=True)
class Node:
    """Base of every AST node. Every concrete node has a ``span`` (excluded from equality)."""

    if TYPE_CHECKING:

        @property
        def span(self) -> Span: ...


# ---- expressions --------------------------------------------------------------------------


@dataclass(frozen=True)
class Expr(Node):
    """Base of expressions."""


@dataclass(frozen=True)
class BusinessDuration:
    """An amount of working time: ``4 business_hours`` or ``2 business_days`` (counted under a
    calendar, see ``kam_policy.engine.business``)."""

    amount: Decimal | int
    unit: TLiteral["hours", "days"]

    def __str__(self) -> str:
        return f"{self.amount} business_{self.unit}"


@dataclass(frozen=True)
class Literal(Expr):
    """A number, text, boolean, null or duration (microseconds) written in the rule file."""

    value: Decimal | int | str | bool | BusinessDuration | None
    kind: TLiteral["number", "text", "bool", "null", "duration", "business"]
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class Name(Expr):
    """A bare name: a binding, a parameter, a fact type, a table, or an enum literal."""

    id: str
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class Attr(Expr):
    """``obj.name``: a field of a fact, a value of a conclusion, an entry of a map."""

    obj: Expr
    name: str
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class Index(Expr):
    """``obj[key]``: a map entry, a list item, or a fact looked up by id (``Staff[id]``)."""

    obj: Expr
    key: Expr
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class Arg(Node):
    """One argument of a call, optionally named."""

    name: str | None
    value: Expr
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class Call(Expr):
    """``func(args)``: a builtin, a decision table or a defined function."""

    func: str
    args: tuple[Arg, ...]
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class Unary(Expr):
    """``-x`` or ``not x``."""

    op: TLiteral["-", "not"]
    operand: Expr
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class Binary(Expr):
    """Arithmetic (``+ - * /``) and null-default (``??``)."""

    op: str
    left: Expr
    right: Expr
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class Compare(Expr):
    """A comparison, ``in`` or ``not in``."""

    op: str
    left: Expr
    right: Expr
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class IsNull(Expr):
    """``x is null`` / ``x is not null``."""

    operand: Expr
    negated: bool
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class BoolOp(Expr):
    """``a and b and ...`` / ``a or b or ...``."""

    op: TLiteral["and", "or"]
    values: tuple[Expr, ...]
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class IfExpr(Expr):
    """``if cond then a else b``."""

    cond: Expr
    then: Expr
    orelse: Expr
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class ListExpr(Expr):
    """``[a, b, c]``."""

    items: tuple[Expr, ...]
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class MapEntry(Node):
    """``key: value`` inside a map literal."""

    key: str
    value: Expr
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class MapExpr(Expr):
    """``{key: value, ...}``."""

    entries: tuple[MapEntry, ...]
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class Aggregate(Expr):
    """``count(x in S where c)``, ``sum(e for x in S where c)`` and friends."""

    func: str
    var: str
    source: Expr
    where: Expr | None
    value: Expr | None
    span: Span = field(compare=False, repr=False)


# ---- declarations ------------------------------------------------------------------------


@dataclass(frozen=True)
class TypeExpr(Node):
    """A written type: ``number``, ``decimal(2)``, ``text?``, ``list[text]``, ``Severity``."""

    name: str
    args: tuple[TypeExpr, ...]
    precision: int | None
    nullable: bool
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class FieldDecl(Node):
    """``name: type``; ``name?: type`` marks a conclusion value an emit may leave out."""

    name: str
    type: TypeExpr
    span: Span = field(compare=False, repr=False)
    optional: bool = field(default=False)


@dataclass(frozen=True)
class Header(Node):
    """``policy "name" version "v"``."""

    name: str
    version: str
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class Include(Node):
    """``include "file.kp"``."""

    path: str
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class Param(Node):
    """``param name[: type] = value``."""

    name: str
    type: TypeExpr | None
    value: Expr
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class EnumDecl(Node):
    """``enum Grade = D < C < B`` (ordered) or ``enum T = a | b`` (plain)."""

    name: str
    members: tuple[str, ...]
    ordered: bool
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class ConclusionDecl(Node):
    """``conclusion name(field: type, ...) about FactType "title"``."""

    name: str
    fields: tuple[FieldDecl, ...]
    about: str
    title: str | None
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class Define(Node):
    """``define name(p: Type, ...) = expr``: a named, non-recursive function."""

    name: str
    params: tuple[FieldDecl, ...]
    body: Expr
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class Cell(Node):
    """One cell of a table row: ``-``, ``>= expr``, ``in expr``, ``not in expr`` or ``expr``."""

    kind: TLiteral["any", "compare", "in", "not in", "value"]
    op: str | None
    expr: Expr | None
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class Row(Node):
    """One row of a decision table (``number`` counts from 1)."""

    number: int
    cells: tuple[Cell, ...]
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class Table(Node):
    """A decision table with a hit policy, inputs, outputs and rows."""

    name: str
    title: str | None
    section: str | None
    hit: str
    aggregator: str | None
    inputs: tuple[FieldDecl, ...]
    outputs: tuple[FieldDecl, ...]
    rows: tuple[Row, ...]
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class ForClause(Node):
    """``for x in Source [where cond]``: what the rule is about."""

    var: str
    source: Expr
    where: Expr | None
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class LetClause(Node):
    """``let name = expr``."""

    name: str
    value: Expr
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class WhenClause(Node):
    """``when cond``: the rule fires only if every condition holds."""

    cond: Expr
    span: Span = field(compare=False, repr=False)


Clause = ForClause | LetClause | WhenClause


@dataclass(frozen=True)
class Emit(Node):
    """``emit name(value: expr, ...) [about subject]``."""

    name: str
    args: tuple[Arg, ...]
    about: Expr | None
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True)
class Rule(Node):
    """A rule: id, title, metadata, clauses, emits and an optional reason text."""

    id: str
    title: str | None
    section: str | None
    description: str | None
    meta: tuple[tuple[str, str], ...]
    clauses: tuple[Clause, ...]
    emits: tuple[Emit, ...]
    because: str | None
    span: Span = field(compare=False, repr=False)
    because_span: Span | None = field(default=None, compare=False, repr=False)
    because_raw: str | None = field(default=None, compare=False, repr=False)  # as written


Item = Header | Include | Param | EnumDecl | ConclusionDecl | Define | Table | Rule


@dataclass(frozen=True)
class Module(Node):
    """One parsed rule file."""

    source: str
    items: tuple[Item, ...]
    span: Span = field(compare=False, repr=False)
