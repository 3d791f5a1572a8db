"""Hypothesis strategies: valid fact sets (JSON-like dicts) and the ``now`` they are judged at
(rule files are generated in ``policy_strategies``).

Every fact strategy returns ``(facts, now)``: ``facts`` is the facts JSON object as
``json.loads(text, parse_float=Decimal)`` would give it (decimals as ``Decimal`` or
``int``, datetimes as ISO strings in assorted offsets, ``Z`` included), ``now`` an aware
datetime. The sets are valid by section A of the spec: unique ids, references that
resolve, no duplicate appraisals or sales results, stages in order, values in range.
Values are drawn to land on the policy's boundaries (exact limits, one microsecond
over, scores of exactly 95/90/85/70/60, years of exactly 3/2/1, month ends).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum
from typing import Any

from hypothesis import strategies as st

from kam_policy.facts.enums import (
    CareerTrack,
    Dimension,
    Education,
    Phase,
    Role,
    Severity,
    Source,
    Tier,
    TrainingKind,
)

Record = dict[str, Any]
Facts = dict[str, list[Record]]
Draw = Any  # hypothesis' draw function

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


def values(enum: type[StrEnum]) -> tuple[str, ...]:
    """The values of a fact enum, in declaration order."""
    return tuple(member.value for member in enum)


ROLES = values(Role)
EDUCATION = values(Education)
CAREER_TRACKS = values(CareerTrack)
TIERS = values(Tier)
SEVERITIES = values(Severity)
DIMENSIONS = values(Dimension)
SOURCES = values(Source)
TRAINING_KINDS = values(TrainingKind)
PHASES = values(Phase)
# The ranked stages, in order: Stage without "lost", which an opportunity never passes.
STAGES = ("research", "contact", "needs_analysis", "proposal", "negotiation", "signed")

US = timedelta(microseconds=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
CST = timezone(timedelta(hours=8))
OFFSETS = (
    UTC,
    CST,
    timezone(timedelta(hours=-5)),
    timezone(timedelta(hours=5, minutes=30)),
    timezone(timedelta(hours=-9, minutes=-30)),
    timezone(timedelta(hours=14)),
)
# severity -> (response limit, resolution limit), section C
LIMITS = {
    "minor": (24 * HOUR, 120 * HOUR),
    "general": (8 * HOUR, 72 * HOUR),
    "major": (4 * HOUR, 48 * HOUR),
    "critical": (HOUR, 24 * HOUR),
}
# evaluation times whose calendar date differs from UTC's, at month and year ends
SPECIAL_NOWS = (
    datetime(2026, 11, 27, 9, 0, tzinfo=CST),
    datetime(2026, 3, 1, 0, 30, tzinfo=CST),
    datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5))),
    datetime(2026, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=-9, minutes=-30))),
    datetime(2027, 1, 1, 0, 0, tzinfo=CST),
)

YEARS = st.one_of(
    st.sampled_from(
        [
            0,
            1,
            2,
            3,
            Decimal("0.99"),
            Decimal("1.0"),
            Decimal("1.99"),
            Decimal("2.00"),
            Decimal("2.99"),
            Decimal("3.0"),
            Decimal("3.01"),
            10,
        ]
    ),
    st.decimals(min_value=0, max_value=100, places=1),
)
MONEY = st.one_of(
    st.sampled_from(
        [
            Decimal("0"),
            Decimal("0.01"),
            Decimal("1000"),
            Decimal("2500.50"),
            Decimal("3333.335"),
            Decimal("12345.67"),
            8000,
        ]
    ),
    st.decimals(min_value=0, max_value=10**9, places=2),
)
POSITIVE_MONEY = st.one_of(
    st.sampled_from([Decimal("1.1"), Decimal("1.5"), 1000, Decimal("12345.67"), 100000]),
    st.decimals(min_value=Decimal("0.01"), max_value=10**9, places=2),
)
BOUNDARY_SCORES = (
    0,
    59,
    Decimal("59.99"),
    60,
    Decimal("69.99"),
    70,
    Decimal("84.975"),
    Decimal("84.99"),
    85,
    89,
    Decimal("89.99"),
    90,
    Decimal("94.99"),
    95,
    100,
)
SCORES = st.one_of(
    st.sampled_from(BOUNDARY_SCORES),
    st.integers(0, 100),
    st.decimals(min_value=0, max_value=100, places=2),
)
MAJORS = st.sampled_from(
    [
        "marketing",
        "  Marketing ",
        "BUSINESS MANAGEMENT",
        "business  management",
        "Project Management ",
        " computer science",
        "Computer Science",
        "ELECTRONICS",
        "electronics engineering",
        "finance",
        "市场营销",
        "",
    ]
)
JITTER = st.one_of(
    st.sampled_from([timedelta(0), US, -US]),
    st.timedeltas(min_value=-3 * DAY, max_value=3 * DAY),
)
DAY_JITTER = st.one_of(st.sampled_from([0, 1, -1]), st.integers(-400, 400))

# ------------------------------------------------------------------------ helpers


def render(draw: Draw, moment: datetime) -> str:
    """``moment`` as ISO text in a drawn offset (UTC sometimes written ``Z``)."""
    text = moment.astimezone(draw(st.sampled_from(OFFSETS))).isoformat()
    return text.replace("+00:00", "Z") if draw(st.booleans()) else text


def around(draw: Draw, limits: Sequence[timedelta]) -> timedelta:
    """One of ``limits``, exactly, one microsecond either side, or a few days off."""
    limit: timedelta = draw(st.sampled_from(limits))
    jitter: timedelta = draw(JITTER)
    return limit + jitter


def days_around(draw: Draw, today: date, days: Sequence[int]) -> date:
    """A date ``days`` before ``today``, exactly, a day either side, or far off; never later."""
    return today - timedelta(days=max(0, draw(st.sampled_from(days)) + draw(DAY_JITTER)))


def drop_some_nulls(draw: Draw, record: Record) -> Record:
    """Leave out the null fields, sometimes (a nullable field may be left out)."""
    if draw(st.booleans()):
        return {k: v for k, v in record.items() if v is not None}
    return record


def month_run(draw: Draw, starts: Sequence[tuple[int, int]], longest: int) -> list[str]:
    """Consecutive ``YYYY-MM`` periods from a drawn start, possibly across a year end."""
    year, month = draw(st.sampled_from(starts))
    periods = []
    for _ in range(draw(st.integers(0, longest))):
        periods.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return periods


def month_starts(now: datetime) -> list[tuple[int, int]]:
    """Run starts near ``now``'s year and at the edges of a leap February and a year end."""
    year = now.year
    return [
        (year - 1, 11),
        (year - 1, 12),
        (year, 1),
        (year, 2),
        (year, max(now.month - 2, 1)),
        (2024, 1),
        (2025, 12),
    ]


