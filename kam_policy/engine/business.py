"""Business time: limits stated in working hours or days under a calendar.

``c.opened_at + 4 business_hours`` is the moment four working hours after the complaint was
opened, counted under the calendar parameter ``business_calendar``; a complaint opened on
Friday at 17:00 (working hours 09:00–18:00) is due on Monday at 12:00. A calendar is a map of
texts, so HR edits it like any parameter (and a parameters file may override it)::

    param business_calendar = {
      zone: "Asia/Shanghai",
      hours: "09:00-12:00, 13:00-18:00",
      rest_days: "saturday, sunday",
      holidays: "2026-10-01..2026-10-07, 2027-01-01",
      workdays: "2026-09-27, 2026-10-10"
    }

``zone`` is an IANA time zone (working hours are wall-clock times there); ``hours`` are the
working intervals of a working day; ``rest_days`` the weekly days off; ``holidays`` dates or
ranges off; ``workdays`` dates worked although they fall on a rest day (调休). ``N business_days``
is the same wall-clock time on the N-th following working day (from the start of the next
working day when counting begins outside one). Regions with other calendars use
``business_time(moment, amount, calendar)`` with a calendar taken from a parameter map.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kam_policy.grammar.ast import BusinessDuration

CALENDAR_PARAM = "business_calendar"
MICROS_PER_HOUR = 3_600_000_000
MAX_DAYS_SEARCHED = 3_660  # a calendar with no working day in ten years is refused
_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_KEYS = ("zone", "hours", "rest_days", "holidays", "workdays")
_INTERVAL = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")

def parse_business(text: str) -> BusinessDuration | None:
    """``"4 business_hours"`` (or ``1 business_day``) as a value; None if it is not one."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*business_(hour|day)s?\s*", text)
    if match is None:
        return None
    digits = match.group(1)
    amount: Decimal | int = int(digits) if "." not in digits else Decimal(digits)
    return BusinessDuration(amount, "hours" if match.group(2) == "hour" else "days")


class CalendarError(ValueError):
    """A calendar parameter that cannot be used; the message says which entry and why."""


