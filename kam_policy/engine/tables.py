"""Decision tables: rows of unary tests compiled once, and the DMN hit policies that pick
the result (FIRST, UNIQUE, ANY, PRIORITY, COLLECT [sum|count|min|max], RULE ORDER)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
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


@dataclass(frozen=True, slots=True)
class CellTest:
    """One input cell, compiled: its test and its operands (for explanations). The rows of a
    table whose cells read alike (same column, operator and constant) share one."""

    test: Fn
    left: Fn
    right: Fn
    left_type: Type
    right_type: Type
    key: tuple[bool, Any]  # (True, c) when the cell tests ``column == c`` for a keyable c


@dataclass(frozen=True, slots=True)
class CompiledRow:
    """One row: a compiled cell per input column (None for '-') and a value per output column."""

    number: int
    cells: tuple[CellTest | None, ...]
    outputs: tuple[Fn, ...]
    span: Span
    source: ast.Row = field(repr=False, compare=False)
    inputs: tuple[str, ...] = field(repr=False, compare=False)  # the table's input columns

    @property
    def tests(self) -> tuple[Fn | None, ...]:
        """The test of each input column (None for '-')."""
        return tuple(cell.test if cell is not None else None for cell in self.cells)

    @property
    def checks(self) -> tuple[Check | None, ...]:
        """The tests taken apart, for explanations (made when asked: most loads never ask)."""
        return tuple(
            None if compiled is None else _check(name, cell, compiled)
            for name, cell, compiled in zip(self.inputs, self.source.cells, self.cells,
                                            strict=False))  # cells: the outputs follow


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
    fast: Callable[..., Any] | None = field(default=None, compare=False, repr=False)
    """A small scanned table as generated code: fast(ctx, *inputs) (engine/table_fast.py)."""

    @cached_property
    def row_tests(self) -> tuple[Tests, ...]:
        """Each row's tests, without '-' (made when first scanned: an index may never need
        them)."""
        return tuple(tuple(c.test for c in row.cells if c is not None) for row in self.rows)

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
    cells = _RowCompiler(compiler, table, input_types, output_types)
    for row in table.rows if usable else ():
        if len(row.cells) != width:
            compiler.error("check.table-shape", f"row {row.number} of table '{table.name}' has "
                           f"{len(row.cells)} cells; it needs {width} ({len(table.inputs)} in, "
                           f"{len(table.outputs)} out)", row.span)
            continue
        rows.append(cells.row(row))
    index = build_index(len(input_types), _PerRow(rows, _tests), _PerRow(rows, _keys))
    compiled = CompiledTable(
        table.name, table.hit, table.aggregator, tuple(input_types),
        tuple(f.name for f in table.outputs), tuple(rows),
        _result_type(compiler, table, output_types), _priority(compiler, table, output_types),
        table.span, index)
    if usable and len(rows) == len(table.rows):  # every row compiled: worth generating
        from kam_policy.engine.table_fast import generate_table

        # set once, right after construction: the generated function names this very table
        object.__setattr__(compiled, "fast", generate_table(compiler, table, compiled))
    return compiled


class _RowCompiler:
    """Compiles the rows of one table. A cell that reads like one compiled before in the same
    column (a constant or a name: ``"R00017"``, ``gold``, ``>= 95``) reuses its closures, unless
    compiling it reported something; large tables repeat their cells a lot."""

    def __init__(self, compiler: ExprCompiler, table: ast.Table, input_types: dict[str, Type],
                 output_types: list[Type]) -> None:
        self.compiler = compiler
        self.table = table
        self.scope = input_types
        self.inputs = tuple(input_types)
        self.output_types = output_types
        self._tests: dict[tuple[Any, ...], CellTest] = {}
        self._outputs: dict[tuple[Any, ...], Fn] = {}
        self._columns: dict[str, Typed] = {}  # each input column as an operand

    def row(self, row: ast.Row) -> CompiledRow:
        """One row's cells and outputs."""
        tests: list[CellTest | None] = []
        for name, cell in zip(self.inputs, row.cells, strict=False):
            tested = cell.kind != "any" and cell.expr is not None
            tests.append(self._test(name, cell, _cell_key(name, cell)) if tested else None)
        outputs: list[Fn] = []
        for position, cell in enumerate(row.cells[len(self.inputs):]):
            outputs.append(self._output(position, cell))
        return CompiledRow(row.number, tuple(tests), tuple(outputs), row.span, row, self.inputs)

    def _test(self, name: str, cell: ast.Cell, key: tuple[Any, ...]) -> CellTest:
        cached = self._tests.get(key) if key else None
        if cached is not None:
            return cached
        reported = len(self.compiler.diagnostics)
        compare = _cell_compare(name, cell, self.scope)
        assert compare is not None
        test = self.compiler.condition(compare, self.scope).fn
        with self.compiler.quiet():  # checked just above; compiled again for explanations
            left = self._columns.get(name) or self.compiler.compile(compare.left, self.scope)
            right = self.compiler.compile(compare.right, self.scope)
        self._columns[name] = left
        constant = (True, right.value) if compare.op == "==" and right.const and \
            keyable(right.value) else _NO_KEY
        compiled = CellTest(test, left.fn, right.fn, left.type, right.type, constant)
        if key and len(self.compiler.diagnostics) == reported:
            self._tests[key] = compiled
        return compiled

    def _output(self, position: int, cell: ast.Cell) -> Fn:
        key = _expr_key(cell.expr) if cell.kind == "value" else None
        cached = self._outputs.get((position, *key)) if key else None
        if cached is not None:
            return cached
        reported = len(self.compiler.diagnostics)
        written = self.table.outputs[position]
        typed = _compile_output(self.compiler, written, self.output_types[position], cell,
                                self.scope)
        fn = _Constant(typed.value) if typed.const else typed.fn
        if key and len(self.compiler.diagnostics) == reported:
            self._outputs[(position, *key)] = fn
        return fn


