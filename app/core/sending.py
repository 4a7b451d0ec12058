"""Sends queued replies, each at most once, even across crashes and lost connections.

The rule: a reply is marked SENDING (committed) *before* it is handed to the network. If the
outcome is then unknown (a crash, a dropped connection, an unreadable answer), it stays SENDING,
and the next run first asks the network whether it arrived (``find_posted_reply``) before
trying again. Networks with idempotency keys (Mastodon) or deterministic record keys (Bluesky)
make even that retry harmless. Only a definite refusal (rejected, deleted, signed out) marks the
reply FAILED, keeping its text and the reason so it can be edited and sent again.

A reply that did not go out at once (it waited in the queue ``RECHECK_AFTER`` or longer, or an
earlier attempt failed, typically because Kindly was offline) is re-checked just before it is
posted, on networks whose client offers ``target_status``: if the post it answers was deleted
meanwhile, or the organisation's account already answered it from outside Kindly (a colleague on
the website), it is not sent; it becomes FAILED with a message saying so, its text kept. The
officer can then send it anyway (``Sender.send_anyway``: no re-check, the decision is recorded)
or edit it. Replies Kindly itself sent to the same post do not count as "already answered".

Only one sender sends from a database at a time, across processes (the app, a scheduled
``kindly sync``, a second window): each round holds ``app.core.sender_lock`` from the first
read to the last write. A sender that finds it held skips the round at once (``SendReport.busy``)
and never waits; the row claim (``_mark_sending``) stays as a second guard.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.core.accounts import AccountError, AccountService
from app.core.networks.base import (
    NetworkClient,
    PostedReply,
    ReplyRequest,
    ReplyTarget,
    TargetStatus,
)
from app.core.networks.errors import (
    AuthError,
    BadResponse,
    NetworkError,
    NotFound,
    Offline,
    RateLimited,
    Rejected,
    ServerError,
)
from app.core.secrets import SecretStoreError
from app.core.sender_lock import SenderBusy, SenderLock, lock_path_for
from app.core.usage import UsageLedger
from app.core.vocab import EventKind, ReplyState
from app.storage.models import CaseEvent, Mention, OutboundReply, database

log = logging.getLogger(__name__)

PENDING = (ReplyState.QUEUED.value, ReplyState.SENDING.value)
# The network may or may not have acted: keep SENDING and read back before any retry.
UNCERTAIN = (Offline, ServerError, BadResponse)
# A reply queued this long ago (or tried before) is re-checked against the network first.
RECHECK_AFTER = timedelta(minutes=2)
DELETED_MESSAGE = (
    "The post this reply answers was deleted (or made private) while the reply waited in the "
    "queue. Your text is kept."
)


@dataclass(slots=True)
class SendReport:
    sent: list[int] = field(default_factory=list)
    reconciled: list[int] = field(default_factory=list)  # found already posted on read-back
    failed: list[int] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)  # offline or rate limited: next time
    errors: dict[int, str] = field(default_factory=dict)
    rechecked: list[int] = field(default_factory=list)  # checked against the network first
    offline: bool = False  # a network could not be reached at all
    busy: str = ""  # another process was sending: nothing was tried this round (says why)


def already_answered_message(answer: str | None) -> str:
    where = f" ({answer})" if answer else ""
    return (
        "Your organisation's account already answered this post from outside Kindly"
        f"{where} while this reply waited. Your text is kept: choose “send anyway” on the reply "
        "if it still adds something."
    )


def _request(reply: OutboundReply) -> ReplyRequest:
    mention = Mention.get_or_none(Mention.id == reply.in_reply_to_id)
    if mention is None:
        raise Rejected("The post this reply answers is no longer in Kindly.")
    target = ReplyTarget(
        remote_id=mention.remote_id,
        conversation_id=mention.conversation_id,
        author_handle=mention.author.handle or None,
        raw=mention.raw or {},
    )
    return ReplyRequest(text=reply.text, target=target, idempotency_key=reply.idempotency_key)


class Sender:
    def __init__(self, accounts: AccountService, lock_path: Path | None = None) -> None:
        self.accounts = accounts
        self.usage = UsageLedger()
        self.lock_path = lock_path  # None: beside the open database file

    def exclusive(self) -> contextlib.AbstractContextManager[object]:
        """Held for a whole round; raises ``SenderBusy`` at once if another sender has it."""
        path = self.lock_path
        if path is None:
            name = getattr(database.obj, "database", "") or ""
            if not name or name == ":memory:" or name.startswith("file:"):
                return contextlib.nullcontext()  # no file another process could share
            path = lock_path_for(Path(name))
        return SenderLock(path)

    def _busy(self, busy: SenderBusy, reply_ids: list[int]) -> SendReport:
        log.info(
            "not sending this round: another sender holds the lock (%s); %d repl%s wait",
            busy.holder or "holder unknown",
            len(reply_ids),
            "y" if len(reply_ids) == 1 else "ies",
        )
        return SendReport(waiting=reply_ids, busy=busy.user_message)

    def pending(self) -> list[int]:
        query = OutboundReply.select(OutboundReply.id).where(OutboundReply.state.in_(PENDING))
        return [row.id for row in query.order_by(OutboundReply.id)]

    def send_pending(self, cancel: threading.Event | None = None) -> SendReport:
        """Send every queued reply, oldest first; an account that is offline is skipped.
        If another process is sending from this database, nothing is tried (``busy``)."""
        try:
            with self.exclusive():
                return self._send_pending(cancel)
        except SenderBusy as busy:
            return self._busy(busy, self.pending())

    def _send_pending(self, cancel: threading.Event | None) -> SendReport:
        report = SendReport()
        clients: dict[int, NetworkClient | None] = {}
        held: dict[int, str] = {}  # accounts stopped in this run (offline, limited): why
        for reply_id in self.pending():
            if cancel is not None and cancel.is_set():
                break
            reply = OutboundReply.get_by_id(reply_id)
            if reply.account.keyring_ref.startswith("demo:"):
                continue  # demo accounts are not connected to anything
            if reply.account_id not in clients:
                clients[reply.account_id] = self._client(reply, report)
            client = clients[reply.account_id]
            if client is None:
                report.waiting.append(reply_id)
                if held.get(reply.account_id):  # held back by the outage: re-check it later
                    self._note_error(reply_id, held[reply.account_id])
                    report.errors[reply_id] = held[reply.account_id]
                continue
            if not self._send_one(client, reply, report):
                clients[reply.account_id] = None  # offline or limited: leave the rest queued
                held[reply.account_id] = report.errors.get(reply_id, "")
        for account_id, client in clients.items():
            if client is not None:
                self.usage.record(account_id, client)
        return report

    def send_anyway(self, reply_id: int) -> SendReport:
        """The officer's override after the pre-send check held a reply back: queue it again
        and send it now without that check (a deleted post still cannot be answered).
        If another process is sending, nothing changes and the report says so (``busy``)."""
        try:
            with self.exclusive():
                return self._send_anyway(reply_id)
        except SenderBusy as busy:
            return self._busy(busy, [reply_id])

    def _send_anyway(self, reply_id: int) -> SendReport:
        report = SendReport()
        now = datetime.now(UTC)
        with database.atomic():
            reply = OutboundReply.get_by_id(reply_id)
            if reply.state not in (ReplyState.FAILED.value, ReplyState.QUEUED.value):
                return report
            OutboundReply.update(state=ReplyState.QUEUED.value, updated_at=now).where(
                OutboundReply.id == reply_id
            ).execute()
            CaseEvent.create(
                case=reply.case_id,
                kind=EventKind.DECISION.value,
                actor="officer",
                detail="Send the reply anyway, without checking the post again",
                created_at=now,
            )
        reply = OutboundReply.get_by_id(reply_id)
        client = self._client(reply, report)
        if client is None:
            report.waiting.append(reply_id)
            return report
        self._send_one(client, reply, report, recheck=False)
        self.usage.record(reply.account_id, client)
        return report

    def _client(self, reply: OutboundReply, report: SendReport) -> NetworkClient | None:
        try:
            return self.accounts.client_for(reply.account_id)
        except (AccountError, SecretStoreError) as error:
            report.errors[reply.id] = error.user_message
            return None

    def _send_one(
        self, client: NetworkClient, reply: OutboundReply, report: SendReport, recheck: bool = True
    ) -> bool:
        """Returns False when the account should not be tried again in this run."""
        reading_back = False
        try:
            request = _request(reply)
            if reply.state == ReplyState.SENDING.value:
                reading_back = True
                found = client.find_posted_reply(request)
                reading_back = False
                if found is not None:
                    self._mark_sent(reply.id, found.remote_id, found.url, reconciled=True)
                    report.reconciled.append(reply.id)
                    return True
            if recheck and _waited(reply):
                outcome = self._recheck(client, reply, request, report)
                if isinstance(outcome, PostedReply):  # an earlier attempt did arrive after all
                    self._mark_sent(reply.id, outcome.remote_id, outcome.url, reconciled=True)
                    report.reconciled.append(reply.id)
                    return True
                if outcome is not None:
                    self._mark_failed(reply.id, outcome)
                    report.failed.append(reply.id)
                    report.errors[reply.id] = outcome
                    return True
            if not self._mark_sending(reply):
                log.info("reply %d was taken up by another sender meanwhile", reply.id)
                return True
            posted = client.post_reply(request)
        except UNCERTAIN as error:
            return self._wait(reply.id, error, report, stop=isinstance(error, Offline))
        except RateLimited as error:
            return self._wait(reply.id, error, report, stop=True)
        except (Rejected, NotFound, AuthError, NetworkError) as error:
            if reading_back and not isinstance(error, NotFound):
                # An earlier attempt may have been posted. A FAILED reply can be edited and
                # queued again, which would post a second reply: it stays SENDING until reading
                # back can tell (e.g. once the account is reconnected).
                return self._wait(reply.id, error, report, stop=isinstance(error, AuthError))
            message = error.user_message
            if isinstance(error, NotFound):
                message = "The post you replied to was deleted or made private. " + message
            self._mark_failed(reply.id, message)
            report.failed.append(reply.id)
            report.errors[reply.id] = message
            return not isinstance(error, AuthError)
        self._mark_sent(reply.id, posted.remote_id, posted.url, reconciled=False)
        report.sent.append(reply.id)
        return True

    def _wait(self, reply_id: int, error: NetworkError, report: SendReport, stop: bool) -> bool:
        """Leave the reply for a later run, saying why; False stops its account for this run."""
        self._note_error(reply_id, error.user_message)
        report.offline = report.offline or isinstance(error, Offline)
        report.waiting.append(reply_id)
        report.errors[reply_id] = error.user_message
        return not stop

    def _recheck(
        self, client: NetworkClient, reply: OutboundReply, request: ReplyRequest, report: SendReport
    ) -> str | PostedReply | None:
        """Why the reply should not go out after all (a message), or the reply itself found
        under the post (an earlier attempt arrived), or None: send it."""
        check = getattr(client, "target_status", None)
        if check is None:
            return None  # this network's client cannot tell: send as before
        status: TargetStatus = check(request)
        report.rechecked.append(reply.id)
        if not status.exists:
            return DELETED_MESSAGE
        ours = {
            row.remote_id
            for row in OutboundReply.select(OutboundReply.remote_id).where(
                OutboundReply.remote_id.is_null(False)
                & (OutboundReply.in_reply_to == reply.in_reply_to_id)
            )
        }
        if reply.state == ReplyState.SENDING.value and status.same_text is not None:
            # Tried before and the same text is there (read-back looks only so far back).
            return status.same_text
        others = [answer for answer in status.our_replies if answer.remote_id not in ours]
        if others:
            return already_answered_message(others[0].url)
        return None

    # -- state changes, each committed on its own -------------------------------------------

    def _mark_sending(self, reply: OutboundReply) -> bool:
        """Claim the reply for one POST: only if no other sender (the app's timer and a
        scheduled ``kindly sync`` may run at once) changed it since it was read."""
        with database.atomic():
            claimed = (
                OutboundReply.update(
                    state=ReplyState.SENDING.value,
                    attempts=OutboundReply.attempts + 1,
                    updated_at=datetime.now(UTC),
                )
                .where(
                    (OutboundReply.id == reply.id)
                    & (OutboundReply.state == reply.state)
                    & (OutboundReply.attempts == reply.attempts)
                )
                .execute()
            )
        return bool(claimed)

    def _mark_sent(self, reply_id: int, remote_id: str, url: str | None, reconciled: bool) -> None:
        now = datetime.now(UTC)
        with database.atomic():
            reply = OutboundReply.get_by_id(reply_id)
            OutboundReply.update(
                state=ReplyState.SENT.value,
                remote_id=remote_id,
                remote_url=url,
                error=None,
                sent_at=now,
                updated_at=now,
            ).where(OutboundReply.id == reply_id).execute()
            CaseEvent.create(
                case=reply.case_id,
                kind=EventKind.REPLY_SENT.value,
                actor="kindly",
                detail="Reply sent" + (" (confirmed by reading back)" if reconciled else ""),
                created_at=now,
            )

    def _mark_failed(self, reply_id: int, message: str) -> None:
        now = datetime.now(UTC)
        with database.atomic():
            reply = OutboundReply.get_by_id(reply_id)
            OutboundReply.update(
                state=ReplyState.FAILED.value, error=message, updated_at=now
            ).where(OutboundReply.id == reply_id).execute()
            CaseEvent.create(
                case=reply.case_id,
                kind=EventKind.REPLY_FAILED.value,
                actor="kindly",
                detail=f"Reply not sent: {message}",
                created_at=now,
            )

    def _note_error(self, reply_id: int, message: str) -> None:
        OutboundReply.update(error=message, updated_at=datetime.now(UTC)).where(
            OutboundReply.id == reply_id
        ).execute()


def _waited(reply: OutboundReply) -> bool:
    """Did this reply not go out straight away (so the world may have moved on)?"""
    if reply.attempts or reply.error:
        return True
    created = reply.created_at
    return created is None or datetime.now(UTC) - created >= RECHECK_AFTER
