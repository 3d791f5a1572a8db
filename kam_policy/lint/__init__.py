"""A compiled policy -> warnings beyond type errors: table gaps, overlaps and shadowed rows,
conditions that never hold, unused declarations, missing metadata, protected attributes.

Each warning is a ``Diagnostic`` with severity "warning", a ``lint.<kind>`` code, a span and a
hint; its message shows a concrete example. A comment ``# lint: allow <kind>`` on the line a
warning points at, or on the line above, silences warnings of that kind there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

from kam_policy.engine.policy import Policy
from kam_policy.errors import Diagnostic
from kam_policy.lint.conditions import check_conditions
from kam_policy.lint.context import LintContext
from kam_policy.lint.fairness import DEFAULT_PROTECTED, check_fairness
from kam_policy.lint.metadata import check_metadata
from kam_policy.lint.tables import check_tables
from kam_policy.lint.usage import ParamUse, check_usage, param_uses

Pass = Callable[[LintContext], list[Diagnostic]]

# Independent passes; each reads the shared context only, so their order is free.
PASSES: tuple[Pass, ...] = (
    check_tables,
    check_conditions,
    check_usage,
    check_metadata,
    check_fairness,
)

_ALLOW = re.compile(r"#\s*lint:\s*allow\s+([\w\-, ]+)")


def lint(policy: Policy, protected: Iterable[str] = DEFAULT_PROTECTED) -> list[Diagnostic]:
    """Find what is legal but probably wrong in a loaded policy.

    Args:
        policy: a policy from ``kam_policy.load``.
        protected: field names whose every read is flagged for a fairness review.

    Returns:
        The warnings, sorted by position.
    """
    ctx = LintContext.build(policy, frozenset(protected))
    found = [d for check in PASSES for d in check(ctx)]
    kept = [d for d in found if not _allowed(d, policy.sources)]
    return sorted(dict.fromkeys(kept), key=Diagnostic.sort_key)


def _allowed(diagnostic: Diagnostic, sources: Mapping[str, str]) -> bool:
    span = diagnostic.span
    text = sources.get(span.source) if span is not None else None
    if span is None or text is None:
        return False
    lines = text.split("\n")
    kind = diagnostic.code.removeprefix("lint.")
    for number in (span.line, span.line - 1):
        if 0 < number <= len(lines):
            match = _ALLOW.search(lines[number - 1])
            if match and kind in {k.strip() for k in match.group(1).split(",")}:
                return True
    return False


__all__ = ["DEFAULT_PROTECTED", "PASSES", "ParamUse", "lint", "param_uses"]
