"""Store mentions once and group them into cases: the heart of sync and of the demo generator.

A case is one conversation with one person on one account. A mention joins the case of the
conversation it belongs to (found through the post it replies to, ours or theirs); a mention on a
resolved or escalated case reopens it, and the reopening is recorded. Left-alone cases stay left
alone (the officer decided), but show the new activity.

Everything runs in the caller's transaction, so the sync engine can store a batch and its cursor
together. Work is done in set-sized queries, not row by row, because sync ingests thousands.

Storing has two halves. ``prepare`` needs no database: it drops repeats, cleans the text and
turns every value into what its column stores (and hooks may score the text), so the sync engine
runs it where it fetches (a worker thread, or a worker process for long walks: a prepared batch
is plain values, ``encode``d with ``marshal``), while the previous batch is being written.
``ingest`` then does only the database work: finding what is already stored, grouping, writing.
"""

from __future__ import annotations

import logging
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol, TypeVar

from app.core.networks.base import RemoteMention, RemotePerson
from app.core.text import clean_text, snippet, without_surrogates
from app.core.vocab import CaseStatus, EventKind, Network
from app.storage import sqlite
from app.storage.ingest_sql import (
    CASE_DEFAULTS,
    EVENT_FIELDS,
    MARK_ADDRESSED,
    MENTION_DEFAULTS,
    MENTION_FIELDS,
    PERSON_RENAME,
    PERSON_RENAME_BY_ID,
    PERSON_UPSERT,
    READY_FIELDS,
    case_insert_returning_sql,
    case_insert_sql,
    case_update_sql,
    conversation_keys_sql,
    db_time,
    existing_cases_sql,
    insert_sql,
    latest_mention_stamps_sql,
    mention_insert_sql,
    people_ids_sql,
    person_upsert_returning_sql,
    sql_rows,
    stored_mentions_sql,
)
from app.storage.models import CaseEvent, Mention, OutboundReply, Person, database

log = logging.getLogger(__name__)

CHUNK = 400  # rows per statement: well under SQLite's variable limit
# INSERT … RETURNING (SQLite 3.35+) hands back the ids written, instead of a SELECT after each
# write; an older SQLite (some Linux distributions' Python) takes the SELECT.
RETURNING = sqlite3.sqlite_version_info >= (3, 35)
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
    unscored_ids: list[int] = field(default_factory=list)  # new mentions stored without sentiment


class IngestHook(Protocol):
    """Runs inside the ingest transaction (triage scores new mentions and re-ranks cases).

    A hook may also have ``before_store(batch: PreparedBatch) -> None``: called by ``prepare``,
    without the database and possibly in another thread, to fill ``batch.sentiment``. Should it
    fail, the mentions are stored unscored (and ``unscored_ids`` says which). And ``learn(batch)``:
    called by ``ingest`` before storing, to take what a worker process worked out (a failure
    is logged; storing goes on)."""

    def after_ingest(self, result: IngestResult) -> None: ...


class PreparedMention(NamedTuple):
    """One mention as its row will be stored: values converted, text cleaned. Plain values only
    (str, int, float, bool, None, tuples), so a batch crosses to another process as it is."""

    remote_id: str
    author_id: str  # the author's remote id
    author: tuple[str, str, int | None, str | None]  # handle, display name, followers, url
    # From here on, the ``READY_FIELDS`` columns in their order (``columns`` slices them):
    text: str  # cleaned
    markup: str
    url: str | None
    kind: str
    addressed_to_us: bool
    created_at: str  # as stored (text that sorts as the time does)
    fetched_at: str
    in_reply_to_id: str | None
    conversation_id: str | None
    raw: str | bytes | None  # the payload as stored: JSON text, or zlib-packed when long

    def columns(self) -> tuple[object, ...]:
        return self[3:]


