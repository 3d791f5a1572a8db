"""Evaluation semantics on small policies: nulls, exact numbers, time, aggregates, joins,
derived conclusions, bindings, reasons, parameters, and sharing a policy between threads."""

from __future__ import annotations

import datetime as dt
import pickle
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    HEADER,
    NOW,
    SCHEMA,
    decide,
    facts,
    load_text,
    member,
    only,
    team,
    ticket,
    tiny_schema,
    values_of,
    write_policy,
)

import kam_policy
from kam_policy import FactError, ParameterError, Policy, PolicyEvalError

Load = Callable[..., Policy]

VALUE_TYPES = ("bool", "number", "text", "duration", "date", "datetime", "list[text]",
               "decimal(2)", "int", "Level")


def evaluate(load: Load, expr: str, kind: str = "bool", data: dict[str, Any] | None = None,
             now: dt.datetime = NOW, pre: str = "") -> dict[str, Any]:
    """The JSON value of ``expr`` for each member (subject id -> value)."""
    policy = load(pre + f"conclusion out(v: {kind}?) about Member\n"
                  f"rule r {{ for m in Member emit out(v: {expr}) }}\n")
    decision = decide(policy, data if data is not None else facts(members=[member("M1")]), now)
    return {c.subject.id: c.values["v"] for c in decision.named("out")}


def value(load: Load, expr: str, kind: str = "bool", **kw: Any) -> Any:
    """The JSON value of ``expr`` for the one member M1 (or the first of ``data``)."""
    got = evaluate(load, expr, kind, **kw)
    return next(iter(got.values()))


# A member without score, join date or tags; one with everything.
BARE = facts(members=[member("M1")])
FULL = facts(members=[member("M1", score="80", joined_on="2026-03-01", tags=["a", "b"])])


# ---- null ----------------------------------------------------------------------------------


@pytest.mark.parametrize("expr", [
    "m.score > 1", "m.score >= 1", "m.score < 1", "m.score <= 1", "m.score == 1",
    "m.score in [1, 2]", "m.score not in [1, null]", "m.joined_on < date(now)",
    "m.score > m.score", "m.score is not null", "not (m.score is null)",
])
def test_comparisons_with_null_are_false(load: Load, expr: str) -> None:
    assert value(load, expr, data=BARE) is False


@pytest.mark.parametrize("expr", ["m.score is null", "m.score == null", "not (m.score > 1)",
                                  "m.score != 1", "m.score not in [1, 2]"])
def test_null_tests_are_true(load: Load, expr: str) -> None:
    assert value(load, expr, data=BARE) is True


def test_not_equal_and_not_in_agree_on_null(load: Load) -> None:
    assert value(load, "m.score != 1", data=BARE) == value(load, "m.score not in [1]",
                                                           data=BARE) is True


def test_null_is_in_a_list_holding_null(load: Load) -> None:
    assert value(load, "m.score in [1, null]", data=BARE) is True


@pytest.mark.parametrize(("expr", "want"), [
    ("m.score in (if m.active then null else [1])", False),
    ("m.score not in (if m.active then null else [1])", True),
    ('"a" in (if m.active then null else m.tags)', False),
    ('"a" not in (if m.active then null else m.tags)', True),
])
def test_nothing_is_in_a_missing_list(load: Load, expr: str, want: bool) -> None:
    assert value(load, expr, data=FULL) is want


@pytest.mark.parametrize(("expr", "kind"), [
    ("m.score + 1", "number"), ("m.score * 2", "number"), ("-m.score", "number"),
    ("m.score / 2", "number"), ("now - m.joined_on", "duration"),
    ("m.joined_on + 1d", "date"), ("round(m.score, 2)", "number"), ("year(m.joined_on)", "number"),
    ("Team[\"nope\"].budget", "number"), ("if m.score > 1 then 1 else null", "number"),
])
def test_null_propagates(load: Load, expr: str, kind: str) -> None:
    assert value(load, expr, kind, data=BARE) is None


def test_a_condition_on_null_does_not_fire(load: Load) -> None:
    policy = load("conclusion hit() about Member\n"
                  "rule r { for m in Member when m.score < 100 emit hit() }\n")
    decision = decide(policy, facts(members=[member("M1"), member("M2", score="5")]))
    assert [c.subject.id for c in decision.named("hit")] == ["M2"]
    assert decision.fired == ("r",)


@pytest.mark.parametrize(("expr", "data", "want"), [
    ("m.score ?? 5", BARE, "5"),
    ("m.score ?? 5", FULL, "80"),
    ("m.score ?? Team[\"nope\"].budget ?? 7", BARE, "7"),
    ("(m.score ?? 0) + 1", BARE, "1"),
])
def test_coalesce(load: Load, expr: str, data: dict[str, Any], want: str) -> None:
    assert value(load, expr, "number", data=data) == want


def test_division_by_zero_is_null(load: Load) -> None:
    assert value(load, "m.score / 0", "number", data=FULL) is None


# ---- ordering texts ------------------------------------------------------------------------


@pytest.mark.parametrize(("expr", "want"), [
    ('"2026-10" < "2026-11"', True),
    ('"2026-11" <= "2026-11"', True),
    ('"2026-12" > "2027-01"', False),
    ('m.name >= "member"', True),
    ('"b" > "a"', True),
    ('"B" < "a"', True),  # by code point, as written
])
def test_texts_are_ordered(load: Load, expr: str, want: bool) -> None:
    assert value(load, expr, data=BARE) is want


