"""The one way to open Kindly's database: checked first, private file, WAL, migrated.

``database`` (in ``models``) is a proxy; ``open_database`` points it at a file, so tests swap
in a temporary one with the same call.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

import peewee as pw

from app.storage import sqlite
from app.storage.errors import DatabaseCorrupt, DatabaseTooNew, NotKindlyDatabase
from app.storage.migrations import HEAD, MigrationReport, migrate
from app.storage.models import database

log = logging.getLogger(__name__)

DB_FILENAME = "kindly.sqlite3"


def inspect_file(path: Path) -> int:
    """Read-only look at an existing file: its schema version. Raises before anything is written.

    Returns 0 for a missing or empty file.
    """
    if not path.exists() or path.stat().st_size == 0:
        return 0
    # Without a -wal file everything is in the file itself: read it as immutable, so that SQLite
    # creates no -wal/-shm files beside a file we may be about to refuse. With one (Kindly is
    # running, or stopped abruptly), a plain read-only connection is needed to see its changes.
    wal_present = path.with_name(path.name + "-wal").exists()
    try:
        con = sqlite3.connect(sqlite.read_only_uri(path, immutable=not wal_present), uri=True)
    except sqlite3.Error as exc:
        raise DatabaseCorrupt(
            f"Kindly cannot open {path} ({exc}). Kindly has not changed it. Check that you can "
            "read the file and its folder, or restore a backup from the backups folder beside it.",
            path,
        ) from exc
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        problems = [r[0] for r in con.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise DatabaseCorrupt(
                f"The database {path} is damaged ({'; '.join(problems[:3])}). "
                "Kindly has not changed it. Restore a backup from the backups folder beside it.",
                path,
            )
        if not tables:
            return 0
        if "schema_info" not in tables:
            raise NotKindlyDatabase(
                f"{path} is a database, but not one of Kindly's. Kindly has not changed it. "
                "Move that file out of the folder (or choose another data folder) and start "
                "Kindly again to create a new database.",
                path,
            )
        row = con.execute("SELECT max(version) FROM schema_info").fetchone()
        version = int(row[0] or 0)
    except sqlite3.DatabaseError as exc:
        raise DatabaseCorrupt(
            f"{path} is damaged or is not a database ({exc}). Kindly has not changed it. "
            "Restore a backup from the backups folder beside it.",
            path,
        ) from exc
    finally:
        con.close()
    if version > HEAD:
        raise DatabaseTooNew(
            f"{path} was written by a newer version of Kindly (schema {version}; this one knows "
            f"up to {HEAD}). Kindly has not changed it. Install the newer Kindly to open it.",
            path,
        )
    return version


def _private_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    if os.name == "posix":
        os.chmod(path, 0o600)


def connect(path: Path) -> pw.SqliteDatabase:
    """A peewee database on ``path`` with Kindly's pragmas (connections are per thread)."""
    return pw.SqliteDatabase(str(path), pragmas=sqlite.PRAGMAS)


def open_database(path: Path, *, migrate_to: int = HEAD) -> MigrationReport:
    """Check, open and migrate the database at ``path``; bind the models to it."""
    path = Path(path)
    inspect_file(path)
    _private_file(path)
    db = connect(path)
    database.initialize(db)
    db.connect(reuse_if_open=True)
    report = migrate(db, path, target=migrate_to)
    log.info(
        "database %s open (schema %d%s)",
        path,
        report.to_version,
        f", upgraded from {report.from_version}"
        if report.from_version not in (0, report.to_version)
        else "",
    )
    return report


def close_database() -> None:
    db = database.obj
    if db is not None and not db.is_closed():
        db.close()
