"""Sentiment per mention with VADER, and the officer's correction that sticks."""

from __future__ import annotations

import pytest

from app.core.triage.sentiment import SentimentScorer, rescore, sentiment_label
from app.storage.models import Case, Mention
from tests.core.triage.conftest import Desk


def test_vader_scores_negative_and_positive_text() -> None:
    scorer = SentimentScorer()
    angry, happy, empty = scorer.score_many(
        [
            "This is terrible, awful service. I am furious!",
            "Thank you so much, wonderful work!",
            "  ",
        ]
    )
    assert angry < -0.5 < 0.5 < happy
    assert empty == 0.0
    assert scorer.score("Thank you so much, wonderful work!") == happy


def test_identical_texts_in_a_batch_score_identically() -> None:
    scores = SentimentScorer().score_many(["We love it"] * 3 + ["We hate it"])
    assert scores[0] == scores[1] == scores[2] != scores[3]


@pytest.mark.parametrize(
    ("score", "label"),
    [
        (None, "unknown"),
        (-0.9, "very negative"),
        (-0.3, "negative"),
        (0.0, "neutral"),
        (0.04, "neutral"),
        (0.3, "positive"),
        (0.8, "very positive"),
    ],
)
def test_labels(score: float | None, label: str) -> None:
    assert sentiment_label(score) == label


def test_a_correction_sticks_through_retriage_rescoring_and_later_ingests(desk: Desk) -> None:
    first = desk.mention("Oh great, another brilliant update. Just wonderful.", conversation_id="t")
    (case_id,) = desk.ingest(first).new_cases
    mention = Mention.get(Mention.case == case_id)
    assert mention.sentiment > 0.5  # VADER misses the sarcasm
    praised = Case.get_by_id(case_id)
    assert praised.why.startswith("very positive")

    desk.triage.correct_sentiment(mention.id, -0.8)  # the officer knows better
    corrected = Case.get_by_id(case_id)
    assert corrected.why.startswith("very negative")
    assert corrected.priority > praised.priority

    assert rescore([mention.id], desk.triage.scorer) == 0
    desk.triage.refresh()
    desk.ingest(first)  # a repeated delivery of the same mention
    desk.ingest(desk.mention("And another thing.", conversation_id="t"))
    again = Mention.get_by_id(mention.id)
    assert (again.sentiment, again.sentiment_corrected) == (-0.8, True)


def test_rescore_updates_uncorrected_scores(desk: Desk) -> None:
    (case_id,) = desk.ingest(desk.mention("I am so happy with this")).new_cases
    mention = Mention.get(Mention.case == case_id)
    Mention.update(sentiment=None).execute()
    assert rescore([mention.id], desk.triage.scorer) == 1
    assert Mention.get_by_id(mention.id).sentiment == pytest.approx(mention.sentiment)


def test_corrections_must_be_in_range(desk: Desk) -> None:
    (case_id,) = desk.ingest(desk.mention("hello")).new_cases
    mention = Mention.get(Mention.case == case_id)
    with pytest.raises(ValueError, match="-1"):
        desk.triage.correct_sentiment(mention.id, 2.0)


def test_the_score_cache_is_bounded_and_gives_the_same_scores() -> None:
    scorer = SentimentScorer(cache_size=2)
    first = scorer.score_many(["good", "bad", "fine", "good"])
    assert first == SentimentScorer().score_many(["good", "bad", "fine", "good"])
    assert scorer.score_many(["bad"]) == [first[1]]
