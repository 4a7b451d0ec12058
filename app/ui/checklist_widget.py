"""The closing checklist of the open case, as five checkboxes.

Customer-service practice for ending a conversation well: listen, identify the problem, provide
information, show you care, end the conversation. The widget only shows and reports ticks
(``toggled(step, done)``); the window stores them (``app.core.checklist``). On a narrow pane
the boxes wrap onto a second row instead of widening the pane.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QCheckBox, QGridLayout, QLabel, QSizePolicy, QWidget

from app.core.checklist import STEPS, Checklist, Step

# Short enough for one row beside the thread; the full step and its hint are the tooltip.
SHORT = {
    Step.LISTEN: "Listen",
    Step.IDENTIFY: "Identify",
    Step.INFORM: "Inform",
    Step.CARE: "Show care",
    Step.CLOSE: "End well",
}
NARROW_COLUMNS = 3


class ChecklistWidget(QWidget):
    toggled = Signal(str, bool)  # Step value, ticked

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("Closing:")
        self.title.setToolTip("Tick each step as you go; resolving with steps open asks first.")
        self.boxes: dict[Step, QCheckBox] = {}
        for step in STEPS:
            box = QCheckBox(SHORT[step])
            box.setToolTip(f"{step.label}: {step.hint}")
            box.setAccessibleName(f"Closing step: {step.label}")
            box.toggled.connect(lambda done, s=step: self.toggled.emit(s.value, done))
            self.boxes[step] = box
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(6)
        self.grid.setVerticalSpacing(2)
        self._one_row = 0
        self.columns = 0
        self._arrange(len(STEPS))
        self._one_row = self.grid.sizeHint().width()
        # Never force the pane wider: the boxes wrap instead.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.set_checklist(None)

    def _arrange(self, columns: int) -> None:
        self.columns = columns
        for widget in (self.title, *self.boxes.values()):
            self.grid.removeWidget(widget)
        self.grid.addWidget(self.title, 0, 0)
        for i, box in enumerate(self.boxes.values()):
            self.grid.addWidget(box, i // columns, 1 + i % columns)
        self.grid.setColumnStretch(columns + 1, 1)
        self.updateGeometry()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        wanted = len(STEPS) if event.size().width() >= self._one_row else NARROW_COLUMNS
        if wanted != self.columns:
            self._arrange(wanted)

    def set_checklist(self, checklist: Checklist | None) -> None:
        """Show a case's checklist (None: no case, hidden). Emits nothing."""
        self.setVisible(checklist is not None)
        for step, box in self.boxes.items():
            box.blockSignals(True)
            box.setChecked(checklist is not None and step in checklist.checked)
            box.blockSignals(False)

    def checked(self) -> frozenset[Step]:
        return frozenset(step for step, box in self.boxes.items() if box.isChecked())
