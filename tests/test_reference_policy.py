"""The reference policy checked on hand-computed cases at the spec's boundaries.

These tests prove the oracle in ``reference_policy`` right before anyone compares the
engine against it. Every expected value below is worked out by hand from
``shared/spec/reference-policy.md``.
"""

from __future__ import annotations

import importlib.util
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from reference_policy import (
    conclusion_counts,
    dimension_score,
    exact,
    expected_conclusions,
    fmt2,
)
from strategies import FACT_KEYS, appraisal_sets, complaint_sets, fact_sets

CST = timezone(timedelta(hours=8))
EST = timezone(timedelta(hours=-5))
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=CST)
US = timedelta(microseconds=1)
H = timedelta(hours=1)
D = timedelta(days=1)

# ----------------------------------------------------------------------- builders


def iso(moment: datetime, tz: timezone = CST) -> str:
    """An ISO 8601 string of ``moment`` in the offset ``tz`` (UTC written as Z)."""
    text = moment.astimezone(tz).isoformat()
    return text.replace("+00:00", "Z")


def staff(staff_id: str = "S1", **fields: Any) -> dict[str, Any]:
    """A sales_rep with a manager M1 and plain defaults, overridden by ``fields``."""
    record: dict[str, Any] = {
        "id": staff_id,
        "name": staff_id,
        "role": "sales_rep",
        "education": "bachelor",
        "major": "finance",
        "sales_years": 5,
        "ka_sales_years": 2,
        "pm_years": 0,
        "ka_project_years": 0,
        "after_sales_years": 0,
        "role_since": "2020-01-01",
        "manager_id": "M1",
        "career_track": "professional",
        "monthly_target_bonus": "2000",
    }
    return record | fields


def manager() -> dict[str, Any]:
    """The top of the hierarchy: M1, no role, no manager."""
    return staff("M1", role=None, role_since=None, manager_id=None, career_track="management")


def facts(**lists: list[dict[str, Any]]) -> dict[str, Any]:
    """A facts object with every top-level key, staff M1 and S1 unless given."""
    result: dict[str, Any] = {key: [] for key in FACT_KEYS}
    result["staff"] = [manager(), staff()]
    return result | lists


def complaint(opened: datetime, severity: str = "general", **fields: Any) -> dict[str, Any]:
    """A complaint by client K1 assigned to S1, opened at ``opened``."""
    record = {
        "id": "C1",
        "client_id": "K1",
        "assigned_to": "S1",
        "severity": severity,
        "opened_at": iso(opened),
        "reopened_count": 0,
    }
    return record | fields


def client(**fields: Any) -> dict[str, Any]:
    """A key-tier client K1 owned by S1, contacted and surveyed recently."""
    record = {
        "id": "K1",
        "name": "Kunlun",
        "tier": "key",
        "owner_id": "S1",
        "last_contact_at": iso(NOW - D),
        "last_survey_at": "2026-10-01",
        "last_survey_score": 80,
    }
    return record | fields


def scores(performance: Any, attitude: Any, teamwork: Any, satisfaction: Any) -> dict[str, Any]:
    """Supervisor-only scores for the four dimensions."""
    values = zip(
        ("performance", "attitude", "teamwork", "satisfaction"),
        (performance, attitude, teamwork, satisfaction),
        strict=True,
    )
    return {dimension: {"supervisor": value} for dimension, value in values}


def appraisal(
    appraisal_id: str,
    period: str,
    dimension_scores: dict[str, Any],
    staff_id: str = "S1",
) -> dict[str, Any]:
    """An appraisal, monthly when ``period`` has a month, annual otherwise."""
    kind = "monthly" if "-" in period else "annual"
    return {
        "id": appraisal_id,
        "staff_id": staff_id,
        "kind": kind,
        "period": period,
        "scores": dimension_scores,
    }


def flat(value: Any) -> dict[str, Any]:
    """Every dimension scored ``value`` by the supervisor."""
    return scores(value, value, value, value)


