"""Sessions: conclusions fire at the exact instant a time limit passes, once, and always agree
with the snapshot engine (``decide`` on the same facts at the same instant)."""

from __future__ import annotations

import datetime as dt
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kam_policy
from kam_policy import PolicyEvalError
from kam_policy.facts import bundled_schema
from kam_policy.session import EventError, Session, SessionStateError, SqliteStore
from kam_policy.session.session import conclusion_key

CST = dt.timezone(dt.timedelta(hours=8))
START = dt.datetime(2026, 11, 23, 9, 0, tzinfo=CST)  # a Monday
MICRO = dt.timedelta(microseconds=1)
HOUR = dt.timedelta(hours=1)
RESPONSE_LIMIT = {"minor": 24 * HOUR, "general": 8 * HOUR, "major": 4 * HOUR,
                  "critical": 1 * HOUR}


@pytest.fixture(scope="module")
def policy() -> kam_policy.Policy:
    return kam_policy.load()


def small_policy(tmp_path: Path, text: str) -> kam_policy.Policy:
    (tmp_path / "policy.kp").write_text(text, encoding="utf-8")
    return kam_policy.load(tmp_path, schema=bundled_schema())


def staff(ident: str, manager: str | None) -> dict[str, Any]:
    return {"id": ident, "name": f"Staff {ident}", "role": "after_sales" if manager else None,
            "education": "master", "major": "Management", "sales_years": 12,
            "ka_sales_years": 8, "pm_years": 3, "ka_project_years": 2, "after_sales_years": 6,
            "role_since": "2019-09-09" if manager else None, "manager_id": manager,
            "career_track": "management", "monthly_target_bonus": None}


def base_events(at: dt.datetime = START) -> list[dict[str, Any]]:
    client = {"id": "K1", "name": "Client", "tier": "strategic", "owner_id": "S1",
              "last_contact_at": at.isoformat(), "last_survey_at": "2026-09-30",
              "last_survey_score": 88}
    return [put(at, "Staff", staff("S0", None)), put(at, "Staff", staff("S1", "S0")),
            put(at, "Client", client)]


def put(at: dt.datetime, kind: str, record: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"at": at.isoformat(), "op": "put", "type": kind, "record": record, **extra}


def complaint(ident: str, at: dt.datetime, severity: str = "major") -> dict[str, Any]:
    return put(at, "Complaint", {
        "id": ident, "client_id": "K1", "assigned_to": "S1", "severity": severity,
        "opened_at": at.isoformat(), "first_response_at": None, "resolved_at": None,
        "client_notified_at": None, "reopened_count": 0})


def update(at: dt.datetime, ident: str, **changes: Any) -> dict[str, Any]:
    return {"at": at.isoformat(), "op": "update", "type": "Complaint", "id": ident,
            "set": {k: (v.isoformat() if isinstance(v, dt.datetime) else v)
                    for k, v in changes.items()}}


def escalations(emissions: list[Any]) -> list[tuple[str, str, int, dt.datetime]]:
    return [(e.kind, e.conclusion.subject.id, e.conclusion.values["level"], e.at)
            for e in emissions if e.conclusion.name == "escalation"]


def agrees(session: Session, at: dt.datetime) -> None:
    expected = {conclusion_key(c) for c in session.policy.decide(session.facts(), at)}
    assert {conclusion_key(c) for c in session.held()} == expected


# ---- due times -------------------------------------------------------------------------------


def test_escalation_fires_one_microsecond_after_the_limit(policy: kam_policy.Policy) -> None:
    session = Session(policy)
    session.feed([*base_events(), complaint("CP1", START)])
    limit = START + RESPONSE_LIMIT["major"]
    assert escalations(session.advance_to(limit)) == []  # exactly at the limit: still in time
    fired = escalations(session.advance_to(limit + MICRO))
    assert fired == [("fired", "CP1", 1, limit + MICRO)]


def test_advance_far_ahead_reports_the_exact_due_time(policy: kam_policy.Policy) -> None:
    session = Session(policy)
    session.feed([*base_events(), complaint("CP1", START, "critical")])
    emitted = escalations(session.advance_to(START + dt.timedelta(days=10)))
    resolution = dt.timedelta(hours=24)
    assert emitted == [
        ("fired", "CP1", 1, START + HOUR + MICRO),
        ("retracted", "CP1", 1, START + resolution + MICRO),
        ("fired", "CP1", 2, START + resolution + MICRO),
        ("retracted", "CP1", 2, START + 2 * resolution + MICRO),
        ("fired", "CP1", 3, START + 2 * resolution + MICRO),
    ]


