"""The case list: a lazily fetched model over keyset pages of the inbox.

Only the rows scrolled into view are loaded (``canFetchMore``/``fetchMore``, one page at a
time); a change to one case updates its row in place (``dataChanged``), never a reset.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

from app.core.inbox import CaseQuery, CaseRowData, Inbox, SortKey

Index = QModelIndex | QPersistentModelIndex

CaseIdRole = Qt.ItemDataRole.UserRole + 1
RowRole = Qt.ItemDataRole.UserRole + 2
SortKeyRole = Qt.ItemDataRole.UserRole + 3


def ago(when: datetime, now: datetime | None = None) -> str:
    """“5 min”, “3 h”, “2 d”, or a date: short enough for a list."""
    seconds = max(0, int(((now or datetime.now(UTC)) - when).total_seconds()))
    if seconds < 60:
        return "now"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    if seconds < 14 * 86400:
        return f"{seconds // 86400} d"
    return when.astimezone().strftime("%d %b")


class CaseListModel(QAbstractListModel):
    def __init__(self, inbox: Inbox, page_size: int = Inbox.PAGE, parent: Any = None) -> None:
        super().__init__(parent)
        self.inbox = inbox
        self.page_size = page_size
        self.query = CaseQuery()
        self._rows: list[CaseRowData] = []
        self._exhausted = True
        self._fetching = False  # views may call back into fetchMore while rows are inserted

    # -- loading -------------------------------------------------------------------------------

    def set_query(self, query: CaseQuery) -> None:
        """Show another view or search; loads its first page."""
        self.beginResetModel()
        self.query = query
        self._rows = self.inbox.page(query, None, self.page_size)
        self._exhausted = len(self._rows) < self.page_size
        self.endResetModel()

    def reload(self) -> None:
        """Re-run the query from the top, keeping as many rows loaded as before."""
        wanted = max(len(self._rows), self.page_size)
        self.beginResetModel()
        self._rows = self.inbox.page(self.query, None, wanted)
        self._exhausted = len(self._rows) < wanted
        self.endResetModel()

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._exhausted and not self._fetching

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self._exhausted or self._fetching:
            return
        after: SortKey | None = self._rows[-1].sort_key if self._rows else None
        page = self.inbox.page(self.query, after, self.page_size)
        self._exhausted = len(page) < self.page_size
        if page:
            start = len(self._rows)
            self._fetching = True
            try:
                self.beginInsertRows(QModelIndex(), start, start + len(page) - 1)
                self._rows.extend(page)
                self.endInsertRows()
            finally:
                self._fetching = False

    def refresh_case(self, case_id: int) -> None:
        """Update one row in place after a change to that case (no reset, no re-sort)."""
        for row, data in enumerate(self._rows):
            if data.id == case_id:
                fresh = [r for r in self.inbox.page(self.query, None, row + 1) if r.id == case_id]
                if fresh:
                    self._rows[row] = fresh[0]
                    index = self.index(row, 0)
                    self.dataChanged.emit(index, index)
                else:  # it left this view (resolved, left alone…)
                    self.beginRemoveRows(QModelIndex(), row, row)
                    del self._rows[row]
                    self.endRemoveRows()
                return

    # -- model API -----------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            name = row.display_name or row.handle or "Someone"
            return f"{name} · {row.snippet}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.why or None
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{row.display_name}, {row.network}, {row.status}: {row.snippet}"
        if role == CaseIdRole:
            return row.id
        if role == RowRole:
            return row
        if role == SortKeyRole:
            return row.sort_key
        return None

    def row_of(self, case_id: int) -> int:
        for row, data in enumerate(self._rows):
            if data.id == case_id:
                return row
        return -1

    def case_at(self, row: int) -> CaseRowData | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None
