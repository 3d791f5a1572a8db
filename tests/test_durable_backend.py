"""The durable_rules backend emits exactly what the snapshot backend emits — the same
conclusions, fired and retracted at the same instants, in the same order — on generated event
streams whose times land on the limits and one microsecond either side, for the escalation
example and for generated policies; rules it cannot run are refused, each named with its place;
two sessions in one process never see each other's facts."""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_session import CST, HOUR, MICRO, START, base_events, complaint, put, staff, update

import kam_policy
from kam_policy import PolicyEvalError
from kam_policy.facts import bundled_schema
from kam_policy.session import EventError, Session, SqliteStore
from kam_policy.session.durable_backend import SessionClosedError
from kam_policy.session.durable_compile import DurableUnsupportedError, plan_policy
from kam_policy.session.session import conclusion_key

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "policies" / "escalation"
HAS_DURABLE = importlib.util.find_spec("durable") is not None
needs_durable = pytest.mark.skipif(not HAS_DURABLE, reason="durable_rules is not installed "
                                   "(pip install durable_rules==2.0.28)")
DAY = 24 * HOUR
# The example's limits: what the generated times land on, exactly and 1 µs either side.
MARKS = [dt.timedelta(0), HOUR, 4 * HOUR, 8 * HOUR, DAY, 2 * DAY, 3 * DAY, 4 * DAY, 5 * DAY,
         6 * DAY, 10 * DAY]
SEVERITIES = ["minor", "general", "major", "critical"]
# More streams and policies: KAM_DURABLE_EXAMPLES=2000 pytest tests/test_durable_backend.py
EXAMPLES = int(os.environ.get("KAM_DURABLE_EXAMPLES", "0")) or None


@pytest.fixture(scope="module")
def example() -> kam_policy.Policy:
    return kam_policy.load(EXAMPLE)


def small_policy(tmp_path: Path, text: str) -> kam_policy.Policy:
    (tmp_path / "policy.kp").write_text(text, encoding="utf-8")
    return kam_policy.load(tmp_path, schema=bundled_schema())


def rule_file(*rules: str, header: str = "") -> str:
    return ('policy "Generated" version "1"\n'
            "param response_limit = {minor: 24h, general: 8h, major: 4h, critical: 1h}\n"
            "param notice_limit = 24h\nparam severe = [major, critical]\n"
            "conclusion flagged(rule: int) about Complaint\n" + header + "\n".join(rules))


def rule(number: int, condition: str) -> str:
    return (f'rule R.r{number} "Rule {number}" {{\n  for c in Complaint\n  when {condition}\n'
            f"  emit flagged(rule: {number})\n}}\n")


# ---- generated streams -------------------------------------------------------------------------

Step = tuple[str, Any]


@st.composite
def streams(draw: st.DrawFn, max_complaints: int = 3) -> list[Step]:
    """Batches of events, advances and previews in time order; times land on the limits."""
    jitter = st.sampled_from([-MICRO, dt.timedelta(0), MICRO])
    timed: list[tuple[dt.datetime, int, str, Any]] = []
    for index in range(draw(st.integers(1, max_complaints))):
        ident = f"CP{index}"
        opened = START + draw(st.sampled_from(MARKS[:6])) + draw(jitter)
        timed.append((opened, index, "event", complaint(ident, opened,
                                                        draw(st.sampled_from(SEVERITIES)))))
        moment, reopened = opened, 0
        for action in draw(st.lists(st.sampled_from(
                ["respond", "resolve", "notify", "reopen", "severity", "late", "remove"]),
                max_size=5)):
            moment = moment + draw(st.sampled_from(MARKS[1:])) + draw(jitter)
            if action == "remove":
                timed.append((moment, index, "event", {"at": moment.isoformat(), "op": "remove",
                                                       "type": "Complaint", "id": ident}))
                break
            if action == "reopen":
                reopened += 1
                change: dict[str, Any] = {"reopened_count": reopened, "resolved_at": None}
            elif action == "severity":
                change = {"severity": draw(st.sampled_from(SEVERITIES))}
            elif action == "late":  # a resolution reported after the fact, at an earlier time
                change = {"resolved_at": moment - draw(st.sampled_from(MARKS[1:5]))}
            else:
                name = {"respond": "first_response_at", "resolve": "resolved_at",
                        "notify": "client_notified_at"}[action]
                change = {name: moment}
            timed.append((moment, index, "event", update(moment, ident, **change)))
    for _ in range(draw(st.integers(1, 5))):
        instant = START + draw(st.sampled_from(MARKS)) * draw(st.integers(1, 2)) + draw(jitter)
        timed.append((instant, 99, draw(st.sampled_from(["advance", "advance", "upcoming"])),
                      instant.astimezone(dt.UTC) if draw(st.booleans()) else instant))
    timed.sort(key=lambda s: (s[0], s[1]))
    steps: list[Step] = []
    for _, _, kind, payload in timed:
        if kind == "event" and steps and steps[-1][0] == "feed" and draw(st.booleans()):
            steps[-1][1].append(payload)  # several events in one batch
        elif kind == "event":
            steps.append(("feed", [payload]))
        else:
            steps.append((kind, payload))
    if draw(st.booleans()):  # a bad event: the whole batch refused, nothing of it left behind
        steps.insert(draw(st.integers(0, len(steps))), ("refused", None))
    if draw(st.booleans()):  # or skipped (this one moves the clock: it comes last)
        steps.append(("skipping", None))
    return steps


