"""Working time under a business calendar: ``c.opened_at + 4 business_hours``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kam_policy
from kam_policy import PolicyCheckError
from kam_policy.engine.business import CalendarError, add_business, calendar_from, parse_business
from kam_policy.facts import bundled_schema
from kam_policy.grammar.ast import BusinessDuration
from kam_policy.session import Session

CST = dt.timezone(dt.timedelta(hours=8))
EXAMPLE = Path(__file__).parent.parent / "examples" / "policies" / "business-hours"
CHINA = {"zone": "Asia/Shanghai", "hours": "09:00-12:00, 13:00-18:00",
         "rest_days": "saturday, sunday", "holidays": "2026-10-01..2026-10-07",
         "workdays": "2026-10-10"}


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def hours(n: int | str) -> BusinessDuration:
    working = parse_business(f"{n} business_hours")
    assert working is not None
    return working


def days(n: int) -> BusinessDuration:
    return BusinessDuration(n, "days")


# ---- the calendar arithmetic -----------------------------------------------------------------


@pytest.mark.parametrize(("start", "amount", "due"), [
    ("2026-11-27T17:00:00+08:00", hours(4), "2026-11-30T12:00:00+08:00"),  # Friday -> Monday
    ("2026-11-27T17:00:00+08:00", hours(1), "2026-11-27T18:00:00+08:00"),  # exactly at closing
    ("2026-11-27T18:00:00+08:00", hours(1), "2026-11-30T10:00:00+08:00"),
    ("2026-11-27T11:30:00+08:00", hours(1), "2026-11-27T13:30:00+08:00"),  # over lunch
    ("2026-11-28T10:00:00+08:00", hours(2), "2026-11-30T11:00:00+08:00"),  # from a Saturday
    ("2026-09-30T17:00:00+08:00", hours(2), "2026-10-08T10:00:00+08:00"),  # national holiday
    ("2026-10-09T17:00:00+08:00", hours(2), "2026-10-10T10:00:00+08:00"),  # Saturday worked
    ("2026-11-27T09:00:00Z", hours(2), "2026-11-30T02:00:00+00:00"),  # 17:00 in Shanghai
    ("2026-11-27T10:00:00+08:00", hours("1.5"), "2026-11-27T11:30:00+08:00"),
    ("2026-11-27T10:00:00+08:00", days(1), "2026-11-30T10:00:00+08:00"),
    ("2026-11-28T10:00:00+08:00", days(1), "2026-12-01T09:00:00+08:00"),
])
def test_working_time_is_counted_in_the_calendar(start: str, amount: BusinessDuration,
                                                 due: str) -> None:
    result = add_business(at(start), amount, calendar_from(CHINA))
    assert result == at(due)
    assert result.utcoffset() == at(start).utcoffset()  # in the moment's own offset


def test_working_time_counts_backwards_too() -> None:
    calendar = calendar_from(CHINA)
    assert add_business(at("2026-11-30T12:00:00+08:00"), hours(4), calendar, -1) == \
        at("2026-11-27T17:00:00+08:00")


@pytest.mark.parametrize(("change", "message"), [
    ({"zone": "Asia/Shang_hai"}, "unknown time zone 'Asia/Shang_hai'"),
    ({"hours": "9-18"}, "hours: '9-18' is not an interval such as 09:00-18:00"),
    ({"hours": "18:00-09:00"}, "ends before it starts"),
    ({"hours": "09:00-13:00, 12:00-18:00"}, "working intervals overlap"),
    ({"rest_days": "caturday"}, "'caturday' is not a day of the week"),
    ({"holidays": "2026-13-01"}, "holidays: '2026-13-01' is not a date"),
    ({"rest_days": "mon, tue, wed, thu, fri, sat, sun"}, "no working day in the week"),
    ({"colour": "blue"}, "unknown calendar entry 'colour'"),
])
def test_a_wrong_calendar_says_which_entry(change: dict[str, str], message: str) -> None:
    with pytest.raises(CalendarError, match=message):
        calendar_from({**CHINA, **change})


START = dt.datetime(2026, 11, 2, 0, 0, tzinfo=CST)


@settings(max_examples=200, deadline=None)
@given(offset=st.integers(0, 14 * 24 * 60), quarters=st.integers(1, 160))
def test_the_deadline_leaves_exactly_that_much_working_time(offset: int, quarters: int) -> None:
    """Counting the working minutes between start and deadline gives the amount back."""
    calendar = calendar_from(CHINA)
    start = START + dt.timedelta(minutes=offset)
    due = add_business(start, BusinessDuration(Decimal(quarters) / 4, "hours"), calendar)
    worked = 0
    moment = start
    while moment < due:
        local = moment.astimezone(calendar.zone)
        if any(s <= local < e for s, e in calendar.intervals(local.date())):
            worked += 1
        moment += dt.timedelta(minutes=1)
    assert worked == quarters * 15


@settings(max_examples=200, deadline=None)
@given(offset=st.integers(0, 14 * 24 * 60), a=st.integers(0, 30), b=st.integers(0, 30))
def test_more_working_time_is_never_due_earlier(offset: int, a: int, b: int) -> None:
    calendar = calendar_from(CHINA)
    start = START + dt.timedelta(minutes=offset)
    low, high = sorted((a, b))
    assert add_business(start, hours(low), calendar) <= add_business(start, hours(high), calendar)


# ---- in the language --------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> kam_policy.Policy:
    (tmp_path / "policy.kp").write_text('policy "T" version "1"\n' + text, encoding="utf-8")
    return kam_policy.load(tmp_path, schema=bundled_schema())


RULE = """
conclusion late() about Complaint "Late"
rule R.late "Late" {
  section "C"
  for c in Complaint
  when now > c.opened_at + 4 business_hours
  emit late()
}
"""


def test_working_time_without_a_calendar_is_refused_at_the_expression(tmp_path: Path) -> None:
    with pytest.raises(PolicyCheckError) as raised:
        write(tmp_path, RULE)
    [diagnostic] = raised.value.diagnostics
    assert diagnostic.code == "check.no-calendar"
    assert diagnostic.span is not None
    assert (diagnostic.span.line, diagnostic.span.column) == (7, 14)
    assert "param business_calendar = {zone:" in (diagnostic.hint or "")


def test_a_wrong_calendar_is_reported_at_the_parameter(tmp_path: Path) -> None:
    with pytest.raises(PolicyCheckError) as raised:
        write(tmp_path, 'param business_calendar = {zone: "Mars/Olympus", hours: "09:00-18:00"}'
              + RULE)
    [diagnostic] = raised.value.diagnostics
    assert diagnostic.code == "check.bad-calendar"
    assert diagnostic.span is not None and diagnostic.span.line == 2
    assert "unknown time zone 'Mars/Olympus'" in diagnostic.message


@pytest.mark.parametrize(("expression", "hint"), [
    ("now - c.opened_at > 4 business_hours", "compare moments"),
    ("4 business_hours > 2 business_hours", "compare moments instead"),
    ("c.opened_at * 4 business_hours > now", "working time moves a datetime"),
])
def test_working_time_is_only_added_to_moments(tmp_path: Path, expression: str,
                                               hint: str) -> None:
    text = 'param business_calendar = {zone: "Asia/Shanghai", hours: "09:00-18:00"}' + \
        RULE.replace("now > c.opened_at + 4 business_hours", expression)
    with pytest.raises(PolicyCheckError) as raised:
        write(tmp_path, text)
    assert hint in raised.value.rendered


def staff() -> dict[str, Any]:
    return {"id": "S1", "name": "A", "role": None, "education": "master", "major": "M",
            "sales_years": 1, "ka_sales_years": 1, "pm_years": 0, "ka_project_years": 0,
            "after_sales_years": 0, "role_since": None, "manager_id": None,
            "career_track": "management", "monthly_target_bonus": None}


def opened(when: dt.datetime, severity: str = "major") -> list[dict[str, Any]]:
    client = {"id": "K1", "name": "C", "tier": "key", "owner_id": "S1",
              "last_contact_at": when.isoformat(), "last_survey_at": None,
              "last_survey_score": None}
    complaint = {"id": "CP1", "client_id": "K1", "assigned_to": "S1", "severity": severity,
                 "opened_at": when.isoformat(), "first_response_at": None,
                 "resolved_at": None, "client_notified_at": None, "reopened_count": 0}
    return [{"at": when.isoformat(), "op": "put", "type": kind, "record": record}
            for kind, record in (("Staff", staff()), ("Client", client),
                                 ("Complaint", complaint))]


def test_a_complaint_opened_friday_at_five_escalates_monday_morning() -> None:
    """The issue's example: 4 business hours from Friday 17:00 end on Monday at 12:00."""
    session = Session(kam_policy.load(EXAMPLE))
    friday = dt.datetime(2026, 11, 27, 17, 0, tzinfo=CST)
    session.feed(opened(friday))
    monday_noon = dt.datetime(2026, 11, 30, 12, 0, tzinfo=CST)
    assert session.advance_to(monday_noon) == []  # the whole weekend passes quietly
    [fired] = session.advance_to(monday_noon + dt.timedelta(microseconds=1))
    assert fired.conclusion.name == "response_overdue"
    assert fired.at == monday_noon + dt.timedelta(microseconds=1)
    assert fired.conclusion.values == {"limit": "4 business_hours"}


def test_a_parameters_file_can_move_holidays_and_limits(tmp_path: Path) -> None:
    params = tmp_path / "params.toml"
    params.write_text('[business_calendar]\nholidays = "2026-11-30"\n\n'
                      '[response_limit]\nmajor = "2 business_hours"\n', encoding="utf-8")
    session = Session(kam_policy.load(EXAMPLE, params=params))
    friday = dt.datetime(2026, 11, 27, 17, 0, tzinfo=CST)
    session.feed(opened(friday))
    [fired] = session.advance_to(friday + dt.timedelta(days=7))
    # 1 hour on Friday, Monday is a holiday now, 1 more hour on Tuesday
    assert fired.at == dt.datetime(2026, 12, 1, 10, 0, 0, 1, tzinfo=CST)


def test_a_wrong_override_says_what_to_write(tmp_path: Path) -> None:
    params = tmp_path / "params.toml"
    params.write_text('[response_limit]\nmajor = "4h"\n', encoding="utf-8")
    with pytest.raises(kam_policy.ParameterError, match="4 business_hours"):
        kam_policy.load(EXAMPLE, params=params)
