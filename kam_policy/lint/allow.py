"""Rule file texts -> ``# lint: allow KIND`` comments, and the warnings each one acknowledges.

A comment ``# lint: allow table-gap`` (or several kinds: ``# lint: allow no-title, no-section``,
optionally followed by the reason: ``# lint: allow table-gap: null means no escalation``)
acknowledges the warnings of that kind

- on its own line and on the line below it (so it can sit on the flagged line or just above), and
- in the whole declaration (rule, table, define, param, conclusion) that it stands directly
  above, in the comment lines before the declaration's first line.

An acknowledged warning is not reported, but kept: ``kam-policy lint`` counts it and lists it
with ``--show-allowed``. An allow comment that acknowledges nothing is itself reported
(``lint.unused-allow``), so that a fixed problem does not leave a stale excuse behind.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kam_policy.errors import Diagnostic
from kam_policy.grammar import ast
from kam_policy.grammar.span import Span

KINDS = ("table-gap", "table-overlap", "table-shadowed", "impossible-condition", "unused-param",
         "unused-define", "unused-table", "never-emitted", "unused-conclusion", "no-title",
         "no-section", "protected-attribute")

# The kinds, separated by commas; anything after them is the reason, for people.
_ALLOW = re.compile(r"#\s*lint:\s*allow\s+([\w-]+(?:\s*,\s*[\w-]+)*)")
# Outside texts and comments no token of a valid rule file holds '"' or '#' (as in
# kam_policy.fmt.comments), so one scan for either finds every comment.
_STRING_OR_COMMENT = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*')


@dataclass(frozen=True)
class AllowComment:
    """One ``# lint: allow`` comment: where, its text, its kinds and the lines it covers."""

    span: Span
    text: str
    kinds: tuple[str, ...]
    lines: tuple[tuple[int, int], ...]  # (first, last) line ranges, inclusive

    def covers(self, diagnostic: Diagnostic) -> bool:
        span = diagnostic.span
        if span is None or span.source != self.span.source:
            return False
        kind = diagnostic.code.removeprefix("lint.")
        return kind in self.kinds and any(a <= span.line <= b for a, b in self.lines)


@dataclass(frozen=True)
class Allowed:
    """A warning that an allow comment acknowledges."""

    warning: Diagnostic
    comment: AllowComment


def allow_comments(sources: Mapping[str, str],
                   declarations: Iterable[ast.Node]) -> list[AllowComment]:
    """Every allow comment of the rule files ``sources``, with the lines it covers.

    Args:
        sources: rule file texts by name.
        declarations: the policy's rules, tables, defines, params and conclusions.
    """
    extents: dict[tuple[str, int], int] = {}  # (file, first line) -> last line of a declaration
    for node in declarations:
        span = node.span
        extents[(span.source, span.line)] = max(span.end_line,
                                                extents.get((span.source, span.line), 0))
    found = []
    for source, text in sources.items():
        lines = text.split("\n")
        for match in _STRING_OR_COMMENT.finditer(text):
            allow = _ALLOW.match(match.group())
            if allow is None:
                continue
            span = _span(source, text, match.start(), match.group().rstrip())
            kinds = tuple(k.strip() for k in allow.group(1).split(",") if k.strip())
            covered = [(span.line, span.line + 1)]
            below = _declaration_below(lines, span.line, source, extents)
            if below is not None:
                covered.append(below)
            found.append(AllowComment(span, match.group().rstrip(), kinds, tuple(covered)))
    return found


def _declaration_below(lines: list[str], line: int, source: str,
                       extents: Mapping[tuple[str, int], int]) -> tuple[int, int] | None:
    """The lines of the declaration that the comment on ``line`` stands directly above."""
    if not lines[line - 1].lstrip().startswith("#"):
        return None  # a comment after code belongs to that code's line
    below = line + 1
    while below <= len(lines) and lines[below - 1].lstrip().startswith("#"):
        below += 1
    last = extents.get((source, below))
    return None if last is None else (below, last)


def _span(source: str, text: str, offset: int, comment: str) -> Span:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return Span(source, offset, offset + len(comment), line, column, line, column + len(comment))


def apply(found: list[Diagnostic], comments: list[AllowComment],
          checked: Iterable[str]) -> tuple[list[Diagnostic], list[Allowed]]:
    """Split warnings into those to report and those acknowledged; report unused comments.

    Args:
        found: the warnings of the lint passes.
        comments: the policy's allow comments.
        checked: the kinds whose checks ran (an allow for a check that was off is not unused).

    Returns:
        The warnings to report (with one ``lint.unused-allow`` per kind a comment names but
        acknowledges nothing of), and the acknowledged warnings.
    """
    kept, allowed = [], []
    used: set[tuple[int, str]] = set()
    for warning in found:
        comment = next((c for c in comments if c.covers(warning)), None)
        if comment is None:
            kept.append(warning)
            continue
        allowed.append(Allowed(warning, comment))
        used.add((comment.span.start, warning.code.removeprefix("lint.")))
    active = set(checked)
    for comment in comments:
        for kind in comment.kinds:
            if (comment.span.start, kind) not in used and (kind in active or kind not in KINDS):
                kept.append(_unused(comment, kind))
    return kept, allowed


def _unused(comment: AllowComment, kind: str) -> Diagnostic:
    if kind in KINDS:
        hint = ("remove the comment, or move it to the line before the table or rule the "
                "warning is about")
    else:
        hint = f"lint kinds: {', '.join(KINDS)}"
    return Diagnostic("lint.unused-allow", f"'{comment.text}' allows no {kind} warning here",
                      comment.span, hint, "warning")
