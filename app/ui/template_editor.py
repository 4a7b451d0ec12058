"""The form for one template: title, short name, category and text, with a menu to insert
variables and fill-ins, warnings in plain words, and the reply as it would be inserted (a sample
person with the organisation's real values). ``TemplatesDialog`` holds the list and the actions."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.templates import (
    VARIABLES,
    person_values,
    placeholders,
    render,
    unfinished_fill_ins,
)
from app.ui.labels import plain_label

SAMPLE_PERSON = person_values("Rosa García", "@rosa")
SETTING_LABELS = {
    "org": "organisation name",
    "signature": "signature",
    "phone": "phone number",
    "email": "email address",
}
WARNING_STYLE = "color: #B45309"
PROBLEM_STYLE = "color: #B91C1C"


@dataclass(frozen=True, slots=True)
class Draft:
    name: str
    title: str
    category: str
    body: str


def warnings_for(body: str, organisation: dict[str, str]) -> list[str]:
    """What the officer should know about a template body, in plain words."""
    rendered = render(body, organisation)
    lines: list[str] = []
    for unknown in rendered.unknown:
        close = difflib.get_close_matches(unknown.replace(" ", "_"), list(VARIABLES), n=1)
        hint = f" Did you mean {{{close[0]}}}?" if close else ""
        lines.append(
            f"{{{unknown}}} is not a variable: it would block sending until removed.{hint}"
        )
    for name in rendered.unfilled:
        if name in SETTING_LABELS:
            lines.append(
                f"{{{name}}}: there is no {SETTING_LABELS[name]} in Settings yet, so it stays in "
                "the reply to be typed in by hand."
            )
    fill_ins = sorted(unfinished_fill_ins(body, body))
    if fill_ins:
        lines.append(
            f"Fill-in{'s' if len(fill_ins) > 1 else ''} {', '.join(fill_ins)}: to be replaced "
            "with your own words in every reply (sending waits until then)."
        )
    return lines


def variables_used(body: str) -> list[str]:
    """The known variables a body uses, in order of first use."""
    return list(dict.fromkeys(name for name in placeholders(body) if name in VARIABLES))


class TemplateEditor(QWidget):
    """The form for one template: fields, variable menu, warnings, live preview."""

    def __init__(self, organisation: dict[str, str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.organisation = organisation
        self.title = QLineEdit()
        self.title.setAccessibleName("Title")
        self.title.setPlaceholderText("What you pick it by, e.g. “Thanks for volunteering”")
        self.name = QLineEdit()
        self.name.setAccessibleName("Short name")
        self.category = QComboBox()
        self.category.setEditable(True)
        self.category.setAccessibleName("Category")
        self.body = QPlainTextEdit()
        self.body.setAccessibleName("Reply text")
        self.body.setPlaceholderText(
            "Hi {first_name}, thank you for … {signature}\n\n"
            "Use “Insert variable” for names and your details; [square brackets] mark a "
            "fill-in to replace in each reply."
        )
        self.insert = QToolButton()
        self.insert.setText("Insert variable")
        self.insert.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.insert.setToolTip("Put a variable where the cursor is in the reply text")
        menu = QMenu(self.insert)
        for name, meaning in VARIABLES.items():
            action = menu.addAction(f"{{{name}}}  —  {meaning}")
            action.triggered.connect(lambda _=False, n=name: self.insert_text("{" + n + "}"))
        menu.addSeparator()
        fill_in = menu.addAction("[fill-in]  —  words to replace in each reply")
        fill_in.triggered.connect(lambda: self.insert_text("[fill-in]", select=True))
        self.insert.setMenu(menu)
        self.used = plain_label()
        self.warnings = plain_label(style=WARNING_STYLE, name="Template warnings")
        self.preview = QPlainTextEdit()
        self.preview.setReadOnly(True)
        self.preview.setAccessibleName("Preview")
        self.preview.setMaximumHeight(110)

        form = QFormLayout()
        form.addRow("&Title", self.title)
        form.addRow("Short &name", self.name)
        form.addRow("&Category", self.category)
        body_row = QHBoxLayout()
        body_row.addWidget(QLabel("Reply text"))
        body_row.addStretch(1)
        body_row.addWidget(self.insert)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addLayout(body_row)
        layout.addWidget(self.body, 2)
        layout.addWidget(self.used)
        layout.addWidget(self.warnings)
        layout.addWidget(QLabel("Preview (to a sample person, Rosa García @rosa):"))
        layout.addWidget(self.preview, 1)
        self.body.textChanged.connect(self.refresh)

    def set_categories(self, categories: list[str]) -> None:
        current = self.category.currentText()
        self.category.blockSignals(True)
        self.category.clear()
        self.category.addItems(categories)
        self.category.setCurrentText(current)
        self.category.blockSignals(False)

    def load(self, draft: Draft, name_editable: bool) -> None:
        self.title.setText(draft.title)
        self.name.setText(draft.name)
        self.name.setReadOnly(not name_editable)
        self.name.setToolTip(
            "Type it in the template list's filter to find this template quickly."
            if name_editable
            else "A saved template keeps its short name: replies sent from it are recorded "
            "under it."
        )
        self.category.setCurrentText(draft.category)
        self.body.setPlainText(draft.body)
        self.refresh()

    def draft(self) -> Draft:
        return Draft(
            self.name.text().strip(),
            self.title.text().strip(),
            self.category.currentText().strip(),
            self.body.toPlainText(),
        )

    def insert_text(self, text: str, select: bool = False) -> None:
        cursor = self.body.textCursor()
        cursor.insertText(text)
        if select:
            cursor.movePosition(
                QTextCursor.MoveOperation.Left, QTextCursor.MoveMode.KeepAnchor, len(text)
            )
        self.body.setTextCursor(cursor)
        self.body.setFocus()

    def refresh(self) -> None:
        body = self.body.toPlainText()
        used = variables_used(body)
        self.used.setText(
            "Variables used: " + ", ".join("{" + n + "}" for n in used)
            if used
            else "No variables used: every reply from it reads the same."
        )
        warnings = warnings_for(body, self.organisation)
        self.warnings.setText("\n".join(warnings))
        self.warnings.setVisible(bool(warnings))
        values = {**SAMPLE_PERSON, **self.organisation}
        self.preview.setPlainText(render(body, values).text)