def dumps_facts(facts: Facts, indent: int | None = None) -> str:
    """The facts as JSON text, each Decimal written as an exact JSON number."""

    def mark(value: object) -> str:
        if isinstance(value, Decimal):
            return f"\x00{value}\x00"
        raise TypeError(f"not JSON serialisable: {value!r}")

    text = json.dumps(facts, default=mark, indent=indent, ensure_ascii=False)
    return re.sub(r'"\\u0000([^"\\]*)\\u0000"', r"\1", text)


# ------------------------------------------------------------------ fact records


@st.composite
def nows(draw: Draw) -> datetime:
    """An aware evaluation time: a special month/year-end one or any in 2024-2028."""
    anywhere = st.datetimes(
        min_value=datetime(2024, 1, 1),
        max_value=datetime(2028, 12, 31),
        timezones=st.sampled_from(OFFSETS),
    )
    now: datetime = draw(st.one_of(st.sampled_from(SPECIAL_NOWS), anywhere))
    return now


@st.composite
def staff_records(draw: Draw, now: datetime, number: int) -> Record:
    """Staff ``S<number>``, managed by a lower-numbered staff member or nobody."""
    role = draw(st.sampled_from([*ROLES, None]))
    earlier = [f"S{i}" for i in range(1, number)]
    record: Record = {
        "id": f"S{number}",
        "name": draw(st.sampled_from(["Li Wei", "王芳", "Zhang Min", "Ann"])),
        "role": role,
        "education": draw(st.sampled_from(EDUCATION)),
        "major": draw(MAJORS),
        "sales_years": draw(YEARS),
        "ka_sales_years": draw(YEARS),
        "pm_years": draw(YEARS),
        "ka_project_years": draw(YEARS),
        "after_sales_years": draw(YEARS),
        "role_since": days_around(draw, now.date(), [365, 364, 366, 0]).isoformat()
        if role
        else None,
        "manager_id": draw(st.sampled_from([None, *earlier])) if earlier else None,
        "career_track": draw(st.sampled_from(CAREER_TRACKS)),
        "monthly_target_bonus": draw(st.one_of(st.none(), MONEY)),
    }
    return drop_some_nulls(draw, record)


