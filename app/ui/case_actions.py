"""What the officer does to the open case: resolve, wait, leave alone, escalate, note, reply.

One helper the window creates when its inbox is attached (like ``PolicyActions`` and
``ListeningActions``); the window's actions and the composer call it. After each change the
list, the counts and the open case follow (``after_change``).
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QListView, QStatusBar, QWidget

from app.core.cases import CaseError
from app.core.context import AppContext
from app.core.inbox import CaseDetail
from app.core.outbox import ReplyRefused
from app.core.vocab import CaseStatus, Stance
from app.ui.case_list import CaseList
from app.ui.case_list_model import CaseListModel
from app.ui.composer import Composer
from app.ui.dialogs import Asker
from app.ui.person_panel import PersonPanel
from app.ui.policy_actions import PolicyActions
from app.ui.sync_controller import SyncController

LEAVE_ALONE_REASONS = [
    "Spam",
    "Troll: bad-faith, policy says do not engage",
    "Not about us",
    "Already answered elsewhere",
    "No reply needed (a like would do)",
]
ESCALATE_REASONS = ["Moved to email", "Moved to phone", "Passed to a colleague", "Legal or safety"]


class Window(Protocol):
    """What this helper uses of the main window (``MainWindow`` is one)."""

    context: AppContext
    asker: Asker
    sync: SyncController
    list: QListView
    model: CaseListModel
    composer: Composer
    person_panel: PersonPanel
    policy_actions: PolicyActions
    current: CaseDetail | None
    case_list: CaseList

    def statusBar(self) -> QStatusBar: ...
    def refresh_counts(self) -> None: ...
    def show_case(self, detail: CaseDetail | None) -> None: ...
    def select_row(self, row: int) -> None: ...


class CaseActions(QObject):
    def __init__(self, window: Window) -> None:
        super().__init__(window if isinstance(window, QWidget) else None)
        self.window = window
        self.context = window.context
        window.composer.send_requested.connect(self.send)
        window.person_panel.stance_changed.connect(self.set_stance)
        window.person_panel.note_added.connect(self.add_person_note)

    def after_change(self, message: str) -> None:
        """The open case changed: its row, the counts and the pane follow; if it left the
        view, the case now in its row opens."""
        w = self.window
        if w.current is None:
            return
        case_id, row = w.current.id, w.list.currentIndex().row()
        w.model.refresh_case(case_id)
        w.refresh_counts()
        w.case_list.update_empty()
        w.statusBar().showMessage(message, 5000)
        if w.model.row_of(case_id) >= 0:
            w.show_case(self.context.inbox.case(case_id))
        elif w.model.rowCount():
            w.select_row(min(row, w.model.rowCount() - 1))
        else:
            w.show_case(None)

    def set_status(self, status: CaseStatus, reason: str = "") -> None:
        current = self.window.current
        if current is None:
            return
        try:
            self.context.cases.set_status(current.id, status, reason)
        except CaseError as error:
            self.window.asker.inform("Kindly", str(error))
            return
        self.after_change(f"Case {status.label.lower()}.")

    def resolve(self) -> None:
        if self.window.policy_actions.may_resolve():  # unticked closing steps: asks once
            self.set_status(CaseStatus.RESOLVED)

    def mark_waiting(self) -> None:
        self.set_status(CaseStatus.WAITING)

    def leave_alone(self) -> None:
        if self.window.current is None:
            return
        reason = self.window.asker.ask_reason(
            "Leave alone",
            "Why leave this one alone? The reason is kept on the case.",
            LEAVE_ALONE_REASONS,
        )
        if reason:
            self.set_status(CaseStatus.LEFT_ALONE, reason)

    def escalate(self) -> None:
        if self.window.current is None:
            return
        reason = self.window.asker.ask_reason(
            "Escalate", "Where is this conversation going next?", ESCALATE_REASONS
        )
        if reason:
            self.set_status(CaseStatus.ESCALATED, reason)

    def add_note(self) -> None:
        current = self.window.current
        if current is None:
            return
        text = self.window.asker.ask_reason("Note", "A private note on this case:", [])
        if text:
            self.context.cases.add_case_note(current.id, text)
            self.window.show_case(self.context.inbox.case(current.id))

    def send(self, text: str, template_name: str) -> None:
        w = self.window
        if w.current is None:
            return
        try:
            self.context.outbox.queue_reply(
                w.current.id, text, w.current.latest_mention_id, template_name or None
            )
        except ReplyRefused as refused:
            w.composer.problems.setText(refused.user_message)
            w.composer.problems.setVisible(True)
            return
        w.composer.reset()
        self.after_change("Reply queued.")
        w.sync.send_now()

    def send_anyway(self, reply_id: int) -> None:
        if self.window.asker.confirm(
            "Send anyway?",
            "Kindly held this reply back (the reason is in the conversation). Send it now, "
            "without checking the post again?",
        ):
            self.window.sync.send_anyway(reply_id)

    def set_stance(self, person_id: int, stance: str) -> None:
        self.context.cases.set_stance(person_id, Stance(stance))
        if self.window.current is not None:
            self.window.model.refresh_case(self.window.current.id)

    def add_person_note(self, person_id: int, text: str) -> None:
        self.context.cases.add_person_note(person_id, text)
        self.window.person_panel.show_person(self.context.inbox.person(person_id))
