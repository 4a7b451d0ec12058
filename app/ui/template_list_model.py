"""The templates as a list model, in the order the picker shows them (category, then title).

Edits are targeted: saving one template updates or moves its row, deleting removes it; only
loading the whole library (opening, restoring the starters) resets the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

from app.core.templates import TemplateView

Index = QModelIndex | QPersistentModelIndex
NameRole = Qt.ItemDataRole.UserRole + 1
TemplateRole = Qt.ItemDataRole.UserRole + 2


def order_key(template: TemplateView) -> tuple[str, str, str]:
    return (template.category.casefold(), template.title.casefold(), template.name)


def row_text(template: TemplateView) -> str:
    return f"{template.title}  ·  {template.category}" if template.category else template.title


class TemplateListModel(QAbstractListModel):
    def __init__(self, templates: Sequence[TemplateView] = (), parent: Any = None) -> None:
        super().__init__(parent)
        self._rows = sorted(templates, key=order_key)

    def set_templates(self, templates: Sequence[TemplateView]) -> None:
        self.beginResetModel()
        self._rows = sorted(templates, key=order_key)
        self.endResetModel()

    def templates(self) -> list[TemplateView]:
        return list(self._rows)

    def template(self, row: int) -> TemplateView | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, name: str) -> int:
        return next((row for row, t in enumerate(self._rows) if t.name == name), -1)

    def names(self) -> set[str]:
        return {t.name for t in self._rows}

    def put(self, template: TemplateView) -> int:
        """Add or update ``template`` (matched by name) at its place in the order; its row."""
        old = self.row_of(template.name)
        others = [t for t in self._rows if t.name != template.name]
        new = sum(1 for t in others if order_key(t) < order_key(template))
        if old < 0:
            self.beginInsertRows(QModelIndex(), new, new)
            self._rows.insert(new, template)
            self.endInsertRows()
            return new
        if new != old:
            # Qt's move target is the row *before which* the item goes, counted before the move.
            target = new + 1 if new > old else new
            self.beginMoveRows(QModelIndex(), old, old, QModelIndex(), target)
            self._rows = [*others[:new], template, *others[new:]]
            self.endMoveRows()
        else:
            self._rows[old] = template
        index = self.index(new)
        self.dataChanged.emit(index, index)
        return new

    def remove(self, name: str) -> None:
        row = self.row_of(name)
        if row >= 0:
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._rows[row]
            self.endRemoveRows()

    # -- QAbstractListModel --------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        template = self.template(index.row()) if index.isValid() else None
        if template is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return row_text(template)
        if role == Qt.ItemDataRole.ToolTipRole:
            origin = "Starter template" if template.builtin else "Your template"
            return f"{origin} “{template.name}”\n\n{template.body}"
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return row_text(template).replace("  ·  ", ", category ")
        if role == NameRole:
            return template.name
        if role == TemplateRole:
            return template
        return None
