"""The ``kam-policy`` command line: argument parsing, then calls into the public API.

Exit codes: 0 success; 2 invalid input (policy, parameters or facts), with diagnostics on
stderr and nothing on stdout; 1 a check that found a problem (``audit verify`` on a tampered
log, ``audit replay`` with drift, ``lint --strict`` with warnings, failing policy tests) or an
internal error (reported as such, without a traceback).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from kam_policy.cli import audit, check, decide, explain, fmt, lint, params, run, sheets, test
from kam_policy.cli.common import EXIT_INTERNAL, EXIT_INVALID, UsageError, report
from kam_policy.errors import KamPolicyError

COMMANDS = (decide, check, explain, audit, lint, fmt, test, params, sheets, run)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kam-policy",
        description="Decide, check and explain key-account staff policies.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.run(args)
        return code
    except (KamPolicyError, UsageError) as error:
        report(error)
        return EXIT_INVALID
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as error:  # an internal error: a bug of ours, not bad input
        if os.environ.get("KAM_POLICY_DEBUG"):
            raise
        print(f"kam-policy: internal error: {type(error).__name__}: {error}\n"
              "(set KAM_POLICY_DEBUG=1 to see the traceback, and please report it)",
              file=sys.stderr)
        return EXIT_INTERNAL


def entry() -> None:
    sys.exit(main())
