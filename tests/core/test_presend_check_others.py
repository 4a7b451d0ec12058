"""The pre-send re-check on Bluesky, X and Facebook, against their fakes over real HTTP (the
Mastodon tests are in test_presend_check.py). A reply that waited is checked before it is
posted: the post was deleted → not sent; the organisation's account already answered it from
outside Kindly → not sent; an earlier attempt of this very reply is there → recorded as SENT
without a second post; nothing changed → sent once. Counting what the fakes created matters."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app.core.accounts import AccountService
from app.core.networks.base import NetworkClient, PostedReply, ReplyRequest
from app.core.networks.bluesky import BlueskyClient
from app.core.networks.facebook import FacebookClient
from app.core.networks.registry import REGISTRY, ClientParams, NetworkEntry, SecretSink
from app.core.networks.x import XClient
from app.core.outbox import Outbox
from app.core.sending import DELETED_MESSAGE, RECHECK_AFTER, Sender
from app.core.sync import SyncEngine
from app.core.vocab import EventKind, Network, ReplyState
from app.storage.models import CaseEvent, Mention, OutboundReply
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.facebook import VERSION as FB_VERSION
from tests.fakes.server import FakeServer, Fault
from tests.helpers.accounts_over_http import connect_bluesky, connect_facebook, connect_x
from tests.helpers.sync_support import Facebook, X, no_sleep, quick_registry

TEXT = "Thank you, we will look into it."
BSKY_CREATE = "/xrpc/com.atproto.repo.createRecord"
CLIENTS: dict[str, type[BlueskyClient | XClient | FacebookClient]] = {
    "bluesky": BlueskyClient,
    "x": XClient,
    "facebook": FacebookClient,
}


def _bluesky(
    http: httpx.Client, params: ClientParams, secret: Mapping[str, str], sink: SecretSink
) -> NetworkClient:
    return BlueskyClient(http, params.base_url, params.handle, dict(secret), sink, sleep=no_sleep)


@pytest.fixture
def client_registry() -> dict[Network, NetworkEntry]:
    """The quick clients, and Bluesky's without its back-off too."""
    entries = quick_registry()
    entries[Network.BLUESKY] = NetworkEntry(REGISTRY[Network.BLUESKY].spec, _bluesky)
    return entries


@dataclass
class Net:
    """One network's fake, connected and synced (two mentions), and how to act on it."""

    name: str
    server: FakeServer

    def delete(self, target: str) -> None:
        if isinstance(self.server, FakeBluesky):
            self.server.delete_post(target)
        elif isinstance(self.server, X):
            self.server.delete_tweet(target)
        else:
            assert isinstance(self.server, Facebook)
            self.server.delete(target)

    def answer_from_outside(self, target: str, text: str = "Answered on the website") -> str:
        """Our account answers ``target`` on the network's own website or app."""
        if isinstance(self.server, FakeBluesky):
            return self.server.add_post(self.server.me.handle, text, reply_to=target).uri
        if isinstance(self.server, X):
            return self.server.add_own_reply(text, in_reply_to=target)
        assert isinstance(self.server, Facebook)
        return self.server.add_comment(target, text, author=self.server.page_id)

    def post_path(self, target: str) -> str:
        if isinstance(self.server, FakeBluesky):
            return BSKY_CREATE
        if isinstance(self.server, X):
            return X.TWEETS
        return f"/{FB_VERSION}/{target}/comments"

    def posts_made(self, target: str) -> int:
        """POST requests that reached the fake for a reply (whatever their answer)."""
        return len(self.server.calls("POST", self.post_path(target)))

    def replies_under(self, target: str) -> list[str]:
        """Ids of our account's replies to ``target`` on the network, however they got there."""
        if isinstance(self.server, FakeBluesky):
            did = self.server.me.did
            return [
                p.uri
                for p in list(self.server.posts.values())
                if p.author == did
                and p.record.get("reply", {}).get("parent", {}).get("uri") == target
            ]
        if isinstance(self.server, X):
            return [t["id"] for t in self.server.replies_to(target)]
        assert isinstance(self.server, Facebook)
        return [
            c["id"]
            for c in self.server.page_comments()
            if c["_parent"] == target or (c["_post"] == target and not c["_parent"])
        ]


