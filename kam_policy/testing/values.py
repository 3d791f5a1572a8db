"""YAML values -> the JSON shapes facts and conclusions use, and comparing expected values.

YAML reads ``2026-10-01`` as a date, ``2026-10-01T09:00:00+08:00`` as a datetime and ``85.5``
as a float, where a facts file (JSON) holds text and exact numbers. ``to_json_shape`` turns
them back into ISO text and ``Decimal`` (from the float's shortest text, which is what was
written for any number of up to 15 significant digits).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any


def to_json_shape(value: Any) -> Any:
    """``value`` (as ``yaml.safe_load`` built it) in the shape a JSON facts file would have."""
    if isinstance(value, Mapping):
        return {str(k): to_json_shape(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_shape(v) for v in value]
    if isinstance(value, dt.date):  # datetimes too: isoformat keeps the offset and microseconds
        return value.isoformat()
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def same_value(expected: Any, actual: Any) -> bool:
    """Whether a value written in a test matches a conclusion's value (its JSON form).

    Numbers compare by value whether written as numbers or text, so ``1.2`` matches the
    reported ``"1.20"`` and ``2026`` matches the period ``"2026"``; ``true`` matches only a
    boolean; lists and maps compare item by item.
    """
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(expected, list):
        return isinstance(actual, list | tuple) and len(expected) == len(actual) and all(
            same_value(e, a) for e, a in zip(expected, actual, strict=True))
    if isinstance(expected, Mapping):
        return isinstance(actual, Mapping) and set(expected) == set(actual) and all(
            same_value(expected[k], actual[k]) for k in expected)
    if expected == actual:
        return True
    left, right = _number(expected), _number(actual)
    return left is not None and right is not None and left == right \
        and (_is_number(expected) or _is_number(actual))


def values_match(expected: Mapping[str, Any] | None, actual: Mapping[str, Any]) -> bool:
    """Whether every value in ``expected`` (None: no values given) matches ``actual``."""
    if expected is None:
        return True
    return all(key in actual and same_value(value, actual[key]) for key, value in expected.items())


def differences(expected: Mapping[str, Any] | None, actual: Mapping[str, Any]) -> list[str]:
    """The keys of ``expected`` whose values ``actual`` does not match, for messages."""
    if expected is None:
        return []
    return [key for key, value in expected.items()
            if key not in actual or not same_value(value, actual[key])]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def _number(value: Any) -> Decimal | None:
    if _is_number(value):
        return Decimal(value)
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None
