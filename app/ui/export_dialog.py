"""Export cases (this one, the current list, or all) to PDF, HTML or a Kindly archive, and
import an archive back.

Files are chosen through a ``PathAsker`` (the app's uses ``QFileDialog``; tests answer with a
script), so no modal dialog runs in a path a test drives. The work runs on the ``Runner``: case
pages are read and written off the UI thread; only the PDF's printing (Qt painting) is done on
the UI thread, from HTML built in the background.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.core import settings as options
from app.core.archive import ArchiveError, export_archive, import_archive, write_text_file
from app.core.context import AppContext, own_connection
from app.core.export_html import case_ids, write_cases_html
from app.core.inbox import CaseQuery
from app.core.reports import report_config
from app.ui.board_report import write_pdf
from app.ui.tasks import Runner


class PathAsker(Protocol):
    def ask_save_path(self, title: str, suggested: str, filters: str) -> Path | None: ...

    def ask_open_path(self, title: str, filters: str) -> Path | None: ...


class FileDialogPaths:
    """The app's ``PathAsker``: the platform's file dialogs, starting in the home folder."""

    def __init__(self, parent: QWidget) -> None:
        self.parent = parent

    def ask_save_path(self, title: str, suggested: str, filters: str) -> Path | None:
        name, _ = QFileDialog.getSaveFileName(
            self.parent, title, str(Path.home() / suggested), filters
        )
        return Path(name) if name else None

    def ask_open_path(self, title: str, filters: str) -> Path | None:
        name, _ = QFileDialog.getOpenFileName(self.parent, title, str(Path.home()), filters)
        return Path(name) if name else None


def paths_for(asker: object, parent: QWidget) -> PathAsker:
    """The window's asker when it can choose files (a test's), else the file dialogs."""
    if hasattr(asker, "ask_save_path") and hasattr(asker, "ask_open_path"):
        return asker  # type: ignore[return-value]
    return FileDialogPaths(parent)


MAX_PDF_CASES = 500  # a PDF is laid out whole in memory; web pages and archives stream

FORMATS = {
    "pdf": ("PDF, to read and print", "PDF files (*.pdf)"),
    "html": ("Web page (HTML), opens in any browser", "Web pages (*.html)"),
    "json": ("Kindly archive (JSON), can be imported back", "Kindly archives (*.json)"),
}


def export_zone(context: AppContext) -> str:
    return report_config(context).office_hours.zone


class ExportDialog(QDialog):
    imported = Signal()  # an archive added cases: the window reloads its list
    finished_work = Signal(str)  # what the last export or import did, in words

    def __init__(
        self,
        context: AppContext,
        runner: Runner,
        paths: PathAsker,
        case_id: int | None = None,
        query: CaseQuery | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export cases")
        self.context, self.runner, self.paths = context, runner, paths
        self.case_id, self.query = case_id, query
        self.busy = False

        scope_box = QGroupBox("Which cases")
        scope_layout = QVBoxLayout(scope_box)
        self.scope = QButtonGroup(self)
        listed = context.inbox.count(query) if query is not None else 0
        total = context.inbox.count(CaseQuery())
        self.counts = {"case": 1, "list": listed, "all": total}
        for key, text, enabled in (
            ("case", f"This case{f' ({case_id})' if case_id else ''}", case_id is not None),
            ("list", f"The cases in the current list ({listed})", query is not None),
            ("all", f"All cases ({total})", True),
        ):
            button = QRadioButton(text)
            button.setObjectName(key)
            button.setEnabled(enabled)
            self.scope.addButton(button)
            scope_layout.addWidget(button)
        next(b for b in self.scope.buttons() if b.isEnabled()).setChecked(True)

        format_box = QGroupBox("As")
        format_layout = QVBoxLayout(format_box)
        self.format = QButtonGroup(self)
        for key, (text, _) in FORMATS.items():
            button = QRadioButton(text)
            button.setObjectName(key)
            self.format.addButton(button)
            format_layout.addWidget(button)
        self.format.buttons()[0].setChecked(True)

        note = QLabel(
            "PDF and web pages are for reading without Kindly: the conversation with times "
            "and links, notes, decisions and the checklist. Messages are shown as plain text "
            "and nothing in them is loaded or run."
        )
        note.setWordWrap(True)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.export_button = QPushButton("Export…")
        self.export_button.clicked.connect(self.export)
        self.import_button = QPushButton("Import an archive…")
        self.import_button.clicked.connect(self.import_archive)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.import_button)
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        for widget in (scope_box, format_box, note, self.status):
            layout.addWidget(widget)
        layout.addLayout(buttons)

    # -- choices ----------------------------------------------------------------------------

    def choose(self, scope: str, kind: str) -> None:
        for group, name in ((self.scope, scope), (self.format, kind)):
            next(b for b in group.buttons() if b.objectName() == name).setChecked(True)

    def chosen(self) -> tuple[str, str]:
        return self.scope.checkedButton().objectName(), self.format.checkedButton().objectName()

    def _ids(self, scope: str) -> Callable[[], Iterable[int]]:
        inbox = self.context.inbox
        if scope == "case" and self.case_id is not None:
            case_id = self.case_id
            return lambda: [case_id]
        query = self.query if scope == "list" and self.query is not None else CaseQuery()
        return lambda: case_ids(inbox, query)

    # -- export and import ------------------------------------------------------------------

    def export(self) -> None:
        if self.busy:
            return
        scope, kind = self.chosen()
        if kind == "pdf" and self.counts[scope] > MAX_PDF_CASES:
            self.status.setText(
                f"A PDF holds up to {MAX_PDF_CASES} cases; for {self.counts[scope]}, export a "
                "web page (HTML) or an archive."
            )
            return
        suggested = f"kindly-cases-{datetime.now(UTC):%Y-%m-%d}.{kind}"
        if scope == "case" and self.case_id is not None:
            suggested = f"kindly-case-{self.case_id}.{kind}"
        path = self.paths.ask_save_path("Export cases", suggested, FORMATS[kind][1])
        if path is None:
            return
        ids = self._ids(scope)
        zone = export_zone(self.context)
        organisation = self.context.settings.get(options.ORG_NAME)
        title = "Case from Kindly" if scope == "case" else "Cases from Kindly"

        def html_text() -> tuple[int, str]:
            out = io.StringIO()
            count = write_cases_html(ids(), out, title=title, zone=zone, organisation=organisation)
            return count, out.getvalue()

        def html_file() -> str:
            with write_text_file(path) as out:
                count = write_cases_html(
                    ids(), out, title=title, zone=zone, organisation=organisation
                )
            return f"{count} case(s) written to {path}."

        def archive() -> str:
            summary = export_archive(ids(), path)
            return f"{summary.cases} case(s), {summary.mentions} message(s) written to {path}."

        def print_pdf(result: tuple[int, str]) -> None:
            count, text = result
            document = QTextDocument()
            document.setHtml(text)
            try:
                write_pdf(document, path, title)
            except OSError as exc:
                self._failed(exc)
                return
            self._done(f"{count} case(s) written to {path}.")

        self._busy(True, "Exporting…")
        if kind == "pdf":
            self.runner.run(own_connection(html_text), print_pdf, self._failed)
        else:
            work = html_file if kind == "html" else archive
            self.runner.run(own_connection(work), self._done, self._failed)

    def import_archive(self) -> None:
        if self.busy:
            return
        path = self.paths.ask_open_path("Import a Kindly archive", FORMATS["json"][1])
        if path is None:
            return
        self._busy(True, "Importing…")

        def done(summary: Any) -> None:
            self._done(summary.text())
            if not summary.nothing_new:
                self.imported.emit()

        self.runner.run(own_connection(lambda: import_archive(path)), done, self._failed)

    # -- state ------------------------------------------------------------------------------

    def _busy(self, busy: bool, message: str = "") -> None:
        self.busy = busy
        self.export_button.setEnabled(not busy)
        self.import_button.setEnabled(not busy)
        if message:
            self.status.setText(message)

    def _done(self, message: str) -> None:
        self._busy(False)
        self.status.setText(message)
        self.finished_work.emit(message)

    def _failed(self, exc: BaseException) -> None:
        self._busy(False)
        if isinstance(exc, ArchiveError):
            message = exc.user_message
        elif isinstance(exc, OSError):
            message = f"Could not write the file: {exc.strerror or exc}."
        else:
            message = f"That did not work: {exc}"
        self.status.setText(message)
        self.finished_work.emit(message)
