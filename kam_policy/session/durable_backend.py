"""Sessions on durable_rules: the policy's rules matched by a Rete network over the facts as
events leave them; conclusions, due instants and exact values worked out on our side.

``Session(policy, engine="durable")`` builds one private durable_rules ruleset per session
(a unique name, on a host of its own with no background threads) from
``durable_compile.plan_policy``: for each alternative of each rule, a rule whose action records
the match, and for the alternatives with time conditions an *arming* rule (the same tests
without those on ``now``) whose action tells us which timers the fact has.

Time is the simulated event time. Each fact goes into the network as a message carrying the
clock reading at which it was asserted (``now``, in integer microseconds); a time condition is
a test on that reading (``now > f_opened_at + 14400000000``). A fact's conditions can only
change at the instants its armed time tests flip (``opened_at + 4h + 1µs`` for ``>``), so the
session re-asserts a fact at those instants — from a heap — and never re-evaluates every fact
when the clock moves. Events re-assert the facts they change. Matches are exact: an
assertion fires each alternative that holds, a retraction drops what the fact matched.

The network is a cache of the session state: ``upcoming`` and a batch that fails roll it back
(a journal of the facts changed), and a resumed session builds it from the stored facts.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import heapq
import importlib
import itertools
import threading
import uuid
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from types import ModuleType
from typing import Any, TypeVar

from pydantic import BaseModel

from kam_policy.engine.compile_rules import CompiledRule
from kam_policy.engine.context import Conclusion as Found
from kam_policy.engine.context import EvalContext
from kam_policy.engine.decision import Conclusion
from kam_policy.engine.policy import Policy
from kam_policy.errors import Diagnostic, KamPolicyError, PolicyEvalError
from kam_policy.facts.load import FactSet
from kam_policy.session.durable_compile import (
    NOW,
    SAFE_INTEGER,
    DurableUnsupportedError,
    PolicyPlan,
    Test,
    double_problem,
    flips,
    message_key,
    micros,
    pattern,
    plan_policy,
)
from kam_policy.session.events import Event
from kam_policy.session.session import (
    Batch,
    Emission,
    Session,
    SessionState,
    SessionStore,
    conclusion_key,
)

Key = tuple[str, str]  # (fact type, id)
T = TypeVar("T")

_NAMES = itertools.count(1)
_ENGINE_LOCK = threading.Lock()  # one call into the C engine at a time, whichever session
_DOOMED: collections.deque[Any] = collections.deque()  # rulesets to free (see _delete_ruleset)


class DurableUnavailableError(KamPolicyError):
    """durable_rules is not installed (``pip install 'kam-policy[bench]'``)."""


class SessionClosedError(KamPolicyError):
    """A durable session was used after ``close()``."""


def _durable() -> ModuleType:
    try:
        return importlib.import_module("durable.engine")
    except ImportError as error:
        raise DurableUnavailableError(
            "the durable backend needs the durable_rules package (version 2.0.28): "
            "pip install durable_rules==2.0.28") from error


@dataclass
class _Live:
    """A fact as the network holds it: one message, asserted at ``stamp``."""

    key: Key
    record: BaseModel
    stamp: dt.datetime
    stamp_us: int
    serial: int
    message: dict[str, Any]
    matched: dict[int, set[int]] = field(default_factory=dict)  # rule -> alternatives
    armed: set[tuple[int, int]] = field(default_factory=set)  # (rule, alternative)
    held: list[str] = field(default_factory=list)  # conclusion keys it contributes
    made: dict[int, list[tuple[str, Conclusion]]] = field(default_factory=dict)  # by rule


class Network:
    """One durable_rules ruleset for one policy plan, and what its actions found."""

    def __init__(self, policy: Policy, plan: PolicyPlan) -> None:
        engine = _durable()
        self.policy = policy
        self.plan = plan
        self._rules = {r.index: r for r in plan.rules}
        # Conclusions depend on the record alone, unless the reason shows now.
        self._timeless = {r.index for r in plan.rules
                          if "{now" not in (r.rule.node.because_raw or r.rule.node.because or "")}
        self._not_handled = engine.MessageNotHandledException
        self.name = f"kam_policy_{next(_NAMES)}_{uuid.uuid4().hex[:12]}"
        self._host = _quiet_host(engine)
        self._failure: BaseException | None = None
        definition = self._definition()
        with _ENGINE_LOCK:
            _free_doomed()
            self._host.register_rulesets({self.name: definition})
            handle = self._host.get_ruleset(self.name)._handle
        self._finalizer = weakref.finalize(self, _delete_ruleset, handle)
        self._serials = itertools.count(1)
        self.live: dict[Key, _Live] = {}
        self._by_serial: dict[int, _Live] = {}
        self.held: dict[str, Conclusion] = {}
        self._due: list[tuple[int, int]] = []  # (instant µs, serial)
        self.dirty: set[Key] = set()
        self._journal: dict[Key, tuple[BaseModel, dt.datetime] | None] | None = None
        self._dirty_before: set[Key] = set()
        self._id_fields = {t.name: t.id_field for t in policy.schema.types}

    def close(self) -> None:
        """Free the ruleset in the C engine (also done when the network is collected)."""
        self._finalizer()

    # ---- the ruleset -----------------------------------------------------------------------
    def _definition(self) -> dict[str, Any]:
        rules: dict[str, Any] = {}
        arming: dict[tuple[str, tuple[Any, ...]], list[tuple[int, int]]] = {}
        for plan in self.plan.rules:
            for number, alternative in enumerate(plan.alternatives):
                rules[f"m{plan.index}_{number}"] = {
                    "all": [{"m": pattern(plan.fact, (*alternative.static, *alternative.timed))}],
                    "run": self._matching_action(plan.index, number)}
                if alternative.timed:
                    arming.setdefault((plan.fact, alternative.static), []).append(
                        (plan.index, number))
        for number, ((fact, static), targets) in enumerate(arming.items()):
            rules[f"a{number}"] = {"all": [{"m": pattern(fact, static)}],
                                   "run": self._arming_action(targets)}
        return rules

    def _matching_action(self, rule: int, alternative: int) -> Callable[[Any], None]:
        def act(closure: Any) -> None:
            try:
                self._matched(int(closure.m["id"]), rule, alternative)
            except BaseException as error:  # durable_rules would swallow it into its state
                self._failure = self._failure or error

        return act

    def _arming_action(self, targets: list[tuple[int, int]]) -> Callable[[Any], None]:
        def act(closure: Any) -> None:
            try:
                self._by_serial[int(closure.m["id"])].armed.update(targets)
            except BaseException as error:
                self._failure = self._failure or error

        return act

    def _matched(self, serial: int, rule: int, alternative: int) -> None:
        self._by_serial[serial].matched.setdefault(rule, set()).add(alternative)

    def _call(self, method: Callable[[str, dict[str, Any]], Any],
              message: dict[str, Any]) -> None:
        """Assert or retract synchronously: actions have run when this returns."""
        if not self._finalizer.alive:
            raise SessionClosedError("this durable session was closed; start a new one")
        with _ENGINE_LOCK, contextlib.suppress(self._not_handled):
            _free_doomed()
            method(self.name, message)
        if self._failure is not None:
            failure, self._failure = self._failure, None
            raise failure

    # ---- facts in and out ------------------------------------------------------------------
    def put(self, key: Key, record: BaseModel | None, at: dt.datetime) -> None:
        """Make ``record`` (None: nothing) the network's version of ``key``, as of ``at``."""
        old = self.live.pop(key, None)
        if self._journal is not None and key not in self._journal:
            self._journal[key] = None if old is None else (old.record, old.stamp)
        if old is not None:
            self._withdraw(old)
        if record is None:
            return
        serial = next(self._serials)
        stamp_us = micros(at)
        live = _Live(key, record, at, stamp_us, serial,
                     self._message(key, record, stamp_us, serial))
        if old is not None and old.record is record:  # a timer due: the same record again
            live.made = {rule: made for rule, made in old.made.items() if rule in self._timeless}
        self.live[key] = live
        self._by_serial[serial] = live
        self._call(self._host.assert_fact, live.message)
        self._hold(live)
        self._arm(live)

    def _withdraw(self, live: _Live) -> None:
        del self._by_serial[live.serial]
        for key in live.held:
            self.held.pop(key, None)
        self._call(self._host.retract_fact, live.message)

    def _message(self, key: Key, record: BaseModel, stamp_us: int,
                 serial: int) -> dict[str, Any]:
        message: dict[str, Any] = {"id": serial, "type": key[0]}
        if key[0] in self.plan.timed:
            message[NOW] = stamp_us
        for name in sorted(self.plan.fields.get(key[0], ())):
            value = getattr(record, name)
            if value is not None:
                message[message_key(name)] = _encoded(value, key, name)
        return message

    def _hold(self, live: _Live) -> None:
        for rule in sorted(live.matched):
            made = live.made.get(rule)
            if made is None:
                made = [(conclusion_key(c), c)
                        for c in self._conclusions(self._rules[rule].rule, live)]
                live.made[rule] = made
            for key, conclusion in made:
                self.held[key] = conclusion
                live.held.append(key)

    def _conclusions(self, rule: CompiledRule, live: _Live) -> list[Conclusion]:
        """The rule's emits for the fact: values and reason computed exactly, by our closures."""
        ctx = EvalContext(FactSet(self.policy.schema, {}), live.stamp, self._id_fields)
        env: dict[str, Any] = {rule.var: live.record}
        out = []
        for emit in rule.emits:
            values = {n: fn(ctx, env) for n, fn in zip(emit.fields, emit.values, strict=True)}
            subject_type = self.policy.schema[emit.subject_fact].subject
            found = Found(emit.name, live.record, subject_type, values, (rule, emit), ctx, env)
            out.append(self.policy.public_conclusion(found))
        return out

    def _arm(self, live: _Live) -> None:
        instants: set[int] = set()
        for rule, number in live.armed:
            alternative = self._rules[rule].alternatives[number]
            for test in alternative.timed:
                instants.update(_flips(test, live.message))
        for instant in instants:
            if instant > live.stamp_us:
                heapq.heappush(self._due, (instant, live.serial))

    # ---- the clock -------------------------------------------------------------------------
    def holding(self, facts: Mapping[str, Mapping[str, BaseModel]],
                at: dt.datetime) -> tuple[dict[str, Conclusion], dt.datetime | None]:
        """Bring the network to the facts at ``at``: what holds, and the next due instant."""
        for key in sorted(self.dirty):
            record = facts.get(key[0], {}).get(key[1])
            live = self.live.get(key)
            if (None if live is None else live.record) is not record:
                self.put(key, record, at)
        self.dirty.clear()
        at_us = micros(at)
        due: set[Key] = set()
        while self._due and self._due[0][0] <= at_us:
            instant, serial = heapq.heappop(self._due)
            live = self._by_serial.get(serial)
            if live is not None and instant > live.stamp_us:
                due.add(live.key)
        for key in sorted(due):
            self.put(key, self.live[key].record, at)
        return self.held, self._next_due(at, at_us)

    def _next_due(self, at: dt.datetime, at_us: int) -> dt.datetime | None:
        while self._due:
            instant, serial = self._due[0]
            live = self._by_serial.get(serial)
            if live is not None and instant > live.stamp_us and instant > at_us:
                return at + dt.timedelta(microseconds=instant - at_us)
            heapq.heappop(self._due)
        return None

    # ---- undo ------------------------------------------------------------------------------
    def begin(self) -> None:
        """Start journaling: what changes from here can be rolled back."""
        self._journal = {}
        self._dirty_before = set(self.dirty)

    def commit(self) -> None:
        self._journal = None

    def rollback(self) -> None:
        """Put back every fact changed since ``begin`` as it was then."""
        journal, self._journal = self._journal or {}, None
        for key, before in journal.items():
            if before is None:
                self.put(key, None, dt.datetime.min)
            else:
                self.put(key, before[0], before[1])
        self.dirty |= self._dirty_before


