"""The fixed vocabularies the database stores, as string enums.

They live in storage because it is the lowest layer: the models store these values and
``app.core`` re-exports them (``app.core.vocab``) for the rest of the app.
"""

from __future__ import annotations

from enum import StrEnum


class Network(StrEnum):
    MASTODON = "mastodon"
    BLUESKY = "bluesky"
    X = "x"
    FACEBOOK = "facebook"
    WEB = "web"  # RSS and Atom feeds (news, Google Alerts): read only, never replied to

    @property
    def label(self) -> str:
        return {
            "mastodon": "Mastodon",
            "bluesky": "Bluesky",
            "x": "X",
            "facebook": "Facebook",
            "web": "Web",
        }[self.value]

    @property
    def can_reply(self) -> bool:
        """Whether Kindly can answer there (a news article or alert has no reply button)."""
        return self is not Network.WEB


class Stance(StrEnum):
    SUPPORTER = "supporter"
    NEUTRAL = "neutral"
    OPPONENT = "opponent"
    UNKNOWN = "unknown"


class CaseStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    WAITING = "waiting"  # on them
    RESOLVED = "resolved"
    LEFT_ALONE = "left_alone"
    ESCALATED = "escalated"  # moved to phone or email

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()

    @property
    def bucket(self) -> Bucket:
        return _BUCKET_OF_STATUS[self]


class Bucket(StrEnum):
    """The inbox view a case belongs in; stored so that each view is one index range."""

    NEEDS_REPLY = "needs_reply"
    WAITING = "waiting"
    RESOLVED = "resolved"
    LEFT_ALONE = "left_alone"
    ESCALATED = "escalated"


_BUCKET_OF_STATUS = {
    CaseStatus.NEW: Bucket.NEEDS_REPLY,
    CaseStatus.OPEN: Bucket.NEEDS_REPLY,
    CaseStatus.WAITING: Bucket.WAITING,
    CaseStatus.RESOLVED: Bucket.RESOLVED,
    CaseStatus.LEFT_ALONE: Bucket.LEFT_ALONE,
    CaseStatus.ESCALATED: Bucket.ESCALATED,
}


class ReplyState(StrEnum):
    DRAFT = "draft"
    QUEUED = "queued"
    SENDING = "sending"  # handed to the network; reconcile before any retry
    SENT = "sent"
    FAILED = "failed"


class EventKind(StrEnum):
    """What can happen to a case; every decision is recorded as one of these."""

    CREATED = "created"
    MENTION_ADDED = "mention_added"
    REOPENED = "reopened"
    STATUS_CHANGED = "status_changed"
    DECISION = "decision"  # respond / leave alone / escalate, with who or which rule decided
    REPLY_QUEUED = "reply_queued"
    REPLY_SENT = "reply_sent"
    REPLY_FAILED = "reply_failed"
    NOTE_ADDED = "note_added"
    CHECKLIST = "checklist"  # the closing checklist ticked (app.core.checklist); not shown
