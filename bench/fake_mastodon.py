"""The test suite's fake Mastodon (tests/fakes/mastodon.py), made fit for 100,000 mentions.

It runs in its own process (``python -m bench.fake_mastodon``), as a real server would, so its
work does not share Kindly's interpreter lock. Pages of notifications are rendered once and then
served from memory (keyed by path and query, whatever the parameter order), so that after one
warm-up walk every client measured reads the same bytes at the same cost. The documented shapes
are unchanged: ``/api/v1/notifications`` with ``Link`` headers, ``verify_credentials``,
``POST /api/v1/statuses``.

    with FakeMastodonProcess(mentions=100_000) as server:
        warm(server.base_url, server.token)
        ... MastodonClient(http, server.base_url, server.token) ...
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import threading
from typing import Any

import httpx

from bench.common import ROOT
from bench.textgen import TextGen
from tests.fakes.mastodon import TOKEN, FakeMastodon
from tests.fakes.server import Request, Response


class BenchMastodon(FakeMastodon):
    """FakeMastodon whose notification pages are rendered once, then served as bytes."""

    def __init__(self) -> None:
        super().__init__()
        self._pages: dict[tuple[str, frozenset[tuple[str, str]]], Response] = {}
        self._pages_lock = threading.Lock()
        self._routes = [
            (m, r, self._cached_notifications if h == self._notifications else h)
            for m, r, h in self._routes
        ]

    def _headers(self) -> dict[str, str]:
        # A generous instance: the remaining budget stays full, so no client slows itself down
        # (Mastodon.py waits for the reset when it reaches 0; 1,250 pages would get there).
        headers = super()._headers()
        headers["x-ratelimit-remaining"] = headers["x-ratelimit-limit"]
        return headers

    def _cached_notifications(self, request: Request) -> Response:
        key = (
            request.path + request.headers.get("authorization", ""),
            frozenset((k, v) for k, vs in request.query.items() for v in vs),
        )
        with self._pages_lock:
            cached = self._pages.get(key)
        if cached is not None:
            return cached
        response = self._notifications(request)
        if response.status == 200:
            response = Response(200, response.encoded(), response.headers)
            with self._pages_lock:
                self._pages[key] = response
        return response


def populate(server: FakeMastodon, count: int, seed: int = 3) -> None:
    """``count`` mentions from ~30% as many people; a quarter continue an earlier thread."""
    rng = random.Random(seed)
    gen = TextGen(seed)
    authors = max(1, count * 3 // 10)
    last_status: dict[int, str] = {}
    ours = [server.add_own_status(f"Our update number {i}") for i in range(50)]
    for _ in range(count):
        who = min(authors - 1, int(authors * rng.random() ** 1.5))
        name, handle = gen.person(who)
        parent = None
        roll = rng.random()
        if roll < 0.25 and who in last_status:
            parent = last_status[who]  # they write again in the same thread
        elif roll < 0.32:
            parent = rng.choice(ours).id  # a reply to one of our posts
        domain = ("mastodon.social", "kind.social", "fosstodon.org", "example.org")[who % 4]
        added = server.add_mention(
            author=f"{handle}@{domain}",
            text=gen.text(),
            in_reply_to=parent,
            display_name=name,
            followers=int(rng.lognormvariate(4.5, 1.6)),
        )
        last_status[who] = added.status_id


def warm(base_url: str, token: str = TOKEN, page: int = 80) -> int:
    """Walk every mention page once (oldest first, as the clients do) so all are cached."""
    seen = 0
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        url = f"{base_url}/api/v1/notifications"
        params: Any = {"types[]": "mention", "min_id": "0", "limit": page}
        for _ in range(1_000_000):  # bounded: a page per iteration
            response = client.get(url, params=params)
            response.raise_for_status()
            body = response.json()
            if not body:
                break
            seen += len(body)
            url, params = response.links["prev"]["url"], None
    return seen


class FakeMastodonProcess:
    """Starts ``python -m bench.fake_mastodon`` and reads its address; stops it on exit."""

    def __init__(self, mentions: int, seed: int = 3) -> None:
        self.args = ["--mentions", str(mentions), "--seed", str(seed)]
        self.process: subprocess.Popen[str] | None = None
        self.base_url = ""
        self.token = TOKEN

    def __enter__(self) -> FakeMastodonProcess:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.fake_mastodon", *self.args],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().split()
        if len(line) != 2 or line[0] != "READY":
            self.__exit__()
            raise RuntimeError(f"the fake server did not start: {line}")
        self.base_url = line[1]
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            if self.process.stdin is not None:
                self.process.stdin.close()  # the server stops when its stdin closes
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


def main() -> int:
    parser = argparse.ArgumentParser(description="Serve a fake Mastodon on 127.0.0.1.")
    parser.add_argument("--mentions", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    server = BenchMastodon()
    populate(server, args.mentions, args.seed)
    server.start()
    print("READY", server.base_url, flush=True)
    try:
        sys.stdin.read()  # until the parent closes our stdin (or dies)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
