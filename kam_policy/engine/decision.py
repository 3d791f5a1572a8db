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


@dataclass(frozen=True)
class Conclusion:
    """One conclusion: its name, subject, values (JSON forms) and the rule that produced it."""

    name: str
    subject: Subject
    values: Mapping[str, Any]
    rule_id: str
    file: str
    line: int
    reason: str | None = None
    raw_values: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

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
        return (self.subject.type, _natural(self.subject.id), self.name,
                json.dumps(self.values, sort_keys=True, ensure_ascii=False), self.rule_id)


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


def _natural(text: str) -> tuple[Any, ...]:
    """Sort key putting S2 before S10."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text))
