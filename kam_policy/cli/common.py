"""Helpers shared by the subcommands: loading a policy and facts, parsing times, reporting."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import kam_policy
from kam_policy.errors import FactError, KamPolicyError, PolicyError, PolicyEvalError
from kam_policy.facts.load import FactSet, load_facts_file

MAX_SHOWN = 100  # bad records listed on the terminal; the API keeps every issue

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_INVALID = 2


class UsageError(Exception):
    """A command-line argument is invalid (exit 2)."""


def add_policy_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policy", metavar="PATH",
                        help="policy folder or entry file (default: the bundled policy)")
    parser.add_argument("--params", metavar="FILE", help="TOML file overriding parameters")


def load_policy(args: argparse.Namespace) -> kam_policy.Policy:
    return kam_policy.load(args.policy, params=args.params)


def load_facts(policy: kam_policy.Policy, path: str, skip_invalid: bool) -> FactSet:
    return load_facts_file(Path(path), policy.schema, skip_invalid=skip_invalid)


def parse_at(text: str | None) -> dt.datetime:
    """``--at``: an ISO 8601 datetime with a time zone; the current time when omitted."""
    if text is None:
        return dt.datetime.now(dt.UTC)
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--at: '{text}' is not an ISO 8601 datetime "
                         "(e.g. 2026-11-27T09:00:00+08:00)") from None
    if moment.utcoffset() is None:
        raise UsageError(f"--at: '{text}' has no time zone; add one, e.g. {text}+08:00 or {text}Z")
    return moment


def report(error: BaseException) -> None:
    """Print an input error for people, on stderr."""
    if isinstance(error, PolicyError):
        print(error.rendered, file=sys.stderr)
        count = len(error.diagnostics)
        print(f"kam-policy: {count} error{'s' if count != 1 else ''}", file=sys.stderr)
    elif isinstance(error, FactError):
        shown = error.issues[:MAX_SHOWN]
        headline = error.headline or "invalid facts"
        lines = [f"kam-policy: {headline}", *(str(issue) for issue in shown)]
        if len(error.issues) > MAX_SHOWN:
            lines.append(f"... and {len(error.issues) - MAX_SHOWN} more")
        print("\n".join(lines), file=sys.stderr)
    elif isinstance(error, PolicyEvalError | KamPolicyError):
        print(f"kam-policy: {error}", file=sys.stderr)
    else:
        print(f"kam-policy: {error}", file=sys.stderr)
