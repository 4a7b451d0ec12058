"""A fake X API v2 on 127.0.0.1, answering in the shapes of the tweepy recordings.

State: users, posts (mentions of our account and our own posts), the valid access token, and an
OAuth 2.0 authorization server (authorize redirect + token endpoint with PKCE S256 checks).
Fields appear only when asked for (``tweet.fields``, ``user.fields``, ``expansions``), as on X.

    with FakeX() as x:
        x.add_mention("@kindlytrust hello", author="ann")
        x.fail("GET", f"/2/users/{x.me}/mentions", Fault.http_status(429, headers=...))
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from tests.fakes.server import FakeServer, Request, Response

SNOWFLAKE_EPOCH_MS = 1288834974657
DEFAULT_FIELDS = ("edit_history_tweet_ids", "id", "text")  # what X sends without tweet.fields
CLIENT_ID = "kindly-test-client"
TOKEN_PREFIX = "7140dibdnow9c7btw423"  # next_token looks like the recordings' opaque tokens


def snowflake(when: datetime, sequence: int) -> str:
    millis = int(when.timestamp() * 1000) - SNOWFLAKE_EPOCH_MS
    return str((millis << 22) + (sequence % (1 << 22)))


def rate_headers(remaining: int = 449) -> dict[str, str]:
    return {
        "x-rate-limit-limit": "450",
        "x-rate-limit-remaining": str(remaining),
        "x-rate-limit-reset": str(int(time.time()) + 900),
    }


def problem(status: int, title: str, detail: str, kind: str = "about:blank") -> Response:
    """X's error shape (RFC 7807 problem JSON)."""
    return Response(status, {"title": title, "detail": detail, "type": kind, "status": status})