def test_each_conclusion_fires_once_however_often_time_advances(
        policy: kam_policy.Policy) -> None:
    session = Session(policy)
    session.feed([*base_events(), complaint("CP1", START)])
    fired = []
    for minute in range(0, 8 * 60, 7):
        fired += escalations(session.advance_to(START + dt.timedelta(minutes=minute)))
    assert fired == [("fired", "CP1", 1, START + 4 * HOUR + MICRO)]


def test_a_response_in_time_cancels_the_pending_escalation(policy: kam_policy.Policy) -> None:
    session = Session(policy)
    session.feed([*base_events(), complaint("CP1", START)])
    limit = START + RESPONSE_LIMIT["major"]
    assert session.upcoming(limit + MICRO)  # the escalation is pending
    session.feed([update(limit, "CP1", first_response_at=limit)])  # exactly at the limit
    later = escalations(session.advance_to(START + dt.timedelta(hours=47)))
    assert later == []


def test_a_late_response_does_not_retract_the_escalation(policy: kam_policy.Policy) -> None:
    session = Session(policy)
    session.feed([*base_events(), complaint("CP1", START)])
    late = START + 5 * HOUR
    batch = session.feed([update(late, "CP1", first_response_at=late)])
    assert escalations(list(batch.emissions)) == [("fired", "CP1", 1,
                                                    START + 4 * HOUR + MICRO)]
    assert [c.name for c in session.held() if c.subject.id == "CP1"].count("escalation") == 1


def test_timers_due_at_an_event_instant_fire_before_the_event(
        policy: kam_policy.Policy) -> None:
    session = Session(policy)
    session.feed([*base_events(), complaint("CP1", START)])
    due = START + 4 * HOUR + MICRO
    batch = session.feed([update(due, "CP1", first_response_at=due)])
    kinds = [(e.kind, e.cause, e.at) for e in batch.emissions if e.conclusion.name == "escalation"]
    assert kinds == [("fired", "time", due)]  # and it stays: the response came too late


def test_upcoming_does_not_move_the_session(policy: kam_policy.Policy) -> None:
    session = Session(policy)
    session.feed([*base_events(), complaint("CP1", START)])
    clock, held = session.clock, session.held()
    preview = session.upcoming(START + dt.timedelta(days=3))
    assert session.clock == clock and session.held() == held
    assert [e.to_dict() for e in preview] == [
        e.to_dict() for e in session.advance_to(START + dt.timedelta(days=3))]


def test_next_change_is_the_earliest_due_instant(policy: kam_policy.Policy) -> None:
    session = Session(policy)
    session.feed([*base_events(), complaint("CP1", START + HOUR, "critical")])
    assert session.next_change == START + 2 * HOUR + MICRO


def test_same_instant_events_settle_together(policy: kam_policy.Policy) -> None:
    """A complaint and its response arriving at one instant never fire a transient state."""
    session = Session(policy)
    batch = session.feed([*base_events(), complaint("CP1", START, "critical"),
                          update(START, "CP1", first_response_at=START)])
    assert batch.accepted == 5
    assert all(e.kind == "fired" for e in batch.emissions)


# ---- agreement with decide, on generated streams ----------------------------------------------

SEVERITIES = list(RESPONSE_LIMIT)
EXAMPLES = int(os.environ.get("KAM_SESSION_EXAMPLES", "150"))  # 5,000 for the full run


