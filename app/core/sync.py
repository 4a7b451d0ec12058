"""Pull new mentions for every account and store them with their cursor.

A batch and the cursor that covers it are committed together, so a sync killed at any moment
and run again neither loses nor repeats a mention (ingest also ignores what is stored). Several
consecutive batches may share one transaction (a group, with the cursor of its last batch):
committing every 80-mention page capped storing at about half of what SQLite does in one
transaction. A group is committed once it is ``COMMIT_INTERVAL`` old or holds
``COMMIT_MENTIONS``, while waiting on a slow network, at the end, on cancel, and before an error
is reported: what was stored before the error stays stored, with its cursor, and only the batch
that failed is rolled back (each batch has its own savepoint).

While a page is stored, the next ones are fetched, parsed and prepared elsewhere, except on
networks that bill every read (a page read ahead is wasted when the run is cancelled): first in
a worker thread, and once a walk proves long (``HANDOVER_AFTER`` mentions) in a worker process
(``sync_worker``), which resumes the walk from the cursor of the last page handed over. Two
threads of one interpreter take turns rather than run side by side, a process runs on the other
core; a short sync never waits for a process to start. Should the worker fail to start or die,
the walk goes on in this process from the last cursor. One account's failure is recorded on
that account and does not stop the others.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple

from app.core.accounts import AccountError, AccountService, AccountView
from app.core.ingest import Ingestor, PreparedBatch
from app.core.listening.streams import ListeningStreams, Stream
from app.core.networks.base import MentionBatch, NetworkClient, RemoteMention
from app.core.networks.errors import AuthError, NetworkError, Offline
from app.core.secrets import SecretStoreError
from app.core.sync_worker import (
    READY_TIMEOUT,
    WORKER_NETWORKS,
    SyncWorker,
    WorkerGone,
    WorkerSpec,
)
from app.core.usage import UsageLedger
from app.storage.models import Account, database

log = logging.getLogger(__name__)

COMMIT_INTERVAL = 0.4  # seconds a group of stored batches may wait for its commit, at most
COMMIT_MENTIONS = 5_000  # or this many mentions, whichever comes first
READ_AHEAD = 2  # pages fetched and parsed ahead of the one being stored
HANDOVER_AFTER = 400  # mentions read in this process before a worker process takes the walk


@dataclass(frozen=True, slots=True)
class SyncProgress:
    account_id: int
    label: str
    fetched: int  # mentions seen so far for this account in this run
    done: bool = False


@dataclass(slots=True)
class AccountSyncResult:
    account_id: int
    label: str
    stored: int = 0
    duplicates: int = 0
    new_cases: int = 0
    reopened: int = 0
    error: str | None = None  # a message for a person
    reconnect: bool = False  # the credentials need renewing
    offline: bool = False  # the network could not be reached at all
    cancelled: bool = False
    finished_at: datetime | None = None
    streams: list[StreamSyncResult] = field(default_factory=list)  # its saved searches

    @property
    def ok(self) -> bool:
        return self.error is None and not self.cancelled


@dataclass(slots=True)
class StreamSyncResult:
    """One saved search or feed in one run; its failure is its own, not its account's."""

    kind: str  # search, feed
    source_id: int
    label: str
    stored: int = 0
    duplicates: int = 0
    new_cases: int = 0
    error: str | None = None
    cancelled: bool = False


@dataclass(slots=True)
class SyncReport:
    accounts: list[AccountSyncResult] = field(default_factory=list)
    feeds: list[StreamSyncResult] = field(default_factory=list)

    @property
    def streams(self) -> list[StreamSyncResult]:
        """Every saved search (run with its account) and feed."""
        return [s for a in self.accounts for s in a.streams] + self.feeds

    @property
    def stored(self) -> int:
        return sum(a.stored for a in self.accounts) + sum(s.stored for s in self.streams)

    @property
    def failed(self) -> list[AccountSyncResult | StreamSyncResult]:
        return [a for a in self.accounts if a.error] + [s for s in self.streams if s.error]


