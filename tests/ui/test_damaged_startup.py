"""Start-up on a damaged database: Kindly offers the latest good backup. Yes → the app opens on
the restored data (the damaged file is kept); no → a clear message, and the file is untouched."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.core.backups import BackupKind, BackupService
from app.core.context import AppContext
from app.core.paths import database_path
from app.core.secrets import MemoryKeyring, SecretStore
from app.storage.backup import backup_name
from app.storage.db import close_database, open_database
from app.storage.models import Account, Case, OutboundReply, Person, database
from app.ui import app as app_module
from app.ui.main_window import MainWindow
from app.ui.tasks import ImmediateRunner

TITLE = "Kindly's database is damaged"


def make_people(count: int, prefix: str) -> None:
    with database.atomic():
        for i in range(count):
            Person.create(network="mastodon", remote_id=f"{prefix}{i}", handle=f"@{prefix}{i}")


def damage(path: Path) -> None:
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[page * 2 : page * 6] = os.urandom(page * 4)
    path.write_bytes(bytes(data))


def fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def damaged(data_dir: Path) -> Iterator[Path]:
    """A database with 300 people backed up, 50 more added since, then damaged on disk."""
    path = database_path(data_dir)
    open_database(path)
    make_people(300, "kept")
    account = Account.create(network="mastodon", handle="@us", keyring_ref="k")
    case = Case.create(
        account=account,
        person=Person.get(),
        network="mastodon",
        conversation_key="c",
        first_mention_at=datetime.now(UTC),
        last_activity_at=datetime.now(UTC),
    )
    OutboundReply.create(case=case, account=account, text="Hi", state="queued", idempotency_key="q")
    BackupService(path).back_up(BackupKind.DAILY)
    make_people(50, "lost")
    close_database()
    damage(path)
    yield path
    close_database()


@pytest.fixture
def launcher(qtbot, data_dir: Path, asker, qsettings, monkeypatch) -> Iterator[app_module.Launcher]:
    def window(context: AppContext) -> MainWindow:
        win = MainWindow(context, asker=asker, qsettings=qsettings, runner=ImmediateRunner())
        qtbot.addWidget(win)
        return win

    def context(*args: object, **kwargs: object) -> AppContext:
        return AppContext(*args, secrets=SecretStore(MemoryKeyring()), **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(app_module, "MainWindow", window)
    monkeypatch.setattr(app_module, "new_context", context)
    options = app_module.LaunchOptions(data_dir, data_dir / "log.txt", exit_after_paint=True)
    launch = app_module.Launcher(options, asker=asker)
    yield launch
    if launch.window is not None:
        launch.window.close()


def test_choosing_the_latest_backup_opens_the_app_on_the_restored_data(
    launcher: app_module.Launcher, asker, damaged: Path, data_dir: Path
) -> None:
    damaged_bytes = damaged.read_bytes()
    asker.confirms = [True]

    window = launcher.start(demo=False)

    assert asker.asked == [TITLE]
    assert window is not None and window.isVisible()
    assert Person.select().count() == 300  # as at the backup
    assert Person.select().where(Person.remote_id.startswith("lost")).count() == 0
    assert window.statusBar().currentMessage().startswith("Restored the backup made ")
    # The damaged file is kept, byte for byte; the reply still queued in the backup will be
    # read back before it is sent (it may have gone out after the backup was made).
    kept = [b for b in BackupService(damaged).files() if b.kind is BackupKind.DAMAGED]
    assert len(kept) == 1 and kept[0].path.read_bytes() == damaged_bytes
    assert OutboundReply.get().state == "sending"
    assert database.execute_sql("PRAGMA quick_check").fetchone()[0] == "ok"


def test_saying_no_leaves_the_file_untouched_with_a_clear_message(
    launcher: app_module.Launcher, asker, damaged: Path, data_dir: Path
) -> None:
    before = fingerprint(damaged)
    siblings = sorted(p.name for p in damaged.parent.iterdir())
    asker.confirms = [False]

    window = launcher.start(demo=False)

    assert window is None and launcher.window is None
    assert asker.asked == [TITLE]
    [message] = asker.informed
    assert "has not opened or changed the damaged database" in message
    assert str(damaged) in message and str(data_dir / "backups") in message
    assert fingerprint(damaged) == before
    assert sorted(p.name for p in damaged.parent.iterdir()) == siblings  # no -wal, no -shm


def test_the_offer_names_the_latest_good_backup_and_skips_damaged_ones(
    launcher: app_module.Launcher, asker, damaged: Path
) -> None:
    texts: list[str] = []
    asker.confirm = lambda title, text: texts.append(text) or False  # type: ignore[method-assign]
    good = BackupService(damaged).files()[0]
    newer_bad = good.path.with_name(backup_name("daily", good.created_at + timedelta(hours=1)))
    newer_bad.write_bytes(b"\0" * 8192)

    launcher.start(demo=False)

    [text] = texts
    assert "is damaged" in text  # what went wrong, from the check
    made = good.created_at.astimezone().strftime("%A %d %B %Y at %H:%M")
    assert f"Restore the latest good backup, made {made}" in text
    assert "The damaged file is kept" in text


def test_with_no_backup_it_says_so_and_changes_nothing(
    launcher: app_module.Launcher, asker, damaged: Path, data_dir: Path
) -> None:
    for backup in (data_dir / "backups").iterdir():
        backup.unlink()
    before = fingerprint(damaged)

    assert launcher.start(demo=False) is None

    assert asker.asked == []  # nothing to offer
    [message] = asker.informed
    assert "damaged" in message and "There is no sound backup" in message
    assert fingerprint(damaged) == before
