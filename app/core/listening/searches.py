"""What a saved search is, and which client can run it.

A saved search runs on one account's network, through that account's own client (its session,
retries, rate limits and, on X, its count of billed reads), as a stream with its own cursor.
Each network's search lives in a small module of its own; ``searchers.searcher_for`` picks it
by the client's network and imports it only then.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from app.core.networks.base import MentionBatch
from app.core.vocab import Network

FIRST_READ = 40  # a new search brings in about this many recent posts, not weeks of them
# Pages per stream and run. Forward walks (Mastodon hashtags) store a cursor per page and carry
# on next run; newest-first walks (Bluesky, X, Mastodon full-text) store their new high-water
# mark after the last page read, so a flood of more than this many pages between two runs keeps
# the newest posts and logs that older ones were passed over.
MAX_PAGES = 20


class SearchKind(StrEnum):
    KEYWORDS = "keywords"  # names, phrases: the network's full-text search
    HASHTAG = "hashtag"  # a campaign hashtag, without the #

    @property
    def label(self) -> str:
        return {"keywords": "Words", "hashtag": "Hashtag"}[self.value]


# Which kinds each network can run. Facebook's Graph API has no search of public posts.
SUPPORTED: dict[Network, tuple[SearchKind, ...]] = {
    Network.MASTODON: (SearchKind.HASHTAG, SearchKind.KEYWORDS),
    Network.BLUESKY: (SearchKind.KEYWORDS, SearchKind.HASHTAG),
    Network.X: (SearchKind.KEYWORDS, SearchKind.HASHTAG),
    Network.FACEBOOK: (),
    Network.WEB: (),
}


@dataclass(frozen=True, slots=True)
class SearchSpec:
    kind: SearchKind
    query: str  # as stored: words as typed, a hashtag without its #

    @property
    def text(self) -> str:
        """What a keyword search engine is asked (a hashtag is searched as ``#tag``)."""
        return f"#{self.query}" if self.kind is SearchKind.HASHTAG else self.query

    @property
    def label(self) -> str:
        return f"#{self.query}" if self.kind is SearchKind.HASHTAG else f"“{self.query}”"


class Searcher(Protocol):
    def search(self, spec: SearchSpec, cursor: str | None) -> Iterator[MentionBatch]:
        """Posts found since ``cursor`` (None: a first, short read), batch by batch.

        As with mentions, a batch's cursor may be stored with it in one transaction: it never
        runs ahead of what was yielded. Found posts have ``kind="search"`` and
        ``addressed_to_us`` True only when the post itself tags or answers the account.
        """
        ...
