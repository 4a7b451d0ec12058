"""Triage at ingest: what the TriageHook costs on top of storing mentions.

    python -m bench.bench_triage [--mentions 100000] [--page 80]

Figures, all in one run on the same generated mentions (realistic text from ``bench.textgen``,
pages of 80 as Mastodon sends them, one transaction per page as sync does):

- the storage stage alone: ``Ingestor.ingest`` without hooks;
- the same with ``TriageHook`` (VADER sentiment, policy, deadlines, priority, decisions);
- the hook alone: time spent inside ``after_ingest`` (target: at least 10,000 mentions/s, so
  triage never becomes what limits sync);
- VADER alone on the same texts, the floor of the hook's cost;
- a full re-triage (``Triage.refresh``) of every case that needs a reply;
- the hook's stages, each replayed over the very batches of cases the hook triaged, in µs per
  mention so that they add up to the hook: reading the facts (SQL and building ``CaseFacts``),
  the policy's decision (a new ``Triage``, so its caches start empty as at ingest), the
  deadline, the priority and why line (``plan_case`` minus its deadline), and the writes with
  the rest (the hook minus the stages). Only public functions are timed, so this script also
  runs on older commits (``git archive`` a commit elsewhere and run it there: the "before").
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import time
from datetime import UTC, datetime, timedelta

from app.core.ingest import Ingestor, IngestResult
from app.core.networks.base import RemoteMention, RemotePerson
from app.core.policy.store import default_policy
from app.core.triage import Triage, TriageConfig, TriageHook, deadline, plan_case
from app.core.triage.facts import CHUNK, load_case_facts
from app.core.triage.sentiment import SentimentScorer
from app.core.vocab import Bucket, Network
from app.storage.db import close_database, open_database
from app.storage.models import Account, Case, CaseEvent
from bench.common import DATA, Table, fmt_rate
from bench.textgen import TextGen

WORK = DATA / "triage"
TARGET = 10_000


class TimedHook(TriageHook):
    """The real hook, with a stopwatch around it."""

    seconds = 0.0
    cpu_seconds = 0.0
    batches: list[list[int]]

    def after_ingest(self, result: IngestResult) -> None:
        if not hasattr(self, "batches"):
            self.batches = []
        self.batches.append(list(result.touched_cases))
        start, cpu = time.perf_counter(), time.process_time()
        super().after_ingest(result)
        self.seconds += time.perf_counter() - start
        self.cpu_seconds += time.process_time() - cpu


def mentions(count: int, seed: int = 7) -> list[RemoteMention]:
    """A mixed inbox: 30 % of mentions continue one of the author's earlier threads."""
    rng = random.Random(seed)
    text = TextGen(seed)
    people_count = max(1, count // 3)
    people = []
    for i in range(people_count):
        name, handle = TextGen.person(i)
        followers = int(10 ** rng.uniform(0, 5.5))
        people.append(RemotePerson(f"p{i}", handle, name, followers))
    threads: dict[int, str] = {}
    start = datetime.now(UTC) - timedelta(days=3)
    out = []
    for n in range(count):
        who = rng.randrange(people_count)
        conversation = threads.get(who) if rng.random() < 0.3 else None
        out.append(
            RemoteMention(
                network=Network.MASTODON,
                remote_id=f"m{n}",
                author=people[who],
                text=text.text(),
                created_at=start + timedelta(seconds=n * 2),
                conversation_id=conversation,
            )
        )
        threads.setdefault(who, conversation or f"m{n}")
    return out


def fresh(name: str) -> int:
    close_database()
    folder = WORK / name
    if folder.exists():
        shutil.rmtree(folder)
    open_database(folder / "kindly.sqlite3")
    return int(Account.create(network="mastodon", handle="@org@bench", keyring_ref=name).id)


def run(items: list[RemoteMention], page: int, hook: TriageHook | None) -> float:
    account_id = fresh("with-hook" if hook else "without-hook")
    ingestor = Ingestor([hook] if hook else [])
    start = time.perf_counter()
    for first in range(0, len(items), page):
        ingestor.ingest(account_id, Network.MASTODON, items[first : first + page])
    return time.perf_counter() - start


def stages(batches: list[list[int]], now: datetime) -> dict[str, float]:
    """Seconds in each pure stage of the hook, over the same batches of cases (CPU time)."""
    config = TriageConfig()
    triage = Triage(default_policy(), config, clock=lambda: now)
    spent = dict.fromkeys(("facts", "policy", "deadline", "plan"), 0.0)
    hours, risk = config.office_hours, config.at_risk_fraction
    for batch in batches:
        clock = time.process_time()
        facts = [
            f
            for i in range(0, len(batch), CHUNK)
            for f in load_case_facts(batch[i : i + CHUNK]).values()
        ]
        spent["facts"] += time.process_time() - clock
        clock = time.process_time()
        decisions = [triage.decide(f) for f in facts]
        spent["policy"] += time.process_time() - clock
        clock = time.process_time()
        for f, d in zip(facts, decisions, strict=True):
            target = config.response_target if d.target is None else d.target
            deadline(hours, f.clock_start, target, now, risk)
        spent["deadline"] += time.process_time() - clock
        clock = time.process_time()
        for f, d in zip(facts, decisions, strict=True):
            plan_case(f, d, config, now)
        spent["plan"] += time.process_time() - clock
    return spent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=100_000)
    parser.add_argument("--page", type=int, default=80)
    args = parser.parse_args()
    table = Table("triage", f"Triage at ingest: {args.mentions:,} mentions in pages of {args.page}")
    items = mentions(args.mentions)
    n = len(items)

    plain = run(items, args.page, None)
    triage = Triage(default_policy(), TriageConfig())
    hook = TimedHook(triage)
    both = run(items, args.page, hook)
    cases = Case.select().count()
    events = CaseEvent.select().where(CaseEvent.kind == "decision").count()

    scorer = SentimentScorer()
    scorer.score("warm up")
    start = time.perf_counter()
    scorer.score_many([m.text for m in items])
    vader = time.perf_counter() - start

    open_cases = Case.select().where(Case.bucket == Bucket.NEEDS_REPLY.value).count()
    start = time.perf_counter()
    triage.refresh()
    refresh = time.perf_counter() - start

    spent = stages(hook.batches, triage.clock())
    touched = sum(len(b) for b in hook.batches)

    hook_rate = n / hook.seconds
    table.add("storage stage alone (ingest + grouping)", fmt_rate(n / plain))
    table.add(
        "storage stage + triage hook",
        fmt_rate(n / both),
        f"storage alone: {fmt_rate(n / plain)}",
        (both / plain),
    )
    table.add(
        "triage hook alone (time inside after_ingest)",
        fmt_rate(hook_rate),
        f"target {TARGET:,}/s",
        hook_rate / TARGET,
        f"≥ {TARGET:,}/s",
        hook_rate >= TARGET,
    )
    table.add(
        "triage hook alone, CPU time (less sensitive to a busy machine)",
        fmt_rate(n / hook.cpu_seconds),
    )

    def per_mention(seconds: float) -> str:
        return f"{seconds / n * 1e6:.1f} µs/mention"

    stage_total = spent["facts"] + spent["policy"] + spent["plan"]
    table.add("hook, CPU time per mention", per_mention(hook.cpu_seconds))
    table.add("  stage: facts (SQL + CaseFacts)", per_mention(spent["facts"]))
    table.add("  stage: policy decision", per_mention(spent["policy"]))
    table.add("  stage: deadline", per_mention(spent["deadline"]))
    table.add(
        "  stage: priority + why (plan minus deadline)",
        per_mention(spent["plan"] - spent["deadline"]),
    )
    table.add(
        "  stage: writes and the rest (hook minus the above)",
        per_mention(hook.cpu_seconds - stage_total),
    )
    table.add("VADER alone, same texts (the hook's floor)", fmt_rate(n / vader))
    table.add(f"refresh of {open_cases:,} open cases", f"{open_cases / refresh:,.0f} cases/s")
    table.note(
        f"{cases:,} cases, {events:,} decisions recorded; ratios of time where a peer is given."
    )
    table.note(
        f"Stages replayed over the hook's {len(hook.batches):,} batches ({touched:,} cases "
        "triaged), CPU time; the facts read after the run hold what the run stored."
    )
    table.note(f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    close_database()
    return table.finish()


if __name__ == "__main__":
    raise SystemExit(main())
