"""Background sync and sending: on a schedule, on demand, one run at a time, cancellable.

``SyncController`` runs ``SyncEngine.sync_all`` and then ``Sender.send_pending`` on the
TaskRunner's pool (never on the UI thread), relays progress to the UI thread as text, and
reports each run. ``SyncStatus`` is the status-bar widget that shows a run and can cancel it.
Accounts that are not connected to anything (the demo's) are never synced or sent from.
"""

from __future__ import annotations

import html
import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from app.core.context import own_connection
from app.ui.tasks import Runner

if TYPE_CHECKING:  # the engines (httpx, the keyring) load when the context first builds them
    from app.core.sending import Sender, SendReport
    from app.core.sync import SyncEngine, SyncProgress, SyncReport

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SyncRun:
    """What one run did: the sync (None when only sending ran) and the sending."""

    sync: SyncReport | None
    send: SendReport | None
    cancelled: bool = False
    error: str | None = None  # the whole run failed unexpectedly
    finished_at: datetime | None = None

    @property
    def new_mentions(self) -> int:
        return self.sync.stored if self.sync is not None else 0

    @property
    def failed(self) -> bool:
        return bool(
            self.error or (self.sync and self.sync.failed) or (self.send and self.send.failed)
        )

    def summary(self) -> str:
        """One line for the status bar (plain text)."""
        if self.error:
            return f"Sync failed: {self.error}"
        parts: list[str] = []
        if self.cancelled:
            parts.append("Sync cancelled")
        elif self.sync is not None:
            accounts = len(self.sync.accounts)
            when = (self.finished_at or datetime.now()).astimezone().strftime("%H:%M")
            if accounts:
                parts.append(f"Synced {accounts} account{'' if accounts == 1 else 's'} at {when}")
            else:
                parts.append("No connected accounts to sync")
            stored = self.sync.stored
            parts.append(f"{stored} new mention{'' if stored == 1 else 's'}")
            parts.extend(f"{a.label}: {a.error}" for a in self.sync.failed)
        if self.send is not None:
            sent = len(self.send.sent) + len(self.send.reconciled)
            if sent:
                parts.append(f"{sent} repl{'y' if sent == 1 else 'ies'} sent")
            if self.send.failed:
                parts.append(f"{len(self.send.failed)} not sent (see the case)")
            if self.send.busy:
                parts.append("Replies wait: another Kindly is sending them")
            elif self.send.waiting:
                parts.append(f"{len(self.send.waiting)} still queued")
        return " · ".join(parts) or "Nothing to send"

    def details(self) -> str:
        """Per account, for a tooltip (plain text)."""
        lines: list[str] = []
        for result in self.sync.accounts if self.sync else []:
            if result.error:
                lines.append(f"{result.label}: {result.error}")
            elif result.cancelled:
                lines.append(f"{result.label}: cancelled")
            else:
                lines.append(f"{result.label}: {result.stored} new")
        for reply_id, message in (self.send.errors if self.send else {}).items():
            lines.append(f"Reply {reply_id}: {message}")
        if self.send and self.send.busy:
            lines.append(self.send.busy)
        return "\n".join(lines)


class SyncServices(Protocol):
    """Where the controller finds the engine and the sender (``AppContext`` is one).

    Read only when a run starts, so opening the window does not open the keyring.
    """

    @property
    def sync(self) -> SyncEngine: ...

    @property
    def sender(self) -> Sender: ...


def progress_text(progress: SyncProgress) -> str:
    if progress.done:
        return f"{progress.label}: done, {progress.fetched} new"
    return f"Syncing {progress.label}: {progress.fetched} mention(s) read…"


