"""Sessions: a policy applied to a stream of events, firing each conclusion at its due time.

A session holds the facts as events leave them and the conclusions that hold. ``advance_to(t)``
moves its clock forward: whenever the decision changes on the way — at an instant the engine
derives from the rules' own time conditions (``Policy.outlook``), never by polling — the
conclusions that start to hold are *fired* and those that stop are *retracted*, each with that
exact instant. Events are applied at their own instants, after everything due by then.

So at any instant ``t`` the conclusions a session holds are exactly those of
``policy.decide(facts, now=t)`` on the same facts, and each is fired once while it holds.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from kam_policy.engine.decision import Conclusion
from kam_policy.engine.policy import Policy
from kam_policy.facts.load import FactSet
from kam_policy.facts.schema import FactType
from kam_policy.session.events import (
    Event,
    EventError,
    EventProblem,
    fact_type_of,
    parse_event,
    validation_text,
)

Kind = Literal["fired", "retracted"]


@dataclass(frozen=True)
class Emission:
    """A conclusion that started (``fired``) or stopped (``retracted``) holding at ``at``.

    ``cause`` is ``"time"`` when a time limit passed, or ``"event"`` (with ``event`` naming it)
    when an event changed the facts.
    """

    seq: int
    at: dt.datetime
    kind: Kind
    conclusion: Conclusion
    cause: Literal["time", "event"]
    event: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"seq": self.seq, "at": self.at.isoformat(), "kind": self.kind,
                                "cause": self.cause}
        if self.event is not None:
            data["event"] = self.event
        data.update(self.conclusion.to_dict())
        return data


@dataclass
class SessionState:
    """Everything a session knows; a store persists it between runs."""

    clock: dt.datetime | None = None
    facts: dict[str, dict[str, BaseModel]] = field(default_factory=dict)
    held: dict[str, Conclusion] = field(default_factory=dict)
    next_change: dt.datetime | None = None
    emitted: int = 0
    events: int = 0

    def copy(self) -> SessionState:
        return replace(self, facts={k: dict(v) for k, v in self.facts.items()},
                       held=dict(self.held))


@dataclass(frozen=True)
class Batch:
    """What one ``feed`` call did: the emissions, in order, and any events it skipped."""

    emissions: tuple[Emission, ...]
    accepted: int
    skipped: tuple[EventProblem, ...] = ()


class SessionStore:
    """Where a session keeps its state (see ``SqliteStore``); the default keeps nothing."""

    def load(self, policy: Policy) -> SessionState | None:
        """The state saved for ``policy``, or None for a new session."""
        return None

    def bind(self, policy: Policy) -> None:
        """Note which policy the state belongs to."""

    def seen(self, event_id: str) -> bool:
        """Whether an event with this ``event_id`` was accepted before."""
        return False

    def commit(self, state: SessionState, events: list[Event], emissions: list[Emission],
               marks: dict[str, Any] | None = None) -> None:
        """Make the state after ``events`` durable, with the emissions they caused and
        ``marks`` (the caller's bookmarks, such as the line an events file reached)."""


class MemoryStore(SessionStore):
    """Keeps only the event ids seen, so that a re-sent event is accepted once."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def seen(self, event_id: str) -> bool:
        return event_id in self._seen

    def commit(self, state: SessionState, events: list[Event], emissions: list[Emission],
               marks: dict[str, Any] | None = None) -> None:
        self._seen.update(e.event_id for e in events if e.event_id is not None)


def conclusion_key(conclusion: Conclusion) -> str:
    """What makes two conclusions the same one: rule, name, subject and values."""
    return json.dumps([conclusion.rule_id, conclusion.name, conclusion.subject.type,
                       conclusion.subject.id, dict(conclusion.values)],
                      sort_keys=True, ensure_ascii=False, separators=(",", ":"))


ENGINES = ("snapshot", "durable")


class Session:
    """A policy over a stream of events. Calls are serialised, so threads may share one.

    Args:
        policy: the compiled policy.
        store: where state is kept (``SqliteStore`` for durable sessions); in memory by default.
        engine: ``"snapshot"`` decides with the policy's own engine; ``"durable"`` matches the
            rules on durable_rules (``kam_policy.session.durable_backend``).
    """

    engine = "snapshot"

    def __new__(cls, policy: Policy, store: SessionStore | None = None, *,
                engine: str = "snapshot") -> Session:
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
        if engine == "durable" and cls is Session:
            from kam_policy.session.durable_backend import DurableSession

            return super().__new__(DurableSession)
        return super().__new__(cls)

    def __init__(self, policy: Policy, store: SessionStore | None = None, *,
                 engine: str = "snapshot") -> None:
        self.policy = policy
        self._store = store or MemoryStore()
        self._store.bind(policy)
        self._state = self._store.load(policy) or SessionState(
            facts={t.name: {} for t in policy.schema.types})
        self._lock = threading.Lock()

    # ---- reading ---------------------------------------------------------------------------
    @property
    def clock(self) -> dt.datetime | None:
        """The instant the session has reached (None before the first event or advance)."""
        return self._state.clock

    @property
    def next_change(self) -> dt.datetime | None:
        """The next instant at which a time condition can change the conclusions, if any."""
        return self._state.next_change

    def held(self) -> tuple[Conclusion, ...]:
        """The conclusions that hold at ``clock``, in decision order."""
        return tuple(sorted(self._state.held.values(), key=Conclusion.sort_key))

    def facts(self) -> FactSet:
        """The facts as the events so far leave them."""
        return _fact_set(self.policy, self._state)

    # ---- moving ----------------------------------------------------------------------------
    def advance_to(self, until: dt.datetime) -> list[Emission]:
        """Fire and retract, in time order, everything due up to and including ``until``."""
        _check_instant(until, "until")
        with self._lock:
            state = self._state.copy()
            emissions = self._advance(state, until)
            self._store.commit(state, [], emissions)
            self._state = state
            return emissions

    def upcoming(self, until: dt.datetime) -> list[Emission]:
        """What ``advance_to(until)`` would emit, without moving the session."""
        _check_instant(until, "until")
        with self._lock:
            return self._advance(self._state.copy(), until)

    def feed(self, events: Iterable[Event | Mapping[str, Any]], *,
             skip_invalid: bool = False, marks: dict[str, Any] | None = None,
             labels: Sequence[str] | None = None) -> Batch:
        """Apply events in order (each after everything due by its instant), as one batch.

        The batch is committed to the store before this returns. An invalid event raises
        ``EventError`` and nothing of the batch is applied — unless ``skip_invalid``, which
        skips it and reports it in ``Batch.skipped``. ``labels`` name the events in messages
        and emissions (``events.jsonl:12``; ``event N`` by default); ``marks`` are committed
        with the batch (see ``SqliteStore.mark``).
        """
        with self._lock:
            state = self._state.copy()
            emissions: list[Emission] = []
            accepted: list[Event] = []
            skipped: list[EventProblem] = []
            seen: set[str] = set()
            pending: list[str] = []  # labels of events applied but not yet settled
            for position, raw in enumerate(events, start=1):
                where = labels[position - 1] if labels is not None \
                    else f"event {state.events + 1}"
                try:
                    event = parse_event(raw, where)
                    if event.event_id is not None and (event.event_id in seen
                                                       or self._store.seen(event.event_id)):
                        continue  # already accepted: re-sending is harmless
                    if pending and event.at != state.clock:
                        self._settle(state, _require(state.clock), "event", _label(pending),
                                     emissions)
                        pending = []
                    self._apply(state, event, where, emissions)
                except EventError as error:
                    if not skip_invalid:
                        raise
                    skipped.extend(error.problems)
                    continue
                accepted.append(event)
                pending.append(event.event_id or where)
                if event.event_id is not None:
                    seen.add(event.event_id)
            if pending:
                self._settle(state, _require(state.clock), "event", _label(pending), emissions)
            self._store.commit(state, accepted, emissions, marks)
            self._state = state
            return Batch(tuple(emissions), len(accepted), tuple(skipped))

    # ---- the work --------------------------------------------------------------------------
    def _advance(self, state: SessionState, until: dt.datetime) -> list[Emission]:
        emissions: list[Emission] = []
        if state.clock is None:
            state.clock = until
            self._settle(state, until, "time", None, emissions)
            return emissions
        while state.next_change is not None and state.next_change <= until:
            self._settle(state, state.next_change, "time", None, emissions)
        if until >= state.clock:  # the caller's instant as given, even when equal to the last
            state.clock = until   # settled one, so every backend shows the clock alike
        return emissions

    def _apply(self, state: SessionState, event: Event, where: str,
               emissions: list[Emission]) -> None:
        """Advance to the event's instant, then change the facts (settled by the caller, once
        for all the events of one instant)."""
        at = event.at
        if state.clock is not None and at < state.clock:
            raise EventError([EventProblem(where, f"event at {at.isoformat()} comes before the "
                                                  f"session clock {state.clock.isoformat()}; "
                                                  "events must come in time order")])
        fact_type = fact_type_of(event, self.policy.schema, where)
        records = state.facts.setdefault(fact_type.name, {})
        fact = _changed_fact(self.policy, state, fact_type, event, where)  # may refuse
        if state.clock is None or at > state.clock:
            emissions += self._advance(state, at)
        if fact is None:
            assert event.id is not None
            del records[event.id]
            self._changed(fact_type.name, event.id)
        else:
            ident = fact_type.identity(fact)
            records[ident] = fact
            self._changed(fact_type.name, ident)
        state.events += 1

    def _changed(self, type_name: str, ident: str) -> None:
        """A record was put, updated or removed (a backend that keeps its own copy listens)."""

    def _settle(self, state: SessionState, at: dt.datetime, cause: Literal["time", "event"],
                event: str | None, out: list[Emission]) -> None:
        """Decide at ``at``; emit the difference from what was held."""
        now_held, next_change = self._holding(state, at)
        for key in sorted(state.held.keys() - now_held.keys(), key=lambda k: _order(state, k)):
            out.append(self._emission(state, at, "retracted", state.held.pop(key), cause, event))
        for conclusion in _in_order(now_held, state.held.keys()):
            key = conclusion_key(conclusion)
            _ = conclusion.reason  # render it now: a pending reason keeps its decision alive
            state.held[key] = conclusion
            out.append(self._emission(state, at, "fired", conclusion, cause, event))
        state.clock = at
        state.next_change = next_change

    def _holding(self, state: SessionState, at: dt.datetime) -> tuple[
            Mapping[str, Conclusion], dt.datetime | None]:
        """The conclusions that hold at ``at`` by ``conclusion_key``, and the next instant at
        which they may change while the facts stay as they are."""
        outlook = self.policy.outlook(_fact_set(self.policy, state), at)
        return {conclusion_key(c): c for c in outlook.decision.conclusions}, outlook.next_change

    def _emission(self, state: SessionState, at: dt.datetime, kind: Kind,
                  conclusion: Conclusion, cause: Literal["time", "event"],
                  event: str | None) -> Emission:
        state.emitted += 1
        return Emission(state.emitted, at, kind, conclusion, cause, event)


def _order(state: SessionState, key: str) -> tuple[Any, ...]:
    return Conclusion.sort_key(state.held[key])


def _in_order(now_held: Mapping[str, Conclusion], before: Iterable[str]) -> list[Conclusion]:
    old = set(before)
    return sorted((c for k, c in now_held.items() if k not in old), key=Conclusion.sort_key)


def _fact_set(policy: Policy, state: SessionState) -> FactSet:
    return FactSet(policy.schema, {name: tuple(records.values())
                                   for name, records in state.facts.items()})


def _changed_fact(policy: Policy, state: SessionState, fact_type: FactType, event: Event,
                  where: str) -> BaseModel | None:
    """The record as the event leaves it (None: removed); refuses an event that does not fit."""
    records = state.facts.get(fact_type.name, {})
    if event.op == "remove":
        assert event.id is not None
        if event.id not in records:
            raise EventError([EventProblem(where, f"there is no {fact_type.name} '{event.id}' "
                                                  "to remove")])
        _refuse_if_referenced(policy, state, fact_type, event.id, where)
        return None
    if event.op == "update":
        assert event.id is not None and event.set is not None
        old = records.get(event.id)
        if old is None:
            raise EventError([EventProblem(where, f"there is no {fact_type.name} '{event.id}' "
                                                  "to update (add it with a 'put' event)")])
        data = {**old.model_dump(mode="json"), **event.set}
    else:
        assert event.record is not None
        data = dict(event.record)
    fact = _validated(fact_type, data, where)
    if event.op == "update" and fact_type.identity(fact) != event.id:
        raise EventError([EventProblem(where, f"an update cannot change the id of "
                                              f"{fact_type.name} '{event.id}'")])
    _check_references(policy, state, fact_type, fact, where)
    return fact


def _label(labels: list[str]) -> str:
    if len(labels) <= 3:
        return ", ".join(labels)
    return f"{labels[0]} … {labels[-1]} ({len(labels)} events)"


def _require(clock: dt.datetime | None) -> dt.datetime:
    assert clock is not None
    return clock


def _validated(fact_type: FactType, data: dict[str, Any], where: str) -> BaseModel:
    try:
        return fact_type.model.model_validate(data)
    except ValidationError as error:
        ident = data.get(fact_type.id_field) if fact_type.id_field else None
        label = f"{fact_type.name} '{ident}'" if ident is not None else fact_type.name
        raise EventError([EventProblem(where, f"{label}: {validation_text(error)}")]) from None


def _check_references(policy: Policy, state: SessionState, fact_type: FactType,
                      fact: BaseModel, where: str) -> None:
    for name, target in fact_type.refs.items():
        value = getattr(fact, name)
        if value is not None and str(value) not in state.facts.get(target, {}):
            raise EventError([EventProblem(where, f"{fact_type.name} "
                                                  f"'{fact_type.identity(fact)}': {name}: no "
                                                  f"{target} '{value}' (add it first)")])


def _refuse_if_referenced(policy: Policy, state: SessionState, fact_type: FactType,
                          identity: str, where: str) -> None:
    for other in policy.schema.types:
        for name, target in other.refs.items():
            if target != fact_type.name:
                continue
            for record in state.facts.get(other.name, {}).values():
                if str(getattr(record, name)) == identity:
                    raise EventError([EventProblem(
                        where, f"{fact_type.name} '{identity}' is still referred to by "
                               f"{other.name} '{other.identity(record)}' ({name}); remove or "
                               "update that first")])


def _check_instant(value: Any, name: str) -> None:
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise ValueError(f"{name} must be a datetime with a time zone")


__all__ = ["Batch", "Emission", "MemoryStore", "Session", "SessionState", "SessionStore",
           "conclusion_key"]
