"""Link people: the same supporter or critic on two networks, as one person with one history.

Kindly suggests (same display name, a profile pointing at the other account) and the officer
decides: "Link" or "Not the same person". Nothing is ever linked without that click. With a
person given, the dialog also finds their other account by name or handle.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.context import own_connection
from app.core.listening.linking import Identity, LinkError, LinkSuggestion
from app.core.listening.service import ListeningService
from app.ui.labels import plain_label
from app.ui.tasks import Runner

DataRole = Qt.ItemDataRole.UserRole


def suggestion_text(suggestion: LinkSuggestion) -> str:
    reasons = "; ".join(suggestion.reasons)
    return f"{suggestion.first.label}\n  and {suggestion.second.label}\n  {reasons}"


class LinkPeopleDialog(QDialog):
    linked = Signal(int)  # a person id whose group changed

    def __init__(
        self,
        service: ListeningService,
        runner: Runner,
        person: Identity | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("LinkPeopleDialog")
        self.setWindowTitle("Link people across networks")
        self.service, self.runner, self.person = service, runner, person
        who = f" for {person.label}" if person else ""
        self.suggestion_list = QListWidget()
        self.suggestion_list.setAccessibleName("Suggested links")
        self.suggestion_list.setWordWrap(True)
        # Each suggestion is three lines: bands and a gap show where one ends and the next begins.
        self.suggestion_list.setAlternatingRowColors(True)
        self.suggestion_list.setSpacing(2)
        self.suggestion_list.currentItemChanged.connect(lambda *_a: self._update_buttons())
        self.link_button = QPushButton("Link these two")
        self.link_button.clicked.connect(self.link_suggested)
        self.dismiss_button = QPushButton("Not the same person")
        self.dismiss_button.clicked.connect(self.dismiss_suggested)
        self.find_edit = QLineEdit()
        self.find_edit.setPlaceholderText("Their name or handle on the other network…")
        self.find_edit.setAccessibleName("Find their other account")
        self.find_timer = QTimer(self, singleShot=True, interval=250)
        self.find_timer.timeout.connect(self.find)
        self.find_edit.textChanged.connect(lambda _t: self.find_timer.start())
        self.found_list = QListWidget()
        self.found_list.setAccessibleName("People found")
        self.found_list.currentItemChanged.connect(lambda *_a: self._update_buttons())
        self.link_found_button = QPushButton("Link to this account")
        self.link_found_button.clicked.connect(self.link_found)
        self.message = plain_label()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)

        suggested_row = QHBoxLayout()
        suggested_row.addStretch(1)
        suggested_row.addWidget(self.dismiss_button)
        suggested_row.addWidget(self.link_button)
        found_row = QHBoxLayout()
        found_row.addStretch(1)
        found_row.addWidget(self.link_found_button)
        layout = QVBoxLayout(self)
        layout.addWidget(
            plain_label(
                f"Suggestions{who}: Kindly never links people by itself. Linked people share "
                "one history, and the policy counts your replies to them together; unlinking "
                "gives both back as they were."
            )
        )
        layout.addWidget(self.suggestion_list, 2)
        layout.addLayout(suggested_row)
        for widget in (self.find_edit, self.found_list):
            widget.setVisible(person is not None)
        self.link_found_button.setVisible(person is not None)
        if person is not None:
            layout.addWidget(plain_label(f"Or find {person.label} on another network:"))
        layout.addWidget(self.find_edit)
        layout.addWidget(self.found_list, 1)
        layout.addLayout(found_row)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.resize(620, 520)
        self._update_buttons()
        self.load_suggestions()

    # -- suggestions (compared over many people: off the UI thread) --

    def load_suggestions(self) -> None:
        person_id = self.person.person_id if self.person else None
        self.message.setText("Looking for likely links…")
        self.runner.run(
            own_connection(lambda: self.service.suggestions(person_id)),
            self._show_suggestions,
            lambda error: self.message.setText(f"Could not look for links ({error})."),
        )

    def _show_suggestions(self, suggestions: list[LinkSuggestion]) -> None:
        self.suggestion_list.clear()
        for suggestion in suggestions:
            item = QListWidgetItem(suggestion_text(suggestion))
            item.setData(DataRole, suggestion.pair)
            self.suggestion_list.addItem(item)
        self.message.setText("" if suggestions else "No likely links found.")
        self._update_buttons()

    def _pair(self) -> tuple[int, int] | None:
        item = self.suggestion_list.currentItem()
        return tuple(item.data(DataRole)) if item is not None else None  # type: ignore[return-value]

    def link_suggested(self) -> None:
        pair = self._pair()
        if pair is not None and self._link(*pair):
            self._take(self.suggestion_list)

    def dismiss_suggested(self) -> None:
        pair = self._pair()
        if pair is not None:
            self.service.dismiss(*pair)
            self._take(self.suggestion_list)
            self.message.setText("Noted: Kindly will not suggest these two again.")

    # -- by hand --

    def find(self) -> None:
        self.found_list.clear()
        if self.person is None:
            return
        for identity in self.service.find_people(self.find_edit.text(), self.person.person_id):
            item = QListWidgetItem(identity.label)
            item.setData(DataRole, identity.person_id)
            self.found_list.addItem(item)
        self._update_buttons()

    def link_found(self) -> None:
        item = self.found_list.currentItem()
        if item is None or self.person is None:
            return
        if self._link(self.person.person_id, int(item.data(DataRole))):
            self._take(self.found_list)

    # -- common --

    def _link(self, first: int, second: int) -> bool:
        try:
            self.service.link(first, second)
        except LinkError as refused:
            self.message.setText(refused.user_message)
            return False
        self.message.setText("Linked: one history across their accounts.")
        self.linked.emit(first)
        return True

    def _take(self, widget: QListWidget) -> None:
        widget.takeItem(widget.currentRow())
        self._update_buttons()

    def _update_buttons(self) -> None:
        chosen = self.suggestion_list.currentItem() is not None
        self.link_button.setEnabled(chosen)
        self.dismiss_button.setEnabled(chosen)
        self.link_found_button.setEnabled(self.found_list.currentItem() is not None)
