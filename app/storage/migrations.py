"""The ordered migration ladder. Each step is atomic; the file is backed up before an upgrade.

Rules: never edit a step that has shipped; add a new one. Step 1 is frozen SQL so that later
changes to the models cannot change what "version 1" means. ``tests/storage/test_migrations``
builds a database at every earlier version and migrates it to head.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import peewee as pw

from app.storage import sqlite
from app.storage.backup import backup_file, backup_name

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Step:
    version: int
    description: str
    apply: Callable[[pw.Database], None]


def _sql_script(name: str) -> Callable[[pw.Database], None]:
    def apply(db: pw.Database) -> None:
        text = resources.files("app.storage").joinpath("schema", name).read_text("utf-8")
        for statement in text.split(";\n"):
            body = "\n".join(
                line for line in statement.splitlines() if not line.lstrip().startswith("--")
            ).strip()
            if body:
                db.execute_sql(body)

    return apply


def _v2_full_text_search(db: pw.Database) -> None:
    sqlite.install_fts(db)
    sqlite.rebuild_fts(db)


def _v3_network_priority_index(db: pw.Database) -> None:
    # The "All" view of one network in priority order had no index to read in order: SQLite
    # sorted all of that network's cases for every page.
    db.execute_sql(
        'CREATE INDEX IF NOT EXISTS "case_network_priority_last_activity_at_id" '
        'ON "case" ("network", "priority", "last_activity_at", "id")'
    )


# Step 4 as frozen SQL text (not built from today's models, which will keep changing).
_V4_LISTENING = (
    'CREATE TABLE "saved_search" ("id" INTEGER NOT NULL PRIMARY KEY, "account_id" INTEGER NOT '
    'NULL, "kind" VARCHAR(255) NOT NULL, "query" VARCHAR(255) NOT NULL, "enabled" INTEGER NOT '
    'NULL, "cursor" TEXT, "estimated_reads" INTEGER, "created_at" DATETIME NOT NULL, '
    '"last_run_at" DATETIME, "last_error" TEXT, FOREIGN KEY ("account_id") REFERENCES '
    '"account" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "saved_search_account_id" ON "saved_search" ("account_id")',
    'CREATE UNIQUE INDEX "saved_search_account_id_kind_query" ON "saved_search" '
    '("account_id", "kind", "query")',
    'CREATE TABLE "feed" ("id" INTEGER NOT NULL PRIMARY KEY, "url" VARCHAR(255) NOT NULL, '
    '"title" VARCHAR(255) NOT NULL, "enabled" INTEGER NOT NULL, "cursor" TEXT, "created_at" '
    'DATETIME NOT NULL, "last_run_at" DATETIME, "last_error" TEXT)',
    'CREATE UNIQUE INDEX "feed_url" ON "feed" ("url")',
    'CREATE TABLE "link_dismissal" ("id" INTEGER NOT NULL PRIMARY KEY, "person_a_id" INTEGER '
    'NOT NULL, "person_b_id" INTEGER NOT NULL, "created_at" DATETIME NOT NULL, FOREIGN KEY '
    '("person_a_id") REFERENCES "person" ("id") ON DELETE CASCADE, FOREIGN KEY ("person_b_id") '
    'REFERENCES "person" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "link_dismissal_person_a_id" ON "link_dismissal" ("person_a_id")',
    'CREATE INDEX "link_dismissal_person_b_id" ON "link_dismissal" ("person_b_id")',
    'CREATE UNIQUE INDEX "link_dismissal_person_a_id_person_b_id" ON "link_dismissal" '
    '("person_a_id", "person_b_id")',
    'ALTER TABLE "person" ADD COLUMN "link_group" INTEGER',
    'CREATE INDEX "person_link_group" ON "person" ("link_group")',
)


def _v4_listening(db: pw.Database) -> None:
    # Saved searches and feeds, each a sync stream with its own cursor; people linked across
    # networks share person.link_group (NULL: not linked), so unlinking moves no mention.
    for statement in _V4_LISTENING:
        db.execute_sql(statement)


def _v5_lookup_indexes(db: pw.Database) -> None:
    # Ingest and triage ask which parents of new mentions are replies of ours on an account
    # (account_id, remote_id IN (…)): without an index that read every reply we ever sent.
    db.execute_sql(
        'CREATE INDEX IF NOT EXISTS "outbound_reply_account_id_remote_id" '
        'ON "outbound_reply" ("account_id", "remote_id")'
    )
    # Search turns matching mention ids into their cases; a covering index answers that
    # without reading the (large) mention rows.
    db.execute_sql('CREATE INDEX IF NOT EXISTS "mention_id_case_id" ON "mention" ("id", "case_id")')


def _v6_people_search(db: pw.Database) -> None:
    # Search finds a name among people (60,000 in the large bench inbox) rather than among
    # every mention they wrote (24,000 for a common surname), then takes their cases.
    sqlite.install_person_fts(db)
    sqlite.rebuild_person_fts(db)


# Indexes that a composite index with the same leading column already covers: every query
# (and the foreign keys' cascades) can search the composite instead, and each costs a write per
# mention stored (mention: case, author) or per case opened (case: account).
_V7_REDUNDANT = (
    ("mention_case_id", "mention_case_id_created_at"),
    ("mention_author_id", "mention_author_id_created_at"),
    ("case_account_id", "case_account_id_person_id_conversation_key"),
)


def _v7_drop_covered_indexes(db: pw.Database) -> None:
    for name, covered_by in _V7_REDUNDANT:
        found = db.execute_sql(
            "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?", (covered_by,)
        ).fetchone()
        if found is None:  # never drop the only index on a column
            raise RuntimeError(f"index {covered_by} is missing; {name} is kept")
        db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')


def _v8_packed_raw_payloads(db: pw.Database) -> None:
    # No table changes: from this version on, a mention's raw payload may be stored zlib-packed
    # (a BLOB in the TEXT column; ``models.read_json`` reads both kinds). The version number
    # is what matters: a Kindly before this step refuses the file instead of reading packed
    # payloads as missing (its pre-send check, people linking and archive export need them).
    del db


STEPS: list[Step] = [
    Step(1, "initial schema", _sql_script("0001_initial.sql")),
    Step(2, "full-text search over mention text and author names", _v2_full_text_search),
    Step(3, "index for one network's cases in priority order", _v3_network_priority_index),
    Step(4, "saved searches, feeds and people linked across networks", _v4_listening),
    Step(5, "indexes for our replies by remote id and for search hits' cases", _v5_lookup_indexes),
    Step(6, "full-text index of people's names for search", _v6_people_search),
    Step(7, "drop indexes that composite indexes cover (cheaper ingest)", _v7_drop_covered_indexes),
    Step(8, "mention raw payloads may be stored zlib-packed", _v8_packed_raw_payloads),
]
HEAD = STEPS[-1].version


def table_names(db: pw.Database) -> set[str]:
    return set(db.get_tables())


def current_version(db: pw.Database) -> int:
    """0 for an empty file; otherwise the version recorded in ``schema_info``."""
    if "schema_info" not in table_names(db):
        return 0
    row = db.execute_sql("SELECT max(version) FROM schema_info").fetchone()
    return int(row[0] or 0)


def _set_version(db: pw.Database, version: int) -> None:
    db.execute_sql("DELETE FROM schema_info")
    db.execute_sql(
        "INSERT INTO schema_info (version, upgraded_at) "
        "VALUES (?, strftime('%Y-%m-%d %H:%M:%f', 'now'))",
        (version,),
    )


@dataclass(frozen=True, slots=True)
class MigrationReport:
    from_version: int
    to_version: int
    backup: Path | None


def migrate(
    db: pw.Database,
    path: Path | None,
    target: int | None = None,
    backup_dir: Path | None = None,
    steps: Sequence[Step] = STEPS,
) -> MigrationReport:
    """Bring ``db`` up to ``target`` (default: the last of ``steps``). Backs the file up first
    unless it is new. ``steps`` is the ladder (tests hand in a longer one with a failing step).
    """
    if target is None:
        target = steps[-1].version
    start = current_version(db)
    backup: Path | None = None
    if start and start < target and path is not None:
        folder = backup_dir or path.parent / "backups"
        backup = backup_file(path, folder / backup_name(f"before-v{target}-from-v{start}"))
        log.info("backed up the database to %s before upgrading", backup)
    reached = start
    for step in steps:
        if start < step.version <= target:
            log.info("migrating to schema %d: %s", step.version, step.description)
            with db.atomic():
                step.apply(db)
                _set_version(db, step.version)
            reached = step.version
    return MigrationReport(start, reached, backup)
