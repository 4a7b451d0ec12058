"""Starting the desktop app: the database, the window, first-run help, crash reporting."""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from app.core import settings as options
from app.core.context import AppContext
from app.core.demo import open_demo_database
from app.core.paths import database_path
from app.core.resources import resource_path
from app.storage.db import close_database, open_database
from app.storage.errors import StorageError
from app.ui.main_window import MainWindow
from app.ui.welcome import WelcomeDialog

log = logging.getLogger(__name__)


@dataclass
class LaunchOptions:
    data_dir: Path
    log_file: Path
    demo: bool = False
    exit_after_paint: bool = False
    screenshot: Path | None = None
    no_welcome: bool = False


def application() -> QApplication:
    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app
    app = QApplication(sys.argv[:1])
    app.setApplicationName("Kindly")
    app.setOrganizationName("Kindly")
    app.setDesktopFileName("org.kindly.Kindly")
    icon = resource_path("icons", "kindly.svg")
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))
    return app


def install_crash_dialog(log_file: Path) -> None:
    """An uncaught exception shows where the log is, instead of the app vanishing."""

    def hook(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
        log.critical(
            "uncaught exception:\n%s", "".join(traceback.format_exception(kind, error, tb))
        )
        if QApplication.instance() is not None:
            QMessageBox.critical(
                None,
                "Kindly hit a problem",
                f"Something went wrong: {error}\n\nNothing you saved is lost. The details are in "
                f"the log file:\n{log_file}",
            )

    sys.excepthook = hook


class Launcher:
    """Owns the current window; switching to the demo reopens the window on the demo file."""

    def __init__(self, options_: LaunchOptions) -> None:
        self.options = options_
        self.window: MainWindow | None = None
        self.on_window: Callable[[MainWindow], None] | None = None

    def open(self, demo: bool) -> MainWindow:
        if self.window is not None:  # first: its background sync must stop before the switch
            self.window.close()
            self.window.deleteLater()
            self.window = None
        close_database()
        if demo:
            path = open_demo_database(self.options.data_dir)
        else:
            path = database_path(self.options.data_dir)
            open_database(path)
        context = AppContext(self.options.data_dir, path, demo=demo)
        context.templates.seed()
        self.window = MainWindow(context)
        self.window.demo_requested.connect(lambda: self.open(demo=True))
        if self.on_window:
            self.on_window(self.window)
        self.window.show()
        if not (self.options.exit_after_paint or self.options.screenshot):
            self.window.start_background_sync()
        return self.window

    def offer_welcome(self) -> None:
        window = self.window
        if window is None or window.context.demo or window.context.has_accounts():
            return
        settings = window.context.settings
        if settings.get(options.DEMO_OFFERED):
            return
        settings.set(options.DEMO_OFFERED, True)
        dialog = WelcomeDialog(self.options.data_dir, can_add_accounts=True, parent=window)
        dialog.demo_chosen.connect(lambda: self.open(demo=True))
        dialog.accounts_chosen.connect(window.open_accounts)
        dialog.open()


def run_gui(launch: LaunchOptions) -> int:
    app = application()
    install_crash_dialog(launch.log_file)
    launcher = Launcher(launch)
    try:
        window = launcher.open(demo=launch.demo)
    except StorageError as error:
        log.error("cannot open the database: %s", error.user_message)
        QMessageBox.critical(None, "Kindly cannot open its database", error.user_message)
        return 2
    if launch.exit_after_paint or launch.screenshot:

        def finish() -> None:
            if launch.screenshot and launcher.window is not None:
                launcher.window.grab().save(str(launch.screenshot))
            print("kindly: first paint", flush=True)
            app.quit()

        window.first_painted.connect(
            lambda: QTimer.singleShot(200 if launch.screenshot else 0, finish)
        )
    elif not launch.no_welcome:
        QTimer.singleShot(0, launcher.offer_welcome)
    code = app.exec()
    if launcher.window is not None:
        launcher.window.shutdown()
    close_database()
    return int(code)
