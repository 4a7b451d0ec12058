"""``kindly --self-test``: passes on a working setup, fails clearly without a keyring.

In process with explicit backends (memory, fail), then ``python main.py --self-test`` as a
child process: on the private Secret Service (what CI does with the frozen app), and with
keyring's fail backend forced, with and without ``--allow-no-keyring``.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from keyring.backends import fail

from app.core.secrets import MemoryKeyring
from app.storage.models import database
from app.ui.self_test import check_icon, run_self_test
from tests.helpers import keyring_session

secret_service = keyring_session.secret_service

ROOT = Path(__file__).resolve().parents[2]
CHECKS = ("resources", "icon", "database", "window", "keyring", "sentiment", "log file")


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    """A log file with a handler on it, as main.py's setup_logging leaves one."""
    import logging

    path = tmp_path / "logs" / "kindly.log"
    path.parent.mkdir()
    handler = logging.FileHandler(path, encoding="utf-8")
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield path
    root.removeHandler(handler)
    handler.close()
    root.setLevel(level)


def test_self_test_passes_with_an_in_memory_keyring(qtbot, log_file: Path) -> None:
    backend = MemoryKeyring()
    out = io.StringIO()
    code = run_self_test(log_file, keyring_backend=backend, out=out)
    report = out.getvalue()
    assert code == 0, report
    for name in CHECKS:
        assert f"ok       {name}" in report
    assert "In-memory" in report
    assert "Kindly's self-test passed." in report
    assert "exit code 0" in report
    assert len(backend) == 0
    assert database.obj is None or database.is_closed()  # nothing left open
    assert "self-test report" in log_file.read_text("utf-8")


def test_self_test_fails_with_exit_3_and_says_why_on_the_fail_backend(
    qtbot, log_file: Path
) -> None:
    out = io.StringIO()
    code = run_self_test(log_file, keyring_backend=fail.Keyring(), out=out)
    report = out.getvalue()
    assert code == 3
    assert "missing  keyring" in report
    assert "none found (keyring's fail backend)" in report
    assert "FAILED: this computer has no usable keyring" in report
    assert "ok       window" in report  # the rest was still checked
    assert "FAILED" in log_file.read_text("utf-8")


def test_allow_no_keyring_lets_ci_without_a_secret_service_pass(qtbot, log_file: Path) -> None:
    out = io.StringIO()
    code = run_self_test(log_file, keyring_backend=fail.Keyring(), out=out, allow_no_keyring=True)
    assert code == 0
    assert "skipped  keyring" in out.getvalue()


def test_icon_check_renders_the_svg(qtbot) -> None:
    check = check_icon()
    assert check.passed, check.detail


# -- main.py --self-test, as a person (or CI) runs it ------------------------------------------


def _run_main(env: dict[str, str], data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**env, "QT_QPA_PLATFORM": "", "PYTHONPATH": str(ROOT)}  # the self-test forces it
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--self-test", "--data-dir", str(data_dir), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


@pytest.mark.keyring
def test_main_self_test_uses_the_secret_service(
    secret_service: keyring_session.PrivateSecretService, tmp_path: Path
) -> None:
    result = _run_main(secret_service.env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[keyring.backends.SecretService.Keyring]" in result.stdout
    assert "Qt 6" in result.stdout and "(offscreen)" in result.stdout
    assert (tmp_path / "logs" / "kindly.log").stat().st_size > 0


def test_main_self_test_without_a_keyring(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    result = _run_main(env, tmp_path)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "no usable keyring" in result.stdout
    allowed = _run_main(env, tmp_path, "--allow-no-keyring")
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
