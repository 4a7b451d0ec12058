"""The quick ways through ``clean_text`` and ``html_to_text`` give exactly what the full ones do.

``clean_text`` returns text it would not change as it is, and ``html_to_text`` reads simple
markup (what Mastodon sends) without ``HTMLParser``; random text and markup built from the
characters and tags that matter must come out the same either way.
"""

from __future__ import annotations

import random

from app.core import text as text_module
from app.core.text import clean_text

PIECES = [
    "a", "Bé", "e\u0301", " ", "  ", "\t", "\n", "\n\n", "\n\n\n", "\r\n", "\u00a0", "\u2003",
    "\u3000", "\u2028", "\x85", "\x1c", "\x07", "\u202e", "\u200d", "🌊", "\ud83d", "x", ".",
]  # fmt: skip


def test_clean_text_leaves_clean_text_as_it_is_and_cleans_the_rest_fully() -> None:
    rng = random.Random(7)
    for _ in range(20_000):
        sample = "".join(rng.choice(PIECES) for _ in range(rng.randrange(0, 9)))
        assert clean_text(sample) == text_module._cleaned(sample), repr(sample)
        once = clean_text(sample)
        assert clean_text(once) == once  # clean text takes the quick way, unchanged


MARKUP = [
    "<p>", "</p>", "<br>", "<br/>", "<br />", "</br>", "<P CLASS='x'>", "</P >", "<p/>",
    '<a href="https://example.org/a?b=1&amp;c=2" rel="nofollow noopener">', "</a>",
    '<span class="invisible">', "</span>", "<span\nclass=\"h-card\"\ttranslate=\"no\">",
    "<blockquote>", "</blockquote>", "<ul>", "<li>", "</li>", "</ul>", "<h2>", "</h2>",
    "<b>", "</b>", "<em>", "<code>", "<pre>", "</pre>", "<del>",
    "<script>", "</script>", "<style>", "<!-- c -->", "<img src='x'>", "<a href=x>",
    "<a title=\"a>b\">", "<p <p>", "< p>", "<3", "a < b", "a > b", "<", ">", "&", "&amp;",
    "&lt;p&gt;", "&eacute;", "&#233;", "&#x1F30A;", "&nbsp;", "&bogus;", "&#0;", "&am",
    "text", " ", "  ", "\n", "\t", "é", "🌊", "\u202e", "\x07", "x", "Hello there",
]  # fmt: skip


def _by_parser(markup: str) -> str:
    parser = text_module._TextExtractor()
    parser.feed(markup)
    parser.close()
    return clean_text("".join(parser.parts))


def test_simple_markup_read_quickly_gives_what_the_parser_gives() -> None:
    rng = random.Random(11)
    quick = 0
    for _ in range(20_000):
        markup = "".join(rng.choice(MARKUP) for _ in range(rng.randrange(0, 12)))
        if text_module._simple_html_parts(markup) is not None:
            quick += 1
        assert text_module.html_to_text(markup) == _by_parser(markup), repr(markup)
    assert quick > 2_000  # the quick way was taken often enough to be tested
