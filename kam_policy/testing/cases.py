"""Policy tests as data: a test file's cases, their expectations, and invalid-file problems."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from kam_policy.errors import KamPolicyError

ExpectationKind = Literal["expect", "absent"]


@dataclass(frozen=True)
class Expectation:
    """A conclusion that must (``expect``) or must not (``absent``) be drawn.

    Args:
        kind: ``expect`` or ``absent``.
        name: the conclusion's name, e.g. ``escalation``.
        subject: ``TYPE:ID``, e.g. ``complaint:C1``.
        values: the values to compare (a subset of the conclusion's values), or None: any.
        line: the line of the item in the test file (1-based; 0 when unknown).
    """

    kind: ExpectationKind
    name: str
    subject: str
    values: Mapping[str, Any] | None
    line: int = 0

    @property
    def subject_type(self) -> str:
        return self.subject.partition(":")[0]


@dataclass(frozen=True)
class Case:
    """One test case: facts at a time, and what must and must not be concluded.

    ``facts`` is in the JSON shape of a facts file (dates and datetimes as ISO text),
    before the file's background facts are merged in.
    """

    name: str
    file: Path
    line: int
    now: dt.datetime | None
    facts: Mapping[str, Any]
    expect: tuple[Expectation, ...] = ()
    absent: tuple[Expectation, ...] = ()
    description: str | None = None

    @property
    def expectations(self) -> tuple[Expectation, ...]:
        return self.expect + self.absent

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Background:
    """Defaults every case of a file starts from: a ``now`` and facts (merged by id)."""

    now: dt.datetime | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CaseFile:
    """A parsed test file: its background and its cases, in file order."""

    path: Path
    cases: tuple[Case, ...]
    background: Background = field(default_factory=Background)


@dataclass(frozen=True)
class Problem:
    """Why a test file is invalid: where (file, 1-based line and column; 0 if unknown), what."""

    file: Path
    line: int
    column: int
    message: str
    case: str | None = None

    def __str__(self) -> str:
        where = str(self.file)
        if self.line:
            where += f":{self.line}"
            if self.column:
                where += f":{self.column}"
        about = f" (case '{self.case}')" if self.case else ""
        return f"{where}: {self.message}{about}"


class TestFileError(KamPolicyError):
    """One or more test files are invalid; ``problems`` lists every finding."""

    __test__ = False  # not a pytest test class

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __reduce__(self) -> tuple[type, tuple[list[Problem]]]:
        return (type(self), (self.problems,))
