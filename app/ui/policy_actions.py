"""The response policy in the main window: triage, its editors, and closing a case well.

One helper the window creates and calls at a few points (``show_case``, ``may_resolve``,
``start``, ``stop``); it owns:

- triage refreshes off the UI thread: after each sync and every few minutes, so priorities
  follow the clock;
- the overdue / at-risk look of the list (``CaseDelegate.urgency_of``);
- reminders in the composer (``ReminderBridge``), the sentiment correction and the closing
  checklist of the open case;
- the officer's spam and reopen decisions, through ``Triage.decide_as_officer``;
- Policy menu: the policy editor, office hours, vacation mode, the checklist question.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QListView,
    QMenu,
    QMenuBar,
    QStatusBar,
    QToolBar,
    QWidget,
)

from app.core import settings as options
from app.core.checklist import Step, unchecked_before_resolving
from app.core.context import AppContext, own_connection
from app.core.inbox import CaseDetail, CaseRowData
from app.core.policy import Outcome, Policy, save_policy, saved_policy_problem
from app.core.triage import DecisionRefused, Triage, Urgency, urgency_of_due
from app.core.triage_setup import set_vacation
from app.core.vocab import CaseStatus
from app.ui.case_delegate import CaseDelegate
from app.ui.case_list_model import CaseListModel
from app.ui.case_pane import CasePane
from app.ui.composer import Composer
from app.ui.dialogs import Asker
from app.ui.reminder_bridge import ReminderBridge
from app.ui.sync_controller import SyncController, SyncRun
from app.ui.tasks import Runner

if TYPE_CHECKING:  # imported on first use (the export dialog brings QtCharts and the PDF writer)
    from app.ui.policy_editor import PolicyEditor

log = logging.getLogger(__name__)

REFRESH_MINUTES = 5
SPAM_REASONS = [
    "Scam or phishing link",
    "Advertising",
    "Bot or fake account",
    "Repeated copy-paste",
]
RANKED_STATUSES = (CaseStatus.NEW.value, CaseStatus.OPEN.value)


class Window(Protocol):
    """What this helper uses of the main window (``MainWindow`` is one)."""

    context: AppContext
    asker: Asker
    runner: Runner
    sync: SyncController
    list: QListView
    model: CaseListModel
    case_pane: CasePane
    composer: Composer
    current: CaseDetail | None
    act_leave: QAction

    def statusBar(self) -> QStatusBar: ...

    def addAction(self, action: QAction) -> None: ...

    def refresh(self) -> None: ...

    def case_changed_elsewhere(self, message: str) -> None: ...


class PolicyActions(QObject):
    def __init__(self, window: Window) -> None:
        self.widget = window if isinstance(window, QWidget) else None
        super().__init__(self.widget)
        self.window = window
        self.context = window.context
        # Triage (the policy: ~15 ms of reading and compiling rules) is built on first use; the
        # list's overdue marks need only its clock (context.clock_config).
        self.bridge = ReminderBridge(
            window.composer,
            lambda case_id, text, names: self.context.reminders.for_draft(case_id, text, names),
            parent=self,
        )
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.refresh)
        self.policy_editor: PolicyEditor | None = None
        self._refreshing = False
        self._again = False
        self._closed = False
        delegate = window.list.itemDelegate()
        if isinstance(delegate, CaseDelegate):
            delegate.urgency_of = self.urgency
        pane = window.case_pane
        pane.sentiment.corrected.connect(self.correct_sentiment)
        pane.checklist.toggled.connect(self.tick)
        window.sync.finished.connect(self._synced)
        self.vacation_label = QLabel("Vacation mode: response clocks are paused")
        self.vacation_label.setStyleSheet("color: #6B7280; font-weight: bold")
        window.statusBar().addPermanentWidget(self.vacation_label)

        def action(text: str, slot: object, tip: str = "", keys: str = "") -> QAction:
            act = QAction(text, self)
            act.setToolTip(tip or text)
            if keys:
                act.setShortcut(QKeySequence(keys))
                act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
                act.setToolTip(f"{tip or text} ({keys})")
                window.addAction(act)
            act.triggered.connect(slot)
            return act

        self.act_spam = action("Spam", self.mark_spam, "Mark as spam (asks why)", "S")
        self.act_policy = action("Response policy…", self.open_policy_editor)
        self.act_office = action("Office hours and response target…", self.open_office_hours)
        self.act_vacation = action(
            "Vacation mode", self.set_vacation, "Pause every response clock while you are away"
        )
        self.act_vacation.setCheckable(True)
        self.act_ask = action("Ask about the closing checklist when resolving", self.set_ask)
        self.act_ask.setCheckable(True)
        self.act_ask.setChecked(self.context.settings.get(options.CHECKLIST_ASK))
        self._show_vacation()

    @property
    def triage(self) -> Triage:
        return self.context.triage

    def add_menus(self, menus: QMenuBar, case_menu: QMenu, toolbar: QToolBar) -> None:
        """Spam next to "Leave alone" in the Case menu and toolbar, and a Policy menu."""
        leave = self.window.act_leave
        for holder in (case_menu, toolbar):
            actions = holder.actions()
            after = actions.index(leave) + 1 if leave in actions else len(actions)
            before = actions[after] if after < len(actions) else None
            if before is None:
                holder.addAction(self.act_spam)
            else:
                holder.insertAction(before, self.act_spam)
        menu = menus.addMenu("&Policy")
        menu.addAction(self.act_policy)
        menu.addAction(self.act_office)
        menu.addAction(self.act_vacation)
        menu.addSeparator()
        menu.addAction(self.act_ask)

    # -- running triage ------------------------------------------------------------------------

    def start(self) -> None:
        """Re-rank now and every few minutes (the window starts this with background sync)."""
        self.timer.start(REFRESH_MINUTES * 60_000)
        self.refresh()

    def stop(self) -> None:
        self._closed = True
        self.timer.stop()
        self.bridge.timer.stop()

    def refresh(self) -> None:
        """Re-triage every case that needs a reply, off the UI thread; the list follows."""
        if self._closed:
            return
        if self._refreshing:
            self._again = True
            return
        self._refreshing = True
        triage = self.triage
        self.window.runner.run(own_connection(triage.refresh), self._refreshed, self._failed)

    def _synced(self, run: SyncRun) -> None:
        if run.sync is not None and run.sync.accounts:  # something was fetched: re-rank it all
            self.refresh()

    def _refreshed(self, _report: object) -> None:
        self._refreshing = False
        if self._closed:
            return
        self.window.refresh()
        if self._again:
            self._again = False
            self.refresh()

    def _failed(self, error: BaseException) -> None:
        self._refreshing = False
        log.error("triage refresh failed: %r", error)

    def settings_changed(self) -> None:
        """The policy or settings changed: use them now and re-rank."""
        self.context.reload_triage()
        self._show_vacation()
        self.bridge.refresh()
        self.refresh()

    def urgency(self, row: CaseRowData) -> Urgency | None:
        config, clock = self.context.clock_config()
        return urgency_of_due(
            config.office_hours,
            row.due_at,
            clock(),
            config.response_target,
            config.at_risk_fraction,
        )

    # -- the open case -------------------------------------------------------------------------

    def show_case(self, detail: CaseDetail | None) -> None:
        self.window.case_pane.checklist.set_checklist(
            self.context.checklist.get(detail.id) if detail is not None else None
        )
        if detail is not None:
            self.context.reminders  # noqa: B018 (built here, on the UI thread, not on the pool's)
        self.bridge.set_case(detail.id if detail else None, detail.network if detail else None)

    def reopen(self) -> None:
        """Back to the inbox: the officer's decision to respond, ranked at once."""
        current = self.window.current
        if current is None or current.status in RANKED_STATUSES:
            return
        self.triage.decide_as_officer(current.id, Outcome.RESPOND)
        self.window.case_changed_elsewhere("Case reopened.")

    def correct_sentiment(self, mention_id: int, score: float) -> None:
        current = self.window.current
        self.triage.correct_sentiment(mention_id, score)
        if current is not None:
            self.window.case_changed_elsewhere("Sentiment corrected: it sticks.")

    def tick(self, step: str, done: bool) -> None:
        current = self.window.current
        if current is not None:
            self.context.checklist.set_step(current.id, Step(step), done)

    def may_resolve(self) -> bool:
        """Resolving with closing steps unticked asks once; True to go ahead."""
        current = self.window.current
        if current is None or not self.context.settings.get(options.CHECKLIST_ASK):
            return True
        unchecked = unchecked_before_resolving(self.context.checklist, current.id)
        if not unchecked:
            return True
        steps = ", ".join(step.label.lower() for step in unchecked)
        return self.window.asker.confirm(
            "Resolve",
            f"The closing checklist still has {len(unchecked)} step"
            f"{'s' if len(unchecked) != 1 else ''} open: {steps}. Resolve anyway?",
        )

    def mark_spam(self) -> None:
        current = self.window.current
        if current is None:
            return
        reason = self.window.asker.ask_reason(
            "Mark as spam", "Why is this spam? The reason is kept on the case.", SPAM_REASONS
        )
        if not reason:
            return
        try:
            self.triage.decide_as_officer(current.id, Outcome.SPAM, reason)
        except DecisionRefused as refused:
            self.window.asker.inform("Kindly", str(refused))
            return
        self.window.case_changed_elsewhere("Marked as spam.")

    # -- policy menu ---------------------------------------------------------------------------

    def open_policy_editor(self) -> None:
        editor = self.policy_editor
        if editor is None:
            problem = saved_policy_problem()
            from app.ui.export_dialog import paths_for
            from app.ui.policy_editor import PolicyEditor

            editor = PolicyEditor(
                self.triage.policy,
                self.window.asker,
                paths_for(self.window.asker, self.widget) if self.widget else None,
                parent=self.widget,
                notice=problem or "",
            )
            editor.saved.connect(self.save_policy)
            editor.finished.connect(lambda _r: setattr(self, "policy_editor", None))
            self.policy_editor = editor
        editor.open()
        editor.raise_()

    def save_policy(self, policy: Policy) -> None:
        save_policy(policy)
        self.settings_changed()
        self.window.statusBar().showMessage("Policy saved: the inbox is being re-ranked.", 6000)

    def open_office_hours(self) -> None:
        from app.ui.office_hours_dialog import OfficeHoursDialog

        dialog = OfficeHoursDialog(self.context.settings, self.triage.clock, self.widget)
        dialog.saved.connect(self.settings_changed)
        dialog.open()

    def set_vacation(self, on: bool) -> None:
        set_vacation(self.context.settings, on, self.triage.clock())
        self.settings_changed()
        self.window.statusBar().showMessage(
            "Vacation mode on: clocks paused, the composer suggests the away reply."
            if on
            else "Welcome back: vacation mode is off and the clocks run again.",
            8000,
        )

    def set_ask(self, on: bool) -> None:
        self.context.settings.set(options.CHECKLIST_ASK, on)

    def _show_vacation(self) -> None:
        config, clock = self.context.clock_config()
        on = config.office_hours.on_vacation(clock())
        self.act_vacation.setChecked(on)
        self.vacation_label.setVisible(on)
