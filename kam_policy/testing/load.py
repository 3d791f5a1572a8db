"""Test files (YAML) -> ``CaseFile``: every case checked for shape, problems with their lines.

Why YAML: HR staff read and review these files, so they should look like a form, not code.
YAML has comments (a case can say which handbook clause it pins), holds many cases in one
file as separate documents (``---``), and is plain data: it is read with ``yaml.safe_load_all``
only, so a test file can never run code. The same nodes are composed once more with the safe
loader just to learn each key's line for messages.

A file holds one case per document. An optional first document ``background:`` gives the
``now`` and the facts every case starts from; a case's record with the id of a background
record updates that record's fields (so a case writes only what it changes), any other
record is added. Example::

    # C. Complaints
    background:
      now: 2026-11-27T09:00:00+08:00
      facts:
        staff: [...]
    ---
    name: a general complaint answered at exactly 8h is in time
    facts:
      complaints:
        - {id: C1, severity: general, opened_at: ..., ...}
    absent:
      - {name: escalation, subject: "complaint:C1"}
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from kam_policy.testing.cases import (
    Background,
    Case,
    CaseFile,
    Expectation,
    ExpectationKind,
    Problem,
    TestFileError,
)
from kam_policy.testing.values import to_json_shape

TEST_SUFFIXES = (".test.yaml", ".test.yml")
CASE_KEYS = ("name", "description", "now", "facts", "expect", "absent")
BACKGROUND_KEYS = ("now", "facts")
EXPECTATION_KEYS = ("name", "subject", "values")
Path_ = tuple[str | int, ...]


def discover(path: str | Path) -> list[Path]:
    """The test files at ``path``: the file itself, or every ``*.test.yaml`` below a folder."""
    root = Path(path)
    if root.is_dir():
        return sorted(p for p in root.rglob("*") if p.is_file() and p.name.endswith(TEST_SUFFIXES))
    return [root]


def load_case_file(path: str | Path) -> CaseFile:
    """Read and check one test file.

    Args:
        path: the YAML test file.

    Returns:
        Its cases, in file order.

    Raises:
        TestFileError: the file cannot be read, is not YAML, or a case is malformed
            (every problem, each with its line).
    """
    file = Path(path)
    try:
        text = file.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise TestFileError([Problem(file, 0, 0, f"cannot read test file: {reason}")]) from None
    return parse_case_file(text, file)


def parse_case_file(text: str, path: str | Path = "<tests>") -> CaseFile:
    """Check the cases of a test file's text (see ``load_case_file``)."""
    reader = _Reader(Path(path))
    documents = reader.documents(text)
    background = Background()
    cases: list[Case] = []
    for index, (data, node) in enumerate(documents):
        located = _Located(node)
        if isinstance(data, Mapping) and "background" in data:
            if index != 0 or cases:
                reader.fail(located.line(), "'background' must be the first document of the file")
            background = reader.background(data, located)
        elif data is not None:
            case = reader.case(data, located)
            if case is not None:
                cases.append(case)
    reader.check_names(cases)
    if not cases and not reader.problems:
        reader.fail(0, "no test cases in this file")
    if reader.problems:
        raise TestFileError(reader.problems)
    return CaseFile(Path(path), tuple(cases), background)


class _Located:
    """A document's YAML node tree, to find the line of a key or list item."""

    def __init__(self, node: yaml.Node | None) -> None:
        self.node = node

    def line(self, *path: str | int) -> int:
        """The 1-based line of the value at ``path`` (or of its nearest parent found)."""
        node = self.node
        if node is None:
            return 0
        line = node.start_mark.line + 1
        for part in path:
            child = _child(node, part)
            if child is None:
                break
            node, line = child[1], child[0].start_mark.line + 1
        return line


