"""durable_rules (Rete in C, Python actions): each workload as rulesets whose conditions the
engine matches on the posted message; the actions (Python) build the conclusions.

The condition language compares fields with constants or ``field +- constant`` and tests
whether a field exists, so the policy's tables become generated, mutually exclusive rules
(first-match and "only the highest level" are written out as exclusions). Messages are JSON
doubles, so datetimes are epoch microseconds (exact below 2^53). Timed Python glue, in the
actions: W1's weighted averages (exact, in ``Decimal``; durable has no decimal arithmetic),
whose total is posted to a second ruleset holding the grade table; W2's preferred-major test
(no string functions); W3's per-client count for ``account_review``. Facts that may fire
several rules (W3, W4) are asserted and the state is deleted after each batch (timed).
"""

from __future__ import annotations

import contextlib
import functools
import operator
from collections import Counter
from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from itertools import combinations
from typing import Any

from durable.engine import MessageNotHandledException
from durable.lang import assert_fact, delete_state, m, post, ruleset, when_all

from benchmarks import data, handwritten
from benchmarks.anchors import Conclusion, Impl, Record, joined_w1, joined_w2, joined_w3, micros

Cond = Any
Action = Callable[[Any], None]
OUT: list[Conclusion] = []
WINDOW: list[str] = []
MATCHES: list[tuple[str, int]] = []
HOUR = 3_600_000_000


def f(name: str) -> Any:
    return getattr(m, name)


def all_of(*conds: Cond) -> Cond:
    return functools.reduce(operator.and_, conds)


def any_of(*conds: Cond) -> Cond:
    return functools.reduce(operator.or_, conds)


def emit(name: str, subject: str, subject_id: str, values: dict[str, Any]) -> None:
    OUT.append((name, subject, subject_id, values))


# ---- W1 -----------------------------------------------------------------------------------------

SUPERVISOR = [f"{d}_supervisor" for d in data.DIMENSIONS]


def grade_conditions() -> list[tuple[str, Cond]]:
    """The grade table as exclusive conditions on the posted total and satisfaction score."""
    return [("S", all_of(m.total >= 95, m.sat >= 90)),
            ("A", all_of(m.total >= 85, any_of(m.total < 95, m.sat < 90))),
            ("B", all_of(m.total >= 70, m.total < 85)),
            ("C", all_of(m.total >= 60, m.total < 70)),
            ("D", m.total < 60)]


def _w1_rulesets() -> None:
    with ruleset("w1_appraisal"):
        # A rule made only of "field absent" tests also matches the session state document
        # (which has none of the fields) and then fires forever: hence the ``kind`` test.
        appraisal = m.kind == "appraisal"
        when_all(all_of(appraisal, any_of(*(-f(name) for name in SUPERVISOR), -m.role)))(
            _incomplete)
        when_all(all_of(appraisal, *(+f(name) for name in SUPERVISOR), +m.role))(_score)
    with ruleset("w1_grade"):
        for grade, condition in grade_conditions():
            when_all(condition)(_grade_action(grade))


def _incomplete(c: Any) -> None:
    missing = [d for d, name in zip(data.DIMENSIONS, SUPERVISOR, strict=True) if c.m[name] is None]
    if c.m["role"] is None:
        missing.append("role")
    emit("appraisal_incomplete", "appraisal", c.m.id, {"missing": missing})


def _score(c: Any) -> None:
    """The exact weighted averages (Python), posted to the grade table ruleset."""
    scores = {d: {s: Decimal(repr(c.m[f"{d}_{s}"])) for s in handwritten.SOURCE_TENTHS
                  if c.m[f"{d}_{s}"] is not None} for d in data.DIMENSIONS}
    total, satisfaction = handwritten.scaled_total(scores, c.m.role)
    message = {"id": c.m.id, "period": c.m.period, "score": handwritten.cents_text(total),
               "total": float(Fraction(total) / handwritten.SCALE),
               "sat": float(Fraction(satisfaction[0]) / satisfaction[1])}
    if c.m["bonus"] is not None:
        message["bonus"] = c.m.bonus
    post("w1_grade", message)


