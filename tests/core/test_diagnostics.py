"""The self-test's checks without Qt: keyring, database, resources, lexicons, log, verdict."""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from keyring.backends import fail

from app.core import diagnostics
from app.core.diagnostics import Check, Outcome
from app.core.logs import setup_logging
from app.core.secrets import SERVICE, MemoryKeyring, SecretStore
from app.storage.db import close_database
from app.storage.migrations import HEAD
from app.storage.models import database
from tests.helpers import keyring_session

secret_service = keyring_session.secret_service
shared_secrets = keyring_session.shared_secrets

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def closed_database() -> Iterator[None]:
    yield
    close_database()


# -- keyring --------------------------------------------------------------------------------


def test_keyring_check_writes_reads_and_deletes_a_throw_away_secret() -> None:
    backend = MemoryKeyring()
    calls: list[tuple[str, str]] = []
    original = backend.set_password

    def spy(service: str, username: str, password: str) -> None:
        calls.append((service, username))
        original(service, username, password)

    backend.set_password = spy  # type: ignore[method-assign]
    check = diagnostics.check_keyring(SecretStore(backend))
    assert check.outcome is Outcome.PASSED
    assert "In-memory" in check.detail and "app.core.secrets.MemoryKeyring" in check.detail
    assert len(backend) == 0  # nothing left behind
    [(service, ref)] = calls
    assert service == SERVICE
    assert ref.startswith("kindly:selftest:")  # never an account's reference


def test_keyring_check_reports_the_fail_backend_as_missing_with_the_fix() -> None:
    check = diagnostics.check_keyring(SecretStore(fail.Keyring()))
    assert check.outcome is Outcome.UNAVAILABLE
    assert not check.passed
    assert "secure keyring" in check.detail
    assert "fail backend" in check.detail


def test_keyring_check_fails_when_a_usable_keyring_breaks() -> None:
    backend = MemoryKeyring()

    def broken(service: str, username: str, password: str) -> None:
        raise RuntimeError("D-Bus said no")

    backend.set_password = broken  # type: ignore[method-assign]
    check = diagnostics.check_keyring(SecretStore(backend))
    assert check.outcome is Outcome.FAILED
    assert "D-Bus said no" in check.detail


def test_keyring_check_fails_and_cleans_up_when_the_value_comes_back_different() -> None:
    backend = MemoryKeyring()
    original = backend.get_password

    def garbled(service: str, username: str) -> str | None:
        value = original(service, username)
        return value.replace("self_test", "other") if value else value

    backend.get_password = garbled  # type: ignore[method-assign]
    check = diagnostics.check_keyring(SecretStore(backend))
    assert check.outcome is Outcome.FAILED
    assert "different value" in check.detail
    assert len(backend) == 0


@pytest.mark.keyring
def test_keyring_check_passes_on_a_real_secret_service(shared_secrets: SecretStore) -> None:
    check = diagnostics.check_keyring(shared_secrets)
    assert check.outcome is Outcome.PASSED, check.detail
    assert "keyring.backends.SecretService.Keyring" in check.detail


# -- database -------------------------------------------------------------------------------


def test_database_check_creates_migrates_and_queries_the_demo(
    tmp_path: Path, closed_database: None
) -> None:
    check = diagnostics.check_database(tmp_path)
    assert check.outcome is Outcome.PASSED, check.detail
    assert f"schema 0 → {HEAD}" in check.detail
    assert "quick_check ok" in check.detail
    assert not database.is_closed()  # left open for the window check
    assert (tmp_path / "demo" / "kindly-demo.sqlite3").exists()


def test_database_check_fails_clearly_on_a_damaged_file(
    tmp_path: Path, closed_database: None
) -> None:
    path = tmp_path / "demo" / "kindly-demo.sqlite3"
    path.parent.mkdir()
    path.write_bytes(b"not a database at all " * 100)
    check = diagnostics.check_database(tmp_path)
    assert check.outcome is Outcome.FAILED
    assert str(path) in check.detail
    assert "not changed" in check.detail  # the storage layer's own explanation