def test_ordering_a_null_text_is_false(load: Load) -> None:
    data = facts(members=[member("M1")], teams=[team("T1")])
    assert value(load, 'Team["nope"].name < "a"', data=data) is False
    assert value(load, 'Team["nope"].name >= "a"', data=data) is False


# ---- exact arithmetic --------------------------------------------------------------------


@pytest.mark.parametrize("expr", [
    "0.1 + 0.2 == 0.3",
    "1 / 3 * 3 == 1",
    "(0.5 * 85 + 0.2 * 85) / 0.7 == 85",
    "1/3 + 1/3 + 1/3 == 1",
    "2 / 3 > 0.6666666666666666666666666666",
    "round(2.675, 2) == 2.68",
    "round(-2.5, 0) == -3",
    "round(1/3, 3) == 0.333",
    "100000000000000000000000000000 * 10 + 1 > 100000000000000000000000000000 * 10",
    "1.10 == 1.1",
])
def test_exact_arithmetic(load: Load, expr: str) -> None:
    assert value(load, expr) is True


@pytest.mark.parametrize(("expr", "kind", "want"), [
    ("(0.5 * 85 + 0.2 * 85) / 0.7", "number", "85"),
    ("0.1 + 0.2", "number", "0.3"),
    ("2 / 3", "number", "0.6666666667"),
    ("2 / 3", "decimal(2)", "0.67"),
    ("2.675", "decimal(2)", "2.68"),
    ("5", "decimal(2)", "5.00"),
    ("4 / 2", "int", 2),
])
def test_reported_numbers(load: Load, expr: str, kind: str, want: Any) -> None:
    assert value(load, expr, kind) == want


# ---- time ----------------------------------------------------------------------------------

UTC = dt.UTC
EAST = dt.timezone(dt.timedelta(hours=8))
WEST = dt.timezone(dt.timedelta(hours=-8))
JOINED = facts(members=[member("M1", joined_on="2026-03-01")])


@pytest.mark.parametrize(("now", "days"), [
    (dt.datetime(2026, 3, 10, 12, 0, tzinfo=UTC), 9),
    (dt.datetime(2026, 3, 10, 0, 0, tzinfo=UTC), 9),
    (dt.datetime(2026, 3, 10, 23, 59, 59, 999999, tzinfo=UTC), 9),
    # 2026-03-10 00:30 in +08:00 is still 03-09 in UTC: now's own offset counts.
    (dt.datetime(2026, 3, 10, 0, 30, tzinfo=EAST), 9),
    # 2026-03-09 23:30 in -08:00 is already 03-10 in UTC.
    (dt.datetime(2026, 3, 9, 23, 30, tzinfo=WEST), 8),
    (dt.datetime(2026, 3, 1, 8, 0, tzinfo=UTC), 0),
])
def test_now_minus_a_date_counts_whole_days_in_nows_offset(load: Load, now: dt.datetime,
                                                            days: int) -> None:
    assert value(load, "in_days(now - m.joined_on)", "number", data=JOINED, now=now) == str(days)
    assert value(load, "now - m.joined_on", "duration", data=JOINED, now=now) == (
        f"{days}d" if days else "0s")


@pytest.mark.parametrize(("closed", "late"), [
    ("2026-03-01T13:00:00+00:00", False),
    ("2026-03-01T13:00:00.000001+00:00", True),
    ("2026-03-01T21:00:00+08:00", False),  # the same instant as 13:00Z
    ("2026-03-01T21:00:00.000001+08:00", True),
])
def test_datetime_differences_are_exact_to_the_microsecond(load: Load, closed: str,
                                                           late: bool) -> None:
    policy = load("conclusion late() about Ticket\n"
                  "rule r { for k in Ticket when k.closed_at - k.opened_at > 4h emit late() }\n")
    data = facts(members=[member("M1")],
                 tickets=[ticket("K1", opened_at="2026-03-01T09:00:00+00:00", closed_at=closed)])
    assert bool(decide(policy, data).named("late")) is late


@pytest.mark.parametrize(("expr", "kind", "want"), [
    ("4h + 30m", "duration", "4h30m"),
    ("1.5h", "duration", "1h30m"),
    ("2 * 4h", "duration", "8h"),
    ("4h / 2", "duration", "2h"),
    ("4h / 1h", "number", "4"),
    ("4h == 240m", "bool", True),
    ("days(2) == 48h", "bool", True),
    ("hours(1.5) == 90m", "bool", True),
    ("in_days(36h)", "number", "1.5"),
    ("abs(-3h)", "duration", "3h"),
    ("m.joined_on + 1.5d", "date", "2026-03-02"),
    ("m.joined_on - 1d", "date", "2026-02-28"),
    ("now + 1h", "datetime", "2026-03-10T13:00:00+00:00"),
    ("date(now)", "date", "2026-03-10"),
])
def test_duration_and_date_arithmetic(load: Load, expr: str, kind: str, want: Any) -> None:
    assert value(load, expr, kind, data=JOINED) == want


def test_year_and_date_of_a_datetime_are_in_its_own_offset(load: Load) -> None:
    now = dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert value(load, "year(now)", "number", now=now) == "2026"
    assert value(load, "date(now)", "date", now=now) == "2026-12-31"
    assert value(load, "month(now)", "number", now=now) == "12"


def test_now_needs_a_time_zone(load: Load) -> None:
    policy = load("conclusion out() about Member\nrule r { for m in Member emit out() }\n")
    with pytest.raises(FactError):
        policy.decide(facts(), dt.datetime(2026, 3, 10, 12, 0))


