"""Ingest's SQL, written once from the models' own table and column names.

``app.core.ingest`` runs these with raw parameters: building them through peewee's query builder,
per case and per chunk, cost more than SQLite's own work (profiled: ~70% of ingest time). Values
are what each field's ``db_value`` gives (``db_time`` writes the same text faster), so what is
stored is exactly what peewee would store.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any, cast

import peewee as pw

from app.storage.models import Case, CaseEvent, Mention, Person, database


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def tbl(model: type[pw.Model]) -> str:
    return quote(model._meta.table_name)


def col(f: pw.Field) -> str:
    return quote(f.column_name)


def marks(n: int) -> str:
    return ", ".join("?" * n)


def sql_rows(sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
    return list(database.execute_sql(sql, params).fetchall())


READY_FIELDS = (
    Mention.text, Mention.markup, Mention.url, Mention.kind, Mention.addressed_to_us,
    Mention.created_at, Mention.fetched_at, Mention.in_reply_to_id, Mention.conversation_id,
    Mention.raw,
)  # fmt: skip
MENTION_FIELDS = (
    Mention.account, Mention.network, Mention.remote_id, Mention.author, Mention.case,
    Mention.sentiment, *READY_FIELDS,
)  # fmt: skip
CASE_FIELDS = (
    Case.account, Case.person, Case.network, Case.conversation_key, Case.status, Case.bucket,
    Case.first_mention_at, Case.last_activity_at, Case.mention_count, Case.last_snippet,
    Case.created_at, Case.updated_at,
)  # fmt: skip
EVENT_FIELDS = (
    CaseEvent.case, CaseEvent.kind, CaseEvent.actor, CaseEvent.detail, CaseEvent.created_at,
)  # fmt: skip


def defaults_of(model: type[pw.Model], given: Sequence[pw.Field]) -> list[tuple[pw.Field, object]]:
    """The other fields with a (constant) default, as peewee fills them in on insert."""
    names = {f.name for f in given}  # (``in`` would compare fields with SQL ``==``)
    return [
        (f, f.default)
        for f in model._meta.sorted_fields
        if f.name not in names and not f.primary_key and f.default is not None
    ]


MENTION_DEFAULTS = defaults_of(Mention, MENTION_FIELDS)
CASE_DEFAULTS = defaults_of(Case, CASE_FIELDS)


def insert_sql(model: type[pw.Model], fields: Sequence[pw.Field], rows: int = 1) -> str:
    one = f"({marks(len(fields))})"
    columns = ", ".join(col(f) for f in fields)
    return f"INSERT INTO {tbl(model)} ({columns}) VALUES {', '.join([one] * rows)}"


@cache
def mention_insert_sql(rows: int, returning: bool) -> str:
    # Several rows per statement: the FTS5 index (filled by a trigger) writes its pending terms
    # out at the end of every statement, so one row per statement costs ~5× more per mention.
    fields = [*MENTION_FIELDS, *(f for f, _ in MENTION_DEFAULTS)]
    sql = insert_sql(Mention, fields, rows) + " ON CONFLICT DO NOTHING"
    if returning:
        sql += f" RETURNING {col(Mention.remote_id)}, {col(Mention.id)}"
    return sql


def db_time(value: datetime) -> str:
    """What ``UTCDateTimeField.db_value`` stores, without its ``strftime`` (which cost ~3% of
    a sync): the same text for UTC times (what every client hands over) from year 1000 on."""
    if value.tzinfo is not UTC or value.year < 1000:
        return cast(str, Mention.created_at.db_value(value))
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


PERSON_INSERT = (
    f"INSERT INTO {tbl(Person)} ({col(Person.network)}, {col(Person.remote_id)}, "
    f"{col(Person.handle)}, {col(Person.display_name)}, {col(Person.follower_count)}, "
    f"{col(Person.profile_url)}, {col(Person.stance)}, {col(Person.notes)}, "
    f"{col(Person.updated_at)}) VALUES "
)
PERSON_ON_CONFLICT = (
    f" ON CONFLICT ({col(Person.network)}, {col(Person.remote_id)}) DO UPDATE SET "
    f"{col(Person.follower_count)} = coalesce(excluded.{col(Person.follower_count)}, "
    f"{col(Person.follower_count)}), "
    f"{col(Person.profile_url)} = coalesce(excluded.{col(Person.profile_url)}, "
    f"{col(Person.profile_url)}), "
    f"{col(Person.updated_at)} = excluded.{col(Person.updated_at)}"
)
PERSON_UPSERT = f"{PERSON_INSERT}({marks(9)}){PERSON_ON_CONFLICT}"


@cache
def person_upsert_returning_sql(rows: int) -> str:
    """Several people in one statement, handing back each one's id and stored names."""
    values = ", ".join([f"({marks(9)})"] * rows)
    returning = f"{col(Person.remote_id)}, {col(Person.id)}, {col(Person.handle)}"
    return (
        f"{PERSON_INSERT}{values}{PERSON_ON_CONFLICT} "
        f"RETURNING {returning}, {col(Person.display_name)}"
    )


