"""Section F of the reference policy: client contact cadence and satisfaction surveys."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from policy_helpers import (
    CST,
    EST,
    NOW,
    US,
    UTC,
    D,
    client,
    concl,
    day,
    decide_about,
    expect,
    facts,
    staff,
    top_manager,
)

CADENCE = {"strategic": 14 * D, "key": 30 * D}


def judge(record: dict[str, Any], now: datetime = NOW, **lists: Any) -> list[Any]:
    return decide_about(facts(now, clients=[record], **lists), "client", record["id"], now)


def contacted(tier: str, ago: timedelta, **fields: Any) -> dict[str, Any]:
    return client("K1", tier=tier, last_contact_at=(NOW - ago).isoformat(), **fields)


OVERDUE = concl("contact_overdue", "client", "K1", owner_id="S1")


def escalation(manager_id: str | None = "M1") -> dict[str, Any]:
    return concl("contact_escalation", "client", "K1", manager_id=manager_id)


# ------------------------------------------------------------------------- contacts


@pytest.mark.parametrize("tier", sorted(CADENCE))
def test_contact_exactly_at_the_cadence_is_in_time(tier: str) -> None:
    assert judge(contacted(tier, CADENCE[tier])) == []


@pytest.mark.parametrize("tier", sorted(CADENCE))
def test_contact_a_microsecond_over_the_cadence_is_overdue(tier: str) -> None:
    assert judge(contacted(tier, CADENCE[tier] + US)) == [OVERDUE]


@pytest.mark.parametrize("tier", sorted(CADENCE))
def test_contact_exactly_twice_the_cadence_is_still_only_overdue(tier: str) -> None:
    assert judge(contacted(tier, 2 * CADENCE[tier])) == [OVERDUE]


@pytest.mark.parametrize("tier", sorted(CADENCE))
def test_over_twice_the_cadence_escalates_instead(tier: str) -> None:
    assert judge(contacted(tier, 2 * CADENCE[tier] + US)) == [escalation()]
    assert judge(contacted(tier, 10 * CADENCE[tier])) == [escalation()]


def test_contact_overdue_names_the_owner() -> None:
    people = [top_manager(), staff("S1"), staff("S2", manager_id="S1")]
    record = contacted("strategic", 15 * D, owner_id="S2")
    assert judge(record, staff=people) == [concl("contact_overdue", "client", "K1",
                                                 owner_id="S2")]


def test_contact_escalation_names_the_owners_manager() -> None:
    people = [top_manager(), staff("S1"), staff("S2", manager_id="S1")]
    record = contacted("strategic", 29 * D, owner_id="S2")
    assert judge(record, staff=people) == [escalation("S1")]


def test_contact_escalation_manager_is_null_for_an_owner_at_the_top() -> None:
    record = contacted("key", 61 * D, owner_id="M1")
    assert judge(record) == [escalation(None)]


def test_last_contact_in_another_offset_is_the_same_instant() -> None:
    edge = (NOW - 14 * D).astimezone(EST).isoformat()
    assert judge(client("K1", tier="strategic", last_contact_at=edge)) == []
    over = (NOW - 14 * D - US).astimezone(UTC).isoformat().replace("+00:00", "Z")
    assert judge(client("K1", tier="strategic", last_contact_at=over)) == [OVERDUE]


# -------------------------------------------------------------------------- surveys

SURVEY_DUE = concl("survey_due", "client", "K1")


def surveyed(days_before: int | None, now: datetime = NOW, **fields: Any) -> dict[str, Any]:
    last = None if days_before is None else day(now, days_before)
    return client("K1", now=now, last_survey_at=last, **fields)


def test_survey_exactly_180_days_ago_is_not_due() -> None:
    assert judge(surveyed(180)) == []


def test_survey_181_days_ago_is_due() -> None:
    assert judge(surveyed(181)) == [SURVEY_DUE]


def test_never_surveyed_client_is_due() -> None:
    assert judge(surveyed(None)) == [SURVEY_DUE]
    record = {k: v for k, v in surveyed(None).items() if k != "last_survey_at"}
    assert judge(record) == [SURVEY_DUE]


@pytest.mark.parametrize(
    ("now", "last", "due"),
    [
        # +08:00 just after midnight: today is 2026-11-27 there, the 26th in UTC.
        (datetime(2026, 11, 27, 0, 30, tzinfo=CST), "2026-05-30", True),   # 181 days
        (datetime(2026, 11, 27, 0, 30, tzinfo=CST), "2026-05-31", False),  # 180 days
        # -05:00 just before midnight: today is 2026-11-26 there, the 27th in UTC.
        (datetime(2026, 11, 26, 23, 30, tzinfo=EST), "2026-05-30", False),  # 180 days
        (datetime(2026, 11, 26, 23, 30, tzinfo=EST), "2026-05-29", True),   # 181 days
    ],
)
def test_survey_age_is_whole_days_from_nows_own_calendar_date(
    now: datetime, last: str, due: bool
) -> None:
    record = client("K1", now=now, last_survey_at=last)
    assert judge(record, now=now) == ([SURVEY_DUE] if due else [])


@pytest.mark.parametrize(("score", "planned"),
                         [(0, True), ("59.99", True), (60, False), (100, False),
                          (None, False)])
def test_account_improvement_plan_below_60(score: Any, planned: bool) -> None:
    expected = [concl("account_improvement_plan", "client", "K1")] if planned else []
    assert judge(surveyed(10, last_survey_score=score)) == expected


def test_a_client_can_draw_every_section_f_conclusion_but_one_contact_kind() -> None:
    record = contacted("strategic", 20 * D, last_survey_at=None, last_survey_score=12)
    assert judge(record) == expect(OVERDUE, SURVEY_DUE,
                                   concl("account_improvement_plan", "client", "K1"))
