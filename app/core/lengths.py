"""Count a reply's length the way each network counts it, so "too long" is caught before sending.

- Mastodon: 500 user-perceived characters (graphemes); every ``http(s)://`` URL counts as 23
  and a remote
  mention ``@name@server`` counts as ``@name`` (its ``StatusLengthValidator``).
- Bluesky: 300 graphemes, and at most 3,000 UTF-8 bytes (the ``app.bsky.feed.post`` lexicon).
- X: 280 weighted characters after NFC normalisation (twitter-text configuration v3): code
  points in U+0000–U+10FF, U+2000–U+200D, U+2010–U+201F and U+2032–U+2037 weigh 1, everything
  else (CJK, most symbols) weighs 2, an emoji sequence weighs 2 however many code points it
  has, and every URL weighs 23.
- Facebook: 8,000 characters (code points) for a comment reply.

Graphemes are found with a compact version of the Unicode extended-grapheme rules (combining
marks, ZWJ emoji sequences, flags, skin tones, keycaps, Hangul syllables), enough for counting.
URLs are those with ``http(s)://`` or ``www.``; X also shortens bare domains such as
``example.org/x`` on a short list of common endings.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from app.core.vocab import Network

URL_WEIGHT = 23
LIMITS: dict[Network, int] = {
    Network.MASTODON: 500,
    Network.BLUESKY: 300,
    Network.X: 280,
    Network.FACEBOOK: 8000,
    Network.WEB: 8000,  # never sent: a feed item cannot be replied to
}
BLUESKY_MAX_BYTES = 3000

_TRAILING = ".,;:!?)]}'\"»”’…"
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"]+", re.IGNORECASE)
_URL_WITH_SCHEME = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
_BARE_DOMAIN = re.compile(
    r"(?<![\w@.\-/])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    r"(?:com|org|net|edu|gov|io|co|uk|de|fr|nl|es|it|eu|info|ngo|ca|au|us|ie|be|ch|at|se|no)"
    r"(?:/[^\s<>\"]*)?(?![\w-])",
    re.IGNORECASE,
)
_REMOTE_MENTION = re.compile(r"(?<![\w/])@(\w+(?:[.-]\w+)*)@[\w.-]+\w", re.UNICODE)

_X_LIGHT = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))

ZWJ = 0x200D


@dataclass(frozen=True, slots=True)
class LengthCount:
    """How much of a network's limit a text uses, in that network's own unit."""

    network: Network
    used: int
    limit: int
    unit: str
    too_many_bytes: bool = False  # Bluesky's second limit

    @property
    def remaining(self) -> int:
        return self.limit - self.used

    @property
    def over(self) -> bool:
        return self.used > self.limit or self.too_many_bytes


def count_length(text: str, network: Network) -> LengthCount:
    """The text's length as ``network`` counts it, with the network's limit."""
    limit = LIMITS[network]
    if network is Network.MASTODON:
        countable = _REMOTE_MENTION.sub(r"@\1", _replace_urls(text, _URL_WITH_SCHEME))
        return LengthCount(network, grapheme_count(countable), limit, "characters")
    if network is Network.BLUESKY:
        heavy = len(text.encode("utf-8")) > BLUESKY_MAX_BYTES
        return LengthCount(network, grapheme_count(text), limit, "characters", heavy)
    if network is Network.X:
        return LengthCount(network, x_weighted_length(text), limit, "characters (X weighting)")
    return LengthCount(network, len(text), limit, "characters")


def _url_spans(text: str, pattern: re.Pattern[str]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for match in pattern.finditer(text):
        start, end = match.span()
        while end > start and text[end - 1] in _TRAILING:
            end -= 1
        if end - start > 4:
            spans.append((start, end))
    return spans


def _replace_urls(text: str, pattern: re.Pattern[str]) -> str:
    """Each URL becomes 23 placeholder characters (Mastodon counts that way)."""
    parts: list[str] = []
    last = 0
    for start, end in _url_spans(text, pattern):
        parts.append(text[last:start])
        parts.append("x" * URL_WEIGHT)
        last = end
    parts.append(text[last:])
    return "".join(parts)


def x_weighted_length(text: str) -> int:
    """twitter-text v3 weighted length (NFC, URLs 23, emoji 2, light ranges 1, the rest 2)."""
    text = unicodedata.normalize("NFC", text)
    spans = _url_spans(text, _URL)
    taken = [False] * len(text)
    for start, end in spans:
        for i in range(start, end):
            taken[i] = True
    for start, end in _url_spans(text, _BARE_DOMAIN):
        if not any(taken[start:end]):
            spans.append((start, end))
    spans.sort()
    total = 0
    last = 0
    for start, end in spans:
        total += _x_weight_plain(text[last:start])
        total += URL_WEIGHT
        last = end
    return total + _x_weight_plain(text[last:])


def _x_weight_plain(text: str) -> int:
    total = 0
    for cluster in graphemes(text):
        if _is_emoji_cluster(cluster):
            total += 2
        else:
            total += sum(_x_code_point_weight(ord(ch)) for ch in cluster)
    return total


def _x_code_point_weight(cp: int) -> int:
    for low, high in _X_LIGHT:
        if low <= cp <= high:
            return 1
    return 2


# -- graphemes ------------------------------------------------------------------------------


def _is_pictographic(cp: int) -> bool:
    """Extended_Pictographic, closely enough for counting (emoji and their older symbols)."""
    return (
        0x1F000 <= cp <= 0x1FAFF
        or 0x2600 <= cp <= 0x27BF
        or 0x2300 <= cp <= 0x23FF
        or 0x2B00 <= cp <= 0x2BFF
        or 0x2190 <= cp <= 0x21FF
        or 0x25A0 <= cp <= 0x25FF
        or cp in (0x00A9, 0x00AE, 0x203C, 0x2049, 0x2122, 0x2139, 0x3030, 0x303D, 0x3297, 0x3299)
    )


def _is_regional(cp: int) -> bool:
    return 0x1F1E6 <= cp <= 0x1F1FF


def _is_extend(ch: str) -> bool:
    cp = ord(ch)
    if cp == ZWJ or 0xFE00 <= cp <= 0xFE0F or 0x1F3FB <= cp <= 0x1F3FF:
        return True
    if 0xE0020 <= cp <= 0xE007F or 0xE0100 <= cp <= 0xE01EF or cp in (0x200C, 0xFF9E, 0xFF9F):
        return True
    return unicodedata.category(ch) in ("Mn", "Me", "Mc")


def _hangul_type(cp: int) -> str:
    if 0x1100 <= cp <= 0x115F or 0xA960 <= cp <= 0xA97C:
        return "L"
    if 0x1160 <= cp <= 0x11A7 or 0xD7B0 <= cp <= 0xD7C6:
        return "V"
    if 0x11A8 <= cp <= 0x11FF or 0xD7CB <= cp <= 0xD7FB:
        return "T"
    if 0xAC00 <= cp <= 0xD7A3:
        return "LV" if (cp - 0xAC00) % 28 == 0 else "LVT"
    return ""


_HANGUL_JOINS = {
    ("L", "L"),
    ("L", "V"),
    ("L", "LV"),
    ("L", "LVT"),
    ("LV", "V"),
    ("LV", "T"),
    ("V", "V"),
    ("V", "T"),
    ("LVT", "T"),
    ("T", "T"),
}


def _joins(previous: str, ch: str, pictographic_base: bool, regional_run: int) -> bool:
    """Whether ``ch`` continues the cluster that ``previous`` ended (no break between them)."""
    if previous == "\r" and ch == "\n":
        return True
    if previous in "\r\n" or ch in "\r\n":
        return False
    if _is_extend(ch):
        return True
    cp, before = ord(ch), ord(previous)
    if before == ZWJ:
        return pictographic_base and _is_pictographic(cp)
    if _is_regional(cp) and _is_regional(before):
        return regional_run % 2 == 1
    return (_hangul_type(before), _hangul_type(cp)) in _HANGUL_JOINS


def graphemes(text: str) -> list[str]:
    """Split text into user-perceived characters (extended grapheme clusters, simplified)."""
    clusters: list[str] = []
    current: list[str] = []
    regional_run = 0
    pictographic_base = False
    for ch in text:
        if current and _joins(current[-1], ch, pictographic_base, regional_run):
            current.append(ch)
        else:
            if current:
                clusters.append("".join(current))
            current = [ch]
            pictographic_base = _is_pictographic(ord(ch))
            regional_run = 0
        if _is_regional(ord(ch)):
            regional_run += 1
    if current:
        clusters.append("".join(current))
    return clusters


def grapheme_count(text: str) -> int:
    return len(graphemes(text))


def _is_emoji_cluster(cluster: str) -> bool:
    first = ord(cluster[0])
    if _is_regional(first) and len(cluster) > 1:
        return True
    if cluster[-1] == "\u20e3":  # keycap: 1️⃣ #️⃣
        return True
    if not _is_pictographic(first):
        return False
    # A text-style symbol (→, ©) stays a character unless asked to look like an emoji.
    return first >= 0x1F000 or len(cluster) > 1 or 0x2600 <= first <= 0x27BF