@dataclass(frozen=True)
class Calendar:
    """Working time: intervals of a working day in ``zone``, rest days, holidays, workdays."""

    zone: dt.tzinfo
    hours: tuple[tuple[dt.time, dt.time], ...]
    rest_days: frozenset[int]
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]

    def works_on(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() not in self.rest_days and day not in self.holidays

    def intervals(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The working intervals of ``day`` as aware datetimes (none on a day off)."""
        if not self.works_on(day):
            return []
        return [(dt.datetime.combine(day, start, self.zone),
                 dt.datetime.combine(day, end, self.zone)) for start, end in self.hours]


def calendar_from(value: Mapping[str, str]) -> Calendar:
    """Check and build a calendar from its parameter value (cached: parameters do not change)."""
    try:
        return _cached(tuple(sorted(value.items())))
    except TypeError:
        raise CalendarError("a calendar is a map of texts: zone, hours, rest_days, holidays, "
                            "workdays") from None


@functools.lru_cache(maxsize=64)
def _cached(items: tuple[tuple[str, str], ...]) -> Calendar:
    entries = dict(items)
    unknown = [k for k in entries if k not in _KEYS]
    if unknown:
        raise CalendarError(f"unknown calendar entry '{unknown[0]}' (entries: "
                            f"{', '.join(_KEYS)})")
    for key, text in entries.items():
        if not isinstance(text, str):
            raise CalendarError(f"calendar entry '{key}' must be a text")
    if "zone" not in entries or "hours" not in entries:
        raise CalendarError("a calendar needs at least 'zone' and 'hours', e.g. zone: "
                            "\"Asia/Shanghai\", hours: \"09:00-18:00\"")
    try:
        zone = ZoneInfo(entries["zone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarError(f"unknown time zone '{entries['zone']}' (write an IANA name such "
                            "as Asia/Shanghai or Europe/Berlin)") from None
    calendar = Calendar(zone, _hours(entries["hours"]), _rest_days(entries.get("rest_days", "")),
                        _dates(entries.get("holidays", ""), "holidays"),
                        _dates(entries.get("workdays", ""), "workdays"))
    if len(calendar.rest_days) == len(_DAYS):
        raise CalendarError("the calendar has no working day in the week")
    return calendar


def _items(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _hours(text: str) -> tuple[tuple[dt.time, dt.time], ...]:
    intervals = []
    for part in _items(text):
        match = _INTERVAL.match(part)
        if match is None:
            raise CalendarError(f"hours: '{part}' is not an interval such as 09:00-18:00")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
            raise CalendarError(f"hours: '{part}' is not a time of day")
        start = dt.time(h1, m1)
        end = dt.time.max if h2 == 24 else dt.time(h2, m2)
        if end <= start:
            raise CalendarError(f"hours: '{part}' ends before it starts")
        intervals.append((start, end))
    intervals.sort()
    for (_, end), (start, _) in itertools.pairwise(intervals):
        if start < end:
            raise CalendarError("hours: working intervals overlap")
    if not intervals:
        raise CalendarError("hours: write at least one interval, e.g. 09:00-18:00")
    return tuple(intervals)


def _rest_days(text: str) -> frozenset[int]:
    days = set()
    for part in _items(text):
        name = part.lower()
        matches = [i for i, day in enumerate(_DAYS) if day.startswith(name) and len(name) >= 3]
        if len(matches) != 1:
            raise CalendarError(f"rest_days: '{part}' is not a day of the week "
                                "(monday ... sunday)")
        days.add(matches[0])
    return frozenset(days)


def _dates(text: str, key: str) -> frozenset[dt.date]:
    found: set[dt.date] = set()
    for part in _items(text):
        first, _, last = part.partition("..")
        try:
            start = dt.date.fromisoformat(first.strip())
            end = dt.date.fromisoformat(last.strip()) if last else start
        except ValueError:
            raise CalendarError(f"{key}: '{part}' is not a date (2026-10-01) or a range "
                                "(2026-10-01..2026-10-07)") from None
        if end < start or (end - start).days > 366:
            raise CalendarError(f"{key}: '{part}' is not a range of at most a year")
        found.update(start + dt.timedelta(days=n) for n in range((end - start).days + 1))
    return frozenset(found)


# ---- counting working time ---------------------------------------------------------------------


def add_business(moment: dt.datetime, amount: BusinessDuration, calendar: Calendar,
                 sign: int = 1) -> dt.datetime:
    """``moment`` moved forward (``sign`` 1) or back (-1) by ``amount`` of working time."""
    if amount.unit == "days":
        return _add_days(moment, amount, calendar, sign)
    micros = Decimal(amount.amount) * MICROS_PER_HOUR
    whole = int(micros)
    if whole != micros:
        raise CalendarError(f"{amount} is not a whole number of microseconds")
    return _add_micros(moment, whole, calendar, sign)


def _add_micros(moment: dt.datetime, micros: int, calendar: Calendar,
                sign: int) -> dt.datetime:
    local = moment.astimezone(calendar.zone)
    day = local.date()
    remaining = dt.timedelta(microseconds=micros)
    for _ in range(MAX_DAYS_SEARCHED * (1 + micros // (24 * MICROS_PER_HOUR))):
        spans = calendar.intervals(day)
        for start, end in (spans if sign > 0 else reversed(spans)):
            if sign > 0:
                begin = max(start, local)
                if begin >= end:
                    continue
                if remaining <= end - begin:
                    return (begin + remaining).astimezone(moment.tzinfo)
                remaining -= end - begin
            else:
                finish = min(end, local)
                if finish <= start:
                    continue
                if remaining <= finish - start:
                    return (finish - remaining).astimezone(moment.tzinfo)
                remaining -= finish - start
        day += dt.timedelta(days=sign)
    raise CalendarError("no working time found in the calendar")


def _add_days(moment: dt.datetime, amount: BusinessDuration, calendar: Calendar,
              sign: int) -> dt.datetime:
    if amount.amount != int(amount.amount):
        raise CalendarError(f"{amount}: business days are counted whole")
    local = moment.astimezone(calendar.zone)
    day, clock = local.date(), local.timetz().replace(tzinfo=None)
    if not calendar.works_on(day):  # begin at the start of the next working day
        day = _next_working(day, calendar, sign)
        clock = calendar.hours[0][0] if sign > 0 else calendar.hours[-1][1]
    for _ in range(int(amount.amount)):
        day = _next_working(day, calendar, sign)
    return dt.datetime.combine(day, clock, calendar.zone).astimezone(moment.tzinfo)


def _next_working(day: dt.date, calendar: Calendar, sign: int) -> dt.date:
    for _ in range(MAX_DAYS_SEARCHED):
        day += dt.timedelta(days=sign)
        if calendar.works_on(day):
            return day
    raise CalendarError("no working day found in the calendar")


__all__ = ["CALENDAR_PARAM", "BusinessDuration", "Calendar", "CalendarError", "add_business",
           "calendar_from", "parse_business"]
