"""Backups: made with the online backup API and checked, one a day, rotated; restored only
from a sound copy, after keeping the current file, atomically, and reopened at head."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.core import settings as options
from app.core.backups import (
    BackupError,
    BackupKind,
    BackupService,
    Rotation,
    settle_after_restore,
)
from app.core.maintenance import run_due
from app.core.paths import backups_dir
from app.core.retention import Retention
from app.core.settings import Settings
from app.core.vocab import CaseStatus, ReplyState
from app.storage.backup import backup_name
from app.storage.db import close_database, open_database
from app.storage.migrations import HEAD, migrate
from app.storage.models import Account, Case, OutboundReply, Person, database

DAY0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday


class Clock:
    def __init__(self, now: datetime = DAY0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def service(db_path: Path, clock: Clock | None = None) -> BackupService:
    return BackupService(db_path, clock=clock or Clock(), tz=UTC)


def add_people(*names: str) -> None:
    for name in names:
        Person.create(network="mastodon", remote_id=name, handle=f"@{name}", display_name=name)


def people() -> set[str]:
    return {p.remote_id for p in Person.select()}


def damage(path: Path) -> None:
    """Overwrite pages 2… with noise, as a failing disk would (see test_database_open)."""
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[page : page * 6] = os.urandom(page * 5)
    path.write_bytes(bytes(data))


def read_people(path: Path) -> set[str]:
    con = sqlite3.connect(path.absolute().as_uri() + "?mode=ro&immutable=1", uri=True)
    try:
        return {r[0] for r in con.execute("SELECT remote_id FROM person")}
    finally:
        con.close()


# -- backing up -----------------------------------------------------------------------------------


def test_back_up_now_makes_a_private_checked_copy_in_the_backups_folder(
    db_path: Path, data_dir: Path
) -> None:
    add_people("ann", "bob")
    backups = service(db_path)

    info = backups.back_up()

    assert info.path.parent == backups_dir(data_dir)
    assert info.path.name == backup_name("manual", DAY0)
    assert (info.kind, info.ok, info.schema_version) == (BackupKind.MANUAL, True, HEAD)
    assert info.size == info.path.stat().st_size > 0
    assert read_people(info.path) == {"ann", "bob"}
    if os.name == "posix":
        assert stat.S_IMODE(info.path.stat().st_mode) == 0o600
    assert [f.name for f in info.path.parent.iterdir()] == [info.path.name]  # no -wal, no .part


def test_two_backups_in_the_same_second_are_both_kept(db_path: Path) -> None:
    backups = service(db_path)
    first, second = backups.back_up(), backups.back_up()
    assert first.path != second.path
    assert second.created_at == first.created_at + timedelta(seconds=1)
    assert len(backups.files()) == 2


def test_the_daily_backup_is_made_once_a_calendar_day(db_path: Path) -> None:
    clock = Clock()
    backups = service(db_path, clock)
    assert backups.is_due()
    first = backups.back_up_if_due()
    assert first is not None and first.kind is BackupKind.DAILY
    clock.now += timedelta(hours=11)  # 23:00 the same day
    assert not backups.is_due() and backups.back_up_if_due() is None
    backups.back_up()  # a manual copy does not count as the daily one
    clock.now += timedelta(hours=2)  # 01:00 the next day
    assert backups.is_due()
    assert backups.back_up_if_due() is not None
    assert [b.kind for b in backups.files()] == [
        BackupKind.DAILY,
        BackupKind.MANUAL,
        BackupKind.DAILY,
    ]


def test_rotation_keeps_seven_days_and_four_weeks_and_never_upgrade_copies(
    db_path: Path,
) -> None:
    clock = Clock()
    backups = service(db_path, clock)
    seed = backups.back_up(BackupKind.DAILY)
    folder = seed.path.parent
    made = []
    for day in range(1, 60):  # two a day for two months (copies: rotation reads names only)
        for hour in (0, 6):
            when = DAY0 + timedelta(days=day, hours=hour)
            made.append(when)
            shutil.copyfile(seed.path, folder / backup_name("daily", when))
    for n in range(12):
        shutil.copyfile(seed.path, folder / backup_name("manual", DAY0 + timedelta(minutes=n)))
    upgrade = folder / backup_name("before-v3-from-v2", DAY0 - timedelta(days=300))
    shutil.copyfile(seed.path, upgrade)
    (folder / "notes.txt").write_text("not a backup")

    backups.rotate(Rotation(keep_daily=7, keep_weekly=4))

    kept = {b.created_at for b in backups.files() if b.kind is BackupKind.DAILY}
    newest_per_day = sorted({w.date(): w for w in sorted(made)}.values(), reverse=True)
    last_days = set(newest_per_day[:7])
    weekly = {}
    for when in sorted(made):
        weekly[when.isocalendar()[:2]] = when  # the newest of each ISO week
    last_weeks = set(sorted(weekly.values(), reverse=True)[:4])
    assert kept == last_days | last_weeks
    assert 7 <= len(kept) <= 11
    assert min(kept) >= DAY0 + timedelta(days=59 - 28)  # about a month back
    manual = [b for b in backups.files() if b.kind is BackupKind.MANUAL]
    assert len(manual) == 10 and manual[-1].created_at == DAY0 + timedelta(minutes=2)
    assert upgrade.exists() and (folder / "notes.txt").exists()


def test_a_damaged_database_is_not_backed_up_so_it_cannot_push_good_copies_out(
    tmp_path: Path,
) -> None:
    path = tmp_path / "kindly.sqlite3"
    open_database(path)
    add_people(*[f"p{i}" for i in range(300)])
    close_database()
    backups = service(path)
    good = backups.back_up(BackupKind.DAILY)
    damage(path)

    with pytest.raises(BackupError) as caught:
        backups.back_up(BackupKind.MANUAL)

    assert "did not pass its check" in caught.value.user_message
    assert [b.path for b in backups.files()] == [good.path]


# -- listing and checking -------------------------------------------------------------------------


def test_the_list_checks_every_backup_and_the_latest_good_one_skips_bad_ones(
    db_path: Path,
) -> None:
    clock = Clock()
    backups = service(db_path, clock)
    add_people("ann")
    good = backups.back_up()
    clock.now += timedelta(hours=1)
    bad = backups.back_up()
    damage(bad.path)
    clock.now += timedelta(hours=1)
    empty = bad.path.with_name(backup_name("daily", clock.now))
    empty.write_bytes(b"")

    listed = backups.backups()

    assert [i.path for i in listed] == [empty, bad.path, good.path]
    assert [i.ok for i in listed] == [False, False, True]
    assert listed[0].problem == "The file is empty."
    assert "damaged" in (listed[1].problem or "")
    assert listed[2].schema_version == HEAD
    latest = backups.latest_good()
    assert latest is not None and latest.path == good.path


# -- restoring ------------------------------------------------------------------------------------


def test_restore_brings_back_the_backup_and_keeps_the_current_file_first(db_path: Path) -> None:
    clock = Clock()
    backups = service(db_path, clock)
    add_people("ann", "bob")
    saved = backups.back_up()
    Person.delete().where(Person.remote_id == "ann").execute()
    add_people("cat")
    clock.now += timedelta(minutes=5)

    report = backups.restore(saved.path)
    assert database.is_closed()
    open_database(db_path)

    assert people() == {"ann", "bob"}
    assert report.restored.path == saved.path
    assert report.kept_current is not None
    assert report.kept_current.name == backup_name("before-restore", clock.now)
    assert read_people(report.kept_current) == {"bob", "cat"}  # nothing is ever lost
    assert saved.path.exists()  # the backup itself is still there
    assert not db_path.with_name(db_path.name + ".restore-part").exists()
    if os.name == "posix":
        assert stat.S_IMODE(db_path.stat().st_mode) == 0o600


def test_restoring_a_damaged_file_keeps_its_bytes_and_never_replays_its_wal(
    tmp_path: Path,
) -> None:
    path = tmp_path / "kindly.sqlite3"
    open_database(path)
    add_people(*[f"p{i}" for i in range(300)])
    backups = service(path)
    saved = backups.back_up()
    close_database()
    damage(path)
    wal = path.with_name(path.name + "-wal")
    wal.write_bytes(os.urandom(4096))  # left behind by a crash
    damaged_bytes = path.read_bytes()

    report = backups.restore(saved.path)

    assert report.kept_current is not None
    assert report.kept_current.name.startswith("kindly-damaged-")
    assert report.kept_current.read_bytes() == damaged_bytes
    assert not wal.exists()
    open_database(path)
    assert len(people()) == 300
    assert backups.latest_good() is not None
    assert backups.latest_good().path == saved.path  # type: ignore[union-attr]


def test_an_older_backup_is_restored_and_migrated_to_head(tmp_path: Path) -> None:
    path = tmp_path / "kindly.sqlite3"
    open_database(path)
    close_database()
    old = tmp_path / "backups" / backup_name("manual", DAY0)
    old.parent.mkdir()
    con = sqlite3.connect(old)
    con.close()
    import peewee as pw

    db = pw.SqliteDatabase(str(old))
    migrate(db, None, target=1)
    db.execute_sql(
        "INSERT INTO person (network, remote_id, handle, display_name, stance, notes, "
        "updated_at) VALUES ('mastodon', 'old1', '@old1', 'Old', 'unknown', '', "
        "'2024-01-01 00:00:00.000000')"
    )
    db.close()
    backups = service(path)
    assert backups.inspect(old).schema_version == 1

    backups.restore(old)
    report = open_database(path)

    assert (report.from_version, report.to_version) == (1, HEAD)
    assert people() == {"old1"}


@pytest.mark.parametrize(
    ("problem", "said"),
    [
        ("damaged", "It is damaged"),
        ("too-new", "written by a newer version of Kindly"),
        ("not-kindly", "not a Kindly database"),
    ],
)
def test_a_backup_that_cannot_be_restored_is_refused_and_nothing_changes(
    db_path: Path, problem: str, said: str
) -> None:
    add_people(*[f"p{i}" for i in range(300)])
    backups = service(db_path)
    bad = backups.back_up()
    if problem == "damaged":
        damage(bad.path)
    else:
        con = sqlite3.connect(bad.path)
        if problem == "too-new":
            con.execute("UPDATE schema_info SET version = ?", (HEAD + 1,))
        else:
            con.execute("DROP TABLE schema_info")
        con.commit()
        con.execute("PRAGMA journal_mode=DELETE")
        con.close()
    before = sorted(p.name for p in bad.path.parent.iterdir())

    with pytest.raises(BackupError) as caught:
        backups.restore(bad.path)

    assert "cannot be restored" in caught.value.user_message
    assert said in caught.value.user_message
    assert not database.is_closed()  # refused before anything was closed or copied
    assert len(people()) == 300
    assert sorted(p.name for p in bad.path.parent.iterdir()) == before


def test_replies_still_queued_in_a_restored_backup_are_read_back_before_sending(
    db_path: Path,
) -> None:
    account = Account.create(network="mastodon", handle="@us", keyring_ref="k")
    add_people("ann")
    case = Case.create(
        account=account,
        person=Person.get(),
        network="mastodon",
        conversation_key="c",
        first_mention_at=DAY0,
        last_activity_at=DAY0,
    )
    for n, state in enumerate(["queued", "sending", "sent", "failed"]):
        OutboundReply.create(
            case=case, account=account, text="Hi", state=state, idempotency_key=f"k{n}"
        )

    assert settle_after_restore() == 1

    states = [r.state for r in OutboundReply.select().order_by(OutboundReply.id)]
    assert states == [ReplyState.SENDING.value, "sending", "sent", "failed"]
    assert "Restored from a backup" in OutboundReply.get_by_id(1).error


# -- the daily housekeeping -----------------------------------------------------------------------


def test_housekeeping_backs_up_first_then_purges_when_switched_on(db_path: Path) -> None:
    clock = Clock()
    backups, settings = service(db_path, clock), Settings()
    account = Account.create(network="mastodon", handle="@us", keyring_ref="k")
    add_people("ann")
    Case.create(
        account=account,
        person=Person.get(),
        network="mastodon",
        conversation_key="c",
        status=CaseStatus.RESOLVED.value,
        first_mention_at=DAY0 - timedelta(days=900),
        last_activity_at=DAY0 - timedelta(days=900),
    )
    retention = Retention(clock=clock)

    first = run_due(backups, retention, settings)
    assert first.backup is not None and first.purged is None  # retention is off by default
    assert Case.select().count() == 1

    settings.set(options.RETENTION_ENABLED, True)
    settings.set(options.RETENTION_MONTHS, 24)
    second = run_due(backups, retention, settings)
    assert second.backup is None  # already made today
    assert second.purged is not None and second.purged.cases == 1
    assert Case.select().count() == 0
    assert read_people(first.backup.path) == {"ann"}  # the purged case is in that backup


def test_housekeeping_does_not_purge_when_the_backup_fails(db_path: Path) -> None:
    backups, settings = service(db_path), Settings()
    settings.set(options.RETENTION_ENABLED, True)
    backups.folder.parent.joinpath("backups").write_text("a file where the folder should be")

    report = run_due(backups, Retention(), settings)

    assert report.backup is None and report.purged is None
    assert report.backup_error and "could not write a backup" in report.backup_error
