"""A private, throw-away Secret Service for the whole test session, and the backends to test.

When ``dbus-daemon`` and ``gnome-keyring-daemon`` are installed (Linux), the session starts its
own D-Bus session bus and an unlocked gnome-keyring on it, in a temporary directory, so plain
``pytest`` exercises the real Secret Service backend; it never touches the user's own keyring.
Tests get the bus address through ``DBUS_SESSION_BUS_ADDRESS`` for their own duration only.
Elsewhere the real-backend tests are skipped with the reason; set KINDLY_REQUIRE_REAL_KEYRING=1
(CI) to make a machine that should run them fail instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend

from app.core.secrets import MemoryKeyring

BUS_TOOLS = ("dbus-daemon", "gnome-keyring-daemon")
START_TIMEOUT = 10.0


@dataclass(frozen=True)
class PrivateSecretService:
    address: str  # the private bus, for DBUS_SESSION_BUS_ADDRESS
    env: dict[str, str]  # a whole environment for subprocesses that should use it


def unavailable_reason() -> str | None:
    if not sys.platform.startswith("linux"):
        return f"a private Secret Service needs Linux (this is {sys.platform})"
    missing = [tool for tool in BUS_TOOLS if shutil.which(tool) is None]
    if missing:
        return (
            f"{' and '.join(missing)} not installed "
            "(apt-get install gnome-keyring dbus-daemon dbus-bin)"
        )
    return None


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("KINDLY_REQUIRE_REAL_KEYRING"):
        pytest.fail(f"real keyring required but unavailable: {reason}")
    pytest.skip(f"no real Secret Service: {reason}")


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def _service_ready(address: str) -> bool:
    from jeepney.bus_messages import message_bus
    from jeepney.io.blocking import Proxy, open_dbus_connection
    from secretstorage.util import BUS_NAME, SERVICE_IFACE, SS_PATH, DBusAddressWrapper

    try:
        with open_dbus_connection(address) as connection:
            # Only once our daemon owns the name: a call to it before then makes the bus start
            # another gnome-keyring (the name is activatable), and ours exits with "another
            # secret service is running" (seen in CI). secretstorage's check_service_availability
            # also says yes to a name that is only activatable, so it is not used here.
            if Proxy(message_bus, connection).NameHasOwner(BUS_NAME)[0] != 1:
                return False
            # gnome-keyring answers before --unlock has made the login keyring; a secret
            # written in that gap fails with "Prompt dismissed". Wait for the default alias.
            service = DBusAddressWrapper(SS_PATH, SERVICE_IFACE, connection)
            return bool(service.call("ReadAlias", "s", "default")[0] != "/")
    except Exception:
        return False


def _log_tail(path: Path) -> str:
    try:
        return path.read_text(errors="replace").strip()[-400:]
    except OSError:
        return ""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark what needs the real Secret Service, so ``-m "not keyring"`` can leave it out."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        real = callspec is not None and callspec.params.get("any_backend") == "secret_service"
        if real or "secret_service" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.keyring)


@pytest.fixture(scope="session")
def secret_service() -> Iterator[PrivateSecretService]:
    """Start ``dbus-daemon`` and ``gnome-keyring-daemon --unlock`` privately; stop both after."""
    reason = unavailable_reason()
    if reason:
        _skip_or_fail(reason)
    # short path: a unix socket path must stay under ~100 bytes, pytest's basetemp may not
    root = Path(tempfile.mkdtemp(prefix="kindly-kr-"))
    dirs = {name: root / name for name in ("run", "data", "cache", "config", "home")}
    for folder in dirs.values():
        folder.mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(
        XDG_RUNTIME_DIR=str(dirs["run"]),
        XDG_DATA_HOME=str(dirs["data"]),
        XDG_CACHE_HOME=str(dirs["cache"]),
        XDG_CONFIG_HOME=str(dirs["config"]),
        HOME=str(dirs["home"]),
    )
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    log_path = root / "daemons.log"
    bus: subprocess.Popen[bytes] | None = None
    keyring_daemon: subprocess.Popen[bytes] | None = None
    try:
        with log_path.open("ab") as log:
            bus = subprocess.Popen(
                [
                    "dbus-daemon",
                    "--session",
                    "--nofork",
                    "--nopidfile",
                    "--print-address=1",
                    f"--address=unix:path={root / 'bus'}",
                ],
                stdout=subprocess.PIPE,
                stderr=log,
                stdin=subprocess.DEVNULL,
                env=env,
            )
            assert bus.stdout is not None
            address = bus.stdout.readline().decode().strip()
            bus.stdout.close()
            if not address:
                _skip_or_fail(f"dbus-daemon did not start: {_log_tail(log_path)}")
            env["DBUS_SESSION_BUS_ADDRESS"] = address
            keyring_daemon = subprocess.Popen(
                ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=log,
                env=env,
            )
            assert keyring_daemon.stdin is not None
            keyring_daemon.stdin.write(b"throw-away")  # the password of the temporary keyring
            keyring_daemon.stdin.close()
        deadline = time.monotonic() + START_TIMEOUT
        while not _service_ready(address):
            if keyring_daemon.poll() is not None or time.monotonic() > deadline:
                _skip_or_fail(f"gnome-keyring-daemon did not start: {_log_tail(log_path)}")
            time.sleep(0.05)
        yield PrivateSecretService(address, env)
    finally:
        _stop(keyring_daemon)
        _stop(bus)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def real_keyring(
    secret_service: PrivateSecretService, monkeypatch: pytest.MonkeyPatch
) -> KeyringBackend:
    """keyring's Secret Service backend, talking to the private daemon for this test."""
    from keyring.backends import SecretService

    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", secret_service.address)
    return SecretService.Keyring()


@pytest.fixture(params=["memory", "secret_service"])
def any_backend(request: pytest.FixtureRequest) -> KeyringBackend:
    """Each test using this runs on the in-memory backend everywhere, and on the real one here."""
    if request.param == "memory":
        return MemoryKeyring()
    backend: KeyringBackend = request.getfixturevalue("real_keyring")
    return backend
