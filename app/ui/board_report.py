"""The board report: one PDF for a month, with the charts, the key numbers and notable cases.

Written with Qt's own PDF writer (``QPdfWriter`` + ``QTextDocument.print_``, both in QtGui);
the charts are the reports view's QtCharts charts painted offscreen into images the document
holds as resources, so nothing is fetched from anywhere. ``board_report_html`` builds the
document's HTML (all text escaped: notable cases quote what people wrote);
``write_board_report`` prints it. The menu (Reports → Board report) and the command line
(``python main.py report --month 2026-10 --out board.pdf``) both end here.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

from PySide6.QtCore import QMarginsF, QSize, QUrl
from PySide6.QtGui import QFont, QPageLayout, QPageSize, QPdfWriter, QTextDocument

from app.core.report_figures import COURTESY_CHECKS, Report, StanceRow, hours_text, share
from app.ui import report_charts

CHART_URL = "kindly-chart:"
BOARD_CHARTS = ("response-by-week", "response-by-network", "volume", "treatment-by-stance")
CHART_SIZE = QSize(800, 370)
CHART_WIDTH = 640  # as laid out in the document

STYLE = """
body { font-size: 10pt; color: #1d2330; }
h1 { font-size: 18pt; margin-bottom: 0; }
h2 { font-size: 13pt; margin-top: 18px; color: #2d4f8a; }
.meta { color: #596273; font-size: 9pt; }
table.grid { border-collapse: collapse; }
table.grid th { background: #e8ecf3; text-align: left; padding: 3px 6px; }
table.grid { font-size: 9pt; }
table.grid td { padding: 3px 6px; border-bottom: 1px solid #d9dde3; }
td.quote { color: #465064; font-style: italic; }
td.num { text-align: right; }
.big { font-size: 15pt; font-weight: bold; }
.small { font-size: 8pt; color: #596273; }
"""


def e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _key_numbers(report: Report) -> str:
    cells = [
        f'<td width="20%"><span class="big">{e(value)}</span><br>'
        f'<span class="small">{e(label)}</span></td>'
        for label, value in report.key_numbers()
    ]
    rows = [cells[i : i + 5] for i in range(0, len(cells), 5)]
    body = "".join(f"<tr>{''.join(row)}</tr>" for row in rows)
    return f'<table width="100%" cellpadding="6">{body}</table>'


def _grid(headers: list[str], rows: list[list[str]], numeric_from: int = 1) -> str:
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{e(c)}</td>' if i >= numeric_from else f"<td>{e(c)}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f'<table class="grid" width="100%"><tr>{head}</tr>{body}</table>'


def _chart(name: str) -> str:
    return f'<p><img src="{CHART_URL}{name}" width="{CHART_WIDTH}"></p>'


def _stance_rows(rows: tuple[StanceRow, ...]) -> list[list[str]]:
    return [
        [
            row.stance.value.capitalize(),
            str(row.cases),
            share(row.answered, row.cases),
            share(row.left_alone, row.cases),
            hours_text(row.response.median),
            hours_text(row.response.p90),
            f"{row.courtesy_passed} of {row.replies_sent}",
        ]
        for row in rows
    ]


def _courtesy_issues(rows: tuple[StanceRow, ...]) -> str:
    lines: list[str] = []
    for row in rows:
        issues = [
            f"{label.lower()} {row.issues[kind]}"
            for kind, label in COURTESY_CHECKS
            if row.issues.get(kind, 0)
        ]
        if issues:
            lines.append(f"replies to {row.stance.value}s: {', '.join(issues)}")
    if not lines:
        return "<p>Every reply we sent passed every courtesy check.</p>"
    return f"<p>Courtesy issues in {e('; '.join(lines))}.</p>"


def _notable(report: Report) -> str:
    if not report.notable:
        return "<p>No conversations began in this period.</p>"
    headers = ["Case", "Network", "Status", "Why it stands out", "First response"]
    rows = "".join(
        f"<tr><td>{n.case_id}</td><td>{e(n.network)}</td><td>{e(n.status)}</td>"
        f"<td>{e(n.why)}</td><td>{e(hours_text(n.first_response))}</td></tr>"
        f'<tr><td></td><td colspan="4" class="quote">{e(n.person)}: “{e(n.snippet)}”</td></tr>'
        for n in report.notable
    )
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    return f'<table class="grid" width="100%"><tr>{head}</tr>{rows}</table>'


def board_report_html(report: Report, organisation: str = "") -> str:
    """The report as HTML for ``QTextDocument``; charts are ``kindly-chart:NAME`` images."""
    who = f"{organisation}: " if organisation else ""
    period = report.period
    generated = f"{report.generated_at.astimezone(period.tz):%d %B %Y, %H:%M}"
    c = report.counts
    parts = [
        f"<html><head><style>{STYLE}</style></head><body>",
        f"<h1>{e(who)}social media report, {e(period.label)}</h1>",
        f'<p class="meta">Made by Kindly on {e(generated)} ({e(period.zone)}). Office hours '
        f"{e(report.office_hours)}; standard response target "
        f"{e(hours_text(report.target))} of office time.</p>",
        "<h2>Key numbers</h2>",
        _key_numbers(report),
        f'<p class="small">Of {c.total} conversations that began in {e(period.label)}: '
        f"{c.answered} answered, {c.waiting} waiting on the other person, {c.resolved} "
        f"resolved, {c.open} still needing a reply ({c.overdue} overdue), {c.left_alone} "
        f"left alone, {c.escalated} moved to phone or email.</p>",
        "<h2>How fast we answered</h2>",
        _chart("response-by-week"),
        _chart("response-by-network"),
        _grid(
            ["Network", "Cases answered", "Median", "90th percentile"],
            [
                [t.label, str(t.answered), hours_text(t.median), hours_text(t.p90)]
                for t in (*report.by_network, report.overall)
            ],
        ),
        "<h2>What arrived</h2>",
        _chart("volume"),
        "<h2>Equal treatment</h2>",
        "<p>Supporters and opponents are held to one standard: the same targets, the same "
        "courtesy checks. These figures show whether that held.</p>",
        _chart("treatment-by-stance"),
        _grid(
            ["Stance", "Cases", "Answered", "Left alone", "Median", "90th pct.", "Courteous"],
            _stance_rows(report.by_stance),
        ),
        '<p class="small">Courteous: replies that passed every courtesy check, of those sent.</p>',
        _courtesy_issues(report.by_stance),
        "<h2>Notable cases</h2>",
        _notable(report),
    ]
    parts += [
        "<h2>How these figures are counted</h2>",
        '<p class="small">First-response time runs from a conversation\'s first message to '
        "the first reply we sent, counting office hours only (evenings, weekends, holidays and "
        "time away do not count). Conversations not yet answered are left out of the medians "
        "and percentiles but counted as open, and as overdue once past their due time. The "
        "median is the middle value; the 90th percentile is the time within which nine in "
        "ten were answered. Sentiment is scored per message (positive from +0.05, negative "
        "from −0.05). Courtesy checks (greeting or name, capitals, wording to avoid, length) "
        "never look at who a reply is for.</p>",
        "</body></html>",
    ]
    return "\n".join(parts)


def build_document(report: Report, organisation: str = "") -> QTextDocument:
    """The report as a document, with its chart images as resources."""
    document = QTextDocument()
    font = QFont()
    font.setPointSize(10)
    document.setDefaultFont(font)
    for spec in report_charts.CHARTS:
        if spec.name in BOARD_CHARTS:
            image = report_charts.render_chart(spec.build(report), CHART_SIZE)
            document.addResource(
                QTextDocument.ResourceType.ImageResource, QUrl(CHART_URL + spec.name), image
            )
    document.setHtml(board_report_html(report, organisation))
    return document


def write_pdf(document: QTextDocument, path: Path, title: str) -> None:
    """Print ``document`` to an A4 PDF at ``path`` (Qt's own writer). The file appears only
    once complete: it is written beside it first."""
    path = Path(path)
    partial = path.with_name(f".{path.name}.part")
    writer = QPdfWriter(str(partial))
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    # QTextDocument.print_ keeps a 2 cm margin of its own (and puts page numbers in it).
    writer.setPageMargins(QMarginsF(0, 0, 0, 0), QPageLayout.Unit.Millimeter)
    writer.setResolution(300)
    writer.setTitle(title)
    writer.setCreator("Kindly")
    try:
        document.print_(writer)
        del writer  # finishes the file
        if not partial.exists() or partial.stat().st_size == 0:
            raise OSError(f"Qt could not write {path}")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_board_report(report: Report, path: Path, organisation: str = "") -> Path:
    """Write the board report PDF; returns ``path``. Needs a Q(Gui)Application."""
    path = Path(path)
    document = build_document(report, organisation)
    write_pdf(document, path, f"Social media report, {report.period.label}")
    return path
