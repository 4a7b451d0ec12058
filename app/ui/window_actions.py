"""The main window's own actions, toolbar and menus, built with the window's frame.

Only PySide6 here, and not its ``Qt`` namespace (importing it builds ~90 enums, ~20 ms): the
frame (title, menus, toolbar, sidebar, list area) goes on screen before the database is opened
(bench/bench_startup.py), so these are made first, disabled, and enabled once the inbox is
attached (``WindowActions.enable``). Each slot is a window method; the helpers that own most of
them (``CaseActions``, ``DataCare``, ``Reporting``) exist only from then on. ``PolicyActions``
and ``ListeningActions`` add their own menus at that point too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar, QToolBar

if TYPE_CHECKING:
    from app.ui.case_actions import CaseActions
    from app.ui.case_list import CaseList
    from app.ui.data_care import DataCare
    from app.ui.window_dialogs import WindowDialogs


class Host(Protocol):
    """What the actions call on the main window and its helpers (``MainWindow`` is one)."""

    case_list: CaseList
    case_actions: CaseActions
    dialogs: WindowDialogs
    data_care: DataCare

    def focus_composer(self) -> None: ...
    def resolve(self) -> None: ...
    def reopen(self) -> None: ...
    def focus_search(self) -> None: ...
    def focus_list(self) -> None: ...
    def sync_now(self) -> None: ...
    def open_accounts(self) -> None: ...
    def close(self) -> bool: ...
    def addAction(self, action: QAction) -> None: ...
    def addToolBar(self, toolbar: QToolBar) -> None: ...
    def menuBar(self) -> QMenuBar: ...


class WindowActions:
    """The actions (``act_*``), the "Case" toolbar and the File, Case, View and Help menus."""

    def __init__(self, host: Host) -> None:
        self.host = host
        h = host  # the helpers are looked up when an action runs: most come with the inbox
        self.act_next = self._action("Next", "J", lambda: h.case_list.move(1), "Next case")
        self.act_prev = self._action("Previous", "K", lambda: h.case_list.move(-1), "Previous case")
        self.act_reply = self._action("Reply", "R", h.focus_composer)
        self.act_resolve = self._action("Resolve", "E", h.resolve)
        self.act_leave = self._action("Leave alone", "L", lambda: h.case_actions.leave_alone())
        self.act_wait = self._action(
            "Waiting", "W", lambda: h.case_actions.mark_waiting(), "Waiting on them"
        )
        self.act_escalate = self._action(
            "Escalate", "X", lambda: h.case_actions.escalate(), "Move to phone or email"
        )
        self.act_reopen = self._action("Reopen", "O", h.reopen)
        self.act_note = self._action(
            "Note", "N", lambda: h.case_actions.add_note(), "Add a note to the case"
        )
        self.act_search = self._action("Search", "/", h.focus_search)
        self.act_help = self._action(
            "Shortcuts", "?", lambda: h.dialogs.show_shortcuts(), "Keyboard shortcuts"
        )
        self.act_refresh = self._action(
            "Sync now", "F5", h.sync_now, "Fetch new mentions and send queued replies"
        )
        self.act_accounts = self._action("Accounts…", "", h.open_accounts, "Connect networks")
        self.act_settings = self._action(
            "Organisation details…", "", lambda: h.dialogs.edit_settings()
        )
        self.act_templates = self._action(
            "Manage templates…",
            "",
            lambda: h.dialogs.manage_templates(),
            "Add, edit and delete your canned replies",
        )
        self.act_escape = self._action("Back to the list", "Esc", h.focus_list)
        self.act_reports = self._action("Reports…", "", lambda: h.dialogs.reporting.open_reports())
        self.act_board = self._action(
            "Board report (PDF)…", "", lambda: h.dialogs.reporting.board_report()
        )
        self.act_export = self._action(
            "Export or import cases…", "", lambda: h.dialogs.export_cases()
        )
        self.act_backup = self._action("Back up now", "", lambda: h.data_care.back_up_now())
        self.act_backups = self._action(
            "Backups and restore…", "", lambda: h.data_care.open_backups()
        )
        # Until the inbox is open only these do anything (the rest need the database).
        self.always = (self.act_help, self.act_search, self.act_escape)
        self.toolbar = QToolBar("Case")
        self.toolbar.setObjectName("case-toolbar")
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
            self.toolbar.addAction(action)
        host.addToolBar(self.toolbar)
        self.menus = host.menuBar()
        self.file_menu = self.menus.addMenu("&File")
        self.file_menu.addAction(self.act_accounts)
        self.file_menu.addAction(self.act_refresh)
        self.file_menu.addAction(self.act_settings)
        self.file_menu.addAction(self.act_templates)
        self.file_menu.addSeparator()
        for action in (self.act_reports, self.act_board, self.act_export):
            self.file_menu.addAction(action)
        self.file_menu.addSeparator()
        self.file_menu.addAction(self.act_backup)
        self.file_menu.addAction(self.act_backups)
        self.file_menu.addSeparator()
        self.file_menu.addAction("Quit", QKeySequence.StandardKey.Quit, host.close)
        self.case_menu = self.menus.addMenu("&Case")
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
            self.case_menu.addAction(action)
        view_menu = self.menus.addMenu("&View")
        view_menu.addAction(self.act_search)
        view_menu.addAction(self.act_refresh)
        self.help_menu: QMenu = self.menus.addMenu("&Help")
        self.help_menu.addAction(self.act_help)
        self.enable(False)

    def _action(self, text: str, keys: str, slot: Callable[[], object], tip: str = "") -> QAction:
        action = QAction(text, self.host)  # type: ignore[call-overload]
        if keys:  # window-wide (a QAction's default context: Qt.WindowShortcut)
            # setShortcuts: setShortcut's overloads make PySide6 build the Qt namespace (~20 ms)
            action.setShortcuts([QKeySequence(keys)])
        action.setToolTip(f"{tip or text} ({keys})" if keys else tip or text)
        action.triggered.connect(slot)
        self.host.addAction(action)
        return action

    def enable(self, on: bool, backups: bool = True) -> None:
        """All actions on once the inbox is open (the backup ones only where backups work)."""
        for name, action in vars(self).items():
            if name.startswith("act_") and action not in self.always:
                action.setEnabled(on and (backups or name not in ("act_backup", "act_backups")))

    def help_menu_last(self) -> None:
        """Menus added by the helpers go before Help, which stays at the end."""
        self.menus.removeAction(self.help_menu.menuAction())
        self.menus.addAction(self.help_menu.menuAction())
