"""“Sentiment: negative ▾”: how the newest mention of a case reads, and the officer's correction.

VADER guesses; the officer knows (sarcasm, in-jokes, a supporter's bad day). Picking a reading
emits ``corrected(mention_id, score)``; the window stores it through triage, where it sticks.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QToolButton, QWidget

from app.core.triage import sentiment_label

# One score per reading, each well inside its band of ``sentiment_label``.
CHOICES: tuple[tuple[str, float], ...] = (
    ("very negative", -0.8),
    ("negative", -0.4),
    ("neutral", 0.0),
    ("positive", 0.4),
    ("very positive", 0.8),
)


class SentimentButton(QToolButton):
    corrected = Signal(int, float)  # mention id, score

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mention_id: int | None = None
        self.score: float | None = None
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setStyleSheet("QToolButton::menu-indicator { image: none; }")  # the ▾ says it
        self.setAutoRaise(True)
        self.setToolTip("How the newest message reads. Wrong? Pick the right one: it sticks.")
        self.setAccessibleName("Sentiment")
        menu = QMenu(self)
        self.choices: dict[str, QAction] = {}
        for label, score in CHOICES:
            action = menu.addAction(label.capitalize())
            action.setCheckable(True)
            action.triggered.connect(lambda _checked=False, s=score: self._pick(s))
            self.choices[label] = action
        self.setMenu(menu)
        self.show_mention(None, None)

    def show_mention(self, mention_id: int | None, score: float | None) -> None:
        self.mention_id, self.score = mention_id, score
        self.setVisible(mention_id is not None)
        label = sentiment_label(score)
        self.setText(f"Sentiment: {label} ▾")
        for name, action in self.choices.items():
            action.setChecked(score is not None and name == label)

    def _pick(self, score: float) -> None:
        if self.mention_id is None:
            return
        self.show_mention(self.mention_id, score)
        self.corrected.emit(self.mention_id, score)
