"""X (API v2): mentions of the account, replies, reading replies back, and a running call count.

X bills per call and has no idempotency key, so a reply is sent once (no automatic retry) and a
reply whose result was lost is found by reading our own recent posts back. Every read and post is
counted in ``usage`` so the UI can show what a sync costs.

Cursor: the id of the newest mention stored (X's ``since_id``). The mentions timeline is
newest-first, so intermediate pages carry ``cursor=None`` and only the last page carries the new
high-water mark: a crash mid-walk leaves the old ``since_id`` stored and the next sync reads the
same range again (the ingest dedupes), so no mention can be skipped.
"""

from __future__ import annotations

import html
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx

from app.core.networks.base import (
    MentionBatch,
    PostedReply,
    RemoteMention,
    RemotePerson,
    ReplyRequest,
    TargetStatus,
    UsageCount,
)
from app.core.networks.errors import (
    AuthError,
    BadResponse,
    NetworkError,
    NotFound,
    Rejected,
)
from app.core.networks.http import (
    HttpSession,
    RateLimitSignal,
    RetryPolicy,
    check_base_url,
    expect_dict,
    json_body,
    json_or_none,
    parse_epoch,
    parse_retry_after,
)
from app.core.text import clean_text, snippet
from app.core.vocab import Network

log = logging.getLogger(__name__)

LABEL = "X"
DEFAULT_BASE_URL = "https://api.x.com"
WEB_URL = "https://x.com"
PAGE_SIZE = 100  # the most X allows per page: fewer calls, and X bills per call
SNOWFLAKE_EPOCH_MS = 1288834974657  # X ids carry their creation time since this instant
TWEET_FIELDS = "created_at,conversation_id,in_reply_to_user_id,referenced_tweets,author_id"
USER_FIELDS = "public_metrics,username,name,description"
RECONNECT = "X no longer accepts this account's sign-in. Reconnect this account (File → Accounts…)."


def x_rate_limit(response: httpx.Response) -> RateLimitSignal | None:
    """X says "slow down" with 429 and an epoch ``x-rate-limit-reset`` (or the 24-hour post cap)."""
    if response.status_code != 429:
        return None
    headers = response.headers
    reset = None
    if headers.get("x-user-limit-24hour-remaining") == "0":
        reset = parse_epoch(headers.get("x-user-limit-24hour-reset"))
    reset = reset or parse_epoch(headers.get("x-rate-limit-reset"))
    reset = reset or parse_retry_after(headers.get("retry-after"), datetime.now(UTC))
    return RateLimitSignal(reset)


# -- parsing (public so the contract tests run every recording through it) ------------------------


def tweet_time(tweet: dict[str, Any]) -> datetime:
    """``created_at`` when asked for; otherwise the time X encodes in every id (snowflake)."""
    created = tweet.get("created_at")
    if isinstance(created, str):
        try:
            parsed = datetime.fromisoformat(created)
            return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except ValueError:
            pass
    tweet_id = str(tweet.get("id", ""))
    if tweet_id.isdigit():
        millis = (int(tweet_id) >> 22) + SNOWFLAKE_EPOCH_MS
        return datetime.fromtimestamp(millis / 1000, tz=UTC)
    return datetime.now(UTC)


def parse_user(user: dict[str, Any]) -> RemotePerson:
    username = str(user.get("username") or "")
    metrics = user.get("public_metrics")
    followers = metrics.get("followers_count") if isinstance(metrics, dict) else None
    return RemotePerson(
        remote_id=str(user.get("id", "")),
        handle=username,
        display_name=clean_text(str(user.get("name") or "")),
        follower_count=followers if isinstance(followers, int) else None,
        profile_url=f"{WEB_URL}/{username}" if username else None,
        bio=clean_text(str(user.get("description") or "")),
    )


def _id_key(tweet_id: str) -> int:
    return int(tweet_id) if tweet_id.isdigit() else -1


def _newer(a: str | None, b: str | None) -> str | None:
    """The newer of two ids (X ids grow with time; compare as numbers, not strings)."""
    if a is None or b is None:
        return a or b
    return a if _id_key(a) >= _id_key(b) else b


def tweet_url(tweet_id: str, username: str | None) -> str:
    return f"{WEB_URL}/{username or 'i/web'}/status/{tweet_id}"


