"""Seeded company data -> examples/company.json: the facts the demo decides on.

A realistic key-account organisation evaluated at ``NOW`` (2026-11-27 09:00 +08:00):
a manager hierarchy, applications, clients of both tiers, complaints, a year of
appraisals, trainings, sales results, projects and opportunities. Ordinary records
are drawn from a seeded ``random.Random``; the records that sit on a policy boundary
(exactly at a limit, one microsecond over, totals of exactly 95/85/70/60, month and
year ends) are written out by hand below. Stdlib only and deterministic:

    python examples/generate_company.py
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

Record = dict[str, Any]

SEED = 20261127
CST = timezone(timedelta(hours=8))
EASTERN = timezone(timedelta(hours=-5))
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=CST)
TODAY = NOW.date()
US = timedelta(microseconds=1)
H = timedelta(hours=1)
OUTPUT = Path(__file__).with_name("company.json")

SURNAMES = ("Zhang", "Wang", "Li", "Zhao", "Chen", "Liu", "Yang", "Huang", "Wu", "Zhou",
            "Xu", "Sun", "Ma", "Zhu", "Hu", "Guo", "He", "Lin", "Gao", "Luo")
GIVEN = ("Wei", "Fang", "Min", "Jing", "Lei", "Yang", "Jie", "Tao", "Ming", "Xin",
         "Hui", "Yan", "Bo", "Qiang", "Na", "Jun", "Ping", "Hong", "Yue", "Chao")
MAJORS = {
    "sales_rep": ("Marketing", "marketing", "Business Management", "Economics", "Finance"),
    "project_manager": ("Project Management", "Computer Science", "Civil Engineering",
                        "Software Engineering", "computer science"),
    "after_sales": ("Electronics", "Computer Science", "Mechanical Engineering",
                    "electronics", "Automation"),
}
EXPERIENCE = {  # role -> (years field, key-account years field), drawn high for the role
    "sales_rep": ("sales_years", "ka_sales_years"),
    "project_manager": ("pm_years", "ka_project_years"),
    "after_sales": ("after_sales_years", None),
}
DIMENSIONS = ("performance", "attitude", "teamwork", "satisfaction")
SOURCES = ("supervisor", "peer", "client")
MONTHS = ("2025-12", *(f"2026-{m:02d}" for m in range(1, 11)))


def ts(moment: datetime, tz: timezone = CST) -> str:
    """ISO 8601 text of ``moment`` in offset ``tz`` (UTC written Z)."""
    return moment.astimezone(tz).isoformat().replace("+00:00", "Z")


def ago(days: float = 0, hours: float = 0, us: int = 0) -> datetime:
    """``NOW`` minus a duration."""
    return NOW - timedelta(days=days, hours=hours, microseconds=us)


def day(days_before: int) -> str:
    """The ISO date ``days_before`` days before today (2026-11-27)."""
    return (TODAY - timedelta(days=days_before)).isoformat()


# ---------------------------------------------------------------------------- staff


class Names:
    """Unique pinyin names drawn from the seeded generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def draw(self) -> str:
        """A name not given before."""
        while True:
            name = f"{self.rng.choice(SURNAMES)} {self.rng.choice(GIVEN)}"
            if name not in self.used:
                self.used.add(name)
                return name


def years(rng: random.Random, low: int, high: int) -> Decimal:
    """Whole or half years in [low, high]."""
    return Decimal(rng.randint(low * 2, high * 2)) / 2


def person(rng: random.Random, names: Names, sid: str, role: str | None, manager: str | None,
           **fields: Any) -> Record:
    """A staff record with role-typical experience; ``fields`` override anything."""
    since = date(rng.randint(2016, 2024), rng.randint(1, 12), rng.randint(1, 28))
    record: Record = {
        "id": sid, "name": names.draw(), "role": role,
        "education": rng.choice(("bachelor", "bachelor", "master")),
        "major": rng.choice(MAJORS[role or "sales_rep"]),
        "sales_years": years(rng, 0, 2), "ka_sales_years": years(rng, 0, 1),
        "pm_years": years(rng, 0, 2), "ka_project_years": years(rng, 0, 1),
        "after_sales_years": years(rng, 0, 1),
        "role_since": since.isoformat() if role else None,
        "manager_id": manager, "career_track": "professional",
        "monthly_target_bonus": Decimal(rng.randint(25, 70) * 100) if role else None,
    }
    for name, (low, high) in zip(EXPERIENCE.get(role or "", ()), ((3, 12), (1, 8)), strict=False):
        if name:
            record[name] = years(rng, low, high)
    return record | fields


