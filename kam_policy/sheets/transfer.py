"""Export a decision table to a sheet file, and import a sheet's rows back into its rule file.

Import checks every cell (as a table cell of the rule language), then the whole policy with
the new rows, and reports bad cells by sheet, row and column (``grade_table!C4``). Only the
table's rows change in the rule file; everything else stays byte-identical.
"""

from __future__ import annotations

import codecs
import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kam_policy.engine.policy import compile_policy
from kam_policy.engine.sources import PolicySources
from kam_policy.errors import Diagnostic, PolicyError
from kam_policy.facts.bundled import bundled_schema
from kam_policy.facts.schema import FactSchema
from kam_policy.grammar.parse import parse
from kam_policy.sheets.cells import cell_problem
from kam_policy.sheets.files import read_sheet, write_sheet
from kam_policy.sheets.grid import (
    HEADER_ROWS,
    HIT_LABEL,
    TABLE_LABEL,
    CellProblem,
    Grid,
    SheetError,
    TableSheet,
)
from kam_policy.sheets.locate import TableSource, find_table
from kam_policy.sheets.rewrite import Rewrite, replace_rows

Params = str | Path | Mapping[str, Any] | None


@dataclass(frozen=True)
class SheetRows:
    """The data rows read from a sheet, with the sheet row number of each (1-based)."""

    sheet: str
    rows: tuple[tuple[str, ...], ...]
    numbers: tuple[int, ...]


@dataclass(frozen=True)
class ImportResult:
    """A checked import: the rule file, its old and new text, and how many rows changed."""

    path: Path
    file: str
    old_text: str
    new_text: str
    changed: int

    @property
    def unchanged(self) -> bool:
        return self.old_text == self.new_text

    def diff(self) -> str:
        """A unified diff of the rule file (empty when nothing changed)."""
        return "".join(difflib.unified_diff(
            self.old_text.splitlines(keepends=True), self.new_text.splitlines(keepends=True),
            f"a/{self.file}", f"b/{self.file}"))

    def write(self) -> None:
        """Write the new text to the rule file (keeping a byte order mark if it had one)."""
        bom = self.path.read_bytes().startswith(codecs.BOM_UTF8)
        self.path.write_bytes((codecs.BOM_UTF8 if bom else b"") + self.new_text.encode("utf-8"))


def export_table(table: str, to: str | Path, *, policy: str | Path | None = None) -> TableSheet:
    """Write decision table ``table`` of a policy to ``to`` (``.csv`` or ``.xlsx``).

    Args:
        table: the table's name, e.g. ``grade_table``.
        to: the sheet file to write.
        policy: a policy folder or entry file; None for the bundled policy.

    Returns:
        The table as it was written.
    """
    sheet = find_table(table, policy).sheet()
    write_sheet(to, sheet.name, sheet.to_grid())
    return sheet


def import_table(sheet_file: str | Path, table: str, *, policy: str | Path | None = None,
                 params: Params = None, schema: FactSchema | None = None,
                 write: bool = False) -> ImportResult:
    """Read a sheet's rows into decision table ``table``, check them, optionally write.

    Args:
        sheet_file: the ``.csv`` or ``.xlsx`` file (as ``export_table`` writes it).
        table: the table's name.
        policy: a policy folder or entry file; None for the bundled policy.
        params: parameter overrides to check the policy with.
        schema: the fact types to check against (the bundled ones by default).
        write: write the rule file when the import is valid.

    Returns:
        The rule file's old and new text.

    Raises:
        SheetError: bad cells (each with its sheet reference), or a wrong header.
    """
    source = find_table(table, policy)
    expected = source.sheet()
    sheet, grid = read_sheet(sheet_file, expected.name)
    read = read_rows(sheet, grid, expected)
    rewrite = replace_rows(source.text, source.table, read.rows)
    recheck(source, rewrite, read, schema or bundled_schema(), params)
    result = ImportResult(source.path, source.file, source.text, rewrite.text, rewrite.changed)
    if write and not result.unchanged:
        result.write()
    return result


