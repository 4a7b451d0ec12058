"""What the officer does to a case (status, notes, stance) and the outbox queue, with history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.core.cases import OFFICER, CaseError, CaseService
from app.core.inbox import Inbox, InboxView
from app.core.ingest import Ingestor
from app.core.networks.base import RemoteMention, RemotePerson
from app.core.outbox import Outbox, ReplyRefused
from app.core.vocab import Bucket, CaseStatus, EventKind, Network, ReplyState, Stance
from app.storage.models import Account as AccountRow
from app.storage.models import Case, CaseEvent, Mention, Note, OutboundReply, Person

T0 = datetime(2024, 4, 2, 9, 0, tzinfo=UTC)
ROSA = RemotePerson("101", "@rosa@social.example", "Rosa García", 2150)


@pytest.fixture
def case_id(db_path: Path) -> int:
    """A new case of two mentions from Rosa, through the real ingest path."""
    account = AccountRow.create(network="mastodon", handle="@riverbank", keyring_ref="k")
    mentions = [
        RemoteMention(Network.MASTODON, "1", ROSA, "Is the walk on?", T0),
        RemoteMention(
            Network.MASTODON, "2", ROSA, "And where?", T0 + timedelta(minutes=5), in_reply_to_id="1"
        ),
    ]
    result = Ingestor().ingest(account.id, Network.MASTODON, mentions)
    return result.new_cases[0]


def history(case_id: int) -> list[CaseEvent]:
    return list(CaseEvent.select().where(CaseEvent.case == case_id).order_by(CaseEvent.id))


def latest_event(case_id: int) -> CaseEvent:
    return history(case_id)[-1]


# -- status ---------------------------------------------------------------------------------------


def test_a_status_change_is_recorded_with_who_and_why(case_id: int) -> None:
    CaseService().set_status(case_id, CaseStatus.RESOLVED, "  Answered by phone  ")

    case = Case.get_by_id(case_id)
    assert (case.status, case.bucket) == (CaseStatus.RESOLVED.value, Bucket.RESOLVED.value)
    assert case.status_reason == "Answered by phone"
    event = latest_event(case_id)
    assert (event.kind, event.actor) == (EventKind.STATUS_CHANGED.value, OFFICER)
    assert event.detail == "New → Resolved: Answered by phone"
    assert event.created_at.tzinfo is not None


@pytest.mark.parametrize("status", [CaseStatus.LEFT_ALONE, CaseStatus.ESCALATED])
def test_leaving_alone_and_escalating_are_decisions_with_reasons(
    case_id: int, status: CaseStatus
) -> None:
    CaseService().set_status(case_id, status, "Troll: policy says no reply", actor="rule: trolls")

    case = Case.get_by_id(case_id)
    assert (case.status, case.bucket) == (status.value, status.bucket.value)
    assert case.status_reason == "Troll: policy says no reply"
    event = latest_event(case_id)
    assert (event.kind, event.actor) == (EventKind.DECISION.value, "rule: trolls")
    assert event.detail == f"New → {status.label}: Troll: policy says no reply"


def test_leaving_alone_or_escalating_without_a_reason_is_refused(case_id: int) -> None:
    before = len(history(case_id))
    for status in (CaseStatus.LEFT_ALONE, CaseStatus.ESCALATED):
        for reason in ("", "   ", "\n\t"):
            with pytest.raises(CaseError, match="reason"):
                CaseService().set_status(case_id, status, reason)

    case = Case.get_by_id(case_id)
    assert (case.status, case.bucket) == (CaseStatus.NEW.value, Bucket.NEEDS_REPLY.value)
    assert len(history(case_id)) == before


def test_setting_the_same_status_and_reason_again_records_nothing(case_id: int) -> None:
    service = CaseService()
    service.set_status(case_id, CaseStatus.LEFT_ALONE, "Spam")
    before = len(history(case_id))

    service.set_status(case_id, CaseStatus.LEFT_ALONE, "Spam")
    assert len(history(case_id)) == before

    service.set_status(case_id, CaseStatus.LEFT_ALONE, "Not about us")
    assert len(history(case_id)) == before + 1
    assert latest_event(case_id).detail == "Left alone → Left alone: Not about us"


def test_every_status_lands_in_its_bucket(case_id: int) -> None:
    service = CaseService()
    for status in CaseStatus:
        service.set_status(case_id, status, "because")
        assert Case.get_by_id(case_id).bucket == status.bucket.value
        counts = Inbox().view_counts()
        assert counts[InboxView(status.bucket.value)] == 1
        assert counts[InboxView.ALL] == 1


# -- notes, stance, keep --------------------------------------------------------------------------


def test_notes_on_a_case_are_kept_and_recorded(case_id: int) -> None:
    note_id = CaseService().add_case_note(case_id, "  Called her back, all fine.  ")

    note = Note.get_by_id(note_id)
    assert (note.case_id, note.person_id, note.text) == (
        case_id,
        None,
        "Called her back, all fine.",
    )
    event = latest_event(case_id)
    assert (event.kind, event.actor) == (EventKind.NOTE_ADDED.value, OFFICER)
    detail = Inbox().case(case_id)
    assert detail is not None
    assert [(i.kind, i.text) for i in detail.items if i.kind == "note"] == [
        ("note", "Called her back, all fine.")
    ]


def test_notes_on_a_person_show_on_their_page(case_id: int) -> None:
    person_id = Case.get_by_id(case_id).person_id
    service = CaseService()

    service.add_person_note(person_id, "Volunteer since 2021")
    service.add_person_note(person_id, "Prefers email")

    person = Inbox().person(person_id)
    assert person is not None
    assert [n.text for n in person.notes] == ["Volunteer since 2021", "Prefers email"]
    assert [c.id for c in person.cases] == [case_id]
    assert Note.select().where(Note.case.is_null(False)).count() == 0


def test_an_empty_note_is_refused(case_id: int) -> None:
    service = CaseService()
    for text in ("", "  ", "\n"):
        with pytest.raises(CaseError):
            service.add_case_note(case_id, text)
        with pytest.raises(CaseError):
            service.add_person_note(Case.get_by_id(case_id).person_id, text)
    assert Note.select().count() == 0


def test_stance_and_keep(case_id: int) -> None:
    case = Case.get_by_id(case_id)
    service = CaseService()

    service.set_stance(case.person_id, Stance.OPPONENT)
    service.set_keep(case_id, True)

    assert Person.get_by_id(case.person_id).stance == Stance.OPPONENT.value
    assert Case.get_by_id(case_id).keep is True
    detail = Inbox().case(case_id)
    assert detail is not None and detail.stance == "opponent" and detail.keep


# -- the outbox -----------------------------------------------------------------------------------


def test_an_empty_reply_is_refused(case_id: int) -> None:
    for text in ("", "   ", "\n\n"):
        with pytest.raises(ReplyRefused) as refused:
            Outbox().queue_reply(case_id, text)
        assert "empty" in refused.value.user_message

    assert OutboundReply.select().count() == 0
    assert Case.get_by_id(case_id).status == CaseStatus.NEW.value


def test_a_reply_with_placeholders_left_is_refused_and_names_them(case_id: int) -> None:
    for text, named in [
        ("Hi {first_name}, thanks!", "{first_name}"),
        ("Hi Rosa, call us on { phone }.", "{phone}"),
        ("Hi Rosa, see {link to the report}", "{link to the report}"),
        ("Hi {first_name}, email {email}", "{first_name}, {email}"),
    ]:
        with pytest.raises(ReplyRefused) as refused:
            Outbox().queue_reply(case_id, text)
        assert named in refused.value.user_message

    assert OutboundReply.select().count() == 0
    assert Case.get_by_id(case_id).reply_count == 0


def test_queueing_a_reply_makes_the_case_wait_and_records_it(case_id: int) -> None:
    CaseService().set_status(case_id, CaseStatus.LEFT_ALONE, "Spam")
    outbox = Outbox()

    queued = outbox.queue_reply(case_id, "  Yes, 10am at the bridge!  ", template_name="info")

    reply = OutboundReply.get_by_id(queued.id)
    assert reply.text == "Yes, 10am at the bridge!"
    assert (reply.state, queued.state) == (ReplyState.QUEUED.value, ReplyState.QUEUED)
    assert reply.idempotency_key == queued.idempotency_key and len(queued.idempotency_key) >= 32
    assert reply.template_name == "info"
    latest = Mention.get(Mention.remote_id == "2")
    assert reply.in_reply_to_id == latest.id  # the newest of their mentions by default
    case = Case.get_by_id(case_id)
    assert (case.status, case.bucket) == (CaseStatus.WAITING.value, Bucket.WAITING.value)
    assert case.status_reason == ""
    assert case.reply_count == 1
    assert case.last_activity_at > T0
    event = latest_event(case_id)
    assert (event.kind, event.actor) == (EventKind.REPLY_QUEUED.value, OFFICER)
    assert "info" in event.detail
    assert outbox.queued_count() == 1


def test_each_reply_gets_its_own_key_and_an_explicit_target(case_id: int) -> None:
    first = Mention.get(Mention.remote_id == "1")
    outbox = Outbox()

    a = outbox.queue_reply(case_id, "One", in_reply_to_mention_id=first.id)
    b = outbox.queue_reply(case_id, "Two")

    assert a.idempotency_key != b.idempotency_key
    assert OutboundReply.get_by_id(a.id).in_reply_to_id == first.id
    assert Case.get_by_id(case_id).reply_count == 2
    assert outbox.queued_count() == 2
    detail = Inbox().case(case_id)
    assert detail is not None
    assert [i.text for i in detail.items if i.kind == "reply"] == ["One", "Two"]


def test_text_that_only_looks_like_braces_is_not_a_placeholder(case_id: int) -> None:
    queued = Outbox().queue_reply(case_id, "Use {{ and }} freely :-} and a lone { is fine")

    assert OutboundReply.get_by_id(queued.id).text.startswith("Use {{")


def _reply_in(case_id: int, state: ReplyState) -> int:
    queued = Outbox().queue_reply(case_id, "First try")
    OutboundReply.update(state=state.value, error="HTTP 503").where(
        OutboundReply.id == queued.id
    ).execute()
    return queued.id


@pytest.mark.parametrize("state", [ReplyState.FAILED, ReplyState.QUEUED])
def test_a_failed_or_waiting_reply_can_be_edited_back_into_the_queue(
    case_id: int, state: ReplyState
) -> None:
    reply_id = _reply_in(case_id, state)

    Outbox().edit_failed(reply_id, "  Second try  ")

    reply = OutboundReply.get_by_id(reply_id)
    assert (reply.text, reply.state) == ("Second try", ReplyState.QUEUED.value)


@pytest.mark.parametrize("state", [ReplyState.SENDING, ReplyState.SENT, ReplyState.DRAFT])
def test_a_reply_on_its_way_or_sent_cannot_be_edited(case_id: int, state: ReplyState) -> None:
    reply_id = _reply_in(case_id, state)

    with pytest.raises(ReplyRefused, match="Only a reply"):
        Outbox().edit_failed(reply_id, "Second try")

    reply = OutboundReply.get_by_id(reply_id)
    assert (reply.text, reply.state) == ("First try", state.value)


def test_an_edit_still_needs_a_finished_text(case_id: int) -> None:
    reply_id = _reply_in(case_id, ReplyState.FAILED)

    for text in ("", "  ", "Hi {first_name}"):
        with pytest.raises(ReplyRefused):
            Outbox().edit_failed(reply_id, text)

    reply = OutboundReply.get_by_id(reply_id)
    assert (reply.text, reply.state) == ("First try", ReplyState.FAILED.value)


def test_editing_a_reply_that_does_not_exist_is_refused(db_path: Path) -> None:
    with pytest.raises(ReplyRefused):
        Outbox().edit_failed(12345, "Hello")


# -- the read side --------------------------------------------------------------------------------


def test_the_case_thread_interleaves_mentions_replies_notes_and_decisions(case_id: int) -> None:
    Outbox().queue_reply(case_id, "Yes, 10am.")
    CaseService().add_case_note(case_id, "She'll bring friends")
    CaseService().set_status(case_id, CaseStatus.ESCALATED, "Moved to phone")

    detail = Inbox().case(case_id)

    assert detail is not None
    kinds = [item.kind for item in detail.items]
    assert kinds[:2] == ["mention", "mention"]
    assert {"reply", "note", "event"} <= set(kinds)
    assert [i.at for i in detail.items] == sorted(i.at for i in detail.items)
    assert detail.latest_mention_id == Mention.get(Mention.remote_id == "2").id
    assert (detail.status, detail.status_reason) == ("escalated", "Moved to phone")
    assert detail.network is Network.MASTODON
    assert detail.display_name == "Rosa García"
    events = [i for i in detail.items if i.kind == "event"]
    assert [e.state for e in events] == [EventKind.DECISION.value]
    assert Inbox().case(999_999) is None
    assert Inbox().person(999_999) is None
