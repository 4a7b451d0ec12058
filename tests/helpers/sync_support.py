"""What the sync and outbox tests share: fakes a test can slow down, hold, stop and bring back,
clients that do not sleep between retries, ``main.py`` in a child process, and the checks that
say a database is sound after whatever happened to it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import peewee as pw

from app.core.networks.base import NetworkClient
from app.core.networks.facebook import FacebookClient
from app.core.networks.mastodon import MastodonClient
from app.core.networks.registry import (
    REGISTRY,
    ClientParams,
    NetworkEntry,
    SecretSink,
)
from app.core.networks.x import XClient
from app.core.vocab import Network
from app.storage.models import Account, Case, Mention, database
from tests.fakes.facebook import FakeFacebook
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.server import FakeServer, Request, Response
from tests.fakes.x import FakeX

ROOT = Path(__file__).resolve().parents[2]


# -- fakes a test can control ---------------------------------------------------------------------


@dataclass
class Hold:
    """Hold the answer to one request *after* the fake has acted on it (e.g. created the post)
    until ``release`` is set: the client is left waiting, so a test can kill it right there."""

    method: str
    path: str
    handled: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


class Controls(FakeServer):
    """Mixed in before a network fake: per-route delays, holds, and a restart on the same port
    (so an account's stored address works again when "the network is back")."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.delays: dict[tuple[str, str], float] = {}
        self.holds: list[Hold] = []
        self._address: tuple[Any, ...] | None = None
        self._handler: Any = None
        self._connections: set[socket.socket] = set()

    def delay(self, method: str, path: str, seconds: float) -> None:
        """Every request to ``method path`` waits ``seconds`` before it is handled."""
        self.delays[(method.upper(), path)] = seconds

    def hold(self, method: str, path: str) -> Hold:
        held = Hold(method.upper(), path)
        with self.lock:
            self.holds.append(held)
        return held

    def _dispatch(self, http: BaseHTTPRequestHandler) -> None:
        with self.lock:
            self._connections.add(http.connection)
        super()._dispatch(http)

    def _route(self, request: Request) -> Response:
        pause = self.delays.get((request.method, request.path))
        if pause:
            time.sleep(pause)
        response = super()._route(request)
        with self.lock:
            held = next(
                (
                    h
                    for h in self.holds
                    if (h.method, h.path) == (request.method, request.path)
                    and not h.handled.is_set()
                ),
                None,
            )
            if held is not None:
                held.handled.set()
        if held is not None:
            held.release.wait(30)
        return response

    def start(self) -> Controls:
        if self._address is None:
            super().start()
        else:  # back on the same port, with the same handler
            self._httpd = ThreadingHTTPServer(self._address[:2], self._handler)
            self._httpd.daemon_threads = True
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            self._thread.start()
        assert self._httpd is not None
        self._httpd.handle_error = _quiet_when_reset(self._httpd.handle_error)  # type: ignore[method-assign]
        self._address = self._httpd.server_address
        self._handler = self._httpd.RequestHandlerClass
        return self

    def stop(self) -> None:
        """Stop listening *and* end kept-alive connections, as a network that went away does
        (``FakeServer.stop`` alone leaves their handler threads answering)."""
        for held in self.holds:  # never leave a handler thread waiting
            held.release.set()
        super().stop()
        with self.lock:
            connections, self._connections = self._connections, set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


def _quiet_when_reset(report: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    """A killed client resets its connections; that is the test working, not an error."""

    def handle_error(request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            report(request, client_address)

    return handle_error


class Mastodon(Controls, FakeMastodon):
    NOTIFICATIONS = "/api/v1/notifications"
    STATUSES = "/api/v1/statuses"

    def mention_ids(self) -> set[str]:
        """The status ids of every mention notification: what Kindly must end up storing."""
        with self._state_lock:
            return {
                str(n.status_id)
                for n in self.notifications.values()
                if n.type == "mention" and n.status_id
            }

    def notification_ids(self) -> list[str]:
        """Mention notification ids, oldest first (the cursor is one of these)."""
        with self._state_lock:
            return [str(i) for i in sorted(self._by_type["mention"])]

    def newest_notification(self) -> str:
        return self.notification_ids()[-1]

    def add_conversations(self, count: int, *, authors: int = 40, every: int = 3) -> None:
        """``count`` mentions by ``authors`` people; every ``every``-th answers the same
        person's previous mention, so cases gather several mentions."""
        last: dict[str, str] = {}
        for i in range(count):
            author = f"person{i % authors}@example.org"
            parent = last.get(author) if i % every == every - 1 else None
            added = self.add_mention(author, f"Hello @kindlytrust, message {i}", in_reply_to=parent)
            last[author] = added.status_id


class X(Controls, FakeX):
    TWEETS = "/2/tweets"

    def add_conversations(self, count: int, *, authors: int = 30, every: int = 3) -> list[str]:
        last: dict[str, str] = {}
        added = []
        for i in range(count):
            author = f"person{i % authors}"
            parent = last.get(author) if i % every == every - 1 else None
            added.append(self.add_mention(f"@kindlytrust message {i}", author, in_reply_to=parent))
            last[author] = added[-1]
        return added

    def expected_ids(self) -> set[str]:
        with self.lock:
            return set(self.mention_ids)


class Facebook(Controls, FakeFacebook):
    TOKEN = "fb-page-token"

    def add_conversations(self, count: int, *, authors: int = 20) -> list[str]:
        """A Page post with ``count`` comments by ``authors`` people."""
        post = self.add_post("Our spring appeal")
        return [
            self.add_comment(post, f"Comment {i}", f"Person {i % authors}") for i in range(count)
        ]


# -- clients that do not sleep between retries (in-process tests) ---------------------------------


def no_sleep(seconds: float) -> None:
    pass


def _mastodon(
    http: httpx.Client, params: ClientParams, secret: Mapping[str, str], sink: SecretSink
) -> NetworkClient:
    return MastodonClient(http, params.base_url, secret["access_token"], sleep=no_sleep)


def _x(
    http: httpx.Client, params: ClientParams, secret: Mapping[str, str], sink: SecretSink
) -> NetworkClient:
    return XClient(
        http,
        secret["access_token"],
        base_url=params.base_url,
        user_id=params.remote_id or None,
        sleep=no_sleep,
    )


def _facebook(
    http: httpx.Client, params: ClientParams, secret: Mapping[str, str], sink: SecretSink
) -> NetworkClient:
    page_id = params.remote_id or params.handle
    return FacebookClient(http, params.base_url, page_id, secret["page_token"], sleep=no_sleep)


def quick_registry() -> dict[Network, NetworkEntry]:
    """The real specs and clients; only the back-off between retries is skipped."""
    registry = dict(REGISTRY)
    registry[Network.MASTODON] = NetworkEntry(REGISTRY[Network.MASTODON].spec, _mastodon)
    registry[Network.X] = NetworkEntry(REGISTRY[Network.X].spec, _x)
    registry[Network.FACEBOOK] = NetworkEntry(REGISTRY[Network.FACEBOOK].spec, _facebook)
    return registry


# -- main.py in a child process -------------------------------------------------------------------


def child_env(base: Mapping[str, str]) -> dict[str, str]:
    return {**base, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}


def start_kindly(data_dir: Path, env: Mapping[str, str], *args: str) -> subprocess.Popen[str]:
    """``python main.py --data-dir DIR ARGS`` from the project root."""
    return subprocess.Popen(
        [sys.executable, "main.py", "--data-dir", str(data_dir), *args],
        cwd=ROOT,
        env=child_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def run_kindly(
    data_dir: Path, env: Mapping[str, str], *args: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    child = start_kindly(data_dir, env, *args)
    try:
        out, err = child.communicate(timeout=timeout)
    finally:
        kill(child)
    return subprocess.CompletedProcess(child.args, child.returncode, out, err)


def kill(child: subprocess.Popen[str]) -> None:
    """SIGKILL the child (if it still runs) and reap it; closes its pipes."""
    if child.poll() is None:
        os.kill(child.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        child.communicate(timeout=10)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


# -- the database after the fact ------------------------------------------------------------------


@dataclass(frozen=True)
class StoreCheck:
    integrity: list[str]
    duplicate_mentions: list[tuple[str, str, int]]
    miscounted_cases: list[tuple[int, int, int]]  # case id, mention_count, mentions stored
    orphan_mentions: int  # mentions without a case

    @property
    def sound(self) -> bool:
        return (
            self.integrity == ["ok"]
            and not self.duplicate_mentions
            and not self.miscounted_cases
            and not self.orphan_mentions
        )


def check_store() -> StoreCheck:
    """Integrity, each mention once, each case counting exactly the mentions it holds."""
    integrity = [row[0] for row in database.execute_sql("PRAGMA integrity_check").fetchall()]
    duplicates = list(
        Mention.select(Mention.network, Mention.remote_id, pw.fn.COUNT(Mention.id))
        .group_by(Mention.network, Mention.remote_id)
        .having(pw.fn.COUNT(Mention.id) > 1)
        .tuples()
    )
    stored = pw.fn.COUNT(Mention.id)
    miscounted = [
        (case_id, counted, held)
        for case_id, counted, held in Case.select(Case.id, Case.mention_count, stored)
        .join(Mention, pw.JOIN.LEFT_OUTER)
        .group_by(Case.id)
        .tuples()
        if counted != held
    ]
    orphans = Mention.select().where(Mention.case.is_null()).count()
    return StoreCheck(integrity, duplicates, miscounted, orphans)


def stored_ids(account_id: int) -> list[str]:
    return [
        m.remote_id for m in Mention.select(Mention.remote_id).where(Mention.account == account_id)
    ]


def cursor_of(account_id: int) -> str | None:
    value: str | None = Account.get_by_id(account_id).cursor
    return value
