"""Runs ``run_gui`` in its own process for tests/ui/test_startup_order.py and prints what
happened, in order, as one JSON line (the event loop is started and quit as in the app, which
a pytest process shares badly with the tests after it).

    python -m tests.ui.startup_driver SCENARIO DATA_DIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

import app.storage.db as storage_db
from app.core.context import AppContext
from app.core.secrets import MemoryKeyring, SecretStore
from app.storage.models import Person, database
from app.ui import app as app_module
from app.ui import dialogs
from app.ui import main_window as main_window_module
from app.ui.main_window import MainWindow
from app.ui.welcome import WelcomeDialog


class Asker:
    """Answers the launcher's questions (yes to a restore when told to) and records them."""

    def __init__(self, confirm: bool) -> None:
        self.answer = confirm
        self.asked: list[str] = []
        self.informed: list[str] = []

    def ask_reason(self, title: str, prompt: str, presets: object) -> None:
        self.asked.append(title)

    def confirm(self, title: str, text: str) -> bool:
        self.asked.append(title)
        return self.answer

    def inform(self, title: str, text: str) -> None:
        self.informed.append(text)


def main(scenario: str, data_dir: Path) -> dict[str, Any]:
    seen: dict[str, Any] = {"events": [], "parents": [], "critical": [], "offered": []}
    windows: list[MainWindow] = []
    asker = Asker(confirm=scenario == "damaged-yes")
    qsettings = QSettings(str(data_dir.parent / "window.ini"), QSettings.Format.IniFormat)
    opener = storage_db.open_database

    def open_database(path: Path, *args: Any, **kwargs: Any) -> Any:
        closed = database.obj is None or database.is_closed()
        seen["events"].append(f"open database (closed until now: {closed})")
        return opener(path, *args, **kwargs)

    def window(context: AppContext | None = None) -> MainWindow:
        win = MainWindow(context)
        windows.append(win)

        def painted() -> None:
            seen["events"].append("window painted")
            seen["opening_text"] = win.empty.text()

        def first_page() -> None:
            seen["events"].append("first page")
            seen["rows_at_first_page"] = win.model.rowCount()

        win.first_painted.connect(painted)
        win.first_page_shown.connect(first_page)
        return win

    def over_window(parent: object) -> Asker:
        seen["parents"].append(parent is windows[0])
        return asker

    class Box:
        @staticmethod
        def critical(parent: object, title: str, text: str) -> None:
            seen["critical"].append([parent is windows[0], title, text])

    offer = app_module.Launcher.offer_welcome

    def offer_then_quit(self: app_module.Launcher) -> None:
        offer(self)
        win = self.window
        seen["offered"] = [
            bool(win and win.attached and "first page" in seen["events"]),
            bool(win and any(d.isVisible() for d in win.findChildren(WelcomeDialog))),
        ]
        QTimer.singleShot(0, QApplication.quit)

    main_window_module.default_settings = lambda: qsettings  # type: ignore[assignment]
    storage_db.open_database = open_database  # type: ignore[assignment]
    app_module.MainWindow = window  # type: ignore[assignment,misc]
    app_module.new_context = lambda d, p, demo=False: AppContext(  # type: ignore[assignment]
        d, p, demo=demo, secrets=SecretStore(MemoryKeyring())
    )
    app_module.install_crash_dialog = lambda log_file: None  # type: ignore[assignment]
    app_module.QMessageBox = Box  # type: ignore[assignment,misc]
    app_module.Launcher.offer_welcome = offer_then_quit  # type: ignore[method-assign]
    dialogs.DialogAsker = over_window  # type: ignore[assignment,misc]
    timing = scenario != "welcome"
    options = app_module.LaunchOptions(
        data_dir, data_dir / "log.txt", demo=scenario == "demo", exit_after_paint=timing
    )
    seen["code"] = app_module.run_gui(options)
    win = windows[0]
    seen["windows"] = len(windows)
    seen["attached"] = win.attached
    seen["visible"] = win.isVisible()
    seen["case_open"] = win.attached and win.current is not None
    seen["empty_text"] = win.empty.text() if not win.empty.isHidden() else ""
    seen["status"] = win.statusBar().currentMessage()
    seen["asked"], seen["informed"] = asker.asked, asker.informed
    if scenario == "damaged-yes" and win.attached:
        storage_db.open_database = opener  # type: ignore[assignment]
        storage_db.open_database(data_dir / "kindly.sqlite3")
        seen["people"] = Person.select().count()
        storage_db.close_database()
    return seen


if __name__ == "__main__":
    result = main(sys.argv[1], Path(sys.argv[2]))
    print("RESULT " + json.dumps(result), flush=True)
