"""``kam-policy fmt [--check] PATH...``: rewrite rule files in the canonical layout.

``PATH`` is a rule file, a folder (its ``*.kp`` files, recursively), or ``-``: standard input,
formatted to standard output (for editors' format-on-save).

Exit codes: 0 done (or, with ``--check``, every file already formatted); 1 with ``--check``,
some file would change; 2 a file does not parse or cannot be read (diagnostics on stderr; the
other files are still formatted or checked).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from kam_policy.cli.common import EXIT_INVALID, EXIT_OK, UsageError
from kam_policy.engine.render import render
from kam_policy.errors import PolicyError
from kam_policy.fmt import format_text

EXIT_CHANGED = 1


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "fmt", help="format rule files in the canonical layout",
        description="Rewrite rule files in place in the canonical layout and print their "
                    "names; with --check, only list the files that would change (exit 1).")
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="a rule file, a folder whose *.kp files (recursively) are used, "
                             "or - to format standard input to standard output")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; list the files that are not formatted, exit 1")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if "-" in args.paths:
        if len(args.paths) > 1:
            raise UsageError("'-' (standard input) cannot be combined with other paths")
        return _run_stdin(args.check)
    files = rule_files([Path(p) for p in args.paths])
    changed = failed = False
    for path in files:
        formatted = _format(path)
        if formatted is None:
            failed = True
            continue
        text, new = formatted
        if new == text:
            continue
        changed = True
        if not args.check:
            write_atomically(path, new)
        print(path)
    if failed:
        return EXIT_INVALID
    return EXIT_CHANGED if changed and args.check else EXIT_OK


def _run_stdin(check: bool) -> int:
    text = sys.stdin.read().removeprefix("\ufeff")
    try:
        new = format_text(text, "<stdin>")
    except PolicyError as error:
        print(render(error.diagnostics, {"<stdin>": text}), file=sys.stderr)
        return EXIT_INVALID
    if check:
        return EXIT_CHANGED if new != text else EXIT_OK
    sys.stdout.write(new)
    return EXIT_OK


def rule_files(paths: list[Path]) -> list[Path]:
    """The files named, and the ``*.kp`` files under the folders named, each once, in order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*.kp") if p.is_file()))
        elif path.is_file():
            found.append(path)
        else:
            raise UsageError(f"{path}: no such file or folder")
    return list(dict.fromkeys(found))


def _format(path: Path) -> tuple[str, str] | None:
    """(old text, formatted text), or None after reporting why the file cannot be formatted."""
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        print(f"kam-policy: {path}: cannot read: {error}", file=sys.stderr)
        return None
    try:
        new = format_text(text, str(path))
    except PolicyError as error:
        print(render(error.diagnostics, {str(path): text}), file=sys.stderr)
        return None
    return raw.decode("utf-8"), new


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` by ``text``: write a temporary file beside it, then rename it over."""
    path = path.resolve()  # through a symlink: replace the file, keep the link
    mode = path.stat().st_mode & 0o7777
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
