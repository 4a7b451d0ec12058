"""Reports: how fast and how evenly we answer, how much arrives and how it feels.

Definitions (the same words are in the README and on the board report):

- **Period.** A report covers ``[start, end)`` in the office's time zone: a calendar month
  (``ReportPeriod.month``) or the last few whole weeks (``ReportPeriod.last_weeks``). Case
  figures cover the cases whose first mention falls in the period; volume and sentiment cover
  the mentions written in it; courtesy checks cover our replies sent in it.
- **First-response time.** For each case, from its first mention's ``created_at`` to the
  ``sent_at`` of the first of our replies that was sent (``OutboundReply`` state ``sent``),
  measured in office hours (``app.core.triage.office_hours.office_time_between``: the officer's
  days and hours, in their zone, minus holidays and time away). Cases with no reply sent yet
  are excluded from the medians and percentiles, but counted as open (and perhaps overdue).
- **Median and 90th percentile** interpolate linearly between the two nearest ranks
  (spreadsheets' ``PERCENTILE.INC``): of n sorted times, the q-th percentile sits at position
  ``(n - 1) * q`` counted from 0. Cases are grouped by network, and by the local week (Monday
  to Sunday) of their first mention.
- **Open** cases still need a reply (new or open). **Overdue** open cases are past their due
  time: the one triage set from the policy, or, when triage has set none, the standard response
  target in office hours counted from the oldest mention not yet answered. **Left alone**
  cases are those the officer or a policy rule decided not to answer.
- **Sentiment** is VADER's compound score per mention: positive from +0.05, negative from
  -0.05, neutral between; unscored mentions count in the volume only.
- **Courtesy checks** are the composer's own checks (greeting or name, capitals, wording to
  avoid, length for the network), run again on each reply we sent. They never look at who the
  reply is for; splitting their results by the author's stance shows whether supporters and
  opponents are treated alike.

Every figure is computed in SQL or from rows streamed in chunks (``app.core.report_queries``).
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime
from pathlib import Path

from app.core import report_queries as rq
from app.core.policy.engine import PolicyEngine
from app.core.policy.rules import Policy
from app.core.policy.store import load_policy
from app.core.reminders import DraftContext, ReminderKind, check_draft
from app.core.report_figures import (
    COURTESY_CHECKS,
    CaseCounts,
    NotableCase,
    Report,
    ReportPeriod,
    ResponseTimes,
    StanceRow,
    Table,
    VolumePoint,
    describe_hours,
    hours_number,
    hours_text,
    utcnow,
    week_of,
)
from app.core.triage.config import TriageConfig
from app.core.triage.facts import load_case_facts
from app.core.triage.office_hours import office_time_between
from app.core.triage.priority import compact_number
from app.core.vocab import Bucket, CaseStatus, Network, Stance

__all__ = [
    "CaseCounts",
    "NotableCase",
    "Report",
    "ReportPeriod",
    "Reports",
    "ResponseTimes",
    "StanceRow",
    "Table",
    "VolumePoint",
    "report_config",
    "report_tables",
    "write_csv",
]

_COURTESY = frozenset(kind for kind, _ in COURTESY_CHECKS)


# -- building a report --------------------------------------------------------------------------


def report_config(context: object | None = None) -> TriageConfig:
    """The office hours and response target reports use: the app's triage settings when the
    context has a triage (``context.triage.config``), else the defaults (Monday–Friday
    09:00–17:00 UTC, 2 hours)."""
    config = getattr(getattr(context, "triage", None), "config", None)
    return config if isinstance(config, TriageConfig) else TriageConfig()


class Reports:
    """Builds reports with the office hours and response target of ``config``.

    ``policy`` supplies the wording to avoid for the courtesy checks (the saved policy when not
    given); ``clock`` says what "now" is for open and overdue.
    """

    def __init__(
        self,
        config: TriageConfig | None = None,
        policy: Policy | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.config = config or TriageConfig()
        self.policy = policy
        self.clock = clock

    def period_for_month(self, text: str) -> ReportPeriod:
        return ReportPeriod.parse_month(text, self.config.office_hours.zone)

    def default_period(self) -> ReportPeriod:
        return ReportPeriod.last_weeks(12, self.clock(), self.config.office_hours.zone)

    def build(self, period: ReportPeriod, now: datetime | None = None) -> Report:
        now = now or self.clock()
        hours = self.config.office_hours
        counts: dict[str, int] = defaultdict(int)
        overall: list[float] = []
        per_network: dict[str, list[float]] = defaultdict(list)
        per_week: dict[date, list[float]] = {week: [] for week in period.weeks()}
        per_stance: dict[Stance, list[float]] = {stance: [] for stance in Stance}
        stance_counts: dict[tuple[Stance, str], int] = defaultdict(int)
        clockless: list[int] = []
        for case in rq.case_timings(period.start, period.end):
            stance = _stance(case.stance)
            counts["total"] += 1
            counts[case.bucket] += 1
            stance_counts[stance, "cases"] += 1
            stance_counts[stance, case.bucket] += 1
            per_network.setdefault(case.network, [])
            if case.bucket == Bucket.NEEDS_REPLY.value:
                if case.due_at is None:
                    clockless.append(case.case_id)
                elif case.due_at <= now:
                    counts["overdue"] += 1
            if case.first_reply_at is None:
                continue
            seconds = office_time_between(
                hours, case.first_mention_at, case.first_reply_at
            ).total_seconds()
            counts["answered"] += 1
            stance_counts[stance, "answered"] += 1
            overall.append(seconds)
            per_network[case.network].append(seconds)
            per_stance[stance].append(seconds)
            week = week_of(period.local_day(case.first_mention_at))
            per_week.setdefault(week, []).append(seconds)
        counts["overdue"] += self._overdue_without_due_time(clockless, now)
        courtesy = self._courtesy(period)
        return Report(
            period=period,
            generated_at=now,
            office_hours=describe_hours(hours),
            target=self.config.response_target,
            counts=CaseCounts(
                total=counts["total"],
                answered=counts["answered"],
                open=counts[Bucket.NEEDS_REPLY.value],
                overdue=counts["overdue"],
                waiting=counts[Bucket.WAITING.value],
                resolved=counts[Bucket.RESOLVED.value],
                left_alone=counts[Bucket.LEFT_ALONE.value],
                escalated=counts[Bucket.ESCALATED.value],
            ),
            overall=ResponseTimes.of("All networks", overall),
            by_network=tuple(
                ResponseTimes.of(_network_label(name), per_network[name])
                for name in _network_order(per_network)
            ),
            by_week=tuple(
                ResponseTimes.of(week.isoformat(), per_week[week]) for week in sorted(per_week)
            ),
            volume_by_day=self._volume(period),
            by_stance=tuple(
                StanceRow(
                    stance=stance,
                    cases=stance_counts[stance, "cases"],
                    answered=stance_counts[stance, "answered"],
                    left_alone=stance_counts[stance, Bucket.LEFT_ALONE.value],
                    response=ResponseTimes.of(stance.value.capitalize(), per_stance[stance]),
                    replies_sent=courtesy[stance][0],
                    courtesy_passed=courtesy[stance][1],
                    issues=courtesy[stance][2],
                )
                for stance in Stance
            ),
            notable=self._notable(period),
        )

    # -- parts ----------------------------------------------------------------------------

    def _overdue_without_due_time(self, case_ids: list[int], now: datetime) -> int:
        """Open cases triage gave no due time: the standard target from their clock's start."""
        overdue = 0
        target, hours = self.config.response_target, self.config.office_hours
        for start in range(0, len(case_ids), rq.CHUNK):
            facts = load_case_facts(case_ids[start : start + rq.CHUNK])
            overdue += sum(
                1
                for f in facts.values()
                if office_time_between(hours, f.clock_start, now) >= target
            )
        return overdue

    def _volume(self, period: ReportPeriod) -> tuple[VolumePoint, ...]:
        days = rq.daily_volume(period.start, period.end, period.zone)
        points: list[VolumePoint] = []
        for day in period.days():
            found = days.get(day)
            points.append(
                VolumePoint(day)
                if found is None
                else VolumePoint(
                    day,
                    found.mentions,
                    found.positive,
                    found.neutral,
                    found.negative,
                    found.sentiment_sum,
                )
            )
        return tuple(points)

    def _courtesy(
        self, period: ReportPeriod
    ) -> dict[Stance, tuple[int, int, dict[ReminderKind, int]]]:
        engine = PolicyEngine(self.policy or load_policy())
        found: dict[Stance, tuple[int, int, dict[ReminderKind, int]]] = {}
        tally: dict[Stance, list[int]] = {stance: [0, 0] for stance in Stance}
        issues: dict[Stance, dict[ReminderKind, int]] = {
            stance: dict.fromkeys(_COURTESY, 0) for stance in Stance
        }
        for reply in rq.sent_replies(period.start, period.end):
            stance = _stance(reply.stance)
            context = DraftContext(
                text=reply.text,
                network=_network(reply.network),
                display_name=reply.display_name,
                handle=reply.handle,
            )
            kinds = {r.kind for r in check_draft(context, engine, self.config)} & _COURTESY
            tally[stance][0] += 1
            tally[stance][1] += not kinds
            for kind in kinds:
                issues[stance][kind] += 1
        for stance in Stance:
            found[stance] = (tally[stance][0], tally[stance][1], issues[stance])
        return found

    def _notable(self, period: ReportPeriod) -> tuple[NotableCase, ...]:
        hours = self.config.office_hours
        found: list[NotableCase] = []
        for row in rq.notable_cases(period.start, period.end):
            reasons: list[str] = []
            status = _status_label(row.status)
            if row.status in (CaseStatus.ESCALATED.value, CaseStatus.LEFT_ALONE.value):
                reasons.append(f"{status.lower()}: {row.status_reason}".rstrip(": "))
            if row.reopened_count:
                reasons.append(f"reopened {row.reopened_count}×")
            reasons.append(f"{row.mention_count} message{'s' if row.mention_count != 1 else ''}")
            followers = row.follower_count or 0
            if followers >= 1000:
                reasons.append(f"reach {compact_number(followers)}")
            first = (
                None
                if row.first_reply_at is None
                else office_time_between(hours, row.first_mention_at, row.first_reply_at)
            )
            found.append(
                NotableCase(
                    case_id=row.case_id,
                    network=_network_label(row.network),
                    person=row.display_name or row.handle,
                    status=status,
                    mentions=row.mention_count,
                    followers=row.follower_count,
                    first_response=first,
                    snippet=row.snippet,
                    why=", ".join(reasons),
                )
            )
        return tuple(found)


