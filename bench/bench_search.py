"""Search: full-text query latency over the 1,000,000-mention database.

    python -m bench.bench_search

Twenty typical searches (words, phrases, names, hashtags, a prefix) run through the path the
search box takes: ``queries.case_page(CaseQuery(search=…, order=NEWEST), None, 100)``, the
first page of matching cases. Beside each, a raw FTS5 ``MATCH`` of the same expression on the
same file (sqlite3, every matching rowid fetched, nothing else): the limit. Each query runs
three times; its latency is the median. p50/p95 are over the twenty queries. (Kindly also
looks every search up among people's names, ``person_fts``, schema 6; the raw peer reads the
mention index only, as before.) Two more rows split the names from the other searches.
"""

from __future__ import annotations

import sqlite3
import statistics
import sys
import time

from app.storage import queries, sqlite
from app.storage.db import close_database, open_database
from bench.common import BIG_DB, Table, fmt_ms, percentile

QUERIES = [
    "volunteer",
    "donate monthly",
    "refund",
    "river cleanup",
    "petition",
    "sewage",
    "thank you",
    "kingfishers",
    "otter",
    "parking",
    "Maya",
    "Okafor",
    "Gift Aid",
    "#CleanRivers",
    "crypto",
    "direct debit",
    "minibus",
    "vol",
    "water quality",
    "school groups",
]
NAMES = ["Maya", "Okafor"]  # people's names; the other eighteen are words of mention text
RUNS = 3


def main() -> int:
    if not BIG_DB.exists():
        sys.exit(f"{BIG_DB} is missing: run `python3 tasks.py bench generate` first")
    table = Table("search", "Search: 20 typical queries over 1,000,000 mentions")
    open_database(BIG_DB)
    raw = sqlite3.connect(f"file:{BIG_DB}?mode=ro", uri=True)
    app_times: dict[str, list[float]] = {q: [] for q in QUERIES}
    raw_times: dict[str, list[float]] = {q: [] for q in QUERIES}
    found: dict[str, tuple[int, int]] = {}
    for _ in range(RUNS):
        for q in QUERIES:
            start = time.perf_counter()
            page = queries.case_page(
                queries.CaseQuery(search=q, order=queries.CaseOrder.NEWEST), None, 100
            )
            app_times[q].append(time.perf_counter() - start)
            expression = sqlite.match_expression(q)
            start = time.perf_counter()
            rows = raw.execute(
                "SELECT rowid FROM mention_fts WHERE mention_fts MATCH ?", (expression,)
            ).fetchall()
            raw_times[q].append(time.perf_counter() - start)
            found[q] = (len(page), len(rows))
    raw.close()
    close_database()

    app = [statistics.median(v) for v in app_times.values()]
    lim = [statistics.median(v) for v in raw_times.values()]
    cold = [v[0] for v in app_times.values()]
    p50, p95 = percentile(app, 50), percentile(app, 95)
    r50, r95 = percentile(lim, 50), percentile(lim, 95)
    table.add(
        "search, first page of cases: p50",
        fmt_ms(p50),
        f"raw FTS5 MATCH p50: {fmt_ms(r50)}",
        p50 / r50,
    )
    table.add(
        "search, first page of cases: p95",
        fmt_ms(p95),
        f"raw FTS5 MATCH p95: {fmt_ms(r95)}",
        p95 / r95,
        "p95 < 30 ms",
        p95 < 0.030,
    )
    table.add("search p95, first run of each query", fmt_ms(percentile(cold, 95)))
    for label, group in (
        ("names (“Maya”, “Okafor”): slowest", [q for q in QUERIES if q in NAMES]),
        ("the 18 others: p95", [q for q in QUERIES if q not in NAMES]),
    ):
        ours = [statistics.median(app_times[q]) for q in group]
        peer = [statistics.median(raw_times[q]) for q in group]
        ours_p, peer_p = percentile(ours, 95), percentile(peer, 95)
        table.add(
            f"search, {label}", fmt_ms(ours_p), f"raw FTS5 MATCH: {fmt_ms(peer_p)}", ours_p / peer_p
        )
    slowest = sorted(QUERIES, key=lambda q: -statistics.median(app_times[q]))[:5]
    table.note(
        "Slowest: "
        + "; ".join(
            f"“{q}” {fmt_ms(statistics.median(app_times[q]))} "
            f"({found[q][1]:,} mentions match, raw {fmt_ms(statistics.median(raw_times[q]))})"
            for q in slowest
        )
    )
    table.note(
        "Queries: " + ", ".join(f"“{q}”" for q in QUERIES) + f"; median of {RUNS} runs each."
    )
    return table.finish()


if __name__ == "__main__":
    raise SystemExit(main())
