"""Building a ``Decision`` from what the rules concluded (issue #5, the fixed cost of a decision).

The fast paths must not change anything observable: value converters chosen when the policy is
compiled give exactly ``to_json_value``'s JSON and errors, the cheaper sort gives exactly the order
of ``Conclusion.sort_key``, objects built without ``__init__`` are indistinguishable from the
others, and decision ids stay unique, version-4 UUID strings (across threads and forks). A
reference assembly (the code these replaced) checks whole decisions on the company example.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import pickle
import threading
import uuid
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import NOW, Level, facts, member
from hypothesis import given, settings
from hypothesis import strategies as st

import kam_policy
from kam_policy import Conclusion, Decision, Policy, PolicyEvalError, Subject
from kam_policy.engine import decision as decision_module
from kam_policy.engine import policy as policy_module
from kam_policy.engine.context import EvalContext
from kam_policy.engine.decision import (
    Later,
    _natural,
    build_conclusion,
    build_subject,
    new_decision_id,
    sorted_conclusions,
)
from kam_policy.engine.evaluate import evaluate
from kam_policy.engine.timeline import Probe, Timed, moving
from kam_policy.engine.values import json_converter, to_json_value
from kam_policy.errors import Diagnostic
from kam_policy.facts.load import FactSet, load_facts_file
from kam_policy.grammar import ast
from kam_policy.grammar.span import Span

ROOT = Path(__file__).parent.parent
COMPANY = ROOT / "examples" / "company.json"
CST = dt.timezone(dt.timedelta(hours=8))
SPAN = Span("policy.kp", 0, 0, 1, 1, 1, 1)
Load = Callable[..., Policy]


@pytest.fixture(scope="module")
def bundled() -> Policy:
    return kam_policy.load()


@pytest.fixture(scope="module")
def company(bundled: Policy) -> FactSet:
    return load_facts_file(COMPANY, bundled.schema)


# ---- the assembly these fast paths replaced, kept as the reference ----------------------------


def reference_public(policy: Policy, found: Any) -> Conclusion:
    rule, emit = found.rule
    decl = policy.declarations.conclusions[found.name]
    for name, value in found.values.items():
        if moving(value):
            raise PolicyEvalError(Diagnostic(
                "eval.moving-value", f"rule {rule.id}: {found.name}: the value of '{name}' "
                "changes with now, so it has no single due time", emit.span,
                "emit values fixed by the facts (e.g. the limit, not the time elapsed); "
                "show the elapsed time in the 'because' text instead"))
    written = {f.name: f.type for f in decl.fields}
    try:
        values = {k: to_json_value(v, written[k]) for k, v in found.values.items()}
    except ValueError as error:
        raise PolicyEvalError(Diagnostic(
            "eval.bad-value", f"rule {rule.id}: {found.name}: {error}", emit.span,
            "round the value, or declare the value as decimal(2)")) from None
    fact_type = policy.schema[emit.subject_fact]
    subject = Subject(found.subject_type, fact_type.identity(found.subject))
    return Conclusion(found.name, subject, values, rule.id, rule.span.source,
                      rule.span.line, Later(found), found.values)


def reference_decide(policy: Policy, fact_set: FactSet, now: dt.datetime,
                     decision_id: str) -> Decision:
    ctx = EvalContext(fact_set, now, {t.name: t.id_field for t in policy.schema.types})
    fired = evaluate(policy.rules, ctx, policy.schema)
    conclusions = sorted((reference_public(policy, c) for found in ctx.conclusions.values()
                          for c in found), key=Conclusion.sort_key)
    return Decision(decision_id, now.isoformat(), policy.info, tuple(conclusions), tuple(fired),
                    tuple(str(issue) for issue in fact_set.skipped))


@pytest.mark.parametrize("now", [
    dt.datetime(2026, 11, 27, 9, tzinfo=CST),
    dt.datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
    dt.datetime(2027, 3, 1, 8, tzinfo=ZoneInfo("Asia/Shanghai")),
], ids=["cst", "utc", "zoneinfo"])
def test_decisions_on_the_company_match_the_reference_assembly(bundled: Policy, company: FactSet,
                                                               now: dt.datetime) -> None:
    got = bundled.decide(company, now, decision_id="same")
    want = reference_decide(bundled, company, now, "same")
    assert got.conclusions  # the example concludes plenty
    assert got == want
    assert got.to_json() == want.to_json()
    assert [(c.file, c.line, c.raw_values) for c in got] == \
        [(c.file, c.line, c.raw_values) for c in want]
    assert repr(got) == repr(want)


def test_each_record_alone_matches_the_reference_assembly(bundled: Policy,
                                                          company: FactSet) -> None:
    """One decision per appraisal, application and complaint, as the latency benchmark runs."""
    now = dt.datetime(2026, 11, 27, 9, tzinfo=CST)
    data = company.to_jsonable()
    base = {"staff": data["staff"], "clients": data["clients"]}
    for key in ("appraisals", "applications", "complaints"):
        assert data[key]
        for record in data[key][:40]:
            single = bundled.validate(base | {key: [record]})
            assert bundled.decide(single, now, decision_id="x") == \
                reference_decide(bundled, single, now, "x")


# ---- converters: one per declared type, exactly to_json_value ---------------------------------


def written(name: str, *args: ast.TypeExpr, precision: int | None = None) -> ast.TypeExpr:
    return ast.TypeExpr(name, args, precision, False, SPAN)


SIMPLE_TYPES = [written("decimal"), *(written("decimal", precision=p) for p in range(5)),
                written("money"), written("money", precision=0), written("int"),
                written("number"), written("duration"), written("text"), written("bool"),
                written("date"), written("datetime"), written("Level"), written("Member"),
                written("map", written("text"), written("int"))]
ALL_TYPES = [*SIMPLE_TYPES, written("list", written("decimal", precision=1)),
             written("list", written("int")), written("list", written("text")),
             written("list", written("list", written("duration")))]
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-10**40, 10**40),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.decimals(places=3, min_value=-10**6, max_value=10**6),
    st.fractions(), st.floats(), st.text(max_size=5), st.sampled_from(list(Level)),
    st.dates(), st.datetimes(timezones=st.just(dt.UTC)),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2))
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=3), st.tuples(SCALARS, SCALARS),
                   st.lists(st.lists(SCALARS, max_size=2), max_size=2))


def outcome(fn: Callable[[], Any]) -> tuple[str, str]:
    """What a call gives: its result (repr: True is not 1) or its error (type and text)."""
    try:
        return "ok", repr(fn())
    except Exception as error:
        return type(error).__name__, str(error)


def shown(kind: ast.TypeExpr) -> str:
    """A written type as a policy writes it: ``list[decimal(1)]``."""
    text = kind.name if kind.precision is None else f"{kind.name}({kind.precision})"
    return f"{text}[{', '.join(shown(a) for a in kind.args)}]" if kind.args else text


@pytest.mark.parametrize("kind", ALL_TYPES, ids=shown)
@settings(max_examples=150, deadline=None)
@given(value=VALUES)
def test_converter_gives_what_to_json_value_gives(kind: ast.TypeExpr, value: Any) -> None:
    assert outcome(lambda: json_converter(kind)(value)) == \
        outcome(lambda: to_json_value(value, kind))


@pytest.mark.parametrize(("kind", "value", "want"), [
    (written("decimal"), Fraction(1, 8), "0.13"),
    (written("decimal", precision=0), Decimal("-0.4"), "0"),
    (written("money"), Decimal("-0.004"), "0.00"),
    (written("int"), Decimal("4.0"), 4),
    (written("number"), Fraction(1, 3), "0.3333333333"),
    (written("duration"), 3_600_000_000 * 5 + 60_000_000 * 12, "5h12m"),
    (written("text"), "S2", "S2"),
    (written("bool"), True, True),
    (written("date"), dt.date(2026, 1, 2), "2026-01-02"),
    (written("Level"), Level.lead, str(Level.lead)),
    (written("list", written("decimal", precision=1)), (Decimal("1.25"), None), ["1.3", None]),
], ids=lambda x: x if isinstance(x, str) else None)
def test_converter_examples(kind: ast.TypeExpr, value: Any, want: Any) -> None:
    assert json_converter(kind)(value) == want == to_json_value(value, kind)


def test_int_converter_refuses_a_fraction_as_to_json_value_does() -> None:
    for fn in (json_converter(written("int")), lambda v: to_json_value(v, written("int"))):
        with pytest.raises(ValueError, match=r"^5/2 is not a whole number$"):
            fn(Fraction(5, 2))


def test_every_declared_value_has_a_converter(bundled: Policy) -> None:
    tables = bundled._tables
    assert {name: set(c) for name, c in tables.converters.items()} == {
        name: {f.name for f in decl.fields}
        for name, decl in bundled.declarations.conclusions.items()}
    assert tables.id_fields == {t.name: t.id_field for t in bundled.schema.types}


def test_the_tables_follow_a_replaced_policy(bundled: Policy) -> None:
    copy = dataclasses.replace(bundled, declarations=bundled.declarations)
    assert copy._tables is not bundled._tables
    assert copy._tables.converters.keys() == bundled._tables.converters.keys()
    assert copy == bundled  # the tables take no part in equality
    assert pickle.loads(pickle.dumps(bundled))._tables.id_fields == bundled._tables.id_fields


def test_a_value_that_is_not_whole_is_still_a_bad_value(load: Load) -> None:
    policy = load("conclusion half(v: int) about Member\n"
                  "rule r { for m in Member emit half(v: m.score / 2) }\n")
    with pytest.raises(PolicyEvalError) as info:
        policy.decide(facts(members=[member("M1", score="5")]), NOW)
    diag = info.value.diagnostic
    assert diag.code == "eval.bad-value"
    assert diag.message == "rule r: half: 2.5 is not a whole number"
    assert diag.span is not None
    assert diag.span.text(policy.sources["policy.kp"]) == "emit half(v: m.score / 2)"


# ---- moving values: looked for only when deciding through outlook -----------------------------

MOVING = ("conclusion waiting(since: duration) about Ticket\n"
          "rule r { for t in Ticket emit waiting(since: now - t.opened_at) }\n")
TICKET = {"id": "K1", "member_id": "M1", "kind": "bug", "opened_at": "2026-03-01T09:00:00+00:00"}


def test_outlook_refuses_a_value_that_moves_with_now(load: Load) -> None:
    policy = load(MOVING)
    data = facts(members=[member("M1")], tickets=[TICKET])
    with pytest.raises(PolicyEvalError) as info:
        policy.outlook(data, NOW)
    diag = info.value.diagnostic
    assert diag.code == "eval.moving-value"
    assert diag.message == ("rule r: waiting: the value of 'since' changes with now, "
                            "so it has no single due time")
    assert diag.hint is not None and diag.hint.startswith("emit values fixed by the facts")
    assert diag.span is not None
    assert diag.span.text(policy.sources["policy.kp"]) == "emit waiting(since: now - t.opened_at)"


def test_decide_at_a_plain_now_emits_the_same_value(load: Load) -> None:
    policy = load(MOVING)
    decision = policy.decide(facts(members=[member("M1")], tickets=[TICKET]), NOW)
    assert [dict(c.values) for c in decision] == [{"since": "9d3h"}]


def test_public_conclusion_still_looks_for_moving_values(load: Load) -> None:
    """``public_conclusion`` is called from outside ``decide`` (sessions, explanations)."""
    policy = load(MOVING)
    fact_set = policy.validate(facts(members=[member("M1")], tickets=[TICKET]))
    timed: Any = Timed(NOW, 1, Probe(NOW))
    ctx = EvalContext(fact_set, timed, policy._tables.id_fields)
    evaluate(policy.rules, ctx, policy.schema)
    [found] = ctx.conclusions["waiting"]
    with pytest.raises(PolicyEvalError, match="changes with now") as info:
        policy.public_conclusion(found)
    assert info.value.diagnostic.code == "eval.moving-value"


def test_at_is_the_isoformat_of_now(load: Load) -> None:
    policy = load("conclusion out() about Member\nrule r { for m in Member emit out() }\n")

    class Shifted(dt.datetime):
        def isoformat(self, *args: Any, **kwargs: Any) -> str:
            return "shifted"

    zones = [dt.UTC, CST, ZoneInfo("Europe/London"), ZoneInfo("America/New_York")]
    for now in [dt.datetime(2026, 3, 29, 0, 30, tzinfo=zone) for zone in zones] + \
               [dt.datetime(2026, 3, 29, 1, 30, tzinfo=zone) for zone in zones]:
        for _ in range(2):
            assert policy.decide(facts(), now).at == now.isoformat()
    shifted = Shifted(2026, 1, 1, tzinfo=dt.UTC)
    assert policy.decide(facts(), shifted).at == "shifted"
    assert policy.decide(facts(), shifted).at == "shifted"
    plain = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert policy.decide(facts(), plain).at == plain.isoformat()


# ---- sorting: the order of Conclusion.sort_key, cheaper ---------------------------------------

TRICKY_IDS = ["S2", "S10", "S02", "S1", "S", "", "10", "2", "02", "a1b2", "a1b10", "A000123",
              "M1/2026-01", "M1/2026-1", "x٣", "x3"]


def conclusion(subject_type: str, subject_id: str, name: str, values: dict[str, Any],
               rule_id: str) -> Conclusion:
    return Conclusion(name, Subject(subject_type, subject_id), values, rule_id, "f.kp", 1)


CONCLUSIONS = st.builds(
    conclusion, st.sampled_from(["member", "team", "appraisal"]), st.sampled_from(TRICKY_IDS),
    st.sampled_from(["bonus", "grade", "out"]),
    st.dictionaries(st.sampled_from(["a", "b"]), st.sampled_from(["1", "2", 10, None]),
                    max_size=2),
    st.sampled_from(["R.1", "R.2"]))


@settings(max_examples=500, deadline=None)
@given(st.lists(CONCLUSIONS, max_size=8))
def test_sorted_conclusions_keep_the_sort_key_order(found: list[Conclusion]) -> None:
    want = sorted(found, key=Conclusion.sort_key)
    got = sorted_conclusions(list(found))
    assert [id(c) for c in got] == [id(c) for c in want]  # ties too stay in emission order


TIED = st.builds(  # few choices, so that most pairs tie on subject and name
    conclusion, st.just("member"), st.sampled_from(["S2", "S02", "S10"]), st.just("out"),
    st.dictionaries(st.just("a"), st.sampled_from(["1", "2"]), max_size=1),
    st.sampled_from(["R.1", "R.2"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(TIED, min_size=2, max_size=5))
def test_sorted_conclusions_break_ties_as_the_sort_key_does(found: list[Conclusion]) -> None:
    want = sorted(found, key=Conclusion.sort_key)
    assert [id(c) for c in sorted_conclusions(list(found))] == [id(c) for c in want]


def test_natural_order_of_tricky_ids() -> None:
    ids = ["S10", "S02", "S2", "S1", "S"]
    by_natural = sorted(ids, key=_natural)
    assert by_natural == ["S", "S1", "S02", "S2", "S10"]  # S02 and S2 tie: input order kept
    assert sorted(reversed(ids), key=_natural) == ["S", "S1", "S2", "S02", "S10"]
    assert _natural("A000123") == ("A", 123, "")
    assert _natural("M1/2026-01") == ("M", 1, "/", 2026, "-", 1, "")
    assert _natural("abc") == ("abc",)
    assert _natural("") == ("",)


def test_decide_sorts_tricky_ids_as_before(load: Load) -> None:
    policy = load("conclusion out(n: int) about Member\n"
                  "conclusion first() about Member\n"
                  "rule r { for m in Member emit out(n: 1) emit first() }\n"
                  "rule q { for m in Member emit out(n: 0) }\n")
    for ids in (["M10", "M02", "M2", "M1"], ["M1", "M2", "M02", "M10"]):
        decision = policy.decide(facts(members=[member(i) for i in ids]), NOW)
        assert list(decision.conclusions) == sorted(decision.conclusions,
                                                    key=Conclusion.sort_key)
        tied = [c.subject.id for c in decision.named("first")]
        assert tied == ["M1", *[i for i in ids if i in ("M02", "M2")], "M10"]
        assert [(c.name, dict(c.values)) for c in decision.about("member", "M1")] == \
            [("first", {}), ("out", {"n": 0}), ("out", {"n": 1})]


# ---- objects built without __init__ ---------------------------------------------------------


class Found:
    """A stand-in for a conclusion as rules saw it: counts how often its reason is read."""

    def __init__(self) -> None:
        self.reads = 0

    @property
    def reason(self) -> str:
        self.reads += 1
        return "because"


def both_ways(reason: Any) -> tuple[Conclusion, Conclusion]:
    subject = Subject("member", "M2")
    values, raw = {"n": "1.00"}, {"n": Decimal(1)}
    return (Conclusion("out", subject, values, "r", "policy.kp", 3, reason, raw),
            build_conclusion("out", build_subject("member", "M2"), values, "r", "policy.kp", 3,
                             reason, raw))


def test_built_objects_are_indistinguishable() -> None:
    made, built = both_ways("text")
    # a field added to these classes must be added to build_*: these comparisons catch it
    assert type(built) is Conclusion and vars(built) == vars(made)
    assert vars(built.subject) == vars(made.subject)
    assert built == made and repr(built) == repr(made) and built.to_dict() == made.to_dict()
    assert hash(built.subject) == hash(made.subject) and built.subject == made.subject
    with pytest.raises(TypeError):
        hash(built)  # values are a dict, as before
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.name = "other"  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(built)) == made
    assert dataclasses.replace(built, line=4) == dataclasses.replace(made, line=4)
    assert dataclasses.astuple(built.subject) == ("member", "M2")
    info = kam_policy.engine.decision.PolicyInfo("P", "1", "0" * 64)
    with_built = Decision("d", "at", info, (built,), ("r",), ())
    with_made = Decision("d", "at", info, (made,), ("r",), ())
    assert with_built == with_made and with_built.to_json() == with_made.to_json()
    assert pickle.loads(pickle.dumps(with_built)) == with_made


def test_a_built_conclusion_renders_its_reason_once_when_first_read() -> None:
    found = Found()
    _, built = both_ways(Later(found))
    assert found.reads == 0
    assert built.reason == "because" and built.reason == "because"
    assert found.reads == 1
    _, pickled = both_ways(Later(Found()))
    assert pickle.loads(pickle.dumps(pickled)).reason == "because"


def test_decided_conclusions_render_reasons_lazily(load: Load) -> None:
    policy = load('conclusion out() about Member\n'
                  'rule r { for m in Member emit out() because "m is {m.id}" }\n')
    [found] = policy.decide(facts(members=[member("M7")]), NOW).conclusions
    assert isinstance(vars(found)["_reason"], Later)
    assert found.reason == "m is M7" and vars(found)["_reason"] == "m is M7"


def test_conclusions_about_one_record_share_its_subject(load: Load) -> None:
    policy = load("conclusion a() about Member\nconclusion b() about Member\n"
                  "rule r { for m in Member emit a() emit b() }\n")
    decision = policy.decide(facts(members=[member("M1"), member("M2")]), NOW)
    assert [str(c.subject) for c in decision] == ["member:M1"] * 2 + ["member:M2"] * 2
    assert decision.conclusions[0].subject is decision.conclusions[1].subject


# ---- decision ids: unique, version-4 shaped, not secret ---------------------------------------


def assert_uuid4(text: str) -> None:
    parsed = uuid.UUID(text)
    assert str(parsed) == text  # canonical: lower case, dashes in place
    assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)


def test_ids_are_version_4_uuid_strings() -> None:
    ids = [new_decision_id() for _ in range(2000)]
    for text in ids:
        assert_uuid4(text)
    assert len(set(ids)) == len(ids)


def test_ids_keep_their_shape_whatever_the_random_base(monkeypatch: pytest.MonkeyPatch) -> None:
    for fill in (b"\x00", b"\xff"):
        monkeypatch.setattr(os, "urandom", lambda n, fill=fill: fill * n)
        monkeypatch.setattr(decision_module, "_ids", decision_module._draw_ids())
        ids = [new_decision_id() for _ in range(300)]
        for text in ids:
            assert_uuid4(text)
        assert len(set(ids)) == 300


def test_ids_are_unique_across_threads(bundled: Policy) -> None:
    found: list[list[str]] = []

    def draw() -> None:
        found.append([new_decision_id() for _ in range(5000)])

    threads = [threading.Thread(target=draw) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [text for ids in found for text in ids]
    assert len(everything) == 40_000 == len(set(everything))


def test_decisions_get_new_ids_unless_given(load: Load) -> None:
    policy = load("conclusion out() about Member\nrule r { for m in Member emit out() }\n")
    ids = {policy.decide(facts(), NOW).decision_id for _ in range(50)}
    assert len(ids) == 50
    for text in ids:
        assert_uuid4(text)
    assert policy.decide(facts(), NOW, decision_id="mine").decision_id == "mine"
    assert_uuid4(policy.decide(facts(), NOW, decision_id="").decision_id)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_draws_its_own_ids() -> None:
    """Without a new base the child would hand out exactly the ids its parent hands out next."""
    before = {new_decision_id() for _ in range(10)}
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(read)
            os.write(write, " ".join(new_decision_id() for _ in range(100)).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child = pipe.read().split()
    os.waitpid(pid, 0)
    parent = [new_decision_id() for _ in range(100)]
    assert len(child) == 100 == len(set(child))
    for text in child:
        assert_uuid4(text)
    assert not set(child) & (set(parent) | before)
    assert child[0][:18] != parent[0][:18]  # a new random base, not just a new counter


def test_policy_module_no_longer_draws_uuid4(monkeypatch: pytest.MonkeyPatch, load: Load) -> None:
    """No system call per decision: ``uuid.uuid4`` is not used for decision ids."""
    policy = load("conclusion out() about Member\nrule r { for m in Member emit out() }\n")

    def refuse() -> uuid.UUID:
        raise AssertionError("uuid4 called")

    monkeypatch.setattr(uuid, "uuid4", refuse)
    assert_uuid4(policy.decide(facts(), NOW).decision_id)
    assert not hasattr(policy_module, "uuid")
