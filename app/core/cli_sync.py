"""``kindly sync``: fetch new mentions for every account and send queued replies, headless.

Meant for a scheduled task (cron, Task Scheduler, launchd) as much as for a person at a
terminal. Exit codes: 0 all accounts synced, 1 at least one failed (each is named).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from app.core.accounts import AccountService
from app.core.ingest import Ingestor
from app.core.secrets import SecretStore
from app.core.sending import Sender
from app.core.settings import Settings
from app.core.sync import SyncEngine
from app.core.triage import Triage, TriageHook
from app.core.triage_setup import build_triage


def register(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "sync",
        help="fetch new mentions and send queued replies, then exit",
        description="Fetch new mentions for every connected account and send queued replies. "
        "Suitable for a scheduled task.",
    )
    parser.add_argument("--no-send", action="store_true", help="fetch only; leave replies queued")
    parser.set_defaults(run=run)
    return parser


def run(
    args: argparse.Namespace,
    *,
    service: AccountService | None = None,
    ingestor: Ingestor | None = None,
    stdout: TextIO | None = None,
) -> int:
    out = stdout or sys.stdout
    owned = service is None
    accounts = service or AccountService(SecretStore())
    triage: Triage | None = None
    if ingestor is None:  # triage at ingest, as in the app: sentiment, decisions, priority
        triage = build_triage(Settings())
        ingestor = Ingestor([TriageHook(triage)])
    try:
        engine = SyncEngine(accounts, ingestor)
        report = engine.sync_all()
        if triage is not None:
            triage.refresh()  # the clocks moved on since the last run: re-rank what waits
        if not report.accounts:
            print("No accounts to sync. Add one with: kindly accounts add NETWORK", file=out)
        for result in report.accounts:
            if result.error:
                hint = " (reconnect this account)" if result.reconnect else ""
                print(f"{result.label}: failed: {result.error}{hint}", file=out)
            else:
                print(
                    f"{result.label}: {result.stored} new mention(s), "
                    f"{result.new_cases} new case(s), {result.reopened} reopened",
                    file=out,
                )
        for stream in report.streams:  # saved searches and feeds
            outcome = f"failed: {stream.error}" if stream.error else f"{stream.stored} new"
            print(f"  {stream.label}: {outcome}", file=out)
        failed = bool(report.failed)
        if not args.no_send:
            sent = Sender(accounts).send_pending()
            if sent.sent or sent.reconciled or sent.failed or sent.waiting:
                print(
                    f"Replies: {len(sent.sent) + len(sent.reconciled)} sent, "
                    f"{len(sent.failed)} failed, {len(sent.waiting)} still queued",
                    file=out,
                )
            for reply_id, message in sent.errors.items():
                print(f"  reply {reply_id}: {message}", file=out)
            if sent.busy:
                print(f"  {sent.busy}", file=out)
        return 1 if failed else 0
    finally:
        if owned:
            accounts.close()
