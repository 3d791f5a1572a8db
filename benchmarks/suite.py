"""One size of W1-W3 in one process: build every implementation, check each one's
conclusions against kam_policy's, then time them side by side, interleaved.

Run by ``benchmarks/run.py`` as ``python -m benchmarks.suite SIZE CONFIG_JSON``; prints one
JSON object (the results of this size) on its last line.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from benchmarks import data, handwritten, profiling, timing
from benchmarks import workloads as wl
from benchmarks.anchors import Impl
from kam_policy import Policy
from kam_policy.facts.load import parse_facts_json

KAM = "kam_policy"
KAM_E2E = "kam_policy, from JSON"
FLOOR = "hand-written (floor)"
FLOOR_E2E = "hand-written, from JSON"
KAM_READ = "kam_policy, reading + validating only"
FLOOR_READ = "hand-written, reading only"
READERS = (KAM_READ, FLOOR_READ)
ANCHORS = ("zen-engine", "durable_rules", "rule-engine")


@dataclass
class Config:
    """What to run at this size (set by run.py)."""

    reps: int
    e2e_reps: int
    anchor_reps: int
    anchors: bool
    latency: bool
    memory: bool
    profile: bool
    work: bool = False
    check_is_first_rep: bool = False

    @classmethod
    def from_json(cls, text: str) -> Config:
        return cls(**json.loads(text))


def own_impls(workload: str, policy: Policy, prepared: wl.Prepared) -> list[Impl]:
    """kam_policy and the floor, on validated facts and end to end from JSON text."""
    kam = wl.kam_runner(policy)
    floor = wl.floor_runner(workload)
    return [
        Impl(KAM, kam, prepared.fact_set, kam, [], "Policy.decide(FactSet, now)"),
        Impl(KAM_E2E, wl.kam_e2e_runner(policy), prepared.text, None, [],
             "parse_facts_json + Policy.decide"),
        Impl(FLOOR, floor, prepared.fact_set, floor, [], "plain Python, Decimal"),
        Impl(FLOOR_E2E, _floor_e2e(workload), prepared.text, None, [],
             "json.loads(parse_float=Decimal), no validation"),
        Impl(KAM_READ, lambda text: parse_facts_json(text, policy.schema), prepared.text,
             None, [], "parse_facts_json alone (no decision)"),
        Impl(FLOOR_READ, handwritten.from_json, prepared.text, None, [],
             "the floor's JSON reading alone (no decision)"),
    ]


def _floor_e2e(workload: str) -> Callable[[str], Any]:
    return handwritten.e2e(workload, data.NOW)


def anchor_impls(workload: str, prepared: wl.Prepared) -> tuple[list[Impl], dict[str, str]]:
    """The anchors that can be built here; an anchor that fails is reported, not run."""
    from benchmarks.anchors import durable, ruleengine, zen

    impls, errors = [], {}
    for name, module in zip(ANCHORS, (zen, durable, ruleengine), strict=True):
        try:
            impls.append(module.build(workload, prepared.facts))
        except Exception as error:  # an anchor that cannot run is a result, not a crash
            errors[name] = f"{type(error).__name__}: {error}"
    return impls, errors


def keys_of(name: str, found: Any) -> set[wl.Key]:
    if name in (KAM, KAM_E2E):
        return wl.decision_keys(found)
    return wl.tuple_keys(found)


def check(impls: list[Impl]) -> tuple[list[Impl], dict[str, dict[str, Any]], dict[str, float]]:
    """Run each implementation once and compare its conclusions with kam_policy's (the first).

    Returns the implementations that ran, the comparison, and the seconds each run took.
    """
    reference: set[wl.Key] = set()
    kept: list[Impl] = []
    report: dict[str, dict[str, Any]] = {}
    took: dict[str, float] = {}
    for impl in impls:
        try:
            timing.settle()
            start = time.perf_counter()
            output = impl.run(impl.batch)
            took[impl.name] = time.perf_counter() - start
            if impl.name in READERS:  # not a decision: timed, nothing to compare
                kept.append(impl)
                continue
            found = keys_of(impl.name, output)
            if impl.name == KAM:
                reference = found
        except Exception as error:
            report[impl.name] = {"error": f"{type(error).__name__}: {error}",
                                 "trace": traceback.format_exc(limit=3)}
            continue
        missing, extra = sorted(reference - found), sorted(found - reference)
        subjects = {k[2] for k in missing} | {k[2] for k in extra}
        report[impl.name] = {"conclusions": len(found), "reference": len(reference),
                             "missing": len(missing), "extra": len(extra),
                             "subjects_differing": len(subjects),
                             "examples": [list(k) for k in (missing[:2] + extra[:2])]}
        kept.append(impl)
    return kept, report, took


def measure(workload: str, size: int, policy: Policy, config: Config) -> dict[str, Any]:
    prepared = wl.prepare(workload, size, policy, text=config.e2e_reps > 0)
    impls = [i for i in own_impls(workload, policy, prepared) if _reps(i.name, config)]
    errors: dict[str, str] = {}
    if config.anchors:
        anchors, errors = anchor_impls(workload, prepared)
        impls += anchors
    impls, checks, took = check(impls)
    entries = [timing.Timed(i.name, i.run, i.batch, _reps(i.name, config)) for i in impls]
    if config.check_is_first_rep:  # at the largest size the check run is also repetition 1
        for entry in entries:
            entry.seconds.append(took[entry.name])
    timing.interleaved(entries)
    result: dict[str, Any] = {
        "facts": prepared.count, "json_bytes": len(prepared.text), "checks": checks,
        "build_errors": errors, "notes": {i.name: i.note for i in impls},
        "times": {e.name: {"median_s": e.median, "seconds": e.seconds} for e in entries}}
    if config.latency:
        result["latency"] = latencies(workload, policy, prepared, impls)
    if config.memory:  # kam_policy and the floor (the anchors allocate natively, unseen)
        result["peak_python_mib"] = {i.name: timing.peak_python_memory(i.run, i.batch)
                                     for i in impls if i.name not in ANCHORS}
    if config.work:
        result["calls_per_fact"] = {i.name: timing.calls(i.run, i.batch) / prepared.count
                                    for i in impls if i.name in (KAM, FLOOR)}
    if config.profile:
        result["profile"] = profiling.top(impls[0].run, impls[0].batch)
        singles = wl.singles(prepared, policy, 2000)
        result["profile_single"] = profiling.top(_each(impls[0].run), singles)
    return result


def _reps(name: str, config: Config) -> int:
    if name in (KAM, FLOOR):
        return config.reps
    if name in (KAM_E2E, FLOOR_E2E, *READERS):
        return config.e2e_reps
    return config.anchor_reps


def latencies(workload: str, policy: Policy, prepared: wl.Prepared,
              impls: list[Impl], passes: int = 3) -> dict[str, dict[str, float]]:
    """One decision at a time through each implementation's single-call API: ``passes``
    passes over 2,000 facts, interleaved across implementations; the median of each figure."""
    singles = wl.singles(prepared, policy, 2000)
    raw = [s.to_jsonable() for s in singles]
    kam, floor = wl.kam_runner(policy), wl.floor_runner(workload)
    calls: dict[str, tuple[Callable[[Any], Any], Any]] = {
        KAM: (kam, singles), "kam_policy, validating a dict": (kam, raw), FLOOR: (floor, singles)}
    for impl in impls:
        if impl.one is not None and impl.name in ANCHORS:
            calls[impl.name] = (impl.one, impl.items)
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in calls}
    for _ in range(passes):
        for name, (fn, items) in calls.items():
            runs[name].append(timing.latency(fn, items))
    return {name: {key: statistics.median(r[key] for r in found) for key in found[0]}
            for name, found in runs.items()}


def _each(fn: Callable[[Any], Any]) -> Callable[[list[Any]], None]:
    """``fn`` applied to every item of a list, one call each."""

    def run(items: list[Any]) -> None:
        for item in items:
            fn(item)

    return run


def main() -> None:
    size, config = int(sys.argv[1]), Config.from_json(sys.argv[2])
    started = time.perf_counter()
    policy = wl.load_bundled()
    results = {"size": size, "machine": timing.machine(),
               "policy_load_s": time.perf_counter() - started,
               "workloads": {w: measure(w, size, policy, config) for w in wl.WORKLOADS}}
    results["max_rss_mib"] = timing.max_rss_mib()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
