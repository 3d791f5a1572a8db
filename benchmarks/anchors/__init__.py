"""Anchor engines running the workloads' policy: zen-engine, durable_rules and rule-engine.

Like the hand-written floor they are given pre-joined facts (each appraisal with its staff
member's role and target bonus, each application with the applicant, each complaint with the
assignee's manager), converted once to the form the engine reads, outside the timed region.
What the engine cannot express is done by timed Python glue; each module says what that is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from benchmarks import data

Record = dict[str, Any]
Conclusion = tuple[str, str, str, dict[str, Any]]

SOURCES = ("supervisor", "peer", "client")
EPOCH = datetime(1970, 1, 1, tzinfo=data.NOW.tzinfo)
TIME_FIELDS = ("opened_at", "first_response_at", "resolved_at", "client_notified_at")


@dataclass
class Impl:
    """One implementation of one workload, ready to time.

    ``run(batch)`` is timed and returns conclusions as ``(name, subject type, id, values)``;
    ``one(item)`` decides a single fact (for latency); ``items`` are the single-fact inputs.
    """

    name: str
    run: Callable[[Any], Any]
    batch: Any
    one: Callable[[Any], Any] | None = None
    items: Sequence[Any] = field(default_factory=list)
    note: str = ""


def joined_w1(facts: data.Facts) -> list[Record]:
    """Each appraisal with its staff member's role and target bonus; absent sources None."""
    staff = {s["id"]: s for s in facts["staff"]}
    out = []
    for a in facts["appraisals"]:
        person = staff[a["staff_id"]]
        scores = {d: {s: a["scores"].get(d, {}).get(s) for s in SOURCES} for d in data.DIMENSIONS}
        out.append({"id": a["id"], "staff_id": a["staff_id"], "period": a["period"],
                    "role": person["role"], "bonus": person["monthly_target_bonus"],
                    "scores": scores})
    return out


def joined_w2(facts: data.Facts) -> list[Record]:
    """Each application with the applicant's education, major and years."""
    staff = {s["id"]: s for s in facts["staff"]}
    out = []
    for app in facts["applications"]:
        person = staff[app["staff_id"]]
        record = {"id": app["id"], "role": app["role"], "education": person["education"],
                  "major": person["major"]}
        record.update({name: person[name] for name in data.YEAR_FIELDS})
        out.append(record)
    return out


def joined_w3(facts: data.Facts) -> list[Record]:
    """Each complaint with aware datetimes and the assignee's manager id."""
    managers = {s["id"]: s["manager_id"] for s in facts["staff"]}
    out = []
    for c in facts["complaints"]:
        record = {"id": c["id"], "client_id": c["client_id"], "severity": c["severity"],
                  "reopened_count": c["reopened_count"], "manager_id": managers[c["assigned_to"]]}
        for name in TIME_FIELDS:
            text = c.get(name)
            record[name] = None if text is None else datetime.fromisoformat(text)
        out.append(record)
    return out


def micros(moment: datetime | None) -> int | None:
    """A datetime as whole microseconds since the epoch (exact), for engines without datetimes."""
    if moment is None:
        return None
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def number(value: Decimal | None) -> float | None:
    """A decimal as a float for engines that read JSON doubles (exact for this data's values)."""
    return None if value is None else float(value)


def cents(value: Any) -> str:
    """A number the engine computed, as text with 2 decimals (the engine already rounded it)."""
    return f"{Decimal(repr(value)) if isinstance(value, float) else Decimal(value):.2f}"