def run_both(policy: kam_policy.Policy, steps: list[Step]) -> list[dict[str, Any]]:
    """Run ``steps`` on both backends in lockstep, comparing everything after each step."""
    snapshot, durable = Session(policy), Session(policy, engine="durable")
    emitted: list[dict[str, Any]] = []
    try:
        for session in (snapshot, durable):
            session.feed(base_events(START - DAY))
        for kind, payload in steps:
            results = [_step(session, kind, payload) for session in (snapshot, durable)]
            assert results[1] == results[0], (kind, payload)
            assert durable.held() == snapshot.held()
            assert durable.clock == snapshot.clock
            emitted.extend(results[0])
        clock = snapshot.clock
        assert clock is not None
        expected = {conclusion_key(c) for c in policy.decide(durable.facts(), clock)}
        assert {conclusion_key(c) for c in durable.held()} == expected
    finally:
        durable.close()  # type: ignore[attr-defined]
    return emitted


def _step(session: Session, kind: str, payload: Any) -> list[dict[str, Any]]:
    if kind == "feed":
        return [e.to_dict() for e in session.feed(payload).emissions]
    if kind == "advance":
        return [e.to_dict() for e in session.advance_to(payload)]
    if kind == "upcoming":
        return [e.to_dict() for e in session.upcoming(payload)]
    late = (session.clock or START) + 5 * DAY
    batch = [complaint(f"CP-{kind}", late, "critical"), update(late, "CP-none", resolved_at=late)]
    if kind == "skipping":
        return [e.to_dict() for e in session.feed(batch, skip_invalid=True).emissions]
    with pytest.raises(EventError):
        session.feed(batch)
    return []


@needs_durable
@settings(max_examples=EXAMPLES or 120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=streams())
def test_both_backends_emit_the_same_on_the_example(example: kam_policy.Policy,
                                                    steps: list[Step]) -> None:
    run_both(example, steps)


@needs_durable
def test_the_example_escalates_at_the_exact_instants(example: kam_policy.Policy) -> None:
    """A worked stream (the example's README story), checked by hand and on both backends."""
    steps: list[Step] = [("feed", [complaint("CP1", START, "critical")]),
                         ("feed", [complaint("CP2", START + HOUR, "major")]),
                         ("advance", START + 30 * HOUR),
                         ("feed", [update(START + 31 * HOUR, "CP1",
                                          resolved_at=START + 31 * HOUR)]),
                         ("advance", START + 200 * HOUR)]
    got = [(e["at"], e["kind"], e["subject"]["id"], e["name"], e["values"].get("level"))
           for e in run_both(example, steps)]
    at = lambda hours: (START + hours * HOUR + MICRO).isoformat()  # noqa: E731
    assert got == [
        (START.isoformat(), "fired", "CP1", "task_force", None),
        ((START + HOUR).isoformat(), "fired", "CP2", "task_force", None),
        (at(1), "fired", "CP1", "escalation", 1),
        (at(5), "fired", "CP2", "escalation", 1),
        (at(24), "retracted", "CP1", "escalation", 1),
        (at(24), "fired", "CP1", "escalation", 2),
        (at(49), "retracted", "CP2", "escalation", 1),
        (at(49), "fired", "CP2", "escalation", 2),
        (at(55), "fired", "CP1", "client_notice_overdue", None),
        (at(97), "retracted", "CP2", "escalation", 2),
        (at(97), "fired", "CP2", "escalation", 3),
    ]


