"""A long walk moves to a worker process (``app.core.sync_worker``), over real HTTP to the fake
Mastodon and into a real SQLite file: it stores exactly what the walk in this process stores,
a worker that dies or cannot start leaves the walk to this process without losing or repeating
a mention, network errors reach the account as they would from here, and no worker process
outlives its sync or its parent.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

import app.core.sync as sync
from app.core.accounts import AccountService, AccountView
from app.core.ingest import Ingestor
from app.core.networks.base import NetworkClient
from app.core.networks.mastodon import MastodonClient
from app.core.networks.registry import ClientParams, NetworkEntry, SecretSink
from app.core.policy.engine import PolicyEngine
from app.core.secrets import MemoryKeyring, SecretStore
from app.core.settings import Settings
from app.core.sync import SyncEngine, SyncProgress
from app.core.sync_worker import SyncWorker
from app.core.triage import TriageHook
from app.core.triage_setup import build_triage
from app.core.vocab import Network
from app.storage.db import close_database, open_database
from app.storage.models import Case, CaseEvent, Mention, Person
from tests.fakes.mastodon import TOKEN as MASTODON_TOKEN
from tests.fakes.server import Fault
from tests.helpers.sync_support import (
    ROOT,
    Mastodon,
    check_store,
    cursor_of,
    quick_registry,
    stored_ids,
)

WALK = 700  # 9 pages of 80
HANDOVER = 160  # after two pages here, the worker takes the walk


@pytest.fixture(autouse=True)
def early_handover(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sync, "HANDOVER_AFTER", HANDOVER)


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
        server.add_conversations(WALK)
        yield server


@pytest.fixture
def workers(monkeypatch: pytest.MonkeyPatch) -> list[SyncWorker]:
    """Every worker started, in order."""
    started: list[SyncWorker] = []
    original = SyncWorker.__init__

    def spy(self: SyncWorker, *args: Any) -> None:
        original(self, *args)
        started.append(self)

    monkeypatch.setattr(SyncWorker, "__init__", spy)
    # Its start-up takes ~0.5 s, longer than these walks: wait for it (the app does not).
    ready = SyncWorker.ready

    def patient(self: SyncWorker) -> bool:
        deadline = time.monotonic() + 30
        while not ready(self) and time.monotonic() < deadline:
            time.sleep(0.01)
        return ready(self)

    monkeypatch.setattr(SyncWorker, "ready", patient)
    return started


def add_mastodon(service: AccountService, server: Mastodon) -> AccountView:
    view = service.add_account(
        Network.MASTODON, server.base_url, "", {"access_token": MASTODON_TOKEN}
    )
    sync.Account.update(cursor="0").where(sync.Account.id == view.id).execute()  # catch-up walk
    return view


def engine(service: AccountService, worker: bool = True) -> SyncEngine:
    return SyncEngine(
        service, Ingestor([TriageHook(build_triage(Settings()))]), worker_process=worker
    )


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """What sync stored, without the clock's own columns (when stored, when ranked)."""
    return {
        "person": sorted(
            Person.select(
                Person.network, Person.remote_id, Person.handle, Person.display_name
            ).tuples()
        ),
        "case": sorted(
            Case.select(
                Case.id,
                Case.person,
                Case.conversation_key,
                Case.status,
                Case.mention_count,
                Case.last_snippet,
                Case.first_mention_at,
                Case.last_activity_at,
                Case.why,
            ).tuples()
        ),
        "mention": sorted(
            Mention.select(
                Mention.id,
                Mention.remote_id,
                Mention.author,
                Mention.case,
                Mention.text,
                Mention.markup,
                Mention.url,
                Mention.kind,
                Mention.created_at,
                Mention.in_reply_to_id,
                Mention.conversation_id,
                Mention.sentiment,
                Mention.raw,
            ).tuples()
        ),
        "event": sorted(
            CaseEvent.select(CaseEvent.case, CaseEvent.kind, CaseEvent.detail).tuples()
        ),
    }


def no_worker_left() -> bool:
    return not [p for p in multiprocessing.active_children() if p.name == "kindly-sync-worker"]


