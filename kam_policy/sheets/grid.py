"""Decision table <-> sheet grid: the layout a spreadsheet shows, and cell coordinates.

A sheet holds one table::

    A1 table | B1 grade_table | C1 hit | D1 first
    total    | satisfaction   | out: grade                 <- header: inputs, then outputs
    >= grade_min.S | >= s_min_satisfaction | S             <- one line per row
    ...

Every cell is the text of the rule file's cell, exactly as written there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kam_policy.errors import KamPolicyError

TABLE_LABEL = "table"
HIT_LABEL = "hit"
OUTPUT_MARKER = "out: "
HEADER_ROWS = 2  # the table/hit row and the column names

Grid = list[list[str]]


@dataclass(frozen=True)
class TableSheet:
    """A decision table as a sheet: its name, hit policy, column names and cell texts."""

    name: str
    hit: str  # as written after 'hit': first, unique, any, priority, collect sum, rule order
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    @property
    def width(self) -> int:
        return len(self.inputs) + len(self.outputs)

    def header(self) -> list[str]:
        return [*self.inputs, *(OUTPUT_MARKER + name for name in self.outputs)]

    def to_grid(self) -> Grid:
        """The rows of the sheet, header rows first."""
        return [[TABLE_LABEL, self.name, HIT_LABEL, self.hit], self.header(),
                *(list(row) for row in self.rows)]


@dataclass(frozen=True)
class CellProblem:
    """A bad cell of a sheet: its reference (``Sheet1!C4``), its text and what is wrong."""

    sheet: str
    row: int  # 1-based, as the spreadsheet numbers rows
    column: int  # 1-based
    text: str
    message: str

    @property
    def ref(self) -> str:
        return cell_ref(self.sheet, self.row, self.column)

    def __str__(self) -> str:
        return f"{self.ref}: {self.message}"


class SheetError(KamPolicyError):
    """A sheet cannot be imported; ``problems`` lists every bad cell (and other findings)."""

    def __init__(self, problems: list[CellProblem | str]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    def __reduce__(self) -> tuple[type, tuple[list[CellProblem | str]]]:
        return (type(self), (self.problems,))


def column_letter(column: int) -> str:
    """``1`` -> ``A``, ``27`` -> ``AA``."""
    letters = ""
    while column > 0:
        column, rest = divmod(column - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def cell_ref(sheet: str, row: int, column: int) -> str:
    """``Sheet1!C4``; a sheet name with spaces or punctuation is quoted: ``'my rows'!C4``."""
    name = sheet if re.fullmatch(r"[^\W\d]\w*", sheet) else "'" + sheet.replace("'", "''") + "'"
    return f"{name}!{column_letter(column)}{row}"


def hit_text(hit: str, aggregator: str | None) -> str:
    """The hit policy as a rule file writes it after ``hit``."""
    return f"{hit} {aggregator}" if aggregator else hit
