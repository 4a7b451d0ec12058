"""The accounts dialog against the real AccountService, an in-memory keyring and fakes over HTTP.

The add form comes from each network's CredentialSpec; verifying runs through the runner (the
busy state is visible while it is pending); a refused token stores nothing; a good one keeps the
secret in the keyring only; removing deletes it; an unusable keyring explains itself.
"""

from __future__ import annotations

import logging
import secrets as pysecrets
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from app.core.accounts import AccountService
from app.core.networks.errors import AuthError
from app.core.networks.registry import REGISTRY
from app.core.secrets import MemoryKeyring, SecretStore
from app.core.sync import SyncEngine
from app.core.usage import UsageLedger
from app.core.vocab import Network
from app.storage.models import Account
from app.ui.accounts_dialog import AccountsDialog
from app.ui.tasks import ImmediateRunner, Runner, TaskRunner
from tests.helpers.sync_support import X
from tests.ui.net_helpers import ManualRunner, QuickMastodon, shown_text

TOKEN = "masto-" + pysecrets.token_urlsafe(18)


@pytest.fixture
def mastodon() -> Iterator[QuickMastodon]:
    with QuickMastodon(token=TOKEN) as server:
        yield server


@pytest.fixture
def keyring_backend() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def service(db_path: Path, keyring_backend: MemoryKeyring) -> Iterator[AccountService]:
    accounts = AccountService(SecretStore(keyring_backend))
    yield accounts
    accounts.close()


def open_dialog(qtbot, service: AccountService, asker, runner: Runner | None = None):
    dialog = AccountsDialog(service, runner or ImmediateRunner(), asker)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


@pytest.fixture
def dialog(qtbot, service: AccountService, asker) -> AccountsDialog:
    return open_dialog(qtbot, service, asker)


def fill(qtbot, dialog: AccountsDialog, network: Network, **values: str) -> None:
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    dialog.network_combo.setCurrentIndex(dialog.network_combo.findData(network.value))
    assert dialog.form_box.isVisible()
    for key, value in values.items():
        edit = dialog.form.edits[key]
        edit.clear()
        qtbot.keyClicks(edit, value)


def connect(qtbot, dialog: AccountsDialog) -> None:
    qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)


def fill_mastodon(qtbot, dialog: AccountsDialog, server: QuickMastodon, token: str) -> None:
    fill(qtbot, dialog, Network.MASTODON, base_url=server.base_url, access_token=token)


# -- the form ------------------------------------------------------------------------------------


@pytest.mark.parametrize("network", list(REGISTRY))  # every network an account connects to
def test_the_add_form_is_built_from_the_networks_spec(qtbot, dialog, network: Network) -> None:
    spec = REGISTRY[network].spec
    dialog.start_add(network)
    form = dialog.form
    assert form.spec is spec
    assert list(form.edits) == ["base_url", "handle", *(f.key for f in spec.fields)]
    assert form.edits["base_url"].text() == (spec.default_base_url or "")
    assert form.helps["base_url"] == spec.base_url_help
    assert form.labels["handle"] == spec.handle_label
    assert form.helps["handle"] == spec.handle_help
    for field in spec.fields:
        edit = form.edits[field.key]
        assert form.labels[field.key].startswith(field.label)
        assert form.helps[field.key] == field.help and field.help in shown_text(form)
        expected = QLineEdit.EchoMode.Password if field.secret else QLineEdit.EchoMode.Normal
        assert edit.echoMode() == expected, field.key
    assert dialog.connect_button.isEnabled()


def test_the_keyring_that_will_hold_the_secret_is_named(dialog) -> None:
    assert "In-memory" in dialog.keyring_label.text()
    assert not dialog.keyring_problem.isVisible()
    assert dialog.add_button.isEnabled()


def test_an_unusable_keyring_is_explained_and_adding_is_disabled(qtbot, db_path, asker) -> None:
    from keyring.backends import fail

    service = AccountService(SecretStore(fail.Keyring()))
    dialog = open_dialog(qtbot, service, asker)
    explanation = service.store.backend_info().explanation_if_unusable
    assert explanation
    assert "fail backend" in dialog.keyring_label.text()
    assert dialog.keyring_problem.isVisible()
    assert dialog.keyring_problem.text() == explanation
    assert not dialog.add_button.isEnabled()
    service.close()


# -- connecting -----------------------------------------------------------------------------------