def test_a_walk_through_the_worker_stores_the_same_rows_as_in_this_process(
    service: AccountService,
    mastodon: Mastodon,
    workers: list[SyncWorker],
    data_dir: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG, "app.core.sync")
    learnt: list[bool] = []  # the policy's verdicts on texts, worked out by the worker
    learn = PolicyEngine.learn

    def spy(self: PolicyEngine, text: str, verdicts: int, token: str) -> bool:
        learnt.append(learn(self, text, verdicts, token))
        return learnt[-1]

    monkeypatch.setattr(PolicyEngine, "learn", spy)
    account = add_mastodon(service, mastodon)
    here = engine(service, worker=False).sync_account(account.id)
    assert here.ok and here.stored == WALK and workers == []
    expected = snapshot()

    close_database()
    open_database(data_dir / "with-worker.sqlite3")
    account = add_mastodon(service, mastodon)
    moved = engine(service).sync_account(account.id)

    assert moved.ok and moved.stored == WALK and moved.duplicates == 0
    assert len(workers) == 1 and "a worker process reads on" in caplog.text
    assert learnt and all(learnt)  # the same policy: every verdict taken
    assert snapshot() == expected  # the same decisions, priorities and why lines too
    assert Mention.select().where(Mention.sentiment.is_null()).count() == 0  # scored there
    assert cursor_of(account.id) == mastodon.newest_notification()
    assert check_store().sound
    assert no_worker_left()


def test_a_short_walk_never_starts_a_worker(
    service: AccountService, workers: list[SyncWorker]
) -> None:
    with Mastodon() as small:
        small.add_conversations(HANDOVER - 10)  # two pages: the walk ends before a handover
        account = add_mastodon(service, small)
        result = engine(service).sync_account(account.id)
    assert result.ok and result.stored == HANDOVER - 10
    assert workers == []


def _backfilling_mastodon(
    http: httpx.Client, params: ClientParams, secret: Mapping[str, str], sink: SecretSink
) -> NetworkClient:
    return MastodonClient(http, params.base_url, secret["access_token"], backfill=400)


