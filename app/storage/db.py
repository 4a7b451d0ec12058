"""The one way to open Kindly's database: checked first, private file, WAL, migrated.

``database`` (in ``models``) is a proxy; ``open_database`` points it at a file, so tests swap
in a temporary one with the same call.

Checking a file before anything is written: the cheap checks (a SQLite file whose header matches
its size, a readable schema, a Kindly schema version this Kindly knows) always run at open. The
full ``PRAGMA quick_check`` reads every page: ~1 s per GB with the file in the OS cache, 5–12 s
without (bench/RESULTS.md). It also runs at open for a file up to ``FULL_CHECK_AT_OPEN_BYTES``
and before any upgrade; for a larger file the caller may defer it (``defer_full_check``) and
run it on its own read-only connection while the file is in use (``IntegrityCheck``): the app
does so in the background right after its window shows.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

import peewee as pw

from app.storage import sqlite
from app.storage.errors import DatabaseCorrupt, DatabaseTooNew, NotKindlyDatabase
from app.storage.migrations import HEAD, MigrationReport, migrate
from app.storage.models import database

log = logging.getLogger(__name__)

DB_FILENAME = "kindly.sqlite3"

# Up to this size the full check costs at most a few tens of milliseconds: it runs at every open.
FULL_CHECK_AT_OPEN_BYTES = 32 * 1024 * 1024

_HEADER = b"SQLite format 3\x00"


def _damaged(path: Path, detail: str) -> DatabaseCorrupt:
    return DatabaseCorrupt(
        f"The database {path} is damaged ({detail}). Kindly has not changed it. "
        "Restore a backup from the backups folder beside it.",
        path,
    )


def _check_header(path: Path, wal_present: bool) -> None:
    """The first 100 bytes: a SQLite file, and (with no -wal file) as long as its header says.

    A file cut short (a full disk, a copy that stopped) is found here without reading it all.
    """
    with path.open("rb") as f:
        header = f.read(100)
    if len(header) < 100 or not header.startswith(_HEADER):
        return  # not a SQLite file at all: SQLite itself says so, below
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    size_valid = header[24:28] == header[92:96]  # the page count is kept up to date
    if wal_present or not size_valid or not pages:
        return  # pages may still live in the -wal file; the full check covers the file
    expected = pages * page_size
    actual = path.stat().st_size
    if actual < expected:
        raise _damaged(path, f"the file is {actual:,} bytes, its header says {expected:,}")


def inspect_file(path: Path, *, full_check: bool = True) -> int:
    """Read-only look at an existing file: its schema version. Raises before anything is written.

    Returns 0 for a missing or empty file. ``full_check=False`` leaves out ``PRAGMA
    quick_check`` (every page read): the caller runs ``IntegrityCheck`` later.
    """
    if not path.exists() or path.stat().st_size == 0:
        return 0
    # Without a -wal file everything is in the file itself: read it as immutable, so that SQLite
    # creates no -wal/-shm files beside a file we may be about to refuse. With one (Kindly is
    # running, or stopped abruptly), a plain read-only connection is needed to see its changes.
    wal_present = path.with_name(path.name + "-wal").exists()
    try:
        _check_header(path, wal_present)
        con = sqlite3.connect(sqlite.read_only_uri(path, immutable=not wal_present), uri=True)
    except (OSError, sqlite3.Error) as exc:
        raise DatabaseCorrupt(
            f"Kindly cannot open {path} ({exc}). Kindly has not changed it. Check that you can "
            "read the file and its folder, or restore a backup from the backups folder beside it.",
            path,
        ) from exc
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if full_check:
            problems = [r[0] for r in con.execute("PRAGMA quick_check")]
            if problems != ["ok"]:
                raise _damaged(path, "; ".join(problems[:3]))
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


class IntegrityCheck:
    """The full ``PRAGMA quick_check`` of a database file that is in use, on its own read-only
    connection: for a background thread. ``cancel()``, from any thread, stops it within
    milliseconds (``run`` then returns None), so closing the app never waits for it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._con: sqlite3.Connection | None = None
        self._cancelled = False

    def run(self) -> list[str] | None:
        """What is wrong with the file ([] when it is sound); None when cancelled, or when the
        check could not run (the file could not be read: logged, and checked at the next start).
        """
        with self._lock:
            if self._cancelled:
                return None
            con = sqlite3.connect(sqlite.read_only_uri(self.path), uri=True)
            self._con = con
        try:
            if self._cancelled:  # cancelled between the lock and here: interrupt() missed it
                return None
            problems = [str(r[0]) for r in con.execute("PRAGMA quick_check")]
        except sqlite3.OperationalError as exc:  # interrupted, busy, unreadable: not damage
            if not self._cancelled:
                log.error("the full check of %s could not run: %s", self.path, exc)
            return None
        except sqlite3.DatabaseError as exc:  # malformed, or not a database any more
            problems = [str(exc)]
        finally:
            with self._lock:
                self._con = None
                con.close()
        if self._cancelled:
            return None
        return [] if problems == ["ok"] else problems

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            if self._con is not None:
                self._con.interrupt()

    def error(self, problems: list[str]) -> DatabaseCorrupt:
        """What to tell the person: the file is in use, so no claim that it was not changed."""
        return DatabaseCorrupt(
            f"The database {self.path} is damaged ({'; '.join(problems[:3])}). Restore a "
            "backup from the backups folder beside it.",
            self.path,
        )


@dataclass(frozen=True, slots=True)
class OpenReport(MigrationReport):
    # True: only the cheap checks ran; the caller runs IntegrityCheck(path) soon.
    full_check_pending: bool = False


def _private_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    if os.name == "posix":
        os.chmod(path, 0o600)


def connect(path: Path) -> pw.SqliteDatabase:
    """A peewee database on ``path`` with Kindly's pragmas (connections are per thread)."""
    return pw.SqliteDatabase(str(path), pragmas=sqlite.PRAGMAS)


def open_database(
    path: Path, *, migrate_to: int = HEAD, defer_full_check: bool = False
) -> OpenReport:
    """Check, open and migrate the database at ``path``; bind the models to it.

    ``defer_full_check``: a file larger than ``FULL_CHECK_AT_OPEN_BYTES`` that needs no upgrade
    gets only the cheap checks now; the report says the full one is pending.
    """
    path = Path(path)
    defer = defer_full_check and path.exists() and path.stat().st_size > FULL_CHECK_AT_OPEN_BYTES
    version = inspect_file(path, full_check=not defer)
    if defer and version < migrate_to:
        inspect_file(path)  # an upgrade writes to the file: the whole file is checked first
        defer = False
    _private_file(path)
    db = connect(path)
    database.initialize(db)
    db.connect(reuse_if_open=True)
    report = migrate(db, path, target=migrate_to)
    log.info(
        "database %s open (schema %d%s%s)",
        path,
        report.to_version,
        f", upgraded from {report.from_version}"
        if report.from_version not in (0, report.to_version)
        else "",
        "; full check pending" if defer else "",
    )
    return OpenReport(report.from_version, report.to_version, report.backup, defer)


def close_database() -> None:
    db = database.obj
    if db is not None and not db.is_closed():
        db.close()