def run(fact_set: dict[str, Any], now: datetime = NOW) -> list[dict[str, Any]]:
    """The reference conclusions, after a JSON round trip with Decimal floats."""
    text = json.dumps(fact_set, default=str)
    return expected_conclusions(json.loads(text, parse_float=Decimal), now)


def named(conclusions: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """The values of every conclusion called ``name``."""
    return [c["values"] for c in conclusions if c["name"] == name]


# ------------------------------------------------------------------ B. eligibility


def test_eligibility_reasons_and_preferred_majors() -> None:
    people = [
        manager(),
        staff("S1", sales_years=3, ka_sales_years=1, major="  MARKETING "),
        staff("S2", education="associate", sales_years="2.99", ka_sales_years="0.5"),
        staff("S3", education="high_school", after_sales_years="1.9", major=" Electronics"),
        staff("S4", education="associate", after_sales_years=2, major="electronics engineering"),
    ]
    applications = [
        {"id": "A1", "staff_id": "S1", "role": "sales_rep"},
        {"id": "A2", "staff_id": "S2", "role": "sales_rep"},
        {"id": "A3", "staff_id": "S3", "role": "after_sales"},
        {"id": "A4", "staff_id": "S4", "role": "after_sales"},
        {"id": "A5", "staff_id": "S4", "role": "project_manager"},
    ]
    got = [
        (c["subject"]["id"], c["name"], c["values"])
        for c in run(facts(staff=people, applications=applications))
    ]
    assert got == [
        ("A1", "eligible", {"role": "sales_rep"}),
        ("A1", "preferred_candidate", {"role": "sales_rep"}),
        (
            "A2",
            "ineligible",
            {"role": "sales_rep", "reasons": ["education", "experience", "ka_experience"]},
        ),
        ("A3", "ineligible", {"role": "after_sales", "reasons": ["education", "experience"]}),
        ("A4", "eligible", {"role": "after_sales"}),
        (
            "A5",
            "ineligible",
            {"role": "project_manager", "reasons": ["education", "experience", "ka_experience"]},
        ),
    ]


# ------------------------------------------------------------------- C. complaints


@pytest.mark.parametrize(
    ("late", "expected"),
    [(timedelta(0), []), (US, [{"level": 1, "to": "manager", "manager_id": "M1"}])],
)
def test_response_exactly_at_limit_is_in_time(late: timedelta, expected: list[Any]) -> None:
    opened = NOW - 10 * H
    record = complaint(opened, first_response_at=iso(opened + 8 * H + late, UTC))
    got = run(facts(clients=[client()], complaints=[record]))
    assert named(got, "escalation") == expected


def test_resolution_counts_as_response_and_level_one_without_manager() -> None:
    opened = NOW - 3 * D
    on_time = complaint(
        opened,
        "minor",
        resolved_at=iso(opened + 24 * H, EST),
        client_notified_at=iso(opened + 25 * H),
    )
    people = [manager(), staff("S1", manager_id=None)]
    late = complaint(NOW - 24 * H - US, "minor", id="C2")
    got = run(facts(staff=people, clients=[client()], complaints=[on_time, late]))
    assert [(c["subject"]["id"], c["values"]) for c in got if c["name"] == "escalation"] == [
        ("C2", {"level": 1, "to": "manager", "manager_id": None}),
    ]


@pytest.mark.parametrize(
    ("age", "reopened", "expected"),
    [
        (72 * H, 0, []),
        (72 * H + US, 0, [{"level": 2, "to": "department_head"}]),
        (144 * H, 0, [{"level": 2, "to": "department_head"}]),
        (144 * H + US, 0, [{"level": 3, "to": "executive"}]),
        (2 * H, 1, [{"level": 2, "to": "department_head"}]),
        (2 * H, 2, [{"level": 3, "to": "executive"}]),
    ],
)
def test_only_the_highest_escalation_level(
    age: timedelta,
    reopened: int,
    expected: list[Any],
) -> None:
    opened = NOW - age
    record = complaint(opened, first_response_at=iso(opened + H), reopened_count=reopened)
    got = run(facts(clients=[client()], complaints=[record]))
    assert named(got, "escalation") == expected


def test_task_force_for_serious_complaints_even_when_resolved() -> None:
    opened = NOW - 5 * D
    done = {
        "first_response_at": iso(opened + H),
        "resolved_at": iso(opened + 2 * H),
        "client_notified_at": iso(opened + 3 * H),
    }
    records = [
        complaint(opened, severity, id=f"C{i}", **done)
        for i, severity in enumerate(("minor", "general", "major", "critical"))
    ]
    got = run(facts(clients=[client()], complaints=records))
    assert [c["subject"]["id"] for c in got if c["name"] == "task_force"] == ["C2", "C3"]
    assert named(got, "escalation") == []


@pytest.mark.parametrize(
    ("ages", "reviewed"),
    [
        ([timedelta(0), D, 30 * D - US], True),
        ([timedelta(0), D, 30 * D], False),
        ([-US, D, 30 * D - US], False),
    ],
)
def test_account_review_window(ages: list[timedelta], reviewed: bool) -> None:
    records = [
        complaint(NOW - age, "minor", id=f"C{i}", first_response_at=iso(NOW - age))
        for i, age in enumerate(ages)
    ]
    got = run(facts(clients=[client()], complaints=records))
    assert [c["subject"] for c in got if c["name"] == "account_review"] == (
        [{"type": "client", "id": "K1"}] if reviewed else []
    )


@pytest.mark.parametrize(("extra", "overdue"), [(timedelta(0), False), (US, True)])
def test_client_notice_overdue_after_24h(extra: timedelta, overdue: bool) -> None:
    resolved = NOW - 24 * H - extra
    record = complaint(resolved - H, first_response_at=iso(resolved), resolved_at=iso(resolved))
    got = run(facts(clients=[client()], complaints=[record]))
    assert bool(named(got, "client_notice_overdue")) is overdue


# -------------------------------------------------------------------- D. appraisal


def test_renormalised_weights_are_exact() -> None:
    assert dimension_score({"supervisor": 85, "peer": 85}) == 85
    assert (Fraction("0.5") * 85 + Fraction("0.2") * 85) / Fraction("0.7") == 85
    assert dimension_score({"supervisor": 80, "client": 90}) == Fraction("83.75")
    record = appraisal(
        "P1",
        "2026-10",
        {
            d: {"supervisor": 85, "peer": "85.0"}
            for d in ("performance", "attitude", "teamwork", "satisfaction")
        },
    )
    got = run(facts(appraisals=[record]))
    assert named(got, "grade") == [
        {"kind": "monthly", "period": "2026-10", "grade": "A", "score": "85.00"},
    ]


def test_decimal_sums_stay_exact() -> None:
    assert exact(Decimal("0.1")) + exact("0.2") == exact("0.3")
    # after_sales 0.30*55.4 + 0.20*59.9 + 0.15*60 + 0.35*64 == 60 exactly (floats say 59.99...)
    people = [manager(), staff(role="after_sales")]
    record = appraisal("P1", "2026", scores("55.4", "59.9", 60, 64))
    got = run(facts(staff=people, appraisals=[record]))
    assert named(got, "grade") == [
        {"kind": "annual", "period": "2026", "grade": "C", "score": "60.00"}
    ]
    # 0.88 / 1.1 == 0.8 exactly: attainment is not below 0.8 (floats say 0.7999...)
    result = {"staff_id": "S1", "period": "2026-10", "target": "1.1", "actual": "0.88"}
    assert named(run(facts(sales_results=[result])), "rectification_notice") == []


@pytest.mark.parametrize(
    ("value", "satisfaction", "grade", "score"),
    [
        (95, 95, "S", "95.00"),
        ("96.5", 89, "A", "95.00"),  # total exactly 95 but satisfaction below 90
        ("94.99", "94.99", "A", "94.99"),
        (85, 85, "A", "85.00"),
        ("84.99", "84.99", "B", "84.99"),
        (85, "84.975", "B", "85.00"),  # total 84.995: rounds to 85.00, grades B
        (70, 70, "B", "70.00"),
        ("69.99", "69.99", "C", "69.99"),
        (60, 60, "C", "60.00"),
        ("59.99", "59.99", "D", "59.99"),
    ],
)
def test_grade_boundaries(value: Any, satisfaction: Any, grade: str, score: str) -> None:
    record = appraisal("P1", "2026", scores(value, value, value, satisfaction))
    got = run(facts(appraisals=[record]))
    assert named(got, "grade") == [
        {"kind": "annual", "period": "2026", "grade": grade, "score": score}
    ]


def test_incomplete_appraisal_lists_missing_parts_and_has_no_grade() -> None:
    partial = {
        "performance": {"peer": 90, "client": 90},
        "attitude": {"supervisor": 10},
        "satisfaction": {"supervisor": 10},
    }
    people = [manager(), staff(), staff("S2", role=None, role_since=None)]
    records = [
        appraisal("P1", "2026-10", partial),
        appraisal("P2", "2026-10", flat(10), "S2"),
        appraisal("P3", "2026-09", partial, "S2"),
    ]
    got = run(facts(staff=people, appraisals=records))
    assert [(c["subject"]["id"], c["name"], c["values"]) for c in got] == [
        ("P1", "appraisal_incomplete", {"missing": ["performance", "teamwork"]}),
        ("P2", "appraisal_incomplete", {"missing": ["role"]}),
        ("P3", "appraisal_incomplete", {"missing": ["performance", "teamwork", "role"]}),
    ]


# ---------------------------------------------------------------------- E. rewards


def test_bonus_salary_and_improvement_plans() -> None:
    people = [manager(), staff(), staff("S2", monthly_target_bonus=None)]
    records = [
        appraisal("P1", "2025-12", flat(50)),
        appraisal("P2", "2026-01", flat(50)),
        appraisal("P3", "2026-02", flat(50)),
        appraisal("P4", "2026-04", flat(50)),
        appraisal("P5", "2026-03", flat(85), "S2"),
        appraisal("P6", "2025", flat(59)),
    ]
    got = run(facts(staff=people, appraisals=records))
    assert named(got, "bonus") == [
        {"period": "2025-12", "multiplier": "0.00", "amount": "0.00"},
        {"period": "2026-01", "multiplier": "0.00", "amount": "0.00"},
        {"period": "2026-02", "multiplier": "0.00", "amount": "0.00"},
        {"period": "2026-04", "multiplier": "0.00", "amount": "0.00"},
        {"period": "2026-03", "multiplier": "1.20", "amount": None},
    ]
    assert named(got, "salary_adjustment") == [{"period": "2025", "percent": "0.00"}]
    assert named(got, "improvement_plan") == [
        {"reason": "annual_d", "period": "2025"},
        {"reason": "consecutive_monthly_d", "period": "2026-01"},
        {"reason": "consecutive_monthly_d", "period": "2026-02"},
    ]


@pytest.mark.parametrize(("role_since", "candidate"), [("2025-11-27", True), ("2025-11-28", False)])
def test_promotion_at_exactly_365_days(role_since: str, candidate: bool) -> None:
    # 00:30 at +08:00 is still 2026-11-26 in UTC: the date counts in now's own offset.
    now = datetime(2026, 11, 27, 0, 30, tzinfo=CST)
    people = [manager(), staff(role_since=role_since, career_track="management")]
    got = run(facts(staff=people, appraisals=[appraisal("P1", "2025", flat(95))]), now)
    assert named(got, "promotion_candidate") == (
        [{"period": "2025", "track": "management"}] if candidate else []
    )


def test_promotion_needs_two_years_of_a_and_no_monthly_d() -> None:
    people = [manager(), staff(), staff("S2"), staff("S3")]
    records = [
        appraisal("P1", "2024", flat(85)),
        appraisal("P2", "2025", flat(90)),
        appraisal("P3", "2024", flat(84), "S2"),
        appraisal("P4", "2025", flat(90), "S2"),
        appraisal("P5", "2025", flat(99), "S3"),
        appraisal("P6", "2025-07", flat(59), "S3"),
    ]
    got = run(facts(staff=people, appraisals=records))
    assert [
        (c["subject"]["id"], c["values"]) for c in got if c["name"] == "promotion_candidate"
    ] == [
        ("S1", {"period": "2025", "track": "professional"}),
    ]


def test_honor_uses_satisfaction_and_complaint_year_in_own_offset() -> None:
    people = [manager(), staff(), staff("S2"), staff("S3")]
    records = [
        appraisal("P1", "2025", scores(95, 95, 95, 95)),
        appraisal("P2", "2025", scores(100, 100, 100, "94.99"), "S2"),
        appraisal("P3", "2025", scores(96, 96, 96, 96), "S3"),
    ]
    new_year = datetime(2026, 1, 1, 0, 30, tzinfo=CST)  # 2025-12-31 in UTC: year 2026
    old_year = datetime(2025, 12, 31, 23, 30, tzinfo=EST)  # 2026-01-01 in UTC: year 2025
    complaints = [
        complaint(new_year, "critical", resolved_at=iso(new_year + H), client_notified_at=iso(NOW)),
        {
            **complaint(
                old_year,
                "major",
                id="C2",
                assigned_to="S3",
                resolved_at=iso(NOW),
                client_notified_at=iso(NOW),
            ),
            "opened_at": old_year.isoformat(),
        },
    ]
    got = run(facts(staff=people, appraisals=records, clients=[client()], complaints=complaints))
    assert [(c["subject"]["id"], c["values"]) for c in got if c["name"] == "honor"] == [
        ("S1", {"kind": "key_account_star", "period": "2025"}),
    ]


def test_training_rewards() -> None:
    trainings = [
        {
            "id": f"T{i}",
            "staff_id": "S1",
            "course": "KA",
            "kind": kind,
            "completed_on": "2026-06-30",
            "exam_score": score,
        }
        for i, (kind, score) in enumerate(
            [
                ("external", 90),
                ("internal", "90.00"),
                ("internal", "89.99"),
                ("practice", 100),
                ("external", None),
            ]
        )
    ]
    got = run(facts(trainings=trainings))
    assert named(got, "training_reward") == [
        {"training_id": "T1", "amount": "1000.00"},  # sorted by the values' JSON
        {"training_id": "T0", "amount": "2000.00"},
    ]


# --------------------------------------------------------------------- F. clients


@pytest.mark.parametrize(
    ("tier", "age", "expected"),
    [
        ("strategic", 14 * D, []),
        ("strategic", 14 * D + US, [("contact_overdue", {"owner_id": "S1"})]),
        ("strategic", 28 * D, [("contact_overdue", {"owner_id": "S1"})]),
        ("strategic", 28 * D + US, [("contact_escalation", {"manager_id": "M1"})]),
        ("key", 30 * D, []),
        ("key", 60 * D + US, [("contact_escalation", {"manager_id": "M1"})]),
    ],
)
def test_contact_cadence(tier: str, age: timedelta, expected: list[Any]) -> None:
    got = run(facts(clients=[client(tier=tier, last_contact_at=iso(NOW - age, UTC))]))
    assert [(c["name"], c["values"]) for c in got] == expected


@pytest.mark.parametrize(
    ("surveyed", "score", "expected"),
    [
        ("2026-05-31", 60, []),  # exactly 180 days before 2026-11-27
        ("2026-05-30", "59.99", ["account_improvement_plan", "survey_due"]),
        (None, None, ["survey_due"]),
    ],
)
def test_surveys(surveyed: str | None, score: Any, expected: list[str]) -> None:
    got = run(facts(clients=[client(last_survey_at=surveyed, last_survey_score=score)]))
    assert [c["name"] for c in got] == expected


# -------------------------------------------------------------------- G. projects


def test_projects_gates_risks_and_reviews() -> None:
    base = {
        "client_id": "K1",
        "manager_id": "S1",
        "design_review_approved": True,
        "client_signoff": True,
        "budget": "1000",
        "actual_cost": "1100.00",
        "start": "2026-01-01",
        "planned_end": "2026-01-21",
        "forecast_end": "2026-01-24",
    }
    projects = [
        base | {"id": "P1", "phase": "design", "design_review_approved": False},
        base
        | {
            "id": "P2",
            "phase": "implementation",
            "design_review_approved": False,
            "actual_cost": "1100.01",
            "forecast_end": "2026-01-25",
        },
        base
        | {
            "id": "P3",
            "phase": "closed",
            "client_signoff": False,
            "accepted_on": "2026-10-28",
            "review_done_on": None,
        },
        base | {"id": "P4", "phase": "review", "accepted_on": "2026-10-27"},
        base
        | {
            "id": "P5",
            "phase": "review",
            "accepted_on": "2026-01-01",
            "review_done_on": "2026-02-01",
        },
    ]
    got = run(facts(clients=[client()], projects=projects))
    assert [(c["subject"]["id"], c["name"], c["values"]) for c in got] == [
        ("P2", "gate_violation", {"kind": "design_not_approved"}),
        ("P2", "project_risk", {"kind": "budget"}),
        ("P2", "project_risk", {"kind": "schedule"}),
        ("P3", "gate_violation", {"kind": "no_client_signoff"}),
        ("P4", "review_overdue", {}),
    ]


def test_opportunities() -> None:
    def opportunity(oid: str, stage: str, passed: list[str], idle: timedelta) -> dict[str, Any]:
        return {
            "id": oid,
            "client_id": "K1",
            "owner_id": "S1",
            "stage": stage,
            "stages_passed": passed,
            "last_activity_at": iso(NOW - idle, EST),
        }

    opportunities = [
        opportunity("O1", "proposal", ["research", "contact", "needs_analysis"], 30 * D),
        opportunity("O2", "proposal", ["contact", "proposal"], 30 * D + US),
        opportunity("O3", "lost", [], 400 * D),
        opportunity("O4", "signed", ["research", "contact", "needs_analysis", "proposal"], 99 * D),
    ]
    got = run(facts(clients=[client()], opportunities=opportunities))
    assert [(c["subject"]["id"], c["name"], c["values"]) for c in got] == [
        (
            "O2",
            "process_violation",
            {"kind": "skipped_stage", "missing": ["research", "needs_analysis"]},
        ),
        ("O2", "stale_opportunity", {"owner_id": "S1"}),
        ("O4", "process_violation", {"kind": "skipped_stage", "missing": ["negotiation"]}),
    ]


# ----------------------------------------------------------------- H. supervision


def test_rectification_deadlines_and_supervisor_review_across_years() -> None:
    rows = [
        ("2024-02", "0.79"),
        ("2025-12", "0.5"),
        ("2026-01", "0.59"),
        ("2026-02", "0.6"),
        ("2026-12", "0.8"),
        ("2027-01", "0.1"),
    ]
    results = [
        {"staff_id": "S1", "period": p, "target": "1000", "actual": str(Decimal(r) * 1000)}
        for p, r in rows
    ]
    got = run(facts(sales_results=results))
    assert named(got, "rectification_notice") == [
        {"period": "2024-02", "deadline": "2024-03-30"},
        {"period": "2025-12", "deadline": "2026-01-30"},
        {"period": "2026-01", "deadline": "2026-03-02"},
        {"period": "2026-02", "deadline": "2026-03-30"},
        {"period": "2027-01", "deadline": "2027-03-02"},
    ]
    assert named(got, "supervisor_review") == [{"period": "2026-01"}]


# ----------------------------------------------------- formatting and strategies


def test_fmt2_rounds_half_up() -> None:
    assert [fmt2(Fraction(x)) for x in ("1.2", "2400", "0.005", "84.995", "0.004999")] == [
        "1.20",
        "2400.00",
        "0.01",
        "85.00",
        "0.00",
    ]


def check_integrity(fact_set: dict[str, Any]) -> None:
    """Unique ids and every reference naming an existing record."""
    staff_ids = {s["id"] for s in fact_set["staff"]}
    client_ids = {c["id"] for c in fact_set["clients"]}
    for key in FACT_KEYS:
        ids = [r["id"] for r in fact_set[key] if "id" in r]
        assert len(ids) == len(set(ids)), key
    assert {s.get("manager_id") for s in fact_set["staff"]} <= staff_ids | {None}
    for key, field in [
        ("applications", "staff_id"),
        ("clients", "owner_id"),
        ("complaints", "assigned_to"),
        ("appraisals", "staff_id"),
        ("trainings", "staff_id"),
        ("sales_results", "staff_id"),
        ("projects", "manager_id"),
        ("opportunities", "owner_id"),
    ]:
        assert {r[field] for r in fact_set[key]} <= staff_ids, key
    for key in ("complaints", "projects", "opportunities"):
        assert {r["client_id"] for r in fact_set[key]} <= client_ids, key
    appraisal_keys = [(a["staff_id"], a["kind"], a["period"]) for a in fact_set["appraisals"]]
    assert len(appraisal_keys) == len(set(appraisal_keys))
    sales_keys = [(r["staff_id"], r["period"]) for r in fact_set["sales_results"]]
    assert len(sales_keys) == len(set(sales_keys))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fact_sets())
