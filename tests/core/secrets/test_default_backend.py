"""Which backend ``SecretStore()`` picks on its own, checked in fresh processes.

keyring chooses (and caches) its backend once per process from the environment, so each case
runs in a subprocess with exactly the environment it describes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.core.secrets.conftest import PrivateSecretService

ROOT = Path(__file__).resolve().parents[3]

PROBE = """
import json, logging, sys
logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(message)s")
from app.core.secrets import SecretStore
info = SecretStore().backend_info()
print(json.dumps([info.name, info.backend_id, info.is_secure, info.explanation_if_unusable]))
"""


def probe(env: dict[str, str]) -> tuple[list[Any], str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(done.stdout), done.stderr


def bare_env(tmp_path: Path) -> dict[str, str]:
    """No session bus, no keyring configuration: a headless Linux box or a broken session."""
    keep = ("PATH", "LANG", "LC_ALL", "SYSTEMROOT")
    env = {k: v for k, v in os.environ.items() if k in keep}
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), APPDATA=str(home))
    return env


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's no-session case")
def test_without_a_secret_service_the_fail_backend_is_refused_with_a_fix(tmp_path: Path) -> None:
    (name, ident, secure, explanation), log = probe(bare_env(tmp_path))
    assert ident == "keyring.backends.fail.Keyring"
    assert not secure
    assert explanation and "gnome-keyring" in explanation and "KeePassXC" in explanation
    assert f"keyring backend: {name}" in log and "refused" in log


def test_a_forced_null_backend_is_refused_and_the_setting_named(tmp_path: Path) -> None:
    env = bare_env(tmp_path) | {"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    (_, ident, secure, explanation), _ = probe(env)
    assert ident == "keyring.backends.null.Keyring" and not secure
    assert explanation and "PYTHON_KEYRING_BACKEND" in explanation


def test_a_forced_backend_that_cannot_load_is_refused_not_crashed(tmp_path: Path) -> None:
    env = bare_env(tmp_path) | {"PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"}
    (_, ident, secure, explanation), _ = probe(env)
    assert ident == "none" and not secure
    assert explanation and "ModuleNotFoundError" in explanation


def test_with_a_secret_service_it_is_chosen_and_secure(
    secret_service: PrivateSecretService,
) -> None:
    (name, ident, secure, explanation), log = probe(secret_service.env)
    assert ident == "keyring.backends.SecretService.Keyring"
    assert secure and explanation is None
    assert f"INFO keyring backend: {name}" in log
