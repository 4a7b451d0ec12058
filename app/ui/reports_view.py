"""The reports window: charts with their numbers beside them, for a month or the last 12 weeks.

Figures are computed by ``app.core.reports`` on the task runner (SQL aggregates and chunked
reads, off the UI thread); charts are QtCharts (``app.ui.report_charts``). Every chart saves as
PNG and every table as CSV; the board report for the chosen month saves as PDF. Files are chosen
through a ``PathAsker``, so tests answer without a dialog.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCharts import QChartView
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core import settings as options
from app.core.context import AppContext, own_connection
from app.core.inbox import CaseQuery
from app.core.report_figures import utcnow
from app.core.reports import (
    Report,
    ReportPeriod,
    Reports,
    Table,
    report_config,
    report_tables,
    write_csv,
)
from app.ui import report_charts
from app.ui.board_report import write_board_report
from app.ui.export_dialog import ExportDialog, PathAsker
from app.ui.tasks import Runner

ModelIndex = QModelIndex | QPersistentModelIndex
LAST_WEEKS = "weeks"
Row = tuple[str | None, str | None]  # a chart and the table of its numbers, side by side
PAGES: tuple[tuple[str, tuple[Row, ...]], ...] = (
    (
        "Response times",
        (
            ("response-by-week", "response-by-week"),
            ("response-by-network", "response-by-network"),
        ),
    ),
    ("Volume and sentiment", (("volume", "volume-by-day"),)),
    (
        "Equal treatment",
        (("response-by-stance", None), ("treatment-by-stance", None), (None, "equal-treatment")),
    ),
    ("Cases", ((None, "case-counts"), (None, "notable-cases"))),
)


class ReportTableModel(QAbstractTableModel):
    """One report table, read-only; numbers right-aligned."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table: Table | None = None

    def set_table(self, table: Table) -> None:
        self.beginResetModel()  # a new report replaces the whole (small) table
        self.table = table
        self.endResetModel()

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or self.table is None else len(self.table.rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or self.table is None else len(self.table.headers)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self.table is None:
            return None
        value = self.table.rows[index.row()][index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return value
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() > 0 and _numeric(value):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or self.table is None:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self.table.headers[section] if 0 <= section < len(self.table.headers) else None
        return str(section + 1)


def _numeric(value: str) -> bool:
    return value.replace(".", "", 1).replace("-", "", 1).rstrip("%").isdigit()


class ReportsView(QWidget):
    """Its own window. ``report_ready`` fires each time figures arrive (tests wait on it)."""

    report_ready = Signal(object)
    message = Signal(str)

    def __init__(
        self,
        context: AppContext,
        runner: Runner,
        paths: PathAsker,
        parent: QWidget | None = None,
        clock: Callable[[], datetime] = utcnow,
        reports: Reports | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Kindly — Reports")
        self.setObjectName("ReportsView")
        self.context, self.runner, self.paths = context, runner, paths
        self.reports = reports or Reports(report_config(context), clock=clock)
        self.report: Report | None = None
        self.chart_views: dict[str, QChartView] = {}
        self.models: dict[str, ReportTableModel] = {}
        self.tables: dict[str, QTableView] = {}

        self.period = QComboBox()
        self.period.setAccessibleName("Period")
        self.period.addItem("Last 12 weeks", LAST_WEEKS)
        now = self.reports.clock()
        zone = self.reports.config.office_hours.zone
        month = ReportPeriod.previous_month(now, zone)
        current = ReportPeriod.last_weeks(1, now, zone)
        this_month = ReportPeriod.month(current.start.year, current.start.month, zone)
        self.period.addItem(this_month.label, f"{this_month.start:%Y-%m}")
        for _ in range(24):
            local = month.start.astimezone(month.tz)
            self.period.addItem(month.label, f"{local:%Y-%m}")
            month = ReportPeriod.previous_month(month.start, zone)
        self.period.currentIndexChanged.connect(lambda _i: self.load())
        self.board_button = QPushButton("Board report (PDF)…")
        self.board_button.clicked.connect(self.save_board_report)
        top = QHBoxLayout()
        top.addWidget(QLabel("Period:"))
        top.addWidget(self.period)
        top.addStretch(1)
        top.addWidget(self.board_button)

        self.numbers = QGridLayout()
        numbers = QWidget()
        numbers.setLayout(self.numbers)
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        self.tabs = QTabWidget()
        for title, rows in PAGES:
            self.tabs.addTab(self._page(rows), title)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(numbers)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.status)
        self.resize(1100, 820)
        self.message.connect(self.status.setText)
        self._label_board()

    # -- building -----------------------------------------------------------------------------

    def _page(self, rows: tuple[Row, ...]) -> QScrollArea:
        inner = QWidget()
        column = QVBoxLayout(inner)
        for chart, table in rows:
            line = QHBoxLayout()
            if chart is not None:
                line.addLayout(self._chart_box(chart), 3)
            if table is not None:
                line.addLayout(self._table_box(table), 2)
            column.addLayout(line)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        return scroll

    def _chart_box(self, name: str) -> QVBoxLayout:
        spec = next(s for s in report_charts.CHARTS if s.name == name)
        view = QChartView()
        view.setRenderHint(QPainter.RenderHint.Antialiasing)
        view.setMinimumHeight(320)
        view.setAccessibleName(spec.title)
        self.chart_views[name] = view
        box = QVBoxLayout()
        box.addWidget(view, 1)
        box.addLayout(self._buttons("Save chart as PNG…", lambda: self.save_png(name)))
        return box

    def _table_box(self, name: str) -> QVBoxLayout:
        model = ReportTableModel(self)
        table = QTableView()
        table.setModel(model)
        table.setAccessibleName(name.replace("-", " ").capitalize())
        table.verticalHeader().setVisible(False)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setStretchLastSection(True)
        table.setMinimumHeight(200)
        table.setWordWrap(True)
        self.models[name] = model
        self.tables[name] = table
        box = QVBoxLayout()
        box.addWidget(table, 1)
        box.addLayout(self._buttons("Save table as CSV…", lambda: self.save_csv(name)))
        return box

    @staticmethod
    def _buttons(text: str, slot: Callable[[], None]) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addStretch(1)
        button = QPushButton(text)
        button.clicked.connect(slot)
        row.addWidget(button)
        return row

    # -- loading ------------------------------------------------------------------------------

    def selected_period(self) -> ReportPeriod:
        value = self.period.currentData()
        if value == LAST_WEEKS:
            return self.reports.default_period()
        return self.reports.period_for_month(str(value))

    def board_period(self) -> ReportPeriod:
        """The chosen month; with "Last 12 weeks" chosen, the last complete month."""
        value = self.period.currentData()
        if value == LAST_WEEKS:
            zone = self.reports.config.office_hours.zone
            return ReportPeriod.previous_month(self.reports.clock(), zone)
        return self.reports.period_for_month(str(value))

    def _label_board(self) -> None:
        self.board_button.setText(f"Board report for {self.board_period().label} (PDF)…")

    def load(self) -> None:
        """Compute the figures for the chosen period off the UI thread."""
        period = self.selected_period()
        self.status.setText(f"Counting {period.label.lower()}…")
        self._label_board()
        reports = self.reports
        self.runner.run(
            own_connection(lambda: reports.build(period)), self.show_report, self._failed
        )

    def show_report(self, report: Report) -> None:
        self.report = report
        self._show_numbers(report)
        specs = {spec.name: spec for spec in report_charts.CHARTS}
        for name, view in self.chart_views.items():
            old = view.chart()
            view.setChart(specs[name].build(report))
            if old is not None:
                old.deleteLater()
        for table in report_tables(report):
            if table.name in self.models:
                self.models[table.name].set_table(table)
                self.tables[table.name].resizeRowsToContents()
        c = report.counts
        self.status.setText(
            f"{report.period.label}: {c.total} cases began, {c.answered} answered. Times are "
            f"office hours ({report.office_hours}); unanswered cases are left out of them."
        )
        self.report_ready.emit(report)

    def _show_numbers(self, report: Report) -> None:
        while self.numbers.count():
            item = self.numbers.takeAt(0)
            if item is not None and item.widget() is not None:
                item.widget().deleteLater()
        for index, (label, value) in enumerate(report.key_numbers()):
            cell = QLabel(f"<b style='font-size:15pt'>{_escape(value)}</b><br>{_escape(label)}")
            cell.setTextFormat(Qt.TextFormat.RichText)
            cell.setAccessibleName(f"{label}: {value}")
            self.numbers.addWidget(cell, index // 5, index % 5)

    def _failed(self, exc: BaseException) -> None:
        self.message.emit(f"The report could not be made: {exc}")

    # -- saving -------------------------------------------------------------------------------

    def _slug(self) -> str:
        return self.report.period.slug if self.report else "report"

    def save_png(self, name: str) -> Path | None:
        if self.report is None:
            return None
        path = self.paths.ask_save_path(
            "Save chart", f"kindly-{name}-{self._slug()}.png", "PNG images (*.png)"
        )
        if path is None:
            return None
        spec = next(s for s in report_charts.CHARTS if s.name == name)
        if not report_charts.render_chart(spec.build(self.report)).save(str(path), "PNG"):
            self.message.emit(f"Could not write {path}.")
            return None
        self.message.emit(f"Chart saved to {path}.")
        return path

    def save_csv(self, name: str) -> Path | None:
        model = self.models[name]
        if model.table is None:
            return None
        path = self.paths.ask_save_path(
            "Save table", f"kindly-{name}-{self._slug()}.csv", "CSV files (*.csv)"
        )
        if path is None:
            return None
        try:
            write_csv(model.table, path)
        except OSError as exc:
            self.message.emit(f"Could not write {path}: {exc.strerror or exc}.")
            return None
        self.message.emit(f"Table saved to {path}.")
        return path

    def save_board_report(self) -> None:
        """Ask where, compute the month's figures off the UI thread, then write the PDF."""
        period = self.board_period()
        report = self.report if self.report and self.report.period == period else None
        suggested = f"kindly-board-report-{period.slug}.pdf"
        path = self.paths.ask_save_path("Save the board report", suggested, "PDF files (*.pdf)")
        if path is None:
            return
        organisation = self.context.settings.get(options.ORG_NAME)

        def write(done: Report) -> None:
            try:
                write_board_report(done, path, organisation)
            except OSError as exc:
                self.message.emit(f"Could not write {path}: {exc}")
                return
            self.message.emit(f"Board report for {period.label} saved to {path}.")

        if report is not None:
            write(report)
            return
        self.message.emit(f"Counting {period.label} for the board report…")
        reports = self.reports
        self.runner.run(own_connection(lambda: reports.build(period)), write, self._failed)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Reporting(QObject):
    """What the main window's Reports, Board report and Export actions open."""

    imported = Signal()  # an archive added cases

    def __init__(
        self, context: AppContext, runner: Runner, paths: PathAsker, window: QWidget
    ) -> None:
        super().__init__(window)
        self.context, self.runner, self.paths, self.window = context, runner, paths, window
        self.view: ReportsView | None = None

    def open_reports(self) -> ReportsView:
        if self.view is None:
            self.view = ReportsView(self.context, self.runner, self.paths, self.window)
        self.view.load()  # fresh figures each time it is opened
        self.view.show()
        self.view.raise_()
        return self.view

    def board_report(self) -> None:
        self.open_reports().save_board_report()

    def open_export(self, case_id: int | None, query: CaseQuery | None) -> ExportDialog:
        dialog = ExportDialog(self.context, self.runner, self.paths, case_id, query, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.imported.connect(self.imported)
        dialog.open()
        return dialog
