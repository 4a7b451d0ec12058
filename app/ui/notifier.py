"""The tray icon: how many cases need a reply, and a short message when new mentions arrive.

Many desktops have no system tray (and offscreen Qt never has one), so everything here is
optional: without a tray the notifier still keeps its text, and shows nothing.
Set ``KINDLY_NO_TRAY=1`` to turn the tray off.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget


def tray_available() -> bool:
    if os.environ.get("KINDLY_NO_TRAY"):
        return False
    return QSystemTrayIcon.isSystemTrayAvailable()


class Notifier(QObject):
    """Owns the tray icon, if there is a tray. Clicking it brings the parent window to the front
    (and emits ``activated``)."""

    activated = Signal()

    def __init__(self, parent: QObject | None = None, icon: QIcon | None = None) -> None:
        super().__init__(parent)
        self.tooltip = "Kindly"
        self.last_message = ""
        self.tray: QSystemTrayIcon | None = None
        if not tray_available():
            return
        icon = icon if icon is not None and not icon.isNull() else QApplication.windowIcon()
        if icon.isNull():
            return  # a tray icon without a picture is invisible and makes Qt complain
        self.tray = QSystemTrayIcon(icon, self)
        self.tray.setToolTip(self.tooltip)
        self.tray.activated.connect(self._activated)
        self.tray.show()

    @property
    def available(self) -> bool:
        return self.tray is not None

    def set_unread(self, count: int) -> None:
        if count:
            self.tooltip = f"Kindly — {count} need{'s' if count == 1 else ''} a reply"
        else:
            self.tooltip = "Kindly — nothing needs a reply"
        if self.tray is not None:
            self.tray.setToolTip(self.tooltip)

    def notify_new(self, count: int) -> None:
        """A message for new mentions (shown only where the tray can show messages, and only
        when the window is not the one in front: then the list says it already)."""
        window = self.parent()
        if count <= 0 or (isinstance(window, QWidget) and window.isActiveWindow()):
            return
        self.last_message = f"{count} new mention{'' if count == 1 else 's'}"
        if self.tray is not None and self.tray.supportsMessages():
            self.tray.showMessage(
                "Kindly", self.last_message, QSystemTrayIcon.MessageIcon.Information, 8000
            )

    def close(self) -> None:
        if self.tray is not None:
            self.tray.hide()

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            window = self.parent()
            if isinstance(window, QWidget):
                window.showNormal()
                window.raise_()
                window.activateWindow()
            self.activated.emit()
