"""UI fixtures: the demo organisation in a temporary data folder, a window, a scripted asker."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from app.core.context import AppContext
from app.core.demo import open_demo_database
from app.storage.db import close_database
from app.ui.main_window import MainWindow


class ScriptedAsker:
    """Answers the window's questions from a script, and records them."""

    def __init__(self) -> None:
        self.reasons: list[str | None] = []
        self.confirms: list[bool] = []
        self.asked: list[str] = []
        self.informed: list[str] = []

    def ask_reason(self, title: str, prompt: str, presets: Sequence[str]) -> str | None:
        self.asked.append(title)
        return self.reasons.pop(0) if self.reasons else None

    def confirm(self, title: str, text: str) -> bool:
        self.asked.append(title)
        return self.confirms.pop(0) if self.confirms else False

    def inform(self, title: str, text: str) -> None:
        self.informed.append(text)


@pytest.fixture
def demo_context(data_dir: Path) -> Iterator[AppContext]:
    path = open_demo_database(data_dir)
    context = AppContext(data_dir, path, demo=True)
    context.templates.seed()
    yield context
    close_database()


@pytest.fixture
def qsettings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def asker() -> ScriptedAsker:
    return ScriptedAsker()


@pytest.fixture
def window(
    qtbot, demo_context: AppContext, asker: ScriptedAsker, qsettings: QSettings
) -> MainWindow:
    win = MainWindow(demo_context, asker=asker, qsettings=qsettings)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win
