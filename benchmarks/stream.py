"""``kam-policy decide --stream`` on 1,000,000 monthly appraisals: rate and peak memory.

    python -m benchmarks.stream                     # 1,000,000 lines, 100,000 staff (~10 min)
    python -m benchmarks.stream --lines 20000       # a quick look

Generates, in a temporary folder, ``base.json`` with the staff (reference facts) and
``appraisals.jsonl`` with one monthly appraisal a line (``{"appraisals": [{...}]}``, the W1
data of ``benchmarks/data.py``: each staff member appraised for 2026-01 to 2026-10). Then runs
the command line in a fresh process for 10 % of the lines and for all of them, and once on an
empty file (the cost of loading the policy and the base facts), and prints a Markdown table:
wall time, CPU time, the rate the command reports, the peak RSS of each process, its RSS sampled
while it streams (at a quarter, half and three quarters of its run). Memory is bounded when the RSS
while streaming stays flat and is the same at 10 % and at 100 % of the lines.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import data, timing

AT = data.NOW.isoformat()
MONTHS = 10
SAMPLE_EVERY = 0.5  # seconds between two RSS samples


@dataclass(frozen=True)
class Run:
    """One ``decide --stream`` process."""

    lines: int
    wall: float
    cpu: float
    max_rss_mib: float
    samples: tuple[float, ...]
    summary: str
    output_lines: int

    def sampled(self) -> str:
        """RSS at a quarter, half and three quarters of the run (the end may catch the
        process freeing its memory as it exits), MiB."""
        count = len(self.samples)
        if count < 4:
            return "-"  # too short a run to sample
        picks = [self.samples[count // 4], self.samples[count // 2], self.samples[3 * count // 4]]
        return " / ".join(f"{value:,.0f}" for value in picks) + " MiB"


def generate(folder: Path, lines: int, staff: int, seed: int = data.SEED) -> tuple[Path, Path]:
    """Write ``base.json`` (the staff) and ``appraisals.jsonl`` (one appraisal a line)."""
    rng = random.Random(seed)
    records = [data.staff_record(f"S{i:06d}", rng.choice(data.ROLES), None, rng)
               for i in range(staff)]
    base = folder / "base.json"
    base.write_text(json.dumps({"staff": records}, default=str), "utf-8")
    path = folder / "appraisals.jsonl"
    with path.open("w", encoding="utf-8") as file:
        for i in range(lines):
            appraisal = data.appraisal(f"A{i:07d}", f"S{i % staff:06d}", rng)
            appraisal["period"] = f"2026-{(i // staff) % MONTHS + 1:02d}"
            file.write(json.dumps({"appraisals": [appraisal]}, default=str) + "\n")
    return base, path


def head(path: Path, lines: int, target: Path) -> Path:
    """The first ``lines`` lines of ``path``."""
    with path.open("rb") as source, target.open("wb") as out:
        for _ in range(lines):
            out.write(source.readline())
    return target


def run(path: Path, base: Path, lines: int) -> Run:
    """``kam-policy decide --stream`` in a fresh process; its wall time and peak RSS."""
    out = path.with_suffix(".out.jsonl")
    argv = [sys.executable, "-m", "kam_policy", "decide", "--stream", str(path),
            "--facts", str(base), "--at", AT, "--out", str(out)]
    errors = path.with_suffix(".err")
    started = time.perf_counter()
    with errors.open("w") as err_file:
        process = subprocess.Popen(argv, stderr=err_file)
        samples = []
        while (rss := current_rss_mib(process.pid)) is not None:
            samples.append(rss)
            time.sleep(SAMPLE_EVERY)
        _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    err = errors.read_text("utf-8")
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"decide --stream failed ({code}):\n{err}")
    summary = next(line for line in err.splitlines() if line.startswith("kam-policy: decided"))
    with out.open("rb") as file:
        count = sum(1 for _ in file)
    out.unlink()
    cpu = usage.ru_utime + usage.ru_stime
    return Run(lines, wall, cpu, usage.ru_maxrss / 1024, tuple(samples),
               summary.removeprefix("kam-policy: "), count)


def current_rss_mib(pid: int) -> float | None:
    """The resident set size of a running process, MiB; None once it has exited."""
    try:
        with open(f"/proc/{pid}/status") as status:
            line = next((x for x in status if x.startswith("VmRSS:")), None)
    except OSError:
        return None
    return int(line.split()[1]) / 1024 if line is not None else None  # a zombie has none


def rates(summary: str) -> tuple[str, str]:
    """(decisions/s, facts/s) as the command printed them."""
    found = re.search(r"([\d,]+) decisions/s, ([\d,]+) facts/s", summary)
    return (found.group(1), found.group(2)) if found else ("?", "?")


def table(runs: list[Run], size_mib: float, staff: int, machine: dict[str, Any]) -> str:
    rows = ["| lines | wall time | CPU time | decisions/s | facts/s | lines per CPU second "
            "| peak RSS | RSS at 1/4, 1/2, 3/4 of the run | output lines |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for one in runs:
        decisions, facts = rates(one.summary)
        label = f"{one.lines:,}" if one.lines else "0 (policy and base only)"
        streaming = one.cpu - runs[0].cpu  # runs[0]: the empty file, loading only
        per_cpu = f"{one.lines / streaming:,.0f}" if one.lines and streaming > 0 else "-"
        rows.append(f"| {label} | {one.wall:.1f} s | {one.cpu:.1f} s | {decisions} | {facts} | "
                    f"{per_cpu} | "
                    f"{one.max_rss_mib:,.0f} MiB | {one.sampled()} | "
                    f"{one.output_lines:,} |")
    load = ", ".join(f"{x:.2f}" for x in machine["load_avg"])
    return "\n".join([
        f"{runs[-1].lines:,} lines ({size_mib:,.0f} MiB), base facts: {staff:,} staff; "
        f"{machine['cpu']} × {machine['cores']}, Python {machine['python']}, "
        f"load average at the end {load}. The rates are the command's own (its summary line: "
        "lines over the time from the first line read to the last written); lines per CPU "
        "second leave out the CPU time of loading the policy and the base facts (the run on "
        "an empty file), and are less sensitive to other processes on the machine.", "",
        *rows])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--staff", type=int, default=100_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kam-stream-") as name:
        folder = Path(name)
        started = time.perf_counter()
        base, path = generate(folder, args.lines, args.staff)
        size = path.stat().st_size / 2**20
        print(f"generated {args.lines:,} lines ({size:,.0f} MiB) in "
              f"{time.perf_counter() - started:.1f} s", file=sys.stderr)
        empty = folder / "empty.jsonl"
        empty.write_bytes(b"")
        tenth = head(path, args.lines // 10, folder / "tenth.jsonl")
        runs = []
        for lines, file in ((0, empty), (args.lines // 10, tenth), (args.lines, path)):
            runs.append(run(file, base, lines))
            print(f"{lines:,} lines: {runs[-1].summary}, peak RSS "
                  f"{runs[-1].max_rss_mib:,.0f} MiB", file=sys.stderr)
    print(table(runs, size, args.staff, timing.machine()))


if __name__ == "__main__":
    main()