@st.composite
def client_records(draw: Draw, now: datetime, number: int, staff_ids: list[str]) -> Record:
    """Client ``K<number>`` with contact and survey times near their limits."""
    tier = draw(st.sampled_from(TIERS))
    cadence = (14 if tier == "strategic" else 30) * DAY
    surveyed = draw(st.one_of(st.none(), st.just(days_around(draw, now.date(), [180, 181, 30]))))
    record: Record = {
        "id": f"K{number}",
        "name": f"Client {number}",
        "tier": tier,
        "owner_id": draw(st.sampled_from(staff_ids)),
        "last_contact_at": render(draw, now - around(draw, [cadence, 2 * cadence, DAY])),
        "last_survey_at": surveyed.isoformat() if surveyed else None,
        "last_survey_score": draw(st.one_of(st.none(), SCORES)),
    }
    return drop_some_nulls(draw, record)


def complaint_opened(draw: Draw, now: datetime, severity: str) -> datetime:
    """When a complaint opened: near a limit before ``now``, or near a new year."""
    respond, resolve = LIMITS[severity]
    if draw(st.integers(0, 4)) == 0:
        year = now.year - draw(st.integers(0, 1))
        start = datetime(year, 1, 1, tzinfo=draw(st.sampled_from(OFFSETS)))
        shift: timedelta = draw(st.sampled_from([-US, timedelta(0), timedelta(minutes=30)]))
        return start + shift
    return now - around(draw, [timedelta(0), respond, resolve, 2 * resolve, 30 * DAY])


def complaint_event(draw: Draw, now: datetime, after: datetime, limits: list[timedelta]) -> Any:
    """An event time ``after`` + a limit (+/- jitter), None when drawn so or after ``now``."""
    if draw(st.booleans()):
        return None
    moment = after + max(timedelta(0), around(draw, limits))
    return None if moment > now else moment


@st.composite
def complaint_records(
    draw: Draw,
    now: datetime,
    number: int,
    client_ids: list[str],
    staff_ids: list[str],
) -> Record:
    """Complaint ``C<number>`` with response and resolution times near their limits."""
    severity = draw(st.sampled_from(SEVERITIES))
    respond, resolve = LIMITS[severity]
    opened = complaint_opened(draw, now, severity)
    responded = complaint_event(draw, now, opened, [respond])
    resolved = complaint_event(draw, now, opened, [respond, resolve, 2 * resolve])
    notified = None if resolved is None else complaint_event(draw, now, resolved, [HOUR, DAY])
    record: Record = {
        "id": f"C{number}",
        "client_id": draw(st.sampled_from(client_ids)),
        "assigned_to": draw(st.sampled_from(staff_ids)),
        "severity": severity,
        "opened_at": render(draw, opened),
        "first_response_at": responded and render(draw, responded),
        "resolved_at": resolved and render(draw, resolved),
        "client_notified_at": notified and render(draw, notified),
        "reopened_count": draw(st.sampled_from([0, 0, 0, 1, 2, 3])),
    }
    return drop_some_nulls(draw, record)


@st.composite
def score_sets(draw: Draw) -> Record:
    """Appraisal scores: flat at a boundary, mixed, or partial (may lack a supervisor)."""
    mode = draw(st.sampled_from(["flat", "flat", "mixed", "partial"]))
    level = draw(st.sampled_from(BOUNDARY_SCORES))
    satisfaction = draw(st.one_of(st.just(level), st.sampled_from(BOUNDARY_SCORES)))
    scores: Record = {}
    for dimension in DIMENSIONS:
        if mode == "partial" and draw(st.integers(0, 5)) == 0:
            continue
        sources = [s for s in SOURCES if s == "supervisor" or draw(st.booleans())]
        if mode == "partial" and draw(st.integers(0, 3)) == 0:
            sources = [s for s in sources if s != "supervisor"]
        value = satisfaction if dimension == "satisfaction" else level
        scores[dimension] = {s: value if mode == "flat" else draw(SCORES) for s in sources}
    return scores


def appraisal_periods(draw: Draw, now: datetime) -> list[tuple[str, str]]:
    """(kind, period) pairs for one staff member: some years and a run of months."""
    years = draw(st.lists(st.sampled_from([str(now.year - k) for k in range(3)]), unique=True))
    months = month_run(draw, month_starts(now), 5)
    return [("annual", y) for y in years] + [("monthly", m) for m in months]


