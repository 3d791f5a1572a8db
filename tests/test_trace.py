"""Tracing hooks: what a tracer is told, and that tracing never changes a decision.

The events are checked on a small policy over the test schema of conftest.py, where every
outcome is known; the no-change property on the example company data with the bundled policy.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import HEADER, NOW, SilentTracer, facts, load_text, member

import kam_policy
from kam_policy import Policy, RecordingTracer, Tracer
from kam_policy.engine.compile_rules import CompiledRule, Step
from kam_policy.engine.context import Conclusion, EvalContext
from kam_policy.engine.tables import CompiledRow, CompiledTable
from kam_policy.engine.trace import TraceEvent
from kam_policy.facts.load import load_facts_file
from kam_policy.grammar import ast

ROOT = Path(__file__).parent.parent
COMPANY = ROOT / "examples" / "company.json"
COMPANY_AT = dt.datetime.fromisoformat("2026-11-27T09:00:00+08:00")

POLICY = """\
conclusion strong(score: number) about Member
conclusion lead_team() about Team

rule R.strong "Strong member" {
  for m in Member where m.active
  let s = m.score ?? 0
  when s >= 5
  when m.level >= senior
  emit strong(score: s)
  because "score {s}"
}

rule R.lead "A team with a very strong member" {
  for g in strong
  let t = Team[Member[g.subject.id].team_id]
  when g.score >= 8
  emit lead_team() about t
}

conclusion band(band: text) about Member

table banding "Band of a score" {
  hit first
  in score: number
  out band: text
  | >= 8 | "high" |
  | >= 5 | "mid"  |
}

