"""What the UI calls for listening: saved searches, feeds and linking, behind one service.

Plain dataclasses in and out; calls that reach a network (X's cost estimate, asking a Mastodon
instance whether it can search words) build the account's client the way sync does, and are
meant to run off the UI thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.accounts import AccountService, AccountView
from app.core.listening import linking
from app.core.listening.linking import Identity, LinkSuggestion
from app.core.listening.searchers import searcher_for
from app.core.listening.searches import SUPPORTED, SearchKind, SearchSpec
from app.core.listening.store import FeedView, ListeningError, ListeningStore, SearchView
from app.core.usage import UsageLedger
from app.core.vocab import Network

__all__ = [
    "ListeningError",
    "ListeningService",
    "SearchAccount",
    "SearchKind",
    "SearchSpec",
    "describe_estimate",
]


@dataclass(frozen=True, slots=True)
class SearchAccount:
    """An account that can run saved searches, and which kinds."""

    account: AccountView
    kinds: tuple[SearchKind, ...]


class ListeningService:
    def __init__(self, accounts: AccountService, store: ListeningStore | None = None) -> None:
        self.accounts = accounts
        self.store = store or ListeningStore()

    # -- saved searches --

    def search_accounts(self) -> list[SearchAccount]:
        return [
            SearchAccount(a, SUPPORTED[a.network])
            for a in self.accounts.list_accounts()
            if SUPPORTED.get(a.network) and not a.keyring_ref.startswith("demo:")
        ]

    def searches(self) -> list[SearchView]:
        return self.store.searches()

    def add_search(self, account_id: int, kind: SearchKind | str, query: str) -> SearchView:
        return self.store.add_search(account_id, kind, query)

    def edit_search(self, search_id: int, query: str) -> SearchView:
        return self.store.edit_search(search_id, query)

    def set_search_enabled(
        self, search_id: int, enabled: bool, *, cost_acknowledged: bool = False
    ) -> SearchView:
        return self.store.set_search_enabled(
            search_id, enabled, cost_acknowledged=cost_acknowledged
        )

    def remove_search(self, search_id: int) -> None:
        self.store.remove_search(search_id)

    def estimate(self, search_id: int) -> SearchView:
        """X: posts a month the search would read, from last week's count (a network call)."""
        view = self.store.search(search_id)
        if not view.billed:
            return view
        client = self.accounts.client_for(view.account_id)
        estimate = getattr(searcher_for(client), "estimate_monthly_reads", None)
        if estimate is None:
            return view
        try:
            reads = int(estimate(view.spec))
        finally:
            UsageLedger().record(view.account_id, client)
        return self.store.set_estimate(search_id, reads)

    def full_text_search(self, account_id: int) -> bool | None:
        """Mastodon: whether the instance can search words (None: it does not say)."""
        account = self.accounts.get(account_id)
        if account.network is not Network.MASTODON:
            return True
        searcher = searcher_for(self.accounts.client_for(account))
        probe = getattr(searcher, "full_text_search", None)
        return probe() if probe is not None else None  # type: ignore[no-any-return]

    # -- feeds --

    def feeds(self) -> list[FeedView]:
        return self.store.feeds()

    def add_feed(self, url: str, title: str = "") -> FeedView:
        return self.store.add_feed(url, title)

    def set_feed_enabled(self, feed_id: int, enabled: bool) -> FeedView:
        return self.store.set_feed_enabled(feed_id, enabled)

    def remove_feed(self, feed_id: int) -> None:
        self.store.remove_feed(feed_id)

    # -- people --

    @staticmethod
    def suggestions(person_id: int | None = None) -> list[LinkSuggestion]:
        return linking.suggestions(person_id)

    @staticmethod
    def find_people(text: str, exclude: int | None = None) -> list[Identity]:
        return linking.find_people(text, exclude)

    @staticmethod
    def link(first: int, second: int) -> list[int]:
        return linking.link(first, second)

    @staticmethod
    def unlink(person_id: int) -> None:
        linking.unlink(person_id)

    @staticmethod
    def dismiss(first: int, second: int) -> None:
        linking.dismiss(first, second)


def describe_estimate(reads: int | None) -> str:
    """The cost line shown before an X search is enabled."""
    if reads is None:
        return "Cost not estimated yet."
    per_day = reads / 30
    day = f"about {per_day:.0f} a day" if per_day >= 1 else "less than one a day"
    return (
        f"About {reads:,} posts a month would be read ({day}). X bills every post read, at "
        "your plan's price; the reads also count in Accounts → usage."
    )