def test_strategies_give_valid_fact_sets(drawn: tuple[dict[str, Any], datetime]) -> None:
    fact_set, now = drawn
    check_integrity(fact_set)
    got = expected_conclusions(fact_set, now)
    assert got == run(fact_set, now)  # a JSON round trip changes nothing


@settings(max_examples=30, deadline=None)
@given(complaint_sets())
def test_complaint_sets_are_valid(drawn: tuple[dict[str, Any], datetime]) -> None:
    check_integrity(drawn[0])
    expected_conclusions(*drawn)


@settings(max_examples=30, deadline=None)
@given(appraisal_sets())
def test_appraisal_sets_are_valid(drawn: tuple[dict[str, Any], datetime]) -> None:
    check_integrity(drawn[0])
    expected_conclusions(*drawn)


# -------------------------------------------------------------- examples/company.json

COMPANY = Path(__file__).resolve().parent.parent / "examples"
COMPANY_COUNTS = {
    "account_improvement_plan": 2,
    "account_review": 1,
    "appraisal_incomplete": 4,
    "bonus": 262,
    "client_notice_overdue": 2,
    "contact_escalation": 3,
    "contact_overdue": 4,
    "eligible": 5,
    "escalation": 8,
    "gate_violation": 4,
    "grade": 334,
    "honor": 3,
    "improvement_plan": 4,
    "ineligible": 8,
    "preferred_candidate": 4,
    "process_violation": 5,
    "project_risk": 4,
    "promotion_candidate": 11,
    "rectification_notice": 9,
    "review_overdue": 2,
    "salary_adjustment": 72,
    "stale_opportunity": 4,
    "supervisor_review": 2,
    "survey_due": 5,
    "task_force": 8,
    "training_reward": 11,
}


def test_company_example_is_generated_valid_and_judged() -> None:
    path = COMPANY / "generate_company.py"
    spec = importlib.util.spec_from_file_location("generate_company", path)
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    text = (COMPANY / "company.json").read_text(encoding="utf-8")
    assert generator.to_json(generator.make_company()) == text, "run examples/generate_company.py"
    fact_set = json.loads(text, parse_float=Decimal)
    check_integrity(fact_set)
    now = datetime.fromisoformat("2026-11-27T09:00:00+08:00")
    assert conclusion_counts(expected_conclusions(fact_set, now)) == COMPANY_COUNTS
