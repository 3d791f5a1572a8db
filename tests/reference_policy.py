"""Reference policy: a facts JSON object and ``now`` -> the conclusions of sections B-H.

An independent, plain-Python oracle for the bundled policy described in
``shared/spec/reference-policy.md``. It deliberately shares no code with
``kam_policy``: tests compare the engine's decisions with what this module says.

Arithmetic is exact (``Fraction`` throughout, rounding half up to 2 decimals only
when a value is formatted); time is exact to the microsecond (aware ``datetime``
arithmetic). The input is assumed valid (see section A of the spec): this module
does not validate, it only reads.
"""

from __future__ import annotations

import calendar
import json
import math
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import cached_property
from typing import Any

Record = Mapping[str, Any]
Conclusion = dict[str, Any]

# --------------------------------------------------------------------------- values


def exact(value: object) -> Fraction:
    """The exact value of a decimal field: an int, a Decimal, a float or a numeric string.

    Args:
        value: the field as it came out of ``json.loads(parse_float=Decimal)``.

    Returns:
        The value as a Fraction (a float is read by its shortest repr, as JSON wrote it).
    """
    if isinstance(value, bool) or value is None:
        raise TypeError(f"not a decimal: {value!r}")
    if isinstance(value, float):
        return Fraction(Decimal(repr(value)))
    if isinstance(value, str):
        return Fraction(Decimal(value.strip()))
    if isinstance(value, int | Decimal | Fraction):
        return Fraction(value)
    raise TypeError(f"not a decimal: {value!r}")


def round_half_up(value: Fraction) -> int:
    """The integer nearest to ``value``, halves rounded away from zero."""
    magnitude = math.floor(abs(value) + Fraction(1, 2))
    return magnitude if value >= 0 else -magnitude


def fmt2(value: Fraction) -> str:
    """``value`` as a string with exactly 2 decimals, rounded half up ("1.20", "85.00")."""
    cents = round_half_up(value * 100)
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{whole}.{frac:02d}"