@st.composite
def appraisal_records(draw: Draw, now: datetime, staff_ids: list[str]) -> list[Record]:
    """Appraisals ``P<n>``, at most one per (staff, kind, period); scores often repeat."""
    records: list[Record] = []
    for staff_id in draw(st.lists(st.sampled_from(staff_ids), unique=True)):
        habitual = draw(score_sets())
        for kind, period in appraisal_periods(draw, now):
            scores = habitual if draw(st.booleans()) else draw(score_sets())
            records.append(
                {
                    "id": f"P{len(records) + 1}",
                    "staff_id": staff_id,
                    "kind": kind,
                    "period": period,
                    "scores": scores,
                }
            )
    return records


@st.composite
def training_records(draw: Draw, now: datetime, number: int, staff_ids: list[str]) -> Record:
    """Training ``T<number>`` with an exam score near 90, or none."""
    score = st.sampled_from([None, 0, 89, Decimal("89.99"), 90, Decimal("90.0"), 100])
    record: Record = {
        "id": f"T{number}",
        "staff_id": draw(st.sampled_from(staff_ids)),
        "course": draw(st.sampled_from(["Key account basics", "大客户谈判", "Site visit"])),
        "kind": draw(st.sampled_from(TRAINING_KINDS)),
        "completed_on": days_around(draw, now.date(), [30]).isoformat(),
        "exam_score": draw(st.one_of(score, SCORES)),
    }
    return drop_some_nulls(draw, record)


@st.composite
def sales_result_records(draw: Draw, now: datetime, staff_ids: list[str]) -> list[Record]:
    """SalesResults, one per (staff, period), with attainment near 0.8 and 0.6."""
    ratios = [Decimal(r) for r in ("0", "0.5", "0.59", "0.6", "0.61", "0.79", "0.8", "0.81", "1.2")]
    records = []
    for staff_id in draw(st.lists(st.sampled_from(staff_ids), unique=True)):
        for period in month_run(draw, month_starts(now), 4):
            target = draw(POSITIVE_MONEY)
            actual = target * draw(st.sampled_from(ratios))
            actual += draw(st.sampled_from([Decimal(0), Decimal("0.01")]))
            records.append(
                {"staff_id": staff_id, "period": period, "target": target, "actual": actual}
            )
    return records


def project_dates(draw: Draw, today: date) -> dict[str, str]:
    """start, planned_end and forecast_end with a slip near 15% of the planned span."""
    start = today - timedelta(days=draw(st.integers(0, 400)))
    span = draw(st.one_of(st.sampled_from([1, 7, 20, 100, 365]), st.integers(0, 500)))
    edge = span * 15 // 100
    slip = draw(st.one_of(st.sampled_from([edge, edge + 1, 0, -5]), st.integers(-30, 200)))
    planned = start + timedelta(days=span)
    return {
        "start": start.isoformat(),
        "planned_end": planned.isoformat(),
        "forecast_end": (planned + timedelta(days=slip)).isoformat(),
    }


def project_review(draw: Draw, today: date, phase: str) -> dict[str, Any]:
    """accepted_on / review_done_on consistent with the phase, 30 days being the edge."""
    if PHASES.index(phase) < PHASES.index("acceptance") or draw(st.booleans()):
        return {"accepted_on": None, "review_done_on": None}
    accepted = days_around(draw, today, [30, 31, 29])
    done = draw(st.one_of(st.none(), st.integers(0, 40)))
    reviewed = None if done is None else (accepted + timedelta(days=done)).isoformat()
    return {"accepted_on": accepted.isoformat(), "review_done_on": reviewed}


@st.composite
def project_records(
    draw: Draw,
    now: datetime,
    number: int,
    client_ids: list[str],
    staff_ids: list[str],
) -> Record:
    """Project ``PR<number>`` in any phase, cost near 110% of budget."""
    phase = draw(st.sampled_from(PHASES))
    budget = draw(MONEY)
    cost = budget * Decimal("1.10") + draw(st.sampled_from([Decimal(0), Decimal("0.01")]))
    record: Record = {
        "id": f"PR{number}",
        "client_id": draw(st.sampled_from(client_ids)),
        "manager_id": draw(st.sampled_from(staff_ids)),
        "phase": phase,
        "design_review_approved": draw(st.booleans()),
        "client_signoff": draw(st.booleans()),
        "budget": budget,
        "actual_cost": draw(st.one_of(st.just(cost), MONEY)),
        **project_dates(draw, now.date()),
        **project_review(draw, now.date(), phase),
    }
    return drop_some_nulls(draw, record)


