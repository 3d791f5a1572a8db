"""Timing helpers: interleaved repetitions (median), single-call latency percentiles, peak
memory, and the machine the numbers come from."""

from __future__ import annotations

import gc
import os
import platform
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Timed:
    """What to time: ``fn(arg)`` once per repetition."""

    name: str
    fn: Callable[[Any], Any]
    arg: Any
    reps: int
    seconds: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def settle() -> None:
    """Collect, then freeze what is alive (the harness's data) out of later collections, so
    that the collector's pauses while timing come from the timed call's own allocations."""
    gc.collect()
    gc.freeze()


def once(fn: Callable[[Any], Any], arg: Any) -> float:
    """Seconds for one call, after ``settle`` (the collector stays on while timing)."""
    settle()
    start = time.perf_counter()
    fn(arg)
    return time.perf_counter() - start


def interleaved(entries: Sequence[Timed]) -> None:
    """Repetition r runs every entry that still needs a repetition, starting at entry r, so
    that no implementation always runs first or right after another one."""
    rounds = max(e.reps for e in entries)
    for r in range(rounds):
        order = list(entries[r % len(entries):]) + list(entries[: r % len(entries)])
        for entry in order:
            if len(entry.seconds) < entry.reps:
                entry.seconds.append(once(entry.fn, entry.arg))


def latency(fn: Callable[[Any], Any], items: Sequence[Any], warmup: int = 50) -> dict[str, float]:
    """p50 / p99 / mean microseconds of single calls, one per item, after a warm-up."""
    for item in items[:warmup]:
        fn(item)
    settle()
    samples = []
    clock = time.perf_counter_ns
    for item in items:
        start = clock()
        fn(item)
        samples.append((clock() - start) / 1000)
    samples.sort()
    return {"p50_us": _pct(samples, 50), "p99_us": _pct(samples, 99),
            "mean_us": statistics.fmean(samples), "n": len(samples)}


def _pct(ordered: Sequence[float], pct: float) -> float:
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def peak_python_memory(fn: Callable[[Any], Any], arg: Any) -> float:
    """MiB of Python allocations at the peak of one call (tracemalloc; native memory unseen)."""
    settle()
    tracemalloc.start()
    try:
        fn(arg)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def calls(fn: Callable[[Any], Any], arg: Any) -> int:
    """Function calls (Python and builtin) made by ``fn(arg)``: work, independent of the clock."""
    count = 0

    def tally(frame: Any, event: str, _: Any) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(tally)
    try:
        fn(arg)
    finally:
        sys.setprofile(None)
    return count


def max_rss_mib() -> float:
    """Peak resident set size of this process so far, MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mib() -> float:
    """Current resident set size of this process, MiB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def machine() -> dict[str, Any]:
    """CPU, cores, memory, OS, Python and the load average when called."""
    info: dict[str, Any] = {"python": platform.python_version(),
                            "implementation": platform.python_implementation(),
                            "os": f"{platform.system()} {platform.release()}",
                            "cores": os.cpu_count(), "load_avg": os.getloadavg()}
    try:
        with open("/proc/cpuinfo") as cpu:
            names = [line.split(":", 1)[1].strip() for line in cpu if line.startswith("model name")]
        info["cpu"] = names[0] if names else platform.processor()
        with open("/proc/meminfo") as mem:
            total = next(line for line in mem if line.startswith("MemTotal"))
        info["memory_gib"] = round(int(total.split()[1]) / 2**20, 1)
    except OSError:
        info["cpu"] = platform.processor()
    return info
