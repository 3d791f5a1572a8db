"""Decision table rows (cell texts) -> lines with aligned ``|`` columns."""

from __future__ import annotations

from kam_policy.display import text_width


def rows_text(rows: list[list[str]]) -> list[str]:
    """Each row as ``| a | b |``, every column padded to its widest cell.

    Args:
        rows: the cell texts of each row (rows may have different numbers of cells).

    Returns:
        One line per row; CJK characters count two columns, so the bars line up on screen.
    """
    widths: list[int] = []
    for row in rows:
        for index, cell in enumerate(row):
            if index == len(widths):
                widths.append(0)
            widths[index] = max(widths[index], text_width(cell))
    return ["| " + " | ".join(_pad(cell, widths[i]) for i, cell in enumerate(row)) + " |"
            for row in rows]


def _pad(cell: str, width: int) -> str:
    return cell + " " * (width - text_width(cell))
