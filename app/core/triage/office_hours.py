"""Response-time clocks that run only in the officer's own office hours.

A one-person team cannot answer at 3 a.m., so a target such as "reply within 30 minutes" is
measured in open office time: the days of the week and hours the officer works, in their own
time zone, minus public holidays and time away. Vacation mode is an away period with no end yet:
while it lasts the clocks stand still (nothing becomes overdue) and the composer suggests the
away template. When the officer comes back, the period gets its end and the clocks run again.

Arithmetic is done on real elapsed time between UTC instants; the wall-clock opening and closing
times are turned into instants day by day in the configured zone, so a daylight-saving change
moves the opening instant, not the length of the working day. All functions are pure.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = frozenset(range(5))  # Monday = 0
HORIZON_DAYS = 800  # how far ahead a deadline is searched before it counts as "never"
Interval = tuple[datetime, datetime]


class OfficeHoursError(ValueError):
    """Office hours that cannot work (unknown zone, closing before opening, naive times)."""


@dataclass(frozen=True, slots=True)
class AwayPeriod:
    """Time the officer is away; ``end`` None means vacation mode is on now."""

    start: datetime
    end: datetime | None = None

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or (self.end is not None and self.end.tzinfo is None):
            raise OfficeHoursError("Away periods need timezone-aware times.")
        if self.end is not None and self.end < self.start:
            raise OfficeHoursError("An away period cannot end before it starts.")

    def covers(self, at: datetime) -> bool:
        return self.start <= at and (self.end is None or at < self.end)


@dataclass(frozen=True, slots=True)
class OfficeHours:
    """When the officer works. ``closes`` of midnight (00:00) means the end of the day."""

    zone: str = "UTC"
    days: frozenset[int] = WEEKDAYS
    opens: time = time(9, 0)
    closes: time = time(17, 0)
    holidays: frozenset[date] = frozenset()
    away: tuple[AwayPeriod, ...] = field(default=())

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise OfficeHoursError(f"Unknown time zone {self.zone!r}.") from exc
        if not self.days <= frozenset(range(7)):
            raise OfficeHoursError("Days are numbered 0 (Monday) to 6 (Sunday).")
        if self.closes != time(0) and self.closes <= self.opens:
            raise OfficeHoursError("The office must close after it opens (00:00 = midnight).")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    def on_vacation(self, at: datetime) -> bool:
        """Vacation mode: an open-ended away period that has begun."""
        return any(p.end is None and p.start <= at for p in self.away)


def start_vacation(hours: OfficeHours, now: datetime) -> OfficeHours:
    """Turn vacation mode on: the clocks stop at ``now``."""
    if hours.on_vacation(now):
        return hours
    return replace(hours, away=(*hours.away, AwayPeriod(now)))


def end_vacation(hours: OfficeHours, now: datetime) -> OfficeHours:
    """Turn vacation mode off: the time away stays excluded, the clocks run again."""
    away = tuple(AwayPeriod(p.start, max(now, p.start)) if p.end is None else p for p in hours.away)
    return replace(hours, away=away)


class _Calendar:
    """The open time of one ``OfficeHours``, computed once and kept.

    Whole weeks are counted without looking at their days: a week with no holiday, no time
    away and no change of UTC offset (one probe at each local midnight) holds exactly the
    weekly open time on the wall clock. Only the other weeks, and the days at the ends of a
    span, are counted day by day (each day's open intervals are kept). A running total over
    the weeks seen makes the office time of a long span cost a few look-ups."""

    def __init__(self, hours: OfficeHours) -> None:
        self.hours = hours
        self.tz = hours.tz
        self._days: dict[date, tuple[Interval, ...]] = {}
        self._lengths: dict[date, timedelta] = {}
        self._weeks: dict[date, timedelta] = {}  # Monday: open time that week
        self._base: date | None = None  # the Monday of _totals[0]
        self._totals: list[timedelta] = [timedelta()]  # open time of the weeks before base + i
        self._before: dict[date, timedelta] = {}  # day: open time from _base up to it
        open_length = _wall_length(hours.opens, hours.closes)
        self._weekly = open_length * len(hours.days)
        # No office time ever after this instant: vacation mode (an away period with no end).
        self.stops = min((p.start for p in hours.away if p.end is None), default=None)
        # Results for instants in the closed time before an open interval, which are the same
        # for any instant there: (day, interval, end) -> office time up to end, and
        # (day, interval, amount) -> the instant that amount of office time later.
        self.spans: dict[tuple[date, int, datetime], timedelta] = {}
        self.reached: dict[tuple[date, int, timedelta], datetime | None] = {}

    def place(self, at: datetime) -> tuple[date, int, bool]:
        """The local day of ``at`` and where it falls among that day's open intervals: inside
        interval ``k`` (True), or in the closed time before it (False; ``k`` is the number of
        intervals when ``at`` comes after the last one)."""
        day = self.local_day(at)
        intervals = self.day(day)
        for k, (a, b) in enumerate(intervals):
            if at < b:
                return day, k, at >= a
        return day, len(intervals), False

    def local_day(self, at: datetime) -> date:
        return _aware(at).astimezone(self.tz).date()

    def day(self, day: date) -> tuple[Interval, ...]:
        found = self._days.get(day)
        if found is None:
            found = self._days[day] = _day_intervals(self.hours, self.tz, day)
        return found

    def length(self, day: date) -> timedelta:
        """Open time on one local day."""
        found = self._lengths.get(day)
        if found is None:
            found = self._lengths[day] = sum((b - a for a, b in self.day(day)), timedelta())
        return found

    def week(self, monday: date) -> timedelta:
        """Open time in the week starting on ``monday``."""
        found = self._weeks.get(monday)
        if found is None:
            if self._regular_week(monday):
                found = self._weekly
            else:
                found = sum((self.length(monday + timedelta(days=i)) for i in range(7)), ZERO)
            self._weeks[monday] = found
        return found

    def _regular_week(self, monday: date) -> bool:
        hours = self.hours
        sunday = monday + timedelta(days=6)
        if any(monday <= holiday <= sunday for holiday in hours.holidays):
            return False
        midnights = [
            datetime.combine(monday + timedelta(days=i), time(0), tzinfo=self.tz) for i in range(8)
        ]
        # The clocks change this week. (Equal offsets at every midnight mean no change: no zone
        # in the tz database changes twice within one day; twice within a week does happen.)
        offsets = {m.utcoffset() for m in midnights}
        if len(offsets) > 1:
            return False
        begin, end = midnights[0].astimezone(UTC), midnights[-1].astimezone(UTC)
        return not any(p.start < end and (p.end is None or p.end > begin) for p in hours.away)

    def total_before(self, day: date) -> timedelta:
        """Open time from the running total's first Monday up to the start of ``day``: the
        difference of two of these is the open time of the whole days between them."""
        found = self._before.get(day)
        if found is None:
            monday = day - timedelta(days=day.weekday())
            if self._base is None or monday < self._base:  # (rarely again: further back)
                self._base, self._totals, self._before = monday, [ZERO], {}
            totals = self._totals
            index = (monday - self._base).days // 7
            while len(totals) <= index:
                totals.append(totals[-1] + self.week(self._base + timedelta(weeks=len(totals) - 1)))
            found = totals[index] + sum(map(self.length, _days(monday, day)), ZERO)
            self._before[day] = found
        return found

    def days_total(self, first: date, end: date) -> timedelta:
        """Open time of the whole local days from ``first`` up to (not including) ``end``."""
        if (end - first).days < 7:
            return sum(map(self.length, _days(first, end)), ZERO)
        before = self.total_before(first)  # first: it may move the running total back
        return self.total_before(end) - before


ZERO = timedelta()
MEMO_SIZE = 50_000  # remembered results per calendar before they are forgotten at once
_UNKNOWN: Any = object()
_K = TypeVar("_K")
_V = TypeVar("_V")


def _days(first: date, end: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((end - first).days)]


def _wall_length(opens: time, closes: time) -> timedelta:
    """How long the office is open on the wall clock (00:00 closing: midnight)."""
    day = date(2000, 1, 3)
    end = datetime.combine(day + timedelta(days=1) if closes == time(0) else day, closes)
    return max(ZERO, end - datetime.combine(day, opens))


@lru_cache(maxsize=32)
def _calendar_of(hours: OfficeHours) -> _Calendar:
    return _Calendar(hours)


_last_asked: tuple[OfficeHours, _Calendar] | None = None


def _calendar(hours: OfficeHours) -> _Calendar:
    """The calendar of ``hours``; the same object as last time is recognised without hashing
    it (hashing the dataclass, its sets and away periods cost more than a deadline's sums)."""
    global _last_asked
    last = _last_asked  # one read: another thread may replace it meanwhile
    if last is not None and last[0] is hours:
        return last[1]
    calendar = _calendar_of(hours)
    _last_asked = (hours, calendar)
    return calendar


def _day_intervals(hours: OfficeHours, tz: ZoneInfo, day: date) -> tuple[Interval, ...]:
    """The open intervals of one local day, as UTC instants, with time away removed."""
    if day.weekday() not in hours.days or day in hours.holidays:
        return ()
    start = datetime.combine(day, hours.opens, tzinfo=tz).astimezone(UTC)
    if hours.closes == time(0):
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    else:
        end = datetime.combine(day, hours.closes, tzinfo=tz).astimezone(UTC)
    pieces: list[Interval] = [(start, end)] if end > start else []
    for period in hours.away:
        away_end = period.end or datetime.max.replace(tzinfo=UTC)
        cut: list[Interval] = []
        for a, b in pieces:
            if away_end <= a or period.start >= b:
                cut.append((a, b))
                continue
            if a < period.start:
                cut.append((a, period.start))
            if away_end < b:
                cut.append((away_end, b))
        pieces = cut
    return tuple(pieces)


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise OfficeHoursError("Times must be timezone-aware.")
    return at


def _clipped(calendar: _Calendar, day: date, start: datetime, end: datetime) -> Iterator[Interval]:
    for a, b in calendar.day(day):
        a, b = max(a, start), min(b, end)
        if a < b:
            yield a, b


def open_intervals(hours: OfficeHours, start: datetime, end: datetime) -> Iterator[Interval]:
    """Open office time between two instants, clipped to them, in order."""
    if end <= start:
        return
    calendar = _calendar(hours)
    day = calendar.local_day(start)
    last = calendar.local_day(end)
    while day <= last:
        yield from _clipped(calendar, day, start, end)
        day += timedelta(days=1)


def is_open(hours: OfficeHours, at: datetime) -> bool:
    calendar = _calendar(hours)
    return any(a <= at < b for a, b in calendar.day(calendar.local_day(at)))


def office_time_between(hours: OfficeHours, start: datetime, end: datetime) -> timedelta:
    """How much open office time passed between ``start`` and ``end`` (zero if reversed)."""
    if end <= start:
        return timedelta()
    return _between(_calendar(hours), start, end)


def _between(
    calendar: _Calendar,
    start: datetime,
    end: datetime,
    place: tuple[date, int, bool] | None = None,
) -> timedelta:
    if end <= start:
        return ZERO
    day, k, inside = place or calendar.place(start)
    if inside:  # the rest of this interval, then what follows it
        # (max and min as in _between_days, so the instants subtracted are the same objects:
        # two times in one zone subtract on the wall clock, which a clock change makes differ)
        opens, close = calendar.day(day)[k]
        if end <= close:
            return min(close, end) - max(opens, start)
        return (close - max(opens, start)) + _between(calendar, close, end)
    # Closed time until the next interval: the same answer from anywhere in it.
    key = (day, k, end)
    found = calendar.spans.get(key)
    if found is None:
        found = _between_days(calendar, start, end, day)
        _remember(calendar.spans, key, found)
    return found


def _remember(memo: dict[_K, _V], key: _K, value: _V) -> None:
    if len(memo) >= MEMO_SIZE:
        memo.clear()
    memo[key] = value


def _between_days(calendar: _Calendar, start: datetime, end: datetime, first: date) -> timedelta:
    last = calendar.local_day(end)
    total = ZERO
    for a, b in (
        calendar.day(first) if first == last else (*calendar.day(first), *calendar.day(last))
    ):
        a, b = max(a, start), min(b, end)
        if a < b:
            total += b - a
    if last > first:  # the days in between are whole: their intervals lie inside (start, end)
        total += calendar.days_total(first + timedelta(days=1), last)
    return total


def add_office_time(hours: OfficeHours, start: datetime, amount: timedelta) -> datetime | None:
    """The instant ``amount`` of office time after ``start``; None if the clock never gets there.

    None happens in vacation mode (the clocks are stopped with no end in sight) or when no day
    is open at all, or when it would take more than ``HORIZON_DAYS`` days. Whole weeks that
    end before the target is reached are skipped with their total, not walked day by day.
    """
    return _add(_calendar(hours), start, amount)


def _add(
    calendar: _Calendar,
    start: datetime,
    amount: timedelta,
    place: tuple[date, int, bool] | None = None,
) -> datetime | None:
    if calendar.stops is not None:  # vacation mode: where the clock stops matters
        return _add_days(calendar, start, amount, calendar.local_day(start))
    day, k, inside = place or calendar.place(start)
    if inside:
        opens, close = calendar.day(day)[k]
        begin = max(opens, start)  # as _add_days does: the same object, the same arithmetic
        if close - begin >= amount:  # within this interval
            return begin + amount
        return _add_days(calendar, start, amount, day)
    # Closed time until the next interval: the same answer from anywhere in it.
    key = (day, k, amount)
    found = calendar.reached.get(key, _UNKNOWN)
    if found is _UNKNOWN:
        found = _add_days(calendar, start, amount, day)
        _remember(calendar.reached, key, found)
    return found  # type: ignore[no-any-return]


def _add_days(
    calendar: _Calendar, start: datetime, amount: timedelta, first: date
) -> datetime | None:
    left = amount
    horizon = first + timedelta(days=HORIZON_DAYS)
    if calendar.stops is not None:  # vacation mode: no open time after the day it began
        if start >= calendar.stops:
            return None
        horizon = min(horizon, calendar.local_day(calendar.stops) + timedelta(days=1))
    day = first
    while day < horizon:
        if day != first and day.weekday() == 0 and day + timedelta(days=7) <= horizon:
            week = calendar.week(day)
            if week < left:  # the target lies beyond this week
                left -= week
                day += timedelta(days=7)
                continue
        for a, b in calendar.day(day):
            a = max(a, start)
            if a >= b:
                continue
            if b - a >= left:
                return a + left
            left -= b - a
        day += timedelta(days=1)
    return None


def next_opening(hours: OfficeHours, at: datetime) -> datetime | None:
    """``at`` itself when open, else when the office next opens."""
    return add_office_time(hours, at, timedelta())


class Urgency(StrEnum):
    ON_TIME = "on_time"
    AT_RISK = "at_risk"  # less than the at-risk share of the target is left
    OVERDUE = "overdue"
    PAUSED = "paused"  # vacation mode: the clock is stopped


@dataclass(frozen=True, slots=True)
class Deadline:
    """Where one reply stands against its target, all in office time."""

    received_at: datetime
    target: timedelta
    due_at: datetime | None  # None while the clock is stopped (vacation) before reaching it
    used: timedelta
    urgency: Urgency

    @property
    def remaining(self) -> timedelta:
        """Office time left; negative once overdue."""
        return self.target - self.used

    @property
    def fraction_used(self) -> float:
        if self.target <= timedelta():
            return 1.0
        return self.used / self.target


def deadline(
    hours: OfficeHours,
    received_at: datetime,
    target: timedelta,
    now: datetime,
    at_risk_fraction: float = 0.25,
) -> Deadline:
    """The deadline of a message received at ``received_at`` with a response ``target``."""
    calendar = _calendar(hours)
    place = calendar.place(received_at)
    used = _between(calendar, received_at, now, place)
    due = _add(calendar, received_at, target, place)
    stops = calendar.stops  # vacation mode began then: the same as ``hours.on_vacation(now)``
    if used >= target:
        urgency = Urgency.OVERDUE
    elif stops is not None and stops <= now:
        urgency = Urgency.PAUSED
    elif target - used < target * at_risk_fraction:
        urgency = Urgency.AT_RISK
    else:
        urgency = Urgency.ON_TIME
    return Deadline(received_at, target, due, used, urgency)


def urgency_of_due(
    hours: OfficeHours,
    due_at: datetime | None,
    now: datetime,
    target: timedelta,
    at_risk_fraction: float = 0.25,
) -> Urgency | None:
    """The state of a list row from its stored ``due_at`` alone; None when it has no clock.

    The list has no target per row: pass the standard target (a rule's own target only moved
    the due time, so "at risk" is judged against the standard one).
    """
    if due_at is not None and now >= due_at:
        return Urgency.OVERDUE
    if hours.on_vacation(now):
        return Urgency.PAUSED
    if due_at is None:
        return None
    left = office_time_between(hours, now, due_at)
    return Urgency.AT_RISK if left < target * at_risk_fraction else Urgency.ON_TIME
