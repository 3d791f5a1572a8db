"""Section H of the reference policy: rectification notices and supervisor reviews."""

from __future__ import annotations

from typing import Any

import pytest
from policy_helpers import (
    concl,
    decide,
    facts,
    sales_result,
    staff,
    top_manager,
)


def supervision(*records: dict[str, Any], **lists: Any) -> list[dict[str, Any]]:
    found = decide(facts(sales_results=list(records), **lists))
    return [c for c in found if c["name"] in ("rectification_notice", "supervisor_review")]


def notice(period: str, deadline: str, staff_id: str = "S1") -> dict[str, Any]:
    return concl("rectification_notice", "staff", staff_id, period=period, deadline=deadline)


def review(period: str, staff_id: str = "S1") -> dict[str, Any]:
    return concl("supervisor_review", "staff", staff_id, period=period)


def by_period(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(found, key=lambda c: (c["values"]["period"], c["name"]))


# --------------------------------------------------------------- rectification notice


@pytest.mark.parametrize(
    ("target", "actual", "noticed"),
    [
        (1000, 800, False),        # exactly 0.8
        (1000, "799.99", True),
        (1000, 1200, False),
        ("1.1", "0.88", False),    # exactly 0.8 (0.88 / 1.1 in floats is 0.7999...)
        ("1.1", "0.8799", True),
        (3, "2.4", False),
        (1000, 0, True),
    ],
)
def test_rectification_notice_below_80_percent(target: Any, actual: Any, noticed: bool) -> None:
    found = supervision(sales_result("2026-10", target=target, actual=actual))
    assert found == ([notice("2026-10", "2026-11-30")] if noticed else [])


@pytest.mark.parametrize(
    ("period", "deadline"),
    [
        ("2026-10", "2026-11-30"),  # 31 days + 30
        ("2026-04", "2026-05-30"),  # 30 days + 30
        ("2026-02", "2026-03-30"),  # 2026-02-28 + 30
        ("2028-02", "2028-03-30"),  # leap: 2028-02-29 + 30
        ("2026-01", "2026-03-02"),  # 2026-01-31 + 30 crosses a short February
        ("2028-01", "2028-03-01"),  # and a leap one
        ("2026-12", "2027-01-30"),  # into the next year
    ],
)
def test_deadline_is_30_days_after_the_last_day_of_the_period(period: str, deadline: str) -> None:
    assert supervision(sales_result(period, actual=500)) == [notice(period, deadline)]


# ------------------------------------------------------------------ supervisor review


def test_two_months_below_60_percent_draw_a_review_on_the_later() -> None:
    found = supervision(sales_result("2026-09", actual=500), sales_result("2026-10", actual=599))
    assert by_period(found) == [notice("2026-09", "2026-10-30"),
                                notice("2026-10", "2026-11-30"), review("2026-10")]


@pytest.mark.parametrize(("before", "now_"), [(600, 500), (500, 600)])
def test_exactly_60_percent_in_either_month_draws_no_review(before: int, now_: int) -> None:
    found = supervision(sales_result("2026-09", actual=before),
                        sales_result("2026-10", actual=now_))
    assert [c for c in found if c["name"] == "supervisor_review"] == []


def test_a_single_month_below_60_percent_draws_no_review() -> None:
    found = supervision(sales_result("2026-10", actual=100))
    assert found == [notice("2026-10", "2026-11-30")]


def test_review_across_a_year_boundary() -> None:
    found = supervision(sales_result("2027-01", actual=100), sales_result("2026-12", actual=100))
    assert [c for c in found if c["name"] == "supervisor_review"] == [review("2027-01")]


def test_months_with_a_gap_are_not_consecutive() -> None:
    found = supervision(sales_result("2026-08", actual=100), sales_result("2026-10", actual=100))
    assert [c for c in found if c["name"] == "supervisor_review"] == []


def test_same_month_of_the_previous_year_is_not_the_previous_month() -> None:
    found = supervision(sales_result("2025-10", actual=100), sales_result("2026-10", actual=100),
                        sales_result("2025-09", actual=100))
    assert [c for c in found if c["name"] == "supervisor_review"] == [review("2025-10")]


def test_three_low_months_draw_reviews_on_the_second_and_third() -> None:
    found = supervision(*(sales_result(p, actual=100) for p in ("2026-08", "2026-09", "2026-10")))
    assert [c for c in by_period(found) if c["name"] == "supervisor_review"] == [
        review("2026-09"), review("2026-10")]


def test_another_staff_members_low_month_does_not_count() -> None:
    people = [top_manager(), staff("S1"), staff("S2")]
    found = supervision(sales_result("2026-09", staff_id="S2", actual=100),
                        sales_result("2026-10", staff_id="S1", actual=100), staff=people)
    assert [c for c in found if c["name"] == "supervisor_review"] == []
    assert sorted(c["subject"]["id"] for c in found) == ["S1", "S2"]


def test_previous_month_between_60_and_80_percent_draws_no_review() -> None:
    found = supervision(sales_result("2026-09", actual=700), sales_result("2026-10", actual=100))
    assert by_period(found) == [notice("2026-09", "2026-10-30"),
                                notice("2026-10", "2026-11-30")]
