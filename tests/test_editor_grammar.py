"""The TextMate grammar (``editors/kam-policy.tmLanguage.json``) on every bundled rule file.

A small TextMate tokenizer, written here with Python's ``re``, runs the grammar line by line the
way editors do (``match`` rules, ``begin``/``end`` regions across lines, captures, includes;
the earliest match wins, ties go to the end pattern, then to the first rule listed). The grammar
keeps to regular expression features that Python and Oniguruma (VS Code) share, so the scopes
seen here are the scopes an editor shows. The expected scopes come from the engine's own lexer:
every keyword, comment and text token the parser sees must be highlighted as one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from lark import Lark, Token
from test_fmt import policies

from kam_policy.engine.sources import bundled_policy_path
from kam_policy.fmt import format_text

ROOT = Path(__file__).resolve().parent.parent
GRAMMAR = ROOT / "editors" / "kam-policy.tmLanguage.json"
EXTENSION = ROOT / "editors" / "vscode"
BUNDLED = sorted(bundled_policy_path().glob("*.kp"))
SCOPE = "source.kam-policy"

# Regular expression syntax that Python's re and Oniguruma read differently, or only one reads.
NOT_SHARED = re.compile(r"\(\?<[^=!]|\(\?>|\\[hHAzZGKpPRX]|[*+?}]\+|\(\?~|\[\[:")


# ---- a TextMate tokenizer ----------------------------------------------------------------


@dataclass
class Rule:
    """A compiled grammar rule: a ``match``, a ``begin``/``end`` region, or a list of patterns."""

    name: str | None = None
    match: re.Pattern[str] | None = None
    captures: dict[int, str] = field(default_factory=dict)
    end: re.Pattern[str] | None = None
    end_captures: dict[int, str] = field(default_factory=dict)
    content_name: str | None = None
    patterns: list[Rule] = field(default_factory=list)


class TextMateGrammar:
    """A grammar file, compiled with Python's ``re``."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.repository: dict[str, Rule] = {}
        self.root = Rule(patterns=[])
        self.root.patterns = self.compile_list(data["patterns"])

    def compile_list(self, patterns: list[dict[str, Any]]) -> list[Rule]:
        return [self.compile(p) for p in patterns]

    def compile(self, pattern: dict[str, Any]) -> Rule:
        if "include" in pattern:
            return self.include(pattern["include"])
        rule = Rule(name=pattern.get("name"), content_name=pattern.get("contentName"))
        if "match" in pattern:
            rule.match = re.compile(pattern["match"])
            rule.captures = _captures(pattern.get("captures"))
        elif "begin" in pattern:
            rule.match = re.compile(pattern["begin"])
            rule.captures = _captures(pattern.get("beginCaptures", pattern.get("captures")))
            rule.end = re.compile(pattern["end"])
            rule.end_captures = _captures(pattern.get("endCaptures", pattern.get("captures")))
        rule.patterns = self.compile_list(pattern.get("patterns", []))
        return rule

    def include(self, target: str) -> Rule:
        if target == "$self":
            return self.root
        name = target.removeprefix("#")
        if name not in self.repository:
            self.repository[name] = Rule()
            compiled = self.compile(self.data["repository"][name])
            self.repository[name].__dict__.update(compiled.__dict__)
        return self.repository[name]

    def tokenize(self, text: str) -> list[list[tuple[str, ...]]]:
        """The scopes of every character of every line of ``text``."""
        stack: list[tuple[Rule, tuple[str, ...]]] = [(self.root, (SCOPE,))]
        return [_Line(line, stack).run() for line in text.split("\n")]


def _captures(raw: dict[str, dict[str, str]] | None) -> dict[int, str]:
    return {int(k): v["name"] for k, v in (raw or {}).items() if "name" in v}


def _flatten(rules: list[Rule]) -> list[Rule]:
    """The rules that can match: lists of patterns (includes) are expanded in order."""
    flat: list[Rule] = []
    for rule in rules:
        if rule.match is None:
            flat.extend(_flatten(rule.patterns))
        else:
            flat.append(rule)
    return flat


