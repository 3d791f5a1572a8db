"""Calls of defined functions and tables -> their results, remembered for one decision.

A ``define`` or table that reads no conclusion is a pure function of its arguments and of what
is fixed for one ``decide`` call (facts, parameters, ``now``). The bundled policy calls the same
ones from several rules (``escalation_target(response_late(c), ...)`` in three rules,
``unmet(app)`` in two, ``dimension_score(a, satisfaction)`` in a rule and in ``total_score``),
so each such call is evaluated once per decision and its result reused.

The memo lives in ``EvalContext.memo``, so it never outlives the decision. Its keys are the
function and its arguments by identity (exact texts by value): two arguments that are merely
equal (``1.0`` and ``1.00``) may show differently, so they are not taken for the same. Each entry
keeps its arguments alive, so no other object can take an identity over during the decision.
Identity keys also mean an argument is never hashed (some values refuse to be).

Nothing is remembered while a tracer listens: a tracer is told of every table match as it
happens, and replaying those events from a memo would be a second source of truth.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_MISSING = object()


def memoised(token: object, fn: Callable[..., Any], arity: int) -> Callable[..., Any]:
    """``fn(ctx, *args)`` remembered in ``ctx.memo`` under ``token`` and the arguments. Callers
    call it only when no tracer listens."""
    if arity == 1:
        def remembered_one(ctx: Any, only: Any) -> Any:
            key = (token, only if type(only) is str else id(only))
            memo = ctx.memo
            found = memo.get(key, _MISSING)
            if found is not _MISSING:
                return found[1]
            result = fn(ctx, only)
            memo[key] = ((only,), result)
            return result

        return remembered_one
    if arity == 2:
        def remembered_two(ctx: Any, first: Any, second: Any) -> Any:
            key = (token, first if type(first) is str else id(first),
                   second if type(second) is str else id(second))
            memo = ctx.memo
            found = memo.get(key, _MISSING)
            if found is not _MISSING:
                return found[1]
            result = fn(ctx, first, second)
            memo[key] = ((first, second), result)
            return result

        return remembered_two

    def remembered(ctx: Any, *args: Any) -> Any:
        key = (token, *[a if type(a) is str else id(a) for a in args])
        memo = ctx.memo
        found = memo.get(key, _MISSING)
        if found is not _MISSING:
            return found[1]
        result = fn(ctx, *args)
        memo[key] = (args, result)
        return result

    return remembered
