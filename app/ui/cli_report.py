"""``python main.py report --month 2026-10 --out board.pdf``: the board report without a window.

The PDF is drawn by Qt (charts and document), so the command starts an offscreen Qt
application: no display is needed. Qt and the reports are imported only when the command runs,
so registering it costs the app's start-up nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _month(text: str) -> str:
    from app.core.reports import ReportPeriod  # only when the command is used: start-up stays fast

    try:
        ReportPeriod.parse_month(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    return text


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "report",
        help="write the board report (PDF) for a month",
        description="Write the board report for a month as a PDF: charts, key numbers and "
        "notable cases.",
    )
    parser.add_argument("--month", required=True, type=_month, help="the month, as YYYY-MM")
    parser.add_argument("--out", required=True, type=Path, help="where to write the PDF")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from app.core import settings as options
    from app.core.context import AppContext
    from app.core.paths import data_dir, database_path
    from app.core.reports import Reports, report_config
    from app.ui.board_report import write_board_report

    app = QApplication.instance() or QApplication(["kindly", "-platform", "offscreen"])
    app.setApplicationName("Kindly")
    folder = data_dir(args.data_dir)
    context = AppContext(folder, database_path(folder), demo=args.demo)
    reports = Reports(report_config(context))  # the office hours and target in the settings
    period = reports.period_for_month(args.month)
    out = Path(args.out)
    if not out.parent.is_dir():
        print(f"kindly: the folder {out.parent} does not exist", file=sys.stderr)
        return 2
    report = reports.build(period)
    try:
        write_board_report(report, out, context.settings.get(options.ORG_NAME))
    except OSError as exc:
        print(f"kindly: could not write {out}: {exc}", file=sys.stderr)
        return 1
    c = report.counts
    print(
        f"Board report for {period.label} written to {out}: {c.total} cases, "
        f"{c.answered} answered, median first response "
        f"{dict(report.key_numbers())['Median first response']}."
    )
    return 0
