"""The plain reading of the policy and of a case's plan, kept as a yardstick for the fast paths.

Each function here is the straightforward version of what ``app.core.policy.rules`` and
``app.core.triage`` do at ingest: every rule's expressions run over the text in order, office
time is walked day by day, the priority is built with all its parts. It is the code as it was
before triage was made cheaper per mention (commit 20633f3), with the office-hours arithmetic
written independently (one day at a time, no week totals, no caches). The equivalence tests
compare every decision of the real code with it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from app.core.policy.rules import (
    MAX_SCAN,
    Decision,
    MentionFacts,
    Outcome,
    Policy,
    Rule,
    has_link,
    normalise_handle,
)
from app.core.triage.config import TriageConfig
from app.core.triage.facts import CaseFacts
from app.core.triage.office_hours import HORIZON_DAYS, OfficeHours, Urgency
from app.core.triage.sentiment import NEUTRAL_BAND, sentiment_label


def words_regex(words: tuple[str, ...]) -> re.Pattern[str] | None:
    parts: list[str] = []
    for word in words:
        word = word.strip()
        if not word:
            continue
        prefix = word.endswith("*")
        stem = word.rstrip("*").strip()
        body = r"\s+".join(re.escape(piece) for piece in stem.split())
        parts.append(body + (r"\w*" if prefix else ""))
    if not parts:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)


def rule_holds(rule: Rule, facts: MentionFacts, watch: frozenset[str]) -> bool:
    """Every condition of ``rule``, each checked as the policy file describes it."""
    when = rule.when
    text = facts.text[:MAX_SCAN]
    if when.networks and facts.network not in when.networks:
        return False
    if when.stances and facts.stance not in when.stances:
        return False
    if when.min_followers is not None and (
        facts.follower_count is None or facts.follower_count < when.min_followers
    ):
        return False
    if when.sentiment_below is not None and (
        facts.sentiment is None or not facts.sentiment < when.sentiment_below
    ):
        return False
    if when.sentiment_above is not None and (
        facts.sentiment is None or not facts.sentiment > when.sentiment_above
    ):
        return False
    if when.reply_to_us is not None and facts.reply_to_us != when.reply_to_us:
        return False
    if when.on_watch_list is not None and (
        (normalise_handle(facts.author_handle) in watch) != when.on_watch_list
    ):
        return False
    if when.has_link is not None and has_link(text) != when.has_link:
        return False
    words = words_regex(when.words)
    if words is not None and words.search(text) is None:
        return False
    return not (when.pattern and re.search(when.pattern, text, re.IGNORECASE) is None)


def evaluate(policy: Policy, facts: MentionFacts, standard: timedelta) -> Decision:
    watch = frozenset(normalise_handle(h) for h in policy.watch_list)
    for rule in policy.rules:
        if rule.enabled and rule_holds(rule, facts, watch):
            if not rule.outcome.has_clock:
                return Decision(rule.outcome, rule, None)
            hours = rule.respond_within_hours
            return Decision(
                rule.outcome, rule, standard if hours is None else timedelta(hours=hours)
            )
    return Decision(Outcome.RESPOND, None, standard)


# -- office time, one day at a time ----------------------------------------------------------


def day_intervals(hours: OfficeHours, day: object) -> list[tuple[datetime, datetime]]:
    from datetime import date as date_type

    assert isinstance(day, date_type)
    if day.weekday() not in hours.days or day in hours.holidays:
        return []
    tz = hours.tz
    start = datetime.combine(day, hours.opens, tzinfo=tz).astimezone(UTC)
    end_day = day + timedelta(days=1) if hours.closes == time(0) else day
    end = datetime.combine(end_day, hours.closes, tzinfo=tz).astimezone(UTC)
    pieces = [(start, end)] if end > start else []
    for period in hours.away:
        away_end = period.end or datetime.max.replace(tzinfo=UTC)
        cut = []
        for a, b in pieces:
            if away_end <= a or period.start >= b:
                cut.append((a, b))
                continue
            if a < period.start:
                cut.append((a, period.start))
            if away_end < b:
                cut.append((away_end, b))
        pieces = cut
    return pieces


def office_time_between(hours: OfficeHours, start: datetime, end: datetime) -> timedelta:
    total = timedelta()
    if end <= start:
        return total
    day = start.astimezone(hours.tz).date()
    last = end.astimezone(hours.tz).date()
    while day <= last:
        for a, b in day_intervals(hours, day):
            a, b = max(a, start), min(b, end)
            if a < b:
                total += b - a
        day += timedelta(days=1)
    return total


def add_office_time(hours: OfficeHours, start: datetime, amount: timedelta) -> datetime | None:
    stops = min((p.start for p in hours.away if p.end is None), default=None)
    if stops is not None and start >= stops:
        return None
    day = start.astimezone(hours.tz).date()
    horizon = day + timedelta(days=HORIZON_DAYS)
    if stops is not None:
        horizon = min(horizon, stops.astimezone(hours.tz).date() + timedelta(days=1))
    left = amount
    while day < horizon:
        for a, b in day_intervals(hours, day):
            a = max(a, start)
            if a >= b:
                continue
            if b - a >= left:
                return a + left
            left -= b - a
        day += timedelta(days=1)
    return None


@dataclass(frozen=True)
class Clock:
    target: timedelta
    due_at: datetime | None
    used: timedelta
    urgency: Urgency


def clock(hours: OfficeHours, received: datetime, target: timedelta, now: datetime, risk: float):
    used = office_time_between(hours, received, now)
    due = add_office_time(hours, received, target)
    if used >= target:
        urgency = Urgency.OVERDUE
    elif hours.on_vacation(now):
        urgency = Urgency.PAUSED
    elif target - used < target * risk:
        urgency = Urgency.AT_RISK
    else:
        urgency = Urgency.ON_TIME
    return Clock(target, due, used, urgency)


# -- priority and the why line, as they were ------------------------------------------------


def duration_text(amount: timedelta) -> str:
    minutes = max(0, round(amount.total_seconds() / 60))
    if minutes < 60:
        return f"{minutes} min"
    if minutes >= 600:
        return f"{round(minutes / 60)} h"
    hours, rest = divmod(5 * round(minutes / 5), 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def compact_number(value: int) -> str:
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if value >= size:
            amount = value / size
            text = f"{amount:.0f}" if amount >= 10 else f"{amount:.1f}".rstrip("0").rstrip(".")
            return "1M" if (text, suffix) == ("1000", "k") else text + suffix
    return str(value)


def time_text(c: Clock, due_now: bool) -> str:
    """``due_now``: the wording since "overdue 0 min" became "due now" (under a minute late);
    without it, the wording before."""
    if c.urgency is Urgency.OVERDUE:
        late = c.used - c.target
        if due_now and late < timedelta(minutes=1):
            return "due now"
        return f"overdue {duration_text(late)}"
    if c.urgency is Urgency.PAUSED:
        return "clock paused (away)"
    left = c.target - c.used
    if c.urgency is Urgency.AT_RISK:
        return f"at risk: {duration_text(left)} left"
    return f"{duration_text(left)} left"


def score_and_why(
    outcome: Outcome,
    sentiment: float | None,
    followers: int | None,
    c: Clock | None,
    rule_name: str | None,
    suggestion: str,
    due_now: bool,
) -> tuple[float, str]:
    parts: list[str] = []
    if sentiment is not None and abs(sentiment) >= NEUTRAL_BAND:
        parts.append(sentiment_label(sentiment))
    if followers is not None and followers >= 1_000:
        parts.append(f"{compact_number(followers)} followers")
    if outcome is Outcome.LEAVE_ALONE:
        parts.append("left alone")
    elif outcome is Outcome.SPAM:
        parts.append("spam")
    elif c is not None:
        parts.append(time_text(c, due_now))
    if outcome is Outcome.ESCALATE:
        parts.append("escalate to phone/email")
    if suggestion:
        parts.append(suggestion)
    parts.append(f"rule: {rule_name}" if rule_name else "standard target")
    line = " · ".join(parts)
    why = line if len(line) <= 255 else line[:254] + "…"
    if outcome in (Outcome.LEAVE_ALONE, Outcome.SPAM):
        return 0.0, why
    points: list[float] = []
    if sentiment is not None and sentiment < 0:
        points.append(30.0 * min(1.0, -sentiment))
    if followers:
        points.append(min(30.0, 6.0 * math.log10(1 + followers)))
    if c is not None:
        fraction = 1.0 if c.target <= timedelta() else c.used / c.target
        p = 20.0 * min(1.0, fraction)
        if c.urgency is Urgency.OVERDUE:
            late = c.used - c.target
            share = late / c.target if c.target > timedelta() else 1.0
            p += 10.0 + 10.0 * min(1.0, share)
        points.append(p)
    if outcome is Outcome.ESCALATE:
        points.append(25.0)
    return round(sum(points), 3), why


@dataclass(frozen=True)
class Plan:
    priority: float
    due_at: datetime | None
    why: str
    leave: bool
    suggested_only: bool
    record: bool
    actor: str
    detail: str


def plan(
    policy: Policy, facts: CaseFacts, config: TriageConfig, now: datetime, due_now: bool = True
) -> Plan:
    """What triage should store for a case, read the long way round."""
    decision = evaluate(policy, facts.mention_facts(), config.response_target)
    leaves = decision.outcome in (Outcome.LEAVE_ALONE, Outcome.SPAM)
    suggested = leaves and (facts.reply_count > 0 or facts.officer_decided)
    outcome, target = decision.outcome, decision.target
    if suggested:
        outcome, target = Outcome.RESPOND, config.response_target
    c = None
    if target is not None:
        c = clock(config.office_hours, facts.clock_start, target, now, config.at_risk_fraction)
    score, why = score_and_why(
        outcome,
        facts.newest_sentiment,
        facts.follower_count,
        c,
        decision.rule.name if decision.rule else None,
        f"suggests {decision.outcome.label.lower()}" if suggested else "",
        due_now,
    )
    record = not suggested and (decision.actor, decision.detail) != (
        facts.last_decision_actor,
        facts.last_decision_detail,
    )
    return Plan(
        score,
        c.due_at if c else None,
        why,
        leaves and not suggested,
        suggested,
        record,
        decision.actor,
        decision.detail,
    )
