"""Store mentions once and group them into cases: the heart of sync and of the demo generator.

A case is one conversation with one person on one account. A mention joins the case of the
conversation it belongs to (found through the post it replies to, ours or theirs); a mention on a
resolved or escalated case reopens it, and the reopening is recorded. Left-alone cases stay left
alone (the officer decided), but show the new activity.

Everything runs in the caller's transaction, so the sync engine can store a batch and its cursor
together. Work is done in set-sized queries, not row by row, because sync ingests thousands.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol, TypeVar

import peewee as pw

from app.core.networks.base import RemoteMention, RemotePerson
from app.core.text import clean_text, snippet, without_surrogates
from app.core.vocab import CaseStatus, EventKind, Network
from app.storage.models import Case, CaseEvent, Mention, OutboundReply, Person, database

CHUNK = 400  # rows per statement: well under SQLite's variable limit
UNKNOWN_AUTHOR = RemotePerson(
    remote_id="~unknown", handle="", display_name="Someone (the network did not say who)"
)
T = TypeVar("T")
REOPENING_STATUSES = {CaseStatus.RESOLVED, CaseStatus.ESCALATED, CaseStatus.WAITING}


@dataclass(slots=True)
class IngestResult:
    stored: int = 0
    duplicates: int = 0
    new_cases: list[int] = field(default_factory=list)
    reopened_cases: list[int] = field(default_factory=list)
    touched_cases: list[int] = field(default_factory=list)
    mention_ids: list[int] = field(default_factory=list)


class IngestHook(Protocol):
    """Runs inside the ingest transaction (triage scores new mentions and re-ranks cases)."""

    def after_ingest(self, result: IngestResult) -> None: ...


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Ingestor:
    def __init__(self, hooks: Sequence[IngestHook] = ()) -> None:
        self.hooks = list(hooks)

    def ingest(
        self, account_id: int, network: Network, mentions: Sequence[RemoteMention]
    ) -> IngestResult:
        """Store new mentions for one account and group them. Safe to repeat: dedupes."""
        result = IngestResult()
        unique: dict[str, RemoteMention] = {}
        for mention in mentions:
            unique.setdefault(mention.remote_id, mention)
        result.duplicates = len(mentions) - len(unique)
        if not unique:
            return result
        with database.atomic():
            fresh = self._drop_stored(network, unique)
            result.duplicates += len(unique) - len(fresh)
            if fresh:
                people = self._upsert_people(network, fresh)
                self._store(account_id, network, fresh, people, result)
            for hook in self.hooks:
                hook.after_ingest(result)
        return result

    # -- steps -------------------------------------------------------------------------------

    def _drop_stored(
        self, network: Network, unique: dict[str, RemoteMention]
    ) -> list[RemoteMention]:
        stored: set[str] = set()
        for chunk in _chunks(list(unique)):
            query = Mention.select(Mention.remote_id).where(
                (Mention.network == network.value) & (Mention.remote_id.in_(list(chunk)))
            )
            stored.update(row.remote_id for row in query)
        fresh = [m for rid, m in unique.items() if rid not in stored]
        fresh.sort(key=lambda m: (m.created_at, m.remote_id))
        return fresh

    def _upsert_people(self, network: Network, mentions: list[RemoteMention]) -> dict[str, int]:
        authors: dict[str, RemotePerson] = {}
        for mention in mentions:
            author = mention.author or UNKNOWN_AUTHOR
            authors[author.remote_id] = author  # the newest description wins
        now = datetime.now(UTC)
        rows = [
            {
                "network": network.value,
                "remote_id": a.remote_id,
                "handle": clean_text(a.handle)[:255],
                "display_name": clean_text(a.display_name)[:255],
                "follower_count": a.follower_count,
                "profile_url": without_surrogates(a.profile_url) if a.profile_url else None,
                "updated_at": now,
            }
            for a in authors.values()
        ]
        for rows_chunk in _chunks(rows, CHUNK // 8):
            (
                Person.insert_many(rows_chunk)
                .on_conflict(
                    conflict_target=[Person.network, Person.remote_id],
                    update={
                        Person.handle: pw.EXCLUDED.handle,
                        Person.display_name: pw.EXCLUDED.display_name,
                        Person.follower_count: pw.fn.COALESCE(
                            pw.EXCLUDED.follower_count, Person.follower_count
                        ),
                        Person.profile_url: pw.fn.COALESCE(
                            pw.EXCLUDED.profile_url, Person.profile_url
                        ),
                        Person.updated_at: pw.EXCLUDED.updated_at,
                    },
                )
                .execute()
            )
        ids: dict[str, int] = {}
        for chunk in _chunks(list(authors)):
            query = Person.select(Person.id, Person.remote_id).where(
                (Person.network == network.value) & (Person.remote_id.in_(list(chunk)))
            )
            ids.update({row.remote_id: row.id for row in query})
        return ids

    def _known_conversations(
        self, account_id: int, network: Network, parents: set[str]
    ) -> dict[str, str]:
        """Conversation keys of the posts being replied to, theirs or ours."""
        keys: dict[str, str] = {}
        parent_list = sorted(parents)
        for chunk in _chunks(parent_list):
            theirs = (
                Mention.select(Mention.remote_id, Case.conversation_key)
                .join(Case)
                .where((Mention.network == network.value) & (Mention.remote_id.in_(list(chunk))))
                .tuples()
            )
            keys.update(dict(theirs))
            ours = (
                OutboundReply.select(OutboundReply.remote_id, Case.conversation_key)
                .join(Case)
                .where(
                    (OutboundReply.account == account_id)
                    & (OutboundReply.remote_id.in_(list(chunk)))
                )
                .tuples()
            )
            keys.update(dict(ours))
        return keys

    def _store(
        self,
        account_id: int,
        network: Network,
        fresh: list[RemoteMention],
        people: dict[str, int],
        result: IngestResult,
    ) -> None:
        parents = {m.in_reply_to_id for m in fresh if m.in_reply_to_id}
        conversation_of = self._known_conversations(account_id, network, parents)
        groups: dict[tuple[int, str], list[RemoteMention]] = defaultdict(list)
        for mention in fresh:  # oldest first, so a reply within the batch finds its parent
            key = (
                conversation_of.get(mention.in_reply_to_id or "")
                or mention.conversation_id
                or mention.remote_id
            )
            conversation_of[mention.remote_id] = key
            person_id = people[(mention.author or UNKNOWN_AUTHOR).remote_id]
            groups[(person_id, key)].append(mention)

        cases = self._existing_cases(account_id, {key for _, key in groups})
        latest = self._latest_mention_stamps([case.id for case in cases.values()])
        now = datetime.now(UTC)
        mention_rows: list[dict[str, object]] = []
        for (person_id, key), items in groups.items():
            case = cases.get((person_id, key))
            case_id = self._file_into_case(
                account_id,
                network,
                person_id,
                key,
                items,
                case,
                latest.get(case.id, "") if case else "",
                now,
                result,
            )
            for m in items:
                mention_rows.append(self._mention_row(account_id, network, m, person_id, case_id))
        for rows_chunk in _chunks(mention_rows, CHUNK // 16):
            Mention.insert_many(rows_chunk).on_conflict_ignore().execute()
        result.stored = len(mention_rows)
        for chunk in _chunks([m.remote_id for m in fresh]):
            query = Mention.select(Mention.id).where(
                (Mention.network == network.value) & (Mention.remote_id.in_(list(chunk)))
            )
            result.mention_ids.extend(row.id for row in query)

    def _existing_cases(self, account_id: int, keys: set[str]) -> dict[tuple[int, str], Case]:
        found: dict[tuple[int, str], Case] = {}
        for chunk in _chunks(sorted(keys)):
            query = Case.select().where(
                (Case.account == account_id) & (Case.conversation_key.in_(list(chunk)))
            )
            for case in query:
                found[(case.person_id, case.conversation_key)] = case
        return found

    def _latest_mention_stamps(self, case_ids: list[int]) -> dict[int, str]:
        """When each case's newest stored mention was written (as stored text, comparable)."""
        latest: dict[int, str] = {}
        for chunk in _chunks(case_ids):
            query = (
                Mention.select(Mention.case, pw.fn.MAX(Mention.created_at))
                .where(Mention.case.in_(list(chunk)))
                .group_by(Mention.case)
                .tuples()
            )
            latest.update(
                (case_id, str(Mention.created_at.db_value(stamp))) for case_id, stamp in query
            )
        return latest

    def _file_into_case(
        self,
        account_id: int,
        network: Network,
        person_id: int,
        key: str,
        items: list[RemoteMention],
        case: Case | None,
        latest_stored: str,
        now: datetime,
        result: IngestResult,
    ) -> int:
        newest = items[-1]
        last_text = snippet(clean_text(newest.text))
        if case is None:
            case_id = Case.insert(
                account=account_id,
                person=person_id,
                network=network.value,
                conversation_key=key,
                status=CaseStatus.NEW.value,
                bucket=CaseStatus.NEW.bucket.value,
                first_mention_at=items[0].created_at,
                last_activity_at=newest.created_at,
                mention_count=len(items),
                last_snippet=last_text,
                created_at=now,
                updated_at=now,
            ).execute()
            CaseEvent.insert(
                case=case_id,
                kind=EventKind.CREATED.value,
                actor="kindly",
                created_at=now,
                detail=f"First {newest.kind} from {network.label}",
            ).execute()
            result.new_cases.append(case_id)
            result.touched_cases.append(case_id)
            return int(case_id)

        status = CaseStatus(case.status)
        newest_stamp = str(Case.last_activity_at.db_value(newest.created_at))
        updates: dict[pw.Field, object] = {
            Case.mention_count: Case.mention_count + len(items),
            Case.updated_at: now,
            Case.last_activity_at: pw.fn.MAX(Case.last_activity_at, newest_stamp),
        }
        if newest_stamp >= latest_stored:
            # A mention that arrives late but was written before the case's newest one does not
            # replace the line the list shows (their latest words).
            updates[Case.last_snippet] = last_text
        if status in REOPENING_STATUSES:
            updates[Case.status] = CaseStatus.OPEN.value
            updates[Case.bucket] = CaseStatus.OPEN.bucket.value
            updates[Case.status_reason] = ""
            if status != CaseStatus.WAITING:
                updates[Case.reopened_count] = Case.reopened_count + 1
                result.reopened_cases.append(case.id)
            CaseEvent.insert(
                case=case.id,
                kind=(
                    EventKind.REOPENED if status != CaseStatus.WAITING else EventKind.STATUS_CHANGED
                ).value,
                actor="kindly",
                detail=f"{status.label} → Open: they wrote again",
                created_at=now,
            ).execute()
        Case.update(updates).where(Case.id == case.id).execute()
        result.touched_cases.append(case.id)
        return int(case.id)

    @staticmethod
    def _mention_row(
        account_id: int, network: Network, m: RemoteMention, person_id: int, case_id: int
    ) -> dict[str, object]:
        return {
            "account": account_id,
            "network": network.value,
            "remote_id": m.remote_id,
            "author": person_id,
            "case": case_id,
            "text": clean_text(m.text),
            "markup": without_surrogates(m.markup[:100_000]),
            "url": without_surrogates(m.url) if m.url else None,
            "kind": m.kind,
            "addressed_to_us": m.addressed_to_us,
            "created_at": m.created_at,
            "fetched_at": datetime.now(UTC),
            "in_reply_to_id": m.in_reply_to_id,
            "conversation_id": m.conversation_id,
            "raw": m.raw,
        }
