"""Priority ordering and the one-line "why this is here"."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from app.core.policy.rules import Outcome
from app.core.triage.office_hours import (
    Deadline,
    OfficeHours,
    Urgency,
    deadline,
    start_vacation,
)
from app.core.triage.priority import (
    PriorityInputs,
    compact_number,
    duration_text,
    prioritise,
    score_and_why,
    why_line,
)

ALWAYS = OfficeHours(days=frozenset(range(7)))
RECEIVED = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)


def clock(target_hours: float, after: timedelta) -> Deadline:
    return deadline(ALWAYS, RECEIVED, timedelta(hours=target_hours), RECEIVED + after)


def test_a_negative_overdue_complaint_from_a_big_account_outranks_praise() -> None:
    complaint = PriorityInputs(
        outcome=Outcome.RESPOND,
        sentiment=-0.5,
        followers=12_000,
        deadline=deadline(ALWAYS, RECEIVED, timedelta(hours=1), RECEIVED + timedelta(hours=3)),
        rule_name="service complaint",
    )
    praise = PriorityInputs(
        outcome=Outcome.RESPOND,
        sentiment=0.9,
        followers=80,
        deadline=deadline(ALWAYS, RECEIVED, timedelta(hours=8), RECEIVED + timedelta(minutes=5)),
        rule_name="Thanks and praise",
    )
    assert prioritise(complaint).score > prioritise(praise).score
    assert why_line(complaint) == "negative · 12k followers · overdue 2 h · rule: service complaint"


def test_each_signal_raises_priority_on_its_own() -> None:
    fresh = deadline(ALWAYS, RECEIVED, timedelta(hours=2), RECEIVED)
    base = PriorityInputs(outcome=Outcome.RESPOND, sentiment=0.0, followers=10, deadline=fresh)
    score = prioritise(base).score

    def more(**change: object) -> float:
        return prioritise(replace(base, **change)).score  # type: ignore[arg-type]

    assert more(sentiment=-0.5) > score
    assert more(followers=50_000) > more(followers=5_000) > score
    late = deadline(ALWAYS, RECEIVED, timedelta(hours=2), RECEIVED + timedelta(hours=1, minutes=45))
    overdue = deadline(
        ALWAYS, RECEIVED, timedelta(hours=2), RECEIVED + timedelta(hours=2, minutes=1)
    )
    assert more(deadline=overdue) > more(deadline=late) > score
    assert more(outcome=Outcome.ESCALATE) > score


def test_overdue_always_outranks_not_yet_due_for_the_same_person_and_words() -> None:
    nearly = deadline(ALWAYS, RECEIVED, timedelta(hours=1), RECEIVED + timedelta(minutes=59))
    just_late = deadline(ALWAYS, RECEIVED, timedelta(hours=1), RECEIVED + timedelta(minutes=61))
    a = prioritise(PriorityInputs(Outcome.RESPOND, -0.2, 500, nearly)).score
    b = prioritise(PriorityInputs(Outcome.RESPOND, -0.2, 500, just_late)).score
    assert b - a >= 10


def test_left_alone_and_spam_score_zero_and_say_so() -> None:
    left = PriorityInputs(Outcome.LEAVE_ALONE, sentiment=-0.9, followers=90_000, rule_name="Trolls")
    assert prioritise(left).score == 0
    assert why_line(left) == "very negative · 90k followers · left alone · rule: Trolls"
    spam = PriorityInputs(Outcome.SPAM, sentiment=None, followers=None, rule_name="Spam")
    assert why_line(spam) == "spam · rule: Spam"


def test_why_line_parts() -> None:
    at_risk = deadline(ALWAYS, RECEIVED, timedelta(hours=1), RECEIVED + timedelta(minutes=50))
    line = why_line(PriorityInputs(Outcome.ESCALATE, -0.2, 1_500, at_risk, "Legal"))
    assert line == (
        "negative · 1.5k followers · at risk: 10 min left · escalate to phone/email · rule: Legal"
    )
    calm = why_line(PriorityInputs(Outcome.RESPOND, 0.01, 999, clock(2, timedelta(minutes=30))))
    assert calm == "1 h 30 min left · standard target"  # neutral and small accounts stay quiet
    away = start_vacation(ALWAYS, RECEIVED + timedelta(minutes=10))
    paused = deadline(away, RECEIVED, timedelta(hours=2), RECEIVED + timedelta(hours=5))
    assert "clock paused (away)" in why_line(PriorityInputs(Outcome.RESPOND, deadline=paused))


@pytest.mark.parametrize(
    ("after", "text", "urgency"),
    [
        (timedelta(hours=1, seconds=-31), "at risk: 1 min left", Urgency.AT_RISK),
        (timedelta(hours=1), "due now", Urgency.OVERDUE),  # the exact moment it falls due
        (timedelta(hours=1, seconds=29), "due now", Urgency.OVERDUE),
        (timedelta(hours=1, seconds=59, microseconds=999_999), "due now", Urgency.OVERDUE),
        (timedelta(hours=1, minutes=1), "overdue 1 min", Urgency.OVERDUE),
        (timedelta(hours=1, minutes=1, seconds=29), "overdue 1 min", Urgency.OVERDUE),
        (timedelta(hours=1, minutes=2), "overdue 2 min", Urgency.OVERDUE),
        (timedelta(hours=3), "overdue 2 h", Urgency.OVERDUE),
    ],
)
def test_a_case_reads_due_now_in_its_first_minute_past_due(
    after: timedelta, text: str, urgency: Urgency
) -> None:
    due = clock(1, after)
    assert due.urgency is urgency
    assert why_line(PriorityInputs(Outcome.RESPOND, deadline=due)) == f"{text} · standard target"
    assert score_and_why(Outcome.RESPOND, None, None, due, None)[1] == f"{text} · standard target"


def test_why_line_fits_its_column() -> None:
    line = why_line(PriorityInputs(Outcome.RESPOND, rule_name="x" * 400))
    assert len(line) == 255 and line.endswith("…")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0"),
        (999, "999"),
        (1_000, "1k"),
        (1_500, "1.5k"),
        (12_000, "12k"),
        (12_499, "12k"),
        (999_999, "1M"),
        (2_345_678, "2.3M"),
        (15_000_000, "15M"),
    ],
)
def test_compact_numbers(value: int, text: str) -> None:
    assert compact_number(value) == text


@pytest.mark.parametrize(
    ("minutes", "text"),
    [
        (0, "0 min"),
        (25, "25 min"),
        (60, "1 h"),
        (90, "1 h 30 min"),
        (122, "2 h"),
        (600, "10 h"),
        (1_000, "17 h"),
    ],
)
def test_durations(minutes: int, text: str) -> None:
    assert duration_text(timedelta(minutes=minutes)) == text