Progress = Callable[[SyncProgress], None]


class SyncEngine:
    def __init__(
        self,
        accounts: AccountService,
        ingestor: Ingestor | None = None,
        listening: ListeningStreams | None = None,
        worker_process: bool = True,
    ) -> None:
        self.accounts = accounts
        self.ingestor = ingestor or Ingestor()
        self.usage = UsageLedger()
        self.listening = listening or ListeningStreams()
        self.worker_process = worker_process  # False: long walks stay in a worker thread

    def sync_all(
        self, cancel: threading.Event | None = None, progress: Progress | None = None
    ) -> SyncReport:
        report = SyncReport()
        for account in self.accounts.list_accounts():
            if not account.enabled or account.keyring_ref.startswith("demo:"):
                continue
            if cancel is not None and cancel.is_set():
                break
            report.accounts.append(self.sync_account(account, cancel, progress))
        if cancel is None or not cancel.is_set():
            for stream in self.listening.feed_streams(lambda: self.accounts.http):
                if cancel is not None and cancel.is_set():
                    break
                report.feeds.append(self.sync_stream(stream, cancel, progress))
        return report

    def sync_account(
        self,
        account: AccountView | int,
        cancel: threading.Event | None = None,
        progress: Progress | None = None,
    ) -> AccountSyncResult:
        view = account if isinstance(account, AccountView) else self.accounts.get(account)
        result = AccountSyncResult(view.id, view.label)
        client: NetworkClient | None = None
        try:
            client = self.accounts.client_for(view)
            cursor = Account.get_by_id(view.id).cursor
            seen = 0

            def store(page: _Page) -> None:
                nonlocal seen
                ingested = self.ingestor.ingest(view.id, view.network, page.mentions, page.prepared)
                if page.cursor is not None:
                    Account.update(cursor=page.cursor).where(Account.id == view.id).execute()
                result.stored += ingested.stored
                result.duplicates += ingested.duplicates
                result.new_cases += len(ingested.new_cases)
                result.reopened += len(ingested.reopened_cases)
                seen += page.size

            def stored() -> None:
                if progress is not None:
                    progress(SyncProgress(view.id, view.label, seen))

            billed = getattr(client, "usage", None) is not None  # reads cost money: none ahead
            network = view.network

            def prepare(batch: MentionBatch) -> PreparedBatch:
                return self.ingestor.prepare(network, batch.mentions)

            feed: _Feed
            if billed:
                feed = _Inline(client.fetch_mentions(cursor))
            elif self.worker_process and view.network in WORKER_NETWORKS:
                feed = _Handover(client, cursor, cancel, prepare, lambda: self._spec(view))
            else:
                feed = _ReadAhead(client.fetch_mentions(cursor), cancel, prepare)
            result.cancelled = _store_all(feed, store, stored, cancel)
        except NetworkError as error:
            result.error = error.user_message
            result.reconnect = isinstance(error, AuthError)
            result.offline = isinstance(error, Offline)
            log.warning("sync %s failed: %s", view.label, error)
        except (AccountError, SecretStoreError) as error:
            result.error = error.user_message
            result.reconnect = True
            log.warning("sync %s cannot start: %s", view.label, error)
        except Exception as error:  # a client or ingest bug must not stop the other accounts
            result.error = (
                f"Something went wrong while syncing this account ({type(error).__name__}). "
                "Kindly will try again next time; the log file has the details."
            )
            log.exception("sync %s failed unexpectedly", view.label)
        if client is not None and result.error is None and not result.cancelled:
            for stream in self.listening.search_streams(view.id, client):
                if cancel is not None and cancel.is_set():
                    break
                result.streams.append(self.sync_stream(stream, cancel, progress))
        if client is not None:  # what was read is billed even when the walk broke off
            self.usage.record(view.id, client)
        result.finished_at = datetime.now(UTC)
        if result.error:
            self.accounts.mark_error(view.id, result.error)
        elif not result.cancelled:
            self.accounts.mark_synced(view.id, result.finished_at)
        if progress is not None:
            progress(SyncProgress(view.id, view.label, result.stored, done=True))
        return result

    def _spec(self, view: AccountView) -> WorkerSpec | None:
        """What a worker process needs to continue this account's walk (None: it cannot)."""
        secret = self.accounts.store.get(view.keyring_ref)
        if secret is None:
            return None
        worker_hooks: list[object] = []
        for hook in self.ingestor.hooks:
            if getattr(hook, "before_store", None) is None:
                continue
            half = getattr(hook, "worker_half", None)
            if half is None:
                return None  # its before_store runs only here: keep the walk here
            made = half()
            if made is None:
                return None
            worker_hooks.append(made)
        return WorkerSpec(
            self.accounts.registry[view.network].factory,
            view.network.value,
            view.base_url,
            view.handle,
            view.remote_id,
            dict(secret),
            tuple(worker_hooks),
        )

    def sync_stream(
        self,
        stream: Stream,
        cancel: threading.Event | None = None,
        progress: Progress | None = None,
    ) -> StreamSyncResult:
        """A saved search or a feed, like an account's mentions: batch and cursor together."""
        result = StreamSyncResult(stream.kind, stream.source_id, stream.label)
        seen = 0

        def store(page: _Page) -> None:
            nonlocal seen
            ingested = self.ingestor.ingest(
                stream.account_id, stream.network, page.mentions, page.prepared
            )
            if page.cursor is not None:
                stream.save_cursor(page.cursor)
            result.stored += ingested.stored
            result.duplicates += ingested.duplicates
            result.new_cases += len(ingested.new_cases)
            seen += page.size

        def stored() -> None:
            if progress is not None:
                progress(SyncProgress(stream.account_id, stream.label, seen))

        try:
            # Read in this thread: a feed's reader may write to the database as it goes.
            result.cancelled = _store_all(
                _Inline(stream.fetch(stream.cursor)), store, stored, cancel
            )
        except NetworkError as error:
            result.error = error.user_message
            log.warning("sync %s failed: %s", stream.label, error)
        except Exception as error:  # a bug in one stream must not stop the others
            result.error = (
                f"Something went wrong while reading this ({type(error).__name__}). "
                "Kindly will try again next time; the log file has the details."
            )
            log.exception("sync %s failed unexpectedly", stream.label)
        if not result.cancelled:
            stream.finish(result.error, datetime.now(UTC))
        if progress is not None:
            progress(SyncProgress(stream.account_id, stream.label, result.stored, done=True))
        return result


