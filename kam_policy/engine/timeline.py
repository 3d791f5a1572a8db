"""Following ``now`` through a decision: when will its outcome next change?

A decision is a pure function of (policy, facts, ``now``). With the facts fixed, it is a step
function of ``now``: it changes only where some comparison that depends on ``now`` changes its
answer (``now - c.opened_at > 4h`` first holds one microsecond after ``opened_at + 4h``) or where
``date(now)`` turns over at midnight. To find those instants the engine evaluates the policy
once with ``now`` bound to a ``Timed`` value: it behaves like the concrete time, but every value
computed from it carries its rate of change (its *slope*, per microsecond of ``now``), and every
comparison that involves it works out, exactly, the first later microsecond at which its answer
would flip, and tells the ``Probe``. The earliest such instant is when the decision must be
looked at again; nothing in between can change it.

Expressions over ``now`` in the language are affine (sums, differences, multiples), so the slopes
are exact. An operation the probe cannot follow (``now`` multiplied by ``now``, rounding a value
that moves) raises ``TimelineError``, reported at the rule, never a silent miss.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import Any

from kam_policy.engine import exact

Slope = int | Fraction


class TimelineError(Exception):
    """An operation on a value that moves with ``now`` that the probe cannot follow exactly."""


class Probe:
    """Collects, during one evaluation at ``now``, the offsets (µs) at which an answer flips."""

    __slots__ = ("now", "soonest")

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self.soonest: int | None = None

    def flips_in(self, micros: int) -> None:
        """Some answer differs ``micros`` (> 0) microseconds after ``now``."""
        if self.soonest is None or micros < self.soonest:
            self.soonest = micros

    def next_change(self) -> dt.datetime | None:
        """The earliest instant after ``now`` at which the decision may differ, if any."""
        if self.soonest is None:
            return None
        return self.now + dt.timedelta(microseconds=self.soonest)


class Timed:
    """A value at ``probe.now`` that changes by ``slope`` per microsecond of ``now``.

    A moment (datetime) or a quantity (a duration in microseconds, or a number). It is
    deliberately unhashable and has no arithmetic operators of its own: the exact arithmetic in
    ``exact`` hands it to this module, and anything else fails loudly.
    """

    __slots__ = ("probe", "slope", "value")
    __hash__ = None  # type: ignore[assignment]  # a moving value is never a dictionary key

    def __init__(self, value: Any, slope: Slope, probe: Probe) -> None:
        self.value = value
        self.slope = slope
        self.probe = probe

    def __repr__(self) -> str:
        return f"Timed({self.value!r}, slope={self.slope})"

    def __str__(self) -> str:
        return str(self.value)

    def __neg__(self) -> Any:
        return neg(self)

    def __abs__(self) -> Any:
        return absolute(self)

    def _compare(self, other: Any, op: Callable[[Any, Any], bool]) -> bool:
        if other is None:
            return op is operator.ne
        gap, rate = _difference(self, other)
        answer = op(gap, 0)
        if rate:
            _watch(self.probe, gap, rate, op, answer)
        return answer

    def __lt__(self, other: Any) -> bool:
        return self._compare(other, operator.lt)

    def __le__(self, other: Any) -> bool:
        return self._compare(other, operator.le)

    def __gt__(self, other: Any) -> bool:
        return self._compare(other, operator.gt)

    def __ge__(self, other: Any) -> bool:
        return self._compare(other, operator.ge)

    def __eq__(self, other: object) -> bool:
        return self._compare(other, operator.eq)

    def __ne__(self, other: object) -> bool:
        return self._compare(other, operator.ne)


def moving(*values: Any) -> bool:
    """Whether any of ``values`` moves with ``now``."""
    return any(type(v) is Timed for v in values)


def is_moment(value: Any) -> bool:
    return isinstance(value, dt.datetime) or (type(value) is Timed
                                              and isinstance(value.value, dt.datetime))


def _parts(value: Any) -> tuple[Any, Slope, Probe | None]:
    if type(value) is Timed:
        return value.value, value.slope, value.probe
    return value, 0, None


def _make(value: Any, slope: Slope, probe: Probe | None) -> Any:
    if not slope or probe is None or value is None:
        return value
    return Timed(value, slope, probe)


def _probe_of(*values: Any) -> Probe | None:
    for value in values:
        if type(value) is Timed:
            return value.probe
    return None


def _difference(left: Timed, right: Any) -> tuple[Any, Slope]:
    """``left - right`` now, and how fast that difference changes."""
    a, sa, _ = _parts(left)
    b, sb, _ = _parts(right)
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        return exact.micros_between(a, b), sa - sb
    if isinstance(a, dt.date) or isinstance(b, dt.date):
        raise TimelineError(f"cannot compare {a!r} with {b!r}")
    if isinstance(a, bool) or isinstance(b, bool) or isinstance(a, str) or isinstance(b, str):
        raise TimelineError(f"cannot compare {a!r} with {b!r}")
    return exact.sub(a, b), sa - sb


def _watch(probe: Probe, gap: Any, rate: Slope, op: Callable[[Any, Any], bool],
           answer: bool) -> None:
    """Tell ``probe`` the first microsecond at which ``op(gap + rate * t, 0)`` is not ``answer``.

    The sign of ``gap + rate * t`` changes only at its root ``r``, so on the microsecond grid the
    answer can first differ at ``ceil(r)`` (where the gap may be exactly zero) or at
    ``floor(r) + 1`` (just past it).
    """
    if type(gap) is int and type(rate) is int:  # the usual case: microseconds, slope ±1
        below, remainder = divmod(-gap, rate)  # floor(root), and whether root is whole
        candidates = (below, below + 1) if remainder == 0 else (below + 1,)
        for offset in candidates:
            if offset > 0 and op(gap + rate * offset, 0) != answer:
                probe.flips_in(offset)
                return
        return
    root = -Fraction(gap) / Fraction(rate)
    for offset in sorted({math.ceil(root), math.floor(root) + 1}):
        if offset > 0 and op(Fraction(gap) + Fraction(rate) * offset, 0) != answer:
            probe.flips_in(offset)
            return


# ---- the arithmetic of moving values (called by ``exact`` when an operand is Timed) ----------


def add(a: Any, b: Any) -> Any:
    (va, sa, pa), (vb, sb, pb) = _parts(a), _parts(b)
    return _make(exact.add(va, vb), sa + sb, pa or pb)


def sub(a: Any, b: Any) -> Any:
    (va, sa, pa), (vb, sb, pb) = _parts(a), _parts(b)
    return _make(exact.sub(va, vb), sa - sb, pa or pb)


def mul(a: Any, b: Any) -> Any:
    (va, sa, pa), (vb, sb, pb) = _parts(a), _parts(b)
    if sa and sb:
        raise TimelineError("cannot follow a product of two values that change with now")
    factor = vb if sa else va
    return _make(exact.mul(va, vb), _slope(exact.mul(sa or sb, factor)), pa or pb)


def div(a: Any, b: Any) -> Any:
    (va, sa, pa), (vb, sb, _) = _parts(a), _parts(b)
    if sb:
        raise TimelineError("cannot follow a division by a value that changes with now")
    if vb is None or vb == 0:
        return None
    return _make(exact.div(va, vb), _slope(exact.div(sa, vb)), pa)


def neg(a: Timed) -> Any:
    return _make(exact.neg(a.value), -a.slope, a.probe)


def absolute(a: Timed) -> Any:
    negative = a < 0  # records when the sign turns
    return neg(a) if negative else a


def micros_between(later: Any, earlier: Any) -> Any:
    (va, sa, pa), (vb, sb, pb) = _parts(later), _parts(earlier)
    return _make(exact.micros_between(va, vb), sa - sb, pa or pb)


def add_duration(moment: Any, micros: Any) -> Any:
    (vm, sm, pm), (vd, sd, pd) = _parts(moment), _parts(micros)
    if sd and not isinstance(vm, dt.datetime):
        raise TimelineError("cannot follow a date moved by a duration that changes with now")
    return _make(exact.add_duration(vm, vd), sm + sd, pm or pd)


def as_date(moment: Timed) -> dt.date:
    """The calendar date of a moving moment; the probe learns when it next turns over."""
    value, slope = moment.value, moment.slope
    if slope < 0:
        raise TimelineError("cannot follow the date of a moment that runs backwards")
    midnight = dt.datetime.combine(value.date() + dt.timedelta(days=1), dt.time(),
                                   tzinfo=value.tzinfo)
    moment.probe.flips_in(math.ceil(Fraction(exact.micros_between(midnight, value)) / slope))
    day: dt.date = value.date()
    return day


def unsupported(what: str) -> TimelineError:
    return TimelineError(f"cannot follow now through {what}")


def _slope(value: Any) -> Slope:
    if isinstance(value, Decimal):
        value = Fraction(value)
    if isinstance(value, Fraction) and value.denominator == 1:
        return value.numerator
    return value  # type: ignore[no-any-return]


def concrete(value: Any) -> Any:
    """The value at the probe's ``now`` (plain values pass through)."""
    return value.value if type(value) is Timed else value


__all__ = ["Probe", "Timed", "TimelineError", "concrete", "moving"]