def _child(node: yaml.Node, part: str | int) -> tuple[yaml.Node, yaml.Node] | None:
    """(the key or item node, the value node) of ``part`` under ``node``."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                return key, value
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part], node.value[part]
    return None


class _Reader:
    """Checks the shape of one file's documents, collecting every problem."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def fail(self, line: int, message: str, case: str | None = None, column: int = 0) -> None:
        self.problems.append(Problem(self.file, line, column, message, case))

    def documents(self, text: str) -> list[tuple[Any, yaml.Node | None]]:
        try:
            data = list(yaml.safe_load_all(text))
            nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            message = " ".join(p for p in (error.context, error.problem) if p)
            line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
            self.fail(line, f"not valid YAML: {message}", column=column)
            return []
        except yaml.YAMLError as error:
            self.fail(0, f"not valid YAML: {error}")
            return []
        for node in nodes:
            self._duplicate_keys(node)
        return list(zip(data, nodes, strict=True))

    def _duplicate_keys(self, node: yaml.Node) -> None:
        for child in _walk(node):
            seen: set[str] = set()
            for key, _ in child.value:
                if isinstance(key, yaml.ScalarNode) and key.value != "<<":
                    if key.value in seen:
                        self.fail(key.start_mark.line + 1, f"key '{key.value}' appears twice",
                                  column=key.start_mark.column + 1)
                    seen.add(key.value)

    # ---- documents ----

    def background(self, data: Mapping[str, Any], located: _Located) -> Background:
        body = data["background"]
        extra = [k for k in data if k != "background"]
        if extra:
            self.fail(located.line(extra[0]), f"a background document holds only 'background', "
                      f"not '{extra[0]}'")
        if not isinstance(body, Mapping):
            self.fail(located.line("background"), "'background' must hold 'now' and/or 'facts'")
            return Background()
        self._unknown_keys(body, BACKGROUND_KEYS, located, ("background",), None)
        now = self._now(body.get("now"), located, ("background", "now"), None)
        facts = self._facts(body.get("facts", {}), located, ("background", "facts"), None)
        return Background(now, facts)

    def case(self, data: Any, located: _Located) -> Case | None:
        if not isinstance(data, Mapping):
            self.fail(located.line(), "a test case must be a mapping with name, now, facts, "
                      "expect and absent")
            return None
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            self.fail(located.line("name"), "a test case needs a 'name' (a text)")
            name = None
        self._unknown_keys(data, CASE_KEYS, located, (), name)
        now = self._now(data.get("now"), located, ("now",), name)
        facts = self._facts(data.get("facts", {}), located, ("facts",), name)
        expect = self._expectations(data, "expect", located, name)
        absent = self._expectations(data, "absent", located, name)
        if not expect and not absent and "expect" not in data and "absent" not in data:
            self.fail(located.line(), "a test case needs 'expect' or 'absent' (what must or "
                      "must not be concluded)", name)
        description = data.get("description")
        if name is None:
            return None
        return Case(name.strip(), self.file, located.line(), now, facts, expect, absent,
                    description if isinstance(description, str) else None)

    def check_names(self, cases: list[Case]) -> None:
        seen: dict[str, int] = {}
        for case in cases:
            if case.name in seen:
                self.fail(case.line, f"another case has this name (line {seen[case.name]})",
                          case.name)
            seen.setdefault(case.name, case.line)

    # ---- parts ----

    def _unknown_keys(self, data: Mapping[Any, Any], allowed: tuple[str, ...],
                      located: _Located, at: Path_, case: str | None) -> None:
        for key in data:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                self.fail(located.line(*at, str(key)), f"unknown key '{key}'{hint}; a "
                          f"{'case' if not at else at[-1]} has {', '.join(allowed)}", case)

    def _now(self, value: Any, located: _Located, at: Path_,
             case: str | None) -> dt.datetime | None:
        if value is None:
            return None
        moment = value
        if isinstance(value, str):
            try:
                moment = dt.datetime.fromisoformat(value)
            except ValueError:
                moment = None
        if not isinstance(moment, dt.datetime) or moment.utcoffset() is None:
            self.fail(located.line(*at), f"'now' must be a datetime with a time zone, e.g. "
                      f"2026-11-27T09:00:00+08:00 (got {value!r})", case)
            return None
        return moment

    def _facts(self, value: Any, located: _Located, at: Path_,
               case: str | None) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.fail(located.line(*at), "'facts' must map fact keys (staff, complaints...) to "
                      "lists of records, as in a facts file", case)
            return {}
        shaped: dict[str, Any] = to_json_shape(value)
        return shaped

    def _expectations(self, data: Mapping[str, Any], kind: ExpectationKind,
                      located: _Located, case: str | None) -> tuple[Expectation, ...]:
        items = data.get(kind)
        if items is None:
            return ()
        if not isinstance(items, list):
            self.fail(located.line(kind), f"'{kind}' must be a list of conclusions", case)
            return ()
        found = (self._expectation(item, kind, located, (kind, i), case)
                 for i, item in enumerate(items))
        return tuple(e for e in found if e is not None)

    def _expectation(self, item: Any, kind: ExpectationKind, located: _Located, at: Path_,
                     case: str | None) -> Expectation | None:
        line = located.line(*at)
        if not isinstance(item, Mapping):
            self.fail(line, f"each '{kind}' item is a mapping: name, subject and optional "
                      "values", case)
            return None
        self._unknown_keys(item, EXPECTATION_KEYS, located, at, case)
        name, subject, values = item.get("name"), item.get("subject"), item.get("values")
        problems = len(self.problems)
        if not isinstance(name, str) or not name:
            self.fail(line, f"'{kind}' item needs a 'name' (the conclusion, e.g. escalation)",
                      case)
        if not isinstance(subject, str) or not _is_subject(subject):
            self.fail(line, f"'{kind}' item needs a 'subject' written TYPE:ID, e.g. "
                      f"complaint:C1 (got {subject!r})", case)
        if values is not None and not isinstance(values, Mapping):
            self.fail(located.line(*at, "values"), "'values' must map value names to values",
                      case)
        if len(self.problems) > problems:
            return None
        assert isinstance(name, str) and isinstance(subject, str)
        shaped = to_json_shape(values) if values is not None else None
        subject_type, _, subject_id = subject.partition(":")
        return Expectation(kind, name, f"{subject_type.strip()}:{subject_id.strip()}", shaped,
                           line)


def _is_subject(text: str) -> bool:
    kind, sep, ident = text.strip().partition(":")
    return bool(sep and kind.strip() and ident.strip()) and kind == kind.strip()


def _walk(node: yaml.Node) -> Iterator[yaml.MappingNode]:
    """Every mapping node under ``node`` (aliases may repeat one; each is seen once)."""
    stack, seen = [node], set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, yaml.MappingNode):
            yield current
            stack.extend(value for pair in current.value for value in pair)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
