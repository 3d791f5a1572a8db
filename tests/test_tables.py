"""Decision tables: hit policies, cells, and table shapes.

Each test declares one table, calls it from a rule over ``Member`` and reads what the rule
emitted for each member, so the table is exercised exactly as a rule file uses it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from conftest import HEADER, decide, facts, member, only

from kam_policy import Policy, PolicyCheckError, PolicyError, PolicyEvalError

Load = Callable[..., Policy]

# Scores 10, 30, 50 and none.
MEMBERS = [member("M1", score="10"), member("M2", score="30"), member("M3", score="50"),
           member("M4")]


def table(hit: str, rows: list[str], *, inputs: str = "s: number",
          outputs: str = "v: text") -> str:
    return f"table t {{\n  hit {hit}\n  in {inputs}\n  out {outputs}\n" + "".join(
        f"  {row}\n" for row in rows) + "}\n"


def results(load: Load, table_text: str, *, call: str = "t(m.score)", out_type: str = "text",
            members: list[dict[str, Any]] | None = None, pre: str = "",
            params: Any = None) -> dict[str, Any]:
    """What ``call`` gives for each member (subject id -> JSON value)."""
    policy = load(pre + table_text + f"conclusion out(v: {out_type}?) about Member\n"
                  f"rule r {{ for m in Member emit out(v: {call}) }}\n", params=params)
    decision = decide(policy, facts(members=MEMBERS if members is None else members))
    return {c.subject.id: c.values["v"] for c in decision.named("out")}


# ---- FIRST -------------------------------------------------------------------------------


def test_first_takes_the_first_matching_row(load: Load) -> None:
    rows = ['| < 20  | "low"  |', '| >= 20 | "high" |', '| >= 40 | "very" |']
    assert results(load, table("first", rows)) == {
        "M1": "low", "M2": "high", "M3": "high", "M4": None}


def test_first_with_a_catch_all_row(load: Load) -> None:
    rows = ['| >= 40 | "very" |', '| - | "other" |']
    assert results(load, table("first", rows)) == {
        "M1": "other", "M2": "other", "M3": "very", "M4": "other"}


# ---- UNIQUE ------------------------------------------------------------------------------


def test_unique_with_exclusive_rows(load: Load) -> None:
    rows = ['| < 20 | "low" |', '| >= 20 | "high" |']
    assert results(load, table("unique", rows)) == {
        "M1": "low", "M2": "high", "M3": "high", "M4": None}


def test_unique_with_two_matching_rows_names_both(load: Load) -> None:
    text = table("unique", ['| < 20 | "low" |', '| >= 20 | "high" |', '| >= 40 | "very" |'])
    with pytest.raises(PolicyEvalError) as info:
        results(load, text, members=[member("M3", score="50")])
    diag = info.value.diagnostic
    assert diag.code == "eval.table-hit"
    assert "table 't' (hit unique) matched more than one row" in diag.message
    assert "row 2 (policy.kp:7:3) and row 3 (policy.kp:8:3)" in diag.message
    assert "for s=50" in diag.message
    assert diag.hint == "make the rows exclusive, or declare another hit policy"
    assert diag.span is not None
    assert (diag.span.line, diag.span.column) == (7, 3)  # the first of the rows
    assert "error[eval.table-hit]" in str(info.value)


# ---- ANY ---------------------------------------------------------------------------------


def test_any_accepts_overlapping_rows_that_agree(load: Load) -> None:
    rows = ['| < 40 | "small" |', '| < 20 | "small" |', '| >= 40 | "big" |']
    assert results(load, table("any", rows)) == {
        "M1": "small", "M2": "small", "M3": "big", "M4": None}


def test_any_rejects_overlapping_rows_that_disagree(load: Load) -> None:
    text = table("any", ['| < 40 | "small" |', '| < 20 | "tiny" |'])
    with pytest.raises(PolicyEvalError) as info:
        results(load, text, members=[member("M1", score="10")])
    diag = info.value.diagnostic
    assert diag.code == "eval.table-hit"
    assert "(hit any) matched rows with different outputs" in diag.message
    assert "row 1" in diag.message
    assert "row 2" in diag.message


# ---- PRIORITY ----------------------------------------------------------------------------

PRIORITY_ENUM = "enum Pri = low < mid < high\n"


def test_priority_picks_the_highest_output_whatever_the_row_order(load: Load) -> None:
    rows = ["| < 20 | mid |", "| - | low |", "| < 40 | high |"]
    text = table("priority", rows, outputs="v: Pri")
    assert results(load, text, out_type="Pri", pre=PRIORITY_ENUM) == {
        "M1": "high", "M2": "high", "M3": "low", "M4": "low"}


def test_priority_over_an_ordered_enum_of_the_fact_models(load: Load) -> None:
    rows = ["| < 20 | senior |", "| - | junior |", "| < 40 | lead |", "| < 60 | senior |"]
    text = table("priority", rows, outputs="v: Level")
    assert results(load, text, out_type="Level") == {
        "M1": "lead", "M2": "lead", "M3": "senior", "M4": "junior"}


def test_priority_with_no_match_is_null(load: Load) -> None:
    text = table("priority", ["| > 100 | high |"], outputs="v: Pri")
    assert set(results(load, text, out_type="Pri", pre=PRIORITY_ENUM).values()) == {None}


def test_priority_needs_an_ordered_enum(load: Load) -> None:
    with pytest.raises(PolicyCheckError) as info:
        results(load, table("priority", ["| - | bug |"], outputs="v: Kind"), out_type="Kind")
    assert only(info.value).code == "check.table-priority"


# ---- COLLECT and RULE ORDER --------------------------------------------------------------

OVERLAPPING = ['| < 20 | "z-low" |', '| >= 20 | "a-high" |', '| >= 40 | "m-very" |',
               '| - | "b-any" |']


@pytest.mark.parametrize("hit", ["collect", "rule order"])
def test_collect_lists_every_match_in_row_order(load: Load, hit: str) -> None:
    assert results(load, table(hit, OVERLAPPING), out_type="list[text]") == {
        "M1": ["z-low", "b-any"],
        "M2": ["a-high", "b-any"],
        "M3": ["a-high", "m-very", "b-any"],
        "M4": ["b-any"],
    }


@pytest.mark.parametrize("hit", ["collect", "rule order"])
def test_collect_without_a_match_is_an_empty_list(load: Load, hit: str) -> None:
    text = table(hit, ['| > 100 | "x" |'])
    assert set(map(tuple, results(load, text, out_type="list[text]").values())) == {()}


NUMBERS = ["| < 20 | 1 |", "| < 40 | 2.5 |", "| >= 40 | 0.1 |", "| - | 4 |"]


@pytest.mark.parametrize(("aggregator", "want"), [
    ("sum", {"M1": "7.5", "M2": "6.5", "M3": "4.1", "M4": "4"}),
    ("count", {"M1": "3", "M2": "2", "M3": "2", "M4": "1"}),
    ("min", {"M1": "1", "M2": "2.5", "M3": "0.1", "M4": "4"}),
    ("max", {"M1": "4", "M2": "4", "M3": "4", "M4": "4"}),
])
def test_collect_with_an_aggregator(load: Load, aggregator: str, want: dict[str, str]) -> None:
    text = table(f"collect {aggregator}", NUMBERS, outputs="v: number")
    assert results(load, text, out_type="number") == want


@pytest.mark.parametrize(("aggregator", "want"), [
    ("sum", "0"), ("count", "0"), ("min", None), ("max", None)])
def test_collect_aggregators_without_a_match(load: Load, aggregator: str,
                                              want: str | None) -> None:
    text = table(f"collect {aggregator}", ["| > 100 | 1 |"], outputs="v: number")
    assert set(results(load, text, out_type="number").values()) == {want}


def test_collect_sum_is_exact(load: Load) -> None:
    text = table("collect sum", ["| - | 0.1 |", "| - | 0.2 |"], outputs="v: number")
    assert results(load, text, call="t(m.score) == 0.3", out_type="bool",
                   members=[member("M1")]) == {"M1": True}


# ---- cells -------------------------------------------------------------------------------


@pytest.mark.parametrize(("cell", "matching"), [
    ("-", {"M1", "M2", "M3", "M4"}),
    ("30", {"M2"}),
    ("== 30", {"M2"}),
    ("< 30", {"M1"}),
    ("<= 30", {"M1", "M2"}),
    ("> 30", {"M3"}),
    (">= 30", {"M2", "M3"}),
    ("!= 30", {"M1", "M3", "M4"}),
    ("in [10, 50]", {"M1", "M3"}),
    ("not in [10, 50]", {"M2", "M4"}),
    ("15 + 15", {"M2"}),
], ids=lambda value: value if isinstance(value, str) else None)
def test_number_cells(load: Load, cell: str, matching: set[str]) -> None:
    """A null input (M4) is in no list, so it matches 'not in' as it matches '!=' (and '-');
    it matches no other test."""
    text = table("first", [f'| {cell} | "yes" |'])
    got = results(load, text)
    assert {k for k, v in got.items() if v == "yes"} == matching


LEVEL_MEMBERS = [member("M1", level="junior", active=True),
                 member("M2", level="senior", active=False),
                 member("M3", level="lead", active=False),
                 member("M4", level="lead", active=True)]


def test_enum_bool_and_membership_cells(load: Load) -> None:
    rows = [
        '| in [junior, senior] | true  | "a" |',
        '| not in [junior]     | false | "b" |',
        '| lead                | -     | "c" |',
        '| -                   | -     | "d" |',
    ]
    text = table("first", rows, inputs="l: Level, act: bool")
    assert results(load, text, call="t(m.level, m.active)", members=LEVEL_MEMBERS) == {
        "M1": "a", "M2": "b", "M3": "b", "M4": "c"}


def test_enum_ordering_cells(load: Load) -> None:
    text = table("first", ['| >= senior | "up" |', '| - | "down" |'], inputs="l: Level")
    assert results(load, text, call="t(m.level)", members=LEVEL_MEMBERS) == {
        "M1": "down", "M2": "up", "M3": "up", "M4": "up"}


def test_text_cells(load: Load) -> None:
    members = [member("M1", name="Ann"), member("M2", name="Bob"), member("M3", name="Cy")]
    rows = ['| "Ann" | 1 |', '| in ["Bob", "Dee"] | 2 |', '| - | 3 |']
    text = table("first", rows, inputs="who: text", outputs="v: number")
    assert results(load, text, call="t(m.name)", out_type="number", members=members) == {
        "M1": "1", "M2": "2", "M3": "3"}


def test_parameters_in_cells_and_outputs(load: Load) -> None:
    pre = 'param limit = 40\nparam kinds = [10, 30]\nparam label = "in"\n'
    rows = ["| >= limit | label |", '| in kinds | "listed" |', '| - | "other" |']
    text = table("first", rows)
    assert results(load, text, pre=pre) == {
        "M1": "listed", "M2": "listed", "M3": "in", "M4": "other"}
    assert results(load, text, pre=pre, params={"limit": 5, "label": "over"}) == {
        "M1": "over", "M2": "over", "M3": "over", "M4": "other"}


def test_outputs_may_compute_from_the_inputs(load: Load) -> None:
    text = table("first", ["| >= 20 | s * 2 |", "| - | 0 - s |"], outputs="v: number")
    assert results(load, text, out_type="number") == {
        "M1": "-10", "M2": "60", "M3": "100", "M4": None}


def test_nullable_input_reaches_the_cells(load: Load) -> None:
    text = table("first", ['| null | "none" |', '| - | "some" |'], inputs="s: number?")
    assert results(load, text) == {"M1": "some", "M2": "some", "M3": "some", "M4": "none"}


# ---- calls -------------------------------------------------------------------------------


def test_named_arguments_in_any_order(load: Load) -> None:
    rows = ['| >= 20 | true | "x" |', '| - | - | "y" |']
    text = table("first", rows, inputs="s: number, act: bool")
    got = results(load, text, call="t(act: m.active, s: m.score)")
    assert got == {"M1": "y", "M2": "x", "M3": "x", "M4": "y"}


def test_table_declared_after_its_use_and_called_from_a_define(load: Load) -> None:
    policy = load(
        "conclusion out(v: text?) about Member\n"
        "rule r { for m in Member emit out(v: label(m)) }\n"
        "define label(x: Member) = t(x.score)\n"
        + table("first", ['| >= 20 | "high" |', '| - | "low" |']))
    decision = decide(policy, facts(members=MEMBERS))
    assert [c.values["v"] for c in decision.named("out")] == ["low", "high", "high", "low"]


def test_table_with_two_outputs(load: Load) -> None:
    text = table("first", ['| >= 20 | "high" | 2 |', '| - | "low" | 1 |'],
                 outputs="v: text, n: number")
    assert results(load, text, call="t(m.score).v") == {
        "M1": "low", "M2": "high", "M3": "high", "M4": "low"}
    assert results(load, text, call="t(m.score).n", out_type="number") == {
        "M1": "1", "M2": "2", "M3": "2", "M4": "1"}


def test_outputs_may_be_named_like_aggregates(load: Load) -> None:
    """An output is always read as 't(...).count', never bare, so it is not a reserved name
    (an input is bound in the cells, and is: see test_check)."""
    text = table("first", ['| >= 20 | 2 | "high" |', '| - | 1 | "low" |'],
                 outputs="count: number, list: text")
    assert results(load, text, call="t(m.score).count", out_type="number") == {
        "M1": "1", "M2": "2", "M3": "2", "M4": "1"}
    assert results(load, text, call="t(m.score).list") == {
        "M1": "low", "M2": "high", "M3": "high", "M4": "low"}


def test_an_output_of_a_table_without_a_match_is_null(load: Load) -> None:
    text = table("first", ['| > 100 | "high" | 2 |'], outputs="v: text, n: number")
    assert set(results(load, text, call="t(m.score).n", out_type="number").values()) == {None}


def test_unknown_output_of_a_table(load: Load) -> None:
    text = table("first", ['| - | "x" | 1 |'], outputs="v: text, n: number")
    with pytest.raises(PolicyCheckError) as info:
        results(load, text, call="t(m.score).nn")
    diag = only(info.value)
    assert diag.code == "check.unknown-field"
    assert diag.message == "table 't' has no output 'nn'"
    assert diag.hint == "did you mean 'n'?"


# ---- shapes ------------------------------------------------------------------------------


@pytest.mark.parametrize(("row", "cells"), [('| 1 |', 1), ('| 1 | "x" | "y" |', 3)])
def test_wrong_row_width(load: Load, row: str, cells: int) -> None:
    text = table("first", ['| - | "ok" |', row])
    with pytest.raises(PolicyCheckError) as info:
        load(text)
    diag = only(info.value)
    assert diag.code == "check.table-shape"
    assert diag.message == (f"row 2 of table 't' has {cells} cells; it needs 2 (1 in, 1 out)")
    assert diag.span is not None
    assert diag.span.line == 7


@pytest.mark.parametrize(("cell", "code", "underline"), [
    ('"senor"', "check.enum-member", '"senor"'),
    ("senor", "check.unknown-name", "senor"),
    ("1", "check.type-mismatch", "1"),
])
def test_output_must_fit_its_declared_type(load: Load, cell: str, code: str,
                                           underline: str) -> None:
    text = table("first", [f"| - | {cell} |"], outputs="v: Level")
    with pytest.raises(PolicyError) as info:
        load(text)
    diag = only(info.value)
    assert diag.code == code
    assert diag.span is not None
    assert diag.span.text(HEADER + text) == underline


def test_enum_cell_outside_the_input_enum(load: Load) -> None:
    text = table("first", ['| in [junior, "senor"] | "x" |'], inputs="l: Level")
    with pytest.raises(PolicyCheckError) as info:
        load(text)
    diag = only(info.value)
    assert diag.code == "check.enum-member"
    assert diag.message == "'senor' is not a Level"


def test_table_calling_itself_is_a_cycle(load: Load) -> None:
    text = table("first", ["| - | t(s) |"], outputs="v: number")
    with pytest.raises(PolicyCheckError) as info:
        load(text)
    diag = only(info.value)
    assert diag.code == "check.cycle"
    assert diag.message == "'t' calls itself (directly or through other functions)"
    assert diag.span is not None
    assert diag.span.text(HEADER + text) == "t(s)"
