"""The export dialog: a case or a list to PDF, HTML or an archive, and an archive imported back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.core.context import AppContext
from app.core.inbox import CaseQuery
from app.storage.db import close_database, open_database
from app.storage.models import Case, Mention
from app.ui.export_dialog import ExportDialog
from app.ui.tasks import ImmediateRunner
from tests.helpers.report_data import HOSTILE, KnownData, build_known_data
from tests.ui.test_reports_view import ScriptedPaths


@pytest.fixture
def data(db_path: Path) -> KnownData:
    return build_known_data()


def make(
    qtbot, db_path: Path, paths: ScriptedPaths, case_id: int | None, query: CaseQuery | None
) -> ExportDialog:
    dialog = ExportDialog(
        AppContext(db_path.parent, db_path), ImmediateRunner(), paths, case_id, query
    )
    qtbot.addWidget(dialog)
    return dialog


def test_scopes_offered(qtbot, data: KnownData, db_path: Path) -> None:
    dialog = make(qtbot, db_path, ScriptedPaths(), None, CaseQuery(network="bluesky"))
    buttons = {b.objectName(): b for b in dialog.scope.buttons()}
    assert not buttons["case"].isEnabled()
    assert buttons["list"].text() == "The cases in the current list (3)"
    assert buttons["all"].text() == "All cases (12)"
    assert dialog.chosen() == ("list", "pdf")


def test_one_case_to_pdf(qtbot, data: KnownData, db_path: Path, tmp_path: Path) -> None:
    paths = ScriptedPaths()
    paths.answers = [tmp_path / "d.pdf"]
    dialog = make(qtbot, db_path, paths, data.cases["D"], None)
    dialog.choose("case", "pdf")
    dialog.export()
    assert paths.suggested == [f"kindly-case-{data.cases['D']}.pdf"]
    assert (tmp_path / "d.pdf").read_bytes().startswith(b"%PDF-")
    assert dialog.status.text() == f"1 case(s) written to {tmp_path / 'd.pdf'}."
    assert dialog.export_button.isEnabled()


def test_the_list_to_html(qtbot, data: KnownData, db_path: Path, tmp_path: Path) -> None:
    paths = ScriptedPaths()
    paths.answers = [tmp_path / "list.html"]
    dialog = make(qtbot, db_path, paths, None, CaseQuery(network="bluesky"))
    dialog.choose("list", "html")
    dialog.export()
    page = (tmp_path / "list.html").read_text(encoding="utf-8")
    assert page.count('<h2 id="case-') == 3
    assert "<script" not in page
    assert "3 case(s) written" in dialog.status.text()


def test_archive_out_and_back_in(qtbot, data: KnownData, db_path: Path, tmp_path: Path) -> None:
    archive = tmp_path / "all.json"
    paths = ScriptedPaths()
    paths.answers = [archive]
    dialog = make(qtbot, db_path, paths, None, None)
    dialog.choose("all", "json")
    dialog.export()
    assert len(json.loads(archive.read_text(encoding="utf-8"))["cases"]) == 12
    assert "12 case(s), 14 message(s)" in dialog.status.text()
    close_database()

    open_database(tmp_path / "other.sqlite3")
    other = ScriptedPaths()
    other.answers = [archive, archive]
    dialog = ExportDialog(
        AppContext(tmp_path, tmp_path / "other.sqlite3"), ImmediateRunner(), other
    )
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.imported):
        dialog.import_archive()
    assert Case.select().count() == 12
    assert Mention.select().where(Mention.text == HOSTILE).count() == 1
    assert dialog.status.text().startswith("Imported 12 new case(s)")
    with qtbot.assertNotEmitted(dialog.imported):
        dialog.import_archive()
    assert dialog.status.text() == "Nothing new: everything in this archive is already here."


def test_a_bad_archive_is_explained(qtbot, db_path: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "kindly-archive", "version": 9}', encoding="utf-8")
    paths = ScriptedPaths()
    paths.answers = [bad]
    dialog = make(qtbot, db_path, paths, None, None)
    dialog.import_archive()
    assert "newer Kindly" in dialog.status.text()
    assert Case.select().count() == 0


def test_a_very_long_pdf_is_refused(
    qtbot, data: KnownData, db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.ui import export_dialog

    monkeypatch.setattr(export_dialog, "MAX_PDF_CASES", 5)
    paths = ScriptedPaths()
    paths.answers = [tmp_path / "all.pdf"]
    dialog = make(qtbot, db_path, paths, None, None)
    dialog.choose("all", "pdf")
    dialog.export()
    assert "A PDF holds up to 5 cases; for 12, export a web page" in dialog.status.text()
    assert paths.suggested == [] and not (tmp_path / "all.pdf").exists()
