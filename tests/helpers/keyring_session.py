"""A keyring that works across processes: the private Secret Service of tests/core/secrets.

A child ``python main.py`` must read the secret the test stored through ``AccountService``;
the in-memory keyring dies with its process, so both talk to the throw-away gnome-keyring
started by the ``secret_service`` session fixture (skipped where it cannot run, failed
instead when KINDLY_REQUIRE_REAL_KEYRING is set). A test module picks both fixtures up with

    secret_service = keyring_session.secret_service
    shared_secrets = keyring_session.shared_secrets
"""

from __future__ import annotations

import time

import pytest

from app.core.secrets import SecretStore
from tests.core.secrets.conftest import PrivateSecretService, secret_service

__all__ = ["PrivateSecretService", "secret_service", "shared_secrets"]


def wait_for_default_collection(address: str, timeout: float = 10.0) -> None:
    """gnome-keyring answers on the bus before ``--unlock`` has created the login keyring;
    a secret written in between makes it try to create a collection with a prompt, which
    fails without a display ("Prompt dismissed"). Wait until the ``default`` alias exists."""
    from jeepney.io.blocking import open_dbus_connection
    from secretstorage.util import SERVICE_IFACE, SS_PATH, DBusAddressWrapper

    deadline = time.monotonic() + timeout
    with open_dbus_connection(address) as connection:
        service = DBusAddressWrapper(SS_PATH, SERVICE_IFACE, connection)
        while service.call("ReadAlias", "s", "default")[0] == "/":
            if time.monotonic() > deadline:
                raise AssertionError("the private keyring never got its default collection")
            time.sleep(0.02)


@pytest.fixture
def shared_secrets(
    secret_service: PrivateSecretService, monkeypatch: pytest.MonkeyPatch
) -> SecretStore:
    """A SecretStore on the private Secret Service; children get ``secret_service.env``."""
    from keyring.backends import SecretService

    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", secret_service.address)
    wait_for_default_collection(secret_service.address)
    store = SecretStore(SecretService.Keyring())
    assert store.backend_info().is_secure
    return store
