"""Batch writes store exactly what peewee would: the same values, of the same types."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from pathlib import Path

import pytest

from app.core.triage.bulk import _convert_all, insert_rows, update_rows
from app.storage.models import Account, Case, CaseEvent, Person


class Kind(StrEnum):
    NOTE = "note"


NOW = datetime(2024, 3, 4, 10, 0, 0, 123, tzinfo=UTC)
FIELDS = [
    Case.priority,
    Case.due_at,
    Case.why,
    Case.reply_count,
    Case.keep,
    CaseEvent.case,
    CaseEvent.created_at,
]
ROWS = [
    (1.5, NOW, "why", 3, True, 7, NOW),
    (0, None, Kind.NOTE, 2.0, False, 8, NOW),  # an int for a float, an enum for text
    (True, NOW.replace(tzinfo=None), b"bytes", "4", 1, "9", NOW),
    (None, NOW.astimezone(timezone(timedelta(hours=-5))), 12, None, None, None, None),
    (-0.0, NOW + timedelta(microseconds=1), "", 0, 0, 10, NOW + timedelta(days=1)),
]


def test_values_are_converted_as_each_field_would() -> None:
    expected = [tuple(f.db_value(v) for f, v in zip(FIELDS, row, strict=True)) for row in ROWS]
    got = _convert_all(FIELDS, ROWS)
    assert got == expected
    assert [[type(v) for v in row] for row in got] == [[type(v) for v in row] for row in expected]


def test_a_row_of_the_wrong_width_is_refused() -> None:
    with pytest.raises(ValueError, match="a row of 2 values for 7 columns"):
        _convert_all(FIELDS, [(1.0, NOW)])


def test_rows_written_in_bulk_read_back_as_through_peewee(db_path: Path) -> None:
    account = Account.create(network="mastodon", handle="@org@example.social", keyring_ref="k")
    person = Person.create(network="mastodon", remote_id="p", handle="rosa")
    common = {"account": account, "person": person, "network": "mastodon"}
    ours = Case.create(conversation_key="a", first_mention_at=NOW, last_activity_at=NOW, **common)
    theirs = Case.create(conversation_key="b", first_mention_at=NOW, last_activity_at=NOW, **common)
    update_rows(Case, [Case.priority, Case.due_at, Case.why], Case.id, [(2, NOW, "x", ours.id)])
    Case.update(priority=2, due_at=NOW, why="x").where(Case.id == theirs.id).execute()
    insert_rows(
        CaseEvent,
        [CaseEvent.case, CaseEvent.kind, CaseEvent.detail, CaseEvent.actor, CaseEvent.created_at],
        [(ours.id, "k", "d", "a", NOW)],
    )
    CaseEvent.insert(case=theirs.id, kind="k", detail="d", actor="a", created_at=NOW).execute()
    table, events_table = Case._meta.table_name, CaseEvent._meta.table_name
    read = Case._meta.database.execute_sql(
        f'SELECT priority, typeof(priority), due_at, why FROM "{table}" ORDER BY id'
    ).fetchall()
    assert read[0] == read[1] == (2.0, "real", "2024-03-04 10:00:00.000123", "x")
    events = Case._meta.database.execute_sql(
        f'SELECT kind, detail, created_at FROM "{events_table}" ORDER BY id'
    ).fetchall()
    assert events[0] == events[1] == ("k", "d", "2024-03-04 10:00:00.000123")
