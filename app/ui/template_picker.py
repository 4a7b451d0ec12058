"""A quick, filterable list of canned replies (Ctrl+K, or “/” in an empty composer)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QFrame, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from app.core.templates import TemplateView


class TemplatePicker(QFrame):
    picked = Signal(str)  # template name

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Type to filter templates, Enter to insert")
        self.filter.textChanged.connect(self._apply_filter)
        self.filter.installEventFilter(self)
        self.list = QListWidget()
        self.list.setAccessibleName("Templates")
        self.list.itemActivated.connect(self._pick_item)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.filter)
        layout.addWidget(self.list)
        self.resize(420, 300)

    def set_templates(self, templates: list[TemplateView]) -> None:
        self.list.clear()
        for template in templates:
            item = QListWidgetItem(f"{template.title}  —  {template.category}")
            item.setData(Qt.ItemDataRole.UserRole, template.name)
            item.setToolTip(template.body)
            self.list.addItem(item)
        self._apply_filter(self.filter.text())

    def popup_at(self, anchor: QWidget) -> None:
        self.filter.clear()
        self.move(anchor.mapToGlobal(anchor.rect().topLeft()))
        self.show()
        self.filter.setFocus()

    def _apply_filter(self, text: str) -> None:
        needle = text.casefold().strip()
        first_visible = -1
        for row in range(self.list.count()):
            item = self.list.item(row)
            haystack = f"{item.data(Qt.ItemDataRole.UserRole)} {item.text()} {item.toolTip()}"
            hidden = bool(needle) and needle not in haystack.casefold()
            item.setHidden(hidden)
            if not hidden and first_visible < 0:
                first_visible = row
        self.list.setCurrentRow(first_visible)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.filter and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                step = 1 if key == Qt.Key.Key_Down else -1
                row = self.list.currentRow()
                while 0 <= row + step < self.list.count():
                    row += step
                    if not self.list.item(row).isHidden():
                        self.list.setCurrentRow(row)
                        break
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                item = self.list.currentItem()
                if item is not None and not item.isHidden():
                    self._pick_item(item)
                return True
        return super().eventFilter(watched, event)

    def pick(self, name: str) -> None:
        self.hide()
        self.picked.emit(name)

    def _pick_item(self, item: QListWidgetItem) -> None:
        self.pick(str(item.data(Qt.ItemDataRole.UserRole)))
