"""``kam-policy lint [PATH]``: warnings beyond type errors, each with a concrete example."""

from __future__ import annotations

import argparse
from typing import Any

from kam_policy import i18n
from kam_policy.cli.check import add_lang_option, load_or_report
from kam_policy.cli.common import EXIT_INVALID, EXIT_OK
from kam_policy.errors import Diagnostic
from kam_policy.lint import DEFAULT_PROTECTED, Allowed, lint_report

EXIT_WARNINGS = 1


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "lint", help="warn about table gaps and overlaps, conditions that never hold, unused "
        "declarations, missing titles and sections, and reads of protected attributes")
    parser.add_argument("path", nargs="?", help="policy folder or entry file (default: bundled)")
    parser.add_argument("--strict", action="store_true", help="exit 1 if there is any warning "
                        "(warnings acknowledged by '# lint: allow KIND' do not count)")
    parser.add_argument("--show-allowed", action="store_true",
                        help="also list the warnings that '# lint: allow' comments acknowledge")
    parser.add_argument("--params", metavar="FILE", help="TOML file overriding parameters")
    parser.add_argument("--protected", metavar="FIELD,...", type=protected_fields, default=None,
                        help="protected attributes to flag, comma-separated (default: "
                        f"{','.join(DEFAULT_PROTECTED)}); an empty list turns the check off")
    add_lang_option(parser)
    parser.set_defaults(run=run)


def protected_fields(text: str) -> tuple[str, ...]:
    """``--protected age,gender`` -> ("age", "gender")."""
    return tuple(name.strip() for name in text.split(",") if name.strip())


def run(args: argparse.Namespace) -> int:
    lang = i18n.choose_language(args.lang)
    policy = load_or_report(args.path, args.params, lang)
    if policy is None:
        return EXIT_INVALID
    protected = DEFAULT_PROTECTED if args.protected is None else args.protected
    report = lint_report(policy, protected)
    warnings = sorted([*policy.warnings, *report.warnings], key=Diagnostic.sort_key)
    if warnings:
        print(i18n.render(warnings, policy.sources, lang))
    if args.show_allowed and report.allowed:
        print("\n".join(_allowed(a, policy.sources, lang) for a in report.allowed))
    book = i18n.catalogue(lang)
    summary = book.phrase("lint_summary", count=len(warnings), name=policy.name,
                          version=policy.version)
    if report.allowed:
        summary += book.phrase("lint_allowed", count=len(report.allowed))
    print(summary)
    return EXIT_WARNINGS if args.strict and warnings else EXIT_OK


def _allowed(allowed: Allowed, sources: dict[str, str] | Any, lang: str) -> str:
    """An acknowledged warning, rendered like the others, then the comment acknowledging it."""
    label = i18n.catalogue(lang).labels["allowed"].format(
        comment=allowed.comment.text, where=allowed.comment.span)
    return i18n.render([allowed.warning], sources, lang) + "\n      " + label
