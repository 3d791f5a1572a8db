"""Policy ASTs -> an index of what each rule, define and table references: free names, calls,
field reads and ``and`` conditions, with local bindings (``for``, ``let``, parameters of a
define, table columns, aggregate variables) taken out."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

from kam_policy.engine.declarations import Declarations
from kam_policy.grammar import ast
from kam_policy.grammar.span import Span

Bound = frozenset[str]
UnitKind = Literal["rule", "define", "table"]

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
_PATH = re.compile(r"^\s*[^\W\d]\w*(\.[^\W\d]\w*)*\s*$")
_BECAUSE = re.compile(r'\bbecause\s+("(?:[^"\\\n]|\\.)*")\s*(?:#[^\n]*\s*)*\}\s*$')


@dataclass
class Unit:
    """One rule, define or table and what its expressions reference."""

    kind: UnitKind
    name: str
    node: ast.Rule | ast.Define | ast.Table
    names: list[ast.Name] = field(default_factory=list)  # free: params, enum members, now
    calls: set[str] = field(default_factory=set)
    attrs: list[ast.Attr] = field(default_factory=list)
    ands: list[tuple[ast.BoolOp, Bound]] = field(default_factory=list)
    bound: Bound = frozenset()  # every local name the unit binds

    @property
    def label(self) -> str:
        return f"{self.kind} '{self.name}'"


class Collector:
    """Walks expressions of one unit, keeping track of the names bound locally."""

    def __init__(self, unit: Unit, decls: Declarations) -> None:
        self.unit = unit
        self.facts = frozenset(decls.facts)
        # What ``for`` and aggregates go through before a value: types, conclusions, enums.
        self.sources = frozenset([*decls.facts, *decls.conclusions, *decls.enums])

    def expr(self, node: ast.Expr, bound: Bound) -> None:
        getattr(self, f"visit_{type(node).__name__}")(node, bound)

    def source(self, node: ast.Expr, bound: Bound) -> None:
        """What a ``for`` or an aggregate goes through: a type name there is not a value."""
        if isinstance(node, ast.Name) and node.id not in bound and node.id in self.sources:
            return
        self.expr(node, bound)

    def visit_Literal(self, node: ast.Literal, bound: Bound) -> None:
        return

    def visit_Name(self, node: ast.Name, bound: Bound) -> None:
        if node.id not in bound:
            self.unit.names.append(node)

    def visit_Attr(self, node: ast.Attr, bound: Bound) -> None:
        self.unit.attrs.append(node)
        self.expr(node.obj, bound)

    def visit_Index(self, node: ast.Index, bound: Bound) -> None:
        obj = node.obj
        if not (isinstance(obj, ast.Name) and obj.id not in bound and obj.id in self.facts):
            self.expr(obj, bound)  # Staff[id] is a lookup by id, not a value named Staff
        self.expr(node.key, bound)

    def visit_Call(self, node: ast.Call, bound: Bound) -> None:
        self.unit.calls.add(node.func)
        for arg in node.args:
            self.expr(arg.value, bound)

    def visit_Unary(self, node: ast.Unary, bound: Bound) -> None:
        self.expr(node.operand, bound)

    def visit_Binary(self, node: ast.Binary, bound: Bound) -> None:
        self.expr(node.left, bound)
        self.expr(node.right, bound)

    visit_Compare = visit_Binary

    def visit_IsNull(self, node: ast.IsNull, bound: Bound) -> None:
        self.expr(node.operand, bound)

    def visit_BoolOp(self, node: ast.BoolOp, bound: Bound) -> None:
        if node.op == "and":
            self.unit.ands.append((node, bound))
        for value in node.values:
            self.expr(value, bound)

    def visit_IfExpr(self, node: ast.IfExpr, bound: Bound) -> None:
        for part in (node.cond, node.then, node.orelse):
            self.expr(part, bound)

    def visit_ListExpr(self, node: ast.ListExpr, bound: Bound) -> None:
        for item in node.items:
            self.expr(item, bound)

    def visit_MapExpr(self, node: ast.MapExpr, bound: Bound) -> None:
        for entry in node.entries:
            self.expr(entry.value, bound)

    def visit_Aggregate(self, node: ast.Aggregate, bound: Bound) -> None:
        self.source(node.source, bound)
        inner = bound | {node.var}
        for part in (node.where, node.value):
            if part is not None:
                self.expr(part, inner)


def because_paths(rule: ast.Rule, text: str) -> Iterator[tuple[list[str], Span]]:
    """The ``{name.field}`` placeholders of a rule's reason text, with their spans."""
    if rule.because is None:
        return
    found = _BECAUSE.search(text[rule.span.start : rule.span.end])
    if found is None:
        return
    quote = rule.span.start + found.start(1)
    for match in _PLACEHOLDER.finditer(found.group(1)):
        path = match.group(1)
        if path is None or not _PATH.match(path):
            continue
        yield ([p.strip() for p in path.split(".")],
               _span_at(rule.span.source, text, quote + match.start(1), quote + match.end(1)))