def _grade_action(grade: str) -> Action:
    multiplier = handwritten.MULTIPLIERS[grade]
    text = handwritten.MULTIPLIER_TEXT[grade]

    def act(c: Any) -> None:
        emit("grade", "appraisal", c.m.id, {"kind": "monthly", "period": c.m.period,
                                            "grade": grade, "score": c.m.score})
        amount = None
        if c.m["bonus"] is not None:
            exact = multiplier * Decimal(repr(c.m.bonus))
            amount = str(exact.quantize(handwritten.CENT, ROUND_HALF_UP))
        emit("bonus", "appraisal", c.m.id, {"period": c.m.period, "multiplier": text,
                                            "amount": amount})

    return act


def _w1_message(record: Record) -> Record:
    message = {"kind": "appraisal", "id": record["id"], "period": record["period"]}
    for d, sources in record["scores"].items():
        for s, value in sources.items():
            if value is not None:
                message[f"{d}_{s}"] = float(value)
    if record["role"] is not None:
        message["role"] = record["role"]
    if record["bonus"] is not None:
        message["bonus"] = float(record["bonus"])
    return message


# ---- W2 -----------------------------------------------------------------------------------------

EDUCATIONS = ("high_school", "associate", "bachelor", "master", "doctorate")


def _requirement_checks(role: str) -> list[tuple[str, Cond, Cond]]:
    """(reason, condition met, condition unmet) per requirement of ``role``."""
    rank, field, least, ka_field, ka_least, _ = handwritten.REQUIREMENTS[role]
    ok = EDUCATIONS[rank:]
    checks = [("education", any_of(*(m.education == e for e in ok)),
               all_of(*(m.education != e for e in ok))),
              ("experience", f(field) >= least, f(field) < least)]
    if ka_field is not None:
        checks.append(("ka_experience", f(ka_field) >= ka_least, f(ka_field) < ka_least))
    return checks


def _w2_rulesets() -> None:
    """One rule per role and set of unmet requirements: exactly one fires per application."""
    with ruleset("w2"):
        for role in handwritten.REQUIREMENTS:
            checks = _requirement_checks(role)
            for size in range(len(checks) + 1):
                for unmet in combinations(range(len(checks)), size):
                    parts = [bad if i in unmet else good
                             for i, (_, good, bad) in enumerate(checks)]
                    reasons = [checks[i][0] for i in unmet]
                    when_all(all_of(m.role == role, *parts))(_eligibility(role, reasons))


def _eligibility(role: str, reasons: list[str]) -> Action:
    majors = handwritten.REQUIREMENTS[role][5]

    def act(c: Any) -> None:
        if reasons:
            emit("ineligible", "application", c.m.id, {"role": role, "reasons": list(reasons)})
            return
        emit("eligible", "application", c.m.id, {"role": role})
        if c.m.major.strip().lower() in majors:
            emit("preferred_candidate", "application", c.m.id, {"role": role})

    return act


def _w2_message(record: Record) -> Record:
    return {k: float(v) if isinstance(v, Decimal) else v for k, v in record.items()}


# ---- W3 -----------------------------------------------------------------------------------------


def _later(end: str, limit: int) -> Cond:
    return f(end) > m.opened + limit


def _resolution_over(limit: int) -> Cond:
    return any_of(all_of(+m.resolved, _later("resolved", limit)),
                  all_of(-m.resolved, _later("now", limit)))


def _resolution_within(limit: int) -> Cond:
    return any_of(all_of(+m.resolved, m.resolved <= m.opened + limit),
                  all_of(-m.resolved, m.now <= m.opened + limit))


def _response_over(limit: int) -> Cond:
    return any_of(all_of(+m.first, _later("first", limit)),
                  all_of(-m.first, +m.resolved, _later("resolved", limit)),
                  all_of(-m.first, -m.resolved, _later("now", limit)))