def leaders(rng: random.Random, names: Names) -> list[Record]:
    """The general manager (top, no manager), three department heads and four team leads."""
    mgmt = {"career_track": "management", "education": "master"}
    return [
        person(rng, names, "S001", None, None, **mgmt, sales_years=15, ka_sales_years=10),
        person(rng, names, "S002", None, "S001", **mgmt, sales_years=12, ka_sales_years=8),
        person(rng, names, "S003", "project_manager", "S001", **mgmt, role_since="2019-03-01"),
        person(rng, names, "S004", None, "S001", **mgmt, after_sales_years=11),
        person(rng, names, "S005", "sales_rep", "S002", **mgmt, role_since="2018-07-16",
               pm_years=1, ka_project_years=Decimal("0.5")),
        person(rng, names, "S006", None, "S002", **mgmt, sales_years=9, ka_sales_years=6),
        person(rng, names, "S007", "project_manager", "S003", **mgmt, role_since="2020-02-03"),
        person(rng, names, "S008", "after_sales", "S004", **mgmt, role_since="2019-09-09"),
    ]


# staff id -> field overrides that put a record on a boundary
STAFF_OVERRIDES: dict[str, Record] = {
    "S011": {"role_since": "2025-11-28"},  # 364 days in role: not yet a promotion candidate
    "S020": {"monthly_target_bonus": None},  # bonus amount null
    "S030": {"monthly_target_bonus": None},
    "S033": {"role_since": "2025-11-27"},  # exactly 365 days in role
    "S013": {"major": "Business  Management", "sales_years": 6, "pm_years": Decimal("2.99"),
             "ka_project_years": 2, "education": "master"},
    "S027": {"major": " COMPUTER SCIENCE ", "after_sales_years": 2},
    "S031": {"major": "Electronics", "education": "associate", "pm_years": 4,
             "ka_project_years": Decimal("0.9")},
    "S036": {"education": "associate", "monthly_target_bonus": "3150.50"},
}


def rank_and_file(rng: random.Random, names: Names) -> list[Record]:
    """12 sales reps, 10 project managers and 10 after-sales engineers."""
    teams = [("sales_rep", range(9, 21), ("S005", "S006")),
             ("project_manager", range(21, 31), ("S007", "S003")),
             ("after_sales", range(31, 41), ("S008", "S004"))]
    staff = []
    for role, numbers, managers in teams:
        for n in numbers:
            sid = f"S{n:03d}"
            overrides = STAFF_OVERRIDES.get(sid, {})
            staff.append(person(rng, names, sid, role, managers[n % 2], **overrides))
    return staff


def trainees(rng: random.Random, names: Names) -> list[Record]:
    """Roleless new hires and candidates: the applicants of section B."""
    rows: list[tuple[str, str, Record]] = [
        ("S041", "S002", {"education": "bachelor", "major": "  Marketing ", "sales_years": 3,
                          "ka_sales_years": 1}),
        ("S042", "S002", {"education": "associate", "major": "marketing", "sales_years": 4,
                          "ka_sales_years": 2, "after_sales_years": 0}),
        ("S043", "S006", {"education": "bachelor", "major": "History", "sales_years": "3.5",
                          "ka_sales_years": "0.5"}),
        ("S044", "S004", {"education": "high_school", "major": "electronics ",
                          "after_sales_years": Decimal("1.5"), "sales_years": 0,
                          "ka_sales_years": 0}),
        ("S045", "S004", {"education": "associate", "major": " ELECTRONICS",
                          "after_sales_years": 2}),
        ("S046", "S003", {"education": "doctorate", "major": "Project management",
                          "pm_years": 3, "ka_project_years": 1}),
    ]
    return [person(rng, names, sid, None, manager, **fields) for sid, manager, fields in rows]


