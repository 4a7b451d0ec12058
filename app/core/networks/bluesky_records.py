"""Bluesky's data as Kindly reads and writes it: sessions, notifications, posts, errors.

Pure functions over the XRPC JSON (lexicon shapes), kept apart from the client in
``bluesky.py`` so the contract tests run them on the recordings without a server.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from app.core.networks.base import PostedReply, RemoteMention, RemotePerson
from app.core.networks.errors import AuthError, BadResponse, NetworkError, NotFound, Rejected
from app.core.networks.graphemes import grapheme_count
from app.core.networks.http import (
    RateLimitSignal,
    expect_dict,
    json_or_none,
    parse_epoch,
    parse_retry_after,
)
from app.core.text import clean_text
from app.core.vocab import Network

LABEL = "Bluesky"
PAGE_SIZE = 100  # listNotifications' maximum
PROFILE_BATCH = 25  # getProfiles' maximum
MAX_GRAPHEMES = 300
MAX_BYTES = 3000
REASONS = ("mention", "reply", "quote")
POST = "app.bsky.feed.post"
SIGN_IN_INTERVAL = 300.0  # at most one createSession per client in this many seconds
EXPIRED_ERRORS = {"ExpiredToken", "InvalidToken"}
SIGNED_OUT_ERRORS = {"ExpiredToken", "InvalidToken", "AuthenticationRequired", "AuthMissing"}
SUSPENDED_ERRORS = {"AccountTakedown", "AccountDeactivated", "AccountSuspended"}
_TID_CHARS = "234567abcdefghijklmnopqrstuvwxyz"
_TID_START = 1_672_531_200_000_000  # 2023-01-01 in microseconds
_TID_SPAN = 365 * 24 * 3600 * 1_000_000


@dataclass(frozen=True, slots=True)
class BlueskySession:
    """What the keyring keeps for an account instead of the app password."""

    did: str
    handle: str
    access_jwt: str
    refresh_jwt: str

    def __repr__(self) -> str:  # never the tokens
        return f"BlueskySession(did={self.did!r}, handle={self.handle!r})"

    def to_secret(self) -> dict[str, str]:
        return {"did": self.did, "access_jwt": self.access_jwt, "refresh_jwt": self.refresh_jwt}

    @classmethod
    def from_secret(cls, secret: Mapping[str, str], handle: str = "") -> BlueskySession | None:
        """The stored session, or None when the secret holds none (only an app password)."""
        access, refresh = secret.get("access_jwt"), secret.get("refresh_jwt")
        if not access or not refresh:
            return None
        return cls(secret.get("did", ""), secret.get("handle", handle), access, refresh)


@dataclass(frozen=True, slots=True, order=True)
class Mark:
    """The newest notification a sync has seen: where the next sync stops."""

    indexed_at: datetime
    uri: str

    def encode(self) -> str:
        return f"{self.indexed_at.isoformat()}|{self.uri}"

    @classmethod
    def decode(cls, cursor: str) -> Mark | None:
        when, _, uri = cursor.partition("|")
        parsed = parse_time(when)
        return cls(parsed, uri) if parsed and uri else None


@dataclass(frozen=True, slots=True)
class BlueskyThread:
    """A post with its parents (root first) and the replies under it (depth first)."""

    ancestors: list[RemoteMention]
    post: RemoteMention | None
    replies: list[RemoteMention]


# -- parsing (pure functions, also run against the recordings and lexicons) -------------------


def bluesky_rate_limit(response: httpx.Response) -> RateLimitSignal | None:
    """429 with ``Retry-After`` (seconds) or ``ratelimit-reset`` (epoch seconds)."""
    if response.status_code != 429:
        return None
    retry_at = parse_retry_after(response.headers.get("retry-after"), datetime.now(UTC))
    return RateLimitSignal(retry_at or parse_epoch(response.headers.get("ratelimit-reset")))


def parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def as_text(value: object) -> str:
    return value if isinstance(value, str) else ""


def as_dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def bad(detail: str) -> BadResponse:
    return BadResponse(f"{LABEL} sent an unexpected reply. It will try again later.", detail)


def parse_session(body: Any) -> BlueskySession:
    """createSession / refreshSession output."""
    data = expect_dict(body, LABEL, "session")
    fields = [as_text(data.get(k)) for k in ("did", "handle", "accessJwt", "refreshJwt")]
    if not all(fields):
        raise bad("session without did, handle or tokens")
    return BlueskySession(*fields)


def split_at_uri(uri: str) -> tuple[str, str, str] | None:
    """``at://did/collection/rkey`` into its parts."""
    if not uri.startswith("at://"):
        return None
    parts = uri[5:].split("/")
    return (parts[0], parts[1], parts[2]) if len(parts) == 3 and all(parts) else None


