"""Seeded facts for the workloads W1-W3 (JSON-ready dicts) and the W4 rule set.

The data shape follows ``shared/spec/benchmarks.md``: about 6 % of appraisals with every score on
a grade threshold, peer ~75 % and client ~65 % of the time, ~2 % incomplete, ~10 % without a
target bonus; ~15 % of experience years exactly at a limit; complaint times spread so that every
severity and escalation level occurs, some exactly at a limit and some one microsecond over.
Numbers are ``Decimal``, dates and datetimes ISO text, exactly as a facts JSON file holds them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

Record = dict[str, Any]
Facts = dict[str, list[Record]]

SEED = 20261127
CST = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=CST)
US = timedelta(microseconds=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

ROLES = ("sales_rep", "project_manager", "after_sales")
DIMENSIONS = ("performance", "attitude", "teamwork", "satisfaction")
THRESHOLDS = (95, 90, 85, 70, 60)
EDUCATION = ("high_school", "associate", "bachelor", "master", "doctorate")
EDUCATION_WEIGHTS = (5, 20, 50, 20, 5)
MAJORS = ("Marketing", " business management ", "Project Management", "computer science",
          "COMPUTER SCIENCE", "Electronics", "Economics", "Finance", "Civil Engineering",
          "Mechanical Engineering")
YEAR_FIELDS = ("sales_years", "ka_sales_years", "pm_years", "ka_project_years",
               "after_sales_years")
YEAR_LIMITS = {"sales_years": 3, "ka_sales_years": 1, "pm_years": 3, "ka_project_years": 1,
               "after_sales_years": 2}
SEVERITIES = ("minor", "general", "major", "critical")
# severity -> (response limit, resolution limit), as in section C
LIMITS = {"minor": (24 * HOUR, 120 * HOUR), "general": (8 * HOUR, 72 * HOUR),
          "major": (4 * HOUR, 48 * HOUR), "critical": (1 * HOUR, 24 * HOUR)}
OFFSETS = (CST, UTC, timezone(timedelta(hours=-5)))


def iso(moment: datetime, rng: random.Random) -> str:
    """``moment`` as ISO text in one of a few UTC offsets (the instant is unchanged)."""
    return moment.astimezone(rng.choice(OFFSETS)).isoformat()


def staff_record(sid: str, role: str | None, manager: str | None, rng: random.Random) -> Record:
    """A staff member with random education, major and experience (some exactly at a limit)."""
    record: Record = {
        "id": sid, "name": f"Staff {sid}", "role": role,
        "education": rng.choices(EDUCATION, EDUCATION_WEIGHTS)[0],
        "major": rng.choice(MAJORS),
        "role_since": "2020-03-01" if role else None, "manager_id": manager,
        "career_track": "professional",
        "monthly_target_bonus": None if rng.random() < 0.10 else money(rng),
    }
    for name in YEAR_FIELDS:
        record[name] = years(name, rng)
    return record


def years(name: str, rng: random.Random) -> Decimal:
    """Experience years: ~15 % exactly at the limit, else 0-6 in half years."""
    if rng.random() < 0.15:
        return Decimal(YEAR_LIMITS[name])
    return Decimal(rng.randint(0, 12)) / 2


def money(rng: random.Random) -> Decimal:
    """A monthly target bonus with cents (so that amounts need rounding)."""
    return Decimal(rng.randint(200_000, 800_000)) / 100


# ---- W1: appraisal -> grade -> bonus ------------------------------------------------------------


def w1_facts(count: int, seed: int = SEED) -> Facts:
    """``count`` monthly appraisals, each with its own staff record."""
    rng = random.Random(seed)
    staff, appraisals = [], []
    for i in range(count):
        sid = f"S{i:06d}"
        role = None if rng.random() < 0.005 else rng.choice(ROLES)
        staff.append(staff_record(sid, role, None, rng))
        appraisals.append(appraisal(f"A{i:06d}", sid, rng))
    return {"staff": staff, "appraisals": appraisals}


def appraisal(aid: str, sid: str, rng: random.Random) -> Record:
    """A monthly appraisal: on a threshold (~6 %), incomplete (~1.5 %) or random scores."""
    draw = rng.random()
    if draw < 0.06:
        scores = threshold_scores(rng.choice(THRESHOLDS))
    else:
        scores = {d: source_scores(rng) for d in DIMENSIONS}
        if draw < 0.075:
            del scores[rng.choice(DIMENSIONS)]["supervisor"]
    month = rng.randint(1, 10)
    return {"id": aid, "staff_id": sid, "kind": "monthly", "period": f"2026-{month:02d}",
            "scores": scores}


def threshold_scores(value: int) -> dict[str, dict[str, Decimal]]:
    """Every source of every dimension exactly at ``value``: the total is exactly ``value``."""
    return {d: {"supervisor": Decimal(value), "peer": Decimal(value), "client": Decimal(value)}
            for d in DIMENSIONS}


def source_scores(rng: random.Random) -> dict[str, Decimal]:
    """Supervisor always, peer ~75 %, client ~65 %; scores 40-100 in steps of 0.5."""
    scores = {"supervisor": score(rng)}
    if rng.random() < 0.75:
        scores["peer"] = score(rng)
    if rng.random() < 0.65:
        scores["client"] = score(rng)
    return scores


def score(rng: random.Random) -> Decimal:
    return Decimal(rng.randint(80, 200)) / 2


# ---- W2: eligibility ----------------------------------------------------------------------------


def w2_facts(count: int, seed: int = SEED) -> Facts:
    """``count`` applications, each with its own staff record."""
    rng = random.Random(seed + 2)
    staff, applications = [], []
    for i in range(count):
        sid = f"S{i:06d}"
        staff.append(staff_record(sid, rng.choice(ROLES), None, rng))
        applications.append({"id": f"P{i:06d}", "staff_id": sid, "role": rng.choice(ROLES)})
    return {"staff": staff, "applications": applications}


# ---- W3: complaints -----------------------------------------------------------------------------


def w3_facts(count: int, seed: int = SEED) -> Facts:
    """``count`` complaints over count/4 clients, assigned to count/10 staff under managers."""
    rng = random.Random(seed + 3)
    managers = [staff_record(f"M{i:05d}", "sales_rep", None, rng)
                for i in range(max(1, count // 100))]
    staff = [staff_record(f"S{i:06d}", "after_sales",
                          None if i % 17 == 0 else rng.choice(managers)["id"], rng)
             for i in range(max(1, count // 10))]
    clients = [client(f"K{i:06d}", rng.choice(staff)["id"], rng) for i in range(max(1, count // 4))]
    complaints = [complaint(f"C{i:06d}", rng.choice(clients)["id"], rng.choice(staff)["id"], rng)
                  for i in range(count)]
    return {"staff": managers + staff, "clients": clients, "complaints": complaints}


def client(cid: str, owner: str, rng: random.Random) -> Record:
    """A client contacted and surveyed recently (sections F and G stay silent)."""
    return {"id": cid, "name": f"Client {cid}", "tier": rng.choice(("strategic", "key")),
            "owner_id": owner, "last_contact_at": iso(NOW - rng.randint(1, 10) * DAY, rng),
            "last_survey_at": (NOW - 30 * DAY).date().isoformat(),
            "last_survey_score": Decimal(85)}


def complaint(cid: str, client_id: str, assignee: str, rng: random.Random) -> Record:
    """A complaint opened in the last 60 days, answered and resolved around its limits."""
    severity = rng.choice(SEVERITIES)
    respond, resolve = LIMITS[severity]
    opened = opened_at(rng)
    record: Record = {"id": cid, "client_id": client_id, "assigned_to": assignee,
                      "severity": severity, "opened_at": iso(opened, rng),
                      "reopened_count": rng.choices((0, 1, 2, 3), (88, 8, 3, 1))[0]}
    if rng.random() < 0.85:
        record["first_response_at"] = iso(opened + around(respond, rng), rng)
    if rng.random() < 0.6:
        resolved = opened + around(resolve * rng.choice((1, 1, 2)), rng)
        record["resolved_at"] = iso(min(resolved, NOW), rng)
        if rng.random() < 0.7:
            record["client_notified_at"] = iso(min(resolved + 2 * HOUR, NOW), rng)
    return record


def opened_at(rng: random.Random) -> datetime:
    """Within 60 days before now; ~2 % exactly 30 days before (outside the review window)."""
    if rng.random() < 0.02:
        return NOW - 30 * DAY
    return NOW - timedelta(microseconds=rng.randint(0, 60 * 86_400_000_000))


def around(limit: timedelta, rng: random.Random) -> timedelta:
    """A delay near ``limit``: exactly at it, one microsecond over, or 0.2-1.8 times it."""
    draw = rng.random()
    if draw < 0.05:
        return limit
    if draw < 0.10:
        return limit + US
    return limit * rng.uniform(0.2, 1.8)


# ---- W4: rule-count scaling ---------------------------------------------------------------------

W4_TIERS = ("platinum", "gold", "silver", "bronze", "basic")


@dataclass(frozen=True)
class W4Rule:
    """``client.region == region and client.tier == tier -> owner``."""

    region: str
    tier: str
    owner: str


def w4_rules(count: int, seed: int = SEED) -> list[W4Rule]:
    """``count`` rules over count/5 regions x 5 tiers; every 10th repeats an earlier condition
    with another owner, so it never wins (first match wins)."""
    rng = random.Random(seed + 4 + count)
    regions = max(1, count // len(W4_TIERS))
    rules: list[W4Rule] = []
    for i in range(count):
        if i % 10 == 9:
            earlier = rules[rng.randrange(i)]
            rules.append(W4Rule(earlier.region, earlier.tier, f"O{i:06d}"))
            continue
        rules.append(W4Rule(f"R{i % regions:05d}", W4_TIERS[(i // regions) % 5], f"O{i:06d}"))
    return rules


def w4_clients(rules: list[W4Rule], count: int = 10_000, seed: int = SEED) -> Facts:
    """``count`` clients; ~95 % take the condition of a random rule, the rest match none."""
    rng = random.Random(seed + 5)
    clients = []
    for i in range(count):
        if rng.random() < 0.05:
            region, tier = "R-none", rng.choice(W4_TIERS)
        else:
            rule = rules[rng.randrange(len(rules))]
            region, tier = rule.region, rule.tier
        clients.append({"id": f"K{i:06d}", "region": region, "tier": tier})
    return {"clients": clients}


# ---- JSON text ----------------------------------------------------------------------------------


def to_json(facts: Any) -> str:
    """Facts (or any JSON-ready data) as JSON text; decimals are written as exact JSON numbers."""
    import json

    return json.dumps(_plain(facts), separators=(",", ":"))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, Decimal):
        number = int(value) if value == value.to_integral_value() else float(value)
        if Decimal(repr(number)) != value:
            raise ValueError(f"{value} has no exact short JSON form")
        return number
    return value
