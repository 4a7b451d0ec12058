"""Saved searches and feeds: what Kindly listens for beyond @-mentions.

Searches belong to an account (its network runs them); feeds to no one. Whatever reaches a
network (X's cost estimate, asking a Mastodon server whether it can search words) runs on the
TaskRunner's pool. An X search is added switched off: its estimated monthly reads are shown, and
it is switched on only after the officer confirms them (X bills every post read).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.context import own_connection
from app.core.listening.service import (
    ListeningError,
    ListeningService,
    SearchKind,
    describe_estimate,
)
from app.core.listening.store import FeedView, SearchView
from app.core.networks.errors import NetworkError
from app.core.vocab import Network
from app.ui.dialogs import Asker
from app.ui.labels import plain_label
from app.ui.tasks import Runner

log = logging.getLogger(__name__)

IdRole = Qt.ItemDataRole.UserRole


def search_line(view: SearchView) -> str:
    state = "on" if view.enabled else "off"
    bits = [f"{view.label} ({view.kind.label.lower()}, {state})"]
    if view.billed:
        bits.append(describe_estimate(view.estimated_reads))
    if view.last_error:
        bits.append(f"Last run: {view.last_error}")
    return "\n".join(bits)


def feed_line(view: FeedView) -> str:
    state = "on" if view.enabled else "off"
    line = f"{view.title or view.url} ({state})\n{view.url}"
    return line + (f"\nLast read: {view.last_error}" if view.last_error else "")


class ListeningDialog(QDialog):
    changed = Signal()

    def __init__(
        self,
        service: ListeningService,
        runner: Runner,
        asker: Asker,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("ListeningDialog")
        self.setWindowTitle("Saved searches and feeds")
        self.service, self.runner, self.asker = service, runner, asker
        self.busy = False
        intro = plain_label(
            "People talk about you without tagging you. Saved searches and feeds bring what "
            "they find into the inbox, marked as not addressed to you."
        )
        self.error = plain_label(style="color: #B91C1C")
        self.error.setVisible(False)
        self.status = plain_label(style="color: palette(placeholder-text)")
        self.tabs = QTabWidget()
        self.tabs.addTab(self._searches_tab(), "Saved searches")
        self.tabs.addTab(self._feeds_tab(), "Feeds")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.error)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.resize(640, 520)
        self.reload()

    # -- building --

    def _searches_tab(self) -> QWidget:
        self.search_list = QListWidget()
        self.search_list.setAccessibleName("Saved searches")
        self.search_list.setWordWrap(True)
        self.search_list.currentItemChanged.connect(lambda *_a: self._update_buttons())
        self.account_combo = QComboBox()
        self.account_combo.setAccessibleName("Account")
        self.account_combo.currentIndexChanged.connect(self._account_chosen)
        self.kind_combo = QComboBox()
        self.kind_combo.setAccessibleName("Search by")
        self.query_edit = QLineEdit()
        self.query_edit.setPlaceholderText("Your organisation's name, a campaign #hashtag…")
        self.query_edit.setAccessibleName("Search for")
        self.query_edit.returnPressed.connect(self.add_search)
        self.add_search_button = QPushButton("Add search")
        self.add_search_button.clicked.connect(self.add_search)
        self.toggle_search_button = QPushButton("Switch on")
        self.toggle_search_button.clicked.connect(self.toggle_search)
        self.edit_search_button = QPushButton("Change words…")
        self.edit_search_button.clicked.connect(self.edit_search)
        self.remove_search_button = QPushButton("Remove")
        self.remove_search_button.clicked.connect(self.remove_search)
        form = QFormLayout()
        form.addRow("Account", self.account_combo)
        form.addRow("Search by", self.kind_combo)
        form.addRow("Search for", self.query_edit)
        row = QHBoxLayout()
        for button in (
            self.toggle_search_button,
            self.edit_search_button,
            self.remove_search_button,
        ):
            row.addWidget(button)
        row.addStretch(1)
        row.addWidget(self.add_search_button)
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.addWidget(self.search_list, 1)
        layout.addLayout(form)
        layout.addLayout(row)
        return tab

    def _feeds_tab(self) -> QWidget:
        self.feed_list = QListWidget()
        self.feed_list.setAccessibleName("Feeds")
        self.feed_list.setWordWrap(True)
        self.feed_list.currentItemChanged.connect(lambda *_a: self._update_buttons())
        self.url_edit = QLineEdit()
        self.url_edit.setPlaceholderText("https://www.google.com/alerts/feeds/… or a news RSS feed")
        self.url_edit.setAccessibleName("Feed address")
        self.url_edit.returnPressed.connect(self.add_feed)
        self.title_edit = QLineEdit()
        self.title_edit.setPlaceholderText("Optional: a name for it")
        self.title_edit.setAccessibleName("Feed name")
        self.add_feed_button = QPushButton("Add feed")
        self.add_feed_button.clicked.connect(self.add_feed)
        self.toggle_feed_button = QPushButton("Switch off")
        self.toggle_feed_button.clicked.connect(self.toggle_feed)
        self.remove_feed_button = QPushButton("Remove")
        self.remove_feed_button.clicked.connect(self.remove_feed)
        form = QFormLayout()
        form.addRow("Address", self.url_edit)
        form.addRow("Name", self.title_edit)
        row = QHBoxLayout()
        row.addWidget(self.toggle_feed_button)
        row.addWidget(self.remove_feed_button)
        row.addStretch(1)
        row.addWidget(self.add_feed_button)
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.addWidget(
            plain_label(
                "Items from feeds (Google Alerts, news searches) are read only: they cannot be "
                "replied to, but are triaged like any mention."
            )
        )
        layout.addWidget(self.feed_list, 1)
        layout.addLayout(form)
        layout.addLayout(row)
        return tab

    # -- showing --

    def reload(self) -> None:
        chosen = self.account_combo.currentData()
        self.account_combo.blockSignals(True)
        self.account_combo.clear()
        self._kinds: dict[int, tuple[SearchKind, ...]] = {}
        for entry in self.service.search_accounts():
            self.account_combo.addItem(entry.account.label, entry.account.id)
            self._kinds[entry.account.id] = entry.kinds
        index = self.account_combo.findData(chosen)
        self.account_combo.setCurrentIndex(max(0, index))
        self.account_combo.blockSignals(False)
        self._account_chosen()
        self._fill(self.search_list, [(s.id, search_line(s)) for s in self.service.searches()])
        self._fill(self.feed_list, [(f.id, feed_line(f)) for f in self.service.feeds()])
        if not self._kinds:
            self.status.setText("Connect a Mastodon, Bluesky or X account to add searches.")
        self._update_buttons()

    def _fill(self, widget: QListWidget, rows: list[tuple[int, str]]) -> None:
        current = widget.currentItem().data(IdRole) if widget.currentItem() else None
        widget.clear()
        for row_id, text in rows:
            item = QListWidgetItem(text)
            item.setData(IdRole, row_id)
            widget.addItem(item)
            if row_id == current:
                widget.setCurrentItem(item)

    def _account_chosen(self) -> None:
        self.kind_combo.clear()
        for kind in self._kinds.get(self.account_combo.currentData(), ()):
            self.kind_combo.addItem(kind.label, kind.value)

    def _selected(self, widget: QListWidget) -> int | None:
        item = widget.currentItem()
        return int(item.data(IdRole)) if item is not None else None

    def selected_search(self) -> SearchView | None:
        chosen = self._selected(self.search_list)
        return next((s for s in self.service.searches() if s.id == chosen), None)

    def selected_feed(self) -> FeedView | None:
        chosen = self._selected(self.feed_list)
        return next((f for f in self.service.feeds() if f.id == chosen), None)

    def _update_buttons(self) -> None:
        search, feed = self.selected_search(), self.selected_feed()
        idle = not self.busy
        self.add_search_button.setEnabled(idle and bool(self._kinds))
        self.add_feed_button.setEnabled(idle)
        for button in (self.edit_search_button, self.remove_search_button):
            button.setEnabled(idle and search is not None)
        self.toggle_search_button.setEnabled(idle and search is not None)
        self.toggle_search_button.setText(
            "Switch off" if search and search.enabled else "Switch on"
        )
        self.toggle_feed_button.setEnabled(idle and feed is not None)
        self.toggle_feed_button.setText("Switch on" if feed and not feed.enabled else "Switch off")
        self.remove_feed_button.setEnabled(idle and feed is not None)

    def _show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))

    def _apply(self, change: Callable[[], object], done: str = "") -> bool:
        """Run a quick database change; a refusal is shown, not raised."""
        try:
            change()
        except ListeningError as refused:
            self._show_error(refused.user_message)
            return False
        self._show_error("")
        self.status.setText(done)
        self.reload()
        self.changed.emit()
        return True

    def _background(self, job: Callable[[], Any], done: Callable[[Any], None], what: str) -> None:
        self.busy = True
        self.status.setText(what)
        self._update_buttons()

        def finished(result: Any) -> None:
            self.busy = False
            done(result)
            self._update_buttons()

        def failed(error: BaseException) -> None:
            self.busy = False
            message = getattr(error, "user_message", "") or f"That did not work ({error})."
            if not isinstance(error, (NetworkError, ListeningError)):
                log.warning("listening dialog: %r", error)
            self._show_error(message)
            self.status.setText("")
            self._update_buttons()

        self.runner.run(own_connection(job), finished, failed)

    # -- searches --

    def add_search(self) -> None:
        account_id, kind = self.account_combo.currentData(), self.kind_combo.currentData()
        query = self.query_edit.text()
        if account_id is None or kind is None or self.busy:
            return
        account = next(
            a.account for a in self.service.search_accounts() if a.account.id == account_id
        )
        if account.network is Network.MASTODON and kind == SearchKind.KEYWORDS.value:
            self._background(
                lambda: self.service.full_text_search(account_id),
                lambda able: self._add_mastodon_words(account_id, query, able),
                f"Asking {account.label} whether it can search words…",
            )
            return
        self._add(account_id, kind, query)

    def _add_mastodon_words(self, account_id: int, query: str, able: bool | None) -> None:
        if able is False:
            self._show_error(
                "This Mastodon server has no full-text search, so a search for words would "
                "find nothing. Search for a #hashtag instead."
            )
            self.status.setText("")
            return
        note = "" if able else " Your server does not say whether it can search words."
        self._add(account_id, SearchKind.KEYWORDS.value, query, note)

    def _add(self, account_id: int, kind: str, query: str, note: str = "") -> None:
        added: list[SearchView] = []
        if not self._apply(lambda: added.append(self.service.add_search(account_id, kind, query))):
            return
        self.query_edit.clear()
        view = added[0]
        self._select(self.search_list, view.id)
        if view.billed:
            self.status.setText("X bills every post read: estimating this search's cost…")
            self.estimate(view.id)
        else:
            self.status.setText(f"Added {view.spec.label}.{note}")

    def estimate(self, search_id: int) -> None:
        self._background(
            lambda: self.service.estimate(search_id),
            self._estimated,
            "Estimating what this search would read on X…",
        )

    def _estimated(self, view: SearchView) -> None:
        self.reload()
        self.status.setText(
            describe_estimate(view.estimated_reads) + " It is off until you switch it on."
        )

    def toggle_search(self) -> None:
        view = self.selected_search()
        if view is None:
            return
        if view.enabled:
            self._apply(lambda: self.service.set_search_enabled(view.id, False), "Switched off.")
            return
        if view.billed:
            if view.estimated_reads is None:
                self.estimate(view.id)
                return
            question = (
                f"{describe_estimate(view.estimated_reads)}\n\nSwitch on {view.spec.label} on "
                f"{view.account_label}?"
            )
            if not self.asker.confirm("Switch on an X search", question):
                return
        self._apply(
            lambda: self.service.set_search_enabled(view.id, True, cost_acknowledged=True),
            "Switched on: the next sync reads it.",
        )

    def edit_search(self) -> None:
        view = self.selected_search()
        if view is None:
            return
        text = self.asker.ask_reason(
            "Change the search", f"Search {view.account_label} for:", [view.query]
        )
        if text:
            self._apply(lambda: self.service.edit_search(view.id, text), "Changed.")

    def remove_search(self) -> None:
        view = self.selected_search()
        if view is not None and self.asker.confirm(
            "Remove the search",
            f"Stop searching {view.label}? What it found stays in the inbox.",
        ):
            self._apply(lambda: self.service.remove_search(view.id), "Removed.")

    # -- feeds --

    def add_feed(self) -> None:
        if self.busy:
            return
        url, title = self.url_edit.text(), self.title_edit.text()
        if self._apply(lambda: self.service.add_feed(url, title), "Added: the next sync reads it."):
            self.url_edit.clear()
            self.title_edit.clear()

    def toggle_feed(self) -> None:
        feed = self.selected_feed()
        if feed is not None:
            self._apply(lambda: self.service.set_feed_enabled(feed.id, not feed.enabled))

    def remove_feed(self) -> None:
        feed = self.selected_feed()
        if feed is not None and self.asker.confirm(
            "Remove the feed", f"Stop reading {feed.url}? What it brought in stays in the inbox."
        ):
            self._apply(lambda: self.service.remove_feed(feed.id), "Removed.")

    @staticmethod
    def _select(widget: QListWidget, row_id: int) -> None:
        for row in range(widget.count()):
            if widget.item(row).data(IdRole) == row_id:
                widget.setCurrentRow(row)
                return
