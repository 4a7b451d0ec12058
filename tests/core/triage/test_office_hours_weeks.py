"""Whole weeks counted at once agree exactly with counting day by day, whatever the calendar.

``office_time_between`` and ``add_office_time`` skip weeks with no holiday, no time away and no
clock change using the weekly open time; these tests compare them with a plain day-by-day walk
over the same open intervals (``open_intervals``) in zones with daylight saving, half-hour
changes, a change at midnight, two changes a week apart, and with holidays and time away.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.core.triage.office_hours import (
    HORIZON_DAYS,
    AwayPeriod,
    OfficeHours,
    add_office_time,
    next_opening,
    office_time_between,
    open_intervals,
    start_vacation,
)

ZONES = [
    "UTC",
    "Europe/London",
    "America/New_York",
    "Australia/Lord_Howe",  # 30-minute daylight saving
    "America/Havana",  # clocks change at midnight
    "America/Recife",  # 2000: daylight saving began, and was called off a week later
    "Antarctica/Troll",  # a two-hour change
    "Asia/Kolkata",
]


def by_day_between(hours: OfficeHours, start: datetime, end: datetime) -> timedelta:
    return sum((b - a for a, b in open_intervals(hours, start, end)), timedelta())


def by_day_add(hours: OfficeHours, start: datetime, amount: timedelta) -> datetime | None:
    """The walk ``add_office_time`` did before it skipped weeks."""
    zone = ZoneInfo(hours.zone)
    first = start.astimezone(zone).date()
    last = first + timedelta(days=HORIZON_DAYS - 1)
    end = datetime.combine(last + timedelta(days=2), time(0), tzinfo=zone)
    left = amount
    for a, b in open_intervals(hours, start, end):
        if a.astimezone(zone).date() > last and b.astimezone(zone).date() > last:
            break
        if b - a >= left:
            return a + left
        left -= b - a
    return None


def calendars(zone: str, rng: random.Random) -> list[OfficeHours]:
    tz = ZoneInfo(zone)
    holidays = frozenset(date(2000, 1, 3) + timedelta(days=rng.randrange(9000)) for _ in range(40))
    away = tuple(
        AwayPeriod(begin, begin + timedelta(hours=rng.randrange(1, 24 * 20)))
        for begin in (
            datetime(2000, 1, 3, tzinfo=UTC) + timedelta(hours=rng.randrange(24 * 9000))
            for _ in range(25)
        )
    )
    return [
        OfficeHours(zone=zone),
        OfficeHours(zone=zone, opens=time(0), closes=time(0), days=frozenset(range(7))),
        OfficeHours(zone=zone, opens=time(22), closes=time(0), days=frozenset({0, 2, 5})),
        OfficeHours(zone=zone, opens=time(1, 30), closes=time(3), holidays=holidays, away=away),
        start_vacation(
            OfficeHours(zone=zone, holidays=holidays),
            datetime(2012, 6, 1, 12, tzinfo=tz),
        ),
    ]


def instants(rng: random.Random, count: int) -> list[datetime]:
    begin = datetime(1999, 6, 1, tzinfo=UTC)
    return [begin + timedelta(seconds=rng.randrange(26 * 365 * 86400)) for _ in range(count)]


@pytest.mark.parametrize("zone", ZONES)
def test_office_time_between_agrees_with_the_day_by_day_count(zone: str) -> None:
    rng = random.Random(zone)
    for hours in calendars(zone, rng):
        for start in instants(rng, 12):
            for span in (timedelta(hours=30), timedelta(days=9), timedelta(days=400)):
                end = start + span * rng.random()
                assert office_time_between(hours, start, end) == by_day_between(
                    hours, start, end
                ), (hours, start, end)


@pytest.mark.parametrize("zone", ZONES)
def test_add_office_time_agrees_with_the_day_by_day_walk(zone: str) -> None:
    rng = random.Random(zone + "add")
    for hours in calendars(zone, rng):
        for start in instants(rng, 8):
            for amount in (
                timedelta(),
                timedelta(minutes=30),
                timedelta(hours=rng.randrange(1, 400)),
                timedelta(hours=rng.randrange(400, 3000)),
            ):
                assert add_office_time(hours, start, amount) == by_day_add(hours, start, amount), (
                    hours,
                    start,
                    amount,
                )


def test_the_week_two_clock_changes_apart_is_counted_day_by_day() -> None:
    """Recife, October 2000: forward on the 8th, back on the 15th (a week apart)."""
    always = OfficeHours(
        zone="America/Recife", days=frozenset(range(7)), opens=time(0), closes=time(0)
    )
    start = datetime(2000, 10, 2, tzinfo=ZoneInfo("America/Recife"))
    end = start + timedelta(days=28)
    assert office_time_between(always, start, end) == by_day_between(always, start, end)
    assert office_time_between(always, start, end) == end - start


def test_a_target_beyond_the_horizon_is_never_reached() -> None:
    monday = datetime(2024, 3, 4, 9, tzinfo=UTC)
    hours = OfficeHours()
    reachable = add_office_time(hours, monday, timedelta(hours=8 * 5 * 100))
    assert reachable is not None and reachable - monday < timedelta(days=HORIZON_DAYS)
    assert add_office_time(hours, monday, timedelta(hours=8 * 5 * 200)) is None
    assert next_opening(start_vacation(hours, monday), monday + timedelta(hours=1)) is None
