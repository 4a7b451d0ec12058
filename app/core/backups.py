"""Backups of the database: a daily automatic copy, "Back up now", listing, restoring.

Every copy is made with SQLite's online backup API (``app.storage.backup``), so it is consistent
even while Kindly writes, and is checked (``PRAGMA quick_check``, schema version) right after it
is made: a copy that is not sound is deleted at once and never pushes a good one out.

Copies live in the ``backups`` folder beside the database, named
``kindly-<kind>-<UTC time>.sqlite3``. What is kept (``rotate``):

- ``daily`` (made automatically, once per calendar day): the newest copy of each of the last
  ``keep_daily`` days (default 7) plus the newest of each of the last ``keep_weekly`` ISO weeks
  (default 4), so about a month back with 7–11 files;
- ``manual`` ("Back up now"): the newest 10;
- ``before-restore`` (the file as it was before a restore replaced it): the newest 5;
- ``damaged`` (a byte-for-byte copy of a damaged file that a restore replaced): the newest 3;
- ``before-v…`` copies made before a schema upgrade are never deleted by Kindly.

A restore checks the copy first (sound, a Kindly database, a schema this Kindly knows), keeps the
current file (an online copy, or a raw one if it is damaged), then swaps the copy in atomically
(write beside, then rename) and removes the old ``-wal``/``-shm`` files so they can never be
replayed onto the restored file. The caller reopens (and so migrates) the database afterwards.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum
from pathlib import Path

from app.core.vocab import ReplyState
from app.storage.backup import backup_file, backup_name
from app.storage.db import close_database, inspect_file
from app.storage.errors import (
    DatabaseCorrupt,
    DatabaseTooNew,
    NotKindlyDatabase,
    StorageError,
)
from app.storage.models import OutboundReply

log = logging.getLogger(__name__)

_NAME = re.compile(r"^kindly-(?P<label>[A-Za-z0-9-]+?)-(?P<stamp>\d{8}T\d{6})\.sqlite3$")
_STAMP = "%Y%m%dT%H%M%S"


class BackupKind(StrEnum):
    DAILY = "daily"
    MANUAL = "manual"
    BEFORE_RESTORE = "before-restore"
    DAMAGED = "damaged"
    UPGRADE = "upgrade"  # made by the migration ladder: kindly-before-v3-from-v2-…

    @property
    def label(self) -> str:
        return {
            "daily": "Daily",
            "manual": "Backed up by hand",
            "before-restore": "Before a restore",
            "damaged": "Damaged file (kept)",
            "upgrade": "Before an upgrade",
        }[self.value]


def _kind_of(label: str) -> BackupKind | None:
    if label.startswith("before-v"):
        return BackupKind.UPGRADE
    try:
        return BackupKind(label)
    except ValueError:
        return None


_PROBLEMS: dict[type[StorageError], str] = {
    DatabaseCorrupt: "It is damaged (it fails SQLite's check) or is not a database.",
    DatabaseTooNew: "It was written by a newer version of Kindly.",
    NotKindlyDatabase: "It is not a Kindly database.",
}


class BackupError(Exception):
    """A backup could not be made or restored; ``user_message`` says why, for a person."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


@dataclass(frozen=True, slots=True)
class BackupFile:
    """A backup found by its name (cheap: the file is not opened)."""

    path: Path
    kind: BackupKind
    created_at: datetime  # UTC, from the name

    @property
    def size(self) -> int:
        try:
            return self.path.stat().st_size
        except OSError:
            return 0


@dataclass(frozen=True, slots=True)
class BackupInfo:
    """A backup and what checking it found; ``problem`` is None when it can be restored."""

    path: Path
    kind: BackupKind
    created_at: datetime
    size: int
    schema_version: int | None
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass(frozen=True, slots=True)
class Rotation:
    keep_daily: int = 7
    keep_weekly: int = 4
    keep_manual: int = 10
    keep_before_restore: int = 5
    keep_damaged: int = 3


@dataclass(frozen=True, slots=True)
class RestoreReport:
    restored: BackupInfo
    kept_current: Path | None  # where the file that was replaced now is (None: there was none)


def size_text(size: int) -> str:
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    return f"{size / (1024 * 1024):.1f} MB"