# ---- aggregates ----------------------------------------------------------------------------

TEAM_FACTS = facts(
    teams=[team("T1"), team("T2", budget="5")],
    members=[member("M1", score="10", level="junior", tags=["a", "b"]),
             member("M2", score="30", level="lead", team_id="T2"),
             member("M3", level="senior")],
    tickets=[ticket("K2", member_id="M1", hours="1.5"),
             ticket("K1", member_id="M1", kind="feature", hours="2"),
             ticket("K3", member_id="M2", hours="4")],
)


@pytest.mark.parametrize(("expr", "kind", "want"), [
    ("count(k in Ticket where k.member_id == m.id)", "number", ["2", "1", "0"]),
    ("count(k in Ticket)", "number", ["3", "3", "3"]),
    ("exists(k in Ticket where k.member_id == m.id and k.kind == feature)", "bool",
     [True, False, False]),
    ("none(k in Ticket where k.member_id == m.id)", "bool", [False, False, True]),
    ("all(k in Ticket where k.hours > 1)", "bool", [True, True, True]),
    ("all(k in Ticket where k.member_id == m.id)", "bool", [False, False, False]),
    ("all(k in Ticket where k.member_id == m.id and k.hours > 5)", "bool",
     [False, False, False]),
    ("sum(k.hours for k in Ticket where k.member_id == m.id)", "number", ["3.5", "4", "0"]),
    ("min(k.hours for k in Ticket where k.member_id == m.id)", "number", ["1.5", "4", None]),
    ("max(k.hours for k in Ticket where k.member_id == m.id)", "number", ["2", "4", None]),
    ("list(k.id for k in Ticket where k.member_id == m.id)", "list[text]",
     [["K1", "K2"], ["K3"], []]),
    ("sum(k.closed_at - k.opened_at for k in Ticket)", "duration", ["0s", "0s", "0s"]),
], ids=lambda value: value if isinstance(value, str) and "(" in value else None)
def test_aggregates_over_facts(load: Load, expr: str, kind: str, want: list[Any]) -> None:
    got = evaluate(load, expr, kind, data=TEAM_FACTS)
    assert [got["M1"], got["M2"], got["M3"]] == want


def test_aggregates_over_an_empty_source(load: Load) -> None:
    exprs = {"count(k in Ticket)": "0", "exists(k in Ticket)": False,
             "none(k in Ticket)": True, "all(k in Ticket where k.hours > 1)": True,
             "sum(k.hours for k in Ticket)": "0", "min(k.hours for k in Ticket)": None,
             "max(k.hours for k in Ticket)": None, "list(k.id for k in Ticket)": []}
    kinds = {bool: "bool", str: "number", type(None): "number", list: "list[text]"}
    for expr, want in exprs.items():
        assert value(load, expr, kinds[type(want)]) == want, expr


def test_sum_min_max_skip_nulls(load: Load) -> None:
    data = facts(members=[member("M1", score="3"), member("M2"), member("M3", score="1")])
    for expr, want in {"sum(x.score for x in Member)": "4",
                       "min(x.score for x in Member)": "1",
                       "max(x.score for x in Member)": "3"}.items():
        assert set(evaluate(load, expr, "number", data=data).values()) == {want}


def test_min_and_max_of_an_ordered_enum_follow_its_rank(load: Load) -> None:
    """'lead' is the highest Level although it sorts first alphabetically."""
    assert set(evaluate(load, "max(x.level for x in Member)", "Level",
                        data=TEAM_FACTS).values()) == {"lead"}
    assert set(evaluate(load, "min(x.level for x in Member)", "Level",
                        data=TEAM_FACTS).values()) == {"junior"}


def test_aggregates_over_an_enum(load: Load) -> None:
    got = evaluate(load, "list(text(l) for l in Level where l > m.level)", "list[text]",
                   data=TEAM_FACTS)
    assert got == {"M1": ["senior", "lead"], "M2": [], "M3": ["lead"]}
    assert value(load, "count(l in Kind)", "number") == "3"


def test_aggregates_over_a_list(load: Load) -> None:
    got = evaluate(load, 'list(t for t in m.tags where t != "a")', "list[text]",
                   data=TEAM_FACTS)
    assert got == {"M1": ["b"], "M2": [], "M3": []}
    assert value(load, "sum(x for x in [1, 2, 3.5])", "number") == "6.5"
    assert value(load, 'exists(t in m.tags where t == "b")', data=TEAM_FACTS) is True


def test_list_over_facts_does_not_depend_on_input_order(load: Load) -> None:
    expr = "list(k.id for k in Ticket)"
    reverse = dict(TEAM_FACTS, tickets=list(reversed(TEAM_FACTS["tickets"])))
    assert evaluate(load, expr, "list[text]", data=TEAM_FACTS) == evaluate(
        load, expr, "list[text]", data=reverse)


@pytest.mark.parametrize(("field", "values", "kind", "want"), [
    ("name", ["S10", "S9", "S1"], "list[text]", ["S1", "S9", "S10"]),
    ("name", ["b2", "a10", "a9"], "list[text]", ["a9", "a10", "b2"]),
    ("score", ["100", "9", "10.5"], "list[number]", ["9", "10.5", "100"]),
], ids=["ids", "prefixes", "numbers"])
def test_list_over_facts_is_in_natural_order(load: Load, field: str, values: list[str],
                                             kind: str, want: list[str]) -> None:
    data = facts(members=[member(f"M{i}", **{field: v}) for i, v in enumerate(values)])
    got = evaluate(load, f"list(x.{field} for x in Member)", kind, data=data)
    assert set(map(tuple, got.values())) == {tuple(want)}


