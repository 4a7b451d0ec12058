"""Acting on a modal dialog from a test: its ``exec()`` blocks the test until it closes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog

D = TypeVar("D", bound=QDialog)


def when_shown(kind: type[D], act: Callable[[D], object]) -> None:
    """Run ``act`` on the first visible ``kind`` dialog once the event loop shows one.

    Call it before the code that opens the dialog. The dialog is closed afterwards if ``act``
    left it open, so a failed check inside ``act`` fails the test instead of hanging it."""

    def find() -> None:
        shown = [w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()]
        if not shown:
            QTimer.singleShot(10, find)
            return
        try:
            act(shown[0])
        finally:
            if shown[0].isVisible():
                shown[0].done(0)

    QTimer.singleShot(0, find)
