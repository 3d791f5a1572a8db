"""Exact run-time arithmetic: numbers are int, Decimal or Fraction; durations are microseconds.

``+ - *`` on decimals are exact; a division that does not terminate becomes a Fraction and
stays exact until a value is reported. Null (None) propagates through every operation.

Each operation first tries the common exact types (int, Decimal, Fraction) by their exact
``type``; anything else (None, bool, a value that moves with ``now``) takes the general path,
which hands what it cannot compute to ``timeline`` through ``except TypeError``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import (
    MAX_EMAX,
    MAX_PREC,
    MIN_EMIN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    Rounded,
)
from fractions import Fraction
from typing import Any

Number = int | Decimal | Fraction

# Explicit contexts (never the thread's current one): large enough that + - * on policy values
# are exact, and a division that needs more digits than this is kept as a Fraction. Inexact and
# Rounded are trapped, so no operation ever rounds silently: it raises, and falls back to Fraction.
_EXACT = Context(prec=200, traps=[InvalidOperation, Inexact, Rounded])
_DIVIDE = Context(prec=60, traps=[InvalidOperation, Inexact, Rounded])
_REPORT = Context(prec=200, rounding=ROUND_HALF_UP, traps=[InvalidOperation])
# For building a reported decimal from a whole number of units: room for any coefficient.
_UNLIMITED = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN,
                     traps=[InvalidOperation, Inexact, Rounded])
# Showing a fraction of a second: the default context's 28 digits, whatever the thread's is.
_SHOW = Context(prec=28, rounding=ROUND_HALF_EVEN, Emin=-999_999, Emax=999_999,
                traps=[InvalidOperation, DivisionByZero, Overflow])
_SPILL = (Inexact, Rounded)

_add, _subtract, _multiply, _divide = _EXACT.add, _EXACT.subtract, _EXACT.multiply, _DIVIDE.divide

MICROS_PER_DAY = 86_400_000_000
_ONE_MICRO = dt.timedelta(microseconds=1)


def add(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        return a + b
    if (ta is Decimal or ta is int) and (tb is Decimal or tb is int):
        try:
            return _add(a, b)
        except _SPILL:  # beyond 200 digits: stay exact as a fraction
            return Fraction(a) + Fraction(b)
    if ta is Fraction:
        if tb is Fraction or tb is int:
            return a + b
        if tb is Decimal:
            return a + Fraction(b)
    elif tb is Fraction:
        if ta is int:
            return a + b
        if ta is Decimal:
            return Fraction(a) + b
    return _general("add", a, b)


def sub(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        return a - b
    if (ta is Decimal or ta is int) and (tb is Decimal or tb is int):
        try:
            return _subtract(a, b)
        except _SPILL:
            return Fraction(a) - Fraction(b)
    if ta is Fraction:
        if tb is Fraction or tb is int:
            return a - b
        if tb is Decimal:
            return a - Fraction(b)
    elif tb is Fraction:
        if ta is int:
            return a - b
        if ta is Decimal:
            return Fraction(a) - b
    return _general("sub", a, b)


def mul(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        return a * b
    if (ta is Decimal or ta is int) and (tb is Decimal or tb is int):
        try:
            return _multiply(a, b)
        except _SPILL:
            return Fraction(a) * Fraction(b)
    if ta is Fraction:
        if tb is Fraction or tb is int:
            return a * b
        if tb is Decimal:
            return a * Fraction(b)
    elif tb is Fraction:
        if ta is int:
            return a * b
        if ta is Decimal:
            return Fraction(a) * b
    return _general("mul", a, b)


_FRACTION_OPS = {"add": Fraction.__add__, "sub": Fraction.__sub__, "mul": Fraction.__mul__}
_DECIMAL_OPS = {"add": _add, "sub": _subtract, "mul": _multiply}


def _general(operation: str, a: Any, b: Any) -> Any:
    """``add``/``sub``/``mul`` of anything but two exact numbers of the fast paths' types."""
    if a is None or b is None:
        return None
    try:
        if type(a) is Fraction or type(b) is Fraction:
            return _FRACTION_OPS[operation](Fraction(a), Fraction(b))
        return _DECIMAL_OPS[operation](a, b)
    except _SPILL:  # beyond 200 digits: stay exact as a fraction
        return _FRACTION_OPS[operation](Fraction(a), Fraction(b))
    except TypeError:
        return _timeline(operation, a, b)


def div(a: Any, b: Any) -> Any:
    """Exact division; None when either side is None or the divisor is zero.

    A Decimal quotient when both sides are decimal (or int) and it terminates within 60 digits,
    else the exact Fraction (an int when it is whole).
    """
    ta, tb = type(a), type(b)
    if (ta is Decimal or ta is int) and (tb is Decimal or tb is int):
        if not b:
            return None
        try:
            return _divide(a, b)
        except _SPILL:
            return _quotient(a, b)
    if (ta is Fraction or ta is int) and (tb is Fraction or tb is int):  # one is a Fraction
        return _simplify(a / b) if b else None
    if a is None or b is None or b == 0:
        return None
    try:
        if ta is Fraction or tb is Fraction:
            return _simplify(Fraction(a) / Fraction(b))
        return _divide(Decimal(a), Decimal(b))
    except _SPILL:
        return _simplify(Fraction(a) / Fraction(b))
    except TypeError:
        return _timeline("div", a, b)