class _Line:
    def __init__(self, line: str, stack: list[tuple[Rule, tuple[str, ...]]]) -> None:
        self.line = line
        self.stack = stack
        self.scopes: list[tuple[str, ...]] = [()] * len(line)

    def run(self) -> list[tuple[str, ...]]:
        pos = 0
        while pos <= len(self.line):
            found = self.next_match(pos)
            if found is None:
                self.paint(pos, len(self.line), self.stack[-1][1])
                break
            kind, rule, match = found
            self.paint(pos, match.start(), self.stack[-1][1])
            pos = self.apply(kind, rule, match, pos)
        return self.scopes

    def next_match(self, pos: int) -> tuple[str, Rule, re.Match[str]] | None:
        region, _ = self.stack[-1]
        best: tuple[str, Rule, re.Match[str]] | None = None
        if region.end is not None:
            end = region.end.search(self.line, pos)
            if end is not None:
                best = ("end", region, end)
        for rule in _flatten(region.patterns):
            assert rule.match is not None
            found = rule.match.search(self.line, pos)
            if found is not None and (best is None or found.start() < best[2].start()):
                best = ("begin" if rule.end is not None else "match", rule, found)
        return best

    def apply(self, kind: str, rule: Rule, match: re.Match[str], pos: int) -> int:
        outer = self.stack[-1][1]
        if kind == "end":
            self.paint_match(match, outer, rule.end_captures)
            self.stack.pop()  # an empty end still makes progress: the stack shrinks
            return match.end()
        scopes = _plus(outer, rule.name)
        self.paint_match(match, scopes, rule.captures)
        if kind == "begin":
            assert match.end() > match.start(), f"empty begin {rule.match}: it could loop"
            self.stack.append((rule, _plus(scopes, rule.content_name)))
        return match.end() if match.end() > pos else pos + 1

    def paint_match(self, match: re.Match[str], scopes: tuple[str, ...],
                    captures: dict[int, str]) -> None:
        self.paint(match.start(), match.end(), scopes)
        for group, name in captures.items():
            if group <= (match.re.groups or 0) and match.start(group) >= 0:
                self.paint(match.start(group), match.end(group), _plus(scopes, name))

    def paint(self, start: int, end: int, scopes: tuple[str, ...]) -> None:
        for index in range(start, min(end, len(self.line))):
            self.scopes[index] = scopes


def _plus(scopes: tuple[str, ...], name: str | None) -> tuple[str, ...]:
    return (*scopes, *name.split()) if name else scopes


@cache
def grammar() -> TextMateGrammar:
    return TextMateGrammar(json.loads(GRAMMAR.read_text("utf-8")))


# ---- what the engine's lexer says --------------------------------------------------------


@cache
def _lexer() -> tuple[Lark, list[Token]]:
    comments: list[Token] = []
    text = resources.files("kam_policy.grammar").joinpath("policy.lark").read_text("utf-8")
    parser = Lark(text, parser="lalr", keep_all_tokens=True,
                  lexer_callbacks={"COMMENT": comments.append})
    return parser, comments


def tokens_of(text: str) -> list[Token]:
    """Every token the parser reads in ``text``, comments included, in order."""
    parser, comments = _lexer()
    comments.clear()
    tree = parser.parse(text)
    found = [t for t in tree.scan_values(lambda v: isinstance(v, Token))] + comments
    return sorted(found, key=lambda t: t.start_pos or 0)


KEYWORD_TERMINALS = {"AGG_COUNT", "AGG_VALUE", "AGGREGATOR"}
# docs/language.md: reserved words. The parser accepts some as names in some places (a map key
# `if`), but the grammar, like the docs, treats them as keywords everywhere.
RESERVED = {
    "policy", "version", "include", "param", "enum", "conclusion", "about", "define", "table",
    "section", "description", "meta", "hit", "in", "out", "first", "unique", "any", "priority",
    "collect", "rule", "order", "for", "where", "let", "when", "emit", "because", "if", "then",
    "else", "and", "or", "not", "is", "null", "true", "false", "count", "exists", "all", "none",
    "sum", "min", "max", "list", "map"}
CONSTANTS = {"TRUE", "FALSE", "NULL"}
TYPE_WORDS = {"LIST", "MAP"}


