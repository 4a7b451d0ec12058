"""How urgent a case is, as points the officer can follow, and the one-line "why this is here".

Priority is a sum of four parts, each with a cap, so no single signal swamps the others:

- negativity: up to 30 points, in proportion to how negative the newest mention is;
- reach: 6 points per power of ten followers (100 → 12, 12k → 24.5), at most 30;
- time: up to 20 points as the response target is used up, plus 10 once overdue and up to 10
  more as it gets later (up to one more target's worth): an overdue reply always outranks a
  fresh one of the same kind;
- outcome: +25 when the policy says escalate. Left-alone and spam cases score 0 (they have left
  the "needs reply" list anyway).

Higher is more urgent. The same inputs give the ``why`` line, e.g.
"negative · 12k followers · overdue 2 h · rule: Service complaint".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from app.core.policy.rules import Outcome
from app.core.triage.office_hours import Deadline, Urgency
from app.core.triage.sentiment import NEUTRAL_BAND, sentiment_label

NEGATIVITY_POINTS = 30.0
REACH_POINTS_PER_DECADE = 6.0
REACH_POINTS_MAX = 30.0
TIME_POINTS = 20.0
OVERDUE_POINTS = 10.0
LATENESS_POINTS = 10.0
ESCALATE_POINTS = 25.0
SHOW_FOLLOWERS_FROM = 1_000
WHY_MAX = 255  # the column's width
DUE_NOW_FOR = timedelta(minutes=1)  # how long past its due time a case reads "due now"


@dataclass(frozen=True, slots=True)
class PriorityInputs:
    outcome: Outcome
    sentiment: float | None = None
    followers: int | None = None
    deadline: Deadline | None = None
    rule_name: str | None = None
    suggestion: str = ""  # e.g. "rule suggests leaving alone" when Kindly did not move it


@dataclass(frozen=True, slots=True)
class Priority:
    score: float
    why: str
    parts: tuple[tuple[str, float], ...]  # (what, points), for a tooltip


def prioritise(inputs: PriorityInputs) -> Priority:
    why = why_line(inputs)
    if inputs.outcome in (Outcome.LEAVE_ALONE, Outcome.SPAM):
        return Priority(0.0, why, ())
    parts = _parts(inputs.outcome, inputs.sentiment, inputs.followers, inputs.deadline)
    score = round(sum(points for _, points in parts), 3)
    return Priority(score, why, tuple((name, round(p, 3)) for name, p in parts))


def score_and_why(
    outcome: Outcome,
    sentiment: float | None,
    followers: int | None,
    deadline: Deadline | None,
    rule_name: str | None,
    suggestion: str = "",
) -> tuple[float, str]:
    """``prioritise``'s score and why line, without the parts nobody reads at ingest (pure)."""
    why = _why(outcome, sentiment, followers, deadline, rule_name, suggestion)
    if outcome is Outcome.LEAVE_ALONE or outcome is Outcome.SPAM:
        return 0.0, why
    # The points of ``_parts``, in its order, without their names.
    points: list[float] = []
    if sentiment is not None and sentiment < 0:
        points.append(NEGATIVITY_POINTS * min(1.0, -sentiment))
    if followers:
        points.append(min(REACH_POINTS_MAX, REACH_POINTS_PER_DECADE * math.log10(1 + followers)))
    if deadline is not None:
        points.append(_time_points(deadline))
    if outcome is Outcome.ESCALATE:
        points.append(ESCALATE_POINTS)
    return round(sum(points), 3), why


def _parts(
    outcome: Outcome, sentiment: float | None, followers: int | None, deadline: Deadline | None
) -> list[tuple[str, float]]:
    parts: list[tuple[str, float]] = []
    if sentiment is not None and sentiment < 0:
        parts.append(("negativity", NEGATIVITY_POINTS * min(1.0, -sentiment)))
    if followers:
        reach = REACH_POINTS_PER_DECADE * math.log10(1 + followers)
        parts.append(("reach", min(REACH_POINTS_MAX, reach)))
    if deadline is not None:
        parts.append(("time", _time_points(deadline)))
    if outcome is Outcome.ESCALATE:
        parts.append(("escalate", ESCALATE_POINTS))
    return parts


def _time_points(deadline: Deadline) -> float:
    points = TIME_POINTS * min(1.0, deadline.fraction_used)
    if deadline.urgency is Urgency.OVERDUE:
        late = -deadline.remaining
        share = late / deadline.target if deadline.target > timedelta() else 1.0
        points += OVERDUE_POINTS + LATENESS_POINTS * min(1.0, share)
    return points


def why_line(inputs: PriorityInputs) -> str:
    return _why(
        inputs.outcome,
        inputs.sentiment,
        inputs.followers,
        inputs.deadline,
        inputs.rule_name,
        inputs.suggestion,
    )


def _why(
    outcome: Outcome,
    sentiment: float | None,
    followers: int | None,
    deadline: Deadline | None,
    rule_name: str | None,
    suggestion: str,
) -> str:
    parts: list[str] = []
    if sentiment is not None and abs(sentiment) >= NEUTRAL_BAND:
        parts.append(sentiment_label(sentiment))
    if followers is not None and followers >= SHOW_FOLLOWERS_FROM:
        parts.append(_followers_text(followers))
    if outcome is Outcome.LEAVE_ALONE:
        parts.append("left alone")
    elif outcome is Outcome.SPAM:
        parts.append("spam")
    elif deadline is not None:
        parts.append(_time_text(deadline))
    if outcome is Outcome.ESCALATE:
        parts.append("escalate to phone/email")
    if suggestion:
        parts.append(suggestion)
    parts.append(f"rule: {rule_name}" if rule_name else "standard target")
    line = " · ".join(parts)
    return line if len(line) <= WHY_MAX else line[: WHY_MAX - 1] + "…"


def _time_text(deadline: Deadline) -> str:
    if deadline.urgency is Urgency.OVERDUE:
        return overdue_text(-deadline.remaining)
    if deadline.urgency is Urgency.PAUSED:
        return "clock paused (away)"
    if deadline.urgency is Urgency.AT_RISK:
        return f"at risk: {duration_text(deadline.remaining)} left"
    return f"{duration_text(deadline.remaining)} left"


def overdue_text(late: timedelta) -> str:
    """ "due now" in the first minute past the due time (a case falls due at its exact due
    time, and "overdue 0 min" read like a mistake), then "overdue 1 min", "overdue 2 h" …"""
    if late < DUE_NOW_FOR:
        return "due now"
    return f"overdue {duration_text(late)}"


def duration_text(amount: timedelta) -> str:
    """ "25 min", "1 h 30 min", "14 h": minutes while they matter, whole hours past ten."""
    minutes = max(0, round(amount.total_seconds() / 60))
    if minutes < 60:
        return f"{minutes} min"
    if minutes >= 600:
        return f"{round(minutes / 60)} h"
    hours, rest = divmod(5 * round(minutes / 5), 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


@lru_cache(maxsize=4_096)
def _followers_text(followers: int) -> str:
    """ "12k followers": the same people write again and again."""
    return f"{compact_number(followers)} followers"


def compact_number(value: int) -> str:
    """12000 → "12k", 1500 → "1.5k", 2345678 → "2.3M"."""
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if value >= size:
            amount = value / size
            text = f"{amount:.0f}" if amount >= 10 else f"{amount:.1f}".rstrip("0").rstrip(".")
            return "1M" if (text, suffix) == ("1000", "k") else text + suffix
    return str(value)
