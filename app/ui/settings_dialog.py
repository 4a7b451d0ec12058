"""The organisation's details that templates use: {org}, {signature}, {phone}, {email}."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLineEdit, QWidget

from app.core import settings as options
from app.core.settings import Settings


class SettingsDialog(QDialog):
    FIELDS = (options.ORG_NAME, options.SIGNATURE, options.PHONE, options.EMAIL)

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Organisation details")
        self.settings = settings
        self.edits: dict[str, QLineEdit] = {}
        form = QFormLayout(self)
        for option in self.FIELDS:
            edit = QLineEdit(settings.get(option))
            edit.setToolTip(option.help)
            edit.setPlaceholderText(option.help)
            self.edits[option.key] = edit
            form.addRow(option.label, edit)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def save(self) -> None:
        for option in self.FIELDS:
            self.settings.set(option, self.edits[option.key].text().strip())
        self.accept()