@dataclass(slots=True)
class PreparedBatch:
    """A batch ready to store: one mention per remote id (the first), values converted."""

    network: Network
    mentions: list[PreparedMention]
    duplicates: int  # repeats within the batch
    sentiment: dict[str, float] = field(default_factory=dict)  # by remote id, from hooks
    # What a worker process's hooks worked out for the storing side's (``learn``): the policy's
    # verdicts on each text, by remote id, with the token of the conditions they answer.
    verdicts: dict[str, int] = field(default_factory=dict)
    verdict_token: str = ""

    def texts(self) -> list[tuple[str, str]]:
        """(remote id, cleaned text) of every mention: what sentiment is read from."""
        return [(m.remote_id, m.text) for m in self.mentions]

    def plain(self) -> tuple[object, ...]:
        """The batch as plain values, for ``marshal`` (~1 µs a mention each way; pickling the
        parsed mentions with their payload dictionaries cost 57 µs a mention to read back)."""
        rows = [tuple(m) for m in self.mentions]  # marshal takes plain tuples only
        return (
            self.network.value,
            self.duplicates,
            rows,
            self.sentiment,
            self.verdicts,
            self.verdict_token,
        )

    @classmethod
    def from_plain(cls, plain: Sequence[Any]) -> PreparedBatch:
        """What ``plain`` gave, after its trip through ``marshal``."""
        network, duplicates, rows, sentiment, verdicts, token = plain
        make = PreparedMention._make
        mentions = [make(row) for row in rows]
        return cls(Network(network), mentions, duplicates, sentiment, verdicts, token)


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# ``PreparedMention.columns`` must line up with the columns (compared by name: ``==`` on fields
# builds SQL).
assert [f.name for f in READY_FIELDS] == list(PreparedMention._fields[3:])


class _CaseRef(NamedTuple):
    id: int
    status: str


def before_store(hooks: Sequence[object], batch: PreparedBatch) -> None:
    """Run the hooks' ``before_store`` on a prepared batch (no database). Should one fail, the
    batch is stored unscored; ``after_ingest`` tries again and reports it."""
    for hook in hooks:
        method = getattr(hook, "before_store", None)
        if method is None:
            continue
        try:
            method(batch)
        except Exception:
            log.warning("%s before storing failed", type(hook).__name__, exc_info=True)
            batch.sentiment.clear()


