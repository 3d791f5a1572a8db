"""Section D of the reference policy: 360-degree appraisal scores, totals and grades."""

from __future__ import annotations

from typing import Any

import pytest
from policy_helpers import (
    appraisal,
    concl,
    decide,
    facts,
    flat,
    scores,
    staff,
    top_manager,
)


def judge(record: dict[str, Any], role: str | None = "sales_rep") -> list[dict[str, Any]]:
    """The section D conclusions (grade, appraisal_incomplete) about appraisal ``record``."""
    fields: dict[str, Any] = {"role": role}
    if role is None:
        fields["role_since"] = None
    data = facts(staff=[top_manager(), staff("S1", **fields)], appraisals=[record])
    return [c for c in decide(data)
            if c["subject"] == {"type": "appraisal", "id": record["id"]}
            and c["name"] in ("grade", "appraisal_incomplete")]


def grade(letter: str, score: str, kind: str = "monthly", period: str = "2026-10",
          aid: str = "P1") -> list[dict[str, Any]]:
    return [concl("grade", "appraisal", aid, kind=kind, period=period, grade=letter, score=score)]


def incomplete(*missing: str, aid: str = "P1") -> list[dict[str, Any]]:
    return [concl("appraisal_incomplete", "appraisal", aid, missing=list(missing))]


# ------------------------------------------------------------------ grade thresholds


@pytest.mark.parametrize(
    ("score", "letter", "shown"),
    [
        (100, "S", "100.00"),
        (95, "S", "95.00"),
        ("94.99", "A", "94.99"),
        (85, "A", "85.00"),
        ("84.99", "B", "84.99"),
        (70, "B", "70.00"),
        ("69.99", "C", "69.99"),
        (60, "C", "60.00"),
        ("59.99", "D", "59.99"),
        (0, "D", "0.00"),
    ],
)
def test_total_exactly_at_each_threshold(score: Any, letter: str, shown: str) -> None:
    assert judge(appraisal(scores=flat(score))) == grade(letter, shown)


def test_total_exactly_95_with_satisfaction_exactly_90_is_s() -> None:
    # sales_rep: (50 + 15 + 15) * 96.25 + 20 * 90 == 9500.
    record = appraisal(scores=scores("96.25", "96.25", "96.25", 90))
    assert judge(record) == grade("S", "95.00")


def test_total_just_under_95_is_a() -> None:
    # 50 * 96.23 + 30 * 96.25 + 20 * 90 == 9499.
    record = appraisal(scores=scores("96.23", "96.25", "96.25", 90))
    assert judge(record) == grade("A", "94.99")


def test_s_needs_satisfaction_of_at_least_90() -> None:
    # Total 95 exactly, but satisfaction 89.99: the first row fails, the A row matches.
    record = appraisal(scores=scores("96.2525", "96.2525", "96.2525", "89.99"))
    assert judge(record) == grade("A", "95.00")
    # A total of 98 with satisfaction 89.99 is still only an A.
    assert judge(appraisal(scores=flat(100, "89.99"))) == grade("A", "98.00")


def test_grade_compares_the_exact_total_not_the_rounded_score() -> None:
    # 84.995 is shown as "85.00" but is below 85: a B.
    assert judge(appraisal(scores=flat("84.995"))) == grade("B", "85.00")
    assert judge(appraisal(scores=flat("59.995"))) == grade("D", "60.00")


def test_annual_appraisal_is_graded_with_its_kind_and_period() -> None:
    record = appraisal("P7", kind="annual", period="2025", scores=flat(90))
    assert judge(record) == grade("A", "90.00", kind="annual", period="2025", aid="P7")


# --------------------------------------------------------------- source weights


def test_missing_peer_source_renormalises_exactly() -> None:
    # (0.5 * 85 + 0.2 * 85) / 0.7 == 85 exactly: an A, not a B by a rounding error.
    record = appraisal(scores=scores(85, 85, 85, 85, sources=("supervisor", "peer")))
    assert judge(record) == grade("A", "85.00")


def test_missing_client_source_renormalises_exactly() -> None:
    record = appraisal(scores=scores(85, 85, 85, 85, sources=("supervisor", "client")))
    assert judge(record) == grade("A", "85.00")


def test_all_three_sources_weigh_half_a_fifth_and_three_tenths() -> None:
    # 0.5 * 90 + 0.2 * 60 + 0.3 * 80 == 81 in every dimension.
    dimension = {"supervisor": 90, "peer": 60, "client": 80}
    record = appraisal(scores={d: dict(dimension) for d in
                               ("performance", "attitude", "teamwork", "satisfaction")})
    assert judge(record) == grade("B", "81.00")


