"""The migration ladder: every earlier version upgrades to head, backed up, rows intact.

A database is built at each version v < HEAD with the ladder itself (``migrate(target=v)``),
filled with rows written in that version's SQL (not through today's models, which only know
head), closed, and then opened the way the app opens it.

When you add a step: HEAD grows, these tests cover the new "earlier version" by themselves; if
the new step changes what a row looks like, add a writer to ``ROW_WRITERS`` for it.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import peewee as pw
import pytest

from app.storage import queries, sqlite
from app.storage.db import close_database, connect, open_database
from app.storage.migrations import HEAD, STEPS, Step, current_version, migrate, table_names
from app.storage.models import (
    ALL_MODELS,
    Account,
    Case,
    CaseEvent,
    Mention,
    Note,
    OutboundReply,
    Person,
    Setting,
    Template,
    database,
)

# Step 1 is frozen SQL: editing it changes what "version 1" means for every file in the field.
FROZEN_0001_SHA256 = "9a4cee78d4cd9ae99ab71ffbb755962ccbf25a9e74099fe5b2663682d791da07"


@pytest.fixture(autouse=True)
def _closed_afterwards() -> Iterator[None]:
    yield
    close_database()


# -- rows as each version wrote them --------------------------------------------------------------

T0 = "2024-03-01 09:00:00.000000"
T1 = "2024-03-01 10:30:00.000000"


def _rows_v1(db: pw.Database) -> None:
    """Version 1: every table, with the values the app writes (ISO UTC text, JSON text)."""
    sql = db.execute_sql
    sql(
        "INSERT INTO account (id, network, handle, display_name, base_url, remote_id, keyring_ref,"
        " cursor, enabled, created_at, last_sync_at, last_error) VALUES"
        " (1, 'mastodon', '@riverbank@mastodon.example', 'Riverbank', 'https://mastodon.example',"
        " '42', 'kindly:mastodon:1', '{\"since\": \"9\"}', 1, ?, ?, NULL)",
        (T0, T1),
    )
    sql(
        "INSERT INTO person (id, network, remote_id, handle, display_name, follower_count,"
        " profile_url, stance, notes, updated_at) VALUES"
        " (1, 'mastodon', '7', '@chloe@social.example', 'Chloé Dubois', 310,"
        " 'https://social.example/@chloe', 'supporter', '', ?)",
        (T0,),
    )
    sql(
        'INSERT INTO "case" (id, account_id, person_id, network, conversation_key, status, bucket,'
        " status_reason, created_at, updated_at, first_mention_at, last_activity_at,"
        " mention_count, reply_count, last_snippet, reopened_count, priority, why, due_at, keep)"
        " VALUES (1, 1, 1, 'mastodon', '100', 'waiting', 'waiting', '', ?, ?, ?, ?, 2, 1,"
        " 'Any update on the clean-up?', 0, 0.75, 'Question from a supporter', NULL, 1)",
        (T0, T1, T0, T1),
    )
    sql(
        "INSERT INTO case_event (case_id, kind, detail, actor, created_at) VALUES"
        " (1, 'created', 'First mention from Mastodon', 'kindly', ?),"
        " (1, 'reply_queued', 'Reply queued', 'officer', ?)",
        (T0, T1),
    )
    sql(
        "INSERT INTO mention (id, account_id, network, remote_id, author_id, case_id, text, markup,"
        " url, kind, addressed_to_us, created_at, fetched_at, in_reply_to_id, conversation_id,"
        " sentiment, sentiment_corrected, raw) VALUES"
        " (1, 1, 'mastodon', '100', 1, 1, 'Is the river clean-up on Saturday still happening?',"
        " '<p>Is the river clean-up on Saturday still happening?</p>',"
        " 'https://social.example/@chloe/100', 'mention', 1, ?, ?, NULL, NULL, 0.1, 0,"
        ' \'{"id": "100"}\'),'
        " (2, 1, 'mastodon', '102', 1, 1, 'Any update on the clean-up? Naïve question maybe',"
        " '', NULL, 'reply', 1, ?, ?, '101', '100', NULL, 0, NULL)",
        (T0, T0, T1, T1),
    )
    sql(
        "INSERT INTO outbound_reply (id, case_id, account_id, in_reply_to_id, text, template_name,"
        " state, idempotency_key, remote_id, remote_url, error, attempts, created_at, updated_at,"
        " sent_at) VALUES (1, 1, 1, 1, 'Yes, rain or shine!', 'information-link', 'sent',"
        " 'idem-1', '101', 'https://mastodon.example/@riverbank/101', NULL, 1, ?, ?, ?)",
        (T0, T0, T0),
    )
    sql(
        "INSERT INTO note (case_id, person_id, text, created_at) VALUES"
        " (1, NULL, 'Called her back', ?), (NULL, 1, 'Volunteer since 2021', ?)",
        (T1, T1),
    )
    sql(
        "INSERT INTO template (name, title, body, category, builtin, updated_at) VALUES"
        " ('thank-you', 'Thank you', 'Hi {first_name}, thank you! {signature}', 'Supporters',"
        " 1, ?)",
        (T0,),
    )
    sql("INSERT INTO setting (key, value) VALUES ('org.name', '\"Riverbank Alliance\"')")


# The writer for version v is the one registered at the largest version <= v.
ROW_WRITERS: dict[int, Callable[[pw.Database], None]] = {1: _rows_v1}


def write_rows(db: pw.Database, version: int) -> None:
    writer = ROW_WRITERS[max(v for v in ROW_WRITERS if v <= version)]
    with db.atomic():
        writer(db)


def build_at(path: Path, version: int) -> None:
    """A closed database file at ``version``, as a Kindly of that version left it."""
    db = connect(path)
    db.connect()
    try:
        report = migrate(db, path, target=version)
        assert report.to_version == version
        assert current_version(db) == version
        write_rows(db, version)
    finally:
        db.close()


def assert_rows_intact() -> None:
    account = Account.get_by_id(1)
    assert account.handle == "@riverbank@mastodon.example"
    assert account.cursor == '{"since": "9"}'
    assert account.created_at.isoformat() == "2024-03-01T09:00:00+00:00"
    person = Person.get_by_id(1)
    assert (person.display_name, person.follower_count) == ("Chloé Dubois", 310)
    case = Case.get_by_id(1)
    assert (case.status, case.mention_count, case.reply_count, case.keep) == (
        "waiting",
        2,
        1,
        True,
    )
    assert case.last_activity_at.isoformat() == "2024-03-01T10:30:00+00:00"
    assert Mention.get_by_id(1).raw == {"id": "100"}
    assert Mention.select().where(Mention.case == 1).count() == 2
    assert OutboundReply.get_by_id(1).remote_id == "101"
    assert CaseEvent.select().where(CaseEvent.case == 1).count() == 2
    assert {n.text for n in Note.select()} == {"Called her back", "Volunteer since 2021"}
    assert Template.get(Template.name == "thank-you").builtin is True
    assert Setting.get_by_id("org.name").value == "Riverbank Alliance"


def found_case_ids(search: str) -> list[int]:
    rows = queries.case_page(queries.CaseQuery(search=search), None, 10)
    return [row.id for row in rows]


# -- the schema, compared -------------------------------------------------------------------------


def schema_of(con: sqlite3.Connection | Any) -> dict[str, Any]:
    """Tables with their columns and foreign keys, indexes with their columns, triggers."""
    execute = con.execute if isinstance(con, sqlite3.Connection) else con.execute_sql
    objects = execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
    ).fetchall()
    schema: dict[str, Any] = {"tables": {}, "indexes": {}, "triggers": {}}
    for kind, name, table, sql in objects:
        if kind == "table":
            columns = [tuple(row[1:]) for row in execute(f'PRAGMA table_info("{name}")')]
            foreign = sorted(
                tuple(row[2:]) for row in execute(f'PRAGMA foreign_key_list("{name}")')
            )
            schema["tables"][name] = {"columns": columns, "foreign_keys": foreign}
        elif kind == "index":
            unique = "UNIQUE" in (sql or "").upper()
            columns = [row[2] for row in execute(f'PRAGMA index_info("{name}")')]
            schema["indexes"][name] = (table, unique, columns)
        elif kind == "trigger":
            schema["triggers"][name] = (table, " ".join(sql.split()))
    return schema


def schema_of_file(path: Path) -> dict[str, Any]:
    con = sqlite3.connect(sqlite.read_only_uri(path), uri=True)
    try:
        return schema_of(con)
    finally:
        con.close()


# -- the ladder itself ----------------------------------------------------------------------------


def test_the_ladder_has_every_version_once_in_order() -> None:
    assert [step.version for step in STEPS] == list(range(1, HEAD + 1))
    assert all(step.description for step in STEPS)


def test_step_one_is_still_the_frozen_sql() -> None:
    text = resources.files("app.storage").joinpath("schema", "0001_initial.sql").read_bytes()
    digest = hashlib.sha256(text.replace(b"\r\n", b"\n")).hexdigest()
    assert digest == FROZEN_0001_SHA256, (
        "schema/0001_initial.sql changed: shipped steps are frozen; add a new step instead"
    )


# -- every earlier version upgrades ---------------------------------------------------------------


@pytest.mark.parametrize("version", range(1, HEAD))
def test_a_database_at_every_earlier_version_upgrades_to_head(tmp_path: Path, version: int) -> None:
    path = tmp_path / "kindly.sqlite3"
    build_at(path, version)

    report = open_database(path)

    assert (report.from_version, report.to_version) == (version, HEAD)
    assert current_version(database) == HEAD
    assert_rows_intact()
    # Full-text search covers rows written before it existed: text, author name and handle.
    assert found_case_ids("clean-up saturday") == [1]
    assert found_case_ids("chloe") == [1]  # "Chloé", diacritics folded
    assert found_case_ids("naive") == [1]
    assert found_case_ids("@chloe@social") == [1]
    assert found_case_ids("drought") == []
    # People's names (schema 6) cover people written before that index existed.
    names = database.execute_sql("SELECT rowid FROM person_fts WHERE person_fts MATCH 'dubois'")
    assert names.fetchall() == [(1,)]

    # The backup: beside the file, private, and a readable database still at ``version``.
    assert report.backup is not None
    assert report.backup.parent == tmp_path / "backups"
    assert report.backup.name.startswith(f"kindly-before-v{HEAD}-from-v{version}-")
    if os.name == "posix":
        assert stat.S_IMODE(report.backup.stat().st_mode) == 0o600
        assert stat.S_IMODE(report.backup.parent.stat().st_mode) == 0o700
    assert not list((tmp_path / "backups").glob("*.part"))
    backup = sqlite3.connect(sqlite.read_only_uri(report.backup), uri=True)
    try:
        assert backup.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        assert backup.execute("SELECT max(version) FROM schema_info").fetchone()[0] == version
        assert backup.execute("SELECT count(*) FROM mention").fetchone()[0] == 2
        assert backup.execute("SELECT handle FROM account").fetchone()[0] == (
            "@riverbank@mastodon.example"
        )
    finally:
        backup.close()
    expected = tmp_path / "expected-at-v.sqlite3"
    build_at(expected, version)
    assert schema_of_file(report.backup) == schema_of_file(expected)


@pytest.mark.parametrize("version", range(1, HEAD))
def test_the_upgraded_schema_is_the_schema_of_a_new_database(tmp_path: Path, version: int) -> None:
    old = tmp_path / "old" / "kindly.sqlite3"
    old.parent.mkdir()
    build_at(old, version)
    open_database(old)
    close_database()
    new = tmp_path / "new" / "kindly.sqlite3"
    open_database(new)
    close_database()

    upgraded, fresh = schema_of_file(old), schema_of_file(new)

    assert set(upgraded["tables"]) == set(fresh["tables"])
    assert set(upgraded["indexes"]) == set(fresh["indexes"])
    assert set(upgraded["triggers"]) == set(fresh["triggers"])
    assert upgraded == fresh


def test_the_head_schema_agrees_with_the_models(db_path: Path) -> None:
    scratch = pw.SqliteDatabase(":memory:")
    with scratch.bind_ctx(ALL_MODELS):
        scratch.create_tables(ALL_MODELS)
    from_models = schema_of(scratch)
    scratch.close()
    migrated = schema_of(database)

    for model in ALL_MODELS:
        table = model._meta.table_name
        assert table in migrated["tables"], f"{table} has a model but no table"
        assert migrated["tables"][table] == from_models["tables"][table], table
    model_indexes = from_models["indexes"]
    assert {k: v for k, v in migrated["indexes"].items() if k in model_indexes} == model_indexes
    extra = set(migrated["indexes"]) - set(model_indexes)
    assert not extra, f"indexes in the migrated schema that no model declares: {extra}"
    only_storage = set(migrated["tables"]) - set(from_models["tables"])
    assert only_storage and all(
        name.startswith(("mention_fts", "person_fts")) for name in only_storage
    )


def test_a_new_database_is_not_backed_up(tmp_path: Path) -> None:
    report = open_database(tmp_path / "kindly.sqlite3")

    assert (report.from_version, report.to_version, report.backup) == (0, HEAD, None)
    assert not (tmp_path / "backups").exists()


# -- a failing step -------------------------------------------------------------------------------


def _failing_step(version: int, before_failing: Callable[[pw.Database], None]) -> Step:
    def apply(db: pw.Database) -> None:
        before_failing(db)
        raise RuntimeError("step failed half-way")

    return Step(version, "a step that fails after changing things", apply)


def _half_way(db: pw.Database) -> None:
    db.execute_sql("CREATE TABLE doomed (id INTEGER PRIMARY KEY)")
    db.execute_sql("ALTER TABLE person ADD COLUMN doomed_column TEXT")
    db.execute_sql("UPDATE account SET handle = 'changed by a failed step'")
    db.execute_sql("DELETE FROM note")


def test_a_step_that_fails_at_head_rolls_back_and_leaves_a_backup(tmp_path: Path) -> None:
    path = tmp_path / "kindly.sqlite3"
    build_at(path, HEAD)
    open_database(path)
    before = schema_of(database)
    ladder = [*STEPS, _failing_step(HEAD + 1, _half_way)]

    with pytest.raises(RuntimeError, match="half-way"):
        migrate(database.obj, path, steps=ladder)

    assert current_version(database) == HEAD
    assert "doomed" not in table_names(database)
    assert schema_of(database) == before
    assert_rows_intact()
    backups = list((tmp_path / "backups").iterdir())
    assert [b.name[: len(f"kindly-before-v{HEAD + 1}")] for b in backups] == [
        f"kindly-before-v{HEAD + 1}"
    ]
    close_database()
    # The real ladder still opens it afterwards.
    assert open_database(path).to_version == HEAD
    assert_rows_intact()


@pytest.mark.parametrize("version", range(1, HEAD))
def test_a_failing_step_keeps_the_steps_before_it(tmp_path: Path, version: int) -> None:
    """Each step is its own transaction: a failure at v+1 leaves the file at v, as it was."""
    path = tmp_path / "kindly.sqlite3"
    build_at(path, version)
    open_database(path, migrate_to=version)
    before = schema_of(database)
    ladder = [*STEPS[:version], _failing_step(version + 1, _half_way)]

    with pytest.raises(RuntimeError):
        migrate(database.obj, path, steps=ladder)

    assert current_version(database) == version
    assert schema_of(database) == before
    close_database()
    open_database(path)
    assert_rows_intact()


def test_the_full_text_step_rolls_back_its_virtual_table_and_triggers(tmp_path: Path) -> None:
    path = tmp_path / "kindly.sqlite3"
    build_at(path, 1)
    open_database(path, migrate_to=1)
    ladder = [STEPS[0], _failing_step(2, sqlite.install_fts)]

    with pytest.raises(RuntimeError):
        migrate(database.obj, path, steps=ladder)

    assert current_version(database) == 1
    assert not any(name.startswith("mention_fts") for name in table_names(database))
    assert not database.execute_sql(
        "SELECT name FROM sqlite_master WHERE type='trigger'"
    ).fetchall()


def test_migrating_to_an_older_version_than_the_file_does_nothing(db_path: Path) -> None:
    report = migrate(database.obj, db_path, target=1)

    assert (report.from_version, report.to_version, report.backup) == (HEAD, HEAD, None)
    assert current_version(database) == HEAD


def test_step_seven_drops_only_indexes_that_a_composite_covers(tmp_path: Path) -> None:
    path = tmp_path / "kindly.sqlite3"
    build_at(path, 6)
    dropped = {"mention_case_id", "mention_author_id", "case_account_id"}
    assert dropped <= set(schema_of_file(path)["indexes"])
    open_database(path)

    # Each foreign key column is still searched through an index, never by scanning the table.
    lookups = {
        'SELECT id FROM "mention" WHERE "case_id" = ?': "mention_case_id_created_at",
        'SELECT id FROM "mention" WHERE "author_id" = ?': "mention_author_id_created_at",
        'SELECT id FROM "case" WHERE "account_id" = ?': (
            "case_account_id_person_id_conversation_key"
        ),
        'SELECT id FROM "case" WHERE "person_id" = ?': "case_person_id",
        'SELECT id FROM "mention" WHERE "account_id" = ?': "mention_account_id",
    }
    for sql, index in lookups.items():
        plan = " ".join(
            str(row[-1]) for row in database.execute_sql(f"EXPLAIN QUERY PLAN {sql}", [1])
        )
        assert f"INDEX {index} " in plan, (sql, plan)
    assert not dropped & set(schema_of(database)["indexes"])
    assert current_version(database) == HEAD
