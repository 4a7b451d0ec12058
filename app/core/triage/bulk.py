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


def _native(field: pw.Field) -> type | None:
    """The Python type whose values ``field.db_value`` hands back as they are, if any: peewee's
    own integer, float and text fields (and keys to an integer id) only ``int()``, ``float()``
    or ``str()`` their values, which gives back a value of exactly that type unchanged."""
    if isinstance(field, pw.ForeignKeyField):
        if type(field).db_value is not pw.ForeignKeyField.db_value:
            return None
        field = field.rel_field
    if type(field).db_value is not pw.Field.db_value:
        return None
    adapt = type(field).adapt
    if adapt is pw.IntegerField.adapt:
        return int
    if adapt is pw.FloatField.adapt:
        return float
    if adapt is pw._StringField.adapt:
        return str
    return None


def _convert_all(
    fields: Sequence[pw.Field], rows: Iterable[Sequence[object]]
) -> list[tuple[object, ...]]:
    """Each value through its field's ``db_value``, as peewee would store it, skipping the calls
    that cannot change it; a value passed again as the very same object (the run's "now" in
    every row) is converted once (a timestamp's ``strftime`` costs ~2 µs)."""
    natives = [_native(f) for f in fields]
    converts = [f.db_value for f in fields]
    last: list[object] = [_NOTHING] * len(fields)
    done: list[object] = [None] * len(fields)
    columns = range(len(fields))
    values = []
    for row in rows:
        if len(row) != len(fields):
            raise ValueError(f"a row of {len(row)} values for {len(fields)} columns")
        out = []
        for i in columns:
            value = row[i]
            if type(value) is natives[i]:
                out.append(value)
            elif value is last[i]:
                out.append(done[i])
            else:
                converted = converts[i](value)
                last[i], done[i] = value, converted
                out.append(converted)
        values.append(tuple(out))
    return values


_NOTHING = object()


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
