"""The main window: views on the left, the case list, the open case, the person.

It is built in two steps, so the window is on screen before the database is opened
(bench/bench_startup.py): ``MainWindow()`` is the frame (title, menus, toolbar, the views, the
case list saying "Opening your inbox…"), importing only PySide6 and a few small modules;
``attach(context)`` then adds everything that needs the open database (the list's model, the
case pane, the person panel, the helpers) and shows the first page. ``MainWindow(context)``
does both at once.

It composes widgets and calls core services; it never queries the database or a network
itself. The case actions live in ``CaseActions``, the policy's in ``PolicyActions``, listening
in ``ListeningActions``. Single-key shortcuts (j/k/r/e/l/…) are window-wide, and text fields
keep their keys because Qt lets a focused editor claim printable keys first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, QSettings, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QLabel,
    QLineEdit,
    QListView,
    QMainWindow,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.core.views import InboxView
from app.ui.case_list import CaseList, CaseListView
from app.ui.sidebar import Sidebar
from app.ui.window_actions import WindowActions
from app.ui.window_dialogs import WindowDialogs
from app.ui.window_state import WindowState, default_settings

if TYPE_CHECKING:  # imported by attach(), once the window is on screen
    from app.core.context import AppContext
    from app.core.inbox import CaseDetail
    from app.ui.accounts_dialog import AccountsDialog
    from app.ui.case_actions import CaseActions
    from app.ui.case_list_model import CaseListModel
    from app.ui.case_pane import CasePane
    from app.ui.composer import Composer
    from app.ui.data_care import DataCare
    from app.ui.dialogs import Asker
    from app.ui.inbox_counts import InboxCounts
    from app.ui.listening_actions import ListeningActions
    from app.ui.notifier import Notifier
    from app.ui.offline_banner import OfflineBanner, OfflineWatch
    from app.ui.person_panel import PersonPanel
    from app.ui.policy_actions import PolicyActions
    from app.ui.reports_view import Reporting
    from app.ui.sync_controller import SyncController, SyncRun, SyncStatus
    from app.ui.tasks import Runner

OPENING = "Opening your inbox…"


class MainWindow(QMainWindow):
    demo_requested = Signal()
    first_painted = Signal()  # the window's first paint (the frame, before the inbox)
    first_page_shown = Signal()  # the case list's first paint after attach(): cases listed

    # Set by attach(): the open database's services and the widgets and helpers using them.
    context: AppContext
    asker: Asker
    runner: Runner
    sync: SyncController
    notifier: Notifier
    model: CaseListModel
    case_pane: CasePane
    composer: Composer
    person_panel: PersonPanel
    offline_banner: OfflineBanner
    offline_watch: OfflineWatch
    data_care: DataCare
    policy_actions: PolicyActions
    listening: ListeningActions
    case_actions: CaseActions
    counts: InboxCounts
    status_label: QLabel
    sync_status: SyncStatus

    def __init__(
        self,
        context: AppContext | None = None,
        asker: Asker | None = None,
        qsettings: QSettings | None = None,
        runner: Runner | None = None,
    ) -> None:
        super().__init__()
        self._asker, self._runner = asker, runner
        self.attached = False
        self._painted = self._page_shown = False
        self.window_state = WindowState(qsettings or default_settings())
        self.current: CaseDetail | None = None
        self.setWindowTitle("Kindly")
        self.setObjectName("MainWindow")

        self.sidebar = Sidebar()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search mentions and people  ( / )")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search")
        self.list = CaseListView()
        self.list.setUniformItemSizes(True)
        # Laid out in batches: the default lays out every loaded row again on each fetchMore,
        # so scrolling slowed down as rows accumulated (15 ms a page at the top, 92 ms at row
        # 30,000: bench/bench_inbox).
        self.list.setLayoutMode(QListView.LayoutMode.Batched)
        self.list.setAccessibleName("Cases")
        self.list.setSelectionMode(QListView.SelectionMode.SingleSelection)
        self.empty = QLabel(OPENING)
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet("qproperty-alignment: AlignCenter")  # without Qt (see below)
        middle = QWidget()
        middle_layout = QVBoxLayout(middle)
        middle_layout.setContentsMargins(0, 0, 0, 0)
        middle_layout.addWidget(self.search)
        middle_layout.addWidget(self.list, 1)
        middle_layout.addWidget(self.empty)
        self.splitter = QSplitter()  # horizontal
        # The case pane and the person panel take these places when the inbox is attached.
        for widget, stretch in ((self.sidebar, 0), (middle, 2), (QWidget(), 4), (QWidget(), 1)):
            self.splitter.addWidget(widget)
            self.splitter.setStretchFactor(self.splitter.count() - 1, stretch)
        self.splitter.setSizes([170, 340, 640, 250])
        central = QWidget()
        self.central_layout = QVBoxLayout(central)
        self.central_layout.setContentsMargins(0, 0, 0, 0)
        self.central_layout.setSpacing(0)
        self.central_layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        self.resize(1400, 860)
        self.actions = WindowActions(self)
        for name, action in vars(self.actions).items():  # window.act_next, … as before
            if name.startswith("act_"):
                setattr(self, name, action)
        self.window_state.restore(self, {"main": self.splitter})
        self.case_list = CaseList(self)  # views, search, paging, selection
        self.dialogs = WindowDialogs(self)  # accounts, settings, reports: on first use
        if context is not None:
            self.attach(context)

    def attach(self, context: AppContext) -> None:
        """Open the inbox in this window (once): everything that needs the database."""
        from PySide6.QtCore import Qt

        from app.ui.case_actions import CaseActions
        from app.ui.case_delegate import CaseDelegate
        from app.ui.case_list_model import CaseListModel
        from app.ui.case_pane import CasePane
        from app.ui.data_care import DataCare
        from app.ui.dialogs import DialogAsker
        from app.ui.inbox_counts import InboxCounts
        from app.ui.listening_actions import ListeningActions
        from app.ui.notifier import Notifier
        from app.ui.offline_banner import OfflineBanner, OfflineWatch
        from app.ui.person_panel import PersonPanel
        from app.ui.policy_actions import PolicyActions
        from app.ui.sync_controller import SyncController, SyncStatus
        from app.ui.tasks import TaskRunner

        if self.attached:
            raise RuntimeError("the window already shows an inbox")
        # The frame does without PySide6's Qt namespace (importing it builds ~90 enums, ~20 ms
        # before the first paint); the list's messages quote searches: plain text from here.
        self.empty.setTextFormat(Qt.TextFormat.PlainText)
        self.actions.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.context = context
        self.asker = self._asker or DialogAsker(self)
        self.runner = self._runner or TaskRunner(self)
        if context.demo:
            self.setWindowTitle("Kindly — Riverbank Alliance demo")
        self.sync = SyncController(context, self.runner, self)
        self.notifier = Notifier(self)
        self.model = CaseListModel(context.inbox, parent=self)
        self.list.setModel(self.model)
        self.list.setItemDelegate(CaseDelegate(self.list))
        self.case_pane = CasePane()
        self.composer = self.case_pane.composer
        self.person_panel = PersonPanel()
        for index, widget in ((2, self.case_pane), (3, self.person_panel)):
            self.splitter.replaceWidget(index, widget).deleteLater()  # sizes are kept
        self.offline_banner = OfflineBanner()
        self.central_layout.insertWidget(0, self.offline_banner)
        self.data_care = DataCare(context, self.runner, self.asker, self)
        self.policy_actions = PolicyActions(self)  # triage, policy, reminders, the checklist
        self.listening = ListeningActions(self)  # saved searches, feeds, linked people
        self.case_actions = CaseActions(self)  # resolve, leave alone, notes, replies
        self.case_pane.thread.send_anyway_requested.connect(self.case_actions.send_anyway)
        actions = self.actions
        self.listening.add_menus(actions.file_menu, actions.case_menu)
        self.policy_actions.add_menus(self.menuBar(), actions.case_menu, actions.toolbar)
        actions.help_menu_last()
        actions.enable(True, backups=self.data_care.available)
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
        self.counts = InboxCounts(
            context,
            self.runner,
            self.sidebar,
            self.notifier,
            self.status_label,
            self.offline_banner,
        )
        self.window_state.restore_splitters({"case": self.case_pane.splitter})
        self.attached = True
        self.list.painted.connect(self._list_painted)  # first_page_shown
        if self.isVisible():  # start-up, in the frame on screen: the list paints first
            self.first_page_shown.connect(self._after_first_page)
            self.case_list.attached(open_first=False)
        else:
            self.composer.set_templates(context.templates.all())
            self.refresh_counts()
            self.case_list.attached()

    def _after_first_page(self) -> None:
        """Start-up, after the first page: templates, the first case (reminders from a pool
        thread), the counts (a grouped count: 15–110 ms on 1M mentions, from a pool thread)."""
        self.composer.set_templates(self.context.templates.all())
        if self.current is None and self.model.rowCount():
            bridge = self.policy_actions.bridge
            bridge.runner = self.runner  # this first case's reminders: on a pool thread
            try:
                self.select_row(0)
            finally:
                bridge.runner = None
        self.counts.refresh_in_background()

    # -- views, list and search ----------------------------------------------------------------

    def refresh_counts(self) -> None:
        self.counts.refresh()

    def refresh(self) -> None:
        """Reload list and counts; the open case (and a reply being written) stays open."""
        current = self.current.id if self.current else None
        self.case_list.reloading = True  # the reset would otherwise close the case and the draft
        try:
            self.model.reload()
        finally:
            self.case_list.reloading = False
        self.refresh_counts()
        self.case_list.update_empty()
        row = self.model.row_of(current) if current is not None else -1
        if row >= 0:
            self.select_row(row)
        elif current is not None:
            self.show_case(self.context.inbox.case(current))
        elif self.model.rowCount():
            self.select_row(0)

    @property
    def view(self) -> InboxView:
        return self.case_list.view

    def select_row(self, row: int) -> None:
        self.case_list.select_row(row)

    def open_case(self, case_id: int) -> None:
        self.case_list.open_case(case_id)

    def show_case(self, detail: CaseDetail | None) -> None:
        from app.core.templates import person_values

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

    # -- case actions (CaseActions) ------------------------------------------------------------

    def case_changed_elsewhere(self, message: str) -> None:
        """A helper changed the open case (spam, a corrected sentiment): list and pane follow."""
        self.case_actions.after_change(message)

    def resolve(self) -> None:
        self.case_actions.resolve()

    def reopen(self) -> None:
        self.policy_actions.reopen()  # the officer decides to respond: ranked at once

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

    @property
    def reporting(self) -> Reporting:
        return self.dialogs.reporting

    # -- accounts and sync ---------------------------------------------------------------------

    @property
    def accounts_dialog(self) -> AccountsDialog | None:
        return self.dialogs.accounts

    def open_accounts(self) -> None:
        self.dialogs.open_accounts()

    def sync_now(self) -> None:
        self.refresh()
        self.sync.sync_now()

    def start_background_sync(self) -> None:
        """Sync every SYNC_MINUTES while the window is open, starting now."""
        from app.core import settings as options

        self.sync.schedule(self.context.settings.get(options.SYNC_MINUTES))
        QTimer.singleShot(1000, self.sync, self.sync.sync_now)
        self.data_care.start()  # the daily backup (and purge, if switched on)
        # Re-rank now and every few minutes. "Now" waits for the first paint: on a large inbox
        # the re-rank keeps a pool thread busy in Python for seconds (3–9 s on 1M mentions),
        # which would slow the painting of the window itself (bench/RESULTS.md, start-up).
        if self._page_shown:
            self.policy_actions.start()
        else:
            self.first_page_shown.connect(self.policy_actions.start)

    def _synced(self, run: SyncRun) -> None:
        self.refresh()
        dialog = self.accounts_dialog
        if dialog is not None:
            dialog.set_syncing(False)
            if dialog.isVisible() and not dialog.busy:
                dialog.reload()  # last sync times and errors

    def shutdown(self) -> None:
        """Stop syncing and wait for background work, before the database is closed."""
        if not self.attached:
            return  # the frame only: nothing started
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

    def _list_painted(self) -> None:
        if not self._page_shown and self._page_laid_out():
            self._page_shown = True  # emitted once this paint has reached the screen
            QTimer.singleShot(0, self.first_page_shown.emit)
            self.list.painted.disconnect(self._list_painted)

    def _page_laid_out(self) -> bool:
        """The list paints cases (or an empty view), not a layout still to come."""
        return not self.model.rowCount() or self.list.indexAt(QPoint(1, 1)).isValid()

    def closeEvent(self, event: QCloseEvent) -> None:
        splitters = {"main": self.splitter}
        if self.attached:
            splitters["case"] = self.case_pane.splitter
        self.window_state.save(self, splitters)
        self.shutdown()
        super().closeEvent(event)