# ---- generated policies ------------------------------------------------------------------------

ATOMS = [
    "c.first_response_at is null", "c.resolved_at is not null", "c.client_notified_at is null",
    "c.severity == major", "c.severity != minor", "c.severity in [minor, critical]",
    "c.severity not in severe", "c.severity >= general", "c.severity < major",
    "c.reopened_count >= 1", "c.reopened_count == 0", "c.reopened_count != 2",
    "now - c.opened_at > 4h", "now - c.opened_at >= 8h", "now - c.opened_at < 24h",
    "now - c.opened_at <= 1h", "now - c.opened_at == 4h", "now - c.opened_at != 48h",
    "now - c.resolved_at > notice_limit", "now - c.first_response_at <= 4h",
    "now > c.resolved_at + 1h", "c.resolved_at + 8h < now", "c.opened_at + 2d >= now",
    "now - c.opened_at > response_limit[c.severity]",
    "now - c.opened_at <= 2 * response_limit[c.severity]",
    "c.resolved_at - c.opened_at > response_limit[c.severity]",
    "c.first_response_at - c.opened_at <= 4h", "c.resolved_at == c.first_response_at",
    "c.client_notified_at >= c.resolved_at", "c.resolved_at != c.opened_at",
    "c.resolved_at - c.opened_at == 24h", 'c.client_id == "K1"', 'c.assigned_to != "S1"',
    "now - c.opened_at > 1h + response_limit[c.severity]",
]


@st.composite
def conditions(draw: st.DrawFn, depth: int = 2, atoms: list[str] = ATOMS) -> str:
    if depth == 0 or draw(st.integers(0, 2)) == 0:
        return draw(st.sampled_from(atoms))
    shape = draw(st.sampled_from(["and", "or", "not"]))
    if shape == "not":
        return f"not ({draw(conditions(depth - 1, atoms))})"
    parts = draw(st.lists(conditions(depth - 1, atoms), min_size=2, max_size=3))
    return "(" + f" {shape} ".join(parts) + ")"


@needs_durable
@settings(max_examples=EXAMPLES or 80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules=st.lists(conditions(), min_size=1, max_size=3), steps=streams(max_complaints=2),
       data=st.data())
def test_both_backends_emit_the_same_on_generated_policies(
        tmp_path_factory: pytest.TempPathFactory, rules: list[str], steps: list[Step],
        data: st.DataObject) -> None:
    folder = tmp_path_factory.mktemp("policy")
    policy = small_policy(folder, rule_file(*(rule(n, c) for n, c in enumerate(rules, 1))))
    try:
        plan_policy(policy)
    except DurableUnsupportedError as error:  # only for too many alternatives
        assert all("alternatives" in d.message for d in error.diagnostics)
        assume(False)
    run_both(policy, steps)


STAFF_ATOMS = [
    "s.sales_years >= 5", "s.sales_years > s.ka_sales_years", "s.sales_years == s.pm_years",
    "s.pm_years <= 2.5", "s.pm_years + 1 > 3.5", "s.monthly_target_bonus is null",
    "s.monthly_target_bonus > 1000.5", "s.monthly_target_bonus != 2000",
    "s.monthly_target_bonus == s.pm_years", "s.role == after_sales", "s.role != sales_rep",
    "s.role in [sales_rep, project_manager]", "s.role not in [after_sales]",
    "s.education >= bachelor", "s.education < master", "s.manager_id == null",
    's.manager_id != "S0"', "s.manager_id == s.id", "s.role_since is not null",
    "s.career_track == management", "-s.sales_years < -4",
]


