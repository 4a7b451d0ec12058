"""Reminders while writing a reply: gentle, specific, and each with a one-click fix if one exists.

Only unfilled template variables block sending (a literal "{phone}" must never reach a
network); everything else is advice the officer may ignore. The courtesy checks (capitals,
greeting, flagged wording, length, sounding like a bot) look only at the draft and the
network, never at who it is for: a reply to an opponent is held to exactly the standard of a
reply to a supporter. Only the policy's own rule reminders may differ by person, because the
policy says so.

``check_draft`` is pure; ``ReminderService.for_draft`` gathers what it needs for a case.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.core.lengths import count_length
from app.core.listening.linking import conversation_cases, linked_ids
from app.core.policy.engine import PolicyEngine
from app.core.policy.rules import Decision, Outcome, words_regex
from app.core.text import first_name
from app.core.triage.config import AWAY_TEMPLATE, OFFLINE_TEMPLATE, TriageConfig
from app.core.triage.engine import AUTOMATIC_STATUSES, Triage, officer_involved
from app.core.triage.facts import ANSWERED_STATES, load_case_facts
from app.core.triage.office_hours import Deadline, Urgency, deadline
from app.core.triage.priority import DUE_NOW_FOR, duration_text
from app.core.vocab import Network
from app.core.wording import (
    is_shouting,
    normalised_tokens,
    sentence_case,
    similarity,
    starts_with_greeting,
    without_leading_mentions,
)
from app.storage import sqlite
from app.storage.models import Case, OutboundReply, Person

MIN_TOKENS_FOR_SIMILARITY = 4


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    BLOCKING = "blocking"  # sending is refused until it is resolved


class ReminderKind(StrEnum):
    UNFILLED = "unfilled"
    OVERDUE = "overdue"
    AT_RISK = "at_risk"
    AWAY = "away"
    RULE = "rule"
    ESCALATE = "escalate"
    SUGGESTION = "suggestion"  # the rule would leave it alone; the officer is in the conversation
    TAKE_OFFLINE = "take_offline"
    SAME_TEXT = "same_text"
    TOO_LONG = "too_long"
    CAPITALS = "capitals"
    NO_GREETING = "no_greeting"
    FLAGGED_WORDING = "flagged_wording"


COURTESY_KINDS = frozenset(
    {
        ReminderKind.SAME_TEXT,
        ReminderKind.TOO_LONG,
        ReminderKind.CAPITALS,
        ReminderKind.NO_GREETING,
        ReminderKind.FLAGGED_WORDING,
    }
)


class FixAction(StrEnum):
    USE_TEMPLATE = "use_template"  # the UI inserts the named template (rendered for this person)
    REPLACE_TEXT = "replace_text"  # replace the first occurrence of ``find`` with ``replace``
    PREPEND_TEXT = "prepend_text"  # insert ``replace`` at the start (after leading @mentions)


@dataclass(frozen=True, slots=True)
class Fix:
    """One click the UI can offer; ``apply_fix`` performs the text edits."""

    action: FixAction
    label: str
    template: str = ""
    find: str = ""
    replace: str = ""


@dataclass(frozen=True, slots=True)
class Reminder:
    kind: ReminderKind
    severity: Severity
    message: str
    fix: Fix | None = None


@dataclass(frozen=True, slots=True)
class OtherReply:
    """One of our recent replies to someone else, with their names (to compare the rest)."""

    text: str
    names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DraftContext:
    """Everything the checks may look at. There is deliberately no stance here."""

    text: str
    network: Network
    display_name: str = ""
    handle: str = ""
    our_public_replies: int = 0  # already sent or queued in this case
    replies_elsewhere: int = 0  # of those, to the same person linked on other accounts
    recent_replies_to_others: tuple[OtherReply, ...] = ()
    deadline: Deadline | None = None
    decision: Decision | None = None
    suggested_only: bool = False
    unfilled: tuple[str, ...] = ()
    on_vacation: bool = False


def blocks_sending(reminders: Sequence[Reminder]) -> bool:
    return any(r.severity is Severity.BLOCKING for r in reminders)


def apply_fix(text: str, fix: Fix) -> str:
    """The draft after a text fix. Template fixes are the UI's (it renders the template)."""
    if fix.action is FixAction.REPLACE_TEXT:
        if fix.find and fix.find in text:
            text = text.replace(fix.find, fix.replace, 1)
        return re.sub(r"[ \t]{2,}", " ", re.sub(r"\s+([,.!?])", r"\1", text)).strip()
    if fix.action is FixAction.PREPEND_TEXT:
        cut = len(text) - len(without_leading_mentions(text))
        return text[:cut] + fix.replace + text[cut:]
    raise ValueError("A template fix is applied by inserting the template.")


