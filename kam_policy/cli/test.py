"""``kam-policy test [PATH]``: run a policy's YAML tests, print PASS/FAIL and coverage.

Exit codes: 0 every case passed (and coverage is at least ``--min-coverage``); 1 a case
failed or coverage is too low; 2 a test file is invalid (or the policy does not load).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from kam_policy.cli.common import EXIT_INVALID, EXIT_OK, UsageError, add_policy_options, load_policy
from kam_policy.engine.sources import bundled_policy_path
from kam_policy.testing import discover, render_coverage, render_suite, run_files
from kam_policy.testing.load import TEST_SUFFIXES

EXIT_FAILED = 1
TESTS_FOLDER = "tests"


def register(commands: Any) -> None:
    parser = commands.add_parser("test", help="run policy tests (YAML cases) with coverage")
    parser.add_argument("path", nargs="?", metavar="PATH",
                        help="a test file or folder (default: the policy folder's tests/)")
    add_policy_options(parser)
    parser.add_argument("--coverage", action="store_true",
                        help="report rules never fired and table rows never matched")
    parser.add_argument("--min-coverage", type=float, metavar="N",
                        help="fail (exit 1) when rule or row coverage is below N percent")
    parser.add_argument("--failures-only", action="store_true",
                        help="list only the cases that did not pass")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    policy = load_policy(args)
    target = Path(args.path) if args.path else default_tests(args.policy)
    if not target.exists():
        raise UsageError(f"no test file or folder at {target}")
    files = discover(target)
    if not files:
        raise UsageError(f"no test files ({', '.join('*' + s for s in TEST_SUFFIXES)}) "
                         f"in {target}")
    suite = run_files(policy, files)
    print(render_suite(suite, show_passed=not args.failures_only))
    coverage_low = False
    if (args.coverage or args.min_coverage is not None) and suite.coverage is not None:
        print(render_coverage(suite.coverage))
        if args.min_coverage is not None and suite.coverage.below(args.min_coverage):
            print(f"coverage is below the required {args.min_coverage:g}%")
            coverage_low = True
    if suite.invalid:
        return EXIT_INVALID
    return EXIT_FAILED if suite.count("fail") or coverage_low else EXIT_OK


def default_tests(policy: str | None) -> Path:
    """The ``tests/`` folder beside the policy's entry file."""
    root = Path(policy) if policy is not None else bundled_policy_path()
    return (root if root.is_dir() else root.parent) / TESTS_FOLDER
