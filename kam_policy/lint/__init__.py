"""A compiled policy -> warnings beyond type errors: table gaps, overlaps and shadowed rows,
conditions that never hold, unused declarations, missing metadata, protected attributes.

Each warning is a ``Diagnostic`` with severity "warning", a ``lint.<kind>`` code, a span and a
hint; its message shows a concrete example. A comment ``# lint: allow <kind>`` acknowledges
warnings of that kind on its line, the line below, or the declaration it stands directly above
(see ``kam_policy.lint.allow``); acknowledged warnings are kept apart, not dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from kam_policy.engine.policy import Policy
from kam_policy.errors import Diagnostic
from kam_policy.grammar import ast
from kam_policy.lint.allow import KINDS, AllowComment, Allowed, allow_comments, apply
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


@dataclass(frozen=True)
class LintReport:
    """The warnings to report, and the ones ``# lint: allow`` comments acknowledge."""

    warnings: list[Diagnostic]
    allowed: list[Allowed]


def lint_report(policy: Policy, protected: Iterable[str] = DEFAULT_PROTECTED) -> LintReport:
    """Find what is legal but probably wrong in a loaded policy, and what is acknowledged.

    Args:
        policy: a policy from ``kam_policy.load``.
        protected: field names whose every read is flagged for a fairness review.

    Returns:
        The warnings to report (with ``lint.unused-allow`` for allow comments that acknowledge
        nothing) and the acknowledged ones, each sorted by position.
    """
    ctx = LintContext.build(policy, frozenset(protected))
    found = list(dict.fromkeys(d for check in PASSES for d in check(ctx)))
    comments = allow_comments(policy.sources, _declarations(policy))
    checked = [k for k in KINDS if k != "protected-attribute" or ctx.protected]
    kept, allowed = apply(found, comments, checked)
    return LintReport(sorted(kept, key=Diagnostic.sort_key),
                      sorted(allowed, key=lambda a: a.warning.sort_key()))


def lint(policy: Policy, protected: Iterable[str] = DEFAULT_PROTECTED) -> list[Diagnostic]:
    """The warnings to report for a loaded policy (``lint_report(...).warnings``).

    Args:
        policy: a policy from ``kam_policy.load``.
        protected: field names whose every read is flagged for a fairness review.

    Returns:
        The warnings, sorted by position.
    """
    return lint_report(policy, protected).warnings


def _declarations(policy: Policy) -> list[ast.Node]:
    decls = policy.declarations
    return [*decls.rules, *decls.tables.values(), *decls.defines.values(),
            *decls.params.values(), *decls.conclusions.values()]


__all__ = ["DEFAULT_PROTECTED", "KINDS", "PASSES", "AllowComment", "Allowed", "LintReport",
           "ParamUse", "lint", "lint_report", "param_uses"]
