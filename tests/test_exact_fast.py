"""The fast paths of exact arithmetic against a straightforward reference.

The reference computes every value with Fraction and spells out the decimal rules the engine
relies on: ``+ - *`` of ints stay ints; with a Fraction the result is a Fraction; otherwise a
Decimal whose exponent is the operation's ideal exponent (the smaller for ``+ -``, the sum for
``*``), or a Fraction when its coefficient needs more than 200 digits. A division is a Decimal
when both sides are decimal and the quotient terminates within 60 digits, else an exact
Fraction (an int when whole); it is null when the divisor is zero. Results are compared by
type and by ``repr``, so ``1.50`` and ``1.5`` are different answers.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from kam_policy.engine import builtins, exact, timeline

EXACT_SETTINGS = settings(max_examples=400, deadline=None)

Number = int | Decimal | Fraction


# ---- strategies ----------------------------------------------------------------------------


def _decimal(coefficient: int, exponent: int, negative_zero: bool) -> Decimal:
    sign = 1 if coefficient < 0 or (coefficient == 0 and negative_zero) else 0
    return Decimal((sign, tuple(int(c) for c in str(abs(coefficient))), exponent))


coefficients = st.one_of(
    st.integers(-10**6, 10**6),
    st.integers(-10**30, 10**30),
    st.integers(-10**210, 10**210),  # around the exact context's 200 digits
    st.sampled_from([0, 1, -1, 5, -5, 10**199, 10**200 - 1, 10**200, -(10**201)]),
)
ints = st.one_of(st.integers(-10**6, 10**6), st.integers(-10**220, 10**220))
decimals = st.builds(_decimal, coefficients, st.integers(-40, 40), st.booleans())
fractions = st.builds(Fraction, st.integers(-10**40, 10**40),
                      st.one_of(st.integers(1, 10**6), st.sampled_from([3, 7, 9, 700, 10**12])))
numbers: st.SearchStrategy[Number] = st.one_of(ints, decimals, fractions)
policy_decimals = st.builds(_decimal, st.integers(-10**6, 10**6), st.integers(-4, 1),
                            st.booleans())
policy_numbers: st.SearchStrategy[Number] = st.one_of(
    st.integers(-1000, 1000), policy_decimals,
    st.builds(Fraction, st.integers(-10**6, 10**6), st.sampled_from([3, 7, 21, 700])))


# ---- the reference -------------------------------------------------------------------------


def _exponent(value: int | Decimal) -> int:
    return 0 if isinstance(value, int) else int(value.as_tuple().exponent)


def _negative_zero(value: int | Decimal) -> bool:
    return isinstance(value, Decimal) and value.is_zero() and value.is_signed()


def _decimal_at(value: Fraction, exponent: int, negative_zero: bool) -> Decimal | None:
    """``value`` written with ``exponent``, or None if its coefficient needs over 200 digits."""
    coefficient = value / Fraction(10) ** exponent
    assert coefficient.denominator == 1
    if len(str(abs(coefficient.numerator))) > 200:
        return None
    return _decimal(coefficient.numerator, exponent, negative_zero)


def reference(op: str, a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    exact_value = {"add": Fraction(a) + Fraction(b), "sub": Fraction(a) - Fraction(b),
                   "mul": Fraction(a) * Fraction(b)}[op]
    if type(a) is int and type(b) is int:
        return int(exact_value)
    if isinstance(a, Fraction) or isinstance(b, Fraction):
        return exact_value
    if op == "mul":
        exponent = _exponent(a) + _exponent(b)
        negative_zero = (Fraction(a) < 0 or _negative_zero(a)) != (
            Fraction(b) < 0 or _negative_zero(b))
    else:
        exponent = min(_exponent(a), _exponent(b))
        b_negative_zero = _negative_zero(b) if op == "add" else (
            isinstance(b, Decimal) and b.is_zero() and not b.is_signed())
        negative_zero = _negative_zero(a) and b_negative_zero
    written = _decimal_at(exact_value, exponent, negative_zero)
    return exact_value if written is None else written


def _largest_exponent(value: Fraction, ideal: int) -> int | None:
    """The largest exponent, at most ``ideal``, that writes ``value`` exactly; None if its
    decimal expansion does not terminate."""
    numerator, denominator = value.numerator, value.denominator
    twos = fives = 0
    while denominator % 2 == 0:
        denominator, twos = denominator // 2, twos + 1
    while denominator % 5 == 0:
        denominator, fives = denominator // 5, fives + 1
    if denominator != 1:
        return None
    if twos or fives:
        return min(ideal, -max(twos, fives))
    exponent = 0
    while numerator and numerator % 10 == 0 and exponent < ideal:
        numerator, exponent = numerator // 10, exponent + 1
    return min(ideal, exponent) if numerator else ideal


def reference_div(a: Any, b: Any) -> Any:
    if a is None or b is None or b == 0:
        return None
    value = Fraction(a) / Fraction(b)
    if isinstance(a, Fraction) or isinstance(b, Fraction):
        return value.numerator if value.denominator == 1 else value
    # A Decimal when it terminates: the ideal exponent, or as few places below it as needed.
    exponent = _largest_exponent(value, _exponent(a) - _exponent(b))
    if exponent is not None:
        coefficient = value / Fraction(10) ** exponent
        if len(str(abs(coefficient.numerator))) <= 60:
            negative_zero = value == 0 and (Fraction(a) < 0 or _negative_zero(a)) != (
                Fraction(b) < 0 or _negative_zero(b))
            return _decimal(coefficient.numerator, exponent, negative_zero)
    return value.numerator if value.denominator == 1 else value


def reference_round(value: Number, places: int) -> Decimal:
    scaled = Fraction(value) * Fraction(10) ** places
    whole = math.floor(abs(scaled) + Fraction(1, 2))
    return _decimal(-whole if scaled < 0 else whole, -places, False)


def same(got: Any, want: Any) -> None:
    """The same type and the same written form (hence the same value)."""
    assert type(got) is type(want), (got, want)
    assert repr(got) == repr(want), (got, want)


OPS: dict[str, Callable[[Any, Any], Any]] = {"add": exact.add, "sub": exact.sub,
                                              "mul": exact.mul}


# ---- + - * / -----------------------------------------------------------------------------


@pytest.mark.parametrize("op", OPS)
@EXACT_SETTINGS
@given(a=numbers, b=numbers)
@example(a=Decimal("0.5"), b=Decimal("85.0"))
@example(a=0, b=Decimal("-0.00"))
@example(a=Decimal("-0"), b=Decimal("-0.0"))
@example(a=Decimal("1E+5"), b=0)
@example(a=10**200, b=Decimal("0.1"))
@example(a=Fraction(1, 3), b=Decimal("2.5"))
@example(a=Decimal("2.5"), b=Fraction(2, 3))
@example(a=Fraction(1, 3), b=Fraction(2, 3))
def test_add_sub_mul_match_the_reference(op: str, a: Number, b: Number) -> None:
    same(OPS[op](a, b), reference(op, a, b))


@EXACT_SETTINGS
@given(a=numbers, b=numbers)
@example(a=Decimal("59.5"), b=Decimal("0.7"))
@example(a=Decimal("59.1"), b=Decimal("0.7"))
@example(a=Decimal("1.00"), b=4)
@example(a=100, b=Decimal("1E+2"))
@example(a=10**70, b=1)
@example(a=Decimal("-0.00"), b=Decimal("3"))
@example(a=Fraction(3, 7), b=Fraction(3, 7))
@example(a=7, b=Decimal("0.00"))
@example(a=Fraction(1, 3), b=Fraction(0))
def test_div_matches_the_reference(a: Number, b: Number) -> None:
    same(exact.div(a, b), reference_div(a, b))


@pytest.mark.parametrize("zero", [0, Decimal(0), Decimal("-0.00"), Fraction(0)])
@pytest.mark.parametrize("a", [None, 0, 5, Decimal("2.5"), Fraction(1, 3)])
def test_division_by_zero_and_null_are_null(a: Any, zero: Any) -> None:
    assert exact.div(a, zero) is None
    assert exact.div(zero if a is None else a, None) is None


@pytest.mark.parametrize("op", [exact.add, exact.sub, exact.mul, exact.div])
@pytest.mark.parametrize("other", [0, 5, Decimal("2.5"), Fraction(1, 3), None])
def test_null_propagates(op: Callable[[Any, Any], Any], other: Any) -> None:
    assert op(None, other) is None
    assert op(other, None) is None


@EXACT_SETTINGS
@given(a=policy_numbers, b=policy_numbers, prec=st.integers(1, 5))
def test_the_threads_decimal_context_does_not_matter(a: Number, b: Number, prec: int) -> None:
    want = [reference(op, a, b) for op in OPS] + [reference_div(a, b)]
    with decimal.localcontext() as context:
        context.prec = prec
        context.rounding = decimal.ROUND_FLOOR
        context.traps[decimal.Inexact] = True
        got = [OPS[op](a, b) for op in OPS] + [exact.div(a, b)]
        rounded = [exact.round_half_up(a, places) for places in (0, 2, 10)]
        shown = exact.to_decimal_text(a)
    for g, w in zip(got, want, strict=True):
        same(g, w)
    for places, r in zip((0, 2, 10), rounded, strict=True):
        same(r, reference_round(a, places))
    assert shown == exact.to_decimal_text(a)


# ---- rounding and reporting ----------------------------------------------------------------


@EXACT_SETTINGS
@given(value=numbers, places=st.integers(-5, 12))
@example(value=Decimal("2.675"), places=2)
@example(value=Decimal("-2.5"), places=0)
@example(value=Decimal("-0.004"), places=2)
@example(value=Fraction(-1, 300), places=2)
@example(value=Fraction(10**40, 3), places=2)  # more digits than the thread's context holds
@example(value=10**250, places=2)
@example(value=Decimal("1E+250"), places=2)
@example(value=5, places=2)
@example(value=Fraction(25), places=-1)
def test_round_half_up_matches_the_reference(value: Number, places: int) -> None:
    same(exact.round_half_up(value, places), reference_round(value, places))


@EXACT_SETTINGS
@given(value=numbers)
@example(value=Fraction(2, 3))
@example(value=Fraction(10**30, 3))
@example(value=Fraction(100))
def test_a_fraction_is_shown_to_ten_places_without_trailing_zeros(value: Number) -> None:
    text = exact.to_decimal_text(value)
    if not isinstance(value, Fraction):
        assert text == str(value)
        return
    want = reference_round(value, 10)
    assert Decimal(text) == want
    assert text == str(want.normalize(decimal.Context(prec=decimal.MAX_PREC)))


@pytest.mark.parametrize(("value", "places", "text"), [
    (Fraction(2, 3), 2, "0.67"), (Decimal("2.675"), 2, "2.68"), (5, 2, "5.00"),
    (Decimal("-0.001"), 2, "0.00"), (Fraction(-1, 3), 0, "0"), (Decimal("1.5"), 0, "2"),
    (Fraction(2, 3), None, "0.6666666667"), (Decimal("1.50"), None, "1.50"), (7, None, "7"),
])
def test_reported_text(value: Number, places: int | None, text: str) -> None:
    assert exact.to_decimal_text(value, places) == text


# ---- weighted_average ----------------------------------------------------------------------


def stepwise_weighted_average(values: dict[str, Any], weights: dict[str, Any]) -> Any:
    """The definition: add up ``weight * value`` and ``weight`` one key at a time, divide."""
    total: Any = 0
    weight_sum: Any = 0
    for key, value in values.items():
        weight = weights.get(key)
        if value is None or weight is None:
            continue
        total = reference("add", total, reference("mul", weight, value))
        weight_sum = reference("add", weight_sum, weight)
    return reference_div(total, weight_sum)


KEYS = ["supervisor", "peer", "client", "other"]
maybe = st.one_of(st.none(), policy_numbers, numbers)
value_maps = st.dictionaries(st.sampled_from(KEYS), maybe, max_size=4)
weight_maps = st.one_of(
    st.just({"supervisor": Decimal("0.5"), "peer": Decimal("0.2"), "client": Decimal("0.3")}),
    st.dictionaries(st.sampled_from(KEYS), st.one_of(maybe, st.sampled_from([0, Decimal("0.0")])),
                    max_size=4))


@EXACT_SETTINGS
@given(values=value_maps, weights=weight_maps)
@example(values={"supervisor": Decimal(85), "peer": Decimal(85)},
         weights={"supervisor": Decimal("0.5"), "peer": Decimal("0.2")})
@example(values={"supervisor": Decimal("85.5"), "peer": Decimal("90.5")},
         weights={"supervisor": Decimal("0.5"), "peer": Decimal("0.2")})
@example(values={"a": Fraction(1, 3), "b": Decimal("2.5")}, weights={"a": 3, "b": 2})
@example(values={"a": Fraction(1, 3)}, weights={"a": 0})
@example(values={"a": 10**150, "b": Decimal(1)}, weights={"a": 10**150, "b": 0})
@example(values={"a": Decimal(3)}, weights={"a": Decimal("-0.0")})
@example(values={}, weights={})
def test_weighted_average_matches_the_stepwise_definition(values: dict[str, Any],
                                                          weights: dict[str, Any]) -> None:
    got = builtins.weighted_average(values, weights)
    same(got, stepwise_weighted_average(values, weights))
    pairs = [(weights[k], v) for k, v in values.items()
             if v is not None and weights.get(k) is not None]
    if got is not None:
        assert Fraction(got) == sum(Fraction(w) * Fraction(v) for w, v in pairs) / sum(
            Fraction(w) for w, _ in pairs)


def test_weighted_average_renormalises_exactly() -> None:
    weights = {"supervisor": Decimal("0.5"), "peer": Decimal("0.2"), "client": Decimal("0.3")}
    same(builtins.weighted_average({"supervisor": Decimal(85), "peer": Decimal(85)}, weights),
         Decimal(85))
    same(builtins.weighted_average({"supervisor": Decimal(85), "peer": Decimal(86)}, weights),
         Fraction(597, 7))
    assert builtins.weighted_average({"supervisor": None}, weights) is None


# ---- other operands: the general path ------------------------------------------------------


def _moving(value: Any, slope: int = 1) -> timeline.Timed:
    return timeline.Timed(value, slope, timeline.Probe(dt.datetime(2026, 1, 1, tzinfo=dt.UTC)))


@pytest.mark.parametrize("other", [3, Decimal("1.5"), Fraction(1, 3)])
@pytest.mark.parametrize("op", ["add", "sub", "mul"])
def test_a_moving_operand_is_handed_to_timeline(op: str, other: Any) -> None:
    moved = OPS[op](_moving(Decimal(10)), other)
    assert type(moved) is timeline.Timed
    same(moved.value, reference(op, Decimal(10), other))
    back = OPS[op](other, _moving(Decimal(10)))
    assert type(back) is timeline.Timed
    same(back.value, reference(op, other, Decimal(10)))


def test_moving_division_and_rounding() -> None:
    halved = exact.div(_moving(7), Decimal(2))
    assert type(halved) is timeline.Timed
    same(halved.value, Decimal("3.5"))
    with pytest.raises(timeline.TimelineError):
        exact.div(7, _moving(2))
    with pytest.raises(timeline.TimelineError):
        exact.round_half_up(_moving(Decimal(1)), 2)
    pairs = [(Decimal("0.5"), _moving(Decimal(80))), (Decimal("0.5"), Decimal(90))]
    mean = exact.weighted_mean(pairs)
    assert type(mean) is timeline.Timed
    same(mean.value, Decimal(85))


@pytest.mark.parametrize("op", [exact.add, exact.sub, exact.mul, exact.div])
@pytest.mark.parametrize("other", [dt.date(2026, 1, 1), object()])
def test_other_operands_are_type_errors(op: Callable[[Any, Any], Any], other: Any) -> None:
    with pytest.raises(TypeError):
        op(Decimal(1), other)
    with pytest.raises(TypeError):
        op(other, Fraction(1, 3))


def test_booleans_keep_their_general_meaning() -> None:
    same(exact.add(True, 1), Decimal(2))
    same(exact.round_half_up(True, 1), Decimal("1.0"))


@EXACT_SETTINGS
@given(a=numbers, b=numbers)
def test_results_are_exact(a: Number, b: Number) -> None:
    assume(b != 0)
    assert Fraction(exact.add(a, b)) == Fraction(a) + Fraction(b)
    assert Fraction(exact.sub(a, b)) == Fraction(a) - Fraction(b)
    assert Fraction(exact.mul(a, b)) == Fraction(a) * Fraction(b)
    assert Fraction(exact.div(a, b)) == Fraction(a) / Fraction(b)
