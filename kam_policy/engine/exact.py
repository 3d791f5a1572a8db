"""Exact run-time arithmetic: numbers are int, Decimal or Fraction; durations are microseconds.

``+ - *`` on decimals are exact; a division that does not terminate becomes a Fraction and
stays exact until a value is reported. Null (None) propagates through every operation.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Context, Decimal, Inexact, InvalidOperation, Rounded
from fractions import Fraction
from typing import Any

Number = int | Decimal | Fraction

# Explicit contexts (never the thread's current one): large enough that + - * on policy values
# are exact, and a division that needs more digits than this is kept as a Fraction.
_EXACT = Context(prec=200, traps=[InvalidOperation, Inexact, Rounded])
_DIVIDE = Context(prec=60, traps=[InvalidOperation, Inexact, Rounded])
_REPORT = Context(prec=200, rounding=ROUND_HALF_UP, traps=[InvalidOperation])

MICROS_PER_DAY = 86_400_000_000
_ONE_MICRO = dt.timedelta(microseconds=1)


def add(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    if type(a) is int and type(b) is int:
        return a + b
    try:
        if type(a) is Fraction or type(b) is Fraction:
            return Fraction(a) + Fraction(b)
        return _EXACT.add(a, b)
    except (Inexact, Rounded):  # beyond 200 digits: stay exact as a fraction
        return Fraction(a) + Fraction(b)
    except TypeError:
        return _timeline("add", a, b)


def sub(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    if type(a) is int and type(b) is int:
        return a - b
    try:
        if type(a) is Fraction or type(b) is Fraction:
            return Fraction(a) - Fraction(b)
        return _EXACT.subtract(a, b)
    except (Inexact, Rounded):  # beyond 200 digits: stay exact as a fraction
        return Fraction(a) - Fraction(b)
    except TypeError:
        return _timeline("sub", a, b)


def mul(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    if type(a) is int and type(b) is int:
        return a * b
    try:
        if type(a) is Fraction or type(b) is Fraction:
            return Fraction(a) * Fraction(b)
        return _EXACT.multiply(a, b)
    except (Inexact, Rounded):  # beyond 200 digits: stay exact as a fraction
        return Fraction(a) * Fraction(b)
    except TypeError:
        return _timeline("mul", a, b)


def div(a: Any, b: Any) -> Any:
    """Exact division; None when either side is None or the divisor is zero."""
    if a is None or b is None or b == 0:
        return None
    try:
        if type(a) is Fraction or type(b) is Fraction:
            return _simplify(Fraction(a) / Fraction(b))
        return _DIVIDE.divide(Decimal(a), Decimal(b))
    except (Inexact, Rounded):
        return _simplify(Fraction(a) / Fraction(b))
    except TypeError:
        return _timeline("div", a, b)


def _simplify(value: Fraction) -> Number:
    if value.denominator == 1:
        return value.numerator
    return value


def neg(a: Any) -> Any:
    if a is None:
        return None
    return a.copy_negate() if isinstance(a, Decimal) else -a


def absolute(a: Any) -> Any:
    if a is None:
        return None
    return a.copy_abs() if isinstance(a, Decimal) else abs(a)


def round_half_up(value: Number, places: int) -> Decimal:
    """Round an exact number half up (away from zero) to ``places`` decimals."""
    if not isinstance(value, int | Decimal | Fraction):
        _timeline("round", value)
    quantum = Decimal(1).scaleb(-places)
    if isinstance(value, Decimal) and len(value.as_tuple().digits) > 150:
        value = Fraction(value)
    if isinstance(value, Fraction):
        scaled = abs(value) * 10**places
        whole = int(scaled + Fraction(1, 2))
        result = Decimal(whole).scaleb(-places)
        return -result if value < 0 and whole else result
    rounded = _REPORT.quantize(Decimal(value), quantum)
    return rounded.copy_abs() if rounded.is_zero() else rounded  # never "-0.00"


def to_decimal_text(value: Number, places: int | None = None) -> str:
    """A number as reported: rounded to ``places`` if given, else exact (or 10 places)."""
    if places is not None:
        return str(round_half_up(value, places))
    if isinstance(value, Fraction):
        return str(round_half_up(value, 10).normalize())
    return str(value)


# ---- time ------------------------------------------------------------------------------------


def micros_between(later: dt.datetime, earlier: dt.datetime) -> int:
    try:
        return (later - earlier) // _ONE_MICRO
    except TypeError:
        return _timeline("micros_between", later, earlier)  # type: ignore[no-any-return]


def days_between(later: dt.date, earlier: dt.date) -> int:
    return (later - earlier).days * MICROS_PER_DAY


def as_date(value: dt.date | dt.datetime) -> Any:
    """A datetime counts as its calendar date in its own UTC offset."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return _timeline("as_date", value)


def add_duration(moment: Any, micros: Any) -> Any:
    """datetime/date + duration; a date moves by whole days (partial days are dropped)."""
    if moment is None or micros is None:
        return None
    try:
        whole = int(micros // 1)
        if isinstance(moment, dt.datetime):
            return moment + dt.timedelta(microseconds=whole)
        days = abs(whole) // MICROS_PER_DAY  # whole days only, the same both ways
        return moment + dt.timedelta(days=days if whole >= 0 else -days)
    except TypeError:
        return _timeline("add_duration", moment, micros)
    except OverflowError:
        raise ValueError(f"{moment} moved by {format_duration(micros)} falls outside "
                         "the calendar (years 1 to 9999)") from None


def format_duration(micros: Number) -> str:
    """``5h12m``, ``30d``, ``4h``, ``1.5s`` — the way limits are written in rule files."""
    sign = "-" if micros < 0 else ""
    rest = abs(Fraction(micros))
    parts = []
    for unit, size in (("d", MICROS_PER_DAY), ("h", 3_600_000_000), ("m", 60_000_000)):
        count = int(rest // size)
        if count:
            parts.append(f"{count}{unit}")
            rest -= count * size
    if rest:
        seconds = Decimal(rest.numerator) / Decimal(rest.denominator) / Decimal(1_000_000)
        parts.append(f"{seconds.normalize():f}s")
    return sign + ("".join(parts) or "0s")


def _timeline(operation: str, *operands: Any) -> Any:
    """Hand an operation on a value that moves with ``now`` to ``timeline`` (see there); any
    other operand the operation does not take is a type error, as before."""
    from kam_policy.engine import timeline

    if not timeline.moving(*operands):
        raise TypeError(f"unsupported operands for {operation}: "
                        + ", ".join(type(o).__name__ for o in operands))
    follow = getattr(timeline, operation, None)
    if follow is None:
        raise timeline.unsupported(f"{operation}()")
    return follow(*operands)
