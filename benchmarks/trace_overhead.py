"""What the tracing hooks cost when nobody traces (issue 3: target under 5 %).

``decide`` calls a tracer only when one is passed. Without one, rules run as generated
functions that hold no tracer checks at all (``engine/compile_fast.py``; ``evaluate`` looks at
the tracer once per decision), so the checks left are those in decision-table lookups
(``CompiledTable.evaluate``). This benchmark times three variants of the same decision,
interleaved, and reports medians:

- ``no hooks``: the table lookup replaced by a copy with every tracer check removed (what the
  engine would cost with no tracing support at all);
- ``tracer=None``: the engine as shipped, not tracing;
- ``recording``: the engine with a ``RecordingTracer`` (what ``explain`` pays), for reference.

Each sample times a few decisions of every variant, the variants taking turns decision by
decision. The overhead of tracing off is ``tracer=None`` against ``no hooks``: the median, over
the samples (at least 7), of the ratio of the two variants' times in the same sample. Each
variant must draw the same conclusions before anything is timed.

As a check that does not depend on timing noise, the benchmark also estimates the overhead from
first principles: the number of tracer checks one decision executes (counted with a tracer)
times the measured cost of one such check, over the time of the decision.

Samples are CPU time of this process by default (``time.process_time``), which a busy machine
disturbs far less than wall-clock time; ``--clock wall`` times with ``perf_counter`` instead.

    python -m benchmarks.trace_overhead [--runs 15] [--quick] [--clock cpu|wall]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kam_policy
from benchmarks import data
from kam_policy import FactSet, Policy, RecordingTracer
from kam_policy.engine.tables import CompiledTable, _passes
from kam_policy.facts.load import load_facts_file

ROOT = Path(__file__).parent.parent
COMPANY = ROOT / "examples" / "company.json"
COMPANY_AT = dt.datetime.fromisoformat("2026-11-27T09:00:00+08:00")
VARIANTS = ("no hooks", "tracer=None", "recording")


# ---- the engine without tracing support: copies of the two hooked functions, hooks removed ----


def _table_evaluate_without_hooks(self: CompiledTable, ctx: Any, args: Sequence[Any]) -> Any:
    """``CompiledTable.evaluate`` with the tracer checks taken out."""
    env = dict(zip(self.inputs, args, strict=True))
    if self.hit == "first":
        positions, tests = self._candidates(args)
        for position in positions:
            if _passes(tests[position], ctx, env):
                return self._output(self.rows[position], ctx, env)
        return None
    return self._combine(self._matched(ctx, args, env), ctx, env)


@contextmanager
def without_hooks() -> Iterator[None]:
    shipped_table = CompiledTable.evaluate
    CompiledTable.evaluate = _table_evaluate_without_hooks  # type: ignore[method-assign]
    try:
        yield
    finally:
        CompiledTable.evaluate = shipped_table  # type: ignore[method-assign]


# ---- workloads --------------------------------------------------------------------------------


@dataclass
class Workload:
    name: str
    facts: FactSet
    at: dt.datetime
    repeat: int  # decisions of each variant per sample

    def decide(self, policy: Policy, tracer: Any = None) -> kam_policy.Decision:
        return policy.decide(self.facts, self.at, decision_id="bench", tracer=tracer)


def workloads(policy: Policy, quick: bool) -> list[Workload]:
    found = [Workload("company.json", load_facts_file(COMPANY, policy.schema), COMPANY_AT,
                      4 if quick else 8)]
    if not quick:
        found.append(Workload("W1 1,000 appraisals", policy.validate(data.w1_facts(1000)),
                              data.NOW, 3))
        found.append(Workload("W3 1,000 complaints", policy.validate(data.w3_facts(1000)),
                              data.NOW, 4))
    return found


def run_variant(variant: str, work: Workload, policy: Policy) -> kam_policy.Decision:
    if variant == "no hooks":
        with without_hooks():
            return work.decide(policy)
    if variant == "recording":
        return work.decide(policy, RecordingTracer())
    return work.decide(policy)


CLOCKS: dict[str, Callable[[], float]] = {"cpu": time.process_time, "wall": time.perf_counter}


def one(variant: str, work: Workload, policy: Policy, clock: Callable[[], float]) -> float:
    """Seconds for one decision of ``variant``."""
    start = clock()
    run_variant(variant, work, policy)
    return clock() - start


class CountingTracer:
    """Counts the hook calls, i.e. the tracer checks that found a tracer."""

    def __init__(self) -> None:
        self.calls = 0

    def matched(self, *args: Any) -> None:
        self.calls += 1

    def not_matched(self, *args: Any) -> None:
        self.calls += 1

    def emitted(self, *args: Any) -> None:
        self.calls += 1

    def table_matched(self, *args: Any) -> None:
        self.calls += 1


def check_cost() -> float:
    """Seconds per ``if ctx.tracer is not None`` test that finds None (loop cost removed)."""
    class Ctx:
        __slots__ = ("tracer",)

        def __init__(self) -> None:
            self.tracer = None

    ctx = Ctx()
    number = 1_000_000

    def with_check() -> None:
        for _ in range(number):
            if ctx.tracer is not None:
                pass

    def without_check() -> None:
        for _ in range(number):
            pass

    best = []
    for fn in (with_check, without_check):
        runs = []
        for _ in range(15):
            start = time.process_time()
            fn()
            runs.append(time.process_time() - start)
        best.append(min(runs))
    return max(best[0] - best[1], 0.0) / number


def check_same_conclusions(work: Workload, policy: Policy) -> int:
    decisions = {v: run_variant(v, work, policy).to_json() for v in VARIANTS}
    if len(set(decisions.values())) != 1:
        raise SystemExit(f"{work.name}: the variants disagree; the hook-free copies in "
                         "benchmarks/trace_overhead.py no longer match the engine")
    return len(run_variant("tracer=None", work, policy).conclusions)


def measure(work: Workload, policy: Policy, runs: int,
            clock: Callable[[], float]) -> dict[str, list[float]]:
    """``runs`` samples of each variant: seconds per decision over ``work.repeat`` decisions.

    Within a sample the variants take turns decision by decision (in a rotating order), so
    that a busy moment of the machine falls on all of them alike.
    """
    times: dict[str, list[float]] = {v: [] for v in VARIANTS}
    for variant in VARIANTS:
        one(variant, work, policy, clock)  # warm-up
    for index in range(runs):
        spent = dict.fromkeys(VARIANTS, 0.0)
        for turn in range(work.repeat):
            shift = (index + turn) % len(VARIANTS)
            for variant in VARIANTS[shift:] + VARIANTS[:shift]:
                gc.collect()  # no variant pays for another's garbage
                gc.disable()
                try:
                    spent[variant] += one(variant, work, policy, clock)
                finally:
                    gc.enable()
        for variant in VARIANTS:
            times[variant].append(spent[variant] / work.repeat)
    return times


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=15, help="samples per variant (>= 7)")
    parser.add_argument("--quick", action="store_true", help="company.json only")
    parser.add_argument("--clock", choices=tuple(CLOCKS), default="cpu",
                        help="CPU time of this process (default) or wall-clock time")
    args = parser.parse_args(argv)
    if args.runs < 7:
        parser.error("--runs must be at least 7")
    policy = kam_policy.load()
    print(f"kam_policy {kam_policy.__version__}, Python {sys.version.split()[0]}; "
          f"median of {args.runs} samples, {args.clock} time\n")
    per_check = check_cost()
    header = (f"{'workload':<22} {'conclusions':>11} {'no hooks':>10} {'tracer=None':>12} "
              f"{'overhead':>9} {'best':>7} {'estimate':>9} {'recording':>10} {'(x)':>6}")
    print(header)
    print("-" * len(header))
    worst = 0.0
    for work in workloads(policy, args.quick):
        count = check_same_conclusions(work, policy)
        counter = CountingTracer()
        work.decide(policy, counter)
        times = measure(work, policy, args.runs, CLOCKS[args.clock])
        median = {v: statistics.median(t) for v, t in times.items()}
        ratios = [a / b for a, b in zip(times["tracer=None"], times["no hooks"], strict=True)]
        overhead = (statistics.median(ratios) - 1) * 100
        best = (min(times["tracer=None"]) / min(times["no hooks"]) - 1) * 100
        estimate = counter.calls * per_check / median["no hooks"] * 100
        worst = max(worst, overhead)
        print(f"{work.name:<22} {count:>11} {median['no hooks'] * 1000:>8.1f}ms "
              f"{median['tracer=None'] * 1000:>10.1f}ms {overhead:>+8.1f}% {best:>+6.1f}% "
              f"{estimate:>8.2f}% "
              f"{median['recording'] * 1000:>8.1f}ms "
              f"{median['recording'] / median['no hooks']:>5.2f}x")
    print(f"\noverhead: median of the paired ratios tracer=None / no hooks; best: ratio of the "
          f"fastest samples;\nestimate: tracer checks per decision x {per_check * 1e9:.0f} ns "
          f"per check, over the decision's time.")
    print(f"worst measured overhead of tracing off: {worst:+.1f}% (target: under 5%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