def make_staff(rng: random.Random) -> list[Record]:
    """All 46 staff: 8 leaders, 32 rank and file, 6 trainees; 36 hold a role."""
    names = Names(rng)
    return leaders(rng, names) + rank_and_file(rng, names) + trainees(rng, names)


# --------------------------------------------------------------------- applications

APPLICATIONS = [
    ("S041", "sales_rep"),  # exactly 3 / 1 years, "  Marketing ": eligible + preferred
    ("S042", "sales_rep"),  # associate: education
    ("S043", "sales_rep"),  # ka_sales_years 0.5: ka_experience
    ("S044", "sales_rep"),  # high school, no sales years: all three reasons
    ("S013", "project_manager"),  # pm_years 2.99: experience
    ("S031", "project_manager"),  # associate, ka_project 0.9: education, ka_experience
    ("S046", "project_manager"),  # doctorate, exactly 3 / 1: eligible + preferred
    ("S005", "project_manager"),  # a sales lead with 1 / 0.5 PM years: experience, ka_experience
    ("S027", "after_sales"),  # exactly 2 years, " COMPUTER SCIENCE ": eligible + preferred
    ("S044", "after_sales"),  # high school, 1.5 years: education, experience
    ("S045", "after_sales"),  # associate, exactly 2 years, " ELECTRONICS": eligible + preferred
    ("S042", "after_sales"),  # no after-sales years: experience
    ("S013", "sales_rep"),  # qualified; "Business  Management" (inner double space): not preferred
]


def make_applications() -> list[Record]:
    """Applications APP001.. for all three roles."""
    return [{"id": f"APP{i:03d}", "staff_id": sid, "role": role}
            for i, (sid, role) in enumerate(APPLICATIONS, 1)]


# -------------------------------------------------------------------------- clients

# id, name, tier, owner, last contact, days since survey (None: never), survey score
CLIENTS = [
    ("K001", "Sinoriver Petrochemical", "strategic", "S009", ago(3), 180, 88),  # survey at 180d
    ("K002", "Kunlun Energy Group", "strategic", "S010", ago(14), 181, 92),  # contact at 14d
    ("K003", "Dongfang Steel", "strategic", "S011", ago(14, us=1), None, 75),
    ("K004", "Huaxin Logistics", "strategic", "S012", ago(28), 95, Decimal("59.5")),
    ("K005", "Pearl Delta Telecom", "strategic", "S005", ago(28, us=1), 40, 60),
    ("K006", "Northern Grid Power", "strategic", "S001", ago(40), 200, 81),  # owner is the top
    ("K007", "Jinling Pharmaceuticals", "key", "S013", ago(10), 60, 90),
    ("K008", "Haitian Foods", "key", "S014", ago(30), 120, 77),  # contact exactly at 30d
    ("K009", "Xiangjiang Motors", "key", "S015", ago(30, hours=1), 300, 45),
    ("K010", "Baiyun Airport Services", "key", "S016", ago(60), 10, 70),  # exactly 2 x 30d
    ("K011", "Qilu Chemical", "key", "S017", ago(75), 179, 83),
    ("K012", "Tianfu Software", "key", "S018", ago(5), None, None),
    ("K013", "Minjiang Shipping", "key", "S019", ago(20), 30, 96),
    ("K014", "Yunling Tea Co.", "key", "S020", ago(12), 150, 68),
    ("K015", "Changan Machinery", "key", "S009", ago(8, hours=3), 90, 85),
]


def make_clients() -> list[Record]:
    """15 clients: contact ok/overdue/escalated, survey due or not, low scores."""
    records = []
    for i, (cid, name, tier, owner, contact, surveyed, score) in enumerate(CLIENTS):
        records.append({
            "id": cid, "name": name, "tier": tier, "owner_id": owner,
            "last_contact_at": ts(contact, UTC if i % 4 == 3 else CST),
            "last_survey_at": None if surveyed is None else day(surveyed),
            "last_survey_score": score,
        })
    return records


# ----------------------------------------------------------------------- complaints