def start(name: str, service: AccountService) -> Net:
    server: FakeServer
    if name == "bluesky":
        bluesky = FakeBluesky()
        bluesky.start()
        bluesky.add_mention("ann.example.com", "Hello @kindlytrust.test")
        bluesky.add_mention("bob.example.com", "Are you open today?")
        connect_bluesky(service, bluesky, "kindlytrust.test")
        server = bluesky
    elif name == "x":
        x = X()
        x.start()
        x.add_conversations(2)
        connect_x(service, x)
        server = x
    else:
        facebook = Facebook()
        facebook.start()
        facebook.add_conversations(2)
        connect_facebook(service, facebook)
        server = facebook
    assert SyncEngine(service).sync_all().stored == 2
    return Net(name, server)


@pytest.fixture(params=["bluesky", "x", "facebook"])
def net(request: pytest.FixtureRequest, service: AccountService) -> Iterator[Net]:
    connected = start(request.param, service)
    try:
        yield connected
    finally:
        connected.server.stop()


def queue(text: str = TEXT, waited: bool = True, nth: int = 0) -> int:
    """Queue a reply to a mention; ``waited``: as if queued while offline a while ago."""
    mention = Mention.select().order_by(Mention.id)[nth]
    reply_id = Outbox().queue_reply(mention.case_id, text, mention.id).id
    if waited:
        earlier = datetime.now(UTC) - RECHECK_AFTER - timedelta(minutes=30)
        OutboundReply.update(created_at=earlier).where(OutboundReply.id == reply_id).execute()
    return reply_id


def row(reply_id: int) -> OutboundReply:
    return OutboundReply.get_by_id(reply_id)


def target_of(reply_id: int) -> str:
    return str(Mention.get_by_id(row(reply_id).in_reply_to_id).remote_id)


def failures(reply_id: int) -> list[str]:
    query = CaseEvent.select().where(
        (CaseEvent.case == row(reply_id).case_id) & (CaseEvent.kind == EventKind.REPLY_FAILED.value)
    )
    return [e.detail for e in query.order_by(CaseEvent.id)]


# -- deleted --------------------------------------------------------------------------------------


def test_a_reply_whose_post_was_deleted_while_it_waited_is_not_sent(
    service: AccountService, net: Net
) -> None:
    reply_id = queue()
    target = target_of(reply_id)
    net.delete(target)

    report = Sender(service).send_pending()

    assert report.failed == [reply_id] and report.rechecked == [reply_id]
    reply = row(reply_id)
    assert (reply.state, reply.error) == (ReplyState.FAILED.value, DELETED_MESSAGE)
    assert reply.text == TEXT  # kept
    assert net.posts_made(target) == 0
    assert failures(reply_id) == [f"Reply not sent: {DELETED_MESSAGE}"]


def test_x_deleted_post_answering_404_is_seen_as_deleted(service: AccountService) -> None:
    net = start("x", service)
    try:
        assert isinstance(net.server, X)
        net.server.deleted_as_404 = True
        reply_id = queue()
        net.delete(target_of(reply_id))

        report = Sender(service).send_pending()

        assert report.failed == [reply_id] and row(reply_id).error == DELETED_MESSAGE
        assert net.server.own_posts() == []
    finally:
        net.server.stop()


def test_bluesky_deleted_post_as_a_not_found_node_is_seen_as_deleted(
    service: AccountService,
) -> None:
    net = start("bluesky", service)
    try:
        assert isinstance(net.server, FakeBluesky)
        net.server.deleted_as_node = True
        reply_id = queue()
        net.delete(target_of(reply_id))

        report = Sender(service).send_pending()

        assert report.failed == [reply_id] and row(reply_id).error == DELETED_MESSAGE
        assert net.server.posted == []
    finally:
        net.server.stop()


# -- already answered -----------------------------------------------------------------------------


def test_a_reply_already_answered_from_outside_kindly_is_not_sent(
    service: AccountService, net: Net
) -> None:
    reply_id = queue()
    target = target_of(reply_id)
    colleague = net.answer_from_outside(target)

    report = Sender(service).send_pending()

    assert report.failed == [reply_id] and report.rechecked == [reply_id]
    reply = row(reply_id)
    assert reply.state == ReplyState.FAILED.value and reply.text == TEXT
    assert "already answered this post from outside Kindly" in reply.error
    assert net.posts_made(target) == 0
    assert net.replies_under(target) == [colleague]
    assert Sender(service).send_pending().sent == []  # and it stays that way


