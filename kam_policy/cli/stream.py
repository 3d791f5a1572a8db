"""``kam-policy decide --stream``: JSON Lines of facts objects in, one JSON line per decision
out, in bounded memory; a progress bar and the final rate on standard error."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import stat
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, TextIO

from kam_policy.cli.common import (
    EXIT_INVALID,
    EXIT_OK,
    MAX_SHOWN,
    UsageError,
    load_facts,
    load_policy,
    parse_at,
)
from kam_policy.engine.decision import Decision
from kam_policy.engine.policy import DecisionRecorder, Policy
from kam_policy.errors import FactError, FactIssue, PolicyEvalError
from kam_policy.stream import (
    BaseFacts,
    LineDecider,
    LineIssue,
    LineReader,
    LineValidator,
    Progress,
    RejectedLine,
)
from kam_policy.stream.progress import duration


@dataclass
class Tally:
    """What one run counted; only the first ``MAX_SHOWN`` problems are kept."""

    decided: int = 0
    facts: int = 0
    conclusions: int = 0
    rejected: int = 0
    problems: int = 0
    first_rejected: int | None = None
    shown: list[LineIssue] = field(default_factory=list)

    def add(self, count: int, decision: Decision) -> None:
        self.decided += 1
        self.facts += count
        self.conclusions += len(decision.conclusions)

    def reject(self, line: RejectedLine) -> None:
        self.rejected += 1
        self.problems += len(line.issues)
        if self.first_rejected is None:
            self.first_rejected = line.line
        self.shown.extend(line.issues[:MAX_SHOWN - len(self.shown)])


@dataclass(frozen=True)
class _EvalFailure:
    line: int
    error: PolicyEvalError


def run_stream(args: argparse.Namespace) -> int:
    """Decide every line of ``--stream``; returns the exit code (0, or 2 for an invalid line
    without ``--skip-invalid`` or a decision that failed)."""
    if args.format != "json":
        raise UsageError("decide --stream writes JSON Lines: --format table is not available")
    at = parse_at(args.at)
    policy = load_policy(args)
    base = _load_base(policy, args.facts, args.skip_invalid)
    with contextlib.ExitStack() as stack:
        source, total = _open_source(args.stream, stack)
        out = stack.enter_context(_Output(args.out))
        log = _open_log(args, stack)
        decider = LineDecider(policy, at, base=base, log=log)
        reader = LineReader(source)
        progress = _progress(args, total)
        if progress is not None:
            stack.callback(lambda: progress.close(reader.bytes_read, reader.lines_read))
        started = time.monotonic()
        tally, failed = _stream(reader, LineValidator(policy.schema, base), decider,
                                out.write, Tally(), progress, args.skip_invalid)
        ok = failed is None and (tally.rejected == 0 or args.skip_invalid)
        if ok:
            out.commit()
    elapsed = time.monotonic() - started
    _report(args, tally, failed, elapsed, decider.base_conclusions)
    return EXIT_OK if ok else EXIT_INVALID


def _stream(reader: LineReader, validator: LineValidator, decider: LineDecider,
            write: Callable[[str], object], tally: Tally, progress: Progress | None,
            skip: bool) -> tuple[Tally, _EvalFailure | None]:
    """Validate every line; decide and write each valid one until the first invalid line
    (or every valid one, when ``skip``); stop at a decision that fails."""
    deciding = True
    for batch in reader.batches():
        for checked in validator.validate(batch):
            if isinstance(checked, RejectedLine):
                tally.reject(checked)
                deciding = deciding and skip
            elif deciding:
                try:
                    decision = decider.decide(checked)
                except PolicyEvalError as error:
                    return tally, _EvalFailure(checked.line, error)
                write(_record(checked.line, decision) + "\n")
                tally.add(checked.count, decision)
        if progress is not None:
            progress.update(reader.bytes_read, reader.lines_read)
    return tally, None


def _record(line: int, decision: Decision) -> str:
    """One output line: the input line number, the decision id and the conclusions."""
    data = {"line": line, "decision_id": decision.decision_id,
            "conclusions": [c.to_dict() for c in decision.conclusions]}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


# --- opening things ------------------------------------------------------------------------------


def _load_base(policy: Policy, path: str | None, skip_invalid: bool) -> BaseFacts | None:
    if path is None:
        return None
    facts = load_facts(policy, path, skip_invalid)
    for skipped in facts.skipped:
        print(f"kam-policy: {path}: skipped {skipped}", file=sys.stderr)
    return BaseFacts(facts)


def _open_source(path: str, stack: contextlib.ExitStack) -> tuple[IO[bytes], int | None]:
    """The lines to read, and their size in bytes when known."""
    if path == "-":
        return sys.stdin.buffer, None
    try:
        source = stack.enter_context(open(path, "rb"))  # noqa: SIM115 - closed by the stack
    except OSError as err:
        reason = err.strerror or str(err)
        issue = FactIssue(path, None, None, None, f"cannot read facts file: {reason}")
        raise FactError([issue], "cannot load facts") from None
    info = os.fstat(source.fileno())
    return source, info.st_size if stat.S_ISREG(info.st_mode) else None


def _open_log(args: argparse.Namespace, stack: contextlib.ExitStack) -> DecisionRecorder | None:
    if not args.log:
        return None
    from kam_policy.audit import DecisionLog
    from kam_policy.cli.audit import log_key

    log = stack.enter_context(DecisionLog(args.log, mask=args.mask, key=log_key()))
    if log.torn_tail is not None:
        print(f"kam-policy: {args.log}: cut off a torn final record left by a crash",
              file=sys.stderr)
    return log


def _progress(args: argparse.Namespace, total: int | None) -> Progress | None:
    """A progress bar when asked for, or by default when standard error is a terminal (and
    the decisions do not go to the same terminal)."""
    terminal = sys.stderr.isatty()
    wanted = args.progress
    if wanted is None:
        wanted = terminal and (args.out is not None or not sys.stdout.isatty())
    return Progress(sys.stderr, total=total, terminal=terminal) if wanted else None


class _Output:
    """Standard output, or ``--out FILE`` written through a temporary file in the same folder
    that replaces FILE only on ``commit``: FILE is then complete, or untouched."""

    def __init__(self, path: str | None) -> None:
        self.path = Path(path) if path is not None else None
        self._temp: Path | None = None
        self._file: TextIO = sys.stdout

    def __enter__(self) -> _Output:
        if self.path is not None:
            try:
                fd, name = tempfile.mkstemp(dir=self.path.parent or ".", suffix=".part",
                                            prefix=f".{self.path.name}.")
            except OSError as err:
                raise UsageError(f"--out: cannot write {self.path}: "
                                 f"{err.strerror or err}") from None
            self._temp = Path(name)
            self._file = open(fd, "w", encoding="utf-8", newline="\n")
        return self

    def write(self, text: str) -> None:
        self._file.write(text)

    def commit(self) -> None:
        self._file.flush()
        if self._temp is not None and self.path is not None:
            self._file.close()
            umask = os.umask(0)
            os.umask(umask)
            self._temp.chmod(0o666 & ~umask)
            os.replace(self._temp, self.path)
            self._temp = None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._temp is not None:
            self._file.close()
            self._temp.unlink(missing_ok=True)


# --- the report on standard error ----------------------------------------------------------------


def _report(args: argparse.Namespace, tally: Tally, failed: _EvalFailure | None,
            elapsed: float, base_conclusions: int) -> None:
    lines = _problems(args, tally)
    if failed is not None:
        lines.append(f"kam-policy: {args.stream}: line {failed.line}: {failed.error}")
    lines.append(f"kam-policy: {_rates(tally, elapsed)}")
    stopped = failed.line if failed is not None else (
        tally.first_rejected if not args.skip_invalid else None)
    if stopped is not None:
        unwritten = f"; nothing was written to {args.out}" if args.out else ""
        lines.append(f"kam-policy: stopped deciding at line {stopped}{unwritten}")
    if base_conclusions:
        lines.append(f"kam-policy: {args.facts}: the base facts draw {base_conclusions:,} "
                     "conclusions on their own, left out of every line (decide --facts "
                     f"{args.facts} lists them)")
    print("\n".join(lines), file=sys.stderr)


def _problems(args: argparse.Namespace, tally: Tally) -> list[str]:
    if not tally.rejected:
        return []
    counts = (f"{tally.rejected:,} invalid line{'s' if tally.rejected != 1 else ''} "
              f"({tally.problems:,} problem{'s' if tally.problems != 1 else ''})")
    if args.skip_invalid:
        lines = [f"kam-policy: {args.stream}: skipped {counts}:"]
    else:
        lines = [f"kam-policy: {args.stream}: invalid facts: {counts}"]
    lines.extend(str(issue) for issue in tally.shown)
    if tally.problems > len(tally.shown):
        lines.append(f"... and {tally.problems - len(tally.shown):,} more")
    return lines


def _rates(tally: Tally, elapsed: float) -> str:
    seconds = max(elapsed, 1e-9)
    return (f"decided {tally.decided:,} line{'s' if tally.decided != 1 else ''} in "
            f"{duration(elapsed)}: {tally.decided / seconds:,.0f} decisions/s, "
            f"{tally.facts / seconds:,.0f} facts/s ({tally.facts:,} facts, "
            f"{tally.conclusions:,} conclusions)")