# -- the checks -----------------------------------------------------------------------------

_ORDER = {Severity.BLOCKING: 0, Severity.WARNING: 1, Severity.INFO: 2}


def check_draft(ctx: DraftContext, engine: PolicyEngine, config: TriageConfig) -> list[Reminder]:
    """All reminders for a draft, most serious first."""
    found: list[Reminder] = []
    found += _unfilled(ctx)
    found += _clock(ctx, config)
    found += _policy(ctx)
    found += _take_offline(ctx, engine, config)
    found += _same_text(ctx, config)
    found += _length(ctx)
    found += _tone(ctx, engine)
    return sorted(found, key=lambda r: _ORDER[r.severity])


def _unfilled(ctx: DraftContext) -> list[Reminder]:
    if not ctx.unfilled:
        return []
    names = ", ".join("{" + n + "}" for n in dict.fromkeys(ctx.unfilled))
    return [
        Reminder(
            ReminderKind.UNFILLED,
            Severity.BLOCKING,
            f"Fill in {names} before sending: it would go out as a placeholder. "
            "Organisation details (phone, email) can be added in Settings.",
        )
    ]


def _clock(ctx: DraftContext, config: TriageConfig) -> list[Reminder]:
    found: list[Reminder] = []
    if ctx.on_vacation:
        found.append(
            Reminder(
                ReminderKind.AWAY,
                Severity.INFO,
                "Vacation mode is on: response clocks are paused. Send the away reply?",
                Fix(FixAction.USE_TEMPLATE, "Use the away reply", template=AWAY_TEMPLATE),
            )
        )
    clock = ctx.deadline
    if clock is None:
        return found
    target = duration_text(clock.target)
    if clock.urgency is Urgency.OVERDUE:
        # In its first minute past due the case reads "due now", as in the list's why line.
        late = -clock.remaining
        when = (
            "Due now" if late < DUE_NOW_FOR else f"Overdue by {duration_text(late)} of office time"
        )
        found.append(
            Reminder(
                ReminderKind.OVERDUE,
                Severity.WARNING,
                f"{when} (target {target}). A short, honest reply now beats a perfect one later.",
            )
        )
    elif clock.urgency is Urgency.AT_RISK:
        left = duration_text(clock.remaining)
        found.append(
            Reminder(
                ReminderKind.AT_RISK,
                Severity.INFO,
                f"{left} of office time left before this is overdue (target {target}).",
            )
        )
    return found


_WOULD = {
    Outcome.LEAVE_ALONE: "leave this alone",
    Outcome.SPAM: "mark this as spam",
    Outcome.ESCALATE: "escalate this",
    Outcome.RESPOND: "ask for a reply",
}


