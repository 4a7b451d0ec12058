"""A worker process that fetches, parses and prepares a long walk of mentions for sync.

Parsing 3.5 KB notifications, cleaning text and scoring sentiment cost about as much CPU as
storing them, and two threads of one interpreter take turns (the interpreter lock) instead of
running side by side. So a long walk moves to a child process: it fetches pages from a cursor,
prepares them (``Ingestor.prepare`` with the hooks' worker halves) and sends each prepared
batch through a pipe as ``marshal`` bytes of plain values (pickling parsed mentions with their
payload dictionaries cost 57 µs a mention to read back). The storing process only writes.

What the worker never does: touch the database, or decide anything that must survive a crash.
The storing process stores each batch with its cursor as before; the worker may be stopped or
killed at any moment and loses nothing (a walk resumes from the last stored cursor). It stops
when its parent closes the pipe or dies (end of file on the pipe it listens to), so none is
left behind. It is started with ``spawn`` everywhere (nothing relies on ``fork``), which also
works from the PyInstaller bundle (``multiprocessing.freeze_support()`` in ``main.py``).

Only clients whose walk can be resumed from a cursor by a fresh client, and whose tokens never
renew while reading, go to a worker (Mastodon); networks that bill reads never do (nothing is
read ahead there). The secret travels to the child through the pipe, never a file.
"""

from __future__ import annotations

import contextlib
import logging
import marshal
import multiprocessing
import os
import queue
import threading
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any, NamedTuple

from app.core.ingest import Ingestor, PreparedBatch, before_store
from app.core.networks import errors
from app.core.networks.errors import NetworkError
from app.core.networks.http import new_client
from app.core.networks.registry import ClientFactory, ClientParams
from app.core.vocab import Network

log = logging.getLogger(__name__)

WORKER_NETWORKS = frozenset({Network.MASTODON})  # resumable from a cursor, no token renewal
READY_TIMEOUT = 20.0  # seconds a starting worker may take before sync gives up on it
STOP_TIMEOUT = 2.0  # seconds a worker told to stop may take before it is terminated


class WorkerGone(Exception):
    """The worker stopped without saying why (killed, crashed): resume without it."""


@dataclass(frozen=True)
class WorkerSpec:
    """What the child needs to read the walk: how to build the client (the registry's factory,
    a module-level function, pickled by name; the account's non-secret facts and its secret),
    and the hooks' worker halves (picklable objects with ``before_store(batch)``)."""

    factory: ClientFactory | None  # None: start, say ready, walk nothing (``check_worker``)
    network: str
    base_url: str
    handle: str
    remote_id: str
    secret: dict[str, str]
    hooks: tuple[object, ...] = ()

    def __repr__(self) -> str:  # never the secret
        return f"WorkerSpec({self.network!r}, {self.base_url!r})"


class Page(NamedTuple):
    """One prepared page from the worker: its cursor and how many mentions it had."""

    cursor: str | None
    size: int  # mentions in the page as the network gave them
    prepared: PreparedBatch


# -- the child ------------------------------------------------------------------------------------


def _send(conn: Connection, *message: Any) -> None:
    conn.send_bytes(marshal.dumps(message))


def _watch(control: Connection) -> None:
    """In the child: any word from the parent once the walk runs means stop, and so does the
    parent's end closing (the parent finished, or died)."""
    with contextlib.suppress(EOFError, OSError):
        control.recv_bytes()
    os._exit(0)


def _error_message(error: NetworkError) -> tuple[Any, ...]:
    retry_at = getattr(error, "retry_at", None)
    stamp = retry_at.isoformat() if isinstance(retry_at, datetime) else None
    return ("error", type(error).__name__, error.user_message, str(error), stamp)


class _Outbox:
    """In the child: messages written to the pipe by a thread of their own, up to ``AHEAD``
    waiting, so that preparing the next page never waits for the parent to read the last one
    (a pipe holds 64 KB; a page is ~300 KB)."""

    AHEAD = 2

    def __init__(self, data: Connection) -> None:
        self._data = data
        self._queue: queue.Queue[bytes | None] = queue.Queue(self.AHEAD)
        self._thread = threading.Thread(target=self._write, name="sync-worker-send", daemon=True)
        self._thread.start()

    def _write(self) -> None:
        while (message := self._queue.get()) is not None:
            try:
                self._data.send_bytes(message)
            except OSError:  # the parent has gone: nothing is left to do
                os._exit(0)

    def send(self, *message: Any) -> None:
        self._queue.put(marshal.dumps(message))

    def flush(self) -> None:
        self._queue.put(None)
        self._thread.join()


def child_main(control: Connection, data: Connection) -> None:
    """The worker's whole life: build the client, say ready, walk from the cursor it is given,
    one ``page`` message per batch, then ``end`` (or ``error`` / ``crash``)."""
    logging.basicConfig(level=logging.WARNING, format="kindly sync worker: %(message)s")
    watcher = threading.Thread(target=_watch, args=(control,), daemon=True)
    outbox: _Outbox | None = None
    try:
        spec: WorkerSpec = control.recv()
        client = None
        if spec.factory is not None:
            params = ClientParams(spec.base_url, spec.handle, spec.remote_id)
            client = spec.factory(new_client(), params, spec.secret, lambda _: None)
        ingestor = Ingestor()
        for hook in spec.hooks:
            warm = getattr(hook, "warm", None)
            if warm is not None:
                warm()
        _send(data, "ready")
        command = marshal.loads(control.recv_bytes())  # noqa: S302 (our parent's bytes)
        if command[0] != "walk" or client is None:
            return
        watcher.start()
        outbox = _Outbox(data)
        network = client.network
        for batch in client.fetch_mentions(command[1]):
            prepared = ingestor.prepare(network, batch.mentions)
            before_store(spec.hooks, prepared)
            outbox.send("page", batch.cursor, len(batch.mentions), prepared.plain())
        outbox.send("end")
    except (EOFError, BrokenPipeError, ConnectionResetError, KeyboardInterrupt):
        return  # the parent has gone or stopped us: nothing to report to
    except NetworkError as error:
        _report(data, outbox, _error_message(error))
    except BaseException as error:  # reported to the parent, which logs it and goes on alone
        import traceback

        crash = ("crash", f"{type(error).__name__}: {error}", traceback.format_exc())
        _report(data, outbox, crash)
    if outbox is not None:
        outbox.flush()
    # Stay until the parent has read what was sent: it closes its end (or says stop) when done,
    # which ends the process (through the watcher once the walk has started).
    if watcher.is_alive():
        watcher.join()
    else:
        _watch(control)