def test_the_officer_can_still_send_it_anyway(service: AccountService, net: Net) -> None:
    reply_id = queue()
    target = target_of(reply_id)
    net.answer_from_outside(target)
    assert Sender(service).send_pending().failed == [reply_id]

    report = Sender(service).send_anyway(reply_id)

    assert report.sent == [reply_id] and report.rechecked == []
    assert net.posts_made(target) == 1 and len(net.replies_under(target)) == 2


def test_replies_kindly_itself_sent_to_the_same_post_do_not_count(
    service: AccountService, net: Net
) -> None:
    first = queue("First answer.", waited=False)
    assert Sender(service).send_pending().sent == [first]
    second = queue("And one more thing.")

    report = Sender(service).send_pending()

    assert report.rechecked == [second] and report.sent == [second]
    assert len(net.replies_under(target_of(second))) == 2


# -- our own earlier attempt ----------------------------------------------------------------------


def test_an_earlier_attempt_that_arrived_is_recorded_as_sent_without_a_second_post(
    service: AccountService, net: Net, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The POST got through but its answer was lost, and reading back (which looks only so
    far back) does not find it: the re-check sees our own text under the post."""

    def missed(self: object, request: ReplyRequest) -> PostedReply | None:
        return None

    monkeypatch.setattr(CLIENTS[net.name], "find_posted_reply", missed)
    reply_id = queue(waited=False)
    target = target_of(reply_id)
    net.server.fail("POST", net.post_path(target), Fault.drop_after_handling())
    first = Sender(service).send_pending()
    assert first.waiting == [reply_id] and row(reply_id).state == ReplyState.SENDING.value
    assert len(net.replies_under(target)) == 1  # it did arrive

    report = Sender(service).send_pending()

    assert report.reconciled == [reply_id] and report.rechecked == [reply_id]
    assert not report.failed and not report.sent
    reply = row(reply_id)
    assert reply.state == ReplyState.SENT.value
    assert [reply.remote_id] == net.replies_under(target)
    assert net.posts_made(target) == 1  # the lost one only


def test_an_earlier_attempt_found_by_reading_back_is_not_posted_again(
    service: AccountService, net: Net
) -> None:
    reply_id = queue(waited=False)
    target = target_of(reply_id)
    net.server.fail("POST", net.post_path(target), Fault.drop_after_handling())
    Sender(service).send_pending()

    Sender(service).send_pending()

    assert row(reply_id).state == ReplyState.SENT.value
    assert [row(reply_id).remote_id] == net.replies_under(target)
    assert net.posts_made(target) == 1


# -- nothing changed ------------------------------------------------------------------------------


def test_a_reply_that_waited_and_is_still_wanted_is_checked_then_sent_once(
    service: AccountService, net: Net
) -> None:
    reply_id = queue()
    target = target_of(reply_id)

    report = Sender(service).send_pending()

    assert report.rechecked == [reply_id] and report.sent == [reply_id]
    assert row(reply_id).state == ReplyState.SENT.value
    assert net.replies_under(target) == [row(reply_id).remote_id]
    assert net.posts_made(target) == 1


def test_a_reply_that_goes_out_at_once_is_not_checked_first(
    service: AccountService, net: Net
) -> None:
    reply_id = queue(waited=False)

    report = Sender(service).send_pending()

    assert report.sent == [reply_id] and report.rechecked == []


def test_x_check_costs_two_reads(service: AccountService) -> None:
    net = start("x", service)
    try:
        assert isinstance(net.server, X)
        reply_id = queue()
        target = target_of(reply_id)
        before = len(net.server.requests)

        assert Sender(service).send_pending().sent == [reply_id]

        gets = [r for r in net.server.requests[before:] if r.method == "GET"]
        assert [r.path for r in gets] == [
            f"/2/tweets/{target}",
            f"/2/users/{net.server.me}/tweets",
        ]
    finally:
        net.server.stop()
