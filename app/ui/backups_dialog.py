"""File → Backups…: the backups with their check, "Back up now", "Restore…", and retention.

The list is read on the TaskRunner (every backup is checked, which reads the file). Restoring is
confirmed through the Asker and then handed on (``restore_chosen``): the window cannot replace
its own database, the launcher closes it, restores and opens it again.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core import settings as options
from app.core.backups import BackupInfo, BackupKind, BackupService, size_text
from app.core.maintenance import rotation
from app.core.settings import Settings
from app.ui.dialogs import Asker
from app.ui.tasks import Runner

COLUMNS = ["Made", "Kind", "Size", "Check"]


def when_text(info: BackupInfo) -> str:
    return info.created_at.astimezone().strftime("%a %d %b %Y, %H:%M")


def check_text(info: BackupInfo) -> str:
    if info.ok:
        return f"Sound (schema {info.schema_version})"
    return f"Cannot be restored: {info.problem}"


class BackupsDialog(QDialog):
    """A small list (rotation keeps it to a few dozen files), so a table widget is enough."""

    restore_chosen = Signal(object)  # Path of a checked backup the person chose to restore
    backed_up = Signal(object)  # BackupInfo

    def __init__(
        self,
        backups: BackupService,
        settings: Settings,
        runner: Runner,
        asker: Asker,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Backups")
        self.backups = backups
        self.settings = settings
        self.runner = runner
        self.asker = asker
        self.items: list[BackupInfo] = []
        self.busy = False

        keep = rotation(settings)
        intro = QLabel(
            f"Kindly backs up your database once a day and keeps the last {keep.keep_daily} "
            f"days plus one a week for {keep.keep_weekly} weeks, in:\n{backups.folder}"
        )
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.PlainText)
        intro.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.setAccessibleName("Backups")
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        self.back_up_button = QPushButton("Back up now")
        self.back_up_button.clicked.connect(self.back_up_now)
        self.restore_button = QPushButton("Restore from this backup…")
        self.restore_button.clicked.connect(self.restore_selected)
        row = QHBoxLayout()
        row.addWidget(self.back_up_button)
        row.addWidget(self.restore_button)
        row.addStretch(1)

        self.purge_box = QCheckBox("Delete resolved cases with no activity for")
        self.purge_box.setChecked(settings.get(options.RETENTION_ENABLED))
        self.months = QSpinBox()
        self.months.setRange(1, 120)
        self.months.setSuffix(" months")
        self.months.setValue(settings.get(options.RETENTION_MONTHS))
        self.months.setAccessibleName("Months")
        self.purge_box.toggled.connect(self._retention_changed)
        self.months.valueChanged.connect(self._retention_changed)
        retention_row = QHBoxLayout()
        retention_row.addWidget(self.purge_box)
        retention_row.addWidget(self.months)
        retention_row.addStretch(1)
        note = QLabel(
            "Checked once an hour, after the daily backup. Cases marked to keep are never "
            "deleted; people with nothing left go with their last case."
        )
        note.setWordWrap(True)
        retention = QGroupBox("Retention")
        retention_layout = QVBoxLayout(retention)
        retention_layout.addLayout(retention_row)
        retention_layout.addWidget(note)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addWidget(retention)
        layout.addWidget(buttons)
        self.resize(720, 480)
        self._update_buttons()

    # -- the list ------------------------------------------------------------------------------

    def reload(self) -> None:
        self._set_busy(True, "Checking the backups…")
        self.runner.run(self.backups.backups, self._loaded, self._failed)

    def _loaded(self, items: list[BackupInfo]) -> None:
        self.items = items
        self.table.setRowCount(len(items))
        for row, info in enumerate(items):
            cells = [when_text(info), info.kind.label, size_text(info.size), check_text(info)]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(str(info.path) if column == 0 else text)
                if column == 3 and not info.ok:
                    item.setForeground(Qt.GlobalColor.darkRed)
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        good = sum(1 for i in items if i.ok)
        summary = f"{len(items)} backup(s), {good} sound." if items else "No backups yet."
        self._set_busy(False, summary)

    def _failed(self, error: BaseException) -> None:
        self._set_busy(False, getattr(error, "user_message", None) or str(error))

    def selected(self) -> BackupInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.items[rows[0].row()] if rows else None

    def _set_busy(self, busy: bool, text: str) -> None:
        self.busy = busy
        self.status.setText(text)
        self._update_buttons()

    def _update_buttons(self) -> None:
        chosen = self.selected()
        self.back_up_button.setEnabled(not self.busy)
        self.restore_button.setEnabled(
            not self.busy
            and chosen is not None
            and chosen.ok
            and chosen.kind is not BackupKind.DAMAGED
        )

    # -- actions -------------------------------------------------------------------------------

    def back_up_now(self) -> None:
        keep = rotation(self.settings)
        self._set_busy(True, "Backing up…")
        self.runner.run(
            lambda: self.backups.back_up(BackupKind.MANUAL, keep), self._backed_up, self._failed
        )

    def _backed_up(self, info: BackupInfo) -> None:
        self.backed_up.emit(info)
        self.reload()
        self.status.setText(f"Backed up: {info.path.name} ({size_text(info.size)}).")

    def restore_selected(self) -> None:
        chosen = self.selected()
        if chosen is None or not chosen.ok:
            return
        if not self.asker.confirm(
            "Restore from this backup?",
            f"Kindly will replace your database with the backup made {when_text(chosen)}.\n\n"
            "Replies, notes and decisions made since then will be gone; mentions that arrived "
            "since are fetched again at the next sync. Your current database is kept first, "
            "as a backup “Before a restore”.\n\nThe window closes and opens again.",
        ):
            return
        self.restore_chosen.emit(Path(chosen.path))
        self.accept()

    def _retention_changed(self, *_args: object) -> None:
        self.settings.set(options.RETENTION_ENABLED, self.purge_box.isChecked())
        self.settings.set(options.RETENTION_MONTHS, int(self.months.value()))
