"""The builtin functions a rule may call: their types and exact, null-safe implementations."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kam_policy.engine import exact
from kam_policy.engine.types import BOOL, DATE, DURATION, NUMBER, TEXT, Type

Signature = Callable[[Sequence[Type]], "Type | str"]


@dataclass(frozen=True)
class Builtin:
    """A builtin: how many arguments, how its result type follows, what it does."""

    name: str
    arity: int
    signature: Signature
    impl: Callable[..., Any]
    doc: str


def _expect(*kinds: str, result: Type | None = None) -> Signature:
    """A signature taking one argument per kind ('number', 'date|datetime', 'any')."""

    def check(args: Sequence[Type]) -> Type | str:
        for position, (arg, allowed) in enumerate(zip(args, kinds, strict=True), start=1):
            ok = arg.kind in ("any", "null") or allowed == "any" or arg.kind in allowed.split("|")
            if not ok:
                return f"argument {position} must be {allowed.replace('|', ' or ')}, not {arg}"
        return result if result is not None else args[0]

    return check


def _null_safe(func: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        for arg in args:  # a plain loop: cheaper than any() over a generator
            if arg is None:
                return None
        return func(*args)

    return call


def _period_parts(period: str) -> tuple[int, int | None]:
    if len(period) == 7 and period[4] == "-":
        return int(period[:4]), int(period[5:])
    return int(period), None


def period_year(period: str) -> int:
    return _period_parts(period)[0]


def period_end(period: str) -> dt.date:
    year, month = _period_parts(period)
    if month is None:
        return dt.date(year, 12, 31)
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def previous_period(period: str) -> str:
    year, month = _period_parts(period)
    if month is None:
        return f"{year - 1:04d}"
    if month == 1:
        return f"{year - 1:04d}-12"
    return f"{year:04d}-{month - 1:02d}"


def weighted_average(values: Mapping[str, Any], weights: Mapping[str, Any]) -> Any:
    """sum(weight[k] * value[k]) / sum(weight[k]) over the keys present in ``values``."""
    pairs = []
    for key, value in values.items():
        weight = weights.get(key)
        if value is not None and weight is not None:
            pairs.append((weight, value))
    return exact.weighted_mean(pairs)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _year(value: dt.date) -> int:
    return value.year


def _month(value: dt.date) -> int:
    return value.month


def _least(a: Any, b: Any) -> Any:
    return a if a <= b else b


def _greatest(a: Any, b: Any) -> Any:
    return a if a >= b else b


def _length(value: Any) -> int:
    return len(value)


def _same_type(args: Sequence[Type]) -> Type | str:
    known = [a for a in args if a.kind not in ("any", "null")]
    if len({a.kind for a in known}) > 1:
        return f"both arguments must have the same type, not {known[0]} and {known[1]}"
    return known[0] if known else args[0]


def _map_numbers(args: Sequence[Type]) -> Type | str:
    for position, arg in enumerate(args, start=1):
        if arg.kind not in ("map", "any"):
            return f"argument {position} must be a map of numbers, not {arg}"
    return NUMBER


def _length_sig(args: Sequence[Type]) -> Type | str:
    if args[0].kind not in ("list", "text", "map", "any", "null"):
        return f"argument 1 must be a list or a text, not {args[0]}"
    return NUMBER


BUILTINS: dict[str, Builtin] = {
    b.name: b
    for b in (
        Builtin("round", 2, _expect("number", "number"),
                _null_safe(lambda x, places: exact.round_half_up(x, int(places))),
                "round(x, places): half up, exact"),
        Builtin("abs", 1, _expect("number|duration"), exact.absolute, "abs(x)"),
        Builtin("least", 2, _same_type, _null_safe(_least), "least(a, b): the smaller"),
        Builtin("greatest", 2, _same_type, _null_safe(_greatest), "greatest(a, b): the larger"),
        Builtin("lower", 1, _expect("text"), _null_safe(str.lower), "lower(text)"),
        Builtin("upper", 1, _expect("text"), _null_safe(str.upper), "upper(text)"),
        Builtin("trim", 1, _expect("text"), _null_safe(str.strip), "trim(text): no outer spaces"),
        Builtin("len", 1, _length_sig, _null_safe(_length), "len(list or text)"),
        Builtin("text", 1, _expect("any", result=TEXT), _null_safe(_text), "text(x)"),
        Builtin("date", 1, _expect("date|datetime", result=DATE), _null_safe(exact.as_date),
                "date(datetime): its calendar date in its own UTC offset"),
        Builtin("year", 1, _expect("date|datetime", result=NUMBER),
                _null_safe(_year), "year(date or datetime), in its own offset"),
        Builtin("month", 1, _expect("date|datetime", result=NUMBER),
                _null_safe(_month), "month(date or datetime), 1-12"),
        Builtin("period_year", 1, _expect("text", result=NUMBER), _null_safe(period_year),
                'period_year("2026-10") == 2026'),
        Builtin("period_end", 1, _expect("text", result=DATE), _null_safe(period_end),
                'period_end("2026-02") == the date 2026-02-28'),
        Builtin("previous_period", 1, _expect("text", result=TEXT), _null_safe(previous_period),
                'previous_period("2026-01") == "2025-12"'),
        Builtin("days", 1, _expect("number", result=DURATION),
                _null_safe(lambda n: exact.mul(n, exact.MICROS_PER_DAY)), "days(n): a duration"),
        Builtin("hours", 1, _expect("number", result=DURATION),
                _null_safe(lambda n: exact.mul(n, 3_600_000_000)), "hours(n): a duration"),
        Builtin("in_days", 1, _expect("duration", result=NUMBER),
                _null_safe(lambda d: exact.div(d, exact.MICROS_PER_DAY)),
                "in_days(duration): a number of days, exact"),
        Builtin("weighted_average", 2, _map_numbers, _null_safe(weighted_average),
                "weighted_average(values, weights): over the keys present in values"),
        Builtin("is_weekend", 1, _expect("date|datetime", result=BOOL),
                _null_safe(lambda d: exact.as_date(d).weekday() >= 5), "is_weekend(date)"),
    )
}