def complaint(cid: str, client: str, assignee: str, severity: str, opened: datetime, *,
              response: timedelta | None = None, resolution: timedelta | None = None,
              notified: timedelta | None = None, reopened: int = 0,
              tz: timezone = CST) -> Record:
    """A complaint whose event times are given relative to ``opened`` (and resolution)."""
    resolved = None if resolution is None else opened + resolution
    told = None if resolved is None or notified is None else resolved + notified
    return {
        "id": cid, "client_id": client, "assigned_to": assignee, "severity": severity,
        "opened_at": ts(opened, tz),
        "first_response_at": None if response is None else ts(opened + response, tz),
        "resolved_at": None if resolved is None else ts(resolved, tz),
        "client_notified_at": None if told is None else ts(told, tz),
        "reopened_count": reopened,
    }


def boundary_complaints() -> list[Record]:
    """Complaints on the response/resolution limits and every escalation level."""
    return [
        complaint("CP001", "K001", "S031", "minor", ago(10), response=24 * H,
                  resolution=120 * H, notified=H),  # exactly at both limits: in time
        complaint("CP002", "K001", "S032", "minor", ago(9), response=24 * H + US,
                  resolution=100 * H, notified=H),  # level 1
        complaint("CP003", "K002", "S033", "general", ago(20), response=8 * H,
                  resolution=72 * H, notified=2 * H, tz=UTC),
        complaint("CP004", "K002", "S034", "general", ago(18), response=8 * H + US,
                  resolution=60 * H, notified=H),  # level 1
        complaint("CP005", "K003", "S035", "general", ago(15), response=2 * H,
                  resolution=72 * H + US, notified=H),  # level 2
        complaint("CP006", "K004", "S036", "major", ago(12), response=4 * H,
                  resolution=48 * H, notified=H),  # task force only
        complaint("CP007", "K004", "S037", "major", ago(14), response=3 * H,
                  resolution=96 * H + US, notified=H),  # level 3: over twice 48h
        complaint("CP008", "K005", "S038", "critical", ago(hours=2),
                  response=H / 2),  # still open, answered in time
        complaint("CP009", "K005", "S039", "critical", ago(hours=50)),  # no response: level 3
        complaint("CP010", "K006", "S040", "critical", ago(hours=24), response=H),  # at 24h
        complaint("CP011", "K007", "S031", "general", ago(25), response=H,
                  resolution=20 * H, notified=H, reopened=1),  # level 2
        complaint("CP012", "K007", "S032", "minor", ago(40), response=H,
                  resolution=30 * H, notified=H, reopened=2),  # level 3
    ]


def notice_complaints() -> list[Record]:
    """Resolved complaints whose client was or was not told, around the 24h limit."""
    return [
        complaint("CP013", "K008", "S033", "general", ago(5), response=H,
                  resolution=ago(3) - ago(5)),  # not notified after 3 days: overdue
        complaint("CP014", "K008", "S034", "minor", ago(2), response=H,
                  resolution=ago(hours=24) - ago(2)),  # exactly 24h: not yet overdue
        complaint("CP015", "K014", "S035", "minor", ago(2), response=H,
                  resolution=ago(hours=24, us=1) - ago(2)),  # 24h + 1us: overdue
        complaint("CP016", "K009", "S001", "general", ago(6), response=9 * H,
                  resolution=30 * H, notified=H),  # level 1, no manager above the GM
        complaint("CP017", "K009", "S036", "minor", ago(7), resolution=20 * H,
                  notified=H),  # the resolution counts as the response
    ]


def review_complaints() -> list[Record]:
    """K010: three complaints in the last 30 days; K011: the window's two ends."""
    handled: dict[str, Any] = {"response": H, "resolution": 10 * H, "notified": H}
    return [
        complaint("CP018", "K010", "S037", "minor", ago(2), **handled),
        complaint("CP019", "K010", "S038", "general", ago(10), **handled),
        complaint("CP020", "K010", "S039", "minor", ago(30, us=-1), **handled),  # 30d - 1us
        complaint("CP021", "K011", "S040", "minor", ago(30), **handled),  # exactly 30d: out
        complaint("CP022", "K011", "S031", "general", ago(5), **handled),
        complaint("CP023", "K011", "S032", "minor", NOW),  # opened just now: in the window
    ]


