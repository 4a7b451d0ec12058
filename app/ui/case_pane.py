"""The open case: who and why at the top (with how the newest message reads, and the closing
checklist), the thread, and the composer beneath."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from app.core.inbox import CaseDetail
from app.ui.checklist_widget import ChecklistWidget
from app.ui.composer import Composer
from app.ui.sentiment_button import SentimentButton
from app.ui.style import STATUS_COLOURS, followers_text
from app.ui.thread_view import ThreadView


class CasePane(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setStyleSheet("font-weight: bold; font-size: 13pt")
        self.title.setWordWrap(True)
        self.subtitle = QLabel()
        self.subtitle.setTextFormat(Qt.TextFormat.PlainText)
        self.subtitle.setWordWrap(True)
        self.why = QLabel()
        self.why.setTextFormat(Qt.TextFormat.PlainText)
        self.why.setWordWrap(True)
        self.sentiment = SentimentButton()
        self.checklist = ChecklistWidget()
        self.thread = ThreadView()
        self.composer = Composer()
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.thread)
        self.splitter.addWidget(self.composer)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.subtitle)
        layout.addWidget(self.why)
        triage_row = QHBoxLayout()
        triage_row.addWidget(self.sentiment)
        triage_row.addWidget(self.checklist, 1)
        layout.addLayout(triage_row)
        layout.addWidget(self.splitter, 1)
        self.show_case(None)

    def show_case(self, detail: CaseDetail | None) -> None:
        self.thread.show_case(detail)
        self.composer.setEnabled(detail is not None)
        items = detail.items if detail else []
        newest = next((i for i in reversed(items) if i.kind == "mention"), None)
        if newest is None:
            self.sentiment.show_mention(None, None)
        else:
            self.sentiment.show_mention(newest.mention_id, newest.sentiment)
        if detail is None:
            self.checklist.set_checklist(None)
            self.title.setText("No case selected")
            self.subtitle.setText("Pick a case on the left, or press j.")
            self.why.setText("")
            return
        self.title.setText(detail.display_name or detail.handle or "Someone")
        status = detail.status.replace("_", " ")
        reason = f" ({detail.status_reason})" if detail.status_reason else ""
        bits = [
            detail.network.label,
            detail.handle,
            followers_text(detail.follower_count),
            f"to {detail.account_handle}",
        ]
        self.subtitle.setText(" · ".join(b for b in bits if b))
        self.why.setText(
            f"{status.capitalize()}{reason}" + (f" · {detail.why}" if detail.why else "")
        )
        self.why.setStyleSheet(f"color: {STATUS_COLOURS.get(detail.status, 'gray')}")