def test_a_refused_token_shows_the_networks_message_and_stores_nothing(
    qtbot, dialog, service, mastodon, keyring_backend
) -> None:
    fill_mastodon(qtbot, dialog, mastodon, "not-the-token")
    connect(qtbot, dialog)

    with pytest.raises(AuthError) as refused:  # what the network says, straight from core
        service.add_account(Network.MASTODON, mastodon.base_url, "", {"access_token": "x"})
    assert dialog.error.isVisible()
    assert dialog.error.text() == refused.value.user_message
    assert len(keyring_backend) == 0
    assert Account.select().count() == 0
    assert dialog.rows == {} and dialog.empty.isVisible()
    assert dialog.form_box.isVisible() and not dialog.busy  # the person can correct it


def test_verifying_is_handed_to_the_runner_and_the_form_is_busy_meanwhile(
    qtbot, service, mastodon, asker
) -> None:
    runner = ManualRunner()
    dialog = open_dialog(qtbot, service, asker, runner)
    fill_mastodon(qtbot, dialog, mastodon, TOKEN)
    connect(qtbot, dialog)

    assert dialog.busy and len(runner.jobs) == 1
    assert dialog.busy_bar.isVisible() and "Checking with Mastodon" in dialog.busy_label.text()
    assert not dialog.connect_button.isEnabled() and not dialog.form.isEnabled()
    assert not dialog.add_button.isEnabled()
    assert mastodon.requests == []  # nothing went to the network on the UI thread
    runner.finish()
    assert not dialog.busy and not dialog.busy_bar.isVisible()
    assert len(dialog.rows) == 1


def test_with_the_task_runner_verifying_runs_on_a_pool_thread(
    qtbot, service, mastodon, asker, monkeypatch
) -> None:
    threads: list[threading.Thread] = []
    add = service.add_account

    def spy(*args, **kwargs):
        threads.append(threading.current_thread())
        return add(*args, **kwargs)

    monkeypatch.setattr(service, "add_account", spy)
    runner = TaskRunner()
    dialog = open_dialog(qtbot, service, asker, runner)
    fill_mastodon(qtbot, dialog, mastodon, TOKEN)
    with qtbot.waitSignal(dialog.account_added, timeout=10_000):
        connect(qtbot, dialog)
    runner.wait()
    assert threads and threads[0] is not threading.main_thread()
    assert len(dialog.rows) == 1


