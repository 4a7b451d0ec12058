"""The offline banner: shown when no network can be reached, with the number of queued replies;
gone when the connection is back, after the queued replies were re-checked and sent. Real
AccountService and clients (without back-off sleeps), the fake Mastodon over HTTP, stopped and
started again on the same port."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QUrl

from app.core.accounts import AccountService
from app.core.context import AppContext
from app.core.secrets import MemoryKeyring, SecretStore
from app.core.sending import SendReport
from app.core.sync import AccountSyncResult, SyncReport
from app.core.vocab import Network, ReplyState
from app.storage.models import Mention, OutboundReply, Person
from app.ui.main_window import MainWindow
from app.ui.offline_banner import RETRY_MS, OfflineBanner, connection_state, queued_text
from app.ui.sync_controller import SyncRun
from app.ui.tasks import ImmediateRunner
from tests.fakes.mastodon import TOKEN
from tests.helpers.sync_support import quick_registry
from tests.ui.net_helpers import QuickMastodon

SHOTS = os.environ.get("KINDLY_TEST_SCREENSHOTS")  # a folder to keep the pictures in


# -- what a run says about the connection ---------------------------------------------------------


def account(**kw: object) -> AccountSyncResult:
    return AccountSyncResult(1, "@us@example", **kw)  # type: ignore[arg-type]


def run(accounts: list[AccountSyncResult] | None, send: SendReport | None = None) -> SyncRun:
    sync = SyncReport(accounts) if accounts is not None else None
    return SyncRun(sync, send, finished_at=datetime.now())


@pytest.mark.parametrize(
    ("the_run", "expected"),
    [
        (run([account(error="no route", offline=True)]), True),
        (run(None, SendReport(waiting=[1], offline=True)), True),
        (run([account()]), False),
        (run([account(error="gone", offline=True), account()]), False),  # one network answers
        (run([account(error="Reconnect", reconnect=True)]), None),  # answered, but says nothing
        (run([]), None),  # nothing to sync
        (run(None, SendReport(sent=[3])), False),
        (SyncRun(None, None, error="boom"), None),
    ],
)
def test_a_run_is_offline_only_when_no_network_could_be_reached(
    the_run: SyncRun, expected: bool | None
) -> None:
    assert connection_state(the_run) is expected


def test_the_banner_words(qtbot) -> None:
    banner = OfflineBanner()
    qtbot.addWidget(banner)
    banner.set_queued(2)
    banner.show_offline(datetime(2026, 5, 1, 9, 30).astimezone())
    assert banner.isVisibleTo(banner.parentWidget() or banner)
    assert banner.text().startswith("Kindly is offline (since 09:30)")
    assert "2 replies are queued" in banner.text()
    assert queued_text(1).startswith("1 reply is queued")
    assert "queued and sent when the connection is back" in queued_text(0)
    banner.show_offline(None)
    assert banner.isHidden()


# -- in the window --------------------------------------------------------------------------------


@pytest.fixture
def mastodon() -> Iterator[QuickMastodon]:
    with QuickMastodon() as server:
        server.add_mention("ann@example.org", "Is the walk on, @kindlytrust?")
        server.add_mention("bob@example.org", "Where do we meet, @kindlytrust?")
        yield server


@pytest.fixture
def context(db_path: Path, data_dir: Path) -> Iterator[AppContext]:
    ctx = AppContext(data_dir, db_path)
    ctx.accounts = AccountService(SecretStore(MemoryKeyring()), registry=quick_registry())
    ctx.templates.seed()
    yield ctx
    ctx.close()


@pytest.fixture
def window(qtbot, context: AppContext, asker, qsettings, mastodon) -> Iterator[MainWindow]:
    context.accounts.add_account(Network.MASTODON, mastodon.base_url, "", {"access_token": TOKEN})
    win = MainWindow(context, asker=asker, qsettings=qsettings, runner=ImmediateRunner())
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.shutdown()


def reply_from_window(window: MainWindow, author: str, text: str) -> None:
    """Open the case of ``author``'s mention and send ``text`` from the composer."""
    mention = Mention.select().join(Person).where(Person.handle.startswith(author)).get()
    window.open_case(mention.case_id)
    window.composer.edit.setPlainText(text)
    window.composer.send_button.click()