@pytest.mark.parametrize(("name", "want"), [
    ("①", ["a", "①"]), ("5²", ["5²", "a"]), ("x٣", ["a", "x٣"]),
], ids=["circled", "superscript", "arabic-indic"])
def test_list_over_facts_with_digit_like_characters(load: Load, name: str,
                                                    want: list[str]) -> None:
    """Only ASCII digits count as numbers in the natural order; other digit-like characters
    are text (sorted by code point), never a crash."""
    members = [member("M1", name=name), member("M2", name="a")]
    expr = "list(x.name for x in Member)"
    got = evaluate(load, expr, "list[text]", data=facts(members=members))
    back = evaluate(load, expr, "list[text]", data=facts(members=members[::-1]))
    assert got == back == {"M1": want, "M2": want}


def test_list_over_a_list_keeps_its_order(load: Load) -> None:
    data = facts(members=[member("M1", tags=["z", "a", "m"])])
    assert value(load, "list(t for t in m.tags)", "list[text]", data=data) == ["z", "a", "m"]


def test_aggregates_over_conclusions(load: Load) -> None:
    policy = load(
        "conclusion worked(hours: number) about Member\n"
        "conclusion summary(members: number, total: number, names: list[text]) about Team\n"
        "rule sum_up { for t in Team\n"
        "  let mine = count(w in worked where w.subject.team_id == t.id)\n"
        "  when mine > 0\n"
        "  emit summary(members: mine,\n"
        "    total: sum(w.hours for w in worked where w.subject.team_id == t.id),\n"
        "    names: list(w.subject.name for w in worked where w.subject.team_id == t.id)) }\n"
        "rule work { for m in Member\n"
        "  let h = sum(k.hours for k in Ticket where k.member_id == m.id)\n"
        "  when h > 0\n"
        "  emit worked(hours: h) }\n")
    decision = decide(policy, TEAM_FACTS)
    assert [(c.subject.id, dict(c.values)) for c in decision.named("summary")] == [
        ("T1", {"members": "1", "total": "3.5", "names": ["member M1"]}),
        ("T2", {"members": "1", "total": "4", "names": ["member M2"]}),
    ]


# ---- joins ---------------------------------------------------------------------------------


def test_join_by_id(load: Load) -> None:
    assert evaluate(load, "Team[m.team_id].budget", "number", data=TEAM_FACTS) == {
        "M1": "1000", "M2": "5", "M3": "1000"}


def test_join_from_a_fact_to_another(load: Load) -> None:
    policy = load("conclusion owner_level(level: Level) about Ticket\n"
                  "rule r { for k in Ticket emit owner_level(level: Member[k.member_id].level) }\n")
    decision = decide(policy, TEAM_FACTS)
    assert {c.subject.id: c.values["level"] for c in decision} == {
        "K1": "junior", "K2": "junior", "K3": "lead"}


def test_join_that_finds_nothing_is_null(load: Load) -> None:
    assert value(load, 'Team["T9"] is null') is True
    assert value(load, 'Member[m.team_id] is null', data=TEAM_FACTS) is True


def test_emit_about_a_joined_fact(load: Load) -> None:
    policy = load("conclusion has_ticket(kind: Kind) about Member\n"
                  "rule r { for k in Ticket emit has_ticket(kind: k.kind) "
                  "about Member[k.member_id] }\n")
    decision = decide(policy, TEAM_FACTS)
    assert [(c.subject.type, c.subject.id, c.values["kind"]) for c in decision] == [
        ("member", "M1", "bug"), ("member", "M1", "feature"), ("member", "M2", "bug")]


def test_emit_about_a_missing_fact_is_an_eval_error(load: Load) -> None:
    policy = load("conclusion x() about Team\n"
                  'rule r { for m in Member emit x() about Team["nope"] }\n')
    with pytest.raises(PolicyEvalError) as info:
        decide(policy, BARE)
    diag = info.value.diagnostic
    assert diag.code == "eval.no-subject"
    assert diag.message == "rule r: the subject of x is null"
    assert diag.hint == "check that the 'about' lookup finds a record"
    assert diag.span is not None
    assert diag.span.line == 3


@pytest.mark.parametrize("expr", ["m.score / 2", "if m.active then 2.5 else 1"],
                         ids=["computed", "branch"])
def test_int_value_that_is_not_whole_is_an_eval_error(load: Load, expr: str) -> None:
    """A value known only when deciding is checked then; a constant is checked at load."""
    policy = load("conclusion half(v: int) about Member\n"
                  f"rule r {{ for m in Member emit half(v: {expr}) }}\n")
    with pytest.raises(PolicyEvalError) as info:
        decide(policy, facts(members=[member("M1", score="5")]))
    diag = info.value.diagnostic
    assert diag.code == "eval.bad-value"
    assert diag.message == "rule r: half: 2.5 is not a whole number"
    assert diag.hint == "round the value, or declare the value as decimal(2)"
    assert diag.span is not None
    assert diag.span.text(policy.sources["policy.kp"]) == f"emit half(v: {expr})"


