"""The middle column's behaviour: which view or search the list shows, paging, the selection.

Made with the window's frame (no database needed until the inbox is attached: a view chosen or
a search typed before that is remembered, and ``load_current`` shows it). The window owns the
widgets (``sidebar``, ``search``, ``list``, ``empty``) and the model; this helper decides what
they show and tells the window which case is current (``show_case``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QObject, QTimer, Signal
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import QLabel, QLineEdit, QListView, QWidget

from app.core.views import InboxView
from app.core.vocab import Network
from app.ui.sidebar import Sidebar

if TYPE_CHECKING:  # imported once the inbox is attached (start-up)
    from app.core.context import AppContext
    from app.core.inbox import CaseDetail, CaseOrder, CaseQuery
    from app.ui.case_list_model import CaseListModel

SEARCH_DELAY_MS = 250


class CaseListView(QListView):
    """The list of cases; ``painted`` after each paint (start-up's "first page" marker).

    A paint override rather than an event filter on ``viewport()``: the first call of
    ``viewport()`` from Python costs 7–14 ms (PySide6 sets up the wrapper's type)."""

    painted = Signal()

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        self.painted.emit()


class Window(Protocol):
    """What this helper uses of the main window (``MainWindow`` is one)."""

    attached: bool
    context: AppContext
    sidebar: Sidebar
    search: QLineEdit
    list: QListView
    empty: QLabel
    model: CaseListModel

    def show_case(self, detail: CaseDetail | None) -> None: ...


class CaseList(QObject):
    def __init__(self, window: Window) -> None:
        super().__init__(window if isinstance(window, QWidget) else None)
        self.window = window
        self.view = InboxView.NEEDS_REPLY
        self.network: Network | None = None
        self.reloading = False  # a reload keeps the open case: selection changes are ignored
        self._open_first = True
        self.search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self.search_timer.timeout.connect(self.run_search)
        window.search.textChanged.connect(lambda _t: self.search_timer.start())
        window.sidebar.select(self.view)
        window.sidebar.view_chosen.connect(self.view_chosen)

    def attached(self, open_first: bool = True) -> None:
        """The window's model is there: follow its selection and show the first page (the
        chosen view's, or a search typed meanwhile); ``open_first=False`` leaves the first
        case closed (start-up opens it once the list has painted)."""
        self.window.list.selectionModel().currentChanged.connect(self._case_changed)
        self._open_first = open_first
        try:
            self.run_search()
        finally:
            self._open_first = True

    def view_chosen(self, view: InboxView, network: Network | None) -> None:
        self.view, self.network = view, network
        if not self.window.attached:
            return  # attached() loads it
        search = self.window.search
        if search.text():
            search.blockSignals(True)
            search.clear()
            search.blockSignals(False)
        from app.core.inbox import CaseQuery

        net = network.value if network else None
        self._load(CaseQuery(bucket=view.bucket, network=net, order=self._order()))

    def _order(self) -> CaseOrder:
        from app.core.inbox import CaseOrder

        return CaseOrder.PRIORITY if self.view is InboxView.NEEDS_REPLY else CaseOrder.NEWEST

    def run_search(self) -> None:
        if not self.window.attached:
            return
        text = self.window.search.text().strip()
        if not text:
            self.view_chosen(self.view, self.network)
            return
        from app.core.inbox import CaseOrder, CaseQuery

        self._load(CaseQuery(search=text, order=CaseOrder.NEWEST))

    def _load(self, query: CaseQuery) -> None:
        model = self.window.model
        model.set_query(query)
        self.update_empty()
        if model.rowCount():
            if self._open_first:
                self.select_row(0)
        else:
            self.window.show_case(None)

    def update_empty(self) -> None:
        w = self.window
        empty = w.model.rowCount() == 0
        w.empty.setVisible(empty)
        if not empty:
            return
        if w.model.query.search:
            w.empty.setText(f"Nothing matches “{w.model.query.search}”.")
        elif not w.context.has_accounts():
            w.empty.setText(
                "No accounts connected yet.\nExplore the demo from the welcome "
                "screen, or add your organisation's accounts."
            )
        else:
            w.empty.setText("Nothing here. Well done.")

    def select_row(self, row: int) -> None:
        model, view = self.window.model, self.window.list
        while row >= model.rowCount() and model.canFetchMore(QModelIndex()):
            model.fetchMore(QModelIndex())
        if 0 <= row < model.rowCount():
            index = model.index(row, 0)
            view.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            )
            view.scrollTo(index)

    def move(self, step: int) -> None:
        row = self.window.list.currentIndex().row()
        self.select_row(max(0, row + step) if row >= 0 else 0)

    def _case_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self.reloading:
            return
        from app.ui.case_list_model import CaseIdRole

        case_id = current.data(CaseIdRole) if current.isValid() else None
        inbox = self.window.context.inbox
        self.window.show_case(inbox.case(case_id) if case_id is not None else None)

    def open_case(self, case_id: int) -> None:
        row = self.window.model.row_of(case_id)
        if row >= 0:
            self.select_row(row)
        else:
            self.window.show_case(self.window.context.inbox.case(case_id))
