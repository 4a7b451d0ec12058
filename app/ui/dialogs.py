"""Questions the window puts to the person, behind one small seam.

The window never calls ``QDialog.exec`` itself: it asks an ``Asker``. The app uses
``DialogAsker``; tests hand in a scripted one, so no modal dialog can hang a test.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)


class Asker(Protocol):
    def ask_reason(self, title: str, prompt: str, presets: Sequence[str]) -> str | None: ...

    def confirm(self, title: str, text: str) -> bool: ...

    def inform(self, title: str, text: str) -> None: ...


class ReasonDialog(QDialog):
    """Pick or type a reason (leaving alone and escalating always record one)."""

    def __init__(
        self, title: str, prompt: str, presets: Sequence[str], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.combo = QComboBox()
        self.combo.setEditable(True)
        self.combo.addItems(list(presets))
        self.combo.setCurrentText("")
        self.combo.setAccessibleName("Reason")
        label = QLabel(prompt)
        label.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(self.combo)
        layout.addWidget(buttons)

    def reason(self) -> str:
        return self.combo.currentText().strip()


class DialogAsker:
    def __init__(self, parent: QWidget | None) -> None:
        self.parent = parent

    def ask_reason(self, title: str, prompt: str, presets: Sequence[str]) -> str | None:
        dialog = ReasonDialog(title, prompt, presets, self.parent)
        while dialog.exec() == QDialog.DialogCode.Accepted:
            if dialog.reason():
                return dialog.reason()
        return None

    def confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self.parent, title, text)
        return answer == QMessageBox.StandardButton.Yes

    def inform(self, title: str, text: str) -> None:
        QMessageBox.information(self.parent, title, text)


SHORTCUTS: list[tuple[str, str]] = [
    ("j / k", "Next / previous case"),
    ("r", "Reply (focus the composer)"),
    ("Ctrl+K or /", "Insert a template (in the composer)"),
    ("Ctrl+Enter", "Send the reply"),
    ("e", "Resolve the case"),
    ("l", "Leave alone (asks for the reason)"),
    ("s", "Mark as spam (asks for the reason)"),
    ("w", "Mark as waiting on them"),
    ("x", "Escalate: move to phone or email"),
    ("o", "Reopen"),
    ("n", "Add a note to the case"),
    ("/", "Search"),
    ("Esc", "Leave the search box or composer"),
    ("F5", "Sync now: fetch new mentions, send queued replies"),
    ("?", "This sheet"),
]


class ShortcutSheet(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        table = QTableWidget(len(SHORTCUTS), 2)
        table.setHorizontalHeaderLabels(["Key", "Action"])
        table.verticalHeader().setVisible(False)
        table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, (key, action) in enumerate(SHORTCUTS):
            table.setItem(row, 0, QTableWidgetItem(key))
            table.setItem(row, 1, QTableWidgetItem(action))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        layout.addWidget(buttons)
        self.resize(460, 440)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
