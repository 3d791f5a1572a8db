"""``kam-policy check [PATH]``: parse and check rule files, print every diagnostic."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import kam_policy
from kam_policy.cli.common import EXIT_OK
from kam_policy.engine.render import render


def register(commands: Any) -> None:
    parser = commands.add_parser("check", help="check rule files and print every diagnostic")
    parser.add_argument("path", nargs="?", help="policy folder or entry file (default: bundled)")
    parser.add_argument("--policy", metavar="PATH", help="the same as PATH")
    parser.add_argument("--params", metavar="FILE", help="TOML file overriding parameters")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    policy = kam_policy.load(args.path or args.policy, params=args.params)
    if policy.warnings:
        print(render(policy.warnings, policy.sources), file=sys.stderr)
    print(f"ok: {policy.name} version {policy.version}: {len(policy.rules)} rules, "
          f"{len(policy.tables)} tables, {len(policy.params)} parameters, "
          f"{len(policy.sources)} files")
    return EXIT_OK
