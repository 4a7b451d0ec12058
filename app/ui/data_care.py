"""The window's care of the data itself: backups (daily, now, the dialog), forgetting a person,
and the optional purge of old resolved cases.

``DataCare`` composes core services for the main window, which only connects its signals: work
runs on the TaskRunner, questions go through the Asker, and a restore is handed to whoever
owns the window (``restore_requested``): a window cannot replace the database it has open.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from app.core.backups import BackupInfo, BackupKind, size_text
from app.core.context import AppContext, own_connection
from app.core.listening.linking import Identity, linked_ids, linked_people
from app.core.maintenance import MaintenanceReport, rotation, run_due
from app.core.retention import Footprint
from app.core.vocab import Network
from app.ui.dialogs import Asker
from app.ui.tasks import Runner

if TYPE_CHECKING:  # imported when the dialog first opens
    from app.ui.backups_dialog import BackupsDialog

log = logging.getLogger(__name__)

MAINTENANCE_MS = 60 * 60 * 1000  # hourly: the backup itself is made once a day
FIRST_MAINTENANCE_MS = 5_000  # shortly after start-up, once the window is up


class DataCare(QObject):
    changed = Signal()  # data was deleted: views and counts must reload
    message = Signal(str)  # one line for the status bar
    restore_requested = Signal(object)  # Path of a checked backup

    def __init__(self, context: AppContext, runner: Runner, asker: Asker, window: QWidget) -> None:
        super().__init__(window)
        self.context = context
        self.runner = runner
        self.asker = asker
        self.window = window
        self.dialog: BackupsDialog | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(MAINTENANCE_MS)
        self.timer.timeout.connect(self.run_maintenance)
        self._stopped = False

    @property
    def available(self) -> bool:
        """The demo is rebuilt at will and never backed up."""
        return not self.context.demo

    # -- backups -------------------------------------------------------------------------------

    def start(self) -> None:
        """Daily housekeeping: soon after start-up, then every hour (made when due)."""
        if not self.available:
            return
        self.timer.start()
        QTimer.singleShot(FIRST_MAINTENANCE_MS, self, self.run_maintenance)

    def stop(self) -> None:
        self._stopped = True
        self.timer.stop()

    def run_maintenance(self) -> None:
        if self._stopped or not self.available:
            return
        backups, retention, settings = (
            self.context.backups,
            self.context.retention,
            self.context.settings,
        )
        self.runner.run(
            own_connection(lambda: run_due(backups, retention, settings)),
            self._maintained,
            lambda error: log.error("daily housekeeping failed: %r", error),
        )

    def _maintained(self, report: MaintenanceReport) -> None:
        if self._stopped:
            return
        if report.backup_error:
            self.message.emit(f"The daily backup failed: {report.backup_error}")
        if report.purged is not None and not report.purged.empty:
            self.message.emit(f"Old resolved cases deleted: {report.purged.summary()}.")
            self.changed.emit()

    def back_up_now(self) -> None:
        if not self.available:
            return
        backups, keep = self.context.backups, rotation(self.context.settings)
        self.message.emit("Backing up…")
        self.runner.run(
            lambda: backups.back_up(BackupKind.MANUAL, keep), self._backed_up, self._backup_failed
        )

    def _backed_up(self, info: BackupInfo) -> None:
        self.message.emit(f"Backed up to {info.path.name} ({size_text(info.size)}).")

    def _backup_failed(self, error: BaseException) -> None:
        text = getattr(error, "user_message", None) or str(error)
        self.message.emit("The backup failed.")
        self.asker.inform("Backup failed", text)

    def open_backups(self) -> BackupsDialog | None:
        if not self.available:
            self.asker.inform("Backups", "The demo organisation is not backed up.")
            return None
        if self.dialog is None:
            from app.ui.backups_dialog import BackupsDialog

            self.dialog = BackupsDialog(
                self.context.backups, self.context.settings, self.runner, self.asker, self.window
            )
            self.dialog.restore_chosen.connect(self.restore_requested)
            self.dialog.backed_up.connect(self._backed_up)
        self.dialog.reload()
        self.dialog.open()
        return self.dialog

    # -- forgetting a person -------------------------------------------------------------------

    def forget_person(self, person_ids: Sequence[int]) -> None:
        """Ask (saying exactly what goes), then delete everything about them in one step:
        the same person on other networks (linked by the officer) goes with them."""
        person = self.context.inbox.person(person_ids[0]) if person_ids else None
        if person is None:
            return
        ids = sorted({i for pid in person_ids for i in linked_ids(pid)})
        others = [p for p in linked_people(person.id) if p.person_id in ids]
        footprint = self.context.retention.footprint(ids)
        name = person.display_name or person.handle or "this person"
        who = f"{name} ({person.handle} on {person.network.label})" if person.handle else name
        if others:
            accounts = ", ".join(f"{p.handle} on {p.network.label}" for p in others)
            who += f" and their linked account{'s' if len(others) > 1 else ''} ({accounts})"
        if not self.asker.confirm(
            "Delete everything about this person?",
            f"Delete everything Kindly holds about {who}?\n\n"
            f"{footprint.summary().capitalize()} will be deleted from this computer in one "
            "step, with the private notes about them. This cannot be undone.\n\n"
            f"Nothing is deleted on {network_names(person.network, others)}. Backups made "
            "before now still hold it until they are rotated out (after about a month).",
        ):
            return
        retention = self.context.retention
        self.runner.run(
            own_connection(lambda: retention.forget_person(ids)),
            lambda removed: self._forgotten(name, removed),
            self._forget_failed,
        )

    def _forgotten(self, name: str, removed: Footprint) -> None:
        self.changed.emit()
        self.message.emit(f"Deleted everything about {name}: {removed.summary()}.")

    def _forget_failed(self, error: BaseException) -> None:
        log.error("forgetting a person failed: %r", error)
        self.asker.inform(
            "Nothing was deleted",
            f"Kindly could not delete this person's data ({type(error).__name__}); nothing was "
            "changed. The log file has the details.",
        )


def network_names(first: Network, others: Sequence[Identity]) -> str:
    names = list(dict.fromkeys([first.label, *(p.network.label for p in others)]))
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
