"""Sheet files: CSV and XLSX <-> a grid of cell texts (the first sheet, or the table's)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Any

from kam_policy.sheets.grid import Grid, SheetError, column_letter

FORMATS = (".csv", ".xlsx")
_DELIMITERS = (",", ";", "\t")


def sheet_format(path: str | Path) -> str:
    """``.csv`` or ``.xlsx``, from the file name; anything else is an error."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise SheetError([f"{path}: a sheet file is .csv or .xlsx, not '{suffix or path}'"])
    return suffix


def write_sheet(path: str | Path, sheet: str, grid: Grid) -> None:
    """Write ``grid`` as a CSV file or as the sheet ``sheet`` of a new workbook."""
    if sheet_format(path) == ".csv":
        _write_csv(Path(path), grid)
    else:
        _write_xlsx(Path(path), sheet, grid)


def read_sheet(path: str | Path, sheet: str) -> tuple[str, Grid]:
    """The name and cell texts of a sheet: the CSV file (named by its stem, as a spreadsheet
    shows it), or the workbook's sheet called ``sheet`` (else its first sheet)."""
    file = Path(path)
    kind = sheet_format(file)
    try:
        return _read_csv(file) if kind == ".csv" else _read_xlsx(file, sheet)
    except OSError as error:
        raise SheetError([f"{file}: cannot read: {error.strerror or error}"]) from None


def _write_csv(path: Path, grid: Grid) -> None:
    # A byte order mark makes spreadsheet programs read the file as UTF-8 (CJK titles).
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        csv.writer(out).writerows(grid)


def _read_csv(path: Path) -> tuple[str, Grid]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SheetError([f"{path}: not UTF-8 text (byte {error.start}); save the sheet as "
                          "'CSV UTF-8'"]) from None
    first = text.split("\n", 1)[0]
    delimiter = max(_DELIMITERS, key=first.count)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    return path.stem, rows


def _write_xlsx(path: Path, sheet: str, grid: Grid) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    page = book.active
    assert page is not None
    page.title = sheet[:31]
    for r, row in enumerate(grid, start=1):
        for c, text in enumerate(row, start=1):
            cell = page.cell(r, c)
            cell.value = text
            cell.data_type = "s"  # a cell such as '== 5' is text, never a formula
            if r <= 2:
                cell.font = Font(bold=True)
    for c in range(1, max((len(row) for row in grid), default=0) + 1):
        letter = column_letter(c)
        widest = max((len(row[c - 1]) for row in grid if len(row) >= c), default=0)
        page.column_dimensions[letter].width = min(60, max(10, widest + 2))
    page.freeze_panes = "A3"
    book.save(path)


def _read_xlsx(path: Path, sheet: str) -> tuple[str, Grid]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, data_only=False)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError) as error:
        raise SheetError([f"{path}: not an .xlsx workbook ({error})"]) from None
    page = book[sheet] if sheet in book.sheetnames else book.worksheets[0]
    grid = [[_cell_text(value) for value in row] for row in page.iter_rows(values_only=True)]
    return page.title, grid


def _cell_text(value: Any) -> str:
    """A spreadsheet value as the cell text it stands for (numbers typed in a sheet too)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)
