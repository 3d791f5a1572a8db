"""A small decision table that is scanned (no index) -> one generated Python function.

``fast(ctx, *inputs)`` gives what ``CompiledTable.evaluate`` gives without a tracer: the rows'
cell tests are inlined in row order (a row's tests in column order, stopping at the first that
fails, as ``_passes`` does); FIRST returns the first matching row's output, every other hit
policy hands the matching rows to the table's own ``_combine``. Outputs that are not
constants are computed by the rows' own closures. Large tables keep their index or scan.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kam_policy.engine.codegen import binding, env_code
from kam_policy.grammar import ast

if TYPE_CHECKING:
    from kam_policy.engine.compile_expr import ExprCompiler
    from kam_policy.engine.tables import CompiledTable

MOST_ROWS = 64  # beyond this a table is better served by its index or scan than by code


def generate_table(compiler: ExprCompiler, node: ast.Table,
                   table: CompiledTable) -> Callable[..., Any] | None:
    """The table as one function of its inputs, or None if it is large, indexed or empty."""
    from kam_policy.engine.tables import _cell_compare, _Constant

    if table.index is not None or not table.rows or len(table.rows) > MOST_ROWS:
        return None
    inputs = table.inputs
    env = env_code(inputs)
    lines: list[str] = []
    with compiler.quiet(generating=True):  # checked when the table was compiled
        scope = {f.name: compiler.written_type(f.type) for f in node.inputs}
        for row in table.rows:
            tests = []
            for name, cell in zip(inputs, row.source.cells, strict=False):
                compare = _cell_compare(name, cell, scope)
                if compare is not None:
                    tests.append(compiler.code(compiler.condition(compare, scope)))
            test = " and ".join(tests) or "True"
            row_name = compiler.const(row)
            if table.hit != "first":
                lines.append(f"if {test}: matched.append({row_name})")
            elif len(row.outputs) == 1 and isinstance(row.outputs[0], _Constant):
                value = compiler.namespace.literal(row.outputs[0].value)
                lines.append(f"if {test}: return {value}")
            else:
                lines.append(f"if {test}: return {compiler.const(table)}._output({row_name}, "
                             f"ctx, {env})")
    if table.hit == "first":
        lines.append("return None")
    else:
        lines.insert(0, "matched = []")
        lines.append(f"return {compiler.const(table)}._combine(matched, ctx, {env})")
    params = "".join(f", {binding(name)}" for name in inputs)
    return compiler.namespace.function("table", f"ctx{params}", lines)


__all__ = ["MOST_ROWS", "generate_table"]
