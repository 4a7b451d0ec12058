"""Length counting per network, the way each network counts."""

from __future__ import annotations

import pytest

from app.core.lengths import count_length, grapheme_count, graphemes, x_weighted_length
from app.core.vocab import Network

LONG_URL = "https://example.org/campaigns/clean-rivers/2024/report?utm_source=kindly"
FAMILY = "👨\u200d👩\u200d👧\u200d👦"  # one emoji, seven code points
THUMBS_TONE = "👍🏽"
FLAGS = "🇩🇪🇫🇷"


def test_graphemes_keep_emoji_sequences_flags_and_combining_marks_whole() -> None:
    assert graphemes(FAMILY) == [FAMILY]
    assert graphemes(THUMBS_TONE) == [THUMBS_TONE]
    assert graphemes(FLAGS) == ["🇩🇪", "🇫🇷"]
    assert grapheme_count("e\u0301te\u0301") == 3  # é composed from e + accent
    assert grapheme_count("1\ufe0f\u20e3") == 1  # keycap
    assert grapheme_count("\u1100\u1161\u11a8") == 1  # Hangul jamo forming one syllable
    assert grapheme_count("a\r\nb") == 3
    assert grapheme_count("") == 0


def test_mastodon_counts_graphemes_and_every_url_as_23() -> None:
    text = f"Read it here: {LONG_URL}"
    assert count_length(text, Network.MASTODON).used == len("Read it here: ") + 23
    assert count_length("http://a.io", Network.MASTODON).used == 23  # short URLs too
    assert count_length(FAMILY * 3, Network.MASTODON).used == 3


def test_mastodon_counts_a_remote_mention_by_its_username_only() -> None:
    count = count_length("@rosa@social.example.org thanks!", Network.MASTODON)
    assert count.used == len("@rosa thanks!")


def test_mastodon_does_not_shorten_addresses_without_a_scheme() -> None:
    assert count_length("www.example.org", Network.MASTODON).used == 15


def test_mastodon_limit_is_500() -> None:
    assert not count_length("a" * 500, Network.MASTODON).over
    over = count_length("a" * 501, Network.MASTODON)
    assert over.over and over.remaining == -1


def test_bluesky_counts_graphemes_and_urls_in_full() -> None:
    assert count_length(LONG_URL, Network.BLUESKY).used == len(LONG_URL)
    assert count_length(THUMBS_TONE * 300, Network.BLUESKY).used == 300
    assert not count_length(THUMBS_TONE * 300, Network.BLUESKY).over
    assert count_length("é" * 301, Network.BLUESKY).over


def test_bluesky_has_a_byte_limit_too() -> None:
    # 250 family emoji: 250 graphemes, but 25 bytes each = 6,250 bytes > 3,000.
    count = count_length(FAMILY * 250, Network.BLUESKY)
    assert count.used == 250
    assert count.too_many_bytes and count.over


@pytest.mark.parametrize(
    ("text", "weight"),
    [
        ("hello", 5),
        ("日本語", 6),  # CJK weigh 2
        ("한국어", 6),
        ("😀", 2),
        (FAMILY, 2),  # a ZWJ sequence is one emoji
        (THUMBS_TONE, 2),
        ("🇩🇪", 2),
        ("1\ufe0f\u20e3", 2),
        ("café", 4),
        ("cafe\u0301", 4),  # NFC first: same as café
        ("“quoted” – dash", 15),  # general punctuation U+2010–U+201F weighs 1
        ("…", 2),  # U+2026 is outside it
        ("→", 2),  # outside the light ranges
        (LONG_URL, 23),
        ("see example.org/path now", 4 + 23 + 4),  # bare domains are links on X
    ],
)
def test_x_weighting_follows_twitter_text_v3(text: str, weight: int) -> None:
    assert x_weighted_length(text) == weight


def test_x_limit_is_280_weighted() -> None:
    assert not count_length("あ" * 140, Network.X).over
    assert count_length("あ" * 141, Network.X).over
    assert not count_length("a" * 280, Network.X).over
    mixed = "a" * 255 + " " + LONG_URL  # 256 + 23 = 279
    assert count_length(mixed, Network.X).used == 279


def test_url_trailing_punctuation_is_not_part_of_the_url() -> None:
    assert x_weighted_length(f"({LONG_URL}).") == 1 + 23 + 2


def test_facebook_counts_characters_up_to_8000() -> None:
    count = count_length("x" * 8000, Network.FACEBOOK)
    assert count.used == 8000 and count.limit == 8000 and not count.over
    assert count_length("x" * 8001, Network.FACEBOOK).over
