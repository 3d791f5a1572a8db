"""Performance regression guards that count work, not seconds (never flaky on a busy machine).

Work is the number of function calls (Python and builtin) made during ``Policy.decide``,
counted with ``sys.setprofile``: for the same code and facts it is the same on every run.

- W4 (benchmarks/w4.py): N rules "region == R and tier == T -> owner", first match wins, as a
  FIRST-hit table. A lookup that does not scan does the same work per client at N = 10 and
  N = 10,000 rules.
- W1-W3 (benchmarks/data.py): the work per fact must not grow with the number of facts (every
  join and per-client count goes through an index, never a scan of all facts).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the benchmarks package

from benchmarks import data, w4
from benchmarks import workloads as wl
from kam_policy import FactSet, Policy

CLIENTS = 200


def calls_during(fn: Callable[[], Any]) -> int:
    """How many functions ``fn()`` calls (Python and builtin), all nesting levels."""
    count = 0

    def tally(frame: Any, event: str, arg: Any) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(tally)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return count


def decide_work(policy: Policy, facts: FactSet) -> int:
    policy.decide(facts, data.NOW)  # warm up lazily built caches
    return calls_during(lambda: policy.decide(facts, data.NOW))


@pytest.fixture(scope="module")
def w4_work(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[int, float]]:
    """Calls per client at N = 10 and N = 10,000 rules, on 200 clients each."""
    work = {}
    for count in (10, 10_000):
        rules = data.w4_rules(count)
        policy = w4.load(w4.write_policy(rules, tmp_path_factory.mktemp(f"w4-{count}")))
        facts = policy.validate(data.w4_clients(rules, CLIENTS))
        work[count] = decide_work(policy, facts) / CLIENTS
    yield work


def test_w4_decides_every_client(tmp_path: Path) -> None:
    """The generated policy is valid and first match wins (a sanity check for the guard)."""
    rules = data.w4_rules(10)
    policy = w4.load(w4.write_policy(rules, tmp_path / "w4"))
    facts = data.w4_clients(rules, CLIENTS)
    decision = policy.decide(facts, data.NOW)
    first: dict[tuple[str, str], str] = {}
    for rule in rules:
        first.setdefault((rule.region, rule.tier), rule.owner)
    expected = {(c["id"], first[(c["region"], c["tier"])]) for c in facts["clients"]
                if (c["region"], c["tier"]) in first}
    assert {(c.subject.id, c.values["owner_id"]) for c in decision} == expected


def test_w4_work_per_client_does_not_grow_with_rules(w4_work: dict[int, float]) -> None:
    assert w4_work[10_000] <= 3 * w4_work[10], (
        f"{w4_work[10]:,.0f} calls per client at 10 rules, {w4_work[10_000]:,.0f} at 10,000")


@pytest.fixture(scope="module")
def bundled() -> Policy:
    return wl.load_bundled()


@pytest.mark.parametrize("workload", wl.WORKLOADS)
def test_work_per_fact_does_not_grow_with_facts(workload: str, bundled: Policy) -> None:
    policy = bundled
    small, large = 200, 2_000
    per_fact = {}
    for count in (small, large):
        prepared = wl.prepare(workload, count, policy)
        per_fact[count] = decide_work(policy, prepared.fact_set) / prepared.count
    assert per_fact[large] <= 1.25 * per_fact[small], (
        f"{workload}: {per_fact[small]:,.0f} calls per fact at {small} facts, "
        f"{per_fact[large]:,.0f} at {large}")
