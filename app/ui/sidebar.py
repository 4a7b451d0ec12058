"""The list of views (Needs reply, Waiting, …), each also per network, with counts."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QWidget

from app.core.views import InboxView
from app.core.vocab import Network

# Qt.ItemDataRole.UserRole (0x0100) as a number: the sidebar is drawn before anything imports
# PySide6's Qt namespace, which builds all its ~90 enums at once (~20 ms of start-up).
USER_ROLE = 0x0100
ViewRole = USER_ROLE + 1
NetworkRole = USER_ROLE + 2


class Sidebar(QTreeWidget):
    """A fixed, small tree: views at the top level, networks beneath each."""

    view_chosen = Signal(object, object)  # InboxView, Network | None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setAccessibleName("Views")
        self.setRootIsDecorated(True)
        self._items: dict[tuple[InboxView, Network | None], QTreeWidgetItem] = {}
        for view in InboxView:
            top = QTreeWidgetItem([view.label])
            top.setData(0, ViewRole, view.value)
            top.setData(0, NetworkRole, None)
            self.addTopLevelItem(top)
            self._items[(view, None)] = top
            for network in Network:
                child = QTreeWidgetItem([network.label])
                child.setData(0, ViewRole, view.value)
                child.setData(0, NetworkRole, network.value)
                top.addChild(child)
                self._items[(view, network)] = child
        self.currentItemChanged.connect(self._changed)

    def select(self, view: InboxView, network: Network | None = None) -> None:
        self.setCurrentItem(self._items[(view, network)])

    def set_counts(self, counts: dict[InboxView, int], network: Network | None = None) -> None:
        for view, count in counts.items():
            item = self._items[(view, network)]
            label = view.label if network is None else network.label
            item.setText(0, f"{label}  ({count})" if count else label)

    def _changed(self, current: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None) -> None:
        if current is None:
            return
        network = current.data(0, NetworkRole)
        self.view_chosen.emit(
            InboxView(current.data(0, ViewRole)), Network(network) if network else None
        )
