"""Connecting an X account with OAuth 2.0 PKCE and a one-shot listener on 127.0.0.1.

A desktop app cannot keep a client secret, so it proves itself with PKCE (S256): the browser
signs in at X, X redirects to ``http://127.0.0.1:<port>/callback`` where a listener that lives for
this one sign-in catches the code, checks ``state`` (so no other page can feed it a code), and the
code is exchanged at ``/2/oauth2/token``. Codes and X's refresh tokens are single-use, so token
requests are never retried automatically.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from app.core.networks.errors import AuthError, BadResponse
from app.core.networks.http import (
    HttpSession,
    RetryPolicy,
    check_base_url,
    expect_dict,
    json_body,
    json_or_none,
)
from app.core.networks.x import DEFAULT_BASE_URL, LABEL, x_rate_limit

AUTHORIZE_URL = "https://x.com/i/oauth2/authorize"
TOKEN_PATH = "/2/oauth2/token"  # noqa: S105 (a path, not a secret)
DEFAULT_SCOPES = ("tweet.read", "tweet.write", "users.read", "offline.access")
DEFAULT_PORT = 8719  # must match the redirect URI registered for the X app
CALLBACK_PATH = "/callback"
SIGN_IN_TIMEOUT = 300.0


@dataclass(frozen=True, slots=True)
class Pkce:
    """One sign-in's secrets: the verifier stays here, only its S256 challenge goes out."""

    verifier: str = field(repr=False)
    challenge: str
    state: str = field(repr=False)


def new_pkce() -> Pkce:
    verifier = secrets.token_urlsafe(64)  # 86 unreserved characters (43..128 allowed)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return Pkce(verifier=verifier, challenge=challenge, state=secrets.token_urlsafe(24))


def authorize_url(
    client_id: str,
    redirect_uri: str,
    pkce: Pkce,
    scopes: Sequence[str] = DEFAULT_SCOPES,
    base: str = AUTHORIZE_URL,
) -> str:
    """The page to open in the browser."""
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(scopes),
            "state": pkce.state,
            "code_challenge": pkce.challenge,
            "code_challenge_method": "S256",
        }
    )
    return f"{base}?{query}"