# -- storing a walk in groups of batches ----------------------------------------------------------


class _Page(NamedTuple):
    """A batch as the storing thread gets it: prepared beforehand or not (``mentions`` are
    empty when a worker process prepared it)."""

    cursor: str | None
    size: int  # mentions in the page as the network gave them
    mentions: Sequence[RemoteMention]
    prepared: PreparedBatch | None


def _page(batch: MentionBatch, prepared: PreparedBatch | None) -> _Page:
    return _Page(batch.cursor, len(batch.mentions), batch.mentions, prepared)


class _Inline:
    """The batches of a walk, fetched in the storing thread when asked for. Each batch is
    committed before the next is fetched: how long the network takes cannot be told."""

    groups = False

    def __init__(self, batches: Iterator[MentionBatch]) -> None:
        self._batches = batches

    def next(self, timeout: float | None) -> _Page | None:
        """The next batch, None at the end (``timeout`` is for the other feeds' sake)."""
        batch = next(self._batches, None)
        return None if batch is None else _page(batch, None)

    def close(self) -> None:
        close = getattr(self._batches, "close", None)
        if close is not None:
            close()


_Item = tuple[MentionBatch | None, PreparedBatch | None, BaseException | None]


class _ReadAhead:
    """The batches of a walk, fetched, parsed and prepared for storing (``prepare``: no
    database) by a worker thread, up to ``READ_AHEAD`` pages ahead of the storing thread. The
    worker stops after its current page when the run is cancelled or the storing thread closes
    it (what it read ahead is dropped); an error it meets is raised by ``next`` after the
    batches read before it."""

    groups = True  # a slow page is noticed (``next`` times out): the group is committed then

    def __init__(
        self,
        batches: Iterator[MentionBatch],
        cancel: threading.Event | None,
        prepare: Callable[[MentionBatch], PreparedBatch],
    ) -> None:
        self._queue: queue.Queue[_Item] = queue.Queue(READ_AHEAD)
        self._stop = threading.Event()
        self.read_all = False  # the walk's last page has been read (it may wait in the queue)
        self._cancel = cancel
        self._prepare = prepare
        self._thread = threading.Thread(
            target=self._read, args=(batches,), name="kindly-sync-read-ahead", daemon=True
        )
        self._thread.start()

    def _stopped(self) -> bool:
        return self._stop.is_set() or (self._cancel is not None and self._cancel.is_set())

    def _put(self, item: _Item) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return
            except queue.Full:
                continue

    def _read(self, batches: Iterator[MentionBatch]) -> None:
        try:
            while not self._stopped():
                batch = next(batches, None)
                if batch is None:
                    self.read_all = True
                    break
                self._put((batch, self._prepare(batch), None))
            self._put((None, None, None))
        except BaseException as error:  # raised in the storing thread, after what came before
            self._put((None, None, error))
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                close()

    def next(self, timeout: float | None) -> _Page | None:
        """The next batch, None at the end; ``queue.Empty`` when none came within ``timeout``."""
        batch, prepared, error = self._queue.get(timeout=timeout)
        if error is not None:
            raise error
        return None if batch is None else _page(batch, prepared)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