def post_url(uri: str, handle: str = "") -> str | None:
    """The post's page on bsky.app (by handle when it is valid, else by DID)."""
    parts = split_at_uri(uri)
    if parts is None or parts[1] != POST:
        return None
    who = handle if handle and handle != "handle.invalid" else parts[0]
    return f"https://bsky.app/profile/{who}/post/{parts[2]}"


def person_from_profile(profile: dict[str, Any], followers: int | None = None) -> RemotePerson:
    """A profileView (or Basic/Detailed); ``followersCount`` only comes with Detailed."""
    did, handle = as_text(profile.get("did")), as_text(profile.get("handle"))
    if not did:
        raise bad("profile without did")
    count = profile.get("followersCount", followers)
    return RemotePerson(
        remote_id=did,
        handle=handle,
        display_name=clean_text(as_text(profile.get("displayName")))[:200],
        follower_count=count if isinstance(count, int) and count >= 0 else None,
        profile_url=f"https://bsky.app/profile/{handle or did}",
        bio=clean_text(as_text(profile.get("description")))[:2000],
    )


def _record_text(record: dict[str, Any]) -> str:
    text = clean_text(as_text(record.get("text")))
    embed = as_dict(record.get("embed"))
    media = as_dict(embed.get("media")) or embed
    notes = []
    for image in media.get("images") or []:
        alt = clean_text(as_text(as_dict(image).get("alt")))
        notes.append(f"[image: {alt}]" if alt else "[image]")
    if as_text(embed.get("$type")).startswith("app.bsky.embed.external"):
        link = as_dict(embed.get("external"))
        notes.append(f"[link: {clean_text(as_text(link.get('title')))} {as_text(link.get('uri'))}]")
    return "\n".join([text, *notes]).strip() if notes else text


def mention_from_post(
    item: dict[str, Any],
    *,
    reason: str | None = None,
    followers: Mapping[str, int] | None = None,
    addressed_to_us: bool = True,
) -> RemoteMention:
    """A notification (``reason``, ``record``) or a postView as a mention."""
    uri, author = as_text(item.get("uri")), as_dict(item.get("author"))
    record = as_dict(item.get("record")) or as_dict(item.get("value"))
    if not uri or not author:
        raise bad("post without uri or author")
    reply = as_dict(record.get("reply"))
    parent = as_text(as_dict(reply.get("parent")).get("uri")) or None
    root = as_text(as_dict(reply.get("root")).get("uri")) or parent
    indexed = parse_time(item.get("indexedAt"))
    created = parse_time(record.get("createdAt"))
    if created is None or (indexed is not None and created > indexed):
        created = indexed or datetime.now(UTC)  # createdAt is the client's word; never future
    person = person_from_profile(author, (followers or {}).get(as_text(author.get("did"))))
    kind = reason if reason in REASONS else ("reply" if parent else "mention")
    return RemoteMention(
        network=Network.BLUESKY,
        remote_id=uri,
        author=person,
        text=_record_text(record),
        created_at=created,
        markup=json.dumps(record, ensure_ascii=False, sort_keys=True),
        url=post_url(uri, person.handle),
        in_reply_to_id=parent,
        conversation_id=root,
        kind=kind or "mention",
        addressed_to_us=addressed_to_us,
        raw=item,
    )


def parse_notifications(body: Any) -> tuple[list[dict[str, Any]], str | None]:
    """listNotifications output: the items (newest first) and the next page's cursor."""
    data = expect_dict(body, LABEL, "listNotifications")
    items = data.get("notifications")
    if not isinstance(items, list):
        raise bad("listNotifications without notifications")
    cursor = as_text(data.get("cursor")) or None
    return [n for n in items if isinstance(n, dict)], cursor


