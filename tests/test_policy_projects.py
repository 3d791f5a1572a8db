"""Section G of the reference policy: project gates and risks, the opportunity pipeline."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from policy_helpers import (
    CST,
    EST,
    NOW,
    STAGE_ORDER,
    US,
    D,
    concl,
    day,
    decide_about,
    expect,
    facts,
    opportunity,
    project,
    staff,
    top_manager,
)

PHASES = ("initiation", "requirements", "design", "implementation", "acceptance", "review",
          "closed")


def judge_project(record: dict[str, Any], now: datetime = NOW) -> list[Any]:
    return decide_about(facts(now, projects=[record]), "project", record["id"], now)


def judge_opportunity(record: dict[str, Any], now: datetime = NOW, **lists: Any) -> list[Any]:
    data = facts(now, opportunities=[record], **lists)
    return decide_about(data, "opportunity", record["id"], now)


def gate(kind: str) -> dict[str, Any]:
    return concl("gate_violation", "project", "PR1", kind=kind)


def risk(kind: str) -> dict[str, Any]:
    return concl("project_risk", "project", "PR1", kind=kind)


# ---------------------------------------------------------------------------- gates


@pytest.mark.parametrize("phase", PHASES)
def test_gates_by_phase(phase: str) -> None:
    found = judge_project(project(phase=phase, design_review_approved=False,
                                  client_signoff=False))
    expected = []
    if PHASES.index(phase) >= PHASES.index("implementation"):
        expected.append(gate("design_not_approved"))
    if PHASES.index(phase) >= PHASES.index("review"):
        expected.append(gate("no_client_signoff"))
    assert found == expect(*expected)


@pytest.mark.parametrize("phase", PHASES)
def test_approved_and_signed_off_projects_pass_every_gate(phase: str) -> None:
    assert judge_project(project(phase=phase)) == []


def test_signoff_without_design_approval_in_review() -> None:
    record = project(phase="review", design_review_approved=False, client_signoff=True)
    assert judge_project(record) == [gate("design_not_approved")]


def test_design_approved_without_signoff_when_closed() -> None:
    record = project(phase="closed", design_review_approved=True, client_signoff=False)
    assert judge_project(record) == [gate("no_client_signoff")]


# --------------------------------------------------------------------------- budget


@pytest.mark.parametrize(
    ("budget", "cost", "at_risk"),
    [
        (1000, 1100, False),
        (1000, "1100.00", False),
        (1000, "1100.01", True),
        ("2500.50", "2750.55", False),     # exactly 1.10 x budget
        ("2500.50", "2750.551", True),
        ("3333.335", "3666.6685", False),  # exactly 1.10 x budget
        ("3333.335", "3666.6686", True),
        (0, 0, False),
        (0, "0.01", True),
    ],
)
def test_budget_risk_over_110_percent(budget: Any, cost: Any, at_risk: bool) -> None:
    found = judge_project(project(budget=budget, actual_cost=cost))
    assert found == ([risk("budget")] if at_risk else [])


# ------------------------------------------------------------------------- schedule


def planned(span: int, slip: int, start: date = date(2026, 1, 1)) -> dict[str, str]:
    end = start + timedelta(days=span)
    return {"start": start.isoformat(), "planned_end": end.isoformat(),
            "forecast_end": (end + timedelta(days=slip)).isoformat()}


@pytest.mark.parametrize(
    ("span", "slip", "at_risk"),
    [
        (100, 15, False),   # exactly 15%
        (100, 16, True),
        (20, 3, False),     # exactly 15%
        (20, 4, True),
        (7, 1, False),      # 1 <= 1.05
        (7, 2, True),
        (100, -10, False),  # ahead of plan
        (0, 0, False),
        (0, 1, True),
    ],
)
def test_schedule_risk_over_15_percent_of_the_planned_span(
    span: int, slip: int, at_risk: bool
) -> None:
    found = judge_project(project(**planned(span, slip)))
    assert found == ([risk("schedule")] if at_risk else [])


def test_schedule_span_across_a_leap_february() -> None:
    # 2028-02-01 .. 2028-03-12 is 40 days (29 in February): 15% is 6 days.
    start = date(2028, 2, 1)
    assert judge_project(project(**planned(40, 6, start))) == []
    assert judge_project(project(**planned(40, 7, start))) == [risk("schedule")]


def test_budget_and_schedule_risks_together() -> None:
    record = project(budget=100, actual_cost=200, **planned(10, 5))
    assert judge_project(record) == expect(risk("budget"), risk("schedule"))


# --------------------------------------------------------------------------- review


def accepted(days_before: int, now: datetime = NOW, **fields: Any) -> dict[str, Any]:
    return project(phase="acceptance", accepted_on=day(now, days_before), **fields)


REVIEW_OVERDUE = concl("review_overdue", "project", "PR1")


def test_accepted_exactly_30_days_ago_is_not_overdue() -> None:
    assert judge_project(accepted(30)) == []


def test_accepted_31_days_ago_without_review_is_overdue() -> None:
    assert judge_project(accepted(31)) == [REVIEW_OVERDUE]


def test_a_done_review_is_never_overdue() -> None:
    assert judge_project(accepted(400, review_done_on=day(NOW, 1))) == []


def test_not_accepted_is_never_overdue() -> None:
    assert judge_project(project(phase="implementation")) == []


@pytest.mark.parametrize(
    ("now", "accepted_on", "overdue"),
    [
        (datetime(2026, 11, 27, 0, 30, tzinfo=CST), "2026-10-27", True),   # 31 days there
        (datetime(2026, 11, 27, 0, 30, tzinfo=CST), "2026-10-28", False),  # 30 days there
        (datetime(2026, 11, 26, 23, 30, tzinfo=EST), "2026-10-27", False),  # 30 days there
        (datetime(2026, 11, 26, 23, 30, tzinfo=EST), "2026-10-26", True),   # 31 days there
    ],
)
def test_review_age_is_whole_days_from_nows_own_calendar_date(
    now: datetime, accepted_on: str, overdue: bool
) -> None:
    record = project(phase="acceptance", accepted_on=accepted_on)
    assert judge_project(record, now) == ([REVIEW_OVERDUE] if overdue else [])


# ---------------------------------------------------------------------- opportunities


def stale(owner_id: str = "S1") -> dict[str, Any]:
    return concl("stale_opportunity", "opportunity", "O1", owner_id=owner_id)


def skipped(*missing: str) -> dict[str, Any]:
    return concl("process_violation", "opportunity", "O1", kind="skipped_stage",
                 missing=list(missing))


OPEN_STAGES = ("research", "contact", "needs_analysis", "proposal", "negotiation")


@pytest.mark.parametrize("stage", OPEN_STAGES)
def test_open_opportunity_idle_exactly_30_days_is_not_stale(stage: str) -> None:
    assert judge_opportunity(opportunity(stage=stage, last_activity_at=NOW - 30 * D)) == []


@pytest.mark.parametrize("stage", OPEN_STAGES)
def test_open_opportunity_idle_30_days_and_a_microsecond_is_stale(stage: str) -> None:
    record = opportunity(stage=stage, last_activity_at=NOW - 30 * D - US)
    assert judge_opportunity(record) == [stale()]


@pytest.mark.parametrize("stage", ["signed", "lost"])
def test_signed_and_lost_opportunities_are_never_stale(stage: str) -> None:
    assert judge_opportunity(opportunity(stage=stage, last_activity_at=NOW - 400 * D)) == []


def test_stale_opportunity_names_its_owner() -> None:
    people = [top_manager(), staff("S1"), staff("S2")]
    record = opportunity(owner_id="S2", last_activity_at=NOW - 31 * D)
    assert judge_opportunity(record, staff=people) == [stale("S2")]


@pytest.mark.parametrize(
    ("stage", "passed", "missing"),
    [
        ("research", [], []),
        ("contact", ["research"], []),
        ("contact", [], ["research"]),
        ("proposal", ["research", "needs_analysis"], ["contact"]),
        ("negotiation", ["contact"], ["research", "needs_analysis", "proposal"]),
        ("signed", [], list(STAGE_ORDER[:-1])),
        ("signed", ["research", "contact", "needs_analysis", "proposal", "negotiation"], []),
        ("signed", ["research", "proposal"], ["contact", "needs_analysis", "negotiation"]),
    ],
)
def test_skipped_stages_are_listed_in_stage_order(
    stage: str, passed: list[str], missing: list[str]
) -> None:
    found = judge_opportunity(opportunity(stage=stage, stages_passed=passed))
    assert found == ([skipped(*missing)] if missing else [])


@pytest.mark.parametrize("passed", [[], ["research"], ["negotiation"]])
def test_a_lost_opportunity_is_not_checked(passed: list[str]) -> None:
    record = opportunity(stage="lost", stages_passed=passed, last_activity_at=NOW - 90 * D)
    assert judge_opportunity(record) == []


def test_stale_and_skipped_together() -> None:
    record = opportunity(stage="negotiation", stages_passed=["research", "proposal"],
                         last_activity_at=NOW - 45 * D)
    assert judge_opportunity(record) == expect(stale(), skipped("contact", "needs_analysis"))


def test_budget_comparison_stays_exact_with_very_many_digits() -> None:
    budget = "1000." + "0" * 205 + "1"
    cost = "1100." + "0" * 205 + "11"  # exactly 1.10 x budget
    assert judge_project(project(budget=budget, actual_cost=cost)) == []