def is_keyword(token: Token) -> bool:
    return token.type in KEYWORD_TERMINALS or (str(token).isalpha() and
                                               token.type == str(token).upper())


def scopes_at(lines: list[list[tuple[str, ...]]], token: Token) -> list[tuple[str, ...]]:
    line = lines[(token.line or 1) - 1]
    start = (token.column or 1) - 1
    return line[start:start + len(token)]


def has(scopes: tuple[str, ...], *prefixes: str) -> bool:
    return any(s.startswith(prefixes) for s in scopes)


@pytest.fixture(scope="module", params=BUNDLED, ids=lambda p: p.name)
def bundled(request: pytest.FixtureRequest) -> tuple[str, list[list[tuple[str, ...]]]]:
    text = request.param.read_text("utf-8")
    return text, grammar().tokenize(text)


# ---- the tests ---------------------------------------------------------------------------


def test_grammar_sticks_to_shared_regex_syntax() -> None:
    data = json.loads(GRAMMAR.read_text("utf-8"))
    assert data["scopeName"] == SCOPE
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("match", "begin", "end", "while") and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(data)
    assert found
    for pattern in found:
        re.compile(pattern)
        assert not NOT_SHARED.search(pattern), pattern


def wanted_scopes(token: Token) -> tuple[tuple[str, ...], bool] | None:
    """(scope prefixes, required?) for ``token``: required means every character must have one
    of them, otherwise none may have any; None: anything goes."""
    if is_keyword(token):
        if token.type in CONSTANTS:
            return ("constant.language.",), True
        return ("keyword.", "storage.type.") if token.type in TYPE_WORDS else ("keyword.",), True
    if token.type == "COMMENT":
        return ("comment.line.",), True
    if token.type == "STRING":
        return ("string.quoted.double.",), True
    if token.type in ("DURATION", "BUSINESS"):
        return ("constant.numeric.duration.",), True
    if token.type in ("NUMBER", "INT"):
        return ("constant.numeric.",), True
    if token.type == "NAME" and str(token) not in RESERVED:
        return ("keyword.", "comment.", "string.", "constant.numeric."), False
    return None


def check_scopes(text: str, lines: list[list[tuple[str, ...]]], *types: str) -> int:
    """Assert the scopes of every token of ``types`` (all when none given); returns how many."""
    checked = 0
    for token in tokens_of(text):
        wanted = wanted_scopes(token)
        kind = "KEYWORD" if is_keyword(token) else token.type
        if wanted is None or (types and kind not in types):
            continue
        prefixes, required = wanted
        for scopes in scopes_at(lines, token):
            assert has(scopes, *prefixes) == required, (str(token), token.line, scopes)
        checked += 1
    return checked


def test_every_keyword_has_a_keyword_scope(bundled: tuple[str, Any]) -> None:
    assert check_scopes(*bundled, "KEYWORD") > 0


def test_comments_and_texts_are_scoped_whole(bundled: tuple[str, Any]) -> None:
    assert check_scopes(*bundled, "COMMENT", "STRING") > 0


def test_names_are_not_keywords(bundled: tuple[str, Any]) -> None:
    check_scopes(*bundled, "NAME")


def test_numbers_and_durations(bundled: tuple[str, Any]) -> None:
    check_scopes(*bundled, "NUMBER", "DURATION", "INT")


def test_no_line_is_left_unscoped(bundled: tuple[str, Any]) -> None:
    text, lines = bundled
    for number, (source, scopes) in enumerate(zip(text.split("\n"), lines, strict=True), 1):
        if source.strip():
            assert any(len(s) > 1 for s in scopes), (number, source)


