"""How a policy decides: first matching rule wins, every condition type, the recorded wording."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from app.core.policy.engine import PolicyEngine
from app.core.policy.rules import (
    Conditions,
    Decision,
    FlaggedPhrase,
    MentionFacts,
    Outcome,
    Policy,
    PolicyError,
    Rule,
    check_policy,
)
from app.core.vocab import Network, Stance

STANDARD = timedelta(hours=2)
PLAIN = MentionFacts(text="Hello there", network=Network.MASTODON)


def first_match(when: Conditions, facts: MentionFacts, **policy: object) -> bool:
    engine = PolicyEngine(Policy(rules=(Rule("r", when=when),), **policy))  # type: ignore[arg-type]
    return engine.matching_rule(facts) is not None


def test_first_matching_rule_wins_and_order_matters() -> None:
    spam = Rule("Spam", Outcome.SPAM, Conditions(words=("crypto",)), reason="spam")
    question = Rule("Question", Outcome.RESPOND, Conditions(pattern=r"\?"))
    facts = replace(PLAIN, text="Want crypto?")
    assert PolicyEngine(Policy(rules=(spam, question))).matching_rule(facts) == spam
    assert PolicyEngine(Policy(rules=(question, spam))).matching_rule(facts) == question


def test_disabled_rules_are_skipped() -> None:
    off = Rule("Off", Outcome.ESCALATE, Conditions(), enabled=False)
    on = Rule("On", Outcome.RESPOND, Conditions())
    assert PolicyEngine(Policy(rules=(off, on))).matching_rule(PLAIN) == on


def test_no_matching_rule_means_respond_within_the_standard_target() -> None:
    decision = PolicyEngine(Policy()).evaluate(PLAIN, STANDARD)
    assert decision == Decision(Outcome.RESPOND, None, STANDARD)
    assert decision.actor == "kindly"
    assert decision.detail == "Respond within 2 h (standard target): no rule matched"


def test_a_rule_without_conditions_matches_everything() -> None:
    assert first_match(Conditions(), PLAIN)


def test_all_conditions_must_hold() -> None:
    when = Conditions(words=("refund",), networks=(Network.X,))
    assert first_match(when, MentionFacts("refund please", Network.X))
    assert not first_match(when, MentionFacts("refund please", Network.MASTODON))
    assert not first_match(when, MentionFacts("hello", Network.X))


@pytest.mark.parametrize(
    ("words", "text", "matches"),
    [
        (("refund",), "I want a REFUND now", True),
        (("refund",), "refunded already", False),  # whole words only
        (("refund*",), "refunded already", True),  # unless the word ends in *
        (("legal action",), "we will take legal\n action", True),  # any spacing
        (("legal action",), "legal actionable", False),
        (("sue", "lawyer"), "my lawyer says hi", True),  # any of the words
        (("self-harm",), "worried about self-harm", True),
        (("earn $*",), "earn $500 fast", True),
    ],
)
def test_words_condition(words: tuple[str, ...], text: str, matches: bool) -> None:
    assert first_match(Conditions(words=words), replace(PLAIN, text=text)) is matches


def test_pattern_condition_is_a_case_insensitive_regex() -> None:
    when = Conditions(pattern=r"order\s+#?\d{4,}")
    assert first_match(when, replace(PLAIN, text="Where is ORDER #12345?"))
    assert not first_match(when, replace(PLAIN, text="order 12"))


def test_network_condition() -> None:
    when = Conditions(networks=(Network.BLUESKY, Network.X))
    assert first_match(when, replace(PLAIN, network=Network.BLUESKY))
    assert not first_match(when, replace(PLAIN, network=Network.FACEBOOK))


def test_stance_condition() -> None:
    when = Conditions(stances=(Stance.OPPONENT,))
    assert first_match(when, replace(PLAIN, stance=Stance.OPPONENT))
    assert not first_match(when, replace(PLAIN, stance=Stance.SUPPORTER))


def test_follower_condition_is_at_least_n_and_unknown_does_not_match() -> None:
    when = Conditions(min_followers=10_000)
    assert first_match(when, replace(PLAIN, follower_count=10_000))
    assert not first_match(when, replace(PLAIN, follower_count=9_999))
    assert not first_match(when, replace(PLAIN, follower_count=None))


def test_sentiment_conditions_are_strict_and_unknown_does_not_match() -> None:
    below = Conditions(sentiment_below=-0.4)
    assert first_match(below, replace(PLAIN, sentiment=-0.41))
    assert not first_match(below, replace(PLAIN, sentiment=-0.4))
    assert not first_match(below, replace(PLAIN, sentiment=None))
    above = Conditions(sentiment_above=0.5)
    assert first_match(above, replace(PLAIN, sentiment=0.9))
    assert not first_match(above, replace(PLAIN, sentiment=0.5))
    band = Conditions(sentiment_above=-0.2, sentiment_below=0.2)
    assert first_match(band, replace(PLAIN, sentiment=0.0))
    assert not first_match(band, replace(PLAIN, sentiment=0.3))


def test_reply_to_us_condition_both_ways() -> None:
    assert first_match(Conditions(reply_to_us=True), replace(PLAIN, reply_to_us=True))
    assert not first_match(Conditions(reply_to_us=True), PLAIN)
    assert first_match(Conditions(reply_to_us=False), PLAIN)


def test_link_condition() -> None:
    linked = replace(PLAIN, text="look https://x.example/a")
    assert first_match(Conditions(has_link=True), linked)
    assert first_match(Conditions(has_link=True), replace(PLAIN, text="see www.example.org"))
    assert not first_match(Conditions(has_link=True), PLAIN)
    assert first_match(Conditions(has_link=False), PLAIN)


def test_watch_list_condition_matches_handles_loosely() -> None:
    when = Conditions(on_watch_list=True)
    watch = {"watch_list": ("@Troll@Example.Social",)}
    assert first_match(when, replace(PLAIN, author_handle="troll@example.social"), **watch)
    assert first_match(when, replace(PLAIN, author_handle="@TROLL@example.social"), **watch)
    assert not first_match(when, replace(PLAIN, author_handle="rosa@example.social"), **watch)


def test_decisions_carry_target_reason_and_reminder() -> None:
    complaint = Rule(
        "Service complaint",
        Outcome.RESPOND,
        Conditions(words=("refund",)),
        respond_within_hours=1,
        reminder="Answer fast.",
    )
    troll = Rule("Trolls", Outcome.LEAVE_ALONE, Conditions(words=("idiot",)), reason="Feeds it.")
    legal = Rule("Legal", Outcome.ESCALATE, Conditions(words=("lawyer",)), reason="No details.")
    catch_all = Rule("Everything else", Outcome.RESPOND)
    engine = PolicyEngine(Policy(rules=(complaint, troll, legal, catch_all)))

    d = engine.evaluate(replace(PLAIN, text="refund!"), STANDARD)
    assert (d.outcome, d.target, d.actor) == (
        Outcome.RESPOND,
        timedelta(hours=1),
        "rule: Service complaint",
    )
    assert d.reminder == "Answer fast." and d.detail == "Respond within 1 h"

    d = engine.evaluate(replace(PLAIN, text="idiot"), STANDARD)
    assert (d.outcome, d.target) == (Outcome.LEAVE_ALONE, None)
    assert d.detail == "Leave alone: Feeds it."

    d = engine.evaluate(replace(PLAIN, text="my lawyer"), STANDARD)
    assert d.target == STANDARD
    assert d.detail == "Escalate: move to phone or email, within 2 h: No details."

    assert engine.evaluate(PLAIN, STANDARD).rule == catch_all


def test_flagged_phrases_are_found_as_whole_phrases() -> None:
    engine = PolicyEngine(Policy(flagged_phrases=(FlaggedPhrase("calm down", "I hear you"),)))
    assert engine.flagged_in("Please CALM DOWN.") == [FlaggedPhrase("calm down", "I hear you")]
    assert engine.flagged_in("calm downtown") == []


@pytest.mark.parametrize(
    ("policy", "path", "message"),
    [
        (Policy(rules=(Rule(" "),)), ("rule", 1, "name"), "needs a name"),
        (Policy(rules=(Rule("a"), Rule("A"))), ("rule", 2, "name"), "already used by rule 1"),
        (
            Policy(rules=(Rule("a", Outcome.LEAVE_ALONE),)),
            ("rule", 1, "reason"),
            "say why",
        ),
        (
            Policy(rules=(Rule("a", Outcome.SPAM, reason="x", respond_within_hours=2),)),
            ("rule", 1, "respond_within_hours"),
            "no reply time",
        ),
        (
            Policy(rules=(Rule("a", respond_within_hours=0),)),
            ("rule", 1, "respond_within_hours"),
            "more than 0",
        ),
        (
            Policy(rules=(Rule("a", when=Conditions(pattern="(unclosed")),)),
            ("rule", 1, "when", "pattern"),
            "not a valid regular expression",
        ),
        (
            Policy(rules=(Rule("a", when=Conditions(sentiment_below=-2)),)),
            ("rule", 1, "when", "sentiment_below"),
            "-1",
        ),
        (
            Policy(rules=(Rule("a", when=Conditions(sentiment_below=0.1, sentiment_above=0.5)),)),
            ("rule", 1, "when", "sentiment_above"),
            "never both hold",
        ),
        (
            Policy(rules=(Rule("a", when=Conditions(min_followers=-1)),)),
            ("rule", 1, "when", "min_followers"),
            "negative",
        ),
        (
            Policy(rules=(Rule("a", when=Conditions(words=("ok", "*"))),)),
            ("rule", 1, "when", "words"),
            "empty",
        ),
        (Policy(take_offline_after=1), ("take_offline_after",), "between 2 and 100"),
        (Policy(watch_list=("@",)), ("watch_list", 1), "empty"),
    ],
)
def test_check_policy_names_the_bad_field(
    policy: Policy, path: tuple[str | int, ...], message: str
) -> None:
    with pytest.raises(PolicyError, match=message) as caught:
        check_policy(policy)
    assert caught.value.path == path


def test_the_engine_refuses_a_bad_policy() -> None:
    with pytest.raises(PolicyError):
        PolicyEngine(Policy(rules=(Rule("a", Outcome.SPAM),)))
