"""Office hours, the response target and vacation mode: stored in the settings, used by triage,
and shown in the list (overdue, at risk, paused)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, time, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt, QTime
from PySide6.QtGui import QPainter, QPixmap
from PySide6.QtWidgets import QStyleOptionViewItem

from app.core import settings as options
from app.core.context import AppContext
from app.core.triage import Urgency
from app.core.triage_setup import office_hours, response_target
from app.storage.models import Case
from app.ui.case_delegate import CaseDelegate, info_text
from app.ui.case_list_model import RowRole
from app.ui.main_window import MainWindow
from app.ui.office_hours_dialog import OfficeHoursDialog
from app.ui.tasks import ImmediateRunner
from tests.ui.conftest import ScriptedAsker
from tests.ui.policy_desk import NOW, desk_context, mention


@pytest.fixture
def context(data_dir: Path, db_path: Path) -> AppContext:
    return desk_context(data_dir, db_path)


@pytest.fixture
def dialog(qtbot, context: AppContext) -> OfficeHoursDialog:
    shown = OfficeHoursDialog(context.settings, lambda: NOW)
    qtbot.addWidget(shown)
    shown.show()
    return shown


@pytest.fixture
def window(qtbot, context, asker: ScriptedAsker, qsettings: QSettings) -> Iterator[MainWindow]:
    win = MainWindow(context, asker=asker, qsettings=qsettings, runner=ImmediateRunner())
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.shutdown()


def test_the_dialog_shows_the_settings(dialog: OfficeHoursDialog) -> None:
    form = dialog.form
    assert form.zone.currentText() == "UTC"
    assert [box.isChecked() for box in form.days] == [True] * 5 + [False] * 2
    assert form.opens.time() == QTime(9, 0) and form.closes.time() == QTime(17, 0)
    assert (form.target_hours.value(), form.target_minutes.value()) == (2, 0)
    assert not dialog.vacation.isChecked()
    assert dialog.save_button.isEnabled()


def test_saving_stores_days_hours_zone_target_and_holidays(qtbot, dialog, context) -> None:
    form = dialog.form
    form.days[4].setChecked(False)  # no Fridays
    form.days[5].setChecked(True)  # Saturdays instead
    form.opens.setTime(QTime(8, 30))
    form.closes.setTime(QTime(16, 0))
    form.zone.setCurrentText("Europe/London")
    form.target_hours.setValue(1)
    form.target_minutes.setValue(30)
    form.add_holiday_date(date(2024, 12, 25))
    form.add_holiday_date(date(2024, 12, 24))
    form.add_holiday_date(date(2024, 12, 25))  # once
    with qtbot.waitSignal(dialog.saved):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    hours = office_hours(context.settings)
    assert hours.zone == "Europe/London"
    assert hours.days == frozenset({0, 1, 2, 3, 5})
    assert (hours.opens, hours.closes) == (time(8, 30), time(16, 0))
    assert hours.holidays == frozenset({date(2024, 12, 24), date(2024, 12, 25)})
    assert response_target(context.settings) == timedelta(minutes=90)
    assert context.settings.get(options.OFFICE_HOLIDAYS) == ["2024-12-24", "2024-12-25"]
    assert not dialog.isVisible()


def test_hours_that_cannot_work_are_explained_and_not_saved(qtbot, dialog, context) -> None:
    form = dialog.form
    form.closes.setTime(QTime(8, 0))
    assert "close after it opens" in form.problem.text()
    assert not dialog.save_button.isEnabled()
    form.closes.setTime(QTime(17, 0))
    for box in form.days:
        box.setChecked(False)
    assert form.problem.text() == "Choose at least one office day."
    form.days[0].setChecked(True)
    form.zone.setCurrentText("Mars/Olympus_Mons")
    assert "Unknown time zone" in form.problem.text()
    form.zone.setCurrentText("UTC")
    form.target_hours.setValue(0)
    form.target_minutes.setValue(0)
    assert "at least 5 minutes" in form.problem.text()
    dialog.save()
    assert context.settings.get(options.OFFICE_RESPONSE_MINUTES) == 120  # unchanged


def test_vacation_mode_pauses_the_clocks_until_it_is_turned_off(qtbot, dialog, context) -> None:
    dialog.vacation.setChecked(True)
    dialog.save()
    hours = office_hours(context.settings)
    assert hours.on_vacation(NOW) and hours.away[-1].start == NOW
    again = OfficeHoursDialog(context.settings, lambda: NOW + timedelta(days=7))
    qtbot.addWidget(again)
    assert again.vacation.isChecked()
    again.vacation.setChecked(False)
    again.save()
    hours = office_hours(context.settings)
    assert not hours.on_vacation(NOW + timedelta(days=8))
    assert hours.away[-1].end == NOW + timedelta(days=7)  # the time away stays excluded


def test_the_window_uses_new_office_hours_and_vacation_at_once(qtbot, window, context) -> None:
    actions = window.policy_actions
    actions.act_vacation.trigger()
    assert context.triage.config.office_hours.on_vacation(NOW)
    assert actions.vacation_label.isVisibleTo(window)
    assert "Vacation mode on" in window.statusBar().currentMessage()
    actions.act_vacation.trigger()
    assert not context.triage.config.office_hours.on_vacation(NOW)
    assert not actions.vacation_label.isVisibleTo(window)
    actions.act_office.trigger()
    [dialog] = window.findChildren(OfficeHoursDialog)
    dialog.form.target_hours.setValue(4)
    dialog.save()
    assert context.triage.config.response_target == timedelta(hours=4)


def paint(window: MainWindow, row: int) -> None:
    """Paint one row of the list into a picture (no crash, every branch drawn)."""
    delegate = window.list.itemDelegate()
    option = QStyleOptionViewItem()
    option.rect = window.list.visualRect(window.model.index(row, 0))
    picture = QPixmap(400, 80)
    painter = QPainter(picture)
    delegate.paint(painter, option, window.model.index(row, 0))
    painter.end()


def test_overdue_at_risk_and_paused_cases_stand_out_in_the_list(qtbot, window, context) -> None:
    late = mention(context, "Still waiting for my refund!", ago=timedelta(hours=3))
    soon = mention(context, "Any update on my refund?", ago=timedelta(minutes=50), handle="b@x")
    fine = mention(context, "Nice work on the report", ago=timedelta(minutes=5), handle="c@x")
    window.refresh()
    delegate = window.list.itemDelegate()
    assert isinstance(delegate, CaseDelegate)

    def urgency(case_id: int) -> Urgency | None:
        row = window.model.row_of(case_id)
        return delegate.urgency(window.model.index(row, 0).data(RowRole))

    # A service complaint is due within 1 h; praise within 8 h.
    assert urgency(late) is Urgency.OVERDUE
    assert urgency(soon) is Urgency.AT_RISK
    assert urgency(fine) is Urgency.ON_TIME
    assert window.model.case_at(0).id == late  # the most urgent first
    for row in range(window.model.rowCount()):
        paint(window, row)
    window.policy_actions.set_vacation(True)
    assert urgency(fine) is Urgency.PAUSED and urgency(late) is Urgency.OVERDUE
    row = window.model.index(window.model.row_of(late), 0).data(RowRole)
    # Received at 07:00, before opening: its hour of office time ran 09:00-10:00.
    assert info_text(row) == row.why == "due now · rule: Service complaint"


def test_the_why_line_of_cases_out_of_the_inbox(qtbot, window, context, asker) -> None:
    case_id = mention(context, "Buy followers now", ago=timedelta(minutes=5))
    window.refresh()
    window.open_case(case_id)
    asker.reasons.append("Advertising")
    window.policy_actions.act_spam.trigger()
    case = Case.get_by_id(case_id)
    assert (case.status, case.why, case.status_reason) == (
        "left_alone",
        "spam · officer",
        "Spam: Advertising",
    )
    window.sidebar.select(window.view.__class__.LEFT_ALONE)
    row = window.model.index(window.model.row_of(case_id), 0).data(RowRole)
    assert info_text(row) == "spam · officer"
    paint(window, window.model.row_of(case_id))
