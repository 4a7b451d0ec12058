"""Keyset paging of the inbox: every case once, in order, with ties, and never an OFFSET."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from app.storage import queries
from app.storage.db import close_database, open_database
from app.storage.models import Account, Case, Mention, Person, database
from app.storage.queries import CaseOrder, CaseQuery, CaseRowData
from app.storage.vocab import Bucket, Network

T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
# Few distinct values, so that most cases tie on priority, on time, or on both.
STAMPS = [
    T0,
    T0 + timedelta(microseconds=1),
    T0 + timedelta(seconds=1),
    T0 + timedelta(days=3),
    # The same instant as T0 + 1 s, written in another zone: it must sort as that instant.
    (T0 + timedelta(seconds=1)).astimezone(timezone(timedelta(hours=2))),
]
PRIORITIES = [0.0, 0.25, 0.25000000000000006, 0.9, 1.0]
NETWORKS = [Network.MASTODON.value, Network.BLUESKY.value, Network.X.value]
BUCKETS = [Bucket.NEEDS_REPLY.value, Bucket.WAITING.value, Bucket.RESOLVED.value]
LIMITS = [7, 1000]  # and 1 for the unfiltered view: one case per page


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[dict[str, Any]]]]:
    """Built once for the module, since every test here only reads."""
    path = tmp_path_factory.mktemp("paging") / "kindly.sqlite3"
    open_database(path)
    stored = _fill()
    close_database()
    yield path, stored


@pytest.fixture
def cases(filled: tuple[Path, list[dict[str, Any]]]) -> Iterator[list[dict[str, Any]]]:
    path, stored = filled
    open_database(path)
    yield stored
    close_database()


def _fill() -> list[dict[str, Any]]:
    """240 cases over three networks and buckets; returns what was stored, ids included."""
    rng = random.Random(11)
    accounts = {
        n: Account.create(network=n, handle=f"@us-{n}", keyring_ref=f"k-{n}") for n in NETWORKS
    }
    people = [
        Person.create(network=n, remote_id=str(i), handle=f"@p{i}", display_name=f"Person {i}")
        for n in NETWORKS
        for i in range(4)
    ]
    stored: list[dict[str, Any]] = []
    for i in range(1, 241):
        author = rng.choice(people)
        stored.append(
            {
                "id": i,
                "account": accounts[author.network].id,
                "person": author.id,
                "network": author.network,
                "conversation_key": f"c{i}",
                "bucket": rng.choice(BUCKETS),
                "priority": rng.choice(PRIORITIES),
                "first_mention_at": T0,
                "last_activity_at": rng.choice(STAMPS),
                "last_snippet": f"case {i} about the river" if i % 3 == 0 else f"case {i}",
            }
        )
    with database.atomic():
        for chunk in range(0, len(stored), 20):
            Case.insert_many(stored[chunk : chunk + 20]).execute()
        mentions = [
            {
                "account": r["account"],
                "network": r["network"],
                "remote_id": f"m{r['id']}",
                "author": r["person"],
                "case": r["id"],
                "text": r["last_snippet"],
                "created_at": T0,
            }
            for r in stored
        ]
        for chunk in range(0, len(mentions), 20):
            Mention.insert_many(mentions[chunk : chunk + 20]).execute()
    return stored


def expected(
    stored: list[dict[str, Any]], order: CaseOrder, keep: Callable[[dict[str, Any]], bool]
) -> list[int]:
    rows = [r for r in stored if keep(r)]
    if order is CaseOrder.PRIORITY:
        rows.sort(key=lambda r: (r["priority"], r["last_activity_at"], r["id"]), reverse=True)
    else:
        rows.sort(key=lambda r: (r["last_activity_at"], r["id"]), reverse=True)
    return [r["id"] for r in rows]


def walk(query: CaseQuery, limit: int) -> list[CaseRowData]:
    """Every page, each asked for with the sort key of the last row already shown."""
    shown: list[CaseRowData] = []
    after = None
    for _ in range(10_000):
        page = queries.case_page(query, after, limit)
        assert len(page) <= limit
        if not page:
            return shown
        shown.extend(page)
        after = page[-1].sort_key
    raise AssertionError("paging never ended")


def views() -> list[tuple[str, dict[str, Any], Callable[[dict[str, Any]], bool]]]:
    out: list[tuple[str, dict[str, Any], Callable[[dict[str, Any]], bool]]] = [
        ("all", {}, lambda r: True)
    ]
    for bucket in BUCKETS:
        out.append((bucket, {"bucket": bucket}, lambda r, b=bucket: r["bucket"] == b))
    for network in NETWORKS:
        out.append((network, {"network": network}, lambda r, n=network: r["network"] == n))
        for bucket in BUCKETS:
            out.append(
                (
                    f"{network}/{bucket}",
                    {"network": network, "bucket": bucket},
                    lambda r, n=network, b=bucket: r["network"] == n and r["bucket"] == b,
                )
            )
    return out


@pytest.mark.parametrize("order", list(CaseOrder))
def test_walking_the_pages_shows_every_case_once_in_order(
    cases: list[dict[str, Any]], order: CaseOrder
) -> None:
    for name, filters, keep in views():
        want = expected(cases, order, keep)
        assert want, name
        for limit in [1, *LIMITS] if not filters else LIMITS:
            shown = walk(CaseQuery(order=order, **filters), limit)
            ids = [row.id for row in shown]
            assert len(ids) == len(set(ids)), f"{name}, limit {limit}: a case shown twice"
            assert ids == want, f"{name}, limit {limit}"
            assert queries.case_count(CaseQuery(order=order, **filters)) == len(want)


@pytest.mark.parametrize("order", list(CaseOrder))
def test_the_page_after_the_last_is_empty(cases: list[dict[str, Any]], order: CaseOrder) -> None:
    everything = queries.case_page(CaseQuery(order=order), None, 1000)
    assert len(everything) == len(cases)

    assert queries.case_page(CaseQuery(order=order), everything[-1].sort_key, 10) == []
    bucket = CaseQuery(order=order, bucket=Bucket.ESCALATED.value)
    assert queries.case_page(bucket, None, 10) == []


@pytest.mark.parametrize("order", list(CaseOrder))
def test_paging_a_search_and_a_persons_cases(cases: list[dict[str, Any]], order: CaseOrder) -> None:
    about_river = walk(CaseQuery(order=order, search="river"), 4)
    assert [r.id for r in about_river] == expected(
        cases, order, lambda r: "river" in r["last_snippet"]
    )

    person = cases[0]["person"]
    theirs = walk(CaseQuery(order=order, person_ids=(person,)), 3)
    assert [r.id for r in theirs] == expected(cases, order, lambda r: r["person"] == person)


def test_rows_carry_what_the_list_shows_and_their_sort_key(cases: list[dict[str, Any]]) -> None:
    by_priority = queries.case_page(CaseQuery(order=CaseOrder.PRIORITY), None, 5)
    newest = queries.case_page(CaseQuery(order=CaseOrder.NEWEST), None, 5)

    for row in by_priority:
        assert row.sort_key == (
            row.priority,
            Case.last_activity_at.db_value(row.last_activity_at),
            row.id,
        )
        assert row.display_name.startswith("Person ")
        assert row.last_activity_at.tzinfo is not None
    for row in newest:
        assert row.sort_key == (Case.last_activity_at.db_value(row.last_activity_at), row.id)


def test_pages_are_index_ranges_never_offsets(
    cases: list[dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="peewee")
    for _, filters, _keep in views():
        for order in CaseOrder:
            walk(CaseQuery(order=order, **filters), 25)
    statements = [
        record.msg
        for record in caplog.records
        if record.name == "peewee" and isinstance(record.msg, tuple) and '"case"' in record.msg[0]
    ]
    assert len(statements) > 50
    for sql, params in statements:
        assert "OFFSET" not in sql.upper(), sql
        assert "LIMIT" in sql.upper(), sql
        plan = " | ".join(
            row[-1] for row in database.execute_sql(f"EXPLAIN QUERY PLAN {sql}", params)
        )
        assert "USE TEMP B-TREE" not in plan, f"sorted in memory instead of read in order: {plan}"
        assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, plan


def test_bucket_counts_per_network(cases: list[dict[str, Any]]) -> None:
    everywhere = queries.bucket_counts()
    assert sum(everywhere.values()) == len(cases)
    for bucket in BUCKETS:
        assert everywhere[bucket] == sum(1 for r in cases if r["bucket"] == bucket)
    for network in NETWORKS:
        counts = queries.bucket_counts(network)
        for bucket in BUCKETS:
            want = sum(1 for r in cases if r["bucket"] == bucket and r["network"] == network)
            assert counts.get(bucket, 0) == want
    assert queries.bucket_counts(Network.FACEBOOK.value) == {}
