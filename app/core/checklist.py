"""The closing checklist of a case: listen, identify the problem, provide information, show you
care, end the conversation. Customer-service practice for closing a conversation well, ticked
per case. Resolving with steps unticked is allowed, but the UI asks once
(``unchecked_before_resolving``).

Storage is behind ``ChecklistStore`` so a dedicated table can replace it later without touching
callers. Today's store is an append-only log in the case history: each change is a
``CaseEvent(kind="checklist", detail='{"checked": [...]}')`` and the latest one wins, which
also keeps who ticked what and when.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

import peewee as pw

from app.core.vocab import EventKind
from app.storage.models import CaseEvent, database

CHECKLIST_EVENT = EventKind.CHECKLIST.value
CHUNK = 400


class Step(StrEnum):
    LISTEN = "listen"
    IDENTIFY = "identify"
    INFORM = "inform"
    CARE = "care"
    CLOSE = "close"

    @property
    def label(self) -> str:
        return _LABELS[self][0]

    @property
    def hint(self) -> str:
        return _LABELS[self][1]


_LABELS = {
    Step.LISTEN: ("Listen", "Read the whole thread; let them say it in their words."),
    Step.IDENTIFY: (
        "Identify the problem",
        "Say back what the problem is, so they know you got it.",
    ),
    Step.INFORM: ("Provide information", "Answer, or say what happens next and when."),
    Step.CARE: ("Show you care", "Thank them; acknowledge how it affected them."),
    Step.CLOSE: ("End the conversation", "Check it's sorted and close warmly."),
}
STEPS: tuple[Step, ...] = tuple(Step)


@dataclass(frozen=True, slots=True)
class Checklist:
    case_id: int
    checked: frozenset[Step] = frozenset()

    @property
    def unchecked(self) -> tuple[Step, ...]:
        return tuple(step for step in STEPS if step not in self.checked)

    @property
    def complete(self) -> bool:
        return not self.unchecked

    def with_step(self, step: Step, done: bool = True) -> Checklist:
        checked = self.checked | {step} if done else self.checked - {step}
        return Checklist(self.case_id, frozenset(checked))


class ChecklistStore(Protocol):
    """Where checklists are kept; swap the implementation, not the callers."""

    def get(self, case_id: int) -> Checklist: ...

    def get_many(self, case_ids: Sequence[int]) -> dict[int, Checklist]: ...

    def save(self, checklist: Checklist, actor: str = "officer") -> None: ...


def encode(checklist: Checklist) -> str:
    return json.dumps({"checked": [s.value for s in STEPS if s in checklist.checked]})


def decode(case_id: int, detail: str) -> Checklist:
    """Tolerant: unknown steps (from a newer Kindly) and damaged rows read as unticked."""
    try:
        data = json.loads(detail)
        names = data.get("checked", []) if isinstance(data, dict) else []
    except ValueError:
        names = []
    known = {s.value: s for s in STEPS}
    return Checklist(case_id, frozenset(known[n] for n in names if n in known))


class EventChecklistStore:
    """Checklists as an append-only log of case events; the latest event of a case wins."""

    def get(self, case_id: int) -> Checklist:
        return self.get_many([case_id])[case_id]

    def get_many(self, case_ids: Sequence[int]) -> dict[int, Checklist]:
        found = {case_id: Checklist(case_id) for case_id in case_ids}
        ids = list(found)
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            latest = (
                CaseEvent.select(pw.fn.MAX(CaseEvent.id))
                .where((CaseEvent.kind == CHECKLIST_EVENT) & CaseEvent.case.in_(chunk))
                .group_by(CaseEvent.case)
            )
            rows = (
                CaseEvent.select(CaseEvent.case, CaseEvent.detail)
                .where(CaseEvent.id.in_(latest))
                .tuples()
            )
            for case_id, detail in rows:
                found[case_id] = decode(case_id, detail)
        return found

    def save(self, checklist: Checklist, actor: str = "officer") -> None:
        """Record the checklist if it changed (ticking the same box twice adds nothing)."""
        with database.atomic():
            if self.get(checklist.case_id).checked == checklist.checked:
                return
            CaseEvent.create(
                case=checklist.case_id,
                kind=CHECKLIST_EVENT,
                detail=encode(checklist),
                actor=actor,
                created_at=datetime.now(UTC),
            )

    def set_step(self, case_id: int, step: Step, done: bool = True) -> Checklist:
        checklist = self.get(case_id).with_step(step, done)
        self.save(checklist)
        return checklist


def unchecked_before_resolving(store: ChecklistStore, case_id: int) -> tuple[Step, ...]:
    """The steps still open; empty means resolving needs no question."""
    return store.get(case_id).unchecked