class DurableSession(Session):
    """A ``Session`` whose rules run on durable_rules; create it as
    ``Session(policy, engine="durable")``. Same API, same emissions.

    Raises:
        DurableUnsupportedError: the policy has rules the backend cannot run (each named).
        DurableUnavailableError: durable_rules is not installed.
    """

    engine = "durable"

    def __init__(self, policy: Policy, store: SessionStore | None = None, *,
                 engine: str = "durable") -> None:
        plan = plan_policy(policy)  # refuses before anything is stored
        self._network = Network(policy, plan)
        self._guard = threading.RLock()
        super().__init__(policy, store)
        self._network.dirty.update((name, ident) for name, records in self._state.facts.items()
                                   if name in plan.fields for ident in records)

    def close(self) -> None:
        """Free the durable_rules ruleset (the session cannot be used afterwards)."""
        self._network.close()

    # ---- the same API, each call undone in the network if it fails ---------------------------
    def advance_to(self, until: dt.datetime) -> list[Emission]:
        return self._guarded(lambda: Session.advance_to(self, until), keep=True)

    def upcoming(self, until: dt.datetime) -> list[Emission]:
        return self._guarded(lambda: Session.upcoming(self, until), keep=False)

    def feed(self, events: Iterable[Event | Mapping[str, Any]], *,
             skip_invalid: bool = False, marks: dict[str, Any] | None = None,
             labels: Sequence[str] | None = None) -> Batch:
        return self._guarded(lambda: Session.feed(self, events, skip_invalid=skip_invalid,
                                                  marks=marks, labels=labels), keep=True)

    def _guarded(self, call: Callable[[], T], keep: bool) -> T:
        with self._guard:
            self._network.begin()
            try:
                result = call()
            except BaseException:
                self._network.rollback()
                raise
            if keep:
                self._network.commit()
            else:
                self._network.rollback()
            return result

    # ---- the hooks of Session ----------------------------------------------------------------
    def _changed(self, type_name: str, ident: str) -> None:
        if type_name in self._network.plan.fields:
            self._network.dirty.add((type_name, ident))

    def _holding(self, state: SessionState, at: dt.datetime) -> tuple[
            Mapping[str, Conclusion], dt.datetime | None]:
        return self._network.holding(state.facts, at)


