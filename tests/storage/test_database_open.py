"""Opening the database: private files, WAL, foreign keys, and refusing bad files untouched.

Every refusal must happen before anything is written: the file keeps its bytes and no
``-wal``/``-shm`` files appear beside it, so a person can still restore or hand it on.
"""

from __future__ import annotations

import hashlib
import os
import random
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import peewee as pw
import pytest

from app.storage.db import (
    FULL_CHECK_AT_OPEN_BYTES,
    IntegrityCheck,
    close_database,
    inspect_file,
    open_database,
)
from app.storage.errors import DatabaseCorrupt, DatabaseTooNew, NotKindlyDatabase, StorageError
from app.storage.migrations import HEAD
from app.storage.models import Account, Case, Person, database

posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


@pytest.fixture(autouse=True)
def _closed_afterwards() -> Iterator[None]:
    yield
    close_database()


def fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def siblings(path: Path) -> set[str]:
    return {p.name for p in path.parent.iterdir()}


def assert_untouched(path: Path, before_hash: str, before_siblings: set[str]) -> None:
    assert fingerprint(path) == before_hash, "the refused file was modified"
    assert siblings(path) == before_siblings, "files were created beside the refused one"
    assert not path.with_name(path.name + "-wal").exists()
    assert not path.with_name(path.name + "-shm").exists()


def make_sqlite(path: Path, statements: list[str], *, wal: bool) -> None:
    """A database written by plain sqlite3 (as another program or a newer Kindly would)."""
    con = sqlite3.connect(path)
    try:
        if wal:
            con.execute("PRAGMA journal_mode=wal")
        for sql in statements:
            con.execute(sql)
        con.commit()
    finally:
        con.close()
    # Closing the last connection checkpoints and removes the -wal file: only the file is left.
    assert not path.with_name(path.name + "-wal").exists()


def kindly_database_with_rows(path: Path, rows: int = 300) -> None:
    """A real Kindly file big enough to span many pages, closed cleanly."""
    open_database(path)
    account = Account.create(network="mastodon", handle="@us", keyring_ref="k")
    with database.atomic():
        for i in range(rows):
            person = Person.create(network="mastodon", remote_id=f"p{i}", handle=f"@p{i}")
            Case.create(
                account=account,
                person=person,
                network="mastodon",
                conversation_key=f"c{i}",
                first_mention_at=pw.SQL("'2024-01-01 00:00:00.000000'"),
                last_activity_at=pw.SQL("'2024-01-01 00:00:00.000000'"),
                last_snippet="x" * 200,
            )
    close_database()


# -- a new database -------------------------------------------------------------------------------


@posix_only
def test_a_new_database_is_private_in_a_private_folder(tmp_path: Path) -> None:
    path = tmp_path / "fresh" / "nested" / "kindly.sqlite3"

    report = open_database(path)
    Account.create(network="x", handle="@us", keyring_ref="k")  # so -wal and -shm exist

    assert report.from_version == 0 and report.to_version == HEAD and report.backup is None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    for suffix in ("-wal", "-shm"):
        companion = path.with_name(path.name + suffix)
        assert companion.exists()
        assert stat.S_IMODE(companion.stat().st_mode) & 0o077 == 0, f"{suffix} readable by others"


