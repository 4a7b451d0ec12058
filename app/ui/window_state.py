"""Window geometry and splitter positions, kept in QSettings: per machine, not in the data."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow, QSplitter


def default_settings() -> QSettings:
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "Kindly", "Kindly")


class WindowState:
    def __init__(self, settings: QSettings) -> None:
        self.settings = settings

    def save(self, window: QMainWindow, splitters: dict[str, QSplitter]) -> None:
        self.settings.setValue("window/geometry", window.saveGeometry())
        self.settings.setValue("window/state", window.saveState())
        for name, splitter in splitters.items():
            self.settings.setValue(f"splitters/{name}", splitter.saveState())
        self.settings.sync()

    def restore(self, window: QMainWindow, splitters: dict[str, QSplitter]) -> bool:
        geometry = self.settings.value("window/geometry")
        restored = isinstance(geometry, QByteArray) and window.restoreGeometry(geometry)
        state = self.settings.value("window/state")
        if isinstance(state, QByteArray):
            window.restoreState(state)
        self.restore_splitters(splitters)
        return bool(restored)

    def restore_splitters(self, splitters: dict[str, QSplitter]) -> None:
        """Splitters made after the window was restored (the case pane, once the inbox opens)."""
        for name, splitter in splitters.items():
            value = self.settings.value(f"splitters/{name}")
            if isinstance(value, QByteArray):
                splitter.restoreState(value)
