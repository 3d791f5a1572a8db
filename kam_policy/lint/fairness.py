"""Rules, defines and tables -> each read of a protected attribute (age, gender, ...), so that a
person reviews whether a decision may depend on it."""

from __future__ import annotations

from kam_policy.errors import Diagnostic
from kam_policy.grammar import ast
from kam_policy.lint.context import LintContext
from kam_policy.lint.index import Unit

DEFAULT_PROTECTED = (
    "age", "gender", "sex", "ethnicity", "race", "marital_status", "pregnancy", "pregnant",
    "religion", "nationality", "birth_date", "date_of_birth",
)
JUSTIFIED = "fairness"  # ``meta fairness "why this use is lawful"`` on a rule


def check_fairness(ctx: LintContext) -> list[Diagnostic]:
    """Flag every field access whose field is protected, where it is written."""
    owners = _owners(ctx)
    found = []
    for unit in ctx.index.units:
        rules = ctx.index.rules_reaching(unit)
        if rules and all(_justified(ctx, rule) for rule in rules):
            continue
        for attr in unit.attrs:
            if attr.name in ctx.protected and attr.name in owners:
                found.append(_diagnostic(ctx, unit, attr, owners[attr.name], rules))
    return found


def _owners(ctx: LintContext) -> dict[str, list[str]]:
    """Protected field name -> the fact types and conclusions that have such a field."""
    decls = ctx.policy.declarations
    owners: dict[str, list[str]] = {}
    for fact, fields in decls.facts.items():
        for name in fields:
            owners.setdefault(name, []).append(fact)
    for conclusion in decls.conclusions.values():
        for field in conclusion.fields:
            owners.setdefault(field.name, []).append(f"conclusion {conclusion.name}")
    return {k: v for k, v in owners.items() if k in ctx.protected}


def _justified(ctx: LintContext, rule_id: str) -> bool:
    rule = next(r for r in ctx.policy.declarations.rules if r.id == rule_id)
    return any(key == JUSTIFIED for key, _ in rule.meta)


def _diagnostic(ctx: LintContext, unit: Unit, attr: ast.Attr, owners: list[str],
                rules: list[str]) -> Diagnostic:
    fields = ", ".join(f"{owner}.{attr.name}" for owner in owners)
    if unit.kind == "rule":
        who = f"rule {unit.name}"
    elif rules:
        who = f"{unit.label} (used by {', '.join(rules)})"
    else:
        who = f"{unit.label} (not used by any rule yet)"
    return Diagnostic(
        "lint.protected-attribute", f"{who} reads the protected attribute '{attr.name}' "
        f"({fields}) in '{ctx.text(attr.span)}'", attr.span,
        "a decision about people must not depend on it unless the law and the handbook allow "
        f"it; if this use is justified, record why with meta {JUSTIFIED} \"...\" in each rule",
        "warning")
