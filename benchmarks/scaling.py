"""W4 at one rule count N in one process: compile each implementation (time, memory), check
its owners against kam_policy's, then time decisions per client, interleaved.

Run by ``benchmarks/run.py`` as ``python -m benchmarks.scaling N CONFIG_JSON``; prints one JSON
object on its last line. ``python -m benchmarks.scaling probe-durable N`` only loads durable_rules
with N rules and asserts one client (run.py gives it a timeout).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import data, handwritten, profiling, timing, w4
from benchmarks import workloads as wl

Clients = list[data.Record]


@dataclass
class Scaled:
    """One implementation at N rules: its compile cost and how to decide a batch of clients."""

    name: str
    compile_s: float | None  # None: nothing to compile
    rss_growth_mib: float
    run: Callable[[Any], Any]
    batch: Any
    sample: int
    keys: Callable[[Any], set[wl.Key]] = wl.tuple_keys
    extra: dict[str, Any] = field(default_factory=dict)


def compiled(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """(result of fn, seconds, resident memory growth MiB)."""
    before = timing.rss_mib()
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start, timing.rss_mib() - before


def kam(rules: Sequence[data.W4Rule], clients: Clients, sample: int) -> Scaled:
    """kam_policy: the generated policy folder, loaded through the public API."""
    with tempfile.TemporaryDirectory(prefix="kam-w4-") as scratch:
        folder = w4.write_policy(rules, Path(scratch) / "policy")
        policy_bytes = sum(p.stat().st_size for p in folder.iterdir())
        base = timing.max_rss_mib()
        policy, seconds, growth = compiled(lambda: w4.load(folder))
        peak = timing.max_rss_mib() - base
    facts = policy.validate({"clients": clients[:sample]})

    def run(batch: Any) -> Any:
        return policy.decide(batch, data.NOW)

    return Scaled("kam_policy", seconds, growth, run, facts, sample, wl.decision_keys,
                  {"peak_rss_growth_mib": peak, "policy_bytes": policy_bytes, "policy": policy})


def floor(rules: Sequence[data.W4Rule], clients: Clients) -> Scaled:
    """The dict index: (region, tier) -> first owner."""
    index, seconds, growth = compiled(lambda: handwritten.w4_index(w4.triples(rules)))
    models = [w4.Client(**c) for c in clients]  # validated, like kam_policy's input
    return Scaled("hand-written dict index (floor)", seconds, growth,
                  lambda batch: handwritten.w4(index, batch), models, len(models))


def floor_scan(rules: Sequence[data.W4Rule], clients: Clients, sample: int) -> Scaled:
    """A linear scan in plain Python: what any engine that scans pays at least."""
    triples = w4.triples(rules)
    models = [w4.Client(**c) for c in clients[:sample]]
    return Scaled("hand-written linear scan", None, 0.0,
                  lambda batch: handwritten.w4_scan(triples, batch), models, sample)


def zen_engine(rules: Sequence[data.W4Rule], clients: Clients) -> Scaled:
    from benchmarks.anchors import zen

    def build() -> Any:
        engine = zen.engine_for(zen.w4_graph(rules))
        engine.evaluate("w4", {"region": "", "tier": ""})  # loads and compiles the table
        return engine

    engine, seconds, growth = compiled(build)

    def run(batch: Clients) -> list[handwritten.Conclusion]:
        out: list[handwritten.Conclusion] = []
        results = engine.evaluate_batch([{"key": "w4", "context": c} for c in batch])
        for client, item in zip(batch, results, strict=True):
            owner = item["data"]["result"].get("owner_id")
            if owner is not None:
                out.append(("owner", "client", client["id"], {"owner_id": owner}))
        return out

    return Scaled("zen-engine", seconds, growth, run, clients, len(clients))


def rule_engine(rules: Sequence[data.W4Rule], clients: Clients, sample: int) -> Scaled:
    from benchmarks.anchors import ruleengine

    compiled_rules, seconds, growth = compiled(lambda: ruleengine.w4_rules(rules))
    return Scaled("rule-engine", seconds, growth,
                  lambda batch: ruleengine.w4_run(compiled_rules, batch), clients[:sample], sample)


def durable_rules(rules: Sequence[data.W4Rule], clients: Clients, sample: int) -> Scaled:
    from durable.lang import assert_fact, delete_state

    from benchmarks.anchors import durable

    name = f"w4_{len(rules)}"

    def build() -> None:
        durable.w4_ruleset(name, rules)
        # The engine compiles the ruleset on first use; the warm-up fact matches rule 0,
        # since delete_state after a fact no rule handled crashes the process (free()).
        assert_fact(name, {"id": "warm-up", "region": rules[0].region, "tier": rules[0].tier})
        delete_state(name)

    _, seconds, growth = compiled(build)
    return Scaled("durable_rules", seconds, growth,
                  lambda batch: durable.w4_run(name, rules, batch), clients[:sample], sample)


def check(impls: list[Scaled]) -> dict[str, dict[str, Any]]:
    """Each implementation's owners, on the clients kam_policy decided, against kam_policy's."""
    reference_impl = impls[0]
    reference = reference_impl.keys(reference_impl.run(reference_impl.batch))
    decided = {f"K{i:06d}" for i in range(reference_impl.sample)}
    report = {}
    for impl in impls:
        found = impl.keys(impl.run(impl.batch))
        common = min(impl.sample, reference_impl.sample)
        ids = {f"K{i:06d}" for i in range(common)} & decided
        mine = {k for k in found if k[2] in ids}
        theirs = {k for k in reference if k[2] in ids}
        report[impl.name] = {"clients_compared": len(ids), "owners": len(mine),
                             "differing": len(mine ^ theirs)}
    return report


def measure(count: int, config: dict[str, Any]) -> dict[str, Any]:
    rules = data.w4_rules(count)
    clients = data.w4_clients(rules, config["clients"])["clients"]
    samples = config["samples"]
    impls = [kam(rules, clients, samples["kam_policy"]), floor(rules, clients)]
    if samples.get("scan"):
        impls.append(floor_scan(rules, clients, samples["scan"]))
    if config.get("zen"):
        impls.append(zen_engine(rules, clients))
    if samples.get("rule-engine"):
        impls.append(rule_engine(rules, clients, samples["rule-engine"]))
    if samples.get("durable_rules"):
        impls.append(durable_rules(rules, clients, samples["durable_rules"]))
    checks = check(impls)
    work = timing.calls(impls[0].run, impls[0].batch) / impls[0].sample
    entries = [timing.Timed(i.name, i.run, i.batch, config["reps"]) for i in impls]
    timing.interleaved(entries)
    measured: dict[str, Any] = {}
    result: dict[str, Any] = {"rules": count, "checks": checks, "impls": measured,
                              "kam_calls_per_client": work}
    for impl, entry in zip(impls, entries, strict=True):
        measured[impl.name] = {
            "compile_s": impl.compile_s, "rss_growth_mib": impl.rss_growth_mib,
            "sample": impl.sample, "median_s": entry.median, "seconds": entry.seconds,
            "per_fact_us": entry.median / impl.sample * 1e6,
            **{k: v for k, v in impl.extra.items() if k != "policy"}}
    if config.get("profile_decide"):
        result["profile_decide"] = profiling.top(impls[0].run, impls[0].batch)
    if config.get("profile_compile"):
        with tempfile.TemporaryDirectory(prefix="kam-w4-") as scratch:
            folder = w4.write_policy(rules, Path(scratch) / "policy")
            result["profile_compile"] = profiling.top(w4.load, folder)
    return result


def probe_durable(count: int) -> None:
    """Load durable_rules with ``count`` W4 rules and assert one client; print the seconds."""
    rules = data.w4_rules(count)
    impl = durable_rules(rules, data.w4_clients(rules, 1)["clients"], 1)
    print(json.dumps({"rules": count, "compile_s": impl.compile_s}))


def main() -> None:
    if sys.argv[1] == "probe-durable":
        probe_durable(int(sys.argv[2]))
        return
    results = measure(int(sys.argv[1]), json.loads(sys.argv[2]))
    results["max_rss_mib"] = timing.max_rss_mib()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
