"""``main.py sync`` killed with SIGKILL at random moments, again and again, then run to the end.

Two accounts (Mastodon: forward walk, a cursor with every batch; X: newest first, the cursor only
with the last batch) on fakes that answer each page slowly, so kills land while pages are in
flight, while batches are being written, at start-up and between accounts. Between runs the
networks keep receiving mentions, some of them replies in threads. Whatever was interrupted,
the end state must be exact: every mention once, every case counting the mentions it holds,
an intact database, and both cursors at the newest mention.
"""

from __future__ import annotations

import random
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app.core.accounts import AccountService, AccountView
from app.core.secrets import SecretStore
from app.core.vocab import Network
from app.storage.models import Mention
from tests.fakes.mastodon import TOKEN as MASTODON_TOKEN
from tests.helpers import keyring_session
from tests.helpers.keyring_session import PrivateSecretService
from tests.helpers.sync_support import (
    Mastodon,
    X,
    check_store,
    cursor_of,
    kill,
    run_kindly,
    start_kindly,
    stored_ids,
    wait_for,
)

pytestmark = [pytest.mark.slow, pytest.mark.keyring]
secret_service = keyring_session.secret_service  # fixtures: a keyring the child can read
shared_secrets = keyring_session.shared_secrets

SEED = 20260801
KILLS = 24
KILLING_BUDGET = 20.0  # seconds of killing at most; then one run to the end
PAGE_DELAY = 0.08  # each page of mentions answers this much later


@dataclass(frozen=True)
class Kill:
    aim: str  # "start-up": timed from the start; "mastodon"/"x": from its first request
    delay: float
    exited_first: bool  # the run had already finished when the kill came
    during: str  # the network the child had talked to last, or "start-up"
    stored_before: int
    stored_after: int
    complete_after: bool  # both cursors at the newest mention the networks had

    @property
    def mid_sync(self) -> bool:
        return not self.exited_first and not self.complete_after


@pytest.fixture
def networks() -> Iterator[tuple[Mastodon, X]]:
    with Mastodon() as mastodon, X() as x:
        mastodon.delay("GET", Mastodon.NOTIFICATIONS, PAGE_DELAY)
        x.delay("GET", x.mentions_path(), PAGE_DELAY)
        yield mastodon, x


def wait_for_first_request(child: subprocess.Popen[str], server: Mastodon | X, before: int) -> None:
    wait_for(
        lambda: len(server.requests) > before or child.poll() is not None,
        15,
        "the child's first request",
    )


def connect(store: SecretStore, mastodon: Mastodon, x: X) -> tuple[AccountView, AccountView]:
    with httpx.Client(timeout=5.0) as http:
        service = AccountService(store, http=http)
        return (
            service.add_account(
                Network.MASTODON, mastodon.base_url, "", {"access_token": MASTODON_TOKEN}
            ),
            service.add_account(Network.X, x.base_url, "", {"access_token": "x-test-token"}),
        )


def test_sync_killed_at_random_points_ends_exact(
    data_dir: Path,
    db_path: Path,
    secret_service: PrivateSecretService,
    shared_secrets: SecretStore,
    networks: tuple[Mastodon, X],
) -> None:
    rng = random.Random(SEED)
    mastodon, x = networks
    servers: dict[str, Mastodon | X] = {"mastodon": mastodon, "x": x}
    env = secret_service.env
    mastodon.add_conversations(40)
    x.add_conversations(20)
    masto_account, x_account = connect(shared_secrets, mastodon, x)
    first = run_kindly(data_dir, env, "sync")  # X's first sync reads one page: all 20
    assert first.returncode == 0, first.stdout + first.stderr

    mastodon.add_conversations(400)
    for tweet_id in x.add_conversations(300)[::40]:
        x.duplicate(tweet_id)
    x.overlap = 2

    def complete() -> bool:
        return cursor_of(masto_account.id) == mastodon.newest_notification() and cursor_of(
            x_account.id
        ) == max(x.expected_ids(), key=int)

    kills: list[Kill] = []
    started = time.monotonic()
    while len(kills) < KILLS and time.monotonic() - started < KILLING_BUDGET:
        stored_before = Mention.select().count()
        seen = {"mastodon": len(mastodon.requests), "x": len(x.requests)}
        aim = rng.choices(["start-up", "mastodon", "x"], weights=[1, 2, 2])[0]
        delay = rng.uniform(0.0, {"start-up": 0.7, "mastodon": 0.3, "x": 0.6}[aim])
        child = start_kindly(data_dir, env, "sync")
        try:
            if aim != "start-up":  # timed from its first request to that network
                wait_for_first_request(child, servers[aim], seen[aim])
            time.sleep(delay)
            exited_first = child.poll() is not None
        finally:
            kill(child)
        talked = [name for name in ("x", "mastodon") if len(servers[name].requests) > seen[name]]
        during = talked[0] if talked else "start-up"
        kills.append(
            Kill(
                aim,
                round(delay, 3),
                exited_first,
                during,
                stored_before,
                Mention.select().count(),
                complete(),
            )
        )
        # the networks carry on meanwhile: a few pages more for each run
        mastodon.add_conversations(rng.randint(20, 60))
        x.add_conversations(rng.randint(20, 70))
    killing_time = time.monotonic() - started

    final_started = time.monotonic()
    final = run_kindly(data_dir, env, "sync")
    final_time = time.monotonic() - final_started

    story = "\n".join(map(str, kills)) + f"\n{len(kills)} kills in {killing_time:.1f} s"
    assert final.returncode == 0, final.stdout + final.stderr + story
    assert len(kills) >= 12, story  # 15-20 here; a slow machine gets fewer in the budget
    mid_sync = [k for k in kills if k.mid_sync]
    assert len(mid_sync) >= len(kills) // 2, story
    assert any(k.stored_before < k.stored_after for k in mid_sync), story  # partial progress
    assert {k.during for k in mid_sync} == {"start-up", "mastodon", "x"}, story

    check = check_store()
    assert check.sound, f"{check}\n{story}"
    assert sorted(stored_ids(masto_account.id)) == sorted(mastodon.mention_ids())
    assert sorted(stored_ids(x_account.id)) == sorted(x.expected_ids())
    assert complete(), story
    print(
        f"\n{len(kills)} kills ({len(mid_sync)} mid-sync: "
        f"{ {w: sum(k.during == w for k in mid_sync) for w in ('start-up', 'mastodon', 'x')} }) "
        f"in {killing_time:.1f} s; "
        f"{Mention.select().count()} mentions stored exactly once; last run {final_time:.1f} s"
    )
