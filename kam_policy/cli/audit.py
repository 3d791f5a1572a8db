"""``kam-policy audit verify|query|replay`` and ``kam-policy diff``: the decision trail."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

import kam_policy
from kam_policy.audit import QueryFilter, diff_policies, query, replay, verify
from kam_policy.audit.replay import Change
from kam_policy.cli.common import EXIT_OK, load_facts, parse_at
from kam_policy.cli.explain import parse_subject
from kam_policy.cli.table import format_table

EXIT_BAD_LOG = 1
KEY_VARIABLE = "KAM_POLICY_LOG_KEY"


def log_key() -> bytes | None:
    """The HMAC key of the decision log, from $KAM_POLICY_LOG_KEY (none: plain SHA-256)."""
    value = os.environ.get(KEY_VARIABLE)
    return value.encode("utf-8") if value else None


def register(commands: Any) -> None:
    audit = commands.add_parser("audit", help="verify, query and replay a decision log")
    actions = audit.add_subparsers(dest="action", required=True, metavar="ACTION")
    parser = actions.add_parser("verify", help="check the hash chain; name the first bad record")
    parser.add_argument("path")
    parser.set_defaults(run=run_verify)
    parser = actions.add_parser("query", help="list logged conclusions")
    parser.add_argument("path")
    parser.add_argument("--rule", metavar="ID")
    parser.add_argument("--subject", metavar="TYPE:ID")
    parser.add_argument("--name", metavar="CONCLUSION")
    parser.add_argument("--since", metavar="ISO-DATETIME")
    parser.add_argument("--until", metavar="ISO-DATETIME")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(run=run_query)
    parser = actions.add_parser("replay", help="re-run logged decisions; report any change")
    parser.add_argument("path")
    parser.add_argument("--policy", metavar="PATH", help="preview another policy instead")
    parser.add_argument("--params", metavar="FILE", help="parameters for --policy")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(run=run_replay)
    parser = commands.add_parser("diff", help="what a policy change alters on current data")
    parser.add_argument("--facts", required=True, metavar="FILE.json")
    parser.add_argument("--at", metavar="ISO-DATETIME")
    parser.add_argument("--policy", metavar="OLD", help="the current policy (default: bundled)")
    parser.add_argument("--params", metavar="FILE", help="parameters of the current policy")
    parser.add_argument("--against", metavar="NEW", help="the changed policy (default: bundled)")
    parser.add_argument("--against-params", metavar="FILE", help="parameters of the new policy")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(run=run_diff)


def run_verify(args: argparse.Namespace) -> int:
    result = verify(args.path, key=log_key())
    if result.torn_tail is not None:
        print(f"warning: the log ends in a torn record (an interrupted append, "
              f"{len(result.torn_tail)} bytes); it is cut off when the log is next opened "
              "for writing",
              file=sys.stderr)
    if not result.ok:
        seq = f" (seq {result.bad_seq})" if result.bad_seq is not None else ""
        print(f"{args.path}: record {result.bad_position}{seq} {result.problem}")
        intact = "1 record before it is" if result.records == 1 else \
            f"{result.records} records before it are"
        print(f"{intact} intact")
        return EXIT_BAD_LOG
    print(f"{args.path}: ok, {result.records} records, head {result.head}")
    return EXIT_OK


def run_query(args: argparse.Namespace) -> int:
    where = QueryFilter(
        args.rule, parse_subject(args.subject) if args.subject else None, args.name,
        parse_at(args.since) if args.since else None,
        parse_at(args.until) if args.until else None)
    rows = list(query(args.path, where))
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return EXIT_OK
    table = [(str(r["seq"]), r["at"], f"{r['subject']['type']}:{r['subject']['id']}", r["name"],
              json.dumps(r["values"], ensure_ascii=False), r["rule"],
              f"{r['source']['file']}:{r['source']['line']}") for r in rows]
    print(format_table(("seq", "at", "subject", "conclusion", "values", "rule", "source"), table))
    return EXIT_OK


def _changes_text(changes: list[Change]) -> list[str]:
    lines = []
    for change in changes:
        lines.append(f"decision {change.decision_id} at {change.at}:")
        for item in change.removed:
            lines.append(f"  - {_describe(item)}")
        for item in change.added:
            lines.append(f"  + {_describe(item)}")
    return lines


def _describe(item: dict[str, Any]) -> str:
    subject = item["subject"]
    return (f"{subject['type']}:{subject['id']} {item['name']} "
            f"{json.dumps(item['values'], ensure_ascii=False)} ({item['rule']})")


def _change_dict(change: Change) -> dict[str, Any]:
    return {"decision_id": change.decision_id, "at": change.at, "added": list(change.added),
            "removed": list(change.removed)}


def run_replay(args: argparse.Namespace) -> int:
    preview = args.policy or args.params  # --params alone previews the bundled policy
    other = kam_policy.load(args.policy, params=args.params) if preview else None
    report = replay(args.path, other)
    if args.format == "json":
        print(json.dumps({"replayed": report.replayed, "errors": report.errors,
                          "changes": [_change_dict(c) for c in report.changes]},
                         ensure_ascii=False, indent=2))
    else:
        mode = "against the given policy" if other else "against the recorded policies"
        print(f"replayed {report.replayed} decisions {mode}: "
              f"{len(report.changes)} would change" if other else
              f"replayed {report.replayed} decisions {mode}: {len(report.changes)} drifted")
        print("\n".join(_changes_text(report.changes)))
        for error in report.errors:
            print(f"error: {error}", file=sys.stderr)
    drift = bool(report.changes) and other is None
    return EXIT_BAD_LOG if drift or report.errors else EXIT_OK


def run_diff(args: argparse.Namespace) -> int:
    at = parse_at(args.at)
    old = kam_policy.load(args.policy, params=args.params)
    new = kam_policy.load(args.against, params=args.against_params)
    facts = load_facts(old, args.facts, False)
    change = diff_policies(old, new, facts, at)
    changes = [change] if change else []
    if args.format == "json":
        print(json.dumps([_change_dict(c) for c in changes], ensure_ascii=False, indent=2))
        return EXIT_OK
    print(_diff_summary(change))
    print("\n".join(_changes_text(changes)))
    return EXIT_OK


def _diff_summary(change: Change | None) -> str:
    if change is None:
        return "no conclusion changes"
    names: dict[str, set[str]] = {}
    for item in (*change.added, *change.removed):
        subject = f"{item['subject']['type']}:{item['subject']['id']}"
        names.setdefault(item["name"], set()).add(subject)
    parts = [f"{name} of {len(subjects)} subject{'s' if len(subjects) != 1 else ''}"
             for name, subjects in sorted(names.items())]
    return "this change alters the " + ", the ".join(parts)
