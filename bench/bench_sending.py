"""Sending: replies per second through the outbox to a fake Mastodon, and none posted twice.

    python -m bench.bench_sending [--replies 1000]

A new database is synced from the fake server (tests/fakes/mastodon.py over real HTTP on
127.0.0.1, in this process), one reply per case is queued with ``Outbox.queue_reply`` and sent
with ``Sender.send_pending``: each reply is marked SENDING and committed, POSTed with its
Idempotency-Key, then marked SENT. The limit is raw ``httpx`` POSTs of the same replies to the
same server (no database at all).

Proof in the same run that nothing is posted twice: the server's record of created statuses is
compared with the outbox (one status per reply, each answering its own mention); then a second
batch is sent while the server drops the connection for a quarter of them *after* creating
the post, so the outcome is unknown to Kindly, and the sender is run again until nothing is
pending: each such reply must be found by reading back, never posted a second time.
"""

from __future__ import annotations

import argparse
import shutil
import time
import uuid
from collections import Counter

import httpx

from app.core.accounts import AccountService
from app.core.ingest import Ingestor
from app.core.outbox import Outbox
from app.core.secrets import MemoryKeyring, SecretStore
from app.core.sending import Sender
from app.core.sync import SyncEngine
from app.core.vocab import Network, ReplyState
from app.storage.db import close_database, open_database
from app.storage.models import Account, Case, Mention, OutboundReply
from bench.common import DATA, Table, fmt_rate
from bench.fake_mastodon import BenchMastodon, populate
from tests.fakes.server import Fault

TEXT = "Thank you for writing to us! We have passed this on and will get back to you soon."


def queue_replies(outbox: Outbox, case_ids: list[int]) -> list[int]:
    return [outbox.queue_reply(case_id, TEXT).id for case_id in case_ids]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=int, default=1000)
    args = parser.parse_args()
    table = Table("sending", "Sending: replies through the outbox to a fake Mastodon")
    folder = DATA / "sending"
    if folder.exists():
        shutil.rmtree(folder)
    open_database(folder / "kindly.sqlite3")

    server = BenchMastodon()
    populate(server, int(args.replies * 1.6), seed=11)
    server.start()
    try:
        with httpx.Client(timeout=30) as http:
            accounts = AccountService(SecretStore(MemoryKeyring()), http=http)
            view = accounts.add_account(
                Network.MASTODON, server.base_url, "", {"access_token": server.tokens.copy().pop()}
            )
            Account.update(cursor="0").where(Account.id == view.id).execute()
            SyncEngine(accounts, Ingestor()).sync_account(view)
            case_ids = [c.id for c in Case.select(Case.id).order_by(Case.id)]
            first, second = case_ids[: args.replies], case_ids[args.replies :][:200]
            outbox, sender = Outbox(), Sender(accounts)

            # 1. The rate: every reply of the first batch, sent in one run.
            queued = queue_replies(outbox, first)
            posted_before = len(server.posted)
            start = time.perf_counter()
            report = sender.send_pending()
            send_s = time.perf_counter() - start
            sent_ok = len(report.sent) == len(queued) and not report.failed

            # 2. Unknown outcomes: the post is created, the connection dropped before the answer.
            queued2 = queue_replies(outbox, second)
            drops = len(queued2) // 4
            for _ in range(drops):
                server.fail("POST", "/api/v1/statuses", Fault.drop_after_handling())
            rounds = reconciled = 0
            for _ in range(2 * len(queued2) + 3):  # bounded; each round makes progress
                rounds += 1
                run = sender.send_pending()
                reconciled += len(run.reconciled)
                if not sender.pending():
                    break
            statuses = [server.statuses[i] for i in server.posted[posted_before:]]

            # 3. The limit: the same first-batch replies as raw POSTs, no database.
            targets = [
                Mention.get_by_id(r.in_reply_to_id).remote_id
                for r in OutboundReply.select().where(OutboundReply.id.in_(queued))
            ]
            token = next(iter(server.tokens))
            start = time.perf_counter()
            for target in targets:
                response = http.post(
                    f"{server.base_url}/api/v1/statuses",
                    data={"status": TEXT, "in_reply_to_id": target, "visibility": "public"},
                    headers={
                        "Authorization": f"Bearer {token}",
                        "Idempotency-Key": str(uuid.uuid4()),
                    },
                )
                response.raise_for_status()
            raw_s = time.perf_counter() - start
            accounts.close()
    finally:
        server.stop()

    all_ids = queued + queued2
    replies = list(OutboundReply.select().where(OutboundReply.id.in_(all_ids)))
    parents = Counter(s.in_reply_to_id for s in statuses)
    per_reply = Counter(r.remote_id for r in replies)
    wanted = {Mention.get_by_id(r.in_reply_to_id).remote_id for r in replies if r.in_reply_to_id}
    states = Counter(r.state for r in replies)
    close_database()

    once = (
        len(statuses) == len(all_ids)
        and all(n == 1 for n in parents.values())
        and set(parents) == wanted
        and all(n == 1 for n in per_reply.values())
        and states == Counter({ReplyState.SENT.value: len(all_ids)})
    )
    rate, raw_rate = len(queued) / send_s, len(targets) / raw_s
    table.add(
        f"replies sent through the outbox ({len(queued):,})",
        fmt_rate(rate),
        f"raw httpx POSTs: {fmt_rate(raw_rate)}",
        send_s / raw_s,
        "all sent",
        sent_ok,
    )
    table.add(
        "statuses the server created / replies queued",
        f"{len(statuses):,} / {len(all_ids):,}",
        f"{drops} answers dropped after posting",
        None,
        "each reply posted exactly once",
        once,
    )
    table.add(
        "replies confirmed by reading back after lost answers",
        f"{reconciled}",
        f"{drops} answers lost; {rounds} sender runs until none pending",
    )
    table.note(
        "Ratio is time through the outbox over time of raw POSTs of the same replies. The fake "
        "server runs in this process (its state is the proof), so both share one interpreter."
    )
    table.note(
        "Lost answers: the server created the post and then dropped the connection. The client "
        "retries a POST with the same Idempotency-Key (the server answers with the post already "
        "made); when every retry is lost the reply stays SENDING and the next run reads back."
    )
    return table.finish()


if __name__ == "__main__":
    raise SystemExit(main())
