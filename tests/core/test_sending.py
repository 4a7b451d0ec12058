"""The outbox sends each reply at most once, whatever goes wrong, against the fakes over HTTP.

Mastodon has idempotency keys; X has none, so a reply whose answer was lost is settled only
by reading our own posts back (``find_posted_reply``). Every test counts the posts the fake
actually created: that is the only number that matters to the person being answered.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.accounts import AccountService, AccountView
from app.core.networks.base import NetworkClient
from app.core.outbox import Outbox, ReplyRefused
from app.core.secrets import SecretStore
from app.core.sender_lock import BUSY_MESSAGE, SenderLock, lock_path_for
from app.core.sending import Sender, SendReport
from app.core.sync import SyncEngine
from app.core.vocab import EventKind, ReplyState
from app.storage.models import CaseEvent, Mention, OutboundReply
from tests.fakes.facebook import VERSION as FB_VERSION
from tests.fakes.mastodon import TOKEN as MASTODON_TOKEN
from tests.fakes.server import FakeServer, Fault, Request, Response
from tests.helpers import keyring_session
from tests.helpers.accounts_over_http import (
    X_TOKEN,
    connect_facebook,
    connect_mastodon,
    connect_x,
)
from tests.helpers.keyring_session import PrivateSecretService
from tests.helpers.sync_support import (
    Facebook,
    Mastodon,
    X,
    kill,
    quick_registry,
    run_kindly,
    start_kindly,
)

secret_service = keyring_session.secret_service  # fixtures: a keyring a child process can read
shared_secrets = keyring_session.shared_secrets


Server = Mastodon | X | Facebook


@dataclass
class Net:
    """One network under test: its fake and the connected account."""

    name: str
    server: Server
    account: AccountView
    post_attempts: int  # POSTs per send: Mastodon retries (same key); X and Facebook never do

    def posts(self) -> list[str]:
        """Ids of the replies the fake created for us, in order."""
        if isinstance(self.server, Mastodon):
            return list(self.server.posted)
        if isinstance(self.server, X):
            return [t["id"] for t in self.server.own_posts()]
        return [c["id"] for c in self.server.page_comments()]

    def reply_path(self, reply_id: int) -> str:
        """Where the reply is POSTed (on Facebook: under the comment it answers)."""
        if isinstance(self.server, Mastodon):
            return Mastodon.STATUSES
        if isinstance(self.server, X):
            return X.TWEETS
        raw = Mention.get_by_id(reply(reply_id).in_reply_to_id).raw or {}
        target = (raw.get("parent") or {}).get("id") or raw["id"]
        return f"/{FB_VERSION}/{target}/comments"

    def post_calls(self) -> int:
        return sum(1 for r in self.server.requests if r.method == "POST" and self._posting(r.path))

    def _posting(self, path: str) -> bool:
        if isinstance(self.server, Mastodon):
            return path == Mastodon.STATUSES
        if isinstance(self.server, X):
            return path == X.TWEETS
        return path.endswith("/comments")

    def sign_out(self) -> None:
        if isinstance(self.server, Mastodon):
            self.server.revoke_tokens()
        else:
            self.server.expire_token()

    def sign_in_again(self) -> None:
        if isinstance(self.server, Mastodon):
            self.server.tokens.add(MASTODON_TOKEN)
        elif isinstance(self.server, X):
            self.server.token = X_TOKEN
        else:
            self.server.token = Facebook.TOKEN


def start_network(name: str) -> Server:
    server: Server = {"mastodon": Mastodon, "x": X, "facebook": Facebook}[name]()
    server.start()
    server.add_conversations(3)
    return server


def connect(service: AccountService, server: Server) -> Net:
    if isinstance(server, Mastodon):
        return Net("mastodon", server, connect_mastodon(service, server), 4)
    if isinstance(server, X):
        return Net("x", server, connect_x(service, server), 1)
    return Net("facebook", server, connect_facebook(service, server), 1)


@pytest.fixture(params=["mastodon", "x", "facebook"])
def net(request: pytest.FixtureRequest, service: AccountService) -> Iterator[Net]:
    server = start_network(request.param)
    try:
        connected = connect(service, server)
        assert SyncEngine(service).sync_all().stored == 3
        yield connected
    finally:
        server.stop()


def queue(text: str = "Thank you, we will look into it.", nth: int = 0) -> int:
    mention = Mention.select().order_by(Mention.id)[nth]
    return Outbox().queue_reply(mention.case_id, text, mention.id).id


def reply(reply_id: int) -> OutboundReply:
    return OutboundReply.get_by_id(reply_id)


def events(reply_id: int, kind: EventKind) -> list[str]:
    case_id = reply(reply_id).case_id
    query = CaseEvent.select().where((CaseEvent.case == case_id) & (CaseEvent.kind == kind.value))
    return [e.detail for e in query]


# -- lost answers ---------------------------------------------------------------------------------


def test_answer_lost_after_posting_stays_sending_then_is_read_back_not_posted_again(
    service: AccountService, net: Net
) -> None:
    reply_id = queue()
    net.server.fail(
        "POST", net.reply_path(reply_id), *[Fault.drop_after_handling()] * net.post_attempts
    )

    first = Sender(service).send_pending()

    assert first.waiting == [reply_id] and not first.sent
    assert reply(reply_id).state == ReplyState.SENDING.value
    assert reply(reply_id).error  # the person sees why it is still going
    assert len(net.posts()) == 1  # the network did post it
    calls = net.post_calls()

    second = Sender(service).send_pending()

    assert second.reconciled == [reply_id] and not second.sent
    row = reply(reply_id)
    assert row.state == ReplyState.SENT.value and row.error is None
    assert net.posts() == [row.remote_id]  # one post, and it is the one recorded
    assert net.post_calls() == calls  # no second POST
    assert events(reply_id, EventKind.REPLY_SENT) == ["Reply sent (confirmed by reading back)"]
    assert Sender(service).send_pending().sent == []


def test_server_errors_are_retried_later_never_doubled(service: AccountService, net: Net) -> None:
    reply_id = queue()
    net.server.fail("POST", net.reply_path(reply_id), *[Fault.http_status(503)] * net.post_attempts)

    first = Sender(service).send_pending()

    assert first.waiting == [reply_id]
    assert reply(reply_id).state == ReplyState.SENDING.value
    assert "HTTP 503" in (reply(reply_id).error or "")
    assert net.posts() == []

    second = Sender(service).send_pending()

    assert second.sent == [reply_id]
    assert reply(reply_id).state == ReplyState.SENT.value
    assert net.posts() == [reply(reply_id).remote_id]


def test_offline_replies_stay_queued_and_go_when_the_network_is_back(
    service: AccountService, net: Net
) -> None:
    first_id, second_id = queue("First answer", 0), queue("Second answer", 1)
    net.server.stop()

    offline = Sender(service).send_pending()

    assert offline.waiting == [first_id, second_id]
    assert "Could not reach" in offline.errors[first_id]
    assert reply(first_id).state == ReplyState.SENDING.value  # tried: read back before retrying
    assert reply(second_id).state == ReplyState.QUEUED.value  # not tried while offline
    assert Outbox().queued_count() == 2

    net.server.start()  # back, on the same address
    back = Sender(service).send_pending()

    assert back.sent == [first_id, second_id]
    assert {reply(first_id).state, reply(second_id).state} == {ReplyState.SENT.value}
    assert net.posts() == [reply(first_id).remote_id, reply(second_id).remote_id]
    assert Outbox().queued_count() == 0


def test_signed_out_during_read_back_keeps_the_reply_sending(
    service: AccountService, net: Net
) -> None:
    """The first attempt may have been posted: refusing it now must not make it editable and
    sendable again as a new reply (a second post); it waits until the account is reconnected."""
    reply_id = queue()
    net.server.fail(
        "POST", net.reply_path(reply_id), *[Fault.drop_after_handling()] * net.post_attempts
    )
    Sender(service).send_pending()
    assert len(net.posts()) == 1
    net.sign_out()

    signed_out = Sender(service).send_pending()

    assert signed_out.waiting == [reply_id] and not signed_out.failed
    assert "Reconnect" in signed_out.errors[reply_id]
    assert reply(reply_id).state == ReplyState.SENDING.value
    with pytest.raises(ReplyRefused):
        Outbox().edit_failed(reply_id, "Something else")

    net.sign_in_again()
    back = Sender(service).send_pending()

    assert back.reconciled == [reply_id]
    assert net.posts() == [reply(reply_id).remote_id]


# -- network specifics ----------------------------------------------------------------------------


@pytest.fixture
def mastodon(service: AccountService) -> Iterator[Net]:
    server = start_network("mastodon")
    try:
        connected = connect(service, server)
        SyncEngine(service).sync_all()
        yield connected
    finally:
        server.stop()


@pytest.fixture
def x(service: AccountService) -> Iterator[Net]:
    server = start_network("x")
    try:
        connected = connect(service, server)
        SyncEngine(service).sync_all()
        yield connected
    finally:
        server.stop()


def test_mastodon_retry_that_read_back_misses_is_absorbed_by_the_idempotency_key(
    service: AccountService, mastodon: Net
) -> None:
    server = mastodon.server
    assert isinstance(server, Mastodon)
    reply_id = queue()
    server.fail("POST", Mastodon.STATUSES, *[Fault.drop_after_handling()] * 4)
    Sender(service).send_pending()
    [posted] = mastodon.posts()
    for n in range(90):  # a busy account: the reply is past what read-back looks through
        server.add_own_status(f"Newer post {n}")

    again = Sender(service).send_pending()

    # The pre-send re-check reads the post's replies and finds this one there (same text), so
    # it is recorded as sent without a second POST; had it not, the same Idempotency-Key would
    # have made the retry return the same status. Either way: one post, and it is recorded.
    assert again.reconciled == [reply_id] and not again.sent
    assert mastodon.posts() == [posted] == [reply(reply_id).remote_id]
    keys = {r.headers["idempotency-key"] for r in server.calls("POST", Mastodon.STATUSES)}
    assert keys == {reply(reply_id).idempotency_key}


def test_x_timeout_after_posting_is_read_back_not_posted_again(
    service: AccountService, x: Net
) -> None:
    reply_id = queue()
    x.server.fail("POST", X.TWEETS, Fault.slow(1.5))  # posts, then answers after the timeout

    first = Sender(service).send_pending()

    assert first.waiting == [reply_id]
    assert "did not answer in time" in first.errors[reply_id]
    assert reply(reply_id).state == ReplyState.SENDING.value
    assert len(x.posts()) == 1

    second = Sender(service).send_pending()
    assert second.reconciled == [reply_id]
    assert x.posts() == [reply(reply_id).remote_id]
    assert x.post_calls() == 1


def test_refused_reply_fails_keeping_text_and_reason_then_edited_it_is_sent_once(
    service: AccountService, mastodon: Net
) -> None:
    too_long = "We hear you. " * 40  # 520 characters: over Mastodon's 500
    reply_id = queue(too_long)

    refused = Sender(service).send_pending()

    assert refused.failed == [reply_id]
    row = reply(reply_id)
    assert row.state == ReplyState.FAILED.value
    assert row.text == too_long.strip()
    assert row.error == refused.errors[reply_id]
    assert "character limit of 500" in row.error
    assert events(reply_id, EventKind.REPLY_FAILED) == [f"Reply not sent: {row.error}"]
    assert mastodon.posts() == []
    assert Sender(service).send_pending().failed == []  # a failed reply is not retried alone

    Outbox().edit_failed(reply_id, "We hear you, and we are on it.")
    assert reply(reply_id).state == ReplyState.QUEUED.value

    sent = Sender(service).send_pending()

    assert sent.sent == [reply_id]
    assert mastodon.posts() == [reply(reply_id).remote_id]
    server = mastodon.server
    assert isinstance(server, Mastodon)
    [status] = server.posted_replies()
    assert "We hear you, and we are on it." in status["content"]


def test_x_reply_to_a_deleted_post_fails_with_the_reason(service: AccountService, x: Net) -> None:
    reply_id = queue()
    server = x.server
    assert isinstance(server, X)
    target = Mention.get_by_id(reply(reply_id).in_reply_to_id).remote_id
    del server.tweets[target]

    report = Sender(service).send_pending()

    assert report.failed == [reply_id]
    assert "deleted" in (reply(reply_id).error or "")
    assert reply(reply_id).text == "Thank you, we will look into it."
    assert x.posts() == []


# -- a crash between the POST and recording its result (a real process, killed) ------------------


def connect_for_children(server: Server, secrets: SecretStore) -> Net:
    """Connect the account with its secret where a child ``python main.py`` can read it, and
    fetch the mentions to reply to."""
    with httpx.Client(timeout=5.0) as http:
        accounts = AccountService(secrets, http=http)
        net = connect(accounts, server)
        SyncEngine(accounts).sync_all()
    return net


@pytest.mark.keyring
@pytest.mark.parametrize("name", ["mastodon", "x", "facebook"])
def test_killed_between_post_and_record_the_restart_posts_nothing_more(
    name: str,
    data_dir: Path,
    db_path: Path,
    secret_service: PrivateSecretService,
    shared_secrets: SecretStore,
) -> None:
    server = start_network(name)
    try:
        net = connect_for_children(server, shared_secrets)
        reply_id = queue()
        held = server.hold(
            "POST", net.reply_path(reply_id)
        )  # the post is made; the answer never leaves

        child = start_kindly(data_dir, secret_service.env, "sync")
        try:
            assert held.handled.wait(30), "the child never posted"
            assert reply(reply_id).state == ReplyState.SENDING.value  # committed before the POST
            assert reply(reply_id).attempts == 1
            lock = SenderLock(lock_path_for(db_path))
            assert not lock.acquire() and f"pid {child.pid}" in lock.holder()  # the child's
        finally:
            kill(child)
            held.release.set()
        assert child.returncode == -9
        assert reply(reply_id).state == ReplyState.SENDING.value
        assert lock.acquire(), "a killed sender still holds the lock"  # the OS let it go
        lock.release()
        [posted] = net.posts()

        restarted = run_kindly(data_dir, secret_service.env, "sync")

        assert restarted.returncode == 0, restarted.stdout + restarted.stderr
        assert "Replies: 1 sent, 0 failed, 0 still queued" in restarted.stdout
        row = reply(reply_id)
        assert row.state == ReplyState.SENT.value and row.remote_id == posted
        assert net.posts() == [posted]
        assert net.post_calls() == 1
        assert events(reply_id, EventKind.REPLY_SENT) == ["Reply sent (confirmed by reading back)"]
    finally:
        server.stop()


# -- two senders at once (the desktop app's timer and a scheduled ``kindly sync``) ---------------
# The sender lock keeps them apart; the row claim below it is tested with the lock out of the way
# (as on a shared folder whose file system cannot lock), then the lock itself.


class Unlocked(Sender):
    """A sender that does not take the cross-process lock: only the row claim guards it."""

    def exclusive(self) -> contextlib.AbstractContextManager[object]:
        return contextlib.nullcontext()


class SendsMeanwhile(AccountService):
    """Runs ``meanwhile`` (another sender) once, after this sender has read the reply and
    before it posts it: the moment a second process can act on the same row."""

    def __init__(self, meanwhile: Callable[[], object], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.meanwhile: Callable[[], object] | None = meanwhile

    def client_for(self, account: AccountView | int) -> NetworkClient:
        if self.meanwhile is not None:
            run, self.meanwhile = self.meanwhile, None
            run()
        return super().client_for(account)


def test_a_reply_another_sender_sent_meanwhile_is_not_posted_again(
    service: AccountService, http: httpx.Client, net: Net
) -> None:
    reply_id = queue()
    other = Unlocked(service)
    slow = SendsMeanwhile(other.send_pending, service.store, http=http, registry=quick_registry())

    report = Unlocked(slow).send_pending()

    assert report.sent == [] and report.reconciled == []
    assert reply(reply_id).state == ReplyState.SENT.value
    assert net.posts() == [reply(reply_id).remote_id]
    assert events(reply_id, EventKind.REPLY_SENT) == ["Reply sent"]


def test_a_reply_two_senders_read_back_at_once_is_posted_once(
    service: AccountService, http: httpx.Client, net: Net
) -> None:
    """After a lost answer both find nothing posted yet (here the lost POST was refused):
    only the one that marks it SENDING again first may post it."""
    reply_id = queue()
    net.server.fail("POST", net.reply_path(reply_id), *[Fault.http_status(503)] * net.post_attempts)
    Sender(service).send_pending()
    assert reply(reply_id).state == ReplyState.SENDING.value and net.posts() == []
    attempts = reply(reply_id).attempts

    class ReadsBackMeanwhile(Unlocked):
        def _mark_sending(self, *args: Any, **kwargs: Any) -> Any:
            Unlocked(service).send_pending()  # the other process wins the race
            return super()._mark_sending(*args, **kwargs)

    report = ReadsBackMeanwhile(service).send_pending()

    assert report.sent == []
    assert net.posts() == [reply(reply_id).remote_id]
    assert reply(reply_id).attempts == attempts + 1


def test_a_second_sender_while_one_is_sending_skips_the_round(
    service: AccountService, http: httpx.Client, net: Net
) -> None:
    """The second sender starts while the first holds the lock (between reading the reply and
    posting it): it tries nothing, says why, and leaves the reply to the first."""
    reply_id = queue()
    inner: list[SendReport] = []
    other = Sender(service)
    slow = SendsMeanwhile(
        lambda: inner.append(other.send_pending()),
        service.store,
        http=http,
        registry=quick_registry(),
    )

    report = Sender(slow).send_pending()

    [skipped] = inner
    assert skipped.busy == BUSY_MESSAGE
    assert skipped.waiting == [reply_id] and not skipped.sent and not skipped.errors
    assert report.sent == [reply_id] and not report.busy
    assert net.posts() == [reply(reply_id).remote_id]
    assert net.post_calls() == 1
    assert reply(reply_id).error is None  # skipping wrote nothing on the reply


def test_the_lock_is_free_after_a_round_even_one_that_crashed(
    service: AccountService, http: httpx.Client, net: Net, db_path: Path
) -> None:
    queue()

    class Breaks(AccountService):
        def client_for(self, account: AccountView | int) -> NetworkClient:
            raise RuntimeError("unexpected")

    broken = Breaks(service.store, http=http, registry=quick_registry())
    with pytest.raises(RuntimeError):
        Sender(broken).send_pending()

    lock = SenderLock(lock_path_for(db_path))
    assert lock.acquire()  # nobody holds it any more
    lock.release()
    assert Sender(service).send_pending().sent


def test_send_anyway_while_another_sends_changes_nothing(
    service: AccountService, net: Net, db_path: Path
) -> None:
    reply_id = queue()
    OutboundReply.update(state=ReplyState.FAILED.value, error="held back").where(
        OutboundReply.id == reply_id
    ).execute()
    decisions = len(events(reply_id, EventKind.DECISION))

    with SenderLock(lock_path_for(db_path)):  # another process is sending
        report = Sender(service).send_anyway(reply_id)

    assert report.busy == BUSY_MESSAGE and report.waiting == [reply_id]
    assert reply(reply_id).state == ReplyState.FAILED.value  # the officer can simply try again
    assert len(events(reply_id, EventKind.DECISION)) == decisions
    assert net.posts() == []

    assert Sender(service).send_anyway(reply_id).sent == [reply_id]
    assert net.posts() == [reply(reply_id).remote_id]


# -- two real processes at once -------------------------------------------------------------------


class Gate:
    """Holds one request *before* the fake acts on it until ``release`` is set: the reply is
    in flight and not posted yet, so reading back finds nothing (the double-post window)."""

    def __init__(self, method: str, path: str) -> None:
        self.method, self.path = method, path
        self.arrived = threading.Event()
        self.release = threading.Event()


class GateMixin(FakeServer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.gates: list[Gate] = []

    def gate(self, method: str, path: str) -> Gate:
        gate = Gate(method, path)
        self.gates.append(gate)
        return gate

    def _route(self, request: Request) -> Response:
        for gate in self.gates:
            if (gate.method, gate.path) == (request.method, request.path):
                if not gate.arrived.is_set():
                    gate.arrived.set()
                    gate.release.wait(30)
                break
        return super()._route(request)

    def stop(self) -> None:
        for gate in self.gates:
            gate.release.set()
        super().stop()


class GatedX(GateMixin, X):
    pass


class GatedFacebook(GateMixin, Facebook):
    pass


@pytest.mark.keyring
@pytest.mark.parametrize("name", ["x", "facebook"])
def test_two_kindly_processes_sending_at_once_post_the_reply_once(
    name: str,
    data_dir: Path,
    db_path: Path,
    secret_service: PrivateSecretService,
    shared_secrets: SecretStore,
) -> None:
    """``kindly sync`` from cron while another is mid-POST (no idempotency key on these
    networks): without the lock the second reads back, finds nothing yet and posts again."""
    server: GatedX | GatedFacebook = {"x": GatedX, "facebook": GatedFacebook}[name]()
    server.start()
    server.add_conversations(3)
    try:
        net = connect_for_children(server, shared_secrets)
        reply_id = queue()
        gate = server.gate("POST", net.reply_path(reply_id))

        first = start_kindly(data_dir, secret_service.env, "sync")
        try:
            assert gate.arrived.wait(30), "the first process never posted"
            assert reply(reply_id).state == ReplyState.SENDING.value

            second = run_kindly(data_dir, secret_service.env, "sync")

            assert second.returncode == 0, second.stdout + second.stderr
            assert "Replies: 0 sent, 0 failed, 1 still queued" in second.stdout
            assert BUSY_MESSAGE in second.stdout
            assert net.post_calls() == 1  # the first process's, still held; no second POST
            gate.release.set()
            out, err = first.communicate(timeout=60)
        finally:
            kill(first)
        assert first.returncode == 0, out + err
        assert "Replies: 1 sent, 0 failed, 0 still queued" in out
        assert net.post_calls() == 1
        assert net.posts() == [reply(reply_id).remote_id]
        assert reply(reply_id).state == ReplyState.SENT.value
    finally:
        server.stop()
