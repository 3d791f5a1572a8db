"""Properties of the bundled policy on generated fact sets (hypothesis).

The fact sets come from ``tests/strategies.py``; ``tests/reference_policy.py`` is the
independent oracle of the differential tests. Example counts are kept small enough that
this file runs well under a minute.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from policy_helpers import bundled_policy, canonical, decide
from reference_policy import expected_conclusions
from strategies import appraisal_sets, complaint_sets, fact_sets

QUICK = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much],
)
DIFFERENTIAL = settings(QUICK, max_examples=120)

GRADE_RANK = {"D": 0, "C": 1, "B": 2, "A": 3, "S": 4}


def full(facts: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    """Every public field of every conclusion, in decision order."""
    return [c.to_dict() | {"line": c.line, "file": c.file}
            for c in bundled_policy().decide(facts, now).conclusions]


def escalation_levels(facts: dict[str, Any], now: datetime) -> dict[str, int]:
    """Complaint id -> escalation level (0 when none)."""
    levels = {c["id"]: 0 for c in facts["complaints"]}
    for c in decide(facts, now):
        if c["name"] == "escalation":
            levels[c["subject"]["id"]] = c["values"]["level"]
    return levels


def grades(facts: dict[str, Any], now: datetime) -> dict[str, tuple[int, Decimal]]:
    """Appraisal id -> (grade rank, reported score) for every graded appraisal."""
    return {
        c["subject"]["id"]: (GRADE_RANK[c["values"]["grade"]], Decimal(c["values"]["score"]))
        for c in decide(facts, now)
        if c["name"] == "grade"
    }


# ------------------------------------------------------------------- differential


@DIFFERENTIAL
@given(fact_sets())
def test_engine_equals_the_reference_on_whole_fact_sets(case: tuple[dict[str, Any], Any]) -> None:
    facts, now = case
    assert canonical(decide(facts, now)) == canonical(expected_conclusions(facts, now))


@DIFFERENTIAL
@given(complaint_sets())
def test_engine_equals_the_reference_on_complaints(case: tuple[dict[str, Any], Any]) -> None:
    facts, now = case
    assert canonical(decide(facts, now)) == canonical(expected_conclusions(facts, now))


@DIFFERENTIAL
@given(appraisal_sets())
def test_engine_equals_the_reference_on_appraisals(case: tuple[dict[str, Any], Any]) -> None:
    facts, now = case
    assert canonical(decide(facts, now)) == canonical(expected_conclusions(facts, now))


# ----------------------------------------------------------------- invariances


@QUICK
@given(fact_sets(), st.data())
def test_conclusions_do_not_depend_on_the_order_of_facts(
    case: tuple[dict[str, Any], Any], data: st.DataObject
) -> None:
    facts, now = case
    shuffled: dict[str, Any] = {}
    # Top-level keys in another order, every fact list shuffled, and the dimensions and
    # sources of every appraisal's scores in another order too.
    for key in data.draw(st.permutations(list(facts))):
        shuffled[key] = data.draw(st.permutations(copy.deepcopy(facts[key])))
    for record in shuffled["appraisals"]:
        dims = data.draw(st.permutations(list(record["scores"])))
        record["scores"] = {
            d: {s: record["scores"][d][s]
                for s in data.draw(st.permutations(list(record["scores"][d])))}
            for d in dims
        }
    assert full(shuffled, now) == full(facts, now)


@QUICK
@given(fact_sets())
def test_decide_is_deterministic(case: tuple[dict[str, Any], Any]) -> None:
    facts, now = case
    before = json.dumps(facts, default=str, sort_keys=True)
    first = bundled_policy().decide(facts, now)
    second = bundled_policy().decide(facts, now)
    assert first.conclusions == second.conclusions
    assert [c.to_dict() for c in first.conclusions] == [c.to_dict() for c in second.conclusions]
    assert first.policy == second.policy
    assert first.at == second.at == now.isoformat()
    # Deciding does not touch its input.
    assert json.dumps(facts, default=str, sort_keys=True) == before


# ------------------------------------------------------------------- monotonicity

LATER = st.one_of(
    st.sampled_from([timedelta(0), timedelta(microseconds=1), timedelta(hours=1)]),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)),
)


@QUICK
@given(complaint_sets(), st.lists(LATER, min_size=1, max_size=4))
def test_escalation_level_never_decreases_as_now_grows(
    case: tuple[dict[str, Any], Any], steps: list[timedelta]
) -> None:
    facts, now = case
    previous = escalation_levels(facts, now)
    for step in steps:
        now = now + step
        current = escalation_levels(facts, now)
        for complaint_id, level in previous.items():
            assert current[complaint_id] >= level, (complaint_id, now)
        previous = current


@QUICK
@given(appraisal_sets(), st.data())
def test_grade_never_decreases_as_a_single_score_grows(
    case: tuple[dict[str, Any], Any], data: st.DataObject
) -> None:
    facts, now = case
    scored = [(i, d, s) for i, a in enumerate(facts["appraisals"])
              for d, sources in a["scores"].items() for s in sources]
    assume(scored)
    index, dimension, source = data.draw(st.sampled_from(scored))
    old = Decimal(facts["appraisals"][index]["scores"][dimension][source])
    new = data.draw(st.one_of(
        st.just(Decimal(100)),
        st.decimals(min_value=old, max_value=100, allow_nan=False, allow_infinity=False),
    ))
    raised = copy.deepcopy(facts)
    # The strategies share one scores dict between appraisals (deepcopy keeps that
    # sharing): give the raised appraisal its own copy before changing it.
    target = raised["appraisals"][index]
    target["scores"] = copy.deepcopy(target["scores"])
    target["scores"][dimension][source] = new
    before, after = grades(facts, now), grades(raised, now)
    # Raising a score neither completes nor breaks an appraisal: the same ones are graded.
    assert before.keys() == after.keys()
    appraisal_id = facts["appraisals"][index]["id"]
    if appraisal_id in before:
        assert after[appraisal_id][0] >= before[appraisal_id][0]
        assert after[appraisal_id][1] >= before[appraisal_id][1]
    # Every other appraisal keeps its grade and score.
    others = {k: v for k, v in before.items() if k != appraisal_id}
    assert {k: v for k, v in after.items() if k != appraisal_id} == others

