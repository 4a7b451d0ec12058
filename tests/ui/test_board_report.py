"""The board report PDF, from the code and from ``main.py report``; its text if poppler is here."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.policy.store import default_policy
from app.core.reports import Report, ReportPeriod, Reports
from app.storage.db import close_database, open_database
from app.ui.board_report import board_report_html, write_board_report
from tests.helpers.report_data import CONFIG, HOSTILE, NOW, build_known_data

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def october(db_path: Path) -> Report:
    build_known_data()
    return Reports(CONFIG, default_policy(), clock=lambda: NOW).build(ReportPeriod.month(2026, 10))


def pdf_text(path: Path) -> str:
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: the PDF's text is not checked")
    done = subprocess.run([tool, "-layout", str(path), "-"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return squeeze(done.stdout)


def squeeze(text: str) -> str:
    """Without white space or ligatures: pdftotext's spacing follows the glyphs' positions."""
    for ligature, letters in (("ﬃ", "ffi"), ("ﬁ", "fi"), ("ﬂ", "fl"), ("ﬀ", "ff")):
        text = text.replace(ligature, letters)
    return "".join(text.split())


def test_the_pdf_is_written(qapp, october: Report, tmp_path: Path) -> None:
    path = write_board_report(october, tmp_path / "board.pdf", "Riverbank Alliance")
    data = path.read_bytes()
    assert data.startswith(b"%PDF-")
    assert b"%%EOF" in data[-64:]
    assert len(data) > 20_000  # the charts are in it
    assert [p.name for p in tmp_path.iterdir() if p.name != "data"] == ["board.pdf"]


def test_the_pdf_says_the_month_and_the_key_numbers(qapp, october: Report, tmp_path: Path) -> None:
    path = write_board_report(october, tmp_path / "board.pdf", "Riverbank Alliance")
    text = pdf_text(path)
    for words in (
        "Riverbank Alliance: social media report, October 2026",
        "12 10 6 (60%) 52 min 3 h",  # mentions, cases, answered, median, 90th percentile
        "Mentions Cases Answered Median first",  # (response: wrapped to the next line)
        "2 2 1 36% -0.07",  # open, overdue, left alone, negative share, mean sentiment
        "Of 10 conversations that began in October 2026: 6 answered",
        "2 still needing a reply (2 overdue), 1 left alone",
        "Mastodon 5 45 min 3 h 10 min",
        "Opponent 4 50% 25% 3 h 3 h 50 min 0 of 2",
        "no greeting or name 2, in capitals 1, wording to avoid 1",
        "Notable cases",
    ):
        assert squeeze(words) in text, words


def test_mention_text_in_the_report_is_escaped(october: Report) -> None:
    page = board_report_html(october, "<b>Org</b>")
    assert "<script" not in page
    assert "&lt;script&gt;" in page  # D's hostile message among the notable cases
    assert "&lt;b&gt;Org&lt;/b&gt;" in page
    assert HOSTILE not in page


def test_an_empty_month(qapp, db_path: Path, tmp_path: Path) -> None:
    report = Reports(CONFIG, default_policy(), clock=lambda: NOW).build(ReportPeriod.month(2025, 2))
    path = write_board_report(report, tmp_path / "empty.pdf")
    assert path.read_bytes().startswith(b"%PDF-")
    assert "No conversations began in this period." in board_report_html(report)


def run_main(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # TZ: with no office time zone saved, Kindly uses the computer's; the figures assume UTC.
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "KINDLY_DATA_DIR": str(data_dir),
        "TZ": "UTC",
    }
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=90,
    )


def test_the_report_command(data_dir: Path, tmp_path: Path) -> None:
    open_database(data_dir / "kindly.sqlite3")
    build_known_data()
    close_database()
    out = tmp_path / "board.pdf"
    done = run_main(data_dir, "report", "--month", "2026-10", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert f"Board report for October 2026 written to {out}" in done.stdout
    assert "10 cases, 6 answered, median first response 52 min" in done.stdout
    assert out.read_bytes().startswith(b"%PDF-")
    if shutil.which("pdftotext"):
        assert squeeze("social media report, October 2026") in pdf_text(out)


def test_the_report_command_refuses_a_bad_month(data_dir: Path, tmp_path: Path) -> None:
    done = run_main(data_dir, "report", "--month", "2026-13", "--out", str(tmp_path / "x.pdf"))
    assert done.returncode == 2
    assert "write it as YYYY-MM" in done.stderr
    assert not (tmp_path / "x.pdf").exists()
