"""Case archives: a JSON file that another Kindly (or this one, later) can import back.

Format (``"format": "kindly-archive"``, ``"version": 1``), all times ISO-8601 with offset::

    {"format": "kindly-archive", "version": 1, "exported_at": "…",
     "cases":    [{"ref": 7, "account": 1, "person": 3, "conversation_key": "…", "status": …,
                   "mentions": […], "replies": […], "notes": […], "events": […]}, …],
     "accounts": [{"ref": 1, "network": "mastodon", "handle": "@us", "base_url": "…", …}],
     "people":   [{"ref": 3, "network": "mastodon", "remote_id": "…", "stance": …,
                   "notes": […]}]}

``ref`` numbers only tie the file together; they are not ids in any database. No secret is in
an archive: imported accounts that this Kindly does not have are added switched off, to be
reconnected from File → Accounts.

Import is idempotent and atomic. Everything is read and checked before anything is written; the
writing is one transaction. Accounts are matched on (network, handle, base URL), people on
(network, remote id), cases on (account, person, conversation), mentions on (network, remote
id), replies on their idempotency key, notes and events on all their values: importing the same
archive twice adds nothing the second time, and what the database already has is never changed
(a case's status stays the local one). A damaged archive, or one from a newer Kindly, is refused
with a message, and nothing is imported.

Export streams: cases are read a chunk at a time and written as they are read, to a temporary
file that replaces the target only when complete.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import peewee as pw

from app.core.archive_codec import (
    FORMAT,
    VERSION,
    ArchiveError,
    ArchiveFile,
    CaseRecord,
    parse_archive,
    row_values,
)
from app.storage.models import (
    Account,
    Case,
    CaseEvent,
    Mention,
    Note,
    OutboundReply,
    Person,
    database,
)

log = logging.getLogger(__name__)
CHUNK = 200

__all__ = ["FORMAT", "VERSION", "ArchiveError", "ExportSummary", "ImportSummary"]


@dataclass(frozen=True, slots=True)
class ExportSummary:
    cases: int
    mentions: int
    people: int


@dataclass(slots=True)
class ImportSummary:
    cases_added: int = 0
    cases_matched: int = 0
    mentions_added: int = 0
    replies_added: int = 0
    notes_added: int = 0
    events_added: int = 0
    people_added: int = 0
    accounts_added: int = 0

    @property
    def nothing_new(self) -> bool:
        return not any(
            (
                self.cases_added,
                self.mentions_added,
                self.replies_added,
                self.notes_added,
                self.events_added,
                self.people_added,
                self.accounts_added,
            )
        )

    def text(self) -> str:
        if self.nothing_new:
            return "Nothing new: everything in this archive is already here."
        return (
            f"Imported {self.cases_added} new case(s) and {self.mentions_added} message(s); "
            f"{self.cases_matched} case(s) were already here "
            f"({self.replies_added} replies, {self.notes_added} notes and "
            f"{self.events_added} history entries added)."
        )


# -- export -------------------------------------------------------------------------------------


def _stamp(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def _chunks(ids: Iterable[int], size: int = CHUNK) -> Iterator[list[int]]:
    chunk: list[int] = []
    for case_id in ids:
        chunk.append(case_id)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@contextmanager
def _replacing(path: Path) -> Iterator[TextIO]:
    """A text file that replaces ``path`` only once it was written completely."""
    path = Path(path)
    fd, temporary = tempfile.mkstemp(prefix=".kindly-", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            yield handle
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_text_file(path: Path) -> AbstractContextManager[TextIO]:
    """For the other exports (HTML): the same all-or-nothing file."""
    return _replacing(path)


def export_archive(ids: Iterable[int], path: Path, now: datetime | None = None) -> ExportSummary:
    """Write the cases ``ids`` (and their people and accounts) as an archive at ``path``."""
    accounts: set[int] = set()
    people: set[int] = set()
    cases = mentions = 0
    with _replacing(path) as out:
        out.write(
            f'{{"format": "{FORMAT}", "version": {VERSION}, '
            f'"exported_at": {json.dumps(_stamp(now or datetime.now(UTC)))},\n"cases": ['
        )
        for chunk in _chunks(ids):
            for record in _case_records(chunk):
                accounts.add(record["account"])
                people.add(record["person"])
                people.update(m["author"] for m in record["mentions"])
                mentions += len(record["mentions"])
                out.write(",\n" if cases else "\n")
                out.write(json.dumps(record, ensure_ascii=False, sort_keys=True))
                cases += 1
        out.write('\n],\n"accounts": [')
        _write_rows(out, _account_records(sorted(accounts)))
        out.write('],\n"people": [')
        _write_rows(out, _person_records(sorted(people)))
        out.write("]}\n")
    return ExportSummary(cases, mentions, len(people))


def _write_rows(out: TextIO, rows: Iterable[dict[str, Any]]) -> None:
    for index, row in enumerate(rows):
        out.write(",\n" if index else "\n")
        out.write(json.dumps(row, ensure_ascii=False, sort_keys=True))


def _values(row: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in fields:
        value = getattr(row, name)
        found[name] = _stamp(value) if isinstance(value, datetime) else value
    return found


_CASE_FIELDS = (
    "conversation_key", "network", "status", "bucket", "status_reason", "created_at",
    "updated_at", "first_mention_at", "last_activity_at", "mention_count", "reply_count",
    "last_snippet", "reopened_count", "priority", "why", "due_at", "keep",
)  # fmt: skip
_MENTION_FIELDS = (
    "network", "remote_id", "text", "markup", "url", "kind", "addressed_to_us", "created_at",
    "fetched_at", "in_reply_to_id", "conversation_id", "sentiment", "sentiment_corrected", "raw",
)  # fmt: skip
_REPLY_FIELDS = (
    "text", "template_name", "state", "idempotency_key", "remote_id", "remote_url", "error",
    "attempts", "created_at", "updated_at", "sent_at",
)  # fmt: skip
_PERSON_FIELDS = (
    "network", "remote_id", "handle", "display_name", "follower_count", "profile_url", "stance",
    "notes", "updated_at",
)  # fmt: skip
_ACCOUNT_FIELDS = ("network", "handle", "display_name", "base_url", "remote_id")


def _case_records(ids: list[int]) -> Iterator[dict[str, Any]]:
    by_case: dict[int, dict[str, Any]] = {}
    for case in Case.select().where(Case.id.in_(ids)).order_by(Case.id):
        record = _values(case, _CASE_FIELDS)
        record.update(
            ref=case.id,
            account=case.account_id,
            person=case.person_id,
            mentions=[],
            replies=[],
            notes=[],
            events=[],
        )
        by_case[case.id] = record
    mention_keys: dict[int, list[str]] = {}
    query = Mention.select().where(Mention.case.in_(ids)).order_by(Mention.created_at, Mention.id)
    for m in query:
        mention_keys[m.id] = [m.network, m.remote_id]
        by_case[m.case_id]["mentions"].append(
            {**_values(m, _MENTION_FIELDS), "author": m.author_id}
        )
    replies = (
        OutboundReply.select(OutboundReply, Mention.network, Mention.remote_id)
        .join(Mention, on=(OutboundReply.in_reply_to == Mention.id), join_type=pw.JOIN.LEFT_OUTER)
        .where(OutboundReply.case.in_(ids))
        .order_by(OutboundReply.id)
    )
    for r in replies:
        target = r.in_reply_to
        parent = [target.network, target.remote_id] if r.in_reply_to_id and target else None
        record = {**_values(r, _REPLY_FIELDS), "in_reply_to": parent}
        by_case[r.case_id]["replies"].append(record)
    for n in Note.select().where(Note.case.in_(ids)).order_by(Note.id):
        by_case[n.case_id]["notes"].append({"text": n.text, "created_at": _stamp(n.created_at)})
    for ev in CaseEvent.select().where(CaseEvent.case.in_(ids)).order_by(CaseEvent.id):
        by_case[ev.case_id]["events"].append(_values(ev, ("kind", "detail", "actor", "created_at")))
    yield from by_case.values()


def _account_records(ids: list[int]) -> Iterator[dict[str, Any]]:
    for chunk in _chunks(ids):
        for account in Account.select().where(Account.id.in_(chunk)).order_by(Account.id):
            yield {"ref": account.id, **_values(account, _ACCOUNT_FIELDS)}


def _person_records(ids: list[int]) -> Iterator[dict[str, Any]]:
    for chunk in _chunks(ids):
        notes: dict[int, list[dict[str, Any]]] = {}
        for n in Note.select().where(Note.person.in_(chunk)).order_by(Note.id):
            notes.setdefault(n.person_id, []).append(
                {"text": n.text, "created_at": _stamp(n.created_at)}
            )
        for person in Person.select().where(Person.id.in_(chunk)).order_by(Person.id):
            yield {
                "ref": person.id,
                **_values(person, _PERSON_FIELDS),
                "person_notes": notes.get(person.id, []),
            }


# -- import -------------------------------------------------------------------------------------


def read_archive(path: Path) -> ArchiveFile:
    """Read and check a whole archive; ``ArchiveError`` says what is wrong with it."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ArchiveError("This file is not a Kindly archive (it is not text).") from exc
    except OSError as exc:
        raise ArchiveError(f"The archive cannot be read: {exc.strerror or exc}.") from exc
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested thousands deep
        raise ArchiveError("This file is not a Kindly archive (it is not JSON).") from exc
    return parse_archive(data)


