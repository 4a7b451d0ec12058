"""First run, after the welcome: the organisation's name, office hours and response target.

Kindly ships a sensible default policy; this step makes its clocks fit the officer (a target
of "2 hours" means nothing until Kindly knows when the office is open). It is offered once per
data folder (``ui.policy_setup_done``), never on the demo, and everything in it can be changed
later from the Policy menu.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core import settings as options
from app.core.policy import Outcome, Policy
from app.core.settings import Settings
from app.core.triage_setup import office_hours, response_target, save_office
from app.ui.office_hours_dialog import OfficeHoursForm


def policy_summary(policy: Policy) -> str:
    """One paragraph on what the policy does, from its rules (for people, not a listing)."""
    enabled = [r for r in policy.rules if r.enabled]

    def names(outcome: Outcome) -> str:
        found = [r.name.lower() for r in enabled if r.outcome is outcome]
        return ", ".join(found[:4]) + (" …" if len(found) > 4 else "")

    parts = [f"Kindly starts with a response policy of {len(enabled)} rules, read from the top."]
    if names(Outcome.ESCALATE):
        parts.append(f"These are moved to phone or email: {names(Outcome.ESCALATE)}.")
    left = [n for n in (names(Outcome.SPAM), names(Outcome.LEAVE_ALONE)) if n]
    if left:
        parts.append(f"These are left alone, with the reason recorded: {', '.join(left)}.")
    parts.append(
        "Everything else gets a reply within your response target, counted in office hours. "
        "Review or change the rules any time: Policy → Response policy…"
    )
    return " ".join(parts)


class FirstRunDialog(QDialog):
    """Organisation name, office hours and target; ``saved`` after storing them."""

    saved = Signal()
    policy_requested = Signal()

    def __init__(self, settings: Settings, policy: Policy, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Set up your response policy")
        self.settings = settings
        title = QLabel("When do you answer?")
        title.setStyleSheet("font-size: 14pt; font-weight: bold")
        intro = QLabel(policy_summary(policy))
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.PlainText)
        self.org = QLineEdit(settings.get(options.ORG_NAME))
        self.org.setPlaceholderText("e.g. Riverbank Alliance (used as {org} in templates)")
        self.org.setAccessibleName("Organisation name")
        self.form = OfficeHoursForm(holidays=False)
        self.form.set_values(office_hours(settings), response_target(settings))
        org_form = QFormLayout()
        org_form.addRow("Organisation", self.org)
        self.save_button = QPushButton("Save")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        self.rules_button = QPushButton("Review the rules…")
        self.rules_button.clicked.connect(self._rules)
        later = QPushButton("Later")
        later.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.rules_button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(later)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addLayout(org_form)
        layout.addWidget(self.form)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self.form.changed.connect(self._update)
        self._update()
        self.resize(620, 420)

    def _update(self) -> None:
        self.save_button.setEnabled(self.form.check() is None)

    def save(self) -> None:
        if self.form.check() is not None:
            return
        self.settings.set(options.ORG_NAME, self.org.text().strip())
        save_office(self.settings, self.form.hours(), self.form.target())
        self.saved.emit()
        self.accept()

    def _rules(self) -> None:
        self.save()
        self.policy_requested.emit()


class PolicyHost(Protocol):
    """What the step calls when done (the window's ``PolicyActions``)."""

    def settings_changed(self) -> None: ...

    def open_policy_editor(self) -> None: ...


def offer_first_run(
    window: QWidget,
    settings: Settings,
    policy: Policy,
    host: PolicyHost,
    demo: bool,
) -> FirstRunDialog | None:
    """Open the step once per data folder (never on the demo); None when not offered."""
    if demo or settings.get(options.POLICY_SETUP_DONE):
        return None
    settings.set(options.POLICY_SETUP_DONE, True)
    dialog = FirstRunDialog(settings, policy, window)
    dialog.saved.connect(host.settings_changed)
    dialog.policy_requested.connect(host.open_policy_editor)
    dialog.open()
    return dialog