class Ingestor:
    def __init__(self, hooks: Sequence[IngestHook] = ()) -> None:
        self.hooks = list(hooks)

    def prepare(self, network: Network, mentions: Sequence[RemoteMention]) -> PreparedBatch:
        """Everything about storing ``mentions`` that needs no database. Safe in any thread
        (hooks' ``before_store`` must be too)."""
        unique: dict[str, RemoteMention] = {}
        for mention in mentions:
            unique.setdefault(mention.remote_id, mention)
        prepared: list[PreparedMention] = []
        people: dict[RemotePerson, tuple[str, str, int | None, str | None]] = {}
        fetched_at = db_time(datetime.now(UTC))
        raw_value = Mention.raw.db_value
        for rid, m in unique.items():
            author = m.author or UNKNOWN_AUTHOR
            described = people.get(author)
            if described is None:
                described = people[author] = (
                    clean_text(author.handle)[:255],
                    clean_text(author.display_name)[:255],
                    author.follower_count,
                    without_surrogates(author.profile_url) if author.profile_url else None,
                )
            prepared.append(
                PreparedMention(
                    rid,
                    author.remote_id,
                    described,
                    clean_text(m.text),
                    without_surrogates(m.markup[:100_000]),
                    without_surrogates(m.url) if m.url else None,
                    m.kind,
                    bool(m.addressed_to_us),
                    db_time(m.created_at),
                    fetched_at,
                    None if m.in_reply_to_id is None else str(m.in_reply_to_id),
                    None if m.conversation_id is None else str(m.conversation_id),
                    raw_value(m.raw),
                )
            )
        batch = PreparedBatch(network, prepared, len(mentions) - len(unique))
        before_store(self.hooks, batch)
        return batch

    def ingest(
        self,
        account_id: int,
        network: Network,
        mentions: Sequence[RemoteMention],
        prepared: PreparedBatch | None = None,
    ) -> IngestResult:
        """Store new mentions for one account and group them. Safe to repeat: dedupes.

        ``prepared`` is ``prepare(network, mentions)`` done beforehand (e.g. in another thread).
        """
        batch = prepared if prepared is not None else self.prepare(network, mentions)
        for hook in self.hooks:
            learn = getattr(hook, "learn", None)
            if learn is not None:
                try:
                    learn(batch)
                except Exception:  # only a head start lost: triage works it out itself
                    log.warning("%s could not learn", type(hook).__name__, exc_info=True)
        result = IngestResult(duplicates=batch.duplicates)
        if not batch.mentions:
            return result
        with database.atomic():
            fresh = self._drop_stored(network, batch.mentions)
            result.duplicates += len(batch.mentions) - len(fresh)
            kept = {m.remote_id for m in fresh}
            self._mark_addressed(
                network, [m for m in batch.mentions if m.remote_id not in kept], result
            )
            if fresh:
                people = self._upsert_people(network, fresh)
                self._store(account_id, network, fresh, people, batch, result)
            for hook in self.hooks:
                hook.after_ingest(result)
        return result

    # -- steps -------------------------------------------------------------------------------

    def _drop_stored(
        self, network: Network, unique: list[PreparedMention]
    ) -> list[PreparedMention]:
        stored: set[str] = set()
        for chunk in _chunks([m.remote_id for m in unique]):
            sql = stored_mentions_sql(len(chunk))
            stored.update(str(row[0]) for row in sql_rows(sql, [network.value, *chunk]))
        fresh = [m for m in unique if m.remote_id not in stored]
        fresh.sort(key=lambda m: (m.created_at, m.remote_id))
        return fresh

    def _mark_addressed(
        self, network: Network, stored: list[PreparedMention], result: IngestResult
    ) -> None:
        """A post stored from a saved search that now comes addressed to us (a direct mention)
        is the same post: it becomes addressed, with the direct stream's kind. Never the other
        way: a search finding a direct mention again changes nothing."""
        direct = [m for m in stored if m.addressed_to_us]
        if not direct:
            return
        cursor = database.cursor()
        cursor.executemany(
            MARK_ADDRESSED, [(m.kind, network.value, m.remote_id, "search") for m in direct]
        )
        if cursor.rowcount <= 0:
            return
        touched = set(result.touched_cases)
        for chunk in _chunks([m.remote_id for m in direct]):
            query = Mention.select(Mention.case).where(
                (Mention.network == network.value)
                & Mention.remote_id.in_(list(chunk))
                & Mention.case.is_null(False)
            )
            for case_id in {row.case_id for row in query} - touched:
                touched.add(case_id)
                result.touched_cases.append(case_id)  # triage ranks it again

    def _upsert_people(self, network: Network, mentions: list[PreparedMention]) -> dict[str, int]:
        authors: dict[str, tuple[str, str, int | None, str | None]] = {}
        for mention in mentions:
            authors[mention.author_id] = mention.author  # the newest description wins
        now = db_time(datetime.now(UTC))
        stance, notes = Person.stance.default, Person.notes.default
        rows = [(network.value, rid, *described) for rid, described in authors.items()]
        if RETURNING:
            return self._upsert_people_returning(authors, [(*r, stance, notes, now) for r in rows])
        cursor = database.cursor()
        cursor.executemany(PERSON_UPSERT, [(*row, stance, notes, now) for row in rows])
        cursor.executemany(
            PERSON_RENAME, [(h, name, net, rid, h, name) for net, rid, h, name, *_ in rows]
        )
        ids: dict[str, int] = {}
        for chunk in _chunks(list(authors)):
            sql = people_ids_sql(len(chunk))
            ids.update((str(rid), int(pid)) for rid, pid in sql_rows(sql, [network.value, *chunk]))
        return ids

    def _upsert_people_returning(
        self,
        authors: dict[str, tuple[str, str, int | None, str | None]],
        rows: list[tuple[object, ...]],
    ) -> dict[str, int]:
        """One statement per up to ~3,600 people (not three): the ids come back with the names
        stored, and only people whose names changed are renamed (by id)."""
        ids: dict[str, int] = {}
        renames: list[tuple[str, str, int]] = []
        per_statement = max(1, min(CHUNK, sqlite.variable_limit(database) // 9))
        for chunk in _chunks(rows, per_statement):
            params = [value for row in chunk for value in row]
            sql = person_upsert_returning_sql(len(chunk))
            for rid, pid, handle, name in sql_rows(sql, params):
                ids[str(rid)] = int(pid)
                wanted = authors[str(rid)]
                if (handle, name) != (wanted[0], wanted[1]):
                    renames.append((wanted[0], wanted[1], int(pid)))
        if renames:  # a name written re-indexes that person for search: only when it changed
            database.cursor().executemany(PERSON_RENAME_BY_ID, renames)
        return ids

    def _known_conversations(
        self, account_id: int, network: Network, parents: set[str]
    ) -> dict[str, str]:
        """Conversation keys of the posts being replied to, theirs or ours."""
        keys: dict[str, str] = {}
        for chunk in _chunks(sorted(parents)):
            theirs = conversation_keys_sql(Mention, "network", len(chunk))
            keys.update((str(a), str(b)) for a, b in sql_rows(theirs, [network.value, *chunk]))
            ours = conversation_keys_sql(OutboundReply, "account", len(chunk))
            keys.update((str(a), str(b)) for a, b in sql_rows(ours, [account_id, *chunk]))
        return keys

    def _store(
        self,
        account_id: int,
        network: Network,
        fresh: list[PreparedMention],
        people: dict[str, int],
        batch: PreparedBatch,
        result: IngestResult,
    ) -> None:
        parents = {m.in_reply_to_id for m in fresh if m.in_reply_to_id}
        conversation_of = self._known_conversations(account_id, network, parents)
        groups: dict[tuple[int, str], list[PreparedMention]] = defaultdict(list)
        for mention in fresh:  # oldest first, so a reply within the batch finds its parent
            key = (
                conversation_of.get(mention.in_reply_to_id or "")
                or mention.conversation_id
                or mention.remote_id
            )
            conversation_of[mention.remote_id] = key
            person_id = people[mention.author_id]
            groups[(person_id, key)].append(mention)

        cases = self._existing_cases(account_id, set(groups))
        latest = self._latest_mention_stamps([case.id for case in cases.values()])
        now = db_time(datetime.now(UTC))
        events: list[tuple[object, ...]] = []
        updates: dict[str, list[list[object]]] = defaultdict(list)  # statement: its rows
        new_rows: list[list[object]] = []
        case_defaults = [f.db_value(v) for f, v in CASE_DEFAULTS]
        for (person_id, key), items in groups.items():
            case = cases.get((person_id, key))
            if case is None:
                new_rows.append(
                    [
                        account_id,
                        person_id,
                        network.value,
                        key,
                        CaseStatus.NEW.value,
                        CaseStatus.NEW.bucket.value,
                        items[0].created_at,
                        items[-1].created_at,
                        len(items),
                        snippet(items[-1].text),
                        now,
                        now,
                        *case_defaults,
                    ]
                )
            else:
                stamp = latest.get(case.id, "")
                self._update_case(case, items, stamp, now, updates, events, result)
        new_pairs = {pair for pair in groups if pair not in cases}
        if new_rows and RETURNING:
            width = len(new_rows[0])
            per_statement = max(1, min(CHUNK, sqlite.variable_limit(database) // width))
            for some in _chunks(new_rows, per_statement):
                params = [value for row in some for value in row]
                for case_id, pid, key, status in sql_rows(
                    case_insert_returning_sql(len(some)), params
                ):
                    cases[(int(pid), str(key))] = _CaseRef(int(case_id), str(status))
        elif new_rows:
            database.cursor().executemany(case_insert_sql(), new_rows)
            cases.update(self._existing_cases(account_id, new_pairs))

        defaults = [f.db_value(v) for f, v in MENTION_DEFAULTS]
        sentiment = batch.sentiment
        mention_rows: list[object] = []
        for pair, items in groups.items():
            person_id, key = pair
            ref = cases[pair]
            if pair in new_pairs:
                detail = f"First {items[-1].kind} from {network.label}"
                events.append((ref.id, EventKind.CREATED.value, "kindly", detail, now))
                result.new_cases.append(ref.id)
            result.touched_cases.append(ref.id)
            for m in items:
                rid = m.remote_id
                mention_rows += (account_id, network.value, rid, person_id, ref.id)
                mention_rows.append(sentiment.get(rid))
                mention_rows += m.columns()
                mention_rows += defaults
        for sql, rows in updates.items():
            database.cursor().executemany(sql, rows)
        if events:
            database.cursor().executemany(insert_sql(CaseEvent, EVENT_FIELDS), events)
        width = len(MENTION_FIELDS) + len(defaults)
        per_statement = max(1, min(CHUNK, sqlite.variable_limit(database) // width))
        written: list[tuple[Any, ...]] = []
        for chunk in _chunks(mention_rows, per_statement * width):
            written += sql_rows(mention_insert_sql(len(chunk) // width, RETURNING), chunk)
        result.stored = len(mention_rows) // width
        if not RETURNING:
            for chunk in _chunks([m.remote_id for m in fresh]):
                sql = stored_mentions_sql(len(chunk))
                written += sql_rows(sql, [network.value, *chunk])
        for rid, mention_id in written:
            result.mention_ids.append(int(mention_id))
            if rid not in sentiment:
                result.unscored_ids.append(int(mention_id))

    def _existing_cases(
        self, account_id: int, wanted: set[tuple[int, str]]
    ) -> dict[tuple[int, str], _CaseRef]:
        """The cases of these (person, conversation) pairs: one search of the unique index on
        (account, person, conversation_key) per pair. (By key alone, SQLite read every case of
        the account for every page; with ``person IN (…) AND key IN (…)`` it searched every
        person with every key of the page, ~6,400 searches for 80 new cases.)"""
        found: dict[tuple[int, str], _CaseRef] = {}
        for chunk in _chunks(sorted(wanted), CHUNK // 2):
            sql = existing_cases_sql(len(chunk))
            params: list[object] = [value for pair in chunk for value in pair]
            for case_id, person_id, key, status in sql_rows(sql, [*params, account_id]):
                found[(int(person_id), str(key))] = _CaseRef(int(case_id), str(status))
        return found

    def _latest_mention_stamps(self, case_ids: list[int]) -> dict[int, str]:
        """When each case's newest stored mention was written (as stored text, comparable)."""
        latest: dict[int, str] = {}
        for chunk in _chunks(case_ids):
            sql = latest_mention_stamps_sql(len(chunk))
            latest.update((int(case_id), str(stamp)) for case_id, stamp in sql_rows(sql, chunk))
        return latest

    @staticmethod
    def _update_case(
        case: _CaseRef,
        items: list[PreparedMention],
        latest_stored: str,
        now: object,
        updates: dict[str, list[list[object]]],
        events: list[tuple[object, ...]],
        result: IngestResult,
    ) -> None:
        """New mentions for a stored case: counts, activity, snippet; reopen a closed one."""
        newest = items[-1]
        newest_stamp = newest.created_at
        params: list[object] = [len(items), now, newest_stamp]
        # A mention that arrives late but was written before the case's newest one does not
        # replace the line the list shows (their latest words).
        latest = newest_stamp >= latest_stored
        if latest:
            params.append(snippet(newest.text))
        status = CaseStatus(case.status)
        reopen = status in REOPENING_STATUSES
        counted = reopen and status != CaseStatus.WAITING
        if reopen:
            params += [CaseStatus.OPEN.value, CaseStatus.OPEN.bucket.value, ""]
            if counted:
                result.reopened_cases.append(case.id)
            kind = EventKind.REOPENED if counted else EventKind.STATUS_CHANGED
            detail = f"{status.label} → Open: they wrote again"
            events.append((case.id, kind.value, "kindly", detail, now))
        updates[case_update_sql(latest, reopen, counted)].append([*params, case.id])
