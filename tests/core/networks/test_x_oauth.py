"""The X PKCE sign-in end to end on 127.0.0.1: the test plays the browser."""

from __future__ import annotations

import base64
import hashlib
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from app.core.networks.errors import AuthError, Offline
from app.core.networks.x import XClient
from app.core.networks.x_oauth import (
    DEFAULT_SCOPES,
    LoopbackListener,
    XOAuth,
    XTokens,
    authorize_url,
    new_pkce,
    parse_tokens,
)
from tests.fakes.server import Fault
from tests.fakes.x import CLIENT_ID, FakeX


@pytest.fixture
def fake() -> Iterator[FakeX]:
    with FakeX() as server:
        yield server


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=2.0) as client:
        yield client


def oauth_for(fake: FakeX, http: httpx.Client) -> XOAuth:
    return XOAuth(
        http,
        CLIENT_ID,
        base_url=fake.base_url,
        authorize_base=fake.base_url + "/i/oauth2/authorize",
        sleep=lambda _s: None,
    )


class Browser:
    """Follows the authorize URL like a browser would, landing on the loopback listener."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        self.opened: list[str] = []
        self.landed: list[httpx.Response] = []

    def __call__(self, url: str) -> None:
        self.opened.append(url)
        self.landed.append(self.http.get(url, follow_redirects=True))


def test_pkce_challenge_is_s256_of_the_verifier() -> None:
    pkce = new_pkce()
    assert 43 <= len(pkce.verifier) <= 128
    digest = hashlib.sha256(pkce.verifier.encode()).digest()
    assert pkce.challenge == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert new_pkce().state != pkce.state
    assert pkce.verifier not in repr(pkce) and pkce.state not in repr(pkce)


def test_authorize_url_carries_the_challenge_not_the_verifier() -> None:
    pkce = new_pkce()
    url = authorize_url("cid", "http://127.0.0.1:8719/callback", pkce)
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://x.com/i/oauth2/authorize"
    assert query == {
        "response_type": "code",
        "client_id": "cid",
        "redirect_uri": "http://127.0.0.1:8719/callback",
        "scope": " ".join(DEFAULT_SCOPES),
        "state": pkce.state,
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
    }
    assert pkce.verifier not in url


def test_sign_in_end_to_end_then_the_token_works(fake: FakeX, http: httpx.Client) -> None:
    browser = Browser(http)
    tokens = oauth_for(fake, http).authorize(browser, port=0, timeout=2)
    assert tokens.access_token == fake.token
    assert tokens.refresh_token in fake.refresh_tokens
    assert "offline.access" in tokens.scopes
    assert tokens.expires_at is not None and not tokens.expires_soon()
    assert browser.landed[0].status_code == 200
    assert "connected" in browser.landed[0].text
    redirect = parse_qs(urlsplit(browser.opened[0]).query)["redirect_uri"][0]
    assert redirect.startswith("http://127.0.0.1:") and redirect.endswith("/callback")
    form = parse_qs(fake.calls("POST", "/2/oauth2/token")[0].body.decode())
    assert form["grant_type"] == ["authorization_code"] and form["redirect_uri"] == [redirect]
    me = XClient(http, tokens.access_token, base_url=fake.base_url).verify()
    assert me.handle == "kindlytrust"


def test_refresh_rotates_and_old_refresh_tokens_fail(fake: FakeX, http: httpx.Client) -> None:
    oauth = oauth_for(fake, http)
    first = oauth.authorize(Browser(http), port=0, timeout=2)
    assert first.refresh_token is not None
    second = oauth.refresh(first.refresh_token)
    assert second.access_token == fake.token != first.access_token
    with pytest.raises(AuthError) as caught:
        oauth.refresh(first.refresh_token)
    assert "Reconnect" in caught.value.user_message
    assert first.refresh_token not in str(caught.value)


def test_client_renews_its_token_through_oauth(fake: FakeX, http: httpx.Client) -> None:
    oauth = oauth_for(fake, http)
    saved = {"tokens": oauth.authorize(Browser(http), port=0, timeout=2)}

    def renew() -> str:
        refresh = saved["tokens"].refresh_token
        assert refresh is not None
        saved["tokens"] = oauth.refresh(refresh)
        return saved["tokens"].access_token

    client = XClient(http, "stale-token", base_url=fake.base_url, refresh=renew)
    assert client.verify().handle == "kindlytrust"
    assert saved["tokens"].access_token == fake.token


def test_a_wrong_state_is_refused_and_waiting_goes_on(http: httpx.Client) -> None:
    with LoopbackListener("right-state", port=0) as listener:
        stray = http.get(listener.redirect_uri, params={"code": "evil", "state": "wrong"})
        assert stray.status_code == 400
        assert (
            http.get(listener.redirect_uri.replace("/callback", "/favicon.ico")).status_code == 404
        )
        good = http.get(listener.redirect_uri, params={"code": "c0de", "state": "right-state"})
        assert good.status_code == 200
        assert listener.wait(timeout=1) == "c0de"
        late = http.get(listener.redirect_uri, params={"code": "again", "state": "right-state"})
        assert late.status_code == 410


def test_denied_access_and_timeouts_raise_auth_errors(fake: FakeX, http: httpx.Client) -> None:
    fake.deny_authorization = True
    with pytest.raises(AuthError) as denied:
        oauth_for(fake, http).authorize(Browser(http), port=0, timeout=2)
    assert "did not grant" in denied.value.user_message
    with pytest.raises(AuthError) as caught:
        oauth_for(fake, http).authorize(lambda _url: None, port=0, timeout=0.05)
    assert "not finished in time" in caught.value.user_message


def test_the_listener_port_must_be_free() -> None:
    with LoopbackListener("s", port=0) as first:
        port = int(first.redirect_uri.split(":")[2].split("/")[0])
        with pytest.raises(AuthError) as caught:
            LoopbackListener("s", port=port).start()
        assert "could not listen" in caught.value.user_message


def test_a_bad_verifier_or_code_is_refused(fake: FakeX, http: httpx.Client) -> None:
    oauth = oauth_for(fake, http)
    pkce, other = new_pkce(), new_pkce()
    redirect = "http://127.0.0.1:9/callback"
    landed = http.get(oauth.authorize_url(redirect, pkce), follow_redirects=False)
    code = parse_qs(urlsplit(landed.headers["location"]).query)["code"][0]
    with pytest.raises(AuthError):
        oauth.exchange_code(code, other.verifier, redirect)  # not the verifier of the challenge
    with pytest.raises(AuthError):
        oauth.exchange_code("made-up", pkce.verifier, redirect)


def test_token_requests_are_never_retried(fake: FakeX, http: httpx.Client) -> None:
    fake.fail("POST", "/2/oauth2/token", Fault.drop())
    with pytest.raises(Offline):
        oauth_for(fake, http).refresh("x-refresh-1")
    assert len(fake.calls("POST", "/2/oauth2/token")) == 1


def test_tokens_keep_secrets_out_of_repr() -> None:
    tokens = parse_tokens(
        {
            "access_token": "AAA-secret",
            "refresh_token": "RRR-secret",
            "expires_in": 60,
            "scope": "a b",
        },
        now=datetime(2030, 1, 1, tzinfo=UTC),
    )
    assert "secret" not in repr(tokens)
    assert tokens.expires_at == datetime(2030, 1, 1, 0, 1, tzinfo=UTC)
    assert tokens.expires_soon(now=datetime(2030, 1, 1, tzinfo=UTC))
    assert not XTokens("a", None, None).expires_soon()
    assert (
        tokens.expires_soon(now=datetime(2030, 1, 1, tzinfo=UTC) - timedelta(minutes=10)) is False
    )


def test_confidential_clients_use_basic_auth(fake: FakeX, http: httpx.Client) -> None:
    oauth = XOAuth(http, CLIENT_ID, client_secret="shh", base_url=fake.base_url)
    with pytest.raises(AuthError):
        oauth.refresh("unknown")  # the fake wants client_id in the form: refused, as expected
    request = fake.calls("POST", "/2/oauth2/token")[0]
    assert request.headers["authorization"].startswith("Basic ")
    assert "client_id" not in parse_qs(request.body.decode())


def test_listener_serves_concurrent_browsers(http: httpx.Client) -> None:
    with LoopbackListener("st", port=0) as listener:
        threads = [
            threading.Thread(
                target=http.get, args=(listener.redirect_uri,), kwargs={"params": {"state": "x"}}
            )
            for _ in range(3)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        http.get(listener.redirect_uri, params={"state": "st", "code": "ok"})
        assert listener.wait(1) == "ok"


def test_an_idle_connection_does_not_block_the_redirect(http: httpx.Client) -> None:
    """Browsers open spare connections and leave them idle; the real redirect still lands."""
    with LoopbackListener("st", port=0) as listener:
        host, port = urlsplit(listener.redirect_uri).netloc.split(":")
        with socket.create_connection((host, int(port))):
            answer = http.get(listener.redirect_uri, params={"state": "st", "code": "ok"})
            assert answer.status_code == 200
            assert listener.wait(1) == "ok"
