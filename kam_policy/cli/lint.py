"""``kam-policy lint [PATH]``: warnings beyond type errors, each with a concrete example."""

from __future__ import annotations

import argparse
from typing import Any

import kam_policy
from kam_policy.cli.common import EXIT_OK
from kam_policy.engine.render import render
from kam_policy.errors import Diagnostic
from kam_policy.lint import DEFAULT_PROTECTED, lint

EXIT_WARNINGS = 1


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "lint", help="warn about table gaps and overlaps, conditions that never hold, unused "
        "declarations, missing titles and sections, and reads of protected attributes")
    parser.add_argument("path", nargs="?", help="policy folder or entry file (default: bundled)")
    parser.add_argument("--strict", action="store_true", help="exit 1 if there is any warning")
    parser.add_argument("--params", metavar="FILE", help="TOML file overriding parameters")
    parser.add_argument("--protected", metavar="FIELD,...", type=protected_fields, default=None,
                        help="protected attributes to flag, comma-separated (default: "
                        f"{','.join(DEFAULT_PROTECTED)}); an empty list turns the check off")
    parser.set_defaults(run=run)


def protected_fields(text: str) -> tuple[str, ...]:
    """``--protected age,gender`` -> ("age", "gender")."""
    return tuple(name.strip() for name in text.split(",") if name.strip())


def run(args: argparse.Namespace) -> int:
    policy = kam_policy.load(args.path, params=args.params)
    protected = DEFAULT_PROTECTED if args.protected is None else args.protected
    warnings = sorted([*policy.warnings, *lint(policy, protected)], key=Diagnostic.sort_key)
    if warnings:
        print(render(warnings, policy.sources))
    count = len(warnings)
    print(f"{policy.name} version {policy.version}: "
          f"{count or 'no'} warning{'s' if count != 1 else ''}")
    return EXIT_WARNINGS if args.strict and warnings else EXIT_OK
