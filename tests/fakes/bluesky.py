"""A fake Bluesky PDS/AppView on 127.0.0.1, answering in the lexicons' shapes.

Sessions behave as on Bluesky: ``createSession`` trades handle + app password for an access and
a refresh token, limited to 30 per 5 minutes; ``refreshSession`` rotates both (the old refresh
token stops working); an expired access token answers 400 ``ExpiredToken``. Notifications are
served newest first with an opaque cursor; records are created under a given ``rkey`` and a
second create under the same key is refused.

    with FakeBluesky() as server:
        server.add_mention(author="ann.example.com", text="hello @kindlytrust.test")
        server.expire_access_tokens()
        ... server.posted_replies() ...
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from app.core.networks.graphemes import grapheme_count
from tests.fakes.server import FakeServer, Request, Response

PASSWORD = "abcd-efgh-ijkl-mnop"  # an app password's shape
POST = "app.bsky.feed.post"
SESSION_LIMIT = 30  # createSession calls per window
SESSION_WINDOW = 300.0
_TID = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
_RKEY = re.compile(r"^[a-zA-Z0-9_~.:-]{1,512}$")


_B32 = "234567abcdefghijklmnopqrstuvwxyz"
_HEX_TO_B32 = str.maketrans("0123456789abcdef", "abcdefghijklmnop")
_PAIRS = [a + b for a in _B32 for b in _B32]  # 10 bits of a TID per entry


def fake_cid(data: Any) -> str:
    """A CID-looking digest (base32 alphabet), cheap enough for 100,000 posts."""
    raw = data if isinstance(data, str) else json.dumps(data, sort_keys=True, default=str)
    return "bafyrei" + hashlib.sha256(raw.encode()).hexdigest()[:52].translate(_HEX_TO_B32)


def _iso(when: datetime) -> str:
    """Bluesky's timestamps ("2026-08-01T12:00:00.000Z"); the fake's clock is always UTC."""
    return when.isoformat(timespec="milliseconds")[:-6] + "Z"


def xrpc_error(name: str, message: str, status: int = 400) -> Response:
    return Response(status, {"error": name, "message": message})


@dataclass(slots=True)
class Profile:
    did: str
    handle: str
    display_name: str = ""
    description: str = ""
    followers: int = 0
    password: str | None = None


@dataclass(slots=True)
class Post:
    uri: str
    cid: str
    author: str  # did
    record: dict[str, Any]
    indexed_at: datetime

    @property
    def rkey(self) -> str:
        return self.uri.rsplit("/", 1)[1]

    def ref(self) -> dict[str, str]:
        return {"uri": self.uri, "cid": self.cid}


@dataclass(slots=True)
class Notification:
    seq: int
    post_uri: str
    reason: str
    indexed_at: datetime
    reason_subject: str | None = None


class FakeBluesky(FakeServer):
    """Accounts (ours is ``me``), posts, notifications and sessions."""

    def __init__(self, handle: str = "kindlytrust.test", password: str = PASSWORD) -> None:
        super().__init__()
        self.accounts: dict[str, Profile] = {}
        self.posts: dict[str, Post] = {}
        self.notifications: list[Notification] = []  # ascending seq (oldest first)
        self.access_tokens: dict[str, str] = {}  # token -> did
        self.refresh_tokens: dict[str, str] = {}
        self.expired: set[str] = set()
        self.create_session_calls = 0
        self.refresh_calls = 0
        self._session_times: list[float] = []
        self.posted: list[str] = []  # uris created through createRecord, in order
        self.overlap = 0  # repeat this many already-served notifications on each next page
        self.page_limit = 100
        self.deleted: set[str] = set()  # uris of deleted posts
        self.deleted_as_node = False  # getPostThread of a deleted post: notFoundPost node
        self.clock = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)
        self._seq = itertools.count(1)
        self._tokens = itertools.count(1)
        self._rkeys = itertools.count(1)
        self._dids = itertools.count(1)
        self._state = threading.RLock()
        self.me = self.add_account(handle, display_name="Kindly Trust", followers=42)
        self.me.password = password
        x = "/xrpc/"
        self.route("POST", x + "com.atproto.server.createSession", self._create_session)
        self.route("POST", x + "com.atproto.server.refreshSession", self._refresh_session)
        self.route("GET", x + "com.atproto.server.getSession", self._get_session)
        self.route("GET", x + "app.bsky.notification.listNotifications", self._list)
        self.route("GET", x + "app.bsky.actor.getProfiles", self._get_profiles)
        self.route("GET", x + "com.atproto.identity.resolveHandle", self._resolve_handle)
        self.route("POST", x + "com.atproto.repo.createRecord", self._create_record)
        self.route("GET", x + "com.atproto.repo.getRecord", self._get_record)
        self.route("GET", x + "app.bsky.feed.getPosts", self._get_posts)
        self.route("GET", x + "app.bsky.feed.getPostThread", self._get_thread)

    # -- helpers for tests --------------------------------------------------------------------

    def _tick(self) -> datetime:
        self.clock += timedelta(seconds=1)
        return self.clock

    def add_account(
        self, handle: str, *, display_name: str = "", followers: int = 0, description: str = ""
    ) -> Profile:
        handle = handle.lstrip("@").lower()
        for profile in self.accounts.values():
            if profile.handle == handle:
                return profile
        did = f"did:plc:fake{next(self._dids):020d}"
        profile = Profile(did, handle, display_name, description, followers)
        self.accounts[did] = profile
        return profile

    def _by_handle(self, handle: str) -> Profile | None:
        handle = handle.lower()
        return next((p for p in self.accounts.values() if p.handle == handle), None)

    def add_post(
        self,
        author: str,
        text: str,
        *,
        reply_to: str | None = None,
        quote: str | None = None,
        created_at: str | None = None,
        rkey: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Post:
        """A post in ``author``'s repo (a handle); ``reply_to``/``quote`` are post URIs."""
        with self._state:
            profile = self.add_account(author)
            when = self._tick()
            record: dict[str, Any] = {
                "$type": POST,
                "text": text,
                "createdAt": created_at or _iso(when),
                "langs": ["en"],
            }
            if reply_to:
                parent = self.posts[reply_to]
                root = parent.record.get("reply", {}).get("root") or parent.ref()
                record["reply"] = {"root": root, "parent": parent.ref()}
            if quote:
                target = self.posts[quote]
                record["embed"] = {"$type": "app.bsky.embed.record", "record": target.ref()}
            record.update(extra or {})
            key = rkey or self._next_rkey()
            uri = f"at://{profile.did}/{POST}/{key}"
            post = Post(uri, fake_cid(record), profile.did, record, when)
            self.posts[uri] = post
            return post

    def _next_rkey(self) -> str:
        """Increasing TIDs (13 chars of base32-sortable), as a PDS hands out."""
        n = next(self._rkeys)
        return "3lvc5ti" + _PAIRS[(n >> 20) & 1023] + _PAIRS[(n >> 10) & 1023] + _PAIRS[n & 1023]

    def add_notification(self, post: Post, reason: str, subject: str | None = None) -> int:
        with self._state:
            note = Notification(next(self._seq), post.uri, reason, self.clock, subject)
            self.notifications.append(note)
            return note.seq

    def add_mention(
        self,
        author: str = "ann.example.com",
        text: str = "Hello @kindlytrust.test",
        *,
        reply_to: str | None = None,
        quote: str | None = None,
        reason: str | None = None,
        display_name: str = "",
        followers: int = 10,
        created_at: str | None = None,
    ) -> Post:
        """A post by ``author`` that mentions, replies to or quotes us, and its notification."""
        with self._state:
            profile = self.add_account(author, display_name=display_name, followers=followers)
            post = self.add_post(
                profile.handle, text, reply_to=reply_to, quote=quote, created_at=created_at
            )
            ours = reply_to and self.posts[reply_to].author == self.me.did
            if reason is None:
                reason = "quote" if quote else "reply" if ours else "mention"
            self.add_notification(post, reason, quote or reply_to)
            return post

    def add_mentions(self, count: int, *, authors: int = 100, text: str = "Mention {i}") -> None:
        """Many mentions at once (benchmarks); rendered only when served."""
        with self._state:
            people = [self.add_account(f"person{i}.example.org") for i in range(authors)]
            for i in range(count):
                profile = people[i % authors]
                when = self._tick()
                record = {"$type": POST, "text": text.format(i=i), "createdAt": _iso(when)}
                uri = f"at://{profile.did}/{POST}/{self._next_rkey()}"
                self.posts[uri] = Post(uri, fake_cid(uri), profile.did, record, when)
                self.notifications.append(Notification(next(self._seq), uri, "mention", when))

    def delete_post(self, uri: str) -> None:
        """The author deleted the post (deleteRecord): gone from threads and lookups."""
        with self._state:
            self.posts.pop(uri, None)
            self.deleted.add(uri)
            self.notifications = [n for n in self.notifications if n.post_uri != uri]

    def expire_access_tokens(self) -> None:
        self.expired.update(self.access_tokens)

    def expire_refresh_tokens(self) -> None:
        self.expired.update(self.refresh_tokens)

    def posted_replies(self) -> list[Post]:
        with self._state:
            return [self.posts[uri] for uri in self.posted]

    # -- rendering ----------------------------------------------------------------------------

    def profile_view(self, profile: Profile, detailed: bool = False) -> dict[str, Any]:
        view: dict[str, Any] = {
            "did": profile.did,
            "handle": profile.handle,
            "displayName": profile.display_name,
            "avatar": f"https://cdn.bsky.app/img/avatar/plain/{profile.did}/bafkrei@jpeg",
            "associated": {"chat": {"allowIncoming": "all"}},
            "viewer": {"muted": False, "blockedBy": False},
            "labels": [],
            "createdAt": "2023-04-26T19:05:34.249Z",
            "description": profile.description,
            "indexedAt": "2024-06-07T03:19:53.642Z",
        }
        if detailed:
            view.update(followersCount=profile.followers, followsCount=12, postsCount=34)
        return view

    def post_view(self, post: Post) -> dict[str, Any]:
        view = self.profile_view(self.accounts[post.author])
        author = {k: v for k, v in view.items() if k not in ("description", "indexedAt")}
        return {
            "uri": post.uri,
            "cid": post.cid,
            "author": author,
            "record": post.record,
            "replyCount": 0,
            "repostCount": 0,
            "likeCount": 0,
            "quoteCount": 0,
            "indexedAt": _iso(post.indexed_at),
            "viewer": {"threadMuted": False},
            "labels": [],
        }

    def render_notification(self, note: Notification) -> dict[str, Any]:
        post = self.posts[note.post_uri]
        item = {
            "uri": post.uri,
            "cid": post.cid,
            "author": self.profile_view(self.accounts[post.author]),
            "reason": note.reason,
            "record": post.record,
            "isRead": False,
            "indexedAt": _iso(note.indexed_at),
            "labels": [],
        }
        if note.reason_subject:
            item["reasonSubject"] = note.reason_subject
        return item

    # -- serving ------------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {
            "ratelimit-limit": "3000",
            "ratelimit-remaining": "2999",
            "ratelimit-reset": str(int(time.time()) + 300),
            "ratelimit-policy": "3000;w=300",
        }

    def _ok(self, body: Any) -> Response:
        return Response(200, body, self._headers())

    def _token(self, request: Request) -> str:
        header = request.headers.get("authorization", "")
        return header[7:] if header.startswith("Bearer ") else ""

    def _caller(self, request: Request) -> Profile | Response:
        token = self._token(request)
        if not token:
            return xrpc_error("AuthMissing", "Authentication Required", 401)
        if token in self.refresh_tokens:
            return xrpc_error("InvalidToken", "Invalid token type", 400)
        if token not in self.access_tokens:
            return xrpc_error("InvalidToken", "Token could not be verified", 400)
        if token in self.expired:
            return xrpc_error("ExpiredToken", "Token has expired", 400)
        return self.accounts[self.access_tokens[token]]

    def _session(self, profile: Profile) -> dict[str, Any]:
        n = next(self._tokens)
        access, refresh = f"fake-access-{n}", f"fake-refresh-{n}"
        self.access_tokens[access] = profile.did
        self.refresh_tokens[refresh] = profile.did
        return {
            "accessJwt": access,
            "refreshJwt": refresh,
            "handle": profile.handle,
            "did": profile.did,
            "email": "team@kindly.example",
            "emailConfirmed": True,
            "emailAuthFactor": False,
            "active": True,
        }

    def _create_session(self, request: Request) -> Response:
        body = request.json() or {}
        with self._state:
            now = time.monotonic()
            self._session_times = [t for t in self._session_times if now - t < SESSION_WINDOW]
            if len(self._session_times) >= SESSION_LIMIT:
                headers = {
                    "ratelimit-limit": str(SESSION_LIMIT),
                    "ratelimit-remaining": "0",
                    "ratelimit-reset": str(int(time.time() + SESSION_WINDOW)),
                    "ratelimit-policy": f"{SESSION_LIMIT};w={int(SESSION_WINDOW)}",
                }
                return Response(
                    429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}, headers
                )
            self._session_times.append(now)
            self.create_session_calls += 1
            identifier = str(body.get("identifier", "")).lstrip("@")
            profile = self._by_handle(identifier) or self.accounts.get(identifier)
            if profile is None or not profile.password or body.get("password") != profile.password:
                return xrpc_error("AuthenticationRequired", "Invalid identifier or password", 401)
            return self._ok(self._session(profile))

    def _refresh_session(self, request: Request) -> Response:
        token = self._token(request)
        with self._state:
            self.refresh_calls += 1
            if token in self.access_tokens:
                return xrpc_error("InvalidToken", "Invalid token type", 400)
            if token not in self.refresh_tokens:
                return xrpc_error("InvalidToken", "Token has been revoked", 400)
            if token in self.expired:
                return xrpc_error("ExpiredToken", "Token has expired", 400)
            did = self.refresh_tokens.pop(token)  # rotation: the old one is spent
            return self._ok(self._session(self.accounts[did]))

    def _get_session(self, request: Request) -> Response:
        caller = self._caller(request)
        if isinstance(caller, Response):
            return caller
        return self._ok(
            {
                "handle": caller.handle,
                "did": caller.did,
                "email": "team@kindly.example",
                "emailConfirmed": True,
                "active": True,
            }
        )

    def _list(self, request: Request) -> Response:
        caller = self._caller(request)
        if isinstance(caller, Response):
            return caller
        limit = min(100, max(1, int(request.arg("limit") or 50)), self.page_limit)
        reasons = set(request.query.get("reasons") or [])
        cursor = request.arg("cursor")
        with self._state:
            notes = self.notifications
            end = len(notes)
            if cursor:
                try:
                    end = int(base64.urlsafe_b64decode(cursor.encode()).decode())
                except ValueError:
                    return xrpc_error("InvalidRequest", "Malformed cursor")
                end = min(len(notes), end + self.overlap)
            page: list[Notification] = []
            index = end
            while index > 0 and len(page) < limit:
                index -= 1
                if not reasons or notes[index].reason in reasons:
                    page.append(notes[index])
            body: dict[str, Any] = {
                "notifications": [self.render_notification(n) for n in page],
                "priority": False,
                "seenAt": _iso(self.clock),
            }
            if index > 0 and page:
                body["cursor"] = base64.urlsafe_b64encode(str(index).encode()).decode()
        return self._ok(body)

    def _get_profiles(self, request: Request) -> Response:
        caller = self._caller(request)
        if isinstance(caller, Response):
            return caller
        actors = request.query.get("actors") or []
        if len(actors) > 25:
            return xrpc_error("InvalidRequest", "Error: actors must not have more than 25 elements")
        found = [self.accounts.get(a) or self._by_handle(a) for a in actors]
        return self._ok({"profiles": [self.profile_view(p, True) for p in found if p]})

    def _resolve_handle(self, request: Request) -> Response:
        profile = self._by_handle(request.arg("handle") or "")
        if profile is None:
            return xrpc_error("InvalidRequest", "Unable to resolve handle")
        return self._ok({"did": profile.did})

    def _create_record(self, request: Request) -> Response:
        caller = self._caller(request)
        if isinstance(caller, Response):
            return caller
        body = request.json() or {}
        if body.get("repo") not in (caller.did, caller.handle):
            return xrpc_error("InvalidRequest", "Invalid repo", 400)
        record, rkey = body.get("record") or {}, body.get("rkey")
        if body.get("collection") != POST or record.get("$type") != POST:
            return xrpc_error("InvalidRequest", "Invalid collection or $type")
        text = str(record.get("text", ""))
        if grapheme_count(text) > 300 or len(text.encode()) > 3000:
            return xrpc_error(
                "InvalidRequest",
                "Invalid app.bsky.feed.post record: Record/text "
                "must not be longer than 300 graphemes",
            )
        for facet in record.get("facets") or []:
            index = facet.get("index", {})
            if not 0 <= index.get("byteStart", -1) < index.get("byteEnd", -1) <= len(text.encode()):
                return xrpc_error("InvalidRequest", "Invalid facet index")
        reply = record.get("reply")
        if reply is not None:
            for part in ("root", "parent"):
                ref = reply.get(part) or {}
                if not ref.get("uri") or not ref.get("cid"):
                    return xrpc_error("InvalidRequest", f"Record/reply/{part} must have uri, cid")
        if rkey is not None and not (_RKEY.match(rkey) and _TID.match(rkey)):
            return xrpc_error("InvalidRequest", "Invalid record key for app.bsky.feed.post")
        with self._state:
            key = rkey or self._next_rkey()
            uri = f"at://{caller.did}/{POST}/{key}"
            if uri in self.posts:
                return xrpc_error("InvalidRequest", f"Record already exists at {uri}")
            post = Post(uri, fake_cid(record), caller.did, record, self._tick())
            self.posts[uri] = post
            self.posted.append(uri)
            return self._ok(
                {
                    "uri": uri,
                    "cid": post.cid,
                    "validationStatus": "valid",
                    "commit": {"cid": fake_cid(uri), "rev": key},
                }
            )

    def _get_record(self, request: Request) -> Response:
        repo, rkey = request.arg("repo") or "", request.arg("rkey") or ""
        profile = self.accounts.get(repo) or self._by_handle(repo)
        uri = f"at://{profile.did if profile else repo}/{request.arg('collection')}/{rkey}"
        post = self.posts.get(uri)
        if post is None:
            return xrpc_error("RecordNotFound", f"Could not locate record: {uri}")
        return self._ok({"uri": post.uri, "cid": post.cid, "value": post.record})

    def _get_posts(self, request: Request) -> Response:
        caller = self._caller(request)
        if isinstance(caller, Response):
            return caller
        uris = request.query.get("uris") or []
        return self._ok({"posts": [self.post_view(self.posts[u]) for u in uris if u in self.posts]})

    def _get_thread(self, request: Request) -> Response:
        caller = self._caller(request)
        if isinstance(caller, Response):
            return caller
        uri = request.arg("uri") or ""
        with self._state:
            post = self.posts.get(uri)
            if post is None and uri in self.deleted and self.deleted_as_node:
                node = {"$type": "app.bsky.feed.defs#notFoundPost", "uri": uri, "notFound": True}
                return self._ok({"thread": node})
            if post is None:
                return xrpc_error("NotFound", f"Post not found: {uri}")

            def node(p: Post, with_parent: bool, depth: int) -> dict[str, Any]:
                out: dict[str, Any] = {
                    "$type": "app.bsky.feed.defs#threadViewPost",
                    "post": self.post_view(p),
                }
                parent_uri = p.record.get("reply", {}).get("parent", {}).get("uri")
                if with_parent and parent_uri in self.posts:
                    out["parent"] = node(self.posts[parent_uri], True, 0)
                if depth > 0:
                    children = [
                        c
                        for c in self.posts.values()
                        if c.record.get("reply", {}).get("parent", {}).get("uri") == p.uri
                    ]
                    out["replies"] = [node(c, False, depth - 1) for c in children]
                return out

            depth = int(request.arg("depth") or 6)
            return self._ok({"thread": node(post, True, depth)})