class SyncController(QObject):
    """Owns sync + send. Signals arrive on the UI thread."""

    started = Signal()
    progress = Signal(str)
    finished = Signal(object)  # SyncRun
    new_mentions = Signal(int)
    _progressed = Signal(object)  # SyncProgress, emitted on the pool thread

    def __init__(
        self, services: SyncServices, runner: Runner, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.runner = runner
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.sync_now)
        self.last_run: SyncRun | None = None
        self._cancel: threading.Event | None = None
        self._send_again = False
        self._closed = False
        self._progressed.connect(self._relay_progress)

    # -- control -------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._cancel is not None

    def schedule(self, minutes: int) -> None:
        """Sync every ``minutes`` while the app is open (at least one minute apart)."""
        self.timer.start(max(1, int(minutes)) * 60_000)

    def has_connected_accounts(self) -> bool:
        return any(
            a.enabled and not a.keyring_ref.startswith("demo:")
            for a in self.services.sync.accounts.list_accounts()
        )

    def sync_now(self) -> bool:
        """Fetch new mentions, then send queued replies. False if a run is already going."""
        return self._start(fetch=True)

    def send_now(self) -> bool:
        """Send queued replies now; if a run is going, send again once it is over."""
        if self.running:
            self._send_again = True
            return False
        return self._start(fetch=False)

    def send_anyway(self, reply_id: int) -> None:
        """The officer overrides the pre-send re-check for one held-back reply: send it now."""
        sender = self.services.sender

        def failed(error: BaseException) -> None:
            log.error("sending reply %d anyway failed: %r", reply_id, error)
            message = getattr(error, "user_message", None) or type(error).__name__
            self._finish(SyncRun(None, None, error=str(message), finished_at=datetime.now()))

        self.runner.run(
            own_connection(lambda: sender.send_anyway(reply_id)),
            lambda report: self._finish(SyncRun(None, report, finished_at=datetime.now())),
            failed,
        )

    def cancel(self) -> None:
        if self._cancel is not None and not self._cancel.is_set():
            self._cancel.set()
            self.progress.emit("Cancelling after the current step…")

    def shutdown(self) -> None:
        """Stop the schedule, cancel a run and wait for it (before the database closes)."""
        self._closed = True
        self.timer.stop()
        self.cancel()
        self.runner.wait()

    # -- running -------------------------------------------------------------------------------

    def _start(self, fetch: bool) -> bool:
        if self._closed or self.running:
            return False
        if not self.has_connected_accounts():
            if fetch:
                from app.core.sync import SyncReport

                self._finish(SyncRun(SyncReport(), None, finished_at=datetime.now()))
            return False
        cancel = threading.Event()
        self._cancel = cancel
        self.started.emit()
        self.progress.emit("Syncing…" if fetch else "Sending replies…")
        engine, sender = self.services.sync, self.services.sender
        relay = self._progressed.emit

        def job() -> SyncRun:
            report = engine.sync_all(cancel, relay) if fetch else None
            sent = sender.send_pending(cancel) if not cancel.is_set() else None
            return SyncRun(report, sent, cancel.is_set(), finished_at=datetime.now())

        self.runner.run(own_connection(job), self._done, self._failed)
        return True

    def _relay_progress(self, progress: SyncProgress) -> None:
        if not self._closed:
            self.progress.emit(progress_text(progress))

    def _done(self, run: SyncRun) -> None:
        self._cancel = None
        if self._closed:
            return
        self._finish(run)

    def _failed(self, error: BaseException) -> None:
        self._cancel = None
        log.error("sync run failed: %r", error)
        if self._closed:
            return
        message = getattr(error, "user_message", None) or f"{type(error).__name__}: {error}"
        self._finish(SyncRun(None, None, error=str(message), finished_at=datetime.now()))

    def _finish(self, run: SyncRun) -> None:
        self.last_run = run
        self.finished.emit(run)
        if run.new_mentions:
            self.new_mentions.emit(run.new_mentions)
        if self._send_again and not self._closed:
            self._send_again = False
            self.send_now()


class SyncStatus(QWidget):
    """Status-bar widget: what the sync is doing, a busy bar and Cancel while it runs.

    A failed run shows in red with a link that asks for the accounts (``accounts_requested``).
    """

    accounts_requested = Signal()

    def __init__(self, controller: SyncController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setAccessibleName("Sync status")
        self.label.linkActivated.connect(lambda _link: self.accounts_requested.emit())
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(80)
        self.busy.setMaximumHeight(14)
        self.busy.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop this sync after the current step")
        self.cancel_button.clicked.connect(controller.cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 6, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.busy)
        layout.addWidget(self.cancel_button)
        self._set_running(False)
        controller.started.connect(lambda: self._set_running(True))
        controller.progress.connect(self._show_progress)
        controller.finished.connect(self._show_result)

    def text(self) -> str:
        """What the label says, without markup."""
        doc = self.label.text()
        return html.unescape(doc.split("<a ", 1)[0].replace("<b>", "").replace("</b>", ""))

    def _set_running(self, running: bool) -> None:
        self.busy.setVisible(running)
        self.cancel_button.setVisible(running)
        self.cancel_button.setEnabled(running)

    def _show_progress(self, text: str) -> None:
        self.label.setStyleSheet("")
        self.label.setText(html.escape(text))
        if text.startswith("Cancelling"):
            self.cancel_button.setEnabled(False)

    def _show_result(self, run: SyncRun) -> None:
        self._set_running(False)
        text = html.escape(run.summary())
        if run.error or (run.sync and run.sync.failed):
            text += " <a href='accounts'>Accounts…</a>"
        self.label.setStyleSheet("color: #B91C1C" if run.failed else "")
        self.label.setText(text)
        self.label.setToolTip(run.details())
