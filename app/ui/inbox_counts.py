"""The counts the window shows: cases in each view (sidebar), the unread badge, replies queued.

Counted at once after a change (``refresh``). At start-up they are counted on a pool thread
once the first page is on screen (``refresh_in_background``): the grouped count of every case
takes 15–110 ms on 1M mentions. A background count overtaken by a later refresh is dropped.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from app.core.context import AppContext, own_connection
from app.core.inbox import InboxView
from app.core.vocab import Network
from app.ui.notifier import Notifier
from app.ui.offline_banner import OfflineBanner
from app.ui.sidebar import Sidebar
from app.ui.tasks import Runner

Counts = tuple[dict[Network | None, dict[InboxView, int]], int]  # per network (None: all), queued


class InboxCounts:
    def __init__(
        self,
        context: AppContext,
        runner: Runner,
        sidebar: Sidebar,
        notifier: Notifier,
        status: QLabel,
        banner: OfflineBanner,
    ) -> None:
        self.context, self.runner = context, runner
        self.sidebar, self.notifier, self.status, self.banner = sidebar, notifier, status, banner
        self._asked = 0

    def count(self) -> Counts:
        inbox = self.context.inbox
        views = {network: inbox.view_counts(network) for network in (None, *Network)}
        return views, self.context.outbox.queued_count()

    def refresh(self) -> None:
        self._asked += 1  # a count still running in the background is out of date
        self.show(self.count())

    def refresh_in_background(self) -> None:
        asked = self._asked
        self.runner.run(
            own_connection(self.count), lambda counts: asked == self._asked and self.show(counts)
        )

    def show(self, counts: Counts) -> None:
        views, queued = counts
        for network, view_counts in views.items():
            self.sidebar.set_counts(view_counts, network)
        self.notifier.set_unread(views[None][InboxView.NEEDS_REPLY])
        demo = "Demo data · " if self.context.demo else ""
        self.status.setText(f"{demo}{queued} repl{'y' if queued == 1 else 'ies'} queued")
        self.banner.set_queued(queued)