def honor_complaints() -> list[Record]:
    """Serious complaints that do or do not cost a 2025 honor (year in its own offset)."""
    handled: dict[str, Any] = {"response": H, "resolution": 12 * H, "notified": H}
    return [
        complaint("CP024", "K007", "S022", "major", datetime(2025, 6, 10, 14, 0, tzinfo=CST),
                  **handled),  # S022 loses the 2025 honor
        complaint("CP025", "K013", "S033", "critical", datetime(2026, 1, 1, 0, 30, tzinfo=CST),
                  **handled),  # 2025-12-31 in UTC, but 2026 in its own offset: S033 keeps it
        complaint("CP026", "K013", "S025", "major", datetime(2025, 12, 31, 23, 0, tzinfo=EASTERN),
                  tz=EASTERN, **handled),  # 2026-01-01 in UTC, 2025 in its own offset
        complaint("CP027", "K015", "S010", "general", datetime(2025, 3, 3, 10, 0, tzinfo=CST),
                  **handled),  # not serious: S010 keeps the honor
    ]


def make_complaints() -> list[Record]:
    """All complaints, CP001..CP027."""
    return boundary_complaints() + notice_complaints() + review_complaints() + honor_complaints()


# ----------------------------------------------------------------------- appraisals


def flat(value: Any, satisfaction: Any = None) -> Record:
    """Every source of every dimension at ``value`` (satisfaction at its own value)."""
    sat = value if satisfaction is None else satisfaction
    return {d: {s: sat if d == "satisfaction" else value for s in SOURCES} for d in DIMENSIONS}


def drawn_scores(rng: random.Random, level: int) -> Record:
    """Scores near ``level``; peer and client ratings are sometimes missing."""
    scores: Record = {}
    for dimension in DIMENSIONS:
        present = [s for s in SOURCES if s == "supervisor" or rng.random() > 0.15]
        scores[dimension] = {s: min(100, level + rng.randint(-6, 6)) for s in present}
    return scores


# (staff, period) -> scores of a designed appraisal; grades follow the role weights
DESIGNED: dict[tuple[str, str], Record] = {
    ("S010", "2024"): flat(88), ("S010", "2025"): flat(96),  # S, honor, promotion
    ("S011", "2025"): flat(97, 92),  # S without honor; 364 days in role
    ("S012", "2024"): flat(86), ("S012", "2025"): flat(Decimal("96.5"), 89),  # 95.00 but A
    ("S014", "2025"): flat(55),  # annual D
    ("S015", "2025-12"): flat(52), ("S015", "2026-01"): flat(58),  # D across the year end
    ("S016", "2026-10"): {d: {"supervisor": 85, "peer": 85} for d in DIMENSIONS},  # 85: A
    ("S017", "2026-08"): flat(60),  # exactly 60: C
    ("S018", "2026-07"): {d: {"supervisor": Decimal("84.975") if d == "satisfaction" else 85}
                          for d in DIMENSIONS},  # total 84.995: "85.00" but B
    ("S019", "2026-05"): {d: {"peer": 80, "client": 82} if d == "teamwork" else
                          {"supervisor": 80} for d in DIMENSIONS},  # no supervisor: incomplete
    ("S020", "2026-03"): flat(40),  # D with no target bonus: amount null
    ("S022", "2024"): flat(90), ("S022", "2025"): flat(98),  # S, but a major complaint in 2025
    ("S023", "2024"): flat(80), ("S023", "2025"): flat(90),  # A after B: no promotion
    ("S024", "2026-06"): flat(50), ("S024", "2026-07"): flat(45),
    ("S024", "2026-08"): flat(59),  # three D months: two improvement plans
    ("S025", "2025"): flat(95),  # exactly 95: S (honor lost to a complaint opened in 2025)
    ("S026", "2026-04"): {d: {"supervisor": 88} for d in DIMENSIONS[:3]},  # no satisfaction
    ("S033", "2025"): flat(97),  # S, honor, exactly 365 days in role
    ("S034", "2025"): flat(99), ("S034", "2025-12"): flat(50),  # S, but a monthly D in 2025
    ("S035", "2026-03"): flat(55), ("S035", "2026-05"): flat(57),  # D months, not consecutive
    ("S036", "2026-09"): flat(70),  # exactly 70: B
    ("S002", "2025"): flat(90),  # a department head with no role: incomplete, ["role"]
    ("S041", "2026-10"): {d: {"peer": 80} if d == "attitude" else {"supervisor": 75}
                          for d in DIMENSIONS},  # ["attitude", "role"]
}