@posix_only
def test_an_existing_database_that_others_can_read_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "kindly.sqlite3"
    open_database(path)
    close_database()
    path.chmod(0o644)

    open_database(path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_database_uses_wal_and_enforces_foreign_keys(db_path: Path) -> None:
    assert database.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert database.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    with pytest.raises(pw.IntegrityError):
        Case.create(
            account=9999,
            person=9999,
            network="x",
            conversation_key="k",
            first_mention_at=pw.SQL("'2024-01-01 00:00:00.000000'"),
            last_activity_at=pw.SQL("'2024-01-01 00:00:00.000000'"),
        )
    # Checked by SQLite itself on a second, plain connection: the file is in WAL mode.
    con = sqlite3.connect(db_path)
    try:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        con.close()


def test_reopening_a_head_database_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "kindly.sqlite3"
    open_database(path)
    Account.create(network="x", handle="@us", keyring_ref="k")
    close_database()

    report = open_database(path)

    assert (report.from_version, report.to_version, report.backup) == (HEAD, HEAD, None)
    assert Account.select().count() == 1
    assert not (tmp_path / "backups").exists()


def test_a_path_with_uri_characters_is_inspected_and_backed_up_as_itself(tmp_path: Path) -> None:
    """``#``, ``?`` and ``%`` are legal in folder names; they must not be read as URI syntax."""
    for name in ("C# notes", "what?", "100% sure"):
        folder = tmp_path / name
        path = folder / "kindly.sqlite3"
        open_database(path, migrate_to=1)
        Account.create(network="x", handle=f"@{name}", keyring_ref=name)
        close_database()
        before = set(tmp_path.iterdir())

        assert inspect_file(path) == 1
        report = open_database(path)
        close_database()

        assert (report.from_version, report.to_version) == (1, HEAD)
        assert set(tmp_path.iterdir()) == before, "a stray file appeared beside the folder"
        assert report.backup is not None and report.backup.parent == folder / "backups"
        backup = sqlite3.connect(report.backup)
        try:
            assert backup.execute("SELECT max(version) FROM schema_info").fetchone() == (1,)
            assert backup.execute("SELECT handle FROM account").fetchall() == [(f"@{name}",)]
        finally:
            backup.close()


# -- files that are refused, untouched ------------------------------------------------------------


@pytest.mark.parametrize("wal", [False, True], ids=["rollback-journal", "wal"])
def test_a_database_from_a_newer_kindly_is_refused_untouched(tmp_path: Path, wal: bool) -> None:
    path = tmp_path / "kindly.sqlite3"
    make_sqlite(
        path,
        [
            "CREATE TABLE schema_info (id INTEGER PRIMARY KEY, version INTEGER, upgraded_at TEXT)",
            f"INSERT INTO schema_info (version, upgraded_at) VALUES ({HEAD + 1}, 'later')",
            "CREATE TABLE something_new (id INTEGER PRIMARY KEY)",
        ],
        wal=wal,
    )
    before_hash, before_siblings = fingerprint(path), siblings(path)

    with pytest.raises(DatabaseTooNew) as caught:
        open_database(path)

    assert_untouched(path, before_hash, before_siblings)
    assert caught.value.path == path
    message = caught.value.user_message
    assert f"schema {HEAD + 1}" in message
    assert "has not changed it" in message
    assert "Install the newer Kindly" in message


def test_a_file_of_random_bytes_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "kindly.sqlite3"
    path.write_bytes(random.Random(1).randbytes(64 * 1024))
    before_hash, before_siblings = fingerprint(path), siblings(path)

    with pytest.raises(DatabaseCorrupt) as caught:
        open_database(path)

    assert_untouched(path, before_hash, before_siblings)
    assert "has not changed it" in caught.value.user_message
    assert "Restore a backup" in caught.value.user_message


def test_a_truncated_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "kindly.sqlite3"
    kindly_database_with_rows(path)
    size = path.stat().st_size
    assert size > 16 * 4096
    with path.open("r+b") as f:
        f.truncate(size // 2)
    before_hash, before_siblings = fingerprint(path), siblings(path)

    with pytest.raises(DatabaseCorrupt) as caught:
        open_database(path)

    assert_untouched(path, before_hash, before_siblings)
    assert "Restore a backup" in caught.value.user_message


def test_a_database_with_damaged_pages_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "kindly.sqlite3"
    kindly_database_with_rows(path)
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    noise = random.Random(2).randbytes(page * 4)
    data[page * 3 : page * 7] = noise  # four pages of tables and indexes, overwritten
    path.write_bytes(bytes(data))
    before_hash, before_siblings = fingerprint(path), siblings(path)

    with pytest.raises(DatabaseCorrupt) as caught:
        open_database(path)

    assert_untouched(path, before_hash, before_siblings)
    assert "Restore a backup" in caught.value.user_message


@pytest.mark.parametrize("wal", [False, True], ids=["rollback-journal", "wal"])
def test_another_programs_database_is_refused_untouched(tmp_path: Path, wal: bool) -> None:
    path = tmp_path / "kindly.sqlite3"
    make_sqlite(
        path,
        [
            "CREATE TABLE recipes (id INTEGER PRIMARY KEY, name TEXT)",
            "INSERT INTO recipes (name) VALUES ('soup')",
        ],
        wal=wal,
    )
    before_hash, before_siblings = fingerprint(path), siblings(path)

    with pytest.raises(NotKindlyDatabase) as caught:
        open_database(path)

    assert_untouched(path, before_hash, before_siblings)
    message = caught.value.user_message
    assert "not one of Kindly's" in message
    assert "has not changed it" in message
    assert "Move" in message or "move" in message, message


def test_every_refusal_is_a_storage_error_with_a_message_for_a_person() -> None:
    for kind in (DatabaseTooNew, DatabaseCorrupt, NotKindlyDatabase):
        error = kind("Do this.", Path("x"))
        assert isinstance(error, StorageError)
        assert str(error) == error.user_message == "Do this."


def test_an_empty_file_becomes_a_new_database(tmp_path: Path) -> None:
    path = tmp_path / "kindly.sqlite3"
    path.touch()

    report = open_database(path)

    assert (report.from_version, report.to_version) == (0, HEAD)
    assert Account.select().count() == 0


def test_changes_left_in_the_wal_file_by_a_crash_are_seen(tmp_path: Path) -> None:
    """A Kindly that stopped abruptly leaves recent changes in -wal: inspection must read them."""
    path = tmp_path / "running" / "kindly.sqlite3"
    open_database(path)
    close_database()
    writer = sqlite3.connect(path)
    try:
        writer.execute("PRAGMA wal_autocheckpoint=0")
        writer.execute(f"UPDATE schema_info SET version = {HEAD + 1}")
        writer.commit()
        crashed = tmp_path / "crashed"
        crashed.mkdir()
        for suffix in ("", "-wal"):  # what a copy taken mid-run (or a power cut) leaves behind
            source = path.with_name(path.name + suffix)
            (crashed / source.name).write_bytes(source.read_bytes())
    finally:
        writer.close()
    copy = crashed / path.name
    before_hash = fingerprint(copy)

    with pytest.raises(DatabaseTooNew):
        open_database(copy)

    assert fingerprint(copy) == before_hash


# -- a large file: the cheap checks at open, the full one deferred --------------------------------


@pytest.fixture
def every_file_is_large(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files above FULL_CHECK_AT_OPEN_BYTES may have their full check deferred: here, all."""
    from app.storage import db as db_module

    monkeypatch.setattr(db_module, "FULL_CHECK_AT_OPEN_BYTES", 0)


def damage_last_page(path: Path) -> None:
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[-page:] = random.Random(3).randbytes(page)
    path.write_bytes(bytes(data))


@pytest.mark.usefixtures("every_file_is_large")
def test_a_large_file_opens_after_the_cheap_checks_with_the_full_check_pending(
    tmp_path: Path,
) -> None:
    path = tmp_path / "kindly.sqlite3"
    kindly_database_with_rows(path)
    damage_last_page(path)  # only a full check reads that page
    before_hash, before_siblings = fingerprint(path), siblings(path)
    with pytest.raises(DatabaseCorrupt):
        open_database(path)  # by default the full check runs at open, whatever the size
    assert_untouched(path, before_hash, before_siblings)

    report = open_database(path, defer_full_check=True)

    assert report.full_check_pending and report.to_version == HEAD
    assert IntegrityCheck(path).run()  # what the caller runs next finds the damage


def test_a_small_file_is_checked_in_full_even_when_the_check_may_be_deferred(
    tmp_path: Path,
) -> None:
    path = tmp_path / "kindly.sqlite3"
    kindly_database_with_rows(path)
    assert path.stat().st_size <= FULL_CHECK_AT_OPEN_BYTES
    damage_last_page(path)
    before_hash, before_siblings = fingerprint(path), siblings(path)

    with pytest.raises(DatabaseCorrupt):
        open_database(path, defer_full_check=True)

    assert_untouched(path, before_hash, before_siblings)


@pytest.mark.usefixtures("every_file_is_large")
def test_a_large_truncated_file_is_refused_untouched_by_the_cheap_checks(tmp_path: Path) -> None:
    path = tmp_path / "kindly.sqlite3"
    kindly_database_with_rows(path)
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.truncate(size - 3 * 4096)  # the tail of the file: the schema still reads
    before_hash, before_siblings = fingerprint(path), siblings(path)

    with pytest.raises(DatabaseCorrupt) as caught:
        open_database(path, defer_full_check=True)

    assert_untouched(path, before_hash, before_siblings)
    assert "its header says" in caught.value.user_message
    assert "Restore a backup" in caught.value.user_message


@pytest.mark.usefixtures("every_file_is_large")
def test_a_large_file_that_needs_an_upgrade_is_checked_in_full_first(tmp_path: Path) -> None:
    path = tmp_path / "kindly.sqlite3"
    open_database(path, migrate_to=1)
    with database.atomic():
        for i in range(300):
            Person.create(network="mastodon", remote_id=f"p{i}", handle=f"@p{i}")
    close_database()
    sound = tmp_path / "sound"
    sound.mkdir()
    (sound / path.name).write_bytes(path.read_bytes())
    damage_last_page(path)
    before_hash, before_siblings = fingerprint(path), siblings(path)

    with pytest.raises(DatabaseCorrupt):
        open_database(path, defer_full_check=True)  # an upgrade writes: never on a damaged file

    assert_untouched(path, before_hash, before_siblings)
    report = open_database(sound / path.name, defer_full_check=True)
    assert (report.from_version, report.to_version, report.full_check_pending) == (1, HEAD, False)


@pytest.mark.usefixtures("every_file_is_large")
@pytest.mark.parametrize("wal", [False, True], ids=["rollback-journal", "wal"])
def test_a_large_file_from_a_newer_kindly_or_another_program_is_still_refused_untouched(
    tmp_path: Path, wal: bool
) -> None:
    newer = tmp_path / "newer" / "kindly.sqlite3"
    newer.parent.mkdir()
    make_sqlite(
        newer,
        [
            "CREATE TABLE schema_info (id INTEGER PRIMARY KEY, version INTEGER, upgraded_at TEXT)",
            f"INSERT INTO schema_info (version, upgraded_at) VALUES ({HEAD + 1}, 'later')",
        ],
        wal=wal,
    )
    other = tmp_path / "other" / "kindly.sqlite3"
    other.parent.mkdir()
    make_sqlite(other, ["CREATE TABLE recipes (id INTEGER PRIMARY KEY, name TEXT)"], wal=wal)
    noise = tmp_path / "noise" / "kindly.sqlite3"
    noise.parent.mkdir()
    noise.write_bytes(random.Random(4).randbytes(64 * 1024))

    for path, error in (
        (newer, DatabaseTooNew),
        (other, NotKindlyDatabase),
        (noise, DatabaseCorrupt),
    ):
        before_hash, before_siblings = fingerprint(path), siblings(path)
        with pytest.raises(error):
            open_database(path, defer_full_check=True)
        assert_untouched(path, before_hash, before_siblings)