def parse_datetime(text: str) -> datetime:
    """An aware datetime from ISO 8601 text; a naive one is an input error."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime: {text!r}")
    return moment


def optional_datetime(record: Record, field: str) -> datetime | None:
    """The datetime in ``record[field]``, or None when the field is null or left out."""
    text = record.get(field)
    return None if text is None else parse_datetime(text)


def optional_date(record: Record, field: str) -> date | None:
    """The date in ``record[field]``, or None when the field is null or left out."""
    text = record.get(field)
    return None if text is None else date.fromisoformat(text)


def days_since(today: date, earlier: date) -> int:
    """Whole days from ``earlier`` to ``today`` (``now`` as its calendar date)."""
    return (today - earlier).days


def parse_month(period: str) -> tuple[int, int]:
    """``"2026-10"`` -> ``(2026, 10)``."""
    year, month = period.split("-")
    return int(year), int(month)


def format_month(year: int, month: int) -> str:
    """``(2026, 1)`` -> ``"2026-01"``."""
    return f"{year:04d}-{month:02d}"


def previous_month(period: str) -> str:
    """The month before ``period``; January's is the previous year's December."""
    year, month = parse_month(period)
    return format_month(year - 1, 12) if month == 1 else format_month(year, month - 1)


def last_day_of_month(period: str) -> date:
    """The last calendar day of the month ``period`` (leap Februaries included)."""
    year, month = parse_month(period)
    return date(year, month, calendar.monthrange(year, month)[1])


def conclusion(name: str, subject_type: str, subject_id: Any, **values: Any) -> Conclusion:
    """One conclusion in the JSON shape of section I (without rule id and location)."""
    return {"name": name, "subject": {"type": subject_type, "id": subject_id}, "values": values}


def sort_key(item: Conclusion) -> tuple[str, Any, str, str]:
    """Order: subject type, subject id, name, then the values as canonical JSON."""
    subject = item["subject"]
    return (
        subject["type"],
        subject["id"],
        item["name"],
        json.dumps(item["values"], sort_keys=True),
    )


# -------------------------------------------------------------------------- context


@dataclass(frozen=True)
class Context:
    """The facts of one evaluation, indexed, and the evaluation time."""

    facts: Mapping[str, list[Record]]
    now: datetime

    @property
    def today(self) -> date:
        """``now`` as its calendar date in its own UTC offset."""
        return self.now.date()

    def records(self, key: str) -> list[Record]:
        """The records under a top-level key (an absent key is an empty list)."""
        return list(self.facts.get(key) or [])

    @cached_property
    def staff_by_id(self) -> dict[Any, Record]:
        """Staff records by id."""
        return {s["id"]: s for s in self.records("staff")}

    def staff(self, staff_id: Any) -> Record:
        """The Staff record with id ``staff_id``."""
        return self.staff_by_id[staff_id]

    def manager_of(self, staff_id: Any) -> Any:
        """The manager id of a staff member, or None for the top."""
        return self.staff(staff_id).get("manager_id")


# ----------------------------------------------------------- B. role eligibility

EDUCATION = ("high_school", "associate", "bachelor", "master", "doctorate")


@dataclass(frozen=True)
class RoleRequirement:
    """What section B asks of an applicant for one role."""

    min_education: str
    experience: tuple[tuple[str, int], ...]
    ka_experience: tuple[tuple[str, int], ...]
    preferred_majors: frozenset[str]


ROLE_REQUIREMENTS: dict[str, RoleRequirement] = {
    "sales_rep": RoleRequirement(
        "bachelor",
        (("sales_years", 3),),
        (("ka_sales_years", 1),),
        frozenset({"marketing", "business management"}),
    ),
    "project_manager": RoleRequirement(
        "bachelor",
        (("pm_years", 3),),
        (("ka_project_years", 1),),
        frozenset({"project management", "computer science"}),
    ),
    "after_sales": RoleRequirement(
        "associate",
        (("after_sales_years", 2),),
        (),
        frozenset({"computer science", "electronics"}),
    ),
}


def meets(staff: Record, minimums: tuple[tuple[str, int], ...]) -> bool:
    """Whether every ``field >= minimum`` holds (an empty list always holds)."""
    return all(exact(staff[field]) >= minimum for field, minimum in minimums)


def unmet_requirements(staff: Record, requirement: RoleRequirement) -> list[str]:
    """The reason codes of every unmet requirement, in the order of section B."""
    checks = (
        (
            "education",
            EDUCATION.index(staff["education"]) >= EDUCATION.index(requirement.min_education),
        ),
        ("experience", meets(staff, requirement.experience)),
        ("ka_experience", meets(staff, requirement.ka_experience)),
    )
    return [code for code, ok in checks if not ok]


def is_preferred_major(major: str, requirement: RoleRequirement) -> bool:
    """Whether the major is preferred, case-insensitively after trimming surrounding spaces."""
    return major.strip().lower() in requirement.preferred_majors


def judge_application(application: Record, staff: Record) -> Iterator[Conclusion]:
    """eligible (+ preferred_candidate) or ineligible for one application."""
    role = application["role"]
    requirement = ROLE_REQUIREMENTS[role]
    reasons = unmet_requirements(staff, requirement)
    subject = ("application", application["id"])
    if reasons:
        yield conclusion("ineligible", *subject, role=role, reasons=reasons)
        return
    yield conclusion("eligible", *subject, role=role)
    if is_preferred_major(staff["major"], requirement):
        yield conclusion("preferred_candidate", *subject, role=role)


def section_b(ctx: Context) -> Iterator[Conclusion]:
    """B. Role eligibility, for every application."""
    for application in ctx.records("applications"):
        yield from judge_application(application, ctx.staff(application["staff_id"]))


# ------------------------------------------------------------------ C. complaints

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

# severity -> (response limit, resolution limit)
COMPLAINT_LIMITS: dict[str, tuple[timedelta, timedelta]] = {
    "minor": (24 * HOUR, 120 * HOUR),
    "general": (8 * HOUR, 72 * HOUR),
    "major": (4 * HOUR, 48 * HOUR),
    "critical": (1 * HOUR, 24 * HOUR),
}
SERIOUS = frozenset({"major", "critical"})
ESCALATION_TARGETS = {1: "manager", 2: "department_head", 3: "executive"}


def response_time(complaint: Record, now: datetime) -> timedelta:
    """``(first_response_at or resolved_at or now) - opened_at``."""
    opened = parse_datetime(complaint["opened_at"])
    responded = optional_datetime(complaint, "first_response_at")
    resolved = optional_datetime(complaint, "resolved_at")
    return (responded or resolved or now) - opened


def resolution_time(complaint: Record, now: datetime) -> timedelta:
    """``(resolved_at or now) - opened_at``."""
    opened = parse_datetime(complaint["opened_at"])
    return (optional_datetime(complaint, "resolved_at") or now) - opened


def escalation_level(complaint: Record, now: datetime) -> int:
    """The highest escalation level that applies (0 when none does)."""
    respond_limit, resolve_limit = COMPLAINT_LIMITS[complaint["severity"]]
    resolving = resolution_time(complaint, now)
    reopened = int(complaint["reopened_count"])
    if resolving > 2 * resolve_limit or reopened >= 2:
        return 3
    if resolving > resolve_limit or reopened >= 1:
        return 2
    return 1 if response_time(complaint, now) > respond_limit else 0


def escalation(ctx: Context, complaint: Record, level: int) -> Conclusion:
    """The escalation conclusion of one level (level 1 names the assignee's manager)."""
    extra = {"manager_id": ctx.manager_of(complaint["assigned_to"])} if level == 1 else {}
    return conclusion(
        "escalation",
        "complaint",
        complaint["id"],
        level=level,
        to=ESCALATION_TARGETS[level],
        **extra,
    )


def notice_overdue(complaint: Record, now: datetime) -> bool:
    """Resolved, client not notified, and more than 24h since the resolution."""
    resolved = optional_datetime(complaint, "resolved_at")
    notified = complaint.get("client_notified_at")
    return resolved is not None and notified is None and now - resolved > 24 * HOUR


def judge_complaint(ctx: Context, complaint: Record) -> Iterator[Conclusion]:
    """task_force, escalation and client_notice_overdue for one complaint."""
    if complaint["severity"] in SERIOUS:
        yield conclusion("task_force", "complaint", complaint["id"])
    level = escalation_level(complaint, ctx.now)
    if level:
        yield escalation(ctx, complaint, level)
    if notice_overdue(complaint, ctx.now):
        yield conclusion("client_notice_overdue", "complaint", complaint["id"])


def account_reviews(ctx: Context) -> Iterator[Conclusion]:
    """account_review for each client with >= 3 complaints opened in (now - 30d, now]."""
    window_start = ctx.now - 30 * DAY
    counts = Counter(
        c["client_id"]
        for c in ctx.records("complaints")
        if window_start < parse_datetime(c["opened_at"]) <= ctx.now
    )
    for client_id, count in counts.items():
        if count >= 3:
            yield conclusion("account_review", "client", client_id)


def section_c(ctx: Context) -> Iterator[Conclusion]:
    """C. Complaints: response, resolution, escalation."""
    for complaint in ctx.records("complaints"):
        yield from judge_complaint(ctx, complaint)
    yield from account_reviews(ctx)


# ------------------------------------------------------------------- D. appraisal

DIMENSIONS = ("performance", "attitude", "teamwork", "satisfaction")
SOURCE_WEIGHTS = {"supervisor": Fraction(5, 10), "peer": Fraction(2, 10), "client": Fraction(3, 10)}
ROLE_WEIGHTS: dict[str, dict[str, int]] = {
    "sales_rep": dict(zip(DIMENSIONS, (50, 15, 15, 20), strict=True)),
    "project_manager": dict(zip(DIMENSIONS, (40, 15, 25, 20), strict=True)),
    "after_sales": dict(zip(DIMENSIONS, (30, 20, 15, 35), strict=True)),
}


@dataclass(frozen=True)
class Graded:
    """A complete appraisal with its exact total, dimension scores and grade."""

    appraisal: Record
    total: Fraction
    dimensions: dict[str, Fraction]
    grade: str

    @property
    def key(self) -> tuple[Any, str, str]:
        """(staff id, kind, period): unique among appraisals."""
        return (self.appraisal["staff_id"], self.appraisal["kind"], self.appraisal["period"])


def dimension_score(sources: Mapping[str, Any]) -> Fraction:
    """``sum(weight[s] * score[s]) / sum(weight[s])`` over the sources present."""
    present = {s: exact(v) for s, v in sources.items() if s in SOURCE_WEIGHTS and v is not None}
    weights = sum((SOURCE_WEIGHTS[s] for s in present), Fraction(0))
    return sum((SOURCE_WEIGHTS[s] * score for s, score in present.items()), Fraction(0)) / weights


def missing_parts(appraisal: Record, staff: Record) -> list[str]:
    """Dimensions without a supervisor score, in order, then "role" for a roleless staff."""
    scores = appraisal.get("scores") or {}
    missing = [d for d in DIMENSIONS if (scores.get(d) or {}).get("supervisor") is None]
    return missing + ([] if staff.get("role") else ["role"])


def grade_of(total: Fraction, satisfaction: Fraction) -> str:
    """The grade table of section D, first match wins, on the exact values."""
    if total >= 95 and satisfaction >= 90:
        return "S"
    thresholds = (("A", 85), ("B", 70), ("C", 60))
    return next((grade for grade, floor in thresholds if total >= floor), "D")


def grade_appraisal(appraisal: Record, staff: Record) -> Graded:
    """Grade a complete appraisal with the weights of the staff member's current role."""
    dimensions = {d: dimension_score(appraisal["scores"][d]) for d in DIMENSIONS}
    weights = ROLE_WEIGHTS[staff["role"]]
    total = sum((weights[d] * dimensions[d] for d in DIMENSIONS), Fraction(0)) / 100
    return Graded(appraisal, total, dimensions, grade_of(total, dimensions["satisfaction"]))


def assess(ctx: Context, appraisal: Record) -> Graded | list[str]:
    """A Graded appraisal, or the list of what is missing to grade it."""
    staff = ctx.staff(appraisal["staff_id"])
    missing = missing_parts(appraisal, staff)
    return missing if missing else grade_appraisal(appraisal, staff)


def graded_appraisals(ctx: Context) -> dict[tuple[Any, str, str], Graded]:
    """Every complete appraisal, by (staff id, kind, period)."""
    assessed = (assess(ctx, a) for a in ctx.records("appraisals"))
    return {g.key: g for g in assessed if isinstance(g, Graded)}


def section_d(ctx: Context) -> Iterator[Conclusion]:
    """D. Appraisal: grade or appraisal_incomplete, subject the appraisal."""
    for appraisal in ctx.records("appraisals"):
        result = assess(ctx, appraisal)
        subject = ("appraisal", appraisal["id"])
        if isinstance(result, Graded):
            yield conclusion(
                "grade",
                *subject,
                kind=appraisal["kind"],
                period=appraisal["period"],
                grade=result.grade,
                score=fmt2(result.total),
            )
        else:
            yield conclusion("appraisal_incomplete", *subject, missing=result)


# ---------------------------------------------------------- E. rewards, incentives

BONUS_MULTIPLIERS = {
    "S": Fraction(3, 2),
    "A": Fraction(6, 5),
    "B": Fraction(1),
    "C": Fraction(3, 5),
    "D": Fraction(0),
}
SALARY_PERCENTS = {"S": 10, "A": 6, "B": 3, "C": 0, "D": 0}
TRAINING_AMOUNTS = {"external": 2000, "internal": 1000}
A_OR_BETTER = frozenset({"S", "A"})


def monthly_reward(ctx: Context, graded: Graded) -> Conclusion:
    """bonus(period, multiplier, amount) for a graded monthly appraisal."""
    multiplier = BONUS_MULTIPLIERS[graded.grade]
    target = ctx.staff(graded.appraisal["staff_id"]).get("monthly_target_bonus")
    amount = None if target is None else fmt2(multiplier * exact(target))
    return conclusion(
        "bonus",
        "appraisal",
        graded.appraisal["id"],
        period=graded.appraisal["period"],
        multiplier=fmt2(multiplier),
        amount=amount,
    )


def annual_reward(graded: Graded) -> Conclusion:
    """salary_adjustment(period, percent) for a graded annual appraisal."""
    percent = Fraction(SALARY_PERCENTS[graded.grade])
    return conclusion(
        "salary_adjustment",
        "appraisal",
        graded.appraisal["id"],
        period=graded.appraisal["period"],
        percent=fmt2(percent),
    )


def improvement_plans(graded: Mapping[tuple[Any, str, str], Graded]) -> Iterator[Conclusion]:
    """improvement_plan for an annual D, and for a monthly D following a monthly D."""
    for (staff_id, kind, period), result in graded.items():
        if result.grade != "D":
            continue
        if kind == "annual":
            yield conclusion(
                "improvement_plan", "staff", staff_id, reason="annual_d", period=period
            )
            continue
        before = graded.get((staff_id, "monthly", previous_month(period)))
        if before is not None and before.grade == "D":
            yield conclusion(
                "improvement_plan",
                "staff",
                staff_id,
                reason="consecutive_monthly_d",
                period=period,
            )


def has_monthly_d(graded: Mapping[tuple[Any, str, str], Graded], staff_id: Any, year: str) -> bool:
    """Whether the staff member has a graded monthly D in a month of ``year``."""
    return any(
        key[0] == staff_id
        and key[1] == "monthly"
        and key[2].startswith(f"{year}-")
        and result.grade == "D"
        for key, result in graded.items()
    )


def served_a_year(ctx: Context, staff: Record) -> bool:
    """``now - role_since >= 365d`` in whole calendar days; no role_since is never."""
    since = optional_date(staff, "role_since")
    return since is not None and days_since(ctx.today, since) >= 365


def promotion_grades_ok(graded: Mapping[tuple[Any, str, str], Graded], annual: Graded) -> bool:
    """Annual S in Y, or annual A-or-better in both Y and Y-1."""
    if annual.grade == "S":
        return True
    staff_id, _, period = annual.key
    before = graded.get((staff_id, "annual", str(int(period) - 1)))
    return annual.grade in A_OR_BETTER and before is not None and before.grade in A_OR_BETTER


def promotion(
    ctx: Context,
    graded: Mapping[tuple[Any, str, str], Graded],
    annual: Graded,
) -> Iterator[Conclusion]:
    """promotion_candidate(period, track) for one graded annual appraisal, if earned."""
    staff = ctx.staff(annual.appraisal["staff_id"])
    year = annual.appraisal["period"]
    if (
        promotion_grades_ok(graded, annual)
        and not has_monthly_d(graded, staff["id"], year)
        and served_a_year(ctx, staff)
    ):
        yield conclusion(
            "promotion_candidate",
            "staff",
            staff["id"],
            period=year,
            track=staff["career_track"],
        )


def serious_complaint_in_year(ctx: Context, staff_id: Any, year: str) -> bool:
    """A major/critical complaint assigned to the staff member opened in ``year`` (own offset)."""
    return any(
        c["assigned_to"] == staff_id
        and c["severity"] in SERIOUS
        and parse_datetime(c["opened_at"]).year == int(year)
        for c in ctx.records("complaints")
    )


def honor(ctx: Context, annual: Graded) -> Iterator[Conclusion]:
    """honor("key_account_star", period) for one graded annual appraisal, if earned."""
    staff_id, _, year = annual.key
    if (
        annual.grade == "S"
        and annual.dimensions["satisfaction"] >= 95
        and not serious_complaint_in_year(ctx, staff_id, year)
    ):
        yield conclusion("honor", "staff", staff_id, kind="key_account_star", period=year)


def training_rewards(ctx: Context) -> Iterator[Conclusion]:
    """training_reward(training_id, amount) for an external/internal exam score >= 90."""
    for training in ctx.records("trainings"):
        score = training.get("exam_score")
        amount = TRAINING_AMOUNTS.get(training["kind"])
        if score is not None and amount is not None and exact(score) >= 90:
            yield conclusion(
                "training_reward",
                "staff",
                training["staff_id"],
                training_id=training["id"],
                amount=fmt2(Fraction(amount)),
            )


def section_e(ctx: Context) -> Iterator[Conclusion]:
    """E. Rewards and incentives."""
    graded = graded_appraisals(ctx)
    for result in graded.values():
        if result.appraisal["kind"] == "monthly":
            yield monthly_reward(ctx, result)
        else:
            yield annual_reward(result)
            yield from promotion(ctx, graded, result)
            yield from honor(ctx, result)
    yield from improvement_plans(graded)
    yield from training_rewards(ctx)


# ----------------------------------------------------------- F. client maintenance

CONTACT_CADENCE = {"strategic": 14 * DAY, "key": 30 * DAY}


def contact(ctx: Context, client: Record) -> Iterator[Conclusion]:
    """contact_overdue, or contact_escalation past twice the cadence."""
    cadence = CONTACT_CADENCE[client["tier"]]
    elapsed = ctx.now - parse_datetime(client["last_contact_at"])
    if elapsed > 2 * cadence:
        manager = ctx.manager_of(client["owner_id"])
        yield conclusion("contact_escalation", "client", client["id"], manager_id=manager)
    elif elapsed > cadence:
        yield conclusion("contact_overdue", "client", client["id"], owner_id=client["owner_id"])


def survey(ctx: Context, client: Record) -> Iterator[Conclusion]:
    """survey_due and account_improvement_plan for one client."""
    surveyed = optional_date(client, "last_survey_at")
    if surveyed is None or days_since(ctx.today, surveyed) > 180:
        yield conclusion("survey_due", "client", client["id"])
    score = client.get("last_survey_score")
    if score is not None and exact(score) < 60:
        yield conclusion("account_improvement_plan", "client", client["id"])


def section_f(ctx: Context) -> Iterator[Conclusion]:
    """F. Client maintenance and satisfaction surveys."""
    for client in ctx.records("clients"):
        yield from contact(ctx, client)
        yield from survey(ctx, client)


# ------------------------------------------------------- G. projects, development

PHASES = (
    "initiation",
    "requirements",
    "design",
    "implementation",
    "acceptance",
    "review",
    "closed",
)
STAGES = ("research", "contact", "needs_analysis", "proposal", "negotiation", "signed")


def gate_violations(project: Record) -> Iterator[Conclusion]:
    """gate_violation(design_not_approved / no_client_signoff) for one project."""
    phase = PHASES.index(project["phase"])
    if phase >= PHASES.index("implementation") and not project["design_review_approved"]:
        yield conclusion("gate_violation", "project", project["id"], kind="design_not_approved")
    if phase >= PHASES.index("review") and not project["client_signoff"]:
        yield conclusion("gate_violation", "project", project["id"], kind="no_client_signoff")


def project_risks(project: Record) -> Iterator[Conclusion]:
    """project_risk(budget / schedule) for one project, on exact values and day counts."""
    if exact(project["actual_cost"]) > Fraction(11, 10) * exact(project["budget"]):
        yield conclusion("project_risk", "project", project["id"], kind="budget")
    start, planned, forecast = (
        date.fromisoformat(project[f]) for f in ("start", "planned_end", "forecast_end")
    )
    if (forecast - planned).days > Fraction(15, 100) * (planned - start).days:
        yield conclusion("project_risk", "project", project["id"], kind="schedule")


def review_overdue(ctx: Context, project: Record) -> Iterator[Conclusion]:
    """review_overdue: accepted more than 30 whole days ago and not reviewed."""
    accepted = optional_date(project, "accepted_on")
    done = project.get("review_done_on")
    if accepted is not None and done is None and days_since(ctx.today, accepted) > 30:
        yield conclusion("review_overdue", "project", project["id"])


def opportunity_checks(ctx: Context, opportunity: Record) -> Iterator[Conclusion]:
    """stale_opportunity and process_violation for one opportunity."""
    stage = opportunity["stage"]
    subject = ("opportunity", opportunity["id"])
    if stage not in ("signed", "lost"):
        idle = ctx.now - parse_datetime(opportunity["last_activity_at"])
        if idle > 30 * DAY:
            yield conclusion("stale_opportunity", *subject, owner_id=opportunity["owner_id"])
    if stage == "lost":
        return
    passed = set(opportunity["stages_passed"])
    missing = [s for s in STAGES[: STAGES.index(stage)] if s not in passed]
    if missing:
        yield conclusion("process_violation", *subject, kind="skipped_stage", missing=missing)


def section_g(ctx: Context) -> Iterator[Conclusion]:
    """G. Projects and client development."""
    for project in ctx.records("projects"):
        yield from gate_violations(project)
        yield from project_risks(project)
        yield from review_overdue(ctx, project)
    for opportunity in ctx.records("opportunities"):
        yield from opportunity_checks(ctx, opportunity)


# ------------------------------------------------------------------ H. supervision


def attainment(result: Record) -> Fraction:
    """``actual / target``, exactly."""
    return exact(result["actual"]) / exact(result["target"])


def section_h(ctx: Context) -> Iterator[Conclusion]:
    """H. Supervision: rectification_notice and supervisor_review, subject the staff."""
    results = ctx.records("sales_results")
    by_month = {(r["staff_id"], r["period"]): attainment(r) for r in results}
    for result in results:
        staff_id, period = result["staff_id"], result["period"]
        ratio = by_month[(staff_id, period)]
        if ratio < Fraction(8, 10):
            deadline = last_day_of_month(period) + 30 * DAY
            yield conclusion(
                "rectification_notice",
                "staff",
                staff_id,
                period=period,
                deadline=deadline.isoformat(),
            )
        before = by_month.get((staff_id, previous_month(period)))
        if ratio < Fraction(6, 10) and before is not None and before < Fraction(6, 10):
            yield conclusion("supervisor_review", "staff", staff_id, period=period)


# ------------------------------------------------------------------- entry point

SECTIONS: tuple[Callable[[Context], Iterator[Conclusion]], ...] = (
    section_b,
    section_c,
    section_d,
    section_e,
    section_f,
    section_g,
    section_h,
)


def expected_conclusions(facts: Mapping[str, Any], now: datetime) -> list[Conclusion]:
    """Every conclusion the reference policy draws from ``facts`` at ``now``.

    Args:
        facts: the facts JSON object, parsed with ``json.loads(parse_float=Decimal)``
            (decimals may also be ints, floats or numeric strings; a nullable field may
            be left out; an absent top-level key is an empty list).
        now: the evaluation time, an aware datetime.

    Returns:
        ``{"name", "subject": {"type", "id"}, "values"}`` dicts in the JSON format of
        section I, sorted by subject type, subject id, name and canonical values JSON.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    ctx = Context(facts, now)
    found = [item for section in SECTIONS for item in section(ctx)]
    return sorted(found, key=sort_key)


def conclusion_counts(conclusions: list[Conclusion]) -> dict[str, int]:
    """How many conclusions of each name, sorted by name."""
    return dict(sorted(Counter(c["name"] for c in conclusions).items()))