def parse_profiles(body: Any) -> dict[str, int]:
    """getProfiles output as follower counts by DID."""
    counts: dict[str, int] = {}
    for profile in expect_dict(body, LABEL, "getProfiles").get("profiles") or []:
        did, count = as_text(as_dict(profile).get("did")), as_dict(profile).get("followersCount")
        if did and isinstance(count, int):
            counts[did] = count
    return counts


def parse_thread(body: Any) -> BlueskyThread:
    """getPostThread output; posts that are gone or blocked are left out."""
    node = as_dict(expect_dict(body, LABEL, "getPostThread").get("thread"))
    if not node.get("post"):
        return BlueskyThread([], None, [])
    ancestors: list[RemoteMention] = []
    parent = as_dict(node.get("parent"))
    while parent.get("post"):
        ancestors.append(mention_from_post(as_dict(parent["post"]), addressed_to_us=False))
        parent = as_dict(parent.get("parent"))
    ancestors.reverse()
    replies: list[RemoteMention] = []

    def walk(children: Iterable[Any]) -> None:
        for child in children:
            child = as_dict(child)
            if child.get("post"):
                replies.append(mention_from_post(as_dict(child["post"]), addressed_to_us=False))
                walk(child.get("replies") or [])

    walk(node.get("replies") or [])
    return BlueskyThread(
        ancestors, mention_from_post(as_dict(node["post"]), addressed_to_us=False), replies
    )


def strong_ref(value: object) -> dict[str, str] | None:
    ref = as_dict(value)
    uri, cid = as_text(ref.get("uri")), as_text(ref.get("cid"))
    return {"uri": uri, "cid": cid} if uri and cid else None


def posted_reply_from_record(body: Any, handle: str = "") -> PostedReply:
    """createRecord or getRecord output."""
    uri = as_text(expect_dict(body, LABEL, "record").get("uri"))
    if not uri:
        raise bad("record without uri")
    return PostedReply(uri, post_url(uri, handle))


def reply_rkey(idempotency_key: str) -> str:
    """A record key (a valid TID) derived from the idempotency key: same key, same record.

    A TID is 53 bits of microseconds and 10 bits of clock id. Both come from a hash of the key;
    the time part falls within 2023, so the key is valid but never looks like a future post.
    """
    digest = int.from_bytes(hashlib.sha256(f"kindly:{idempotency_key}".encode()).digest()[:8])
    value = ((_TID_START + (digest >> 10) % _TID_SPAN) << 10) | (digest & 0x3FF)
    chars = []
    for _ in range(13):
        chars.append(_TID_CHARS[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def check_length(text: str) -> None:
    """Refuse before posting what Bluesky would refuse: over 300 graphemes or 3000 bytes."""
    count = grapheme_count(text)
    if count > MAX_GRAPHEMES:
        raise Rejected(
            f"This reply is {count} characters long; Bluesky allows {MAX_GRAPHEMES}. "
            f"Shorten it by {count - MAX_GRAPHEMES}."
        )
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise Rejected("This reply is too long for Bluesky. Shorten it.")
    if not text.strip():
        raise Rejected("This reply is empty.")


def error_name(response: httpx.Response) -> tuple[str, str]:
    data = as_dict(json_or_none(response))
    return as_text(data.get("error")), clean_text(as_text(data.get("message")))[:200]


def error_for(response: httpx.Response, what: str) -> NetworkError:
    """The typed error for ``{"error": "Name", "message": "…"}``."""
    status = response.status_code
    name, message = error_name(response)
    detail = f"{what}: HTTP {status}: {name}: {message}"
    if name in SUSPENDED_ERRORS:
        return AuthError(
            "Bluesky has suspended or deactivated this account. Reconnect it once it is active.",
            detail,
        )
    if status == 401 or name in SIGNED_OUT_ERRORS:
        return AuthError(
            "Bluesky signed Kindly out of this account. Reconnect this account (File → Accounts…).",
            detail,
        )
    if status == 404 or name in ("RecordNotFound", "NotFound"):
        return NotFound("This post is no longer on Bluesky (deleted, or hidden).", detail)
    return Rejected(f"Bluesky refused this: {message or name or f'HTTP {status}'}.", detail)


def mark_of(item: dict[str, Any]) -> Mark | None:
    indexed, uri = parse_time(item.get("indexedAt")), as_text(item.get("uri"))
    return Mark(indexed, uri) if indexed and uri else None