def test_offline_banner_counts_queued_replies_and_goes_when_they_are_checked_and_sent(
    qtbot, window: MainWindow, mastodon: QuickMastodon, tmp_path: Path
) -> None:
    banner = window.offline_banner
    window.sync.sync_now()
    assert Mention.select().count() == 2
    assert not banner.isVisible()

    mastodon.stop()  # on the train
    reply_from_window(window, "ann", "Yes, it is on! See you at ten.")
    assert banner.isVisible()
    assert "Kindly is offline" in banner.text() and "1 reply is queued" in banner.text()
    assert window.offline_watch.retry_timer.isActive()
    assert window.offline_watch.retry_timer.interval() == RETRY_MS
    reply_from_window(window, "bob", "At the old bridge.")
    assert "2 replies are queued" in banner.text()
    shot = Path(SHOTS or tmp_path) / "offline-banner.png"
    assert window.grab().save(str(shot)) and shot.stat().st_size > 0

    # Meanwhile Ann deleted her post; then the connection comes back.
    ann = Mention.select().where(Mention.text.contains("walk")).get()
    mastodon.delete_status(ann.remote_id)
    mastodon.start()
    with qtbot.waitSignal(window.offline_watch.back_online) as back:
        banner.retry_button.click()

    assert not banner.isVisible()
    assert not window.offline_watch.retry_timer.isActive()
    message = back.args[0]
    assert message == (
        "Back online: queued replies were checked before sending — 1 sent, 1 not sent (see the "
        "case)."
    )
    assert window.statusBar().currentMessage() == message
    states = {r.text: r.state for r in OutboundReply.select()}
    assert states == {
        "Yes, it is on! See you at ten.": ReplyState.FAILED.value,
        "At the old bridge.": ReplyState.SENT.value,
    }
    assert len(mastodon.posted) == 1
    assert "0 replies queued" in window.status_label.text()


def test_a_failing_account_that_answers_is_not_offline(
    qtbot, window: MainWindow, mastodon: QuickMastodon
) -> None:
    mastodon.revoke_tokens()
    window.sync.sync_now()
    assert window.sync.last_run is not None and window.sync.last_run.failed
    assert not window.offline_banner.isVisible()
    assert not window.offline_watch.offline


def test_a_reply_held_back_because_it_was_answered_can_be_sent_anyway(
    qtbot, window: MainWindow, mastodon: QuickMastodon, asker
) -> None:
    window.sync.sync_now()
    mastodon.stop()
    reply_from_window(window, "ann", "Yes, it is on! See you at ten.")
    ann = Mention.select().join(Person).where(Person.handle.startswith("ann")).get()
    mastodon.add_own_status("It is on — Sam", in_reply_to=ann.remote_id)  # a colleague, on the web
    mastodon.start()
    window.offline_watch.retry()
    [reply] = OutboundReply.select()
    assert reply.state == ReplyState.FAILED.value and mastodon.posted == []
    window.open_case(ann.case_id)
    thread = window.case_pane.thread
    assert "already answered this post from outside Kindly" in thread.toPlainText()
    assert f"kindly:send-anyway/{reply.id}" in thread.toHtml()
    if SHOTS:
        window.grab().save(str(Path(SHOTS) / "send-anyway.png"))

    asker.confirms = [False]
    thread.anchorClicked.emit(QUrl(f"kindly:send-anyway/{reply.id}"))
    assert mastodon.posted == []
    asker.confirms = [True]
    with qtbot.waitSignal(window.sync.finished):
        thread.anchorClicked.emit(QUrl(f"kindly:send-anyway/{reply.id}"))

    assert asker.asked[-2:] == ["Send anyway?", "Send anyway?"]
    assert OutboundReply.get_by_id(reply.id).state == ReplyState.SENT.value
    assert len(mastodon.posted) == 1
    assert "1 reply sent" in window.sync_status.text()