def staff_record(draw: st.DrawFn, ident: str, known: set[str]) -> dict[str, Any]:
    years = st.sampled_from(["0", "2", "2.5", "3", "4.99", "5", "12"])
    record = staff(ident, draw(st.sampled_from([None, "S0", *sorted(known)])))
    record.update(
        role=draw(st.sampled_from([None, "sales_rep", "project_manager", "after_sales"])),
        education=draw(st.sampled_from(["associate", "bachelor", "master", "doctorate"])),
        sales_years=draw(years), ka_sales_years=draw(years), pm_years=draw(years),
        monthly_target_bonus=draw(st.sampled_from([None, "1000.5", "1000.51", "2000", "2.5"])),
        role_since=draw(st.sampled_from([None, "2019-09-09"])),
        career_track=draw(st.sampled_from(["management", "professional"])))
    return record


@st.composite
def staff_streams(draw: st.DrawFn) -> list[Step]:
    steps: list[Step] = []
    moment, known = START, set()
    for _ in range(draw(st.integers(1, 8))):
        moment += draw(st.sampled_from([dt.timedelta(0), HOUR]))
        ident = draw(st.sampled_from(["S2", "S3"]))
        steps.append(("feed", [put(moment, "Staff", staff_record(draw, ident, known))]))
        known.add(ident)
    return steps


@needs_durable
@settings(max_examples=EXAMPLES or 60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules=st.lists(conditions(atoms=STAFF_ATOMS), min_size=1, max_size=3),
       steps=staff_streams())
def test_both_backends_agree_on_numbers_enums_and_nulls(
        tmp_path_factory: pytest.TempPathFactory, rules: list[str], steps: list[Step]) -> None:
    text = ('policy "Staff" version "1"\nconclusion noted(rule: int) about Staff\n'
            + "".join(f'rule R.r{n} "Rule {n}" {{\n  for s in Staff\n  when {c}\n'
                      f"  emit noted(rule: {n})\n}}\n" for n, c in enumerate(rules, 1)))
    policy = small_policy(tmp_path_factory.mktemp("policy"), text)
    try:
        plan_policy(policy)
    except DurableUnsupportedError as error:
        assert all("alternatives" in d.message for d in error.diagnostics)
        assume(False)
    run_both(policy, steps)


# ---- what the backend refuses ------------------------------------------------------------------


def test_the_bundled_policy_is_refused_rule_by_rule() -> None:
    policy = kam_policy.load()
    with pytest.raises(DurableUnsupportedError) as raised:
        plan_policy(policy)
    error = raised.value
    headline = str(error).split("\n")[0]
    assert "cannot run on the durable_rules backend" in headline
    assert "C.escalation.manager (complaints.kp:" in headline
    assert all(d.code == "durable.unsupported" for d in error.diagnostics)
    messages = [d.message for d in error.diagnostics]
    assert "rule C.escalation.manager cannot run on durable_rules: let 'target'" in messages
    assert any(m.startswith("rule C.account_review cannot run on durable_rules: aggregate")
               for m in messages)
    # Rules it can run are not named: the task force rule is one.
    assert "C.task_force" not in headline


@pytest.mark.parametrize(("condition", "construct", "underlined"), [
    ("count(x in Complaint where x.client_id == c.client_id) > 2", "aggregate 'count(...)'",
     "count(x in Complaint where x.client_id == c.client_id)"),
    ('Staff[c.assigned_to].manager_id is null', "lookup of a fact by id 'Staff[...]'",
     "Staff[c.assigned_to]"),
    ("late(c)", "defined function 'late' (define)", "late(c)"),
    ("(c.resolved_at ?? now) - c.opened_at > 4h", "null default '??' in a condition",
     "c.resolved_at ?? now"),
    ("date(now) > date(c.opened_at)", "function 'date' of a fact's field or of now",
     "date(now)"),
    ("(now - c.opened_at) / 2 > 1h", "a multiple or fraction of a field or of now",
     "(now - c.opened_at) / 2"),
    ("now - c.opened_at > c.resolved_at - c.first_response_at",
     "arithmetic over more than two values", "now - c.opened_at > c.resolved_at - "
                                             "c.first_response_at"),
    ('c.client_id < "K5"', "ordering of text values", 'c.client_id < "K5"'),
])
def test_each_construct_is_refused_at_its_place(tmp_path: Path, condition: str, construct: str,
                                                underlined: str) -> None:
    header = "define late(c: Complaint) = c.resolved_at is null\n"
    policy = small_policy(tmp_path, rule_file(rule(1, condition), rule(2, "c.reopened_count > 0"),
                                              header=header))
    with pytest.raises(DurableUnsupportedError) as raised:
        plan_policy(policy)
    error = raised.value
    assert str(error).startswith("1 rule of policy Generated cannot run on the durable_rules "
                                 "backend: R.r1 (")
    [diagnostic] = error.diagnostics
    assert diagnostic.message.startswith(f"rule R.r1 cannot run on durable_rules: {construct}")
    assert diagnostic.span is not None
    assert diagnostic.span.text(policy.sources[diagnostic.span.source]) == underlined
    assert f"{diagnostic.span}: error[durable.unsupported]" in str(error)