def read_rows(sheet: str, grid: Grid, expected: TableSheet) -> SheetRows:
    """The data rows of a sheet, after checking its header and every cell.

    Raises:
        SheetError: every problem found, with its cell reference.
    """
    grid = [[cell.strip() for cell in row] for row in grid]
    problems: list[CellProblem | str] = []
    if len(grid) < HEADER_ROWS:
        raise SheetError([f"{sheet}: the sheet has no header rows (export the table first "
                          "to see the layout)"])
    for check in (_check_title(sheet, grid[0], expected),
                  _check_header(sheet, grid[1], expected)):
        if check:  # the wrong table or columns: the rows would only add noise
            raise SheetError(check)
    rows, numbers = [], []
    for index, row in enumerate(grid[HEADER_ROWS:], start=HEADER_ROWS + 1):
        if not any(row):
            continue  # spreadsheets leave blank rows behind
        problems.extend(_check_row(sheet, index, row, expected))
        rows.append(tuple((row + [""] * expected.width)[:expected.width]))
        numbers.append(index)
    if problems:
        raise SheetError(problems)
    return SheetRows(sheet, tuple(rows), tuple(numbers))


def recheck(source: TableSource, rewrite: Rewrite, read: SheetRows, schema: FactSchema,
            params: Params) -> None:
    """Compile the whole policy with the new rule-file text; errors point at the cells.

    Raises:
        SheetError: the policy does not check with the new rows.
    """
    texts = {**source.sources.texts, source.file: rewrite.text}
    try:
        module = parse(rewrite.text, source.file)
        modules = [module if m.source == source.file else m for m in source.sources.modules]
        compile_policy(PolicySources(source.sources.root, modules, texts), schema, params)
    except PolicyError as error:
        problems = [_locate(d, rewrite, read) for d in error.diagnostics]
        raise SheetError(list(dict.fromkeys(problems))) from None


def _check_title(sheet: str, row: list[str], expected: TableSheet) -> list[CellProblem | str]:
    cells = (row + [""] * 4)[:4]
    problems: list[CellProblem | str] = []
    if cells[0].lower() != TABLE_LABEL or cells[1] != expected.name:
        problems.append(CellProblem(sheet, 1, 2, cells[1], f"this sheet holds table "
                                    f"'{cells[1]}', not '{expected.name}' (A1 'table', B1 name)"))
    if cells[2].lower() != HIT_LABEL or " ".join(cells[3].lower().split()) != expected.hit:
        problems.append(CellProblem(sheet, 1, 4, cells[3], f"the hit policy is "
                                    f"'{expected.hit}' in the rule file; an import changes only "
                                    "rows, so change the hit policy in the rule file"))
    return problems


def _check_header(sheet: str, row: list[str], expected: TableSheet) -> list[CellProblem | str]:
    want = expected.header()
    problems: list[CellProblem | str] = []
    for column, name in enumerate(want):
        got = row[column] if column < len(row) else ""
        if got != name:
            problems.append(CellProblem(sheet, 2, column + 1, got, f"column header '{got}' "
                                        f"should be '{name}': the columns are {', '.join(want)}; "
                                        "an import changes only rows"))
    problems.extend(_outside(sheet, 2, row, len(want)))
    return problems


def _check_row(sheet: str, number: int, row: list[str],
               expected: TableSheet) -> list[CellProblem | str]:
    problems: list[CellProblem | str] = []
    for column in range(expected.width):
        text = row[column] if column < len(row) else ""
        message = cell_problem(text, output=column >= len(expected.inputs))
        if message is not None:
            problems.append(CellProblem(sheet, number, column + 1, text, message))
    problems.extend(_outside(sheet, number, row, expected.width))
    return problems


def _outside(sheet: str, number: int, row: list[str], width: int) -> list[CellProblem | str]:
    return [CellProblem(sheet, number, column + 1, text, f"'{text}' is outside the table's "
                        f"{width} columns") for column, text in enumerate(row)
            if column >= width and text]


def _locate(diagnostic: Diagnostic, rewrite: Rewrite, read: SheetRows) -> CellProblem | str:
    span = diagnostic.span
    hint = f" ({diagnostic.hint})" if diagnostic.hint else ""
    if span is not None:
        for cell in rewrite.cells:
            if cell.start <= span.start < max(cell.end, cell.start + 1):
                text = rewrite.text[cell.start:cell.end]
                return CellProblem(read.sheet, read.numbers[cell.row], cell.column + 1, text,
                                   f"'{text}': {diagnostic.message}{hint}")
    where = f"{span}: " if span is not None else ""
    return f"{where}{diagnostic.message}{hint}"
