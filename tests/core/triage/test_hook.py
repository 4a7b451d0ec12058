"""Triage at ingest, through the real Ingestor: decisions recorded, cases moved and ranked."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta

import pytest

from app.core.cases import CaseService
from app.core.ingest import Ingestor
from app.core.outbox import Outbox
from app.core.policy.rules import Conditions, Outcome, Policy, Rule
from app.core.policy.store import default_policy
from app.core.triage import Triage, TriageHook
from app.core.triage.sentiment import SentimentScorer
from app.core.vocab import CaseStatus, EventKind, Network, ReplyState
from app.storage.models import Case, CaseEvent, Mention, OutboundReply
from tests.core.triage.conftest import NOW, Desk


def decisions(case_id: int) -> list[tuple[str, str]]:
    rows = (
        CaseEvent.select(CaseEvent.actor, CaseEvent.detail)
        .where((CaseEvent.case == case_id) & (CaseEvent.kind == EventKind.DECISION.value))
        .order_by(CaseEvent.id)
        .tuples()
    )
    return list(rows)


def test_a_new_complaint_is_scored_ranked_and_its_decision_recorded(desk: Desk) -> None:
    result = desk.ingest(
        desk.mention("Still waiting for my refund, this is unacceptable", ago=timedelta(hours=3))
    )
    (case_id,) = result.new_cases
    mention = Mention.get(Mention.case == case_id)
    assert mention.sentiment is not None and mention.sentiment < 0
    case = Case.get_by_id(case_id)
    assert case.status == CaseStatus.NEW.value
    # Received 07:00 UTC Monday, office opens 09:00, 1 h target (Service complaint): due 10:00.
    assert case.due_at == NOW
    assert case.why.endswith("due now · rule: Service complaint")  # due this very minute
    assert case.priority > 0
    assert decisions(case_id) == [("rule: Service complaint", "Respond within 1 h")]
    assert desk.triage and result.touched_cases == [case_id]


def test_spam_is_left_alone_with_the_reason_recorded(desk: Desk) -> None:
    (case_id,) = desk.ingest(
        desk.mention("Crypto giveaway!! claim at https://scam.example/x")
    ).new_cases
    case = Case.get_by_id(case_id)
    assert case.status == CaseStatus.LEFT_ALONE.value
    assert case.bucket == CaseStatus.LEFT_ALONE.bucket.value
    assert case.status_reason.startswith("Spam: Spam or a scam with a link")
    assert case.priority == 0 and case.due_at is None
    assert case.why == "spam · rule: Spam and scams"
    ((actor, detail),) = decisions(case_id)
    assert actor == "rule: Spam and scams" and detail == case.status_reason


def test_escalation_stays_in_the_inbox_with_a_boost(desk: Desk) -> None:
    (legal,) = desk.ingest(desk.mention("My lawyer will be in touch")).new_cases
    (plain,) = desk.ingest(
        desk.mention("My dog will be in touch", author=desk.person("ben"))
    ).new_cases
    case = Case.get_by_id(legal)
    assert case.status == CaseStatus.NEW.value  # the officer marks it escalated once it moved
    assert "escalate to phone/email" in case.why and case.why.endswith("rule: Legal")
    assert case.priority > Case.get_by_id(plain).priority
    ((actor, detail),) = decisions(legal)
    assert actor == "rule: Legal" and detail.startswith("Escalate: move to phone or email")


def test_the_same_decision_is_not_recorded_twice(desk: Desk) -> None:
    first = desk.mention("I want a refund", conversation_id="thread-1")
    (case_id,) = desk.ingest(first).new_cases
    desk.ingest(desk.mention("Refund please!", conversation_id="thread-1"))
    assert len(decisions(case_id)) == 1
    desk.ingest(desk.mention("Could you tell me when?", conversation_id="thread-1"))
    assert [actor for actor, _ in decisions(case_id)] == [
        "rule: Service complaint",
        "rule: Question",
    ]


def test_leave_alone_is_only_suggested_when_the_officer_is_in_the_conversation(desk: Desk) -> None:
    (case_id,) = desk.ingest(desk.mention("Hello, quick one", conversation_id="t")).new_cases
    Outbox().queue_reply(case_id, "Hi Rosa, happy to help!")
    desk.ingest(desk.mention("You idiots are pathetic scum, disgusting liars", conversation_id="t"))
    case = Case.get_by_id(case_id)
    assert case.status == CaseStatus.OPEN.value  # still the officer's to decide
    assert "suggests leave alone" in case.why and case.why.endswith("rule: Abuse and trolling")
    assert all("Abuse" not in actor for actor, _ in decisions(case_id))


def test_the_officers_own_status_is_not_overridden(desk: Desk) -> None:
    (case_id,) = desk.ingest(desk.mention("Hello", conversation_id="t")).new_cases
    CaseService().set_status(case_id, CaseStatus.LEFT_ALONE, "Known time-waster")
    before = decisions(case_id)
    desk.ingest(desk.mention("My lawyer will call", conversation_id="t"))
    assert Case.get_by_id(case_id).status == CaseStatus.LEFT_ALONE.value
    assert decisions(case_id) == before


def test_a_case_the_officer_took_back_is_not_left_alone_again(desk: Desk) -> None:
    spam = "Crypto giveaway at https://scam.example/x"
    (case_id,) = desk.ingest(desk.mention(spam, conversation_id="t")).new_cases
    assert Case.get_by_id(case_id).status == CaseStatus.LEFT_ALONE.value
    CaseService().set_status(case_id, CaseStatus.OPEN)  # "this one is real, I'll answer it"
    desk.ingest(desk.mention(spam + " again", conversation_id="t"))
    case = Case.get_by_id(case_id)
    assert case.status == CaseStatus.OPEN.value
    assert "suggests spam" in case.why


def test_the_clock_starts_at_the_first_message_after_our_last_reply(desk: Desk) -> None:
    old = desk.mention("Hello there", ago=timedelta(days=3), conversation_id="t")
    (case_id,) = desk.ingest(old).new_cases
    Outbox().queue_reply(case_id, "Hi Rosa, thanks!")
    OutboundReply.update(created_at=NOW - timedelta(days=2)).execute()
    desk.ingest(desk.mention("One more thing", ago=timedelta(minutes=30), conversation_id="t"))
    case = Case.get_by_id(case_id)
    assert case.status == CaseStatus.OPEN.value
    assert case.due_at == NOW + timedelta(hours=1, minutes=30)  # 2 h standard target
    assert "1 h 30 min left" in case.why


def test_reply_to_our_post_and_watch_list_conditions(make_desk: Callable[..., Desk]) -> None:
    policy = Policy(
        rules=(
            Rule("Watched", Outcome.LEAVE_ALONE, Conditions(on_watch_list=True), reason="Troll."),
            Rule(
                "Replies to us",
                Outcome.RESPOND,
                Conditions(reply_to_us=True),
                respond_within_hours=1,
            ),
        ),
        watch_list=("@troll",),
    )
    desk = make_desk(policy=policy)
    (case_id,) = desk.ingest(desk.mention("Hello", conversation_id="t")).new_cases
    reply = Outbox().queue_reply(case_id, "Hi!")
    OutboundReply.update(state=ReplyState.SENT.value, remote_id="our-post-1").where(
        OutboundReply.id == reply.id
    ).execute()
    desk.ingest(desk.mention("Thanks", in_reply_to_id="our-post-1"))
    assert decisions(case_id)[-1][0] == "rule: Replies to us"

    (troll_case,) = desk.ingest(desk.mention("hi", author=desk.person("troll"))).new_cases
    assert Case.get_by_id(troll_case).status == CaseStatus.LEFT_ALONE.value
    assert decisions(troll_case) == [("rule: Watched", "Leave alone: Troll.")]


def test_refresh_applies_a_changed_policy_and_follows_the_clock(desk: Desk) -> None:
    (case_id,) = desk.ingest(desk.mention("Lovely event today, thank you!")).new_cases
    assert decisions(case_id)[-1][0] == "rule: Thanks and praise"
    desk.triage.policy = Policy(rules=(Rule("Everything", respond_within_hours=0.5),))
    report = desk.triage.refresh(NOW + timedelta(hours=1))
    assert report.cases == 1 and report.decisions_recorded == 1
    case = Case.get_by_id(case_id)
    assert case.why.endswith("overdue 35 min · rule: Everything")
    assert decisions(case_id)[-1] == ("rule: Everything", "Respond within 30 min")
    again = desk.triage.refresh(NOW + timedelta(hours=1))
    assert again.decisions_recorded == 0


def test_no_rule_matching_records_kindly_and_the_standard_target(
    make_desk: Callable[..., Desk],
) -> None:
    desk = make_desk(policy=Policy())
    (case_id,) = desk.ingest(desk.mention("hello")).new_cases
    assert decisions(case_id) == [
        ("kindly", "Respond within 2 h (standard target): no rule matched")
    ]
    assert Case.get_by_id(case_id).why == "1 h 55 min left · standard target"


def test_the_inbox_order_puts_an_overdue_complaint_from_a_big_account_above_praise(
    desk: Desk,
) -> None:
    (praise,) = desk.ingest(
        desk.mention("Thank you, wonderful work, we love it!", author=desk.person("fan", 40))
    ).new_cases
    (complaint,) = desk.ingest(
        desk.mention(
            "Still no reply about my refund. Disappointed.",
            author=desk.person("critic", 12_000),
            ago=timedelta(days=2, hours=19),  # Friday 15:00: due 16:00, 2 office hours ago
        )
    ).new_cases
    (question,) = desk.ingest(
        desk.mention("When does the walk start?", author=desk.person("walker", 300))
    ).new_cases
    order = [c.id for c in Case.select(Case.id).order_by(Case.priority.desc())]
    assert order == [complaint, question, praise]
    why = Case.get_by_id(complaint).why
    assert why.endswith("negative · 12k followers · overdue 2 h · rule: Service complaint")


class BrokenScorer(SentimentScorer):
    """A scorer that fails, as a bug or a damaged lexicon would."""

    def score_many(self, texts: Sequence[str]) -> list[float]:
        raise RuntimeError("lexicon damaged")


def test_a_triage_failure_never_stops_mentions_being_stored(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    hook = TriageHook(
        Triage(default_policy(), desk.triage.config, BrokenScorer(), clock=lambda: NOW)
    )
    ingestor = Ingestor([hook])
    result = ingestor.ingest(desk.account_id, Network.MASTODON, [desk.mention("My lawyer says hi")])
    (case_id,) = result.new_cases
    assert Mention.get(Mention.case == case_id).sentiment is None
    assert Case.get_by_id(case_id).why == ""
    assert hook.failures == 1 and "triage failed" in caplog.text
    desk.triage.score_mentions(result.mention_ids)
    desk.triage.refresh()
    assert Case.get_by_id(case_id).why.endswith("rule: Legal")


def test_refresh_covers_more_cases_than_one_chunk(desk: Desk) -> None:
    many = [desk.mention(f"Hello number {n}", author=desk.person(f"p{n}")) for n in range(450)]
    assert len(desk.ingest(*many).new_cases) == 450
    desk.triage.policy = Policy(rules=(Rule("All", respond_within_hours=4),))
    report = desk.triage.refresh()
    assert (report.cases, report.decisions_recorded) == (450, 450)
    assert Case.select().where(Case.why.endswith("rule: All")).count() == 450
