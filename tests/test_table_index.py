"""The speed-ups of evaluation change nothing a policy can observe.

- Decision tables with equality cells are looked up through a hash index
  (``engine/table_index.py``): every hit policy gives what a row-by-row scan gives, tracers see
  the same rows, and inputs the index cannot hold fall back to the scan.
- Calls of defined functions are remembered per decision (``engine/memo.py``): by argument
  identity, so equal values that show differently are not confused, and never across decisions.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from conftest import NOW, Level, decide, facts, member, team

from kam_policy import Policy
from kam_policy.engine import table_index
from kam_policy.engine.table_index import keyable
from kam_policy.engine.trace import RecordingTracer

Load = Callable[..., Policy]

# 16 rows in 5 patterns (team+level, level, team, none, team+level+score): indexed.
ROWS = [
    '| -    | -      | < 10  | "early"  |',  # no equality cell: a candidate for every input
    '| "T1" | junior | -     | "a"      |',
    '| -    | senior | -     | "b"      |',
    '| "T2" | -      | >= 50 | "c"      |',  # an equality cell and a residual test
    '| "T1" | junior | -     | "a2"     |',  # repeats row 2: never first, always collected
    '| "T3" | lead   | -     | "f"      |',
    '| "T2" | senior | -     | "g"      |',
    '| "T1" | lead   | 30    | "i"      |',  # a number equality: 30 == 30.0
    '| "T4" | junior | -     | "j"      |',
    '| "T4" | senior | -     | "k"      |',
    '| "T1" | senior | -     | "l"      |',
    '| -    | lead   | -     | "m"      |',
    '| "T3" | -      | -     | "n"      |',
    '| "T2" | junior | -     | "o"      |',
    '| "T3" | junior | -     | "p"      |',
    '| -    | -      | -     | "last"   |',  # catch-all
]

MEMBERS = [
    member(f"M{i}", team_id=team, level=level, **({} if score is None else {"score": score}))
    for i, (team, level, score) in enumerate(
        (team, level, score)
        for team in ("T1", "T2", "T3", "T4", "T5")
        for level in ("junior", "senior", "lead")
        for score in (None, "5", "30", "30.0", "50", "70"))
]


def policy_text(hit: str, out_type: str = "text") -> str:
    rows = "".join(f"  {row}\n" for row in ROWS)
    return (f"table t {{\n  hit {hit}\n  in team: text, level: Level, score: number\n"
            f"  out v: text\n{rows}}}\n"
            f"conclusion out(v: {out_type}?) about Member\n"
            "rule r { for m in Member emit out(v: t(m.team_id, m.level, m.score)) }\n")


DATA = facts(teams=[team(f"T{i}") for i in range(1, 6)], members=MEMBERS)


def outputs(policy: Policy) -> dict[str, Any]:
    decision = decide(policy, DATA)
    return {c.subject.id: c.values["v"] for c in decision.named("out")}


def load_both(load: Load, text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Policy, Policy]:
    """The policy with its table indexed, and the same policy scanning row by row."""
    indexed = load(text)
    assert indexed.tables["t"].index is not None
    with monkeypatch.context() as patch:
        patch.setattr(table_index, "MIN_ROWS", 10**9)
        scanning = load(text)
    assert scanning.tables["t"].index is None
    return indexed, scanning


@pytest.mark.parametrize(("hit", "out_type"), [
    ("first", "text"), ("collect", "list[text]"), ("rule order", "list[text]"),
    ("collect count", "int")])
def test_an_indexed_table_answers_as_a_scan(load: Load, monkeypatch: pytest.MonkeyPatch,
                                            hit: str, out_type: str) -> None:
    indexed, scanning = load_both(load, policy_text(hit, out_type), monkeypatch)
    assert outputs(indexed) == outputs(scanning)


def test_first_takes_the_lowest_row_indexed_or_not(load: Load) -> None:
    found = outputs(load(policy_text("first")))
    # Member i is team T(i // 18 + 1), level (junior, senior, lead)[i // 6 % 3], score
    # (none, 5, 30, 30.0, 50, 70)[i % 6].
    assert found["M1"] == "early"  # T1 junior 5: row 1 (no equality cell) before row 2
    assert found["M0"] == "a"  # T1 junior, no score: row 2, not its repeat in row 5
    assert found["M14"] == "i"  # T1 lead 30: the number equality of row 8
    assert found["M15"] == "i"  # T1 lead 30.0: 30.0 == 30
    assert found["M16"] == "m"  # T1 lead 50: row 8 fails on the score, row 12 (lead) wins
    assert found["M22"] == "c"  # T2 junior 50: team T2 and the residual test >= 50
    assert found["M25"] == "early"  # T2 senior 5
    assert found["M26"] == "b"  # T2 senior 30: row 3 (level only) before row 7
    assert found["M72"] == "last"  # T5 junior, no score: only the catch-all


def test_tracers_see_the_same_rows(load: Load, monkeypatch: pytest.MonkeyPatch) -> None:
    for hit, out_type in (("first", "text"), ("collect", "list[text]")):
        seen = []
        for policy in load_both(load, policy_text(hit, out_type), monkeypatch):
            tracer = RecordingTracer()
            policy.decide(DATA, NOW, tracer=tracer)
            seen.append(tracer.rows_matched)
        assert seen[0] == seen[1]
        assert seen[0]


def test_keyable_values() -> None:
    assert keyable("T1") and keyable(Level.junior) and keyable(None) and keyable(True)
    assert keyable(30) and keyable(Decimal("30.0"))
    assert not keyable(["a"]) and not keyable(("a",)) and not keyable(object())

    class Shouting(str):
        def __eq__(self, other: object) -> bool:
            return str(self).upper() == str(other).upper()

        __hash__ = str.__hash__

    assert not keyable(Shouting("a"))  # its == is not str's: a dict would disagree with it


class Unhashable:
    """A value that refuses to be hashed (like a value that moves with ``now``)."""

    def __hash__(self) -> int:
        raise TypeError("unhashable")


def test_inputs_the_index_cannot_hold_fall_back_to_the_scan() -> None:
    tests: list[list[Any]] = [[None, None]] * 10
    constants = [[(True, f"R{i}"), (False, None)] for i in range(10)]
    index = table_index.build_index(2, tests, constants)
    assert index is not None
    assert list(index.candidates(["R3", "x"]) or ()) == [3]
    assert index.candidates([["R3"], "x"]) is None
    assert index.candidates([Unhashable(), "x"]) is None


class _Hash(str):
    __eq__ = str.__eq__

    def __hash__(self) -> int:
        raise TypeError("no hash today")


def test_a_hash_that_raises_falls_back_to_the_scan() -> None:
    tests: list[list[Any]] = [[None]] * 10
    index = table_index.build_index(1, tests, [[(True, f"R{i}")] for i in range(10)])
    assert index is not None
    assert index.candidates([_Hash("R1")]) is None


def test_tables_with_few_rows_or_many_patterns_are_not_indexed() -> None:
    few = table_index.build_index(1, [[None]] * 3, [[(True, i)] for i in range(3)])
    assert few is None
    patterns = [[(i == j, i) for j in range(10)] for i in range(10)]  # one pattern per row
    assert table_index.build_index(10, [[None] * 10] * 10, patterns) is None


# ---- remembered define calls -------------------------------------------------------------

SHOW = """\
define show(x: number?) = text(x)
conclusion first(v: text?) about Member
conclusion second(v: text?) about Member
rule a { for m in Member emit first(v: show(m.score)) }
rule b { for m in Member emit second(v: show(m.score)) }
"""


def test_remembered_calls_keep_equal_values_apart(load: Load) -> None:
    policy = load(SHOW)
    decision = decide(policy, facts(members=[member("M1", score="1.0"),
                                             member("M2", score="1.00")]))
    shown = {(c.name, c.subject.id): c.values["v"] for c in decision}
    assert shown == {("first", "M1"): "1.0", ("second", "M1"): "1.0",
                     ("first", "M2"): "1.00", ("second", "M2"): "1.00"}


def test_remembered_calls_do_not_outlive_a_decision(load: Load) -> None:
    policy = load(SHOW)
    for score in ("3", "4.5"):
        decision = decide(policy, facts(members=[member("M1", score=score)]))
        assert {c.values["v"] for c in decision} == {score}


def test_remembered_calls_and_a_tracer_agree(load: Load) -> None:
    policy = load(SHOW)
    data = facts(members=[member("M1", score="2"), member("M2")])
    plain = decide(policy, data)
    traced = policy.decide(data, NOW, tracer=RecordingTracer())
    assert [c.to_dict() for c in plain] == [c.to_dict() for c in traced]
