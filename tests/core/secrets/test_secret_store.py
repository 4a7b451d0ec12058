"""SecretStore on the in-memory backend everywhere and the real Secret Service where it runs."""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null
from keyring.backends.chainer import ChainerBackend

from app.core import secrets
from app.core.secrets import (
    MAX_ENTRY_CHARS,
    KeyringUnavailable,
    MemoryKeyring,
    SecretDamaged,
    SecretStore,
    SecretStoreError,
    describe_backend,
    new_reference,
    unusable_explanation,
)
from app.core.vocab import Network

TOKEN = "tok-" + "S3cr3t" * 6


class PlaintextFileKeyring(KeyringBackend):
    """Stands for keyrings.alt's plaintext file backend: what Kindly must refuse.

    Priority ≤ 0 and a required argument, so keyring itself never picks or builds it.
    """

    priority = -5

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def get_password(self, service: str, username: str) -> str | None:
        if not self.path.exists():
            return None
        return json.loads(self.path.read_text()).get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = json.loads(self.path.read_text()) if self.path.exists() else {}
        data[f"{service}/{username}"] = password
        self.path.write_text(json.dumps(data))

    def delete_password(self, service: str, username: str) -> None:
        raise NotImplementedError


def store_on(backend: KeyringBackend) -> SecretStore:
    # a service name per test: nothing leaks between tests sharing the session keyring
    return SecretStore(backend, service=f"Kindly-test-{uuid.uuid4().hex[:8]}")


# -- round trips on both backends ----------------------------------------------------------------


def test_set_get_delete_round_trip(any_backend: KeyringBackend) -> None:
    store = store_on(any_backend)
    ref = new_reference(Network.MASTODON)
    assert store.get(ref) is None
    store.set(ref, {"access_token": TOKEN})
    assert store.get(ref) == {"access_token": TOKEN}
    store.set(ref, {"access_token": "newer"})
    assert store.get(ref) == {"access_token": "newer"}
    assert store.delete(ref) is True
    assert store.get(ref) is None
    assert store.delete(ref) is False


def parts_of(backend: KeyringBackend, service: str, ref: str) -> list[str]:
    head = backend.get_password(service, ref)
    if head is None or not head.startswith('{"kindly_parts'):
        return []
    value = json.loads(head)
    return [f"{ref}#{value['gen']}-{i}" for i in range(value["kindly_parts"])]


BIG = {"access_jwt": "a" * 1500, "refresh_jwt": "r" * 900, "did": "did:plc:xyz"}


def test_long_secret_is_split_and_cleaned_up(any_backend: KeyringBackend) -> None:
    store = store_on(any_backend)
    ref = new_reference(Network.BLUESKY)
    store.set(ref, BIG)
    assert store.get(ref) == BIG
    head = any_backend.get_password(store.service, ref)
    assert head is not None and len(head) <= MAX_ENTRY_CHARS and "aaaa" not in head
    first = parts_of(any_backend, store.service, ref)
    assert len(first) == 3
    assert all(
        len(any_backend.get_password(store.service, n) or "") <= MAX_ENTRY_CHARS for n in first
    )

    store.set(ref, BIG)  # replaced under new names, the old parts deleted
    second = parts_of(any_backend, store.service, ref)
    assert len(second) == 3 and not set(first) & set(second)
    assert all(any_backend.get_password(store.service, n) is None for n in first)

    store.set(ref, {"access_jwt": "short", "refresh_jwt": "r", "did": "d"})  # parts go away
    assert store.get(ref) == {"access_jwt": "short", "refresh_jwt": "r", "did": "d"}
    assert all(any_backend.get_password(store.service, n) is None for n in second)

    store.set(ref, BIG)
    third = parts_of(any_backend, store.service, ref)
    assert store.delete(ref) is True
    for name in [ref, *third]:
        assert any_backend.get_password(store.service, name) is None


def test_a_failed_long_write_keeps_the_old_secret_and_no_stray_parts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backend = MemoryKeyring()
    store = store_on(backend)
    ref = new_reference(Network.BLUESKY)
    store.set(ref, BIG)
    before = dict(backend._items)
    real_set = backend.set_password
    calls = []

    def fails_on_third_part(service: str, username: str, password: str) -> None:
        calls.append(username)
        if len(calls) == 3:
            raise OSError("D-Bus connection lost")
        real_set(service, username, password)

    monkeypatch.setattr(backend, "set_password", fails_on_third_part)
    with pytest.raises(SecretStoreError):
        store.set(ref, {**BIG, "access_jwt": "b" * 1500})
    assert backend._items == before
    assert store.get(ref) == BIG


def test_missing_part_is_reported_as_damaged(any_backend: KeyringBackend) -> None:
    store = store_on(any_backend)
    ref = new_reference(Network.BLUESKY)
    store.set(ref, {"access_jwt": "a" * 2500})
    any_backend.delete_password(store.service, parts_of(any_backend, store.service, ref)[1])
    with pytest.raises(SecretDamaged):
        store.get(ref)
    store.delete(ref)


def test_damaged_entry_is_reported(any_backend: KeyringBackend) -> None:
    store = store_on(any_backend)
    ref = new_reference(Network.X)
    any_backend.set_password(store.service, ref, "not json")
    with pytest.raises(SecretDamaged) as caught:
        store.get(ref)
    assert "Reconnect" in caught.value.user_message
    store.delete(ref)


def test_references_are_checked_and_name_no_secret() -> None:
    store = store_on(MemoryKeyring())
    ref = new_reference(Network.FACEBOOK)
    assert ref.startswith("kindly:facebook:") and len(ref) == len("kindly:facebook:") + 32
    assert new_reference(Network.FACEBOOK) != ref
    for bad in ("", "Kindly", "kindly:mastodon:xyz", f"{ref}#0", f"other:{ref}"):
        with pytest.raises(ValueError):
            store.get(bad)
    with pytest.raises(ValueError):
        store.set(ref, {})
    with pytest.raises(TypeError):
        store.set(ref, {"n": 1})  # type: ignore[dict-item]