def _quotient(a: int | Decimal, b: int | Decimal) -> Number:
    """``a / b`` (``b`` not zero) as an exact Fraction, or an int when it is whole."""
    na, da = a.as_integer_ratio()
    nb, db = b.as_integer_ratio()
    return _simplify(Fraction(na * db, da * nb))


def _simplify(value: Fraction) -> Number:
    if value.denominator == 1:
        return value.numerator
    return value


_RATIONAL = frozenset({int, Decimal, Fraction})


def weighted_mean(pairs: Sequence[tuple[Any, Any]]) -> Any:
    """``sum(w * v) / sum(w)`` over (weight, value) pairs, None when the weights sum to zero.

    The same value, type and digits as adding up ``mul(w, v)`` and ``w`` step by step and
    dividing once with ``div``: decimals are summed in the exact context (a Decimal when the
    quotient terminates); when a Fraction is involved, the sums are kept as integer numerators
    and denominators and reduced once, at the end, instead of building a Fraction per step.
    """
    decimal = True  # every weight and value is an int or a Decimal
    for weight, value in pairs:
        tw, tv = type(weight), type(value)
        if not ((tw is Decimal or tw is int) and (tv is Decimal or tv is int)):
            if tw not in _RATIONAL or tv not in _RATIONAL:
                return _weighted_mean_stepwise(pairs)
            decimal = False
    if decimal:
        total: Any = 0
        weight_sum: Any = 0
        try:
            for weight, value in pairs:
                total = _add(total, _multiply(weight, value))
                weight_sum = _add(weight_sum, weight)
        except _SPILL:  # beyond 200 digits (add and mul keep whole numbers as int)
            return _weighted_mean_stepwise(pairs)
        return div(total, weight_sum)
    top, bottom, weight_top, weight_bottom = 0, 1, 0, 1  # the two sums, as integer ratios
    for weight, value in pairs:
        wn, wd = weight.as_integer_ratio()
        vn, vd = value.as_integer_ratio()
        top, bottom = top * wd * vd + wn * vn * bottom, bottom * wd * vd
        weight_top, weight_bottom = weight_top * wd + wn * weight_bottom, weight_bottom * wd
    if not weight_top:
        return None
    return _simplify(Fraction(top * weight_bottom, bottom * weight_top))



def _weighted_mean_stepwise(pairs: Sequence[tuple[Any, Any]]) -> Any:
    """``weighted_mean`` step by step through the general operations (moving values, overflow)."""
    total: Any = 0
    weight_sum: Any = 0
    for weight, value in pairs:
        total = add(total, mul(weight, value))
        weight_sum = add(weight_sum, weight)
    return div(total, weight_sum)


def neg(a: Any) -> Any:
    if a is None:
        return None
    return a.copy_negate() if isinstance(a, Decimal) else -a


def absolute(a: Any) -> Any:
    if a is None:
        return None
    return a.copy_abs() if isinstance(a, Decimal) else abs(a)


_QUANTA = {places: Decimal(f"1E{-places}") for places in range(-20, 41)}


def round_half_up(value: Number, places: int) -> Decimal:
    """Round an exact number half up (away from zero) to ``places`` decimals, exactly: the
    result has exponent ``-places`` whatever its size (``round(5, 2)`` is ``5.00``)."""
    if type(value) is not Decimal and type(value) is not Fraction:
        if not isinstance(value, int | Decimal | Fraction):
            _timeline("round", value)  # raises: rounding cannot follow a moving value
        if isinstance(value, int):
            value = Decimal(value)
    if isinstance(value, Decimal) and value.adjusted() + places < 190:  # fits _REPORT's digits
        quantum = _QUANTA.get(places) or Decimal(f"1E{-places}")
        rounded = _REPORT.quantize(value, quantum)
        return rounded.copy_abs() if rounded.is_zero() else rounded  # never "-0.00"
    numerator, denominator = value.as_integer_ratio()
    if places >= 0:
        numerator *= 10**places
    else:
        denominator *= 10**-places
    whole = (2 * abs(numerator) + denominator) // (2 * denominator)  # floor(|x| + 1/2)
    return Decimal(-whole if numerator < 0 else whole).scaleb(-places, _UNLIMITED)


def to_decimal_text(value: Number, places: int | None = None) -> str:
    """A number as reported: rounded to ``places`` if given, else exact (or 10 places)."""
    if places is not None:
        return str(round_half_up(value, places))
    if isinstance(value, Fraction):
        return str(round_half_up(value, 10).normalize(_UNLIMITED))
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
        seconds = _SHOW.divide(_SHOW.divide(rest.numerator, rest.denominator), 1_000_000)
        parts.append(f"{seconds.normalize(_SHOW):f}s")
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