MONTHLY_STAFF = [f"S{n:03d}" for n in (*range(9, 21), *range(21, 27), *range(31, 37))]
ANNUAL_STAFF = ["S003", "S005", "S007", "S008", *(f"S{n:03d}" for n in range(9, 41))]


def appraisal_plan() -> Iterator[tuple[str, str, str]]:
    """(staff, kind, period) of every appraisal, in a stable order."""
    for sid in ANNUAL_STAFF:
        yield from ((sid, "annual", year) for year in ("2024", "2025"))
    for sid in MONTHLY_STAFF:
        yield from ((sid, "monthly", month) for month in MONTHS)
    for sid, period in DESIGNED:
        if sid not in ANNUAL_STAFF and sid not in MONTHLY_STAFF:
            yield (sid, "monthly" if "-" in period else "annual", period)


def make_appraisals(rng: random.Random) -> list[Record]:
    """Annual 2024/2025 for every role holder, monthly 2025-12..2026-10 for 24 of them."""
    levels = {sid: rng.randint(68, 90) for sid in ANNUAL_STAFF}
    records = []
    for i, (sid, kind, period) in enumerate(appraisal_plan(), 1):
        scores = DESIGNED.get((sid, period)) or drawn_scores(rng, levels.get(sid, 80))
        records.append({"id": f"APR{i:04d}", "staff_id": sid, "kind": kind, "period": period,
                        "scores": scores})
    return records


# ------------------------------------------------------------------------ trainings

TRAININGS = [
    ("S009", "Strategic account planning", "external", "2026-03-20", 95),
    ("S010", "Negotiation for key accounts", "external", "2026-05-12", 90),  # exactly 90
    ("S011", "Negotiation for key accounts", "external", "2026-05-12", Decimal("89.5")),
    ("S012", "Company products 2026", "internal", "2026-01-15", 90),
    ("S013", "Company products 2026", "internal", "2026-01-15", Decimal("89.99")),
    ("S014", "Company products 2026", "internal", "2026-01-15", 100),
    ("S021", "PMP preparation", "external", "2026-06-30", 92),
    ("S022", "PMP preparation", "external", "2026-06-30", 78),
    ("S023", "Delivery gates and sign-off", "internal", "2026-02-27", 96),
    ("S024", "Shadowing a senior PM", "practice", "2026-04-10", None),
    ("S025", "Shadowing a senior PM", "practice", "2026-04-10", 100),  # practice: no reward
    ("S031", "Field service certification", "external", "2025-12-31", 91),
    ("S032", "Field service certification", "external", "2025-12-31", None),
    ("S033", "Complaint handling", "internal", "2026-09-18", 94),
    ("S034", "Complaint handling", "internal", "2026-09-18", 60),
    ("S035", "On-site repair practice", "practice", "2026-08-08", 88),
    ("S041", "New hire orientation", "internal", "2026-10-09", 99),
    ("S045", "New hire orientation", "internal", "2026-10-09", 85),
    ("S005", "Coaching skills", "external", "2026-02-14", 97),
    ("S008", "Coaching skills", "external", "2026-02-14", Decimal("90.0")),
]


def make_trainings() -> list[Record]:
    """Trainings of each kind, with exam scores around 90."""
    return [{"id": f"TR{i:03d}", "staff_id": sid, "course": course, "kind": kind,
             "completed_on": done, "exam_score": score}
            for i, (sid, course, kind, done, score) in enumerate(TRAININGS, 1)]


# -------------------------------------------------------------------- sales results

