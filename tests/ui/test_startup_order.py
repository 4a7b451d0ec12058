"""Start-up order: the window is on screen before the database is opened, and everything that
happened at start-up still happens, now over that window: the restore offer for a damaged file,
the refusal of a file from a newer Kindly, the first-run welcome with its demo, and the first
page of cases ("kindly: first page")."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

import app.storage.db as storage_db
from app.core.context import AppContext
from app.core.paths import database_path
from app.core.secrets import MemoryKeyring, SecretStore
from app.storage.migrations import HEAD
from app.storage.models import Person, database
from app.ui import app as app_module
from app.ui import dialogs
from app.ui.main_window import OPENING, MainWindow
from app.ui.welcome import WelcomeDialog
from tests.ui.test_damaged_startup import TITLE
from tests.ui.test_damaged_startup import damaged as damaged


class Recorder:
    """What happened, in order, during one ``run_gui``."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.windows: list[MainWindow] = []
        self.rows_at_first_page: int | None = None
        self.opening_text_at_first_paint = ""


@pytest.fixture
def recorder(
    data_dir: Path, qsettings: QSettings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Recorder]:
    seen = Recorder()
    opener = storage_db.open_database

    def open_database(path: Path, *args: object, **kwargs: object) -> object:
        closed = database.obj is None or database.is_closed()
        seen.events.append(f"open database (closed until now: {closed})")
        return opener(path, *args, **kwargs)  # type: ignore[arg-type]

    def window(context: AppContext | None = None) -> MainWindow:
        win = MainWindow(context, qsettings=qsettings)
        seen.windows.append(win)

        def painted() -> None:
            seen.events.append("window painted")
            seen.opening_text_at_first_paint = win.empty.text()

        def first_page() -> None:
            seen.events.append("first page")
            seen.rows_at_first_page = win.model.rowCount()

        win.first_painted.connect(painted)
        win.first_page_shown.connect(first_page)
        return win

    def context(data: Path, path: Path, demo: bool = False) -> AppContext:
        return AppContext(data, path, demo=demo, secrets=SecretStore(MemoryKeyring()))

    monkeypatch.setattr(storage_db, "open_database", open_database)
    # pytest-qt reports an exception in a slot; the crash dialog would wait for a click
    monkeypatch.setattr(app_module, "install_crash_dialog", lambda log_file: None)
    monkeypatch.setattr(app_module, "MainWindow", window)
    monkeypatch.setattr(app_module, "new_context", context)
    yield seen
    for win in seen.windows:
        if shiboken6.isValid(win):
            win.close()
            win.deleteLater()
    storage_db.close_database()


def launch(data_dir: Path, **options: object) -> app_module.LaunchOptions:
    return app_module.LaunchOptions(data_dir, data_dir / "log.txt", **options)  # type: ignore[arg-type]


def test_the_window_paints_before_the_database_opens_then_shows_the_first_page(
    qtbot, recorder: Recorder, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = app_module.run_gui(launch(data_dir, demo=True, exit_after_paint=True))

    assert code == 0
    assert recorder.events[:2] == [
        "window painted",
        "open database (closed until now: True)",
    ]
    assert recorder.events[-1] == "first page"
    assert recorder.opening_text_at_first_paint == OPENING
    assert recorder.rows_at_first_page and recorder.rows_at_first_page > 0
    [window] = recorder.windows  # the inbox opened in the window that painted first
    assert window.attached and window.current is not None  # the first case opened after
    printed = capsys.readouterr().out.splitlines()
    assert printed[-2:] == ["kindly: first paint", "kindly: first page"]


def test_a_new_data_folder_gets_its_database_and_an_empty_first_page(
    qtbot, recorder: Recorder, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = app_module.run_gui(launch(data_dir, exit_after_paint=True))

    assert code == 0 and database_path(data_dir).exists()
    assert recorder.events[0] == "window painted" and recorder.events[-1] == "first page"
    assert recorder.rows_at_first_page == 0
    [window] = recorder.windows
    assert not window.empty.isHidden() and "No accounts connected yet" in window.empty.text()
    assert capsys.readouterr().out.splitlines()[-1] == "kindly: first page"


def test_a_damaged_database_still_gets_the_restore_offer_over_the_window(
    qtbot,
    recorder: Recorder,
    data_dir: Path,
    damaged: Path,
    asker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parents: list[object] = []

    def over(parent: object) -> object:
        parents.append(parent)
        return asker

    monkeypatch.setattr(dialogs, "DialogAsker", over)
    asker.confirms = [True]

    code = app_module.run_gui(launch(data_dir, exit_after_paint=True))

    assert code == 0
    assert asker.asked == [TITLE]
    [window] = recorder.windows
    assert parents and all(p is window for p in parents)  # asked over the window on screen
    assert recorder.events[0] == "window painted" and recorder.events[-1] == "first page"
    assert window.attached and Person.select().count() == 300  # the restored backup
    assert window.statusBar().currentMessage().startswith("Restored the backup made ")


def test_saying_no_to_the_restore_closes_the_window_and_exits_with_2(
    qtbot,
    recorder: Recorder,
    data_dir: Path,
    damaged: Path,
    asker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = hashlib.sha256(damaged.read_bytes()).hexdigest()
    monkeypatch.setattr(dialogs, "DialogAsker", lambda parent: asker)
    asker.confirms = [False]

    code = app_module.run_gui(launch(data_dir, exit_after_paint=True))

    assert code == 2
    [window] = recorder.windows
    assert not window.isVisible() and not window.attached
    assert "first page" not in recorder.events
    assert any("Start Kindly again to restore one" in text for text in asker.informed)
    assert hashlib.sha256(damaged.read_bytes()).hexdigest() == before


def test_a_database_from_a_newer_kindly_is_refused_over_the_window(
    qtbot, recorder: Recorder, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = database_path(data_dir)
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE schema_info (id INTEGER PRIMARY KEY, version INTEGER, at TEXT)")
    con.execute(f"INSERT INTO schema_info (version, at) VALUES ({HEAD + 1}, 'later')")
    con.commit()
    con.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    shown: list[tuple[object, str, str]] = []

    class Box:
        @staticmethod
        def critical(parent: object, title: str, text: str) -> None:
            shown.append((parent, title, text))

    monkeypatch.setattr(app_module, "QMessageBox", Box)

    code = app_module.run_gui(launch(data_dir, exit_after_paint=True))

    assert code == 2
    [window] = recorder.windows
    [(parent, title, text)] = shown
    assert parent is window and title == "Kindly cannot open its database"
    assert "Install the newer Kindly" in text
    assert recorder.events[0] == "window painted"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_the_first_run_still_offers_the_demo_once_the_inbox_is_open(
    qtbot, recorder: Recorder, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    offered: list[bool] = []
    offer = app_module.Launcher.offer_welcome

    def offer_then_quit(self: app_module.Launcher) -> None:
        offer(self)
        window = self.window
        assert window is not None
        offered.append(window.attached and "first page" in recorder.events)
        offered.append(any(d.isVisible() for d in window.findChildren(WelcomeDialog)))
        QTimer.singleShot(0, QApplication.quit)

    monkeypatch.setattr(app_module.Launcher, "offer_welcome", offer_then_quit)

    code = app_module.run_gui(launch(data_dir))

    assert code == 0
    assert offered == [True, True]
