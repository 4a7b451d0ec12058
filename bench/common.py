"""What every benchmark shares: paths, the machine and versions, timing, the table, RESULTS.md.

Each script builds a ``Table`` of rows (figure, limit or peer, ratio, target, pass/fail),
prints it and writes it as its own section of ``bench/RESULTS.md`` (between markers, so
running one benchmark replaces only its section and leaves the others and the notes alone).
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
DATA = BENCH / "data"
RESULTS = BENCH / "RESULTS.md"
BIG_DB = DATA / "big" / "kindly.sqlite3"  # 1,000,000 mentions (bench/generate_db.py)
SMALL_DB = DATA / "small" / "kindly.sqlite3"  # 200,000 mentions: RSS must not grow with size

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

LIBRARIES = (
    "peewee",
    "PySide6_Essentials",
    "httpx",
    "orjson",
    "vaderSentiment",
    "Mastodon.py",
    "psutil",
)


# -- machine and versions ---------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gb() -> float:
    try:
        import psutil

        return psutil.virtual_memory().total / 2**30
    except ImportError:
        return 0.0


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "app", "main.py"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip() + (" + uncommitted app changes" if dirty.stdout.strip() else "")
    except OSError:
        return "unknown"


def machine_lines() -> list[str]:
    import sqlite3

    libraries = ", ".join(f"{name} {_version(name)}" for name in LIBRARIES)
    return [
        f"Machine: {_cpu_model()}, {os.cpu_count()} cores, {_memory_gb():.0f} GB RAM, "
        f"{platform.system()} {platform.release()}",
        f"Python {platform.python_version()} ({sys.implementation.name}), "
        f"SQLite {sqlite3.sqlite_version}, {libraries}",
        f"Code: git {_git_commit()}; QT_QPA_PLATFORM={os.environ.get('QT_QPA_PLATFORM')}",
    ]


# -- timing -----------------------------------------------------------------------------------


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    """``with stopwatch() as t: ...``; afterwards ``t[0]`` is the elapsed seconds."""
    box: list[float] = []
    start = time.perf_counter()
    try:
        yield box
    finally:
        box.append(time.perf_counter() - start)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (p95 of 20 values is the 19th smallest)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.4999)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


# -- the table --------------------------------------------------------------------------------


@dataclass
class Row:
    figure: str
    value: str
    limit: str = ""  # the limit or peer, with its value
    ratio: float | None = None
    target: str = ""
    ok: bool | None = None  # None: information only


@dataclass
class Table:
    name: str  # the script's short name: ingest, inbox, …
    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    def add(
        self,
        figure: str,
        value: str,
        limit: str = "",
        ratio: float | None = None,
        target: str = "",
        ok: bool | None = None,
    ) -> Row:
        row = Row(figure, value, limit, ratio, target, ok)
        self.rows.append(row)
        return row

    def note(self, text: str) -> None:
        self.notes.append(text)

    @property
    def passed(self) -> bool:
        return all(row.ok is not False for row in self.rows)

    def markdown(self) -> str:
        def verdict(ok: bool | None) -> str:
            return "" if ok is None else ("pass" if ok else "**FAIL**")

        lines = [
            "| figure | measured | limit / peer (same run) | ratio | target | result |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for r in self.rows:
            ratio = "" if r.ratio is None else f"{r.ratio:.2f}×"
            lines.append(
                f"| {r.figure} | {r.value} | {r.limit} | {ratio} | {r.target} | {verdict(r.ok)} |"
            )
        return "\n".join(lines)

    def print(self) -> None:
        headers = ("figure", "measured", "limit / peer (same run)", "ratio", "target", "result")
        body = [
            (
                r.figure,
                r.value,
                r.limit,
                "" if r.ratio is None else f"{r.ratio:.2f}x",
                r.target,
                "" if r.ok is None else ("pass" if r.ok else "FAIL"),
            )
            for r in self.rows
        ]
        widths = [max(len(h), *(len(row[i]) for row in body)) for i, h in enumerate(headers)]
        print(f"\n{self.title}")
        print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
        print("  ".join("-" * w for w in widths))
        for row in body:
            print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
        for text in self.notes:
            print(f"  note: {text}")
        print(f"  ({time.perf_counter() - self.started:.0f} s)", flush=True)

    def section(self) -> str:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        parts = [
            f"## {self.title}",
            "",
            f"Run {stamp} with `python3 tasks.py bench {self.name}` "
            f"({time.perf_counter() - self.started:.0f} s).",
            "",
            *(f"{line}  " for line in machine_lines()),
            "",
            self.markdown(),
        ]
        if self.notes:
            parts += ["", *(f"- {text}" for text in self.notes)]
        return "\n".join(parts)

    def finish(self, write: bool = True) -> int:
        """Print, write the section of RESULTS.md, and return the exit code (0: all passed)."""
        self.print()
        if write and os.environ.get("KINDLY_BENCH_NO_WRITE") != "1":
            write_section(self.name, self.section())
        return 0 if self.passed else 1


# -- RESULTS.md -------------------------------------------------------------------------------

ORDER = ("ingest", "inbox", "search", "startup", "sending", "generate")
HEADER = """# Benchmark results

Written by the scripts in `bench/` (`python3 tasks.py bench`, see `bench/README.md`); each
section is replaced when its script runs again. Absolute times vary between machines, so each
figure stands beside its limit or peer measured in the same run, and the targets are read from
the ratios where the issue gives one. Notes between the sections (profiling, before/after
figures) are written by hand and kept.
"""


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"


def write_section(name: str, body: str) -> None:
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else HEADER
    begin, end = _markers(name)
    block = f"{begin}\n{body}\n{end}"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _m: block, text)
    else:
        # Put it before the first section that comes later in ORDER, else at the end.
        later = ORDER[ORDER.index(name) + 1 :] if name in ORDER else ()
        spot = next(
            (text.index(_markers(n)[0]) for n in later if _markers(n)[0] in text), len(text)
        )
        text = text[:spot].rstrip("\n") + "\n\n" + block + "\n\n" + text[spot:].lstrip("\n")
    RESULTS.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


def fmt_rate(per_second: float, unit: str = "/s") -> str:
    return f"{per_second:,.0f}{unit}"


def fmt_ms(seconds: float) -> str:
    ms = seconds * 1000
    return f"{ms:.1f} ms" if ms < 100 else f"{ms:,.0f} ms"