def import_archive(path: Path) -> ImportSummary:
    """Import an archive file: everything or, on any problem, nothing."""
    return import_parsed(read_archive(path))


def import_parsed(archive: ArchiveFile) -> ImportSummary:
    summary = ImportSummary()
    try:
        with database.atomic():
            _Importer(archive, summary).run()
    except ArchiveError:
        raise
    except Exception as exc:
        log.exception("archive import failed; nothing was imported")
        raise ArchiveError(f"The import failed and nothing was imported ({exc}).") from exc
    return summary


class _Importer:
    def __init__(self, archive: ArchiveFile, summary: ImportSummary) -> None:
        self.archive = archive
        self.summary = summary
        self.accounts: dict[int, int] = {}
        self.people: dict[int, int] = {}

    def run(self) -> None:
        for ref, account in self.archive.accounts.items():
            self.accounts[ref] = self._account(account)
        for ref, person in self.archive.people.items():
            self.people[ref] = self._person(person)
        for case in self.archive.cases:
            self._case(case)

    def _account(self, values: dict[str, Any]) -> int:
        found = Account.get_or_none(
            (Account.network == values["network"])
            & (Account.handle == values["handle"])
            & (Account.base_url == values["base_url"])
        )
        if found is not None:
            return int(found.id)
        self.summary.accounts_added += 1
        account = Account.create(
            **values, enabled=False, keyring_ref=f"imported:{values['network']}:{uuid.uuid4()}"
        )
        return int(account.id)

    def _person(self, person: dict[str, Any]) -> int:
        values = dict(person)
        person_notes = values.pop("person_notes")
        found = Person.get_or_none(
            (Person.network == values["network"]) & (Person.remote_id == values["remote_id"])
        )
        if found is None:
            self.summary.people_added += 1
            found = Person.create(**values)
        for note in person_notes:
            if (
                not Note.select()
                .where(
                    (Note.person == found.id)
                    & (Note.text == note["text"])
                    & (Note.created_at == note["created_at"])
                )
                .exists()
            ):
                Note.create(person=found.id, **note)
        return int(found.id)

    def _case(self, record: CaseRecord) -> None:
        account_id = self.accounts[record.account]
        person_id = self.people[record.person]
        values = dict(record.values)
        found = Case.get_or_none(
            (Case.account == account_id)
            & (Case.person == person_id)
            & (Case.conversation_key == values["conversation_key"])
        )
        if found is None:
            case_id = int(Case.create(account=account_id, person=person_id, **values).id)
            self.summary.cases_added += 1
        else:
            case_id = int(found.id)
            self.summary.cases_matched += 1
        added = self._mentions(case_id, account_id, record)
        replies = self._replies(case_id, account_id, record)
        self.summary.notes_added += _add_new(
            Note, case_id, record.notes, ("text", "created_at"), Note.case
        )
        self.summary.events_added += _add_new(
            CaseEvent, case_id, record.events, ("kind", "detail", "actor", "created_at"),
            CaseEvent.case,
        )  # fmt: skip
        if found is not None and (added or replies):
            _recount(case_id)

    def _mentions(self, case_id: int, account_id: int, record: CaseRecord) -> int:
        keys = [(m["network"], m["remote_id"]) for m in record.mentions]
        existing = _existing_mentions(keys)
        added = 0
        for mention in record.mentions:
            key = (mention["network"], mention["remote_id"])
            if key in existing:
                continue
            values = {k: v for k, v in mention.items() if k != "author"}
            Mention.create(
                account=account_id,
                author=self.people[mention["author"]],
                case=case_id,
                **values,
            )
            existing.add(key)
            added += 1
        self.summary.mentions_added += added
        return added

    def _replies(self, case_id: int, account_id: int, record: CaseRecord) -> int:
        added = 0
        for reply in record.replies:
            values = dict(reply)
            parent = values.pop("in_reply_to")
            if OutboundReply.get_or_none(
                OutboundReply.idempotency_key == values["idempotency_key"]
            ):
                continue
            target = None
            if parent is not None:
                row = Mention.get_or_none(
                    (Mention.network == parent[0]) & (Mention.remote_id == parent[1])
                )
                target = row.id if row else None
            OutboundReply.create(case=case_id, account=account_id, in_reply_to=target, **values)
            added += 1
        self.summary.replies_added += added
        return added


