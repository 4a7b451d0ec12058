"""The main window: views on the left, the case list, the open case, the person.

It composes widgets and calls core services; it never queries the database or a network
itself. Single-key shortcuts (j/k/r/e/l/…) are window-wide, and text fields keep their keys
because Qt lets a focused editor claim printable keys first.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QLineEdit,
    QListView,
    QMainWindow,
    QSplitter,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app.core import settings as options
from app.core.cases import CaseError
from app.core.context import AppContext
from app.core.inbox import CaseDetail, CaseOrder, CaseQuery, InboxView
from app.core.outbox import ReplyRefused
from app.core.templates import person_values
from app.core.vocab import CaseStatus, Network, Stance
from app.ui.case_delegate import CaseDelegate
from app.ui.case_list_model import CaseIdRole, CaseListModel
from app.ui.case_pane import CasePane
from app.ui.data_care import DataCare
from app.ui.dialogs import Asker, DialogAsker, ShortcutSheet
from app.ui.listening_actions import ListeningActions
from app.ui.notifier import Notifier
from app.ui.offline_banner import OfflineBanner, OfflineWatch
from app.ui.person_panel import PersonPanel
from app.ui.policy_actions import PolicyActions
from app.ui.sidebar import Sidebar
from app.ui.sync_controller import SyncController, SyncRun, SyncStatus
from app.ui.tasks import Runner, TaskRunner
from app.ui.window_state import WindowState, default_settings

if TYPE_CHECKING:  # imported where first used: start-up does not load them (bench_startup)
    from app.ui.accounts_dialog import AccountsDialog
    from app.ui.reports_view import Reporting

log = logging.getLogger(__name__)

LEAVE_ALONE_REASONS = [
    "Spam",
    "Troll: bad-faith, policy says do not engage",
    "Not about us",
    "Already answered elsewhere",
    "No reply needed (a like would do)",
]
ESCALATE_REASONS = ["Moved to email", "Moved to phone", "Passed to a colleague", "Legal or safety"]


class MainWindow(QMainWindow):
    demo_requested = Signal()
    first_painted = Signal()

    def __init__(
        self,
        context: AppContext,
        asker: Asker | None = None,
        qsettings: QSettings | None = None,
        runner: Runner | None = None,
    ) -> None:
        super().__init__()
        self.context = context
        self.asker: Asker = asker or DialogAsker(self)
        self.runner: Runner = runner or TaskRunner(self)
        self.sync = SyncController(context, self.runner, self)
        self.notifier = Notifier(self)
        self.accounts_dialog: AccountsDialog | None = None
        self._reloading = False
        self.window_state = WindowState(qsettings or default_settings())
        self.view = InboxView.NEEDS_REPLY
        self.network: Network | None = None
        self.current: CaseDetail | None = None
        self._painted = False
        self.setWindowTitle("Kindly — Riverbank Alliance demo" if context.demo else "Kindly")
        self.setObjectName("MainWindow")

        self.sidebar = Sidebar()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search mentions and people  ( / )")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search")
        self.search_timer = QTimer(self, singleShot=True, interval=250)
        self.search_timer.timeout.connect(self._run_search)
        self.search.textChanged.connect(lambda _t: self.search_timer.start())
        self.model = CaseListModel(context.inbox, parent=self)
        self.list = QListView()
        self.list.setModel(self.model)
        self.list.setItemDelegate(CaseDelegate(self.list))
        self.list.setUniformItemSizes(True)
        # Laid out in batches: the default lays out every loaded row again on each fetchMore,
        # so scrolling slowed down as rows accumulated (15 ms a page at the top, 92 ms at row
        # 30,000: bench/bench_inbox).
        self.list.setLayoutMode(QListView.LayoutMode.Batched)
        self.list.setAccessibleName("Cases")
        self.list.setSelectionMode(QListView.SelectionMode.SingleSelection)
        self.list.selectionModel().currentChanged.connect(self._case_changed)
        self.empty = QLabel()
        self.empty.setWordWrap(True)
        self.empty.setTextFormat(Qt.TextFormat.PlainText)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.case_pane = CasePane()
        self.composer = self.case_pane.composer
        self.person_panel = PersonPanel()

        middle = QWidget()
        middle_layout = QVBoxLayout(middle)
        middle_layout.setContentsMargins(0, 0, 0, 0)
        middle_layout.addWidget(self.search)
        middle_layout.addWidget(self.list, 1)
        middle_layout.addWidget(self.empty)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        for widget, stretch in (
            (self.sidebar, 0),
            (middle, 2),
            (self.case_pane, 4),
            (self.person_panel, 1),
        ):
            self.splitter.addWidget(widget)
            self.splitter.setStretchFactor(self.splitter.count() - 1, stretch)
        self.splitter.setSizes([170, 340, 640, 250])
        self.offline_banner = OfflineBanner()
        central = QWidget()
        central_layout = QVBoxLayout(central)
        central_layout.setContentsMargins(0, 0, 0, 0)
        central_layout.setSpacing(0)
        central_layout.addWidget(self.offline_banner)
        central_layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        self.data_care = DataCare(context, self.runner, self.asker, self)
        self.case_pane.thread.send_anyway_requested.connect(self.send_anyway)
        self.resize(1400, 860)
        self._reporting: Reporting | None = None  # reports, board report, export: on first use
        self.policy_actions = PolicyActions(self)  # triage, policy, reminders, the checklist

        self.listening = ListeningActions(self)  # saved searches, feeds, linked people
        self._build_actions()
        self.sidebar.view_chosen.connect(self._view_chosen)
        self.composer.send_requested.connect(self._send)
        self.person_panel.stance_changed.connect(self._stance_changed)
        self.person_panel.note_added.connect(self._person_note)
        self.person_panel.case_activated.connect(self.open_case)
        self.person_panel.forget_requested.connect(lambda pid: self.data_care.forget_person([pid]))
        self.data_care.changed.connect(self.refresh)
        self.data_care.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.offline_watch = OfflineWatch(self.sync, self.offline_banner, self)
        self.offline_watch.back_online.connect(lambda t: self.statusBar().showMessage(t, 10000))
        self.status_label = QLabel()
        self.sync_status = SyncStatus(self.sync)
        self.sync_status.accounts_requested.connect(self.open_accounts)
        self.statusBar().addPermanentWidget(self.sync_status)
        self.statusBar().addPermanentWidget(self.status_label)
        self.sync.finished.connect(self._synced)
        self.sync.new_mentions.connect(self.notifier.notify_new)

        self.window_state.restore(self, {"main": self.splitter, "case": self.case_pane.splitter})
        self.composer.set_templates(context.templates.all())
        self.sidebar.select(InboxView.NEEDS_REPLY)
        self.refresh_counts()

    # -- actions -------------------------------------------------------------------------------

    def _action(self, text: str, keys: str, slot: object, tip: str = "") -> QAction:
        action = QAction(text, self)
        if keys:
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setToolTip(f"{tip or text} ({keys})" if keys else tip or text)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        self.act_next = self._action("Next", "J", lambda: self.move(1), "Next case")
        self.act_prev = self._action("Previous", "K", lambda: self.move(-1), "Previous case")
        self.act_reply = self._action("Reply", "R", self.focus_composer)
        self.act_resolve = self._action("Resolve", "E", self.resolve)
        self.act_leave = self._action("Leave alone", "L", self.leave_alone)
        self.act_wait = self._action("Waiting", "W", self.mark_waiting, "Waiting on them")
        self.act_escalate = self._action("Escalate", "X", self.escalate, "Move to phone or email")
        self.act_reopen = self._action("Reopen", "O", self.reopen)
        self.act_note = self._action("Note", "N", self.add_case_note, "Add a note to the case")
        self.act_search = self._action("Search", "/", self.focus_search)
        self.act_help = self._action("Shortcuts", "?", self.show_shortcuts, "Keyboard shortcuts")
        self.act_refresh = self._action(
            "Sync now", "F5", self.sync_now, "Fetch new mentions and send queued replies"
        )
        self.act_accounts = self._action("Accounts…", "", self.open_accounts, "Connect networks")
        self.act_settings = self._action("Organisation details…", "", self.edit_settings)
        self.act_escape = self._action("Back to the list", "Esc", self.focus_list)
        self.act_reports = self._action("Reports…", "", lambda: self.reporting.open_reports())
        self.act_board = self._action(
            "Board report (PDF)…", "", lambda: self.reporting.board_report()
        )
        self.act_export = self._action("Export or import cases…", "", self.export_cases)
        self.act_backup = self._action("Back up now", "", self.data_care.back_up_now)
        self.act_backups = self._action("Backups and restore…", "", self.data_care.open_backups)
        for action in (self.act_backup, self.act_backups):
            action.setEnabled(self.data_care.available)
        toolbar = QToolBar("Case")
        toolbar.setObjectName("case-toolbar")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for action in (
            self.act_prev,
            self.act_next,
            self.act_reply,
            self.act_resolve,
            self.act_leave,
            self.act_wait,
            self.act_escalate,
            self.act_reopen,
            self.act_note,
            self.act_refresh,
            self.act_help,
        ):
            toolbar.addAction(action)
        self.addToolBar(toolbar)
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addAction(self.act_accounts)
        file_menu.addAction(self.act_refresh)
        file_menu.addAction(self.act_settings)
        file_menu.addSeparator()
        for action in (self.act_reports, self.act_board, self.act_export):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.act_backup)
        file_menu.addAction(self.act_backups)
        file_menu.addSeparator()
        file_menu.addAction("Quit", QKeySequence.StandardKey.Quit, self.close)
        case_menu = menu.addMenu("&Case")
        for action in (
            self.act_next,
            self.act_prev,
            self.act_reply,
            self.act_resolve,
            self.act_leave,
            self.act_wait,
            self.act_escalate,
            self.act_reopen,
            self.act_note,
        ):
            case_menu.addAction(action)
        self.listening.add_menus(file_menu, case_menu)
        view_menu = menu.addMenu("&View")
        view_menu.addAction(self.act_search)
        view_menu.addAction(self.act_refresh)
        self.policy_actions.add_menus(menu, case_menu, toolbar)
        help_menu = menu.addMenu("&Help")
        help_menu.addAction(self.act_help)

    # -- views, list and search ----------------------------------------------------------------

    def _view_chosen(self, view: InboxView, network: Network | None) -> None:
        self.view, self.network = view, network
        if self.search.text():
            self.search.blockSignals(True)
            self.search.clear()
            self.search.blockSignals(False)
        self._load(
            CaseQuery(
                bucket=view.bucket, network=network.value if network else None, order=self._order()
            )
        )

    def _order(self) -> CaseOrder:
        return CaseOrder.PRIORITY if self.view is InboxView.NEEDS_REPLY else CaseOrder.NEWEST

    def _run_search(self) -> None:
        text = self.search.text().strip()
        if not text:
            self._view_chosen(self.view, self.network)
            return
        self._load(CaseQuery(search=text, order=CaseOrder.NEWEST))

    def _load(self, query: CaseQuery) -> None:
        self.model.set_query(query)
        self._update_empty()
        if self.model.rowCount():
            self.select_row(0)
        else:
            self.show_case(None)

    def _update_empty(self) -> None:
        empty = self.model.rowCount() == 0
        self.empty.setVisible(empty)
        if not empty:
            return
        if self.model.query.search:
            self.empty.setText(f"Nothing matches “{self.model.query.search}”.")
        elif not self.context.has_accounts():
            self.empty.setText(
                "No accounts connected yet.\nExplore the demo from the welcome "
                "screen, or add your organisation's accounts."
            )
        else:
            self.empty.setText("Nothing here. Well done.")

    def refresh_counts(self) -> None:
        self.sidebar.set_counts(self.context.inbox.view_counts())
        for network in Network:
            self.sidebar.set_counts(self.context.inbox.view_counts(network), network)
        self.notifier.set_unread(self.context.inbox.view_counts()[InboxView.NEEDS_REPLY])
        queued = self.context.outbox.queued_count()
        demo = "Demo data · " if self.context.demo else ""
        self.status_label.setText(f"{demo}{queued} repl{'y' if queued == 1 else 'ies'} queued")
        self.offline_banner.set_queued(queued)

    def refresh(self) -> None:
        """Reload list and counts; the open case (and a reply being written) stays open."""
        current = self.current.id if self.current else None
        self._reloading = True  # the reset would otherwise close the case and clear the draft
        try:
            self.model.reload()
        finally:
            self._reloading = False
        self.refresh_counts()
        self._update_empty()
        row = self.model.row_of(current) if current is not None else -1
        if row >= 0:
            self.select_row(row)
        elif current is not None:
            self.show_case(self.context.inbox.case(current))
        elif self.model.rowCount():
            self.select_row(0)

    def select_row(self, row: int) -> None:
        while row >= self.model.rowCount() and self.model.canFetchMore(QModelIndex()):
            self.model.fetchMore(QModelIndex())
        if 0 <= row < self.model.rowCount():
            index = self.model.index(row, 0)
            self.list.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            )
            self.list.scrollTo(index)

    def move(self, step: int) -> None:
        row = self.list.currentIndex().row()
        self.select_row(max(0, row + step) if row >= 0 else 0)

    def _case_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._reloading:
            return
        case_id = current.data(CaseIdRole) if current.isValid() else None
        self.show_case(self.context.inbox.case(case_id) if case_id is not None else None)

    def open_case(self, case_id: int) -> None:
        row = self.model.row_of(case_id)
        if row >= 0:
            self.select_row(row)
        else:
            self.show_case(self.context.inbox.case(case_id))

    def show_case(self, detail: CaseDetail | None) -> None:
        changed = (detail.id if detail else None) != (self.current.id if self.current else None)
        self.current = detail
        self.case_pane.show_case(detail)
        self.listening.show_case(detail)  # who a reply would reach, or that none can
        if changed:
            self.composer.reset()
        self.policy_actions.show_case(detail)
        if detail is None:
            self.person_panel.show_person(None)
            return
        self.person_panel.show_person(self.context.inbox.person(detail.person_id))
        values = person_values(detail.display_name, detail.handle)
        values.update(self.context.settings.organisation())
        self.composer.set_values(values)

    # -- case actions --------------------------------------------------------------------------

    def _after_change(self, message: str) -> None:
        if self.current is None:
            return
        case_id, row = self.current.id, self.list.currentIndex().row()
        self.model.refresh_case(case_id)
        self.refresh_counts()
        self._update_empty()
        self.statusBar().showMessage(message, 5000)
        if self.model.row_of(case_id) >= 0:
            self.show_case(self.context.inbox.case(case_id))
        elif self.model.rowCount():
            self.select_row(min(row, self.model.rowCount() - 1))
        else:
            self.show_case(None)

    def case_changed_elsewhere(self, message: str) -> None:
        """A helper changed the open case (spam, a corrected sentiment): list and pane follow."""
        self._after_change(message)

    def _set_status(self, status: CaseStatus, reason: str = "") -> None:
        if self.current is None:
            return
        try:
            self.context.cases.set_status(self.current.id, status, reason)
        except CaseError as error:
            self.asker.inform("Kindly", str(error))
            return
        self._after_change(f"Case {status.label.lower()}.")

    def resolve(self) -> None:
        if self.policy_actions.may_resolve():  # unticked closing steps: asks once
            self._set_status(CaseStatus.RESOLVED)

    def mark_waiting(self) -> None:
        self._set_status(CaseStatus.WAITING)

    def reopen(self) -> None:
        self.policy_actions.reopen()  # the officer decides to respond: ranked at once

    def leave_alone(self) -> None:
        if self.current is None:
            return
        reason = self.asker.ask_reason(
            "Leave alone",
            "Why leave this one alone? The reason is kept on the case.",
            LEAVE_ALONE_REASONS,
        )
        if reason:
            self._set_status(CaseStatus.LEFT_ALONE, reason)

    def escalate(self) -> None:
        if self.current is None:
            return
        reason = self.asker.ask_reason(
            "Escalate", "Where is this conversation going next?", ESCALATE_REASONS
        )
        if reason:
            self._set_status(CaseStatus.ESCALATED, reason)

    def add_case_note(self) -> None:
        if self.current is None:
            return
        text = self.asker.ask_reason("Note", "A private note on this case:", [])
        if text:
            self.context.cases.add_case_note(self.current.id, text)
            self.show_case(self.context.inbox.case(self.current.id))

    def _send(self, text: str, template_name: str) -> None:
        if self.current is None:
            return
        try:
            self.context.outbox.queue_reply(
                self.current.id, text, self.current.latest_mention_id, template_name or None
            )
        except ReplyRefused as refused:
            self.composer.problems.setText(refused.user_message)
            self.composer.problems.setVisible(True)
            return
        self.composer.reset()
        self._after_change("Reply queued.")
        self.sync.send_now()

    def send_anyway(self, reply_id: int) -> None:
        if self.asker.confirm(
            "Send anyway?",
            "Kindly held this reply back (the reason is in the conversation). Send it now, "
            "without checking the post again?",
        ):
            self.sync.send_anyway(reply_id)

    def _stance_changed(self, person_id: int, stance: str) -> None:
        self.context.cases.set_stance(person_id, Stance(stance))
        if self.current is not None:
            self.model.refresh_case(self.current.id)

    def _person_note(self, person_id: int, text: str) -> None:
        self.context.cases.add_person_note(person_id, text)
        self.person_panel.show_person(self.context.inbox.person(person_id))

    # -- focus and dialogs ---------------------------------------------------------------------

    def focus_composer(self) -> None:
        if self.current is not None:
            self.composer.edit.setFocus()

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def focus_list(self) -> None:
        if self.search.hasFocus() and self.search.text():
            self.search.clear()
        self.list.setFocus()

    def show_shortcuts(self) -> None:
        if not hasattr(self, "_sheet"):
            self._sheet = ShortcutSheet(self)
        self._sheet.show()
        self._sheet.raise_()

    @property
    def reporting(self) -> Reporting:
        """Reports, the board report and export (QtCharts, the PDF writer): built on first use."""
        if self._reporting is None:
            from app.ui.export_dialog import paths_for
            from app.ui.reports_view import Reporting

            self._reporting = Reporting(
                self.context, self.runner, paths_for(self.asker, self), self
            )
            self._reporting.imported.connect(self.refresh)
        return self._reporting

    def export_cases(self) -> None:
        self.reporting.open_export(self.current.id if self.current else None, self.model.query)

    def edit_settings(self) -> None:
        from app.ui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.context.settings, self)
        dialog.finished.connect(lambda _r: self.policy_actions.settings_changed())
        dialog.finished.connect(
            lambda _r: self.current and self.show_case(self.context.inbox.case(self.current.id))
        )
        dialog.open()

    # -- accounts and sync ---------------------------------------------------------------------

    def open_accounts(self) -> None:
        dialog = self.accounts_dialog
        if dialog is None:
            from app.ui.accounts_dialog import AccountsDialog

            dialog = AccountsDialog(
                self.context.accounts, self.runner, self.asker, self.context.sync.usage, self
            )
            dialog.accounts_changed.connect(self.refresh)
            dialog.account_added.connect(lambda _id: self.sync_now())
            self.sync.started.connect(lambda: dialog.set_syncing(True))
            self.accounts_dialog = dialog
        dialog.set_syncing(self.sync.running)
        dialog.open()
        dialog.raise_()

    def sync_now(self) -> None:
        self.refresh()
        self.sync.sync_now()

    def start_background_sync(self) -> None:
        """Sync every SYNC_MINUTES while the window is open, starting now."""
        self.sync.schedule(self.context.settings.get(options.SYNC_MINUTES))
        QTimer.singleShot(1000, self.sync, self.sync.sync_now)
        self.data_care.start()  # the daily backup (and purge, if switched on)
        # Re-rank now and every few minutes. "Now" waits for the first paint: on a large inbox
        # the re-rank keeps a pool thread busy in Python for seconds (3–9 s on 1M mentions),
        # which would slow the painting of the window itself (bench/RESULTS.md, start-up).
        if self._painted:
            self.policy_actions.start()
        else:
            self.first_painted.connect(self.policy_actions.start)

    def _synced(self, run: SyncRun) -> None:
        self.refresh()
        dialog = self.accounts_dialog
        if dialog is not None:
            dialog.set_syncing(False)
            if dialog.isVisible() and not dialog.busy:
                dialog.reload()  # last sync times and errors

    def shutdown(self) -> None:
        """Stop syncing and wait for background work, before the database is closed."""
        self.sync.shutdown()
        self.data_care.stop()
        self.offline_watch.stop()
        self.policy_actions.stop()
        self.runner.wait()
        self.notifier.close()
        self.context.close()

    # -- window events -------------------------------------------------------------------------

    def paintEvent(self, event: object) -> None:
        super().paintEvent(event)  # type: ignore[arg-type]
        if not self._painted:
            self._painted = True
            QTimer.singleShot(0, self.first_painted.emit)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.window_state.save(self, {"main": self.splitter, "case": self.case_pane.splitter})
        self.shutdown()
        super().closeEvent(event)
