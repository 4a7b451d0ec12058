"""The database side of reports: aggregates in SQL, or small rows streamed in keyset-paged chunks.

No report loads a whole table. Cases and sent replies are read ``CHUNK`` rows at a time, each
chunk starting after the last id of the one before (never an OFFSET); mention volume is one
``GROUP BY`` per span of constant UTC offset, so a month is one or two statements whatever the
number of mentions.

Local days are computed in SQL by ``sqlite.shifted_date`` (the one SQLite-specific expression,
kept with the others in ``app.storage.sqlite``). The UTC offset is constant inside
each span (``offset_spans`` splits a period at daylight-saving changes), so every mention lands
on the right local day in any time zone, including those 30 or 45 minutes off the hour.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import peewee as pw

from app.core.triage.sentiment import NEUTRAL_BAND
from app.core.vocab import ReplyState
from app.storage import sqlite
from app.storage.models import Case, Mention, OutboundReply, Person

CHUNK = 500


def parse_stamp(value: object) -> datetime | None:
    """A stored UTC timestamp (text from a subquery, or a datetime from a field), aware."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return Case.first_mention_at.python_value(str(value))  # type: ignore[no-any-return]


# -- time zones ---------------------------------------------------------------------------------


def offset_spans(zone: str, start: datetime, end: datetime) -> list[tuple[datetime, datetime, int]]:
    """``[start, end)`` cut where the zone's UTC offset changes: (from, to, offset minutes)."""
    tz = ZoneInfo(zone)

    def offset(at: datetime) -> int:
        delta = at.astimezone(tz).utcoffset() or timedelta()
        return int(delta.total_seconds() // 60)

    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        return []
    spans: list[tuple[datetime, datetime, int]] = []
    span_start, here, probe = start, offset(start), start
    last = end - timedelta(microseconds=1)
    while probe < end:
        step = min(probe + timedelta(hours=1), last)
        if offset(step) == here:
            probe = step if step < last else end
            continue
        low, high = probe, step  # the offset changes in (low, high]
        while high - low > timedelta(seconds=1):
            middle = low + (high - low) / 2
            if offset(middle) == here:
                low = middle
            else:
                high = middle
        change = high.replace(microsecond=0)
        if offset(change) == here:
            change += timedelta(seconds=1)
        spans.append((span_start, change, here))
        span_start, here, probe = change, offset(change), change
    spans.append((span_start, end, here))
    return spans


# -- cases --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaseTiming:
    """What the response-time and count figures need of one case."""

    case_id: int
    network: str
    bucket: str
    stance: str
    due_at: datetime | None
    first_mention_at: datetime  # the earliest of the case's mentions
    first_reply_at: datetime | None  # the first of our replies that was sent


def case_timings(start: datetime, end: datetime, chunk: int = CHUNK) -> Iterator[CaseTiming]:
    """Cases whose first mention falls in ``[start, end)``, in id order, ``chunk`` per query."""
    first_mention = Mention.select(pw.fn.MIN(Mention.created_at)).where(Mention.case == Case.id)
    first_reply = OutboundReply.select(pw.fn.MIN(OutboundReply.sent_at)).where(
        (OutboundReply.case == Case.id) & (OutboundReply.state == ReplyState.SENT.value)
    )
    after = 0
    while True:
        rows = list(
            Case.select(
                Case.id,
                Case.network,
                Case.bucket,
                Case.due_at,
                Case.first_mention_at,
                Person.stance,
                first_mention.alias("first_mention"),
                first_reply.alias("first_reply"),
            )
            .join(Person)
            .where(
                (Case.first_mention_at >= start) & (Case.first_mention_at < end) & (Case.id > after)
            )
            .order_by(Case.id)
            .limit(chunk)
            .tuples()
        )
        for case_id, network, bucket, due_at, first_at, stance, first_mention_at, reply in rows:
            stored_first = parse_stamp(first_at)
            earliest = parse_stamp(first_mention_at)
            assert stored_first is not None
            yield CaseTiming(
                case_id=case_id,
                network=network,
                bucket=bucket,
                stance=stance,
                due_at=parse_stamp(due_at),
                first_mention_at=min(stored_first, earliest) if earliest else stored_first,
                first_reply_at=parse_stamp(reply),
            )
        if len(rows) < chunk:
            return
        after = rows[-1][0]


@dataclass(frozen=True, slots=True)
class NotableRow:
    case_id: int
    network: str
    status: str
    status_reason: str
    display_name: str
    handle: str
    follower_count: int | None
    mention_count: int
    reopened_count: int
    snippet: str
    first_mention_at: datetime
    first_reply_at: datetime | None


def notable_cases(start: datetime, end: datetime, limit: int = 5) -> list[NotableRow]:
    """The cases a board hears about: escalations first, then the reopened, long, far-reaching."""
    first_reply = OutboundReply.select(pw.fn.MIN(OutboundReply.sent_at)).where(
        (OutboundReply.case == Case.id) & (OutboundReply.state == ReplyState.SENT.value)
    )
    escalated = pw.Case(None, [(Case.status == "escalated", 1)], 0)
    rows = (
        Case.select(
            Case.id,
            Case.network,
            Case.status,
            Case.status_reason,
            Person.display_name,
            Person.handle,
            Person.follower_count,
            Case.mention_count,
            Case.reopened_count,
            Case.last_snippet,
            Case.first_mention_at,
            first_reply.alias("first_reply"),
        )
        .join(Person)
        .where((Case.first_mention_at >= start) & (Case.first_mention_at < end))
        .order_by(
            escalated.desc(),
            Case.reopened_count.desc(),
            Case.mention_count.desc(),
            pw.fn.COALESCE(Person.follower_count, 0).desc(),
            Case.id,
        )
        .limit(limit)
        .tuples()
    )
    found: list[NotableRow] = []
    for row in rows:
        values = list(row)
        first = parse_stamp(values[10])
        assert first is not None
        values[10:12] = [first, parse_stamp(values[11])]
        found.append(NotableRow(*values))
    return found


# -- mentions -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DayVolume:
    day: date
    mentions: int = 0
    positive: int = 0
    neutral: int = 0
    negative: int = 0
    sentiment_sum: float = 0.0  # over the scored mentions


def daily_volume(start: datetime, end: datetime, zone: str) -> dict[date, DayVolume]:
    """Mentions written in ``[start, end)`` per local day of ``zone``, with their sentiment."""
    score = Mention.sentiment
    positive = pw.fn.SUM(pw.Case(None, [(score >= NEUTRAL_BAND, 1)], 0))
    negative = pw.fn.SUM(pw.Case(None, [(score <= -NEUTRAL_BAND, 1)], 0))
    neutral = pw.fn.SUM(pw.Case(None, [((score > -NEUTRAL_BAND) & (score < NEUTRAL_BAND), 1)], 0))
    days: dict[date, DayVolume] = {}
    for span_start, span_end, minutes in offset_spans(zone, start, end):
        day = sqlite.shifted_date(Mention.created_at, minutes)
        rows = (
            Mention.select(
                day.alias("day"),
                pw.fn.COUNT(Mention.id),
                positive,
                neutral,
                negative,
                pw.fn.TOTAL(score),
            )
            .where((Mention.created_at >= span_start) & (Mention.created_at < span_end))
            .group_by(day)
            .tuples()
        )
        for text, count, pos, neu, neg, total in rows:
            key = date.fromisoformat(str(text))
            before = days.get(key, DayVolume(key))
            days[key] = DayVolume(
                key,
                before.mentions + int(count),
                before.positive + int(pos or 0),
                before.neutral + int(neu or 0),
                before.negative + int(neg or 0),
                before.sentiment_sum + float(total or 0.0),
            )
    return days


# -- our replies --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SentReply:
    reply_id: int
    text: str
    network: str
    display_name: str
    handle: str
    stance: str


def sent_replies(start: datetime, end: datetime, chunk: int = CHUNK) -> Iterator[SentReply]:
    """Our replies sent in ``[start, end)``, with who they went to, ``chunk`` per query."""
    after = 0
    while True:
        rows = list(
            OutboundReply.select(
                OutboundReply.id,
                OutboundReply.text,
                Case.network,
                Person.display_name,
                Person.handle,
                Person.stance,
            )
            .join(Case)
            .join(Person)
            .where(
                (OutboundReply.state == ReplyState.SENT.value)
                & (OutboundReply.id > after)
                & (OutboundReply.sent_at >= start)
                & (OutboundReply.sent_at < end)
            )
            .order_by(OutboundReply.id)
            .limit(chunk)
            .tuples()
        )
        for row in rows:
            yield SentReply(*row)
        if len(rows) < chunk:
            return
        after = rows[-1][0]
