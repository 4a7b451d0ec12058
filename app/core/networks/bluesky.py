"""Bluesky: mentions, replies and quotes from notifications; replies as post records (XRPC).

Sessions: the app password is traded once for a session (``createSession``, which Bluesky
limits to 30 per 5 minutes); afterwards the access token is renewed with ``refreshSession``
when it expires. Every new or rotated session goes to ``on_secret_changed`` /
``on_session_changed`` so the caller keeps it in the keyring and resumes from it next time:
a poll never signs in again. Only when the refresh token itself is refused does the client
sign in again, and only if it still holds the app password; otherwise it raises AuthError.

Cursor strategy (crash safety): ``listNotifications`` pages newest first with an opaque cursor
and has no "since". The stored cursor is a high-water mark, ``"<indexedAt>|<uri>"`` of the
newest notification seen. A sync walks pages until it reaches that mark and yields every
batch with ``cursor=None`` except the last, which carries the new mark. A crash mid-walk
leaves the old mark stored, so the next sync walks the same ground again (ingest drops the
duplicates); nothing newer than the stored mark can be skipped.

Replies: Bluesky has no idempotency keys, so ``createRecord`` is never retried blindly; the
record key is derived from the request's idempotency key instead, so a second attempt
collides with the first rather than posting twice, and ``find_posted_reply`` reads that exact
record back (``getRecord``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from app.core.networks.base import (
    MentionBatch,
    PostedReply,
    RemoteMention,
    RemotePerson,
    ReplyRequest,
    ReplyTarget,
    TargetStatus,
)
from app.core.networks.bluesky_records import (
    EXPIRED_ERRORS,
    LABEL,
    PAGE_SIZE,
    POST,
    PROFILE_BATCH,
    REASONS,
    SIGN_IN_INTERVAL,
    SUSPENDED_ERRORS,
    BlueskySession,
    BlueskyThread,
    Mark,
    as_dict,
    as_text,
    bad,
    bluesky_rate_limit,
    check_length,
    error_for,
    error_name,
    mark_of,
    mention_from_post,
    parse_notifications,
    parse_profiles,
    parse_session,
    parse_thread,
    person_from_profile,
    posted_reply_from_record,
    reply_rkey,
    strong_ref,
)
from app.core.networks.errors import (
    AuthError,
    BadResponse,
    NetworkError,
    NotFound,
    Offline,
    Rejected,
    ServerError,
)
from app.core.networks.facets import build_facets
from app.core.networks.http import (
    HttpSession,
    RetryPolicy,
    check_base_url,
    expect_dict,
    json_body,
)
from app.core.text import clean_text
from app.core.vocab import Network

log = logging.getLogger(__name__)

SecretSink = Callable[[dict[str, str]], None]

__all__ = ["BlueskyClient", "BlueskySession", "BlueskyThread", "Mark", "SecretSink"]


# -- the client -------------------------------------------------------------------------------


class BlueskyClient:
    """One Bluesky account, over an injected ``httpx.Client``.

    ``secret`` is what the keyring holds: ``app_password`` when connecting, afterwards the
    session (``access_jwt``, ``refresh_jwt``, ``did``). Every new or rotated session is handed
    to ``on_secret_changed`` (as that mapping) and ``on_session_changed`` (as a session).
    """

    network = Network.BLUESKY
    sign_in_interval = SIGN_IN_INTERVAL  # seconds between two createSession calls, at least

    def __init__(
        self,
        client: httpx.Client,
        base_url: str,
        handle: str,
        secret: Mapping[str, str] | None = None,
        on_secret_changed: SecretSink | None = None,
        *,
        session: BlueskySession | None = None,
        app_password: str | None = None,
        on_session_changed: Callable[[BlueskySession], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        policy: RetryPolicy | None = None,
        backfill: int | None = None,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.base_url = check_base_url(base_url)
        self.handle = handle.strip().lstrip("@")
        secret = secret or {}
        self._password = app_password or secret.get("app_password") or None
        self._session = session or BlueskySession.from_secret(secret, self.handle)
        self._on_secret_changed = on_secret_changed
        self._on_session_changed = on_session_changed
        self._http = HttpSession(client, LABEL, bluesky_rate_limit, policy, sleep)
        self._lock = threading.RLock()
        self._last_sign_in: float | None = None
        self._handles: dict[str, str | None] = {}
        self.backfill = backfill
        self.page_size = max(1, min(page_size, PAGE_SIZE))

    def __repr__(self) -> str:  # never the tokens or password
        return f"BlueskyClient({self.base_url!r}, {self.handle!r})"

    @property
    def session(self) -> BlueskySession | None:
        """The current session (None before the first sign-in), to keep in the keyring."""
        return self._session

    # -- sessions --

    def _post_session(self, nsid: str, token: str | None, body: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self._http.request(
            "POST", f"{self.base_url}/xrpc/{nsid}", json=body, headers=headers
        )

    def _store(self, session: BlueskySession) -> BlueskySession:
        self._session = session
        self.handle = session.handle or self.handle
        if self._on_secret_changed:
            self._on_secret_changed(session.to_secret())
        if self._on_session_changed:
            self._on_session_changed(session)
        return session

    def _sign_in(self) -> BlueskySession:
        """createSession: only without a usable session, and never twice in a short while."""
        if not self._password:
            raise AuthError(
                "Bluesky needs you to sign in to this account again. Reconnect this account "
                "(File → Accounts) "
                "with an app password.",
                "no session and no app password",
            )
        now = time.monotonic()
        if self._last_sign_in is not None and now - self._last_sign_in < self.sign_in_interval:
            raise AuthError(
                "Bluesky keeps refusing Kindly's session for this account. Reconnect it in "
                "Settings.",
                "session refused right after signing in",
            )
        response = self._post_session(
            "com.atproto.server.createSession",
            None,
            {"identifier": self.handle, "password": self._password},
        )
        if response.status_code >= 400:
            name, _ = error_name(response)
            error = error_for(response, "createSession")
            if name == "AuthFactorTokenRequired":
                raise AuthError(
                    "This Bluesky account asks for a sign-in code. Use an app password instead "
                    "(Settings → Privacy and security → App passwords).",
                    str(error),
                )
            if response.status_code == 401 or name in ("AuthenticationRequired", "InvalidRequest"):
                raise AuthError(
                    "Bluesky did not accept this handle and app password. Check them, or create "
                    "a new app password.",
                    str(error),
                )
            raise error
        session = parse_session(json_body(response, LABEL))
        self._last_sign_in = now
        return self._store(session)

    def _refresh(self, stale: BlueskySession) -> BlueskySession:
        """refreshSession; a refused refresh token means signing in again (or reconnecting)."""
        with self._lock:
            if self._session is not None and self._session != stale:
                return self._session  # another thread already renewed it
            response = self._post_session(
                "com.atproto.server.refreshSession", stale.refresh_jwt, None
            )
            if response.status_code < 400:
                return self._store(parse_session(json_body(response, LABEL)))
            error = error_for(response, "refreshSession")
            if not isinstance(error, AuthError) or error_name(response)[0] in SUSPENDED_ERRORS:
                raise error
            log.info("%s: refresh token refused; signing in again if possible", LABEL)
            self._session = None
            return self._sign_in()

    def _current(self) -> BlueskySession:
        with self._lock:
            return self._session or self._sign_in()

    # -- XRPC --

    def _call(
        self,
        method: str,
        nsid: str,
        *,
        what: str,
        params: Any = None,
        body: Any = None,
        retry: bool = True,
    ) -> Any:
        """One XRPC call with the access token; renews it once if it has expired."""
        session = self._current()
        for attempt in (1, 2):
            response = self._http.request(
                method,
                f"{self.base_url}/xrpc/{nsid}",
                retry=retry,
                params=params,
                json=body,
                headers={"Authorization": f"Bearer {session.access_jwt}"},
            )
            expired = response.status_code in (400, 401) and (
                error_name(response)[0] in EXPIRED_ERRORS
            )
            if expired and attempt == 1:
                session = self._refresh(session)
                continue
            if response.status_code >= 400:
                raise error_for(response, what)
            return json_body(response, LABEL)
        raise AssertionError("unreachable")  # pragma: no cover

    def query(self, nsid: str, params: Any, *, what: str) -> Any:
        """An XRPC query with the account's session (listening: searchPosts)."""
        return self._call("GET", nsid, params=params, what=what)

    def _did(self) -> str:
        session = self._current()
        if session.did:
            return session.did
        data = expect_dict(
            self._call("GET", "com.atproto.server.getSession", what="getSession"), LABEL, "me"
        )
        did = as_text(data.get("did"))
        if not did:
            raise bad("getSession without did")
        handle = as_text(data.get("handle")) or session.handle
        with self._lock:
            current = self._session or session
            self._store(BlueskySession(did, handle, current.access_jwt, current.refresh_jwt))
        return did

    # -- NetworkClient --

    def verify(self) -> RemotePerson:
        """Sign in if needed, check the session and return the account's profile."""
        data = expect_dict(
            self._call("GET", "com.atproto.server.getSession", what="getSession"), LABEL, "me"
        )
        did, handle = as_text(data.get("did")), as_text(data.get("handle"))
        if not did:
            raise bad("getSession without did")
        session = self._current()
        if (did, handle or session.handle) != (session.did, session.handle):
            with self._lock:
                self._store(
                    BlueskySession(
                        did, handle or session.handle, session.access_jwt, session.refresh_jwt
                    )
                )
        profiles = self._call(
            "GET", "app.bsky.actor.getProfiles", params={"actors": [did]}, what="getProfiles"
        )
        for profile in expect_dict(profiles, LABEL, "getProfiles").get("profiles") or []:
            if as_dict(profile).get("did") == did:
                return person_from_profile(as_dict(profile))
        return RemotePerson(did, handle or session.handle)

    def follower_counts(self, dids: Iterable[str]) -> dict[str, int]:
        """Follower counts by DID, 25 actors per request; missing ones are simply absent."""
        wanted = list(dict.fromkeys(dids))
        counts: dict[str, int] = {}
        for start in range(0, len(wanted), PROFILE_BATCH):
            chunk = wanted[start : start + PROFILE_BATCH]
            try:
                body = self._call(
                    "GET",
                    "app.bsky.actor.getProfiles",
                    params={"actors": chunk},
                    what="getProfiles",
                )
            except (ServerError, BadResponse, Rejected, NotFound) as exc:
                log.warning("%s: follower counts unavailable: %s", LABEL, exc)
                continue
            counts.update(parse_profiles(body))
        return counts

    def fetch_mentions(self, cursor: str | None) -> Iterator[MentionBatch]:
        """Newest first down to the stored mark; only the last batch carries the new mark."""
        stop = Mark.decode(cursor) if cursor else None
        if cursor and stop is None:
            log.warning("%s: unreadable stored cursor; syncing as if for the first time", LABEL)
        newest = stop
        held: list[RemoteMention] | None = None
        seen: set[str] = set()
        followers: dict[str, int] = {}
        for page in self._pages(stop, seen):
            authors = {
                as_text(as_dict(n.get("author")).get("did"))
                for n in page
                if n.get("reason") in REASONS
            }
            followers.update(self.follower_counts(a for a in authors if a and a not in followers))
            mentions: list[RemoteMention] = []
            for item in reversed(page):  # oldest first, as ingest wants
                mark = mark_of(item)
                if mark and (newest is None or mark > newest):
                    newest = mark
                if item.get("reason") not in REASONS:
                    continue
                try:
                    mentions.append(
                        mention_from_post(item, reason=item["reason"], followers=followers)
                    )
                except BadResponse as exc:
                    log.warning("%s: skipping a notification: %s", LABEL, exc)
            if held is not None:
                yield MentionBatch(held, cursor=None)
            held = mentions
        if newest is not None and newest != stop:
            yield MentionBatch(held or [], cursor=newest.encode())
        elif held:
            yield MentionBatch(held, cursor=None)

    def _pages(self, stop: Mark | None, seen: set[str]) -> Iterator[list[dict[str, Any]]]:
        """Pages of new notifications (newest first), ending at ``stop`` or the backfill."""
        page_cursor: str | None = None
        cursors: set[str] = set()
        budget = self.backfill if stop is None else None
        while True:
            params: dict[str, Any] = {"limit": self.page_size, "reasons": list(REASONS)}
            if page_cursor:
                params["cursor"] = page_cursor
            body = self._call(
                "GET",
                "app.bsky.notification.listNotifications",
                params=params,
                what="listNotifications",
            )
            items, page_cursor = parse_notifications(body)
            page: list[dict[str, Any]] = []
            reached = False
            for item in items:
                mark = mark_of(item)
                if stop is not None and mark is not None:
                    if mark.indexed_at < stop.indexed_at:
                        reached = True  # older than the mark: stored by an earlier sync
                        break
                    if mark.uri == stop.uri:
                        continue  # the mark itself; others of the same instant still count
                uri = as_text(item.get("uri"))
                if uri in seen:
                    continue  # the same notification on two pages
                seen.add(uri)
                page.append(item)
                if budget is not None and item.get("reason") in REASONS:
                    budget -= 1
                    if budget <= 0:
                        reached = True
                        break
            yield page
            if reached or not items or not page_cursor or page_cursor in cursors:
                return
            cursors.add(page_cursor)

    def resolve_handle(self, handle: str) -> str | None:
        """The DID behind a handle, or None when it does not resolve."""
        handle = handle.lower().lstrip("@")
        if handle not in self._handles:
            try:
                body = self._call(
                    "GET",
                    "com.atproto.identity.resolveHandle",
                    params={"handle": handle},
                    what="resolveHandle",
                )
            except (Rejected, NotFound):
                self._handles[handle] = None
            else:
                self._handles[handle] = as_text(as_dict(body).get("did")) or None
        return self._handles[handle]

    def _reply_refs(self, target: ReplyTarget) -> tuple[dict[str, str], dict[str, str]]:
        """(root, parent) strong refs, from the stored notification or, failing that, a read."""
        raw = target.raw
        parent = strong_ref(raw)
        record = as_dict(raw.get("record")) or as_dict(raw.get("value"))
        if parent is None:
            body = self._call(
                "GET",
                "app.bsky.feed.getPosts",
                params={"uris": [target.remote_id]},
                what="getPosts",
            )
            posts = expect_dict(body, LABEL, "getPosts").get("posts") or []
            post = as_dict(posts[0]) if posts else {}
            parent, record = strong_ref(post), as_dict(post.get("record"))
            if parent is None:
                raise NotFound("The post you are replying to is no longer on Bluesky.")
        root = strong_ref(as_dict(record.get("reply")).get("root")) or parent
        return root, parent

    def post_reply(self, request: ReplyRequest) -> PostedReply:
        """createRecord under a record key derived from the idempotency key (no blind retry)."""
        check_length(request.text)
        root, parent = self._reply_refs(request.target)
        did = self._did()
        record: dict[str, Any] = {
            "$type": POST,
            "text": request.text,
            "createdAt": datetime.now(UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "reply": {"root": root, "parent": parent},
        }
        facets = build_facets(request.text, self.resolve_handle)
        if facets:
            record["facets"] = facets
        rkey = reply_rkey(request.idempotency_key)
        body = {"repo": did, "collection": POST, "rkey": rkey, "record": record}
        try:
            created = self._call(
                "POST",
                "com.atproto.repo.createRecord",
                body=body,
                retry=False,
                what="createRecord",
            )
        except (Offline, ServerError, BadResponse, Rejected) as exc:
            # A conflict (already posted) or an answer lost on the way: read the record back.
            try:
                existing = self.find_posted_reply(request)
            except NetworkError:
                existing = None
            if existing is not None:
                return existing
            raise exc
        return posted_reply_from_record(created, self.handle)

    def find_posted_reply(self, request: ReplyRequest) -> PostedReply | None:
        """Read back the record this request would have created (its derived record key)."""
        params = {
            "repo": self._did(),
            "collection": POST,
            "rkey": reply_rkey(request.idempotency_key),
        }
        try:
            body = self._call("GET", "com.atproto.repo.getRecord", params=params, what="getRecord")
        except NotFound:
            return None
        value = as_dict(as_dict(body).get("value"))
        parent = as_text(as_dict(as_dict(value.get("reply")).get("parent")).get("uri"))
        wanted = as_text(request.target.raw.get("uri")) or request.target.remote_id
        if parent != wanted:
            log.warning("%s: record %s answers another post", LABEL, params["rkey"])
            return None
        return posted_reply_from_record(body, self.handle)

    def target_status(self, request: ReplyRequest) -> TargetStatus:
        """Before a reply that waited is sent: is the post still there, and did our account
        (Kindly, or someone in a Bluesky app) already answer it? One ``getPostThread`` call
        (depth 1): a deleted post answers ``NotFound`` or comes back as a ``notFoundPost``
        node; our direct replies are among its replies."""
        uri = as_text(request.target.raw.get("uri")) or request.target.remote_id
        try:
            thread = self.thread(uri, depth=1)
        except NotFound:
            return TargetStatus(exists=False)
        if thread.post is None:
            return TargetStatus(exists=False)
        did = self._did()
        ours = [
            reply
            for reply in thread.replies
            if reply.in_reply_to_id == uri
            and reply.author is not None
            and reply.author.remote_id == did
        ]
        rkey = reply_rkey(request.idempotency_key)
        wanted = _comparable(request.text)
        same = next(
            (
                r
                for r in ours
                if r.remote_id.rsplit("/", 1)[-1] == rkey or _comparable(r.text) == wanted
            ),
            None,
        )
        return TargetStatus(
            exists=True,
            our_replies=tuple(PostedReply(r.remote_id, r.url) for r in ours),
            same_text=PostedReply(same.remote_id, same.url) if same else None,
        )

    def thread(self, uri: str, depth: int = 6) -> BlueskyThread:
        """The conversation around a post (getPostThread)."""
        body = self._call(
            "GET",
            "app.bsky.feed.getPostThread",
            params={"uri": uri, "depth": depth},
            what="getPostThread",
        )
        return parse_thread(body)


def _comparable(text: str) -> str:
    return " ".join(clean_text(text).split()).casefold()
