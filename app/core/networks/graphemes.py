"""Counting user-perceived characters (extended grapheme clusters, Unicode UAX #29).

Bluesky limits posts to 300 graphemes, not code points: "👩‍👩‍👧" is one grapheme but five
code points, "🇫🇷" is one but two. Without the ``regex`` package (``\\X``) we segment with
``unicodedata`` and the rules of UAX #29 that matter for real text: CR LF, controls, combining
and spacing marks, ZWJ emoji sequences, variation selectors, skin-tone modifiers, emoji tag
sequences, regional-indicator pairs and Hangul syllables. Indic conjuncts (GB9c, Unicode 15.1)
are not joined, so such text counts slightly high: we refuse a little early, never too late.
"""

from __future__ import annotations

import unicodedata
from enum import Enum, auto


class _Kind(Enum):
    CR = auto()
    LF = auto()
    CONTROL = auto()
    EXTEND = auto()
    ZWJ = auto()
    REGIONAL = auto()
    PREPEND = auto()
    SPACING = auto()
    L = auto()
    V = auto()
    T = auto()
    LV = auto()
    LVT = auto()
    OTHER = auto()


_ZWJ = 0x200D
_PREPEND = {*range(0x0600, 0x0606), 0x06DD, 0x070F, 0x0890, 0x0891, 0x08E2, 0x110BD, 0x110CD}
# Other_Grapheme_Extend and emoji modifiers: Extend although not Mn/Me.
_EXTRA_EXTEND = {
    0x200C,
    0x09BE,
    0x09D7,
    0x0B3E,
    0x0B57,
    0x0BBE,
    0x0BD7,
    0x0CC2,
    0x0CD5,
    0x0CD6,
    0x0D3E,
    0x0D57,
    0x0DCF,
    0x0DDF,
    0x1B35,
    0x302E,
    0x302F,
    0xFF9E,
    0xFF9F,
    *range(0x1F3FB, 0x1F400),  # skin tones
    *range(0xE0020, 0xE0080),  # emoji tag sequences (flags of regions)
}
# Extended_Pictographic, approximated by the blocks that hold emoji and pictographs.
_PICTOGRAPHIC_RANGES = (
    (0x00A9, 0x00A9),
    (0x00AE, 0x00AE),
    (0x203C, 0x203C),
    (0x2049, 0x2049),
    (0x2122, 0x2122),
    (0x2139, 0x2139),
    (0x2194, 0x21FF),
    (0x2300, 0x23FF),
    (0x24C2, 0x24C2),
    (0x25A0, 0x25FF),
    (0x2600, 0x27BF),
    (0x2900, 0x297F),
    (0x2B00, 0x2BFF),
    (0x3030, 0x3030),
    (0x303D, 0x303D),
    (0x3297, 0x3297),
    (0x3299, 0x3299),
    (0x1F000, 0x1F1E5),
    (0x1F200, 0x1F3FA),
    (0x1F400, 0x1FAFF),
    (0x1FC00, 0x1FFFD),
)


def _pictographic(cp: int) -> bool:
    return any(low <= cp <= high for low, high in _PICTOGRAPHIC_RANGES)


def _kind(char: str) -> _Kind:
    cp = ord(char)
    if cp == 0x0D:
        return _Kind.CR
    if cp == 0x0A:
        return _Kind.LF
    if cp == _ZWJ:
        return _Kind.ZWJ
    if cp in _EXTRA_EXTEND:
        return _Kind.EXTEND
    if 0x1F1E6 <= cp <= 0x1F1FF:
        return _Kind.REGIONAL
    if cp in _PREPEND:
        return _Kind.PREPEND
    if 0x1100 <= cp <= 0x115F or 0xA960 <= cp <= 0xA97C:
        return _Kind.L
    if 0x1160 <= cp <= 0x11A7 or 0xD7B0 <= cp <= 0xD7C6:
        return _Kind.V
    if 0x11A8 <= cp <= 0x11FF or 0xD7CB <= cp <= 0xD7FB:
        return _Kind.T
    if 0xAC00 <= cp <= 0xD7A3:
        return _Kind.LV if (cp - 0xAC00) % 28 == 0 else _Kind.LVT
    category = unicodedata.category(char)
    if category in ("Mn", "Me"):
        return _Kind.EXTEND
    if category == "Mc" or cp in (0x0E33, 0x0EB3):
        return _Kind.SPACING
    if category in ("Cc", "Zl", "Zp", "Cf"):
        return _Kind.CONTROL
    return _Kind.OTHER


_HANGUL_JOINS = {
    _Kind.L: {_Kind.L, _Kind.V, _Kind.LV, _Kind.LVT},
    _Kind.LV: {_Kind.V, _Kind.T},
    _Kind.V: {_Kind.V, _Kind.T},
    _Kind.LVT: {_Kind.T},
    _Kind.T: {_Kind.T},
}


def graphemes(text: str) -> list[str]:
    """Split ``text`` into extended grapheme clusters."""
    clusters: list[str] = []
    current = ""
    previous: _Kind | None = None
    regional_run = 0  # regional indicators in a row, to pair flags (GB12/13)
    emoji_then_extends = False  # inside ExtPict Extend* (GB11)
    after_emoji_zwj = False  # just saw ExtPict Extend* ZWJ
    for char in text:
        kind = _kind(char)
        pictographic = kind is _Kind.OTHER and _pictographic(ord(char))
        if previous is None:
            joined = False
        elif previous is _Kind.CR and kind is _Kind.LF:
            joined = True  # GB3
        elif previous in (_Kind.CR, _Kind.LF, _Kind.CONTROL) or kind in (
            _Kind.CR,
            _Kind.LF,
            _Kind.CONTROL,
        ):
            joined = False  # GB4, GB5
        elif kind in _HANGUL_JOINS.get(previous, ()):
            joined = True  # GB6-8
        elif kind in (_Kind.EXTEND, _Kind.ZWJ, _Kind.SPACING) or previous is _Kind.PREPEND:
            joined = True  # GB9, GB9a, GB9b
        elif previous is _Kind.ZWJ and pictographic and after_emoji_zwj:
            joined = True  # GB11
        elif previous is _Kind.REGIONAL and kind is _Kind.REGIONAL:
            joined = regional_run % 2 == 1  # GB12, GB13
        else:
            joined = False
        if joined:
            current += char
        else:
            if current:
                clusters.append(current)
            current = char
        # Track the states the next character's rules depend on.
        regional_run = regional_run + 1 if kind is _Kind.REGIONAL else 0
        after_emoji_zwj = kind is _Kind.ZWJ and emoji_then_extends
        if pictographic:
            emoji_then_extends = True
        elif kind is not _Kind.EXTEND:
            emoji_then_extends = False
        previous = kind
    if current:
        clusters.append(current)
    return clusters


def grapheme_count(text: str) -> int:
    """How many characters a person sees; what Bluesky's 300 limit counts."""
    return len(graphemes(text))
