"""The result of a decision: conclusions, each naming its subject, values, rule and source."""

from __future__ import annotations

import itertools
import json
import os
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


_SPLIT_DIGITS = re.compile(r"(\d+)").split


def _natural(text: str) -> tuple[Any, ...]:
    """Sort key putting S2 before S10: the runs of digits (every second part) as numbers."""
    parts: list[Any] = _SPLIT_DIGITS(text)
    if len(parts) == 3:  # one run of digits, as in most ids (S10, A000123)
        head, digits, tail = parts
        return (head, int(digits), tail)
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


# ---- fast paths for ``Policy.decide`` -----------------------------------------------------------
# A frozen dataclass's ``__init__`` sets each field with ``object.__setattr__``; these build the
# very same objects (the same ``__dict__``, so equality, repr, hashing and pickling are unchanged)
# by filling the instance dictionary at once: one or more per conclusion of every decision. A
# field added to these classes must be added here too (tests/test_decision_assembly.py compares
# ``vars`` of both).


def _built(cls: type[Any], state: dict[str, Any]) -> Any:
    made = object.__new__(cls)
    made.__dict__.update(state)
    return made


def build_subject(subject_type: str, subject_id: str) -> Subject:
    """``Subject(subject_type, subject_id)``, built faster."""
    subject: Subject = _built(Subject, {"type": subject_type, "id": subject_id})
    return subject


def build_conclusion(name: str, subject: Subject, values: Mapping[str, Any], rule_id: str,
                     file: str, line: int, reason: str | Later | None,
                     raw_values: Mapping[str, Any]) -> Conclusion:
    """``Conclusion(name, subject, values, rule_id, file, line, reason, raw_values)``, faster
    (``_reason`` is where the ``reason`` descriptor keeps it)."""
    conclusion: Conclusion = _built(Conclusion, {
        "name": name, "subject": subject, "values": values, "rule_id": rule_id, "file": file,
        "line": line, "_reason": reason, "raw_values": raw_values})
    return conclusion


def sorted_conclusions(conclusions: list[Conclusion]) -> tuple[Conclusion, ...]:
    """``conclusions`` in the order of ``Conclusion.sort_key``, more cheaply: each subject id's
    natural key is worked out once, and values and rule ids are looked at only among
    conclusions that tie on subject and name (elsewhere they cannot change the order)."""
    if len(conclusions) < 2:
        return tuple(conclusions)
    naturals: dict[str, tuple[Any, ...]] = {}
    keys: list[tuple[Any, ...]] = []
    for conclusion in conclusions:
        subject = conclusion.subject
        natural = naturals.get(subject.id)
        if natural is None:
            natural = naturals[subject.id] = _natural(subject.id)
        keys.append((subject.type, natural, conclusion.name))
    if len(keys) == 2:  # the usual case when there are two or more
        first, second = keys
        if first < second:
            return (conclusions[0], conclusions[1])
        if second < first:
            return (conclusions[1], conclusions[0])
        return tuple(sorted(conclusions, key=_tie_key))
    ordered: list[Conclusion] = []
    for _, tied in itertools.groupby(sorted(range(len(keys)), key=keys.__getitem__),
                                     keys.__getitem__):
        group = [conclusions[i] for i in tied]  # sorted is stable: in emission order
        if len(group) > 1:
            group.sort(key=_tie_key)
        ordered += group
    return tuple(ordered)


def _tie_key(conclusion: Conclusion) -> tuple[_ValuesKey, str]:
    """The rest of ``Conclusion.sort_key``, for conclusions with one subject and name."""
    return (_ValuesKey(conclusion.values), conclusion.rule_id)


# ---- decision ids -------------------------------------------------------------------------------

_VARIANT_BITS = 1 << 63  # the low 64 bits of an RFC 4122 UUID start with the bits 10
_BELOW_VARIANT = (1 << 62) - 1


def _draw_ids() -> tuple[str, int, Iterator[int]]:
    """A fresh random base: the first three groups of the id (version 4) as text, the random
    low 64 bits (variant bits set) and a counter to mix into the 62 bits below the variant."""
    base = int.from_bytes(os.urandom(16), "big")
    high = ((base >> 64) & ~0xF000) | 0x4000  # version nibble: 4
    low = (base & _BELOW_VARIANT) | _VARIANT_BITS
    text = f"{high:016x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:]}-", low, itertools.count()


_ids = _draw_ids()


def _redraw_ids() -> None:
    global _ids
    _ids = _draw_ids()


if hasattr(os, "register_at_fork"):  # a forked child draws its own base, never its parent's ids
    os.register_at_fork(after_in_child=_redraw_ids)


def new_decision_id() -> str:
    """A new decision id: an RFC 4122 version-4 UUID string, unique but NOT secret.

    The 122 free bits are a random base drawn once per process (again in a forked child) with
    a counter XORed into the lowest 62, so ids never repeat within a process (the counter would
    need 2**62 decisions to wrap) and differ between processes but for a chance of about
    2**-122 per pair. Anyone who sees one id can predict the process's next ones: do not use
    them as tokens. ``next`` on ``itertools.count`` is atomic under the GIL, so threads can
    share the counter without a lock.
    """
    prefix, low, counter = _ids
    text = f"{low ^ next(counter):016x}"
    return f"{prefix}{text[:4]}-{text[4:]}"
