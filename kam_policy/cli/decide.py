"""``kam-policy decide``: run a policy on a facts file at a time, print the conclusions; with
``--stream``, decide each line of a JSON Lines file (see ``kam_policy.cli.stream``)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from kam_policy.cli.common import (
    EXIT_OK,
    UsageError,
    add_policy_options,
    load_facts,
    load_policy,
    parse_at,
)
from kam_policy.cli.table import decision_table


def register(commands: Any) -> None:
    parser = commands.add_parser("decide", help="decide on a facts file")
    add_policy_options(parser)
    parser.add_argument("--facts", metavar="FILE.json",
                        help="the facts (JSON); with --stream, the base facts every line may "
                             "refer to")
    parser.add_argument("--at", metavar="ISO-DATETIME",
                        help="evaluation time with a time zone (default: now)")
    parser.add_argument("--format", choices=("json", "table"), default="json")
    parser.add_argument("--skip-invalid", action="store_true",
                        help="skip invalid records (each is reported) instead of failing; "
                             "with --stream, skip invalid lines")
    parser.add_argument("--log", metavar="PATH",
                        help="append the decision to this log (JSON Lines; SQLite for .sqlite/.db)")
    parser.add_argument("--mask", metavar="FIELD", action="append", default=[],
                        help="mask a personal field in the logged facts, e.g. staff.name")
    stream = parser.add_argument_group("streaming")
    stream.add_argument("--stream", metavar="FILE.jsonl",
                        help="decide each line of this JSON Lines file ('-' for standard input) "
                             "on its own, in bounded memory; one JSON line per decision")
    stream.add_argument("--out", metavar="FILE",
                        help="with --stream: write the decisions to FILE (complete or not at "
                             "all) instead of standard output")
    stream.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="with --stream: show a progress bar on standard error (default: "
                             "when it is a terminal)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.stream is not None:
        from kam_policy.cli.stream import run_stream

        return run_stream(args)
    if args.facts is None:
        raise UsageError("decide: give --facts FILE.json (or --stream FILE.jsonl)")
    for option, value in (("--out", args.out), ("--progress", args.progress)):
        if value is not None:
            raise UsageError(f"decide: {option} goes with --stream")
    at = parse_at(args.at)
    policy = load_policy(args)
    facts = load_facts(policy, args.facts, args.skip_invalid)
    if args.log:
        from kam_policy.audit import DecisionLog
        from kam_policy.cli.audit import log_key

        with DecisionLog(args.log, mask=args.mask, key=log_key()) as log:
            if log.torn_tail is not None:
                print(f"kam-policy: {args.log}: cut off a torn final record left by a crash",
                      file=sys.stderr)
            decision = policy.decide(facts, at, log=log)
    else:
        decision = policy.decide(facts, at)
    for skipped in decision.skipped:
        print(f"kam-policy: skipped {skipped}", file=sys.stderr)
    if args.format == "json":
        print(json.dumps(decision.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(decision_table(decision))
    return EXIT_OK
