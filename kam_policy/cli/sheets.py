"""``kam-policy sheets export|import``: decision tables to and from CSV or XLSX sheets.

Import prints the diff of the rule file and writes it only with ``--write``. Exit codes:
0 valid (written, or would be); 2 bad cells or header, each with its sheet reference.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from kam_policy.cli.common import EXIT_INVALID, EXIT_OK
from kam_policy.sheets import SheetError, export_table, import_table


def register(commands: Any) -> None:
    parser = commands.add_parser("sheets", help="decision tables to and from CSV or XLSX")
    actions = parser.add_subparsers(dest="sheets_command", required=True, metavar="ACTION")
    export = actions.add_parser("export", help="write a decision table to a sheet")
    export.add_argument("table", help="the table's name, e.g. grade_table")
    export.add_argument("--to", required=True, metavar="FILE.csv|FILE.xlsx")
    export.add_argument("--policy", metavar="PATH",
                        help="policy folder or entry file (default: the bundled policy)")
    export.set_defaults(run=run_export)
    read = actions.add_parser("import", help="check a sheet's rows and put them in the rule file")
    read.add_argument("file", metavar="FILE.csv|FILE.xlsx")
    read.add_argument("--table", required=True, help="the table the sheet holds")
    read.add_argument("--policy", metavar="PATH",
                      help="policy folder or entry file (default: the bundled policy)")
    read.add_argument("--params", metavar="FILE", help="TOML file overriding parameters")
    read.add_argument("--write", action="store_true",
                      help="write the rule file (default: only show the diff)")
    read.set_defaults(run=run_import)


def run(args: argparse.Namespace) -> int:
    """Dispatch to the action (``args.run`` is set by the action's parser)."""
    code: int = args.run(args)
    return code


def run_export(args: argparse.Namespace) -> int:
    sheet = export_table(args.table, args.to, policy=args.policy)
    print(f"wrote table {sheet.name} ({len(sheet.rows)} rows, hit {sheet.hit}) to {args.to}")
    return EXIT_OK


def run_import(args: argparse.Namespace) -> int:
    try:
        result = import_table(args.file, args.table, policy=args.policy, params=args.params,
                              write=args.write)
    except SheetError as error:
        for problem in error.problems:
            print(f"kam-policy: {problem}", file=sys.stderr)
        count = len(error.problems)
        print(f"kam-policy: {args.file}: {count} problem{'s' if count != 1 else ''}; "
              "nothing was written", file=sys.stderr)
        return EXIT_INVALID
    if result.unchanged:
        print(f"{result.file}: table {args.table} is unchanged")
        return EXIT_OK
    print(result.diff(), end="")
    done = "updated" if args.write else "would update (use --write)"
    print(f"{done} {result.path}: {result.changed} row{'s' if result.changed != 1 else ''} "
          f"of table {args.table}")
    return EXIT_OK
