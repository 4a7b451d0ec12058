"""What the accounts, sync and end-to-end UI tests share: fakes that stop at once, a runner
that holds jobs until the test lets them run, and a context on a fresh database."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QLabel, QLineEdit, QWidget

from app.ui.tasks import Done, Failed, ImmediateRunner
from tests.helpers.sync_support import Mastodon


class QuickMastodon(Mastodon):
    """The fake Mastodon (with delays and holds) that stops without the 0.5 s poll."""

    def stop(self) -> None:
        httpd = self._httpd
        if httpd is None:
            return
        address = httpd.server_address[:2]
        done = threading.Event()

        def wake() -> None:
            while not done.wait(0.01):
                with contextlib.suppress(OSError):
                    socket.create_connection(address, timeout=0.2).close()

        waker = threading.Thread(target=wake, daemon=True)
        waker.start()
        try:
            super().stop()
        finally:
            done.set()
            waker.join()


class ManualRunner:
    """A Runner that keeps jobs until ``finish()``: the test sees the busy state in between."""

    def __init__(self) -> None:
        self.jobs: list[tuple[Callable[[], Any], Done | None, Failed | None]] = []

    def run(
        self, fn: Callable[[], Any], on_done: Done | None = None, on_error: Failed | None = None
    ) -> None:
        self.jobs.append((fn, on_done, on_error))

    def finish(self) -> None:
        while self.jobs:
            fn, on_done, on_error = self.jobs.pop(0)
            ImmediateRunner().run(fn, on_done, on_error)

    def wait(self, msecs: int = -1) -> bool:
        return not self.jobs


def shown_text(widget: QWidget) -> str:
    """Every label's and line edit's text in ``widget``, as a person could read it."""
    parts = [label.text() for label in widget.findChildren(QLabel)]
    parts += [
        edit.text()
        for edit in widget.findChildren(QLineEdit)
        if edit.echoMode() == QLineEdit.EchoMode.Normal
    ]
    parts += [edit.displayText() for edit in widget.findChildren(QLineEdit)]
    return "\n".join(parts)