# -- files ----------------------------------------------------------------------------------


def test_resources_check_passes_on_the_real_resources() -> None:
    assert diagnostics.check_resources().outcome is Outcome.PASSED


def test_resources_check_names_what_is_missing(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "starter.json").write_text("{broken", "utf-8")
    check = diagnostics.check_resources(tmp_path)
    assert check.outcome is Outcome.FAILED
    assert "templates/starter.json (JSONDecodeError)" in check.detail
    assert "icons/kindly.svg" in check.detail


def test_sentiment_check_loads_both_lexicons() -> None:
    check = diagnostics.check_sentiment()
    assert check.outcome is Outcome.PASSED, check.detail
    assert "emoji" in check.detail


@pytest.fixture
def kindly_logging(tmp_path: Path) -> Iterator[Path]:
    root = logging.getLogger()
    level = root.level
    yield setup_logging(tmp_path, to_stderr=False)
    for handler in list(root.handlers):
        if getattr(handler, "_kindly", False):
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def test_log_file_check_sees_the_rotating_log(kindly_logging: Path, tmp_path: Path) -> None:
    assert kindly_logging == tmp_path / "logs" / "kindly.log"
    check = diagnostics.check_log_file(kindly_logging)
    assert check.outcome is Outcome.PASSED
    assert "self-test" in kindly_logging.read_text("utf-8")


def test_log_file_check_fails_without_the_file(tmp_path: Path) -> None:
    check = diagnostics.check_log_file(tmp_path / "logs" / "kindly.log")
    assert check.outcome is Outcome.FAILED


def test_version_comes_from_pyproject() -> None:
    wanted = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"]
    assert diagnostics.app_version() == wanted
    assert f"Kindly {wanted} (from source)" in diagnostics.describe_environment()


# -- the verdict ----------------------------------------------------------------------------

OK = Check("database", Outcome.PASSED, "fine")
NO_KEYRING = Check("keyring", Outcome.UNAVAILABLE, "no keyring: install one")
BROKEN_KEYRING = Check("keyring", Outcome.FAILED, "locked")
BAD_DATABASE = Check("database", Outcome.FAILED, "damaged")


def test_everything_passing_exits_0() -> None:
    checks = [OK, Check("keyring", Outcome.PASSED, "Secret Service")]
    assert diagnostics.exit_code(checks) == 0
    assert diagnostics.summary(checks) == "Kindly's self-test passed."


def test_a_missing_keyring_exits_3_with_a_clear_sentence() -> None:
    checks = diagnostics.settle([OK, NO_KEYRING])
    assert diagnostics.exit_code(checks) == diagnostics.EXIT_NO_KEYRING == 3
    text = diagnostics.format_report(checks, "header")
    assert "missing  keyring" in text
    assert "no usable keyring" in text and "FAILED" in text


def test_allow_no_keyring_accepts_a_missing_keyring_only() -> None:
    allowed = diagnostics.settle([OK, NO_KEYRING], allow_no_keyring=True)
    assert [c.outcome for c in allowed] == [Outcome.PASSED, Outcome.SKIPPED]
    assert "--allow-no-keyring" in allowed[1].detail
    assert diagnostics.exit_code(allowed) == 0
    broken = diagnostics.settle([OK, BROKEN_KEYRING], allow_no_keyring=True)
    assert diagnostics.exit_code(broken) == 3
    assert "did not work" in diagnostics.summary(broken)


def test_any_other_failure_exits_1_and_is_named() -> None:
    checks = diagnostics.settle([BAD_DATABASE, NO_KEYRING], allow_no_keyring=True)
    assert diagnostics.exit_code(checks) == diagnostics.EXIT_FAILED == 1
    assert diagnostics.exit_code([BAD_DATABASE, NO_KEYRING]) == 1
    assert "FAILED (database)" in diagnostics.summary(checks)