class BackupService:
    """Backups of the database at ``database_path``, kept in ``folder`` (default: beside it)."""

    def __init__(
        self,
        database_path: Path,
        folder: Path | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
        tz: tzinfo | None = None,
    ) -> None:
        self.database_path = Path(database_path)
        self.folder = folder or self.database_path.parent / "backups"
        self._clock = clock or (lambda: datetime.now(UTC))
        self._tz = tz  # None: this computer's time zone (what "one a day" means to a person)

    def now(self) -> datetime:
        return self._clock().astimezone(UTC)

    def _local_day(self, when: datetime) -> datetime:
        return when.astimezone(self._tz) if self._tz else when.astimezone()

    # -- finding and checking ----------------------------------------------------------------

    def files(self) -> list[BackupFile]:
        """Every backup in the folder, newest first (half-written ``.part`` files are not)."""
        found: list[BackupFile] = []
        try:
            entries = list(self.folder.iterdir())
        except OSError:
            return []
        for path in entries:
            match = _NAME.match(path.name)
            if not match or not path.is_file():
                continue
            kind = _kind_of(match["label"])
            if kind is None:
                continue
            created = datetime.strptime(match["stamp"], _STAMP).replace(tzinfo=UTC)
            found.append(BackupFile(path, kind, created))
        found.sort(key=lambda b: (b.created_at, b.path.name), reverse=True)
        return found

    def inspect(self, backup: BackupFile | Path) -> BackupInfo:
        """Check one backup read-only (quick_check, a Kindly database, schema ≤ this Kindly's)."""
        if isinstance(backup, Path):
            match = _NAME.match(backup.name)
            kind = _kind_of(match["label"]) if match else None
            created = (
                datetime.strptime(match["stamp"], _STAMP).replace(tzinfo=UTC)
                if match
                else datetime.fromtimestamp(backup.stat().st_mtime, UTC)
            )
            backup = BackupFile(backup, kind or BackupKind.MANUAL, created)
        version: int | None = None
        problem: str | None = None
        size = backup.size
        if size == 0:
            problem = "The file is empty."
        else:
            try:
                version = inspect_file(backup.path)
            except StorageError as error:
                log.info("backup %s: %s", backup.path.name, error.user_message)
                problem = _PROBLEMS.get(type(error), "It cannot be read.")
            if version == 0 and problem is None:
                problem = "The file holds no Kindly data."
        return BackupInfo(backup.path, backup.kind, backup.created_at, size, version, problem)

    def backups(self) -> list[BackupInfo]:
        """Every backup, newest first, each checked (reads every file: not on the UI thread)."""
        return [self.inspect(b) for b in self.files()]

    def latest_good(self) -> BackupInfo | None:
        """The newest backup that can be restored (damaged-file copies are never offered)."""
        for backup in self.files():
            if backup.kind is BackupKind.DAMAGED:
                continue
            info = self.inspect(backup)
            if info.ok:
                return info
        return None

    # -- making backups ----------------------------------------------------------------------

    def last_daily(self) -> datetime | None:
        dailies = [b.created_at for b in self.files() if b.kind is BackupKind.DAILY]
        return dailies[0] if dailies else None

    def is_due(self) -> bool:
        """Due when no daily backup was made today (in this computer's time zone)."""
        if not self.database_path.exists():
            return False
        last = self.last_daily()
        return last is None or self._local_day(last).date() < self._local_day(self.now()).date()

    def back_up(
        self, kind: BackupKind = BackupKind.MANUAL, rotation: Rotation | None = None
    ) -> BackupInfo:
        """Copy the database now, check the copy, then rotate. Raises BackupError."""
        if not self.database_path.exists():
            raise BackupError("There is no database to back up yet.")
        destination = self._free_name(kind)
        try:
            backup_file(self.database_path, destination)
        except (OSError, sqlite3.Error) as error:
            log.error("backup to %s failed: %s", destination, error)
            _remove(destination.with_suffix(destination.suffix + ".part"))
            raise BackupError(
                f"Kindly could not write a backup in {self.folder} ({error}). "
                "Check that the disk has room and the folder can be written to."
            ) from error
        info = self.inspect(destination)
        if not info.ok:
            _remove(destination)
            raise BackupError(
                "The backup copy did not pass its check, so it was not kept: "
                f"{info.problem} The database itself may be damaged."
            )
        log.info("backed up the database to %s (%s)", destination, size_text(info.size))
        self.rotate(rotation or Rotation())
        return info

    def _free_name(self, kind: BackupKind) -> Path:
        """A name no backup has yet (two within one second: the next second's stamp)."""
        when = self.now()
        while (path := self.folder / backup_name(kind.value, when)).exists():
            when += timedelta(seconds=1)
        return path

    def back_up_if_due(self, rotation: Rotation | None = None) -> BackupInfo | None:
        """The automatic daily backup: made if none was made today, else nothing."""
        return self.back_up(BackupKind.DAILY, rotation) if self.is_due() else None

    def rotate(self, rotation: Rotation) -> list[Path]:
        """Delete the backups the rotation no longer keeps (see the module docstring)."""
        files = self.files()
        keep: set[Path] = set()
        days: set[object] = set()
        weeks: set[object] = set()
        for backup in (b for b in files if b.kind is BackupKind.DAILY):
            local = self._local_day(backup.created_at).date()
            week = local.isocalendar()[:2]
            if local not in days and len(days) < rotation.keep_daily:
                days.add(local)
                keep.add(backup.path)
            if week not in weeks and len(weeks) < rotation.keep_weekly:
                weeks.add(week)
                keep.add(backup.path)
        for kind, count in (
            (BackupKind.MANUAL, rotation.keep_manual),
            (BackupKind.BEFORE_RESTORE, rotation.keep_before_restore),
            (BackupKind.DAMAGED, rotation.keep_damaged),
        ):
            keep.update(b.path for b in [b for b in files if b.kind is kind][: max(0, count)])
        keep.update(b.path for b in files if b.kind is BackupKind.UPGRADE)
        removed = []
        for backup in files:
            if backup.path not in keep:
                _remove(backup.path)
                _remove(backup.path.with_name(backup.path.name + "-wal"))
                removed.append(backup.path)
        if removed:
            log.info("rotated out %d old backup(s)", len(removed))
        return removed

    # -- restoring ---------------------------------------------------------------------------

    def restore(self, backup: Path, rotation: Rotation | None = None) -> RestoreReport:
        """Replace the database with ``backup``. Close every other connection first; the
        caller reopens the database afterwards (which migrates an older backup to head)."""
        info = self.inspect(Path(backup))
        if not info.ok:
            raise BackupError(f"{Path(backup).name} cannot be restored: {info.problem}")
        close_database()
        kept = self._keep_current()
        db = self.database_path
        part = db.with_name(db.name + ".restore-part")
        try:
            fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.close(fd)
            shutil.copyfile(info.path, part)  # a checked backup is one self-contained file
            with open(part, "rb+") as f:
                os.fsync(f.fileno())
            # The old -wal must never be replayed onto the restored file (it is in ``kept``).
            for suffix in ("-wal", "-shm"):
                _remove(db.with_name(db.name + suffix))
            os.replace(part, db)
            if os.name == "posix":
                os.chmod(db, 0o600)
        except OSError as error:
            _remove(part)
            raise BackupError(
                f"Kindly could not put the backup in place ({error}). Your database was not "
                f"replaced{f'; a copy of it is in {kept}' if kept else ''}."
            ) from error
        log.info("restored the database from %s (kept the previous file as %s)", info.path, kept)
        self.rotate(rotation or Rotation())
        return RestoreReport(info, kept)

    def _keep_current(self) -> Path | None:
        """Save the file about to be replaced: an online copy, or the raw bytes if damaged."""
        db = self.database_path
        if not db.exists() or db.stat().st_size == 0:
            return None
        try:
            inspect_file(db)
        except StorageError:
            target = self._free_name(BackupKind.DAMAGED)
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            shutil.copyfile(db, target)
            wal = db.with_name(db.name + "-wal")
            if wal.exists():
                shutil.copyfile(wal, target.with_name(target.name + "-wal"))
            return target
        destination = self._free_name(BackupKind.BEFORE_RESTORE)
        try:
            return backup_file(db, destination)
        except (OSError, sqlite3.Error) as error:
            raise BackupError(
                f"Kindly could not keep a copy of the current database ({error}), so it did "
                "not restore anything."
            ) from error


def settle_after_restore() -> int:
    """After a restore (the database open again): replies the backup still has as queued may
    have been sent since it was made. They are marked SENDING, so the sender first reads back
    whether they reached the network, and posts only those that did not."""
    return int(
        OutboundReply.update(
            state=ReplyState.SENDING.value,
            error="Restored from a backup: Kindly checks whether this was already sent first.",
        )
        .where(OutboundReply.state == ReplyState.QUEUED.value)
        .execute()
    )


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as error:
        log.warning("could not remove %s: %s", path, error)
