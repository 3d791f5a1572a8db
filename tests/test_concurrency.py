"""Concurrent use: one compiled policy shared by 16 threads decides exactly as sequential use;
two policies in one process don't interfere; a pickled policy decides identically in another
process."""

from __future__ import annotations

import datetime as dt
import json
import pickle
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import dumps_facts, fact_sets

import kam_policy

EXAMPLES = Path(__file__).parent.parent / "examples" / "company.json"
POLICY = kam_policy.load()


def _conclusions(policy: kam_policy.Policy, facts: Any, now: dt.datetime) -> list[dict[str, Any]]:
    return [c.to_dict() for c in policy.decide(facts, now).conclusions]


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(fact_sets(), min_size=4, max_size=4))
def test_sixteen_threads_decide_as_one(drawn: list[tuple[dict[str, Any], dt.datetime]]) -> None:
    # 16 different decisions: each drawn fact set at four different times.
    cases = [(facts, now + dt.timedelta(hours=hours)) for facts, now in drawn
             for hours in (0, 5, 49, 24 * 40)]
    sequential = [_conclusions(POLICY, facts, now) for facts, now in cases]
    with ThreadPoolExecutor(max_workers=16) as pool:
        for _ in range(3):
            parallel = list(pool.map(lambda case: _conclusions(POLICY, *case), cases))
            assert parallel == sequential


def test_two_policies_side_by_side_do_not_interfere() -> None:
    facts = json.loads(EXAMPLES.read_text("utf-8"))
    now = dt.datetime.fromisoformat("2026-11-27T09:00:00+08:00")
    strict = kam_policy.load(params={"grade_min": {"A": 95, "S": 99}})
    default_before = _conclusions(POLICY, facts, now)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda p: _conclusions(p, facts, now),
                                [POLICY, strict, POLICY, strict]))
    assert results[0] == results[2] == default_before
    assert results[1] == results[3] != default_before
    assert strict.digest != POLICY.digest


def test_pickled_policy_decides_identically_in_another_process(tmp_path: Path) -> None:
    policy = kam_policy.load(params={"response_limit": {"major": "6h"}})
    facts = json.loads(EXAMPLES.read_text("utf-8"))
    now = dt.datetime.fromisoformat("2026-11-27T09:00:00+08:00")
    policy.decide(facts, now)  # a used policy pickles too
    (tmp_path / "policy.pickle").write_bytes(pickle.dumps(policy))
    script = (
        "import pickle, json, sys, datetime as dt\n"
        f"policy = pickle.loads(open({str(tmp_path / 'policy.pickle')!r}, 'rb').read())\n"
        f"facts = json.load(open({str(EXAMPLES)!r}))\n"
        "now = dt.datetime.fromisoformat('2026-11-27T09:00:00+08:00')\n"
        "print(json.dumps([c.to_dict() for c in policy.decide(facts, now).conclusions]))\n"
        "print(policy.digest)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True)
    lines = done.stdout.splitlines()
    assert json.loads(lines[0]) == _conclusions(policy, facts, now)
    assert lines[1] == policy.digest


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fact_sets())
def test_generated_facts_round_trip_through_json(case: tuple[dict[str, Any], dt.datetime]) -> None:
    facts, now = case
    text = dumps_facts(facts)

    def without_reasons(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # a reason shows the input's own digits ("0.0" vs "0.00"): only the conclusions count
        return [{k: v for k, v in c.items() if k != "reason"} for c in found]

    assert without_reasons(_conclusions(POLICY, json.loads(text), now)) == \
        without_reasons(_conclusions(POLICY, facts, now))
