"""Pull new mentions for every account, store them with their cursor, one transaction a batch.

A batch and the cursor that covers it are committed together, so a sync killed at any moment
and run again neither loses nor repeats a mention (ingest also ignores what is stored). One
account's failure is recorded on that account and does not stop the others.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from app.core.accounts import AccountError, AccountService, AccountView
from app.core.ingest import Ingestor
from app.core.listening.streams import ListeningStreams, Stream
from app.core.networks.base import NetworkClient
from app.core.networks.errors import AuthError, NetworkError, Offline
from app.core.secrets import SecretStoreError
from app.core.usage import UsageLedger
from app.storage.models import Account, database

log = logging.getLogger(__name__)


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
            for batch in client.fetch_mentions(cursor):
                if cancel is not None and cancel.is_set():
                    result.cancelled = True
                    break
                with database.atomic():
                    ingested = self.ingestor.ingest(view.id, view.network, batch.mentions)
                    if batch.cursor is not None:
                        Account.update(cursor=batch.cursor).where(Account.id == view.id).execute()
                result.stored += ingested.stored
                result.duplicates += ingested.duplicates
                result.new_cases += len(ingested.new_cases)
                result.reopened += len(ingested.reopened_cases)
                seen += len(batch.mentions)
                if progress is not None:
                    progress(SyncProgress(view.id, view.label, seen))
                if cancel is not None and cancel.is_set():
                    result.cancelled = True  # now, not after waiting for the next page
                    break
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
        try:
            seen = 0
            for batch in stream.fetch(stream.cursor):
                if cancel is not None and cancel.is_set():
                    result.cancelled = True
                    break
                with database.atomic():
                    ingested = self.ingestor.ingest(
                        stream.account_id, stream.network, batch.mentions
                    )
                    if batch.cursor is not None:
                        stream.save_cursor(batch.cursor)
                result.stored += ingested.stored
                result.duplicates += ingested.duplicates
                result.new_cases += len(ingested.new_cases)
                seen += len(batch.mentions)
                if progress is not None:
                    progress(SyncProgress(stream.account_id, stream.label, seen))
                if cancel is not None and cancel.is_set():
                    result.cancelled = True
                    break
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
