"""A message catalogue (``messages/<lang>.json``) -> translated diagnostic texts and phrases.

Diagnostics are written in English by every stage. A catalogue maps, per diagnostic code, the
English *templates* of its messages and hints to templates in the catalogue's language::

    "check.unknown-name": {
      "texts": {"unknown name '{name}'": "未知名称 '{name}'"},
      "parts": {}
    }

An English template is the text with ``{placeholder}`` where the engine inserts a value (``{{``
and ``}}`` stand for braces); it must match the whole message. When several match, the one with
the most fixed characters wins (``"rule '{id}'"`` before ``"rule {id}"``). A placeholder of the
translation is copied as it was captured, or translated further:

- ``{name|t}``: the captured text is itself translated, by the ``parts`` and ``texts`` of the
  same code, then of the code ``"*"`` (shared by every code);
- ``{name|list}``: the captured text is a list joined with ", "; each item is translated like
  ``|t`` and the items are joined with the catalogue's list separator.

``parts`` are only used for ``|t`` and ``|list``: generic pieces such as ``"{a} or {b}"`` would
match whole messages they were not written for. A text no template matches stays English; a
``|t`` or ``|list`` piece that stays English although it is prose (it has a space and is not a
quoted value) counts as untranslated too, so tests can demand complete translations.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

LANGUAGES = ("en", "zh")
SHARED = "*"  # the code whose templates every code uses
MAX_TEXT = 4000  # longer texts are not matched (regex backtracking stays cheap), so stay English

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{(\w+)(?:\|(\w+))?\}")
_MODES = (None, "t", "list")


@dataclass(frozen=True)
class Template:
    """One English template compiled to a regex, and its translation."""

    english: str
    pattern: re.Pattern[str]
    target: str
    weight: int  # fixed characters of the English template: more is more specific

    @classmethod
    def compile(cls, english: str, target: str) -> Template:
        """Compile ``english`` (``{name}`` placeholders) into a whole-text regex."""
        parts: list[str] = []
        seen: set[str] = set()
        weight = 0
        position = 0
        for match in _PLACEHOLDER.finditer(english):
            literal = english[position:match.start()]
            parts.append(re.escape(literal))
            weight += len(literal)
            position = match.end()
            token = match.group(0)
            if token in ("{{", "}}"):
                parts.append(re.escape(token[0]))
                weight += 1
                continue
            name = match.group(1)
            if match.group(2) is not None:
                raise ValueError(f"{english!r}: modes such as |t belong to the translation")
            parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.*?)")
            seen.add(name)
        parts.append(re.escape(english[position:]))
        weight += len(english) - position
        for match in _PLACEHOLDER.finditer(target):
            name, mode = match.group(1), match.group(2)
            if name is not None and (name not in seen or mode not in _MODES):
                raise ValueError(f"{target!r}: unknown placeholder {match.group(0)} "
                                 f"(the English template has {sorted(seen)})")
        return cls(english, re.compile("".join(parts), re.DOTALL), target, weight)


@dataclass(frozen=True)
class Table:
    """The templates of one code: whole texts, and parts for ``|t`` placeholders."""

    texts: tuple[Template, ...] = ()
    parts: tuple[Template, ...] = ()


@dataclass
class Result:
    """A translated text, and the English pieces that had no template."""

    text: str
    missing: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Catalogue:
    """The labels, phrases and diagnostic templates of one language."""

    lang: str
    labels: Mapping[str, str]
    phrases: Mapping[str, Any]
    separator: str
    codes: Mapping[str, Table]

    def translate(self, code: str, english: str) -> Result:
        """Translate one message or hint of a diagnostic with code ``code``.

        Returns:
            The translation; ``missing`` lists what stayed English for want of a template.
        """
        found = self._best(english, self._tables(code), parts=False)
        if found is None:
            return Result(english, [english])
        return self._fill(code, *found)

    def _tables(self, code: str) -> list[Table]:
        return [t for t in (self.codes.get(code), self.codes.get(SHARED)) if t is not None]

    def _best(self, text: str, tables: list[Table],
              parts: bool) -> tuple[Template, re.Match[str]] | None:
        if len(text) > MAX_TEXT:
            return None
        best: tuple[Template, re.Match[str]] | None = None
        for table in tables:
            for template in (*table.parts, *table.texts) if parts else table.texts:
                match = template.pattern.fullmatch(text)
                if match is not None and (best is None or template.weight > best[0].weight):
                    best = (template, match)
        return best

    def _fill(self, code: str, template: Template, match: re.Match[str]) -> Result:
        missing: list[str] = []
        pieces: list[str] = []
        position = 0
        for found in _PLACEHOLDER.finditer(template.target):
            pieces.append(template.target[position:found.start()])
            position = found.end()
            token = found.group(0)
            if token in ("{{", "}}"):
                pieces.append(token[0])
                continue
            captured = match.group(found.group(1))
            mode = found.group(2)
            if mode is None:
                pieces.append(captured)
                continue
            items = captured.split(", ") if mode == "list" else [captured]
            value = self.separator.join(self._part(code, item, missing) for item in items)
            _join_wide(pieces, value)
            pieces.append(value)
            if template.target[position:position + 1] == " " and _wide(value[-1:]) \
                    and _wide(template.target[position + 1:position + 2]):
                position += 1
        pieces.append(template.target[position:])
        return Result("".join(pieces), missing)

    def _part(self, code: str, text: str, missing: list[str]) -> str:
        found = self._best(text, self._tables(code), parts=True)
        if found is None:
            if " " in text.strip() and not text.startswith(("'", '"')):
                missing.append(text)
            return text
        result = self._fill(code, *found)
        missing.extend(result.missing)
        return result.text

    def phrase(self, key: str, count: int | None = None, **values: Any) -> str:
        """A phrase of the command line, e.g. ``phrase("errors", count=2)``.

        A phrase is a template, or a mapping of plural forms (``zero``, ``one``, ``other``)
        chosen by ``count``.
        """
        entry = self.phrases[key]
        if isinstance(entry, Mapping):
            form = "zero" if count == 0 else "one" if count == 1 else "other"
            entry = entry.get(form, entry["other"])
        return str(entry).format(count=count, **values)


@cache
def catalogue(lang: str) -> Catalogue:
    """The catalogue of ``lang`` (``en`` or ``zh``), read from the package data once."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    text = resources.files("kam_policy.i18n").joinpath(f"messages/{lang}.json").read_text(
        "utf-8")
    data: dict[str, Any] = json.loads(text)
    codes = {code: Table(_compile(entry.get("texts", {})), _compile(entry.get("parts", {})))
             for code, entry in data.get("codes", {}).items()}
    return Catalogue(lang, data["labels"], data["phrases"], data.get("separator", ", "), codes)


def _wide(char: str) -> bool:
    """Whether ``char`` is a CJK character or full-width punctuation."""
    return bool(char) and ("\u2e80" <= char <= "\u9fff" or "\uff00" <= char <= "\uffef")


def _join_wide(pieces: list[str], value: str) -> None:
    """Drop the space the template put before a translated piece when both sides of it are
    Chinese: Chinese text has spaces around Latin words only (``在 {owner|t} 中`` gives
    ``在函数 f 中``)."""
    before = pieces[-1] if pieces else ""
    if before.endswith(" ") and _wide(before[-2:-1]) and _wide(value[:1]):
        pieces[-1] = before[:-1]


def _compile(templates: Mapping[str, str]) -> tuple[Template, ...]:
    return tuple(Template.compile(english, target) for english, target in templates.items())
