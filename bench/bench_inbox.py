"""Inbox at scale: the main window on a 1,000,000-mention database, and scrolling far down.

    python -m bench.bench_inbox

Each measurement runs in a fresh process (so its memory is its own):

- first page: as the app starts (``run_gui``), the window's frame (``MainWindow()``) is shown
  and painted, the inbox's modules are imported (``prepare_inbox``), then the database is
  opened; timed from the moment ``open_database`` returned to the case list's first paint with
  the first page of "Needs reply" loaded (``first_page_shown``): the services
  (``AppContext``), ``attach`` (model, case pane, person panel, helpers, counts, the first page
  and the first case opened) and the paint. The database open itself is reported beside it, as
  the launcher opens it (cheap checks on a large file; the full check runs in the background);
  the frame and the imports are not in this figure (they come before the database opens) but
  are in bench_startup's "first page" row, from a new process. The peer is
  a bare PySide6 window with a 100-row list, built and painted in its own process;
  The first page is measured in five processes on the 1M database (median reported, each
  figure in a note), as is the bare window;
- fetchMore: the "All" view scrolled to row 100,000, 100 rows a page, with the view repainted
  as it goes; each page is timed, beside the raw keyset SQL for the same page (sqlite3 on the
  same file, no objects built) measured in the same process;
- memory: peak RSS while scrolling, and the same scroll of 20,000 rows on the 1M and on a
  200k-mention database, whose ratio shows whether memory grows with the database.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import BIG_DB, ROOT, SMALL_DB, Table, fmt_ms, percentile, rss_mb

FIRST_PAGE_ONLY = 3  # children that only open the first page (beside the two that scroll)

RAW_PAGE = {
    "priority": (
        "SELECT c.id, c.network, c.status, c.person_id, c.last_snippet, c.last_activity_at, "
        "c.mention_count, c.reply_count, c.priority, c.why, c.due_at, p.id, p.display_name, "
        'p.handle, p.follower_count, p.stance FROM "case" c JOIN person p ON p.id = c.person_id '
        "WHERE c.bucket = 'needs_reply' {after} "
        "ORDER BY c.priority DESC, c.last_activity_at DESC, c.id DESC LIMIT 100"
    ),
    "newest": (
        "SELECT c.id, c.network, c.status, c.person_id, c.last_snippet, c.last_activity_at, "
        "c.mention_count, c.reply_count, c.priority, c.why, c.due_at, p.id, p.display_name, "
        'p.handle, p.follower_count, p.stance FROM "case" c JOIN person p ON p.id = c.person_id '
        "WHERE 1 {after} ORDER BY c.last_activity_at DESC, c.id DESC LIMIT 100"
    ),
}


def raw_pages(path: Path, pages: int) -> tuple[list[float], list[str]]:
    """The keyset page query, raw: the limit for one fetchMore. Also its query plan."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    sql = RAW_PAGE["newest"]
    plan = [
        row[3]
        for row in con.execute(
            "EXPLAIN QUERY PLAN " + sql.format(after="AND (c.last_activity_at, c.id) < (?, ?)"),
            ("9999", 0),
        )
    ]
    times: list[float] = []
    after: tuple[str, int] | None = None
    for _ in range(pages):
        start = time.perf_counter()
        if after is None:
            rows = con.execute(sql.format(after="")).fetchall()
        else:
            where = "AND (c.last_activity_at, c.id) < (?, ?)"
            rows = con.execute(sql.format(after=where), after).fetchall()
        times.append(time.perf_counter() - start)
        if not rows:
            break
        after = (rows[-1][5], rows[-1][0])
    con.close()
    return times, plan


