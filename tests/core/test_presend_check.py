"""The pre-send re-check, against the fake Mastodon over real HTTP: a reply that waited (Kindly
was offline) is checked against what changed before it is posted. The post was deleted → not
sent; someone already answered from the organisation's account → not sent twice, unless the
officer sends it anyway. Counting the posts the fake created is what matters."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from app.core.accounts import AccountService
from app.core.networks.base import (
    MentionBatch,
    NetworkClient,
    PostedReply,
    RemotePerson,
    ReplyRequest,
)
from app.core.networks.registry import NetworkEntry
from app.core.outbox import Outbox
from app.core.secrets import MemoryKeyring, SecretStore
from app.core.sending import DELETED_MESSAGE, RECHECK_AFTER, Sender
from app.core.sync import SyncEngine
from app.core.vocab import EventKind, Network, ReplyState
from app.storage.models import CaseEvent, Mention, OutboundReply
from tests.helpers.accounts_over_http import connect_mastodon, connect_x
from tests.helpers.sync_support import Mastodon, X, quick_registry


@pytest.fixture
def mastodon(service: AccountService) -> Iterator[Mastodon]:
    server = Mastodon()
    server.start()
    try:
        server.add_conversations(2)
        connect_mastodon(service, server)
        assert SyncEngine(service).sync_all().stored == 2
        yield server
    finally:
        server.stop()


def queue(text: str = "Thank you, we will look into it.", waited: bool = True, nth: int = 0) -> int:
    """Queue a reply to a mention; ``waited``: as if queued while offline a while ago."""
    mention = Mention.select().order_by(Mention.id)[nth]
    reply_id = Outbox().queue_reply(mention.case_id, text, mention.id).id
    if waited:
        earlier = datetime.now(UTC) - RECHECK_AFTER - timedelta(minutes=30)
        OutboundReply.update(created_at=earlier).where(OutboundReply.id == reply_id).execute()
    return reply_id


def target_of(reply_id: int) -> str:
    reply = OutboundReply.get_by_id(reply_id)
    return str(Mention.get_by_id(reply.in_reply_to_id).remote_id)


def row(reply_id: int) -> OutboundReply:
    return OutboundReply.get_by_id(reply_id)


def checks(server: Mastodon, status_id: str) -> int:
    return len(server.calls("GET", f"/api/v1/statuses/{status_id}"))


def events(reply_id: int, kind: EventKind) -> list[str]:
    query = CaseEvent.select().where(
        (CaseEvent.case == row(reply_id).case_id) & (CaseEvent.kind == kind.value)
    )
    return [e.detail for e in query.order_by(CaseEvent.id)]


# -- deleted --------------------------------------------------------------------------------------


def test_a_reply_whose_post_was_deleted_while_it_waited_is_not_sent(
    service: AccountService, mastodon: Mastodon
) -> None:
    reply_id = queue()
    mastodon.delete_status(target_of(reply_id))

    report = Sender(service).send_pending()

    assert report.failed == [reply_id] and report.rechecked == [reply_id]
    reply = row(reply_id)
    assert (reply.state, reply.error) == (ReplyState.FAILED.value, DELETED_MESSAGE)
    assert reply.text == "Thank you, we will look into it."  # kept
    assert mastodon.posted == []
    assert mastodon.calls("POST", Mastodon.STATUSES) == []
    assert events(reply_id, EventKind.REPLY_FAILED) == [f"Reply not sent: {DELETED_MESSAGE}"]


def test_offline_then_back_after_the_post_was_deleted_meanwhile(
    service: AccountService, mastodon: Mastodon
) -> None:
    reply_id = queue(waited=False)  # queued just now, then the connection drops
    mastodon.stop()
    first = Sender(service).send_pending()
    assert first.waiting == [reply_id] and first.offline
    assert row(reply_id).error  # it says why it is still waiting
    mastodon.delete_status(target_of(reply_id))
    mastodon.start()

    second = Sender(service).send_pending()

    assert second.failed == [reply_id] and not second.offline
    assert row(reply_id).state == ReplyState.FAILED.value
    assert mastodon.posted == []


def test_replies_held_back_by_the_outage_are_checked_when_it_is_over(
    service: AccountService, mastodon: Mastodon
) -> None:
    first, second = queue(waited=False), queue("See you there.", waited=False, nth=1)
    mastodon.stop()
    report = Sender(service).send_pending()
    assert report.waiting == [first, second] and report.offline
    assert row(second).state == ReplyState.QUEUED.value and row(second).error  # held back
    mastodon.delete_status(target_of(second))
    mastodon.start()

    back = Sender(service).send_pending()

    assert back.sent == [first] and back.failed == [second]
    assert row(second).error == DELETED_MESSAGE
    assert len(mastodon.posted) == 1


# -- already answered -----------------------------------------------------------------------------


def test_a_reply_already_answered_from_the_website_is_not_sent_twice(
    service: AccountService, mastodon: Mastodon
) -> None:
    reply_id = queue()
    colleague = mastodon.add_own_status("Answered on the web", in_reply_to=target_of(reply_id))

    report = Sender(service).send_pending()

    assert report.failed == [reply_id]
    reply = row(reply_id)
    assert reply.state == ReplyState.FAILED.value
    assert "already answered this post from outside Kindly" in reply.error
    assert colleague.id in reply.error  # the link to the answer found
    assert mastodon.posted == []
    assert Sender(service).send_pending().sent == []  # and it stays that way


def test_offline_then_back_after_a_colleague_answered_meanwhile(
    service: AccountService, mastodon: Mastodon
) -> None:
    reply_id = queue(waited=False)
    mastodon.stop()
    assert Sender(service).send_pending().offline
    assert row(reply_id).state == ReplyState.SENDING.value  # not known whether it arrived
    mastodon.add_own_status("Answered on the web", in_reply_to=target_of(reply_id))
    mastodon.start()

    report = Sender(service).send_pending()

    assert report.failed == [reply_id] and not report.sent
    assert mastodon.posted == []  # one answer on the network: the colleague's


def test_the_officer_can_send_it_anyway_and_that_decision_is_recorded(
    service: AccountService, mastodon: Mastodon
) -> None:
    reply_id = queue()
    mastodon.add_own_status("Answered on the web", in_reply_to=target_of(reply_id))
    assert Sender(service).send_pending().failed == [reply_id]

    report = Sender(service).send_anyway(reply_id)

    assert report.sent == [reply_id] and report.rechecked == []
    assert row(reply_id).state == ReplyState.SENT.value
    assert mastodon.posted == [row(reply_id).remote_id]
    assert events(reply_id, EventKind.DECISION)[-1].startswith("Send the reply anyway")
    assert Sender(service).send_anyway(reply_id).sent == []  # a sent reply is not sent again


def test_replies_kindly_itself_sent_to_the_same_post_do_not_count(
    service: AccountService, mastodon: Mastodon
) -> None:
    first = queue("First answer.", waited=False)
    assert Sender(service).send_pending().sent == [first]
    second = queue("And one more thing.")

    report = Sender(service).send_pending()

    assert report.rechecked == [second] and report.sent == [second]
    assert len(mastodon.posted) == 2


# -- when the check runs --------------------------------------------------------------------------


def test_a_reply_that_goes_out_at_once_is_not_checked_first(
    service: AccountService, mastodon: Mastodon
) -> None:
    reply_id = queue(waited=False)

    report = Sender(service).send_pending()

    assert report.sent == [reply_id] and report.rechecked == []
    assert checks(mastodon, target_of(reply_id)) == 0
    assert len(mastodon.posted) == 1


def test_a_reply_that_waited_and_is_still_wanted_is_checked_then_sent_once(
    service: AccountService, mastodon: Mastodon
) -> None:
    reply_id = queue()

    report = Sender(service).send_pending()

    assert report.rechecked == [reply_id] and report.sent == [reply_id]
    assert checks(mastodon, target_of(reply_id)) == 1
    assert len(mastodon.calls("GET", f"/api/v1/statuses/{target_of(reply_id)}/context")) == 1
    assert len(mastodon.posted) == 1


class _WithoutCheck:
    """A network client that cannot tell whether a post still exists (no ``target_status``):
    the real X client's protocol methods, and nothing else."""

    def __init__(self, inner: NetworkClient) -> None:
        self.inner = inner
        self.network = inner.network

    def verify(self) -> RemotePerson:
        return self.inner.verify()

    def fetch_mentions(self, cursor: str | None) -> Iterator[MentionBatch]:
        return self.inner.fetch_mentions(cursor)

    def post_reply(self, request: ReplyRequest) -> PostedReply:
        return self.inner.post_reply(request)

    def find_posted_reply(self, request: ReplyRequest) -> PostedReply | None:
        return self.inner.find_posted_reply(request)


def test_a_network_without_the_check_sends_as_before(db_path: Path, http: httpx.Client) -> None:
    registry = quick_registry()
    x_entry = registry[Network.X]
    registry[Network.X] = NetworkEntry(
        x_entry.spec, lambda *args: _WithoutCheck(x_entry.factory(*args))
    )
    service = AccountService(SecretStore(MemoryKeyring()), http=http, registry=registry)
    with X() as server:
        server.add_conversations(1)
        connect_x(service, server)
        assert SyncEngine(service).sync_all().stored == 1
        reply_id = queue()

        report = Sender(service).send_pending()

        assert report.sent == [reply_id] and report.rechecked == []
        assert len(server.own_posts()) == 1
