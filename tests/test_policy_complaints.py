"""Section C of the reference policy: complaint response, resolution, escalation, reviews."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from policy_helpers import (
    EST,
    NOW,
    SEVERITY_LIMITS,
    US,
    UTC,
    D,
    H,
    client,
    complaint,
    concl,
    decide,
    decide_about,
    expect,
    facts,
    handled_complaint,
    staff,
    top_manager,
)

SEVERITIES = sorted(SEVERITY_LIMITS)
SERIOUS = ("major", "critical")
MINUTE = timedelta(minutes=1)


def escalation(level: int, manager_id: str | None = "M1", cid: str = "C1") -> dict[str, Any]:
    if level == 1:
        return concl("escalation", "complaint", cid, level=1, to="manager", manager_id=manager_id)
    to = {2: "department_head", 3: "executive"}[level]
    return concl("escalation", "complaint", cid, level=level, to=to)


def outcome(severity: str, level: int | None, cid: str = "C1", **extra: Any) -> list[Any]:
    """What complaint ``cid`` should draw: task force when serious, then the escalation."""
    found = []
    if severity in SERIOUS:
        found.append(concl("task_force", "complaint", cid))
    if level is not None:
        found.append(escalation(level, cid=cid, **extra))
    return expect(*found)


def judge(record: dict[str, Any], now: datetime = NOW, **lists: Any) -> list[Any]:
    return decide_about(facts(now, complaints=[record], **lists), "complaint", record["id"], now)


# --------------------------------------------------------------- response (level 1)


@pytest.mark.parametrize("severity", SEVERITIES)
def test_response_exactly_at_the_limit_is_in_time(severity: str) -> None:
    respond, _ = SEVERITY_LIMITS[severity]
    record = handled_complaint(severity=severity, response=respond, resolution=respond + MINUTE,
                               notified=respond + 2 * MINUTE)
    assert judge(record) == outcome(severity, None)


@pytest.mark.parametrize("severity", SEVERITIES)
def test_response_one_microsecond_late_escalates_to_the_manager(severity: str) -> None:
    respond, _ = SEVERITY_LIMITS[severity]
    record = handled_complaint(severity=severity, response=respond + US,
                               resolution=respond + MINUTE, notified=respond + 2 * MINUTE)
    assert judge(record) == outcome(severity, 1)


@pytest.mark.parametrize("severity", SEVERITIES)
def test_open_unanswered_complaint_is_measured_up_to_now(severity: str) -> None:
    respond, _ = SEVERITY_LIMITS[severity]
    assert judge(complaint(opened=NOW - respond, severity=severity)) == outcome(severity, None)
    assert judge(complaint(opened=NOW - respond - US, severity=severity)) == outcome(severity, 1)


@pytest.mark.parametrize("severity", SEVERITIES)
def test_a_resolution_counts_as_the_response(severity: str) -> None:
    respond, _ = SEVERITY_LIMITS[severity]
    in_time = handled_complaint(severity=severity, response=None, resolution=respond)
    late = handled_complaint(severity=severity, response=None, resolution=respond + US)
    assert judge(in_time) == outcome(severity, None)
    assert judge(late) == outcome(severity, 1)


def test_first_response_wins_over_a_later_resolution() -> None:
    # Answered in time, resolved later (still within the resolution limit): no escalation.
    record = handled_complaint(severity="general", response=8 * H, resolution=70 * H,
                               notified=71 * H)
    assert judge(record) == []


def test_times_written_in_other_offsets_compare_as_instants() -> None:
    opened = datetime(2026, 11, 20, 9, 0, tzinfo=EST)
    in_time = complaint(opened=opened, severity="major",
                        first_response_at=(opened + 4 * H).astimezone(UTC),
                        resolved_at=(opened + 5 * H).astimezone(NOW.tzinfo),
                        client_notified_at=opened + 6 * H)
    assert judge(in_time) == outcome("major", None)
    late = in_time | {"first_response_at": (opened + 4 * H + US).astimezone(UTC).isoformat()}
    assert judge(late) == outcome("major", 1)


def test_level_one_names_the_assignees_manager() -> None:
    people = [top_manager(), staff("S1"), staff("S2", manager_id="S1")]
    record = complaint(opened=NOW - 9 * H, severity="general", assigned_to="S2")
    assert judge(record, staff=people) == [escalation(1, manager_id="S1")]


def test_level_one_manager_is_null_when_the_assignee_has_no_manager() -> None:
    record = complaint(opened=NOW - 9 * H, severity="general", assigned_to="M1")
    assert judge(record) == [escalation(1, manager_id=None)]


# ------------------------------------------------------------ resolution (levels 2, 3)


@pytest.mark.parametrize("severity", SEVERITIES)
def test_resolution_exactly_at_the_limit_is_in_time(severity: str) -> None:
    _, resolve = SEVERITY_LIMITS[severity]
    record = handled_complaint(severity=severity, resolution=resolve, notified=resolve + MINUTE)
    assert judge(record) == outcome(severity, None)


@pytest.mark.parametrize("severity", SEVERITIES)
def test_resolution_one_microsecond_late_escalates_to_the_department_head(severity: str) -> None:
    _, resolve = SEVERITY_LIMITS[severity]
    record = handled_complaint(severity=severity, resolution=resolve + US,
                               notified=resolve + MINUTE)
    assert judge(record) == outcome(severity, 2)


@pytest.mark.parametrize("severity", SEVERITIES)
def test_resolution_exactly_twice_the_limit_is_level_two(severity: str) -> None:
    _, resolve = SEVERITY_LIMITS[severity]
    record = handled_complaint(severity=severity, resolution=2 * resolve,
                               notified=2 * resolve + MINUTE)
    assert judge(record) == outcome(severity, 2)


@pytest.mark.parametrize("severity", SEVERITIES)
def test_resolution_past_twice_the_limit_escalates_to_the_executive(severity: str) -> None:
    _, resolve = SEVERITY_LIMITS[severity]
    record = handled_complaint(severity=severity, resolution=2 * resolve + US,
                               notified=2 * resolve + MINUTE)
    assert judge(record) == outcome(severity, 3)


@pytest.mark.parametrize("severity", SEVERITIES)
def test_open_complaint_resolution_time_runs_up_to_now(severity: str) -> None:
    _, resolve = SEVERITY_LIMITS[severity]

    def answered(opened: datetime) -> dict[str, Any]:
        return complaint(opened=opened, severity=severity, first_response_at=opened + MINUTE)

    assert judge(answered(NOW - resolve)) == outcome(severity, None)
    assert judge(answered(NOW - resolve - US)) == outcome(severity, 2)
    assert judge(answered(NOW - 2 * resolve)) == outcome(severity, 2)
    assert judge(answered(NOW - 2 * resolve - US)) == outcome(severity, 3)


@pytest.mark.parametrize("severity", SEVERITIES)
def test_only_the_highest_level_is_emitted(severity: str) -> None:
    # Never answered, never resolved, reopened too: every level applies; level 3 alone shows.
    _, resolve = SEVERITY_LIMITS[severity]
    record = complaint(opened=NOW - 2 * resolve - D, severity=severity, reopened_count=1)
    assert judge(record) == outcome(severity, 3)


def test_response_late_and_resolution_late_is_level_two_only() -> None:
    record = handled_complaint(severity="critical", response=2 * H, resolution=25 * H,
                               notified=26 * H)
    assert judge(record) == outcome("critical", 2)


# ------------------------------------------------------------------------- reopened


@pytest.mark.parametrize(("reopened", "level"), [(0, None), (1, 2), (2, 3), (3, 3)])
def test_reopened_count_escalates(reopened: int, level: int | None) -> None:
    record = handled_complaint(severity="general", reopened_count=reopened)
    assert judge(record) == outcome("general", level)


def test_reopened_once_and_response_late_is_level_two() -> None:
    record = handled_complaint(severity="minor", response=25 * H, resolution=26 * H,
                               notified=27 * H, reopened_count=1)
    assert judge(record) == outcome("minor", 2)


def test_reopened_once_and_past_twice_the_limit_is_level_three() -> None:
    record = handled_complaint(severity="major", resolution=96 * H + US, notified=97 * H,
                               reopened_count=1)
    assert judge(record) == outcome("major", 3)


# ------------------------------------------------------------------------ task force


@pytest.mark.parametrize("severity", SEVERITIES)
def test_task_force_for_major_and_critical_complaints_even_when_resolved(severity: str) -> None:
    record = handled_complaint(severity=severity)
    expected = [concl("task_force", "complaint", "C1")] if severity in SERIOUS else []
    assert judge(record) == expected


# -------------------------------------------------------------------- account review


def account_reviews(records: list[dict[str, Any]], now: datetime = NOW, **lists: Any) -> list[Any]:
    found = decide(facts(now, complaints=records, **lists), now)
    return [c for c in found if c["name"] == "account_review"]


def recent(cid: str, ago: timedelta, client_id: str = "K1") -> dict[str, Any]:
    opened = NOW - ago
    return handled_complaint(cid, "minor", opened=opened, response=H, resolution=2 * H,
                             notified=3 * H, client_id=client_id)


def test_three_complaints_in_thirty_days_draw_an_account_review() -> None:
    records = [recent("C1", D), recent("C2", 10 * D), recent("C3", 29 * D)]
    assert account_reviews(records) == [concl("account_review", "client", "K1")]


def test_two_complaints_in_thirty_days_draw_none() -> None:
    assert account_reviews([recent("C1", D), recent("C2", 10 * D)]) == []


def test_opened_exactly_thirty_days_ago_is_outside_the_window() -> None:
    records = [recent("C1", D), recent("C2", 10 * D), recent("C3", 30 * D)]
    assert account_reviews(records) == []


def test_opened_thirty_days_minus_a_microsecond_ago_is_inside_the_window() -> None:
    records = [recent("C1", D), recent("C2", 10 * D), recent("C3", 30 * D - US)]
    assert account_reviews(records) == [concl("account_review", "client", "K1")]


def test_opened_exactly_now_is_inside_the_window() -> None:
    records = [recent("C1", D), recent("C2", 10 * D),
               complaint("C3", opened=NOW, severity="minor")]
    assert account_reviews(records) == [concl("account_review", "client", "K1")]


def test_opened_after_now_is_outside_the_window() -> None:
    records = [recent("C1", D), recent("C2", 10 * D),
               complaint("C3", opened=NOW + US, severity="minor")]
    assert account_reviews(records) == []


def test_account_review_is_once_per_client() -> None:
    records = [recent(f"C{n}", n * D) for n in range(1, 7)]
    assert account_reviews(records) == [concl("account_review", "client", "K1")]


def test_account_review_counts_each_clients_complaints_separately() -> None:
    clients = [client("K1"), client("K2"), client("K3")]
    records = [recent("C1", D, "K1"), recent("C2", D, "K1"), recent("C3", D, "K2"),
               recent("C4", D, "K3"), recent("C5", 2 * D, "K3"), recent("C6", 3 * D, "K3")]
    assert account_reviews(records, clients=clients) == [concl("account_review", "client", "K3")]


def test_account_review_window_across_offsets() -> None:
    # 30 days before NOW is 2026-10-28T01:00Z; one microsecond later, in New York time.
    edge = (NOW - 30 * D + US).astimezone(EST)
    records = [recent("C1", D), recent("C2", D), complaint("C3", opened=edge, severity="minor")]
    assert account_reviews(records) == [concl("account_review", "client", "K1")]
    records[2] = complaint("C3", opened=(NOW - 30 * D).astimezone(EST), severity="minor")
    assert account_reviews(records) == []


# ----------------------------------------------------------------- client notice


def notice(record: dict[str, Any]) -> list[Any]:
    return [c for c in judge(record) if c["name"] == "client_notice_overdue"]


def test_resolved_exactly_24h_ago_without_notice_is_not_yet_overdue() -> None:
    record = handled_complaint(opened=NOW - 24 * H - 5 * H, response=H, resolution=5 * H,
                               notified=None)
    assert notice(record) == []


def test_resolved_24h_and_a_microsecond_ago_without_notice_is_overdue() -> None:
    record = handled_complaint(opened=NOW - 24 * H - 5 * H - US, response=H, resolution=5 * H,
                               notified=None)
    assert notice(record) == [concl("client_notice_overdue", "complaint", "C1")]


def test_notified_client_is_never_overdue_even_when_told_late() -> None:
    record = handled_complaint(opened=NOW - 30 * D, response=H, resolution=5 * H,
                               notified=10 * D)
    assert notice(record) == []


def test_unresolved_complaint_has_no_notice_to_give() -> None:
    record = complaint(opened=NOW - 30 * D, first_response_at=NOW - 30 * D + H)
    assert notice(record) == []


def test_notice_overdue_comes_with_other_conclusions() -> None:
    record = handled_complaint(severity="critical", opened=NOW - 10 * D, response=2 * H,
                               resolution=3 * H, notified=None)
    assert judge(record) == expect(
        concl("task_force", "complaint", "C1"),
        escalation(1),
        concl("client_notice_overdue", "complaint", "C1"),
    )

