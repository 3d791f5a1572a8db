"""Querying a decision log: which decisions concluded what, about whom, by which rule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kam_policy.audit.log import read_records


@dataclass(frozen=True)
class QueryFilter:
    """Conditions a logged conclusion must meet (None: any)."""

    rule: str | None = None
    subject: tuple[str, str] | None = None
    name: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def query(path: str | Path, where: QueryFilter) -> Iterator[dict[str, Any]]:
    """One row per logged conclusion that matches, with its decision's id, time and policy."""
    for raw in read_records(path):
        body = raw.body
        if body is None or body.get("type") != "decision":
            continue
        at = dt.datetime.fromisoformat(str(body["at"]))
        if (where.since and at < where.since) or (where.until and at > where.until):
            continue
        for conclusion in body.get("conclusions", []):
            if _matches(conclusion, where):
                yield {"seq": body["seq"], "decision_id": body["decision_id"], "at": body["at"],
                       "policy": body["policy"], **conclusion}


def _matches(conclusion: dict[str, Any], where: QueryFilter) -> bool:
    if where.rule and conclusion.get("rule") != where.rule:
        return False
    if where.name and conclusion.get("name") != where.name:
        return False
    if where.subject:
        subject = conclusion.get("subject", {})
        if (subject.get("type"), subject.get("id")) != where.subject:
            return False
    return True
