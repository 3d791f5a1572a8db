"""Events: what happened to a fact, and when — the input of a session.

One event adds or replaces a record (``put``), changes some of its fields (``update``) or removes
it (``remove``), at the instant ``at``::

    {"at": "2026-11-27T09:00:00+08:00", "op": "put", "type": "Complaint", "record": {...}}
    {"at": "2026-11-27T12:30:00+08:00", "op": "update", "type": "Complaint", "id": "CP7",
     "set": {"first_response_at": "2026-11-27T12:30:00+08:00"}}
    {"at": "2026-11-30T10:00:00+08:00", "op": "remove", "type": "Complaint", "id": "CP7"}

A complaint opened is a ``put``; its first response, resolution, client notice or reopening is an
``update``. An optional ``event_id`` makes re-sending an event harmless: a session accepts each
``event_id`` once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError, model_validator

from kam_policy.errors import KamPolicyError
from kam_policy.facts.schema import FactSchema, FactType


class Event(BaseModel):
    """One change to the facts at instant ``at`` (a datetime with a time zone)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: AwareDatetime
    op: Literal["put", "update", "remove"]
    type: str
    record: dict[str, Any] | None = None
    id: str | None = None
    set: dict[str, Any] | None = None
    event_id: str | None = None

    @model_validator(mode="after")
    def _fields_of_op(self) -> Event:
        needed = {"put": ("record",), "update": ("id", "set"), "remove": ("id",)}[self.op]
        allowed = set(needed) | {"at", "op", "type", "event_id"}
        for name in needed:
            if getattr(self, name) is None:
                raise ValueError(f"a '{self.op}' event needs '{name}'")
        extra = [n for n in ("record", "id", "set") if n not in allowed
                 and getattr(self, n) is not None]
        if extra:
            names = ", ".join(repr(n) for n in extra)
            raise ValueError(f"a '{self.op}' event does not take {names}")
        return self

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json", exclude_none=True), ensure_ascii=False,
                          sort_keys=True)


@dataclass(frozen=True)
class EventProblem:
    """Why an event was refused: where it came from (line or position) and what is wrong."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class EventError(KamPolicyError):
    """Events that cannot be accepted; ``problems`` says where and why."""

    def __init__(self, problems: list[EventProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def parse_event(data: Any, where: str) -> Event:
    """Validate one event's envelope (its record is checked against the fact model later)."""
    if isinstance(data, Event):
        return data
    try:
        return Event.model_validate(data)
    except ValidationError as error:
        raise EventError([EventProblem(where, validation_text(error))]) from None


def validation_text(error: ValidationError) -> str:
    """A pydantic error as one line: ``field: message; other: message``."""
    messages = []
    for detail in error.errors(include_url=False):
        field = ".".join(str(p) for p in detail["loc"])
        text = detail["msg"].removeprefix("Value error, ")
        messages.append(f"{field}: {text}" if field else text)
    return "; ".join(messages)


def fact_type_of(event: Event, schema: FactSchema, where: str) -> FactType:
    """The fact type an event names, by type name (``Complaint``) or JSON key (``complaints``)."""
    found = schema.by_name.get(event.type) or schema.by_key.get(event.type)
    if found is None:
        names = ", ".join(t.name for t in schema.types)
        raise EventError([EventProblem(where, f"unknown fact type '{event.type}' "
                                              f"(one of: {names})")])
    return found


@dataclass(frozen=True)
class NumberedEvent:
    """An event read from a file, with its line number (from 1)."""

    line: int
    event: Event | None
    problem: EventProblem | None


def read_event_lines(path: Path, start_line: int = 0) -> Iterator[NumberedEvent]:
    """Events of a JSON Lines file, one at a time (never the whole file), after ``start_line``.

    Blank lines are skipped; a line that is not a valid event comes back with its problem.
    """
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number <= start_line or not raw.strip():
                continue
            where = f"{path}:{number}"
            try:
                data = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as error:
                yield NumberedEvent(number, None, EventProblem(where, f"not JSON: {error}"))
                continue
            try:
                yield NumberedEvent(number, parse_event(data, where), None)
            except EventError as error:
                yield NumberedEvent(number, None, error.problems[0])


__all__ = ["Event", "EventError", "EventProblem", "NumberedEvent", "parse_event",
           "read_event_lines"]
