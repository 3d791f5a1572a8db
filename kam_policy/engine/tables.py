"""Decision tables: rows of unary tests compiled once, and the DMN hit policies that pick
the result (FIRST, UNIQUE, ANY, PRIORITY, COLLECT [sum|count|min|max], RULE ORDER)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kam_policy.engine import exact
from kam_policy.engine.checks import Check
from kam_policy.engine.table_index import RowIndex, Tests, build_index, keyable
from kam_policy.engine.types import ANY, NUMBER, Type, list_of
from kam_policy.errors import Diagnostic, PolicyEvalError
from kam_policy.grammar import ast
from kam_policy.grammar.span import Span

if TYPE_CHECKING:
    from kam_policy.engine.compile_expr import ExprCompiler, Fn, Typed

HIT_POLICIES = ("first", "unique", "any", "priority", "collect", "rule order")


@dataclass(frozen=True)
class CompiledRow:
    """One row: a test per input column (None for '-') and a value per output column."""

    number: int
    tests: tuple[Fn | None, ...]
    outputs: tuple[Fn, ...]
    span: Span
    checks: tuple[Check | None, ...] = ()  # the tests taken apart, for explanations


@dataclass(frozen=True)
class CompiledTable:
    """A decision table ready to evaluate."""

    name: str
    hit: str
    aggregator: str | None
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    rows: tuple[CompiledRow, ...]
    result_type: Type
    priority: dict[Any, int] | None
    span: Span
    index: RowIndex | None = None  # equality cells hashed (see table_index), if worth it
    row_tests: tuple[Tests, ...] = field(init=False, repr=False)  # each row's, without '-'

    def __post_init__(self) -> None:
        tests = tuple(tuple(t for t in row.tests if t is not None) for row in self.rows)
        object.__setattr__(self, "row_tests", tests)

    def matching_rows(self, ctx: Any, args: Sequence[Any]) -> list[CompiledRow]:
        """The rows that match these inputs, with the hit policy's pick first."""
        env = dict(zip(self.inputs, args, strict=True))
        matched = self._matched(ctx, args, env)
        if self.hit == "priority" and matched and self.priority:
            order = self.priority
            matched.sort(key=lambda r: -order.get(_first(self._output(r, ctx, env)), -1))
        return matched

    def evaluate(self, ctx: Any, args: Sequence[Any]) -> Any:
        """The table's result for one set of input values."""
        env = dict(zip(self.inputs, args, strict=True))
        if self.hit == "first":
            positions, tests = self._candidates(args)
            for position in positions:
                if _passes(tests[position], ctx, env):
                    row = self.rows[position]
                    if ctx.tracer is not None:
                        _notify(ctx.tracer, ctx, self, (row,), env)
                    return self._output(row, ctx, env)
            return None
        matched = self._matched(ctx, args, env)
        if ctx.tracer is not None and matched:
            _notify(ctx.tracer, ctx, self, tuple(matched), env)
        return self._combine(matched, ctx, env)

    def _candidates(self, args: Sequence[Any]) -> tuple[Sequence[int], Sequence[Tests]]:
        """The positions of the rows that may match, in row order, with the tests each still
        has to pass: from the index when there is one and it can look ``args`` up, else every
        row with all its tests."""
        index = self.index
        if index is not None:
            found = index.candidates(args)
            if found is not None:
                return found, index.residual
        return range(len(self.rows)), self.row_tests

    def _matched(self, ctx: Any, args: Sequence[Any], env: dict[str, Any]) -> list[CompiledRow]:
        """Every matching row, in row order."""
        positions, tests = self._candidates(args)
        rows = self.rows
        return [rows[p] for p in positions if _passes(tests[p], ctx, env)]

    def _output(self, row: CompiledRow, ctx: Any, env: dict[str, Any]) -> Any:
        if len(row.outputs) == 1:
            return row.outputs[0](ctx, env)
        return {name: fn(ctx, env) for name, fn in zip(self.outputs, row.outputs, strict=True)}

    def _combine(self, matched: list[CompiledRow], ctx: Any, env: dict[str, Any]) -> Any:
        values = [self._output(row, ctx, env) for row in matched]
        if self.hit in ("collect", "rule order"):
            return _aggregate(self.aggregator, values)
        if not matched:
            return None
        if self.hit == "unique" and len(matched) > 1:
            self._fail(matched, env, "matched more than one row")
        if self.hit == "any" and any(v != values[0] for v in values):
            self._fail(matched, env, "matched rows with different outputs")
        if self.hit == "priority":
            order = self.priority or {}
            best = max(range(len(values)), key=lambda i: (order.get(_first(values[i]), -1), -i))
            return values[best]
        return values[0]

    def _fail(self, matched: list[CompiledRow], env: dict[str, Any], what: str) -> None:
        rows = " and ".join(f"row {row.number} ({row.span})" for row in matched)
        inputs = ", ".join(f"{k}={_show(v)}" for k, v in env.items())
        raise PolicyEvalError(Diagnostic(
            "eval.table-hit", f"table '{self.name}' (hit {self.hit}) {what}: {rows}, for {inputs}",
            matched[0].span, "make the rows exclusive, or declare another hit policy"))