def _flips(test: Test, message: Mapping[str, Any]) -> tuple[int, ...]:
    base = None if test.right is None else message.get(message_key(test.right))
    return flips(test, base)


def _encoded(value: Any, key: Key, name: str) -> Any:
    """A field value as durable_rules compares it: times in µs, dates as day numbers."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        value = micros(value)
        problem = None if abs(value) < SAFE_INTEGER else "beyond the range of a C double"
    elif isinstance(value, dt.date):
        return value.toordinal()
    else:
        problem = double_problem(value)
    if problem is not None:
        raise PolicyEvalError(Diagnostic(
            "durable.value", f"{key[0]} '{key[1]}': {name}: the value {value} is {problem}; the "
            "durable backend compares values as C doubles", None,
            "run this policy on the snapshot engine (engine='snapshot')"))
    if isinstance(value, Decimal):
        return int(value) if value == int(value) else float(value)
    return value


def _quiet_host(engine: ModuleType) -> Any:
    """A durable_rules host without its dispatch threads: actions run only inside our calls."""

    class QuietHost(engine.Host):  # type: ignore[misc, name-defined]
        def _run(self) -> None:
            pass

    return QuietHost()


def _delete_ruleset(handle: Any) -> None:
    """Free a ruleset, now if the engine is free, else at the next call into it.

    This runs as a finalizer, possibly from garbage collection in the middle of a call that
    holds ``_ENGINE_LOCK`` on this very thread: waiting for the lock there would deadlock."""
    _DOOMED.append(handle)
    if _ENGINE_LOCK.acquire(blocking=False):
        try:
            _free_doomed()
        finally:
            _ENGINE_LOCK.release()


def _free_doomed() -> None:
    """Free the rulesets waiting to be freed (the caller holds ``_ENGINE_LOCK``)."""
    while _DOOMED:
        handle = _DOOMED.popleft()
        with contextlib.suppress(Exception):
            importlib.import_module("durable_rules_engine").delete_ruleset(handle)


__all__ = ["DurableSession", "DurableUnavailableError", "DurableUnsupportedError", "Network",
           "SessionClosedError"]
