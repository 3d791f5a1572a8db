"""Section E of the reference policy: bonuses, raises, improvement plans, promotion,
honours and training rewards."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from policy_helpers import (
    CST,
    EST,
    NOW,
    appraisal,
    complaint,
    concl,
    decide,
    facts,
    flat,
    graded,
    staff,
    top_manager,
    training,
)

LETTERS = ("S", "A", "B", "C", "D")


def conclusions(name: str, now: datetime = NOW, **lists: Any) -> list[dict[str, Any]]:
    return [c for c in decide(facts(now, **lists), now) if c["name"] == name]


def people(**fields: Any) -> list[dict[str, Any]]:
    return [top_manager(), staff("S1", **fields)]


# ---------------------------------------------------------------------------- bonus


@pytest.mark.parametrize(
    ("letter", "multiplier", "amount"),
    [("S", "1.50", "3000.00"), ("A", "1.20", "2400.00"), ("B", "1.00", "2000.00"),
     ("C", "0.60", "1200.00"), ("D", "0.00", "0.00")],
)
def test_monthly_bonus_by_grade(letter: str, multiplier: str, amount: str) -> None:
    found = conclusions("bonus", appraisals=[graded("P1", letter, "2026-10")])
    assert found == [concl("bonus", "appraisal", "P1", period="2026-10",
                           multiplier=multiplier, amount=amount)]


@pytest.mark.parametrize("letter", LETTERS)
def test_bonus_amount_is_null_without_a_target_bonus(letter: str) -> None:
    multiplier = {"S": "1.50", "A": "1.20", "B": "1.00", "C": "0.60", "D": "0.00"}[letter]
    found = conclusions("bonus", staff=people(monthly_target_bonus=None),
                        appraisals=[graded("P1", letter, "2026-10")])
    assert found == [concl("bonus", "appraisal", "P1", period="2026-10",
                           multiplier=multiplier, amount=None)]


def test_bonus_amount_left_out_target_is_null_too() -> None:
    record = {k: v for k, v in staff("S1").items() if k != "monthly_target_bonus"}
    found = conclusions("bonus", staff=[top_manager(), record],
                        appraisals=[graded("P1", "A", "2026-10")])
    assert found == [concl("bonus", "appraisal", "P1", period="2026-10",
                           multiplier="1.20", amount=None)]


@pytest.mark.parametrize(
    ("target", "letter", "amount"),
    [("3333.335", "C", "2000.00"),   # 2000.001
     ("3333.335", "A", "4000.00"),   # 4000.002
     ("0.01", "S", "0.02"),          # 0.015, half up
     ("0.03", "S", "0.05"),          # 0.045, half up (half-even: 0.04)
     ("0", "S", "0.00")],
)
def test_bonus_amount_is_exact_then_rounded_half_up(target: str, letter: str, amount: str) -> None:
    found = conclusions("bonus", staff=people(monthly_target_bonus=target),
                        appraisals=[graded("P1", letter, "2026-10")])
    assert [c["values"]["amount"] for c in found] == [amount]


def test_annual_appraisal_draws_no_bonus_and_monthly_no_salary_adjustment() -> None:
    data = facts(appraisals=[graded("P1", "A", "2026"), graded("P2", "A", "2026-10")])
    found = decide(data)
    assert [c["subject"]["id"] for c in found if c["name"] == "bonus"] == ["P2"]
    assert [c["subject"]["id"] for c in found if c["name"] == "salary_adjustment"] == ["P1"]


def test_incomplete_appraisal_draws_no_bonus() -> None:
    record = appraisal(scores={"performance": {"supervisor": 90}})
    assert conclusions("bonus", appraisals=[record]) == []


# ---------------------------------------------------------------- salary adjustment


@pytest.mark.parametrize(("letter", "percent"),
                         [("S", "10.00"), ("A", "6.00"), ("B", "3.00"), ("C", "0.00"),
                          ("D", "0.00")])
def test_annual_salary_adjustment_by_grade(letter: str, percent: str) -> None:
    found = conclusions("salary_adjustment", appraisals=[graded("P1", letter, "2025")])
    assert found == [concl("salary_adjustment", "appraisal", "P1", period="2025",
                           percent=percent)]


# ----------------------------------------------------------------- improvement plan


def plans(*records: dict[str, Any], **lists: Any) -> list[dict[str, Any]]:
    return conclusions("improvement_plan", appraisals=list(records), **lists)


def plan(reason: str, period: str, staff_id: str = "S1") -> dict[str, Any]:
    return concl("improvement_plan", "staff", staff_id, reason=reason, period=period)


def test_annual_d_draws_an_improvement_plan() -> None:
    assert plans(graded("P1", "D", "2025")) == [plan("annual_d", "2025")]


@pytest.mark.parametrize("letter", ["S", "A", "B", "C"])
def test_annual_grades_above_d_draw_no_plan(letter: str) -> None:
    assert plans(graded("P1", letter, "2025")) == []


def test_a_single_monthly_d_draws_no_plan() -> None:
    assert plans(graded("P1", "D", "2026-10")) == []


def test_two_consecutive_monthly_d_draw_a_plan_on_the_later_month() -> None:
    found = plans(graded("P2", "D", "2026-10"), graded("P1", "D", "2026-09"))
    assert found == [plan("consecutive_monthly_d", "2026-10")]


def test_december_and_the_next_january_are_consecutive() -> None:
    found = plans(graded("P1", "D", "2025-12"), graded("P2", "D", "2026-01"))
    assert found == [plan("consecutive_monthly_d", "2026-01")]


def test_a_run_of_three_d_months_draws_plans_on_the_second_and_third() -> None:
    found = plans(graded("P1", "D", "2026-08"), graded("P2", "D", "2026-09"),
                  graded("P3", "D", "2026-10"))
    assert found == [plan("consecutive_monthly_d", "2026-09"),
                     plan("consecutive_monthly_d", "2026-10")]


def test_a_run_of_three_across_the_year_end() -> None:
    found = plans(graded("P1", "D", "2025-11"), graded("P2", "D", "2025-12"),
                  graded("P3", "D", "2026-01"))
    assert found == [plan("consecutive_monthly_d", "2025-12"),
                     plan("consecutive_monthly_d", "2026-01")]


@pytest.mark.parametrize(
    "between",
    [None, "C"],
    ids=["gap", "c_between"],
)
def test_d_months_not_consecutive_draw_no_plan(between: str | None) -> None:
    records = [graded("P1", "D", "2026-08"), graded("P3", "D", "2026-10")]
    if between is not None:
        records.append(graded("P2", between, "2026-09"))
    assert plans(*records) == []


def test_same_month_number_in_another_year_is_not_consecutive() -> None:
    assert plans(graded("P1", "D", "2025-10"), graded("P2", "D", "2026-11")) == []


def test_an_incomplete_month_is_not_a_d() -> None:
    incomplete = appraisal("P2", period="2026-09", scores={"performance": {"supervisor": 0}})
    assert plans(graded("P1", "D", "2026-10"), incomplete) == []


def test_another_staff_members_d_does_not_count() -> None:
    found = plans(graded("P1", "D", "2026-09", staff_id="S2"),
                  graded("P2", "D", "2026-10", staff_id="S1"),
                  staff=[*people(), staff("S2")])
    assert found == []


def test_annual_d_and_consecutive_monthly_d_both_draw_plans() -> None:
    found = plans(graded("P1", "D", "2026"), graded("P2", "D", "2026-09"),
                  graded("P3", "D", "2026-10"))
    assert sorted(found, key=lambda c: c["values"]["period"]) == [
        plan("annual_d", "2026"), plan("consecutive_monthly_d", "2026-10")]


# ------------------------------------------------------------------------ promotion


def promotions(*records: dict[str, Any], now: datetime = NOW, **fields: Any) -> list[Any]:
    return conclusions("promotion_candidate", now=now, staff=people(**fields),
                       appraisals=list(records))


def candidate(period: str, track: str = "professional") -> dict[str, Any]:
    return concl("promotion_candidate", "staff", "S1", period=period, track=track)


def test_annual_s_alone_makes_a_promotion_candidate() -> None:
    assert promotions(graded("P1", "S", "2026")) == [candidate("2026")]


def test_track_is_the_staff_members_career_track() -> None:
    found = promotions(graded("P1", "S", "2026"), career_track="management")
    assert found == [candidate("2026", "management")]


def test_annual_a_alone_is_not_enough() -> None:
    assert promotions(graded("P1", "A", "2026")) == []


def test_annual_a_in_two_consecutive_years() -> None:
    found = promotions(graded("P1", "A", "2025"), graded("P2", "A", "2026"))
    assert found == [candidate("2026")]


def test_a_after_s_counts_and_the_s_year_counts_alone() -> None:
    found = promotions(graded("P1", "S", "2025"), graded("P2", "A", "2026"))
    assert sorted(found, key=lambda c: c["values"]["period"]) == [candidate("2025"),
                                                                  candidate("2026")]


@pytest.mark.parametrize("before", ["B", "C", "D"])
def test_a_after_a_lower_grade_is_not_enough(before: str) -> None:
    assert promotions(graded("P1", before, "2025"), graded("P2", "A", "2026")) == []


def test_a_after_a_two_years_earlier_is_not_enough() -> None:
    assert promotions(graded("P1", "A", "2024"), graded("P2", "A", "2026")) == []


def test_a_after_an_incomplete_year_is_not_enough() -> None:
    incomplete = appraisal("P1", kind="annual", period="2025", scores={})
    assert promotions(incomplete, graded("P2", "A", "2026")) == []


def test_a_monthly_d_in_the_year_blocks_promotion() -> None:
    assert promotions(graded("P1", "S", "2026"), graded("P2", "D", "2026-03")) == []


def test_a_monthly_d_in_another_year_does_not_block() -> None:
    found = promotions(graded("P1", "S", "2026"), graded("P2", "D", "2025-12"))
    assert found == [candidate("2026")]


def test_a_monthly_c_or_an_incomplete_month_does_not_block() -> None:
    incomplete = appraisal("P3", period="2026-04", scores={})
    found = promotions(graded("P1", "S", "2026"), graded("P2", "C", "2026-03"), incomplete)
    assert found == [candidate("2026")]


NEAR_MIDNIGHT_CST = datetime(2026, 11, 27, 0, 30, tzinfo=CST)   # 2026-11-26T16:30Z
NEAR_MIDNIGHT_EST = datetime(2026, 11, 26, 23, 30, tzinfo=EST)  # 2026-11-27T04:30Z


@pytest.mark.parametrize(
    ("now", "role_since", "promoted"),
    [
        # +08:00 just after midnight: today is 2026-11-27 there (still the 26th in UTC).
        (NEAR_MIDNIGHT_CST, "2025-11-27", True),    # 365 days
        (NEAR_MIDNIGHT_CST, "2025-11-28", False),   # 364 days
        # -05:00 just before midnight: today is 2026-11-26 there (already the 27th in UTC).
        (NEAR_MIDNIGHT_EST, "2025-11-26", True),    # 365 days
        (NEAR_MIDNIGHT_EST, "2025-11-27", False),   # 364 days
        # a leap year in between: 2027-03-01 -> 2028-02-29 is 365 days.
        (datetime(2028, 2, 29, 12, 0, tzinfo=CST), "2027-03-01", True),
        (datetime(2028, 2, 29, 12, 0, tzinfo=CST), "2027-03-02", False),
    ],
)
def test_a_year_in_the_role_counts_whole_days_in_nows_own_offset(
    now: datetime, role_since: str, promoted: bool
) -> None:
    found = promotions(graded("P1", "S", str(now.year - 1)), now=now, role_since=role_since)
    assert found == ([candidate(str(now.year - 1))] if promoted else [])


def test_each_qualifying_year_is_a_separate_candidate() -> None:
    found = promotions(graded("P1", "S", "2024"), graded("P2", "S", "2025"),
                       graded("P3", "B", "2026"))
    assert sorted(found, key=lambda c: c["values"]["period"]) == [candidate("2024"),
                                                                  candidate("2025")]


# ---------------------------------------------------------------------------- honor


def honors(*records: dict[str, Any], now: datetime = NOW, **lists: Any) -> list[Any]:
    return conclusions("honor", now=now, appraisals=list(records), **lists)


STAR = [concl("honor", "staff", "S1", kind="key_account_star", period="2026")]


def annual(satisfaction: Any, score: Any = 100, aid: str = "P1") -> dict[str, Any]:
    return appraisal(aid, kind="annual", period="2026", scores=flat(score, satisfaction))


def test_annual_s_with_satisfaction_exactly_95_earns_the_honor() -> None:
    assert honors(annual(95)) == STAR


def test_satisfaction_just_under_95_earns_no_honor_though_still_s() -> None:
    data = facts(appraisals=[annual("94.99")])
    found = decide(data)
    assert [c["values"]["grade"] for c in found if c["name"] == "grade"] == ["S"]
    assert [c for c in found if c["name"] == "honor"] == []


def test_satisfaction_is_the_renormalised_dimension_score() -> None:
    # (0.5 * 96 + 0.2 * 92.5) / 0.7 == 95 exactly.
    record = appraisal(kind="annual", period="2026",
                       scores=flat(100) | {"satisfaction": {"supervisor": 96, "peer": "92.5"}})
    assert honors(record) == STAR
    record["scores"]["satisfaction"]["peer"] = "92.49"
    assert honors(record) == []


def test_an_a_with_full_satisfaction_earns_no_honor() -> None:
    assert honors(annual(100, score=85)) == []


def test_a_monthly_s_earns_no_honor() -> None:
    assert honors(appraisal(period="2026-10", scores=flat(100))) == []


@pytest.mark.parametrize(("severity", "honored"),
                         [("minor", True), ("general", True), ("major", False),
                          ("critical", False)])
def test_a_serious_complaint_in_the_year_costs_the_honor(severity: str, honored: bool) -> None:
    record = complaint(opened=datetime(2026, 3, 1, 9, 0, tzinfo=CST), severity=severity,
                       first_response_at=datetime(2026, 3, 1, 9, 10, tzinfo=CST),
                       resolved_at=datetime(2026, 3, 1, 9, 20, tzinfo=CST),
                       client_notified_at=datetime(2026, 3, 1, 9, 30, tzinfo=CST))
    assert honors(annual(100), complaints=[record]) == (STAR if honored else [])


def test_a_serious_complaint_assigned_to_someone_else_does_not_count() -> None:
    record = complaint(opened=datetime(2026, 3, 1, 9, 0, tzinfo=CST), severity="major",
                       assigned_to="M1")
    assert honors(annual(100), complaints=[record]) == STAR


@pytest.mark.parametrize(
    ("opened", "honored"),
    [
        (datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=CST), True),
        (datetime(2026, 1, 1, 0, 30, tzinfo=CST), False),      # 2025-12-31T16:30Z
        (datetime(2026, 12, 31, 23, 30, tzinfo=EST), False),   # 2027-01-01T04:30Z
        (datetime(2027, 1, 1, 0, 30, tzinfo=CST), True),       # 2026-12-31T16:30Z
    ],
)
def test_the_year_of_a_complaint_is_its_own_offsets_year(opened: datetime, honored: bool) -> None:
    now = datetime(2027, 2, 1, 9, 0, tzinfo=CST)
    record = complaint(opened=opened, severity="critical")
    assert honors(annual(100), now=now, complaints=[record]) == (STAR if honored else [])


# ------------------------------------------------------------------ training reward


def rewards(*records: dict[str, Any]) -> list[Any]:
    return conclusions("training_reward", trainings=list(records))


def reward(tid: str, amount: str, staff_id: str = "S1") -> dict[str, Any]:
    return concl("training_reward", "staff", staff_id, training_id=tid, amount=amount)


@pytest.mark.parametrize(("kind", "amount"), [("external", "2000.00"), ("internal", "1000.00")])
def test_training_reward_per_kind(kind: str, amount: str) -> None:
    assert rewards(training("T1", kind=kind, exam_score=95)) == [reward("T1", amount)]


@pytest.mark.parametrize("score", [90, "90.0", 100])
def test_exam_score_of_at_least_90_earns_the_reward(score: Any) -> None:
    assert rewards(training("T1", exam_score=score)) == [reward("T1", "2000.00")]


@pytest.mark.parametrize("score", ["89.99", 0, None])
def test_exam_score_under_90_or_none_earns_nothing(score: Any) -> None:
    assert rewards(training("T1", exam_score=score)) == []


def test_practice_trainings_earn_nothing() -> None:
    assert rewards(training("T1", kind="practice", exam_score=100)) == []


def test_exam_score_left_out_earns_nothing() -> None:
    record = {k: v for k, v in training("T1").items() if k != "exam_score"}
    assert rewards(record) == []


def test_each_training_is_rewarded_separately() -> None:
    found = rewards(training("T1", kind="internal"), training("T2", kind="external"),
                    training("T3", kind="practice"), training("T4", staff_id="M1"))
    assert found == [reward("T4", "2000.00", "M1"), reward("T1", "1000.00"),
                     reward("T2", "2000.00")]


def test_rewards_are_independent_of_grades() -> None:
    found = decide(facts(trainings=[training("T1")], appraisals=[annual(100)]))
    assert [c for c in found if c["name"] == "training_reward"] == [reward("T1", "2000.00")]


@pytest.mark.parametrize("target", ["-0", "-0.0", 0])
def test_negative_zero_target_bonus_reports_zero(target: str) -> None:
    found = conclusions("bonus", staff=people(monthly_target_bonus=target),
                        appraisals=[graded("P1", "A", "2026-10")])
    assert [c["values"]["amount"] for c in found] == ["0.00"]
