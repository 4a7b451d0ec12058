"""The outbox: where the composer hands a reply, and from where it is sent, at most once.

Queueing is local and works offline. Sending (``app.core.sending``) takes queued replies in
order; each carries an idempotency key created here, so a retry after a crash can be recognised
by the network or reconciled by reading back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from app.core.templates import placeholders
from app.core.vocab import CaseStatus, EventKind, Network, ReplyState
from app.storage.models import Case, CaseEvent, Mention, OutboundReply, database


class ReplyRefused(Exception):
    """The draft cannot be queued as it is; ``user_message`` says what to fix."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


@dataclass(frozen=True, slots=True)
class QueuedReply:
    id: int
    case_id: int
    state: ReplyState
    idempotency_key: str


class Outbox:
    def queue_reply(
        self,
        case_id: int,
        text: str,
        in_reply_to_mention_id: int | None = None,
        template_name: str | None = None,
    ) -> QueuedReply:
        """Queue ``text`` as our reply on the case; the case then waits on them."""
        text = text.strip()
        if not text:
            raise ReplyRefused("The reply is empty.")
        left = placeholders(text)
        if left:
            names = ", ".join("{" + name + "}" for name in left)
            raise ReplyRefused(f"Fill in or remove {names} before sending.")
        now = datetime.now(UTC)
        with database.atomic():
            case = Case.get_by_id(case_id)
            if not Network(case.network).can_reply:
                raise ReplyRefused(
                    "This came from a web feed: there is no one to reply to on a network. "
                    "Open the article to respond there."
                )
            target = in_reply_to_mention_id
            if target is None:
                latest = (
                    Mention.select(Mention.id)
                    .where(Mention.case == case_id)
                    .order_by(Mention.created_at.desc())
                    .first()
                )
                target = latest.id if latest else None
            key = str(uuid.uuid4())
            reply = OutboundReply.create(
                case=case_id,
                account=case.account_id,
                in_reply_to=target,
                text=text,
                template_name=template_name,
                state=ReplyState.QUEUED.value,
                idempotency_key=key,
                created_at=now,
                updated_at=now,
            )
            Case.update(
                reply_count=Case.reply_count + 1,
                status=CaseStatus.WAITING.value,
                bucket=CaseStatus.WAITING.bucket.value,
                status_reason="",
                updated_at=now,
                last_activity_at=now,
            ).where(Case.id == case_id).execute()
            CaseEvent.create(
                case=case_id,
                kind=EventKind.REPLY_QUEUED.value,
                detail=f"Reply queued{f' from template {template_name}' if template_name else ''}",
                actor="officer",
                created_at=now,
            )
        return QueuedReply(reply.id, case_id, ReplyState.QUEUED, key)

    def queued_count(self) -> int:
        return int(
            OutboundReply.select()
            .where(OutboundReply.state.in_([ReplyState.QUEUED.value, ReplyState.SENDING.value]))
            .count()
        )

    def edit_failed(self, reply_id: int, text: str) -> None:
        """A failed reply keeps its text and error; editing puts it back in the queue."""
        text = text.strip()
        left = placeholders(text)
        if not text or left:
            raise ReplyRefused("The reply is empty or still has {placeholders}.")
        updated = (
            OutboundReply.update(
                text=text, state=ReplyState.QUEUED.value, updated_at=datetime.now(UTC)
            )
            .where(
                (OutboundReply.id == reply_id)
                & (OutboundReply.state.in_([ReplyState.FAILED.value, ReplyState.QUEUED.value]))
            )
            .execute()
        )
        if not updated:
            raise ReplyRefused("Only a reply that failed or has not been sent yet can be edited.")
