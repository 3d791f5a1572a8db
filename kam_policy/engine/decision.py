"""The result of a decision: conclusions, each naming its subject, values, rule and source."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Subject:
    """The fact a conclusion is about, e.g. ``complaint C7``."""

    type: str
    id: str

    def __str__(self) -> str:
        return f"{self.type}:{self.id}"


class Later:
    """A reason not rendered yet: ``source.reason`` is read when the conclusion's reason is
    first read (most callers of ``decide`` read values, not reasons)."""

    __slots__ = ("source",)

    def __init__(self, source: Any) -> None:
        self.source = source  # anything with a ``reason`` (the conclusion as rules saw it)


class _Reason:
    """The ``reason`` field of ``Conclusion``: a text, None, or ``Later``, rendered and kept on
    first read. Equality, ``repr``, ``to_dict`` and pickling all read it, so they see text."""

    def __get__(self, obj: Any, owner: Any = None) -> str | None:
        if obj is None:
            return None  # the field's default
        value = obj.__dict__["_reason"]
        if isinstance(value, Later):
            value = value.source.reason
            obj.__dict__["_reason"] = value
        return value  # type: ignore[no-any-return]

    def __set__(self, obj: Any, value: str | Later | None) -> None:
        obj.__dict__["_reason"] = value


@dataclass(frozen=True)
class Conclusion:
    """One conclusion: its name, subject, values (JSON forms) and the rule that produced it."""

    name: str
    subject: Subject
    values: Mapping[str, Any]
    rule_id: str
    file: str
    line: int
    reason: _Reason = _Reason()
    raw_values: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_reason"] = self.reason  # rendered: a pending reason holds the whole decision
        return state

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "subject": {"type": self.subject.type, "id": self.subject.id},
            "values": dict(self.values),
            "rule": self.rule_id,
            "source": {"file": self.file, "line": self.line},
        }
        if self.reason is not None:
            data["reason"] = self.reason
        return data

    def sort_key(self) -> tuple[Any, ...]:
        """Subject type, subject id (S2 before S10), name, values (as canonical JSON: only
        rendered when the rest is equal, see ``_ValuesKey``), rule."""
        return (self.subject.type, _natural(self.subject.id), self.name,
                _ValuesKey(self.values), self.rule_id)


@dataclass(frozen=True)
class PolicyInfo:
    """Which policy decided: its name, version and the digest of its rules and parameters."""

    name: str
    version: str
    sha256: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "sha256": self.sha256}


@dataclass(frozen=True)
class Decision:
    """Everything one ``decide`` call concluded, at ``at``, under ``policy``."""

    decision_id: str
    at: str
    policy: PolicyInfo
    conclusions: tuple[Conclusion, ...]
    fired: tuple[str, ...]
    skipped: tuple[str, ...] = ()

    def __iter__(self) -> Iterator[Conclusion]:
        return iter(self.conclusions)

    def named(self, name: str) -> list[Conclusion]:
        """The conclusions called ``name``."""
        return [c for c in self.conclusions if c.name == name]

    def about(self, subject_type: str, subject_id: str) -> list[Conclusion]:
        """The conclusions about one subject, e.g. ``about("complaint", "C7")``."""
        return [c for c in self.conclusions
                if c.subject.type == subject_type and c.subject.id == subject_id]

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "decision_id": self.decision_id,
            "at": self.at,
            "policy": self.policy.to_dict(),
            "conclusions": [c.to_dict() for c in self.conclusions],
        }
        if self.skipped:
            data["skipped"] = list(self.skipped)
        return data

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)


_DIGITS = re.compile(r"(\d+)")


def _natural(text: str) -> tuple[Any, ...]:
    """Sort key putting S2 before S10: the runs of digits (every second part) as numbers."""
    parts: list[Any] = _DIGITS.split(text)
    parts[1::2] = map(int, parts[1::2])
    return tuple(parts)


class _ValuesKey:
    """Orders conclusion values by their canonical JSON text, rendered only when compared:
    in a sort, tuples compare the values only when subject, id and name are equal (a
    subject rarely has two conclusions of one name), so most are never rendered."""

    __slots__ = ("_text", "values")

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = values
        self._text: str | None = None

    def text(self) -> str:
        if self._text is None:
            self._text = json.dumps(self.values, sort_keys=True, ensure_ascii=False)
        return self._text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _ValuesKey) and self.text() == other.text()

    def __lt__(self, other: _ValuesKey) -> bool:
        return self.text() < other.text()

    __hash__ = None  # type: ignore[assignment]