def _existing_mentions(keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    by_network: dict[str, list[str]] = {}
    for network, remote_id in keys:
        by_network.setdefault(network, []).append(remote_id)
    for network, remote_ids in by_network.items():
        for start in range(0, len(remote_ids), CHUNK):
            query = Mention.select(Mention.remote_id).where(
                (Mention.network == network)
                & Mention.remote_id.in_(remote_ids[start : start + CHUNK])
            )
            found.update((network, row.remote_id) for row in query)
    return found


def _add_new(
    model: Any, case_id: int, rows: list[dict[str, Any]], fields: tuple[str, ...], fk: Any
) -> int:
    """Insert the rows this case does not have yet (compared on every field)."""
    have = {row_values(r, fields) for r in model.select().where(fk == case_id).dicts()}
    added = 0
    for row in rows:
        key = row_values(row, fields)
        if key in have:
            continue
        model.create(case=case_id, **row)
        have.add(key)
        added += 1
    return added


def _recount(case_id: int) -> None:
    """A case that gained messages or replies from an archive: its counters and latest time."""
    mentions = Mention.select().where(Mention.case == case_id)
    newest = mentions.order_by(Mention.created_at.desc()).first()
    replies = OutboundReply.select().where(OutboundReply.case == case_id).count()
    case = Case.get_by_id(case_id)
    updates: dict[Any, Any] = {
        Case.mention_count: mentions.count(),
        Case.reply_count: max(case.reply_count, replies),
    }
    if newest is not None and newest.created_at > case.last_activity_at:
        updates[Case.last_activity_at] = newest.created_at
    Case.update(updates).where(Case.id == case_id).execute()