def test_a_first_sync_reading_the_newest_mentions_never_starts_a_worker(
    db_path: Path, http: httpx.Client, mastodon: Mastodon, workers: list[SyncWorker]
) -> None:
    """Its pages carry no cursor until the last (nothing to resume from): no worker."""
    registry = quick_registry()
    registry[Network.MASTODON] = NetworkEntry(
        registry[Network.MASTODON].spec, _backfilling_mastodon
    )
    service = AccountService(SecretStore(MemoryKeyring()), http=http, registry=registry)
    account = service.add_account(
        Network.MASTODON, mastodon.base_url, "", {"access_token": MASTODON_TOKEN}
    )
    result = engine(service).sync_account(account.id)
    assert result.ok and result.stored == 400
    assert workers == []
    assert cursor_of(account.id) == mastodon.newest_notification()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_worker_killed_mid_walk_leaves_the_rest_to_this_process(
    service: AccountService,
    mastodon: Mastodon,
    workers: list[SyncWorker],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    original = SyncWorker.next
    pages = 0

    def kill_after_first_page(self: SyncWorker, timeout: float | None) -> Any:
        nonlocal pages
        page = original(self, timeout)
        pages += 1
        if pages == 1:  # the next call finds the pipe closed
            os.kill(self.pid or 0, signal.SIGKILL)
        return page

    monkeypatch.setattr(SyncWorker, "next", kill_after_first_page)
    account = add_mastodon(service, mastodon)

    result = engine(service).sync_account(account.id)

    assert result.ok and result.stored == WALK and result.duplicates == 0
    assert len(workers) == 1 and pages == 1
    assert "the sync worker stopped" in caplog.text
    assert sorted(stored_ids(account.id)) == sorted(mastodon.mention_ids())
    assert cursor_of(account.id) == mastodon.newest_notification()
    assert check_store().sound
    assert no_worker_left()


def test_a_worker_that_cannot_start_leaves_the_walk_here_with_a_log_line(
    service: AccountService,
    mastodon: Mastodon,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def cannot_start(self: SyncWorker, *args: Any) -> None:
        raise OSError("no more processes")

    monkeypatch.setattr(SyncWorker, "__init__", cannot_start)
    account = add_mastodon(service, mastodon)

    result = engine(service).sync_account(account.id)

    assert result.ok and result.stored == WALK
    assert "no sync worker process; reading on in this process" in caplog.text
    assert sorted(stored_ids(account.id)) == sorted(mastodon.mention_ids())


def test_a_worker_gone_when_handed_the_walk_leaves_it_to_this_process(
    service: AccountService,
    mastodon: Mastodon,
    workers: list[SyncWorker],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def gone(self: SyncWorker, cursor: str) -> None:
        raise BrokenPipeError("the worker exited")

    monkeypatch.setattr(SyncWorker, "walk", gone)
    account = add_mastodon(service, mastodon)

    result = engine(service).sync_account(account.id)

    assert len(workers) == 1 and "the sync worker stopped" in caplog.text
    assert result.ok and result.stored == WALK and result.duplicates == 0
    assert sorted(stored_ids(account.id)) == sorted(mastodon.mention_ids())
    assert no_worker_left()


def test_a_network_error_in_the_worker_fails_the_account_and_keeps_what_was_stored(
    service: AccountService, mastodon: Mastodon, workers: list[SyncWorker]
) -> None:
    account = add_mastodon(service, mastodon)
    # Pages 1-5 answer (2 stored here, up to 3 read ahead and dropped at the handover), then
    # the token is refused: the worker's first or second request meets it.
    mastodon.fail("GET", Mastodon.NOTIFICATIONS, *[Fault.slow(0.0)] * 6, Fault.http_status(401))

    result = engine(service).sync_account(account.id)

    assert len(workers) == 1
    assert result.error and result.reconnect  # an AuthError, as if read here
    assert result.stored >= HANDOVER
    assert Mention.select().count() == result.stored
    assert cursor_of(account.id) == mastodon.notification_ids()[result.stored - 1]
    assert no_worker_left()

    mastodon.fail("GET", Mastodon.NOTIFICATIONS)  # no more faults
    resumed = engine(service).sync_account(account.id)
    assert resumed.ok and resumed.stored == WALK - result.stored and resumed.duplicates == 0
    assert sorted(stored_ids(account.id)) == sorted(mastodon.mention_ids())


def test_cancel_during_the_workers_walk_stops_it(
    service: AccountService, mastodon: Mastodon, workers: list[SyncWorker]
) -> None:
    account = add_mastodon(service, mastodon)
    cancel = threading.Event()

    def cancel_once_the_worker_delivered(step: SyncProgress) -> None:
        if step.fetched >= HANDOVER + 80 and workers:
            cancel.set()

    mastodon.delay("GET", Mastodon.NOTIFICATIONS, 0.05)  # a worker surely takes over
    result = engine(service).sync_account(account.id, cancel, cancel_once_the_worker_delivered)

    assert result.cancelled and result.error is None
    assert HANDOVER + 80 <= result.stored < WALK
    assert Mention.select().count() == result.stored
    assert no_worker_left()


_PARENT = """
import sys, time
import app.core.sync as sync
from app.core.sync_worker import SyncWorker
from app.core.accounts import AccountService
from app.core.secrets import MemoryKeyring, SecretStore
from app.core.vocab import Network
from app.storage.db import open_database
from app.storage.models import Account
from tests.helpers.sync_support import quick_registry

original = SyncWorker.walk

def walk(self, cursor):
    original(self, cursor)
    print(self.pid, flush=True)  # the worker has the walk: the test kills us now
    time.sleep(60)

if __name__ == "__main__":
    sync.HANDOVER_AFTER = 80
    SyncWorker.walk = walk
    open_database(sys.argv[1])
    service = AccountService(SecretStore(MemoryKeyring()), registry=quick_registry())
    view = service.add_account(Network.MASTODON, sys.argv[2], "", {"access_token": sys.argv[3]})
    Account.update(cursor="0").where(Account.id == view.id).execute()
    sync.SyncEngine(service).sync_account(view.id)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie waiting for its reaper counts as gone
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] != "Z"
    except OSError:
        return True


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_the_worker_dies_with_its_parent(mastodon: Mastodon, tmp_path: Path) -> None:
    mastodon.delay("GET", Mastodon.NOTIFICATIONS, 0.2)  # the worker is mid-walk when we kill
    script = tmp_path / "parent.py"
    script.write_text(_PARENT)
    parent = subprocess.Popen(
        [
            sys.executable,
            str(script),
            str(tmp_path / "k.sqlite3"),
            mastodon.base_url,
            MASTODON_TOKEN,
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None
        worker = int(parent.stdout.readline())
        assert alive(worker)
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 10
        while alive(worker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(worker)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        if parent.stdout is not None:
            parent.stdout.close()
