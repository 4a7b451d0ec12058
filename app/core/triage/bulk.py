"""Batch writes for triage: one prepared statement run over many rows (``executemany``).

Peewee builds a fresh SQL string per ``insert_many`` chunk or per ``update`` call, which costs far
more than SQLite's work at ingest rates of thousands of rows per second. Here the statement is
written once from the model's own table and column names and the values pass through each
field's ``db_value``, so the rows stored are exactly what peewee would have stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import peewee as pw

from app.storage.models import database


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _table(model: type[pw.Model]) -> str:
    return _quote(model._meta.table_name)


def _converters(fields: Sequence[pw.Field]) -> list[Callable[[Any], object]]:
    """Each field's ``db_value``; a value passed again as the very same object (the run's
    "now" in every row) is converted once (a timestamp's ``strftime`` costs ~2 µs)."""
    return [_same_once(f.db_value) for f in fields]


def _same_once(convert: Callable[[Any], object]) -> Callable[[Any], object]:
    last: list[object] = [_NOTHING, None]

    def converted(value: object) -> object:
        if value is last[0]:
            return last[1]
        result = convert(value)
        last[0], last[1] = value, result
        return result

    return converted


_NOTHING = object()


def _convert_all(
    fields: Sequence[pw.Field], rows: Iterable[Sequence[object]]
) -> list[tuple[object, ...]]:
    converters = _converters(fields)
    width = len(converters)
    values = []
    for row in rows:
        if len(row) != width:
            raise ValueError(f"a row of {len(row)} values for {width} columns")
        values.append(tuple([c(v) for c, v in zip(converters, row, strict=True)]))
    return values


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
    values = _convert_all([*set_fields, key], rows)
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
    values = _convert_all(fields, rows)
    if values:
        database.cursor().executemany(sql, values)
    return len(values)
