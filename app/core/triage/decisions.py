"""The officer's own decisions, recorded exactly like a rule's so the history reads the same.

Rules decide at ingest (``engine``); the officer can decide anything, any time, and their
decision wins: once they have decided or moved a case by hand, triage never moves it again.
"""

from __future__ import annotations

from datetime import UTC, datetime

from app.core.policy.rules import Outcome
from app.core.triage.facts import OFFICER
from app.core.vocab import CaseStatus, EventKind
from app.storage.models import Case, CaseEvent, database

_STATUS = {
    Outcome.LEAVE_ALONE: CaseStatus.LEFT_ALONE,
    Outcome.SPAM: CaseStatus.LEFT_ALONE,
    Outcome.ESCALATE: CaseStatus.ESCALATED,  # the officer says it has moved off the network
    Outcome.RESPOND: CaseStatus.OPEN,
}


class DecisionRefused(ValueError):
    """A decision the domain refuses; the message says what is missing."""


def decide_as_officer(
    case_id: int, outcome: Outcome, reason: str, now: datetime | None = None
) -> str:
    """Record the officer's decision and move the case. Returns the recorded detail.

    Not answering (leave alone, spam) and escalating need a reason: months later it is the
    answer to "why didn't we reply to this?".
    """
    reason = reason.strip()
    if outcome is not Outcome.RESPOND and not reason:
        raise DecisionRefused(f"Say why ({outcome.label.lower()}): the reason is kept on the case.")
    detail = f"{outcome.label}: {reason}" if reason else outcome.label
    status = _STATUS[outcome]
    now = now or datetime.now(UTC)
    changes: dict[str, object] = {
        "status": status.value,
        "bucket": status.bucket.value,
        "status_reason": detail if outcome is not Outcome.RESPOND else "",
        "updated_at": now,
    }
    if outcome is not Outcome.RESPOND:  # off the list: no clock, no rank
        label = "spam" if outcome is Outcome.SPAM else status.label.lower()
        changes.update(priority=0.0, due_at=None, why=f"{label} · officer")
    with database.atomic():
        Case.update(**changes).where(Case.id == case_id).execute()
        CaseEvent.create(
            case=case_id,
            kind=EventKind.DECISION.value,
            actor=OFFICER,
            detail=detail,
            created_at=now,
        )
    return detail
