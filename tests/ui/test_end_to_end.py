"""End to end, as a person would: connect a Mastodon account in the accounts dialog, sync,
answer the mention with a template, and see the reply sent. Real threads (TaskRunner), the real
AccountService, clients, sync engine and sender, a fake Mastodon over HTTP, a fresh database."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.core import settings as options
from app.core.context import AppContext
from app.core.inbox import InboxView
from app.core.secrets import MemoryKeyring, SecretStore
from app.core.vocab import Network
from app.storage.models import Case, OutboundReply
from app.ui.main_window import MainWindow
from app.ui.sync_controller import SyncRun
from app.ui.tasks import TaskRunner
from tests.fakes.mastodon import TOKEN
from tests.ui.net_helpers import QuickMastodon

WAIT = 20_000  # ms; each step takes a fraction of a second


@pytest.fixture
def keyring_backend() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def context(db_path: Path, data_dir: Path, keyring_backend) -> Iterator[AppContext]:
    ctx = AppContext(data_dir, db_path, secrets=SecretStore(keyring_backend))
    ctx.templates.seed()
    ctx.settings.set(options.ORG_NAME, "Kindly Trust")
    ctx.settings.set(options.SIGNATURE, "— Sam, Kindly Trust")
    yield ctx
    ctx.close()


@pytest.fixture
def mastodon() -> Iterator[QuickMastodon]:
    with QuickMastodon() as server:
        yield server


@pytest.fixture
def window(qtbot, context, asker, qsettings) -> Iterator[MainWindow]:
    win = MainWindow(context, asker=asker, qsettings=qsettings, runner=TaskRunner())
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.shutdown()  # waits for the pool before the database closes


def finished_run(blocker) -> SyncRun:
    run = blocker.args[0]
    assert isinstance(run, SyncRun)
    assert run.error is None, run.error
    return run


def test_connect_sync_reply_and_see_it_sent(
    qtbot, window: MainWindow, context, mastodon, keyring_backend
) -> None:
    mention = mastodon.add_mention(
        "ann@example.org",
        "Hello @kindlytrust, thank you for running the food bank this winter!",
        display_name="Ann Example",
    )
    assert "No accounts connected yet" in window.empty.text()

    # 1. Accounts… → Add account… → Mastodon, against the fake; connecting starts a sync
    window.act_accounts.trigger()
    dialog = window.accounts_dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    dialog.network_combo.setCurrentIndex(dialog.network_combo.findData(Network.MASTODON.value))
    qtbot.keyClicks(dialog.form.edits["base_url"], mastodon.base_url)
    qtbot.keyClicks(dialog.form.edits["access_token"], TOKEN)
    with qtbot.waitSignal(window.sync.finished, timeout=WAIT) as first:
        qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
    assert finished_run(first).new_mentions == 1
    [account] = context.accounts.list_accounts()
    assert account.id in dialog.rows and "Kindly Trust" in dialog.rows[account.id].title.text()
    assert len(keyring_backend) == 1
    dialog.close()

    # 2. Sync now (F5): nothing more to fetch
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    window.list.setFocus()
    with qtbot.waitSignal(window.sync.finished, timeout=WAIT) as second:
        qtbot.keyClick(window.list, Qt.Key.Key_F5)
    assert finished_run(second).new_mentions == 0
    assert context.accounts.get(account.id).last_sync_at is not None

    # 3. the mention is in Needs reply, and open
    assert window.view is InboxView.NEEDS_REPLY
    assert window.model.rowCount() == 1
    assert window.sidebar.topLevelItem(0).text(0) == "Needs reply  (1)"
    assert window.current is not None
    case_id = window.current.id
    assert "food bank this winter" in window.case_pane.thread.toPlainText()

    # 4. reply with a template from the composer; sending starts in the background
    qtbot.keyClick(window.list, Qt.Key.Key_R)
    assert window.composer.edit.hasFocus()
    window.composer.insert_template("thank-you")
    text = window.composer.text()
    assert text.startswith("Hi Ann, thank you") and "Kindly Trust" in text and "{" not in text
    with qtbot.waitSignal(window.sync.finished, timeout=WAIT) as sending:
        qtbot.mouseClick(window.composer.send_button, Qt.MouseButton.LeftButton)
    run = finished_run(sending)
    assert run.sync is None and run.send is not None
    reply = OutboundReply.get(OutboundReply.case == case_id)
    assert run.send.sent == [reply.id] and not run.send.failed
    assert "1 reply sent" in window.sync_status.text()

    # 5. the fake got exactly one status, in reply to the mention
    posted = mastodon.posted_replies()
    assert len(posted) == 1
    assert posted[0]["in_reply_to_id"] == mention.status_id
    assert "thank you" in posted[0]["content"] and "@ann" in posted[0]["content"]
    assert reply.state == "sent" and reply.remote_id == posted[0]["id"]
    assert reply.template_name == "thank-you"

    # 6. the thread shows it as sent (the case now waits on them)
    assert Case.get_by_id(case_id).status == "waiting"
    assert "0 replies queued" in window.status_label.text()
    window.sidebar.select(InboxView.WAITING)
    assert window.current is not None and window.current.id == case_id
    thread = window.case_pane.thread.toPlainText()
    assert re.search(r"You · .* · sent\b", thread), thread
    assert "Hi Ann, thank you" in thread
