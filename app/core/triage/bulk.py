"""Batch writes for triage: one prepared statement run over many rows (``executemany``).

Peewee builds a fresh SQL string per ``insert_many`` chunk or per ``update`` call, which costs far
more than SQLite's work at ingest rates of thousands of rows per second. Here the statement is
written once from the model's own table and column names and the values pass through each
field's ``db_value``, so the rows stored are exactly what peewee would have stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import peewee as pw

from app.storage.models import database


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _table(model: type[pw.Model]) -> str:
    return _quote(model._meta.table_name)


def _convert(fields: Sequence[pw.Field], row: Sequence[object]) -> tuple[object, ...]:
    return tuple(f.db_value(v) for f, v in zip(fields, row, strict=True))


def update_rows(
    model: type[pw.Model],
    set_fields: Sequence[pw.Field],
    key: pw.Field,
    rows: Iterable[Sequence[object]],
    extra_where: str = "",
) -> int:
    """``UPDATE … SET fields WHERE key = ?`` per row; each row is (*values, key). Returns rows."""
    param = database.param
    assignments = ", ".join(f"{_quote(f.column_name)} = {param}" for f in set_fields)
    sql = f"UPDATE {_table(model)} SET {assignments} WHERE {_quote(key.column_name)} = {param}"
    if extra_where:
        sql += f" AND ({extra_where})"
    fields = [*set_fields, key]
    values = [_convert(fields, row) for row in rows]
    if values:
        database.cursor().executemany(sql, values)
    return len(values)


def insert_rows(
    model: type[pw.Model], fields: Sequence[pw.Field], rows: Iterable[Sequence[object]]
) -> int:
    """``INSERT INTO … (fields) VALUES (?, …)`` per row. Returns how many were given."""
    param = database.param
    columns = ", ".join(_quote(f.column_name) for f in fields)
    marks = ", ".join(param for _ in fields)
    sql = f"INSERT INTO {_table(model)} ({columns}) VALUES ({marks})"
    values = [_convert(fields, row) for row in rows]
    if values:
        database.cursor().executemany(sql, values)
    return len(values)
