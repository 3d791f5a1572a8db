"""Generated rule functions (engine/codegen.py, engine/compile_fast.py) against the closures.

Without a tracer, ``decide`` runs each rule as generated Python; with one, step by step through
the closures. Both must give the same decision, or fail with the same diagnostic, on every
policy and every set of facts. Rule-file text must never become Python source.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import SilentTracer
from hypothesis import HealthCheck, given, settings
from policy_strategies import checked_policies
from strategies import appraisal_sets, complaint_sets, fact_sets

import kam_policy
from kam_policy.errors import PolicyError, PolicyEvalError

EXAMPLES = int(os.environ.get("KAM_CODEGEN_EXAMPLES", "150"))
DIFFERENTIAL = settings(max_examples=EXAMPLES, deadline=None,
                        suppress_health_check=[HealthCheck.too_slow,
                                               HealthCheck.function_scoped_fixture])
NOW = datetime.fromisoformat("2026-11-27T09:00:00+08:00")
BUNDLED = kam_policy.load()
COMPANY = Path(__file__).parents[1] / "examples" / "company.json"


def outcome(policy: kam_policy.Policy, facts: dict[str, Any], now: datetime,
            tracer: Any) -> tuple[str, Any]:
    """The decision as data, or the diagnostic it failed with."""
    try:
        decision = policy.decide(facts, now, tracer=tracer, decision_id="d")
    except PolicyEvalError as error:
        return "error", [(d.code, d.message, str(d.span)) for d in error.diagnostics]
    return "decision", (decision.to_dict(), decision.fired)


def assert_same(policy: kam_policy.Policy, facts: dict[str, Any], now: datetime) -> None:
    generated = outcome(policy, facts, now, None)
    stepwise = outcome(policy, facts, now, SilentTracer())
    assert generated == stepwise


def test_every_bundled_rule_is_generated() -> None:
    assert BUNDLED.rules and all(rule.fast is not None for rule in BUNDLED.rules)


@DIFFERENTIAL
@given(fact_sets())
def test_bundled_policy_same_both_ways(facts_now: tuple[dict[str, Any], datetime]) -> None:
    assert_same(BUNDLED, *facts_now)


@DIFFERENTIAL
@given(complaint_sets())
def test_bundled_complaints_same_both_ways(facts_now: tuple[dict[str, Any], datetime]) -> None:
    assert_same(BUNDLED, *facts_now)


@DIFFERENTIAL
@given(appraisal_sets())
def test_bundled_appraisals_same_both_ways(facts_now: tuple[dict[str, Any], datetime]) -> None:
    assert_same(BUNDLED, *facts_now)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("codegen")


@DIFFERENTIAL
@given(checked_policies(), fact_sets())
def test_generated_policies_same_both_ways(
        workdir: Path, files: dict[str, str],
        facts_now: tuple[dict[str, Any], datetime]) -> None:
    for name, text in files.items():
        (workdir / name).write_text(text, encoding="utf-8")
    for stale in set(p.name for p in workdir.glob("*.kp")) - set(files):
        (workdir / stale).unlink()
    try:
        policy = kam_policy.load(workdir / "policy.kp")
    except PolicyError as error:
        pytest.fail(f"a policy that checks was refused:\n{error}")
    assert_same(policy, *facts_now)


HOSTILE = '''
policy "hostile" version "1"

param quote = "' + __import__('os').getcwd() + '"
param lines = "\\n    return 1\\n"

conclusion flagged(text: text, other: text) about Complaint

rule R1 "Names and texts that look like Python stay data" {
  for __class__ in Complaint
  let __import__ = quote
  let 类别 = lines
  when __class__.severity == critical and __import__ != "x') or True or ('"
  emit flagged(text: __import__, other: 类别)
  because "{__import__} {类别}"
}
'''


def test_rule_file_text_stays_data(tmp_path: Path) -> None:
    (tmp_path / "policy.kp").write_text(HOSTILE, encoding="utf-8")
    policy = kam_policy.load(tmp_path / "policy.kp")
    facts = json.loads(COMPANY.read_text(encoding="utf-8"))
    decision = policy.decide(facts, NOW)
    critical = {c["id"] for c in facts["complaints"] if c["severity"] == "critical"}
    assert critical and {c.subject.id for c in decision.conclusions} == critical
    for found in decision.conclusions:
        assert dict(found.values) == {"text": "' + __import__('os').getcwd() + '",
                                      "other": "\n    return 1\n"}
        assert found.reason == "' + __import__('os').getcwd() + ' \n    return 1\n"
    assert_same(policy, facts, NOW)


def test_generated_functions_reach_no_builtins() -> None:
    for rule in BUNDLED.rules:
        assert rule.fast is not None
        assert rule.fast.__globals__["__builtins__"] == {}


def test_small_tables_are_generated_and_agree_with_their_rows() -> None:
    from decimal import Decimal
    from itertools import product
    from types import SimpleNamespace

    ctx = SimpleNamespace(tracer=None, memo={})
    flags = (True, False, None)
    cases = {
        "unmet_requirements": list(product(flags, flags, flags)),
        "escalation_target": list(product(flags, flags, flags, (None, 0, 1, 2, 3))),
        "grade_table": list(product(
            (None, Decimal("59.99"), 60, Decimal("84.99"), 85, 95, Decimal("95.00"), 100),
            (None, Decimal("89.99"), 90, 100))),
    }
    for name, inputs in cases.items():
        table = BUNDLED.tables[name]
        assert table.fast is not None, name
        for args in inputs:
            assert table.fast(ctx, *args) == table.evaluate(ctx, args), (name, args)
