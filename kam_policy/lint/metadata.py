"""Rules -> the ones without a title or a ``section``, which explanations and audits need."""

from __future__ import annotations

from kam_policy.errors import Diagnostic
from kam_policy.lint.context import LintContext


def check_metadata(ctx: LintContext) -> list[Diagnostic]:
    """A rule needs a title (what it decides, for people) and a section (where the handbook
    says so)."""
    found = []
    for rule in ctx.policy.declarations.rules:
        if not rule.title:
            found.append(Diagnostic(
                "lint.no-title", f"rule {rule.id} has no title", rule.span,
                f'give it one after its id, e.g. rule {rule.id} "What it decides" {{ ... }}',
                "warning"))
        if not rule.section:
            found.append(Diagnostic(
                "lint.no-section", f"rule {rule.id} has no section", rule.span,
                f'name the handbook section it implements: section "C.2" as the first line '
                f"inside rule {rule.id} {{ ... }}", "warning"))
    return found
