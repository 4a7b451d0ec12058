"""Accounts: which networks are connected, how their last sync went, and adding or removing one.

The add form is built from each network's ``CredentialSpec`` (labels, help, which fields are
secret, the default server). Checking credentials talks to the network, so it runs on the
TaskRunner's pool while the form shows it is busy. Secrets go from the form straight to
``AccountService`` (which verifies, then writes them to the keyring); they are never shown,
logged or kept by the dialog, and the fields are emptied once they are no longer needed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.core.accounts import AccountService, AccountView, RemovedAccount
from app.core.context import own_connection
from app.core.networks.registry import CredentialSpec
from app.core.usage import UsageLedger
from app.core.vocab import Network
from app.ui.dialogs import Asker
from app.ui.labels import plain_label
from app.ui.tasks import Runner

log = logging.getLogger(__name__)

RED = "color: #B91C1C"
GREY = "color: palette(placeholder-text); font-size: 9pt"


def synced_text(when: datetime | None) -> str:
    if when is None:
        return "Not synced yet"
    local = when.astimezone()
    today = datetime.now().astimezone().date()
    day = "today" if local.date() == today else local.strftime("%d %b %Y")
    return f"Last synced {day} at {local.strftime('%H:%M')}"


def user_message(error: BaseException) -> str:
    """What went wrong, for a person; never the exception's technical text (it may echo input)."""
    message = getattr(error, "user_message", None)
    if isinstance(message, str) and message:
        return message
    return f"Kindly could not finish this ({type(error).__name__}). The details are in the log."


