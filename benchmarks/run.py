"""``make bench``: run W1-W4 for kam_policy, the hand-written floor and the anchor engines, then
write ``benchmarks/results.json`` and ``docs/performance.md`` from what this run measured.

    python -m benchmarks.run            # the full run (about 10-13 minutes on 2 cores)
    python -m benchmarks.run --quick    # a smoke run (1,000 facts, W4 up to 1,000 rules),
                                        # written to $TMPDIR/kam-bench-quick/
    python -m benchmarks.run --report   # re-render docs/performance.md from results.json

Each size of W1-W3 and each rule count of W4 runs in a fresh process, so that one
measurement's memory and caches do not leak into the next.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks import report, timing

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results.json"
DOC = ROOT / "docs" / "performance.md"
ANCHOR_PACKAGES = ("zen-engine", "durable_rules", "rule-engine")
DURABLE_PROBE = (10_000, 20)  # rules, seconds allowed to load them


@dataclass(frozen=True)
class SizeConfig:
    """How one size of W1-W3 is run (see suite.Config)."""

    reps: int
    e2e_reps: int
    anchor_reps: int
    anchors: bool
    latency: bool
    memory: bool
    profile: bool
    work: bool = False
    check_is_first_rep: bool = False


SIZES: dict[int, SizeConfig] = {
    1_000: SizeConfig(7, 7, 5, True, False, False, False, work=True),
    10_000: SizeConfig(5, 5, 3, True, True, True, True),
    # 100,000 facts: kam_policy and the floor only (the anchors would take ~4 minutes per
    # repetition), the check run counted as the first of the 5 repetitions; end to end from
    # JSON is measured at 1,000 and 10,000.
    100_000: SizeConfig(5, 0, 0, False, False, False, False, check_is_first_rep=True),
}
QUICK_SIZES = {1_000: SizeConfig(3, 3, 3, True, True, True, True, work=True)}

# W4: clients decided per repetition by the implementations that scan (the floor, zen-engine
# and kam_policy, whose tables are indexed, always decide all 10,000); rule-engine is not
# run at 100,000 rules (compiling them alone takes about 2 minutes), durable_rules not above
# 1,000 (see DURABLE_PROBE).
W4: dict[int, dict[str, Any]] = {
    10: {"reps": 5, "samples": {"kam_policy": 10_000, "scan": 10_000, "rule-engine": 2_000,
                                "durable_rules": 2_000}},
    100: {"reps": 5, "samples": {"kam_policy": 10_000, "scan": 10_000, "rule-engine": 500,
                                 "durable_rules": 2_000}},
    1_000: {"reps": 5, "samples": {"kam_policy": 10_000, "scan": 2_000, "rule-engine": 100,
                                   "durable_rules": 2_000}, "profile_compile": True},
    10_000: {"reps": 5, "samples": {"kam_policy": 10_000, "scan": 200, "rule-engine": 10},
             "profile_decide": True},
    100_000: {"reps": 3, "samples": {"kam_policy": 10_000, "scan": 20}},
}
QUICK_W4 = {n: W4[n] for n in (10, 100, 1_000)}


def log(message: str, started: float) -> None:
    print(f"[{time.perf_counter() - started:6.0f}s] {message}", file=sys.stderr, flush=True)


def worker(args: list[str], timeout: float | None = None) -> dict[str, Any]:
    """Run ``python -m benchmarks.<args>``; its last stdout line is JSON."""
    command = [sys.executable, "-m", *args]
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"did not finish within {timeout:.0f} s"}
    if done.returncode != 0:
        return {"error": f"exit code {done.returncode}", "stderr": done.stderr[-3000:]}
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def versions() -> dict[str, str]:
    found = {}
    for name in ("kam-policy", "pydantic", "lark", *ANCHOR_PACKAGES):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def run_all(sizes: dict[int, SizeConfig], w4: dict[int, dict[str, Any]],
            probe: bool) -> dict[str, Any]:
    started = time.perf_counter()
    results: dict[str, Any] = {"machine": timing.machine(), "versions": versions(),
                               "config": {"sizes": {n: asdict(c) for n, c in sizes.items()},
                                          "w4": w4},
                               "suites": {}, "w4": {}}
    for size, size_config in sizes.items():
        log(f"W1-W3 at {size:,} facts", started)
        results["suites"][str(size)] = worker(["benchmarks.suite", str(size),
                                               json.dumps(asdict(size_config))])
    for count, config in w4.items():
        log(f"W4 at {count:,} rules", started)
        full = {"clients": 10_000, "zen": True, **config}
        results["w4"][str(count)] = worker(["benchmarks.scaling", str(count), json.dumps(full)])
    if probe:
        rules, seconds = DURABLE_PROBE
        log(f"durable_rules loading {rules:,} W4 rules (at most {seconds} s)", started)
        results["durable_probe"] = {"rules": rules, **worker(
            ["benchmarks.scaling", "probe-durable", str(rules)], timeout=seconds)}
    results["elapsed_s"] = time.perf_counter() - started
    results["load_avg_end"] = timing.machine()["load_avg"]
    log("done", started)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run, about a minute")
    parser.add_argument("--report", action="store_true", help="only re-render the document")
    args = parser.parse_args()
    if args.report:
        results = json.loads(RESULTS.read_text())
    else:
        quick = args.quick
        results = run_all(QUICK_SIZES, QUICK_W4, False) if quick else run_all(SIZES, W4, True)
        results["quick"] = quick
    results_path, doc_path = _outputs(bool(results.get("quick")))
    if not args.report:
        results_path.write_text(json.dumps(results, indent=1))
    doc_path.parent.mkdir(exist_ok=True)
    doc_path.write_text(report.render(results))
    print(f"wrote {doc_path}" + ("" if args.report else f" and {results_path}"),
          file=sys.stderr)


def _outputs(quick: bool) -> tuple[Path, Path]:
    """Where results and the document go; a quick run never replaces the real ones."""
    if not quick:
        return RESULTS, DOC
    folder = Path(tempfile.gettempdir()) / "kam-bench-quick"
    folder.mkdir(exist_ok=True)
    return folder / "results.json", folder / "performance.md"


if __name__ == "__main__":
    main()
