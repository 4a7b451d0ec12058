"""``kindly accounts …`` through ``register``/``run``, with the real Mastodon client and a fake."""

from __future__ import annotations

import argparse
import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from keyring.backends import fail

from app.core import cli_accounts
from app.core.accounts import AccountService
from app.core.secrets import MemoryKeyring, SecretStore
from app.storage.models import Account
from tests.core.test_accounts import MASTODON_TOKEN, FakeMastodon


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(scope="module")
def mastodon_server() -> Iterator[FakeMastodon]:
    with FakeMastodon() as server:
        yield server


@pytest.fixture
def mastodon(mastodon_server: FakeMastodon) -> FakeMastodon:
    mastodon_server.reset()
    return mastodon_server


@pytest.fixture
def keyring_backend() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def service(db_path: Path, keyring_backend: MemoryKeyring) -> Iterator[AccountService]:
    with httpx.Client(timeout=5.0) as http:
        yield AccountService(SecretStore(keyring_backend), http)


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="kindly")
    cli_accounts.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["accounts", *argv])


def run(
    service: AccountService, *argv: str, stdin: io.StringIO | None = None, **kw: object
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli_accounts.run(
        parse(*argv),
        service=service,
        stdin=stdin or io.StringIO(""),
        stdout=out,
        stderr=err,
        **kw,  # type: ignore[arg-type]
    )
    return code, out.getvalue(), err.getvalue()


def add_args(mastodon: FakeMastodon) -> list[str]:
    return ["add", "mastodon", "--base-url", mastodon.base_url, "--handle", "kindlytrust"]


def test_add_reads_the_secret_from_a_pipe(
    service: AccountService, mastodon: FakeMastodon, keyring_backend: MemoryKeyring
) -> None:
    code, out, err = run(service, *add_args(mastodon), stdin=io.StringIO(MASTODON_TOKEN + "\n"))
    assert code == 0, err
    assert "Connected Mastodon account kindlytrust@" in out and "In-memory" in out
    assert MASTODON_TOKEN not in out + err
    (account,) = service.list_accounts()
    assert service.store.get(account.keyring_ref) == {"access_token": MASTODON_TOKEN}


def test_add_asks_hidden_on_a_terminal(service: AccountService, mastodon: FakeMastodon) -> None:
    prompts: list[str] = []

    def fake_getpass(prompt: str) -> str:
        prompts.append(prompt)
        return MASTODON_TOKEN

    code, out, err = run(service, *add_args(mastodon), stdin=Terminal(), prompt_secret=fake_getpass)
    assert code == 0, err
    assert prompts == ["Access token: "]
    assert "Preferences → Development" in err  # where to get one
    assert MASTODON_TOKEN not in out + err


def test_no_option_takes_a_secret() -> None:
    parser = argparse.ArgumentParser(prog="kindly")
    accounts = cli_accounts.register(parser.add_subparsers(dest="command"))
    sub = next(a for a in accounts._actions if isinstance(a, argparse._SubParsersAction))
    options = [
        opt
        for command in sub.choices.values()
        for action in command._actions
        for opt in action.option_strings
    ]
    assert options and not [o for o in options if any(w in o for w in ("token", "pass", "secr"))]
    with pytest.raises(SystemExit):
        parser.parse_args(["accounts", "add", "mastodon", "--access-token", MASTODON_TOKEN])


def test_missing_input_is_a_usage_error(service: AccountService, mastodon: FakeMastodon) -> None:
    code, _, err = run(service, *add_args(mastodon), stdin=io.StringIO(""))
    assert code == cli_accounts.EXIT_USAGE
    assert "Access token" in err
    assert mastodon.requests == []


def test_refused_credentials_exit_1_and_store_nothing(
    service: AccountService, mastodon: FakeMastodon, keyring_backend: MemoryKeyring
) -> None:
    code, out, err = run(service, *add_args(mastodon), stdin=io.StringIO("wrong-token\n"))
    assert code == cli_accounts.EXIT_FAILED
    assert "Not connected: Mastodon no longer accepts" in err
    assert "wrong-token" not in out + err
    assert len(keyring_backend) == 0 and Account.select().count() == 0


def test_without_a_keyring_explains_and_reads_no_secret(
    db_path: Path, mastodon: FakeMastodon
) -> None:
    stdin = io.StringIO(MASTODON_TOKEN + "\n")
    with httpx.Client() as http:
        service = AccountService(SecretStore(fail.Keyring()), http)
        code, out, err = run(service, *add_args(mastodon), stdin=stdin)
        assert code == cli_accounts.EXIT_NO_KEYRING
        assert "secure keyring" in err and "anywhere else" in err
        assert stdin.tell() == 0  # the secret was not even read
        assert mastodon.requests == []

        code, out, err = run(service, "keyring")
        assert code == cli_accounts.EXIT_NO_KEYRING
        assert "fail" in out and "secure store: no" in out and "anywhere else" in err

        code, out, err = run(service, "list")
        assert code == 0 and "Warning:" in err and "No accounts connected" in out


def test_list_and_remove(
    service: AccountService, mastodon: FakeMastodon, keyring_backend: MemoryKeyring
) -> None:
    code, out, _ = run(service, "list")
    assert code == 0 and "No accounts connected" in out
    run(service, *add_args(mastodon), stdin=io.StringIO(MASTODON_TOKEN + "\n"))
    (account,) = service.list_accounts()
    service.mark_error(account.id, "Mastodon is having trouble (HTTP 503).")

    code, out, _ = run(service, "list")
    assert code == 0
    assert "Secrets are kept in: In-memory" in out
    row = next(line for line in out.splitlines() if line.startswith(str(account.id)))
    assert "mastodon" in row and "never" in row and "error: Mastodon is having trouble" in row
    assert MASTODON_TOKEN not in out

    code, out, err = run(service, "remove", str(account.id))
    assert code == 0, err
    assert "deleted its secret" in out
    assert len(keyring_backend) == 0 and service.list_accounts() == []

    code, _, err = run(service, "remove", str(account.id))
    assert code == cli_accounts.EXIT_FAILED and "no account number" in err


def test_x_optional_fields_may_be_left_empty(
    service: AccountService, keyring_backend: MemoryKeyring
) -> None:
    from tests.fakes.x import FakeX

    with FakeX() as x:
        code, _, err = run(
            service,
            "add",
            "x",
            "--base-url",
            x.base_url,
            stdin=io.StringIO("x-test-token\n\n\n"),
        )
    assert code == 0, err
    (account,) = service.list_accounts()
    assert service.store.get(account.keyring_ref) == {"access_token": "x-test-token"}


def test_demo_uses_the_memory_keyring(db_path: Path) -> None:
    args = parse("keyring")
    args.demo = True
    out = io.StringIO()
    assert cli_accounts.run(args, stdout=out, stderr=io.StringIO()) == 0
    assert "In-memory" in out.getvalue()