class FakeX(FakeServer):
    def __init__(self, username: str = "kindlytrust", name: str = "Kindly Trust") -> None:
        super().__init__()
        self.token: str | None = "x-test-token"
        self.users: dict[str, dict[str, Any]] = {}
        self.tweets: dict[str, dict[str, Any]] = {}
        self.mention_ids: list[str] = []
        self.overlap = 0  # items of the previous page repeated at the top of the next one
        self.prefix_reply_mentions = True  # store replies as "@them text", as X shows them
        self.deleted_as_404 = False  # a deleted post: 404 (else 200 with a "Not Found" error)
        self.clock = datetime.now(UTC) - timedelta(hours=6)
        self._sequence = itertools.count(1)
        self._user_ids = itertools.count(1000)
        self.me = self.add_user(username, name, followers=1200)
        # OAuth 2.0
        self.client_id = CLIENT_ID
        self.deny_authorization = False
        self.codes: dict[str, dict[str, str]] = {}
        self.refresh_tokens: set[str] = set()
        self._issued = itertools.count(1)
        self._routes_setup()

    # -- helpers for tests ---------------------------------------------------------------------

    def add_user(
        self, username: str, name: str | None = None, followers: int = 10, bio: str = ""
    ) -> str:
        with self.lock:
            for user in self.users.values():
                if user["username"] == username:
                    return str(user["id"])
            uid = str(next(self._user_ids))
            self.users[uid] = {
                "id": uid,
                "name": name or username.title(),
                "username": username,
                "description": bio,
                "public_metrics": {
                    "followers_count": followers,
                    "following_count": 3,
                    "tweet_count": 42,
                    "listed_count": 0,
                },
            }
            return uid

    def _new_tweet(self, author_id: str, text: str, created_at: datetime | None) -> dict[str, Any]:
        self.clock = max(self.clock + timedelta(seconds=1), created_at or self.clock)
        when = created_at or self.clock
        tid = snowflake(when, next(self._sequence))
        tweet: dict[str, Any] = {
            "id": tid,
            "text": text,
            "edit_history_tweet_ids": [tid],
            "author_id": author_id,
            "created_at": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "conversation_id": tid,
        }
        self.tweets[tid] = tweet
        return tweet

    def add_mention(
        self,
        text: str,
        author: str = "ann",
        *,
        followers: int = 10,
        created_at: datetime | None = None,
        in_reply_to: str | None = None,
        quote_of: str | None = None,
    ) -> str:
        """A post that mentions us; ``in_reply_to`` makes it a reply in that post's thread."""
        with self.lock:
            author_id = self.add_user(author, followers=followers)
            tweet = self._new_tweet(author_id, text, created_at)
            refs = []
            if in_reply_to:
                parent = self.tweets[in_reply_to]
                refs.append({"type": "replied_to", "id": in_reply_to})
                tweet["in_reply_to_user_id"] = parent["author_id"]
                tweet["conversation_id"] = parent["conversation_id"]
            if quote_of:
                refs.append({"type": "quoted", "id": quote_of})
            if refs:
                tweet["referenced_tweets"] = refs
            self.mention_ids.append(tweet["id"])
            return str(tweet["id"])

    def add_mentions(
        self, count: int, author: str = "ann", text: str = "@kindlytrust #{i}"
    ) -> list[str]:
        return [self.add_mention(text.format(i=i), author) for i in range(count)]

    def duplicate(self, tweet_id: str) -> None:
        """List a mention twice in the timeline (X has been seen to repeat across pages)."""
        with self.lock:
            self.mention_ids.append(tweet_id)

    def own_posts(self) -> list[dict[str, Any]]:
        with self.lock:
            return [t for t in self.tweets.values() if t["author_id"] == self.me]

    def replies_to(self, tweet_id: str) -> list[dict[str, Any]]:
        """Our replies to one post: a test asserts there is exactly one (at most once)."""
        return [
            t
            for t in self.own_posts()
            if {"type": "replied_to", "id": tweet_id} in t.get("referenced_tweets", [])
        ]

    def delete_tweet(self, tweet_id: str) -> None:
        """The author deleted the post: gone from the timelines and from lookups."""
        with self.lock:
            self.tweets.pop(tweet_id, None)
            self.mention_ids = [t for t in self.mention_ids if t != tweet_id]

    def add_own_reply(self, text: str, in_reply_to: str) -> str:
        """A reply from our account written on x.com (not through the API client)."""
        with self.lock:
            tweet = self._new_tweet(self.me, text, None)
            parent = self.tweets[in_reply_to]
            tweet["referenced_tweets"] = [{"type": "replied_to", "id": in_reply_to}]
            tweet["in_reply_to_user_id"] = parent["author_id"]
            tweet["conversation_id"] = parent["conversation_id"]
            return str(tweet["id"])

    def expire_token(self) -> None:
        self.token = None

    def mentions_path(self) -> str:
        return f"/2/users/{self.me}/mentions"

    # -- routes ----------------------------------------------------------------------------------

    def _routes_setup(self) -> None:
        self.route("GET", "/2/users/me", self._users_me)
        self.route("GET", "/2/users/{uid}/mentions", self._mentions)
        self.route("GET", "/2/users/{uid}/tweets", self._user_tweets)
        self.route("POST", "/2/tweets", self._create)
        self.route("GET", "/2/tweets/{tid}", self._lookup)
        self.route("GET", "/i/oauth2/authorize", self._authorize)
        self.route("POST", "/2/oauth2/token", self._token)

    def _authorized(self, request: Request) -> bool:
        return self.token is not None and request.headers.get("authorization") == (
            f"Bearer {self.token}"
        )

    def _unauthorized(self) -> Response:
        return problem(401, "Unauthorized", "Unauthorized")

    def _user_json(self, uid: str, request: Request) -> dict[str, Any]:
        user = self.users[uid]
        wanted = set((request.arg("user.fields") or "").split(","))
        out = {k: user[k] for k in ("id", "name", "username")}
        out.update({k: user[k] for k in ("description", "public_metrics") if k in wanted})
        return out

    def _tweet_json(self, tweet: dict[str, Any], request: Request) -> dict[str, Any]:
        wanted = set((request.arg("tweet.fields") or "").split(","))
        if "author_id" in (request.arg("expansions") or "").split(","):
            wanted.add("author_id")
        return {k: v for k, v in tweet.items() if k in DEFAULT_FIELDS or k in wanted}

    def _users_me(self, request: Request) -> Response:
        if not self._authorized(request):
            return self._unauthorized()
        return Response(200, {"data": self._user_json(self.me, request)}, rate_headers())

    def _timeline(self, request: Request, ids: list[str]) -> Response:
        if not self._authorized(request):
            return self._unauthorized()
        size = int(request.arg("max_results") or "10")
        if not 5 <= size <= 100:
            return Response(
                400,
                {
                    "errors": [
                        {"parameters": {"max_results": [str(size)]}, "message": "out of range"}
                    ],
                    "title": "Invalid Request",
                    "detail": "One or more parameters to your request was invalid.",
                    "type": "https://api.twitter.com/2/problems/invalid-request",
                },
            )
        since = int(request.arg("since_id") or "0")
        with self.lock:
            ordered = sorted((t for t in ids if int(t) > since), key=lambda t: int(t), reverse=True)
            token = request.arg("pagination_token")
            start = 0
            if token:
                start = max(0, int(token[len(TOKEN_PREFIX) :], 16) - self.overlap)
            page = ordered[start : start + size]
            end = start + len(page)
            body: dict[str, Any] = {}
            if page:
                body["data"] = [self._tweet_json(self.tweets[t], request) for t in page]
                if "author_id" in (request.arg("expansions") or "").split(","):
                    authors = dict.fromkeys(self.tweets[t]["author_id"] for t in page)
                    body["includes"] = {"users": [self._user_json(a, request) for a in authors]}
            meta: dict[str, Any] = {"result_count": len(page)}
            if page:
                meta["newest_id"], meta["oldest_id"] = page[0], page[-1]
            if end < len(ordered):
                meta["next_token"] = f"{TOKEN_PREFIX}{end:08x}"
            body["meta"] = meta
        return Response(200, body, rate_headers())

    def _mentions(self, request: Request) -> Response:
        if request.params["uid"] != self.me:
            return problem(403, "Forbidden", "Not your timeline")
        return self._timeline(request, list(self.mention_ids))

    def _user_tweets(self, request: Request) -> Response:
        uid = request.params["uid"]
        with self.lock:
            ids = [t["id"] for t in self.tweets.values() if t["author_id"] == uid]
        return self._timeline(request, ids)

    def _lookup(self, request: Request) -> Response:
        """GET /2/tweets/:id; a deleted post answers 200 with an error and no data, as X does."""
        if not self._authorized(request):
            return self._unauthorized()
        tid = request.params["tid"]
        with self.lock:
            tweet = self.tweets.get(tid)
            if tweet is not None:
                return Response(200, {"data": self._tweet_json(tweet, request)}, rate_headers())
        if self.deleted_as_404:
            return problem(404, "Not Found Error", f"Could not find tweet with id: [{tid}].")
        error = {
            "value": tid,
            "detail": f"Could not find tweet with id: [{tid}].",
            "title": "Not Found Error",
            "resource_type": "tweet",
            "parameter": "id",
            "resource_id": tid,
            "type": "https://api.twitter.com/2/problems/resource-not-found",
        }
        return Response(200, {"errors": [error]}, rate_headers())

    def _create(self, request: Request) -> Response:
        if not self._authorized(request):
            return self._unauthorized()
        payload = request.json()
        text = payload.get("text") if isinstance(payload, dict) else None
        if not isinstance(text, str) or not text:
            return problem(400, "Invalid Request", "text is required")
        target = (payload.get("reply") or {}).get("in_reply_to_tweet_id")
        with self.lock:
            if target is not None and target not in self.tweets:
                return problem(
                    403,
                    "Forbidden",
                    "You attempted to reply to a Tweet that is deleted or not visible to you.",
                )
            stored = text
            if target and self.prefix_reply_mentions:
                parent_author = self.users[self.tweets[target]["author_id"]]["username"]
                stored = f"@{parent_author} {text}"
            if any(t["text"] == stored for t in self.own_posts()):
                return problem(
                    403,
                    "Forbidden",
                    "You are not allowed to create a Tweet with duplicate content.",
                )
            tweet = self._new_tweet(self.me, stored, None)
            if target:
                tweet["referenced_tweets"] = [{"type": "replied_to", "id": target}]
                tweet["in_reply_to_user_id"] = self.tweets[target]["author_id"]
                tweet["conversation_id"] = self.tweets[target]["conversation_id"]
        body = {
            "data": {"edit_history_tweet_ids": [tweet["id"]], "id": tweet["id"], "text": stored}
        }
        return Response(201, body, rate_headers())

    # -- OAuth 2.0 (authorization code with PKCE) ------------------------------------------------

    def _authorize(self, request: Request) -> Response:
        """Stands in for the consent page: redirects straight back, like a user saying yes."""
        args = {k: request.arg(k) or "" for k in ("client_id", "redirect_uri", "state")}
        if args["client_id"] != self.client_id or request.arg("code_challenge_method") != "S256":
            return Response(400, "invalid authorization request")
        if request.arg("response_type") != "code" or not request.arg("code_challenge"):
            return Response(400, "invalid authorization request")
        if self.deny_authorization:
            query = {"error": "access_denied", "state": args["state"]}
        else:
            code = secrets.token_urlsafe(16)
            with self.lock:
                self.codes[code] = {
                    "challenge": request.arg("code_challenge") or "",
                    "redirect_uri": args["redirect_uri"],
                    "scope": request.arg("scope") or "",
                }
            query = {"state": args["state"], "code": code}
        return Response(302, b"", {"Location": f"{args['redirect_uri']}?{urlencode(query)}"})

    def _token(self, request: Request) -> Response:
        form = {k: v[0] for k, v in request.form().items()}
        invalid = Response(
            400,
            {
                "error": "invalid_request",
                "error_description": "Value passed for the token was invalid.",
            },
        )
        if form.get("client_id") != self.client_id:
            return Response(
                401,
                {
                    "error": "unauthorized_client",
                    "error_description": "Missing valid authorization header",
                },
            )
        with self.lock:
            if form.get("grant_type") == "authorization_code":
                grant = self.codes.pop(form.get("code", ""), None)
                if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
                    return invalid
                digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
                if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant["challenge"]:
                    return invalid
                scope = grant["scope"]
            elif form.get("grant_type") == "refresh_token":
                if form.get("refresh_token") not in self.refresh_tokens:
                    return invalid
                self.refresh_tokens.discard(form["refresh_token"])  # single use, rotated
                scope = "tweet.read tweet.write users.read offline.access"
            else:
                return invalid
            n = next(self._issued)
            self.token = f"x-access-{n}"
            refresh = f"x-refresh-{n}"
            self.refresh_tokens.add(refresh)
        return Response(
            200,
            {
                "token_type": "bearer",
                "expires_in": 7200,
                "access_token": self.token,
                "scope": scope,
                "refresh_token": refresh,
            },
        )
