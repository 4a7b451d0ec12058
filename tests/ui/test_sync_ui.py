"""Sync from the window: progress and Cancel in the status bar, mentions arriving in the list,
one failing account shown on that account while the others sync, one run at a time, the
schedule, and a draft that survives a background refresh. Real AccountService, real clients,
fakes over HTTP, an in-memory keyring."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.core import settings as options
from app.core.accounts import AccountView
from app.core.context import AppContext
from app.core.secrets import MemoryKeyring, SecretStore
from app.core.vocab import Network
from app.storage.models import Account, Mention
from app.ui.main_window import MainWindow
from app.ui.notifier import Notifier
from app.ui.sync_controller import SyncRun
from app.ui.tasks import ImmediateRunner, Runner, TaskRunner
from tests.fakes.mastodon import TOKEN as MASTODON_TOKEN
from tests.helpers.sync_support import X
from tests.ui.net_helpers import ManualRunner, QuickMastodon


@pytest.fixture
def context(db_path: Path, data_dir: Path) -> Iterator[AppContext]:
    ctx = AppContext(data_dir, db_path, secrets=SecretStore(MemoryKeyring()))
    ctx.templates.seed()
    yield ctx
    ctx.close()


@pytest.fixture
def mastodon() -> Iterator[QuickMastodon]:
    with QuickMastodon() as server:
        yield server


def open_window(qtbot, context: AppContext, asker, qsettings, runner: Runner) -> MainWindow:
    win = MainWindow(context, asker=asker, qsettings=qsettings, runner=runner)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


@pytest.fixture
def window(qtbot, context, asker, qsettings) -> Iterator[MainWindow]:
    win = open_window(qtbot, context, asker, qsettings, ImmediateRunner())
    yield win
    win.shutdown()  # before the database closes


def add_mastodon(context: AppContext, server: QuickMastodon) -> AccountView:
    return context.accounts.add_account(
        Network.MASTODON, server.base_url, "", {"access_token": MASTODON_TOKEN}
    )


def press_f5(qtbot, window: MainWindow) -> None:
    window.activateWindow()  # window shortcuts need the active window
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    window.list.setFocus()
    qtbot.keyClick(window.list, Qt.Key.Key_F5)


def sync(qtbot, window: MainWindow) -> SyncRun:
    with qtbot.waitSignal(window.sync.finished, timeout=20_000) as finished:
        press_f5(qtbot, window)
    run = finished.args[0]
    assert isinstance(run, SyncRun)
    return run


def test_sync_now_shows_progress_and_the_mentions_arrive(
    qtbot, window: MainWindow, context, mastodon
) -> None:
    account = add_mastodon(context, mastodon)
    mastodon.add_mention("ann@example.org", "Loved the fair @kindlytrust", display_name="Ann")
    mastodon.add_mention("bo@example.org", "@kindlytrust when is the next one?")
    mastodon.add_mention("cy@example.org", "@kindlytrust thank you!")
    assert window.model.rowCount() == 0
    seen: list[tuple[str, bool, bool]] = []
    status = window.sync_status
    window.sync.progress.connect(
        lambda text: seen.append((text, status.cancel_button.isVisible(), status.busy.isVisible()))
    )
    announced: list[int] = []
    window.sync.new_mentions.connect(announced.append)

    run = sync(qtbot, window)

    assert run.new_mentions == 3 and not run.failed
    assert any(text.startswith(f"Syncing {account.label}") for text, _, _ in seen), seen
    assert all(cancel and busy for _, cancel, busy in seen)  # Cancel shown while it runs
    assert not status.cancel_button.isVisible() and not status.busy.isVisible()
    assert status.text().startswith("Synced 1 account at ")
    assert "3 new mentions" in status.text()
    assert announced == [3]
    assert window.model.rowCount() == 3
    assert window.current is not None  # the first case is opened
    assert window.sidebar.topLevelItem(0).text(0) == "Needs reply  (3)"
    assert window.notifier.tooltip == "Kindly — 3 need a reply"
    assert context.accounts.get(account.id).last_sync_at is not None

    again = sync(qtbot, window)  # nothing new the second time
    assert again.new_mentions == 0 and "0 new mentions" in status.text()
    assert window.model.rowCount() == 3 and Mention.select().count() == 3


def test_a_failing_account_is_shown_on_that_account_while_the_other_syncs(
    qtbot, window: MainWindow, context, mastodon
) -> None:
    broken = add_mastodon(context, mastodon)
    mastodon.add_mention("ann@example.org", "@kindlytrust hello")
    mastodon.revoke_tokens()
    with X() as x:
        working = context.accounts.add_account(
            Network.X, x.base_url, "", {"access_token": "x-test-token"}
        )
        x.add_mentions(2)
        run = sync(qtbot, window)

    assert run.sync is not None
    by_id = {result.account_id: result for result in run.sync.accounts}
    assert by_id[working.id].ok and by_id[working.id].stored == 2
    error = by_id[broken.id].error
    assert error and by_id[broken.id].reconnect
    assert window.model.rowCount() == 2  # the X mentions arrived regardless
    # on the account …
    assert context.accounts.get(broken.id).last_error == error
    assert context.accounts.get(working.id).last_error is None
    # … and in the status bar, in red, with the way to the accounts
    status = window.sync_status
    assert f"{broken.label}: {error}" in status.text()
    assert "B91C1C" in status.label.styleSheet()
    assert "href='accounts'" in status.label.text()
    assert error in status.label.toolTip()

    status.label.linkActivated.emit("accounts")
    dialog = window.accounts_dialog
    assert dialog is not None and dialog.isVisible()
    row = dialog.rows[broken.id]
    assert row.error.isVisible() and row.error.text() == error
    assert row.reconnect_button.isVisible()
    x_row = dialog.rows[working.id]
    assert not x_row.error.isVisible()
    reads = context.sync.usage.totals(working.id).reads
    assert reads > 0 and f"X API use so far: {reads} read" in x_row.status.text()


def test_cancel_stops_after_the_current_batch_and_the_next_sync_resumes(
    qtbot, window: MainWindow, context, mastodon
) -> None:
    account = add_mastodon(context, mastodon)
    mastodon.add_mentions(200)  # several pages
    cancel = window.sync_status.cancel_button

    def cancel_once(text: str) -> None:
        if text.startswith("Syncing Mastodon") and cancel.isEnabled():
            qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)

    window.sync.progress.connect(cancel_once)
    run = sync(qtbot, window)
    window.sync.progress.disconnect(cancel_once)

    assert run.cancelled and run.send is None  # nothing is sent after a cancel
    assert run.sync is not None and run.sync.accounts[0].cancelled
    kept = Mention.select().count()
    assert 0 < kept < 200  # the first batch is kept, the rest waits
    assert run.new_mentions == kept
    assert window.sync_status.text().startswith("Sync cancelled")
    assert context.accounts.get(account.id).last_sync_at is None

    resumed = sync(qtbot, window)
    assert resumed.new_mentions == 200 - kept and not resumed.cancelled
    assert Mention.select().count() == 200


def test_cancel_during_a_background_run(qtbot, context, asker, qsettings, mastodon) -> None:
    runner = TaskRunner()
    window = open_window(qtbot, context, asker, qsettings, runner)
    add_mastodon(context, mastodon)
    mastodon.add_mentions(5)
    held = mastodon.hold("GET", mastodon.NOTIFICATIONS)
    try:
        window.act_refresh.trigger()
        assert window.sync.running
        qtbot.waitUntil(held.handled.is_set, timeout=10_000)
        status = window.sync_status
        assert status.cancel_button.isVisible() and status.busy.isVisible()
        assert not window.sync.sync_now()  # one run at a time
        qtbot.mouseClick(status.cancel_button, Qt.MouseButton.LeftButton)
        assert status.text().startswith("Cancelling")
        with qtbot.waitSignal(window.sync.finished, timeout=10_000) as finished:
            held.release.set()
    finally:
        held.release.set()
        window.shutdown()
    assert finished.args[0].cancelled
    assert Mention.select().count() == 0  # the page in flight was not stored
    assert not window.sync.running and not status.cancel_button.isVisible()


def test_one_run_at_a_time_and_a_reply_queued_meanwhile_is_sent_after(
    qtbot, context, asker, qsettings, mastodon
) -> None:
    runner = ManualRunner()
    window = open_window(qtbot, context, asker, qsettings, runner)
    add_mastodon(context, mastodon)
    assert window.sync.sync_now()
    assert window.sync.running and len(runner.jobs) == 1
    assert not window.sync.sync_now()
    window.sync.timer.timeout.emit()  # the schedule fires meanwhile: skipped
    assert not window.sync.send_now()  # remembered for after this run
    assert len(runner.jobs) == 1
    runner.finish()  # the run, then the send it remembered
    assert not window.sync.running and runner.jobs == []
    assert window.sync.last_run is not None and window.sync.last_run.sync is None
    window.shutdown()


def test_the_schedule_follows_the_sync_minutes_setting(window: MainWindow, context) -> None:
    context.settings.set(options.SYNC_MINUTES, 7)
    window.start_background_sync()
    assert window.sync.timer.isActive() and window.sync.timer.interval() == 7 * 60_000
    window.shutdown()
    assert not window.sync.timer.isActive()
    assert not window.sync.sync_now()  # closed


def test_demo_accounts_are_never_synced(qtbot, demo_context, asker, qsettings) -> None:
    runner = ManualRunner()
    window = open_window(qtbot, demo_context, asker, qsettings, runner)
    press_f5(qtbot, window)
    assert runner.jobs == []
    assert window.sync_status.text().startswith("No connected accounts to sync")
    window.composer.insert_template("thank-you")
    qtbot.mouseClick(window.composer.send_button, Qt.MouseButton.LeftButton)
    assert runner.jobs == []  # queued; nothing to send it with
    window.shutdown()


def test_a_reply_being_written_survives_a_sync(
    qtbot, window: MainWindow, context, mastodon
) -> None:
    add_mastodon(context, mastodon)
    mastodon.add_mention("ann@example.org", "@kindlytrust first", display_name="Ann")
    sync(qtbot, window)
    case_id = window.current.id if window.current else None
    assert case_id is not None
    window.composer.edit.setFocus()
    qtbot.keyClicks(window.composer.edit, "Thanks Ann, we")
    mastodon.add_mention("bo@example.org", "@kindlytrust second")

    sync(qtbot, window)

    assert window.model.rowCount() == 2
    assert window.current is not None and window.current.id == case_id
    assert window.composer.text() == "Thanks Ann, we"


def test_the_tray_is_optional(qtbot) -> None:
    notifier = Notifier()
    assert not notifier.available  # offscreen: no system tray
    notifier.set_unread(1)
    assert notifier.tooltip == "Kindly — 1 needs a reply"
    notifier.notify_new(4)
    assert notifier.last_message == "4 new mentions"
    notifier.close()


def test_removing_an_account_refreshes_the_window(
    qtbot, window: MainWindow, context, mastodon, asker
) -> None:
    account = add_mastodon(context, mastodon)
    mastodon.add_mention("ann@example.org", "@kindlytrust hi")
    sync(qtbot, window)
    assert window.model.rowCount() == 1
    window.act_accounts.trigger()
    dialog = window.accounts_dialog
    assert dialog is not None and dialog.isVisible()
    asker.confirms.append(True)
    qtbot.mouseClick(dialog.rows[account.id].remove_button, Qt.MouseButton.LeftButton)
    assert Account.select().count() == 0
    assert window.model.rowCount() == 0 and window.current is None


def test_a_reply_the_network_refuses_is_shown_as_not_sent(
    qtbot, window: MainWindow, context, mastodon
) -> None:
    add_mastodon(context, mastodon)
    added = mastodon.add_mention("ann@example.org", "@kindlytrust hi", display_name="Ann")
    sync(qtbot, window)
    case_id = window.current.id if window.current else None
    with mastodon._state_lock:  # the post was deleted before we answered
        del mastodon.statuses[added.status_id]
    window.composer.edit.setPlainText("Hi Ann, thanks!")
    with qtbot.waitSignal(window.sync.finished) as sending:
        qtbot.mouseClick(window.composer.send_button, Qt.MouseButton.LeftButton)
    run = sending.args[0]
    assert run.send is not None and len(run.send.failed) == 1
    assert "1 not sent" in window.sync_status.text()
    assert "B91C1C" in window.sync_status.label.styleSheet()
    assert mastodon.posted_replies() == []
    window.open_case(case_id)
    assert "· failed" in window.case_pane.thread.toPlainText()


def test_accounts_cannot_be_removed_while_a_sync_runs(
    qtbot, context, asker, qsettings, mastodon
) -> None:
    runner = ManualRunner()
    window = open_window(qtbot, context, asker, qsettings, runner)
    account = add_mastodon(context, mastodon)
    window.act_accounts.trigger()
    dialog = window.accounts_dialog
    assert dialog is not None
    assert dialog.rows[account.id].remove_button.isEnabled()
    window.sync.sync_now()
    button = dialog.rows[account.id].remove_button
    assert not button.isEnabled() and "Wait for the sync" in button.toolTip()
    runner.finish()
    assert dialog.rows[account.id].remove_button.isEnabled()
    window.shutdown()
