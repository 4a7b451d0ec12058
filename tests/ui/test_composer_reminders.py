"""Reminders while writing, in the window: shown as a case opens and as the officer types, each
with its one-click fix; only unfilled variables block sending."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QLabel, QPushButton

from app.core.context import AppContext
from app.core.reminders import ReminderKind
from app.core.triage_setup import set_vacation
from app.ui.composer import Composer
from app.ui.main_window import MainWindow
from app.ui.tasks import ImmediateRunner
from tests.ui.conftest import ScriptedAsker
from tests.ui.policy_desk import NOW, desk_context, mention


@pytest.fixture
def context(data_dir: Path, db_path: Path) -> AppContext:
    return desk_context(data_dir, db_path)


@pytest.fixture
def window(qtbot, context, asker: ScriptedAsker, qsettings: QSettings) -> Iterator[MainWindow]:
    win = MainWindow(context, asker=asker, qsettings=qsettings, runner=ImmediateRunner())
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.shutdown()


def rows(composer: Composer) -> list[tuple[str, QPushButton | None]]:
    """The reminder rows on screen: their text and fix button."""
    found = []
    for i in range(composer.reminders.count()):
        item = composer.reminders.itemAt(i)
        row = item.widget() if item is not None else None
        if row is None:
            continue
        label = row.findChild(QLabel)
        found.append((label.text() if label else "", row.findChild(QPushButton)))
    return found


def row(composer: Composer, starts: str) -> tuple[str, QPushButton | None]:
    (found,) = [r for r in rows(composer) if r[0].startswith(starts)]
    return found


def type_draft(qtbot, window: MainWindow, text: str) -> None:
    window.composer.edit.setPlainText(text)
    window.policy_actions.bridge.refresh()  # as the debounce timer would


def open_case(window: MainWindow, case_id: int) -> None:
    window.open_case(case_id)
    assert window.current is not None and window.current.id == case_id


def test_a_case_opens_with_its_rule_reminder_and_the_network_counter(qtbot, window, context):
    case_id = mention(context, "When does the clean-up start on Saturday?")
    window.refresh()
    open_case(window, case_id)
    composer = window.composer
    text, button = row(composer, "Question: ")
    assert text == "Question: Answer the actual question. If you don't know yet, say when you will."
    assert button is None
    assert composer.counter.text() == "0 / 500"  # Mastodon's own limit
    composer.edit.setPlainText("Hi Rosa, it starts at 10 at https://example.org/a/very/long/link")
    assert composer.counter.text() == "51 / 500"  # a link counts as 23


def test_typing_is_debounced_and_capitals_get_a_one_click_fix(qtbot, window, context):
    case_id = mention(context, "When does the clean-up start?")
    window.refresh()
    open_case(window, case_id)
    composer = window.composer
    composer.edit.setFocus()
    qtbot.keyClicks(composer.edit, "HI ROSA, IT STARTS AT TEN ON SATURDAY")
    bridge = window.policy_actions.bridge
    assert bridge.timer.isActive()  # not on every key
    qtbot.waitUntil(lambda: any(t.startswith("Written in capitals") for t, _ in rows(composer)))
    _text, button = row(composer, "Written in capitals")
    assert button is not None and button.text() == "Use normal capitals"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert composer.text() == "Hi rosa, it starts at ten on saturday"
    assert not [t for t, _ in rows(composer) if t.startswith("Written in capitals")]


def test_greeting_and_flagged_wording_fixes_edit_the_draft(qtbot, window, context):
    case_id = mention(context, "Your map sends people to the wrong bridge. Useless.")
    window.refresh()
    open_case(window, case_id)
    composer = window.composer
    type_draft(qtbot, window, "the map is fixed now, calm down.")
    _text, greet = row(composer, "No greeting or name")
    assert greet is not None and greet.text() == "Start with “Hi Rosa,”"
    qtbot.mouseClick(greet, Qt.MouseButton.LeftButton)
    assert composer.text() == "Hi Rosa, the map is fixed now, calm down."
    _text, kinder = row(composer, "“calm down” is on your policy's list")
    assert kinder is not None
    qtbot.mouseClick(kinder, Qt.MouseButton.LeftButton)
    assert composer.text() == "Hi Rosa, the map is fixed now, I understand this is frustrating."
    assert composer.send_button.isEnabled()  # advice never blocks


def test_an_escalation_offers_the_take_it_offline_template(qtbot, window, context):
    case_id = mention(context, "Our lawyer will be in touch about the data you hold.")
    window.refresh()
    open_case(window, case_id)
    text, button = row(window.composer, "Legal: ")
    assert "Mark the case escalated once it has moved." in text
    assert button is not None and button.text() == "Offer phone or email"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert window.composer.template_name == "take-it-offline"
    assert "hello@riverbank.example" in window.composer.text()


def test_vacation_mode_suggests_the_away_reply(qtbot, window, context):
    case_id = mention(context, "Is the office open this week?")
    set_vacation(context.settings, True, NOW - timedelta(hours=1))
    window.policy_actions.settings_changed()
    window.refresh()
    open_case(window, case_id)
    _text, button = row(window.composer, "Vacation mode is on")
    assert button is not None and button.text() == "Use the away reply"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert window.composer.template_name == "away"
    assert window.policy_actions.vacation_label.isVisibleTo(window)


def test_an_overdue_case_says_so_while_writing(qtbot, window, context):
    case_id = mention(context, "Still waiting for a refund.", ago=timedelta(minutes=55))
    window.refresh()
    open_case(window, case_id)
    # Service complaint: reply within 1 h of office time; 55 of its minutes have gone.
    assert row(window.composer, "5 min of office time left")[1] is None
    context.triage.clock = lambda: NOW + timedelta(hours=1)
    window.policy_actions.bridge.refresh()
    assert row(window.composer, "Overdue by 55 min of office time (target 1 h)")


def test_unfilled_variables_block_sending_and_are_named_once(qtbot, window, context):
    case_id = mention(context, "Can I call someone about volunteering?")
    window.refresh()
    open_case(window, case_id)
    composer = window.composer
    type_draft(qtbot, window, "Hi Rosa, call us on {phone} any morning.")
    assert not composer.send_button.isEnabled()
    assert "{phone}" in composer.problems.text()
    reminders = window.policy_actions.bridge.reminders
    assert ReminderKind.UNFILLED in {r.kind for r in reminders}  # the core was told
    assert not [t for t, _ in rows(composer) if t.startswith("Fill in {phone}")]  # said once


def test_too_long_for_the_network(qtbot, window, context):
    case_id = mention(context, "What happened at the meeting?")
    window.refresh()
    open_case(window, case_id)
    type_draft(qtbot, window, "Hi Rosa, " + "the meeting went well. " * 25)
    assert window.composer.counter.text() == "584 / 500"
    assert "color: #B91C1C" in window.composer.counter.styleSheet()
    assert row(window.composer, "Too long for Mastodon: 584 of 500 characters, 84 too many.")
    assert window.composer.send_button.isEnabled()


def test_switching_cases_shows_the_new_cases_reminders(qtbot, window, context):
    first = mention(context, "When is the next clean-up?", handle="ann@x.example", name="Ann Lee")
    second = mention(context, "Where do we meet?", handle="ben@x.example", name="Ben Okafor")
    window.refresh()
    open_case(window, first)
    assert row(window.composer, "Question: ")
    open_case(window, second)  # the same rule: its reminder is shown again, not lost
    assert row(window.composer, "Question: ")
    type_draft(qtbot, window, "it is by the bridge")
    assert row(window.composer, "No greeting or name")[1].text() == "Start with “Hi Ben,”"


def test_long_reminders_keep_their_lines_in_a_narrow_composer(qtbot) -> None:
    from PySide6.QtWidgets import QSplitter, QTextEdit

    from app.ui.composer import ReminderView

    splitter = QSplitter(Qt.Orientation.Vertical)
    qtbot.addWidget(splitter)
    composer = Composer()
    splitter.addWidget(QTextEdit())
    splitter.addWidget(composer)
    splitter.resize(240, 560)
    splitter.setSizes([440, 120])
    splitter.show()
    long = "Legal: Do not admit fault or discuss details in public. Move it to email. " * 2
    composer.set_reminders(
        [ReminderView(long, "warning", "Offer phone or email", lambda: None), ReminderView(long)]
    )
    qtbot.waitUntil(lambda: composer.height() > 200)  # the thread gave way
    for i in range(composer.reminders.count()):
        row_widget = composer.reminders.itemAt(i).widget()
        assert row_widget.height() >= row_widget.heightForWidth(row_widget.width())


def test_reminders_from_a_pool_thread_are_shown_only_while_still_true(qtbot, window, context):
    """At start-up the first case's reminders are worked out off the UI thread: they appear
    when they come, unless the officer has moved to another case or typed meanwhile."""
    from tests.ui.net_helpers import ManualRunner

    first = mention(context, "When is the next clean-up?", handle="ann@x.example", name="Ann Lee")
    second = mention(context, "Where do we meet?", handle="ben@x.example", name="Ben Okafor")
    window.refresh()
    bridge, runner = window.policy_actions.bridge, ManualRunner()
    bridge.runner = runner
    open_case(window, first)
    assert len(runner.jobs) == 1 and rows(window.composer) == []  # not yet
    runner.finish()
    assert row(window.composer, "Question: ")  # came in, still the same case and draft

    open_case(window, second)
    assert rows(window.composer) == []
    open_case(window, first)  # moved on before the second's came in
    [stale, _current] = runner.jobs
    runner.jobs = [stale]
    runner.finish()
    assert rows(window.composer) == []  # the second case's reminders are not shown on the first
    bridge.runner = None
    type_draft(qtbot, window, "it is by the bridge")  # typing asks again on the UI thread
    assert row(window.composer, "No greeting or name")
