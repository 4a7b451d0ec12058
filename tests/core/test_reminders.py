"""Reminders while writing: each check, its fix, and the same courtesy whoever the reply is for."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from app.core.cases import CaseService
from app.core.ingest import Ingestor
from app.core.networks.base import RemoteMention, RemotePerson
from app.core.outbox import Outbox
from app.core.policy.engine import PolicyEngine
from app.core.policy.rules import Conditions, Decision, FlaggedPhrase, Outcome, Policy, Rule
from app.core.policy.store import default_policy
from app.core.reminders import (
    COURTESY_KINDS,
    DraftContext,
    Fix,
    FixAction,
    OtherReply,
    Reminder,
    ReminderKind,
    ReminderService,
    Severity,
    apply_fix,
    blocks_sending,
    check_draft,
    ordinal,
)
from app.core.triage import OfficeHours, Triage, TriageConfig, TriageHook, deadline, start_vacation
from app.core.vocab import Network, Stance
from app.core.wording import normalised_tokens, sentence_case, similarity
from app.storage.models import Account, Case

NOW = datetime(2024, 3, 4, 10, 0, tzinfo=UTC)  # a Monday
OFFICE = OfficeHours(opens=time(9), closes=time(17))
CONFIG = TriageConfig(
    office_hours=OFFICE,
    organisation="Riverbank Alliance",
    phone="01234 567890",
    email="hello@riverbank.example",
)
ENGINE = PolicyEngine(default_policy())
GOOD = "Hi Rosa, thanks for flagging this. The new date is on our site; I'll confirm by Friday."
DRAFT = DraftContext(text=GOOD, network=Network.MASTODON, display_name="Rosa Mensah", handle="rosa")


def kinds(
    ctx: DraftContext, engine: PolicyEngine = ENGINE, config: TriageConfig = CONFIG
) -> list[ReminderKind]:
    return [r.kind for r in check_draft(ctx, engine, config)]


def only(ctx: DraftContext, kind: ReminderKind) -> Reminder:
    (found,) = [r for r in check_draft(ctx, ENGINE, CONFIG) if r.kind is kind]
    return found


def test_a_good_draft_gets_no_reminders() -> None:
    assert kinds(DRAFT) == []


def test_unfilled_variables_block_sending() -> None:
    reminder = only(replace(DRAFT, unfilled=("phone", "email", "phone")), ReminderKind.UNFILLED)
    assert reminder.severity is Severity.BLOCKING
    assert "{phone}, {email}" in reminder.message
    assert blocks_sending([reminder]) and not blocks_sending(check_draft(DRAFT, ENGINE, CONFIG))


def test_overdue_and_at_risk() -> None:
    received = NOW - timedelta(hours=1, minutes=50)  # 09:00 opening counts: 1 h used
    risky = deadline(OFFICE, NOW - timedelta(minutes=50), timedelta(hours=1), NOW)
    assert only(replace(DRAFT, deadline=risky), ReminderKind.AT_RISK).message.startswith(
        "10 min of office time left"
    )
    late = deadline(OFFICE, received, timedelta(minutes=30), NOW)
    overdue = only(replace(DRAFT, deadline=late), ReminderKind.OVERDUE)
    assert overdue.severity is Severity.WARNING and "Overdue by 30 min" in overdue.message
    fine = deadline(OFFICE, NOW, timedelta(hours=2), NOW)
    assert kinds(replace(DRAFT, deadline=fine)) == []


def test_at_its_due_moment_the_reminder_says_due_now_not_overdue_by_0_min() -> None:
    received = NOW - timedelta(minutes=30)  # 09:30, in office hours: due at 10:00 (NOW)
    for since_due, expected in (
        (timedelta(0), "Due now (target 30 min)"),
        (timedelta(seconds=59), "Due now (target 30 min)"),
        (timedelta(minutes=1), "Overdue by 1 min of office time (target 30 min)"),
    ):
        clock = deadline(OFFICE, received, timedelta(minutes=30), NOW + since_due)
        message = only(replace(DRAFT, deadline=clock), ReminderKind.OVERDUE).message
        assert message.startswith(expected), (since_due, message)
        assert "0 min of office" not in message


def test_vacation_mode_suggests_the_away_template() -> None:
    away = only(replace(DRAFT, on_vacation=True), ReminderKind.AWAY)
    assert away.fix == Fix(FixAction.USE_TEMPLATE, "Use the away reply", template="away")


def test_the_fifth_public_reply_suggests_phone_or_email_with_contact_details() -> None:
    assert ReminderKind.TAKE_OFFLINE not in kinds(replace(DRAFT, our_public_replies=3))
    fifth = only(replace(DRAFT, our_public_replies=4), ReminderKind.TAKE_OFFLINE)
    assert "our 5th public reply to Rosa" in fifth.message
    assert "Riverbank Alliance on 01234 567890 or hello@riverbank.example" in fifth.message
    assert fifth.fix is not None and fifth.fix.template == "take-it-offline"
    offered = replace(DRAFT, text=GOOD + " Or email hello@riverbank.example", our_public_replies=6)
    assert ReminderKind.TAKE_OFFLINE not in kinds(offered)
    stricter = PolicyEngine(Policy(take_offline_after=3))
    assert ReminderKind.TAKE_OFFLINE in kinds(replace(DRAFT, our_public_replies=2), stricter)


def test_take_offline_without_contact_details_points_to_settings() -> None:
    reminder = next(
        r
        for r in check_draft(replace(DRAFT, our_public_replies=4), ENGINE, TriageConfig())
        if r.kind is ReminderKind.TAKE_OFFLINE
    )
    assert "add them in Settings" in reminder.message


def test_the_same_text_sent_to_other_people_sounds_like_a_bot() -> None:
    template = "Hi {}, thank you so much for your support of the river clean-up this weekend!"
    others = (
        *(OtherReply(template.format(n), (n, n.lower())) for n in ("Ben", "Amira", "Dev")),
        OtherReply("Hi Sam, the meeting moved to Tuesday at the town hall.", ("Sam",)),
    )
    ctx = replace(DRAFT, text=template.format("Rosa"), recent_replies_to_others=others)
    reminder = only(ctx, ReminderKind.SAME_TEXT)
    assert "3 other people" in reminder.message and "bot" in reminder.message
    personal = replace(
        ctx, text="Hi Rosa, you carried bags all Saturday morning: thank you, it made the day!"
    )
    assert ReminderKind.SAME_TEXT not in kinds(personal)


def test_similarity_ignores_names_links_and_handles() -> None:
    a = normalised_tokens(
        "Hi @rosa Rosa! Read https://a.example/x for more details today", ["Rosa"]
    )
    b = normalised_tokens("Hi Ben! Read https://b.example/y for more details today", ["Ben"])
    assert similarity(a, b) == 1.0
    assert similarity(a, normalised_tokens("something else entirely here now")) == 0.0


@pytest.mark.parametrize(
    ("network", "text", "message"),
    [
        (Network.X, "Hi Rosa, " + "日" * 140, "Too long for X: 289 of 280"),
        (Network.MASTODON, "Hi Rosa, " + "a" * 495, "Too long for Mastodon: 504 of 500"),
        (Network.BLUESKY, "Hi Rosa, " + "b" * 300, "Too long for Bluesky: 309 of 300"),
        (Network.FACEBOOK, "Hi Rosa, " + "c" * 8000, "Too long for Facebook: 8009 of 8000"),
    ],
)
def test_too_long_for_the_network(network: Network, text: str, message: str) -> None:
    reminder = only(replace(DRAFT, network=network, text=text), ReminderKind.TOO_LONG)
    assert reminder.message.startswith(message)


def test_capitals_are_shouting_and_the_fix_keeps_links_and_handles() -> None:
    text = "@rosa HI ROSA, WE HEARD YOU. SEE https://Example.org/Page NOW. I PROMISE!"
    reminder = only(replace(DRAFT, text=text), ReminderKind.CAPITALS)
    assert reminder.fix is not None
    assert apply_fix(text, reminder.fix) == (
        "@rosa Hi rosa, we heard you. See https://Example.org/Page now. I promise!"
    )
    assert sentence_case("OK. THANKS") == "Ok. Thanks"
    assert ReminderKind.CAPITALS not in kinds(
        replace(DRAFT, text="Hi Rosa, NASA and the EU agree.")
    )


def test_a_missing_greeting_or_name_offers_one() -> None:
    ctx = replace(DRAFT, text="@rosa The event moved to Tuesday.")
    reminder = only(ctx, ReminderKind.NO_GREETING)
    assert reminder.fix is not None
    assert apply_fix(ctx.text, reminder.fix) == "@rosa Hi Rosa, The event moved to Tuesday."
    assert ReminderKind.NO_GREETING not in kinds(replace(DRAFT, text="Rosa, it moved to Tuesday."))
    assert ReminderKind.NO_GREETING not in kinds(replace(DRAFT, text="Thank you! It moved."))
    nameless = replace(DRAFT, text="It moved.", display_name="🌊🌊", handle="")
    fix = only(nameless, ReminderKind.NO_GREETING).fix
    assert fix is not None and fix.replace == "Hi there, "


def test_flagged_wording_with_a_replacement_or_a_removal() -> None:
    text = "Hi Rosa, please CALM DOWN, obviously we read everything."
    found = [
        r
        for r in check_draft(replace(DRAFT, text=text), ENGINE, CONFIG)
        if r.kind is ReminderKind.FLAGGED_WORDING
    ]
    assert [r.fix.label for r in found if r.fix] == [
        "Say “I understand this is frustrating” instead",
        "Remove “obviously”",
    ]
    fixed = text
    for reminder in found:
        assert reminder.fix is not None
        fixed = apply_fix(fixed, reminder.fix)
    assert fixed == "Hi Rosa, please I understand this is frustrating, we read everything."
    no_fix = PolicyEngine(Policy(flagged_phrases=(FlaggedPhrase("clearly you"),)))
    (reminder,) = check_draft(
        replace(DRAFT, text="Hi Rosa, clearly you missed it."), no_fix, CONFIG
    )
    assert reminder.fix is None


def test_policy_reminders_escalation_and_suggestions() -> None:
    rule = Rule("Press", Outcome.ESCALATE, Conditions(), reminder="Offer the press contact.")
    escalate = only(
        replace(DRAFT, decision=Decision(Outcome.ESCALATE, rule, timedelta(hours=2))),
        ReminderKind.ESCALATE,
    )
    assert escalate.message.startswith("Press: Offer the press contact.")
    assert escalate.fix is not None and escalate.fix.template == "take-it-offline"
    info = Rule("Question", reminder="Answer the actual question.")
    assert only(
        replace(DRAFT, decision=Decision(Outcome.RESPOND, info, timedelta(hours=2))),
        ReminderKind.RULE,
    ).message == ("Question: Answer the actual question.")
    troll = Rule("Trolls", Outcome.LEAVE_ALONE, reason="Feeds it.")
    suggestion = only(
        replace(DRAFT, decision=Decision(Outcome.LEAVE_ALONE, troll, None), suggested_only=True),
        ReminderKind.SUGGESTION,
    )
    assert "would leave this alone: Feeds it." in suggestion.message


def test_reminders_are_ordered_blocking_first() -> None:
    ctx = replace(DRAFT, text="THE EVENT MOVED TO TUESDAY", unfilled=("phone",), on_vacation=True)
    severities = [r.severity for r in check_draft(ctx, ENGINE, CONFIG)]
    assert severities == sorted(
        severities, key=[Severity.BLOCKING, Severity.WARNING, Severity.INFO].index
    )
    assert severities[0] is Severity.BLOCKING


def test_template_fixes_are_the_uis_to_apply() -> None:
    with pytest.raises(ValueError, match="template"):
        apply_fix("x", Fix(FixAction.USE_TEMPLATE, "Use it", template="away"))


def test_ordinals() -> None:
    assert [ordinal(n) for n in (1, 2, 3, 4, 5, 11, 12, 13, 21, 22, 101, 111)] == [
        "1st",
        "2nd",
        "3rd",
        "4th",
        "5th",
        "11th",
        "12th",
        "13th",
        "21st",
        "22nd",
        "101st",
        "111th",
    ]


# -- through the database -------------------------------------------------------------------


class Inbox:
    def __init__(self, policy: Policy | None = None, config: TriageConfig = CONFIG) -> None:
        self.account = Account.create(
            network="mastodon", handle="@org@example.social", keyring_ref="k"
        )
        self.triage = Triage(policy or default_policy(), config, clock=lambda: NOW)
        self.ingestor = Ingestor([TriageHook(self.triage)])
        self.reminders = ReminderService(self.triage)
        self.count = 0

    def case(
        self,
        handle: str,
        text: str,
        stance: Stance = Stance.UNKNOWN,
        ago: timedelta = timedelta(minutes=5),
        name: str = "",
    ) -> int:
        self.count += 1
        author = RemotePerson(
            remote_id=handle,
            handle=handle,
            display_name=name or handle.capitalize(),
            follower_count=300,
        )
        mention = RemoteMention(Network.MASTODON, f"m{self.count}", author, text, NOW - ago)
        (case_id,) = self.ingestor.ingest(
            self.account.id, Network.MASTODON, [mention]
        ).touched_cases
        CaseService().set_stance(Case.get_by_id(case_id).person_id, stance)
        return case_id


def test_courtesy_checks_are_the_same_for_an_opponent_and_a_supporter(db_path: Path) -> None:
    inbox = Inbox()
    supporter = inbox.case("sam", "When is the next clean-up?", Stance.SUPPORTER, name="Sam")
    opponent = inbox.case("sam.b", "When is the next clean-up?", Stance.OPPONENT, name="Sam")
    Outbox().queue_reply(
        inbox.case("dev", "Hello!"), "Hi Dev, OBVIOUSLY THE DATE IS ON THE SITE, CALM DOWN."
    )
    for draft in (
        "OBVIOUSLY THE DATE IS ON THE SITE, CALM DOWN.",
        "the date is on the site",
        "Hi Sam, " + "long " * 120,
        GOOD,
    ):
        for_supporter = inbox.reminders.for_draft(supporter, draft)
        for_opponent = inbox.reminders.for_draft(opponent, draft)
        courtesy = [r for r in for_supporter if r.kind in COURTESY_KINDS]
        assert courtesy == [r for r in for_opponent if r.kind in COURTESY_KINDS]
        assert [r.kind for r in for_supporter if r.kind not in COURTESY_KINDS] == [
            ReminderKind.RULE
        ]
    # The first draft earned the same capitals, greeting, wording and "bot" reminders for both.
    first = {
        r.kind
        for r in inbox.reminders.for_draft(
            opponent, "OBVIOUSLY THE DATE IS ON THE SITE, CALM DOWN."
        )
    }
    assert {
        ReminderKind.CAPITALS,
        ReminderKind.NO_GREETING,
        ReminderKind.FLAGGED_WORDING,
        ReminderKind.SAME_TEXT,
    } <= first

    # The policy may still remind differently: the default has a rule for critics.
    def rule_reminder(case_id: int) -> str:
        (reminder,) = [
            r for r in inbox.reminders.for_draft(case_id, GOOD) if r.kind is ReminderKind.RULE
        ]
        return reminder.message

    assert rule_reminder(supporter).startswith("Question:")
    assert rule_reminder(opponent).startswith("Critics and opponents: Same courtesy")


def test_counting_our_public_replies_in_the_case(db_path: Path) -> None:
    inbox = Inbox()
    case_id = inbox.case("rosa", "I have a question about the refund?")
    outbox = Outbox()
    for n in range(4):
        outbox.queue_reply(case_id, f"Hi Rosa, answer number {n} about the refund process")
    context = inbox.reminders.context(case_id, GOOD)
    assert context.our_public_replies == 4
    assert context.recent_replies_to_others == ()  # our replies to Rosa are not "other people"
    kinds_now = [r.kind for r in inbox.reminders.for_draft(case_id, GOOD)]
    assert ReminderKind.TAKE_OFFLINE in kinds_now


def test_deadline_and_vacation_come_from_the_case_and_settings(db_path: Path) -> None:
    inbox = Inbox(config=CONFIG)
    case_id = inbox.case("rosa", "Still waiting for my refund, not happy", ago=timedelta(hours=2))
    found = {r.kind: r for r in inbox.reminders.for_draft(case_id, GOOD)}
    assert ReminderKind.OVERDUE in found  # 1 h target, received 08:00, office opened 09:00
    inbox.triage.config = replace(
        CONFIG, office_hours=start_vacation(OFFICE, NOW - timedelta(hours=3))
    )
    paused = {r.kind for r in inbox.reminders.for_draft(case_id, GOOD)}
    assert ReminderKind.AWAY in paused and ReminderKind.OVERDUE not in paused


def test_unfilled_variables_from_the_template_module_block(db_path: Path) -> None:
    inbox = Inbox()
    case_id = inbox.case("rosa", "hi")
    reminders = inbox.reminders.for_draft(
        case_id, "Hi Rosa, call us on {phone}", unfilled=["phone"]
    )
    assert blocks_sending(reminders)
    with pytest.raises(LookupError):
        inbox.reminders.for_draft(9999, "x")
