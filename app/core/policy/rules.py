"""The response policy: an ordered list of rules, each with conditions and an outcome.

How a policy decides, in one sentence the officer can repeat: *rules are read from the top; the
first enabled rule whose conditions all hold decides; if none does, Kindly asks for a reply
within the standard response target.* There is deliberately no "continue" or rule chaining: a
decision is always explained by exactly one rule, which is what the case history records.

Within one condition, a list means "any of" (any of these words, any of these networks); across
conditions, all must hold. A rule without conditions matches everything, so it belongs last.
Conditions that need a value Kindly does not have (no follower count, no sentiment yet) do not
hold: the rule does not fire on a guess.

This module is the policy as data and its checks; ``engine.PolicyEngine``
compiles a policy once and decides for many mentions. Everything is pure: ``MentionFacts`` in,
``Decision`` out.
"""

from __future__ import annotations

import re
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
