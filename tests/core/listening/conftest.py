"""Listening fixtures: the network fakes with their search routes, a feed site, accounts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.core.accounts import AccountService, AccountView
from app.core.secrets import MemoryKeyring, SecretStore
from app.core.vocab import Network
from tests.fakes.bluesky import PASSWORD as BSKY_PASSWORD
from tests.fakes.feeds import FeedSite
from tests.fakes.mastodon import TOKEN as MASTODON_TOKEN
from tests.fakes.search_routes import SearchingBluesky, SearchingMastodon, SearchingX
from tests.helpers.sync_support import quick_registry

X_TOKEN = "x-test-token"


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as client:
        yield client


@pytest.fixture
def service(db_path: Path, http: httpx.Client) -> Iterator[AccountService]:
    accounts = AccountService(SecretStore(MemoryKeyring()), http=http, registry=quick_registry())
    yield accounts
    accounts.close()


@pytest.fixture
def mastodon() -> Iterator[SearchingMastodon]:
    with SearchingMastodon() as server:
        yield server


@pytest.fixture
def bluesky() -> Iterator[SearchingBluesky]:
    with SearchingBluesky() as server:
        yield server


@pytest.fixture
def x() -> Iterator[SearchingX]:
    with SearchingX() as server:
        yield server


@pytest.fixture
def site() -> Iterator[FeedSite]:
    with FeedSite() as server:
        yield server


def connect_mastodon(service: AccountService, server: SearchingMastodon) -> AccountView:
    return service.add_account(
        Network.MASTODON, server.base_url, "", {"access_token": MASTODON_TOKEN}
    )


def connect_bluesky(service: AccountService, server: SearchingBluesky) -> AccountView:
    return service.add_account(
        Network.BLUESKY, server.base_url, server.me.handle, {"app_password": BSKY_PASSWORD}
    )


def connect_x(service: AccountService, server: SearchingX) -> AccountView:
    return service.add_account(Network.X, server.base_url, "", {"access_token": X_TOKEN})
