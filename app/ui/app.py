"""Starting the desktop app: the database, the window, first-run help, crash reporting."""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, NamedTuple

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from app.core.paths import database_path
from app.core.resources import resource_path
from app.storage.errors import DatabaseCorrupt, StorageError
from app.ui.main_window import MainWindow

# Imported when needed: start-up shows the window first, then opens the database and builds
# the services (bench/bench_startup.py).
if TYPE_CHECKING:
    from app.core.backups import BackupService
    from app.core.context import AppContext
    from app.storage.db import IntegrityCheck
    from app.ui.dialogs import Asker
    from app.ui.tasks import Runner

log = logging.getLogger(__name__)


class LaunchOptions(NamedTuple):
    """How the app was started (a NamedTuple: ``dataclasses`` costs ~5 ms of imports)."""

    data_dir: Path
    log_file: Path
    demo: bool = False
    exit_after_paint: bool = False
    screenshot: Path | None = None
    no_welcome: bool = False
    start_logging: Callable[[], object] | None = None  # run once the window has painted


def prepare_inbox() -> None:
    """Import what ``MainWindow.attach`` uses. ``Launcher.open`` calls this after the frame's
    first paint and before it opens the database, so that "database open → first page"
    (bench_inbox) is the inbox's own work; the imports count in bench_startup's "first page"
    row."""
    import app.core.context
    import app.storage.db
    import app.ui.case_actions
    import app.ui.case_delegate
    import app.ui.case_pane
    import app.ui.data_care
    import app.ui.inbox_counts
    import app.ui.listening_actions
    import app.ui.notifier
    import app.ui.offline_banner
    import app.ui.person_panel
    import app.ui.policy_actions  # noqa: F401


def new_context(data_dir: Path, path: Path, demo: bool = False) -> AppContext:
    """The services of the database just opened (tests give theirs an in-memory keyring)."""
    from app.core.context import AppContext

    return AppContext(data_dir, path, demo=demo)


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

    At start-up the window is on screen before the database is opened: ``start`` is given
    that window (``MainWindow()``, the frame) and opens the inbox in it (``attach``), with the
    same checks and offers as ever (refused or damaged files, the latest good backup). A large
    database gets only the cheap checks before the inbox opens; the full check
    (``IntegrityCheck``) then runs on ``runner`` after the first page is shown, and if it finds
    damage the window closes and the latest good backup is offered, as at start-up.
    """

    def __init__(
        self, options_: LaunchOptions, asker: Asker | None = None, runner: Runner | None = None
    ) -> None:
        self.options = options_
        self.window: MainWindow | None = None
        self.on_window: Callable[[MainWindow], None] | None = None
        self._asker = asker
        self._runner = runner
        self.check: IntegrityCheck | None = None  # the full check running or about to run
        self.on_closed: Callable[[], None] | None = None  # damage found later, no window left

    @property
    def asker(self) -> Asker:
        """Questions at start-up: over the window when there is one."""
        if self._asker is None:
            from app.ui.dialogs import DialogAsker

            self._asker = DialogAsker(self.window)
        return self._asker

    @property
    def runner(self) -> Runner:
        """Where the integrity check runs, apart from the window's tasks."""
        if self._runner is None:
            from app.ui.tasks import TaskRunner

            self._runner = TaskRunner()
        return self._runner

    def stop_check(self) -> None:
        """Cancel the background check (it stops within milliseconds) and wait for it."""
        if self.check is not None:
            self.check.cancel()
            self.check = None
            self.runner.wait()

    def _close_window(self) -> None:
        """Close the window on the current database (a frame still waiting for one stays)."""
        from app.storage.db import close_database

        self.stop_check()
        if self.window is not None and self.window.attached:  # first: its sync must stop
            self.window.close()
            self.window.deleteLater()
            self.window = None
        close_database()

    def open(self, demo: bool) -> MainWindow:
        """Open the database and show it: in the waiting frame if any, else a new window."""
        prepare_inbox()  # the modules first: bench_inbox times from the database open
        from app.storage.db import IntegrityCheck, open_database

        self._close_window()
        if demo:
            from app.core.demo import open_demo_database

            path = open_demo_database(self.options.data_dir)
        else:
            path = database_path(self.options.data_dir)
            if open_database(path, defer_full_check=True).full_check_pending:
                self.check = IntegrityCheck(path)
        context = new_context(self.options.data_dir, path, demo=demo)
        context.templates.seed()
        frame = self.window
        if frame is not None and not frame.attached:
            frame.attach(context)
        else:
            self.window = MainWindow(context)
        if self.options.screenshot:  # the same picture whatever size the window had last
            self.window.resize(1400, 860)
        self.window.demo_requested.connect(lambda: self.open(demo=True))
        self.window.data_care.restore_requested.connect(self.restore_backup)
        if self.on_window:
            self.on_window(self.window)
        if self.check is not None:
            check = self.check
            self.window.first_page_shown.connect(lambda: self._run_check(check))
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

    def start(self, demo: bool, frame: MainWindow | None = None) -> MainWindow | None:
        """Open the app (in ``frame``, a window already on screen, if given); a damaged
        database offers the latest good backup (None: not opened)."""
        if frame is not None:
            self.window = frame
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
        from app.storage.db import open_database

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
        from app.core import settings as options

        window = self.window
        if window is None or not window.attached or window.context.demo:
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
    """Show the window, then open the database in it once it has painted.

    With ``--exit-after-paint`` it prints "kindly: first paint" when the window has painted
    (the frame) and "kindly: first page" when the case list has painted with the inbox open,
    then quits (bench/bench_startup.py times both).
    """
    app = application()
    install_crash_dialog(launch.log_file)
    window = MainWindow()  # the frame: no database needed yet
    launcher = Launcher(launch)
    timing = launch.exit_after_paint or launch.screenshot
    code = 0

    def fail(status: int) -> None:
        nonlocal code
        code = status
        if launcher.window is not None and not launcher.window.attached:
            launcher.window.close()
        app.exit(status)

    def begin() -> None:
        try:
            opened = launcher.start(demo=launch.demo, frame=window)
        except StorageError as error:
            log.error("cannot open the database: %s", error.user_message)
            QMessageBox.critical(window, "Kindly cannot open its database", error.user_message)
            fail(2)
            return
        except Exception:  # as when start-up ran before the event loop: reported, then exit
            sys.excepthook(*sys.exc_info())  # type: ignore[arg-type]
            fail(1)
            return
        if opened is None:  # a damaged database, and no backup restored
            fail(2)
            return
        if timing:
            opened.first_page_shown.connect(
                lambda: QTimer.singleShot(200 if launch.screenshot else 0, finish)
            )
        elif not launch.no_welcome:  # once the first page is on screen
            opened.first_page_shown.connect(lambda: QTimer.singleShot(0, launcher.offer_welcome))

    def finish() -> None:
        if launch.screenshot and launcher.window is not None:
            launcher.window.grab().save(str(launch.screenshot))
        print("kindly: first page", flush=True)
        app.quit()

    def painted() -> None:
        if launch.exit_after_paint:
            print("kindly: first paint", flush=True)
        if launch.start_logging is not None:
            launch.start_logging()
        QTimer.singleShot(0, begin)  # after the paint has reached the screen

    window.first_painted.connect(painted)
    window.show()
    launcher.on_closed = app.quit  # damage found after the first paint, and no backup restored
    status = app.exec()
    launcher.stop_check()
    if launcher.window is not None:
        launcher.window.shutdown()
    from app.storage.db import close_database

    close_database()
    return code or int(status)
