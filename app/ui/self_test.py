"""``kindly --self-test``: prove that this installation works, offscreen, in a few seconds.

It runs the checks of ``app.core.diagnostics`` (bundled files, a fresh demo database, the OS
keyring, the sentiment lexicons, the log file) and the Qt ones here (the SVG icon renders, the
reports' charts render, the main window paints the demo inbox, the welcome dialog builds),
prints one line per check and returns the exit code (0 passed, 1 failed, 3 no usable keyring).
Nothing touches the person's own data: the database lives in a temporary folder, window state
in a temporary file, and the keyring check writes and deletes a throw-away secret under a
``kindly:selftest:…`` reference.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TextIO

from keyring.backend import KeyringBackend
from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QSettings, QTimer, qVersion
from PySide6.QtGui import QGuiApplication, QIcon, QImageReader
from PySide6.QtWidgets import QApplication

from app.core import diagnostics
from app.core.context import AppContext
from app.core.demo import demo_database_path
from app.core.diagnostics import Check, Outcome, failed, passed
from app.core.resources import resource_path
from app.core.secrets import SecretStore
from app.storage.db import close_database
from app.ui.app import application
from app.ui.main_window import MainWindow
from app.ui.welcome import WelcomeDialog

log = logging.getLogger(__name__)

PAINT_TIMEOUT_MS = 30_000


def _dispose(widget: QApplication | object) -> None:
    """Delete a closed widget now, so nothing of the test outlives it."""
    delete_later = getattr(widget, "deleteLater", None)
    if delete_later is not None:
        delete_later()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QCoreApplication.processEvents()


def check_icon() -> Check:
    """The SVG icon renders: the SVG image format and icon engine plugins are in place."""
    path = resource_path("icons", "kindly.svg")
    if b"svg" not in [bytes(f.data()) for f in QImageReader.supportedImageFormats()]:
        return failed("icon", "Qt cannot read SVG here (the imageformats/qsvg plugin is missing)")
    pixmap = QIcon(str(path)).pixmap(64, 64)
    if pixmap.isNull():
        return failed("icon", f"{path} does not render (missing file or iconengines/qsvgicon)")
    return passed("icon", f"{path.name} renders at 64×64")


def check_charts() -> Check:
    """The reports view's charts render: QtCharts and the OpenGL libraries it links are there."""
    try:
        from PySide6.QtCharts import QChart, QChartView, QLineSeries
    except ImportError as exc:
        return failed("charts", f"QtCharts cannot be loaded ({exc}): reports would not open")
    series = QLineSeries()
    for x, y in ((0, 1), (1, 3), (2, 2)):
        series.append(x, y)
    chart = QChart()
    chart.addSeries(series)
    chart.createDefaultAxes()
    view = QChartView(chart)
    view.resize(200, 120)
    picture = view.grab()
    _dispose(view)
    if picture.isNull():
        return failed("charts", "a chart did not render")
    return passed("charts", "a QtCharts chart renders")


def check_window(data_folder: Path, timeout_ms: int = PAINT_TIMEOUT_MS) -> Check:
    """Open the main window on the (already open) demo database and wait for its first paint."""
    context = AppContext(data_folder, demo_database_path(data_folder), demo=True)
    started = time.perf_counter()
    try:
        context.templates.seed()
        qsettings = QSettings(str(data_folder / "window.ini"), QSettings.Format.IniFormat)
        window = MainWindow(context, qsettings=qsettings)
    except Exception as exc:  # the self-test reports instead of crashing
        log.exception("self-test: the main window could not be built")
        return failed("window", f"the main window could not be built: {type(exc).__name__}: {exc}")
    loop = QEventLoop()
    painted: list[bool] = []
    timer = QTimer(singleShot=True, interval=timeout_ms)
    timer.timeout.connect(loop.quit)

    def on_paint() -> None:
        painted.append(True)
        loop.quit()

    window.first_painted.connect(on_paint)
    try:
        window.show()
        if not painted:
            timer.start()
            loop.exec()
        timer.stop()
        elapsed = time.perf_counter() - started
        rows = window.model.rowCount()
        picture = window.grab()
        welcome = WelcomeDialog(data_folder, can_add_accounts=False, parent=window)
        welcome_ok = bool(welcome.demo_button.text())
        _dispose(welcome)
    finally:
        window.close()
        _dispose(window)
    if not painted:
        return failed("window", f"the main window did not paint within {timeout_ms / 1000:.0f} s")
    if rows == 0 or picture.isNull() or not welcome_ok:
        return failed(
            "window",
            f"painted, but {rows} cases listed, picture {'empty' if picture.isNull() else 'ok'}",
        )
    return passed(
        "window",
        f"main window painted the demo inbox ({rows} cases listed) in {elapsed:.2f} s; "
        "welcome dialog builds",
    )


def sync_worker_check() -> Check:
    """Sync's worker process starts from this installation (spawn; the bundle's own entry)."""
    from app.core.sync_worker import check_worker

    ok, detail = check_worker()
    return (passed if ok else failed)("sync worker", detail)


def run_self_test(
    log_file: Path,
    *,
    allow_no_keyring: bool = False,
    keyring_backend: KeyringBackend | None = None,
    out: TextIO | None = None,
) -> int:
    """Run every check, print the report to ``out`` (stdout), return the exit code."""
    started = time.perf_counter()
    if QApplication.instance() is None:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # the self-test never needs a display
    application()
    log.info("self-test started")
    checks: list[Check] = [diagnostics.check_resources(), check_icon(), check_charts()]
    with tempfile.TemporaryDirectory(prefix="kindly-self-test-") as tmp:
        folder = Path(tmp)
        try:
            checks.append(diagnostics.check_database(folder))
            if checks[-1].passed:
                checks.append(check_window(folder))
            else:
                checks.append(Check("window", Outcome.FAILED, "not tried: no database"))
        finally:
            close_database()
    store = SecretStore(keyring_backend) if keyring_backend is not None else None
    checks.append(diagnostics.check_keyring(store))
    checks.append(diagnostics.check_sentiment())
    checks.append(sync_worker_check())
    checks.append(diagnostics.check_log_file(log_file))
    checks = diagnostics.settle(checks, allow_no_keyring=allow_no_keyring)
    header = (
        f"{diagnostics.describe_environment()}, Qt {qVersion()} ({QGuiApplication.platformName()})"
    )
    report = diagnostics.format_report(checks, header)
    code = diagnostics.exit_code(checks)
    elapsed = time.perf_counter() - started
    print(f"{report} ({elapsed:.1f} s, exit code {code})", file=out or sys.stdout, flush=True)
    (log.info if code == diagnostics.EXIT_OK else log.error)("self-test report:\n%s", report)
    return code