class _Handover:
    """A ``_ReadAhead`` that hands a long walk to a worker process (``sync_worker``).

    Once ``HANDOVER_AFTER`` mentions came, a worker is started (``spec`` says how; None: no
    worker) while the thread goes on reading; when the worker is ready and the last page handed
    out carried a cursor, the thread is stopped (what it read ahead is dropped) and the worker
    walks from that cursor, which covers everything stored so far (pages are handed out in
    order and stored before the next is asked for). If the worker cannot start, or dies, the
    walk goes on (again) in a thread from the last cursor handed out, with a log line."""

    groups = True

    def __init__(
        self,
        client: NetworkClient,
        cursor: str | None,
        cancel: threading.Event | None,
        prepare: Callable[[MentionBatch], PreparedBatch],
        spec: Callable[[], WorkerSpec | None],
    ) -> None:
        self._client = client
        self._cancel = cancel
        self._prepare = prepare
        self._spec = spec
        self._feed: _ReadAhead | None = _ReadAhead(client.fetch_mentions(cursor), cancel, prepare)
        self._worker: SyncWorker | None = None
        self._walking = False  # the worker has the walk
        self._tried = False  # a worker was started (or could not be): never a second one
        self._started = 0.0
        self._resume = cursor  # where a new reader continues: the last page's cursor
        self._read = 0  # mentions handed out

    def next(self, timeout: float | None) -> _Page | None:
        if not self._walking:
            self._consider_worker()  # may hand the walk over now
        page = self._from_worker(timeout) if self._walking else self._from_thread(timeout)
        if page is not None:
            self._resume = page.cursor
            self._read += page.size
        return page

    def _from_thread(self, timeout: float | None) -> _Page | None:
        if self._feed is None:
            self._feed = _ReadAhead(
                self._client.fetch_mentions(self._resume), self._cancel, self._prepare
            )
        return self._feed.next(timeout)

    def _from_worker(self, timeout: float | None) -> _Page | None:
        assert self._worker is not None
        try:
            got = self._worker.next(timeout)
        except TimeoutError:
            raise queue.Empty from None
        except WorkerGone as error:
            log.warning("the sync worker stopped (%s); reading on in this process", error)
            self._drop_worker()
            return self._from_thread(timeout)
        if got is None:
            return None
        return _Page(got.cursor, got.size, (), got.prepared)

    def _consider_worker(self) -> None:
        # Only a walk that can be resumed here (the last page had a cursor) and is not about to
        # end: a first sync's newest mentions carry a cursor on their last page only.
        ending = self._feed is not None and self._feed.read_all
        resumable = self._resume is not None
        if not self._tried and self._read >= HANDOVER_AFTER and resumable and not ending:
            self._tried = True
            try:
                spec = self._spec()
                if spec is not None:
                    self._worker = SyncWorker(spec)
                    self._started = time.monotonic()
            except Exception:
                log.warning("no sync worker process; reading on in this process", exc_info=True)
                self._worker = None
        if self._worker is None or self._resume is None:
            return
        try:
            ready = self._worker.ready()
        except WorkerGone as error:
            log.warning("the sync worker did not start (%s); reading on in this process", error)
            self._drop_worker()
            return
        if not ready:
            if time.monotonic() - self._started > READY_TIMEOUT:
                log.warning("the sync worker took too long to start; reading on in this process")
                self._drop_worker()
            return
        if self._cancel is not None and self._cancel.is_set():
            return
        if self._feed is not None and self._feed.read_all:  # the thread has it all: no need
            self._drop_worker()
            return
        if self._feed is not None:
            self._feed.close()
            self._feed = None
        try:
            self._worker.walk(self._resume)
        except OSError as error:  # it died just now: a new thread reads on from the cursor
            log.warning("the sync worker stopped (%s); reading on in this process", error)
            self._drop_worker()
            return
        self._walking = True
        log.debug("sync: a worker process reads on from %s", self._resume)

    def _drop_worker(self) -> None:
        if self._worker is not None:
            self._worker.close()
        self._worker = None
        self._walking = False

    def close(self) -> None:
        try:
            if self._feed is not None:
                self._feed.close()
        finally:
            self._drop_worker()


