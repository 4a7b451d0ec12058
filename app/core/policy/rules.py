"""The response policy: an ordered list of rules, each with conditions and an outcome.

How a policy decides, in one sentence the officer can repeat: *rules are read from the top; the
first enabled rule whose conditions all hold decides; if none does, Kindly asks for a reply
within the standard response target.* There is deliberately no "continue" or rule chaining: a
decision is always explained by exactly one rule, which is what the case history records.

Within one condition, a list means "any of" (any of these words, any of these networks); across
conditions, all must hold. A rule without conditions matches everything, so it belongs last.
Conditions that need a value Kindly does not have (no follower count, no sentiment yet) do not
hold: the rule does not fire on a guess.

Everything here is pure: ``MentionFacts`` in, ``Decision`` out.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from app.core.vocab import Network, Stance

MAX_PATTERN = 500
MAX_SCAN = 20_000  # characters of a mention that rules look at
_LINK = re.compile(r"https?://\S|(?<![\w@])www\.\w", re.IGNORECASE)


class Outcome(StrEnum):
    RESPOND = "respond"
    LEAVE_ALONE = "leave_alone"
    ESCALATE = "escalate"  # answer off the network (phone or email); the officer marks it
    SPAM = "spam"

    @property
    def label(self) -> str:
        return {
            "respond": "Respond",
            "leave_alone": "Leave alone",
            "escalate": "Escalate",
            "spam": "Spam",
        }[self.value]

    @property
    def needs_reason(self) -> bool:
        """Not answering must always be explained."""
        return self in (Outcome.LEAVE_ALONE, Outcome.SPAM)

    @property
    def has_clock(self) -> bool:
        return self in (Outcome.RESPOND, Outcome.ESCALATE)


class PolicyError(ValueError):
    """A policy that cannot be used; ``path`` names the field, e.g. ("rule", 2, "when", "pattern").

    Rule indexes in ``path`` count from 1, as a person reading the file counts.
    """

    def __init__(self, message: str, path: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.path = path

    @property
    def field_name(self) -> str:
        return ".".join(str(p) for p in self.path)


@dataclass(frozen=True, slots=True)
class Conditions:
    """What must be true of the newest mention for a rule to apply; unset means "any"."""

    words: tuple[str, ...] = ()  # whole words or phrases, any case; "refund*" matches refunds
    pattern: str = ""  # a regular expression, any case
    networks: tuple[Network, ...] = ()
    stances: tuple[Stance, ...] = ()
    min_followers: int | None = None
    sentiment_below: float | None = None  # compound score, -1 … 1
    sentiment_above: float | None = None
    reply_to_us: bool | None = None  # True: only replies to our posts; False: only others
    has_link: bool | None = None
    on_watch_list: bool | None = None

    @property
    def empty(self) -> bool:
        return self == Conditions()


@dataclass(frozen=True, slots=True)
class Rule:
    """One line of the policy. ``reason`` is recorded with the decision; ``reminder`` is shown
    in the composer while the rule applies; ``note`` says why the rule exists."""

    name: str
    outcome: Outcome = Outcome.RESPOND
    when: Conditions = field(default_factory=Conditions)
    respond_within_hours: float | None = None  # None: the standard target
    reason: str = ""
    reminder: str = ""
    note: str = ""
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class FlaggedPhrase:
    """Wording the composer warns about, with an optional kinder replacement."""

    phrase: str
    suggestion: str = ""


@dataclass(frozen=True, slots=True)
class Policy:
    rules: tuple[Rule, ...] = ()
    watch_list: tuple[str, ...] = ()  # handles of people we have decided not to engage
    flagged_phrases: tuple[FlaggedPhrase, ...] = ()
    take_offline_after: int = 5  # our Nth public reply in a case suggests phone or email

    def rule(self, name: str) -> Rule | None:
        wanted = name.casefold()
        return next((r for r in self.rules if r.name.casefold() == wanted), None)


@dataclass(frozen=True, slots=True)
class MentionFacts:
    """What the policy may look at: the newest mention of a case and its author."""

    text: str
    network: Network
    stance: Stance = Stance.UNKNOWN
    follower_count: int | None = None
    sentiment: float | None = None
    reply_to_us: bool = False
    author_handle: str = ""


@dataclass(frozen=True, slots=True)
class Decision:
    """What the policy says about a case, and which rule said it (None: no rule matched)."""

    outcome: Outcome
    rule: Rule | None
    target: timedelta | None  # reply within this much office time; None when not answering
    # The sentence kept in the case history, written once: triage compares it with the last
    # decision on record for every case it ranks.
    _detail: str = field(default="", init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_detail", self._sentence())

    @property
    def actor(self) -> str:
        return f"rule: {self.rule.name}" if self.rule else "kindly"

    @property
    def reason(self) -> str:
        return self.rule.reason.strip() if self.rule else ""

    @property
    def reminder(self) -> str:
        return self.rule.reminder.strip() if self.rule else ""

    @property
    def detail(self) -> str:
        """The sentence kept in the case history."""
        return self._detail

    def _sentence(self) -> str:
        reason = self.reason
        if self.outcome is Outcome.RESPOND:
            head = f"Respond within {hours_text(self.target)}"
            if self.rule is None:
                return f"{head} (standard target): no rule matched"
            return f"{head}: {reason}" if reason else head
        if self.outcome is Outcome.ESCALATE:
            head = f"Escalate: move to phone or email, within {hours_text(self.target)}"
            return f"{head}: {reason}" if reason else head
        return f"{self.outcome.label}: {reason}"


def hours_text(target: timedelta | None) -> str:
    if target is None:
        return "no time limit"
    minutes = round(target.total_seconds() / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes / 60
    return f"{hours:g} h"


def normalise_handle(handle: str) -> str:
    """``@Name@Server`` and ``name@server`` are the same person on a watch list."""
    return handle.strip().lstrip("@").casefold()


def words_regex(words: Sequence[str]) -> re.Pattern[str] | None:
    """One case-insensitive regex for whole words and phrases; a trailing * matches any ending."""
    parts: list[str] = []
    for word in words:
        word = word.strip()
        if not word:
            continue
        prefix = word.endswith("*")
        stem = word.rstrip("*").strip()
        body = r"\s+".join(re.escape(piece) for piece in stem.split())
        parts.append(body + (r"\w*" if prefix else ""))
    if not parts:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)


def has_link(text: str) -> bool:
    return _LINK.search(text) is not None


# -- checking -------------------------------------------------------------------------------


def check_policy(policy: Policy) -> None:
    """Raise ``PolicyError`` naming the first field that cannot work."""
    if not 2 <= policy.take_offline_after <= 100:
        raise PolicyError("must be between 2 and 100", ("take_offline_after",))
    for index, handle in enumerate(policy.watch_list, 1):
        if not normalise_handle(handle):
            raise PolicyError("a watch-list entry is empty", ("watch_list", index))
    for index, flagged in enumerate(policy.flagged_phrases, 1):
        if not flagged.phrase.strip():
            raise PolicyError("the phrase is empty", ("flagged_phrases", index, "phrase"))
    seen: dict[str, int] = {}
    for index, rule in enumerate(policy.rules, 1):
        _check_rule(rule, index)
        key = rule.name.strip().casefold()
        if key in seen:
            raise PolicyError(
                f"the name {rule.name!r} is already used by rule {seen[key]}; names must differ "
                "because the case history refers to rules by name",
                ("rule", index, "name"),
            )
        seen[key] = index


def _check_rule(rule: Rule, index: int) -> None:
    where: tuple[str | int, ...] = ("rule", index)
    name = rule.name.strip()
    if not name:
        raise PolicyError("every rule needs a name", (*where, "name"))
    if len(name) > 80:
        raise PolicyError("names are at most 80 characters", (*where, "name"))
    hours = rule.respond_within_hours
    if hours is not None:
        if not rule.outcome.has_clock:
            raise PolicyError(
                f"a rule that says {rule.outcome.value} has no reply time; remove it",
                (*where, "respond_within_hours"),
            )
        if not 0 < hours <= 24 * 30:
            raise PolicyError(
                "must be more than 0 and at most 720 hours", (*where, "respond_within_hours")
            )
    if rule.outcome.needs_reason and not rule.reason.strip():
        raise PolicyError(
            f"say why ({rule.outcome.label.lower()}): the reason is recorded on each case",
            (*where, "reason"),
        )
    _check_conditions(rule.when, (*where, "when"))


def _check_conditions(when: Conditions, where: tuple[str | int, ...]) -> None:
    for word in when.words:
        if not word.strip().rstrip("*").strip():
            raise PolicyError("a word or phrase is empty", (*where, "words"))
    if when.pattern:
        if len(when.pattern) > MAX_PATTERN:
            raise PolicyError(f"at most {MAX_PATTERN} characters", (*where, "pattern"))
        try:
            re.compile(when.pattern)
        except re.error as exc:
            raise PolicyError(
                f"not a valid regular expression: {exc}", (*where, "pattern")
            ) from exc
    if when.min_followers is not None and when.min_followers < 0:
        raise PolicyError("cannot be negative", (*where, "min_followers"))
    for name in ("sentiment_below", "sentiment_above"):
        value = getattr(when, name)
        if value is not None and not -1.0 <= value <= 1.0:
            raise PolicyError("sentiment runs from -1 (negative) to 1 (positive)", (*where, name))
    below, above = when.sentiment_below, when.sentiment_above
    if below is not None and above is not None and above >= below:
        raise PolicyError(
            "sentiment above this and below sentiment_below can never both hold",
            (*where, "sentiment_above"),
        )


# -- evaluation -----------------------------------------------------------------------------


# Rules are read once per mention at ingest, thousands of times a second, so the engine avoids
# running each rule's expressions over the text when it can tell from cheaper facts that they
# cannot match. Everything below keeps the decision exactly what the plain reading above gives:
# the first enabled rule whose conditions all hold (tests/core/policy/test_engine_equivalence.py
# compares both over thousands of mentions).

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
        return self.first_match(
            facts.text,
            facts.network,
            facts.stance,
            facts.follower_count,
            facts.sentiment,
            facts.reply_to_us,
            facts.author_handle,
        )

    def first_match(
        self,
        text: str,
        network: Network,
        stance: Stance = Stance.UNKNOWN,
        follower_count: int | None = None,
        sentiment: float | None = None,
        reply_to_us: bool = False,
        author_handle: str = "",
    ) -> Rule | None:
        """``matching_rule`` without building ``MentionFacts`` (pure; the same answer)."""
        index = self._first(
            text, network, stance, follower_count, sentiment, reply_to_us, author_handle
        )
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
        return self.decide(
            standard_target,
            facts.text,
            facts.network,
            facts.stance,
            facts.follower_count,
            facts.sentiment,
            facts.reply_to_us,
            facts.author_handle,
        )

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
