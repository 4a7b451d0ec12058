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
    """The open intervals of each local day of one ``OfficeHours``, computed once and kept,
    plus a running total so that the office time of a long span costs two look-ups."""

    def __init__(self, hours: OfficeHours) -> None:
        self.hours = hours
        self.tz = hours.tz
        self._days: dict[date, tuple[Interval, ...]] = {}
        self._totals: list[timedelta] = [timedelta()]  # office time of the days before base + i

    def local_day(self, at: datetime) -> date:
        return _aware(at).astimezone(self.tz).date()

    def day(self, day: date) -> tuple[Interval, ...]:
        found = self._days.get(day)
        if found is None:
            found = self._days[day] = _day_intervals(self.hours, self.tz, day)
        return found

    def total_before(self, day: date) -> timedelta | None:
        """Office time from ``LEDGER_BASE`` up to the start of ``day``; None if before it."""
        index = (day - LEDGER_BASE).days
        if index < 0:
            return None
        totals = self._totals
        while len(totals) <= index:
            current = LEDGER_BASE + timedelta(days=len(totals) - 1)
            totals.append(totals[-1] + sum((b - a for a, b in self.day(current)), timedelta()))
        return totals[index]


LEDGER_BASE = date(2000, 1, 3)


@lru_cache(maxsize=32)
def _calendar(hours: OfficeHours) -> _Calendar:
    return _Calendar(hours)


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
    calendar = _calendar(hours)
    first, last = calendar.local_day(start), calendar.local_day(end)
    if (last - first).days > 3:
        whole_from = calendar.total_before(first + timedelta(days=1))
        whole_to = calendar.total_before(last)
        if whole_from is not None and whole_to is not None:
            edges = [*_clipped(calendar, first, start, end), *_clipped(calendar, last, start, end)]
            return whole_to - whole_from + sum((b - a for a, b in edges), timedelta())
    return sum((b - a for a, b in open_intervals(hours, start, end)), timedelta())


def add_office_time(hours: OfficeHours, start: datetime, amount: timedelta) -> datetime | None:
    """The instant ``amount`` of office time after ``start``; None if the clock never gets there.

    None happens in vacation mode (the clocks are stopped with no end in sight) or when no day
    is open at all.
    """
    calendar = _calendar(hours)
    left = amount
    day = calendar.local_day(start)
    for _ in range(HORIZON_DAYS):
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
    used = office_time_between(hours, received_at, now)
    due = add_office_time(hours, received_at, target)
    if used >= target:
        urgency = Urgency.OVERDUE
    elif hours.on_vacation(now):
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
