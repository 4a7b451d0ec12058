"""The figures of a report, as plain values: the period, response times, counts, volume,
equal treatment by stance and notable cases. ``app.core.reports`` computes them (and defines
each one); the reports view, the board report and the CSV files show them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.core.reminders import ReminderKind
from app.core.triage.office_hours import OfficeHours
from app.core.triage.priority import duration_text
from app.core.vocab import Stance

COURTESY_CHECKS: tuple[tuple[ReminderKind, str], ...] = (
    (ReminderKind.NO_GREETING, "No greeting or name"),
    (ReminderKind.CAPITALS, "In capitals"),
    (ReminderKind.FLAGGED_WORDING, "Wording to avoid"),
    (ReminderKind.TOO_LONG, "Too long"),
)
_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def utcnow() -> datetime:
    return datetime.now(UTC)


# -- the period ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportPeriod:
    """``[start, end)`` as UTC instants, and the local zone its days and weeks are counted in."""

    start: datetime
    end: datetime
    label: str
    zone: str = "UTC"

    @classmethod
    def month(cls, year: int, month: int, zone: str = "UTC") -> ReportPeriod:
        tz = ZoneInfo(zone)
        first = date(year, month, 1)
        following = date(year + month // 12, month % 12 + 1, 1)
        return cls(
            datetime.combine(first, time(0), tzinfo=tz).astimezone(UTC),
            datetime.combine(following, time(0), tzinfo=tz).astimezone(UTC),
            first.strftime("%B %Y"),
            zone,
        )

    @classmethod
    def parse_month(cls, text: str, zone: str = "UTC") -> ReportPeriod:
        """ "2026-10" → October 2026; ValueError with a message a person can act on."""
        match = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", text)
        if match is None or not 1 <= int(match.group(2)) <= 12:
            raise ValueError(f"“{text}” is not a month: write it as YYYY-MM, e.g. 2026-10.")
        return cls.month(int(match.group(1)), int(match.group(2)), zone)

    @classmethod
    def last_weeks(cls, weeks: int, now: datetime, zone: str = "UTC") -> ReportPeriod:
        """This week and the ``weeks - 1`` before it, Monday to today (inclusive)."""
        tz = ZoneInfo(zone)
        today = now.astimezone(tz).date()
        monday = today - timedelta(days=today.weekday() + 7 * (weeks - 1))
        return cls(
            datetime.combine(monday, time(0), tzinfo=tz).astimezone(UTC),
            datetime.combine(today + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC),
            f"Last {weeks} weeks",
            zone,
        )

    @classmethod
    def previous_month(cls, now: datetime, zone: str = "UTC") -> ReportPeriod:
        first = now.astimezone(ZoneInfo(zone)).date().replace(day=1) - timedelta(days=1)
        return cls.month(first.year, first.month, zone)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    def local_day(self, at: datetime) -> date:
        return at.astimezone(self.tz).date()

    def days(self) -> list[date]:
        first = self.local_day(self.start)
        last = self.local_day(self.end - timedelta(microseconds=1))
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]

    def weeks(self) -> list[date]:
        """The Mondays of the weeks the period touches."""
        return sorted({week_of(day) for day in self.days()})

    @property
    def slug(self) -> str:
        return self.label.lower().replace(" ", "-")


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th quantile (0 ≤ q ≤ 1) of sorted ``values``, interpolated (``PERCENTILE.INC``)."""
    if not values:
        raise ValueError("no values")
    position = (len(values) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


# -- the figures --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResponseTimes:
    label: str
    answered: int  # cases with a reply sent; the times are theirs
    median: timedelta | None
    p90: timedelta | None

    @classmethod
    def of(cls, label: str, seconds: Iterable[float]) -> ResponseTimes:
        ordered = sorted(seconds)
        if not ordered:
            return cls(label, 0, None, None)
        return cls(
            label,
            len(ordered),
            timedelta(seconds=percentile(ordered, 0.5)),
            timedelta(seconds=percentile(ordered, 0.9)),
        )


@dataclass(frozen=True, slots=True)
class CaseCounts:
    total: int = 0
    answered: int = 0  # at least one reply sent
    open: int = 0  # still needs a reply
    overdue: int = 0  # open and past its due time
    waiting: int = 0
    resolved: int = 0
    left_alone: int = 0
    escalated: int = 0


@dataclass(frozen=True, slots=True)
class VolumePoint:
    start: date  # the day, or the Monday of the week
    mentions: int = 0
    positive: int = 0
    neutral: int = 0
    negative: int = 0
    sentiment_sum: float = 0.0

    @property
    def scored(self) -> int:
        return self.positive + self.neutral + self.negative

    @property
    def mean_sentiment(self) -> float | None:
        return self.sentiment_sum / self.scored if self.scored else None

    def __add__(self, other: VolumePoint) -> VolumePoint:
        return VolumePoint(
            self.start,
            self.mentions + other.mentions,
            self.positive + other.positive,
            self.neutral + other.neutral,
            self.negative + other.negative,
            self.sentiment_sum + other.sentiment_sum,
        )


@dataclass(frozen=True, slots=True)
class StanceRow:
    """Equal treatment, per author stance: how often and how fast and how kindly we answer."""

    stance: Stance
    cases: int
    answered: int
    left_alone: int
    response: ResponseTimes
    replies_sent: int
    courtesy_passed: int  # replies that passed every courtesy check
    issues: dict[ReminderKind, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NotableCase:
    case_id: int
    network: str
    person: str
    status: str
    mentions: int
    followers: int | None
    first_response: timedelta | None
    snippet: str
    why: str


@dataclass(frozen=True, slots=True)
class Table:
    """A table as the view shows it and the CSV holds it (text cells, headers first)."""

    name: str
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class Report:
    period: ReportPeriod
    generated_at: datetime
    office_hours: str
    target: timedelta
    counts: CaseCounts
    overall: ResponseTimes
    by_network: tuple[ResponseTimes, ...]
    by_week: tuple[ResponseTimes, ...]
    volume_by_day: tuple[VolumePoint, ...]
    by_stance: tuple[StanceRow, ...]
    notable: tuple[NotableCase, ...]

    @property
    def volume_by_week(self) -> tuple[VolumePoint, ...]:
        weeks: dict[date, VolumePoint] = {}
        for point in self.volume_by_day:
            monday = week_of(point.start)
            weeks[monday] = weeks.get(monday, VolumePoint(monday)) + point
        return tuple(weeks[k] for k in sorted(weeks))

    @property
    def volume_total(self) -> VolumePoint:
        total = VolumePoint(self.period.local_day(self.period.start))
        for point in self.volume_by_day:
            total = total + point
        return total

    def stance(self, stance: Stance) -> StanceRow:
        return next(row for row in self.by_stance if row.stance is stance)

    def key_numbers(self) -> list[tuple[str, str]]:
        c, volume = self.counts, self.volume_total
        mean = volume.mean_sentiment
        return [
            ("Mentions", str(volume.mentions)),
            ("Cases", str(c.total)),
            ("Answered", f"{c.answered} ({share(c.answered, c.total)})"),
            ("Median first response", hours_text(self.overall.median)),
            ("90th percentile", hours_text(self.overall.p90)),
            ("Open", str(c.open)),
            ("Overdue", str(c.overdue)),
            ("Left alone", str(c.left_alone)),
            ("Negative mentions", share(volume.negative, volume.scored)),
            ("Mean sentiment", "—" if mean is None else f"{mean:+.2f}"),
        ]


def hours_text(amount: timedelta | None) -> str:
    return "—" if amount is None else duration_text(amount)


def hours_number(amount: timedelta | None) -> str:
    """Office hours as a decimal number for spreadsheets; empty when there is no figure."""
    return "" if amount is None else f"{amount.total_seconds() / 3600:.2f}"


def share(part: int, whole: int) -> str:
    return "—" if not whole else f"{round(100 * part / whole)}%"


def describe_hours(hours: OfficeHours) -> str:
    days = sorted(hours.days)
    if days and days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
        day_text = f"{_DAY_NAMES[days[0]]}–{_DAY_NAMES[days[-1]]}"
    else:
        day_text = ", ".join(_DAY_NAMES[d] for d in days) or "no days"
    closes = "24:00" if hours.closes == time(0) else hours.closes.strftime("%H:%M")
    return f"{day_text} {hours.opens.strftime('%H:%M')}–{closes} ({hours.zone})"
