"""Plain-text judgements about a reply's wording: greeting, shouting, and how alike two replies are.

Cheap and deterministic on purpose: they run on every keystroke in the composer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

SHINGLE = 3
CAPITALS_SHARE = 0.7
CAPITALS_MIN_LETTERS = 12
GREETINGS = (
    "hi",
    "hello",
    "hey",
    "hiya",
    "dear",
    "thanks",
    "thank you",
    "many thanks",
    "good morning",
    "good afternoon",
    "good evening",
    "morning",
    "evening",
    "greetings",
    "welcome",
    "hallo",
    "bonjour",
    "hola",
    "ciao",
    "salut",
    "moin",
    "hej",
)
_GREETING = re.compile(r"^(?:" + "|".join(re.escape(g) for g in GREETINGS) + r")\b", re.I)
_LEADING_MENTIONS = re.compile(r"^(?:@[\w.@-]+\s+)*")
_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
_NOISE = re.compile(r"https?://\S+|www\.\S+|@[\w.@-]+", re.IGNORECASE)
_SENTENCE_START = re.compile(r"(^|[.!?]\s+|\n\s*)([a-zà-ÿ])")


def without_leading_mentions(text: str) -> str:
    """The text after the @mentions a reply starts with (Mastodon puts them there)."""
    return _LEADING_MENTIONS.sub("", text, count=1)


def starts_with_greeting(text: str) -> bool:
    return _GREETING.match(text) is not None


def is_shouting(text: str) -> bool:
    """Mostly capital letters, over enough letters to mean it (links and handles ignored)."""
    plain = _NOISE.sub(" ", text)
    letters = [c for c in plain if c.isalpha() and c.lower() != c.upper()]
    upper = sum(1 for c in letters if c.isupper())
    return len(letters) >= CAPITALS_MIN_LETTERS and upper >= CAPITALS_SHARE * len(letters)


def normalised_tokens(text: str, names: Sequence[str] = ()) -> list[str]:
    """Words of a reply without links, @handles and the recipient's names, for comparison."""
    skip: set[str] = set()
    for name in names:
        skip.update(t.casefold() for t in _TOKEN.findall(name))
    return [
        t for t in (m.casefold() for m in _TOKEN.findall(_NOISE.sub(" ", text))) if t not in skip
    ]


def shingles(tokens: Sequence[str], size: int = SHINGLE) -> set[tuple[str, ...]]:
    if len(tokens) < size:
        return {tuple(tokens)} if tokens else set()
    return {tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}


def similarity(a: Sequence[str], b: Sequence[str]) -> float:
    """Jaccard overlap of word 3-shingles: 1.0 for the same words in the same order."""
    left, right = shingles(a), shingles(b)
    if not left or not right:
        return 0.0
    return len(left & right) / len(left | right)


def sentence_case(text: str) -> str:
    """Shouted text in ordinary capitals, leaving links, @handles and #tags alone."""
    lead = _LEADING_MENTIONS.match(text)
    cut = lead.end() if lead else 0
    words = [
        w if "://" in w or w[:1] in "@#" or w.startswith("www.") else w.lower()
        for w in text[cut:].split(" ")
    ]
    lowered = re.sub(r"\bi\b", "I", " ".join(words))
    return text[:cut] + _SENTENCE_START.sub(lambda m: m.group(1) + m.group(2).upper(), lowered)
