"""A rule file's text + a table's new rows -> the new text, changing only the rows that differ.

Rows that match an old row (same cell texts, in order) keep their exact text, comments and
separators; a changed row keeps its place and is rendered in the file's own layout (its
indentation, the padding inside the bars, and the column widths when the rows are aligned).
So the diff of a one-cell edit is that one row.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from kam_policy.grammar import ast

Cells = tuple[str, ...]


@dataclass(frozen=True)
class PlacedCell:
    """Where cell ``column`` of new row ``row`` (both 0-based) lies in the new text."""

    row: int
    column: int
    start: int
    end: int


@dataclass(frozen=True)
class Rewrite:
    """The new file text, where each cell went, and how many rows changed."""

    text: str
    cells: tuple[PlacedCell, ...]
    changed: int


@dataclass(frozen=True)
class _Layout:
    """How a table's rows are written: indentation, newline, padding and aligned widths."""

    indent: str
    newline: str
    lpad: tuple[int, ...]
    rpad: tuple[int, ...]
    widths: tuple[int | None, ...]  # segment length between bars, when every row agrees

    def indent_line(self) -> str:
        """What goes between two rows that were not neighbours in the file."""
        return self.newline + self.indent

    def render(self, cells: Sequence[str]) -> tuple[str, list[tuple[int, int]]]:
        """A row's text and its cells' (start, end) offsets within it."""
        text, places = "|", []
        for column, cell in enumerate(cells):
            lpad = self.lpad[column] if column < len(self.lpad) else 1
            rpad = self.rpad[column] if column < len(self.rpad) else 1
            width = self.widths[column] if column < len(self.widths) else None
            segment = " " * lpad + cell
            segment = segment + " " * max(rpad, (width or 0) - len(segment))
            places.append((len(text) + lpad, len(text) + lpad + len(cell)))
            text += segment + "|"
        return text, places


def replace_rows(text: str, table: ast.Table, rows: Sequence[Sequence[str]]) -> Rewrite:
    """``text`` with ``table``'s rows replaced by ``rows`` (cell texts, one tuple per row).

    Args:
        text: the rule file holding ``table`` (the text its spans point into).
        table: the table, parsed from ``text``.
        rows: the new rows.

    Returns:
        The new text, with every row that did not change byte-identical.
    """
    new_rows = [tuple(row) for row in rows]
    old = table.rows
    if not old:
        return _append(text, table, new_rows)
    layout = _layout(text, table)
    old_cells = [tuple(c.span.text(text) for c in row.cells) for row in old]
    plan = _plan(old_cells, new_rows)
    start, end = old[0].span.start, old[-1].span.end
    if not new_rows:
        start = _line_start(text, start) - len(layout.newline)
        return Rewrite(text[:start] + text[end:], (), len(old))
    pieces: list[str] = []
    cells: list[PlacedCell] = []
    offset = start
    for index, (anchor, verbatim) in enumerate(plan):
        if index:
            previous = plan[index - 1][0]
            sep = (text[old[previous].span.end:old[anchor].span.start]
                   if previous is not None and anchor == previous + 1 else layout.indent_line())
            pieces.append(sep)
            offset += len(sep)
        if verbatim:
            assert anchor is not None
            row = old[anchor]
            row_text = row.span.text(text)
            places = [(c.span.start - row.span.start, c.span.end - row.span.start)
                      for c in row.cells]
        else:
            row_text, places = layout.render(new_rows[index])
        cells.extend(PlacedCell(index, col, offset + a, offset + b)
                     for col, (a, b) in enumerate(places))
        pieces.append(row_text)
        offset += len(row_text)
    kept = {anchor for anchor, _ in plan if anchor is not None}
    changed = sum(1 for _, verbatim in plan if not verbatim) + len(old) - len(kept)
    return Rewrite(text[:start] + "".join(pieces) + text[end:], tuple(cells), changed)


def _plan(old: list[Cells], new: list[Cells]) -> list[tuple[int | None, bool]]:
    """For each new row: the old row whose place it takes (or None), and whether it is that
    old row unchanged."""
    plan: list[tuple[int | None, bool]] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            plan.extend((i1 + k, True) for k in range(j2 - j1))
        elif tag in ("replace", "insert"):
            plan.extend((i1 + k if i1 + k < i2 else None, False) for k in range(j2 - j1))
    return plan


def _layout(text: str, table: ast.Table) -> _Layout:
    first = table.rows[0]
    line_start = _line_start(text, first.span.start)
    prefix = text[line_start:first.span.start]
    indent = prefix if not prefix.strip() else "  "
    newline = "\r\n" if "\r\n" in text else "\n"
    segments = [_segments(text, row) for row in table.rows]
    width = len(first.cells)
    lpad, rpad, widths = [], [], []
    for column in range(width):
        column_segments = [row[column] for row in segments if len(row) > column]
        lpad.append(len(column_segments[0]) - len(column_segments[0].lstrip(" ")))
        rpad.append(min(len(s) - len(s.rstrip(" ")) for s in column_segments))
        lengths = {len(s) for s in column_segments}
        widths.append(lengths.pop() if len(lengths) == 1 and len(column_segments) > 1 else None)
    return _Layout(indent, newline, tuple(lpad), tuple(rpad), tuple(widths))


def _segments(text: str, row: ast.Row) -> list[str]:
    """The text between the bars around each cell of ``row``."""
    found = []
    for cell in row.cells:
        left = text.rfind("|", 0, cell.span.start)
        right = text.find("|", cell.span.end)
        found.append(text[left + 1:right])
    return found


def _line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def _append(text: str, table: ast.Table, rows: list[Cells]) -> Rewrite:
    """Rows for a table that has none yet: after its ``out`` line, indented like it."""
    if not rows:
        return Rewrite(text, (), 0)
    anchor = table.outputs[-1].span.end
    line = text[_line_start(text, anchor):anchor]
    indent = line[:len(line) - len(line.lstrip(" \t"))]
    newline = "\r\n" if "\r\n" in text else "\n"
    layout = _Layout(indent, newline, (), (), ())
    pieces: list[str] = []
    cells: list[PlacedCell] = []
    offset = anchor
    for index, row in enumerate(rows):
        row_text, places = layout.render(row)
        offset += len(layout.indent_line())
        cells.extend(PlacedCell(index, col, offset + a, offset + b)
                     for col, (a, b) in enumerate(places))
        pieces.append(layout.indent_line() + row_text)
        offset += len(row_text)
    return Rewrite(text[:anchor] + "".join(pieces) + text[anchor:], tuple(cells), len(rows))