def _policy(ctx: DraftContext) -> list[Reminder]:
    decision = ctx.decision
    if decision is None or decision.rule is None:
        return []
    rule = decision.rule
    if ctx.suggested_only:
        return [
            Reminder(
                ReminderKind.SUGGESTION,
                Severity.INFO,
                f"The rule “{rule.name}” would {_WOULD[decision.outcome]}: {decision.reason} "
                "You are in this conversation, so it is your call.",
            )
        ]
    if decision.outcome is Outcome.ESCALATE:
        text = decision.reminder or "Move this conversation to phone or email."
        return [
            Reminder(
                ReminderKind.ESCALATE,
                Severity.WARNING,
                f"{rule.name}: {text} Mark the case escalated once it has moved.",
                Fix(FixAction.USE_TEMPLATE, "Offer phone or email", template=OFFLINE_TEMPLATE),
            )
        ]
    if decision.reminder:
        return [Reminder(ReminderKind.RULE, Severity.INFO, f"{rule.name}: {decision.reminder}")]
    return []


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _take_offline(ctx: DraftContext, engine: PolicyEngine, config: TriageConfig) -> list[Reminder]:
    n = ctx.our_public_replies + 1
    if n < engine.policy.take_offline_after:
        return []
    lowered = ctx.text.casefold()
    contacts = [c for c in (config.phone.strip(), config.email.strip()) if c]
    if any(c.casefold() in lowered for c in contacts):
        return []  # the draft already offers them
    who = first_name(ctx.display_name, ctx.handle) or "this person"
    elsewhere = ctx.replies_elsewhere
    linked = f", counting {elsewhere} to their linked accounts" if elsewhere else ""
    how = " or ".join(contacts) if contacts else "your phone or email (add them in Settings)"
    org = f"{config.organisation} on " if config.organisation and contacts else ""
    return [
        Reminder(
            ReminderKind.TAKE_OFFLINE,
            Severity.WARNING,
            f"This would be our {ordinal(n)} public reply to {who} in this conversation{linked}. "
            f"Suggest moving it to phone or email: {org}{how}.",
            Fix(FixAction.USE_TEMPLATE, "Use “take it offline”", template=OFFLINE_TEMPLATE),
        )
    ]


def _same_text(ctx: DraftContext, config: TriageConfig) -> list[Reminder]:
    mine = normalised_tokens(ctx.text, (ctx.display_name, ctx.handle))
    if len(mine) < MIN_TOKENS_FOR_SIMILARITY:
        return []
    alike = sum(
        1
        for other in ctx.recent_replies_to_others[: config.recent_replies_checked]
        if similarity(mine, normalised_tokens(other.text, other.names))
        >= config.similarity_threshold
    )
    if not alike:
        return []
    people = "1 other person" if alike == 1 else f"{alike} other people"
    return [
        Reminder(
            ReminderKind.SAME_TEXT,
            Severity.WARNING,
            f"Nearly the same words went to {people} recently: it can sound like a bot. "
            "Make it personal: use their name and answer what they actually said.",
        )
    ]


def _length(ctx: DraftContext) -> list[Reminder]:
    count = count_length(ctx.text, ctx.network)
    if not count.over:
        return []
    if count.used <= count.limit:  # Bluesky's byte limit
        message = f"Too long for {ctx.network.label}: it allows at most 3,000 bytes of text."
    else:
        message = (
            f"Too long for {ctx.network.label}: {count.used} of {count.limit} {count.unit}, "
            f"{count.used - count.limit} too many."
        )
    return [Reminder(ReminderKind.TOO_LONG, Severity.WARNING, message)]


def _tone(ctx: DraftContext, engine: PolicyEngine) -> list[Reminder]:
    found: list[Reminder] = []
    text = ctx.text.strip()
    if is_shouting(text):
        found.append(
            Reminder(
                ReminderKind.CAPITALS,
                Severity.WARNING,
                "Written in capitals, which reads as shouting.",
                Fix(
                    FixAction.REPLACE_TEXT,
                    "Use normal capitals",
                    find=text,
                    replace=sentence_case(text),
                ),
            )
        )
    found += _greeting(ctx, text)
    for flagged in engine.policy.flagged_phrases:
        regex = words_regex([flagged.phrase])
        match = regex.search(text) if regex else None
        if match is None:
            continue
        fix: Fix | None = None
        if flagged.suggestion:
            fix = Fix(
                FixAction.REPLACE_TEXT,
                f"Say “{flagged.suggestion}” instead",
                find=match.group(0),
                replace=flagged.suggestion,
            )
        elif " " not in flagged.phrase.strip():
            fix = Fix(FixAction.REPLACE_TEXT, f"Remove “{match.group(0)}”", find=match.group(0))
        found.append(
            Reminder(
                ReminderKind.FLAGGED_WORDING,
                Severity.WARNING,
                f"“{match.group(0)}” is on your policy's list of wording to avoid: "
                "it can come across as dismissive.",
                fix,
            )
        )
    return found


