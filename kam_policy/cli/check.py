"""``kam-policy check [PATH]``: parse and check rule files, print every diagnostic."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import Any

import kam_policy
from kam_policy import i18n
from kam_policy.cli.common import EXIT_INVALID, EXIT_OK
from kam_policy.engine.sources import read_policy
from kam_policy.errors import PolicyError


def register(commands: Any) -> None:
    parser = commands.add_parser("check", help="check rule files and print every diagnostic")
    parser.add_argument("path", nargs="?", help="policy folder or entry file (default: bundled)")
    parser.add_argument("--policy", metavar="PATH", help="the same as PATH")
    parser.add_argument("--params", metavar="FILE", help="TOML file overriding parameters")
    add_lang_option(parser)
    parser.set_defaults(run=run)


def add_lang_option(parser: argparse.ArgumentParser) -> None:
    """``--lang en|zh``: the language of the diagnostics."""
    parser.add_argument("--lang", choices=i18n.LANGUAGES, default=None,
                        help=f"language of the diagnostics (default: ${i18n.ENV_VARIABLE}, "
                        "else from the locale)")


def run(args: argparse.Namespace) -> int:
    lang = i18n.choose_language(args.lang)
    policy = load_or_report(args.path or args.policy, args.params, lang)
    if policy is None:
        return EXIT_INVALID
    if policy.warnings:
        print(i18n.render(policy.warnings, policy.sources, lang), file=sys.stderr)
    print(i18n.catalogue(lang).phrase(
        "check_ok", name=policy.name, version=policy.version, rules=len(policy.rules),
        tables=len(policy.tables), params=len(policy.params), files=len(policy.sources)))
    return EXIT_OK


def load_or_report(path: str | None, params: str | None, lang: str) -> kam_policy.Policy | None:
    """Load a policy; if it does not load, print its diagnostics in ``lang`` on stderr (then
    the count, as for every command) and return None."""
    try:
        return kam_policy.load(path, params=params)
    except PolicyError as error:
        sources = {} if lang == "en" else _sources(path, params)
        print(i18n.render_error(error, sources, lang), file=sys.stderr)
        return None


def _sources(path: str | None, params: str | None) -> dict[str, str]:
    """The texts the diagnostics of a failed load point into (read again: errors keep none)."""
    try:
        texts = dict(read_policy(path).texts)
    except PolicyError:
        texts = {}
    if params is not None:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            texts[str(params)] = Path(params).read_text("utf-8")
    return texts