def parse_tweet(
    tweet: dict[str, Any], users: dict[str, RemotePerson], me_id: str | None = None
) -> RemoteMention | None:
    """One post from a timeline; None when it has no id (nothing could be stored for it)."""
    tweet_id = tweet.get("id")
    if not isinstance(tweet_id, str) or not tweet_id:
        log.warning("X sent a post without an id; ignored")
        return None
    markup = str(tweet.get("text") or "")
    author_id = tweet.get("author_id")
    author = None
    if isinstance(author_id, str) and author_id:
        author = users.get(author_id) or RemotePerson(remote_id=author_id, handle="")
    kind, in_reply_to, addressed = "mention", None, True
    for ref in tweet.get("referenced_tweets") or []:
        if not isinstance(ref, dict):
            continue
        if ref.get("type") == "replied_to":
            kind, in_reply_to = "reply", str(ref.get("id") or "") or None
        elif ref.get("type") == "quoted" and kind == "mention":
            kind = "quote"
        elif ref.get("type") == "retweeted":
            addressed = False  # someone passing a mention on, not talking to us
    if me_id and tweet.get("in_reply_to_user_id") == me_id:
        addressed = True
    conversation = tweet.get("conversation_id")
    return RemoteMention(
        network=Network.X,
        remote_id=tweet_id,
        author=author,
        text=clean_text(html.unescape(markup)),  # X escapes &, < and > in post text
        created_at=tweet_time(tweet),
        markup=markup,
        url=tweet_url(tweet_id, author.handle if author else None),
        in_reply_to_id=in_reply_to,
        conversation_id=str(conversation) if conversation and conversation != tweet_id else None,
        kind=kind,
        addressed_to_us=addressed,
        raw=tweet,
    )


def included_users(body: dict[str, Any]) -> dict[str, RemotePerson]:
    includes = body.get("includes")
    users = includes.get("users") if isinstance(includes, dict) else None
    return {
        str(user["id"]): parse_user(user)
        for user in users or []
        if isinstance(user, dict) and user.get("id")
    }


def parse_timeline(body: dict[str, Any], me_id: str | None = None) -> list[RemoteMention]:
    """A timeline page (``data`` list + ``includes.users``) as mentions, in the order sent."""
    data = body.get("data") or []
    if not isinstance(data, list):
        raise BadResponse(_unreadable(), f"timeline data is {type(data).__name__}")
    users = included_users(body)
    parsed = (parse_tweet(t, users, me_id) for t in data if isinstance(t, dict))
    return [m for m in parsed if m is not None]


def next_token(body: dict[str, Any]) -> str | None:
    meta = body.get("meta")
    token = meta.get("next_token") if isinstance(meta, dict) else None
    return token if isinstance(token, str) and token else None


def parse_created(body: dict[str, Any], username: str | None = None) -> PostedReply:
    """The 201 answer to POST /2/tweets."""
    data = expect_dict(body.get("data"), LABEL, "created post")
    post_id = data.get("id")
    if not isinstance(post_id, str) or not post_id:
        raise BadResponse(_unreadable(), "created post has no id")
    return PostedReply(remote_id=post_id, url=tweet_url(post_id, username))


def error_detail(body: Any) -> str:
    """X's own words: ``detail``/``title`` (problem JSON) or ``errors[].message``."""
    if not isinstance(body, dict):
        return ""
    parts = [str(body[k]) for k in ("detail", "title") if body.get(k)]
    for error in body.get("errors") or []:
        if isinstance(error, dict):
            parts.append(str(error.get("detail") or error.get("message") or ""))
    return snippet(clean_text(" ".join(p for p in parts if p)), 300)


def error_for(response: httpx.Response) -> NetworkError:
    """The typed error for a 4xx answer (5xx and 429 are handled by the session)."""
    body: Any = json_or_none(response)
    detail = error_detail(body)
    technical = f"HTTP {response.status_code}: {detail}"
    status = response.status_code
    if status == 401:
        return AuthError(RECONNECT, technical)
    if status == 404:
        return NotFound("That post is no longer on X (deleted or made private).", technical)
    if status == 403:
        return Rejected(f"X refused this: {detail or 'not allowed for this account'}.", technical)
    return Rejected(f"X did not accept the request: {detail or f'HTTP {status}'}.", technical)


def _unreadable() -> str:
    return f"{LABEL} sent an unexpected reply. Kindly will try again later."


def _comparable(text: str) -> str:
    """Text as X may store it: reply @-prefixes and t.co links make exact comparison unsafe."""
    text = html.unescape(text).strip()
    text = re.sub(r"^(?:@\w+\s+)+", "", text)
    text = re.sub(r"https?://\S+", "<link>", text)
    return " ".join(clean_text(text).split()).casefold()


def _replied_to(tweet: dict[str, Any]) -> str | None:
    for ref in tweet.get("referenced_tweets") or []:
        if isinstance(ref, dict) and ref.get("type") == "replied_to":
            return str(ref.get("id") or "") or None
    return None


# -- the client -----------------------------------------------------------------------------------


