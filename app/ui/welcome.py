"""First run: what Kindly is, where the data lives, and a way in (the demo, or your accounts)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget


class WelcomeDialog(QDialog):
    demo_chosen = Signal()
    accounts_chosen = Signal()

    def __init__(self, data_dir: Path, can_add_accounts: bool, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Welcome to Kindly")
        title = QLabel("Welcome to Kindly")
        title.setStyleSheet("font-size: 16pt; font-weight: bold")
        text = QLabel(
            "Kindly gathers what people say to your organisation on Mastodon, Bluesky, X and "
            "your Facebook Page into one calm inbox, helps you answer like a person, and keeps "
            "a record of every decision.\n\n"
            "Try it on a demo organisation first, or connect your own accounts. Your data "
            f"stays on this computer, in:\n{data_dir}"
        )
        text.setTextFormat(Qt.TextFormat.PlainText)
        text.setWordWrap(True)
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.demo_button = QPushButton("Explore the demo")
        self.demo_button.setDefault(True)
        self.demo_button.clicked.connect(self._demo)
        self.accounts_button = QPushButton("Add an account…")
        self.accounts_button.clicked.connect(self._accounts)
        self.accounts_button.setVisible(can_add_accounts)
        later = QPushButton("Start with an empty inbox")
        later.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.demo_button)
        buttons.addWidget(self.accounts_button)
        buttons.addStretch(1)
        buttons.addWidget(later)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(text)
        layout.addLayout(buttons)
        self.resize(560, 260)

    def _demo(self) -> None:
        self.accept()
        self.demo_chosen.emit()

    def _accounts(self) -> None:
        self.accept()
        self.accounts_chosen.emit()