def _notify(tracer: Any, ctx: Any, table: CompiledTable, rows: tuple[CompiledRow, ...],
            env: dict[str, Any]) -> None:
    hook = getattr(tracer, "table_matched", None)  # optional: older tracers lack it
    if hook is not None:
        hook(ctx, table, rows, env)


def _first(value: Any) -> Any:
    return next(iter(value.values())) if isinstance(value, dict) else value


def _show(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return exact.to_decimal_text(value) if type(value).__name__ in ("Decimal", "Fraction") \
        else str(value)


def _passes(tests: Tests, ctx: Any, env: dict[str, Any]) -> bool:
    for test in tests:  # noqa: SIM110 - a loop, not all(), saves a generator per row
        if not test(ctx, env):
            return False
    return True


def _aggregate(aggregator: str | None, values: list[Any]) -> Any:
    if aggregator is None:
        return tuple(values)
    if aggregator == "count":
        return len(values)
    present = [v for v in values if v is not None]
    if aggregator == "sum":
        total: Any = 0
        for value in present:
            total = exact.add(total, value)
        return total
    if not present:
        return None
    return min(present) if aggregator == "min" else max(present)


def compile_table(compiler: ExprCompiler, table: ast.Table) -> CompiledTable:
    """Type-check and compile a decision table's rows."""
    input_types = {f.name: compiler.written_type(f.type) for f in table.inputs}
    output_types = [compiler.written_type(f.type) for f in table.outputs]
    width = len(table.inputs) + len(table.outputs)
    rows = []
    if table.aggregator and len(table.outputs) != 1:
        compiler.error("check.table-shape", f"table '{table.name}' aggregates its output "
                       f"({table.aggregator}), so it needs exactly one output column",
                       table.span, "drop the aggregator or the extra outputs")
    names = [f.name for f in (*table.inputs, *table.outputs)]
    usable = len(set(names)) == len(names)  # repeated names are reported by the checker
    constants: list[list[tuple[bool, Any]]] = []
    for row in table.rows if usable else ():
        if len(row.cells) != width:
            compiler.error("check.table-shape", f"row {row.number} of table '{table.name}' has "
                           f"{len(row.cells)} cells; it needs {width} ({len(table.inputs)} in, "
                           f"{len(table.outputs)} out)", row.span)
            continue
        row_constants: list[tuple[bool, Any]] = []
        rows.append(_compile_row(compiler, table, row, input_types, output_types,
                                 row_constants))
        constants.append(row_constants)
    index = build_index(len(input_types), [r.tests for r in rows], constants)
    return CompiledTable(
        table.name, table.hit, table.aggregator, tuple(input_types),
        tuple(f.name for f in table.outputs), tuple(rows),
        _result_type(compiler, table, output_types), _priority(compiler, table, output_types),
        table.span, index)


def _compile_row(compiler: ExprCompiler, table: ast.Table, row: ast.Row,
                 input_types: dict[str, Type], output_types: list[Type],
                 constants: list[tuple[bool, Any]]) -> CompiledRow:
    """One row's tests, checks and outputs; ``constants`` receives, per input column, whether
    the cell is an equality with a keyable constant, and the constant."""
    names = list(input_types)
    tests: list[Fn | None] = []
    checks: list[Check | None] = []
    for name, cell in zip(names, row.cells, strict=False):
        compare = _cell_compare(name, cell, input_types)
        if compare is None:
            tests.append(None)
            checks.append(None)
            constants.append((False, None))
            continue
        check, constant = _compile_cell(compiler, compare, input_types)
        tests.append(check.test)
        checks.append(check)
        constants.append(constant)
    outputs: list[Fn] = []
    for written, kind, cell in zip(table.outputs, output_types, row.cells[len(names):],
                                   strict=True):
        outputs.append(_compile_output(compiler, written, kind, cell, input_types).fn)
    return CompiledRow(row.number, tuple(tests), tuple(outputs), row.span, tuple(checks))


def _cell_compare(name: str, cell: ast.Cell, scope: dict[str, Type]) -> ast.Compare | None:
    """A cell as the comparison it stands for: ``>= 85`` in column total is ``total >= 85``."""
    if cell.kind == "any" or cell.expr is None:
        return None
    column = ast.Name(name, cell.span)
    op = {"compare": cell.op or "==", "in": "in", "not in": "not in", "value": "=="}[cell.kind]
    return ast.Compare(op, column, cell.expr, cell.span)


def _compile_cell(compiler: ExprCompiler, compare: ast.Compare,
                  scope: dict[str, Type]) -> tuple[Check, tuple[bool, Any]]:
    """A cell's test, taken apart for explanations (the same ``Check`` that ``build_check``
    builds, with its operands compiled once), and (True, c) when it tests ``column == c`` for a
    constant ``c`` a dict can hold (see table_index), else (False, None)."""
    test = compiler.condition(compare, scope).fn
    with compiler.quiet():  # checked just above
        left = compiler.compile(compare.left, scope)
        right = compiler.compile(compare.right, scope)
    check = Check(compare, compare.op, left.fn, right.fn, left.type, right.type, test)
    if compare.op == "==" and right.const and keyable(right.value):
        return check, (True, right.value)
    return check, (False, None)


def _compile_output(compiler: ExprCompiler, written: ast.FieldDecl, kind: Type, cell: ast.Cell,
                    scope: dict[str, Type]) -> Typed:
    if cell.kind != "value" or cell.expr is None:
        return compiler.error("check.table-shape", f"output '{written.name}' needs a value, not a "
                              "test", cell.span, "write the value itself, e.g. A or 1.2")
    typed = compiler.compile(cell.expr, scope)
    from kam_policy.engine.conversions import check_assignable

    check_assignable(compiler, typed, kind, cell.span, f"output '{written.name}'")
    return typed


def _result_type(compiler: ExprCompiler, table: ast.Table, outputs: list[Type]) -> Type:
    single = outputs[0] if len(outputs) == 1 else Type("record", table.name)
    if table.hit in ("collect", "rule order"):
        if table.aggregator == "count":
            return NUMBER
        return single if table.aggregator else list_of(single)
    return single if outputs else ANY


def _priority(compiler: ExprCompiler, table: ast.Table,
              outputs: list[Type]) -> dict[Any, int] | None:
    if table.hit != "priority":
        return None
    info = compiler.enum(outputs[0]) if outputs else None
    if info is None or info.rank is None:
        compiler.error("check.table-priority", f"table '{table.name}' has hit policy priority, so "
                       "its first output must be an ordered enum (the highest value wins)",
                       table.span, "declare e.g. 'enum Level = low < high'")
        return None
    return dict(info.rank)
