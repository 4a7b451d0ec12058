"""Search routes added to the network fakes, by subclassing: what listening reads.

- ``SearchingMastodon``: hashtag timelines (``/api/v1/timelines/tag/:tag``, id paging with Link
  headers like every Mastodon timeline), ``/api/v2/search`` (statuses only when the instance
  has full-text search, in relevance order, ``min_id``/``offset``) and ``/api/v2/instance``.
- ``SearchingBluesky``: ``app.bsky.feed.searchPosts`` (``q``, ``since``, ``sort=latest``, an
  opaque ``cursor``), answering postViews as the lexicon describes.
- ``SearchingX``: ``/2/tweets/search/recent`` (``since_id``, ``next_token``, the 10..100 page
  size, a refused ``since_id`` older than seven days) and ``/2/tweets/counts/recent``.

Posts added with ``add_status``/``add_public_post``/``add_post`` mention nobody unless told:
they are what people say about the organisation without tagging it.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.fakes.bluesky import FakeBluesky, Post, xrpc_error
from tests.fakes.mastodon import FakeMastodon, Status, text_to_html
from tests.fakes.server import Request, Response
from tests.fakes.x import SNOWFLAKE_EPOCH_MS, FakeX, problem, rate_headers

_TAG = re.compile(r"#(\w+)")


def _words(query: str) -> list[str]:
    """Plain words of a query; operators (``-is:retweet``, ``lang:en``) are left out."""
    return [w.casefold() for w in query.split() if not w.startswith("-") and ":" not in w]


def _matches(text: str, words: list[str]) -> bool:
    folded = text.casefold()
    return bool(words) and all(w in folded for w in words)


def _plain(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", markup))


# -- Mastodon ---------------------------------------------------------------------------------


class SearchingMastodon(FakeMastodon):
    def __init__(self, *args: Any, full_text: bool = True, advertise: bool = True, **kw: Any):
        super().__init__(*args, **kw)
        self.full_text = full_text  # the instance runs Elasticsearch/OpenSearch
        self.advertise = advertise  # and says so in /api/v2/instance
        self.route("GET", "/api/v1/timelines/tag/{tag}", self._tag_timeline)
        self.route("GET", "/api/v2/search", self._search)
        self.route("GET", "/api/v2/instance", self._instance)

    def add_status(
        self,
        author: str,
        text: str,
        *,
        display_name: str = "",
        note: str = "",
        mention_me: bool = False,
        in_reply_to: str | None = None,
    ) -> Status:
        """A public status by ``author``; it tags us only when ``mention_me`` (no notification:
        use ``add_mention`` for a direct mention)."""
        with self._state_lock:
            account = self.add_account(author, display_name=display_name)
            if note:
                account.note = note
            return self._new_status(
                account,
                text_to_html(text, self._by_acct, self.host),
                in_reply_to_id=in_reply_to,
                mentions=(self.me.id,) if mention_me else (),
            )

    def _ids(self, keep: Any) -> list[int]:
        with self._state_lock:
            return sorted(int(i) for i, s in self.statuses.items() if keep(s))

    def _tag_timeline(self, request: Request) -> Response:
        tag = request.params["tag"].casefold()
        ids = self._ids(
            lambda s: (
                tag in {t.casefold() for t in _TAG.findall(_plain(s.content))}
                and s.account_id != self.me.id
            )
        )
        with self._state_lock:
            page, headers = self._page(request, ids, 20, 40)
            body = [self.render_status(self.statuses[str(i)]) for i in page]
        return self._ok(body, headers)

    def _search(self, request: Request) -> Response:
        if denied := self._authorised(request):
            return denied
        words = _words(request.arg("q") or "")
        statuses: list[dict[str, Any]] = []
        if self.full_text and request.arg("type") in (None, "statuses"):
            min_id = int(request.arg("min_id") or 0)
            ids = self._ids(lambda s: _matches(_plain(s.content), words))
            ids = [i for i in ids if i > min_id]
            ids.sort(key=lambda i: hashlib.md5(str(i).encode()).hexdigest())  # "relevance"
            offset = int(request.arg("offset") or 0)
            limit = min(40, int(request.arg("limit") or 20))
            with self._state_lock:
                statuses = [self.render_status(self.statuses[str(i)]) for i in ids[offset:][:limit]]
        return self._ok({"accounts": [], "statuses": statuses, "hashtags": [], "collections": []})

    def _instance(self, request: Request) -> Response:
        body: dict[str, Any] = {"domain": self.host, "title": "Fake Mastodon", "version": "4.6.4"}
        body["configuration"] = {"statuses": {"max_characters": 500}}
        if self.advertise:
            body["configuration"]["search"] = {"enabled": self.full_text}
        return self._ok(body)


# -- Bluesky ----------------------------------------------------------------------------------


class SearchingBluesky(FakeBluesky):
    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.search_limit = 100
        self.route("GET", "/xrpc/app.bsky.feed.searchPosts", self._search_posts)

    def add_public_post(
        self,
        author: str,
        text: str,
        *,
        display_name: str = "",
        description: str = "",
        mention_me: bool = False,
        reply_to: str | None = None,
    ) -> Post:
        """A post nobody is notified of; ``mention_me`` adds a mention facet for our DID."""
        with self._state:
            profile = self.add_account(author, display_name=display_name)
            if description:
                profile.description = description
            extra: dict[str, Any] = {}
            if mention_me:
                tag = f"@{self.me.handle}"
                start = len(text.encode())
                text = f"{text} {tag}"
                extra["facets"] = [
                    {
                        "index": {"byteStart": start + 1, "byteEnd": len(text.encode())},
                        "features": [
                            {"$type": "app.bsky.richtext.facet#mention", "did": self.me.did}
                        ],
                    }
                ]
            return self.add_post(profile.handle, text, reply_to=reply_to, extra=extra)

    def _search_posts(self, request: Request) -> Response:
        caller = self._caller(request)
        if isinstance(caller, Response):
            return caller
        query = request.arg("q")
        if not query:
            return xrpc_error("InvalidRequest", 'Params must have the property "q"')
        words = _words(query)
        since = request.arg("since")
        floor = datetime.fromisoformat(since.replace("Z", "+00:00")) if since else None
        limit = min(100, int(request.arg("limit") or 25), self.search_limit)
        with self._state:
            found = [
                p
                for p in self.posts.values()
                if _matches(str(p.record.get("text", "")), words)
                and (floor is None or p.indexed_at >= floor)
            ]
            found.sort(key=lambda p: (p.indexed_at, p.uri), reverse=True)
            start = 0
            if request.arg("cursor"):
                start = int(base64.urlsafe_b64decode(request.arg("cursor") or "").decode())
            page = found[start : start + limit]
            body: dict[str, Any] = {"posts": [self.post_view(p) for p in page]}
            body["hitsTotal"] = len(found)
            if start + limit < len(found):
                body["cursor"] = base64.urlsafe_b64encode(str(start + limit).encode()).decode()
        return self._ok(body)


# -- X ----------------------------------------------------------------------------------------


class SearchingX(FakeX):
    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.route("GET", "/2/tweets/search/recent", self._search_recent)
        self.route("GET", "/2/tweets/counts/recent", self._counts_recent)

    def add_post(
        self,
        text: str,
        author: str = "ann",
        *,
        mention_me: bool = False,
        in_reply_to: str | None = None,
        created_at: datetime | None = None,
    ) -> str:
        """A post that is not in our mentions timeline (``mention_me`` tags us in its text)."""
        with self.lock:
            author_id = self.add_user(author)
            if mention_me:
                text = f"@{self.users[self.me]['username']} {text}"
            tweet = self._new_tweet(author_id, text, created_at)
            if in_reply_to:
                parent = self.tweets[in_reply_to]
                tweet["referenced_tweets"] = [{"type": "replied_to", "id": in_reply_to}]
                tweet["in_reply_to_user_id"] = parent["author_id"]
                tweet["conversation_id"] = parent["conversation_id"]
            mentions = [
                {"start": m.start(), "end": m.end(), "username": m[1], "id": uid}
                for m in re.finditer(r"@(\w+)", text)
                for uid, user in self.users.items()
                if user["username"].casefold() == m[1].casefold()
            ]
            if mentions:
                tweet["entities"] = {"mentions": mentions}
            return str(tweet["id"])

    def _found(self, request: Request) -> list[str]:
        words = _words(request.arg("query") or "")
        week_ago = datetime.now(UTC) - timedelta(days=7)
        with self.lock:
            return [
                t["id"]
                for t in self.tweets.values()
                if _matches(html.unescape(t["text"]), words)
                and t["author_id"] != self.me
                and datetime.fromisoformat(t["created_at"].replace("Z", "+00:00")) >= week_ago
            ]

    def _search_recent(self, request: Request) -> Response:
        if not self._authorized(request):
            return self._unauthorized()
        size = int(request.arg("max_results") or "10")
        if not 10 <= size <= 100:
            return problem(400, "Invalid Request", f"max_results {size} is out of range")
        since = request.arg("since_id")
        if since:
            when = ((int(since) >> 22) + SNOWFLAKE_EPOCH_MS) / 1000
            if datetime.fromtimestamp(when, UTC) < datetime.now(UTC) - timedelta(days=7):
                return problem(
                    400,
                    "Invalid Request",
                    "Invalid 'since_id':'" + since + "'. 'since_id' must be a tweet id created "
                    "after the earliest allowed start time",
                    "https://api.twitter.com/2/problems/invalid-request",
                )
        ids = sorted(
            (t for t in self._found(request) if int(t) > int(since or 0)), key=int, reverse=True
        )
        start = int(request.arg("next_token") or "0", 16)
        page = ids[start : start + size]
        body: dict[str, Any] = {}
        with self.lock:
            if page:
                body["data"] = [self._tweet_json(self.tweets[t], request) for t in page]
                authors = dict.fromkeys(self.tweets[t]["author_id"] for t in page)
                body["includes"] = {"users": [self._user_json(a, request) for a in authors]}
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta["newest_id"], meta["oldest_id"] = page[0], page[-1]
        if start + size < len(ids):
            meta["next_token"] = f"{start + size:x}"
        body["meta"] = meta
        return Response(200, body, rate_headers())

    def _counts_recent(self, request: Request) -> Response:
        if not self._authorized(request):
            return self._unauthorized()
        with self.lock:
            days: dict[str, int] = {}
            for tid in self._found(request):
                day = self.tweets[tid]["created_at"][:10]
                days[day] = days.get(day, 0) + 1
        data = [
            {"start": f"{d}T00:00:00.000Z", "end": f"{d}T23:59:59.000Z", "tweet_count": n}
            for d, n in sorted(days.items())
        ]
        body = {"data": data, "meta": {"total_tweet_count": sum(days.values())}}
        return Response(200, body, rate_headers())
