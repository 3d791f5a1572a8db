"""Diagnostics as text: location, code, message, the source line with the span underlined,
and the hint."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from kam_policy.display import text_width
from kam_policy.errors import Diagnostic


def render(diagnostics: Iterable[Diagnostic], sources: Mapping[str, str]) -> str:
    """Render diagnostics the way compilers do, one block each."""
    return "\n".join(render_one(d, sources) for d in diagnostics)


def render_one(diagnostic: Diagnostic, sources: Mapping[str, str]) -> str:
    span = diagnostic.span
    where = f"{span}: " if span is not None else ""
    lines = [f"{where}{diagnostic.severity}[{diagnostic.code}] {diagnostic.message}"]
    text = sources.get(span.source) if span is not None else None
    if span is not None and text is not None:
        source_lines = text.split("\n")
        if 0 < span.line <= len(source_lines):
            line_text = source_lines[span.line - 1]
            gutter = f"{span.line:>5} | "
            lines.append(gutter + line_text)
            end_col = span.end_column if span.end_line == span.line else len(line_text) + 1
            start = text_width(line_text[: span.column - 1])
            length = max(1, text_width(line_text[span.column - 1 : end_col - 1]))
            lines.append(" " * (len(gutter) - 2) + "| " + " " * start + "^" * length)
    if diagnostic.hint:
        lines.append(f"      help: {diagnostic.hint}")
    return "\n".join(lines)

