"""Safe plain text from what networks send: HTML, disguising characters, snippets, first names."""

from __future__ import annotations

import unicodedata

import pytest

from app.core.text import (
    MAX_TEXT,
    clean_text,
    first_name,
    html_to_text,
    snippet,
    without_surrogates,
)

MASTODON_STATUS = (
    '<p><span class="h-card" translate="no"><a href="https://mastodon.example/@riverbank" '
    'class="u-url mention">@<span>riverbank</span></a></span> Is the clean-up still on?</p>'
    '<p>See <a href="https://example.org/river/report-2024" target="_blank" '
    'rel="nofollow noopener noreferrer" translate="no"><span class="invisible">https://</span>'
    '<span class="ellipsis">example.org/river/rep</span><span class="invisible">ort-2024'
    "</span></a> &amp; "
    '<a href="https://mastodon.example/tags/rivers" class="mention hashtag" rel="tag">'
    "#<span>rivers</span></a><br>Thanks!<br />Rosa</p>"
)


# -- html_to_text ---------------------------------------------------------------------------------


def test_a_mastodon_status_becomes_readable_text() -> None:
    assert html_to_text(MASTODON_STATUS) == (
        "@riverbank Is the clean-up still on?\n\n"
        "See https://example.org/river/report-2024 & #rivers\n"
        "Thanks!\n"
        "Rosa"
    )


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("<p>One</p><p>Two</p>", "One\n\nTwo"),
        ("<p>One</p>\n\n\n<p>Two</p>", "One\n\nTwo"),
        ("a<br>b<br/>c<br />d", "a\nb\nc\nd"),
        ("<p>a<br><br><br><br>b</p>", "a\n\nb"),
        ("<blockquote>quoted</blockquote>after", "quoted\n\nafter"),
        ("<ul><li>one</li><li>two</li></ul>", "one\n\ntwo"),
        ("&lt;b&gt;not bold&lt;/b&gt;", "<b>not bold</b>"),
        ("caf&eacute; &#233; &#xE9; &amp;amp;", "café é é &amp;"),
        ("a&nbsp;&nbsp;b", "a b"),
        ("&#128578; &#x1F30A;", "🙂 🌊"),
        ("  <p>   spaced    out   </p>  ", "spaced out"),
        ("", ""),
    ],
)
def test_html_structure_and_entities(markup: str, text: str) -> None:
    assert html_to_text(markup) == text


@pytest.mark.parametrize(
    "markup",
    [
        '<p>Hi</p><script>alert("pwned")</script>',
        "<p>Hi</p><style>p { color: red }</style>",
        "<p>Hi</p><SCRIPT type='text/javascript'>document.cookie</SCRIPT>",
        "<p>Hi</p><iframe src='https://evil.example'>frame text</iframe>",
        "<p>Hi</p><noscript>no script text</noscript>",
        "<p>Hi</p><template><p>template text</p></template>",
        '<p>Hi</p><img src="http://tracker.example/p.png" alt="tracking pixel">',
        '<p>Hi</p><object data="x.swf">object text</object>',
    ],
)
def test_scripts_styles_and_embeds_are_dropped(markup: str) -> None:
    assert html_to_text(markup) == "Hi"


@pytest.mark.parametrize(
    "markup",
    [
        "<p>unclosed <b>bold",
        "</p></div>stray closers",
        "<<<>>>",
        "<p <p <p>",
        "<a href='x",
        "<!-- comment",
        "<![CDATA[ x ]]>",
        "<!DOCTYPE html><html><body>x</body></html>",
        "<script>never closed",
        "<" * 5000,
        "<p>" * 5000 + "deep",
        "&#xFFFFFFFF; &#0; &#55296; &bogus;",
    ],
)
def test_broken_html_never_crashes(markup: str) -> None:
    text = html_to_text(markup)

    assert isinstance(text, str)
    assert "<script" not in text.lower() or "<script" not in markup.lower()
    assert len(text) <= MAX_TEXT


def test_html_text_is_cleaned_too() -> None:
    assert html_to_text("<p>Open \u202egnp.exe\u202c now\x07</p>") == "Open gnp.exe now"


# -- clean_text -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "disguise",
    [
        "\u202a",  # left-to-right embedding
        "\u202b",  # right-to-left embedding
        "\u202c",  # pop directional formatting
        "\u202d",  # left-to-right override
        "\u202e",  # right-to-left override ("Trojan Source")
        "\u2066",  # left-to-right isolate
        "\u2067",  # right-to-left isolate
        "\u2068",  # first strong isolate
        "\u2069",  # pop directional isolate
        "\u200e",  # left-to-right mark
        "\u200f",  # right-to-left mark
        "\u061c",  # Arabic letter mark
        "\ufeff",  # byte order mark / zero-width no-break space
    ],
)
def test_bidi_and_invisible_disguises_are_removed(disguise: str) -> None:
    assert clean_text(f"file{disguise}gnp.exe") == "filegnp.exe"


