"""The policy file: exact round trips, the shipped default, and clear errors for bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.policy.files import (
    PolicyFileError,
    export_policy,
    import_policy,
    policy_to_text,
    read_policy_text,
)
from app.core.policy.rules import Conditions, FlaggedPhrase, Outcome, Policy, Rule
from app.core.resources import resource_path
from app.core.vocab import Network, Stance

EVERYTHING = Policy(
    rules=(
        Rule(
            name='Quotes " and \\ backslashes',
            outcome=Outcome.ESCALATE,
            when=Conditions(
                words=("legal action", "sue", "lawyer*"),
                pattern=r"\bcase\s+no\.?\s*\d+",
                networks=(Network.X, Network.FACEBOOK),
                stances=(Stance.OPPONENT, Stance.UNKNOWN),
                min_followers=1500,
                sentiment_below=0.25,
                sentiment_above=-0.75,
                reply_to_us=True,
                has_link=False,
                on_watch_list=False,
            ),
            respond_within_hours=0.5,
            reason="Line one\nline two\ttabbed, «unicode» ✓",
            reminder="Don't admit fault.",
            note="Why: it's 'quoted'.",
            enabled=False,
        ),
        Rule("Spam", Outcome.SPAM, Conditions(has_link=True), reason="Spam."),
        Rule("Everything else"),
    ),
    watch_list=("@troll@example.social", "noisy.bsky.social"),
    flagged_phrases=(FlaggedPhrase("calm down", "I hear you"), FlaggedPhrase("obviously")),
    take_offline_after=4,
)


def test_round_trip_is_exact_both_ways() -> None:
    text = policy_to_text(EVERYTHING)
    assert read_policy_text(text) == EVERYTHING
    assert policy_to_text(read_policy_text(text)) == text


def test_export_and_import_through_a_file(tmp_path: Path) -> None:
    path = tmp_path / "our-policy.toml"
    export_policy(EVERYTHING, path)
    assert import_policy(path) == EVERYTHING
    assert not list(tmp_path.glob("*.part"))


def test_the_shipped_default_is_valid_and_in_canonical_form() -> None:
    text = resource_path("policy", "default-policy.toml").read_text(encoding="utf-8")
    policy = read_policy_text(text)
    assert policy_to_text(policy) == text  # edit the default through the exporter's layout
    names = [r.name for r in policy.rules]
    assert names[0] == "Threats and safety"
    assert names[-1] == "Everything else" and policy.rules[-1].when.empty
    outcomes = {r.outcome for r in policy.rules}
    assert outcomes == set(Outcome)
    assert policy.take_offline_after == 5


def test_hand_written_files_may_use_any_toml_layout() -> None:
    text = """
format = 1
[[rule]]
name = "Press"
outcome = "escalate"
when = { words = ["journalist"] }
"""
    policy = read_policy_text(text)
    assert policy.rules[0].when.words == ("journalist",)
    assert policy.take_offline_after == 5


def error_for(text: str) -> PolicyFileError:
    with pytest.raises(PolicyFileError) as caught:
        read_policy_text(text)
    return caught.value


GOOD_START = """\
format = 1
take_offline_after = 5

[[rule]]
name = "First"
outcome = "respond"

[[rule]]
name = "Second"
"""


def test_invalid_toml_names_the_line() -> None:
    error = error_for('format = 1\nwatch_list = ["a",\nname = \n')
    assert error.line == 3
    assert "not valid TOML" in str(error) and str(error).startswith("line 3")


def test_an_unknown_outcome_names_line_rule_and_field() -> None:
    error = error_for(GOOD_START + 'outcome = "reply"\n')
    assert error.line == 10
    assert error.field == "rule 2 “Second”, field outcome"
    assert "unknown outcome 'reply'" in str(error) and "leave_alone" in str(error)
    assert str(error).startswith("line 10, rule 2 “Second”, field outcome:")


def test_a_misspelt_field_gets_a_suggestion() -> None:
    error = error_for(GOOD_START + "respond_whitin_hours = 2\n")
    assert error.line == 10
    assert "did you mean 'respond_within_hours'" in str(error)


def test_a_bad_condition_names_its_line_under_rule_when() -> None:
    text = GOOD_START + '[rule.when]\nwords = ["x"]\npattern = "(unclosed"\n'
    error = error_for(text)
    assert error.line == 12
    assert error.field == "rule 2 “Second”, field when.pattern"


def test_wrong_types_are_explained() -> None:
    assert "whole number" in str(error_for("take_offline_after = 'five'\n"))
    assert error_for("take_offline_after = 'five'\n").line == 1
    text = GOOD_START + '[rule.when]\nhas_link = "yes"\n'
    error = error_for(text)
    assert "true or false" in str(error) and error.line == 11
    assert "number" in str(error_for(GOOD_START + 'respond_within_hours = "1"\n'))


def test_missing_name_and_unknown_network_and_duplicate_names() -> None:
    error = error_for('[[rule]]\noutcome = "respond"\n')
    assert error.field == "rule 1, field name" and "missing" in str(error)
    assert error.line == 1
    error = error_for(GOOD_START + '[rule.when]\nnetworks = ["myspace"]\n')
    assert "unknown value 'myspace'" in str(error) and "mastodon" in str(error)
    error = error_for(GOOD_START.replace('"Second"', '"first"'))
    assert error.line == 9 and "already used by rule 1" in str(error)


def test_leave_alone_without_a_reason_is_refused() -> None:
    error = error_for(GOOD_START + 'outcome = "leave_alone"\n')
    assert error.field == "rule 2 “Second”, field reason" and "say why" in str(error)


def test_a_newer_format_is_refused_politely() -> None:
    error = error_for("format = 2\n")
    assert "newer Kindly" in str(error) and error.line == 1


def test_bad_flagged_phrase_is_located_in_a_multi_line_list() -> None:
    text = 'flagged_phrases = [\n    { phrase = "ok" },\n    { phrase = "" },\n]\n'
    error = error_for(text)
    assert error.line == 3 and "flagged_phrases.2.phrase" in error.field


def test_import_of_a_file_that_is_not_text(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(PolicyFileError, match="UTF-8"):
        import_policy(path)
    with pytest.raises(PolicyFileError, match="cannot read"):
        import_policy(tmp_path / "missing.toml")
