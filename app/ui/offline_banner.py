"""The offline banner: says when Kindly cannot reach the networks and how many replies wait.

``OfflineBanner`` is a plain widget (it knows nothing of the app: ``show_offline``/``set_queued``
in, ``retry_requested`` out). ``OfflineWatch`` reads each sync run's outcome from the
``SyncController``: a run in which no network could be reached at all (every contact failed as
``Offline``) means offline; any network that answered means online. While offline it tries again
every minute; when the connection is back it says what happened to the queued replies, which
the sender re-checks against the networks before posting (``app.core.sending``).
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from app.ui.sync_controller import SyncController, SyncRun

RETRY_MS = 60_000


def connection_state(run: SyncRun) -> bool | None:
    """True: offline; False: a network answered; None: this run tells nothing (nothing tried,
    or only local problems such as a keyring that is locked)."""
    if run.error:
        return None
    reached = unreachable = False
    for account in run.sync.accounts if run.sync else []:
        if account.offline:
            unreachable = True
        elif account.error is None and not account.cancelled:
            reached = True
    if run.send is not None:
        if run.send.offline:
            unreachable = True
        if run.send.sent or run.send.reconciled or run.send.failed:
            reached = True
    if reached:
        return False
    return True if unreachable else None


def queued_text(queued: int) -> str:
    if queued == 0:
        return "Replies you write are queued and sent when the connection is back."
    replies = "1 reply is" if queued == 1 else f"{queued} replies are"
    return (
        f"{replies} queued: each is checked (still there? already answered?) and sent "
        "when the connection is back."
    )


class OfflineBanner(QFrame):
    """A strip above the inbox, shown only while offline."""

    retry_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("OfflineBanner")
        self.setStyleSheet(
            "#OfflineBanner { background: #FEF3C7; border-bottom: 1px solid #F59E0B; }"
            "#OfflineBanner QLabel { color: #78350F; }"
        )
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setWordWrap(True)
        self.label.setAccessibleName("Offline")
        self.retry_button = QPushButton("Try now")
        self.retry_button.setToolTip("Try to reach the networks again now")
        self.retry_button.clicked.connect(self.retry_requested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.retry_button)
        self.offline_since: datetime | None = None
        self.queued = 0
        self.setVisible(False)

    def text(self) -> str:
        return self.label.text()

    def show_offline(self, since: datetime | None) -> None:
        self.offline_since = since
        self._render()
        self.setVisible(since is not None)

    def set_queued(self, queued: int) -> None:
        self.queued = queued
        self._render()

    def _render(self) -> None:
        if self.offline_since is None:
            return
        when = self.offline_since.astimezone().strftime("%H:%M")
        self.label.setText(
            f"Kindly is offline (since {when}): everything already fetched works as usual. "
            + queued_text(self.queued)
        )


class OfflineWatch(QObject):
    """Drives the banner from the sync runs; ``back_online`` says what the first run sent."""

    back_online = Signal(str)

    def __init__(
        self, controller: SyncController, banner: OfflineBanner, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.banner = banner
        self.offline = False
        self.retry_timer = QTimer(self)
        self.retry_timer.setInterval(RETRY_MS)
        self.retry_timer.timeout.connect(self.retry)
        controller.finished.connect(self._run_finished)
        banner.retry_requested.connect(self.retry)

    def retry(self) -> None:
        self.controller.sync_now()

    def stop(self) -> None:
        self.retry_timer.stop()

    def _run_finished(self, run: SyncRun) -> None:
        state = connection_state(run)
        if state is None or state == self.offline:
            return
        self.offline = state
        if state:
            self.banner.show_offline(run.finished_at or datetime.now())
            self.retry_timer.start()
            return
        self.retry_timer.stop()
        self.banner.show_offline(None)
        self.back_online.emit(back_online_text(run))


def back_online_text(run: SyncRun) -> str:
    send = run.send
    if send is None or not (send.sent or send.reconciled or send.failed):
        return "Back online."
    parts = []
    sent = len(send.sent) + len(send.reconciled)
    if sent:
        parts.append(f"{sent} sent")
    if send.failed:
        parts.append(f"{len(send.failed)} not sent (see the case)")
    return "Back online: queued replies were checked before sending — " + ", ".join(parts) + "."
