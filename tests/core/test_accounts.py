"""AccountService against real network clients talking to HTTP fakes on 127.0.0.1.

Secrets go to an in-memory keyring here (the real Secret Service is covered in
tests/core/secrets); what matters is the order: verify, then keyring, then row.
"""

from __future__ import annotations

import logging
import secrets as pysecrets
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import peewee as pw
import pytest

from app.core.accounts import (
    AccountError,
    AccountExists,
    AccountNotFound,
    AccountService,
    NeedsReconnect,
)
from app.core.networks.base import NetworkClient
from app.core.networks.errors import AuthError, Offline
from app.core.networks.registry import ClientParams, SecretSink
from app.core.secrets import KeyringUnavailable, MemoryKeyring, SecretStore
from app.core.vocab import Network
from app.storage.backup import backup_file
from app.storage.models import Account, Case, Mention, Person
from tests.fakes.server import FakeServer, Request, Response
from tests.fakes.x import CLIENT_ID, FakeX

MASTODON_TOKEN = "mastodon-" + pysecrets.token_urlsafe(24)
APP_PASSWORD = "abcd-efgh-ijkl-mnop"


# -- minimal fakes of the endpoints that connecting uses -------------------------------------------


class FakeMastodon(FakeServer):
    """verify_credentials with a bearer token, in the shape of Mastodon's recording."""

    def __init__(self, token: str = MASTODON_TOKEN) -> None:
        super().__init__()
        self.token = token
        self.route("GET", "/api/v1/accounts/verify_credentials", self._verify)

    def reset(self) -> None:
        with self.lock:
            self.token = MASTODON_TOKEN
            self.requests.clear()

    def _verify(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return Response(401, {"error": "The access token is invalid"})
        return Response(
            200,
            {
                "id": "117020457910412882",
                "username": "kindlytrust",
                "acct": "kindlytrust",
                "display_name": "Kindly Trust",
                "note": "<p>Helping since 1990</p>",
                "url": f"{self.base_url}/@kindlytrust",
                "followers_count": 321,
            },
        )


class FakeBlueskyPds(FakeServer):
    """createSession, refreshSession (rotating), getSession and getProfiles."""

    def __init__(self) -> None:
        super().__init__()
        self.did = "did:plc:kindlytrust0000000000000"
        self.issued = 0
        self.access: str | None = None
        self.refresh: str | None = None
        self.route("POST", "/xrpc/com.atproto.server.createSession", self._create)
        self.route("POST", "/xrpc/com.atproto.server.refreshSession", self._refresh)
        self.route("GET", "/xrpc/com.atproto.server.getSession", self._get)
        self.route("GET", "/xrpc/app.bsky.actor.getProfiles", self._profiles)

    def _issue(self) -> Response:
        self.issued += 1
        self.access = f"access-jwt-{self.issued}-{pysecrets.token_hex(8)}"
        self.refresh = f"refresh-jwt-{self.issued}-{pysecrets.token_hex(8)}"
        body = {
            "did": self.did,
            "handle": "kindlytrust.bsky.social",
            "accessJwt": self.access,
            "refreshJwt": self.refresh,
        }
        return Response(200, body)

    def _create(self, request: Request) -> Response:
        body = request.json()
        if body != {"identifier": "kindlytrust.bsky.social", "password": APP_PASSWORD}:
            return Response(401, {"error": "AuthenticationRequired", "message": "Invalid"})
        return self._issue()

    def _refresh(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {self.refresh}":
            return Response(400, {"error": "ExpiredToken", "message": "Token has expired"})
        return self._issue()

    def _get(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {self.access}":
            return Response(400, {"error": "ExpiredToken", "message": "Token has expired"})
        return Response(200, {"did": self.did, "handle": "kindlytrust.bsky.social"})

    def _profiles(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {self.access}":
            return Response(400, {"error": "ExpiredToken", "message": "Token has expired"})
        return Response(200, {"profiles": []})

    def expire_access(self) -> None:
        self.access = "expired"

    def reset(self) -> None:
        with self.lock:
            self.access = self.refresh = None
            self.requests.clear()


# -- fixtures --------------------------------------------------------------------------------------


# One server of each per module (stopping one takes half a second); state is reset per test.


@pytest.fixture(scope="module")
def mastodon_server() -> Iterator[FakeMastodon]:
    with FakeMastodon() as server:
        yield server


@pytest.fixture(scope="module")
def pds_server() -> Iterator[FakeBlueskyPds]:
    with FakeBlueskyPds() as server:
        yield server


@pytest.fixture(scope="module")
def x_server() -> Iterator[FakeX]:
    with FakeX() as server:
        yield server


@pytest.fixture
def mastodon(mastodon_server: FakeMastodon) -> FakeMastodon:
    mastodon_server.reset()
    return mastodon_server


@pytest.fixture
def pds(pds_server: FakeBlueskyPds) -> FakeBlueskyPds:
    pds_server.reset()
    return pds_server


@pytest.fixture
def x(x_server: FakeX) -> FakeX:
    """Signed in with access token x-test-token and one unused refresh token."""
    with x_server.lock:
        x_server.token = "x-test-token"
        x_server.refresh_tokens = {"x-refresh-0"}
        x_server.requests.clear()
    return x_server


@pytest.fixture
def keyring_backend() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def service(db_path: Path, keyring_backend: MemoryKeyring) -> Iterator[AccountService]:
    with httpx.Client(timeout=5.0) as http:
        yield AccountService(SecretStore(keyring_backend), http)


def no_wait_mastodon(
    http: httpx.Client, params: ClientParams, secret: Any, sink: SecretSink
) -> NetworkClient:
    """The real Mastodon client, without retry back-off waits (keeps failure tests fast)."""
    from app.core.networks.mastodon import MastodonClient

    return MastodonClient(http, params.base_url, secret["access_token"], sleep=lambda _: None)


def add_mastodon(service: AccountService, server: FakeMastodon, token: str = MASTODON_TOKEN):
    return service.add_account(
        Network.MASTODON, server.base_url, "kindlytrust", {"access_token": token}
    )


# -- connecting ------------------------------------------------------------------------------------


def test_add_verifies_then_keeps_the_secret_in_the_keyring_and_a_reference_in_the_row(
    service: AccountService, mastodon: FakeMastodon, keyring_backend: MemoryKeyring
) -> None:
    account = add_mastodon(service, mastodon)

    assert len(mastodon.calls("GET", "/api/v1/accounts/verify_credentials")) == 1
    assert account.network is Network.MASTODON
    assert account.handle.startswith("kindlytrust@127.0.0.1")
    assert account.display_name == "Kindly Trust"
    assert account.remote_id == "117020457910412882"
    assert account.keyring_ref.startswith("kindly:mastodon:")
    row = Account.get_by_id(account.id)
    assert row.keyring_ref == account.keyring_ref
    assert MASTODON_TOKEN not in repr(row.__data__)
    assert service.store.get(account.keyring_ref) == {"access_token": MASTODON_TOKEN}
    assert service.list_accounts() == [account]


def test_refused_credentials_store_nothing(
    service: AccountService, mastodon: FakeMastodon, keyring_backend: MemoryKeyring
) -> None:
    with pytest.raises(AuthError) as caught:
        add_mastodon(service, mastodon, token="wrong-token")
    assert "Reconnect" in caught.value.user_message
    assert "wrong-token" not in str(caught.value)
    assert len(keyring_backend) == 0
    assert Account.select().count() == 0


def test_unreachable_network_stores_nothing(
    service: AccountService, keyring_backend: MemoryKeyring
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        base = f"http://127.0.0.1:{probe.getsockname()[1]}"  # nobody listens once closed
    with pytest.raises(Offline):
        service.add_account(
            Network.MASTODON,
            base,
            "kindlytrust",
            {"access_token": MASTODON_TOKEN},
            client_factory=no_wait_mastodon,
        )
    assert len(keyring_backend) == 0
    assert Account.select().count() == 0


def test_without_a_usable_keyring_nothing_is_sent_or_stored(
    db_path: Path, mastodon: FakeMastodon
) -> None:
    from keyring.backends import fail

    with httpx.Client() as http:
        service = AccountService(SecretStore(fail.Keyring()), http)
        with pytest.raises(KeyringUnavailable) as caught:
            add_mastodon(service, mastodon)
    assert "gnome-keyring" in caught.value.user_message or "Keychain" in caught.value.user_message
    assert mastodon.requests == []  # refused before the token went anywhere
    assert Account.select().count() == 0


def test_a_failed_database_write_deletes_the_secret_again(
    service: AccountService,
    mastodon: FakeMastodon,
    keyring_backend: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    written: list[str] = []
    original_set = service.store.set

    def record_set(ref: str, secret: Any) -> None:
        written.append(ref)
        original_set(ref, secret)

    def broken_create(**_: Any) -> None:
        assert len(keyring_backend) == 1  # the secret was written, after verify
        raise pw.OperationalError("disk I/O error")

    monkeypatch.setattr(service.store, "set", record_set)
    monkeypatch.setattr(Account, "create", broken_create)
    with pytest.raises(pw.OperationalError):
        add_mastodon(service, mastodon)
    assert len(written) == 1
    assert len(keyring_backend) == 0


def test_a_racing_duplicate_row_is_reported_and_its_secret_deleted(
    service: AccountService,
    mastodon: FakeMastodon,
    keyring_backend: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def duplicate(**_: Any) -> None:
        raise pw.IntegrityError("UNIQUE constraint failed: account.network, account.handle")

    monkeypatch.setattr(Account, "create", duplicate)
    with pytest.raises(AccountExists):
        add_mastodon(service, mastodon)
    assert len(keyring_backend) == 0


def test_the_same_account_twice_is_refused_before_storing(
    service: AccountService, mastodon: FakeMastodon, keyring_backend: MemoryKeyring
) -> None:
    add_mastodon(service, mastodon)
    with pytest.raises(AccountExists):
        add_mastodon(service, mastodon)
    assert len(keyring_backend) == 1
    assert Account.select().count() == 1


@pytest.mark.parametrize(
    ("network", "base_url", "handle", "credentials", "says"),
    [
        (Network.MASTODON, "", "", {"access_token": "t"}, "address of your Mastodon server"),
        (Network.MASTODON, "http://example.org", "", {"access_token": "t"}, "unencrypted"),
        (Network.MASTODON, "{fake}", "", {"access_token": "  "}, "access token"),
        (Network.MASTODON, "{fake}", "", {"access_token": "t", "password": "p"}, "does not use"),
        (Network.BLUESKY, None, "", {"app_password": "p"}, "handle"),
        (Network.FACEBOOK, None, "", {"page_token": "p"}, "page id"),
    ],
)
def test_input_is_checked_before_anything_else(
    service: AccountService,
    mastodon: FakeMastodon,
    network: Network,
    base_url: str | None,
    handle: str,
    credentials: dict[str, str],
    says: str,
) -> None:
    if base_url == "{fake}":
        base_url = mastodon.base_url
    with pytest.raises(AccountError) as caught:
        service.add_account(network, base_url, handle, credentials)
    assert says in caught.value.user_message
    assert mastodon.requests == []


def add_bluesky(
    service: AccountService, pds: FakeBlueskyPds, handle: str = "kindlytrust.bsky.social"
):
    return service.add_account(
        Network.BLUESKY, pds.base_url, handle, {"app_password": APP_PASSWORD}
    )


def add_x(service: AccountService, x: FakeX):
    credentials = {
        "access_token": "x-test-token",
        "refresh_token": "x-refresh-0",
        "client_id": CLIENT_ID,
    }
    return service.add_account(Network.X, x.base_url, "", credentials)


def test_bluesky_keeps_the_session_never_the_app_password(
    service: AccountService, keyring_backend: MemoryKeyring, pds: FakeBlueskyPds
) -> None:
    account = add_bluesky(service, pds, "@kindlytrust.bsky.social")
    assert account.handle == "kindlytrust.bsky.social"
    assert account.remote_id == pds.did
    stored = service.store.get(account.keyring_ref)
    assert stored == {"did": pds.did, "access_jwt": pds.access, "refresh_jwt": pds.refresh}
    assert all(APP_PASSWORD not in v for v in keyring_backend._items.values())

    # a refused refresh token can no longer sign in: the app password is gone for good
    pds.expire_access()
    pds.refresh = "revoked"
    with pytest.raises(AuthError):
        service.client_for(account).verify()
    assert len(pds.calls("POST", "/xrpc/com.atproto.server.createSession")) == 1


# -- using and renewing ----------------------------------------------------------------------------


def test_client_for_builds_a_working_client_from_the_keyring(
    service: AccountService, mastodon: FakeMastodon
) -> None:
    account = add_mastodon(service, mastodon)
    me = service.client_for(account.id).verify()
    assert me.remote_id == account.remote_id
    assert mastodon.requests[-1].headers["authorization"] == f"Bearer {MASTODON_TOKEN}"


def test_client_for_without_a_secret_asks_to_reconnect(
    service: AccountService, mastodon: FakeMastodon, keyring_backend: MemoryKeyring
) -> None:
    account = add_mastodon(service, mastodon)
    keyring_backend.delete_password(service.store.service, account.keyring_ref)
    with pytest.raises(NeedsReconnect, match="Connect the account again"):
        service.client_for(account)
    keyring_backend.set_password(service.store.service, account.keyring_ref, "{garbage")
    with pytest.raises(NeedsReconnect):
        service.client_for(account)


def test_rotated_bluesky_session_is_written_back_to_the_keyring(
    service: AccountService, pds: FakeBlueskyPds
) -> None:
    account = add_bluesky(service, pds)
    first = service.store.get(account.keyring_ref)
    pds.expire_access()
    service.client_for(account).verify()  # ExpiredToken → refreshSession → new pair
    renewed = service.store.get(account.keyring_ref)
    assert renewed is not None and first is not None
    assert renewed["refresh_jwt"] == pds.refresh != first["refresh_jwt"]
    assert renewed["access_jwt"] == pds.access

    # the next start resumes from the stored session, without the app password
    pds.expire_access()
    service.client_for(account).verify()
    assert len(pds.calls("POST", "/xrpc/com.atproto.server.createSession")) == 1


def test_rotated_x_tokens_are_written_back_to_the_keyring(
    service: AccountService, x: FakeX
) -> None:
    account = add_x(service, x)
    assert account.handle == "kindlytrust"
    x.expire_token()  # X answers 401; the client trades its single-use refresh token
    service.client_for(account).verify()
    (new_refresh,) = x.refresh_tokens
    assert service.store.get(account.keyring_ref) == {
        "access_token": x.token,
        "refresh_token": new_refresh,
        "client_id": CLIENT_ID,
    }
    assert new_refresh != "x-refresh-0"


def test_a_renewal_after_removal_does_not_bring_the_secret_back(
    service: AccountService, keyring_backend: MemoryKeyring, pds: FakeBlueskyPds
) -> None:
    account = add_bluesky(service, pds)
    client = service.client_for(account)
    service.remove_account(account.id)
    pds.expire_access()
    client.verify()  # a sync still running renews its session
    assert len(keyring_backend) == 0


def test_a_renewal_that_cannot_be_saved_is_recorded_on_the_account(
    service: AccountService, monkeypatch: pytest.MonkeyPatch, pds: FakeBlueskyPds
) -> None:
    from app.core.secrets import SecretStoreError

    account = add_bluesky(service, pds)
    client = service.client_for(account)

    def locked(ref: str, secret: Any) -> None:
        raise SecretStoreError("The keyring is locked. Unlock it and try again.")

    monkeypatch.setattr(service.store, "set", locked)
    pds.expire_access()
    client.verify()  # the client keeps working with the new session in memory
    error = service.get(account.id).last_error
    assert error is not None and "locked" in error
    assert pds.refresh is not None and pds.refresh not in error


def test_sync_marks(service: AccountService, mastodon: FakeMastodon) -> None:
    account = add_mastodon(service, mastodon)
    service.mark_error(account.id, "Mastodon is having trouble (HTTP 503).")
    assert service.get(account.id).last_error == "Mastodon is having trouble (HTTP 503)."
    when = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    service.mark_synced(account.id, when)
    view = service.get(account.id)
    assert view.last_sync_at == when and view.last_error is None
    service.set_enabled(account.id, False)
    assert service.get(account.id).enabled is False


def test_reconnect_replaces_the_secret_after_verifying(
    service: AccountService, mastodon: FakeMastodon
) -> None:
    account = add_mastodon(service, mastodon)
    service.mark_error(account.id, "Mastodon no longer accepts Kindly's access.")
    mastodon.token = "fresh-token-123"
    with pytest.raises(AuthError):
        service.reconnect(account.id, {"access_token": "still-wrong"})
    assert service.store.get(account.keyring_ref) == {"access_token": MASTODON_TOKEN}
    view = service.reconnect(account.id, {"access_token": "fresh-token-123"})
    assert service.store.get(account.keyring_ref) == {"access_token": "fresh-token-123"}
    assert view.last_error is None and view.keyring_ref == account.keyring_ref


# -- removing --------------------------------------------------------------------------------------


def _add_case(account_id: int) -> None:
    now = datetime.now(UTC)
    person = Person.create(network="mastodon", remote_id="p1", handle="ann@example")
    case = Case.create(
        account=account_id,
        person=person,
        network="mastodon",
        conversation_key="c1",
        first_mention_at=now,
        last_activity_at=now,
    )
    Mention.create(
        account=account_id,
        network="mastodon",
        remote_id="m1",
        author=person,
        case=case,
        text="hello",
        created_at=now,
    )


def test_remove_deletes_row_cases_and_secret(
    service: AccountService, mastodon: FakeMastodon, keyring_backend: MemoryKeyring
) -> None:
    account = add_mastodon(service, mastodon)
    _add_case(account.id)
    removed = service.remove_account(account.id)
    assert removed.secret_deleted and removed.warning is None
    assert Account.select().count() == 0
    assert Case.select().count() == 0 and Mention.select().count() == 0
    assert len(keyring_backend) == 0
    with pytest.raises(AccountNotFound):
        service.remove_account(account.id)


def test_remove_when_the_keyring_fails_says_what_was_left_behind(
    service: AccountService, mastodon: FakeMastodon, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.core.secrets import SecretStoreError

    account = add_mastodon(service, mastodon)

    def locked(ref: str) -> bool:
        raise SecretStoreError("The keyring is locked. Unlock it and try again.")

    monkeypatch.setattr(service.store, "delete", locked)
    removed = service.remove_account(account.id)
    assert not removed.secret_deleted
    assert removed.warning is not None and account.keyring_ref in removed.warning
    assert Account.select().count() == 0


# -- nothing Kindly writes holds a secret ----------------------------------------------------------


def test_no_secret_in_anything_kindly_writes(
    service: AccountService,
    data_dir: Path,
    db_path: Path,
    caplog: pytest.LogCaptureFixture,
    mastodon: FakeMastodon,
    pds: FakeBlueskyPds,
    x: FakeX,
) -> None:
    """Database, WAL, shared memory, backups and logs after a full session: no secret byte."""
    logs = data_dir / "logs"
    logs.mkdir()
    handler = logging.FileHandler(logs / "kindly.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s %(args)s"))
    caplog.set_level(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    seen: list[str | None] = [MASTODON_TOKEN, APP_PASSWORD, "x-test-token", "x-refresh-0"]
    try:
        masto = add_mastodon(service, mastodon)
        with pytest.raises(AuthError):
            add_mastodon(service, mastodon, token="wrong-" + MASTODON_TOKEN)
        sky = add_bluesky(service, pds)
        seen += [pds.access, pds.refresh]
        pds.expire_access()
        service.client_for(sky).verify()
        seen += [pds.access, pds.refresh]
        xa = add_x(service, x)
        x.expire_token()
        service.client_for(xa).verify()
        seen += [x.token, *x.refresh_tokens]
        service.client_for(masto).verify()
        service.mark_synced(masto.id)
        service.mark_error(sky.id, "Bluesky is having trouble (HTTP 502).")
        service.list_accounts()
        backup_file(db_path, data_dir / "backups" / "kindly-test.sqlite3")
        service.remove_account(xa.id)
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()

    assert (data_dir / f"{db_path.name}-wal").exists()
    assert "connected bluesky account" in (logs / "kindly.log").read_text()
    secrets_seen = {s for s in seen if s}
    assert len(secrets_seen) == 10
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {
        db_path.name,
        f"{db_path.name}-wal",
        "kindly-test.sqlite3",
        "kindly.log",
    }
    for path in files:
        data = path.read_bytes()
        for secret in secrets_seen:
            for encoded in (secret.encode(), secret.encode("utf-16-le")):
                assert encoded not in data, f"a secret leaked into {path.name}"
    for record in caplog.records:
        text = record.getMessage()
        assert not any(s in text for s in secrets_seen), record.name


# -- the registry ----------------------------------------------------------------------------------


def test_registry_describes_every_network() -> None:
    from app.core.networks.registry import REGISTRY, spec_for

    assert set(REGISTRY) == set(Network) - {Network.WEB}  # web feeds connect no account
    assert spec_for(Network.MASTODON).default_base_url is None  # the user says which server
    assert spec_for("bluesky").default_base_url == "https://bsky.social"
    assert spec_for(Network.X).default_base_url == "https://api.x.com"
    assert spec_for(Network.FACEBOOK).default_base_url == "https://graph.facebook.com"
    for entry in REGISTRY.values():
        spec = entry.spec
        assert spec.secret_fields and spec.must_store <= spec.stored_keys
        assert "app_password" not in spec.stored_keys
        assert all(f.label and f.help for f in spec.fields)


def test_factories_build_each_real_client(service: AccountService) -> None:
    from app.core.networks.registry import REGISTRY

    secrets = {
        Network.MASTODON: {"access_token": "t"},
        Network.BLUESKY: {"access_jwt": "a", "refresh_jwt": "r", "did": "did:plc:x"},
        Network.X: {"access_token": "t", "refresh_token": "r", "client_id": "c"},
        Network.FACEBOOK: {"page_token": "t"},
    }
    for network, entry in REGISTRY.items():
        params = ClientParams("https://example.org", "someone", "123")
        client = entry.factory(service.http, params, secrets[network], lambda _: None)
        assert client.network is network
        assert type(client).__name__ == f"{network.label}Client"


def test_client_modules_load_only_when_a_client_is_built() -> None:
    import subprocess
    import sys

    code = (
        "import sys, app.core.accounts, app.core.cli_accounts, app.core.networks.registry;"
        "print(sorted(m for m in sys.modules if m.split('.')[-1] in "
        "('mastodon', 'bluesky', 'x', 'facebook')))"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