class _Constant:
    """A cell's value known when compiled, as a closure ``fn(ctx, env)`` (smaller than one)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __call__(self, ctx: Any, env: dict[str, Any]) -> Any:
        return self.value


class _PerRow(Sequence[Any]):
    """One thing about each row, made when read (``build_index`` reads each once)."""

    def __init__(self, rows: Sequence[CompiledRow], get: Callable[[CompiledRow], Any]) -> None:
        self._rows = rows
        self._get = get

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, position: Any) -> Any:
        return self._get(self._rows[position])


def _tests(row: CompiledRow) -> tuple[Fn | None, ...]:
    return row.tests


def _keys(row: CompiledRow) -> list[tuple[bool, Any]]:
    return [c.key if c is not None else _NO_KEY for c in row.cells]


_NO_KEY: tuple[bool, Any] = (False, None)
_PLAIN = (str, int, bool, type(None))


def _cell_key(column: str, cell: ast.Cell) -> tuple[Any, ...]:
    """What makes two cells of a column compile alike: ``(column, kind, op, expression)``
    for a constant or a name, else () (the cell is compiled on its own)."""
    written = _expr_key(cell.expr)
    return (column, cell.kind, cell.op, *written) if written else ()


def _expr_key(expr: ast.Expr | None) -> tuple[Any, ...] | None:
    """A constant or a name as a key: the value with its exact type (``1`` is not ``true``)
    and, for a decimal, its digits as written (``1.0`` is not ``1.00``); None for others."""
    if type(expr) is ast.Literal:
        value = expr.value
        if type(value) in _PLAIN:
            return (expr.kind, type(value), value)
        if type(value) is Decimal:
            return (expr.kind, Decimal, str(value))
        return None
    if type(expr) is ast.Name:
        return ("name", expr.id)
    return None


def _check(name: str, cell: ast.Cell, compiled: CellTest) -> Check:
    """A compiled cell as the ``Check`` of ``column <op> cell`` (what ``build_check`` builds)."""
    compare = _cell_compare(name, cell, {})
    assert compare is not None
    return Check(compare, compare.op, compiled.left, compiled.right, compiled.left_type,
                 compiled.right_type, compiled.test)


def _cell_compare(name: str, cell: ast.Cell, scope: dict[str, Type]) -> ast.Compare | None:
    """A cell as the comparison it stands for: ``>= 85`` in column total is ``total >= 85``."""
    if cell.kind == "any" or cell.expr is None:
        return None
    column = ast.Name(name, cell.span)
    op = {"compare": cell.op or "==", "in": "in", "not in": "not in", "value": "=="}[cell.kind]
    return ast.Compare(op, column, cell.expr, cell.span)


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