def _span_at(source: str, text: str, start: int, end: int) -> Span:
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    return Span(source, start, end, line, column, line, column + (end - start))


def _rule_unit(rule: ast.Rule, decls: Declarations, text: str) -> Unit:
    unit = Unit("rule", rule.id, rule)
    walk = Collector(unit, decls)
    bound: Bound = frozenset()
    for clause in rule.clauses:
        if isinstance(clause, ast.ForClause):
            walk.source(clause.source, bound)
            bound = bound | {clause.var}
            if clause.where is not None:
                walk.expr(clause.where, bound)
        elif isinstance(clause, ast.LetClause):
            walk.expr(clause.value, bound)
            bound = bound | {clause.name}
        else:
            walk.expr(clause.cond, bound)
    for emit in rule.emits:
        for arg in emit.args:
            walk.expr(arg.value, bound)
        if emit.about is not None:
            walk.expr(emit.about, bound)
    for path, span in because_paths(rule, text):
        expr: ast.Expr = ast.Name(path[0], span)
        for part in path[1:]:
            expr = ast.Attr(expr, part, span)
        walk.expr(expr, bound)
    unit.bound = bound
    return unit


def _define_unit(define: ast.Define, decls: Declarations) -> Unit:
    unit = Unit("define", define.name, define, bound=frozenset(p.name for p in define.params))
    Collector(unit, decls).expr(define.body, unit.bound)
    return unit


def _table_unit(table: ast.Table, decls: Declarations) -> Unit:
    unit = Unit("table", table.name, table, bound=frozenset(f.name for f in table.inputs))
    walk = Collector(unit, decls)
    for row in table.rows:
        for cell in row.cells:
            if cell.expr is not None:
                walk.expr(cell.expr, unit.bound)
    return unit


class PolicyIndex:
    """Every rule, define and table of a policy as a ``Unit``, and the call graph between them."""

    def __init__(self, decls: Declarations, texts: Mapping[str, str]) -> None:
        self.decls = decls
        self.rules = [_rule_unit(r, decls, texts.get(r.span.source, "")) for r in decls.rules]
        self.functions: dict[str, Unit] = {}
        for define in decls.defines.values():
            self.functions[define.name] = _define_unit(define, decls)
        for table in decls.tables.values():
            self.functions[table.name] = _table_unit(table, decls)
        self._callees: dict[str, frozenset[str]] = {}

    @property
    def units(self) -> list[Unit]:
        return [*self.rules, *self.functions.values()]

    def callees(self, unit: Unit) -> frozenset[str]:
        """The defines and tables ``unit`` calls, directly or through each other."""
        key = f"{unit.kind} {unit.name}"
        if key not in self._callees:
            self._callees[key] = frozenset()  # a guard: a checked policy has no cycles
            found: set[str] = set()
            for name in unit.calls & self.functions.keys():
                found.add(name)
                found |= self.callees(self.functions[name])
            self._callees[key] = frozenset(found)
        return self._callees[key]

    def reach(self, unit: Unit) -> list[Unit]:
        """``unit`` and every define and table it calls."""
        return [unit, *(self.functions[name] for name in sorted(self.callees(unit)))]

    def rules_using(self, function: str) -> list[str]:
        """Ids of the rules that call ``function`` directly or indirectly."""
        return [rule.name for rule in self.rules if function in self.callees(rule)]

    def rules_reaching(self, unit: Unit) -> list[str]:
        """The rule itself, or the rules that call this define or table."""
        return [unit.name] if unit.kind == "rule" else self.rules_using(unit.name)

    def name_uses(self, name: str) -> Iterable[tuple[Unit, ast.Name]]:
        """Each free use of ``name`` (a parameter, say), unit by unit."""
        for unit in self.units:
            for node in unit.names:
                if node.id == name:
                    yield unit, node
