"""The full check of a large database runs after the window's first paint, in the background.

At open, a file above ``FULL_CHECK_AT_OPEN_BYTES`` gets only the cheap checks (header, schema,
version), so the window shows at once; the full ``PRAGMA quick_check`` then runs on its own
read-only connection. Damage it finds closes the window and offers the latest good backup, as
the check at start-up does (tests/ui/test_damaged_startup.py). Here the threshold is 0, so the
small test file takes the large file's path.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import shiboken6

from app.core.backups import BackupKind, BackupService
from app.core.context import AppContext
from app.core.paths import database_path
from app.core.secrets import MemoryKeyring, SecretStore
from app.storage import db as db_module
from app.storage.db import IntegrityCheck, close_database, inspect_file, open_database
from app.storage.errors import DatabaseCorrupt
from app.storage.models import Account, Case, Person, database
from app.ui import app as app_module
from app.ui.main_window import MainWindow
from app.ui.tasks import ImmediateRunner

TITLE = "Kindly's database is damaged"


def make_people(count: int, prefix: str) -> None:
    with database.atomic():
        for i in range(count):
            Person.create(network="mastodon", remote_id=f"{prefix}{i}", handle=f"@{prefix}{i}")


def damage_last_page(path: Path) -> None:
    """Noise over the file's last page: rows added last (the "lost" people), which the window
    does not read when it opens. Header, schema and version stay readable."""
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[-page:] = os.urandom(page)
    path.write_bytes(bytes(data))


@pytest.fixture(autouse=True)
def every_file_is_large(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db_module, "FULL_CHECK_AT_OPEN_BYTES", 0)


def sound_database(data_dir: Path) -> Path:
    """300 people and a case, backed up; 50 people more since. Closed cleanly (no -wal)."""
    path = database_path(data_dir)
    open_database(path)
    make_people(300, "kept")
    account = Account.create(network="mastodon", handle="@us", keyring_ref="k")
    Case.create(
        account=account,
        person=Person.get(),
        network="mastodon",
        conversation_key="c",
        first_mention_at=datetime.now(UTC),
        last_activity_at=datetime.now(UTC),
    )
    BackupService(path).back_up(BackupKind.DAILY)
    make_people(50, "lost")
    close_database()
    return path


@pytest.fixture
def damaged(data_dir: Path) -> Iterator[Path]:
    path = sound_database(data_dir)
    damage_last_page(path)
    # The premise: only the full check sees this damage.
    assert inspect_file(path, full_check=False) > 0
    with pytest.raises(DatabaseCorrupt):
        inspect_file(path)
    yield path
    close_database()


@pytest.fixture
def launcher(qtbot, data_dir: Path, asker, qsettings, monkeypatch) -> Iterator[app_module.Launcher]:
    windows: list[MainWindow] = []

    def window(context: AppContext) -> MainWindow:
        # Not qtbot.addWidget: the launcher deletes a window whose database turned out damaged.
        win = MainWindow(context, asker=asker, qsettings=qsettings, runner=ImmediateRunner())
        windows.append(win)
        return win

    def context(*args: object, **kwargs: object) -> AppContext:
        return AppContext(*args, secrets=SecretStore(MemoryKeyring()), **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(app_module, "MainWindow", window)
    monkeypatch.setattr(app_module, "new_context", context)
    options = app_module.LaunchOptions(data_dir, data_dir / "log.txt", exit_after_paint=True)
    launch = app_module.Launcher(options, asker=asker, runner=ImmediateRunner())
    closed: list[bool] = []
    launch.on_closed = lambda: closed.append(True)
    launch.closed = closed  # type: ignore[attr-defined]
    yield launch
    launch.stop_check()
    for win in windows:
        if shiboken6.isValid(win):
            win.close()
            win.deleteLater()
    close_database()


def test_the_window_opens_before_the_full_check_which_runs_after_the_first_paint(
    qtbot, launcher: app_module.Launcher, asker, damaged: Path
) -> None:
    window = launcher.start(demo=False)

    assert window is not None and asker.asked == []  # the cheap checks passed: no question yet
    assert launcher.check is not None and launcher.check.path == damaged
    qtbot.waitUntil(lambda: asker.asked == [TITLE])  # the first paint started the full check
    assert launcher.check is None


def test_damage_found_in_the_background_restores_the_latest_backup_on_yes(
    qtbot, launcher: app_module.Launcher, asker, damaged: Path
) -> None:
    asker.confirms = [True]
    first = launcher.start(demo=False)
    assert first is not None

    qtbot.waitUntil(lambda: asker.asked == [TITLE])

    second = launcher.window
    assert second is not None and second is not first and second.isVisible()
    assert not (shiboken6.isValid(first) and first.isVisible())  # closed (maybe deleted)
    assert Person.select().count() == 300  # as at the backup
    assert second.statusBar().currentMessage().startswith("Restored the backup made ")
    kept = [b for b in BackupService(damaged).files() if b.kind is BackupKind.DAMAGED]
    assert len(kept) == 1  # the damaged file is kept beside the backups
    assert database.execute_sql("PRAGMA quick_check").fetchone()[0] == "ok"
    assert launcher.closed == []  # type: ignore[attr-defined]
    # The restored file is checked again after the new window's first paint: sound, no question.
    qtbot.waitUntil(lambda: launcher.check is None)
    assert asker.asked == [TITLE]


def test_saying_no_closes_the_window_and_the_database_and_quits(
    qtbot, launcher: app_module.Launcher, asker, damaged: Path, data_dir: Path
) -> None:
    asker.confirms = [False]
    window = launcher.start(demo=False)
    assert window is not None

    qtbot.waitUntil(lambda: asker.asked == [TITLE])

    # closed, and maybe already deleted (deleteLater runs within the wait)
    assert launcher.window is None and not (shiboken6.isValid(window) and window.isVisible())
    assert database.obj is None or database.is_closed()
    [message] = asker.informed
    assert "Kindly has closed the damaged database" in message
    assert str(damaged) in message and str(data_dir / "backups") in message
    assert launcher.closed == [True]  # type: ignore[attr-defined]


def test_a_sound_file_is_checked_in_the_background_and_nothing_is_asked(
    qtbot, launcher: app_module.Launcher, asker, data_dir: Path
) -> None:
    sound_database(data_dir)
    window = launcher.start(demo=False)
    assert window is not None and launcher.check is not None

    qtbot.waitUntil(lambda: launcher.check is None)

    assert asker.asked == [] and asker.informed == []
    assert launcher.window is window and window.isVisible()


def test_a_small_file_is_checked_in_full_before_the_window_opens(
    qtbot, launcher: app_module.Launcher, asker, damaged: Path, monkeypatch
) -> None:
    monkeypatch.setattr(db_module, "FULL_CHECK_AT_OPEN_BYTES", 32 * 1024 * 1024)

    assert launcher.start(demo=False) is None  # the start-up offer, before any window

    assert asker.asked == [TITLE] and launcher.check is None
    assert "has not opened or changed the damaged database" in asker.informed[0]


# -- the check itself -----------------------------------------------------------------------------


def test_the_check_reports_damage_and_a_sound_file(damaged: Path, data_dir: Path) -> None:
    problems = IntegrityCheck(damaged).run()

    assert problems  # what SQLite found, for the message
    error = IntegrityCheck(damaged).error(problems or [])
    assert "is damaged" in error.user_message and "Restore a backup" in error.user_message
    backup = BackupService(damaged).files()[0].path
    assert IntegrityCheck(backup).run() == []


def test_a_cancelled_check_stops_and_reports_nothing(tmp_path: Path) -> None:
    path = tmp_path / "big.sqlite3"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE filler (id INTEGER PRIMARY KEY, blob BLOB)")
    con.execute("CREATE INDEX filler_blob ON filler (blob)")
    with con:
        con.executemany(
            "INSERT INTO filler (blob) VALUES (?)", ((os.urandom(200),) for _ in range(100_000))
        )
    con.close()
    early = IntegrityCheck(path)
    early.cancel()
    assert early.run() is None  # cancelled before it started: nothing read

    check = IntegrityCheck(path)
    result: list[list[str] | None] = []
    worker = threading.Thread(target=lambda: result.append(check.run()))
    worker.start()
    deadline = time.monotonic() + 10
    while check._con is None and worker.is_alive() and time.monotonic() < deadline:
        pass  # until the check has its connection
    check.cancel()
    worker.join(10)

    assert not worker.is_alive() and result == [None]
