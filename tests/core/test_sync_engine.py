"""SyncEngine with real clients over real HTTP against the fakes, and a real SQLite file.

Each batch is stored with its cursor in one transaction (consecutive batches may share one): a
run stores every new mention once, a second run stores nothing, a newest-first network keeps its
old cursor until the last batch, and one account's failure (or a cancel) keeps what was stored
before it and stops nobody else.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.core.accounts import AccountService, AccountView
from app.core.secrets import MemoryKeyring, SecretStore
from app.core.sync import READ_AHEAD, SyncEngine, SyncProgress
from app.core.vocab import Network
from app.storage.models import Account, Case, Mention
from tests.fakes.bluesky import PASSWORD as BSKY_PASSWORD
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.mastodon import TOKEN as MASTODON_TOKEN
from tests.fakes.server import Fault
from tests.helpers.sync_support import (
    Mastodon,
    X,
    check_store,
    cursor_of,
    quick_registry,
    stored_ids,
)

X_TOKEN = "x-test-token"


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as client:
        yield client


@pytest.fixture
def service(db_path: Path, http: httpx.Client) -> Iterator[AccountService]:
    accounts = AccountService(SecretStore(MemoryKeyring()), http=http, registry=quick_registry())
    yield accounts
    accounts.close()


@pytest.fixture
def mastodon() -> Iterator[Mastodon]:
    with Mastodon() as server:
        yield server


@pytest.fixture
def x() -> Iterator[X]:
    with X() as server:
        yield server


def add_mastodon(service: AccountService, server: Mastodon) -> AccountView:
    return service.add_account(
        Network.MASTODON, server.base_url, "", {"access_token": MASTODON_TOKEN}
    )


def add_x(service: AccountService, server: X) -> AccountView:
    return service.add_account(Network.X, server.base_url, "", {"access_token": X_TOKEN})


def notification_requests(server: Mastodon) -> int:
    return len(server.calls("GET", Mastodon.NOTIFICATIONS))


# -- idempotency ----------------------------------------------------------------------------------


def test_mastodon_twice_stores_every_mention_once_and_moves_the_cursor(
    service: AccountService, mastodon: Mastodon
) -> None:
    mastodon.add_conversations(420)  # 6 pages of 80, every third a reply in a thread
    mastodon.overlap = 7  # each page repeats 7 already-served notifications
    account = add_mastodon(service, mastodon)
    engine = SyncEngine(service)

    first = engine.sync_all()

    assert [r.error for r in first.accounts] == [None]
    assert first.stored == 420
    assert notification_requests(mastodon) >= 6  # it really paged
    assert sorted(stored_ids(account.id)) == sorted(mastodon.mention_ids())
    assert cursor_of(account.id) == mastodon.newest_notification()
    assert Case.select().count() < 420  # threads gathered into cases
    check = check_store()
    assert check.sound, check

    requests_before = notification_requests(mastodon)
    second = engine.sync_all()

    assert second.stored == 0 and second.accounts[0].ok
    assert notification_requests(mastodon) == requests_before + 1  # one look, nothing new
    assert Mention.select().count() == 420
    assert cursor_of(account.id) == mastodon.newest_notification()

    mastodon.add_conversations(25)
    third = engine.sync_all()
    assert third.stored == 25
    assert Mention.select().count() == 445
    assert cursor_of(account.id) == mastodon.newest_notification()
    assert check_store().sound


def test_x_newest_first_keeps_the_old_cursor_until_the_last_batch(
    service: AccountService, x: X
) -> None:
    x.add_conversations(30)
    account = add_x(service, x)
    engine = SyncEngine(service)
    first = engine.sync_all()  # a first sync reads one page: these 30
    assert first.stored == 30
    start = cursor_of(account.id)
    assert start == max(x.expected_ids(), key=int)

    added = x.add_conversations(350)  # 4 pages of 100, newest first
    for tweet_id in added[::50]:
        x.duplicate(tweet_id)  # X repeats some posts across pages
    x.overlap = 3
    cursors_during: list[str | None] = []

    def progress(step: SyncProgress) -> None:
        if not step.done:
            cursors_during.append(cursor_of(account.id))

    second = engine.sync_all(progress=progress)

    assert second.accounts[0].ok, second.accounts[0].error
    assert second.stored == 350
    assert len(cursors_during) >= 4  # several batches...
    assert cursors_during[:-1] == [start] * (len(cursors_during) - 1)  # ...the cursor held back
    newest = max(added, key=int)
    assert cursors_during[-1] == newest == cursor_of(account.id)  # and moved with the last one
    assert sorted(stored_ids(account.id)) == sorted(x.expected_ids())
    assert check_store().sound

    third = engine.sync_all()
    assert third.stored == 0 and third.accounts[0].ok
    assert Mention.select().count() == 380
    assert cursor_of(account.id) == newest


def test_bluesky_newest_first_stores_each_once_and_moves_the_mark_with_the_last_batch(
    service: AccountService,
) -> None:
    with FakeBluesky() as bluesky:
        bluesky.add_mentions(260, authors=30)  # 3 pages of 100, newest first
        bluesky.overlap = 4  # each page repeats 4 notifications of the previous one
        account = service.add_account(
            Network.BLUESKY, bluesky.base_url, "kindlytrust.test", {"app_password": BSKY_PASSWORD}
        )
        engine = SyncEngine(service)
        cursors_during: list[str | None] = []

        def progress(step: SyncProgress) -> None:
            if not step.done:
                cursors_during.append(cursor_of(account.id))

        first = engine.sync_all(progress=progress)

        assert first.accounts[0].ok, first.accounts[0].error
        assert first.stored == 260
        assert len(cursors_during) >= 3
        assert cursors_during[:-1] == [None] * (len(cursors_during) - 1)
        mark = cursor_of(account.id)
        assert mark is not None and cursors_during[-1] == mark
        uris = {n.post_uri for n in bluesky.notifications}  # no request is being served
        assert sorted(stored_ids(account.id)) == sorted(uris)

        second = engine.sync_all()
        assert second.accounts[0].ok and second.stored == 0
        assert cursor_of(account.id) == mark

        bluesky.add_mentions(30, authors=5, text="Later {i}")
        third = engine.sync_all()
        assert third.stored == 30 and cursor_of(account.id) != mark
        assert Mention.select().count() == 290
        assert check_store().sound


def test_a_newest_first_walk_broken_off_is_read_again_without_duplicates(
    service: AccountService, x: X
) -> None:
    x.add_mention("@kindlytrust first")
    account = add_x(service, x)
    engine = SyncEngine(service)
    engine.sync_all()
    start = cursor_of(account.id)
    x.add_conversations(250)
    path = x.mentions_path()

    def fail_after_first_page(step: SyncProgress) -> None:
        if not step.done and step.fetched:
            x.fail("GET", path, *[Fault.http_status(503)] * 4)

    broken = engine.sync_all(progress=fail_after_first_page)

    result = broken.accounts[0]
    assert result.error and "X is having trouble" in result.error
    assert result.stored == 100  # the first page is kept...
    assert cursor_of(account.id) == start  # ...but the high-water mark did not move

    again = engine.sync_all()
    assert again.accounts[0].ok
    assert again.stored == 150
    assert again.accounts[0].duplicates == 100  # the kept page was read again and dropped
    assert sorted(stored_ids(account.id)) == sorted(x.expected_ids())
    assert cursor_of(account.id) == max(x.expected_ids(), key=int)
    assert check_store().sound


# -- failures and cancelling ----------------------------------------------------------------------


def test_one_accounts_failure_is_recorded_on_it_and_stops_no_other(
    service: AccountService, x: X
) -> None:
    with Mastodon() as revoked, Mastodon() as good:
        revoked.add_conversations(5)
        good.add_conversations(90)
        x.add_conversations(12)
        bad_auth = add_mastodon(service, revoked)  # synced first: lower id, same network
        fine = add_mastodon(service, good)
        failing = add_x(service, x)
        revoked.revoke_tokens()
        x.fail("GET", x.mentions_path(), *[Fault.http_status(500)] * 4)

        report = SyncEngine(service).sync_all()

    results = {r.account_id: r for r in report.accounts}
    assert [r.account_id for r in report.accounts] == [bad_auth.id, fine.id, failing.id]

    auth = results[bad_auth.id]
    assert auth.reconnect and auth.stored == 0
    assert auth.error and "Reconnect" in auth.error
    server = results[failing.id]
    assert not server.reconnect and server.stored == 0
    assert server.error and "X is having trouble (HTTP 500)" in server.error
    assert results[fine.id].ok and results[fine.id].stored == 90
    assert [r.account_id for r in report.failed] == [bad_auth.id, failing.id]

    rows = {a.id: a for a in Account.select()}
    assert rows[bad_auth.id].last_error == auth.error and rows[bad_auth.id].last_sync_at is None
    assert rows[failing.id].last_error == server.error and rows[failing.id].last_sync_at is None
    assert rows[fine.id].last_error is None and rows[fine.id].last_sync_at is not None
    assert rows[bad_auth.id].cursor is None and rows[failing.id].cursor is None
    assert Mention.select().where(Mention.account == fine.id).count() == 90

    # fixed: the next run clears the error and stores what was missed, once
    x_again = SyncEngine(service).sync_account(failing.id)
    assert x_again.ok and x_again.stored == 12
    assert Account.get_by_id(failing.id).last_error is None
    assert Account.get_by_id(failing.id).last_sync_at is not None


def test_a_failure_mid_account_keeps_the_committed_batches(
    service: AccountService, mastodon: Mastodon
) -> None:
    mastodon.add_conversations(400)
    account = add_mastodon(service, mastodon)
    engine = SyncEngine(service)
    # The third page fails (every retry): pages are read ahead of storing, so the fault is
    # placed by request, not from the progress of storing.
    two_pages = [Fault.slow(0.0)] * 2  # answered normally
    mastodon.fail("GET", Mastodon.NOTIFICATIONS, *two_pages, *[Fault.http_status(502)] * 4)

    broken = engine.sync_account(account.id)

    assert broken.error and "HTTP 502" in broken.error and not broken.reconnect
    assert broken.stored == 160 and Mention.select().count() == 160
    assert cursor_of(account.id) == mastodon.notification_ids()[159]
    assert Account.get_by_id(account.id).last_error == broken.error

    resumed = engine.sync_account(account.id)
    assert resumed.ok and resumed.stored == 240 and resumed.duplicates == 0
    assert sorted(stored_ids(account.id)) == sorted(mastodon.mention_ids())
    assert Account.get_by_id(account.id).last_error is None
    assert check_store().sound


def test_cancel_stops_between_batches_and_keeps_what_was_committed(
    service: AccountService, mastodon: Mastodon, x: X
) -> None:
    mastodon.add_conversations(300)
    x.add_conversations(10)
    account = add_mastodon(service, mastodon)
    later = add_x(service, x)  # synced after the Mastodon account
    cancel = threading.Event()
    seen: list[SyncProgress] = []

    def cancel_after_first_batch(step: SyncProgress) -> None:
        seen.append(step)
        if step.fetched and not step.done:
            cancel.set()

    report = SyncEngine(service).sync_all(cancel=cancel, progress=cancel_after_first_batch)

    assert [r.account_id for r in report.accounts] == [account.id]  # X not started
    # Pages read ahead while the first was stored are dropped, and none after the cancel.
    assert notification_requests(mastodon) <= 2 + READ_AHEAD
    result = report.accounts[0]
    assert result.cancelled and result.error is None and not result.ok
    assert result.stored == 80 and Mention.select().count() == 80
    assert cursor_of(account.id) == mastodon.notification_ids()[79]  # the committed batch's
    row = Account.get_by_id(account.id)
    assert row.last_sync_at is None and row.last_error is None
    assert seen[-1].done
    assert x.calls("GET", x.mentions_path()) == []

    finished = SyncEngine(service).sync_all()
    assert [r.stored for r in finished.accounts] == [220, 10]
    assert sorted(stored_ids(account.id)) == sorted(mastodon.mention_ids())
    assert sorted(stored_ids(later.id)) == sorted(x.expected_ids())
    assert cursor_of(account.id) == mastodon.newest_notification()
    assert check_store().sound


def test_cancel_on_a_network_that_bills_reads_does_not_ask_for_the_next_page(
    service: AccountService, x: X
) -> None:
    """X bills every read: its pages are not read ahead, so a cancel wastes none."""
    x.add_mention("@kindlytrust first")
    account = add_x(service, x)
    engine = SyncEngine(service)
    engine.sync_all()
    start = cursor_of(account.id)
    x.add_conversations(350)  # 4 pages of 100
    requests_before = len(x.calls("GET", x.mentions_path()))
    cancel = threading.Event()

    def cancel_after_first_batch(step: SyncProgress) -> None:
        if step.fetched and not step.done:
            cancel.set()

    result = engine.sync_account(account.id, cancel, cancel_after_first_batch)

    assert result.cancelled and result.error is None
    assert len(x.calls("GET", x.mentions_path())) == requests_before + 1
    assert result.stored == 100 and cursor_of(account.id) == start  # newest first: held back


def test_an_unreadable_answer_that_breaks_a_client_fails_that_account_only(
    service: AccountService, mastodon: Mastodon, x: X
) -> None:
    """A 200 whose shape the client does not expect (here ``referenced_tweets`` a number)
    makes the X parser raise TypeError; the account records a failure, the rest syncs."""
    x.add_conversations(4)
    mastodon.add_conversations(6)
    broken = add_x(service, x)
    fine = add_mastodon(service, mastodon)
    odd = {
        "data": [{"id": "1460323737035677698", "text": "@kindlytrust hi", "referenced_tweets": 7}]
    }
    x.fail("GET", x.mentions_path(), Fault.http_status(200, body=odd))

    report = SyncEngine(service).sync_all()

    results = {r.account_id: r for r in report.accounts}
    assert set(results) == {broken.id, fine.id}
    assert results[fine.id].ok and results[fine.id].stored == 6
    failed = results[broken.id]
    assert failed.error and not failed.reconnect and failed.stored == 0
    assert "(TypeError)" in failed.error and "try again next time" in failed.error
    assert Account.get_by_id(broken.id).last_error == failed.error
    assert cursor_of(broken.id) is None

    again = SyncEngine(service).sync_account(broken.id)
    assert again.ok and again.stored == 4


def test_calls_made_before_a_failure_are_still_counted(service: AccountService, x: X) -> None:
    """X bills every read: a walk broken off by an error must still add what it read."""
    x.add_mention("@kindlytrust first")
    account = add_x(service, x)
    engine = SyncEngine(service)
    engine.sync_all()
    before = engine.usage.totals(account.id).reads
    x.add_conversations(150)

    def rate_limited_after_first_page(step: SyncProgress) -> None:
        if not step.done and step.fetched:
            x.fail(
                "GET",
                x.mentions_path(),
                Fault.http_status(429, headers={"x-rate-limit-reset": "9999999999"}),
            )

    broken = engine.sync_all(progress=rate_limited_after_first_page)

    assert broken.accounts[0].error and "slow down" in broken.accounts[0].error
    assert engine.usage.totals(account.id).reads >= before + 100  # the page it did read
