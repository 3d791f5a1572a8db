"""``kam-policy explain`` and ``kam-policy why-not``: decisions as plain sentences."""

from __future__ import annotations

import argparse
import json
from typing import Any

from kam_policy.cli.common import (
    EXIT_OK,
    UsageError,
    add_policy_options,
    load_facts,
    load_policy,
    parse_at,
)
from kam_policy.explain import explain, render_explanation, render_why_not, why_not
from kam_policy.explain.messages import LANGUAGES, default_language


def register(commands: Any) -> None:
    parser = commands.add_parser("explain", help="explain each conclusion as a proof tree")
    _common(parser)
    parser.add_argument("--subject", metavar="TYPE:ID",
                        help="only conclusions about this subject, e.g. complaint:C3")
    parser.set_defaults(run=run_explain)
    parser = commands.add_parser("why-not", help="why a subject did not get a conclusion")
    parser.add_argument("name", help="the conclusion, e.g. promotion_candidate")
    parser.add_argument("subject", metavar="TYPE:ID", help="the subject, e.g. staff:S12")
    _common(parser)
    parser.set_defaults(run=run_why_not)


def _common(parser: argparse.ArgumentParser) -> None:
    add_policy_options(parser)
    parser.add_argument("--facts", required=True, metavar="FILE.json")
    parser.add_argument("--at", metavar="ISO-DATETIME", help="evaluation time (default: now)")
    parser.add_argument("--lang", choices=LANGUAGES, default=None,
                        help="language of the sentences (default: from the locale)")
    parser.add_argument("--format", choices=("text", "json"), default="text")


def parse_subject(text: str) -> tuple[str, str]:
    kind, sep, ident = text.partition(":")
    if not sep or not kind or not ident:
        raise UsageError(f"subject '{text}' must be written TYPE:ID, e.g. complaint:C3")
    return kind, ident


def run_explain(args: argparse.Namespace) -> int:
    at = parse_at(args.at)
    subject = parse_subject(args.subject) if args.subject else None
    policy = load_policy(args)
    facts = load_facts(policy, args.facts, False)
    explanation = explain(policy, facts, at, subject=subject)
    if args.format == "json":
        print(json.dumps(explanation.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(render_explanation(explanation, args.lang or default_language()))
    return EXIT_OK


def run_why_not(args: argparse.Namespace) -> int:
    at = parse_at(args.at)
    subject = parse_subject(args.subject)
    policy = load_policy(args)
    facts = load_facts(policy, args.facts, False)
    answer, _ = why_not(policy, facts, at, args.name, subject)
    if args.format == "json":
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(render_why_not(answer, args.lang or default_language()))
    return EXIT_OK
