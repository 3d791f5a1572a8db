"""``kam-policy run``: a policy over an events file, resumable from a state database."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from kam_policy.cli.common import EXIT_OK, UsageError, add_policy_options, load_policy, parse_at
from kam_policy.cli.table import pad
from kam_policy.session import Emission, EventError, EventProblem, Session, SqliteStore
from kam_policy.session.events import Event, read_event_lines
from kam_policy.session.session import ENGINES
from kam_policy.stream.progress import Progress

BATCH = 500


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "run", help="run a policy over an events file, firing conclusions when they fall due")
    add_policy_options(parser)
    parser.add_argument("--events", required=True, metavar="FILE.jsonl",
                        help="events, one JSON object per line, in time order")
    parser.add_argument("--state", required=True, metavar="DB",
                        help="SQLite state database (created if missing; a rerun resumes)")
    parser.add_argument("--until", metavar="ISO-DATETIME",
                        help="after the events, advance the clock to this time")
    parser.add_argument("--engine", choices=ENGINES, default="snapshot",
                        help="snapshot: the policy's own engine; durable: the rules matched on "
                             "durable_rules (a subset of the language; docs/sessions-durable.md)")
    parser.add_argument("--format", choices=("jsonl", "table"), default="jsonl")
    parser.add_argument("--skip-invalid", action="store_true",
                        help="skip invalid events (each is reported) instead of stopping")
    parser.add_argument("--batch", type=int, default=BATCH, metavar="N",
                        help=f"events committed together (default {BATCH})")
    parser.add_argument("--progress", action="store_true",
                        help="show a progress bar even when stderr is not a terminal")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    until = parse_at(args.until) if args.until else None
    if args.batch < 1:
        raise UsageError("--batch must be at least 1")
    path = Path(args.events)
    if not path.is_file():
        raise UsageError(f"--events: {path}: no such file")
    policy = load_policy(args)
    store = SqliteStore(args.state)
    try:
        session = Session(policy, store, engine=args.engine)
        mark = f"events:{path.resolve()}"
        start = int(store.mark(mark) or 0)
        printer = _Printer(sys.stdout, args.format)
        progress = _progress(path, args.progress)
        skipped, last = _feed_file(session, path, start, mark, args, printer, progress)
        if progress is not None:
            progress.close(last, last - start)
        if until is not None:
            printer.emit(session.advance_to(until))
        for problem in skipped:
            print(f"kam-policy: skipped {problem}", file=sys.stderr)
    finally:
        store.close()
    return EXIT_OK


def _feed_file(session: Session, path: Path, start: int, mark: str, args: argparse.Namespace,
               printer: _Printer, progress: Progress | None) -> tuple[list[EventProblem], int]:
    """Feed the file from line ``start`` in batches; returns the skipped problems and the last
    line read."""
    skipped: list[EventProblem] = []
    events: list[Event] = []
    labels: list[str] = []
    last = start

    def flush() -> None:
        batch = session.feed(events, skip_invalid=args.skip_invalid, marks={mark: last},
                             labels=labels)
        skipped.extend(batch.skipped)
        printer.emit(list(batch.emissions))
        if progress is not None:
            progress.update(last, last - start)
        events.clear()
        labels.clear()

    for numbered in read_event_lines(path, start):
        last = numbered.line
        if numbered.problem is not None:
            if not args.skip_invalid:
                if events:
                    flush()  # everything before the bad line is accepted and kept
                raise EventError([numbered.problem])
            skipped.append(numbered.problem)
            continue
        assert numbered.event is not None
        events.append(numbered.event)
        labels.append(f"{path}:{numbered.line}")
        if len(events) >= args.batch:
            flush()
    flush()
    return skipped, last


def _progress(path: Path, forced: bool) -> Progress | None:
    """A progress bar over the file's lines, on a terminal or when ``--progress`` asks."""
    terminal = sys.stderr.isatty()
    if not (terminal or forced):
        return None
    with path.open("rb") as handle:
        total = sum(1 for _ in handle)
    return Progress(sys.stderr, total=total, terminal=terminal)


class _Printer:
    """Emissions as JSON Lines, or as an aligned table for people."""

    def __init__(self, out: TextIO, form: str) -> None:
        self.out = out
        self.form = form
        self.header = False

    def emit(self, emissions: list[Emission]) -> None:
        for emission in emissions:
            if self.form == "jsonl":
                self.out.write(json.dumps(emission.to_dict(), ensure_ascii=False) + "\n")
                continue
            if not self.header:
                self.out.write("at                                kind       subject"
                               "            conclusion\n")
                self.header = True
            c = emission.conclusion
            values = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}"
                               for k, v in c.values.items())
            self.out.write(f"{pad(emission.at.isoformat(), 33)} {pad(emission.kind, 10)} "
                           f"{pad(str(c.subject), 18)} {c.name}({values})  [{c.rule_id}]\n")
        self.out.flush()
