"""Diagnostics in the reader's language: English ``Diagnostic`` -> translated text.

Every stage reports in English, by stable code. This layer translates a finished diagnostic with
the catalogue of a language (``messages/zh.json``: English templates per code, mapped to Chinese
ones) and renders it like ``kam_policy.engine.render`` does, with translated labels. A message
no template matches is shown in English, so a new message is never lost, only untranslated.

The language is ``--lang`` if given, else ``$KAM_POLICY_LANG``, else the locale (``zh`` for a
Chinese locale, as for ``explain``), else English.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import replace

from kam_policy.engine.render import render_one
from kam_policy.errors import Diagnostic, PolicyError
from kam_policy.explain.messages import default_language
from kam_policy.i18n.catalogue import LANGUAGES, Catalogue, catalogue

ENV_VARIABLE = "KAM_POLICY_LANG"
# The stages whose diagnostics the catalogues translate: those of loading, checking, deciding
# and linting a policy (what ``kam-policy check`` and ``lint`` print).
STAGES = ("parse", "load", "params", "check", "eval", "lint")


def choose_language(requested: str | None = None) -> str:
    """The language to report in: ``requested``, else ``$KAM_POLICY_LANG``, else the locale."""
    if requested:
        return catalogue(requested).lang
    from_env = os.environ.get(ENV_VARIABLE, "").strip().lower()
    if from_env in LANGUAGES:
        return from_env
    return default_language()


def translate(diagnostic: Diagnostic, lang: str) -> Diagnostic:
    """The diagnostic with its message and hint in ``lang`` (English where no template fits).

    Args:
        diagnostic: a diagnostic as a stage reported it (in English).
        lang: ``en`` (returned unchanged) or ``zh``.

    Returns:
        A copy with the same code, span and severity.
    """
    if lang == "en":
        return diagnostic
    book = catalogue(lang)
    hint = diagnostic.hint
    return replace(diagnostic, message=book.translate(diagnostic.code, diagnostic.message).text,
                   hint=None if hint is None else book.translate(diagnostic.code, hint).text)


def untranslated(diagnostic: Diagnostic, lang: str = "zh") -> list[str]:
    """The English pieces of ``diagnostic`` that ``lang``'s catalogue has no template for."""
    if lang == "en":
        return []
    book = catalogue(lang)
    texts = [diagnostic.message, *([diagnostic.hint] if diagnostic.hint else [])]
    return [piece for text in texts for piece in book.translate(diagnostic.code, text).missing]


def render(diagnostics: Iterable[Diagnostic], sources: Mapping[str, str], lang: str) -> str:
    """Render diagnostics in ``lang``: location, code, message, the source line underlined
    (wide characters count two columns) and the hint."""
    book = catalogue(lang)
    return "\n".join(_render_one(translate(d, lang), sources, book) for d in diagnostics)


def _render_one(diagnostic: Diagnostic, sources: Mapping[str, str], book: Catalogue,
                unplaced: str = "") -> str:
    where = f"{diagnostic.span}: " if diagnostic.span is not None else unplaced
    severity = book.labels[diagnostic.severity]
    lines = [f"{where}{severity}[{diagnostic.code}] {diagnostic.message}"]
    # The engine's renderer draws the excerpt; with an empty message its header is one line.
    excerpt = render_one(replace(diagnostic, message="", hint=None), sources).split("\n")[1:]
    lines.extend(excerpt)
    if diagnostic.hint:
        lines.append("      " + book.labels["help"].format(hint=diagnostic.hint))
    return "\n".join(lines)


def render_error(error: PolicyError, sources: Mapping[str, str], lang: str) -> str:
    """An error that stopped a policy from loading, as ``kam-policy`` prints it in ``lang``:
    every diagnostic, then the count."""
    book = catalogue(lang)
    if lang == "en":
        text = error.rendered
    else:
        text = "\n".join(_render_one(translate(d, lang), sources, book, _unplaced(error, d))
                         for d in error.diagnostics)
    return text + "\n" + book.phrase("errors", count=len(error.diagnostics))


def _unplaced(error: PolicyError, diagnostic: Diagnostic) -> str:
    """``<policy>: `` where the English text shows it for a diagnostic without a place (errors
    raised before any file was read are rendered without sources)."""
    shown = f"<policy>: {diagnostic.severity}[{diagnostic.code}] {diagnostic.message}"
    return "<policy>: " if shown in error.rendered else ""


__all__ = ["ENV_VARIABLE", "LANGUAGES", "STAGES", "catalogue", "choose_language", "render",
           "render_error", "translate", "untranslated"]