def test_rule_shapes_the_backend_cannot_run_are_each_named(tmp_path: Path) -> None:
    policy = small_policy(tmp_path, rule_file(
        'rule R.let "Let" {\n  for c in Complaint\n  let late = now - c.opened_at\n'
        "  when late > 4h\n  emit flagged(rule: 1)\n}\n",
        'rule R.about "About" {\n  for f in flagged\n  when f.rule == 1\n'
        "  emit noted() about f.subject\n}\n",
        'rule R.table "Table" {\n  for c in Complaint\n  when level(c.reopened_count) == 2\n'
        "  emit flagged(rule: 3)\n}\n",
        'rule R.value "Value" {\n  for c in Complaint\n  when c.reopened_count > 0\n'
        "  emit flagged(rule: c.reopened_count)\n}\n",
        header='conclusion noted() about Complaint\n'
               'table level "Level" {\n  hit first\n  in n: number\n  out l: number\n'
               "  | >= 2 | 2 |\n  | - | 1 |\n}\n"))
    with pytest.raises(DurableUnsupportedError) as raised:
        plan_policy(policy)
    found = {(d.message.split(":")[0], d.message.split(": ", 1)[1]) for d in
             raised.value.diagnostics}
    assert found == {
        ("rule R.let cannot run on durable_rules", "let 'late'"),
        ("rule R.about cannot run on durable_rules", "a rule over conclusions ('for f in ...')"),
        ("rule R.table cannot run on durable_rules", "decision table 'level'"),
    }
    assert "3 rules of policy Generated" in str(raised.value)


def test_session_creation_refuses_before_storing_anything(tmp_path: Path) -> None:
    policy = kam_policy.load()
    with pytest.raises(DurableUnsupportedError):
        Session(policy, SqliteStore(tmp_path / "state.db"), engine="durable")
    assert SqliteStore(tmp_path / "state.db").load(policy) is None


def test_an_unknown_engine_is_refused(example: kam_policy.Policy) -> None:
    with pytest.raises(ValueError, match="engine must be one of snapshot, durable, not 'rete'"):
        Session(example, engine="rete")


