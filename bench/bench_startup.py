"""Start-up: a new process to the main window's first paint, beside a bare PySide6 window.

    python -m bench.bench_startup [--runs 7] [--drop-caches] [--no-bytecode-cache]

``python main.py --data-dir D --no-welcome --exit-after-paint`` prints "kindly: first paint"
after the first paint of the main window, and "kindly: first page" once the database is open
and the case list has painted its first page (then it quits); ``python -m bench.bare_window
--exit-after-paint`` prints "bare: first paint" for a bare window (bench/bare_window.py). Both
are started the same way (same interpreter, environment and working folder) and timed from
spawn to each line. Runs alternate; the first of each is a warm-up and not counted; the median
is reported.

Two rows per data folder, from the same runs. "Main window shown" is the issue's target (≤ 1.3×
the bare window): since start-up shows the window's frame (title, menus, toolbar, views, the
case list saying "Opening your inbox…") before it opens the database, that row alone would
flatter the app, so "first page of cases" is reported beside it: spawn to the list painted with
the inbox open (an empty inbox on a new data folder), with its ratio to the same bare window.

Two data folders: a new one (the database is created) and the 1,000,000-mention database.
By default the operating system's file cache is warm (every run is a new process, so Python
imports and Qt start-up are paid each time). ``--drop-caches`` (Linux, root) empties the page
cache before every run for a truly cold start; it slows everything else on the machine.

Both start from compiled bytecode, as an installed Kindly does (pip and PyInstaller ship it,
``python main.py`` writes ``__pycache__``): the cache lives in ``bench/data/pycache``
(``PYTHONPYCACHEPREFIX``, so the source tree stays clean) and the warm-up run fills it, also
where the shell sets ``PYTHONDONTWRITEBYTECODE``. ``--no-bytecode-cache`` compiles Kindly's
~110 modules from source at every start instead (PySide6's own modules stay compiled: the bare
window does not pay it), as the figures before 2026-11-23 18:00 did.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.common import BIG_DB, DATA, ROOT, Table, fmt_ms, median

PYCACHE = DATA / "pycache"


def drop_caches() -> None:
    os.sync()
    Path("/proc/sys/vm/drop_caches").write_text("3\n")


def start_once(
    args: list[str], markers: list[str], cold: bool, bytecode_cache: bool = True
) -> list[float]:
    """Seconds from spawn to each marker line, in order."""
    if cold:
        drop_caches()
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    if bytecode_cache:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.pop("PYTHONPYCACHEPREFIX", None)
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    took: list[float] = []
    for line in process.stdout:  # ends when the process closes its output
        if markers[len(took)] in line:
            took.append(time.perf_counter() - start)
            if len(took) == len(markers):
                break
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if len(took) < len(markers):
        raise RuntimeError(f"{' '.join(args)} never printed {markers[len(took)]!r}")
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--drop-caches", action="store_true")
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="compile Kindly from source at every start (PYTHONDONTWRITEBYTECODE=1)",
    )
    args = parser.parse_args()
    table = Table(
        "startup", "Start-up: new process to the main window shown, and to the first page"
    )
    empty = DATA / "startup-empty"
    bare = (["-m", "bench.bare_window", "--exit-after-paint"], ["bare: first paint"])

    def app(folder: Path) -> tuple[list[str], list[str]]:
        argv = ["main.py", "--data-dir", str(folder), "--no-welcome", "--exit-after-paint"]
        return argv, ["kindly: first paint", "kindly: first page"]

    setups = [("new data folder", app(empty), True)]
    if BIG_DB.exists():
        setups.append(("1M-mention database", app(BIG_DB.parent), False))
    spreads = []
    for label, (argv, markers), fresh in setups:
        bare_times, shown_times, page_times = [], [], []
        for run in range(args.runs + 1):
            if fresh and empty.exists():
                shutil.rmtree(empty)  # every run creates its database, as a first start does
            [b] = start_once(bare[0], bare[1], args.drop_caches, not args.no_bytecode_cache)
            shown, page = start_once(argv, markers, args.drop_caches, not args.no_bytecode_cache)
            if run:  # the first of each is a warm-up
                bare_times.append(b)
                shown_times.append(shown)
                page_times.append(page)
        b = median(bare_times)
        shown, page = median(shown_times), median(page_times)
        table.add(
            f"start to main window shown (first paint), {label}",
            fmt_ms(shown),
            f"bare PySide6 window: {fmt_ms(b)}",
            shown / b,
            "≤ 1.3× bare",
            shown <= 1.3 * b,
        )
        table.add(
            f"start to first page of cases painted, {label}",
            fmt_ms(page),
            f"bare PySide6 window: {fmt_ms(b)}",
            page / b,
        )
        spreads.append(
            f"{label}: bare {fmt_ms(min(bare_times))}–{fmt_ms(max(bare_times))}, shown "
            f"{fmt_ms(min(shown_times))}–{fmt_ms(max(shown_times))}, first page "
            f"{fmt_ms(min(page_times))}–{fmt_ms(max(page_times))}"
        )
    cache = "dropped before every run" if args.drop_caches else "warm (see --drop-caches)"
    bytecode = (
        "Kindly compiled from source at every start (--no-bytecode-cache)"
        if args.no_bytecode_cache
        else "both from compiled bytecode (bench/data/pycache), as installed"
    )
    table.note(
        f"Median of {args.runs} runs each after one warm-up, alternating; OS file cache {cache}; "
        f"{bytecode}."
    )
    table.note(
        "The window is shown before the database is opened; the first page row is the same "
        "runs to the case list painted with the inbox open (no target of its own). "
        "Ranges: " + "; ".join(spreads) + "."
    )
    return table.finish()


if __name__ == "__main__":
    raise SystemExit(main())
