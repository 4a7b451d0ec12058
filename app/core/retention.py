"""Deleting data on purpose: everything about one person, or resolved cases past their time.

``forget_person`` removes, in one transaction, everything Kindly holds about the people given
(one person on several networks is several ids: the caller passes them all): their mentions,
their cases with our replies, notes and events on them, their own notes, and the person rows.
Tables added later that point at a case or a person go with them through their foreign keys
(``ON DELETE CASCADE``).

``purge_resolved`` removes resolved cases whose last activity is older than N months, unless the
case is marked to keep (``Case.keep``); people left with nothing at all go too.

Both then scrub what SQLite would otherwise leave readable: deletes run with ``secure_delete``
(freed pages are overwritten with zeros), the full-text index is merged so the deleted words
leave its segments, and the WAL is checkpointed and truncated. No VACUUM: secure_delete already
zeroes the freed space, and VACUUM would rewrite the whole file and lock it for as long.
Backups made earlier still hold the data until they are rotated out (``app.core.backups``).
Nothing is deleted on the networks themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.core.vocab import CaseStatus
from app.storage import sqlite
from app.storage.models import Case, CaseEvent, Mention, Note, OutboundReply, Person, database

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Footprint:
    """How much Kindly holds (or removed) about someone: shown before asking, reported after."""

    people: int = 0
    cases: int = 0
    mentions: int = 0
    replies: int = 0
    notes: int = 0
    events: int = 0

    @property
    def empty(self) -> bool:
        return not (self.people or self.cases or self.mentions or self.replies or self.notes)

    def summary(self) -> str:
        def n(count: int, one: str, many: str) -> str:
            return f"{count} {one if count == 1 else many}"

        return ", ".join(
            (
                n(self.cases, "case", "cases"),
                n(self.mentions, "message", "messages"),
                n(self.replies, "reply of ours", "replies of ours"),
                n(self.notes, "note", "notes"),
            )
        )


def months_before(when: datetime, months: int) -> datetime:
    """The same moment ``months`` calendar months earlier (the 31st becomes the month's last)."""
    index = when.year * 12 + (when.month - 1) - months
    year, month = divmod(index, 12)
    month += 1
    days = [31, 29 if _leap(year) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    return when.replace(year=year, month=month, day=min(when.day, days))


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _ids(query: Any) -> list[int]:
    """The first column of ``query`` as ints."""
    return [int(row[0]) for row in query.tuples()]


def _chunks(ids: Sequence[int], size: int = 500) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


class Retention:
    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self._clock = clock or (lambda: datetime.now(UTC))

    # -- one person --------------------------------------------------------------------------

    def footprint(self, person_ids: Sequence[int]) -> Footprint:
        """What ``forget_person`` would remove (for the confirmation)."""
        ids = list(person_ids)
        case_ids = _ids(Case.select(Case.id).where(Case.person.in_(ids)))
        return Footprint(
            people=Person.select().where(Person.id.in_(ids)).count(),
            cases=len(case_ids),
            mentions=Mention.select()
            .where(Mention.author.in_(ids) | Mention.case.in_(case_ids))
            .count(),
            replies=OutboundReply.select().where(OutboundReply.case.in_(case_ids)).count(),
            notes=Note.select().where(Note.person.in_(ids) | Note.case.in_(case_ids)).count(),
            events=CaseEvent.select().where(CaseEvent.case.in_(case_ids)).count(),
        )

    def forget_person(self, person_ids: Sequence[int]) -> Footprint:
        """Delete everything about these people in one transaction; returns what went."""
        ids = sorted(set(person_ids))
        if not ids:
            return Footprint()
        with sqlite.secure_delete(database):
            with database.atomic():
                case_ids = _ids(Case.select(Case.id).where(Case.person.in_(ids)))
                removed = self._delete_cases(case_ids, extra_mentions=Mention.author.in_(ids))
                notes = Note.delete().where(Note.person.in_(ids)).execute()
                people = Person.delete().where(Person.id.in_(ids)).execute()
            self._scrub()
        result = Footprint(
            people=people,
            cases=removed.cases,
            mentions=removed.mentions,
            replies=removed.replies,
            notes=removed.notes + notes,
            events=removed.events,
        )
        log.info("forgot %d person record(s): %s", people, result.summary())
        return result

    # -- old resolved cases ------------------------------------------------------------------

    def purge_resolved(self, older_than_months: int) -> Footprint:
        """Delete resolved cases inactive for ``older_than_months`` months, unless kept."""
        if older_than_months < 1:
            raise ValueError("older_than_months must be at least 1")
        cutoff = months_before(self._clock().astimezone(UTC), older_than_months)
        case_ids = _ids(
            Case.select(Case.id).where(
                (Case.status == CaseStatus.RESOLVED.value)
                & (Case.last_activity_at < cutoff)
                & (Case.keep == False)  # noqa: E712 (peewee expression)
            )
        )
        if not case_ids:
            return Footprint()
        with sqlite.secure_delete(database):
            with database.atomic():
                people = _ids(Case.select(Case.person).where(Case.id.in_(case_ids)).distinct())
                removed = self._delete_cases(case_ids)
                orphans = [
                    pid
                    for pid in people
                    if not Case.select().where(Case.person == pid).exists()
                    and not Mention.select().where(Mention.author == pid).exists()
                    and not Note.select().where(Note.person == pid).exists()
                ]
                gone = Person.delete().where(Person.id.in_(orphans)).execute() if orphans else 0
            self._scrub()
        result = Footprint(
            gone, removed.cases, removed.mentions, removed.replies, removed.notes, removed.events
        )
        log.info(
            "purged resolved cases older than %d months: %s", older_than_months, result.summary()
        )
        return result

    # -- shared ------------------------------------------------------------------------------

    def _delete_cases(self, case_ids: list[int], extra_mentions: Any = None) -> Footprint:
        """Delete cases and everything on them (inside the caller's transaction)."""
        replies = notes = events = mentions = cases = 0
        for chunk in _chunks(case_ids):
            replies += OutboundReply.delete().where(OutboundReply.case.in_(chunk)).execute()
            notes += Note.delete().where(Note.case.in_(chunk)).execute()
            events += CaseEvent.delete().where(CaseEvent.case.in_(chunk)).execute()
            mentions += Mention.delete().where(Mention.case.in_(chunk)).execute()
        if extra_mentions is not None:  # theirs in no case (or in another person's case)
            mentions += Mention.delete().where(extra_mentions).execute()
        for chunk in _chunks(case_ids):
            cases += Case.delete().where(Case.id.in_(chunk)).execute()
        return Footprint(0, cases, mentions, replies, notes, events)

    def _scrub(self) -> None:
        """Make deleted text unreadable in the file: merge the index, empty the WAL."""
        sqlite.optimize_fts(database)
        if not sqlite.checkpoint(database):
            log.info("the WAL could not be emptied yet (another connection is reading)")