def _w3_rulesets() -> None:
    with ruleset("w3"):
        when_all(any_of(m.severity == "major", m.severity == "critical"))(_w3_emit("task_force"))
        when_all(all_of(+m.resolved, -m.notified, m.now > m.resolved + 24 * HOUR))(
            _w3_emit("client_notice_overdue"))
        when_all(all_of(m.opened > m.now - 30 * 24 * HOUR, m.opened <= m.now))(_in_window)
        for severity, (respond, resolve) in data.LIMITS.items():
            p, r = respond // data.US, resolve // data.US
            sev = m.severity == severity
            when_all(all_of(sev, any_of(_resolution_over(2 * r), m.reopened >= 2)))(_level(3))
            when_all(all_of(sev, m.reopened < 2, _resolution_within(2 * r),
                            any_of(_resolution_over(r), m.reopened >= 1)))(_level(2))
            when_all(all_of(sev, m.reopened < 1, _resolution_within(r), _response_over(p)))(
                _level(1))


def _w3_emit(name: str) -> Action:
    def act(c: Any) -> None:
        emit(name, "complaint", c.m.id, {})

    return act


def _in_window(c: Any) -> None:
    WINDOW.append(c.m.client_id)


def _level(level: int) -> Action:
    target = {1: "manager", 2: "department_head", 3: "executive"}[level]

    def act(c: Any) -> None:
        values: dict[str, Any] = {"level": level, "to": target}
        if level == 1:
            values["manager_id"] = c.m["manager_id"]
        emit("escalation", "complaint", c.m.id, values)

    return act


def _w3_message(record: Record) -> Record:
    message = {"id": record["id"], "client_id": record["client_id"],
               "severity": record["severity"], "reopened": record["reopened_count"],
               "now": micros(data.NOW)}
    if record["manager_id"] is not None:
        message["manager_id"] = record["manager_id"]
    names = {"opened_at": "opened", "first_response_at": "first", "resolved_at": "resolved",
             "client_notified_at": "notified"}
    for field, name in names.items():
        if record[field] is not None:
            message[name] = micros(record[field])
    return message


# ---- W4 -----------------------------------------------------------------------------------------


def w4_ruleset(name: str, rules: Sequence[data.W4Rule]) -> None:
    """N rules ``region == R and tier == T``; every match is recorded with its rule number."""
    with ruleset(name):
        for index, rule in enumerate(rules):
            when_all(all_of(m.region == rule.region, m.tier == rule.tier))(_w4_action(index))


def _w4_action(index: int) -> Action:
    return lambda c: MATCHES.append((c.m.id, index))


def w4_run(name: str, rules: Sequence[data.W4Rule],
           clients: Sequence[Record]) -> list[Conclusion]:
    """Assert every client, keep each client's first matching rule (first match wins)."""
    MATCHES.clear()
    for client in clients:
        with contextlib.suppress(MessageNotHandledException):
            assert_fact(name, client)
    delete_state(name)
    first: dict[str, int] = {}
    for client_id, index in MATCHES:
        if index < first.get(client_id, len(rules)):
            first[client_id] = index
    return [("owner", "client", cid, {"owner_id": rules[i].owner}) for cid, i in first.items()]


# ---- runners ------------------------------------------------------------------------------------

SETUP = {"W1": (_w1_rulesets, "w1_appraisal", joined_w1, _w1_message, False),
         "W2": (_w2_rulesets, "w2", joined_w2, _w2_message, False),
         "W3": (_w3_rulesets, "w3", joined_w3, _w3_message, True)}
_BUILT: set[str] = set()


def build(workload: str, facts: data.Facts) -> Impl:
    setup, name, join, message, as_facts = SETUP[workload]
    if workload not in _BUILT:
        setup()
        _BUILT.add(workload)
    messages = [message(record) for record in join(facts)]
    send = assert_fact if as_facts else post

    def one(item: Record) -> None:
        with contextlib.suppress(MessageNotHandledException):
            send(name, item)

    def single(item: Record) -> None:
        one(item)
        if as_facts:
            delete_state(name)

    def run(batch: list[Record]) -> list[Conclusion]:
        OUT.clear()
        WINDOW.clear()
        for item in batch:
            one(item)
        if as_facts:
            delete_state(name)
        found = list(OUT)
        found.extend(("account_review", "client", client, {})
                     for client, count in Counter(WINDOW).items() if count >= 3)
        return found

    return Impl("durable_rules", run, messages, single, messages[:2000],
                "post per fact (W3: assert_fact, then delete_state)")