@pytest.mark.parametrize(
    "control", [*map(chr, range(0x00, 0x09)), "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\x9f"]
)
def test_control_characters_are_removed(control: str) -> None:
    assert clean_text(f"a{control}b") == "ab"


@pytest.mark.parametrize(
    "kept",
    [
        "Thanks! 🌊💚🙂",
        "👩🏽‍🔬 at the lab",  # skin tone + ZWJ sequence
        "🏳️‍🌈 and 🏴‍☠️",  # ZWJ with variation selectors
        "👨‍👩‍👧‍👦 family",
        "🏴󠁧󠁢󠁳󠁣󠁴󠁿 Scotland",  # tag characters
        "ما رأيكم في تقرير جودة المياه؟",  # Arabic, right-to-left
        "שלום, מה שלומכם",  # Hebrew
        "नमस्ते दुनिया",  # Devanagari with combining signs
        "山田太郎さん、ありがとう",
        "Z̷̢̛a̴̛͝l̵̨̛g̶̡̛o",  # combining marks stay (they are text, not format characters)
        "tab\tinside",
    ],
)
def test_real_text_is_kept(kept: str) -> None:
    expected = unicodedata.normalize("NFC", kept).replace("\t", " ")
    assert clean_text(kept) == expected
    if "\u200d" in kept:
        assert "\u200d" in clean_text(kept)


def test_lone_surrogates_become_replacement_characters() -> None:
    """From broken JSON escapes; they cannot be encoded as UTF-8, so they cannot be stored."""
    assert clean_text("broken \ud83d emoji \udc00") == "broken \ufffd emoji \ufffd"
    assert html_to_text("<p>a\ud800b</p>") == "a\ufffdb"
    assert without_surrogates("ok 🌊 \udfff") == "ok 🌊 \ufffd"
    clean_text("x\ud83d" * 10).encode("utf-8")  # storable


def test_whitespace_is_tidied_but_paragraphs_are_kept() -> None:
    messy = "  first   line  \r\nsecond\tline\r\r\n\n\n\n  third \u00a0 para  "

    assert clean_text(messy) == "first line\nsecond line\n\nthird para"


def test_text_is_composed_to_nfc() -> None:
    assert clean_text("Chloe\u0301") == "Chloé"


def test_huge_text_is_cut_with_an_ellipsis() -> None:
    cut = clean_text("word " * 10_000)

    assert len(cut) == MAX_TEXT
    assert cut.endswith("…")
    assert clean_text("x" * MAX_TEXT) == "x" * MAX_TEXT


# -- snippet --------------------------------------------------------------------------------------


def test_snippet_is_one_line_of_bounded_length() -> None:
    assert snippet("one\n\ntwo\tthree  four") == "one two three four"
    long = snippet("word " * 100, length=20)
    assert len(long) <= 20 and long.endswith("…")
    assert snippet("x" * 140) == "x" * 140
    assert snippet("") == ""


# -- first_name -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("display_name", "expected"),
    [
        ("Rosa García", "Rosa"),
        ("rosa garcía", "Rosa"),
        ("  Dev   Patel ", "Dev"),
        ("Chloé Dubois", "Chloé"),
        ("Zoë", "Zoë"),
        ("Ümit Yılmaz", "Ümit"),
        ("Mary-Jane Smith", "Mary-Jane"),
        ("Jean-Luc Picard", "Jean-Luc"),
        ("Seán O'Brien", "Seán"),
        ("D'Arcy Jones", "D'Arcy"),
        ("O’Neill", "O’Neill"),
        ("🌊 River Fan 🌊", "River"),
        ("@rosa", "Rosa"),
        ("Rosa (she/her)", "Rosa"),
        ("Ann", "Ann"),
        ("ROSA GARCÍA", ""),  # shouting is not a name
        ("sam99", ""),
        ("12345", ""),
        ("", ""),
        ("   ", ""),
        ("🌊🌊", ""),
        ("- Rosa", "Rosa"),
        ("محمد علي", "محمد"),
        ("山田 太郎", "山田"),
    ],
)
def test_first_name(display_name: str, expected: str) -> None:
    assert first_name(display_name) == expected