# -- the real Secret Service ---------------------------------------------------------------------


def test_real_backend_is_classified_secure_and_stores_in_the_collection(
    real_keyring: KeyringBackend,
) -> None:
    import secretstorage

    store = SecretStore(real_keyring)
    info = store.backend_info()
    assert info.is_secure and info.usable and info.explanation_if_unusable is None
    assert info.backend_id == "keyring.backends.SecretService.Keyring"
    ref = new_reference(Network.MASTODON)
    store.set(ref, {"access_token": TOKEN})
    try:
        connection = secretstorage.dbus_init()
        try:
            collection = secretstorage.get_default_collection(connection)
            items = list(collection.search_items({"service": "Kindly", "username": ref}))
            assert len(items) == 1
            assert TOKEN not in items[0].get_label()
            assert json.loads(items[0].get_secret()) == {"access_token": TOKEN}
        finally:
            connection.close()
    finally:
        assert store.delete(ref)


# -- backends Kindly refuses -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "backend",
    [fail.Keyring(), null.Keyring()],
    ids=["fail", "null"],
)
def test_fail_and_null_backends_are_refused(backend: KeyringBackend) -> None:
    store = SecretStore(backend)
    info = store.backend_info()
    assert not info.usable and not info.is_secure
    with pytest.raises(KeyringUnavailable) as caught:
        store.ensure_usable()
    message = caught.value.user_message
    assert message == info.explanation_if_unusable
    assert "Kindly will not store your credentials anywhere else" in message
    ref = new_reference(Network.MASTODON)
    for call in (lambda: store.set(ref, {"access_token": TOKEN}), lambda: store.get(ref)):
        with pytest.raises(KeyringUnavailable):
            call()


def test_plaintext_backend_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    path = tmp_path / "keyring_pass.cfg"
    store = SecretStore(PlaintextFileKeyring(path))
    info = store.backend_info()
    assert not info.usable and not info.is_secure
    with pytest.raises(KeyringUnavailable):
        store.set(new_reference(Network.X), {"access_token": TOKEN})
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []


def test_chainer_of_plaintext_only_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "plain.cfg"
    monkeypatch.setattr(ChainerBackend, "backends", [PlaintextFileKeyring(path)])
    store = SecretStore(ChainerBackend())
    assert not store.backend_info().usable
    with pytest.raises(KeyringUnavailable):
        store.set(new_reference(Network.X), {"access_token": TOKEN})
    assert not path.exists()


def test_chainer_headed_by_secure_backend_writes_only_there(
    real_keyring: KeyringBackend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "plain.cfg"
    monkeypatch.setattr(ChainerBackend, "backends", [real_keyring, PlaintextFileKeyring(path)])
    store = SecretStore(ChainerBackend(), service="Kindly-test-chain")
    info = store.backend_info()
    assert info.usable and info.is_secure
    assert info.backend_id == "keyring.backends.SecretService.Keyring"
    ref = new_reference(Network.MASTODON)
    store.set(ref, {"access_token": TOKEN})
    assert real_keyring.get_password("Kindly-test-chain", ref) is not None
    assert not path.exists()
    store.delete(ref)


def test_a_subclass_of_a_secure_backend_is_not_trusted() -> None:
    from keyring.backends import SecretService

    class Sneaky(SecretService.Keyring):
        priority = -5  # type: ignore[assignment]

    assert not describe_backend(Sneaky()).usable


def test_memory_backend_is_usable_but_not_secure() -> None:
    info = SecretStore(MemoryKeyring()).backend_info()
    assert info.usable and not info.is_secure
    assert MemoryKeyring.priority <= 0  # keyring must never pick it by itself


@pytest.mark.parametrize(
    ("platform", "words"),
    [
        ("linux", ["gnome-keyring", "KeePassXC", "KDE Wallet", "Secret Service"]),
        ("darwin", ["Keychain"]),
        ("win32", ["Credential Manager"]),
    ],
)
def test_explanation_says_how_to_fix_each_os(platform: str, words: list[str]) -> None:
    text = unusable_explanation("none found", platform=platform)
    for word in words:
        assert word in text
    assert "anywhere else" in text


def test_explanation_points_at_a_forcing_environment_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    assert "PYTHON_KEYRING_BACKEND" in unusable_explanation("plain file")


# -- no secret in messages or logs -----------------------------------------------------------------


def test_backend_errors_never_carry_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = MemoryKeyring()

    def echoing(service: str, username: str, password: str) -> None:
        raise RuntimeError(f"cannot store {password!r} for {username}")  # a careless backend

    monkeypatch.setattr(backend, "set_password", echoing)
    store = SecretStore(backend)
    with pytest.raises(SecretStoreError) as caught:
        store.set(new_reference(Network.MASTODON), {"access_token": TOKEN})
    error = caught.value
    assert TOKEN not in str(error) and TOKEN not in error.user_message
    assert "RuntimeError" in str(error)


def test_backend_choice_is_logged_at_info_without_secrets(
    any_backend: KeyringBackend, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store = store_on(any_backend)
    ref = new_reference(Network.MASTODON)
    store.set(ref, {"access_token": TOKEN})
    store.get(ref)
    store.delete(ref)
    chosen = [r for r in caplog.records if r.name == secrets.__name__ and r.levelno == logging.INFO]
    assert chosen and store.backend_info().name in chosen[0].getMessage()
    assert all(TOKEN not in r.getMessage() for r in caplog.records)
