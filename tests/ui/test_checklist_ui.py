"""The closing checklist in the case pane: ticks stick per case, and resolving with steps open
asks once, through the Asker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt

from app.core import settings as options
from app.core.checklist import STEPS, Step
from app.core.context import AppContext
from app.storage.models import Case, CaseEvent
from app.ui.checklist_widget import ChecklistWidget
from app.ui.main_window import MainWindow
from app.ui.tasks import ImmediateRunner
from tests.ui.conftest import ScriptedAsker
from tests.ui.policy_desk import desk_context, mention


@pytest.fixture
def context(data_dir: Path, db_path: Path) -> AppContext:
    return desk_context(data_dir, db_path)


@pytest.fixture
def cases(context: AppContext) -> list[int]:
    return [
        mention(context, "When is the clean-up?", handle="ann@x.example", name="Ann Lee"),
        mention(context, "Where do we meet?", handle="ben@x.example", name="Ben Okafor"),
    ]


@pytest.fixture
def window(
    qtbot, context, cases, asker: ScriptedAsker, qsettings: QSettings
) -> Iterator[MainWindow]:
    win = MainWindow(context, asker=asker, qsettings=qsettings, runner=ImmediateRunner())
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.shutdown()


def tick(qtbot, window: MainWindow, step: Step) -> None:
    qtbot.mouseClick(window.case_pane.checklist.boxes[step], Qt.MouseButton.LeftButton)


def test_the_checklist_shows_five_steps_with_their_hints(qtbot) -> None:
    widget = ChecklistWidget()
    qtbot.addWidget(widget)
    assert [b.text() for b in widget.boxes.values()] == [
        "Listen",
        "Identify",
        "Inform",
        "Show care",
        "End well",
    ]
    assert widget.boxes[Step.IDENTIFY].toolTip() == (
        "Identify the problem: Say back what the problem is, so they know you got it."
    )
    assert widget.isHidden()  # no case shown yet


def test_ticks_are_kept_per_case(qtbot, window, context, cases) -> None:
    first, second = cases
    window.open_case(first)
    assert window.case_pane.checklist.isVisible()
    assert window.case_pane.checklist.checked() == frozenset()
    tick(qtbot, window, Step.LISTEN)
    tick(qtbot, window, Step.CARE)
    assert context.checklist.get(first).checked == {Step.LISTEN, Step.CARE}
    window.open_case(second)
    assert window.case_pane.checklist.checked() == frozenset()
    window.open_case(first)
    assert window.case_pane.checklist.checked() == {Step.LISTEN, Step.CARE}
    tick(qtbot, window, Step.CARE)  # untick
    assert context.checklist.get(first).checked == {Step.LISTEN}
    # Kept in the history, but not shown in the conversation.
    assert CaseEvent.select().where(CaseEvent.kind == "checklist").count() == 3
    assert all(item.state != "checklist" for item in window.current.items)


def test_resolving_with_steps_open_asks_once(qtbot, window, asker, cases) -> None:
    first = cases[0]
    window.open_case(first)
    tick(qtbot, window, Step.LISTEN)
    window.resolve()  # the asker says no
    assert asker.asked == ["Resolve"]
    assert Case.get_by_id(first).status in ("new", "open")
    asker.confirms.append(True)
    window.resolve()
    assert asker.asked == ["Resolve", "Resolve"]  # one question per attempt, not one per step
    assert Case.get_by_id(first).status == "resolved"


def test_a_complete_checklist_resolves_without_a_question(qtbot, window, asker, cases) -> None:
    window.open_case(cases[1])
    for step in STEPS:
        tick(qtbot, window, step)
    window.resolve()
    assert asker.asked == []
    assert Case.get_by_id(cases[1]).status == "resolved"


def test_the_question_can_be_switched_off(qtbot, window, asker, context, cases) -> None:
    actions = window.policy_actions
    assert actions.act_ask.isChecked()
    actions.act_ask.trigger()
    assert context.settings.get(options.CHECKLIST_ASK) is False
    window.open_case(cases[0])
    window.resolve()
    assert asker.asked == []
    assert Case.get_by_id(cases[0]).status == "resolved"
