"""``python main.py --data-dir D sync`` end to end, in a child process.

The account is connected through AccountService against the fake Mastodon, its secret kept in
a private Secret Service that the child reads as Kindly would on a desktop; the child opens the
same database file, syncs over real HTTP, prints its summary and exits with its code.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.core.accounts import AccountService, AccountView
from app.core.secrets import SecretStore
from app.core.vocab import Network
from app.storage.models import Account, Case, Mention
from tests.fakes.mastodon import TOKEN
from tests.helpers import keyring_session
from tests.helpers.keyring_session import PrivateSecretService
from tests.helpers.sync_support import Mastodon, check_store, cursor_of, run_kindly, stored_ids

pytestmark = pytest.mark.keyring
secret_service = keyring_session.secret_service  # fixtures: a keyring the child can read
shared_secrets = keyring_session.shared_secrets


@pytest.fixture
def mastodon() -> Iterator[Mastodon]:
    with Mastodon() as server:
        yield server


@pytest.fixture
def connected(
    db_path: Path, shared_secrets: SecretStore, mastodon: Mastodon
) -> Iterator[AccountView]:
    """A Mastodon account connected the way the accounts dialog does it (verify, keyring, row)."""
    with httpx.Client(timeout=5.0) as http:
        service = AccountService(shared_secrets, http=http)
        yield service.add_account(Network.MASTODON, mastodon.base_url, "", {"access_token": TOKEN})


def test_sync_command_stores_mentions_and_prints_a_summary(
    data_dir: Path,
    secret_service: PrivateSecretService,
    mastodon: Mastodon,
    connected: AccountView,
) -> None:
    mastodon.add_conversations(130)

    done = run_kindly(data_dir, secret_service.env, "sync")

    assert done.returncode == 0, done.stdout + done.stderr
    cases = Case.select().count()
    assert done.stdout.splitlines() == [
        f"{connected.label}: 130 new mention(s), {cases} new case(s), 0 reopened"
    ]
    assert connected.label == f"Mastodon kindlytrust@{mastodon.host}"
    assert sorted(stored_ids(connected.id)) == sorted(mastodon.mention_ids())
    assert cursor_of(connected.id) == mastodon.newest_notification()
    row = Account.get_by_id(connected.id)
    assert row.last_sync_at is not None and row.last_error is None
    assert check_store().sound

    again = run_kindly(data_dir, secret_service.env, "sync")
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.splitlines() == [
        f"{connected.label}: 0 new mention(s), 0 new case(s), 0 reopened"
    ]
    assert Mention.select().count() == 130


def test_sync_command_exits_1_and_says_reconnect_when_the_token_is_refused(
    data_dir: Path,
    secret_service: PrivateSecretService,
    mastodon: Mastodon,
    connected: AccountView,
) -> None:
    mastodon.add_conversations(5)
    mastodon.revoke_tokens()

    done = run_kindly(data_dir, secret_service.env, "sync")

    assert done.returncode == 1, done.stdout + done.stderr
    [line] = done.stdout.splitlines()
    assert line.startswith(f"{connected.label}: failed: Mastodon no longer accepts")
    assert line.endswith("(reconnect this account)")
    assert "Traceback" not in done.stderr
    row = Account.get_by_id(connected.id)
    assert row.last_error and "Reconnect" in row.last_error
    assert row.last_sync_at is None
    assert Mention.select().count() == 0


def test_sync_command_says_reconnect_when_the_keyring_lost_the_secret(
    data_dir: Path,
    secret_service: PrivateSecretService,
    shared_secrets: SecretStore,
    mastodon: Mastodon,
    connected: AccountView,
) -> None:
    shared_secrets.delete(connected.keyring_ref)

    done = run_kindly(data_dir, secret_service.env, "sync")

    assert done.returncode == 1, done.stdout + done.stderr
    assert "no saved sign-in" in done.stdout and "(reconnect this account)" in done.stdout
    assert mastodon.calls("GET", Mastodon.NOTIFICATIONS) == []
