"""The example data set, examples/company.json, decided at 2026-11-27T09:00:00+08:00."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from policy_helpers import CONCLUSION_NAMES, bundled_policy, canonical, decide
from reference_policy import expected_conclusions

import kam_policy

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "company.json"
AT = datetime.fromisoformat("2026-11-27T09:00:00+08:00")

# Section of the spec (and first letter of the rule id) of every conclusion name.
SECTION = {
    "eligible": "B", "preferred_candidate": "B", "ineligible": "B",
    "task_force": "C", "escalation": "C", "account_review": "C", "client_notice_overdue": "C",
    "appraisal_incomplete": "D", "grade": "D",
    "bonus": "E", "salary_adjustment": "E", "improvement_plan": "E",
    "promotion_candidate": "E", "honor": "E", "training_reward": "E",
    "contact_overdue": "F", "contact_escalation": "F", "survey_due": "F",
    "account_improvement_plan": "F",
    "gate_violation": "G", "project_risk": "G", "review_overdue": "G",
    "stale_opportunity": "G", "process_violation": "G",
    "rectification_notice": "H", "supervisor_review": "H",
}
SUBJECT = {
    "eligible": "application", "preferred_candidate": "application", "ineligible": "application",
    "task_force": "complaint", "escalation": "complaint", "account_review": "client",
    "client_notice_overdue": "complaint",
    "appraisal_incomplete": "appraisal", "grade": "appraisal", "bonus": "appraisal",
    "salary_adjustment": "appraisal",
    "improvement_plan": "staff", "promotion_candidate": "staff", "honor": "staff",
    "training_reward": "staff", "rectification_notice": "staff", "supervisor_review": "staff",
    "contact_overdue": "client", "contact_escalation": "client", "survey_due": "client",
    "account_improvement_plan": "client",
    "gate_violation": "project", "project_risk": "project", "review_overdue": "project",
    "stale_opportunity": "opportunity", "process_violation": "opportunity",
}


@cache
def example_facts() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(EXAMPLE.read_text("utf-8"), parse_float=Decimal)
    return data


@cache
def example_decision() -> kam_policy.Decision:
    return bundled_policy().decide(example_facts(), AT)


def test_name_tables_cover_section_i() -> None:
    assert set(SECTION) == set(SUBJECT) == set(CONCLUSION_NAMES)
    assert len(CONCLUSION_NAMES) == 26


def test_example_equals_the_reference_exactly() -> None:
    got = decide(example_facts(), AT)
    want = expected_conclusions(example_facts(), AT)
    assert len(got) == len(want)
    assert canonical(got) == canonical(want)


def test_example_conclusions_are_not_repeated() -> None:
    texts = canonical(decide(example_facts(), AT))
    assert [t for t, n in Counter(texts).items() if n > 1] == []


@pytest.mark.parametrize("name", CONCLUSION_NAMES)
def test_example_covers_every_conclusion_name(name: str) -> None:
    found = example_decision().named(name)
    assert found, f"examples/company.json draws no {name!r} at {AT.isoformat()}"
    assert {c.subject.type for c in found} == {SUBJECT[name]}
    assert {c.rule_id[0] for c in found} == {SECTION[name]}


def test_every_conclusion_points_at_its_rule() -> None:
    bundled = kam_policy.bundled_policy_path()
    lines = {p.name: p.read_text("utf-8").splitlines() for p in bundled.glob("*.kp")}
    for c in example_decision().conclusions:
        assert lines[c.file][c.line - 1].startswith(f"rule {c.rule_id} "), (c.rule_id, c.file)


def test_example_values_have_the_json_forms_of_section_i() -> None:
    two_places = r"^-?\d+\.\d\d$"
    for c in example_decision().conclusions:
        for key in ("score", "multiplier", "amount", "percent"):
            value = c.values.get(key)
            if value is not None:
                assert re.match(two_places, value) and not value.startswith("-"), (c, key)
        if "level" in c.values:
            assert type(c.values["level"]) is int
        if "deadline" in c.values:
            assert re.match(r"^\d{4}-\d\d-\d\d$", c.values["deadline"])
        if "period" in c.values:
            assert isinstance(c.values["period"], str)
    escalations = example_decision().named("escalation")
    assert {c.values["to"] for c in escalations} <= {"manager", "department_head", "executive"}
    for c in escalations:
        expected = {"level", "to", "manager_id"} if c.values["level"] == 1 else {"level", "to"}
        assert set(c.values) == expected


def test_example_decision_through_to_dict_round_trips_as_json() -> None:
    data = example_decision().to_dict()
    again = json.loads(json.dumps(data, ensure_ascii=False))
    assert again == data
    assert data["at"] == AT.isoformat()
    assert len(data["conclusions"]) == len(expected_conclusions(example_facts(), AT))
