"""Saved searches and feeds: what the officer set up, kept in the database.

Plain dataclasses go out, never ORM rows. Feeds belong to no network account, yet every stored
mention and case belongs to an account: feed items are kept under one hidden account on the
``web`` network (``FEED_ACCOUNT_REF``), created with the first feed, never shown in the
accounts list, never synced as an account and never replied from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import peewee as pw

from app.core.listening.feeds import check_feed_url
from app.core.listening.searches import SUPPORTED, SearchKind, SearchSpec
from app.core.vocab import Network
from app.storage.models import Account, Feed, SavedSearch, database

FEED_ACCOUNT_REF = "kindly:web:feeds"  # not a keyring entry: feeds need no secret
MAX_QUERY = 500


class ListeningError(Exception):
    """A listening change was refused; ``user_message`` says why."""

    def __init__(self, user_message: str, detail: str = "") -> None:
        super().__init__(detail or user_message)
        self.user_message = user_message


@dataclass(frozen=True, slots=True)
class SearchView:
    id: int
    account_id: int
    account_label: str
    network: Network
    kind: SearchKind
    query: str
    enabled: bool
    estimated_reads: int | None  # X: posts read a month, estimated before enabling
    last_run_at: datetime | None
    last_error: str | None
    cursor: str | None

    @property
    def spec(self) -> SearchSpec:
        return SearchSpec(self.kind, self.query)

    @property
    def label(self) -> str:
        return f"{self.account_label} · {self.spec.label}"

    @property
    def billed(self) -> bool:
        """X bills every post read: such a search is enabled only after seeing its cost."""
        return self.network is Network.X


@dataclass(frozen=True, slots=True)
class FeedView:
    id: int
    url: str
    title: str
    enabled: bool
    last_run_at: datetime | None
    last_error: str | None
    cursor: str | None

    @property
    def label(self) -> str:
        return f"Feed {self.title or self.url}"


def _search_view(row: SavedSearch, account: Account) -> SearchView:
    network = Network(account.network)
    return SearchView(
        id=row.id,
        account_id=account.id,
        account_label=f"{network.label} {account.handle}",
        network=network,
        kind=SearchKind(row.kind),
        query=row.query,
        enabled=bool(row.enabled),
        estimated_reads=row.estimated_reads,
        last_run_at=row.last_run_at,
        last_error=row.last_error,
        cursor=row.cursor,
    )


def _feed_view(row: Feed) -> FeedView:
    return FeedView(
        row.id, row.url, row.title, bool(row.enabled), row.last_run_at, row.last_error, row.cursor
    )


def normalise_query(kind: SearchKind, query: str) -> str:
    text = " ".join(query.split())
    if kind is SearchKind.HASHTAG:
        text = text.lstrip("#").strip()
        if not text or any(c.isspace() or c == "#" for c in text):
            raise ListeningError("A hashtag is one word, e.g. #RiverCleanup.")
    if not text:
        raise ListeningError("Enter what to search for: a name, a phrase or a hashtag.")
    if len(text) > MAX_QUERY:
        raise ListeningError(f"A search can be at most {MAX_QUERY} characters long.")
    return text


class ListeningStore:
    # -- saved searches --

    def searches(self, account_id: int | None = None) -> list[SearchView]:
        query = (
            SavedSearch.select(SavedSearch, Account)
            .join(Account)
            .order_by(Account.network, Account.id, SavedSearch.id)
        )
        if account_id is not None:
            query = query.where(SavedSearch.account == account_id)
        return [_search_view(row, row.account) for row in query]

    def search(self, search_id: int) -> SearchView:
        row = SavedSearch.select(SavedSearch, Account).join(Account).where(
            SavedSearch.id == search_id
        ).first()  # fmt: skip
        if row is None:
            raise ListeningError("That saved search no longer exists.")
        return _search_view(row, row.account)

    def add_search(self, account_id: int, kind: SearchKind | str, query: str) -> SearchView:
        """Keep a search. On X it starts disabled: its cost is shown before it reads anything."""
        kind = SearchKind(kind)
        account = Account.get_or_none(Account.id == account_id)
        if account is None or account.keyring_ref == FEED_ACCOUNT_REF:
            raise ListeningError("Choose one of your connected accounts for this search.")
        network = Network(account.network)
        if kind not in SUPPORTED.get(network, ()):
            if not SUPPORTED.get(network):
                raise ListeningError(f"{network.label} offers no search Kindly can use.")
            raise ListeningError(
                f"{network.label} cannot search by {kind.label.lower()}; "
                f"use {' or '.join(k.label.lower() for k in SUPPORTED[network])}."
            )
        text = normalise_query(kind, query)
        try:
            with database.atomic():
                row = SavedSearch.create(
                    account=account_id, kind=kind.value, query=text, enabled=network != Network.X
                )
        except pw.IntegrityError as exc:
            raise ListeningError(
                f"{network.label} {account.handle} already has this search."
            ) from exc
        return self.search(row.id)

    def edit_search(self, search_id: int, query: str) -> SearchView:
        """A new query is a new stream: its cursor starts again (and on X, its estimate)."""
        view = self.search(search_id)
        text = normalise_query(view.kind, query)
        if text == view.query:
            return view
        changes: dict[str, object] = {"query": text, "cursor": None, "last_error": None}
        if view.billed:
            changes.update(enabled=False, estimated_reads=None)
        try:
            with database.atomic():
                SavedSearch.update(changes).where(SavedSearch.id == search_id).execute()
        except pw.IntegrityError as exc:
            raise ListeningError("This account already has that search.") from exc
        return self.search(search_id)

    def set_estimate(self, search_id: int, monthly_reads: int | None) -> SearchView:
        SavedSearch.update(estimated_reads=monthly_reads).where(
            SavedSearch.id == search_id
        ).execute()
        return self.search(search_id)

    def set_search_enabled(
        self, search_id: int, enabled: bool, *, cost_acknowledged: bool = False
    ) -> SearchView:
        view = self.search(search_id)
        if enabled and view.billed and not cost_acknowledged:
            raise ListeningError(
                "X bills every post a search reads. Look at the estimate and confirm it "
                "before enabling this search."
            )
        SavedSearch.update(enabled=enabled).where(SavedSearch.id == search_id).execute()
        return self.search(search_id)

    def remove_search(self, search_id: int) -> None:
        """What it found stays in the inbox."""
        SavedSearch.delete().where(SavedSearch.id == search_id).execute()

    # -- feeds --

    def feeds(self) -> list[FeedView]:
        return [_feed_view(row) for row in Feed.select().order_by(Feed.id)]

    def feed(self, feed_id: int) -> FeedView:
        row = Feed.get_or_none(Feed.id == feed_id)
        if row is None:
            raise ListeningError("That feed no longer exists.")
        return _feed_view(row)

    def add_feed(self, url: str, title: str = "") -> FeedView:
        try:
            cleaned = check_feed_url(url)
        except ValueError as exc:
            raise ListeningError(str(exc)) from exc
        try:
            with database.atomic():
                self.feed_account_id()
                row = Feed.create(url=cleaned, title=" ".join(title.split())[:200])
        except pw.IntegrityError as exc:
            raise ListeningError("Kindly already reads this feed.") from exc
        return _feed_view(row)

    def set_feed_enabled(self, feed_id: int, enabled: bool) -> FeedView:
        Feed.update(enabled=enabled).where(Feed.id == feed_id).execute()
        return self.feed(feed_id)

    def remove_feed(self, feed_id: int) -> None:
        """What it brought in stays in the inbox."""
        Feed.delete().where(Feed.id == feed_id).execute()

    @staticmethod
    def feed_account_id() -> int:
        """The hidden account feed items are kept under (created the first time)."""
        row = Account.get_or_none(Account.keyring_ref == FEED_ACCOUNT_REF)
        if row is None:
            with database.atomic():
                row = Account.create(
                    network=Network.WEB.value,
                    handle="feeds",
                    display_name="Web feeds",
                    keyring_ref=FEED_ACCOUNT_REF,
                )
        return int(row.id)
