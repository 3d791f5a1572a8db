"""Replaying logged decisions, and comparing two policies on the same facts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kam_policy.audit.log import policy_from_record, read_records
from kam_policy.audit.store import LogError
from kam_policy.engine.decision import Decision
from kam_policy.engine.policy import Policy
from kam_policy.facts.load import FactSet

Key = tuple[str, str, str, str, str]  # name, subject type, subject id, values, rule


def conclusion_key(conclusion: dict[str, Any]) -> Key:
    import json

    subject = conclusion["subject"]
    return (conclusion["name"], subject["type"], subject["id"],
            json.dumps(conclusion["values"], sort_keys=True, ensure_ascii=False),
            conclusion["rule"])


@dataclass(frozen=True)
class Change:
    """How one decision's conclusions differ between two evaluations."""

    decision_id: str
    at: str
    added: tuple[dict[str, Any], ...]
    removed: tuple[dict[str, Any], ...]


@dataclass
class ReplayReport:
    """Replay results: how many decisions were re-run and which changed."""

    replayed: int = 0
    changes: list[Change] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def compare(before: Iterable[dict[str, Any]], after: Iterable[dict[str, Any]],
            decision_id: str, at: str) -> Change | None:
    """The conclusions only in ``after`` (added) and only in ``before`` (removed)."""
    old = {conclusion_key(c): c for c in before}
    new = {conclusion_key(c): c for c in after}
    added = tuple(new[k] for k in sorted(set(new) - set(old)))
    removed = tuple(old[k] for k in sorted(set(old) - set(new)))
    if not added and not removed:
        return None
    return Change(decision_id, at, added, removed)


def replay(path: str | Path, policy: Policy | None = None) -> ReplayReport:
    """Re-run every logged decision on its recorded facts and ``at``.

    Args:
        policy: another policy to preview; None replays each decision under its own recorded
            policy (any change is then drift).
    """
    report = ReplayReport()
    recorded: dict[str, dict[str, Any]] = {}
    compiled: dict[str, Policy] = {}
    for raw in read_records(path):
        body = raw.body
        if body is None:
            raise LogError(f"record {raw.position} is not valid JSON; run 'audit verify'")
        if body.get("type") == "policy":
            recorded[str(body["sha256"])] = body  # compiled only if a replay needs it
            continue
        try:
            chosen = policy or _recorded_policy(str(body["policy"]["sha256"]), recorded,
                                                compiled)
        except Exception as error:  # a policy this engine can no longer read: say so
            report.errors.append(f"decision {body['decision_id']}: {error}")
            continue
        try:
            facts = chosen.validate(body["facts"])
            decision = chosen.decide(facts, dt.datetime.fromisoformat(str(body["at"])),
                                     decision_id=str(body["decision_id"]))
        except Exception as error:  # a decision that can't be re-run is reported, not hidden
            report.errors.append(f"decision {body['decision_id']}: {error}")
            continue
        report.replayed += 1
        change = compare(body["conclusions"], [c.to_dict() for c in decision.conclusions],
                         str(body["decision_id"]), str(body["at"]))
        if change is not None:
            report.changes.append(change)
    return report


def _recorded_policy(digest: str, recorded: dict[str, dict[str, Any]],
                     compiled: dict[str, Policy]) -> Policy:
    if digest not in compiled:
        if digest not in recorded:
            raise LogError("its policy record is missing")
        compiled[digest] = policy_from_record(recorded[digest])
    return compiled[digest]


def diff_policies(old: Policy, new: Policy, facts: FactSet, now: dt.datetime) -> Change | None:
    """What changes when ``new`` replaces ``old`` on the same facts."""
    before: Decision = old.decide(facts, now, decision_id="old")
    after: Decision = new.decide(facts, now, decision_id="new")
    return compare([_without_rule_source(c.to_dict()) for c in before.conclusions],
                   [_without_rule_source(c.to_dict()) for c in after.conclusions],
                   "preview", now.isoformat())


def _without_rule_source(conclusion: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in conclusion.items() if k not in ("source", "reason")}
