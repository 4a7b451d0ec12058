"""Pull new mentions for every account and store them with their cursor.

A batch and the cursor that covers it are committed together, so a sync killed at any moment
and run again neither loses nor repeats a mention (ingest also ignores what is stored). Several
consecutive batches may share one transaction (a group, with the cursor of its last batch):
committing every 80-mention page capped storing at about half of what SQLite does in one
transaction. A group is committed once it is ``COMMIT_INTERVAL`` old or holds
``COMMIT_MENTIONS``, while waiting on a slow network, at the end, on cancel, and before an error
is reported: what was stored before the error stays stored, with its cursor, and only the batch
that failed is rolled back (each batch has its own savepoint).

While a page is stored, the next one is fetched and parsed in a worker thread (SQLite works
without holding the interpreter lock, so the two overlap on two cores), except on networks that
bill every read: a page read ahead is wasted when the run is cancelled. One account's failure
is recorded on that account and does not stop the others.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from app.core.accounts import AccountError, AccountService, AccountView
from app.core.ingest import Ingestor, PreparedBatch
from app.core.listening.streams import ListeningStreams, Stream
from app.core.networks.base import MentionBatch, NetworkClient
from app.core.networks.errors import AuthError, NetworkError, Offline
from app.core.secrets import SecretStoreError
from app.core.usage import UsageLedger
from app.storage.models import Account, database

log = logging.getLogger(__name__)

COMMIT_INTERVAL = 0.4  # seconds a group of stored batches may wait for its commit, at most
COMMIT_MENTIONS = 5_000  # or this many mentions, whichever comes first
READ_AHEAD = 2  # pages fetched and parsed ahead of the one being stored


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
    ) -> None:
        self.accounts = accounts
        self.ingestor = ingestor or Ingestor()
        self.usage = UsageLedger()
        self.listening = listening or ListeningStreams()

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

            def store(batch: MentionBatch, prepared: PreparedBatch | None) -> None:
                nonlocal seen
                ingested = self.ingestor.ingest(view.id, view.network, batch.mentions, prepared)
                if batch.cursor is not None:
                    Account.update(cursor=batch.cursor).where(Account.id == view.id).execute()
                result.stored += ingested.stored
                result.duplicates += ingested.duplicates
                result.new_cases += len(ingested.new_cases)
                result.reopened += len(ingested.reopened_cases)
                seen += len(batch.mentions)

            def stored() -> None:
                if progress is not None:
                    progress(SyncProgress(view.id, view.label, seen))

            batches = client.fetch_mentions(cursor)
            billed = getattr(client, "usage", None) is not None  # reads cost money: none ahead
            network = view.network

            def prepare(batch: MentionBatch) -> PreparedBatch:
                return self.ingestor.prepare(network, batch.mentions)

            feed = _Inline(batches) if billed else _ReadAhead(batches, cancel, prepare)
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

    def sync_stream(
        self,
        stream: Stream,
        cancel: threading.Event | None = None,
        progress: Progress | None = None,
    ) -> StreamSyncResult:
        """A saved search or a feed, like an account's mentions: batch and cursor together."""
        result = StreamSyncResult(stream.kind, stream.source_id, stream.label)
        seen = 0

        def store(batch: MentionBatch, prepared: PreparedBatch | None) -> None:
            nonlocal seen
            ingested = self.ingestor.ingest(
                stream.account_id, stream.network, batch.mentions, prepared
            )
            if batch.cursor is not None:
                stream.save_cursor(batch.cursor)
            result.stored += ingested.stored
            result.duplicates += ingested.duplicates
            result.new_cases += len(ingested.new_cases)
            seen += len(batch.mentions)

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


class _Inline:
    """The batches of a walk, fetched in the storing thread when asked for. Each batch is
    committed before the next is fetched: how long the network takes cannot be told."""

    groups = False

    def __init__(self, batches: Iterator[MentionBatch]) -> None:
        self._batches = batches

    def next(self, timeout: float | None) -> tuple[MentionBatch, PreparedBatch | None] | None:
        """The next batch, None at the end (``timeout`` is for ``_ReadAhead``'s sake)."""
        batch = next(self._batches, None)
        return None if batch is None else (batch, None)

    def close(self) -> None:
        close = getattr(self._batches, "close", None)
        if close is not None:
            close()


_Item = tuple[MentionBatch | None, PreparedBatch | None, BaseException | None]


class _ReadAhead:
    """The batches of a walk, fetched, parsed and prepared for storing (``prepare``: no
    database) by a worker thread, up to ``READ_AHEAD`` pages ahead of the storing thread. The
    worker stops after its current page when the run is cancelled or the storing thread closes
    it; an error it meets is raised by ``next`` after the batches read before it."""

    groups = True  # a slow page is noticed (``next`` times out): the group is committed then

    def __init__(
        self,
        batches: Iterator[MentionBatch],
        cancel: threading.Event | None,
        prepare: Callable[[MentionBatch], PreparedBatch],
    ) -> None:
        self._queue: queue.Queue[_Item] = queue.Queue(READ_AHEAD)
        self._stop = threading.Event()
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
                    break
                self._put((batch, self._prepare(batch), None))
            self._put((None, None, None))
        except BaseException as error:  # raised in the storing thread, after what came before
            self._put((None, None, error))
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                close()

    def next(self, timeout: float | None) -> tuple[MentionBatch, PreparedBatch | None] | None:
        """The next batch, None at the end; ``queue.Empty`` when none came within ``timeout``."""
        batch, prepared, error = self._queue.get(timeout=timeout)
        if error is not None:
            raise error
        return None if batch is None else (batch, prepared)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def _store_all(
    feed: _Inline | _ReadAhead,
    store: Callable[[MentionBatch, PreparedBatch | None], None],
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
                    batch, prepared = item
                    with database.atomic():
                        store(batch, prepared)
                    if opened is None:
                        opened = time.monotonic()
                    held += len(batch.mentions)
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
