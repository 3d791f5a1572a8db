"""Source spans: where in which file a piece of policy text stands."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True, slots=True, init=False)
class Span:
    """A region of one source file (1-based lines and columns, end exclusive)."""

    source: str
    start: int
    end: int
    line: int
    column: int
    end_line: int
    end_column: int

    def __init__(self, source: str, start: int, end: int, line: int, column: int,
                 end_line: int, end_column: int) -> None:
        # What the frozen dataclass's own __init__ does, in half the time (a large policy
        # makes millions of spans): set each slot through its descriptor.
        _source(self, source)
        _start(self, start)
        _end(self, end)
        _line(self, line)
        _column(self, column)
        _end_line(self, end_line)
        _end_column(self, end_column)

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


_source, _start, _end, _line, _column, _end_line, _end_column = (
    Span.__dict__[f.name].__set__ for f in fields(Span))