@st.composite
def streams(draw: st.DrawFn) -> list[tuple[str, Any]]:
    """Steps of a session: ("feed", [event]) or ("advance", instant), in time order, with
    instants drawn on and around the limits (exactly at, one microsecond before and after)."""
    count = draw(st.integers(1, 3))
    marks = [dt.timedelta(0), HOUR, 4 * HOUR, 8 * HOUR, 24 * HOUR, 48 * HOUR, 72 * HOUR,
             96 * HOUR, 120 * HOUR]
    jitter = st.sampled_from([-MICRO, dt.timedelta(0), MICRO])
    steps: list[tuple[dt.datetime, int, str, Any]] = []
    for index in range(count):
        ident = f"CP{index}"
        opened = START + draw(st.sampled_from(marks[:5])) + draw(jitter)
        severity = draw(st.sampled_from(SEVERITIES))
        steps.append((opened, 0, "feed", complaint(ident, opened, severity)))
        moment = opened
        for action in draw(st.lists(st.sampled_from(["respond", "resolve", "notify",
                                                     "reopen"]), max_size=4)):
            moment = moment + draw(st.sampled_from(marks[1:])) + draw(jitter)
            if action == "respond":
                change = {"first_response_at": moment}
            elif action == "resolve":
                change = {"resolved_at": moment}
            elif action == "notify":
                change = {"client_notified_at": moment}
            else:
                change = {"reopened_count": draw(st.integers(1, 3)), "resolved_at": None}
            steps.append((moment, 1, "feed", update(moment, ident, **change)))
    for _ in range(draw(st.integers(1, 6))):
        instant = START + draw(st.sampled_from(marks)) * draw(st.integers(1, 3)) + draw(jitter)
        steps.append((instant, 2, "advance", instant))
    steps.sort(key=lambda s: (s[0], s[1]))
    return [(kind, payload) for _, _, kind, payload in steps]


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=streams())
def test_a_session_holds_what_decide_returns_at_every_step(
        policy: kam_policy.Policy, steps: list[tuple[str, Any]]) -> None:
    session = Session(policy)
    session.feed(base_events(START - dt.timedelta(days=1)))
    for kind, payload in steps:
        if kind == "feed":
            session.feed([payload])
        else:
            facts = session.facts()
            for emission in session.advance_to(payload):
                assert emission.cause == "time"
                key = conclusion_key(emission.conclusion)
                at = {conclusion_key(c) for c in policy.decide(facts, emission.at)}
                before = {conclusion_key(c) for c in policy.decide(facts, emission.at - MICRO)}
                if emission.kind == "fired":  # due exactly then: not a microsecond earlier
                    assert key in at and key not in before
                else:
                    assert key not in at and key in before
        assert session.clock is not None
        agrees(session, session.clock)


# ---- events that cannot be accepted ----------------------------------------------------------


@pytest.mark.parametrize(("event", "message"), [
    ({"at": "2026-11-23T10:00:00+08:00", "op": "put", "type": "Complain", "record": {}},
     "unknown fact type 'Complain'"),
    ({"at": "2026-11-23T10:00:00+08:00", "op": "update", "type": "Complaint", "id": "CP9",
      "set": {"resolved_at": None}}, "there is no Complaint 'CP9' to update"),
    ({"at": "2026-11-23T10:00:00+08:00", "op": "remove", "type": "Staff", "id": "S1"},
     "Staff 'S1' is still referred to by"),
    ({"at": "2026-11-23T10:00:00+08:00", "op": "update", "type": "Complaint"},
     "a 'update' event needs 'id'"),
    ({"at": "2026-11-23T10:00:00", "op": "remove", "type": "Staff", "id": "S1"},
     "at: Input should have timezone info"),
    ({"at": "2026-11-23T08:00:00+08:00", "op": "remove", "type": "Complaint", "id": "CP1"},
     "comes before the session clock"),
])
def test_invalid_events_are_refused_with_their_place(
        policy: kam_policy.Policy, event: dict[str, Any], message: str) -> None:
    session = Session(policy)
    session.feed([*base_events(), complaint("CP1", START)])
    held = session.held()
    with pytest.raises(EventError) as raised:
        session.feed([update(START + HOUR, "CP1", first_response_at=START + HOUR), event])
    assert str(raised.value).startswith("event 6: ")
    assert message in str(raised.value)
    assert session.held() == held and session.clock == START  # nothing of the batch applied


def test_an_invalid_record_names_the_field(policy: kam_policy.Policy) -> None:
    session = Session(policy)
    session.feed(base_events())
    bad = complaint("CP1", START)
    bad["record"]["severity"] = "huge"
    with pytest.raises(EventError, match=r"event 4: Complaint .CP1.: severity: Input should be"):
        session.feed([bad])


def test_skip_invalid_applies_the_rest_and_reports_each(policy: kam_policy.Policy) -> None:
    session = Session(policy)
    session.feed(base_events())
    batch = session.feed([update(START, "CP7", resolved_at=None), complaint("CP1", START)],
                         skip_invalid=True, labels=["events.jsonl:4", "events.jsonl:5"])
    assert batch.accepted == 1
    assert [str(p) for p in batch.skipped] == [
        "events.jsonl:4: there is no Complaint 'CP7' to update (add it with a 'put' event)"]
    assert {f.id for f in session.facts().of("Complaint")} == {"CP1"}  # type: ignore[attr-defined]


