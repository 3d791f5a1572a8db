"""The workloads W1-W3 for kam_policy and the floor: data, runners and conclusion sets.

A runner is a function of one prepared input; what it returns is turned into a set of
``(name, subject type, subject id, values as canonical JSON)`` outside the timed region,
so that every implementation's conclusions can be compared with kam_policy's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import kam_policy
from benchmarks import data, handwritten
from kam_policy import Decision, FactSet, Policy
from kam_policy.facts.load import parse_facts_json

Key = tuple[str, str, str, str]
WORKLOADS = ("W1", "W2", "W3")
FACT_KEY = {"W1": "appraisals", "W2": "applications", "W3": "complaints"}
GENERATORS: dict[str, Callable[[int], data.Facts]] = {
    "W1": data.w1_facts, "W2": data.w2_facts, "W3": data.w3_facts}


def key_of(name: str, subject_type: str, subject_id: str, values: Any) -> Key:
    """One conclusion as a hashable, comparable key."""
    return (name, subject_type, subject_id, json.dumps(values, sort_keys=True))


def decision_keys(decision: Decision) -> set[Key]:
    return {key_of(c.name, c.subject.type, c.subject.id, dict(c.values)) for c in decision}


def tuple_keys(found: Iterable[tuple[str, str, str, Any]]) -> set[Key]:
    return {key_of(*item) for item in found}


@dataclass
class Prepared:
    """One workload at one size: the facts as dicts, JSON text and a validated FactSet."""

    workload: str
    facts: data.Facts
    text: str
    fact_set: FactSet

    @property
    def count(self) -> int:
        return len(self.facts[FACT_KEY[self.workload]])


def prepare(workload: str, count: int, policy: Policy, *, text: bool = True) -> Prepared:
    """Generate the facts, validate them, and (unless ``text`` is False) write the JSON."""
    facts = GENERATORS[workload](count)
    return Prepared(workload, facts, data.to_json(facts) if text else "", policy.validate(facts))


def kam_runner(policy: Policy) -> Callable[[FactSet], Decision]:
    """kam_policy on validated facts, through the public API."""
    return lambda facts: policy.decide(facts, data.NOW)


def kam_e2e_runner(policy: Policy) -> Callable[[str], Decision]:
    """kam_policy from JSON text: parse, validate, decide."""

    def run(text: str) -> Decision:
        return policy.decide(parse_facts_json(text, policy.schema), data.NOW)

    return run


def floor_runner(workload: str) -> Callable[[FactSet], list[handwritten.Conclusion]]:
    """The hand-written floor on the records of a validated FactSet."""

    def run(facts: FactSet) -> list[handwritten.Conclusion]:
        staff = facts.of("Staff")
        if workload == "W1":
            return handwritten.w1(staff, facts.of("Appraisal"))
        if workload == "W2":
            return handwritten.w2(staff, facts.of("Application"))
        return handwritten.w3(staff, facts.of("Complaint"), data.NOW)

    return run


def singles(prepared: Prepared, policy: Policy, count: int) -> list[FactSet]:
    """``count`` one-fact FactSets (the fact with the records it refers to), validated."""
    facts = prepared.facts
    main = FACT_KEY[prepared.workload]
    staff = {s["id"]: s for s in facts["staff"]}
    clients = {c["id"]: c for c in facts.get("clients", [])}
    out = []
    for record in facts[main][:count]:
        out.append(policy.validate(_single(main, record, staff, clients)))
    return out


def _single(main: str, record: data.Record, staff: dict[str, data.Record],
            clients: dict[str, data.Record]) -> data.Facts:
    if main != "complaints":
        return {"staff": [staff[record["staff_id"]]], main: [record]}
    client = clients[record["client_id"]]
    return {"staff": _with_managers([record["assigned_to"], client["owner_id"]], staff),
            "clients": [client], main: [record]}


def _with_managers(ids: list[str], staff: dict[str, data.Record]) -> list[data.Record]:
    """The staff records of ``ids`` and of their managers, up the chain, each once."""
    seen: dict[str, data.Record] = {}
    todo = list(ids)
    while todo:
        sid = todo.pop()
        if sid in seen:
            continue
        seen[sid] = staff[sid]
        if staff[sid]["manager_id"] is not None:
            todo.append(staff[sid]["manager_id"])
    return list(seen.values())


def load_bundled() -> Policy:
    return kam_policy.load()
