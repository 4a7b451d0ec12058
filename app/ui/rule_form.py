"""The form for one policy rule: what it looks for (conditions) and what it decides (outcome).

A plain widget: ``set_rule`` fills it, ``rule()`` reads it back, and ``edited`` fires on every
change a person makes. It knows nothing of the policy around it; the editor checks the whole
policy and points at a field with ``show_problem("when.pattern")``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.core.policy.rules import Conditions, Outcome, Rule
from app.core.vocab import Network, Stance

PROBLEM_STYLE = "border: 2px solid #B91C1C"
TRI_STATES: tuple[tuple[str, bool | None], ...] = (("any", None), ("yes", True), ("no", False))


def split_words(text: str) -> tuple[str, ...]:
    """One word or phrase per line (commas also separate); blanks dropped, order kept."""
    parts = (p.strip() for p in re.split(r"[\n,]", text))
    return tuple(dict.fromkeys(p for p in parts if p))


def _tri_state(label: str) -> QComboBox:
    combo = QComboBox()
    combo.setAccessibleName(label)
    for text, value in TRI_STATES:
        combo.addItem(text, value)
    return combo


class _Threshold(QWidget):
    """A checkbox that switches a condition on, and its value."""

    changed = Signal()

    def __init__(self, label: str, spin: QSpinBox | QDoubleSpinBox) -> None:
        super().__init__()
        self.check = QCheckBox(label)
        self.spin = spin
        self.spin.setEnabled(False)
        self.check.toggled.connect(self.spin.setEnabled)
        self.check.toggled.connect(lambda _on: self.changed.emit())
        self.spin.valueChanged.connect(lambda _v: self.changed.emit())
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.check)
        layout.addWidget(self.spin, 1)

    def value(self) -> float | None:
        return float(self.spin.value()) if self.check.isChecked() else None

    def set_value(self, value: float | None) -> None:
        self.check.setChecked(value is not None)
        if value is not None:
            self.spin.setValue(value)  # type: ignore[arg-type]


class RuleForm(QWidget):
    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._loading = False
        self.name = QLineEdit()
        self.name.setAccessibleName("Rule name")
        self.enabled = QCheckBox("This rule is on")
        self.note = QLineEdit()
        self.note.setPlaceholderText("Why this rule exists (for whoever reads the policy)")
        self.outcome = QComboBox()
        self.outcome.setAccessibleName("Outcome")
        for outcome in Outcome:
            self.outcome.addItem(_OUTCOME_TEXT[outcome], outcome.value)
        self.within = QDoubleSpinBox()
        self.within.setRange(0, 720)
        self.within.setDecimals(2)
        self.within.setSingleStep(0.5)
        self.within.setSuffix(" h of office time")
        self.within.setSpecialValueText("the standard response target")
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Recorded on each case this rule decides")
        self.reminder = QPlainTextEdit()
        self.reminder.setPlaceholderText(
            "Shown in the composer while writing a reply to such a case"
        )
        self.reminder.setFixedHeight(64)

        self.words = QPlainTextEdit()
        self.words.setPlaceholderText('One word or phrase per line; "refund*" also matches refunds')
        self.words.setFixedHeight(80)
        self.pattern = QLineEdit()
        self.pattern.setPlaceholderText(r"A regular expression, e.g. \b(when|where)\b")
        self.networks = {n: QCheckBox(n.label) for n in Network}
        self.stances = {s: QCheckBox(s.value.capitalize()) for s in Stance}
        followers = QSpinBox()
        followers.setRange(0, 1_000_000_000)
        followers.setSingleStep(1000)
        followers.setValue(10_000)
        self.min_followers = _Threshold("Author has at least", followers)
        followers.setSuffix(" followers")
        self.sentiment_below = _Threshold("Sentiment below", self._sentiment_spin(-0.4))
        self.sentiment_above = _Threshold("Sentiment above", self._sentiment_spin(0.5))
        self.reply_to_us = _tri_state("A reply to one of our posts")
        self.has_link = _tri_state("Contains a link")
        self.on_watch_list = _tri_state("Author is on the watch list")

        outcome_box = QGroupBox("Then")
        then = QFormLayout(outcome_box)
        then.addRow("Outcome", self.outcome)
        then.addRow("Respond within", self.within)
        then.addRow("Reason", self.reason)
        then.addRow("Reminder", self.reminder)
        when_box = QGroupBox("When (all of these hold; leave a field empty for “any”)")
        when = QFormLayout(when_box)
        when.addRow("Words or phrases", self.words)
        when.addRow("Pattern", self.pattern)
        when.addRow("Networks", self._row(self.networks.values()))
        when.addRow("Author stance", self._row(self.stances.values()))
        when.addRow(self.min_followers)
        when.addRow(self.sentiment_below)
        when.addRow(self.sentiment_above)
        when.addRow("Reply to one of our posts", self.reply_to_us)
        when.addRow("Contains a link", self.has_link)
        when.addRow("Author on the watch list", self.on_watch_list)
        top = QFormLayout()
        top.addRow("Name", self.name)
        top.addRow("", self.enabled)
        top.addRow("Note", self.note)
        self.sentiment_hint = QLabel("Sentiment runs from -1 (very negative) to 1 (very positive).")
        self.sentiment_hint.setStyleSheet("color: gray")
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(when_box)
        layout.addWidget(self.sentiment_hint)
        layout.addWidget(outcome_box)
        layout.addStretch(1)

        self.fields: dict[str, QWidget] = {
            "name": self.name,
            "note": self.note,
            "enabled": self.enabled,
            "outcome": self.outcome,
            "respond_within_hours": self.within,
            "reason": self.reason,
            "reminder": self.reminder,
            "when.words": self.words,
            "when.pattern": self.pattern,
            "when.min_followers": self.min_followers,
            "when.sentiment_below": self.sentiment_below,
            "when.sentiment_above": self.sentiment_above,
            "when.reply_to_us": self.reply_to_us,
            "when.has_link": self.has_link,
            "when.on_watch_list": self.on_watch_list,
        }
        self._connect()
        self.set_rule(None)

    @staticmethod
    def _sentiment_spin(value: float) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(-1.0, 1.0)
        spin.setSingleStep(0.1)
        spin.setDecimals(3)
        spin.setValue(value)
        return spin

    @staticmethod
    def _row(boxes: object) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        for box in boxes:  # type: ignore[attr-defined]
            layout.addWidget(box)
        layout.addStretch(1)
        return row

    def _connect(self) -> None:
        fire: Callable[..., None] = lambda *_args: self._edited()  # noqa: E731
        for edit in (self.name, self.note, self.reason, self.pattern):
            edit.textChanged.connect(fire)
        for text in (self.reminder, self.words):
            text.textChanged.connect(fire)
        self.enabled.toggled.connect(fire)
        self.outcome.currentIndexChanged.connect(fire)
        self.within.valueChanged.connect(fire)
        for box in (*self.networks.values(), *self.stances.values()):
            box.toggled.connect(fire)
        for threshold in (self.min_followers, self.sentiment_below, self.sentiment_above):
            threshold.changed.connect(fire)
        for combo in (self.reply_to_us, self.has_link, self.on_watch_list):
            combo.currentIndexChanged.connect(fire)

    def _edited(self) -> None:
        outcome = Outcome(self.outcome.currentData())
        self.within.setEnabled(outcome.has_clock)
        if not self._loading:
            self.edited.emit()

    # -- in and out ----------------------------------------------------------------------------

    def set_rule(self, rule: Rule | None) -> None:
        """Show a rule (None: an empty, disabled form)."""
        self._loading = True
        try:
            self.setEnabled(rule is not None)
            rule = rule or Rule(name="")
            when = rule.when
            self.name.setText(rule.name)
            self.enabled.setChecked(rule.enabled)
            self.note.setText(rule.note)
            self.outcome.setCurrentIndex(self.outcome.findData(rule.outcome.value))
            self.within.setValue(rule.respond_within_hours or 0.0)
            self.within.setEnabled(rule.outcome.has_clock)
            self.reason.setText(rule.reason)
            self.reminder.setPlainText(rule.reminder)
            self.words.setPlainText("\n".join(when.words))
            self.pattern.setText(when.pattern)
            for network, box in self.networks.items():
                box.setChecked(network in when.networks)
            for stance, box in self.stances.items():
                box.setChecked(stance in when.stances)
            self.min_followers.set_value(when.min_followers)
            self.sentiment_below.set_value(when.sentiment_below)
            self.sentiment_above.set_value(when.sentiment_above)
            for combo, value in (
                (self.reply_to_us, when.reply_to_us),
                (self.has_link, when.has_link),
                (self.on_watch_list, when.on_watch_list),
            ):
                combo.setCurrentIndex(next(i for i, (_t, v) in enumerate(TRI_STATES) if v is value))
            self.show_problem(None)
        finally:
            self._loading = False

    def rule(self) -> Rule:
        outcome = Outcome(self.outcome.currentData())
        hours = self.within.value()
        followers = self.min_followers.value()
        return Rule(
            name=self.name.text().strip(),
            outcome=outcome,
            when=Conditions(
                words=split_words(self.words.toPlainText()),
                pattern=self.pattern.text().strip(),
                networks=tuple(n for n, box in self.networks.items() if box.isChecked()),
                stances=tuple(s for s, box in self.stances.items() if box.isChecked()),
                min_followers=None if followers is None else int(followers),
                sentiment_below=self.sentiment_below.value(),
                sentiment_above=self.sentiment_above.value(),
                reply_to_us=self.reply_to_us.currentData(),
                has_link=self.has_link.currentData(),
                on_watch_list=self.on_watch_list.currentData(),
            ),
            respond_within_hours=hours if outcome.has_clock and hours > 0 else None,
            reason=self.reason.text().strip(),
            reminder=self.reminder.toPlainText().strip(),
            note=self.note.text().strip(),
            enabled=self.enabled.isChecked(),
        )

    def show_problem(self, field: str | None) -> None:
        """Outline the field a problem is about (None: clear)."""
        for name, widget in self.fields.items():
            widget.setStyleSheet(PROBLEM_STYLE if name == field else "")


_OUTCOME_TEXT = {
    Outcome.RESPOND: "Respond",
    Outcome.LEAVE_ALONE: "Leave alone (the reason is recorded)",
    Outcome.ESCALATE: "Escalate: move to phone or email",
    Outcome.SPAM: "Mark as spam",
}
