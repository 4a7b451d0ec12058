"""Response clocks measured in the officer's own office hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.core.triage.office_hours import (
    AwayPeriod,
    OfficeHours,
    OfficeHoursError,
    Urgency,
    add_office_time,
    deadline,
    end_vacation,
    is_open,
    next_opening,
    office_time_between,
    open_intervals,
    start_vacation,
    urgency_of_due,
)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS_9_TO_5 = OfficeHours(zone="Europe/London")


def local(
    zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


def test_friday_1645_with_30_minute_target_is_due_monday_0915() -> None:
    friday = local(LONDON, 2024, 3, 1, 16, 45)
    assert friday.weekday() == 4
    due = add_office_time(WEEKDAYS_9_TO_5, friday, timedelta(minutes=30))
    assert due == local(LONDON, 2024, 3, 4, 9, 15)


def test_a_message_overnight_waits_for_the_morning() -> None:
    tuesday_night = local(LONDON, 2024, 3, 5, 20, 0)
    due = add_office_time(WEEKDAYS_9_TO_5, tuesday_night, timedelta(hours=2))
    assert due == local(LONDON, 2024, 3, 6, 11, 0)
    early = local(LONDON, 2024, 3, 6, 6, 30)
    assert add_office_time(WEEKDAYS_9_TO_5, early, timedelta(hours=2)) == due


def test_a_weekend_message_counts_from_monday_opening() -> None:
    saturday = local(LONDON, 2024, 3, 2, 11, 0)
    assert add_office_time(WEEKDAYS_9_TO_5, saturday, timedelta(hours=1)) == local(
        LONDON, 2024, 3, 4, 10, 0
    )
    assert next_opening(WEEKDAYS_9_TO_5, saturday) == local(LONDON, 2024, 3, 4, 9, 0)
    assert not is_open(WEEKDAYS_9_TO_5, saturday)


def test_targets_longer_than_a_day_span_several_working_days() -> None:
    monday_noon = local(LONDON, 2024, 3, 4, 12, 0)
    # 5 h Monday, 8 h Tuesday, 3 h Wednesday = 16 h
    due = add_office_time(WEEKDAYS_9_TO_5, monday_noon, timedelta(hours=16))
    assert due == local(LONDON, 2024, 3, 6, 12, 0)


def test_holidays_are_closed() -> None:
    hours = OfficeHours(zone="Europe/London", holidays=frozenset({date(2024, 3, 4)}))
    friday = local(LONDON, 2024, 3, 1, 16, 45)
    assert add_office_time(hours, friday, timedelta(minutes=30)) == local(LONDON, 2024, 3, 5, 9, 15)


def test_office_time_between_counts_only_open_time() -> None:
    friday = local(LONDON, 2024, 3, 1, 16, 0)
    monday = local(LONDON, 2024, 3, 4, 10, 0)
    assert office_time_between(WEEKDAYS_9_TO_5, friday, monday) == timedelta(hours=2)
    assert office_time_between(WEEKDAYS_9_TO_5, monday, friday) == timedelta()


def test_office_hours_are_in_the_officers_zone_whatever_zone_the_message_has() -> None:
    hours = OfficeHours(zone="America/New_York")
    # 13:30 UTC on a Monday in March (before US DST) is 08:30 in New York: not open yet.
    arrived = datetime(2024, 3, 4, 13, 30, tzinfo=UTC)
    assert add_office_time(hours, arrived, timedelta(minutes=30)) == local(
        NEW_YORK, 2024, 3, 4, 9, 30
    )


def test_daylight_saving_change_moves_the_opening_instant_not_the_working_day() -> None:
    hours = OfficeHours(zone="America/New_York")
    # US clocks went forward on Sunday 10 March 2024.
    friday = local(NEW_YORK, 2024, 3, 8, 16, 0)
    due = add_office_time(hours, friday, timedelta(hours=2))
    assert due == local(NEW_YORK, 2024, 3, 11, 10, 0)
    assert due is not None and due.astimezone(UTC) == datetime(2024, 3, 11, 14, 0, tzinfo=UTC)
    friday_utc_due = add_office_time(hours, local(NEW_YORK, 2024, 3, 1, 16, 0), timedelta(hours=2))
    assert friday_utc_due is not None
    assert friday_utc_due.astimezone(UTC) == datetime(2024, 3, 4, 15, 0, tzinfo=UTC)


def test_a_round_the_clock_office_counts_real_time_across_the_short_dst_night() -> None:
    always = OfficeHours(
        zone="Europe/Berlin", days=frozenset(range(7)), opens=time(0), closes=time(0)
    )
    # Berlin went from 02:00 CET to 03:00 CEST on Sunday 31 March 2024: that night is an hour short.
    start = local(BERLIN, 2024, 3, 30, 23, 0)
    due = add_office_time(always, start, timedelta(hours=4))
    assert due == local(BERLIN, 2024, 3, 31, 4, 0)  # 4 real hours, 5 on the wall clock
    end = local(BERLIN, 2024, 4, 1, 0, 0)
    assert office_time_between(always, local(BERLIN, 2024, 3, 31, 0, 0), end) == timedelta(hours=23)


def test_vacation_mode_stops_the_clock_and_ending_it_restarts_it() -> None:
    received = local(LONDON, 2024, 3, 5, 16, 0)  # Tuesday: 1 h of office time left that day
    target = timedelta(hours=3)
    leaving = local(LONDON, 2024, 3, 6, 10, 0)  # Wednesday 10:00: 2 h used
    away = start_vacation(WEEKDAYS_9_TO_5, leaving)
    assert away.on_vacation(local(LONDON, 2024, 3, 7, 12, 0))

    thursday = local(LONDON, 2024, 3, 7, 15, 0)
    paused = deadline(away, received, target, thursday)
    assert paused.urgency is Urgency.PAUSED
    assert paused.due_at is None
    assert paused.used == timedelta(hours=2)  # nothing counted while away

    back = end_vacation(away, local(LONDON, 2024, 3, 8, 11, 0))  # Friday 11:00
    assert not back.on_vacation(local(LONDON, 2024, 3, 8, 11, 30))
    resumed = deadline(back, received, target, local(LONDON, 2024, 3, 8, 11, 30))
    assert resumed.due_at == local(LONDON, 2024, 3, 8, 12, 0)
    assert resumed.urgency is Urgency.AT_RISK  # 30 min of 3 h left < 25 %


def test_something_already_overdue_stays_overdue_on_vacation() -> None:
    received = local(LONDON, 2024, 3, 5, 9, 0)
    away = start_vacation(WEEKDAYS_9_TO_5, local(LONDON, 2024, 3, 5, 15, 0))
    state = deadline(away, received, timedelta(hours=1), local(LONDON, 2024, 3, 6, 12, 0))
    assert state.urgency is Urgency.OVERDUE
    assert state.due_at == local(LONDON, 2024, 3, 5, 10, 0)


def test_deadline_states_on_time_at_risk_overdue() -> None:
    received = local(LONDON, 2024, 3, 4, 9, 0)
    target = timedelta(hours=2)

    def at(hour: int, minute: int) -> datetime:
        return local(LONDON, 2024, 3, 4, hour, minute)

    assert deadline(WEEKDAYS_9_TO_5, received, target, at(9, 30)).urgency is Urgency.ON_TIME
    risky = deadline(WEEKDAYS_9_TO_5, received, target, at(10, 40))
    assert risky.urgency is Urgency.AT_RISK and risky.remaining == timedelta(minutes=20)
    late = deadline(WEEKDAYS_9_TO_5, received, target, at(13, 0))
    assert late.urgency is Urgency.OVERDUE and late.remaining == -timedelta(hours=2)
    assert late.fraction_used == 2.0


def test_list_rows_know_their_state_from_the_stored_due_time() -> None:
    due = local(LONDON, 2024, 3, 4, 11, 0)
    target = timedelta(hours=2)
    state = urgency_of_due(WEEKDAYS_9_TO_5, due, local(LONDON, 2024, 3, 4, 9, 0), target)
    assert state is Urgency.ON_TIME
    friday_late = local(LONDON, 2024, 3, 1, 16, 50)  # 10 min of Friday + 2 h Monday left
    assert urgency_of_due(WEEKDAYS_9_TO_5, due, friday_late, target) is Urgency.ON_TIME
    assert urgency_of_due(WEEKDAYS_9_TO_5, due, local(LONDON, 2024, 3, 4, 10, 45), target) is (
        Urgency.AT_RISK
    )
    assert urgency_of_due(WEEKDAYS_9_TO_5, due, due, target) is Urgency.OVERDUE
    assert urgency_of_due(WEEKDAYS_9_TO_5, None, due, target) is None


def test_no_open_day_means_never_due() -> None:
    closed = OfficeHours(days=frozenset())
    assert add_office_time(closed, datetime(2024, 1, 1, tzinfo=UTC), timedelta(hours=1)) is None


def test_bad_office_hours_are_refused() -> None:
    with pytest.raises(OfficeHoursError, match="time zone"):
        OfficeHours(zone="Mars/Olympus_Mons")
    with pytest.raises(OfficeHoursError, match="close after it opens"):
        OfficeHours(opens=time(17), closes=time(9))
    with pytest.raises(OfficeHoursError, match="0 \\(Monday\\)"):
        OfficeHours(days=frozenset({7}))
    with pytest.raises(OfficeHoursError, match="aware"):
        AwayPeriod(datetime(2024, 1, 1))
    with pytest.raises(OfficeHoursError, match="aware"):
        is_open(WEEKDAYS_9_TO_5, datetime(2024, 1, 1))


def test_long_spans_use_the_running_total_and_agree_with_day_by_day_counting() -> None:
    hours = OfficeHours(
        zone="Europe/Berlin",
        holidays=frozenset({date(2024, 12, 25), date(2024, 12, 26), date(2025, 1, 1)}),
        away=(AwayPeriod(local(BERLIN, 2024, 8, 5, 12, 0), local(BERLIN, 2024, 8, 19, 9, 30)),),
    )
    start = local(BERLIN, 2024, 1, 3, 15, 20)
    end = local(BERLIN, 2025, 2, 11, 10, 5)
    by_day = sum((b - a for a, b in open_intervals(hours, start, end)), timedelta())
    assert office_time_between(hours, start, end) == by_day
    # 2024-01-03 … 2025-02-11: whole weekdays at 8 h, minus holidays and two weeks away.
    assert timedelta(hours=2200) < by_day < timedelta(hours=2400)