def _report(data: Connection, outbox: _Outbox | None, message: tuple[Any, ...]) -> None:
    """After the pages already sent, when the walk has started; else straight to the pipe."""
    if outbox is not None:
        outbox.send(*message)
        return
    with contextlib.suppress(OSError):
        data.send_bytes(marshal.dumps(message))


# -- the parent's handle on it --------------------------------------------------------------------


def _network_error(message: tuple[Any, ...]) -> NetworkError:
    """The worker's network error, as the same type with the same message for the person."""
    _, name, user_message, detail, stamp = message
    cls = getattr(errors, str(name), None)
    if not (isinstance(cls, type) and issubclass(cls, NetworkError)):
        return NetworkError(str(user_message), str(detail))
    if cls is errors.RateLimited:
        retry_at = datetime.fromisoformat(stamp) if stamp else None
        return errors.RateLimited(str(user_message), retry_at, str(detail))
    return cls(str(user_message), str(detail))


class SyncWorker:
    """A started worker process. ``ready()`` says (without waiting) whether it can take the
    walk; ``walk(cursor)`` starts it; ``next(timeout)`` gives each prepared page, None at the
    end, raises the walk's ``NetworkError``, ``TimeoutError`` when no page came in time, or
    ``WorkerGone``. ``close()`` stops it in any state and waits for it to exit."""

    def __init__(self, spec: WorkerSpec) -> None:
        context = multiprocessing.get_context("spawn")
        control_child, self._control = context.Pipe(duplex=False)
        self._data, data_child = context.Pipe(duplex=False)
        self._process = context.Process(
            target=child_main,
            args=(control_child, data_child),
            name="kindly-sync-worker",
            daemon=True,  # terminated, should this process exit without closing it
        )
        try:
            self._process.start()
        finally:  # the child holds its own copies: EOF reaches each side when the other goes
            control_child.close()
            data_child.close()
        self._ready = False
        try:
            self._control.send(spec)
        except BaseException:  # e.g. a factory that cannot be pickled: no worker, none left
            self.close()
            raise
        self.pid = self._process.pid

    def ready(self) -> bool:
        """True once the worker has built its client; raises ``WorkerGone`` if it died first."""
        if self._ready:
            return True
        if self._data.poll(0):
            message = self._receive()
            if message[0] == "crash":
                log.error("the sync worker could not start: %s\n%s", message[1], message[2])
            if message[0] != "ready":
                raise WorkerGone(f"its first message was {message[0]!r}, not 'ready'")
            self._ready = True
        elif not self._process.is_alive():
            raise WorkerGone(f"exited with code {self._process.exitcode} before it was ready")
        return self._ready

    def walk(self, cursor: str) -> None:
        self._control.send_bytes(marshal.dumps(("walk", cursor)))

    def _receive(self) -> tuple[Any, ...]:
        try:
            message = marshal.loads(self._data.recv_bytes())  # noqa: S302 (our child's bytes)
        except (EOFError, OSError) as error:
            raise WorkerGone(f"the pipe closed ({type(error).__name__})") from error
        if not isinstance(message, tuple) or not message:
            raise WorkerGone("an unreadable message")
        return message

    def next(self, timeout: float | None) -> Page | None:
        if not self._data.poll(timeout):
            raise TimeoutError
        message = self._receive()
        kind = message[0]
        if kind == "page":
            _, cursor, count, plain = message
            return Page(cursor, count, PreparedBatch.from_plain(plain))
        if kind == "end":
            return None
        if kind == "error":
            raise _network_error(message)
        if kind == "crash":
            log.error("the sync worker failed: %s\n%s", message[1], message[2])
            raise WorkerGone(str(message[1]))
        raise WorkerGone(f"an unexpected message {kind!r}")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._control.send_bytes(marshal.dumps(("stop",)))
        self._control.close()
        self._process.join(STOP_TIMEOUT)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(STOP_TIMEOUT)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._data.close()
        self._process.close()


def check_worker(timeout: float = READY_TIMEOUT) -> tuple[bool, str]:
    """Start a worker as sync does (spawn; from the bundle, through ``freeze_support``), let it
    load what a walk needs (HTTP client, ingest, VADER and its lexicons), and stop it."""
    import time

    from app.core.triage.hook import WorkerTriage

    started = time.monotonic()
    try:
        worker = SyncWorker(WorkerSpec(None, "", "", "", "", {}, (WorkerTriage(),)))
    except Exception as error:
        return False, f"could not start: {type(error).__name__}: {error}"
    try:
        while not worker.ready():
            if time.monotonic() - started > timeout:
                return False, f"not ready after {timeout:.0f} s"
            time.sleep(0.02)
    except WorkerGone as error:
        return False, f"stopped before it was ready: {error}"
    finally:
        worker.close()
    return True, f"started, loaded and stopped in {time.monotonic() - started:.1f} s"