@settings(max_examples=20, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(policies())
def test_formatted_generated_policies(text: str) -> None:
    formatted = format_text(text)
    lines = grammar().tokenize(formatted)
    check_scopes(formatted, lines)
    for number, (source, scopes) in enumerate(zip(formatted.split("\n"), lines, strict=True), 1):
        assert not source.strip() or any(len(s) > 1 for s in scopes), (number, source)


def scope_of(source: str, word: str, line: int = 0, nth: int = 0) -> tuple[str, ...]:
    """The scopes of the ``nth`` occurrence of ``word`` on line ``line`` of ``source``."""
    lines = grammar().tokenize(source)
    text = source.split("\n")[line]
    index = -1
    for _ in range(nth + 1):
        index = text.index(word, index + 1)
    return lines[line][index]


@pytest.mark.parametrize(("source", "word", "want"), [
    ('rule C.escalation.manager "t" {', "escalation", "entity.name.function.rule."),
    ("rule A.b {", "rule", "keyword.declaration.rule."),
    ("enum Grade = D < C", "Grade", "entity.name.type.enum."),
    ("enum Grade = D < C", "C", "variable.other.enummember."),
    ("conclusion grade(score: decimal(2)?) about X", "grade", "entity.name.function.conclusion."),
    ("conclusion grade(score: decimal(2)?) about X", "score", "variable.parameter."),
    ("conclusion grade(score: decimal(2)?) about X", "decimal", "support.type."),
    ("param limit: map[text, number] = {a: 1}", "limit", "variable.other.constant.param."),
    ("param limit: map[text, number] = {a: 1}", "map", "storage.type."),
    ("define fn(a: Appraisal) = a.x", "fn", "entity.name.function.define."),
    ("define fn(a: Appraisal) = a.x", "Appraisal", "entity.name.type."),
    ('table tbl "x" {', "tbl", "entity.name.function.table."),
    ("  hit collect sum", "sum", "keyword.other.hit-policy."),
    ("  hit rule order", "order", "keyword.other.hit-policy."),
    ("  in total: number, ok: bool", "total", "variable.parameter."),
    ("  | >= 1 | - | not in [a] |", "|", "punctuation.separator.table."),
    ("  | >= 1 | - | not in [a] |", "-", "constant.language.any-cell."),
    ("  | >= 1 | - | not in [a] |", ">=", "keyword.operator.comparison."),
    ('  because "x {a.b} \\" \\q"', "{", "constant.other.placeholder."),
    ('  because "x {a.b} \\" \\q"', '\\"', "constant.character.escape."),
    ('  because "x {a.b} \\" \\q"', "\\q", "invalid.illegal.escape."),
    ("  when a ?? b > 4h and 1.10 <= c", "??", "keyword.operator.coalesce."),
    ("  when a ?? b > 4h and 1.10 <= c", "4h", "constant.numeric.duration."),
    ("  when a ?? b > 4h and 1.10 <= c", "1.10", "constant.numeric.decimal."),
    ("  when now > c.at + 4 business_hours", "4 business_hours",
     "constant.numeric.duration.business."),
    ("  let n = count(x in S where x.a)", "x", "variable.other.definition."),
    ("  let n = count(x in S where x.a)", "count", "keyword.other.aggregate."),
    ("  let n = len(weighted_average(a, b))", "weighted_average", "support.function.builtin."),
    ("  emit grade(v: now) about s  # note", "grade", "entity.name.function.conclusion."),
    ("  emit grade(v: now) about s  # note", "now", "variable.language.now."),
    ("  emit grade(v: now) about s  # note", "note", "comment.line."),
    ("  let 大客户 = 分数.总分", "总分", "variable.other.member."),
])
def test_scopes_of_constructs(source: str, word: str, want: str) -> None:
    assert has(scope_of(source, word), want), scope_of(source, word)


def test_tokenizer_carries_regions_across_lines() -> None:
    source = 'conclusion c(\n  a: text,\n  b: number\n) about X "t"'
    assert has(scope_of(source, "b", line=2), "variable.parameter.")
    assert has(scope_of(source, "about", line=3), "keyword.")


def test_vscode_extension_ships_the_same_grammar() -> None:
    package = json.loads((EXTENSION / "package.json").read_text("utf-8"))
    contributed = package["contributes"]["grammars"][0]
    assert contributed["scopeName"] == SCOPE
    assert (EXTENSION / contributed["path"]).read_text("utf-8") == GRAMMAR.read_text("utf-8")
    language = package["contributes"]["languages"][0]
    assert language["extensions"] == [".kp"]
    config = json.loads((EXTENSION / language["configuration"]).read_text("utf-8"))
    assert config["comments"]["lineComment"] == "#"
