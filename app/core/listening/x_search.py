"""X listening: ``GET /2/tweets/search/recent`` (the last seven days), and its cost beforehand.

X bills every post read, so a saved search on X starts disabled: ``estimate_monthly_reads``
asks ``/2/tweets/counts/recent`` how many posts matched over the last week (counting is not
reading posts) and the officer sees the monthly figure before enabling it. Retweets are left
out of the query (``-is:retweet``): they repeat what was already read.

Cursor: the newest post id found (X's ``since_id``), as for mentions: intermediate pages carry
``cursor=None`` and only the last page carries the new high-water mark. X refuses a
``since_id`` older than seven days; the walk then starts over as a first read.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from app.core.listening.searches import FIRST_READ, MAX_PAGES, SearchSpec
from app.core.networks.base import MentionBatch, RemoteMention
from app.core.networks.errors import Rejected
from app.core.networks.x import (
    PAGE_SIZE,
    TWEET_FIELDS,
    USER_FIELDS,
    XClient,
    included_users,
    next_token,
    parse_tweet,
)

log = logging.getLogger(__name__)

SEARCH = "/2/tweets/search/recent"
COUNTS = "/2/tweets/counts/recent"
DAYS_COUNTED = 7  # what counts/recent covers


def _key(post_id: str) -> int:
    return int(post_id) if post_id.isdigit() else -1


def search_query(spec: SearchSpec) -> str:
    text = spec.text.strip()
    return text if "is:retweet" in text else f"{text} -is:retweet"


def monthly_from_week(total: int, days: int = DAYS_COUNTED) -> int:
    return math.ceil(max(0, total) * 30 / max(1, days))


def parse_counts(body: dict[str, Any]) -> int:
    """counts/recent: ``meta.total_tweet_count``, else the sum of the buckets."""
    meta = body.get("meta")
    total = meta.get("total_tweet_count") if isinstance(meta, dict) else None
    if isinstance(total, int):
        return total
    buckets = body.get("data")
    counts = (
        [b.get("tweet_count") for b in buckets if isinstance(b, dict)]
        if isinstance(buckets, list)
        else []
    )
    return sum(c for c in counts if isinstance(c, int))


def found_posts(body: dict[str, Any], me: str | None) -> list[RemoteMention]:
    """A search page as found posts: addressed only when they reply to or tag the account."""
    users = included_users(body)
    found: list[RemoteMention] = []
    for tweet in body.get("data") or []:
        if not isinstance(tweet, dict):
            continue
        mention = parse_tweet(tweet, users, me)
        if mention is None or (me and mention.author and mention.author.remote_id == me):
            continue
        entities = tweet.get("entities")
        entities = entities if isinstance(entities, dict) else {}
        tagged = bool(me) and any(
            isinstance(m, dict) and str(m.get("id", "")) == me
            for m in entities.get("mentions") or []
        )
        replied = bool(me) and tweet.get("in_reply_to_user_id") == me
        found.append(replace(mention, kind="search", addressed_to_us=tagged or replied))
    return found


class XSearch:
    def __init__(self, client: XClient, *, page_size: int = PAGE_SIZE, max_pages: int = MAX_PAGES):
        self.client = client
        self.page_size = max(10, min(PAGE_SIZE, page_size))  # search/recent accepts 10..100
        self.max_pages = max_pages

    def estimate_monthly_reads(self, spec: SearchSpec) -> int:
        """Posts a month this search would read, from last week's count (not billed as reads)."""
        body = self.client.get(
            COUNTS, {"query": search_query(spec), "granularity": "day"}, billed=False
        )
        return monthly_from_week(parse_counts(body))

    def search(self, spec: SearchSpec, cursor: str | None) -> Iterator[MentionBatch]:
        since_id = cursor if cursor and cursor.isdigit() else None
        try:
            yield from self._walk(spec, since_id)
        except Rejected as exc:
            if since_id is None or "since_id" not in str(exc):
                raise
            log.info("X: the search cursor is older than 7 days; starting over")
            yield from self._walk(spec, None)

    def _walk(self, spec: SearchSpec, since_id: str | None) -> Iterator[MentionBatch]:
        me = self.client.user_id
        params = {
            "query": search_query(spec),
            "max_results": str(self.page_size if since_id else max(10, min(FIRST_READ, 100))),
            "expansions": "author_id",
            "user.fields": USER_FIELDS,
            "tweet.fields": TWEET_FIELDS + ",entities",
        }
        if since_id:
            params["since_id"] = since_id
        high: str | None = since_id
        seen: set[str] = set()
        tokens: set[str] = set()
        for page in range(1, (self.max_pages if since_id else 1) + 1):
            body = self.client.get(SEARCH, params)
            batch: list[RemoteMention] = []
            for mention in found_posts(body, me):
                rid = mention.remote_id
                if rid in seen or (since_id and _key(rid) <= _key(since_id)):
                    continue
                seen.add(rid)
                high = rid if high is None or _key(rid) > _key(high) else high
                batch.append(mention)
            for tweet in body.get("data") or []:  # our own posts move the mark too
                tid = str(tweet.get("id", "")) if isinstance(tweet, dict) else ""
                if tid.isdigit() and (high is None or _key(tid) > _key(high)):
                    high = tid
            batch.sort(key=lambda m: (m.created_at, _key(m.remote_id)))
            token = next_token(body)
            if token is None or token in tokens or page == self.max_pages or since_id is None:
                if token is not None and since_id is not None and page == self.max_pages:
                    log.warning("X: more than %d pages found since the last run", self.max_pages)
                yield MentionBatch(batch, high if high != since_id else None)
                return
            yield MentionBatch(batch, None)
            tokens.add(token)
            params["next_token"] = token