rule R.band "Band of a member" {
  for m in Member
  let b = banding(m.score ?? 0)
  when b is not null
  emit band(band: b)
}
"""
SOURCE = HEADER + POLICY

MEMBERS = [
    member("M1", score="9", level="lead"),  # strong, and makes its team a lead team
    member("M2", score="3", level="lead"),  # fails s >= 5
    member("M3", score="7", level="junior"),  # passes s >= 5, fails the level
    member("M4", score="9", level="lead", active=False),  # filtered out by the for ... where
    member("M5", score="6", level="senior"),  # strong, but not strong enough for R.lead
    member("M6", level="junior"),  # no score: s is 0, fails s >= 5 (the first of two)
]


def line_of(text: str) -> int:
    """The line of SOURCE that holds ``text`` (exactly one)."""
    lines = [n for n, line in enumerate(SOURCE.splitlines(), start=1) if text in line]
    assert len(lines) == 1, (text, lines)
    return lines[0]


@pytest.fixture(scope="module")
def policy(tmp_path_factory: pytest.TempPathFactory) -> Policy:
    return load_text(tmp_path_factory.mktemp("trace"), POLICY)


@pytest.fixture(scope="module")
def traced(policy: Policy) -> tuple[RecordingTracer, kam_policy.Decision]:
    tracer = RecordingTracer()
    return tracer, policy.decide(facts(members=MEMBERS), NOW, tracer=tracer)


def events_of(tracer: RecordingTracer, rule_id: str) -> dict[str, TraceEvent]:
    """The events of one rule over members, by member id (each member at most once)."""
    found: dict[str, TraceEvent] = {}
    for event in tracer.events:
        if event.rule.id == rule_id:
            key = event.item.id if rule_id == "R.strong" else event.item.subject.id
            assert key not in found, f"{rule_id} saw {key} twice"
            found[key] = event
    return found


# ---- matched --------------------------------------------------------------------------------


def test_a_matched_event_carries_the_item_and_every_binding(
        traced: tuple[RecordingTracer, kam_policy.Decision]) -> None:
    tracer, _ = traced
    event = events_of(tracer, "R.strong")["M1"]
    assert event.kind == "matched"
    assert event.step is None
    assert event.item.id == "M1"
    assert set(event.env) == {"m", "s"}
    assert event.env["m"] is event.item
    assert event.env["s"] == Decimal(9)


def test_a_matched_event_lists_what_the_firing_emitted(
        traced: tuple[RecordingTracer, kam_policy.Decision]) -> None:
    tracer, _ = traced
    event = events_of(tracer, "R.strong")["M5"]
    assert [(c.name, c.subject.id, c.values) for c in event.emitted] == \
        [("strong", "M5", {"score": Decimal(6)})]
    assert all(tracer.event_of(c) is event for c in event.emitted)


def test_each_event_keeps_its_own_bindings(
        traced: tuple[RecordingTracer, kam_policy.Decision]) -> None:
    tracer, _ = traced
    scores = {key: e.env.get("s") for key, e in events_of(tracer, "R.strong").items()}
    assert scores == {"M1": 9, "M2": 3, "M3": 7, "M4": None, "M5": 6, "M6": 0}


def test_a_rule_over_conclusions_sees_the_conclusion_as_its_item(
        traced: tuple[RecordingTracer, kam_policy.Decision]) -> None:
    tracer, _ = traced
    strong = events_of(tracer, "R.strong")
    lead = events_of(tracer, "R.lead")
    assert set(lead) == {"M1", "M5"}
    assert lead["M1"].kind == "matched"
    assert lead["M1"].item is strong["M1"].emitted[0]
    assert lead["M1"].env["t"].id == "T1"
    assert [(c.name, c.subject.id) for c in lead["M1"].emitted] == [("lead_team", "T1")]


# ---- not matched ----------------------------------------------------------------------------


@pytest.mark.parametrize(("member_id", "condition", "bound"), [
    ("M2", "when s >= 5", {"m", "s"}),
    ("M3", "when m.level >= senior", {"m", "s"}),
    ("M6", "when s >= 5", {"m", "s"}),  # fails both conditions: the first one is named
])
def test_not_matched_names_the_first_condition_that_failed(
        traced: tuple[RecordingTracer, kam_policy.Decision], member_id: str, condition: str,
        bound: set[str]) -> None:
    tracer, _ = traced
    event = events_of(tracer, "R.strong")[member_id]
    assert event.kind == "not_matched"
    assert event.emitted == []
    assert event.step is not None
    assert event.step.name is None
    assert isinstance(event.step.node, ast.WhenClause)
    assert event.step.node.span.line == line_of(condition)
    assert event.step in event.rule.steps
    assert set(event.env) == bound


def test_an_item_filtered_out_by_for_where_is_not_matched_at_the_for_clause(
        traced: tuple[RecordingTracer, kam_policy.Decision]) -> None:
    tracer, _ = traced
    event = events_of(tracer, "R.strong")["M4"]
    assert event.kind == "not_matched"
    assert event.step is not None
    assert isinstance(event.step.node, ast.ForClause)
    assert event.step.node.span.line == line_of("for m in Member where m.active")
    assert set(event.env) == {"m"}  # nothing after the failed step was evaluated


def test_a_rule_over_conclusions_reports_its_failed_condition(
        traced: tuple[RecordingTracer, kam_policy.Decision]) -> None:
    tracer, _ = traced
    event = events_of(tracer, "R.lead")["M5"]
    assert event.kind == "not_matched"
    assert event.step is not None
    assert event.step.node.span.line == line_of("when g.score >= 8")


def test_every_item_of_a_rule_gets_exactly_one_event_in_fact_order(
        traced: tuple[RecordingTracer, kam_policy.Decision]) -> None:
    tracer, decision = traced
    order = [e.item.id for e in tracer.events if e.rule.id == "R.strong"]
    assert order == [m["id"] for m in MEMBERS]
    kinds = {key: e.kind for key, e in events_of(tracer, "R.strong").items()}
    assert sorted(k for k, v in kinds.items() if v == "matched") == \
        sorted(c.subject.id for c in decision.named("strong"))
    assert tracer.fired_rules() == set(decision.fired) == {"R.strong", "R.lead", "R.band"}
    assert tracer.ctx is not None and tracer.ctx.now == NOW


# ---- custom tracers -------------------------------------------------------------------------


class CallLog:
    """A tracer of our own that writes down every call it gets."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str, Any]] = []

    @staticmethod
    def _key(item: Any) -> str:
        if isinstance(item, Conclusion):
            return f"{item.name}:{item.subject.id}"
        return str(getattr(item, "id", type(item).__name__))

    def matched(self, ctx: EvalContext, rule: CompiledRule, item: Any,
                env: dict[str, Any]) -> None:
        self.calls.append(("matched", rule.id, self._key(item), sorted(env)))

    def not_matched(self, ctx: EvalContext, rule: CompiledRule, item: Any, step: Step,
                    env: dict[str, Any]) -> None:
        self.calls.append(("not_matched", rule.id, self._key(item), step.node.span.line))

    def emitted(self, ctx: EvalContext, rule: CompiledRule, item: Any,
                conclusion: Conclusion) -> None:
        self.calls.append(("emitted", rule.id, self._key(item), conclusion.name))

    def table_matched(self, ctx: EvalContext, table: CompiledTable,
                      rows: tuple[CompiledRow, ...], inputs: dict[str, Any]) -> None:
        self.calls.append(("table", table.name, ",".join(str(v) for v in inputs.values()),
                           [row.number for row in rows]))


