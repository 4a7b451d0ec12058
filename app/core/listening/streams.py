"""Saved searches and feeds as sync streams: each with its own cursor, run by ``SyncEngine``.

A stream is what the sync engine needs to run one source exactly like an account's mentions:
where its cursor is, how to fetch from it, how to store a batch's cursor inside that batch's
transaction, and where to record how the run went. The engine owns the loop and the fault
handling, so searches and feeds behave like the other streams.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial

import httpx

from app.core.listening.feeds import FeedReader
from app.core.listening.searchers import searcher_for
from app.core.listening.searches import Searcher, SearchSpec
from app.core.listening.store import FeedView, ListeningStore
from app.core.networks.base import MentionBatch, NetworkClient
from app.core.vocab import Network
from app.storage.models import Feed, SavedSearch


@dataclass(frozen=True, slots=True)
class Stream:
    kind: str  # search, feed
    source_id: int
    account_id: int  # whose cases its items join (feeds: the hidden web account)
    network: Network
    label: str
    cursor: str | None
    fetch: Callable[[str | None], Iterator[MentionBatch]]

    def save_cursor(self, cursor: str) -> None:
        """Called inside the transaction that stores the batch this cursor covers."""
        model = SavedSearch if self.kind == "search" else Feed
        model.update(cursor=cursor).where(model.id == self.source_id).execute()

    def finish(self, error: str | None, when: datetime) -> None:
        model = SavedSearch if self.kind == "search" else Feed
        model.update(last_run_at=when, last_error=error).where(model.id == self.source_id).execute()


def _search(searcher: Searcher, spec: SearchSpec, cursor: str | None) -> Iterator[MentionBatch]:
    return searcher.search(spec, cursor)


def _read_feed(reader: FeedReader, feed: FeedView, cursor: str | None) -> Iterator[MentionBatch]:
    yield from reader.fetch(feed.url, cursor)
    if not feed.title and reader.last_title:  # name an untitled feed after what it calls itself
        Feed.update(title=reader.last_title[:200]).where(Feed.id == feed.id).execute()


class ListeningStreams:
    def __init__(self, store: ListeningStore | None = None) -> None:
        self.store = store or ListeningStore()

    def search_streams(self, account_id: int, client: NetworkClient) -> list[Stream]:
        """The account's enabled searches, run through its own client (session, billing)."""
        searches = [s for s in self.store.searches(account_id) if s.enabled]
        searcher = searcher_for(client) if searches else None
        if searcher is None:
            return []
        return [
            Stream(
                "search",
                s.id,
                account_id,
                s.network,
                s.label,
                s.cursor,
                partial(_search, searcher, s.spec),
            )
            for s in searches
        ]

    def feed_streams(self, http: Callable[[], httpx.Client]) -> list[Stream]:
        """Every enabled feed; ``http`` is asked for a client only when there is one."""
        feeds = [f for f in self.store.feeds() if f.enabled]
        if not feeds:
            return []
        account_id = self.store.feed_account_id()
        reader = FeedReader(http())
        return [
            Stream(
                "feed",
                f.id,
                account_id,
                Network.WEB,
                f.label,
                f.cursor,
                partial(_read_feed, reader, f),
            )
            for f in feeds
        ]
