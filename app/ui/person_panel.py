"""Who this is: stance, reach, private notes, their other cases with us, and the same person
on other networks once the officer linked them (one history across networks)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.inbox import PersonDetail
from app.core.listening.linking import Identity
from app.ui.case_list_model import ago
from app.ui.style import STANCE_LABELS, followers_text


class PersonPanel(QWidget):
    stance_changed = Signal(int, str)  # person id, stance value
    note_added = Signal(int, str)  # person id, text
    case_activated = Signal(int)  # case id
    link_requested = Signal(int)  # person id: link them to their account on another network
    unlink_requested = Signal(int)  # person id of a linked account to take out of the group
    forget_requested = Signal(int)  # person id: delete everything about them (asks first)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.person_id: int | None = None
        self.name = QLabel()
        self.name.setTextFormat(Qt.TextFormat.PlainText)
        self.name.setStyleSheet("font-weight: bold; font-size: 12pt")
        self.name.setWordWrap(True)
        self.details = QLabel()
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.setWordWrap(True)
        self.stance = QComboBox()
        self.stance.setAccessibleName("Stance")
        for value, label in STANCE_LABELS.items():
            self.stance.addItem(label, value)
        self.stance.activated.connect(self._stance_picked)
        self.notes = QListWidget()
        self.notes.setAccessibleName("Notes about this person")
        self.notes.setWordWrap(True)
        self.note_edit = QLineEdit()
        self.note_edit.setPlaceholderText("Add a private note about this person…")
        self.note_edit.returnPressed.connect(self._add_note)
        add = QPushButton("Add note")
        add.clicked.connect(self._add_note)
        self.linked = QVBoxLayout()  # one row per linked account, with its Unlink button
        self.linked.setSpacing(2)
        self.link_button = QPushButton("Link to another account…")
        self.link_button.setToolTip("The same person on another network: one history")
        self.link_button.clicked.connect(self._link)
        self.history = QListWidget()
        self.history.setAccessibleName("Their cases")
        # One line a case, cut to the panel's width (the whole line in its tooltip), instead of
        # a sideways scrollbar under a narrow panel.
        self.history.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.history.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.history.itemActivated.connect(self._open_case)
        self.forget_button = QPushButton("Delete everything about this person…")
        self.forget_button.setToolTip(
            "Their messages, cases, our replies to them and the notes about them, in one step"
        )
        self.forget_button.clicked.connect(self._forget)

        form = QFormLayout()
        form.addRow("Stance", self.stance)
        note_row = QHBoxLayout()
        note_row.addWidget(self.note_edit)
        note_row.addWidget(add)
        layout = QVBoxLayout(self)
        layout.addWidget(self.name)
        layout.addWidget(self.details)
        layout.addLayout(form)
        layout.addLayout(self.linked)
        layout.addWidget(self.link_button)
        layout.addWidget(QLabel("Notes"))
        layout.addWidget(self.notes, 1)
        layout.addLayout(note_row)
        layout.addWidget(QLabel("Cases with us"))
        layout.addWidget(self.history, 1)
        layout.addWidget(self.forget_button)
        self.show_person(None)

    def show_person(self, person: PersonDetail | None) -> None:
        self.person_id = person.id if person else None
        self.setEnabled(person is not None)
        self.notes.clear()
        self.history.clear()
        self._show_linked(person.linked if person else ())
        if person is None:
            self.name.setText("")
            self.details.setText("")
            self.stance.setCurrentIndex(-1)  # nobody's stance (was: the first, "Supporter")
            return
        self.name.setText(person.display_name or person.handle or "Someone")
        self.link_button.setVisible(person.network.can_reply)  # not a web site's articles
        bits = [person.network.label, person.handle, followers_text(person.follower_count)]
        self.details.setText(" · ".join(b for b in bits if b))
        self.stance.setCurrentIndex(max(0, self.stance.findData(person.stance)))
        for note in person.notes:
            self.notes.addItem(f"{note.at.astimezone():%d %b %Y} — {note.text}")
        for case in person.cases:
            where = f"{case.network.label} · " if case.network else ""
            item = QListWidgetItem(
                f"{where}{case.status.replace('_', ' ')} · {ago(case.last_activity_at)} · "
                f"{case.snippet}"
            )
            item.setToolTip(item.text())
            item.setData(Qt.ItemDataRole.UserRole, case.id)
            self.history.addItem(item)

    def _show_linked(self, linked: Sequence[Identity]) -> None:
        while self.linked.count():
            item = self.linked.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        for identity in linked:
            row = QWidget()
            label = QLabel(f"Also: {identity.label}")
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setWordWrap(True)
            unlink = QPushButton("Unlink")
            unlink.setToolTip(f"{identity.label} is someone else: keep their histories apart")
            unlink.clicked.connect(
                lambda _checked=False, pid=identity.person_id: self.unlink_requested.emit(pid)
            )
            row_layout = QHBoxLayout(row)
            row_layout.setContentsMargins(0, 0, 0, 0)
            row_layout.addWidget(label, 1)
            row_layout.addWidget(unlink)
            self.linked.addWidget(row)

    def _link(self) -> None:
        if self.person_id is not None:
            self.link_requested.emit(self.person_id)

    def _stance_picked(self, index: int) -> None:
        if self.person_id is not None:
            self.stance_changed.emit(self.person_id, self.stance.itemData(index))

    def _add_note(self) -> None:
        text = self.note_edit.text().strip()
        if text and self.person_id is not None:
            self.note_added.emit(self.person_id, text)
            self.note_edit.clear()

    def _forget(self) -> None:
        if self.person_id is not None:
            self.forget_requested.emit(self.person_id)

    def _open_case(self, item: QListWidgetItem) -> None:
        self.case_activated.emit(int(item.data(Qt.ItemDataRole.UserRole)))