@pytest.mark.parametrize(("pre", "expr", "shown"), [
    ("", "2.5", "2.5"), ("", "-2.5", "-2.5"), ("", "5 / 2", "2.5"), ("param p = 2.5\n", "p", "2.5"),
], ids=["constant", "negative", "folded", "parameter"])
def test_int_constant_that_is_not_whole_is_a_check_error(load_fails: Any, pre: str, expr: str,
                                                         shown: str) -> None:
    error, source = load_fails(pre + "conclusion half(v: int) about Member\n"
                               f"rule r {{ for m in Member emit half(v: {expr}) }}\n")
    diag = only(error)
    assert diag.code == "check.type-mismatch"
    assert diag.message == f"value 'v' of half is declared int, but {shown} is not a whole number"
    assert diag.hint is None
    assert diag.span is not None
    assert diag.span.text(source) == f"v: {expr}"


def test_int_value_that_is_whole_is_reported_as_an_int(load: Load) -> None:
    assert value(load, "m.score / 2", "int", data=facts(members=[member("M1", score="8")])) == 4


def test_a_runtime_failure_names_the_rule(load: Load) -> None:
    with pytest.raises(PolicyEvalError) as info:
        evaluate(load, "period_year(m.name)", "number")
    diag = info.value.diagnostic
    assert diag.code == "eval.failed"
    assert diag.message.startswith("rule r failed: ValueError")
    assert diag.span is not None
    assert diag.span.line == 3
    copy = pickle.loads(pickle.dumps(info.value))
    assert copy.diagnostic == diag


# ---- derived conclusions and rule order --------------------------------------------------

CHAIN = {
    "policy.kp": HEADER + 'include "c.kp"\ninclude "b.kp"\ninclude "a.kp"\n',
    # The consumer comes first in file order, the producer last.
    "c.kp": "rule third { for b in busy when b.tickets >= 2 emit big(tickets: b.tickets) }\n"
            "conclusion big(tickets: number) about Member\n",
    "b.kp": "rule second { for w in worker\n"
            "  let n = count(k in Ticket where k.member_id == w.subject.id)\n"
            "  emit busy(tickets: n) }\n"
            "conclusion busy(tickets: number) about Member\n",
    "a.kp": "conclusion worker() about Member\n"
            "rule first { for m in Member when m.active emit worker() }\n",
}


def test_derived_conclusions_feed_rules_in_any_file_order(tmp_path: Path) -> None:
    policy = kam_policy.load(write_policy(tmp_path, CHAIN), schema=SCHEMA)
    assert [r.id for r in policy.rules] == ["first", "second", "third"]
    data = dict(TEAM_FACTS, members=[*TEAM_FACTS["members"][:2],
                                     member("M3", level="senior", active=False)])
    decision = decide(policy, data)
    assert [(c.name, c.subject.id) for c in decision] == [
        ("big", "M1"), ("busy", "M1"), ("worker", "M1"),
        ("busy", "M2"), ("worker", "M2")]
    assert decision.fired == ("first", "second", "third")
    big = decision.named("big")[0]
    assert (big.rule_id, big.file, big.line) == ("third", "c.kp", 1)


def test_a_rule_over_a_conclusion_emits_about_its_subject(load: Load) -> None:
    policy = load("conclusion a(n: number) about Member\nconclusion b(n: number) about Member\n"
                  "rule second { for x in a emit b(n: x.n * 2) }\n"
                  "rule first { for m in Member emit a(n: 21) }\n")
    decision = decide(policy, facts(members=[member("M1"), member("M2")]))
    assert [(c.subject.id, c.values["n"]) for c in decision.named("b")] == [
        ("M1", "42"), ("M2", "42")]


# ---- let, if, because ----------------------------------------------------------------------


def test_let_bindings_are_visible_to_later_clauses(load: Load) -> None:
    policy = load("conclusion out(total: number) about Member\n"
                  "rule r { for m in Member\n"
                  "  let base = m.score ?? 0\n"
                  "  let doubled = base * 2\n"
                  "  when doubled > 10\n"
                  "  let total = doubled + 1\n"
                  "  emit out(total: total) }\n")
    decision = decide(policy, facts(members=[member("M1", score="3"), member("M2", score="6")]))
    assert values_of(decision, "out") == [{"total": "13"}]


@pytest.mark.parametrize(("level", "want"), [("junior", "small"), ("senior", "big"),
                                             ("lead", "big")])
def test_if_then_else(load: Load, level: str, want: str) -> None:
    data = facts(members=[member("M1", level=level)])
    assert value(load, 'if m.level >= senior then "big" else "small"', "text", data=data) == want


def test_because_interpolates_bound_values(load: Load) -> None:
    policy = load(
        'param limit = 5\n'
        "conclusion out() about Member\n"
        "rule r { for m in Member\n"
        "  let third = m.score / 3\n"
        "  let tags = m.tags\n"
        "  let missing = m.joined_on\n"
        "  emit out()\n"
        '  because "{m.name}: {third} of {m.score} (limit {limit}), {tags}, level {m.level}, '
        'active {m.active}, joined {missing}, at {now}, {{literal}}" }\n')
    data = facts(members=[member("M1", name="李雷", score="2", tags=["x", "y"])])
    (conclusion,) = decide(policy, data)
    assert conclusion.reason == (
        "李雷: 0.67 of 2 (limit 5), [x, y], level junior, active true, joined null, "
        "at 2026-03-10T12:00:00+00:00, {literal}")


def test_rule_without_because_has_no_reason(load: Load) -> None:
    policy = load("conclusion out() about Member\nrule r { for m in Member emit out() }\n")
    (conclusion,) = decide(policy, BARE)
    assert conclusion.reason is None