class AccountRow(QFrame):
    """One account: network, handle, last sync, last error, X usage; Reconnect and Remove."""

    reconnect_clicked = Signal(int)
    remove_clicked = Signal(int)

    def __init__(self, account: AccountView, usage: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.account = account
        self.setFrameShape(QFrame.Shape.StyledPanel)
        demo = account.keyring_ref.startswith("demo:")
        title = f"{account.network.label}  ·  {account.handle}"
        if account.display_name:
            title += f"  ·  {account.display_name}"
        self.title = plain_label(title)
        self.title.setStyleSheet("font-weight: bold")
        status = "Demo account (not connected)" if demo else synced_text(account.last_sync_at)
        self.status = plain_label(status + (f"  ·  {usage}" if usage else ""), GREY)
        self.usage = usage
        self.error = plain_label(account.last_error or "", RED, selectable=True)
        self.error.setVisible(bool(account.last_error))
        self.reconnect_button = QPushButton("Reconnect…")
        self.reconnect_button.setToolTip("Enter new credentials for this account")
        self.reconnect_button.clicked.connect(lambda: self.reconnect_clicked.emit(account.id))
        self.reconnect_button.setVisible(bool(account.last_error) and not demo)
        self.remove_button = QPushButton("Remove…")
        self.remove_tip = "Remove the account, its cases and its saved sign-in"
        self.remove_button.setToolTip(self.remove_tip)
        self.remove_button.clicked.connect(lambda: self.remove_clicked.emit(account.id))
        self.remove_button.setVisible(not demo)
        text = QVBoxLayout()
        text.addWidget(self.title)
        text.addWidget(self.status)
        text.addWidget(self.error)
        layout = QHBoxLayout(self)
        layout.addLayout(text, 1)
        layout.addWidget(self.reconnect_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.remove_button, 0, Qt.AlignmentFlag.AlignTop)


class CredentialForm(QWidget):
    """The fields one network asks for, built from its ``CredentialSpec``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec: CredentialSpec | None = None
        self.layout_ = QFormLayout(self)
        self.layout_.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.edits: dict[str, QLineEdit] = {}
        self.labels: dict[str, str] = {}
        self.helps: dict[str, str] = {}
        self.intro = plain_label(style=GREY)

    def build(self, spec: CredentialSpec, account: AccountView | None = None) -> None:
        """Fields for ``spec``; with ``account`` (reconnecting) server and handle are fixed."""
        while self.layout_.rowCount():
            self.layout_.removeRow(0)
        self.spec = spec
        self.edits, self.labels, self.helps = {}, {}, {}
        self.intro = plain_label(spec.help, GREY)
        if spec.help:
            self.layout_.addRow(self.intro)
        base = account.base_url if account else spec.default_base_url or ""
        self._add("base_url", "Server", spec.base_url_help, base, secret=False)
        handle = account.handle if account else ""
        self._add("handle", spec.handle_label, spec.handle_help, handle, secret=False)
        if not spec.handle_required:
            self.edits["handle"].setPlaceholderText("optional: Kindly asks the server")
        if account is not None:
            self.edits["base_url"].setReadOnly(True)
            self.edits["handle"].setReadOnly(True)
        for field in spec.fields:
            label = field.label if field.required else f"{field.label} (optional)"
            self._add(field.key, label, field.help, "", secret=field.secret)

    def _add(self, key: str, label: str, help_text: str, value: str, secret: bool) -> None:
        edit = QLineEdit(value)
        edit.setObjectName(f"field-{key}")
        edit.setAccessibleName(label)
        edit.setToolTip(help_text)
        edit.setAccessibleDescription(help_text)
        if key == "base_url" and not value:
            edit.setPlaceholderText("https://…")
        if secret:
            edit.setEchoMode(QLineEdit.EchoMode.Password)
            edit.setInputMethodHints(
                Qt.InputMethodHint.ImhSensitiveData
                | Qt.InputMethodHint.ImhNoPredictiveText
                | Qt.InputMethodHint.ImhNoAutoUppercase
            )
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(1)
        column.addWidget(edit)
        if help_text:
            column.addWidget(plain_label(help_text, GREY))
        self.layout_.addRow(label, box)
        self.edits[key], self.labels[key], self.helps[key] = edit, label, help_text

    def credentials(self) -> dict[str, str]:
        assert self.spec is not None
        return {f.key: self.edits[f.key].text() for f in self.spec.fields}

    def clear_secrets(self) -> None:
        if self.spec is None:
            return
        for field in self.spec.fields:
            self.edits[field.key].clear()


class AccountsDialog(QDialog):
    """List, add, reconnect and remove accounts. Open it with ``open()``, never ``exec()``."""

    account_added = Signal(int)
    accounts_changed = Signal()

    def __init__(
        self,
        accounts: AccountService,
        runner: Runner,
        asker: Asker,
        usage: UsageLedger | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Accounts")
        self.setObjectName("AccountsDialog")
        self.accounts = accounts
        self.runner = runner
        self.asker = asker
        self.usage = usage or UsageLedger()
        self.rows: dict[int, AccountRow] = {}
        self.reconnecting: AccountView | None = None
        self.busy = False
        self.syncing = False  # a sync is writing to the accounts: removing waits for it

        self.rows_box = QWidget()
        self.rows_layout = QVBoxLayout(self.rows_box)
        self.rows_layout.setContentsMargins(0, 0, 0, 0)
        self.empty = plain_label("No accounts yet. Add your organisation's account to start.")
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.rows_box)
        scroll.setFrameShape(QFrame.Shape.NoFrame)

        info = accounts.store.backend_info()
        self.keyring_label = plain_label(f"Passwords and tokens are kept in: {info.name}.", GREY)
        self.keyring_problem = plain_label(info.explanation_if_unusable or "", RED, selectable=True)
        self.keyring_problem.setVisible(not info.usable)
        self.add_button = QPushButton("Add account…")
        self.add_button.clicked.connect(lambda: self.start_add())
        self.add_button.setEnabled(info.usable)
        if not info.usable:
            self.add_button.setToolTip("Kindly needs a secure keyring to keep your sign-in.")
        self.notice = plain_label(selectable=True)
        self.notice.setVisible(False)

        self.form_box = QGroupBox("Add an account")
        self.network_combo = QComboBox()
        self.network_combo.setAccessibleName("Network")
        for network in accounts.registry:
            self.network_combo.addItem(network.label, network.value)
        self.network_combo.currentIndexChanged.connect(self._network_chosen)
        self.form = CredentialForm()
        self.error = plain_label(style=RED, selectable=True)
        self.error.setVisible(False)
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setTextVisible(False)
        self.busy_bar.setMaximumHeight(12)
        self.busy_label = plain_label(style=GREY)
        self.connect_button = QPushButton("Connect")
        self.connect_button.setDefault(True)
        self.connect_button.clicked.connect(self.submit)
        self.cancel_form_button = QPushButton("Cancel")
        self.cancel_form_button.clicked.connect(self.close_form)
        network_row = QFormLayout()
        network_row.addRow("Network", self.network_combo)
        form_buttons = QHBoxLayout()
        form_buttons.addWidget(self.busy_bar, 1)
        form_buttons.addWidget(self.busy_label, 2)
        form_buttons.addStretch(0)
        form_buttons.addWidget(self.cancel_form_button)
        form_buttons.addWidget(self.connect_button)
        form_layout = QVBoxLayout(self.form_box)
        form_layout.addLayout(network_row)
        form_layout.addWidget(self.form)
        form_layout.addWidget(self.error)
        form_layout.addLayout(form_buttons)
        self.form_box.setVisible(False)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.addButton(self.add_button, QDialogButtonBox.ButtonRole.ActionRole)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.keyring_label)
        layout.addWidget(self.keyring_problem)
        layout.addWidget(self.notice)
        layout.addWidget(self.form_box)
        layout.addWidget(buttons)
        self.resize(660, 560)
        self._set_busy(False)
        self._network_chosen()
        self.reload()

    # -- the list ------------------------------------------------------------------------------

    def reload(self) -> None:
        """Rebuild the rows from the accounts service (after a change or a sync)."""
        while self.rows_layout.count():
            item = self.rows_layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None and widget is not self.empty:
                widget.setParent(None)
                widget.deleteLater()
        self.rows = {}
        views = self.accounts.list_accounts()
        for account in views:
            row = AccountRow(account, self._usage_text(account))
            row.reconnect_clicked.connect(self.start_reconnect)
            row.remove_clicked.connect(self.remove)
            self.rows[account.id] = row
            self.rows_layout.addWidget(row)
            row.show()
        self.rows_layout.addWidget(self.empty)
        self.empty.setVisible(not views)
        self.rows_layout.addStretch(1)
        self._enable_rows()

    def _usage_text(self, account: AccountView) -> str:
        if account.network is not Network.X:
            return ""
        count = self.usage.totals(account.id)
        return (
            f"X API use so far: {count.reads} read{'' if count.reads == 1 else 's'}, "
            f"{count.posts} post{'' if count.posts == 1 else 's'}"
        )

    def _keyring_usable(self) -> bool:
        return self.accounts.store.backend_info().usable

    # -- adding and reconnecting ---------------------------------------------------------------

    def _network_chosen(self) -> None:
        network = Network(self.network_combo.currentData())
        self.form.build(self.accounts.spec(network))
        self.error.setVisible(False)

    def start_add(self, network: Network | None = None) -> None:
        self.reconnecting = None
        self.form_box.setTitle("Add an account")
        self.connect_button.setText("Connect")
        self.network_combo.setEnabled(True)
        if network is not None:
            self.network_combo.setCurrentIndex(self.network_combo.findData(Network(network).value))
        self._network_chosen()
        self._show_form()

    def start_reconnect(self, account_id: int) -> None:
        account = self.accounts.get(account_id)
        self.reconnecting = account
        self.form_box.setTitle(f"Reconnect {account.label}")
        self.connect_button.setText("Reconnect")
        self.network_combo.setCurrentIndex(self.network_combo.findData(account.network.value))
        self.network_combo.setEnabled(False)
        self.form.build(self.accounts.spec(account.network), account)
        self._show_form()

    def _show_form(self) -> None:
        self.notice.setVisible(False)
        self.error.setVisible(False)
        self.form_box.setVisible(True)
        first = next(
            (e for e in self.form.edits.values() if not e.isReadOnly() and not e.text()), None
        )
        if first is not None:
            first.setFocus()

    def close_form(self) -> None:
        self.form.clear_secrets()
        self.form_box.setVisible(False)
        self.reconnecting = None
        self.network_combo.setEnabled(True)

    def submit(self) -> None:
        """Check the credentials with the network (off the UI thread), then keep them."""
        if self.busy or self.form.spec is None:
            return
        spec = self.form.spec
        credentials = self.form.credentials()
        accounts = self.accounts
        job: Callable[[], AccountView]
        if self.reconnecting is not None:
            account_id = self.reconnecting.id
            label = self.reconnecting.label

            def job() -> AccountView:
                return accounts.reconnect(account_id, credentials)

            done: Callable[[Any], None] = self._reconnected
        else:
            network = spec.network
            base_url = self.form.edits["base_url"].text()
            handle = self.form.edits["handle"].text()
            label = network.label

            def job() -> AccountView:
                return accounts.add_account(network, base_url, handle, credentials)

            done = self._added
        log.info("checking credentials for a %s account", spec.network.value)
        self.error.setVisible(False)
        self._set_busy(True, f"Checking with {label}…")
        self.runner.run(own_connection(job), done, self._refused)

    def _added(self, account: AccountView) -> None:
        self._set_busy(False)
        self.close_form()
        self._say(f"Connected {account.label}. Kindly will fetch its mentions now.")
        self.reload()
        self.accounts_changed.emit()
        self.account_added.emit(account.id)

    def _reconnected(self, account: AccountView) -> None:
        self._set_busy(False)
        self.close_form()
        self._say(f"Reconnected {account.label}.")
        self.reload()
        self.accounts_changed.emit()

    def _refused(self, error: BaseException) -> None:
        self._set_busy(False)
        log.warning("connecting an account failed: %s", type(error).__name__)
        self.error.setText(user_message(error))
        self.error.setVisible(True)

    def _set_busy(self, busy: bool, text: str = "") -> None:
        self.busy = busy
        self.busy_bar.setVisible(busy)
        self.busy_label.setText(text)
        self.busy_label.setVisible(busy)
        self.form.setEnabled(not busy)
        self.network_combo.setEnabled(not busy and self.reconnecting is None)
        self.connect_button.setEnabled(not busy)
        self.add_button.setEnabled(not busy and self._keyring_usable())
        self._enable_rows()

    def set_syncing(self, syncing: bool) -> None:
        """While a sync runs, accounts cannot be removed (it may be storing their mentions)."""
        self.syncing = syncing
        self._enable_rows()

    def _enable_rows(self) -> None:
        usable = self._keyring_usable()
        for row in self.rows.values():
            row.remove_button.setEnabled(not self.busy and not self.syncing)
            row.remove_button.setToolTip(
                "Wait for the sync to finish" if self.syncing else row.remove_tip
            )
            row.reconnect_button.setEnabled(not self.busy and usable)

    def _say(self, text: str, style: str = "color: #15803D") -> None:
        self.notice.setText(text)
        self.notice.setStyleSheet(style)
        self.notice.setVisible(True)

    # -- removing ------------------------------------------------------------------------------

    def remove(self, account_id: int) -> None:
        if self.busy or self.syncing:
            return
        account = self.accounts.get(account_id)
        where = self.accounts.store.backend_info().name
        if not self.asker.confirm(
            "Remove account",
            f"Remove {account.label} from Kindly?\n\nIts cases, mentions and replies are deleted "
            f"from this computer, and its saved sign-in is deleted from {where}. Nothing is "
            f"deleted on {account.network.label}.",
        ):
            return
        accounts = self.accounts
        self._set_busy(True, f"Removing {account.label}…")
        self.runner.run(
            own_connection(lambda: accounts.remove_account(account_id)),
            self._removed,
            self._remove_failed,
        )

    def _removed(self, removed: RemovedAccount) -> None:
        self._set_busy(False)
        self.reload()
        self.accounts_changed.emit()
        if removed.warning:
            self._say(removed.warning, RED)
            self.asker.inform("Account removed", removed.warning)
        else:
            self._say(f"Removed {removed.account.label}.")

    def _remove_failed(self, error: BaseException) -> None:
        self._set_busy(False)
        log.warning("removing an account failed: %s", type(error).__name__)
        self.reload()
        self.accounts_changed.emit()
        self._say(user_message(error), RED)

    # -- showing -------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        if not self.busy:
            self.reload()
        super().showEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:
        self.form.clear_secrets()
        super().hideEvent(event)
