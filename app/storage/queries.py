"""Keyset-paged queries for the inbox: every page is one index range, nothing loads a table.

A page is asked for with the sort key of the last row already shown (``after``), never with an
OFFSET, so page 1,000 costs what page 1 costs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

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
        expression = sqlite.match_expression(query.search)
        if expression is None:
            conditions.append(pw.SQL("0"))
        else:
            matching = Mention.select(Mention.case).where(
                Mention.id.in_(sqlite.matching_mention_ids(expression))
            )
            conditions.append(Case.id.in_(matching))
    return conditions


def case_page(query: CaseQuery, after: SortKey | None, limit: int) -> list[CaseRowData]:
    """The next ``limit`` cases after ``after`` in ``query.order``."""
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
    select = (
        Case.select(
            Case.id,
            Case.network,
            Case.status,
            Case.person,
            Case.last_snippet,
            Case.last_activity_at,
            Case.mention_count,
            Case.reply_count,
            Case.priority,
            Case.why,
            Case.due_at,
            Person.id,
            Person.display_name,
            Person.handle,
            Person.follower_count,
            Person.stance,
        )
        .join(Person)
        .order_by(*order)
        .limit(limit)
    )
    if conditions:
        select = select.where(*conditions)
    rows: list[CaseRowData] = []
    for case in select:
        stamp = _stamp(case.last_activity_at)
        key: SortKey = (
            (case.priority, stamp, case.id)
            if query.order is CaseOrder.PRIORITY
            else (stamp, case.id)
        )
        person = case.person
        rows.append(
            CaseRowData(
                id=case.id,
                network=case.network,
                status=case.status,
                person_id=case.person.id,
                display_name=person.display_name,
                handle=person.handle,
                follower_count=person.follower_count,
                stance=person.stance,
                snippet=case.last_snippet,
                last_activity_at=case.last_activity_at,
                mention_count=case.mention_count,
                reply_count=case.reply_count,
                priority=case.priority,
                why=case.why,
                due_at=case.due_at,
                sort_key=key,
            )
        )
    return rows


def case_count(query: CaseQuery) -> int:
    select = Case.select()
    conditions = _where(query)
    if conditions:
        select = select.where(*conditions)
    return int(select.count())


def bucket_counts(network: str | None = None) -> dict[str, int]:
    select = Case.select(Case.bucket, pw.fn.COUNT(Case.id).alias("n")).group_by(Case.bucket)
    if network is not None:
        select = select.where(Case.network == network)
    return {row.bucket: row.n for row in select}
