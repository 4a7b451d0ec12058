"""Connecting a Mastodon account with OAuth: register Kindly on the instance, send the person
to authorise it, trade the code for a token. Kept apart from the client, which only needs the
token."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from app.core.networks.errors import AuthError, BadResponse
from app.core.networks.http import HttpSession, check_base_url, expect_dict, json_body
from app.core.networks.mastodon import LABEL, error_for, mastodon_rate_limit

OOB_REDIRECT = "urn:ietf:wg:oauth:2.0:oob"
SCOPES = "read:accounts read:notifications read:statuses write:statuses"


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


# -- connecting an account (OAuth) ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MastodonApp:
    """Kindly's registration on one instance; the secret belongs in the keyring."""

    client_id: str
    client_secret: str
    redirect_uri: str = OOB_REDIRECT
    scopes: str = SCOPES

    def __repr__(self) -> str:  # never the secret
        return f"MastodonApp(client_id={self.client_id!r})"


def parse_app(body: Any, redirect_uri: str = OOB_REDIRECT, scopes: str = SCOPES) -> MastodonApp:
    data = expect_dict(body, LABEL, "app")
    client_id, secret = _text(data.get("client_id")), _text(data.get("client_secret"))
    if not client_id or not secret:
        raise BadResponse(f"{LABEL} sent an unexpected reply.", "app without client credentials")
    return MastodonApp(client_id, secret, redirect_uri, scopes)


def parse_token(body: Any) -> str:
    token = _text(expect_dict(body, LABEL, "token").get("access_token"))
    if not token:
        raise BadResponse(f"{LABEL} sent an unexpected reply.", "token response without token")
    return token


def _oauth_post(
    client: httpx.Client, url: str, data: dict[str, str], what: str, sleep: Callable[[float], None]
) -> Any:
    session = HttpSession(client, LABEL, mastodon_rate_limit, sleep=sleep)
    response = session.request("POST", url, retry=False, data=data)
    if response.status_code >= 400:
        error = error_for(response, what)
        if response.status_code in (400, 401):
            raise AuthError(
                "Mastodon did not accept the authorisation. Try connecting again.", str(error)
            )
        raise error
    return json_body(response, LABEL)


def register_app(
    client: httpx.Client,
    base_url: str,
    *,
    client_name: str = "Kindly",
    redirect_uri: str = OOB_REDIRECT,
    scopes: str = SCOPES,
    website: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> MastodonApp:
    """Register Kindly on an instance (POST /api/v1/apps), once per instance."""
    data = {"client_name": client_name, "redirect_uris": redirect_uri, "scopes": scopes}
    if website:
        data["website"] = website
    url = check_base_url(base_url) + "/api/v1/apps"
    return parse_app(_oauth_post(client, url, data, "register app", sleep), redirect_uri, scopes)


def authorize_url(base_url: str, app: MastodonApp, state: str | None = None) -> str:
    """Where the person signs in and allows Kindly; the instance then shows or sends a code."""
    query = {
        "client_id": app.client_id,
        "response_type": "code",
        "redirect_uri": app.redirect_uri,
        "scope": app.scopes,
    }
    if state:
        query["state"] = state
    return f"{check_base_url(base_url)}/oauth/authorize?{urlencode(query)}"


def exchange_code(
    client: httpx.Client,
    base_url: str,
    app: MastodonApp,
    code: str,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Trade the authorisation code for an access token (POST /oauth/token)."""
    data = {
        "grant_type": "authorization_code",
        "code": code.strip(),
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "redirect_uri": app.redirect_uri,
        "scope": app.scopes,
    }
    url = check_base_url(base_url) + "/oauth/token"
    return parse_token(_oauth_post(client, url, data, "token", sleep))
