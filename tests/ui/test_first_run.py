"""The first-run step after the welcome: organisation name, office hours, response target."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import time, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt, QTime

from app.core import settings as options
from app.core.context import AppContext
from app.core.policy import default_policy
from app.core.secrets import MemoryKeyring, SecretStore
from app.core.triage_setup import office_hours, response_target
from app.storage.db import close_database
from app.ui import app as app_module
from app.ui.first_run import FirstRunDialog, offer_first_run, policy_summary
from app.ui.main_window import MainWindow
from app.ui.policy_editor import PolicyEditor
from app.ui.tasks import ImmediateRunner
from app.ui.welcome import WelcomeDialog
from tests.ui.conftest import ScriptedAsker


class Host:
    def __init__(self) -> None:
        self.changed = 0
        self.editor = 0

    def settings_changed(self) -> None:
        self.changed += 1

    def open_policy_editor(self) -> None:
        self.editor += 1


def test_the_summary_names_what_the_default_policy_does() -> None:
    text = policy_summary(default_policy())
    assert text.startswith("Kindly starts with a response policy of 13 rules, read from the top.")
    assert "moved to phone or email: threats and safety, legal, press." in text
    assert "left alone, with the reason recorded: spam and scams, watch list, abuse" in text
    assert "Policy → Response policy…" in text


def test_the_step_stores_name_hours_and_target(qtbot, db_path: Path) -> None:
    from app.core.settings import Settings

    settings, host = Settings(), Host()
    dialog = offer_first_run(None, settings, default_policy(), host, demo=False)  # type: ignore[arg-type]
    assert isinstance(dialog, FirstRunDialog)
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.org, "Riverbank Alliance")
    form = dialog.form
    assert form.holiday_list.isHidden()  # holidays wait for the full dialog
    form.zone.setCurrentText("Europe/Dublin")
    form.days[4].setChecked(False)
    form.opens.setTime(QTime(10, 0))
    form.closes.setTime(QTime(15, 30))
    form.target_hours.setValue(0)
    form.target_minutes.setValue(45)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert settings.get(options.ORG_NAME) == "Riverbank Alliance"
    hours = office_hours(settings)
    assert (hours.zone, hours.days) == ("Europe/Dublin", frozenset({0, 1, 2, 3}))
    assert (hours.opens, hours.closes) == (time(10), time(15, 30))
    assert response_target(settings) == timedelta(minutes=45)
    assert host.changed == 1 and not dialog.isVisible()
    # Offered once per data folder, and never on the demo.
    assert offer_first_run(None, settings, default_policy(), host, demo=False) is None  # type: ignore[arg-type]


def test_not_on_the_demo_and_later_keeps_the_defaults(qtbot, db_path: Path) -> None:
    from app.core.settings import Settings

    settings, host = Settings(), Host()
    assert offer_first_run(None, settings, default_policy(), host, demo=True) is None  # type: ignore[arg-type]
    dialog = offer_first_run(None, settings, default_policy(), host, demo=False)  # type: ignore[arg-type]
    assert dialog is not None
    qtbot.addWidget(dialog)
    dialog.reject()  # "Later"
    assert settings.get(options.OFFICE_RESPONSE_MINUTES) == 120 and host.changed == 0
    assert settings.get(options.POLICY_SETUP_DONE)


def test_review_the_rules_saves_and_opens_the_editor(qtbot, db_path: Path) -> None:
    from app.core.settings import Settings

    settings, host = Settings(), Host()
    dialog = offer_first_run(None, settings, default_policy(), host, demo=False)  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    qtbot.mouseClick(dialog.rules_button, Qt.MouseButton.LeftButton)
    assert (host.changed, host.editor) == (1, 1)


@pytest.fixture
def launcher(
    qtbot, data_dir: Path, asker: ScriptedAsker, qsettings: QSettings, monkeypatch
) -> Iterator[app_module.Launcher]:
    def context(*args, **kwargs):
        return AppContext(*args, secrets=SecretStore(MemoryKeyring()), **kwargs)

    def window(context):
        win = MainWindow(context, asker=asker, qsettings=qsettings, runner=ImmediateRunner())
        qtbot.addWidget(win)
        return win

    monkeypatch.setattr(app_module, "new_context", context)
    monkeypatch.setattr(app_module, "MainWindow", window)
    opened = app_module.Launcher(app_module.LaunchOptions(data_dir, data_dir / "log.txt"))
    yield opened
    if opened.window is not None:
        opened.window.close()
    close_database()


def test_after_the_welcome_comes_the_policy_step(qtbot, launcher) -> None:
    win = launcher.open(demo=False)
    launcher.offer_welcome()
    [welcome] = win.findChildren(WelcomeDialog)
    welcome.reject()  # "Start with an empty inbox"
    [step] = win.findChildren(FirstRunDialog)
    assert step.isVisible()
    qtbot.mouseClick(step.rules_button, Qt.MouseButton.LeftButton)
    editor = win.policy_actions.policy_editor
    assert isinstance(editor, PolicyEditor) and editor.isVisible()
    launcher.offer_welcome()  # the next start: neither is offered again
    assert len(win.findChildren(WelcomeDialog)) == 1 and len(win.findChildren(FirstRunDialog)) == 1


def test_adding_an_account_first_then_the_policy_step(qtbot, launcher) -> None:
    win = launcher.open(demo=False)
    launcher.offer_welcome()
    [welcome] = win.findChildren(WelcomeDialog)
    qtbot.mouseClick(welcome.accounts_button, Qt.MouseButton.LeftButton)
    assert win.accounts_dialog is not None and win.accounts_dialog.isVisible()
    assert not win.findChildren(FirstRunDialog)
    win.accounts_dialog.reject()
    [step] = win.findChildren(FirstRunDialog)
    assert step.isVisible()
