"""The one way the UI runs core work off the UI thread.

``TaskRunner.run(fn, on_done, on_error)`` calls ``fn`` on a pool thread and delivers its result
or exception back on the UI thread. Tests use ``ImmediateRunner``, which runs the same calls
synchronously, so a test never races a thread.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)

Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]


class Runner(Protocol):
    def run(
        self, fn: Callable[[], Any], on_done: Done | None = None, on_error: Failed | None = None
    ) -> None: ...

    def wait(self, msecs: int = -1) -> bool: ...


class _Relay(QObject):
    done = Signal(object)
    failed = Signal(object)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self.fn = fn
        self.relay = relay

    def run(self) -> None:
        try:
            result = self.fn()
        except BaseException as exc:
            log.debug("background task failed:\n%s", traceback.format_exc())
            self.relay.failed.emit(exc)
        else:
            self.relay.done.emit(result)


class TaskRunner(QObject):
    """Runs callables on a private thread pool; results arrive on the UI thread."""

    def __init__(self, parent: QObject | None = None, max_threads: int = 2) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        self._relays: set[_Relay] = set()

    def run(
        self, fn: Callable[[], Any], on_done: Done | None = None, on_error: Failed | None = None
    ) -> None:
        relay = _Relay()
        self._relays.add(relay)

        @Slot(object)
        def finished(result: Any) -> None:
            self._relays.discard(relay)
            if on_done is not None:
                on_done(result)

        @Slot(object)
        def failed(exc: BaseException) -> None:
            self._relays.discard(relay)
            if on_error is not None:
                on_error(exc)
            else:
                log.error("background task failed: %r", exc)

        relay.done.connect(finished)
        relay.failed.connect(failed)
        self.pool.start(_Job(fn, relay))

    def wait(self, msecs: int = -1) -> bool:
        return bool(self.pool.waitForDone(msecs))


class ImmediateRunner:
    """Same interface, synchronous: for tests and for command-line use."""

    def run(
        self, fn: Callable[[], Any], on_done: Done | None = None, on_error: Failed | None = None
    ) -> None:
        try:
            result = fn()
        except Exception as exc:
            if on_error is None:
                raise
            on_error(exc)
        else:
            if on_done is not None:
                on_done(result)

    def wait(self, msecs: int = -1) -> bool:
        return True