def test_a_custom_tracer_is_called_for_each_item_and_each_conclusion(policy: Policy) -> None:
    tracer: Tracer = CallLog()
    policy.decide(facts(members=MEMBERS), NOW, tracer=tracer)
    assert isinstance(tracer, CallLog)
    assert [c for c in tracer.calls if c[1] in ("R.strong", "R.lead")] == [
        ("matched", "R.strong", "M1", ["m", "s"]),
        ("emitted", "R.strong", "M1", "strong"),
        ("not_matched", "R.strong", "M2", line_of("when s >= 5")),
        ("not_matched", "R.strong", "M3", line_of("when m.level >= senior")),
        ("not_matched", "R.strong", "M4", line_of("for m in Member where m.active")),
        ("matched", "R.strong", "M5", ["m", "s"]),
        ("emitted", "R.strong", "M5", "strong"),
        ("not_matched", "R.strong", "M6", line_of("when s >= 5")),
        ("matched", "R.lead", "strong:M1", ["g", "t"]),
        ("emitted", "R.lead", "strong:M1", "lead_team"),
        ("not_matched", "R.lead", "strong:M5", line_of("when g.score >= 8")),
    ]


def test_a_custom_tracer_is_told_which_table_rows_matched(policy: Policy) -> None:
    tracer = CallLog()
    policy.decide(facts(members=MEMBERS), NOW, tracer=tracer)
    unmet = line_of("when b is not null")

    def fired(member_id: str, score: str, row: int) -> list[tuple[str, str, str, Any]]:
        return [("table", "banding", score, [row]), ("matched", "R.band", member_id, ["b", "m"]),
                ("emitted", "R.band", member_id, "band")]

    assert [c for c in tracer.calls if c[1] in ("R.band", "banding")] == [
        *fired("M1", "9", 1),
        ("not_matched", "R.band", "M2", unmet),  # 3 matches no row: no table call
        *fired("M3", "7", 2),
        *fired("M4", "9", 1),
        *fired("M5", "6", 2),
        ("not_matched", "R.band", "M6", unmet),
    ]


def test_the_recording_tracer_collects_the_table_rows_that_matched(
        traced: tuple[RecordingTracer, kam_policy.Decision]) -> None:
    tracer, _ = traced
    assert tracer.rows_matched == {("banding", 1), ("banding", 2)}


def test_a_tracer_with_the_three_documented_methods_still_works(policy: Policy) -> None:
    decision = policy.decide(facts(members=MEMBERS), NOW, tracer=SilentTracer(), decision_id="d")
    assert decision == policy.decide(facts(members=MEMBERS), NOW, decision_id="d")


def test_a_tracer_that_does_nothing_is_enough(policy: Policy) -> None:
    class Quiet(SilentTracer):
        def table_matched(self, *args: Any) -> None:
            pass

    decision = policy.decide(facts(members=MEMBERS), NOW, tracer=Quiet(), decision_id="d")
    assert decision == policy.decide(facts(members=MEMBERS), NOW, decision_id="d")


# ---- tracing changes nothing ----------------------------------------------------------------


@pytest.fixture(scope="module")
def company() -> tuple[Policy, Any]:
    policy = kam_policy.load()
    return policy, load_facts_file(COMPANY, policy.schema)


@pytest.mark.parametrize("make", [RecordingTracer, CallLog], ids=["recording", "custom"])
def test_deciding_with_a_tracer_gives_the_same_decision_as_without(
        company: tuple[Policy, Any], make: type) -> None:
    policy, fact_set = company
    plain = policy.decide(fact_set, COMPANY_AT, decision_id="same")
    traced = policy.decide(fact_set, COMPANY_AT, decision_id="same", tracer=make())
    assert traced.to_json() == plain.to_json()
    assert traced.fired == plain.fired
    assert len(plain.conclusions) > 700


def test_the_recording_tracer_accounts_for_every_conclusion_of_the_company(
        company: tuple[Policy, Any]) -> None:
    policy, fact_set = company
    tracer = RecordingTracer()
    decision = policy.decide(fact_set, COMPANY_AT, tracer=tracer)
    assert tracer.ctx is not None
    internal = [c for found in tracer.ctx.conclusions.values() for c in found]
    assert len(internal) == len(decision.conclusions)
    assert sum(len(e.emitted) for e in tracer.events) == len(internal)
    for conclusion in internal:
        event = tracer.event_of(conclusion)
        assert event is not None and event.kind == "matched"
        assert conclusion in event.emitted
        assert policy.public_conclusion(conclusion).rule_id == event.rule.id
    for event in tracer.events:
        if event.kind == "not_matched":
            assert event.step is not None and event.step.name is None
            assert event.step in event.rule.steps
            assert not event.emitted
    assert tracer.fired_rules() == set(decision.fired)
