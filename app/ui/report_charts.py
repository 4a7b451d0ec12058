"""The charts of a report, built with QtCharts from ``app.core.reports`` figures.

Each builder returns a new ``QChart`` (a chart belongs to one view or scene, so the reports view
and the board report each build their own). ``render_chart`` paints one into an image
offscreen, for PNG files and the PDF.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QChart,
    QStackedBarSeries,
    QValueAxis,
)
from PySide6.QtCore import QMargins, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from PySide6.QtWidgets import QGraphicsScene

from app.core.reports import Report, ResponseTimes, VolumePoint

MEDIAN, P90 = QColor("#4a78c2"), QColor("#c2854a")
POSITIVE, NEUTRAL, NEGATIVE, UNSCORED = (
    QColor("#2e8b57"),
    QColor("#9aa3b2"),
    QColor("#c0392b"),
    QColor("#d9dde3"),
)
DAILY_UP_TO = 45  # days; longer periods are shown per week


def _hours(amount: timedelta | None) -> float:
    return 0.0 if amount is None else round(amount.total_seconds() / 3600, 2)


def _short(day: date) -> str:
    return f"{day.day} {day:%b}"


def _chart(title: str) -> QChart:
    chart = QChart()
    chart.setTitle(title)
    font = QFont()
    font.setPointSize(11)
    font.setBold(True)
    chart.setTitleFont(font)
    chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
    chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
    chart.setMargins(QMargins(4, 4, 4, 4))
    return chart


def _bar_set(label: str, color: QColor, values: list[float]) -> QBarSet:
    bars = QBarSet(label)
    bars.setColor(color)
    bars.setBorderColor(color)
    bars.append(values)
    return bars


def _axes(
    chart: QChart,
    series: QBarSeries | QStackedBarSeries,
    categories: list[str],
    y: str,
    top: float | None = None,
    whole: bool = False,
) -> None:
    """Category axis below, value axis left: fixed ``top``, whole numbers, or nice numbers."""
    chart.addSeries(series)
    x_axis = QBarCategoryAxis()
    x_axis.append(categories)
    # Labels that would not fit side by side are turned instead of cut to "21 ..." (a chart in
    # the reports view gives each of twelve weeks ~45 pixels; "21 Sep" needs more).
    if max(map(len, categories), default=0) > 3:
        if len(categories) > 12:
            x_axis.setLabelsAngle(-90)
        elif len(categories) > 6:
            x_axis.setLabelsAngle(-45)
        x_axis.setTruncateLabels(False)  # a turned label is cut to its column's width too
    chart.addAxis(x_axis, Qt.AlignmentFlag.AlignBottom)
    series.attachAxis(x_axis)
    y_axis = QValueAxis()
    y_axis.setTitleText(y)
    chart.addAxis(y_axis, Qt.AlignmentFlag.AlignLeft)
    series.attachAxis(y_axis)
    highest = _highest(series)
    if top is not None:
        y_axis.setRange(0, top)
        y_axis.setLabelFormat("%d")
    elif whole and highest <= 10:
        y_axis.setRange(0, max(1, math.ceil(highest)))
        y_axis.setTickCount(max(1, math.ceil(highest)) + 1)
        y_axis.setLabelFormat("%d")
    else:
        y_axis.setRange(0, max(highest, 1.0))
        y_axis.applyNiceNumbers()
        y_axis.setLabelFormat("%d" if whole else "%.4g")


def _highest(series: QBarSeries | QStackedBarSeries) -> float:
    sets = series.barSets()
    if not sets:
        return 0.0
    columns = max(s.count() for s in sets)
    if isinstance(series, QStackedBarSeries):
        return max(
            (sum(s.at(i) for s in sets if i < s.count()) for i in range(columns)), default=0.0
        )
    return max((s.at(i) for s in sets for i in range(s.count())), default=0.0)


def _response_chart(title: str, rows: list[ResponseTimes], labels: list[str]) -> QChart:
    chart = _chart(title)
    series = QBarSeries()
    series.append(_bar_set("Median", MEDIAN, [_hours(r.median) for r in rows]))
    series.append(_bar_set("90th percentile", P90, [_hours(r.p90) for r in rows]))
    _axes(chart, series, labels, "office hours")
    return chart


def response_by_week(report: Report) -> QChart:
    rows = list(report.by_week)
    labels = [_short(date.fromisoformat(r.label)) for r in rows]
    return _response_chart("First response by week (office hours)", rows, labels)


def response_by_network(report: Report) -> QChart:
    rows = [*report.by_network, report.overall]
    return _response_chart("First response by network", rows, [r.label for r in rows])


def response_by_stance(report: Report) -> QChart:
    rows = [row.response for row in report.by_stance]
    return _response_chart("First response by the author's stance", rows, [r.label for r in rows])


def treatment_by_stance(report: Report) -> QChart:
    """Shares per stance: answered, left alone, replies passing every courtesy check."""
    chart = _chart("Equal treatment: shares by the author's stance")
    series = QBarSeries()

    def pct(part: int, whole: int) -> float:
        return round(100 * part / whole, 1) if whole else 0.0

    rows = report.by_stance
    series.append(_bar_set("Answered", MEDIAN, [pct(r.answered, r.cases) for r in rows]))
    series.append(_bar_set("Left alone", NEUTRAL, [pct(r.left_alone, r.cases) for r in rows]))
    series.append(
        _bar_set(
            "Replies passing courtesy checks",
            POSITIVE,
            [pct(r.courtesy_passed, r.replies_sent) for r in rows],
        )
    )
    _axes(chart, series, [r.stance.value.capitalize() for r in rows], "%", top=100)
    return chart


def volume_points(report: Report) -> tuple[list[VolumePoint], str]:
    daily = len(report.volume_by_day) <= DAILY_UP_TO
    return (list(report.volume_by_day), "day") if daily else (list(report.volume_by_week), "week")


def volume(report: Report) -> QChart:
    points, unit = volume_points(report)
    chart = _chart(f"Mentions per {unit}, by sentiment")
    series = QStackedBarSeries()
    series.append(_bar_set("Positive", POSITIVE, [float(p.positive) for p in points]))
    series.append(_bar_set("Neutral", NEUTRAL, [float(p.neutral) for p in points]))
    series.append(_bar_set("Negative", NEGATIVE, [float(p.negative) for p in points]))
    unscored = [float(p.mentions - p.scored) for p in points]
    if any(unscored):
        series.append(_bar_set("Not scored", UNSCORED, unscored))
    labels = [str(p.start.day) if unit == "day" else _short(p.start) for p in points]
    _axes(chart, series, labels, "mentions", whole=True)
    return chart


@dataclass(frozen=True, slots=True)
class ChartSpec:
    name: str  # for file names
    title: str
    build: Callable[[Report], QChart]


CHARTS: tuple[ChartSpec, ...] = (
    ChartSpec("response-by-week", "First response by week", response_by_week),
    ChartSpec("response-by-network", "First response by network", response_by_network),
    ChartSpec("volume", "Volume and sentiment", volume),
    ChartSpec("response-by-stance", "First response by stance", response_by_stance),
    ChartSpec("treatment-by-stance", "Equal treatment by stance", treatment_by_stance),
)


def render_chart(chart: QChart, size: QSize | None = None, scale: float = 2.0) -> QImage:
    """Paint ``chart`` into a white image (``scale`` × ``size`` pixels, for sharp print)."""
    size = size or QSize(1200, 600)
    scene = QGraphicsScene()
    scene.addItem(chart)
    chart.resize(size.width(), size.height())
    image = QImage(
        int(size.width() * scale), int(size.height() * scale), QImage.Format.Format_ARGB32
    )
    image.fill(Qt.GlobalColor.white)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    scene.render(painter, QRectF(image.rect()), QRectF(0, 0, size.width(), size.height()))
    painter.end()
    scene.removeItem(chart)
    return image
