"""What the tests that connect accounts to the network fakes over real HTTP share: an HTTP
client, an ``AccountService`` on an in-memory keyring whose clients do not sleep between
retries, and one way to connect an account to each fake.

The fixtures reach every module under ``tests/core`` through ``tests/core/conftest.py``. A
module (or a folder's conftest) changes them by defining a fixture of the same name:
``http_timeout`` (seconds; 1.0 lets a test make the fake answer too late), ``client_registry``
(the network clients), or ``http``/``service`` themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import httpx
import pytest

from app.core.accounts import AccountService, AccountView
from app.core.networks.registry import NetworkEntry
from app.core.secrets import MemoryKeyring, SecretStore
from app.core.vocab import Network
from tests.fakes.bluesky import PASSWORD as BLUESKY_PASSWORD
from tests.fakes.mastodon import TOKEN as MASTODON_TOKEN
from tests.helpers.sync_support import quick_registry

X_TOKEN = "x-test-token"  # what FakeX accepts
FACEBOOK_TOKEN = "fb-page-token"  # what FakeFacebook accepts


class Sleeps(list[float]):
    """A client's ``sleep``: records the back-off it asked for instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def http_timeout() -> float:
    return 1.0


@pytest.fixture
def http(http_timeout: float) -> Iterator[httpx.Client]:
    with httpx.Client(timeout=http_timeout) as client:
        yield client


@pytest.fixture
def client_registry() -> dict[Network, NetworkEntry]:
    return quick_registry()


@pytest.fixture
def service(
    db_path: Path, http: httpx.Client, client_registry: dict[Network, NetworkEntry]
) -> Iterator[AccountService]:
    accounts = AccountService(SecretStore(MemoryKeyring()), http=http, registry=client_registry)
    yield accounts
    accounts.close()


class Fake(Protocol):
    @property
    def base_url(self) -> str: ...


class PageFake(Fake, Protocol):
    page_id: str


def connect_mastodon(service: AccountService, server: Fake) -> AccountView:
    return service.add_account(
        Network.MASTODON, server.base_url, "", {"access_token": MASTODON_TOKEN}
    )


def connect_x(service: AccountService, server: Fake) -> AccountView:
    return service.add_account(Network.X, server.base_url, "", {"access_token": X_TOKEN})


def connect_facebook(service: AccountService, server: PageFake) -> AccountView:
    return service.add_account(
        Network.FACEBOOK, server.base_url, server.page_id, {"page_token": FACEBOOK_TOKEN}
    )


def connect_bluesky(service: AccountService, server: Fake, handle: str) -> AccountView:
    return service.add_account(
        Network.BLUESKY, server.base_url, handle, {"app_password": BLUESKY_PASSWORD}
    )