def test_because_shows_durations_as_written(load: Load) -> None:
    policy = load("param limit = 4h\nconclusion out() about Member\n"
                  "rule r { for m in Member let since = now - m.joined_on emit out() "
                  'because "{since} (limit {limit})" }\n')
    (conclusion,) = decide(policy, JOINED)
    assert conclusion.reason == "9d (limit 4h)"


# ---- decisions -----------------------------------------------------------------------------


def test_conclusions_are_sorted_by_subject_in_natural_order(load: Load) -> None:
    policy = load("conclusion out() about Member\nrule r { for m in Member emit out() }\n")
    ids = ["M10", "M2", "M1"]
    decision = decide(policy, facts(members=[member(i) for i in ids]))
    assert [c.subject.id for c in decision] == ["M1", "M2", "M10"]
    assert [c.subject.id for c in decision.about("member", "M10")] == ["M10"]


def test_decision_names_the_policy(load: Load) -> None:
    policy = load("conclusion out() about Member\nrule r { for m in Member emit out() }\n")
    decision = policy.decide(BARE, NOW, decision_id="d-1")
    assert (decision.decision_id, decision.at) == ("d-1", NOW.isoformat())
    assert (decision.policy.name, decision.policy.version) == ("Test policy", "1.0")
    assert decision.policy.sha256 == policy.digest


# ---- side by side, threads, pickling -------------------------------------------------------

SIDE = ('param limit = {limit}\n'
        "conclusion over(by: number) about Member\n"
        "rule r {{ for m in Member when m.score > limit emit over(by: m.score - limit) }}\n")


def test_two_policies_side_by_side_do_not_interfere(tmp_path: Path) -> None:
    low = load_text(tmp_path / "low", SIDE.format(limit=10))
    high = load_text(tmp_path / "high", SIDE.format(limit=50))
    data = facts(members=[member("M1", score="30"), member("M2", score="60")])
    assert values_of(decide(low, data), "over") == [{"by": "20"}, {"by": "50"}]
    assert values_of(decide(high, data), "over") == [{"by": "10"}]
    assert values_of(decide(low, data), "over") == [{"by": "20"}, {"by": "50"}]
    assert low.digest != high.digest
    assert load_text(tmp_path / "again", SIDE.format(limit=10)).digest == low.digest


def test_deciding_from_eight_threads_equals_deciding_in_turn(load: Load) -> None:
    policy = load(
        "conclusion load_of(tickets: number, hours: number, kinds: list[text]) about Member\n"
        "rule r { for m in Member\n"
        "  let mine = count(k in Ticket where k.member_id == m.id)\n"
        "  when mine > 0\n"
        "  emit load_of(tickets: mine,\n"
        "    hours: sum(k.hours for k in Ticket where k.member_id == m.id) / 3,\n"
        "    kinds: list(text(k.kind) for k in Ticket where k.member_id == m.id)) }\n")

    def data_set(seed: int) -> dict[str, Any]:
        members = [member(f"M{i}") for i in range(seed % 3 + 1, seed % 3 + 6)]
        tickets = [ticket(f"K{seed}-{j}", member_id=members[j % len(members)]["id"],
                          kind=("bug", "feature", "chore")[j % 3], hours=str(j + seed))
                   for j in range(seed * 3 + 1)]
        return facts(members=members, tickets=tickets)

    sets = [data_set(seed) for seed in range(8)]
    expected = [decide(policy, data).conclusions for data in sets]
    start = threading.Barrier(8)

    def run(index: int) -> list[Any]:
        start.wait()
        return [decide(policy, sets[index]).conclusions for _ in range(25)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run, range(8)))
    for index, runs in enumerate(results):
        assert all(conclusions == expected[index] for conclusions in runs)
    assert len({len(e) for e in expected}) > 1  # the data sets really differ


def test_compiled_policy_pickles(load: Load) -> None:
    policy = load(SIDE.format(limit=10), tiny_schema())
    copy = pickle.loads(pickle.dumps(policy))
    data = facts(members=[member("M1", score="30"), member("M2", score="5")])
    assert decide(copy, data).conclusions == decide(policy, data).conclusions
    assert copy.digest == policy.digest


def test_pickled_policy_keeps_its_includes_and_overrides(tmp_path: Path) -> None:
    files = {"policy.kp": HEADER + 'include "rules/side.kp"\n',
             "rules/side.kp": SIDE.format(limit=10) + "param span = 4h\nparam w = {a: 1.5}\n"}
    policy = kam_policy.load(write_policy(tmp_path, files), schema=tiny_schema(),
                             params={"limit": 25, "span": "90m", "w": {"b": 2}})
    copy = pickle.loads(pickle.dumps(policy))
    assert copy.digest == policy.digest
    assert {n: p.value for n, p in copy.params.items()} == {
        "limit": 25, "span": 90 * 60_000_000, "w": {"a": Decimal("1.5"), "b": 2}}
    data = facts(members=[member("M1", score="30"), member("M2", score="20")])
    assert values_of(decide(copy, data), "over") == [{"by": "5"}]


def test_policy_pickles_after_deciding(load: Load) -> None:
    policy = load(SIDE.format(limit=10), tiny_schema())
    data = facts(members=[member("M1", score="30"), member("M2", score="5")])
    first = decide(policy, data)
    copy = pickle.loads(pickle.dumps(policy))
    assert decide(copy, data).conclusions == first.conclusions
    assert copy.digest == policy.digest
    pickle.dumps(copy)  # and again, after the copy has decided too


# ---- parameters ------------------------------------------------------------------------------

