"""A small real HTTP server on 127.0.0.1 that network fakes build on.

Each network's fake (``tests/fakes/<network>.py``) subclasses ``FakeServer`` and registers routes
that answer in the shapes of the recordings in ``../shared/fixtures``. Faults are queued per
route and consumed one request at a time, so a test says exactly what goes wrong and when:

    server.fail("GET", "/api/v1/notifications", Fault.http_status(429, headers={...}))
    server.fail("POST", "/api/v1/statuses", Fault.drop_after_handling())
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # from the route pattern

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode("utf-8"), keep_blank_values=True)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class Response:
    status: int = 200
    body: Any = None  # dict/list -> JSON; bytes/str sent as is
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return json.dumps(self.body).encode("utf-8")


@dataclass
class Fault:
    """One injected failure. ``kind``: status, drop, drop_after, slow, malformed, truncated."""

    kind: str
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    delay: float = 0.0

    @classmethod
    def http_status(
        cls, status: int, headers: dict[str, str] | None = None, body: Any = None
    ) -> Fault:
        return cls("status", status=status, headers=headers or {}, body=body)

    @classmethod
    def drop(cls) -> Fault:
        """Close the connection without answering; the request is *not* handled."""
        return cls("drop")

    @classmethod
    def drop_after_handling(cls) -> Fault:
        """Handle the request (e.g. create the post), then close without answering."""
        return cls("drop_after")

    @classmethod
    def slow(cls, delay: float) -> Fault:
        """Answer normally, but only after ``delay`` seconds (provokes client timeouts)."""
        return cls("slow", delay=delay)

    @classmethod
    def malformed(cls) -> Fault:
        return cls("malformed")

    @classmethod
    def truncated(cls) -> Fault:
        """Handle normally, then send only the first half of the JSON body."""
        return cls("truncated")


Handler = Callable[[Request], Response]


class FakeServer:
    """Start with ``with FakeServer() as server:`` or ``start()``/``stop()``."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._faults: dict[tuple[str, str], deque[Fault]] = defaultdict(deque)
        self.requests: list[Request] = []
        self.lock = threading.RLock()
        self._connections: set[socket.socket] = set()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- setup ---------------------------------------------------------------------------------

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        """``pattern`` is a path with ``{name}`` placeholders (one path segment each)."""
        regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$"
        self._routes.append((method.upper(), re.compile(regex), handler))

    def fail(self, method: str, path: str, *faults: Fault) -> None:
        """Queue faults for the next requests to ``method path`` (exact path, no query)."""
        with self.lock:
            self._faults[(method.upper(), path)].extend(faults)

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeServer:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # otherwise each small response waits ~40 ms

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                server._dispatch(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, and close kept-alive connections so a stopped fake answers nobody."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        with self.lock:
            connections, self._connections = self._connections, set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- serving -------------------------------------------------------------------------------

    def calls(self, method: str, path: str) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.method == method.upper() and r.path == path]

    def _dispatch(self, http: BaseHTTPRequestHandler) -> None:
        with self.lock:
            self._connections.add(http.connection)
        parts = urlsplit(http.path)
        length = int(http.headers.get("Content-Length") or 0)
        body = http.rfile.read(length) if length else b""
        request = Request(
            method=http.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in http.headers.items()},
            body=body,
        )
        with self.lock:
            self.requests.append(request)
            queue = self._faults.get((request.method, request.path))
            fault = queue.popleft() if queue else None

        if fault and fault.kind == "drop":
            self._drop(http)
            return
        if fault and fault.kind == "status":
            self._send(
                http, Response(fault.status, fault.body or {"error": "injected"}, fault.headers)
            )
            return
        if fault and fault.kind == "malformed":
            self._send(http, Response(200, b'{"this is": not json', {}))
            return

        response = self._route(request)
        if fault and fault.kind == "drop_after":
            self._drop(http)
            return
        if fault and fault.kind == "slow":
            time.sleep(fault.delay)
        if fault and fault.kind == "truncated":
            data = response.encoded()
            response = Response(response.status, data[: max(1, len(data) // 2)], response.headers)
        self._send(http, response)

    def _route(self, request: Request) -> Response:
        for method, regex, handler in self._routes:
            match = regex.match(request.path)
            if method == request.method and match:
                request.params = match.groupdict()
                try:
                    return handler(request)
                except Exception as exc:  # a bug in a fake must show, not hang the client
                    return Response(500, {"error": f"fake server error: {exc!r}"})
        return Response(404, {"error": "Record not found"})

    @staticmethod
    def _send(http: BaseHTTPRequestHandler, response: Response) -> None:
        data = response.encoded()
        try:
            http.send_response(response.status)
            headers = {"Content-Type": "application/json; charset=utf-8", **response.headers}
            for name, value in headers.items():
                http.send_header(name, value)
            http.send_header("Content-Length", str(len(data)))
            http.end_headers()
            http.wfile.write(data)
            http.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass

    @staticmethod
    def _drop(http: BaseHTTPRequestHandler) -> None:
        http.close_connection = True
        with contextlib.suppress(OSError):
            http.connection.shutdown(socket.SHUT_RDWR)