@dataclass(frozen=True, slots=True)
class XTokens:
    """What the token endpoint grants. Secrets are kept out of ``repr`` (and so out of logs)."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_at: datetime | None
    scopes: tuple[str, ...] = ()

    def expires_soon(self, now: datetime | None = None, margin: float = 120.0) -> bool:
        if self.expires_at is None:
            return False
        return (now or datetime.now(UTC)) + timedelta(seconds=margin) >= self.expires_at


def parse_tokens(body: dict[str, Any], now: datetime | None = None) -> XTokens:
    access = body.get("access_token")
    if not isinstance(access, str) or not access:
        raise BadResponse(
            "X sent a sign-in answer Kindly could not read. Try connecting again.",
            "token response has no access_token",
        )
    refresh = body.get("refresh_token")
    expires_in = body.get("expires_in")
    expires_at = None
    if isinstance(expires_in, int | float) and expires_in > 0:
        expires_at = (now or datetime.now(UTC)) + timedelta(seconds=float(expires_in))
    scope = body.get("scope")
    return XTokens(
        access_token=access,
        refresh_token=refresh if isinstance(refresh, str) and refresh else None,
        expires_at=expires_at,
        scopes=tuple(scope.split()) if isinstance(scope, str) else (),
    )


# -- the loopback listener ------------------------------------------------------------------------

_DONE_PAGE = "<!doctype html><title>Kindly</title><p>{}</p><p>You can close this tab.</p>"


class LoopbackListener:
    """Catches one redirect on 127.0.0.1. Requests with the wrong ``state`` are refused and
    waiting goes on, so a stray or hostile page cannot end (or hijack) the sign-in."""

    def __init__(self, expected_state: str, port: int = 0, path: str = CALLBACK_PATH) -> None:
        self._state = expected_state
        self._path = path
        self._port = port
        self._done = threading.Event()
        self._code: str | None = None
        self._error: str | None = None
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def redirect_uri(self) -> str:
        assert self._httpd is not None, "listener not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}{self._path}"

    def start(self) -> LoopbackListener:
        listener = self

        class _Handler(BaseHTTPRequestHandler):
            timeout = 10  # browsers open spare connections and may never use them

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the query holds the code: never log it

            def do_GET(self) -> None:
                status, message = listener._receive(self.path)
                data = _DONE_PAGE.format(message).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(data)

        try:
            # Threaded: an idle or slow connection must not hold up the real redirect.
            self._httpd = ThreadingHTTPServer(("127.0.0.1", self._port), _Handler)
        except OSError as exc:
            raise AuthError(
                f"Kindly could not listen on port {self._port} of this computer for the X "
                "sign-in (another program may be using it). Close it and try again.",
                f"bind 127.0.0.1:{self._port}: {exc}",
            ) from exc
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> LoopbackListener:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait(self, timeout: float = SIGN_IN_TIMEOUT) -> str:
        """The authorization code, once the browser comes back with the right state."""
        if not self._done.wait(timeout):
            raise AuthError(
                "The X sign-in was not finished in time. Try connecting again.",
                f"no redirect within {timeout:.0f} s",
            )
        if self._code is None:
            raise AuthError(
                "X did not grant Kindly access. Try connecting again and choose Authorize.",
                f"authorization error: {self._error}",
            )
        return self._code

    def _receive(self, raw_path: str) -> tuple[int, str]:
        parts = urlsplit(raw_path)
        if parts.path != self._path:
            return 404, "Nothing here."
        if self._done.is_set():
            return 410, "This sign-in has already finished."
        query = parse_qs(parts.query)
        state = (query.get("state") or [""])[0]
        if not hmac.compare_digest(state.encode(), self._state.encode()):
            return 400, "This sign-in link was not started by Kindly."
        code = (query.get("code") or [""])[0]
        if code:
            self._code = code
            message = (200, "Kindly is connected to X.")
        else:
            self._error = (query.get("error") or ["no code"])[0][:100]
            message = (200, "X did not grant access to Kindly.")
        self._done.set()
        return message


# -- the token endpoint ---------------------------------------------------------------------------


class XOAuth:
    """Runs the PKCE sign-in and refreshes tokens, over an injected ``httpx.Client``.

    A public client (the desktop case) sends ``client_id`` in the form; a confidential one
    passes ``client_secret`` and authenticates with HTTP Basic.
    """

    def __init__(
        self,
        client: httpx.Client,
        client_id: str,
        *,
        client_secret: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        authorize_base: str = AUTHORIZE_URL,
        scopes: Sequence[str] = DEFAULT_SCOPES,
        sleep: Callable[[float], None] = time.sleep,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.client_id = client_id
        self._secret = client_secret
        self.base_url = check_base_url(base_url)
        self.authorize_base = check_base_url(authorize_base)
        self.scopes = tuple(scopes)
        self._session = HttpSession(client, LABEL, x_rate_limit, policy, sleep)

    def authorize_url(self, redirect_uri: str, pkce: Pkce) -> str:
        return authorize_url(self.client_id, redirect_uri, pkce, self.scopes, self.authorize_base)

    def authorize(
        self,
        open_browser: Callable[[str], object],
        *,
        port: int = DEFAULT_PORT,
        timeout: float = SIGN_IN_TIMEOUT,
    ) -> XTokens:
        """The whole sign-in: listen, open the browser, wait for the redirect, exchange."""
        pkce = new_pkce()
        with LoopbackListener(pkce.state, port) as listener:
            redirect_uri = listener.redirect_uri
            open_browser(self.authorize_url(redirect_uri, pkce))
            code = listener.wait(timeout)
        return self.exchange_code(code, pkce.verifier, redirect_uri)

    def exchange_code(self, code: str, verifier: str, redirect_uri: str) -> XTokens:
        return self._token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            }
        )

    def refresh(self, refresh_token: str) -> XTokens:
        """New tokens; X rotates the refresh token, so the caller must save the new one."""
        return self._token_request({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def _token_request(self, form: dict[str, str]) -> XTokens:
        auth: tuple[str, str] | None = None
        if self._secret:
            auth = (self.client_id, self._secret)
        else:
            form = {**form, "client_id": self.client_id}
        kwargs: dict[str, Any] = {"data": form}
        if auth is not None:
            kwargs["auth"] = auth
        response = self._session.request("POST", self.base_url + TOKEN_PATH, retry=False, **kwargs)
        if response.status_code in (400, 401, 403):
            body = json_or_none(response)
            reason = str(body.get("error", "")) if isinstance(body, dict) else ""
            raise AuthError(
                "X did not accept the sign-in. Reconnect this account.",
                f"token endpoint HTTP {response.status_code}: {reason[:60]}",
            )
        if response.status_code >= 300:
            raise BadResponse(
                "X sent a sign-in answer Kindly could not read. Try connecting again.",
                f"token endpoint HTTP {response.status_code}",
            )
        return parse_tokens(expect_dict(json_body(response, LABEL), LABEL, "token response"))
