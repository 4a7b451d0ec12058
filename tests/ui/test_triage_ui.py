"""Triage in the window: the officer's corrections and decisions, re-ranking, and the demo."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt

from app.core.context import AppContext
from app.core.sync import AccountSyncResult, SyncReport
from app.storage.models import Case, CaseEvent, Mention
from app.ui.main_window import MainWindow
from app.ui.sync_controller import SyncRun
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


def test_the_officer_corrects_sentiment_and_it_sticks(qtbot, window, context) -> None:
    case_id = mention(context, "Oh great, another wet Saturday. Brilliant planning.")
    window.refresh()
    window.open_case(case_id)
    button = window.case_pane.sentiment
    assert button.text() == "Sentiment: very positive ▾"  # VADER misses the sarcasm
    button.choices["very negative"].trigger()
    mention_row = Mention.get(Mention.case == case_id)
    assert (mention_row.sentiment, mention_row.sentiment_corrected) == (-0.8, True)
    assert window.case_pane.sentiment.text() == "Sentiment: very negative ▾"
    assert "09:55 · very negative\n" in window.case_pane.thread.toPlainText()  # same words
    assert window.current is not None and window.current.why.startswith("very negative · ")
    assert "Negative mention" in window.current.why  # the policy looked again, at once
    context.triage.refresh()  # later scoring never overwrites the officer
    assert Mention.get(Mention.case == case_id).sentiment == -0.8


def test_spam_goes_through_triage_with_the_reason(qtbot, window, context, asker) -> None:
    case_id = mention(context, "Cheap followers, message me")
    window.refresh()
    window.open_case(case_id)
    qtbot.keyClick(window.list, Qt.Key.Key_S)  # the asker gives no reason: nothing happens
    assert Case.get_by_id(case_id).status in ("new", "open")
    asker.reasons.append("Advertising")
    window.list.setFocus()
    qtbot.keyClicks(window.list, "s")
    decision = CaseEvent.select().where(CaseEvent.case == case_id).order_by(CaseEvent.id.desc())
    assert (decision[0].actor, decision[0].detail) == ("officer", "Spam: Advertising")
    assert window.model.row_of(case_id) == -1  # out of "Needs reply"
    assert "Marked as spam." in window.statusBar().currentMessage()


def test_a_reopened_case_is_ranked_when_shown(qtbot, window, context, asker) -> None:
    case_id = mention(context, "Where do I sign up?")
    window.refresh()
    window.open_case(case_id)
    asker.confirms.append(True)  # resolve with the checklist open
    window.resolve()
    assert Case.get_by_id(case_id).why == "resolved · officer"
    window.open_case(case_id)
    window.reopen()
    case = Case.get_by_id(case_id)
    assert case.status == "open" and case.due_at is not None
    assert case.why.endswith("rule: Question")
    decisions = [
        (e.actor, e.detail)
        for e in CaseEvent.select().where(
            (CaseEvent.case == case_id) & (CaseEvent.kind == "decision")
        )
    ]
    assert decisions[-2:] == [
        ("officer", "Respond"),  # the officer's call, then the rule's clock for it
        ("rule: Question", "Respond within 2 h"),
    ]


def test_priorities_are_refreshed_after_a_sync_that_fetched(qtbot, window, context) -> None:
    case_id = mention(context, "When is the walk?", ago=timedelta(minutes=5))
    before = Case.get_by_id(case_id).why
    context.triage.clock = lambda: NOW + timedelta(hours=3)
    window.sync.finished.emit(SyncRun(SyncReport(), None))  # nothing was synced: no re-rank
    assert Case.get_by_id(case_id).why == before
    report = SyncReport(accounts=[AccountSyncResult(1, "Riverbank")])
    window.sync.finished.emit(SyncRun(report, None))
    after = Case.get_by_id(case_id).why
    assert after != before and "overdue" in after


def test_the_timer_refreshes_off_the_ui_thread_and_stops_with_the_window(window) -> None:
    actions = window.policy_actions
    actions.start()
    assert actions.timer.isActive() and actions.timer.interval() == 5 * 60_000
    window.shutdown()
    assert not actions.timer.isActive()
    actions.refresh()  # after shutdown: nothing runs


def test_decisions_show_in_the_thread_with_who_made_them(qtbot, window, context) -> None:
    case_id = mention(context, "A journalist here, writing a story on the river report")
    window.refresh()
    window.open_case(case_id)
    shown = window.case_pane.thread.toPlainText()
    assert "Escalate: move to phone or email, within 2 h" in shown
    assert "rule: Press" in shown


def test_the_demo_has_why_lines_and_sorts_by_priority(qtbot, demo_context, asker, qsettings):
    win = MainWindow(demo_context, asker=asker, qsettings=qsettings, runner=ImmediateRunner())
    qtbot.addWidget(win)
    rows = [win.model.case_at(r) for r in range(win.model.rowCount())]
    assert rows and all(r.why for r in rows)
    priorities = [r.priority for r in rows]
    assert priorities == sorted(priorities, reverse=True)
    win.shutdown()