def _greeting(ctx: DraftContext, text: str) -> list[Reminder]:
    body = without_leading_mentions(text)
    if not body or starts_with_greeting(body):
        return []
    name = first_name(ctx.display_name, ctx.handle)
    lowered = body.casefold()
    handle = ctx.handle.lstrip("@").split("@")[0].casefold()
    if (name and name.casefold() in lowered) or (handle and handle in lowered):
        return []
    hello = f"Hi {name}, " if name else "Hi there, "
    return [
        Reminder(
            ReminderKind.NO_GREETING,
            Severity.INFO,
            "No greeting or name: opening with their name sounds like a person, not a system.",
            Fix(FixAction.PREPEND_TEXT, f"Start with “{hello.strip()}”", replace=hello),
        )
    ]


# -- gathering for a case -------------------------------------------------------------------


class ReminderService:
    """Reminders for a draft on a case, using the triage's policy, settings and clock."""

    def __init__(self, triage: Triage) -> None:
        self.triage = triage

    def context(
        self, case_id: int, text: str, unfilled: Sequence[str] = (), now: datetime | None = None
    ) -> DraftContext:
        now = now or self.triage.clock()
        config = self.triage.config
        facts = load_case_facts([case_id]).get(case_id)
        if facts is None:
            raise LookupError(f"no case {case_id}")
        decision = self.triage.decide(facts)
        leaves = decision.outcome in (Outcome.LEAVE_ALONE, Outcome.SPAM)
        suggested_only = leaves and officer_involved(facts)
        target = config.response_target if suggested_only else decision.target
        clock = None
        if facts.status in AUTOMATIC_STATUSES and target is not None:
            clock = deadline(
                config.office_hours, facts.clock_start, target, now, config.at_risk_fraction
            )
        cases = conversation_cases(case_id)  # with their linked accounts' ongoing cases
        answered = OutboundReply.state.in_(ANSWERED_STATES)
        ours = OutboundReply.select().where(OutboundReply.case.in_(cases) & answered).count()
        elsewhere = 0
        if len(cases) > 1:
            elsewhere = (
                OutboundReply.select().where(OutboundReply.case.in_(cases[1:]) & answered).count()
            )
        return DraftContext(
            text=text,
            network=facts.network,
            display_name=facts.display_name,
            handle=facts.handle,
            our_public_replies=int(ours),
            replies_elsewhere=int(elsewhere),
            recent_replies_to_others=self._recent_to_others(facts.person_id),
            deadline=clock,
            decision=decision,
            suggested_only=suggested_only,
            unfilled=tuple(unfilled),
            on_vacation=config.office_hours.on_vacation(now),
        )

    def for_draft(
        self, case_id: int, text: str, unfilled: Sequence[str] = (), now: datetime | None = None
    ) -> list[Reminder]:
        """``unfilled``: the template module's list of variables still without a value."""
        context = self.context(case_id, text, unfilled, now)
        return check_draft(context, self.triage.engine, self.triage.config)

    def _recent_to_others(self, person_id: int) -> tuple[OtherReply, ...]:
        query = (
            OutboundReply.select(OutboundReply.text, Person.display_name, Person.handle)
            .join(Case)
            .join(Person)
            .where(
                sqlite.unindexed(OutboundReply.state).in_(ANSWERED_STATES)
                & Case.person.not_in(linked_ids(person_id))  # the same person is not "others"
            )
            .order_by(OutboundReply.id.desc())  # newest first, read along the primary key
            .limit(self.triage.config.recent_replies_checked)
            .tuples()
        )
        return tuple(OtherReply(text, (name, handle)) for text, name, handle in query)
