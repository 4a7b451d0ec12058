"""Bluesky listening: ``app.bsky.feed.searchPosts`` (words, or a hashtag as ``#tag``).

Results come newest first (``sort=latest``) with an opaque page cursor, like the notifications,
so the stored cursor is the same kind of high-water mark (``"<indexedAt>|<uri>"`` of the newest
post seen): a run asks only for posts ``since`` that instant, walks pages down to the mark and
yields every batch with ``cursor=None`` except the last, which carries the new mark. A crash
mid-walk leaves the old mark, and the next run reads the same ground again (ingest drops what
it has). A first read takes one page; a run reads at most ``MAX_PAGES`` (see ``searches``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from app.core.listening.searches import FIRST_READ, MAX_PAGES, SearchSpec
from app.core.networks.base import MentionBatch, RemoteMention
from app.core.networks.bluesky import BlueskyClient
from app.core.networks.bluesky_records import (
    LABEL,
    Mark,
    as_dict,
    as_text,
    bad,
    mark_of,
    mention_from_post,
)
from app.core.networks.errors import BadResponse
from app.core.networks.http import expect_dict

log = logging.getLogger(__name__)

PAGE = 100  # searchPosts' maximum
NSID = "app.bsky.feed.searchPosts"


def parse_search(body: Any) -> tuple[list[dict[str, Any]], str | None]:
    """searchPosts output: the postViews (newest first with ``sort=latest``) and the next cursor."""
    data = expect_dict(body, LABEL, NSID)
    posts = data.get("posts")
    if not isinstance(posts, list):
        raise bad("searchPosts without posts")
    return [p for p in posts if isinstance(p, dict)], as_text(data.get("cursor")) or None


def addresses(post: dict[str, Any], did: str) -> bool:
    """Whether a post tags ``did`` (a mention facet) or answers one of its posts."""
    if not did:
        return False
    record = as_dict(post.get("record"))
    parent = as_text(as_dict(as_dict(record.get("reply")).get("parent")).get("uri"))
    if parent.startswith(f"at://{did}/"):
        return True
    for facet in record.get("facets") or []:
        for feature in as_dict(facet).get("features") or []:
            feature = as_dict(feature)
            if feature.get("$type") == "app.bsky.richtext.facet#mention" and (
                feature.get("did") == did
            ):
                return True
    return False


class BlueskySearch:
    def __init__(self, client: BlueskyClient, *, max_pages: int = MAX_PAGES) -> None:
        self.client = client
        self.max_pages = max_pages

    def search(self, spec: SearchSpec, cursor: str | None) -> Iterator[MentionBatch]:
        stop = Mark.decode(cursor) if cursor else None
        if cursor and stop is None:
            log.warning("%s: unreadable search cursor; reading as if for the first time", LABEL)
        newest = stop
        held: list[RemoteMention] | None = None
        for page in self._pages(spec.text, stop):
            session = self.client.session  # signed in by the first request, if it had to
            did = session.did if session else ""
            mentions: list[RemoteMention] = []
            for post in reversed(page):  # oldest first, as ingest wants
                mark = mark_of(post)
                if mark and (newest is None or mark > newest):
                    newest = mark
                author = as_text(as_dict(post.get("author")).get("did"))
                if did and author == did:
                    continue  # our own post
                try:
                    found = mention_from_post(post, addressed_to_us=addresses(post, did))
                except BadResponse as exc:
                    log.warning("%s: skipping a search result: %s", LABEL, exc)
                    continue
                mentions.append(replace(found, kind="search"))
            if held is not None:
                yield MentionBatch(held, cursor=None)
            held = mentions
        if newest is not None and newest != stop:
            yield MentionBatch(held or [], cursor=newest.encode())
        elif held:
            yield MentionBatch(held, cursor=None)

    def _pages(self, text: str, stop: Mark | None) -> Iterator[list[dict[str, Any]]]:
        page_cursor: str | None = None
        seen: set[str] = set()
        budget = FIRST_READ if stop is None else None
        for _ in range(1 if stop is None else self.max_pages):
            params: dict[str, Any] = {
                "q": text,
                "sort": "latest",
                "limit": min(PAGE, budget or PAGE),
            }
            if stop is not None:
                params["since"] = stop.indexed_at.isoformat().replace("+00:00", "Z")
            if page_cursor:
                params["cursor"] = page_cursor
            posts, next_cursor = parse_search(self.client.query(NSID, params, what="searchPosts"))
            page: list[dict[str, Any]] = []
            reached = False
            for post in posts:
                mark = mark_of(post)
                if stop is not None and mark is not None:
                    if mark.indexed_at < stop.indexed_at:
                        reached = True  # older than the mark: stored by an earlier run
                        break
                    if mark.uri == stop.uri:
                        continue
                uri = as_text(post.get("uri"))
                if uri in seen:
                    continue
                seen.add(uri)
                page.append(post)
            yield page
            if reached or not posts or not next_cursor or next_cursor == page_cursor:
                return
            page_cursor = next_cursor
        if stop is not None:
            log.warning("%s: more than %d pages found for %r since the last run; the older "
                        "ones were passed over", LABEL, self.max_pages, text)  # fmt: skip
