"""Turning what networks send into safe plain text.

Mention text is never rendered as markup: HTML is converted to text here, control characters
and bidirectional overrides (which can disguise text, "Trojan Source") are removed, and very long
text is cut, so a hostile mention cannot execute, fetch anything or break the layout.
"""

from __future__ import annotations

import html
import re
import unicodedata
from html.parser import HTMLParser

MAX_TEXT = 20_000

_BLOCK_TAGS = {
    "p",
    "div",
    "blockquote",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "pre",
}
_SKIP_TAGS = {"script", "style", "template", "head", "title", "iframe", "object", "noscript"}
# Bidi embeddings/overrides/isolates and other invisible format characters that disguise text.
_DISGUISE = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\ufeff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Lone UTF-16 surrogates come from broken JSON escapes ("\\ud83d" without its pair); they cannot
# be encoded as UTF-8, so one such post would make storing its whole batch fail.
_SURROGATE = re.compile("[\ud800-\udfff]")
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")
# Characters ``clean_text`` removes or replaces (surrogates, disguises, controls, tab, no-break
# space): text without them, runs of spaces or blank lines, spaces at either end of a line or of
# the text, and already composed, is clean already. (Most text is: networks' text arrives
# through html_to_text.)
_UNCLEAN_CHARS = re.compile(
    "[\ud800-\udfff\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\ufeff"
    "\x00-\x09\x0b-\x1f\x7f-\x9f\u00a0]"
)
_SPACE_AT_LINE_END = re.compile(r"[^\S\n]\n|\n[^\S\n]")


def _is_clean(text: str) -> bool:
    return (
        len(text) <= MAX_TEXT
        and _UNCLEAN_CHARS.search(text) is None
        and "  " not in text
        and "\n\n\n" not in text
        and not text[:1].isspace()
        and not text[-1:].isspace()
        and ("\n" not in text or _SPACE_AT_LINE_END.search(text) is None)
        and unicodedata.is_normalized("NFC", text)
    )


_NAME_JOINERS = re.compile("['’-]")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


# Simple markup, what Mastodon sends, is read without HTMLParser (which costs ~3/4 of the time):
# only these tags, with only quoted attribute values or none; any other "<" (a comment, another
# tag, an odd attribute) sends the whole text through HTMLParser.
_SIMPLE_TAGS = frozenset(
    {*_BLOCK_TAGS, "br", "a", "span", "b", "strong", "i", "em", "u", "s", "del", "code", "small"}
)
_SIMPLE_TAG = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9]*)"
    r"((?:\s+[a-zA-Z_:][-a-zA-Z0-9_:.]*(?:\s*=\s*(?:\"[^\"<>]*\"|'[^'<>]*'))?)*)"
    r"\s*(/?)>"
)


def _simple_html_parts(markup: str) -> list[str] | None:
    """What ``_TextExtractor`` would collect from ``markup``; None unless it is simple."""
    parts: list[str] = []
    at = 0
    while True:
        tag_at = markup.find("<", at)
        data = markup[at:] if tag_at < 0 else markup[at:tag_at]
        if data:
            parts.append(html.unescape(data) if "&" in data else data)
        if tag_at < 0:
            return parts
        tag = _SIMPLE_TAG.match(markup, tag_at)
        if tag is None:
            return None
        closing, name, attributes, self_closing = tag.groups()
        name = name.lower()
        if name not in _SIMPLE_TAGS or (closing and (attributes or self_closing)):
            return None
        if name == "br":
            if not closing:
                parts.append("\n")
        elif name in _BLOCK_TAGS:
            parts.append("\n\n\n\n" if self_closing else "\n\n")
        at = tag.end()


def html_to_text(markup: str) -> str:
    """Mastodon-style HTML to readable plain text (paragraphs and line breaks kept)."""
    simple = _simple_html_parts(markup)
    if simple is not None:  # (line breaks at either end go anyway: often clean without them)
        return clean_text("".join(simple).strip("\n"))
    parser = _TextExtractor()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:
        return clean_text(html.unescape(re.sub(r"<[^>]*>", " ", markup)))
    return clean_text("".join(parser.parts))


def without_surrogates(text: str) -> str:
    """``text`` with any lone surrogate replaced by U+FFFD, so that it can be stored."""
    return _SURROGATE.sub("\ufffd", text)


def clean_text(text: str) -> str:
    """Normalise plain text: no control or disguising characters, tidy whitespace, bounded."""
    if _is_clean(text):
        return text  # every step of _cleaned would leave it as it is
    return _cleaned(text)


def _cleaned(text: str) -> str:
    text = without_surrogates(text)
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _DISGUISE.sub("", _CONTROL.sub("", text))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    text = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - 1] + "…"
    return text


def snippet(text: str, length: int = 140) -> str:
    """One line for lists."""
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1].rstrip() + "…"


def first_name(display_name: str, handle: str = "") -> str:
    """A friendly first name, or "" when the display name does not look like a name."""
    cleaned = re.sub(r"[^\w\s'’-]", " ", display_name, flags=re.UNICODE).split()
    for raw in cleaned:
        word = raw.strip("'’-")
        letters = _NAME_JOINERS.sub("", word)  # Mary-Jane, D'Arcy, O’Neill are names too
        shouting = word.isupper() and len(letters) > 3
        if letters.isalpha() and not shouting:
            return word[:1].upper() + word[1:]
    return ""