@st.composite
def opportunity_records(
    draw: Draw,
    now: datetime,
    number: int,
    client_ids: list[str],
    staff_ids: list[str],
) -> Record:
    """Opportunity ``O<number>``, stages passed in order (some skipped), idle near 30 days."""
    stage = draw(st.sampled_from([*STAGES, "lost"]))
    upto = STAGES.index("signed") if stage == "lost" else STAGES.index(stage) + 1
    passed = [s for s in STAGES[:upto] if draw(st.integers(0, 4)) > 0]
    return {
        "id": f"O{number}",
        "client_id": draw(st.sampled_from(client_ids)),
        "owner_id": draw(st.sampled_from(staff_ids)),
        "stage": stage,
        "stages_passed": passed,
        "last_activity_at": render(draw, now - around(draw, [30 * DAY])),
    }


@st.composite
def application_records(draw: Draw, number: int, staff_ids: list[str]) -> Record:
    """Application ``A<number>`` of a staff member for a role."""
    return {
        "id": f"A{number}",
        "staff_id": draw(st.sampled_from(staff_ids)),
        "role": draw(st.sampled_from(ROLES)),
    }


# ------------------------------------------------------------------ whole fact sets


def numbered(draw: Draw, most: int, make: Any) -> list[Record]:
    """Up to ``most`` records ``make(number)``, numbered from 1."""
    return [draw(make(n)) for n in range(1, draw(st.integers(0, most)) + 1)]


def empty_facts() -> Facts:
    """A facts object with every top-level key and no records."""
    return {key: [] for key in FACT_KEYS}


def people(draw: Draw, now: datetime, most: int) -> tuple[list[Record], list[str]]:
    """1..``most`` staff records and their ids."""
    staff = [draw(staff_records(now, n)) for n in range(1, draw(st.integers(1, most)) + 1)]
    return staff, [s["id"] for s in staff]


def complaints_for(draw: Draw, now: datetime, staff_ids: list[str], most: int) -> Facts:
    """Clients (1..3, so that several complaints can share one) and their complaints."""
    clients = numbered(draw, 3, lambda n: client_records(now, n, staff_ids)) or [
        draw(client_records(now, 1, staff_ids))
    ]
    client_ids = [c["id"] for c in clients]
    complaints = numbered(draw, most, lambda n: complaint_records(now, n, client_ids, staff_ids))
    return {"clients": clients, "complaints": complaints}


@st.composite
def fact_sets(draw: Draw) -> tuple[Facts, datetime]:
    """A valid fact set over the whole schema, and the ``now`` to judge it at."""
    now = draw(nows())
    staff, ids = people(draw, now, 6)
    facts = empty_facts() | {"staff": staff} | complaints_for(draw, now, ids, 8)
    clients = [c["id"] for c in facts["clients"]]
    facts["applications"] = numbered(draw, 3, lambda n: application_records(n, ids))
    facts["appraisals"] = draw(appraisal_records(now, ids))
    facts["trainings"] = numbered(draw, 3, lambda n: training_records(now, n, ids))
    facts["sales_results"] = draw(sales_result_records(now, ids))
    facts["projects"] = numbered(draw, 3, lambda n: project_records(now, n, clients, ids))
    facts["opportunities"] = numbered(draw, 3, lambda n: opportunity_records(now, n, clients, ids))
    return facts, now


@st.composite
def complaint_sets(draw: Draw) -> tuple[Facts, datetime]:
    """Staff, clients and many complaints (section C), with ``now``."""
    now = draw(nows())
    staff, ids = people(draw, now, 4)
    return empty_facts() | {"staff": staff} | complaints_for(draw, now, ids, 12), now


@st.composite
def appraisal_sets(draw: Draw) -> tuple[Facts, datetime]:
    """Staff, appraisals, and complaints that can cost an honor (sections D, E), with ``now``."""
    now = draw(nows())
    staff, ids = people(draw, now, 5)
    facts = empty_facts() | {"staff": staff} | complaints_for(draw, now, ids, 4)
    facts["appraisals"] = draw(appraisal_records(now, ids))
    return facts, now
