"""Keyset-paged queries for the inbox: every page is one index range, nothing loads a table.

A page is asked for with the sort key of the last row already shown (``after``), never with an
OFFSET, so page 1,000 costs what page 1 costs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import peewee as pw

from app.storage import sqlite
from app.storage.models import Case, Mention, Person

SortKey = tuple[float, str, int] | tuple[str, int]


class CaseOrder(StrEnum):
    PRIORITY = "priority"  # most urgent first
    NEWEST = "newest"  # most recent activity first


@dataclass(frozen=True, slots=True)
class CaseQuery:
    bucket: str | None = None  # None: every bucket
    network: str | None = None
    search: str | None = None  # what a person typed; made safe by sqlite.match_expression
    order: CaseOrder = CaseOrder.PRIORITY
    person_ids: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class CaseRowData:
    id: int
    network: str
    status: str
    person_id: int
    display_name: str
    handle: str
    follower_count: int | None
    stance: str
    snippet: str
    last_activity_at: datetime
    mention_count: int
    reply_count: int
    priority: float
    why: str
    due_at: datetime | None
    sort_key: SortKey


_STAMP = Case.last_activity_at


def _stamp(value: datetime) -> str:
    return str(_STAMP.db_value(value))


def _where(query: CaseQuery) -> list[pw.Expression]:
    conditions: list[pw.Expression] = []
    if query.bucket is not None:
        conditions.append(Case.bucket == query.bucket)
    if query.network is not None:
        conditions.append(Case.network == query.network)
    if query.person_ids is not None:
        conditions.append(Case.person.in_(list(query.person_ids)))
    if query.search:
        search = sqlite.parse_search(query.search)
        if search is None:
            conditions.append(pw.SQL("0"))
        else:
            conditions.append(
                Case.person.in_(sqlite.matching_person_ids(search.people))
                | Case.id.in_(sqlite.matching_case_ids(search.mentions))
            )
    return conditions


# What a search finds: the cases whose person's name or handle has every word typed, and the
# cases holding a mention whose text and author name have them between them. (Every mention of
# a case is by the case's person: ingest groups mentions by author and conversation.) Looking
# names up among people first means a surname ("Okafor": 24,000 mentions by 1,200 people in
# 3,600 cases) costs a look at 60,000 names and one index range per person, not a walk through
# every mention they wrote (bench/bench_search on 1M mentions: 112 ms before).
#
# From this many matching mentions (or cases of matching people) on, a search walks the cases
# in list order and keeps those with a match, instead of collecting every match's case and
# sorting them all: a common word ("volunteer" in 1 mention in 6) then costs a few index
# ranges, not 160,000 lookups and a sort (p95 1.8 s before). Fewer matches: the direct query.
SEARCH_SCAN_FROM = 5_000
_SCAN_BATCH = 400
# A scan that has read this many cases and, at the rate it is finding them, would need several
# times more (the matches sit in a few people's cases) gives way to the direct query: its cost
# is bounded by the number of matches.
_SCAN_PROBE = 2_000
_SCAN_MOST = 8_000


def case_page(query: CaseQuery, after: SortKey | None, limit: int) -> list[CaseRowData]:
    """The next ``limit`` cases after ``after`` in ``query.order``."""
    if query.search and limit > 0:
        search = sqlite.parse_search(query.search)
        if search is not None:
            db = Case._meta.database
            people = sqlite.matching_people(db, search.people)
            scan = sqlite.MatchScan(db, search.mentions_read_lazily(db, people_found=bool(people)))
            try:
                scan.read(SEARCH_SCAN_FROM)
                if not scan.complete or _many_cases_of(search.people, people):
                    return _scan_for_matches(query, scan, people, after, limit)
            finally:
                scan.close()
            return _matching_page(query, after, limit)
    return _case_page(query, after, limit)


def _matching_page(query: CaseQuery, after: SortKey | None, limit: int) -> list[CaseRowData]:
    """``case_page`` for a search through the direct query, in two steps: the page's ids from
    the matching cases' ids and sort keys, then those cases' rows with their people. In one
    step every matching case's whole row was joined to its person and sorted, to keep 100
    ("gift aid", 36,000 cases, when a scan gives way to it: 251 ms -> 99 ms)."""
    ids = [row[0] for row in _raw(_case_keys_select(query, after, limit))]
    return _case_page(replace(query, search=None), None, len(ids), only=ids) if ids else []


def _many_cases_of(expression: str, people: set[int]) -> bool:
    """Whether the people named by ``expression`` have ``SEARCH_SCAN_FROM`` cases or more
    (counted only that far, along the case person index)."""
    if not people:
        return False
    named = Case.select(Case.id).where(Case.person.in_(sqlite.matching_person_ids(expression)))
    return int(named.limit(SEARCH_SCAN_FROM).count()) >= SEARCH_SCAN_FROM


def _scan_for_matches(
    query: CaseQuery,
    scan: sqlite.MatchScan,
    people: set[int],
    after: SortKey | None,
    limit: int,
) -> list[CaseRowData]:
    """``case_page`` for a search with many matches: the same rows, in the same order.

    Cases are read in list order (ids, people and sort keys only), a batch at a time, with the
    other filters; a case is kept if its person is one of ``people`` or one of its mentions
    matches. Matches are read newest first, only down to the oldest mention of the cases read
    so far. Rows are read as SQLite gives them: the thousands of ids a scan reads cost more in
    peewee's row handling than in SQLite.
    """
    unfiltered = replace(query, search=None)
    found: list[int] = []
    batch = _SCAN_BATCH
    start, read = after, 0
    for _ in range(1_000_000):  # bounded: every round reads cases further down the list
        if read >= _SCAN_PROBE and read * limit > _SCAN_MOST * max(1, len(found)):
            return _matching_page(query, start, limit)
        select = _case_keys_select(unfiltered, after, batch, people=bool(people))
        keys = _keys(unfiltered, _raw(select), people=bool(people))
        read += len(keys)
        if not keys:
            break
        matching = {case_id for case_id, person_id, _ in keys if person_id in people}
        if not (scan.complete and not scan.hits):
            mentions = _mentions_of(select)
            if mentions:
                scan.cover(min(mention_id for _, mention_id in mentions))
            hits = scan.hits
            matching.update(case_id for case_id, mention_id in mentions if mention_id in hits)
        found.extend(case_id for case_id, _, _ in keys if case_id in matching)
        if len(found) >= limit:
            break
        after = keys[-1][2]
        batch = min(batch * 2, 6400)
    if not found:
        return []
    chosen = found[:limit]
    return _case_page(unfiltered, None, len(chosen), only=chosen)


def _raw(select: pw.Select) -> list[tuple[Any, ...]]:
    """The rows of ``select`` as plain tuples, straight from the cursor."""
    sql, params = select.sql()
    rows: list[tuple[Any, ...]] = Case._meta.database.execute_sql(sql, params).fetchall()
    return rows


def _mentions_of(cases: pw.Select) -> list[tuple[int, int]]:
    """(case id, mention id) of every mention of the cases ``cases`` selects (id first): one
    range of the mention case index each. (A list of thousands of ids costs more to build in
    peewee than the query.)"""
    sql, params = cases.sql()
    rows: list[tuple[int, int]] = Case._meta.database.execute_sql(
        f'SELECT m."{Mention.case.column_name}", m."{Mention.id.column_name}" '
        f'FROM "{Mention._meta.table_name}" m '
        f'WHERE m."{Mention.case.column_name}" IN (SELECT "id" FROM ({sql}))',
        params,
    ).fetchall()
    return rows


def _keyset(
    query: CaseQuery, after: SortKey | None
) -> tuple[list[pw.Expression], tuple[pw.Ordering, ...]]:
    """The filters (with the keyset condition for ``after``) and the order of a page."""
    conditions = _where(query)
    order: tuple[pw.Ordering, ...]
    if query.order is CaseOrder.PRIORITY:
        order = (Case.priority.desc(), Case.last_activity_at.desc(), Case.id.desc())
        if after is not None:
            priority, stamp, case_id = after  # type: ignore[misc]
            conditions.append(
                pw.Tuple(Case.priority, Case.last_activity_at, Case.id)
                < pw.Tuple(priority, stamp, case_id)
            )
    else:
        order = (Case.last_activity_at.desc(), Case.id.desc())
        if after is not None:
            stamp, case_id = after  # type: ignore[misc]
            conditions.append(pw.Tuple(Case.last_activity_at, Case.id) < pw.Tuple(stamp, case_id))
    return conditions, order


def _case_keys_select(
    query: CaseQuery, after: SortKey | None, limit: int, *, people: bool = False
) -> pw.Select:
    """Only the ids and sort keys of a page (dates as stored: nothing is parsed), and the
    people if asked: without them the columns are those of the order's index, so SQLite reads
    the index alone and no case row."""
    conditions, order = _keyset(query, after)
    columns: list[pw.Node] = [Case.id, Case.last_activity_at.cast("TEXT")]
    if query.order is CaseOrder.PRIORITY:
        columns.append(Case.priority)
    if people:
        columns.append(Case.person)
    select = Case.select(*columns).order_by(*order).limit(limit)
    if conditions:
        select = select.where(*conditions)
    return select


def _keys(
    query: CaseQuery, rows: list[tuple[Any, ...]], *, people: bool
) -> list[tuple[int, int, SortKey]]:
    """(case id, person id or 0 if not read, sort key) of each row of ``_case_keys_select``."""
    by_priority = query.order is CaseOrder.PRIORITY
    keys: list[tuple[int, int, SortKey]] = []
    for row in rows:
        case_id, stamp = row[0], row[1]
        key: SortKey = (row[2], stamp, case_id) if by_priority else (stamp, case_id)
        keys.append((case_id, row[-1] if people else 0, key))
    return keys


def _case_page(
    query: CaseQuery, after: SortKey | None, limit: int, only: list[int] | None = None
) -> list[CaseRowData]:
    conditions, order = _keyset(query, after)
    if only is not None:
        conditions.append(Case.id.in_(only))
    # Plain tuples, dates as stored text: building model instances and parsing dates with
    # strptime cost ~40 µs a row, ten times the query (bench/bench_inbox: fetchMore 4.5 ms a
    # page beside 0.4 ms of raw SQL).
    select = (
        Case.select(
            Case.id,
            Case.network,
            Case.status,
            Case.person,
            Case.last_snippet,
            Case.last_activity_at.cast("TEXT"),
            Case.mention_count,
            Case.reply_count,
            Case.priority,
            Case.why,
            Case.due_at.cast("TEXT"),
            Person.display_name,
            Person.handle,
            Person.follower_count,
            Person.stance,
        )
        .join(Person)
        .order_by(*order)
        .limit(limit)
        .tuples()
    )
    if conditions:
        select = select.where(*conditions)
    rows: list[CaseRowData] = []
    by_priority = query.order is CaseOrder.PRIORITY
    for (
        case_id,
        network,
        status,
        person_id,
        snippet,
        last_text,
        mention_count,
        reply_count,
        priority,
        why,
        due_text,
        display_name,
        handle,
        follower_count,
        stance,
    ) in select:
        last_activity_at = _when(last_text)
        assert last_activity_at is not None  # NOT NULL
        stamp = _stamp(last_activity_at)
        rows.append(
            CaseRowData(
                id=case_id,
                network=network,
                status=status,
                person_id=person_id,
                display_name=display_name,
                handle=handle,
                follower_count=follower_count,
                stance=stance,
                snippet=snippet,
                last_activity_at=last_activity_at,
                mention_count=mention_count,
                reply_count=reply_count,
                priority=priority,
                why=why,
                due_at=_when(due_text),
                sort_key=(priority, stamp, case_id) if by_priority else (stamp, case_id),
            )
        )
    return rows


def _when(text: str | None) -> datetime | None:
    """A stored UTC time: the usual "YYYY-MM-DD HH:MM:SS.ffffff" quickly, else as the field
    reads it (other formats written by hand or by older versions)."""
    if text is None:
        return None
    if len(text) == 26 and text[10] == " ":
        try:
            return datetime.fromisoformat(text).replace(tzinfo=UTC)
        except ValueError:
            pass
    value: datetime | None = _STAMP.python_value(text)
    return value


def case_count(query: CaseQuery) -> int:
    select = Case.select()
    conditions = _where(query)
    if conditions:
        select = select.where(*conditions)
    return int(select.count())


def bucket_counts(network: str | None = None) -> dict[str, int]:
    """How many cases each bucket holds (of one network, or of all)."""
    counts: dict[str, int] = {}
    for (net, bucket), n in _network_bucket_counts().items():
        if network is None or net == network:
            counts[bucket] = counts.get(bucket, 0) + n
    return counts


# The sidebar asks for the counts of every view of every network at once (seven queries, each
# counting up to all 150,000 cases of a large inbox: ~110 ms, most of opening the window). One
# grouped count answers them all, and is kept until the database changes: PRAGMA data_version
# moves when another connection commits, total_changes when this one writes.
_counts_memo: tuple[object, tuple[int, int], dict[tuple[str, str], int]] | None = None


def _network_bucket_counts() -> dict[tuple[str, str], int]:
    global _counts_memo
    db = Case._meta.database
    connection = db.connection()
    version = (int(db.execute_sql("PRAGMA data_version").fetchone()[0]), connection.total_changes)
    memo = _counts_memo
    if memo is not None and memo[0] is connection and memo[1] == version:
        return memo[2]
    select = (
        Case.select(Case.network, Case.bucket, pw.fn.COUNT(Case.id))
        .group_by(Case.network, Case.bucket)
        .tuples()
    )
    counts = {(str(net), str(bucket)): int(n) for net, bucket, n in select}
    _counts_memo = (connection, version, counts)
    return counts