def test_a_good_token_lists_the_account_and_keeps_the_secret_only_in_the_keyring(
    qtbot, dialog, service, mastodon, keyring_backend, db_path, data_dir, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    fill_mastodon(qtbot, dialog, mastodon, TOKEN)
    with qtbot.waitSignal(dialog.account_added) as added:
        connect(qtbot, dialog)

    account = service.get(added.args[0])
    row = dialog.rows[account.id]
    assert account.handle in row.title.text() and "Mastodon" in row.title.text()
    assert "Not synced yet" in row.status.text()
    assert not row.error.isVisible() and not row.reconnect_button.isVisible()
    assert "Connected Mastodon" in dialog.notice.text()
    assert not dialog.form_box.isVisible()
    # the secret: in the keyring, nowhere else
    assert service.store.get(account.keyring_ref) == {"access_token": TOKEN}
    assert len(keyring_backend) == 1
    for path in data_dir.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path
    assert TOKEN not in caplog.text
    assert TOKEN not in shown_text(dialog)
    assert dialog.form.edits["access_token"].text() == ""


def test_remove_asks_first_then_deletes_the_account_and_its_secret(
    qtbot, dialog, service, mastodon, keyring_backend, asker
) -> None:
    account = service.add_account(Network.MASTODON, mastodon.base_url, "", {"access_token": TOKEN})
    dialog.reload()
    row = dialog.rows[account.id]

    asker.confirms.append(False)
    qtbot.mouseClick(row.remove_button, Qt.MouseButton.LeftButton)
    assert asker.asked == ["Remove account"]
    assert Account.select().count() == 1 and len(keyring_backend) == 1

    asker.confirms.append(True)
    with qtbot.waitSignal(dialog.accounts_changed):
        qtbot.mouseClick(dialog.rows[account.id].remove_button, Qt.MouseButton.LeftButton)
    assert Account.select().count() == 0
    assert len(keyring_backend) == 0
    assert dialog.rows == {} and dialog.empty.isVisible()
    assert "Removed Mastodon" in dialog.notice.text()


def test_the_last_error_is_shown_in_red_with_reconnect(
    qtbot, dialog, service, mastodon, keyring_backend
) -> None:
    account = service.add_account(Network.MASTODON, mastodon.base_url, "", {"access_token": TOKEN})
    service.mark_error(account.id, "Mastodon refused the sign-in. Reconnect the account.")
    dialog.reload()
    row = dialog.rows[account.id]
    assert row.error.isVisible() and "refused the sign-in" in row.error.text()
    assert "B91C1C" in row.error.styleSheet()
    assert row.reconnect_button.isVisible()

    qtbot.mouseClick(row.reconnect_button, Qt.MouseButton.LeftButton)
    assert dialog.form_box.isVisible() and "Reconnect" in dialog.form_box.title()
    assert dialog.form.edits["base_url"].isReadOnly()
    assert not dialog.network_combo.isEnabled()
    qtbot.keyClicks(dialog.form.edits["access_token"], "wrong")
    connect(qtbot, dialog)
    assert dialog.error.isVisible() and "Mastodon" in dialog.error.text()
    assert service.store.get(account.keyring_ref) == {"access_token": TOKEN}

    fresh = "masto-" + pysecrets.token_urlsafe(18)
    mastodon.tokens.add(fresh)
    dialog.form.edits["access_token"].clear()
    qtbot.keyClicks(dialog.form.edits["access_token"], fresh)
    connect(qtbot, dialog)
    assert service.get(account.id).last_error is None
    assert service.store.get(account.keyring_ref) == {"access_token": fresh}
    assert not dialog.rows[account.id].error.isVisible()
    assert "Reconnected" in dialog.notice.text()


def test_an_x_account_shows_its_read_and_post_counts(qtbot, dialog, service) -> None:
    with X() as x:
        fill(qtbot, dialog, Network.X, base_url=x.base_url, access_token="x-test-token")
        with qtbot.waitSignal(dialog.account_added) as added:
            connect(qtbot, dialog)
        account_id = added.args[0]
        assert "0 reads, 0 posts" in dialog.rows[account_id].status.text()
        x.add_mentions(3)
        report = SyncEngine(service).sync_all()
    assert report.stored == 3
    count = UsageLedger().totals(account_id)
    assert count.reads > 0
    dialog.reload()
    text = dialog.rows[account_id].status.text()
    assert f"X API use so far: {count.reads} read" in text and "0 posts" in text
    assert "Last synced today" in text


def test_demo_accounts_are_listed_but_cannot_be_removed(qtbot, demo_context, asker) -> None:
    dialog = open_dialog(qtbot, demo_context.accounts, asker)
    assert len(dialog.rows) == len(REGISTRY)
    for row in dialog.rows.values():
        assert "Demo account" in row.status.text()
        assert not row.remove_button.isVisible() and not row.reconnect_button.isVisible()


def test_the_welcome_screen_offers_to_add_an_account(
    qtbot, data_dir, asker, qsettings, monkeypatch
) -> None:
    from app.core.context import AppContext
    from app.storage.db import close_database
    from app.ui import app as app_module
    from app.ui.main_window import MainWindow
    from app.ui.welcome import WelcomeDialog

    def context(*args, **kwargs):
        return AppContext(*args, secrets=SecretStore(MemoryKeyring()), **kwargs)

    def window(context):
        win = MainWindow(context, asker=asker, qsettings=qsettings, runner=ImmediateRunner())
        qtbot.addWidget(win)
        return win

    monkeypatch.setattr(app_module, "new_context", context)
    monkeypatch.setattr(app_module, "MainWindow", window)
    launcher = app_module.Launcher(app_module.LaunchOptions(data_dir, data_dir / "log.txt"))
    win = launcher.open(demo=False)
    try:
        assert win.sync.timer.isActive()  # the schedule runs while the app is open
        launcher.offer_welcome()
        [welcome] = win.findChildren(WelcomeDialog)
        assert welcome.accounts_button.isVisible()
        qtbot.mouseClick(welcome.accounts_button, Qt.MouseButton.LeftButton)
        assert win.accounts_dialog is not None and win.accounts_dialog.isVisible()
        assert not welcome.isVisible()
    finally:
        win.close()  # stops the schedule
        close_database()
    assert not win.sync.timer.isActive()
