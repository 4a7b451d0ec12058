"""Guards against a Qt binding build that breaks the app on this Python.

PySide6 6.12.0 on Python 3.11 returned ``None`` from void methods without a new reference, so
each call drained ``None``'s count until the interpreter aborted (``none_dealloc``) after a few
hundred cases. ``None`` is immortal from Python 3.12, where the leak is harmless.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel


class _Emitter(QObject):
    ping = Signal()


def test_void_calls_and_emits_do_not_drain_none_or_true(qtbot) -> None:
    label = QLabel()
    qtbot.addWidget(label)
    emitter = _Emitter()
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(2000):
        label.setText("a")
        emitter.ping.emit()
    if sys.version_info < (3, 12):
        assert sys.getrefcount(None) >= none_before - 50, "PySide6 leaks references to None"
        assert sys.getrefcount(True) >= true_before - 50, "PySide6 leaks references to True"