PERSON_RENAME_BY_ID = (
    f"UPDATE {tbl(Person)} SET {col(Person.handle)} = ?, {col(Person.display_name)} = ? "
    f"WHERE {col(Person.id)} = ?"
)
# Names are written only when they changed: every write of a name re-indexes all of that
# person's mentions for search (the person_fts_rename trigger), which made each page cost more
# the longer its authors' history was.
PERSON_RENAME = (
    f"UPDATE {tbl(Person)} SET {col(Person.handle)} = ?, {col(Person.display_name)} = ? "
    f"WHERE {col(Person.network)} = ? AND {col(Person.remote_id)} = ? "
    f"AND ({col(Person.handle)} IS NOT ? OR {col(Person.display_name)} IS NOT ?)"
)


@cache
def existing_cases_sql(pairs: int) -> str:
    return (
        f"WITH wanted(person, conversation) AS (VALUES {', '.join(['(?, ?)'] * pairs)}) "
        f"SELECT c.{col(Case.id)}, c.{col(Case.person)}, c.{col(Case.conversation_key)}, "
        f"c.{col(Case.status)} FROM wanted JOIN {tbl(Case)} c ON c.{col(Case.account)} = ? "
        f"AND c.{col(Case.person)} = wanted.person "
        f"AND c.{col(Case.conversation_key)} = wanted.conversation"
    )


@cache
def case_insert_sql() -> str:
    return insert_sql(Case, [*CASE_FIELDS, *(f for f, _ in CASE_DEFAULTS)])


@cache
def case_insert_returning_sql(rows: int) -> str:
    """Several new cases in one statement, handing back their ids (no lookup after)."""
    fields = [*CASE_FIELDS, *(f for f, _ in CASE_DEFAULTS)]
    returning = f"{col(Case.id)}, {col(Case.person)}, {col(Case.conversation_key)}"
    return f"{insert_sql(Case, fields, rows)} RETURNING {returning}, {col(Case.status)}"


@cache
def stored_mentions_sql(rows: int) -> str:
    """The (remote id, id) of a network's stored mentions among ``rows`` remote ids."""
    return (
        f"SELECT {col(Mention.remote_id)}, {col(Mention.id)} FROM {tbl(Mention)} "
        f"WHERE {col(Mention.network)} = ? AND {col(Mention.remote_id)} IN ({marks(rows)})"
    )


# A post stored from a saved search that now comes addressed to us becomes addressed, with the
# direct stream's kind (?1 its kind, ?2 the network, ?3 its remote id, ?4 the search's kind).
MARK_ADDRESSED = (
    f"UPDATE {tbl(Mention)} SET {col(Mention.addressed_to_us)} = 1, "
    f"{col(Mention.kind)} = CASE WHEN ?1 = ?4 THEN {col(Mention.kind)} ELSE ?1 END "
    f"WHERE {col(Mention.network)} = ?2 AND {col(Mention.remote_id)} = ?3 "
    f"AND ({col(Mention.addressed_to_us)} = 0 OR ({col(Mention.kind)} = ?4 AND ?1 <> ?4))"
)


@cache
def people_ids_sql(rows: int) -> str:
    """The (remote id, id) of a network's people among ``rows`` remote ids."""
    return (
        f"SELECT {col(Person.remote_id)}, {col(Person.id)} FROM {tbl(Person)} "
        f"WHERE {col(Person.network)} = ? AND {col(Person.remote_id)} IN ({marks(rows)})"
    )


@cache
def conversation_keys_sql(model: type[pw.Model], scope: str, rows: int) -> str:
    """(remote id, conversation key) of ``model``'s rows (stored mentions, or our posted
    replies) among ``rows`` remote ids, within one value of the ``scope`` field (the network,
    the account)."""
    fields = model._meta.fields
    remote_id, key = col(fields["remote_id"]), col(Case.conversation_key)
    return (
        f"SELECT x.{remote_id}, c.{key} FROM {tbl(model)} x "
        f"JOIN {tbl(Case)} c ON c.{col(Case.id)} = x.{col(fields['case'])} "
        f"WHERE x.{col(fields[scope])} = ? AND x.{remote_id} IN ({marks(rows)})"
    )


@cache
def latest_mention_stamps_sql(rows: int) -> str:
    """(case id, when its newest stored mention was written) for ``rows`` cases."""
    case, created = col(Mention.case), col(Mention.created_at)
    return (
        f"SELECT {case}, MAX({created}) FROM {tbl(Mention)} "
        f"WHERE {case} IN ({marks(rows)}) GROUP BY {case}"
    )


@cache
def case_update_sql(snippet: bool, reopen: bool, count_reopening: bool) -> str:
    """New mentions for a stored case. Parameters in order: how many, now, the newest one's
    time; its snippet (``snippet``); the open status, its bucket and an empty reason
    (``reopen``, and ``count_reopening`` adds one to the reopened count); the case id."""
    count, activity = col(Case.mention_count), col(Case.last_activity_at)
    sets = [f"{count} = {count} + ?", f"{col(Case.updated_at)} = ?"]
    sets.append(f"{activity} = MAX({activity}, ?)")
    if snippet:
        sets.append(f"{col(Case.last_snippet)} = ?")
    if reopen:
        sets += [f"{col(Case.status)} = ?", f"{col(Case.bucket)} = ?"]
        sets.append(f"{col(Case.status_reason)} = ?")
        if count_reopening:
            sets.append(f"{col(Case.reopened_count)} = {col(Case.reopened_count)} + 1")
    return f"UPDATE {tbl(Case)} SET {', '.join(sets)} WHERE {col(Case.id)} = ?"