def _stance(value: str) -> Stance:
    try:
        return Stance(value)
    except ValueError:
        return Stance.UNKNOWN


def _network(value: str) -> Network:
    try:
        return Network(value)
    except ValueError:
        return Network.MASTODON


def _network_label(value: str) -> str:
    try:
        return Network(value).label
    except ValueError:
        return value


def _network_order(names: Iterable[str]) -> list[str]:
    known = [n.value for n in Network]
    return sorted(names, key=lambda n: (known.index(n) if n in known else len(known), n))


def _status_label(value: str) -> str:
    try:
        return CaseStatus(value).label
    except ValueError:
        return value


# -- tables and CSV -----------------------------------------------------------------------------

_RESPONSE_HEADERS = ("Answered", "Median (office h)", "90th pct. (office h)")


def _response_cells(times: ResponseTimes) -> tuple[str, ...]:
    return (str(times.answered), hours_number(times.median), hours_number(times.p90))


def report_tables(report: Report) -> list[Table]:
    """Every table of a report, as text cells (hours as decimal numbers, for spreadsheets)."""
    c = report.counts
    counts = Table(
        "case-counts",
        "Cases",
        ("Measure", "Cases"),
        tuple(
            (name, str(value))
            for name, value in (
                ("Cases", c.total),
                ("Answered", c.answered),
                ("Open", c.open),
                ("Overdue", c.overdue),
                ("Waiting on them", c.waiting),
                ("Resolved", c.resolved),
                ("Left alone", c.left_alone),
                ("Escalated", c.escalated),
            )
        ),
    )
    networks = Table(
        "response-by-network",
        "First response by network",
        ("Network", *_RESPONSE_HEADERS),
        tuple((t.label, *_response_cells(t)) for t in (*report.by_network, report.overall)),
    )
    weeks = Table(
        "response-by-week",
        "First response by week",
        ("Week of", *_RESPONSE_HEADERS),
        tuple((t.label, *_response_cells(t)) for t in report.by_week),
    )
    volume = Table(
        "volume-by-day",
        "Volume and sentiment by day",
        ("Day", "Mentions", "Positive", "Neutral", "Negative", "Mean sentiment"),
        tuple(
            (
                p.start.isoformat(),
                str(p.mentions),
                str(p.positive),
                str(p.neutral),
                str(p.negative),
                "" if p.mean_sentiment is None else f"{p.mean_sentiment:.3f}",
            )
            for p in report.volume_by_day
        ),
    )
    stances = Table(
        "equal-treatment",
        "Equal treatment by stance",
        (
            "Stance",
            "Cases",
            "Answered",
            "Left alone",
            *_RESPONSE_HEADERS[1:],
            "Replies sent",
            "Passed every courtesy check",
            *(label for _, label in COURTESY_CHECKS),
        ),
        tuple(
            (
                row.stance.value.capitalize(),
                str(row.cases),
                str(row.answered),
                str(row.left_alone),
                hours_number(row.response.median),
                hours_number(row.response.p90),
                str(row.replies_sent),
                str(row.courtesy_passed),
                *(str(row.issues.get(kind, 0)) for kind, _ in COURTESY_CHECKS),
            )
            for row in report.by_stance
        ),
    )
    notable = Table(
        "notable-cases",
        "Notable cases",
        ("Case", "Network", "Person", "Status", "Why notable", "First response", "Latest words"),
        tuple(
            (
                str(n.case_id),
                n.network,
                n.person,
                n.status,
                n.why,
                hours_text(n.first_response),
                n.snippet,
            )
            for n in report.notable
        ),
    )
    return [counts, networks, weeks, volume, stances, notable]


_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?%?")


def csv_cell(value: str) -> str:
    """A cell a spreadsheet shows as text: mention text starting with = + - @ is not a formula."""
    if value and value[0] in "=+-@\t\r" and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def write_csv(table: Table, path: Path) -> None:
    """UTF-8 with a byte-order mark, so spreadsheet programs read accents right."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([csv_cell(h) for h in table.headers])
        writer.writerows([csv_cell(cell) for cell in row] for row in table.rows)