PARAMS = ('param limit = 10\n'
          "param window = 4h\n"
          "param weights = {a: 1, b: 2, c: 3}\n"
          "param kinds = [bug, feature]\n"
          'param label = "x"\n'
          "param on = true\n"
          "param lvl = senior\n"
          "conclusion p(limit: number, window: duration, a: number, b: number, c: number, "
          "kinds: list[Kind], label: text, on: bool, lvl: Level) about Member\n"
          "rule r { for m in Member emit p(limit: limit, window: window, a: weights.a, "
          "b: weights.b, c: weights.c, kinds: kinds, label: label, on: on, lvl: lvl) }\n")
DEFAULTS = {"limit": "10", "window": "4h", "a": "1", "b": "2", "c": "3",
            "kinds": ["bug", "feature"], "label": "x", "on": True, "lvl": "senior"}


def params_policy(tmp_path: Path, params: Any) -> Policy:
    return load_text(tmp_path / "policy", PARAMS, params=params)


def emitted(policy: Policy) -> dict[str, Any]:
    (values,) = values_of(decide(policy, BARE), "p")
    return values


def test_declared_defaults(tmp_path: Path) -> None:
    policy = params_policy(tmp_path, None)
    assert emitted(policy) == DEFAULTS
    assert {p.origin for p in policy.params.values()} == {"default"}


def test_overrides_from_a_dict_merge_maps_key_by_key(tmp_path: Path) -> None:
    policy = params_policy(tmp_path, {
        "limit": 5, "window": "90m", "weights": {"b": 20}, "kinds": ["chore"],
        "label": "y", "on": False, "lvl": "lead"})
    assert emitted(policy) == DEFAULTS | {
        "limit": "5", "window": "1h30m", "b": "20", "kinds": ["chore"], "label": "y",
        "on": False, "lvl": "lead"}
    assert policy.params["limit"].origin == "<params>"
    assert policy.params["weights"].value == {"a": 1, "b": 20, "c": 3}
    assert policy.digest != params_policy(tmp_path / "plain", None).digest


def test_overrides_from_a_toml_file(tmp_path: Path) -> None:
    toml = tmp_path / "params.toml"
    toml.write_text('limit = 7.5\nwindow = "30d"\n\n[weights]\nc = 30\n', encoding="utf-8")
    policy = params_policy(tmp_path, toml)
    assert emitted(policy) == DEFAULTS | {"limit": "7.5", "window": "30d", "c": "30"}
    assert policy.params["limit"].origin == str(toml)
    assert policy.params["label"].origin == "default"


def test_dotted_toml_keys_merge_too(tmp_path: Path) -> None:
    toml = tmp_path / "params.toml"
    toml.write_text("weights.a = 100\n", encoding="utf-8")
    assert emitted(params_policy(tmp_path, toml)) == DEFAULTS | {"a": "100"}


def test_unknown_parameter_in_toml_names_its_line(tmp_path: Path) -> None:
    toml = tmp_path / "params.toml"
    toml.write_text("limit = 7\nwindow = \"1h\"\nlimt = 8\n", encoding="utf-8")
    with pytest.raises(ParameterError) as info:
        params_policy(tmp_path, toml)
    diag = only(info.value)
    assert diag.code == "params.unknown"
    assert diag.message == "unknown parameter 'limt'"
    assert diag.hint == "did you mean 'limit'?"
    assert diag.span is not None
    assert (diag.span.source, diag.span.line, diag.span.column) == (str(toml), 3, 1)
    assert info.value.rendered.splitlines()[:3] == [
        f"{toml}:3:1: error[params.unknown] unknown parameter 'limt'",
        "    3 | limt = 8",
        "      | ^^^^",
    ]


@pytest.mark.parametrize("before", ["limit = 7\n\n", "limit = 7\n\n  \n\n", "\n\n"],
                         ids=["one-blank", "blank-and-spaces", "leading-blanks"])
def test_line_of_a_key_after_a_blank_line(tmp_path: Path, before: str) -> None:
    toml = tmp_path / "params.toml"
    toml.write_text(before + "limt = 8\n", encoding="utf-8")
    with pytest.raises(ParameterError) as info:
        params_policy(tmp_path, toml)
    span = only(info.value).span
    assert span is not None
    line = before.count("\n") + 1
    assert (span.line, span.column) == (line, 1)
    assert info.value.rendered.splitlines()[1] == f"{line:>5} | limt = 8"


def test_unknown_parameter_in_a_dict(tmp_path: Path) -> None:
    with pytest.raises(ParameterError) as info:
        params_policy(tmp_path, {"limt": 5})
    diag = only(info.value)
    assert (diag.code, diag.span, diag.hint) == ("params.unknown", None, "did you mean 'limit'?")


@pytest.mark.parametrize(("override", "message"), [
    ({"limit": "x"}, "parameter 'limit': expected a number, got 'x'"),
    ({"limit": True}, "parameter 'limit': expected a number, got a boolean"),
    ({"limit": "nan"}, "parameter 'limit': expected a finite number, got 'nan'"),
    ({"window": 5}, "parameter 'window': expected a duration such as \"4h\" or \"30d\", got 5"),
    ({"weights": 5}, "parameter 'weights': expected a table of values, got 5"),
    ({"weights": {"a": "x"}}, "parameter 'weights': expected a number, got 'x'"),
    ({"kinds": "bug"}, "parameter 'kinds': expected a list, got the text \"bug\""),
    ({"label": 3}, "parameter 'label': expected a text, got 3"),
    ({"on": "yes"}, "parameter 'on': expected true or false, got the text \"yes\""),
])
def test_wrong_type_of_override(tmp_path: Path, override: dict[str, Any], message: str) -> None:
    with pytest.raises(ParameterError) as info:
        params_policy(tmp_path, override)
    diag = only(info.value)
    assert diag.code == "params.type"
    assert diag.message == message


