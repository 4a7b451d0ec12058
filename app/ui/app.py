"""Starting the desktop app: the database, the window, first-run help, crash reporting."""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from app.core import settings as options
from app.core.context import AppContext
from app.core.paths import database_path
from app.core.resources import resource_path
from app.storage.db import IntegrityCheck, close_database, open_database
from app.storage.errors import DatabaseCorrupt, StorageError
from app.ui.dialogs import Asker, DialogAsker
from app.ui.main_window import MainWindow
from app.ui.tasks import Runner, TaskRunner

if TYPE_CHECKING:  # imported when needed: not on the way to the first paint
    from app.core.backups import BackupService

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
    """Owns the current window; switching to the demo reopens the window on the demo file.

    A large database gets only the cheap checks before the window opens; the full check
    (``IntegrityCheck``) then runs on ``runner`` right after the window's first paint, and if it
    finds damage the window closes and the latest good backup is offered, as at start-up.
    """

    def __init__(
        self, options_: LaunchOptions, asker: Asker | None = None, runner: Runner | None = None
    ) -> None:
        self.options = options_
        self.window: MainWindow | None = None
        self.on_window: Callable[[MainWindow], None] | None = None
        self.asker: Asker = asker or DialogAsker(None)  # questions before there is a window
        self.runner: Runner = runner or TaskRunner()  # the integrity check, apart from the window's
        self.check: IntegrityCheck | None = None  # the full check running or about to run
        self.on_closed: Callable[[], None] | None = None  # damage found later, no window left

    def stop_check(self) -> None:
        """Cancel the background check (it stops within milliseconds) and wait for it."""
        if self.check is not None:
            self.check.cancel()
            self.check = None
            self.runner.wait()

    def _close_window(self) -> None:
        self.stop_check()
        if self.window is not None:  # first: its background sync must stop before the switch
            self.window.close()
            self.window.deleteLater()
            self.window = None
        close_database()

    def open(self, demo: bool) -> MainWindow:
        self._close_window()
        if demo:
            from app.core.demo import open_demo_database

            path = open_demo_database(self.options.data_dir)
        else:
            path = database_path(self.options.data_dir)
            if open_database(path, defer_full_check=True).full_check_pending:
                self.check = IntegrityCheck(path)
        context = AppContext(self.options.data_dir, path, demo=demo)
        context.templates.seed()
        self.window = MainWindow(context)
        if self.options.screenshot:  # the same picture whatever size the window had last
            self.window.resize(1400, 860)
        self.window.demo_requested.connect(lambda: self.open(demo=True))
        self.window.data_care.restore_requested.connect(self.restore_backup)
        if self.on_window:
            self.on_window(self.window)
        if self.check is not None:
            check = self.check
            self.window.first_painted.connect(lambda: self._run_check(check))
        self.window.show()
        if not (self.options.exit_after_paint or self.options.screenshot):
            self.window.start_background_sync()
        return self.window

    def _run_check(self, check: IntegrityCheck) -> None:
        if check is self.check:  # not cancelled meanwhile (another window, a restore)
            self.runner.run(check.run, lambda problems: self._checked(check, problems))

    def _checked(self, check: IntegrityCheck, problems: list[str] | None) -> None:
        if check is not self.check:
            return  # stale: the window it was for is gone
        self.check = None
        if not problems:  # sound, or the check could not run (logged; again at the next start)
            log.info("full check of %s: %s", check.path, "ok" if problems == [] else "not run")
            return
        # Damage found while the window is open: close it (the database with it), then the
        # same offer as at start-up. Qt must not quit when that window closes: the questions
        # come next, and a restore opens a new window.
        quits = QApplication.quitOnLastWindowClosed()
        QApplication.setQuitOnLastWindowClosed(False)
        try:
            self._close_window()
            window = self._offer_backup(check.error(problems), opened=True)
        finally:
            QApplication.setQuitOnLastWindowClosed(quits)
        if window is None and self.on_closed is not None:
            self.on_closed()

    def start(self, demo: bool) -> MainWindow | None:
        """Open the app; a damaged database offers the latest good backup (None: not opened)."""
        try:
            return self.open(demo)
        except DatabaseCorrupt as error:
            if demo:
                raise
            return self._offer_backup(error)

    def _offer_backup(self, error: DatabaseCorrupt, opened: bool = False) -> MainWindow | None:
        """``opened``: the damage was found after the window had opened on the file."""
        from app.core.backups import BackupService, size_text

        path = database_path(self.options.data_dir)
        backups = BackupService(path)
        log.error("the database is damaged: %s", error.user_message)
        title = "Kindly's database is damaged"
        latest = backups.latest_good()
        if latest is None:
            self.asker.inform(
                title, f"{error.user_message}\n\nThere is no sound backup in {backups.folder}."
            )
            return None
        when = latest.created_at.astimezone().strftime("%A %d %B %Y at %H:%M")
        if not self.asker.confirm(
            title,
            f"{error.user_message}\n\nRestore the latest good backup, made {when} "
            f"({size_text(latest.size)})? The damaged file is kept in {backups.folder}. "
            "Replies, notes and decisions made since that backup are lost; mentions are "
            "fetched again.",
        ):
            done = "closed" if opened else "not opened or changed"
            self.asker.inform(
                title,
                f"Kindly has {done} the damaged database:\n{path}\n\nIts "
                f"backups are in {backups.folder}. Start Kindly again to restore one.",
            )
            return None
        return self._restore_and_open(backups, latest.path, on_failure_reopen=False)

    def restore_backup(self, backup: Path) -> MainWindow | None:
        """File → Backups → Restore: close the window, restore, open it again."""
        from app.core.backups import BackupService

        self._close_window()
        backups = BackupService(database_path(self.options.data_dir))
        return self._restore_and_open(backups, Path(backup), on_failure_reopen=True)

    def _restore_and_open(
        self, backups: BackupService, backup: Path, on_failure_reopen: bool
    ) -> MainWindow | None:
        from app.core.backups import BackupError, settle_after_restore

        try:
            report = backups.restore(backup)
            open_database(backups.database_path)
            settle_after_restore()  # replies it still has queued may have gone out since
        except (BackupError, StorageError) as error:
            log.error("restoring %s failed: %s", backup, error.user_message)
            self.asker.inform("The backup was not restored", error.user_message)
            return self.open(demo=False) if on_failure_reopen else None
        window = self.open(demo=False)
        when = report.restored.created_at.astimezone().strftime("%d %b %Y %H:%M")
        kept = (
            f"; the previous file is kept as {report.kept_current.name}"
            if report.kept_current
            else ""
        )
        window.statusBar().showMessage(f"Restored the backup made {when}{kept}.", 15000)
        return window

    def offer_welcome(self) -> None:
        window = self.window
        if window is None or window.context.demo:
            return
        settings = window.context.settings
        if window.context.has_accounts() or settings.get(options.DEMO_OFFERED):
            self.offer_first_run(window)  # once: office hours and the response target
            return
        settings.set(options.DEMO_OFFERED, True)
        from app.ui.welcome import WelcomeDialog

        dialog = WelcomeDialog(self.options.data_dir, can_add_accounts=True, parent=window)
        dialog.demo_chosen.connect(lambda: self.open(demo=True))
        dialog.accounts_chosen.connect(lambda: self._accounts_then_first_run(window))
        dialog.rejected.connect(lambda: self.offer_first_run(window))
        dialog.open()

    def _accounts_then_first_run(self, window: MainWindow) -> None:
        window.open_accounts()
        if window.accounts_dialog is not None:
            window.accounts_dialog.finished.connect(lambda _r: self.offer_first_run(window))

    def offer_first_run(self, window: MainWindow) -> None:
        from app.ui.first_run import offer_first_run

        context = window.context
        offer_first_run(
            window, context.settings, context.triage.policy, window.policy_actions, context.demo
        )


def run_gui(launch: LaunchOptions) -> int:
    app = application()
    install_crash_dialog(launch.log_file)
    launcher = Launcher(launch)
    try:
        opened = launcher.start(demo=launch.demo)
    except StorageError as error:
        log.error("cannot open the database: %s", error.user_message)
        QMessageBox.critical(None, "Kindly cannot open its database", error.user_message)
        return 2
    if opened is None:  # a damaged database, and no backup restored
        return 2
    window = opened
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
    launcher.on_closed = app.quit  # damage found after the first paint, and no backup restored
    code = app.exec()
    launcher.stop_check()
    if launcher.window is not None:
        launcher.window.shutdown()
    close_database()
    return int(code)