class XClient:
    """An X account over an injected ``httpx.Client``; a user-context OAuth 2.0 access token.

    ``refresh`` (optional) returns a fresh access token when X answers 401; the caller saves the
    rotated tokens (see ``x_oauth.XOAuth.refresh``). ``usage`` starts from a stored count so the
    UI can show a monthly total across restarts.
    """

    network = Network.X

    def __init__(
        self,
        client: httpx.Client,
        access_token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        user_id: str | None = None,
        username: str | None = None,
        refresh: Callable[[], str] | None = None,
        usage: UsageCount | None = None,
        sleep: Callable[[float], None] = time.sleep,
        policy: RetryPolicy | None = None,
        page_size: int = PAGE_SIZE,
        first_sync_pages: int = 1,
        readback_pages: int = 2,
    ) -> None:
        self.base_url = check_base_url(base_url)
        self._session = HttpSession(client, LABEL, x_rate_limit, policy, sleep)
        self._token = access_token
        self._refresh = refresh
        self._user_id = user_id
        self._username = username
        self._usage = usage or UsageCount()
        self._lock = threading.Lock()
        self.page_size = max(5, min(PAGE_SIZE, page_size))  # X accepts 5..100
        self.first_sync_pages = max(1, first_sync_pages)
        self.readback_pages = max(1, readback_pages)

    @property
    def usage(self) -> UsageCount:
        """Posts and users read, posts created: what X bills for."""
        with self._lock:
            return self._usage

    # -- NetworkClient ---------------------------------------------------------------------------

    def verify(self) -> RemotePerson:
        body = self._get("/2/users/me", {"user.fields": USER_FIELDS})
        data = body.get("data")
        if not isinstance(data, dict) or not data.get("id"):
            raise self._missing_data(body, "users/me")
        me = parse_user(data)
        self._user_id, self._username = me.remote_id, me.handle
        return me

    def fetch_mentions(self, cursor: str | None) -> Iterator[MentionBatch]:
        """Walk the mentions timeline newest-first down to ``cursor`` (a ``since_id``).

        The first sync (no cursor) reads only ``first_sync_pages`` pages: X bills per read, and
        an organisation wants today's mentions, not the last 800.
        """
        since_id = cursor if cursor and cursor.isdigit() else None
        if cursor and since_id is None:
            log.warning("X cursor is not a post id; starting over as a first sync")
        me = self._me_id()
        params = {
            "max_results": str(self.page_size),
            "expansions": "author_id",
            "user.fields": USER_FIELDS,
            "tweet.fields": TWEET_FIELDS,
        }
        if since_id:
            params["since_id"] = since_id
        high, pages = since_id, 0
        seen: set[str] = set()
        tokens: set[str] = set()
        while True:
            body = self._get(f"/2/users/{me}/mentions", params)
            pages += 1
            batch: list[RemoteMention] = []
            for mention in parse_timeline(body, me):
                rid = mention.remote_id
                if rid in seen or (since_id and _id_key(rid) <= _id_key(since_id)):
                    continue  # repeated across pages, or older than asked
                seen.add(rid)
                high = _newer(high, rid)
                if mention.author is None or mention.author.remote_id != me:
                    batch.append(mention)
            token = next_token(body)
            first_sync_done = since_id is None and pages >= self.first_sync_pages
            if token is None or token in tokens or first_sync_done:
                yield MentionBatch(batch, high)  # the high-water mark, only with the last page
                return
            yield MentionBatch(batch, None)
            tokens.add(token)
            params["pagination_token"] = token

    def post_reply(self, request: ReplyRequest) -> PostedReply:
        """POST once (X has no idempotency key); a lost answer is settled by reading back."""
        payload = {
            "text": request.text,
            "reply": {"in_reply_to_tweet_id": request.target.remote_id},
        }
        response = self._send("POST", "/2/tweets", retry=False, json=payload)
        if response.status_code == 403 and "duplicate" in error_detail(json_or_none(response)):
            # X refuses the same text twice: an earlier attempt got through after all.
            found = self.find_posted_reply(request)
            if found is not None:
                return found
        if response.status_code >= 300:
            raise error_for(response)
        posted = parse_created(self._body(response), self._username)
        with self._lock:
            self._usage = UsageCount(self._usage.reads, self._usage.posts + 1)
        return posted

    def find_posted_reply(self, request: ReplyRequest) -> PostedReply | None:
        """Look through our own recent posts for this reply (same target, same text)."""
        me = self._me_id()
        params = {
            "max_results": "100",
            "exclude": "retweets",
            "tweet.fields": "created_at,conversation_id,in_reply_to_user_id,referenced_tweets",
        }
        wanted = _comparable(request.text)
        for _ in range(self.readback_pages):
            body = self._get(f"/2/users/{me}/tweets", params)
            for tweet in body.get("data") or []:
                if not isinstance(tweet, dict):
                    continue
                same_target = _replied_to(tweet) == request.target.remote_id
                if same_target and _comparable(str(tweet.get("text") or "")) == wanted:
                    return PostedReply(
                        str(tweet["id"]), tweet_url(str(tweet["id"]), self._username)
                    )
            token = next_token(body)
            if token is None:
                break
            params["pagination_token"] = token
        return None

    def target_status(self, request: ReplyRequest) -> TargetStatus:
        """Before a reply that waited is sent: is the post still on X, and did our account
        (Kindly, or someone on x.com) already answer it? Two billed reads: ``/2/tweets/:id``
        (a deleted post answers 404, or 200 with a "Not Found" error and no ``data``), then
        one page of our own recent posts (as ``find_posted_reply`` reads them) for replies
        to it."""
        target = request.target.remote_id
        try:
            found = self._get(f"/2/tweets/{target}", {})
        except NotFound:
            return TargetStatus(exists=False)
        if not isinstance(found.get("data"), dict):
            if _says_not_found(found):
                return TargetStatus(exists=False)
            raise self._missing_data(found, "post")
        params = {
            "max_results": "100",
            "exclude": "retweets",
            "tweet.fields": "created_at,conversation_id,in_reply_to_user_id,referenced_tweets",
        }
        body = self._get(f"/2/users/{self._me_id()}/tweets", params)
        wanted = _comparable(request.text)
        ours: list[PostedReply] = []
        same: PostedReply | None = None
        for tweet in body.get("data") or []:
            if not isinstance(tweet, dict) or _replied_to(tweet) != target or not tweet.get("id"):
                continue
            posted = PostedReply(str(tweet["id"]), tweet_url(str(tweet["id"]), self._username))
            ours.append(posted)
            if same is None and _comparable(str(tweet.get("text") or "")) == wanted:
                same = posted
        return TargetStatus(exists=True, our_replies=tuple(ours), same_text=same)

    def get(self, path: str, params: dict[str, str], *, billed: bool = True) -> dict[str, Any]:
        """A GET (listening: recent search, post counts); ``billed`` reads count in ``usage``."""
        if billed:
            return self._get(path, params)
        response = self._send("GET", path, params=dict(params))
        if response.status_code >= 300:
            raise error_for(response)
        return self._body(response)

    @property
    def user_id(self) -> str | None:
        """The account's id on X, when known (no call is made to learn it)."""
        return self._user_id

    # -- plumbing --------------------------------------------------------------------------------

    def _me_id(self) -> str:
        if self._user_id is None:
            self.verify()
        assert self._user_id is not None
        return self._user_id

    def _send(self, method: str, path: str, *, retry: bool = True, **kwargs: Any) -> httpx.Response:
        """One request; on 401 ask ``refresh`` once for a new token (401 means nothing happened)."""
        url = self.base_url + path
        response = self._session.request(method, url, retry=retry, headers=self._auth(), **kwargs)
        if response.status_code == 401 and self._refresh is not None:
            self._token = self._refresh()
            response = self._session.request(
                method, url, retry=retry, headers=self._auth(), **kwargs
            )
        return response

    def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        response = self._send("GET", path, params=dict(params))
        if response.status_code >= 300:
            raise error_for(response)
        body = self._body(response)
        data = body.get("data")
        includes = body.get("includes")
        users = includes.get("users") if isinstance(includes, dict) else None
        read = (len(data) if isinstance(data, list) else int(isinstance(data, dict))) + (
            len(users) if isinstance(users, list) else 0
        )
        with self._lock:
            self._usage = UsageCount(self._usage.reads + read, self._usage.posts)
        return body

    def _body(self, response: httpx.Response) -> dict[str, Any]:
        return expect_dict(json_body(response, LABEL), LABEL, response.request.url.path)

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    def _missing_data(self, body: dict[str, Any], what: str) -> NetworkError:
        """200 without ``data``: X puts the reason in ``errors`` (problem types)."""
        detail = error_detail(body)
        types = " ".join(
            str(e.get("type", "")) for e in body.get("errors") or [] if isinstance(e, dict)
        )
        if "resource-not-found" in types:
            return NotFound("That account or post is no longer on X.", f"{what}: {detail}")
        if "not-authorized" in types:
            return AuthError(RECONNECT, f"{what}: {detail}")
        return BadResponse(_unreadable(), f"{what}: no data; {detail}")


def _says_not_found(body: dict[str, Any]) -> bool:
    """A 200 answer without ``data`` whose ``errors`` say the post is not found (deleted)."""
    for error in body.get("errors") or []:
        if not isinstance(error, dict):
            continue
        words = " ".join(str(error.get(k) or "") for k in ("type", "title", "detail")).lower()
        if any(s in words for s in ("resource-not-found", "not found", "could not find")):
            return True
    return False
