"""How a policy decides, fast: ``PolicyEngine`` compiles a checked ``Policy`` once and answers
for many mentions.

Rules are read once per mention at ingest, thousands of times a second, so the engine avoids
running each rule's expressions over the text when it can tell from cheaper facts that they
cannot match. Everything here keeps the decision exactly what the plain reading in ``rules``'
docstring gives: the first enabled rule whose conditions all hold (a plain reference in
tests/core/triage/triage_reference.py; test_triage_equivalence.py compares both over thousands
of mentions).
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from app.core.policy.rules import (
    MAX_SCAN,
    Decision,
    FlaggedPhrase,
    MentionFacts,
    Outcome,
    Policy,
    Rule,
    check_policy,
    has_link,
    normalise_handle,
    words_regex,
)
from app.core.vocab import Network, Stance

_TOKEN = re.compile(r"\w+")
# The non-ASCII characters Python's case-insensitive matching takes for an ASCII letter
# (U+0130 İ and U+0131 ı for i, U+017F ſ for s, U+212A Kelvin for k). Lowering the text after
# this keeps every character a single character and a word character exactly when it was one,
# so the words of the folded text are the folded words of the text (a test checks every code
# point against ``re``).
_FOLD = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})
VERDICT_CACHE = 20_000  # texts whose rule results are remembered (campaign copy-paste repeats)
VERDICT_TEXT_MAX = 500  # longer texts are not remembered: the cache stays under ~10-40 MB


@dataclass(frozen=True, slots=True)
class _WordKeys:
    """What must be in a text for a word list to match. Each entry gives keys: the leading run
    of word characters of each of its words, folded, ASCII only. In a text the entry matches,
    each key is a whole word of the folded text, or the start of one for the last word of an
    entry ending in *. ``words`` holds the one-key entries, ``prefixes`` the one-prefix ones,
    ``phrases`` the others (all their keys must be there)."""

    words: frozenset[str]
    prefixes: tuple[str, ...]
    phrases: tuple[tuple[frozenset[str], tuple[str, ...]], ...]
    # The phrases by their longest whole-word key, so that a text is checked against only the
    # phrases one of whose words it has; ``loose``: the prefix keys of phrases without others.
    anchors: frozenset[str] = frozenset()
    by_anchor: dict[str, tuple[tuple[frozenset[str], tuple[str, ...]], ...]] = field(
        default_factory=dict
    )
    loose: tuple[tuple[str, ...], ...] = ()


def word_keys(words: Sequence[str]) -> _WordKeys | None:
    """The keys of ``words_regex(words)``, or None when an entry has no key that is safe to test
    (none of its words starts with an ASCII word character)."""
    single: set[str] = set()
    prefixes: list[str] = []
    phrases: list[tuple[frozenset[str], tuple[str, ...]]] = []
    for word in words:
        word = word.strip()
        if not word:
            continue
        pieces = word.rstrip("*").strip().split()
        exact: set[str] = set()
        starts: list[str] = []
        for index, piece in enumerate(pieces):
            run = _TOKEN.match(piece)
            if run is None or not run.group().isascii():
                continue
            key = run.group().lower()
            if run.group() != piece:
                # A character that is no word character follows. Only an ASCII one is sure to
                # match no word character in the text; for others case-insensitive matching has
                # exceptions (U+0345 matches a Greek iota): then the word may run on.
                if piece[len(run.group())].isascii():
                    exact.add(key)
                else:
                    starts.append(key)
            elif index == len(pieces) - 1 and word.endswith("*"):
                starts.append(key)  # the last word of an entry ending in * may run on
            else:
                exact.add(key)
        if not exact and not starts:
            return None
        if len(exact) + len(starts) == 1:
            single.update(exact)
            prefixes.extend(starts)
        else:
            phrases.append((frozenset(exact), tuple(starts)))
    by_anchor: dict[str, list[tuple[frozenset[str], tuple[str, ...]]]] = {}
    loose = []
    for phrase in phrases:
        if phrase[0]:
            anchor = max(sorted(phrase[0]), key=len)
            by_anchor.setdefault(anchor, []).append(phrase)
        else:
            loose.append(phrase[1])
    return _WordKeys(
        frozenset(single),
        tuple(dict.fromkeys(prefixes)),
        tuple(phrases),
        frozenset(by_anchor),
        {anchor: tuple(found) for anchor, found in by_anchor.items()},
        tuple(loose),
    )


_SPECIAL = re.compile("[\u0130\u0131\u017f\u212a]")


def fold_case(text: str) -> str:
    """Lower case, with the letters ``re.IGNORECASE`` takes for ASCII ones made ASCII."""
    if text.isascii() or _SPECIAL.search(text) is None:
        return text.lower()
    return text.translate(_FOLD).lower()


class _Scan:
    """One text as the rules look at it; the folded text and its words are made on first use."""

    __slots__ = ("folded", "link", "text", "words")

    def __init__(self, text: str) -> None:
        self.text = text
        self.folded: str | None = None
        self.words: set[str] | None = None
        self.link: bool | None = None

    def may_contain(self, keys: _WordKeys) -> bool:
        """False only when no entry of the word list can match (True: run the expression)."""
        folded = self.folded
        if folded is None:
            folded = self.folded = fold_case(self.text)
        words = self.words
        if words is None:
            words = self.words = set(_TOKEN.findall(folded))
        if not words.isdisjoint(keys.words):
            return True
        for key in keys.prefixes:
            if key in folded:
                return True
        if not words.isdisjoint(keys.anchors):
            for anchor in words & keys.anchors:
                for exact, starts in keys.by_anchor[anchor]:
                    if exact <= words and all(key in folded for key in starts):
                        return True
        return any(all(key in folded for key in starts) for starts in keys.loose)

    def has_link(self) -> bool:
        if self.link is None:
            self.link = has_link(self.text)
        return self.link


@dataclass(frozen=True, slots=True)
class _Compiled:
    """One enabled rule with its conditions laid flat, checked cheapest first."""

    rule: Rule
    words: re.Pattern[str] | None
    pattern: re.Pattern[str] | None
    networks: frozenset[Network]
    stances: frozenset[Stance]
    keys: _WordKeys | None  # None: the words expression always runs (or there are no words)
    min_followers: int | None
    sentiment_below: float | None
    sentiment_above: float | None
    reply_to_us: bool | None
    on_watch_list: bool | None
    has_link: bool | None
    reads_facts: bool  # any condition on who wrote it, where, how they feel
    reads_text: bool  # any condition on the text (words, pattern, link)
    known: int  # this rule's bit in a text's verdicts: its text conditions were checked
    holds: int  # … and they hold

    @classmethod
    def of(cls, rule: Rule, index: int) -> _Compiled:
        when = rule.when
        words = words_regex(when.words)
        return cls(
            rule,
            words,
            re.compile(when.pattern, re.IGNORECASE) if when.pattern else None,
            frozenset(when.networks),
            frozenset(when.stances),
            word_keys(when.words) if words is not None else None,
            when.min_followers,
            when.sentiment_below,
            when.sentiment_above,
            when.reply_to_us,
            when.on_watch_list,
            when.has_link,
            bool(when.networks or when.stances)
            or any(
                v is not None
                for v in (
                    when.min_followers,
                    when.sentiment_below,
                    when.sentiment_above,
                    when.reply_to_us,
                    when.on_watch_list,
                )
            ),
            words is not None or bool(when.pattern) or when.has_link is not None,
            1 << (2 * index),
            1 << (2 * index + 1),
        )

    def text_holds(self, scan: _Scan) -> bool:
        """The conditions on the text alone: link, words, pattern."""
        if self.has_link is not None and scan.has_link() != self.has_link:
            return False
        if self.words is not None:
            if self.keys is not None and not scan.may_contain(self.keys):
                return False
            if self.words.search(scan.text) is None:
                return False
        return self.pattern is None or self.pattern.search(scan.text) is not None


def _flat(
    facts: MentionFacts,
) -> tuple[str, Network, Stance, int | None, float | None, bool, str]:
    """``facts`` as the engine's positional arguments, in the order of ``decide``'s."""
    return (
        facts.text,
        facts.network,
        facts.stance,
        facts.follower_count,
        facts.sentiment,
        facts.reply_to_us,
        facts.author_handle,
    )


class PolicyEngine:
    """A checked policy with its expressions compiled once, for evaluating many cases.

    The text conditions of each rule are remembered per text (a bounded cache, least recently
    used text leaving first), so a text that comes again is not scanned again: the cache lives
    and dies with the engine, i.e. with the policy it was made for."""

    def __init__(self, policy: Policy, cache_size: int = VERDICT_CACHE) -> None:
        check_policy(policy)
        self.policy = policy
        self._watch = frozenset(normalise_handle(h) for h in policy.watch_list)
        enabled = [rule for rule in policy.rules if rule.enabled]
        self._rules = tuple(_Compiled.of(rule, i) for i, rule in enumerate(enabled))
        self._verdicts: dict[str, int] = {}
        self._decisions: dict[tuple[int, timedelta], Decision] = {}
        self._cache_size = max(1, cache_size)
        self._lock = threading.Lock()
        # Names what the text conditions are, in any process: verdicts worked out elsewhere
        # (``text_verdicts``) are only taken (``learn``) by an engine with the same ones.
        self._all_known = sum(c.known for c in self._rules if c.reads_text)
        conditions = [(c.rule.when.words, c.rule.when.pattern, c.has_link) for c in self._rules]
        self.text_token = hashlib.sha256(repr(conditions).encode()).hexdigest()[:16]

    def __reduce__(self) -> tuple[type[PolicyEngine], tuple[Policy, int]]:
        """Pickled as its policy: the other side compiles it again (and starts a new cache)."""
        return (PolicyEngine, (self.policy, self._cache_size))

    def text_verdicts(self, text: str) -> int:
        """Every rule's conditions on the text alone (words, pattern, link), worked out at once
        as a plain int: the case-independent half of a decision, which a worker process can
        compute beside sentiment and hand to ``learn`` where the case is triaged. Pure."""
        key = text[:MAX_SCAN]
        with self._lock:
            seen = self._verdicts.get(key, 0)
        if seen & self._all_known == self._all_known:  # a text seen before
            return seen
        scan = _Scan(key)
        bits = seen
        for compiled in self._rules:
            if compiled.reads_text and not bits & compiled.known:
                bits |= compiled.known | (compiled.holds if compiled.text_holds(scan) else 0)
        self._keep(key, bits)
        return bits

    def learn(self, text: str, verdicts: int, token: str) -> bool:
        """Take ``text_verdicts(text)`` from an engine whose ``text_token`` is ``token``;
        ignored (False) when that engine's text conditions were not these."""
        if token != self.text_token:
            return False
        self._keep(text[:MAX_SCAN], verdicts)
        return True

    def _keep(self, key: str, bits: int) -> None:
        """Remember more of a text's verdicts (texts past VERDICT_TEXT_MAX are not kept)."""
        if len(key) > VERDICT_TEXT_MAX:
            return
        verdicts = self._verdicts
        with self._lock:
            bits |= verdicts.pop(key, 0)
            if len(verdicts) >= self._cache_size:
                del verdicts[next(iter(verdicts))]  # the least recently used
            verdicts[key] = bits

    def on_watch_list(self, handle: str) -> bool:
        return normalise_handle(handle) in self._watch

    def matching_rule(self, facts: MentionFacts) -> Rule | None:
        """The first enabled rule whose conditions all hold, or None."""
        index = self._first(*_flat(facts))
        return None if index < 0 else self._rules[index].rule

    def _first(
        self,
        text: str,
        network: Network,
        stance: Stance,
        follower_count: int | None,
        sentiment: float | None,
        reply_to_us: bool,
        author_handle: str,
    ) -> int:
        """The index of the first rule that holds among the enabled ones, or -1."""
        key = text[:MAX_SCAN]
        lock = self._lock
        verdicts = self._verdicts
        seen = None
        if len(key) <= VERDICT_TEXT_MAX:
            with lock:
                seen = verdicts.pop(key, None)
                if seen is not None:
                    verdicts[key] = seen  # now the most recently used
        bits = seen or 0
        scan: _Scan | None = None
        watched: bool | None = None
        found = -1
        for index, compiled in enumerate(self._rules):
            if compiled.reads_facts:
                if compiled.networks and network not in compiled.networks:
                    continue
                if compiled.stances and stance not in compiled.stances:
                    continue
                least = compiled.min_followers
                if least is not None and (follower_count is None or follower_count < least):
                    continue
                below = compiled.sentiment_below
                if below is not None and (sentiment is None or not sentiment < below):
                    continue
                above = compiled.sentiment_above
                if above is not None and (sentiment is None or not sentiment > above):
                    continue
                if compiled.reply_to_us is not None and reply_to_us != compiled.reply_to_us:
                    continue
                if compiled.on_watch_list is not None:
                    if watched is None:
                        watched = bool(self._watch) and self.on_watch_list(author_handle)
                    if watched != compiled.on_watch_list:
                        continue
            if compiled.reads_text:
                if bits & compiled.known:
                    holds = bool(bits & compiled.holds)
                else:
                    if scan is None:
                        scan = _Scan(key)
                    holds = compiled.text_holds(scan)
                    bits |= compiled.known | (compiled.holds if holds else 0)
                if not holds:
                    continue
            found = index
            break
        if bits != (seen or 0):
            self._keep(key, bits)
        return found

    def evaluate(self, facts: MentionFacts, standard_target: timedelta) -> Decision:
        return self.decide(standard_target, *_flat(facts))

    def decide(
        self,
        standard_target: timedelta,
        text: str,
        network: Network,
        stance: Stance = Stance.UNKNOWN,
        follower_count: int | None = None,
        sentiment: float | None = None,
        reply_to_us: bool = False,
        author_handle: str = "",
    ) -> Decision:
        """``evaluate`` without building ``MentionFacts``; pure. Decisions are shared: one per
        rule and standard target (they are frozen)."""
        index = self._first(
            text, network, stance, follower_count, sentiment, reply_to_us, author_handle
        )
        made = self._decisions.get((index, standard_target))
        if made is None:
            made = self._decision(index, standard_target)
            if len(self._decisions) < 1_000:  # a standard target changes rarely
                self._decisions[(index, standard_target)] = made
        return made

    def _decision(self, index: int, standard_target: timedelta) -> Decision:
        if index < 0:
            return Decision(Outcome.RESPOND, None, standard_target)
        rule = self._rules[index].rule
        if not rule.outcome.has_clock:
            return Decision(rule.outcome, rule, None)
        hours = rule.respond_within_hours
        target = standard_target if hours is None else timedelta(hours=hours)
        return Decision(rule.outcome, rule, target)

    def flagged_in(self, text: str) -> list[FlaggedPhrase]:
        """The policy's flagged phrases that occur in ``text`` (whole words, any case)."""
        found: list[FlaggedPhrase] = []
        for flagged in self.policy.flagged_phrases:
            regex = words_regex([flagged.phrase])
            if regex is not None and regex.search(text):
                found.append(flagged)
        return found
