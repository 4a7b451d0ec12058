"""The main window's dialogs and reports, each built the first time it is asked for.

Accounts, organisation details, templates, the shortcut sheet, reports, the board report and
export.
None of them is needed for the window's first paint, and some are costly to import (reports
bring QtCharts and the PDF writer), so their modules are imported here on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:
    from app.core.context import AppContext
    from app.core.inbox import CaseDetail
    from app.ui.accounts_dialog import AccountsDialog
    from app.ui.case_list_model import CaseListModel
    from app.ui.composer import Composer
    from app.ui.dialogs import Asker, ShortcutSheet
    from app.ui.policy_actions import PolicyActions
    from app.ui.reports_view import Reporting
    from app.ui.sync_controller import SyncController
    from app.ui.tasks import Runner


class Window(Protocol):
    """What this helper uses of the main window (``MainWindow`` is one)."""

    context: AppContext
    asker: Asker
    runner: Runner
    sync: SyncController
    model: CaseListModel
    policy_actions: PolicyActions
    composer: Composer
    current: CaseDetail | None

    def refresh(self) -> None: ...
    def sync_now(self) -> None: ...
    def show_case(self, detail: CaseDetail | None) -> None: ...


class WindowDialogs(QObject):
    def __init__(self, window: Window) -> None:
        self.widget = window if isinstance(window, QWidget) else None
        super().__init__(self.widget)
        self.window = window
        self.accounts: AccountsDialog | None = None
        self._reporting: Reporting | None = None
        self._sheet: ShortcutSheet | None = None

    def show_shortcuts(self) -> None:
        if self._sheet is None:
            from app.ui.dialogs import ShortcutSheet

            self._sheet = ShortcutSheet(self.widget)
        self._sheet.show()
        self._sheet.raise_()

    @property
    def reporting(self) -> Reporting:
        """Reports, the board report and export (QtCharts, the PDF writer)."""
        if self._reporting is None:
            from app.ui.export_dialog import paths_for
            from app.ui.reports_view import Reporting

            w = self.window
            self._reporting = Reporting(
                w.context, w.runner, paths_for(w.asker, self.widget), self.widget
            )
            self._reporting.imported.connect(w.refresh)
        return self._reporting

    def export_cases(self) -> None:
        w = self.window
        self.reporting.open_export(w.current.id if w.current else None, w.model.query)

    def edit_settings(self) -> None:
        from app.ui.settings_dialog import SettingsDialog

        w = self.window
        dialog = SettingsDialog(w.context.settings, self.widget)
        dialog.finished.connect(lambda _r: w.policy_actions.settings_changed())
        dialog.finished.connect(
            lambda _r: w.current and w.show_case(w.context.inbox.case(w.current.id))
        )
        dialog.open()

    def manage_templates(self) -> None:
        """The officer's own canned replies; the composer's picker offers the result at once."""
        from app.ui.templates_dialog import open_templates_dialog

        w = self.window
        templates = w.context.templates
        if open_templates_dialog(self.widget, templates, w.context.settings, asker=w.asker):
            w.composer.set_templates(templates.all())

    def open_accounts(self) -> AccountsDialog:
        w = self.window
        dialog = self.accounts
        if dialog is None:
            from app.ui.accounts_dialog import AccountsDialog

            dialog = AccountsDialog(
                w.context.accounts, w.runner, w.asker, w.context.sync.usage, self.widget
            )
            dialog.accounts_changed.connect(w.refresh)
            dialog.account_added.connect(lambda _id: w.sync_now())
            w.sync.started.connect(lambda: dialog.set_syncing(True))
            self.accounts = dialog
        dialog.set_syncing(w.sync.running)
        dialog.open()
        dialog.raise_()
        return dialog
