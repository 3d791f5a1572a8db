"""Source spans: where in which file a piece of policy text stands."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Span:
    """A region of one source file (1-based lines and columns, end exclusive)."""

    source: str
    start: int
    end: int
    line: int
    column: int
    end_line: int
    end_column: int

    def text(self, source_text: str) -> str:
        """The text this span covers in ``source_text``."""
        return source_text[self.start : self.end]

    def __str__(self) -> str:
        return f"{self.source}:{self.line}:{self.column}"


def point_span(source: str, text: str, offset: int) -> Span:
    """A one-character span at ``offset`` of ``text`` (clamped to the text)."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    end = min(offset + 1, len(text)) if text else offset
    return Span(source, offset, end, line, column, line, column + (end - offset))
