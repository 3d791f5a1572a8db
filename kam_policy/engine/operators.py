"""Arithmetic operators: the result type of each operand pairing, and its exact implementation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from kam_policy.engine import exact, timeline
from kam_policy.engine.types import ANY, DATE, DATETIME, DURATION, NUMBER, TEXT, Type

Impl = Callable[[Any, Any], Any]


def _null_safe(func: Impl) -> Impl:
    def apply(a: Any, b: Any) -> Any:
        if a is None or b is None:
            return None
        return func(a, b)

    return apply


def _moment_minus_moment(a: dt.date, b: dt.date) -> int:
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        return exact.micros_between(a, b)
    if timeline.is_moment(a) and timeline.is_moment(b):  # one moves with now
        return exact.micros_between(a, b)  # type: ignore[arg-type]
    return exact.days_between(exact.as_date(a), exact.as_date(b))


def _moment_minus_duration(moment: Any, micros: Any) -> Any:
    return exact.add_duration(moment, exact.neg(micros))


def _concat(a: Any, b: Any) -> Any:
    return a + b


_TABLE: dict[tuple[str, str, str], tuple[Type, Impl]] = {
    ("+", "number", "number"): (NUMBER, exact.add),
    ("-", "number", "number"): (NUMBER, exact.sub),
    ("*", "number", "number"): (NUMBER, exact.mul),
    ("/", "number", "number"): (NUMBER, exact.div),
    ("+", "duration", "duration"): (DURATION, exact.add),
    ("-", "duration", "duration"): (DURATION, exact.sub),
    ("*", "duration", "number"): (DURATION, exact.mul),
    ("*", "number", "duration"): (DURATION, exact.mul),
    ("/", "duration", "number"): (DURATION, exact.div),
    ("/", "duration", "duration"): (NUMBER, exact.div),
    ("-", "datetime", "datetime"): (DURATION, _null_safe(_moment_minus_moment)),
    ("-", "datetime", "date"): (DURATION, _null_safe(_moment_minus_moment)),
    ("-", "date", "datetime"): (DURATION, _null_safe(_moment_minus_moment)),
    ("-", "date", "date"): (DURATION, _null_safe(_moment_minus_moment)),
    ("+", "datetime", "duration"): (DATETIME, exact.add_duration),
    ("-", "datetime", "duration"): (DATETIME, _moment_minus_duration),
    ("+", "date", "duration"): (DATE, exact.add_duration),
    ("-", "date", "duration"): (DATE, _moment_minus_duration),
    ("+", "duration", "datetime"): (DATETIME, lambda d, m: exact.add_duration(m, d)),
    ("+", "duration", "date"): (DATE, lambda d, m: exact.add_duration(m, d)),
    ("+", "text", "text"): (TEXT, _null_safe(_concat)),
    ("+", "list", "list"): (ANY, _null_safe(_concat)),
}

_HINTS = {
    frozenset({"duration", "number"}): "write the number as a duration (4h, 30d) or use days(n)",
    frozenset({"text", "number"}): "numbers are written without quotes",
}


def arithmetic(op: str, left: Type, right: Type) -> tuple[Type, Impl] | str:
    """The result type and implementation of ``left op right``, or an error message."""
    lk = "number" if left.kind == "null" and right.kind == "number" else left.kind
    rk = "number" if right.kind == "null" and left.kind == "number" else right.kind
    if "any" in (lk, rk) or (lk == "null" and rk == "null"):
        return ANY, lambda a, b: None
    if lk == "null":
        lk = rk
    if rk == "null":
        rk = lk
    found = _TABLE.get((op, lk, rk))
    if found is not None:
        if lk == "list":
            return (left if left.args[0].kind not in ("any", "null") else right), found[1]
        return found
    message = f"cannot compute {left} {op} {right}"
    hint = _HINTS.get(frozenset({lk, rk}))
    return f"{message} ({hint})" if hint else message
