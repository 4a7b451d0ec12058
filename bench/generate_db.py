"""Make a large Kindly database for the inbox, search and start-up benchmarks.

    python -m bench.generate_db                      both: 1M mentions and 200k mentions
    python -m bench.generate_db --mentions 1000000 --out bench/data/big/kindly.sqlite3

The file is a normal Kindly database: ``open_database`` creates it at the head schema (tables,
indexes, FTS5 table and triggers), then rows are bulk-inserted with raw ``executemany`` in one
transaction (the FTS rows through the app's own triggers), and it is opened once more the way
the app opens it. Proportions per 1M mentions: ~150k cases, ~60k people, four accounts (one per
network), replies and events on the cases that were answered. Accounts' keyring references
start with ``demo:`` so nothing ever tries to sync them. Sentiment is a seeded random value
(scoring 1M texts with VADER would take a minute and change nothing that is measured).
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import time
from pathlib import Path

from app.storage import sqlite as sqlite_ext
from app.storage.db import close_database, open_database
from app.storage.migrations import HEAD
from bench.common import BIG_DB, SMALL_DB
from bench.textgen import TextGen

NETWORKS = (("mastodon", 0.40), ("bluesky", 0.25), ("x", 0.20), ("facebook", 0.15))
# (status, bucket, share of cases)
STATUSES = (
    ("new", "needs_reply", 0.12),
    ("open", "needs_reply", 0.10),
    ("waiting", "waiting", 0.10),
    ("resolved", "resolved", 0.50),
    ("left_alone", "left_alone", 0.15),
    ("escalated", "escalated", 0.03),
)
SPAN_DAYS = 730  # two years of mentions
NOW = 1_790_000_000.0  # a fixed "now" (2026-09-21), so every run builds the same file
CHUNK = 50_000


def stamp(t: float) -> str:
    """The text ``UTCDateTimeField`` stores."""
    whole = int(t)
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(whole)) + f".{int((t - whole) * 1e6):06d}"


def _pick(rng: random.Random, table: tuple[tuple[str, float], ...]) -> str:
    x, acc = rng.random(), 0.0
    for name, share in table:
        acc += share
        if x < acc:
            return name
    return table[-1][0]


def _counts(rng: random.Random, cases: int, mentions: int) -> list[int]:
    """Mentions per case: most have a few, some run long; the total is exactly ``mentions``."""
    mean_extra = max(0.0, mentions / cases - 1)
    counts = [1 + int(rng.expovariate(1 / mean_extra)) if mean_extra else 1 for _ in range(cases)]
    diff = mentions - sum(counts)
    while diff:
        i = rng.randrange(cases)
        if diff > 0:
            counts[i] += 1
            diff -= 1
        elif counts[i] > 1:
            counts[i] -= 1
            diff += 1
    return counts


def generate(path: Path, mentions: int, seed: int = 7) -> dict[str, float]:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    if path.parent.exists():
        shutil.rmtree(path.parent)
    path.parent.mkdir(parents=True)
    open_database(path)  # a normal Kindly database at the head schema
    close_database()

    rng = random.Random(seed)
    gen = TextGen(seed)
    n_cases = max(1, mentions * 15 // 100)
    n_people = max(1, mentions * 6 // 100)

    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode = OFF")  # a throw-away file until it is complete
    con.execute("PRAGMA synchronous = OFF")
    con.execute("PRAGMA cache_size = -2000000")
    con.execute("PRAGMA temp_store = MEMORY")
    con.execute("BEGIN")
    # FTS rows are added in one pass at the end (the app's own rebuild statement): a trigger
    # firing per row is ten times slower for a bulk load. The trigger is put back after.
    con.execute("DROP TRIGGER mention_fts_insert")
    now = stamp(NOW)

    accounts = {}
    for i, (network, _) in enumerate(NETWORKS, start=1):
        accounts[network] = i
        con.execute(
            "INSERT INTO account (id, network, handle, display_name, base_url, remote_id, "
            "keyring_ref, cursor, enabled, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (i, network, f"@riverbank-{network}", "Riverbank Alliance", "https://example.org",
             f"acct-{network}", f"demo:bench-{network}", None, 1, now),
        )  # fmt: skip

    # -- people ---------------------------------------------------------------------------
    t0 = time.perf_counter()
    people: list[tuple[int, str]] = []  # (id, network)
    rows = []
    for pid in range(1, n_people + 1):
        network = _pick(rng, NETWORKS)
        name, handle = gen.person(pid)
        stance = rng.choices(("unknown", "supporter", "neutral", "opponent"), (80, 12, 5, 3))[0]
        followers = int(rng.lognormvariate(4.5, 1.6))
        people.append((pid, network))
        rows.append(
            (pid, network, f"p{pid}", f"{handle}@{network}.example", name, followers,
             f"https://{network}.example/@{handle}", stance, "", now)
        )  # fmt: skip
    con.executemany(
        "INSERT INTO person (id, network, remote_id, handle, display_name, follower_count, "
        "profile_url, stance, notes, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
        rows,
    )
    timings["people"] = time.perf_counter() - t0

    # -- cases and when their mentions were written ----------------------------------------
    t0 = time.perf_counter()
    counts = _counts(rng, n_cases, mentions)
    case_people = [people[min(n_people - 1, int(n_people * rng.random() ** 1.3))] for _ in counts]
    starts = sorted(NOW - SPAN_DAYS * 86400 * rng.random() for _ in counts)  # ids follow time
    status_table = tuple((f"{s}|{b}", share) for s, b, share in STATUSES)
    case_rows = []
    when: list[tuple[float, int]] = []  # (created_at, case index) for every mention
    last_at: list[float] = []
    for index, (count, start) in enumerate(zip(counts, starts, strict=True)):
        t = start
        for _ in range(count):
            when.append((t, index))
            t += rng.expovariate(1 / 7200)  # a few hours between messages
        last_at.append(min(t, NOW))
    when.sort()
    timings["plan"] = time.perf_counter() - t0

    # -- mentions (FTS rows through the app's triggers) -------------------------------------
    t0 = time.perf_counter()
    last_remote: list[str | None] = [None] * n_cases
    snippets = [""] * n_cases
    mention_sql = (
        "INSERT INTO mention (id, account_id, network, remote_id, author_id, case_id, text, "
        "markup, url, kind, addressed_to_us, created_at, fetched_at, in_reply_to_id, "
        "conversation_id, sentiment, sentiment_corrected, raw) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
    )
    batch = []
    for mid, (t, index) in enumerate(when, start=1):
        pid, network = case_people[index]
        text = gen.text()
        remote = f"{network[0]}{mid:09d}"
        parent = last_remote[index]
        last_remote[index] = remote
        snippets[index] = text[:140]
        created = stamp(min(t, NOW))
        batch.append(
            (mid, accounts[network], network, remote, pid, index + 1, text, f"<p>{text}</p>",
             f"https://{network}.example/post/{remote}", "reply" if parent else "mention", 1,
             created, created, parent, parent, round(rng.uniform(-1, 1), 3), 0, None)
        )  # fmt: skip
        if len(batch) >= CHUNK:
            con.executemany(mention_sql, batch)
            batch.clear()
    con.executemany(mention_sql, batch)
    timings["mentions"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    con.execute(sqlite_ext.FTS_REBUILD)
    for statement in sqlite_ext.FTS_DDL:  # CREATE … IF NOT EXISTS: restores the insert trigger
        con.execute(statement)
    timings["fts"] = time.perf_counter() - t0

    # -- cases, replies, events -------------------------------------------------------------
    t0 = time.perf_counter()
    replies, events = [], []
    for index, count in enumerate(counts):
        cid = index + 1
        pid, network = case_people[index]
        status, bucket = _pick(rng, status_table).split("|")
        first, last = stamp(starts[index]), stamp(last_at[index])
        answered = status in ("waiting", "resolved") or (status == "open" and rng.random() < 0.3)
        priority = round(rng.uniform(0, 100) if bucket == "needs_reply" else rng.uniform(0, 40), 2)
        why = rng.choice(("Question", "Complaint", "Praise", "Campaign", "Supporter, question"))
        due = stamp(last_at[index] + 7200) if bucket == "needs_reply" else None
        case_rows.append(
            (cid, accounts[network], pid, network, f"c{cid}", status, bucket,
             "Spam" if status == "left_alone" else "", first, last, first, last, count,
             1 if answered else 0, snippets[index], 0, priority, why, due, 0)
        )  # fmt: skip
        events.append((cid, "created", f"First mention from {network}", "kindly", first))
        if answered:
            replies.append(
                (cid, accounts[network], None, "Thanks for getting in touch! We'll help.",
                 None, "sent", f"bench-{cid}", f"r{cid}", None, None, 1, last, last, last)
            )  # fmt: skip
            events.append((cid, "reply_sent", "Reply sent", "kindly", last))
        if status in ("resolved", "left_alone", "escalated"):
            events.append((cid, "status_changed", f"→ {status}", "officer", last))
    con.executemany(
        'INSERT INTO "case" (id, account_id, person_id, network, conversation_key, status, '
        "bucket, status_reason, created_at, updated_at, first_mention_at, last_activity_at, "
        "mention_count, reply_count, last_snippet, reopened_count, priority, why, due_at, keep) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        case_rows,
    )
    con.executemany(
        "INSERT INTO outbound_reply (case_id, account_id, in_reply_to_id, text, template_name, "
        "state, idempotency_key, remote_id, remote_url, error, attempts, created_at, "
        "updated_at, sent_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        replies,
    )
    con.executemany(
        "INSERT INTO case_event (case_id, kind, detail, actor, created_at) VALUES (?,?,?,?,?)",
        events,
    )
    timings["cases+events"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    con.execute("COMMIT")
    con.execute("PRAGMA journal_mode = WAL")
    con.close()
    timings["commit"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    report = open_database(path)  # exactly as the app opens it (checks, WAL, migrations)
    close_database()
    assert report.to_version == HEAD, report
    timings["reopen"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - started
    return timings


def describe(path: Path) -> str:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        n = {
            t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
            for t in ("mention", "case", "person", "outbound_reply", "case_event")
        }
    finally:
        con.close()
    size = path.stat().st_size / 2**20
    return (
        f"{n['mention']:,} mentions, {n['case']:,} cases, {n['person']:,} people, "
        f"{n['outbound_reply']:,} replies, {n['case_event']:,} events; {size:,.0f} MB"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description="Make large Kindly databases for benchmarks.")
    parser.add_argument("--mentions", type=int, help="how many mentions (default: 1M and 200k)")
    parser.add_argument("--out", type=Path, help="the database file to write")
    args = parser.parse_args()
    if args.mentions or args.out:
        jobs = [(args.out or BIG_DB, args.mentions or 1_000_000)]
    else:
        jobs = [(BIG_DB, 1_000_000), (SMALL_DB, 200_000)]
    for path, mentions in jobs:
        print(f"generate_db: {mentions:,} mentions into {path} …", flush=True)
        timings = generate(path, mentions)
        steps = ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())
        print(f"generate_db: {describe(path)}\n  {steps}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