def test_an_event_id_is_accepted_once(policy: kam_policy.Policy) -> None:
    session = Session(policy)
    session.feed(base_events())
    event = complaint("CP1", START, "critical") | {"event_id": "cp1-open"}
    first = session.feed([event])
    again = session.feed([event, event])
    assert first.accepted == 1 and again.accepted == 0 and again.emissions == ()


def test_a_value_that_moves_with_now_cannot_be_emitted(tmp_path: Path) -> None:
    policy = small_policy(tmp_path, """
policy "Moving" version "1"
conclusion waiting(since: duration) about Complaint "Waiting"
rule R.waiting "Waiting" {
  section "X"
  for c in Complaint
  when c.first_response_at is null
  emit waiting(since: now - c.opened_at)
}
""")
    session = Session(policy)
    session.feed(base_events())
    with pytest.raises(PolicyEvalError, match="the value of 'since' changes with now") as raised:
        session.feed([complaint("CP1", START)])
    assert [d.code for d in raised.value.diagnostics] == ["eval.moving-value"]


def test_time_read_through_rounding_is_refused_at_the_rule(tmp_path: Path) -> None:
    policy = small_policy(tmp_path, """
policy "Rounding" version "1"
conclusion long_wait() about Complaint "Long wait"
rule R.long "Long wait" {
  section "X"
  for c in Complaint
  when round(in_days(now - c.opened_at), 0) > 2
  emit long_wait()
}
""")
    session = Session(policy)
    session.feed(base_events())
    with pytest.raises(PolicyEvalError, match=r"rule R.long failed: .*cannot follow now"):
        session.feed([complaint("CP1", START)])


def test_dates_of_now_turn_over_at_midnight_in_its_offset(tmp_path: Path) -> None:
    policy = small_policy(tmp_path, """
policy "Dates" version "1"
conclusion overdue() about Complaint "Overdue"
rule R.overdue "Overdue by date" {
  section "X"
  for c in Complaint
  when date(now) > date(c.opened_at)
  emit overdue()
}
""")
    session = Session(policy)
    session.feed([*base_events(), complaint("CP1", START)])
    emitted = session.advance_to(START + dt.timedelta(days=3))
    midnight = dt.datetime(2026, 11, 24, tzinfo=CST)
    assert [(e.kind, e.at) for e in emitted] == [("fired", midnight)]


# ---- durable state -----------------------------------------------------------------------------


def test_a_resumed_session_continues_where_it_stopped(policy: kam_policy.Policy,
                                                      tmp_path: Path) -> None:
    events = [*base_events(), complaint("CP1", START, "critical"),
              complaint("CP2", START + HOUR, "major")]
    whole = Session(policy)
    expected = list(whole.feed(events).emissions) + whole.advance_to(START + 80 * HOUR)

    store = SqliteStore(tmp_path / "state.db")
    first = Session(policy, store)
    got = list(first.feed(events[:4]).emissions)
    store.close()
    store = SqliteStore(tmp_path / "state.db")
    second = Session(policy, store)
    assert second.clock == START and second.held() == first.held()
    got += list(second.feed(events[4:]).emissions) + second.advance_to(START + 80 * HOUR)
    assert [e.to_dict() for e in got] == [e.to_dict() for e in expected]
    assert [e["seq"] for e in store.emissions()] == list(range(1, len(expected) + 1))
    store.close()


def test_a_state_database_belongs_to_one_policy(policy: kam_policy.Policy,
                                                tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.db")
    Session(policy, store).feed(base_events())
    store.close()
    other = kam_policy.load(params={"client_notice_limit": "12h"})
    with pytest.raises(SessionStateError, match="start a new state database"):
        Session(other, SqliteStore(tmp_path / "state.db"))


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_text("not sqlite, " * 200)
    with pytest.raises(SessionStateError, match="not a session state database"):
        SqliteStore(path)


def test_threads_may_share_a_session(policy: kam_policy.Policy) -> None:
    session = Session(policy)
    session.feed(base_events())
    errors: list[BaseException] = []

    def open_complaints(worker: int) -> None:
        try:
            for n in range(5):
                session.feed([complaint(f"CP{worker}-{n}", START)])
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=open_complaints, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(session.facts().of("Complaint")) == 20
    agrees(session, START)