SALES_STAFF = ["S005", *(f"S{n:03d}" for n in range(9, 21))]
SALES_MONTHS = tuple(f"2026-{m:02d}" for m in range(5, 11))
# (staff, period) -> attainment of a designed result
ATTAINMENT: dict[tuple[str, str], str] = {
    ("S013", "2026-09"): "0.79", ("S013", "2026-10"): "0.8",  # a notice, then exactly 0.8
    ("S017", "2026-08"): "0.55", ("S017", "2026-09"): "0.59",  # two months below 0.6
    ("S017", "2026-10"): "0.6",  # exactly 0.6: a notice, no review
    ("S019", "2026-09"): "0.9", ("S019", "2026-10"): "0.5",  # one month below 0.6
    ("S015", "2025-12"): "0.55", ("S015", "2026-01"): "0.58",  # below 0.6 across the year end
    ("S015", "2026-02"): "0.75",  # deadline 2026-03-30
    ("S020", "2026-06"): "0.72",
}


def make_sales_results(rng: random.Random) -> list[Record]:
    """May-October 2026 for the sales reps, plus the S015 winter months."""
    plan = [(sid, month) for sid in SALES_STAFF for month in SALES_MONTHS]
    plan += [key for key in ATTAINMENT if key not in plan]
    records = []
    for sid, period in plan:
        target = Decimal(rng.randint(40, 200) * 10_000)
        ratio = Decimal(ATTAINMENT.get((sid, period)) or f"{rng.randint(84, 135) / 100:.2f}")
        records.append({"staff_id": sid, "period": period, "target": target,
                        "actual": (target * ratio).quantize(Decimal("0.01"))})
    return records


# ------------------------------------------------------------------------- projects

# id, client, manager, phase, design approved, client signoff, budget, actual cost,
# started (days ago), planned span (days), forecast slip (days),
# accepted (days ago) or None, review done (days after acceptance) or None
PROJECTS = [
    ("PJ001", "K001", "S021", "initiation", False, False, 800_000, 20_000, 20, 180, 0, None, None),
    ("PJ002", "K002", "S022", "requirements", False, False, 1_200_000, 150_000, 60, 240, 10,
     None, None),
    ("PJ003", "K003", "S023", "design", False, False, 650_000, 200_000, 90, 200, 0, None, None),
    ("PJ004", "K004", "S024", "implementation", False, False, 2_000_000, 900_000, 150, 300, 20,
     None, None),  # built without an approved design
    ("PJ005", "K005", "S025", "implementation", True, False, 1_000_000, 1_100_000, 60, 100, 15,
     None, None),  # cost exactly 110%, slip exactly 15%: no risk
    ("PJ006", "K006", "S026", "implementation", True, False, 1_000_000, Decimal("1100000.01"),
     80, 100, 16, None, None),  # both risks, by the smallest margins
    ("PJ007", "K007", "S027", "acceptance", True, False, 500_000, 480_000, 250, 200, 0, 10, None),
    ("PJ008", "K008", "S028", "review", True, False, 900_000, 850_000, 400, 300, 30, 31, None),
    ("PJ009", "K009", "S029", "review", True, True, 700_000, 690_000, 380, 300, 3, 30, None),
    ("PJ010", "K010", "S030", "closed", True, True, 1_500_000, 1_400_000, 600, 400, 0, 120, 20),
    ("PJ011", "K011", "S021", "closed", True, False, 300_000, 420_000, 150, 20, 4, 90, 25),
    ("PJ012", "K012", "S007", "acceptance", False, False, 2_500_000, 2_400_000, 420, 365, 54,
     45, None),  # slip 54 < 0.15 x 365 = 54.75
    ("PJ013", "K015", "S003", "design", True, False, 400_000, 60_000, 30, 20, 3, None, None),
    ("PJ014", "K013", "S022", "review", True, True, 600_000, 590_000, 300, 240, 0, 40, 12),
]


