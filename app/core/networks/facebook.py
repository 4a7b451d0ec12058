"""Facebook Page (Graph API): comments on the Page's recent posts, posts the Page is tagged in,
replies as the Page, and reading replies back.

The Page access token travels in the ``Authorization`` header, never in a URL, because URLs end
up in error details and logs; for the same reason ``paging.next`` (which embeds the token) is
never followed: the ``after`` cursor is sent with our own parameters instead.

Cursor (JSON, opaque to the rest of the app)::

    {"v": 1, "floor": "<time>", "marks": {"tagged": {"t": "<time>", "ids": [...]},
                                          "post:<id>": {"t": "<time>", "ids": [...]}}}

Each stream (the tagged edge, and the comments of each recent post) is read newest-first
(``order=reverse_chronological``) down to its mark: the newest ``created_time`` already stored
plus the ids stored at exactly that second. Facebook advises against storing its paging cursors
(they go stale when items come and go), so the stored state is made of times and ids, which do
not. A stream's intermediate pages carry ``cursor=None``; its last page carries the whole state
with that stream's mark moved, so a crash anywhere leaves marks that are never ahead of what is
stored, and the stream is simply read again. ``floor`` is where the first sync started: a post
seen for the first time is read down to it.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from app.core.networks import facebook_target
from app.core.networks.base import (
    MentionBatch,
    PostedReply,
    RemoteMention,
    RemotePerson,
    ReplyRequest,
    TargetStatus,
)
from app.core.networks.errors import (
    AuthError,
    BadResponse,
    NetworkError,
    NotFound,
    Rejected,
    ServerError,
)
from app.core.networks.facebook_items import (
    LABEL,
    _comparable,
    _unreadable,
    comment_ids,
    page_items,
    parse_time,
)
from app.core.networks.http import (
    HttpSession,
    RateLimitSignal,
    RetryPolicy,
    check_base_url,
    expect_dict,
    json_body,
    json_or_none,
)
from app.core.text import clean_text, snippet
from app.core.vocab import Network

log = logging.getLogger(__name__)

API_VERSION = "v21.0"
DEFAULT_BASE_URL = f"https://graph.facebook.com/{API_VERSION}"
WEB_URL = "https://www.facebook.com"
# Throttling: app (4), user (17), page (32), per-call (613), business use case (80000..80014).
THROTTLE_CODES = frozenset({4, 17, 32, 613, *range(80000, 80015)})
TOKEN_CODES = frozenset({102, 190, 463, 467})
PERMISSION_CODES = frozenset({10, *range(200, 300)})
USAGE_HEADERS = ("x-business-use-case-usage", "x-page-usage", "x-app-usage", "x-ad-account-usage")
DEFAULT_THROTTLE_WAIT = timedelta(minutes=5)  # Facebook often gives no time; back off properly
COMMENT_FIELDS = "id,message,created_time,from{id,name},parent{id},permalink_url"
TAGGED_FIELDS = "id,message,created_time,updated_time,from{id,name},permalink_url"
POST_FIELDS = "id,created_time,updated_time,permalink_url"
PAGE_FIELDS = "id,name,username,followers_count,fan_count,link"
RECONNECT = "Facebook no longer accepts Kindly's access to this Page. Reconnect this account."
MISSING_PERMISSION = (
    "Facebook says Kindly is missing a permission for this Page. Reconnect this account and "
    "allow Kindly to read and reply to comments."
)
MAX_PAGES = 500  # per stream; a guard against a server that never stops paging

_Parser = Callable[[dict[str, Any]], "RemoteMention | None"]


def with_api_version(base_url: str) -> str:
    """Pin the Graph API version unless the address already names one."""
    path = urlsplit(base_url).path
    return base_url if re.search(r"/v\d+\.\d+$", path) else f"{base_url}/{API_VERSION}"


def error_object(response: httpx.Response) -> dict[str, Any] | None:
    """The ``error`` object of a Graph API error body, if the body is one."""
    body = json_or_none(response)
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else None


def _code(error: dict[str, Any], key: str = "code") -> int | None:
    value = error.get(key)
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def regain_access_at(headers: httpx.Headers, now: datetime) -> datetime | None:
    """The latest ``estimated_time_to_regain_access`` (minutes) in the usage headers."""
    minutes = 0.0

    def scan(value: Any) -> None:
        nonlocal minutes
        if isinstance(value, dict):
            estimate = value.get("estimated_time_to_regain_access")
            if isinstance(estimate, int | float):
                minutes = max(minutes, float(estimate))
            for inner in value.values():
                scan(inner)
        elif isinstance(value, list):
            for inner in value:
                scan(inner)

    for name in USAGE_HEADERS:
        raw = headers.get(name)
        if raw:
            try:
                scan(json.loads(raw))
            except (ValueError, RecursionError):  # not JSON, or nested thousands deep
                continue
    return now + timedelta(minutes=minutes) if minutes > 0 else None


def facebook_rate_limit(response: httpx.Response) -> RateLimitSignal | None:
    """Throttling is an error code in the body (4, 17, 32, 613, 800xx), usually HTTP 400/403."""
    if response.status_code < 400:
        return None
    error = error_object(response)
    if response.status_code != 429 and (error is None or _code(error) not in THROTTLE_CODES):
        return None
    now = datetime.now(UTC)
    return RateLimitSignal(regain_access_at(response.headers, now) or now + DEFAULT_THROTTLE_WAIT)


def error_for(response: httpx.Response) -> NetworkError:
    """The typed error for a Graph API error answer that is not throttling."""
    error = error_object(response) or {}
    code, subcode = _code(error), _code(error, "error_subcode")
    message = snippet(clean_text(str(error.get("message") or "")), 300)
    technical = f"HTTP {response.status_code}: code {code}/{subcode}: {message}"
    if code in TOKEN_CODES:
        return AuthError(RECONNECT, technical)
    if code in PERMISSION_CODES:
        return AuthError(MISSING_PERMISSION, technical)
    gone = code == 100 and (subcode == 33 or "does not exist" in message.lower())
    if gone or response.status_code == 404:
        return NotFound(
            "That post or comment is no longer on Facebook (deleted, hidden or private).",
            technical,
        )
    if code in (1, 2) or error.get("is_transient") is True:
        return ServerError("Facebook is having trouble. Kindly will try again.", technical)
    if code == 368:
        return Rejected(
            "Facebook blocked this for now as possibly abusive. Try again later, or reply on "
            "Facebook itself.",
            technical,
        )
    if response.status_code == 401:
        return AuthError(RECONNECT, technical)
    return Rejected(f"Facebook refused this request: {message or 'no reason given'}.", technical)


# -- parsing (public so the contract tests run every recording through it) ------------------------


def parse_person(value: Any) -> RemotePerson | None:
    """A ``from`` object; None when Facebook left it out (it does without permission)."""
    if not isinstance(value, dict) or not value.get("id"):
        return None
    name = clean_text(str(value.get("name") or ""))
    return RemotePerson(remote_id=str(value["id"]), handle=name, display_name=name)


def parse_comment(item: dict[str, Any], post_id: str) -> RemoteMention | None:
    cid, parent_id = comment_ids(item)
    created = parse_time(item.get("created_time"))
    if cid is None or created is None:
        log.warning("Facebook sent a comment without an id or time; ignored")
        return None
    markup = str(item.get("message") or "")
    permalink = item.get("permalink_url")
    return RemoteMention(
        network=Network.FACEBOOK,
        remote_id=cid,
        author=parse_person(item.get("from")),
        text=clean_text(markup),
        created_at=created,
        markup=markup,
        url=permalink if isinstance(permalink, str) else None,
        in_reply_to_id=parent_id or post_id,
        conversation_id=post_id,
        kind="comment",
        raw={**item, "id": cid, **({"parent": {"id": parent_id}} if parent_id else {})},
    )


def parse_post(item: dict[str, Any], kind: str = "tag") -> RemoteMention | None:
    """A post (tagged posts are the ones that mention the Page)."""
    pid = item.get("id")
    created = parse_time(item.get("created_time"))
    if not isinstance(pid, str) or not pid or created is None:
        log.warning("Facebook sent a post without an id or time; ignored")
        return None
    markup = str(item.get("message") or "")
    permalink = item.get("permalink_url")
    return RemoteMention(
        network=Network.FACEBOOK,
        remote_id=pid,
        author=parse_person(item.get("from")),
        text=clean_text(markup),
        created_at=created,
        markup=markup,
        url=permalink if isinstance(permalink, str) else f"{WEB_URL}/{pid}",
        kind=kind,
        raw=item,
    )


def parse_page(body: dict[str, Any]) -> RemotePerson:
    pid = body.get("id")
    if not isinstance(pid, str) or not pid:
        raise BadResponse(_unreadable(), "page has no id")
    username = body.get("username") if isinstance(body.get("username"), str) else None
    followers = body.get("followers_count", body.get("fan_count"))
    link = body.get("link")
    return RemotePerson(
        remote_id=pid,
        handle=username or pid,
        display_name=clean_text(str(body.get("name") or "")),
        follower_count=followers if isinstance(followers, int) else None,
        profile_url=link if isinstance(link, str) else f"{WEB_URL}/{username or pid}",
    )


def parse_created(body: dict[str, Any]) -> PostedReply:
    """The answer to POST /{object}/comments: ``{"id"}``, plus fields when asked."""
    cid = body.get("id")
    if not isinstance(cid, str) or not cid:
        raise BadResponse(_unreadable(), "created comment has no id")
    permalink = body.get("permalink_url")
    return PostedReply(cid, permalink if isinstance(permalink, str) else None)


def after_cursor(body: dict[str, Any]) -> str | None:
    """The cursor of the next page, only when Facebook says there is one (``paging.next``)."""
    paging = body.get("paging")
    if not isinstance(paging, dict) or not paging.get("next"):
        return None
    cursors = paging.get("cursors")
    after = cursors.get("after") if isinstance(cursors, dict) else None
    if isinstance(after, str) and after:
        return after
    next_query = parse_qs(urlsplit(str(paging["next"])).query)
    found = next_query.get("after") or [""]
    return found[0] or None


# -- sync state -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Mark:
    """How far a stream is stored: the newest time, and the ids stored at exactly that time."""

    time: datetime
    ids: frozenset[str] = frozenset()

    def covers(self, item_time: datetime, item_id: str) -> bool:
        return item_time < self.time or (item_time == self.time and item_id in self.ids)

    def advanced(self, item_time: datetime, item_id: str) -> Mark:
        if item_time > self.time:
            return Mark(item_time, frozenset({item_id}))
        if item_time == self.time:
            return Mark(self.time, self.ids | {item_id})
        return self


@dataclass(frozen=True, slots=True)
class SyncState:
    floor: datetime
    marks: dict[str, Mark]

    @classmethod
    def load(cls, cursor: str | None, default_floor: datetime) -> SyncState:
        if not cursor:
            return cls(default_floor, {})
        try:
            data = json.loads(cursor)
            floor = parse_time(data["floor"]) or default_floor
            marks = {
                key: Mark(parse_time(m["t"]) or floor, frozenset(map(str, m.get("ids", []))))
                for key, m in data.get("marks", {}).items()
            }
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("Facebook cursor unreadable; starting over as a first sync")
            return cls(default_floor, {})
        return cls(floor, marks)

    def mark(self, key: str) -> Mark:
        return self.marks.get(key) or Mark(self.floor)

    def with_mark(self, key: str, mark: Mark) -> SyncState:
        return SyncState(self.floor, {**self.marks, key: mark})

    def only(self, keys: set[str]) -> SyncState:
        return SyncState(self.floor, {k: v for k, v in self.marks.items() if k in keys})

    def dump(self) -> str:
        def stamp(moment: datetime) -> str:
            return moment.astimezone(UTC).isoformat()

        marks = {
            key: {"t": stamp(m.time), "ids": sorted(m.ids)} for key, m in sorted(self.marks.items())
        }
        return json.dumps({"v": 1, "floor": stamp(self.floor), "marks": marks}, sort_keys=True)


# -- the client -----------------------------------------------------------------------------------


class FacebookClient:
    """One Facebook Page over an injected ``httpx.Client``, with a Page access token.

    ``base_url`` may leave out the API version (``https://graph.facebook.com``); the version
    this client was written against is added, so Facebook's defaults cannot change under it.
    """

    network = Network.FACEBOOK

    def __init__(
        self,
        client: httpx.Client,
        base_url: str,
        page_id: str,
        page_token: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        policy: RetryPolicy | None = None,
        posts_to_scan: int = 25,
        page_size: int = 100,
        first_sync_days: float = 14.0,
        readback_pages: int = 3,
    ) -> None:
        self.base_url = with_api_version(check_base_url(base_url or DEFAULT_BASE_URL))
        self.page_id = page_id.strip()
        self._token = page_token
        self._session = HttpSession(client, LABEL, facebook_rate_limit, policy, sleep)
        self.posts_to_scan = max(1, min(100, posts_to_scan))
        self.page_size = max(1, min(100, page_size))
        self.first_sync_days = first_sync_days
        self.readback_pages = max(1, readback_pages)

    # -- NetworkClient ---------------------------------------------------------------------------

    def verify(self) -> RemotePerson:
        """The Page; a Page entered by its username learns its numeric id here, which is what
        ``from.id`` carries on the Page's own comments."""
        page = parse_page(self._get(f"/{self.page_id}", {"fields": PAGE_FIELDS}))
        self.page_id = page.remote_id
        return page

    def fetch_mentions(self, cursor: str | None) -> Iterator[MentionBatch]:
        """Tagged posts, then the comments of the ``posts_to_scan`` newest posts.

        Comments on older posts are not read: each post costs a call on every sync. The first
        sync goes back ``first_sync_days``.
        """
        floor = datetime.now(UTC) - timedelta(days=self.first_sync_days)
        state = SyncState.load(cursor, floor)
        self._numeric_page_id()
        posts = page_items(
            self._get(
                f"/{self.page_id}/posts", {"fields": POST_FIELDS, "limit": str(self.posts_to_scan)}
            )
        )
        post_ids = [p["id"] for p in posts if isinstance(p.get("id"), str) and p["id"]]
        state = state.only({"tagged"} | {f"post:{pid}" for pid in post_ids})
        last_cursor = cursor
        streams: list[tuple[str, str, dict[str, str], _Parser]] = [
            ("tagged", f"/{self.page_id}/tagged", {"fields": TAGGED_FIELDS}, parse_post)
        ]
        comment_params = {
            "fields": COMMENT_FIELDS,
            "filter": "stream",  # replies to comments too, flat
            "order": "reverse_chronological",
        }
        for pid in post_ids:
            of_post: _Parser = partial(parse_comment, post_id=pid)
            streams.append((f"post:{pid}", f"/{pid}/comments", comment_params, of_post))
        for key, path, params, parse in streams:
            mark = state.mark(key)
            for mentions, new_mark in self._walk(path, params, mark, parse):
                if new_mark is None:
                    yield MentionBatch(mentions, None)
                    continue
                state = state.with_mark(key, new_mark)
                dumped = state.dump()
                if mentions or dumped != last_cursor:
                    yield MentionBatch(mentions, dumped)
                    last_cursor = dumped

    def post_reply(self, request: ReplyRequest) -> PostedReply:
        """Comment once as the Page (no idempotency key on Facebook: never retried here)."""
        target = self._reply_object(request)
        response = self._session.request(
            "POST",
            f"{self.base_url}/{target}/comments",
            retry=False,
            headers=self._auth(),
            data={"message": request.text},
        )
        return parse_created(self._checked(response))

    def find_posted_reply(self, request: ReplyRequest) -> PostedReply | None:
        """Read the thread back for a comment from the Page with the same message."""
        target = self._reply_object(request)
        self._numeric_page_id()
        params = {
            "fields": "id,message,created_time,from{id,name},permalink_url",
            "order": "reverse_chronological",
            "limit": str(self.page_size),
        }
        wanted = _comparable(request.text)
        for _ in range(self.readback_pages):
            body = self._get(f"/{target}/comments", params)
            for item in page_items(body):
                author = item.get("from")
                ours = isinstance(author, dict) and str(author.get("id")) == self.page_id
                if ours and _comparable(str(item.get("message") or "")) == wanted:
                    cid, _parent = comment_ids(item)
                    if cid:
                        link = item.get("permalink_url")
                        return PostedReply(cid, link if isinstance(link, str) else None)
            after = after_cursor(body)
            if after is None:
                break
            params["after"] = after
        return None

    def target_status(self, request: ReplyRequest) -> TargetStatus:
        """The pre-send re-check: is the comment still there, and did the Page answer it?"""
        target = request.target.remote_id
        try:
            found = self._get(f"/{target}", {"fields": "id,created_time"})
        except NotFound:
            return TargetStatus(exists=False)
        under = self._reply_object(request)
        since = facebook_target.answered_since(found, request, under)
        self._numeric_page_id()
        params = {
            "fields": facebook_target.READ_FIELDS,
            "order": "reverse_chronological",
            "limit": "100",
        }
        comments = self._get(f"/{under}/comments", params)
        return facebook_target.judge(comments, request, self.page_id, since)

    # -- plumbing --------------------------------------------------------------------------------

    def _walk(
        self,
        path: str,
        params: dict[str, str],
        mark: Mark,
        parse: _Parser,
    ) -> Iterator[tuple[list[RemoteMention], Mark | None]]:
        """One stream newest-first down to ``mark``; the new mark comes only with the last page.

        The walk stops after a page with nothing newer than the mark, so a little disorder in
        Facebook's ordering (the tagged edge sorts by update) costs a page, not a mention.
        """
        query = {**params, "limit": str(self.page_size)}
        new_mark = mark
        seen: set[str] = set()
        afters: set[str] = set()
        for _ in range(MAX_PAGES):
            body = self._get(path, query)
            batch: list[RemoteMention] = []
            fresh_on_page = False
            for item in page_items(body):
                mention = parse(item)
                if mention is None or mention.remote_id in seen:
                    continue
                if mark.covers(mention.created_at, mention.remote_id):
                    continue
                seen.add(mention.remote_id)
                fresh_on_page = True
                new_mark = new_mark.advanced(mention.created_at, mention.remote_id)
                if mention.author is None or mention.author.remote_id != self.page_id:
                    batch.append(mention)  # the Page's own comments are our replies
            after = after_cursor(body)
            if not fresh_on_page or after is None or after in afters:
                yield batch, new_mark
                return
            yield batch, None
            afters.add(after)
            query["after"] = after
        raise BadResponse(_unreadable(), f"{path}: more than {MAX_PAGES} pages")

    def _numeric_page_id(self) -> None:
        if not self.page_id.isdigit():
            self.verify()

    def _reply_object(self, request: ReplyRequest) -> str:
        """Facebook threads only two levels: a reply to a reply goes under its parent."""
        parent = request.target.raw.get("parent")
        parent_id = parent.get("id") if isinstance(parent, dict) else None
        return parent_id if isinstance(parent_id, str) and parent_id else request.target.remote_id

    def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        response = self._session.request(
            "GET", self.base_url + path, params=dict(params), headers=self._auth()
        )
        return self._checked(response)

    def _checked(self, response: httpx.Response) -> dict[str, Any]:
        if response.status_code >= 300:
            raise error_for(response)
        body = expect_dict(json_body(response, LABEL), LABEL, response.request.url.path)
        if isinstance(body.get("error"), dict):
            raise error_for(response)
        return body

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}