def test_a_missing_durable_rules_is_a_clear_error(example: kam_policy.Policy,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from kam_policy.session import durable_backend

    def missing(name: str) -> Any:
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(durable_backend.importlib, "import_module", missing)
    with pytest.raises(durable_backend.DurableUnavailableError, match="pip install durable"):
        Session(example, engine="durable")


# ---- the run time ----------------------------------------------------------------------------


@needs_durable
def test_sessions_in_one_process_do_not_interfere(example: kam_policy.Policy) -> None:
    """Two sessions of two policies, interleaved call by call, each emit what it emits alone."""
    strict = kam_policy.load(EXAMPLE, params={"response_limit": {
        "minor": "1h", "general": "1h", "major": "1h", "critical": "1h"}})
    events = [*base_events(), complaint("CP1", START, "minor"), complaint("CP2", START, "major")]
    calls: list[Step] = [("feed", [event]) for event in events]
    calls += [("advance", START + hours * HOUR) for hours in range(0, 241, 7)]

    alone = []
    for policy in (example, strict):
        session = Session(policy, engine="durable")
        alone.append([e for kind, payload in calls for e in _step(session, kind, payload)])
    first, second = Session(example, engine="durable"), Session(strict, engine="durable")
    together: list[list[dict[str, Any]]] = [[], []]
    for kind, payload in calls:
        for number, session in enumerate((first, second)):
            together[number] += _step(session, kind, payload)
    assert together == alone
    assert alone[0] != alone[1]
    assert first._network.name != second._network.name  # type: ignore[attr-defined]
    first.close()  # type: ignore[attr-defined]
    assert second.feed([complaint("CP3", START + 11 * DAY, "major")]).emissions
    with pytest.raises(SessionClosedError, match="closed"):
        first.feed([complaint("CP3", START + 11 * DAY, "major")])


@needs_durable
def test_threads_may_run_sessions_side_by_side(example: kam_policy.Policy) -> None:
    results: list[Any] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            session = Session(example, engine="durable")
            got = list(session.feed([*base_events(), *(complaint(f"CP{n}", START + n * HOUR,
                                                                 SEVERITIES[n % 4])
                                                       for n in range(12))]).emissions)
            got += session.advance_to(START + 12 * DAY)
            results.append([e.to_dict() for e in got])
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    session = Session(example)
    expected = list(session.feed([*base_events(), *(complaint(f"CP{n}", START + n * HOUR,
                                                              SEVERITIES[n % 4])
                                                    for n in range(12))]).emissions)
    expected += session.advance_to(START + 12 * DAY)
    assert len(expected) > 20 and results == [[e.to_dict() for e in expected]] * 4


@needs_durable
def test_an_error_in_an_action_is_raised_not_swallowed(example: kam_policy.Policy,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    session = Session(example, engine="durable")
    session.feed(base_events())
    network = session._network  # type: ignore[attr-defined]

    def broken(serial: int, rule: int, alternative: int) -> None:
        raise RuntimeError("action failed")

    monkeypatch.setattr(network, "_matched", broken)
    with pytest.raises(RuntimeError, match="action failed"):
        session.feed([complaint("CP1", START, "critical")])
    monkeypatch.undo()
    assert session.held() == () and network.held == {}  # the batch left nothing behind
    fired = [e.conclusion.name for e in session.feed([complaint("CP1", START, "critical")])
             .emissions]
    assert fired == ["task_force"]


@needs_durable
def test_a_value_a_double_cannot_hold_is_refused(example: kam_policy.Policy) -> None:
    session = Session(example, engine="durable")
    session.feed(base_events())
    huge = complaint("CP1", START)
    huge["record"]["reopened_count"] = 2**60
    with pytest.raises(PolicyEvalError, match=r"Complaint 'CP1': reopened_count: the value "
                                              r"1152921504606846976 is an integer beyond 2\^53"):
        session.feed([huge])
    assert session.facts().of("Complaint") == ()


@needs_durable
@pytest.mark.parametrize("first_engine", ["snapshot", "durable"])
def test_a_stored_session_resumes_on_the_durable_backend(example: kam_policy.Policy,
                                                         tmp_path: Path,
                                                         first_engine: str) -> None:
    events = [*base_events(), complaint("CP1", START, "critical"),
              complaint("CP2", START + HOUR, "major"),
              update(START + 3 * HOUR, "CP2", first_response_at=START + 3 * HOUR)]
    whole = Session(example)
    expected = list(whole.feed(events).emissions) + whole.advance_to(START + 5 * DAY)

    store = SqliteStore(tmp_path / "state.db")
    got = list(Session(example, store, engine=first_engine).feed(events[:4]).emissions)
    store.close()
    store = SqliteStore(tmp_path / "state.db")
    resumed = Session(example, store, engine="durable")
    got += list(resumed.feed(events[4:]).emissions) + resumed.advance_to(START + 5 * DAY)
    assert [e.to_dict() for e in got] == [e.to_dict() for e in expected]
    store.close()


@needs_durable
def test_next_change_is_a_due_instant_of_an_armed_timer(example: kam_policy.Policy) -> None:
    session = Session(example, engine="durable")
    session.feed([*base_events(), complaint("CP1", START + HOUR, "critical")])
    assert session.next_change == START + 2 * HOUR + MICRO
    session.feed([update(START + 2 * HOUR, "CP1", resolved_at=START + 2 * HOUR,
                         client_notified_at=START + 2 * HOUR)])
    assert session.next_change is None  # resolved and reported: no timer is armed
    assert session.clock is not None and session.clock.utcoffset() == CST.utcoffset(None)
