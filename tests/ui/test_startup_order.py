"""Start-up order: the window is on screen before the database is opened, and everything that
happened at start-up still happens, now over that window: the restore offer for a damaged file,
the refusal of a file from a newer Kindly, the first-run welcome with its demo, and the first
page of cases ("kindly: first page").

Each start runs ``run_gui`` in its own process (tests/ui/startup_driver.py), as the app does,
with the dialogs answered by a script and every step recorded in order."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from app.core.paths import database_path
from app.storage.migrations import HEAD
from app.ui.main_window import OPENING
from tests.ui.test_damaged_startup import TITLE
from tests.ui.test_damaged_startup import damaged as damaged

ROOT = Path(__file__).resolve().parents[2]


def start(scenario: str, data_dir: Path) -> tuple[dict[str, Any], list[str]]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", KINDLY_DATA_DIR=str(data_dir))
    run = subprocess.run(
        [sys.executable, "-m", "tests.ui.startup_driver", scenario, str(data_dir)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = run.stdout.splitlines()
    results = [line for line in lines if line.startswith("RESULT ")]
    assert run.returncode == 0 and results, run.stderr[-3000:]
    return json.loads(results[-1][len("RESULT ") :]), lines


def test_the_window_paints_before_the_database_opens_then_shows_the_first_page(
    data_dir: Path,
) -> None:
    seen, printed = start("demo", data_dir)

    assert seen["code"] == 0
    assert seen["events"] == [
        "window painted",
        "open database (closed until now: True)",
        "first page",
    ]
    assert seen["opening_text"] == OPENING
    assert seen["rows_at_first_page"] > 0
    assert seen["windows"] == 1 and seen["attached"]  # the inbox opened in the same window
    assert seen["case_open"]  # the first case opens once the list is on screen
    assert [line for line in printed if line.startswith("kindly:")] == [
        "kindly: first paint",
        "kindly: first page",
    ]


def test_a_new_data_folder_gets_its_database_and_an_empty_first_page(data_dir: Path) -> None:
    seen, printed = start("new", data_dir)

    assert seen["code"] == 0 and database_path(data_dir).exists()
    assert seen["events"][0] == "window painted" and seen["events"][-1] == "first page"
    assert seen["rows_at_first_page"] == 0
    assert "No accounts connected yet" in seen["empty_text"]
    assert "kindly: first page" in printed


def test_a_damaged_database_still_gets_the_restore_offer_over_the_window(
    data_dir: Path,
    damaged: Path,
) -> None:
    seen, _ = start("damaged-yes", data_dir)

    assert seen["code"] == 0
    assert seen["asked"] == [TITLE]
    assert seen["parents"] and all(seen["parents"])  # asked over the window on screen
    assert seen["events"][0] == "window painted" and seen["events"][-1] == "first page"
    assert seen["windows"] == 1 and seen["attached"]
    assert seen["people"] == 300  # the restored backup
    assert seen["status"].startswith("Restored the backup made ")


def test_saying_no_to_the_restore_closes_the_window_and_exits_with_2(
    data_dir: Path,
    damaged: Path,
) -> None:
    before = hashlib.sha256(damaged.read_bytes()).hexdigest()

    seen, printed = start("damaged-no", data_dir)

    assert seen["code"] == 2
    assert seen["asked"] == [TITLE]
    assert not seen["visible"] and not seen["attached"]
    assert "first page" not in seen["events"] and "kindly: first page" not in printed
    assert any("Start Kindly again to restore one" in text for text in seen["informed"])
    assert hashlib.sha256(damaged.read_bytes()).hexdigest() == before


def test_a_database_from_a_newer_kindly_is_refused_over_the_window(data_dir: Path) -> None:
    path = database_path(data_dir)
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE schema_info (id INTEGER PRIMARY KEY, version INTEGER, at TEXT)")
    con.execute(f"INSERT INTO schema_info (version, at) VALUES ({HEAD + 1}, 'later')")
    con.commit()
    con.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()

    seen, _ = start("newer", data_dir)

    assert seen["code"] == 2
    [[over_window, title, text]] = seen["critical"]
    assert over_window and title == "Kindly cannot open its database"
    assert "Install the newer Kindly" in text
    assert seen["events"][0] == "window painted" and not seen["attached"]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_the_first_run_still_offers_the_demo_once_the_inbox_is_open(data_dir: Path) -> None:
    seen, _ = start("welcome", data_dir)

    assert seen["code"] == 0
    assert seen["offered"] == [True, True]  # after the first page, the welcome with the demo
