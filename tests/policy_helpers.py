"""Builders for small fact sets and a ``decide`` that returns conclusions as JSON-like dicts.

Every builder returns one record as the JSON-like dict the facts file would hold, with
quiet defaults (a default record draws no conclusion by itself at ``NOW``), overridden
by keyword arguments. ``facts(...)`` assembles a whole facts object around them:
staff ``M1`` (the top, no role, no manager) and ``S1`` (a sales rep managed by ``M1``)
unless other staff are given, and client ``K1`` owned by ``S1`` when a complaint,
project or opportunity needs one.

``decide(facts, now)`` goes through the public API only (``kam_policy.load().decide``)
and returns ``{"name", "subject": {"type", "id"}, "values"}`` dicts, the shape of
section I of the spec (and of ``tests/reference_policy.expected_conclusions``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import kam_policy

Record = dict[str, Any]
Facts = dict[str, list[Record]]
Conclusion = dict[str, Any]

CST = timezone(timedelta(hours=8))
EST = timezone(timedelta(hours=-5))
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=CST)
US = timedelta(microseconds=1)
H = timedelta(hours=1)
D = timedelta(days=1)

FACT_KEYS = (
    "staff",
    "applications",
    "clients",
    "complaints",
    "appraisals",
    "trainings",
    "sales_results",
    "projects",
    "opportunities",
)
DIMENSIONS = ("performance", "attitude", "teamwork", "satisfaction")
SEVERITY_LIMITS: dict[str, tuple[timedelta, timedelta]] = {
    "minor": (24 * H, 120 * H),
    "general": (8 * H, 72 * H),
    "major": (4 * H, 48 * H),
    "critical": (1 * H, 24 * H),
}
CONCLUSION_NAMES = (
    "eligible",
    "preferred_candidate",
    "ineligible",
    "task_force",
    "escalation",
    "account_review",
    "client_notice_overdue",
    "appraisal_incomplete",
    "grade",
    "bonus",
    "salary_adjustment",
    "improvement_plan",
    "promotion_candidate",
    "honor",
    "training_reward",
    "contact_overdue",
    "contact_escalation",
    "survey_due",
    "account_improvement_plan",
    "gate_violation",
    "project_risk",
    "review_overdue",
    "stale_opportunity",
    "process_violation",
    "rectification_notice",
    "supervisor_review",
)

# ----------------------------------------------------------------------- time text


def iso(moment: datetime | date) -> str:
    """ISO 8601 text of a datetime (in its own offset) or a date."""
    return moment.isoformat()


def day(moment: datetime = NOW, days_before: int = 0) -> str:
    """The ISO date ``days_before`` days before ``moment``'s calendar date in its own offset."""
    return (moment.date() - timedelta(days=days_before)).isoformat()


# -------------------------------------------------------------------------- records


