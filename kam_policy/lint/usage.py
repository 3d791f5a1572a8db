"""Declarations -> the ones nothing uses: parameters, defines and tables no rule reaches, and
conclusions nothing emits."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kam_policy.engine.business import CALENDAR_PARAM
from kam_policy.errors import Diagnostic
from kam_policy.lint.context import LintContext
from kam_policy.lint.fold import show_value
from kam_policy.lint.index import PolicyIndex

_WORKING_TIME = re.compile(r"\d\s*business_(hours?|days?)\b")


@dataclass(frozen=True)
class ParamUse:
    """Who uses a parameter: the rules (directly or through what they call), and the defines
    and tables that name it themselves."""

    name: str
    rules: tuple[str, ...]
    functions: tuple[str, ...]


def param_uses(index: PolicyIndex) -> dict[str, ParamUse]:
    """Every declared parameter and its users, rules in source order."""
    result = {}
    for name in index.decls.params:
        direct = {unit.label: unit for unit, _ in index.name_uses(name)}
        functions = {u.name for u in direct.values() if u.kind != "rule"}
        rules = [rule.name for rule in index.rules
                 if f"rule '{rule.name}'" in direct or functions & index.callees(rule)]
        result[name] = ParamUse(name, tuple(rules), tuple(sorted(functions)))
    return result


def check_usage(ctx: LintContext) -> list[Diagnostic]:
    """Unused parameters, defines and tables, and conclusions that are never emitted."""
    return [*_params(ctx), *_functions(ctx), *_conclusions(ctx)]


def _params(ctx: LintContext) -> list[Diagnostic]:
    found = []
    for name, use in param_uses(ctx.index).items():
        if use.rules or (name == CALENDAR_PARAM and _counts_working_time(ctx)):
            continue
        param = ctx.policy.declarations.params[name]
        value = ctx.policy.params[name]
        where = f"parameter '{name}' (= {show_value(value.value, value.type)})"
        if use.functions:
            message = f"{where} is used only by {_callers(ctx, use.functions)}, which no rule calls"
        else:
            message = f"{where} is never used"
        found.append(Diagnostic("lint.unused-param", message, param.span,
                                "remove it, or use it in the rule it was meant for", "warning"))
    return found


def _counts_working_time(ctx: LintContext) -> bool:
    """Whether the policy writes working time (``4 business_hours``), which reads the calendar
    parameter without naming it."""
    return any(_WORKING_TIME.search(text) for text in ctx.policy.sources.values())


def _callers(ctx: LintContext, names: tuple[str, ...] | list[str]) -> str:
    return ", ".join(ctx.index.functions[n].label for n in names)


def _functions(ctx: LintContext) -> list[Diagnostic]:
    reached = set().union(*(ctx.index.callees(rule) for rule in ctx.index.rules))
    found = []
    for name, unit in ctx.index.functions.items():
        if name in reached:
            continue
        callers = sorted(other.name for other in ctx.index.functions.values()
                         if name in other.calls and other.name != name)
        message = f"{unit.label} is never called by a rule"
        if callers:
            message += f" (only by {_callers(ctx, callers)}, which no rule calls either)"
        found.append(Diagnostic(f"lint.unused-{unit.kind}", message, unit.node.span,
                                "remove it, or call it from the rule it was written for",
                                "warning"))
    return found


def _conclusions(ctx: LintContext) -> list[Diagnostic]:
    decls = ctx.policy.declarations
    emitted = {emit.name for rule in decls.rules for emit in rule.emits}
    found = []
    for name, decl in decls.conclusions.items():
        if name in emitted:
            continue
        readers = [rule.id for rule in ctx.policy.rules if name in rule.reads]
        if readers:
            found.append(Diagnostic(
                "lint.never-emitted", f"conclusion '{name}' is never emitted, so reading it "
                f"always finds none, in {_plural('rule', readers)} {', '.join(readers)}",
                decl.span, f"add a rule that emits {name}(...), or stop reading it", "warning"))
        else:
            found.append(Diagnostic(
                "lint.unused-conclusion", f"conclusion '{name}' is declared, but no rule emits "
                "or reads it", decl.span, "remove it, or write the rule that emits it",
                "warning"))
    return found


def _plural(word: str, items: list[str]) -> str:
    return word if len(items) == 1 else f"{word}s"
