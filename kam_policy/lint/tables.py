"""Decision tables -> gaps, overlapping rows and shadowed rows, each with a concrete input.

Every input column gets candidate values from its cells: each threshold, the threshold plus and
minus a small epsilon, every enum member, both booleans. With an epsilon under half the smallest
distance between thresholds, the candidates include one value of every region the cells cut
the column into, so searching their combinations finds every gap, overlap and shadowed row.
The rows' own compiled tests decide which candidates match, so the semantics are the engine's.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kam_policy.engine import exact
from kam_policy.engine.tables import CompiledRow, CompiledTable
from kam_policy.engine.types import Type
from kam_policy.errors import Diagnostic
from kam_policy.grammar import ast
from kam_policy.lint.context import LintContext
from kam_policy.lint.fold import show_value

MAX_COMBINATIONS = 100_000
EPSILON = Decimal("0.005")
DURATION_EPSILON = 60_000_000  # one minute, in microseconds
NUMBERS = ("number", "decimal", "money")
GAP_HITS = ("first", "unique", "any", "priority")
_UNUSED = object()  # the value of a column no row tests
NO_CONTEXT: Any = None  # constant cells never read facts or the time


@dataclass(frozen=True)
class Column:
    """Candidate values of one input column and, per value, the rows whose cell matches it."""

    name: str
    values: tuple[Any, ...]
    masks: tuple[int, ...]
    show: Callable[[Any], str]


@dataclass(frozen=True)
class Analysis:
    """A table that can be searched: its AST, compiled rows and candidate columns."""

    node: ast.Table
    table: CompiledTable
    columns: tuple[Column, ...]
    output_types: tuple[Type, ...]

    def combinations(self) -> Iterator[tuple[tuple[int, ...], int]]:
        """Each combination of candidate indexes, with the rows that match it (a bit mask)."""
        everything = (1 << len(self.table.rows)) - 1
        for combo in itertools.product(*(range(len(c.values)) for c in self.columns)):
            mask = everything
            for column, k in zip(self.columns, combo, strict=True):
                mask &= column.masks[k]
            yield combo, mask

    def env(self, combo: tuple[int, ...]) -> dict[str, Any]:
        return {c.name: c.values[k] for c, k in zip(self.columns, combo, strict=True)}

    def example(self, combo: tuple[int, ...]) -> str:
        return ", ".join(f"{c.name} = {c.show(c.values[k])}"
                         for c, k in zip(self.columns, combo, strict=True))

    def number(self, row: int) -> int:
        return self.node.rows[row].number


def check_tables(ctx: LintContext) -> list[Diagnostic]:
    """Gaps, overlaps and shadowed rows of every table whose cells are constants."""
    found: list[Diagnostic] = []
    for name, node in ctx.policy.declarations.tables.items():
        table = ctx.policy.tables.get(name)
        if table is None or table.hit not in GAP_HITS:
            continue
        analysis = analyse(ctx, node, table)
        if analysis is not None:
            found.extend(_findings(analysis))
    return found


def analyse(ctx: LintContext, node: ast.Table, table: CompiledTable) -> Analysis | None:
    """Candidate columns of ``node``, or None when a cell is not a constant (or too many)."""
    if len(node.rows) != len(table.rows) or not table.rows:
        return None
    columns = []
    for position in range(len(node.inputs)):
        column = _column(ctx, node, table, position)
        if column is None:
            return None
        columns.append(column)
    if math.prod(len(c.values) for c in columns) > MAX_COMBINATIONS:
        return None
    outputs = tuple(ctx.folder.compiler.written_type(f.type) for f in node.outputs)
    return Analysis(node, table, tuple(columns), outputs)


def _findings(analysis: Analysis) -> list[Diagnostic]:
    hit = analysis.table.hit
    found = _gap(analysis)
    if hit in ("unique", "any"):
        found.extend(_overlaps(analysis))
    if hit == "first":
        found.extend(_shadowed(analysis))
    return found


# ---- columns and candidates ------------------------------------------------------------------


def _column(ctx: LintContext, node: ast.Table, table: CompiledTable,
            position: int) -> Column | None:
    decl = node.inputs[position]
    bound = frozenset(f.name for f in node.inputs)
    constants = []
    for row in node.rows:
        cell = row.cells[position]
        if cell.kind == "any" or cell.expr is None:
            continue
        folded = ctx.folder.fold(cell.expr, bound)
        if folded is None:
            return None
        constants.extend(_points(cell.kind, folded.value))
    domain = _domain(ctx, decl.type, constants)
    if domain is None:
        return None
    values, show = domain
    if decl.type.nullable:
        values = (*values, None)
    masks = []
    for value in values:
        mask = _mask(table.rows, position, decl.name, value)
        if mask is None:
            return None
        masks.append(mask)
    return Column(decl.name, values, tuple(masks), lambda v: "null" if v is None else show(v))


def _points(kind: str, value: Any) -> list[Any]:
    if kind in ("in", "not in") and isinstance(value, tuple | list | dict):
        return [v for v in value if v is not None]
    return [] if value is None else [value]


def _domain(ctx: LintContext, written: ast.TypeExpr,
            points: list[Any]) -> tuple[tuple[Any, ...], Callable[[Any], str]] | None:
    name = written.name
    if name in NUMBERS:
        return _around(points, EPSILON), exact.to_decimal_text
    if name == "int":
        return _integers(points), exact.to_decimal_text
    if name == "duration":
        return _around(points, DURATION_EPSILON), exact.format_duration
    if name == "bool":
        return (False, True), lambda v: "true" if v else "false"
    if name in ctx.policy.declarations.enums:
        return ctx.policy.declarations.enums[name].members, str
    if name == "text":
        fresh, count = "other", 1
        while fresh in points:  # a text no cell names
            fresh, count = f"other{count}", count + 1
        return (*dict.fromkeys(points), fresh), lambda v: f'"{v}"'
    if not points:
        return (_UNUSED,), lambda v: "any"
    return None


def _around(points: list[Any], epsilon: Any) -> tuple[Any, ...]:
    """The points, then one value just below and above each (inside every region)."""
    ordered = sorted(set(points))
    if not ordered:
        return (0,)
    gaps = [exact.sub(b, a) for a, b in itertools.pairwise(ordered)]
    step = epsilon
    while gaps and step * 2 >= min(gaps) and step != 1:
        step = step / 10 if isinstance(step, Decimal) else max(1, step // 10)
    near = sorted({exact.sub(p, step) for p in ordered} | {exact.add(p, step) for p in ordered})
    return (*ordered, *(v for v in near if v not in ordered))


def _integers(points: list[Any]) -> tuple[int, ...]:
    whole = sorted({n for p in points for n in (math.floor(p), math.ceil(p))})
    if not whole:
        return (0,)
    near = sorted({n + d for n in whole for d in (-1, 1)} - set(whole))
    return (*whole, *near)


def _mask(rows: tuple[CompiledRow, ...], position: int, name: str, value: Any) -> int | None:
    mask = 0
    for number, row in enumerate(rows):
        test = row.tests[position]
        if test is None:
            mask |= 1 << number
            continue
        if value is _UNUSED:
            return None
        try:
            matched = test(NO_CONTEXT, {name: value})
        except Exception:  # a test the linter cannot run alone: leave the table out
            return None
        if matched:
            mask |= 1 << number
    return mask


def _rows(mask: int) -> list[int]:
    return [i for i in range(mask.bit_length()) if mask >> i & 1]


# ---- findings ------------------------------------------------------------------------------


def _gap(analysis: Analysis) -> list[Diagnostic]:
    for combo, mask in analysis.combinations():
        if mask == 0:
            node = analysis.node
            return [Diagnostic(
                "lint.table-gap", f"table '{node.name}' (hit {node.hit}) has a gap: no row "
                f"matches {analysis.example(combo)}", node.span,
                "add a row for such inputs, or end the table with a catch-all row of '-' "
                "cells giving the result meant for 'anything else'", "warning")]
    return []


def _overlaps(analysis: Analysis) -> list[Diagnostic]:
    reported: set[tuple[int, int]] = set()
    found = []
    for combo, mask in analysis.combinations():
        matched = _rows(mask)
        for first, second in itertools.combinations(matched, 2):
            if (first, second) in reported:
                continue
            extra = _different_outputs(analysis, combo, first, second)
            if extra is None:
                continue
            reported.add((first, second))
            found.append(_overlap(analysis, combo, first, second, extra))
    return found


def _different_outputs(analysis: Analysis, combo: tuple[int, ...], first: int,
                       second: int) -> str | None:
    """'' for UNIQUE (any overlap counts); for ANY, the two differing outputs, else None."""
    if analysis.table.hit == "unique":
        return ""
    env = analysis.env(combo)
    try:
        one = [fn(NO_CONTEXT, env) for fn in analysis.table.rows[first].outputs]
        two = [fn(NO_CONTEXT, env) for fn in analysis.table.rows[second].outputs]
    except Exception:  # an output the linter cannot compute alone: no claim
        return None
    if one == two:
        return None
    kinds = analysis.output_types
    return f", with different outputs {_output_text(one, kinds)} and {_output_text(two, kinds)}"


def _output_text(values: list[Any], kinds: tuple[Type, ...]) -> str:
    parts = [show_value(v, k) for v, k in zip(values, kinds, strict=True)]
    return parts[0] if len(parts) == 1 else "(" + ", ".join(parts) + ")"


def _overlap(analysis: Analysis, combo: tuple[int, ...], first: int, second: int,
             extra: str) -> Diagnostic:
    node = analysis.node
    row = node.rows[second]
    return Diagnostic(
        "lint.table-overlap", f"table '{node.name}' (hit {node.hit}): rows "
        f"{analysis.number(first)} and {row.number} both match {analysis.example(combo)}{extra}",
        row.span, f"row {analysis.number(first)} is at {node.rows[first].span}; make the rows "
        "exclusive, or declare 'hit first' or 'hit priority'", "warning")


def _shadowed(analysis: Analysis) -> list[Diagnostic]:
    reached: set[int] = set()
    witness: dict[int, tuple[tuple[int, ...], int]] = {}
    for combo, mask in analysis.combinations():
        matched = _rows(mask)
        if not matched:
            continue
        reached.add(matched[0])
        for later in matched[1:]:
            witness.setdefault(later, (combo, matched[0]))
    found = []
    for index, row in enumerate(analysis.node.rows):
        if index in reached:
            continue
        name = f"row {row.number} of table '{analysis.node.name}' (hit first)"
        if index in witness:
            combo, first = witness[index]
            message = (f"{name} is never reached: every input it matches is taken by an earlier "
                       f"row, e.g. {analysis.example(combo)} goes to row {analysis.number(first)}")
            hint = "remove the row, or move it above the rows that cover it"
        else:
            message = f"{name} matches no input at all"
            hint = "one of its cells excludes every value; correct or remove the row"
        found.append(Diagnostic("lint.table-shadowed", message, row.span, hint, "warning"))
    return found