_Feed = _Inline | _ReadAhead | _Handover


def _store_all(
    feed: _Feed,
    store: Callable[[_Page], None],
    stored: Callable[[], None],
    cancel: threading.Event | None,
) -> bool:
    """Store every batch of ``feed`` (``store`` writes one with its cursor), committing in
    groups; ``stored`` is told after each batch. Returns True when cancelled.

    Each batch is stored in its own savepoint, so a batch that fails leaves nothing behind; the
    batches stored before it are committed with their cursor before the error propagates."""
    cancelled = False
    failure: Exception | None = None
    try:
        with database.atomic() as group:
            opened: float | None = None  # when the open group's first batch was stored
            held = 0  # mentions in the open group
            try:
                while True:
                    wait = None
                    if opened is not None:
                        wait = max(0.0, opened + COMMIT_INTERVAL - time.monotonic())
                    try:
                        item = feed.next(wait)
                    except queue.Empty:  # the network is slow: commit what is stored meanwhile
                        group.commit()
                        opened, held = None, 0
                        continue
                    if item is None:  # the end, or the reader stopped on cancel
                        cancelled = cancel is not None and cancel.is_set()
                        break
                    if cancel is not None and cancel.is_set():
                        cancelled = True
                        break
                    with database.atomic():
                        store(item)
                    if opened is None:
                        opened = time.monotonic()
                    held += item.size
                    stored()
                    if cancel is not None and cancel.is_set():
                        cancelled = True  # now, not after waiting for the next page
                        break
                    if (
                        not feed.groups
                        or held >= COMMIT_MENTIONS
                        or time.monotonic() - opened >= COMMIT_INTERVAL
                    ):
                        group.commit()
                        opened, held = None, 0
            except Exception as error:  # committed first (leaving the block), then raised
                failure = error
    finally:
        feed.close()
    if failure is not None:
        raise failure
    return cancelled