def test_wrong_type_in_toml_names_its_line(tmp_path: Path) -> None:
    toml = tmp_path / "params.toml"
    toml.write_text('label = "ok"\nwindow = 5\n', encoding="utf-8")
    with pytest.raises(ParameterError) as info:
        params_policy(tmp_path, toml)
    diag = only(info.value)
    assert diag.code == "params.type"
    assert diag.span is not None
    assert (diag.span.line, diag.span.column) == (2, 1)


def test_every_bad_override_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ParameterError) as info:
        params_policy(tmp_path, {"limt": 1, "window": 5, "on": "no"})
    assert sorted(d.code for d in info.value.diagnostics) == [
        "params.type", "params.type", "params.unknown"]


def test_malformed_toml(tmp_path: Path) -> None:
    toml = tmp_path / "params.toml"
    toml.write_text("limit = \n", encoding="utf-8")
    with pytest.raises(ParameterError) as info:
        params_policy(tmp_path, toml)
    diag = only(info.value)
    assert diag.code == "params.syntax"
    assert str(toml) in diag.message
    assert "line 1" in diag.message


def test_missing_parameters_file(tmp_path: Path) -> None:
    with pytest.raises(ParameterError) as info:
        params_policy(tmp_path, tmp_path / "nope.toml")
    diag = only(info.value)
    assert diag.code == "params.unreadable"
    assert "nope.toml" in diag.message


def test_parameter_that_looks_like_code_is_just_text(tmp_path: Path) -> None:
    code = "__import__('os').system('touch pwned')"
    policy = params_policy(tmp_path, {"label": code})
    assert emitted(policy)["label"] == code
    assert not (Path.cwd() / "pwned").exists()
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(("override", "message", "hint"), [
    ({"lvl": "nope"}, "parameter 'lvl': 'nope' is not a Level (junior, senior, lead)",
     None),
    ({"lvl": "senor"}, "parameter 'lvl': 'senor' is not a Level (junior, senior, lead)",
     "did you mean 'senior'?"),
    ({"kinds": ["bug", "feture"]},
     "parameter 'kinds': 'feture' is not a Kind (bug, feature, chore)",
     "did you mean 'feature'?"),
], ids=["member", "misspelt-member", "list-item"])
def test_enum_override_outside_the_enum_is_a_parameter_error(
        tmp_path: Path, override: dict[str, Any], message: str, hint: str | None) -> None:
    with pytest.raises(ParameterError) as info:
        params_policy(tmp_path, override)
    diag = only(info.value)
    assert (diag.code, diag.message, diag.hint) == ("params.type", message, hint)


def test_enum_override_in_toml_names_the_file_the_key_and_the_members(tmp_path: Path) -> None:
    toml = tmp_path / "params.toml"
    toml.write_text('limit = 7\nlvl = "nope"\n', encoding="utf-8")
    with pytest.raises(ParameterError) as info:
        params_policy(tmp_path, toml)
    assert info.value.rendered.splitlines()[:3] == [
        f"{toml}:2:1: error[params.type] parameter 'lvl': 'nope' is not a Level "
        "(junior, senior, lead)",
        "    2 | lvl = \"nope\"",
        "      | ^^^",
    ]


ENUM_MAP = ("param need = {bug: senior, feature: lead}\n"
            "param nested = {bug: {feature: junior}}\n"
            "conclusion n(v: Level) about Member\n"
            "rule r { for m in Member emit n(v: need.bug ?? nested.bug.feature) }\n")


@pytest.mark.parametrize(("override", "message"), [
    ({"need": {"feature": "boss"}}, "parameter 'need': 'boss' is not a Level (junior, senior, "
     "lead)"),
    ({"nested": {"bug": {"chore": "boss"}}}, "parameter 'nested': 'boss' is not a Level (junior, "
     "senior, lead)"),
], ids=["map", "nested-map"])
def test_enum_values_of_a_map_override_are_members(tmp_path: Path, override: dict[str, Any],
                                                   message: str) -> None:
    with pytest.raises(ParameterError) as info:
        load_text(tmp_path / "policy", ENUM_MAP, params=override)
    assert only(info.value).message == message


def test_enum_map_override_by_a_table_header_names_its_line(tmp_path: Path) -> None:
    toml = tmp_path / "params.toml"
    toml.write_text('[nested.bug]\nchore = "boss"\n', encoding="utf-8")
    with pytest.raises(ParameterError) as info:
        load_text(tmp_path / "policy", ENUM_MAP, params=toml)
    span = only(info.value).span
    assert span is not None
    assert (span.source, span.line, span.column) == (str(toml), 1, 1)


def test_enum_override_inside_the_enum_is_used(tmp_path: Path) -> None:
    policy = load_text(tmp_path / "policy", ENUM_MAP, params={"need": {"bug": "lead"}})
    assert values_of(decide(policy, BARE), "n") == [{"v": "lead"}]


def test_a_moment_moved_off_the_calendar_is_a_clear_error(load: Load) -> None:
    with pytest.raises(PolicyEvalError) as raised:
        value(load, "now + hours(123456789012345678901234567890) > now")
    message = str(raised.value)
    assert "falls outside the calendar (years 1 to 9999)" in message
    assert "OverflowError" not in message and "C int" not in message
