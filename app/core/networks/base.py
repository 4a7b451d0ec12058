"""The contract every network client fulfils, and the plain data it hands to the sync engine.

Clients never touch the database: they turn a network's responses into ``RemoteMention``
objects and say, batch by batch, which cursor may be stored *with* that batch. The sync engine
stores a batch and its cursor in one transaction, so a crash never skips or repeats anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from app.core.vocab import Network


@dataclass(frozen=True, slots=True)
class RemotePerson:
    """Someone on a network, as the network describes them."""

    remote_id: str
    handle: str
    display_name: str = ""
    follower_count: int | None = None
    profile_url: str | None = None
    bio: str = ""


@dataclass(frozen=True, slots=True)
class RemoteMention:
    """One post or comment that mentions, replies to or quotes the organisation.

    ``text`` is plain text (markup already converted); ``markup`` keeps the original (HTML for
    Mastodon, the record JSON for Bluesky, …); ``raw`` is the whole payload item, kept so a reply
    can be threaded correctly later (Bluesky strong refs, Facebook comment ids).
    """

    network: Network
    remote_id: str
    author: RemotePerson | None  # None: the network did not say (Facebook may omit it)
    text: str
    created_at: datetime  # timezone-aware, UTC
    markup: str = ""
    url: str | None = None
    in_reply_to_id: str | None = None
    conversation_id: str | None = None  # the thread's root; None means this post starts one
    kind: str = "mention"  # mention, reply, quote, comment, tag, search
    addressed_to_us: bool = True
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MentionBatch:
    """A page of mentions plus the cursor that may be stored in the same transaction.

    ``cursor`` is None when this batch must not advance the stored cursor yet (for example a
    newest-first walk that has not reached the previous high-water mark).
    """

    mentions: list[RemoteMention]
    cursor: str | None


@dataclass(frozen=True, slots=True)
class ReplyTarget:
    """What a client needs to know about the mention being answered."""

    remote_id: str
    conversation_id: str | None
    author_handle: str | None
    raw: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ReplyRequest:
    text: str
    target: ReplyTarget
    idempotency_key: str  # stable across retries and restarts


@dataclass(frozen=True, slots=True)
class PostedReply:
    remote_id: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class TargetStatus:
    """What the network says now about the post a waiting reply answers (the pre-send check).

    ``our_replies``: replies from the organisation's own account directly under that post,
    whoever wrote them (Kindly, or a colleague on the network's website); ``same_text``: the
    one of them with this request's text, if any (an earlier attempt of this very reply, when
    it was tried before).
    """

    exists: bool
    our_replies: tuple[PostedReply, ...] = ()
    same_text: PostedReply | None = None


@dataclass(frozen=True, slots=True)
class UsageCount:
    """Calls made, for networks that bill per call (X)."""

    reads: int = 0
    posts: int = 0


class NetworkClient(Protocol):
    """What the sync engine and the outbox need from a network."""

    network: Network

    def verify(self) -> RemotePerson:
        """Check the credentials; return the account's own identity. Raises AuthError."""
        ...

    def fetch_mentions(self, cursor: str | None) -> Iterator[MentionBatch]:
        """Yield new mentions since ``cursor`` (None: first sync), batch by batch."""
        ...

    def post_reply(self, request: ReplyRequest) -> PostedReply:
        """Post once. Networks with idempotency keys get ``request.idempotency_key``."""
        ...

    def find_posted_reply(self, request: ReplyRequest) -> PostedReply | None:
        """Read back whether a reply whose result was never recorded did reach the network."""
        ...


class ChecksTarget(Protocol):
    """Optional capability (looked up with ``getattr``): clients without it skip the check."""

    def target_status(self, request: ReplyRequest) -> TargetStatus:
        """Whether ``request.target`` still exists and who from our account answered it.
        Raises NetworkError like any call (NotFound for a post that is gone is also fine)."""
        ...
