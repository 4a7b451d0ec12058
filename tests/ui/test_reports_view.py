"""The reports window on the known data set: charts, numbers, PNG and CSV files, the models."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCharts import QBarCategoryAxis, QChart
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from app.core.context import AppContext
from app.core.policy.store import default_policy
from app.core.reports import Report, Reports
from app.ui.reports_view import ReportsView
from app.ui.tasks import ImmediateRunner
from tests.helpers.report_data import CONFIG, NOW, KnownData, build_known_data


class ScriptedPaths:
    """Answers "where to save?" from a list, and records what was suggested."""

    def __init__(self) -> None:
        self.answers: list[Path | None] = []
        self.suggested: list[str] = []

    def ask_save_path(self, title: str, suggested: str, filters: str) -> Path | None:
        self.suggested.append(suggested)
        return self.answers.pop(0) if self.answers else None

    def ask_open_path(self, title: str, filters: str) -> Path | None:
        return self.answers.pop(0) if self.answers else None


@pytest.fixture
def data(db_path: Path) -> KnownData:
    return build_known_data()


@pytest.fixture
def paths() -> ScriptedPaths:
    return ScriptedPaths()


@pytest.fixture
def view(qtbot, data: KnownData, db_path: Path, paths: ScriptedPaths) -> Iterator[ReportsView]:
    context = AppContext(db_path.parent, db_path)
    reports = Reports(CONFIG, default_policy(), clock=lambda: NOW)
    widget = ReportsView(context, ImmediateRunner(), paths, reports=reports)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.close()


def choose_october(view: ReportsView) -> Report:
    index = view.period.findData("2026-10")
    assert index > 0
    view.period.setCurrentIndex(index)  # the ImmediateRunner computes it at once
    assert view.report is not None and view.report.period.label == "October 2026"
    return view.report


def categories(chart: QChart) -> list[str]:
    axis = next(a for a in chart.axes() if isinstance(a, QBarCategoryAxis))
    return list(axis.categories())


def test_periods_offered(view: ReportsView) -> None:
    labels = [view.period.itemText(i) for i in range(view.period.count())]
    assert labels[:3] == ["Last 12 weeks", "November 2026", "October 2026"]
    assert view.board_button.text() == "Board report for October 2026 (PDF)…"


def test_charts_and_numbers_for_a_month(view: ReportsView) -> None:
    report = choose_october(view)
    assert set(view.chart_views) == {
        "response-by-week",
        "response-by-network",
        "volume",
        "response-by-stance",
        "treatment-by-stance",
    }
    for chart_view in view.chart_views.values():
        assert chart_view.chart().series(), chart_view.accessibleName()
    weeks = view.chart_views["response-by-week"].chart()
    assert categories(weeks) == ["28 Sep", "5 Oct", "12 Oct", "19 Oct", "26 Oct"]
    medians = weeks.series()[0].barSets()[0]
    assert [medians.at(i) for i in range(medians.count())] == [0, 0.75, 2.17, 1, 0]
    assert categories(view.chart_views["volume"].chart())[:3] == ["1", "2", "3"]
    numbers = [view.numbers.itemAt(i).widget().accessibleName() for i in range(10)]
    assert "Median first response: 52 min" in numbers
    assert "Overdue: 2" in numbers
    assert report.counts.total == 10
    assert "October 2026: 10 cases began, 6 answered" in view.status.text()


def test_models_pass_the_model_tester(view: ReportsView, qtmodeltester) -> None:
    choose_october(view)
    for model in view.models.values():
        qtmodeltester.check(model)
    notable = view.models["notable-cases"]
    assert notable.rowCount() == 5
    assert notable.headerData(4, Qt.Orientation.Horizontal) == "Why notable"


def test_chart_saves_as_png(view: ReportsView, paths: ScriptedPaths, tmp_path: Path) -> None:
    choose_october(view)
    target = tmp_path / "weeks.png"
    paths.answers = [target]
    assert view.save_png("response-by-week") == target
    assert paths.suggested == ["kindly-response-by-week-october-2026.png"]
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = QImage(str(target))
    assert (image.width(), image.height()) == (2400, 1200)
    assert "Chart saved" in view.status.text()


def test_table_saves_as_csv(view: ReportsView, paths: ScriptedPaths, tmp_path: Path) -> None:
    choose_october(view)
    target = tmp_path / "stance.csv"
    paths.answers = [target]
    assert view.save_csv("equal-treatment") == target
    with target.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    model = view.models["equal-treatment"]
    assert rows[0] == list(model.table.headers)
    assert rows[1:] == [list(r) for r in model.table.rows]
    assert rows[3][:4] == ["Opponent", "4", "2", "1"]


def test_cancelled_save_writes_nothing(view: ReportsView, tmp_path: Path) -> None:
    choose_october(view)
    before = sorted(tmp_path.rglob("*"))
    assert view.save_png("volume") is None
    assert view.save_csv("volume-by-day") is None
    view.save_board_report()
    assert sorted(tmp_path.rglob("*")) == before


def test_board_report_from_the_view(
    view: ReportsView, paths: ScriptedPaths, tmp_path: Path
) -> None:
    view.load()  # last 12 weeks shown; the board report is for the last whole month
    target = tmp_path / "board.pdf"
    paths.answers = [target]
    view.save_board_report()
    assert paths.suggested[-1] == "kindly-board-report-october-2026.pdf"
    assert target.read_bytes()[:5] == b"%PDF-"
    assert "Board report for October 2026 saved" in view.status.text()


def test_the_main_window_menu_opens_reports_and_export(qtbot, window) -> None:
    from app.ui.export_dialog import ExportDialog

    file_menu = window.menuBar().actions()[0].menu()
    texts = [action.text() for action in file_menu.actions()]
    for text in ("Reports…", "Board report (PDF)…", "Export or import cases…"):
        assert text in texts
    window.act_reports.trigger()
    view = window.reporting.view
    assert view is not None and view.isVisible()
    qtbot.waitUntil(lambda: view.report is not None, timeout=10_000)
    assert view.report.counts.total > 0  # the demo organisation's last 12 weeks
    window.act_export.trigger()
    dialogs = window.findChildren(ExportDialog)
    assert len(dialogs) == 1 and dialogs[0].isVisible()
    assert dialogs[0].chosen()[0] == "case"  # the open case is offered first
    dialogs[0].close()


def test_twelve_weeks_of_labels_are_turned_whole_not_cut(view: ReportsView) -> None:
    choose_october(view)
    view.period.setCurrentIndex(view.period.findText("Last 12 weeks"))
    assert view.report is not None and len(view.report.by_week) == 12
    weeks = view.chart_views["response-by-week"].chart()
    axis = next(a for a in weeks.axes() if isinstance(a, QBarCategoryAxis))
    assert len(axis.categories()) == 12 and axis.labelsAngle() == -45
    assert not axis.truncateLabels()
    networks = view.chart_views["response-by-network"].chart()
    axis = next(a for a in networks.axes() if isinstance(a, QBarCategoryAxis))
    assert axis.labelsAngle() == 0  # five networks fit side by side
    choose_october(view)
    days = view.chart_views["volume"].chart()
    axis = next(a for a in days.axes() if isinstance(a, QBarCategoryAxis))
    assert len(axis.categories()) == 31 and axis.labelsAngle() == 0  # "1" … "31" fit
