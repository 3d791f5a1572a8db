"""The floor: the workloads' policy hand-written in plain Python with ``Decimal``.

Each ``wN`` function takes the records of a validated ``FactSet`` (or, end to end, the
lightweight records ``from_json`` builds) and returns the conclusions as
``(name, subject type, subject id, values)`` with the values in their JSON form (section I).

Arithmetic is exact without fractions: the source weights are scaled to tenths
(supervisor 5, peer 2, client 3), so a dimension score is ``num / den`` with ``den`` one of
5, 7, 8 or 10; multiplying the total by 100 * 280 (280 = lcm(5, 7, 8, 10)) makes it an exact
``Decimal``, compared against scaled thresholds and rounded half up by integer division.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from types import SimpleNamespace
from typing import Any

Conclusion = tuple[str, str, str, dict[str, Any]]

DIMENSIONS = ("performance", "attitude", "teamwork", "satisfaction")
SOURCE_TENTHS = {"supervisor": 5, "peer": 2, "client": 3}
LCM = 280
SCALE = 100 * LCM
ROLE_WEIGHTS = {
    "sales_rep": (50, 15, 15, 20),
    "project_manager": (40, 15, 25, 20),
    "after_sales": (30, 20, 15, 35),
}
GRADE_FLOORS = (("A", 85 * 100 * LCM), ("B", 70 * 100 * LCM), ("C", 60 * 100 * LCM))
S_TOTAL = 95 * 100 * LCM
S_SATISFACTION = 90
MULTIPLIERS = {"S": Decimal("1.5"), "A": Decimal("1.2"), "B": Decimal("1.0"),
               "C": Decimal("0.6"), "D": Decimal(0)}
MULTIPLIER_TEXT = {grade: str(value.quantize(Decimal("0.01"))) for grade, value in
                   MULTIPLIERS.items()}
CENT = Decimal("0.01")


# ---- W1: appraisal -> grade -> monthly bonus ----------------------------------------------------


def w1(staff: Sequence[Any], appraisals: Sequence[Any]) -> list[Conclusion]:
    """grade, bonus and appraisal_incomplete per appraisal; two monthly Ds in a row."""
    by_id = {s.id: s for s in staff}
    out: list[Conclusion] = []
    d_months: set[tuple[str, str]] = set()
    for appraisal in appraisals:
        grade = _appraise(appraisal, by_id[appraisal.staff_id], out)
        if grade == "D" and appraisal.kind == "monthly":
            d_months.add((appraisal.staff_id, appraisal.period))
    for staff_id, period in sorted(d_months):
        if (staff_id, _previous_month(period)) in d_months:
            out.append(("improvement_plan", "staff", staff_id,
                        {"reason": "consecutive_monthly_d", "period": period}))
    return out


def _appraise(appraisal: Any, staff: Any, out: list[Conclusion]) -> str | None:
    scores = appraisal.scores
    missing = [d for d in DIMENSIONS if "supervisor" not in scores.get(d, ())]
    if staff.role is None:
        missing.append("role")
    if missing:
        out.append(("appraisal_incomplete", "appraisal", appraisal.id, {"missing": missing}))
        return None
    total, (sat_num, sat_den) = scaled_total(scores, staff.role)
    grade = _grade(total, sat_num >= S_SATISFACTION * sat_den)
    out.append(("grade", "appraisal", appraisal.id, {
        "kind": str(appraisal.kind), "period": appraisal.period, "grade": grade,
        "score": cents_text(total)}))
    if appraisal.kind == "monthly":
        out.append(("bonus", "appraisal", appraisal.id,
                    _bonus(grade, appraisal.period, staff.monthly_target_bonus)))
    return grade


def scaled_total(scores: Any, role: str) -> tuple[Decimal, tuple[Decimal, int]]:
    """(total x SCALE, exactly; the satisfaction score as (numerator, denominator))."""
    parts = [_dimension(scores[d]) for d in DIMENSIONS]
    total = sum(w * num * (LCM // den) for w, (num, den) in
                zip(ROLE_WEIGHTS[role], parts, strict=True))
    return Decimal(total), parts[3]


def _dimension(sources: dict[str, Decimal]) -> tuple[Decimal, int]:
    """(sum of tenth-weight x score, sum of tenth-weights) over the sources present."""
    num: Decimal = Decimal(0)
    den = 0
    for source, value in sources.items():
        weight = SOURCE_TENTHS[source]
        num += weight * value
        den += weight
    return num, den


def _grade(total: Decimal, satisfied: bool) -> str:
    if total >= S_TOTAL and satisfied:
        return "S"
    for grade, floor in GRADE_FLOORS:
        if total >= floor:
            return grade
    return "D"


def cents_text(total: Decimal) -> str:
    """``total / SCALE`` rounded half up to 2 decimals, as text."""
    whole, rest = divmod(total, LCM)
    cents = int(whole) + (1 if 2 * rest >= LCM else 0)
    return f"{cents // 100}.{cents % 100:02d}"


def _bonus(grade: str, period: str, target: Decimal | None) -> dict[str, Any]:
    amount = None
    if target is not None:
        amount = str((MULTIPLIERS[grade] * target).quantize(CENT, ROUND_HALF_UP))
    return {"period": period, "multiplier": MULTIPLIER_TEXT[grade], "amount": amount}


def _previous_month(period: str) -> str:
    year, month = int(period[:4]), int(period[5:])
    return f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"


# ---- W2: eligibility ----------------------------------------------------------------------------

EDUCATION_RANK = {"high_school": 0, "associate": 1, "bachelor": 2, "master": 3, "doctorate": 4}
# role -> (min education rank, years field, min years, key-account field or None, min, majors)
REQUIREMENTS: dict[str, tuple[int, str, int, str | None, int, frozenset[str]]] = {
    "sales_rep": (2, "sales_years", 3, "ka_sales_years", 1,
                  frozenset({"marketing", "business management"})),
    "project_manager": (2, "pm_years", 3, "ka_project_years", 1,
                        frozenset({"project management", "computer science"})),
    "after_sales": (1, "after_sales_years", 2, None, 0,
                    frozenset({"computer science", "electronics"})),
}


def w2(staff: Sequence[Any], applications: Sequence[Any]) -> list[Conclusion]:
    """eligible (+ preferred_candidate) or ineligible with every unmet reason."""
    by_id = {s.id: s for s in staff}
    out: list[Conclusion] = []
    for app in applications:
        person = by_id[app.staff_id]
        role = str(app.role)
        education, field, least, ka_field, ka_least, majors = REQUIREMENTS[role]
        reasons = []
        if EDUCATION_RANK[person.education] < education:
            reasons.append("education")
        if getattr(person, field) < least:
            reasons.append("experience")
        if ka_field is not None and getattr(person, ka_field) < ka_least:
            reasons.append("ka_experience")
        if reasons:
            out.append(("ineligible", "application", app.id, {"role": role, "reasons": reasons}))
            continue
        out.append(("eligible", "application", app.id, {"role": role}))
        if person.major.strip().lower() in majors:
            out.append(("preferred_candidate", "application", app.id, {"role": role}))
    return out


# ---- W3: complaints -----------------------------------------------------------------------------

HOUR = timedelta(hours=1)
LIMITS = {"minor": (24 * HOUR, 120 * HOUR), "general": (8 * HOUR, 72 * HOUR),
          "major": (4 * HOUR, 48 * HOUR), "critical": (1 * HOUR, 24 * HOUR)}
SERIOUS = frozenset({"major", "critical"})
NOTICE_LIMIT = 24 * HOUR
REVIEW_WINDOW = timedelta(days=30)
REVIEW_COUNT = 3


def w3(staff: Sequence[Any], complaints: Sequence[Any], now: datetime) -> list[Conclusion]:
    """task_force, the highest escalation, client_notice_overdue; account_review per client."""
    managers = {s.id: s.manager_id for s in staff}
    out: list[Conclusion] = []
    for complaint in complaints:
        _complaint(complaint, managers, now, out)
    start = now - REVIEW_WINDOW
    recent = Counter(c.client_id for c in complaints if start < c.opened_at <= now)
    out.extend(("account_review", "client", client_id, {})
               for client_id, count in recent.items() if count >= REVIEW_COUNT)
    return out


def _complaint(c: Any, managers: dict[str, str | None], now: datetime,
               out: list[Conclusion]) -> None:
    severity = str(c.severity)
    if severity in SERIOUS:
        out.append(("task_force", "complaint", c.id, {}))
    respond, resolve = LIMITS[severity]
    resolving = (c.resolved_at or now) - c.opened_at
    if resolving > 2 * resolve or c.reopened_count >= 2:
        out.append(("escalation", "complaint", c.id, {"level": 3, "to": "executive"}))
    elif resolving > resolve or c.reopened_count >= 1:
        out.append(("escalation", "complaint", c.id, {"level": 2, "to": "department_head"}))
    elif (c.first_response_at or c.resolved_at or now) - c.opened_at > respond:
        out.append(("escalation", "complaint", c.id, {
            "level": 1, "to": "manager", "manager_id": managers[c.assigned_to]}))
    if c.resolved_at is not None and c.client_notified_at is None \
            and now - c.resolved_at > NOTICE_LIMIT:
        out.append(("client_notice_overdue", "complaint", c.id, {}))


# ---- W4: first matching rule --------------------------------------------------------------------


def w4_index(rules: Iterable[tuple[str, str, str]]) -> dict[tuple[str, str], str]:
    """(region, tier) -> owner of the first rule with that condition."""
    index: dict[tuple[str, str], str] = {}
    for region, tier, owner in rules:
        index.setdefault((region, tier), owner)
    return index


def w4(index: dict[tuple[str, str], str], clients: Sequence[Any]) -> list[Conclusion]:
    """owner(owner_id) for every client whose region and tier match a rule."""
    out: list[Conclusion] = []
    for client in clients:
        owner = index.get((client.region, client.tier))
        if owner is not None:
            out.append(("owner", "client", client.id, {"owner_id": owner}))
    return out


def w4_scan(rules: Sequence[tuple[str, str, str]], clients: Sequence[Any]) -> list[Conclusion]:
    """The same as ``w4`` by scanning the rules in order (what a naive engine does)."""
    out: list[Conclusion] = []
    for client in clients:
        region, tier = client.region, client.tier
        for rule_region, rule_tier, owner in rules:
            if rule_region == region and rule_tier == tier:
                out.append(("owner", "client", client.id, {"owner_id": owner}))
                break
    return out


# ---- end to end: JSON text in, without validation -----------------------------------------------

DATETIME_FIELDS = frozenset({"opened_at", "first_response_at", "resolved_at",
                             "client_notified_at", "last_contact_at"})
DATE_FIELDS = frozenset({"role_since", "last_survey_at"})


def from_json(text: str) -> dict[str, list[SimpleNamespace]]:
    """Parse facts JSON into attribute records (exact decimals, aware datetimes), unchecked."""
    data = json.loads(text, parse_float=Decimal)
    return {key: [_record(item) for item in items] for key, items in data.items()}


def _record(item: dict[str, Any]) -> SimpleNamespace:
    for name, value in item.items():
        if value is None:
            continue
        if name in DATETIME_FIELDS:
            item[name] = datetime.fromisoformat(value)
        elif name in DATE_FIELDS:
            item[name] = date.fromisoformat(value)
    record = SimpleNamespace(**item)
    for name in OPTIONAL_FIELDS:
        if name not in item:
            setattr(record, name, None)
    return record


OPTIONAL_FIELDS = ("role", "role_since", "manager_id", "monthly_target_bonus", "first_response_at",
                   "resolved_at", "client_notified_at", "last_survey_at", "last_survey_score")


def e2e(workload: str, now: datetime) -> Callable[[str], list[Conclusion]]:
    """The floor of ``workload`` end to end: JSON text -> conclusions."""

    def run(text: str) -> list[Conclusion]:
        facts = from_json(text)
        staff = facts.get("staff", [])
        if workload == "W1":
            return w1(staff, facts["appraisals"])
        if workload == "W2":
            return w2(staff, facts["applications"])
        return w3(staff, facts["complaints"], now)

    return run