def child_app(path: Path, scroll_rows: int) -> dict[str, Any]:
    from PySide6.QtCore import QEventLoop, QModelIndex, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    rss_start = rss_mb()
    from app.core.inbox import InboxView
    from app.storage.db import open_database
    from app.ui.app import new_context, prepare_inbox
    from app.ui.main_window import MainWindow

    # As the app starts: the window's frame on screen first, then the inbox's modules, then
    # the database; the first page is timed from the moment the database is open.
    loop = QEventLoop()
    QTimer.singleShot(30_000, loop.quit)
    with tempfile.TemporaryDirectory() as tmp:
        qsettings = QSettings(str(Path(tmp) / "window.ini"), QSettings.Format.IniFormat)
        window = MainWindow(qsettings=qsettings)
    window.first_painted.connect(loop.quit)
    window.show()
    loop.exec()
    prepare_inbox()

    started = time.perf_counter()
    open_database(path, defer_full_check=True)  # as the launcher opens it
    db_open = time.perf_counter() - started

    painted: list[float] = []
    start = time.perf_counter()
    context = new_context(path.parent, path)
    context.templates.seed()  # as the launcher does before attaching the inbox
    window.first_page_shown.connect(lambda: (painted.append(time.perf_counter()), loop.quit()))
    window.attach(context)
    loop.exec()
    first_page = painted[0] - start if painted else float("nan")
    first_rows = window.model.rowCount()
    rss_first = rss_mb()

    # The "All" view: every case, newest first; then scroll down a page at a time.
    start = time.perf_counter()
    window.sidebar.select(InboxView.ALL)
    app.processEvents()
    switch = time.perf_counter() - start
    model, view = window.model, window.list
    fetch_times: list[float] = []
    page_times: list[float] = []
    peak = rss_mb()
    for _ in range(scroll_rows // model.page_size + 10):  # bounded: a page per iteration
        if model.rowCount() >= scroll_rows or not model.canFetchMore(QModelIndex()):
            break
        t0 = time.perf_counter()
        model.fetchMore(QModelIndex())
        t1 = time.perf_counter()
        view.scrollToBottom()
        app.processEvents()  # layout and repaint, as a person scrolling would see
        t2 = time.perf_counter()
        fetch_times.append(t1 - t0)
        page_times.append(t2 - t0)
        peak = max(peak, rss_mb())
    rows = model.rowCount()
    scroll = time.perf_counter() - start - switch
    raw, plan = raw_pages(path, len(fetch_times) + 1)
    window.close()
    return {
        "db_open": db_open,
        "first_page": first_page,
        "first_rows": first_rows,
        "switch_all": switch,
        "scroll": scroll,
        "rows": rows,
        "fetch": fetch_times,
        "page": page_times,
        "raw": raw[1:],
        "plan": plan,
        "rss_start": rss_start,
        "rss_first": rss_first,
        "rss_peak": peak,
    }


def child_bare() -> dict[str, Any]:
    from PySide6.QtCore import QEventLoop, QStringListModel, QTimer
    from PySide6.QtWidgets import QApplication, QListView, QMainWindow

    app = QApplication(sys.argv[:1])
    painted: list[float] = []
    loop = QEventLoop()

    class Window(QMainWindow):
        def paintEvent(self, event: object) -> None:
            super().paintEvent(event)  # type: ignore[arg-type]
            if not painted:
                painted.append(time.perf_counter())
                QTimer.singleShot(0, loop.quit)

    start = time.perf_counter()
    window = Window()
    view = QListView()
    view.setModel(QStringListModel([f"Person {i} · a mention {i}" for i in range(100)], window))
    window.setCentralWidget(view)
    window.resize(1400, 860)
    QTimer.singleShot(30_000, loop.quit)
    window.show()
    loop.exec()
    del app
    return {"first_page": painted[0] - start if painted else float("nan")}


def run_child(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.bench_inbox", "--child", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=500,
    )
    if out.returncode != 0:
        raise RuntimeError(f"child {args} failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        result = child_bare() if kind == "bare" else child_app(Path(rest[0]), int(rest[1]))
        print(json.dumps(result), flush=True)
        os._exit(0)  # skip Qt's teardown at exit (PySide6 can crash there; nothing to save)

    for path in (BIG_DB, SMALL_DB):
        if not path.exists():
            sys.exit(f"{path} is missing: run `python3 tasks.py bench generate` first")
    table = Table("inbox", "Inbox at scale: 1,000,000 mentions (150,000 cases)")
    # The first page is one short wall-clock figure on a shared machine: taken in every child
    # on the 1M database (the two scrolling ones and FIRST_PAGE_ONLY more), each beside a bare
    # window started just before it; the medians are compared.
    bares = [run_child("bare")["first_page"]]
    big = run_child("app", str(BIG_DB), str(args.rows))
    bares.append(run_child("bare")["first_page"])
    big_20k = run_child("app", str(BIG_DB), "20000")
    firsts = [big["first_page"], big_20k["first_page"]]
    for _ in range(FIRST_PAGE_ONLY):
        bares.append(run_child("bare")["first_page"])
        firsts.append(run_child("app", str(BIG_DB), "0")["first_page"])
    small_20k = run_child("app", str(SMALL_DB), "20000")

    first, bare = statistics.median(firsts), statistics.median(bares)
    table.add(
        f"first page shown (inbox attached to the shown window + painted), after DB open, "
        f"median of {len(firsts)}",
        fmt_ms(first),
        f"bare PySide6 window + 100-row list: {fmt_ms(bare)}",
        first / bare,
        "< 50 ms",
        first < 0.050,
    )
    table.add(
        "database open as the app opens it (cheap checks; the full check runs later)",
        fmt_ms(big["db_open"]),
    )
    fetch, raw = big["fetch"], big["raw"]
    mean_fetch = sum(fetch) / len(fetch)
    mean_raw = sum(raw) / len(raw)
    table.add(
        f"fetchMore, mean of {len(fetch):,} calls (the view fetches more itself too)",
        fmt_ms(mean_fetch),
        f"raw keyset SQL per page: {fmt_ms(mean_raw)}",
        mean_fetch / mean_raw,
    )
    table.add(
        "fetchMore p95 / max",
        f"{fmt_ms(percentile(fetch, 95))} / {fmt_ms(max(fetch))}",
        f"raw p95: {fmt_ms(percentile(raw, 95))}",
        percentile(fetch, 95) / percentile(raw, 95),
    )
    page = big["page"]
    table.add(
        "scrolling: one step (fetchMore, scroll to the end, repaint), mean",
        fmt_ms(sum(page) / len(page)),
        f"{big['rows']:,} rows in {big['scroll']:.0f} s",
    )
    table.add(
        f"peak RSS scrolling to row {big['rows']:,}",
        f"{big['rss_peak']:.0f} MB",
        f"after first page: {big['rss_first']:.0f} MB",
        big["rss_peak"] / big["rss_first"],
        "< 250 MB",
        big["rss_peak"] < 250 and big["rows"] >= args.rows,
    )
    growth = big_20k["rss_peak"] / small_20k["rss_peak"]
    table.add(
        "peak RSS, 20,000 rows on the 1M database",
        f"{big_20k['rss_peak']:.0f} MB",
        f"same on 200k mentions: {small_20k['rss_peak']:.0f} MB",
        growth,
        "not growing with size (≤ 1.10×)",
        growth <= 1.10,
    )
    table.note(
        f"First page: {big['first_rows']} rows of 'Needs reply' (priority order); switching to "
        f"'All' took {fmt_ms(big['switch_all'])}. Keyset plan for 'All': " + "; ".join(big["plan"])
    )
    table.note(
        f"First page, each process: {', '.join(fmt_ms(f) for f in firsts)}; bare window: "
        f"{', '.join(fmt_ms(b) for b in bares)}."
    )
    table.note(
        "RSS in MB from psutil; QApplication alone: "
        f"{big['rss_start']:.0f} MB. Times are wall-clock on a shared machine."
    )
    return table.finish()


if __name__ == "__main__":
    raise SystemExit(main())
