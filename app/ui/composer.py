"""Write a reply: templates with variables filled, what still needs filling, then Send.

The composer only composes. It emits ``send_requested`` and the window hands the text to the
outbox in core; nothing here talks to a network. Reminders from the policy appear above the
text (``set_reminders``) and never block, except an unfilled variable, which does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.templates import TemplateView, placeholders, render, unfinished_fill_ins
from app.ui.template_picker import TemplatePicker


@dataclass(frozen=True)
class ReminderView:
    """What the composer shows for one reminder; ``fix`` runs the one-click fix, if any."""

    message: str
    severity: str = "info"  # info, warning, blocking
    fix_label: str = ""
    fix: Callable[[], None] | None = None


class Composer(QWidget):
    send_requested = Signal(str, str)  # text, template name ("" when none)
    text_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.values: dict[str, str] = {}
        self.templates: dict[str, TemplateView] = {}
        self.template_name = ""
        self.extra_blockers: list[str] = []
        self.reply_blocker: str | None = None  # set when no reply is possible (a web feed item)
        self._picker: TemplatePicker | None = None  # built when first opened (start-up)

        self.reminders = QVBoxLayout()
        self.reminders.setSpacing(2)
        self.audience = QLabel()  # who a reply would reach, when it is not who wrote to us
        self.audience.setTextFormat(Qt.TextFormat.PlainText)
        self.audience.setWordWrap(True)
        self.audience.setStyleSheet("color: #B45309")
        self.audience.setVisible(False)
        self.edit = QPlainTextEdit()
        self.edit.setAccessibleName("Reply")
        self.edit.setPlaceholderText(
            "Write a reply… Type / or press Ctrl+K for a template. Ctrl+Enter sends."
        )
        self.edit.textChanged.connect(self._changed)
        self.problems = QLabel()
        self.problems.setTextFormat(Qt.TextFormat.PlainText)
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet("color: #B91C1C")
        self.counter = QLabel()
        self.templates_button = QPushButton("Templates…")
        self.templates_button.setToolTip("Insert a canned reply (Ctrl+K)")
        self.templates_button.clicked.connect(self.open_picker)
        self.send_button = QPushButton("Send")
        self.send_button.setToolTip("Queue this reply for sending (Ctrl+Enter)")
        self.send_button.setDefault(True)
        self.send_button.clicked.connect(self.send)
        self.length_counter: Callable[[str], tuple[int, int]] | None = None

        buttons = QHBoxLayout()
        buttons.addWidget(self.templates_button)
        buttons.addWidget(self.counter)
        buttons.addStretch(1)
        buttons.addWidget(self.send_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.audience)
        layout.addLayout(self.reminders)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.problems)
        layout.addLayout(buttons)

        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self.edit)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(self.send)
        picker_key = QShortcut(QKeySequence("Ctrl+K"), self)
        picker_key.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        picker_key.activated.connect(self.open_picker)
        self._changed()

    # -- setup from the window ------------------------------------------------------------------

    def set_templates(self, templates: Sequence[TemplateView]) -> None:
        self.templates = {t.name: t for t in templates}
        if self._picker is not None:
            self._picker.set_templates(list(templates))

    @property
    def picker(self) -> TemplatePicker:
        """The template picker (a popup with its own list): made the first time it opens."""
        if self._picker is None:
            self._picker = TemplatePicker(self)
            self._picker.picked.connect(self.insert_template)
            self._picker.set_templates(list(self.templates.values()))
        return self._picker

    def set_values(self, values: dict[str, str]) -> None:
        """Variable values for the case on screen (their name, our signature…)."""
        self.values = dict(values)

    def set_audience(self, *, can_reply: bool = True, addressed_to_us: bool = True) -> None:
        """Say when a reply would reach someone who did not write to us, or cannot be sent."""
        if not can_reply:
            text = (
                "This came from a web feed: there is no one to reply to on a network, so "
                "Kindly cannot send a reply. Open the article to respond there."
            )
        elif not addressed_to_us:
            text = "This person did not tag you: a reply will reach someone who didn't address you."
        else:
            text = ""
        self.reply_blocker = None if can_reply else text
        self.audience.setText(text)
        self.audience.setVisible(bool(text))
        self.edit.setReadOnly(not can_reply)
        self.templates_button.setEnabled(can_reply)
        self._update_state()

    def reset(self) -> None:
        self.template_name = ""
        self.edit.clear()
        self.set_reminders([])

    def text(self) -> str:
        return self.edit.toPlainText()

    # -- templates -----------------------------------------------------------------------------

    def open_picker(self) -> None:
        self.picker.popup_at(self.edit)

    def insert_template(self, name: str) -> None:
        template = self.templates.get(name)
        if template is None:
            return
        rendered = render(template.body, self.values)
        self.template_name = name
        if self.edit.toPlainText().strip():
            self.edit.insertPlainText(rendered.text)
        else:
            self.edit.setPlainText(rendered.text)
        self.edit.setFocus()
        self._changed()

    # -- checks --------------------------------------------------------------------------------

    def blocking_problems(self) -> list[str]:
        text = self.edit.toPlainText()
        problems: list[str] = []
        if not text.strip():
            return ["empty"]
        left = placeholders(text)
        if left:
            hints = {
                "phone": "Settings → Phone",
                "email": "Settings → Email",
                "org": "Settings → Organisation",
                "signature": "Settings → Signature",
                "first_name": "their display name has no first name",
            }
            details = [f"{{{n}}}" + (f" ({hints[n]})" if n in hints else "") for n in left]
            problems.append("Fill in or remove " + ", ".join(details) + ".")
        template = self.templates.get(self.template_name)
        if template is not None:
            unfinished = unfinished_fill_ins(template.body, text)
            if unfinished:
                problems.append("Replace " + ", ".join(sorted(unfinished)) + " with your words.")
        problems.extend(self.extra_blockers)
        return problems

    def set_reminders(self, reminders: Sequence[ReminderView]) -> None:
        while self.reminders.count():
            item = self.reminders.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()  # gone now, not when the event loop gets to deleting it
                widget.deleteLater()
        self.extra_blockers = [r.message for r in reminders if r.severity == "blocking"]
        for reminder in reminders:
            self.reminders.addWidget(self._reminder_row(reminder))
        self._fit_reminders()
        self._update_state()

    def _fit_reminders(self) -> None:
        """Each reminder row keeps the height its wrapped text needs: the splitter above takes
        the room from the thread, instead of squeezing the lines on top of each other."""
        width = self.width()
        for i in range(self.reminders.count()):
            item = self.reminders.itemAt(i)
            row = item.widget() if item is not None else None
            if row is not None and row.hasHeightForWidth():
                row.setMinimumHeight(row.heightForWidth(width))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._fit_reminders()

    def _reminder_row(self, reminder: ReminderView) -> QWidget:
        row = QWidget()
        colours = {"info": "#1D4ED8", "warning": "#B45309", "blocking": "#B91C1C"}
        label = QLabel(reminder.message)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setWordWrap(True)
        label.setStyleSheet(f"color: {colours.get(reminder.severity, '#1D4ED8')}")
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(label, 1)
        if reminder.fix is not None:
            button = QPushButton(reminder.fix_label or "Fix")
            button.clicked.connect(reminder.fix)
            layout.addWidget(button)
        return row

    def _changed(self) -> None:
        text = self.edit.toPlainText()
        if text == "/":
            self.edit.clear()
            self.open_picker()
            return
        self._update_state()
        self.text_changed.emit(text)

    def _update_state(self) -> None:
        text = self.edit.toPlainText()
        problems = [p for p in self.blocking_problems() if p != "empty"]
        self.problems.setText(" ".join(problems))
        self.problems.setVisible(bool(problems))
        self.send_button.setEnabled(
            bool(text.strip()) and not problems and self.reply_blocker is None
        )
        if self.length_counter is not None:
            used, limit = self.length_counter(text)
            self.counter.setText(f"{used} / {limit}")
            self.counter.setStyleSheet("color: #B91C1C" if used > limit else "")
        else:
            self.counter.setText(f"{len(text)} characters")

    def send(self) -> None:
        if not self.send_button.isEnabled():
            return
        self.send_requested.emit(self.edit.toPlainText().strip(), self.template_name)
