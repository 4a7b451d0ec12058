"""What the officer does to a case: change its status, decide, note, set a person's stance.

Every change is recorded as a ``CaseEvent`` with who made it, so the history of a case answers
"why didn't we reply to this?" months later.
"""

from __future__ import annotations

from datetime import UTC, datetime

from app.core.vocab import CaseStatus, EventKind, Stance
from app.storage.models import Case, CaseEvent, Note, Person, database

OFFICER = "officer"


class CaseError(Exception):
    """A request the domain refuses (for example leaving a case alone without a reason)."""


class CaseService:
    def set_status(
        self, case_id: int, status: CaseStatus, reason: str = "", actor: str = OFFICER
    ) -> None:
        """Move a case; leaving alone and escalating need a reason, which is recorded."""
        reason = reason.strip()
        if status in (CaseStatus.LEFT_ALONE, CaseStatus.ESCALATED) and not reason:
            raise CaseError(f"Say why the case is {status.label.lower()}: the reason is kept.")
        with database.atomic():
            case = Case.get_by_id(case_id)
            before = CaseStatus(case.status)
            if before == status and case.status_reason == reason:
                return
            now = datetime.now(UTC)
            # Out of the inbox, the clock and rank stop and the list says who moved it; back
            # in, the why line is cleared until triage ranks the case again.
            inbox = status in (CaseStatus.NEW, CaseStatus.OPEN)
            Case.update(
                status=status.value,
                bucket=status.bucket.value,
                status_reason=reason,
                updated_at=now,
                priority=case.priority if inbox else 0.0,
                due_at=None,
                why="" if inbox else f"{status.label.lower()} · {actor}",
            ).where(Case.id == case_id).execute()
            detail = f"{before.label} → {status.label}" + (f": {reason}" if reason else "")
            kind = (
                EventKind.DECISION
                if status in (CaseStatus.LEFT_ALONE, CaseStatus.ESCALATED)
                else EventKind.STATUS_CHANGED
            )
            CaseEvent.create(
                case=case_id, kind=kind.value, detail=detail, actor=actor, created_at=now
            )

    def add_case_note(self, case_id: int, text: str) -> int:
        return self._note(text, case=case_id)

    def add_person_note(self, person_id: int, text: str) -> int:
        return self._note(text, person=person_id)

    def _note(self, text: str, case: int | None = None, person: int | None = None) -> int:
        text = text.strip()
        if not text:
            raise CaseError("A note needs some text.")
        with database.atomic():
            note = Note.create(case=case, person=person, text=text)
            if case is not None:
                CaseEvent.create(
                    case=case, kind=EventKind.NOTE_ADDED.value, detail="", actor=OFFICER
                )
        return int(note.id)

    def set_stance(self, person_id: int, stance: Stance) -> None:
        Person.update(stance=stance.value, updated_at=datetime.now(UTC)).where(
            Person.id == person_id
        ).execute()

    def set_keep(self, case_id: int, keep: bool) -> None:
        Case.update(keep=keep).where(Case.id == case_id).execute()