def test_supervisor_and_client_only() -> None:
    # (0.5 * 90 + 0.3 * 70) / 0.8 == 82.5.
    dimension = {"supervisor": 90, "client": 70}
    record = appraisal(scores={d: dict(dimension) for d in
                               ("performance", "attitude", "teamwork", "satisfaction")})
    assert judge(record) == grade("B", "82.50")


def test_a_midpoint_reached_through_non_terminating_divisions_rounds_half_up() -> None:
    # performance (0.5 * 80 + 0.2 * 80.02) / 0.7 = 80.00571428...,
    # attitude (0.5 * 80.02 + 0.2 * 80) / 0.7 = 80.01428571...; neither terminates, yet
    # total = (50 * 56.004 / 0.7 + 15 * 56.01 / 0.7 + 15 * 80 + 20 * 80) / 100 == 80.005
    # exactly, which rounds half up to 80.01 (half-even would give 80.00, floats 80.00).
    record = appraisal(scores={
        "performance": {"supervisor": 80, "peer": "80.02"},
        "attitude": {"supervisor": "80.02", "peer": 80},
        "teamwork": {"supervisor": 80},
        "satisfaction": {"supervisor": 80},
    })
    assert judge(record) == grade("B", "80.01")


def test_a_midpoint_score_rounds_half_up_not_to_even() -> None:
    # 50 * 80.05 + 15 * 80 + 15 * 80 + 20 * 80 == 8002.5: total 80.025 -> "80.03".
    assert judge(appraisal(scores=scores("80.05", 80, 80, 80))) == grade("B", "80.03")


# ------------------------------------------------------------------- role weights


@pytest.mark.parametrize(
    ("role", "letter", "shown"),
    [("sales_rep", "B", "78.00"), ("project_manager", "C", "68.00"),
     ("after_sales", "B", "74.00")],
)
def test_dimension_weights_follow_the_current_role(role: str, letter: str, shown: str) -> None:
    # performance 100, attitude 80, teamwork 0, satisfaction 80.
    record = appraisal(scores=scores(100, 80, 0, 80))
    assert judge(record, role=role) == grade(letter, shown)


# ------------------------------------------------------------------- incomplete


def test_a_dimension_without_supervisor_score_is_incomplete_and_nothing_else() -> None:
    record = appraisal(scores=flat(100) | {"teamwork": {"peer": 100, "client": 100}})
    data = facts(appraisals=[record])
    about_it = [c for c in decide(data) if c["subject"] == {"type": "appraisal", "id": "P1"}]
    assert about_it == incomplete("teamwork")
    # No bonus, no improvement plan, no staff conclusion drawn from an incomplete appraisal.
    assert [c for c in decide(data) if c["subject"]["type"] == "staff"] == []


def test_an_absent_dimension_is_incomplete() -> None:
    record = appraisal(scores={d: v for d, v in flat(90).items() if d != "attitude"})
    assert judge(record) == incomplete("attitude")


def test_every_incomplete_dimension_is_listed_in_dimension_order() -> None:
    record = appraisal(scores={
        "satisfaction": {"client": 90},
        "teamwork": {"supervisor": 90},
        "performance": {"peer": 90},
    })
    assert judge(record) == incomplete("performance", "attitude", "satisfaction")


def test_empty_scores_are_incomplete_in_every_dimension() -> None:
    record = appraisal(scores={})
    assert judge(record) == incomplete("performance", "attitude", "teamwork", "satisfaction")


def test_roleless_staff_makes_the_appraisal_incomplete_with_role_missing() -> None:
    data = facts(staff=[top_manager(), staff("S1", role=None, role_since=None)],
                 appraisals=[appraisal(scores=flat(40)), appraisal("P2", period="2026-11",
                                                                   scores=flat(40))])
    found = decide(data)
    assert [c for c in found if c["subject"]["type"] == "appraisal"] == [
        *incomplete("role", aid="P1"),
        *incomplete("role", aid="P2"),
    ]
    # Not a D: two such months draw no improvement plan.
    assert [c for c in found if c["subject"]["type"] == "staff"] == []


def test_roleless_staff_with_a_missing_dimension_lists_both() -> None:
    # The spec lists the dimensions, and says a roleless staff gives ["role"]; when both
    # apply the implementation (and the reference) list the dimensions, then "role".
    record = appraisal(scores={d: v for d, v in flat(90).items() if d != "teamwork"})
    assert judge(record, role=None) == incomplete("teamwork", "role")


# ----------------------------------------------------------------- exactness bugs


def test_a_score_with_very_many_digits_stays_exact() -> None:
    # Spec: "+ - * on decimals are exact"; the total is just under 85, so a B shown "85.00".
    assert judge(appraisal(scores=flat("84." + "9" * 210))) == grade("B", "85.00")
