"""The status bar says so when another Kindly (a scheduled sync, a second window) is sending:
this window's replies stay queued for the next round, nothing is tried twice."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.context import AppContext
from app.core.outbox import Outbox
from app.core.secrets import MemoryKeyring, SecretStore
from app.core.sender_lock import BUSY_MESSAGE, SenderLock, lock_path_for
from app.core.vocab import Network, ReplyState
from app.storage.models import Mention, OutboundReply
from app.ui.sync_controller import SyncController, SyncRun
from app.ui.tasks import ImmediateRunner
from tests.fakes.mastodon import TOKEN as MASTODON_TOKEN
from tests.ui.net_helpers import QuickMastodon


@pytest.fixture
def context(db_path: Path, data_dir: Path) -> Iterator[AppContext]:
    ctx = AppContext(data_dir, db_path, secrets=SecretStore(MemoryKeyring()))
    yield ctx
    ctx.close()


@pytest.fixture
def mastodon() -> Iterator[QuickMastodon]:
    with QuickMastodon() as server:
        yield server


def send_now(qtbot, controller: SyncController) -> SyncRun:
    with qtbot.waitSignal(controller.finished, timeout=20_000) as finished:
        assert controller.send_now()
    run = finished.args[0]
    assert isinstance(run, SyncRun)
    return run


def test_replies_wait_while_another_kindly_sends_then_go(
    qtbot, context: AppContext, mastodon: QuickMastodon, db_path: Path
) -> None:
    context.accounts.add_account(
        Network.MASTODON, mastodon.base_url, "", {"access_token": MASTODON_TOKEN}
    )
    mastodon.add_mention("ann@example.org", "@kindlytrust hello")
    context.sync.sync_all()
    mention = Mention.get()
    reply_id = Outbox().queue_reply(mention.case_id, "Hello Ann!", mention.id).id
    controller = SyncController(context, ImmediateRunner())

    with SenderLock(lock_path_for(db_path)):  # a scheduled `kindly sync` is sending
        busy = send_now(qtbot, controller)

    assert "Replies wait: another Kindly is sending them" in busy.summary()
    assert BUSY_MESSAGE in busy.details()
    assert not busy.failed
    assert OutboundReply.get_by_id(reply_id).state == ReplyState.QUEUED.value
    assert not mastodon.posted

    sent = send_now(qtbot, controller)

    assert "1 reply sent" in sent.summary()
    assert OutboundReply.get_by_id(reply_id).state == ReplyState.SENT.value
    assert len(mastodon.posted) == 1