def staff(staff_id: str = "S1", **fields: Any) -> Record:
    """A sales rep managed by M1, eligible for nothing in particular, in the role since 2020."""
    record: Record = {
        "id": staff_id,
        "name": f"Staff {staff_id}",
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


def top_manager(staff_id: str = "M1", **fields: Any) -> Record:
    """The top of the hierarchy: no role, no manager, management track."""
    defaults = {"role": None, "role_since": None, "manager_id": None,
                "career_track": "management", "monthly_target_bonus": None}
    return staff(staff_id, **(defaults | fields))


def application(app_id: str = "A1", staff_id: str = "S1", role: str = "sales_rep") -> Record:
    """An application of ``staff_id`` for ``role``."""
    return {"id": app_id, "staff_id": staff_id, "role": role}


def client(client_id: str = "K1", now: datetime = NOW, **fields: Any) -> Record:
    """A key client of S1, contacted an hour before ``now`` and surveyed 10 days before."""
    record: Record = {
        "id": client_id,
        "name": f"Client {client_id}",
        "tier": "key",
        "owner_id": "S1",
        "last_contact_at": iso(now - H),
        "last_survey_at": day(now, 10),
        "last_survey_score": 80,
    }
    return record | fields


def complaint(
    complaint_id: str = "C1",
    opened: datetime = NOW - H,
    severity: str = "general",
    **fields: Any,
) -> Record:
    """A complaint of client K1 assigned to S1, opened at ``opened``, still open."""
    record: Record = {
        "id": complaint_id,
        "client_id": "K1",
        "assigned_to": "S1",
        "severity": severity,
        "opened_at": iso(opened),
        "first_response_at": None,
        "resolved_at": None,
        "client_notified_at": None,
        "reopened_count": 0,
    }
    for name in ("first_response_at", "resolved_at", "client_notified_at"):
        value = fields.pop(name, None)
        record[name] = iso(value) if isinstance(value, datetime) else value
    return record | fields


def handled_complaint(
    complaint_id: str = "C1",
    severity: str = "general",
    *,
    opened: datetime = NOW - 30 * D,
    response: timedelta | None = timedelta(minutes=1),
    resolution: timedelta | None = timedelta(minutes=2),
    notified: timedelta | None = timedelta(minutes=3),
    **fields: Any,
) -> Record:
    """A complaint opened at ``opened`` with response, resolution and client notice given
    as durations after opening (None: not happened); the defaults are all in time."""

    def after(delta: timedelta | None) -> datetime | None:
        return None if delta is None else opened + delta

    return complaint(
        complaint_id,
        opened,
        severity,
        first_response_at=after(response),
        resolved_at=after(resolution),
        client_notified_at=after(notified),
        **fields,
    )


def scores(
    performance: Any = 80,
    attitude: Any = 80,
    teamwork: Any = 80,
    satisfaction: Any = 80,
    sources: Sequence[str] = ("supervisor",),
) -> Record:
    """Scores with the same value from every source in ``sources`` for each dimension."""
    values = dict(zip(DIMENSIONS, (performance, attitude, teamwork, satisfaction), strict=True))
    return {d: {s: values[d] for s in sources} for d in DIMENSIONS}


def flat(score: Any, satisfaction: Any | None = None) -> Record:
    """Supervisor-only scores: ``score`` everywhere, satisfaction ``satisfaction`` if given."""
    return scores(score, score, score, score if satisfaction is None else satisfaction)


GRADE_SCORES: dict[str, Record] = {
    "S": flat(100),
    "A": flat(90),
    "B": flat(75),
    "C": flat(65),
    "D": flat(40),
}
"""Supervisor-only scores that grade S, A, B, C and D for every role."""


def appraisal(
    appraisal_id: str = "P1",
    staff_id: str = "S1",
    kind: str = "monthly",
    period: str = "2026-10",
    scores: Record | None = None,
) -> Record:
    """An appraisal of ``staff_id``; supervisor-only scores of 80 (grade B) by default."""
    return {
        "id": appraisal_id,
        "staff_id": staff_id,
        "kind": kind,
        "period": period,
        "scores": flat(80) if scores is None else scores,
    }


def graded(appraisal_id: str, grade: str, period: str, staff_id: str = "S1") -> Record:
    """An appraisal that grades ``grade``: annual when ``period`` is a year, else monthly."""
    kind = "annual" if len(period) == 4 else "monthly"
    return appraisal(appraisal_id, staff_id, kind, period, GRADE_SCORES[grade])


def training(
    training_id: str = "T1",
    staff_id: str = "S1",
    kind: str = "external",
    exam_score: Any = 95,
    **fields: Any,
) -> Record:
    """A training of ``staff_id`` completed in 2026."""
    record: Record = {
        "id": training_id,
        "staff_id": staff_id,
        "course": "Key account basics",
        "kind": kind,
        "completed_on": "2026-10-15",
        "exam_score": exam_score,
    }
    return record | fields


def sales_result(
    period: str = "2026-10", staff_id: str = "S1", target: Any = 1000, actual: Any = 1000
) -> Record:
    """A sales result of ``staff_id`` for the month ``period`` (100% by default)."""
    return {"staff_id": staff_id, "period": period, "target": target, "actual": actual}


def project(project_id: str = "PR1", **fields: Any) -> Record:
    """A project of K1 managed by S1 in design, on budget and on schedule."""
    record: Record = {
        "id": project_id,
        "client_id": "K1",
        "manager_id": "S1",
        "phase": "design",
        "design_review_approved": True,
        "client_signoff": True,
        "budget": 100000,
        "actual_cost": 50000,
        "start": "2026-01-01",
        "planned_end": "2026-12-31",
        "forecast_end": "2026-12-31",
        "accepted_on": None,
        "review_done_on": None,
    }
    return record | fields


STAGE_ORDER = ("research", "contact", "needs_analysis", "proposal", "negotiation", "signed")


def opportunity(
    opportunity_id: str = "O1",
    stage: str = "proposal",
    stages_passed: Sequence[str] | None = None,
    last_activity_at: datetime = NOW - D,
    **fields: Any,
) -> Record:
    """An opportunity of K1 owned by S1, every stage before ``stage`` passed by default."""
    if stages_passed is None:
        upto = len(STAGE_ORDER) - 1 if stage == "lost" else STAGE_ORDER.index(stage)
        stages_passed = STAGE_ORDER[:upto]
    record: Record = {
        "id": opportunity_id,
        "client_id": "K1",
        "owner_id": "S1",
        "stage": stage,
        "stages_passed": list(stages_passed),
        "last_activity_at": iso(last_activity_at),
    }
    return record | fields


def facts(now: datetime = NOW, **lists: Iterable[Record]) -> Facts:
    """A facts object with every top-level key.

    Staff M1 and S1 are there unless ``staff`` is given; client K1 (quiet at ``now``) is
    added when complaints, projects or opportunities are given without ``clients``.
    """
    result: Facts = {key: [] for key in FACT_KEYS}
    result["staff"] = [top_manager(), staff()]
    for key, records in lists.items():
        if key not in result:
            raise KeyError(f"not a facts key: {key}")
        result[key] = list(records)
    needs_client = any(result[k] for k in ("complaints", "projects", "opportunities"))
    if needs_client and "clients" not in lists:
        result["clients"] = [client(now=now)]
    return result


# -------------------------------------------------------------------------- deciding


@functools.cache
def bundled_policy() -> kam_policy.Policy:
    """The bundled policy, loaded once."""
    return kam_policy.load()


def to_plain(c: kam_policy.Conclusion) -> Conclusion:
    """A public Conclusion as ``{"name", "subject", "values"}``."""
    return {
        "name": c.name,
        "subject": {"type": c.subject.type, "id": c.subject.id},
        "values": dict(c.values),
    }


def decision(facts_: Mapping[str, Any], now: datetime = NOW) -> kam_policy.Decision:
    """The bundled policy's decision on ``facts_`` at ``now``."""
    return bundled_policy().decide(facts_, now)


def decide(facts_: Mapping[str, Any], now: datetime = NOW) -> list[Conclusion]:
    """The bundled policy's conclusions on ``facts_`` at ``now``, in decision order."""
    return [to_plain(c) for c in decision(facts_, now).conclusions]


def about(
    conclusions: Iterable[Conclusion], subject_type: str, subject_id: str
) -> list[Conclusion]:
    """The conclusions about one subject."""
    return [
        c for c in conclusions
        if c["subject"]["type"] == subject_type and c["subject"]["id"] == subject_id
    ]


def named(conclusions: Iterable[Conclusion], *names: str) -> list[Conclusion]:
    """The conclusions called one of ``names``."""
    return [c for c in conclusions if c["name"] in names]


def concl(name: str, subject_type: str, subject_id: str, **values: Any) -> Conclusion:
    """An expected conclusion."""
    return {"name": name, "subject": {"type": subject_type, "id": subject_id}, "values": values}


def canonical(conclusions: Iterable[Conclusion]) -> list[str]:
    """Conclusions as sorted canonical JSON texts, for order-free comparison."""
    return sorted(json.dumps(c, sort_keys=True, ensure_ascii=False) for c in conclusions)


def decide_about(
    facts_: Mapping[str, Any], subject_type: str, subject_id: str, now: datetime = NOW
) -> list[Conclusion]:
    """The conclusions about one subject, sorted canonically (name, then values)."""
    found = about(decide(facts_, now), subject_type, subject_id)
    return sorted(found, key=lambda c: (c["name"], json.dumps(c["values"], sort_keys=True)))


def expect(*conclusions: Conclusion) -> list[Conclusion]:
    """Expected conclusions sorted like ``decide_about``."""
    return sorted(conclusions, key=lambda c: (c["name"], json.dumps(c["values"], sort_keys=True)))


__all__ = [
    "CONCLUSION_NAMES",
    "CST",
    "DIMENSIONS",
    "EST",
    "FACT_KEYS",
    "GRADE_SCORES",
    "NOW",
    "SEVERITY_LIMITS",
    "STAGE_ORDER",
    "US",
    "UTC",
    "D",
    "H",
    "about",
    "application",
    "appraisal",
    "bundled_policy",
    "canonical",
    "client",
    "complaint",
    "concl",
    "day",
    "decide",
    "decide_about",
    "decision",
    "expect",
    "facts",
    "flat",
    "graded",
    "handled_complaint",
    "iso",
    "named",
    "opportunity",
    "project",
    "sales_result",
    "scores",
    "staff",
    "to_plain",
    "top_manager",
    "training",
]