def make_projects() -> list[Record]:
    """Projects in every phase, with gate violations, risks and overdue reviews."""
    records = []
    for row in PROJECTS:
        pid, client, manager, phase, design, signoff, budget, cost = row[:8]
        begun, span, slip, accepted, reviewed = row[8:]
        start = TODAY - timedelta(days=begun)
        planned = start + timedelta(days=span)
        accepted_on = None if accepted is None else TODAY - timedelta(days=accepted)
        done = None if accepted_on is None or reviewed is None else (
            accepted_on + timedelta(days=reviewed))
        records.append({
            "id": pid, "client_id": client, "manager_id": manager, "phase": phase,
            "design_review_approved": design, "client_signoff": signoff,
            "budget": budget, "actual_cost": cost, "start": start.isoformat(),
            "planned_end": planned.isoformat(),
            "forecast_end": (planned + timedelta(days=slip)).isoformat(),
            "accepted_on": None if accepted_on is None else accepted_on.isoformat(),
            "review_done_on": None if done is None else done.isoformat(),
        })
    return records


# -------------------------------------------------------------------- opportunities

STAGES = ("research", "contact", "needs_analysis", "proposal", "negotiation", "signed")
# id, client, owner, stage, stages passed (None: every earlier stage), last activity
OPPORTUNITIES = [
    ("OP001", "K001", "S009", "research", None, ago(2)),
    ("OP002", "K002", "S010", "contact", None, ago(30)),  # exactly 30 days: not stale
    ("OP003", "K003", "S011", "needs_analysis", None, ago(30, us=1)),  # stale
    ("OP004", "K004", "S012", "proposal", ["research", "contact"], ago(6)),  # skipped a stage
    ("OP005", "K005", "S005", "negotiation", ["contact", "proposal"], ago(45)),  # both
    ("OP006", "K006", "S001", "signed", None, ago(120)),  # signed: never stale
    ("OP007", "K007", "S013", "signed", ["research", "contact", "needs_analysis", "proposal"],
     ago(15)),  # signed without negotiating
    ("OP008", "K008", "S014", "lost", ["research"], ago(200)),  # lost: not checked
    ("OP009", "K009", "S015", "lost", None, ago(60)),
    ("OP010", "K010", "S016", "proposal", None, ago(12)),
    ("OP011", "K011", "S017", "negotiation", None, ago(31)),  # stale
    ("OP012", "K012", "S018", "contact", [], ago(1)),  # never researched
    ("OP013", "K013", "S019", "needs_analysis", None, ago(29, hours=23)),
    ("OP014", "K014", "S020", "research", [], ago(90)),  # stale, nothing to skip
    ("OP015", "K015", "S009", "signed", None, ago(3)),
    ("OP016", "K003", "S011", "proposal", ["research", "needs_analysis", "proposal"], ago(4)),
]


def make_opportunities() -> list[Record]:
    """Opportunities at every stage: stale, skipped stages, lost and signed."""
    records = []
    for oid, client, owner, stage, passed, active in OPPORTUNITIES:
        before = list(STAGES[: STAGES.index(stage)]) if stage != "lost" else list(STAGES[:3])
        records.append({"id": oid, "client_id": client, "owner_id": owner, "stage": stage,
                        "stages_passed": before if passed is None else passed,
                        "last_activity_at": ts(active)})
    return records


# ----------------------------------------------------------------------------- main


def make_company(seed: int = SEED) -> dict[str, list[Record]]:
    """The whole facts object, deterministic for a given seed."""
    rng = random.Random(seed)
    return {
        "staff": make_staff(rng),
        "applications": make_applications(),
        "clients": make_clients(),
        "complaints": make_complaints(),
        "appraisals": make_appraisals(rng),
        "trainings": make_trainings(),
        "sales_results": make_sales_results(rng),
        "projects": make_projects(),
        "opportunities": make_opportunities(),
    }


def to_json(facts: dict[str, list[Record]]) -> str:
    """Pretty JSON (indent 2) with every Decimal written as an exact JSON number."""
    def mark(value: object) -> str:
        if isinstance(value, Decimal):
            return f"\x00{value}\x00"
        raise TypeError(f"not JSON serialisable: {value!r}")

    text = json.dumps(facts, default=mark, indent=2, ensure_ascii=False)
    return re.sub(r'"\\u0000([^"\\]*)\\u0000"', r"\1", text) + "\n"


def main() -> None:
    """Write examples/company.json."""
    OUTPUT.write_text(to_json(make_company()), encoding="utf-8")


if __name__ == "__main__":
    main()
