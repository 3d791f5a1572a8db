"""One sheet cell -> whether it is a valid table cell of the rule language (parsed, not typed).

A cell is checked by parsing a one-row table around it with ``kam_policy.parse``, so the sheet
accepts exactly what a rule file accepts. Names and types are checked afterwards, when the
whole policy is compiled with the new rows.
"""

from __future__ import annotations

import re

from kam_policy.errors import PolicySyntaxError
from kam_policy.grammar import ast
from kam_policy.grammar.parse import parse

_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_PROBE = ("table cell_probe {{\n  hit first\n  in probe_in: bool\n  out probe_out: bool\n"
          "  {row}\n}}\n")


def cell_problem(text: str, *, output: bool) -> str | None:
    """Why ``text`` is not a valid input (test) or output (value) cell; None if it is.

    Args:
        text: the cell's text, surrounding spaces removed.
        output: whether the cell is in an output column (it must then be a value).
    """
    if not text:
        return ("an output cell needs a value" if output
                else "the cell is empty; write - to match anything")
    if "#" in _STRING.sub("", text):
        return f"'{text}' is not a valid cell (a '#' starts a comment, which cannot go in a cell)"
    row = f"| - | {text} |" if output else f"| {text} | - |"
    try:
        module = parse(_PROBE.format(row=row), "<cell>")
    except PolicySyntaxError as error:
        detail = error.diagnostics[0].message if error.diagnostics else "syntax error"
        return f"'{text}' is not a valid cell ({detail})"
    table = module.items[0]
    assert isinstance(table, ast.Table)
    cells = table.rows[0].cells if len(table.rows) == 1 else ()
    if len(cells) != 2:
        return f"'{text}' is not a valid cell (a cell may not contain '|')"
    cell = cells[1] if output else cells[0]
    if output and cell.kind != "value":
        return f"'{text}' is not a valid output cell: write the value itself, e.g. A or 1.2"
    return None
