"""Conjunctions -> conditions that can never hold: comparisons of one expression (the same
text) with constants whose ranges do not meet (``x > 5 and x < 3``, ``x == 1 and x == 2``,
``x is null and x > 0``). Constants are literals and parameters, folded by the engine."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kam_policy.errors import Diagnostic
from kam_policy.grammar import ast
from kam_policy.lint.context import LintContext
from kam_policy.lint.fold import Constant, free_names, show_value
from kam_policy.lint.index import Bound, Unit

FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
ORDERING = ("<", "<=", ">", ">=")
NULL_TESTS = ("is null", "is not null")


@dataclass(frozen=True)
class Atom:
    """One comparison of an expression (``key``, its text) with a constant."""

    key: str
    op: str  # < <= > >= == != in, not in, is null, is not null
    value: Any
    category: str  # number, symbol, text, bool or null
    node: ast.Expr
    shown: str  # the comparison as written, with the value of a parameter

    def with_value(self, value: Any) -> Atom:
        return Atom(self.key, self.op, value, self.category, self.node, self.shown)


def check_conditions(ctx: LintContext) -> list[Diagnostic]:
    """Every ``and`` of a rule (its ``where`` and ``when`` clauses together) and of nested
    expressions, checked for comparisons that contradict each other."""
    found: dict[tuple[str, str], Diagnostic] = {}
    for unit in ctx.index.units:
        consumed: set[int] = set()
        groups: list[tuple[list[ast.Expr], Bound]] = []
        if isinstance(unit.node, ast.Rule):
            groups.append((_top_level(unit.node, consumed), unit.bound))
        for node, bound in unit.ands:
            if id(node) not in consumed:
                groups.append((_flatten(node, consumed), bound))
        for conjuncts, bound in groups:
            for diagnostic in _contradictions(ctx, unit, conjuncts, bound):
                found.setdefault((str(diagnostic.span), diagnostic.message), diagnostic)
    return list(found.values())


def _top_level(rule: ast.Rule, consumed: set[int]) -> list[ast.Expr]:
    conjuncts: list[ast.Expr] = []
    for clause in rule.clauses:
        cond = clause.where if isinstance(clause, ast.ForClause) else \
            clause.cond if isinstance(clause, ast.WhenClause) else None
        if cond is not None:
            conjuncts.extend(_flatten(cond, consumed))
    return conjuncts


def _flatten(node: ast.Expr, consumed: set[int]) -> list[ast.Expr]:
    if isinstance(node, ast.BoolOp) and node.op == "and":
        consumed.add(id(node))
        return [leaf for value in node.values for leaf in _flatten(value, consumed)]
    return [node]


def _contradictions(ctx: LintContext, unit: Unit, conjuncts: list[ast.Expr],
                    bound: Bound) -> list[Diagnostic]:
    by_key: dict[str, list[Atom]] = {}
    for conjunct in conjuncts:
        atom = _atom(ctx, conjunct, bound)
        if atom is not None:
            by_key.setdefault(atom.key, []).append(atom)
    found = []
    for key, atoms in by_key.items():
        core = _minimal_conflict(ctx, atoms)
        if core is not None:
            found.append(_diagnostic(unit, key, core))
    return found


# ---- atoms -----------------------------------------------------------------------------------


def _atom(ctx: LintContext, node: ast.Expr, bound: Bound) -> Atom | None:
    if isinstance(node, ast.IsNull):
        if ctx.folder.fold(node.operand, bound) is not None:
            return None
        op = "is not null" if node.negated else "is null"
        return Atom(ctx.text(node.operand.span), op, None, "null", node, ctx.text(node.span))
    if not isinstance(node, ast.Compare):
        return None
    left = ctx.folder.fold(node.left, bound)
    right = ctx.folder.fold(node.right, bound)
    if node.op in ("in", "not in"):
        if left is not None or right is None or not isinstance(right.value, tuple | list | dict):
            return None
        items = tuple(right.value)
        if None in items or right.type.kind not in ("list", "map"):
            return None
        return _make(ctx, node, node.left, node.op, items, right.type.args[0].kind, node.right,
                     right)
    if (left is None) == (right is None):
        return None
    if right is not None:
        return _make(ctx, node, node.left, node.op, right.value, right.type.kind, node.right,
                     right)
    assert left is not None
    return _make(ctx, node, node.right, FLIP[node.op], left.value, left.type.kind, node.left,
                 left)


def _make(ctx: LintContext, node: ast.Expr, subject: ast.Expr, op: str, value: Any, kind: str,
          written: ast.Expr, constant: Constant) -> Atom:
    shown = ctx.text(node.span)
    if free_names(written) & ctx.policy.params.keys():
        shown += f" ({ctx.text(written.span)} = {show_value(constant.value, constant.type)})"
    if value is None and op in ("==", "!="):
        return Atom(ctx.text(subject.span), "is null" if op == "==" else "is not null", None,
                    "null", node, shown)
    category = {"duration": "number", "enum": "symbol"}.get(kind, kind)
    return Atom(ctx.text(subject.span), op, value, category, node, shown)


# ---- satisfiability --------------------------------------------------------------------------


def _minimal_conflict(ctx: LintContext, atoms: list[Atom]) -> list[Atom] | None:
    """The smallest set of atoms (one, two, or all) that no value satisfies, or None."""
    prepared = _prepare(ctx, atoms)
    if prepared is None or _satisfiable(*prepared):
        return None
    values, domain = prepared
    for size in (1, 2):
        for subset in itertools.combinations(values, size):
            if not _satisfiable(list(subset), domain):
                return list(subset)
    return values


def _prepare(ctx: LintContext,
             atoms: list[Atom]) -> tuple[list[Atom], frozenset[Any] | None] | None:
    """The atoms with values made comparable, and the finite domain of the key (if finite)."""
    categories = {a.category for a in atoms if a.op not in NULL_TESTS}
    if len(categories) > 1:
        return None
    category = next(iter(categories), "null")
    if category == "bool":
        return atoms, frozenset((True, False))
    if category != "symbol":
        return atoms, None
    names = [set(_members(a)) for a in atoms if a.op not in NULL_TESTS]
    enums = [e for e in ctx.policy.declarations.enums.values()
             if all(n <= set(e.members) for n in names)]
    if len(enums) != 1:
        kept = [a for a in atoms if a.op not in ORDERING]
        return kept, None
    info = enums[0]
    if info.rank is None:
        return [a for a in atoms if a.op not in ORDERING], frozenset(info.members)
    rank = info.rank
    ranked = [a.with_value(_rank(a.value, rank)) for a in atoms]
    return ranked, frozenset(_rank(m, rank) for m in info.members)


def _members(atom: Atom) -> Iterable[Any]:
    return atom.value if isinstance(atom.value, tuple) else (atom.value,)


@dataclass(frozen=True)
class Unranked:
    """A member of an ordered enum that takes part in no ordering (``lost`` among stages)."""

    name: str


def _rank(value: Any, rank: dict[str, int]) -> Any:
    if isinstance(value, tuple):
        return tuple(_rank(v, rank) for v in value)
    if value is None:
        return None
    found = rank.get(value)
    return Unranked(value) if found is None else found


def _satisfiable(atoms: list[Atom], domain: frozenset[Any] | None) -> bool:
    ops = {a.op for a in atoms}
    if "is null" in ops:
        return "is not null" not in ops and ops <= {"is null", "!="}
    lower: tuple[Any, bool] | None = None  # (bound, strict)
    upper: tuple[Any, bool] | None = None
    allowed: set[Any] | None = None if domain is None else set(domain)
    excluded: set[Any] = set()
    for atom in atoms:
        op, value = atom.op, atom.value
        if op in ORDERING and isinstance(value, Unranked):
            return False  # an ordering against an unranked member is always false
        if op in (">", ">="):
            lower = _tighter(lower, (value, op == ">"), 1)
        elif op in ("<", "<="):
            upper = _tighter(upper, (value, op == "<"), -1)
        elif op in ("==", "in"):
            items = set(value) if op == "in" else {value}
            allowed = items if allowed is None else allowed & items
        elif op in ("!=", "not in"):
            excluded |= set(value) if op == "not in" else {value}
    if allowed is not None:
        return any(_within(v, lower, upper) and v not in excluded for v in allowed)
    if lower is None or upper is None:
        return True
    if lower[0] != upper[0]:
        return bool(lower[0] < upper[0])
    return not lower[1] and not upper[1] and lower[0] not in excluded


def _tighter(current: tuple[Any, bool] | None, new: tuple[Any, bool],
             direction: int) -> tuple[Any, bool]:
    """The tighter of two bounds: the higher lower bound (direction 1) or the lower upper
    bound (-1); at the same value, the strict one."""
    if current is None or (new[0] == current[0] and new[1]):
        return new
    if new[0] == current[0]:
        return current
    return new if (new[0] > current[0]) == (direction > 0) else current


def _within(value: Any, lower: tuple[Any, bool] | None, upper: tuple[Any, bool] | None) -> bool:
    if isinstance(value, Unranked):
        return lower is None and upper is None
    try:
        if lower is not None and (value < lower[0] or (lower[1] and value == lower[0])):
            return False
        return not (upper is not None and (value > upper[0] or (upper[1] and value == upper[0])))
    except TypeError:  # values of another kind than the bounds: no claim
        return True


def _diagnostic(unit: Unit, key: str, atoms: list[Atom]) -> Diagnostic:
    last = max(atoms, key=lambda a: a.node.span.start)
    shown = [f"'{a.shown}'" for a in sorted(atoms, key=lambda a: a.node.span.start)]
    if len(shown) == 1:
        what = f"satisfies {shown[0]}"
    elif len(shown) == 2:
        what = f"satisfies both {shown[0]} and {shown[1]}"
    else:
        what = "satisfies all of " + ", ".join(shown)
    others = [str(a.node.span) for a in atoms if a is not last]
    hint = "check the operators and the parameter values"
    unranked = [a.value.name for a in atoms if isinstance(a.value, Unranked)]
    if unranked:
        hint = f"'{unranked[0]}' is in no order, so every <, <=, > or >= with it is false"
    if others:
        hint = f"it contradicts {', '.join(others)}; " + hint
    return Diagnostic("lint.impossible-condition", f"this condition of {unit.label} can never "
                      f"hold: no value of {key} {what}", last.node.span, hint, "warning")
