"""Account secrets live in the operating system's keyring and nowhere else.

The database keeps only a reference (``Account.keyring_ref``, e.g. ``kindly:mastodon:<uuid>``);
the secret itself is a small JSON object stored under the service name ``Kindly``. Kindly uses
the OS's own secure store (Secret Service, KWallet, macOS Keychain, Windows Credential Manager)
and refuses every other backend (fail, null, plaintext files, a chainer of those) with an
explanation of how to fix the machine, instead of quietly keeping the secret somewhere weaker.
The in-memory backend (tests, ``--demo``) is the one exception: it must be chosen explicitly
and forgets everything when the process ends.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import keyring
import keyring.core
from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked, NoKeyringError, PasswordDeleteError

from app.core.vocab import Network

log = logging.getLogger(__name__)

SERVICE = "Kindly"

# Windows Credential Manager holds at most 2,560 bytes (UTF-16: 1,280 characters) per entry;
# longer secrets (long JWT pairs) are split into parts that each stay well below that.
MAX_ENTRY_CHARS = 1000
_PARTS_KEY = "kindly_parts"

_REF_RE = re.compile(r"^kindly:(?P<network>[a-z]+):(?P<id>[0-9a-f]{32})$")

# The OS's own secure stores, by exact class (a subclass could store anywhere).
_SECURE_BACKENDS: dict[str, str] = {
    "keyring.backends.SecretService.Keyring": "Secret Service (GNOME Keyring, KWallet, KeePassXC)",
    "keyring.backends.libsecret.Keyring": "Secret Service (libsecret)",
    "keyring.backends.kwallet.DBusKeyring": "KDE Wallet",
    "keyring.backends.kwallet.DBusKeyringKWallet4": "KDE Wallet 4",
    "keyring.backends.macOS.Keyring": "macOS Keychain",
    "keyring.backends.Windows.WinVaultKeyring": "Windows Credential Manager",
}
_MEMORY_BACKEND = "app.core.secrets.MemoryKeyring"


class SecretStoreError(Exception):
    """A keyring operation failed; ``user_message`` says what happened (never the secret)."""

    def __init__(self, user_message: str, detail: str = "") -> None:
        super().__init__(detail or user_message)
        self.user_message = user_message


class KeyringUnavailable(SecretStoreError):
    """No usable secure keyring: ``user_message`` explains how to fix this computer."""


class SecretDamaged(SecretStoreError):
    """The keyring entry exists but cannot be read back: the account must be reconnected."""


class MemoryKeyring(KeyringBackend):
    """Secrets in this process's memory only: for tests and ``--demo``.

    Priority -1 (below keyring's fail backend) so keyring never picks it on its own.
    """

    priority = -1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._items: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def get_password(self, service: str, username: str) -> str | None:
        with self._lock:
            return self._items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        with self._lock:
            self._items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        with self._lock:
            if self._items.pop((service, username), None) is None:
                raise PasswordDeleteError("No such password")

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


@dataclass(frozen=True, slots=True)
class BackendInfo:
    """What the accounts dialog shows about where secrets go."""

    name: str  # for people, e.g. "Windows Credential Manager"
    backend_id: str  # module.Class, for logs and bug reports
    is_secure: bool  # the operating system's own secure store
    explanation_if_unusable: str | None  # None: Kindly can store secrets with it

    @property
    def usable(self) -> bool:
        return self.explanation_if_unusable is None


def backend_id(backend: KeyringBackend) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def new_reference(network: Network) -> str:
    """A fresh reference for one account's secret; it names the secret and reveals nothing."""
    return f"kindly:{Network(network).value}:{uuid.uuid4().hex}"


def check_reference(ref: str) -> str:
    if not _REF_RE.match(ref):
        raise ValueError(f"not a Kindly keyring reference: {ref!r}")
    return ref


def describe_backend(backend: KeyringBackend | None, load_error: str = "") -> BackendInfo:
    """Classify a keyring backend: the OS's secure store, the explicit memory store, or refused.

    A chainer is judged by the first backend it would write to (see ``_writable``).
    """
    if backend is None:
        return BackendInfo(
            "no keyring", "none", False, unusable_explanation("no keyring", load_error)
        )
    ident = backend_id(backend)
    if ident == _MEMORY_BACKEND:
        return BackendInfo("In-memory (forgotten when Kindly quits)", ident, False, None)
    if ident in _SECURE_BACKENDS:
        return BackendInfo(_SECURE_BACKENDS[ident], ident, True, None)
    if ident == "keyring.backends.chainer.ChainerBackend":
        target = _writable(backend)
        if target is not None:
            inner = describe_backend(target)
            return BackendInfo(inner.name, backend_id(target), inner.is_secure, None)
        chained = ", ".join(backend_id(b) for b in _chained(backend)) or "nothing"
        name = f"keyring chainer ({chained})"
        return BackendInfo(name, ident, False, unusable_explanation(name, load_error))
    name = _refused_name(ident)
    return BackendInfo(name, ident, False, unusable_explanation(name, load_error))


def _refused_name(ident: str) -> str:
    if ident == "keyring.backends.fail.Keyring":
        return "none found (keyring's fail backend)"
    if ident == "keyring.backends.null.Keyring":
        return "keyring disabled (null backend)"
    if ident.startswith("keyrings.alt.") or "plaintext" in ident.lower():
        return f"plain file on disk ({ident})"
    return ident


def _chained(backend: KeyringBackend) -> list[KeyringBackend]:
    try:
        return list(getattr(backend, "backends", []))
    except Exception:  # a backend's viability check may raise anything
        return []


def _writable(backend: KeyringBackend) -> KeyringBackend | None:
    """The chained backend a chainer writes to, if it is a secure one; else None.

    keyring's chainer writes to its highest-priority backend; Kindly talks to that backend
    directly so a weaker one further down the chain can never receive a secret.
    """
    chained = _chained(backend)
    if chained and backend_id(chained[0]) in _SECURE_BACKENDS:
        return chained[0]
    return None


def _override_note() -> str:
    """Point at keyring settings that force a backend, the usual cause of a refused one."""
    notes = []
    if os.environ.get("PYTHON_KEYRING_BACKEND"):
        notes.append(
            "The environment variable PYTHON_KEYRING_BACKEND chooses the keyring "
            f"({os.environ['PYTHON_KEYRING_BACKEND']}); remove it so the system's keyring is used."
        )
    try:
        config = Path(keyring.core._config_path())  # type: ignore[no-untyped-call]
    except Exception:  # platform quirks: the note is only a hint
        config = None
    if config is not None and config.exists():
        notes.append(
            f"The file {config} may choose the keyring; remove its default-keyring line "
            "so the system's keyring is used."
        )
    return " ".join(notes)


def unusable_explanation(name: str, load_error: str = "", platform: str | None = None) -> str:
    """How to give Kindly a secure keyring on this operating system (shown to the user)."""
    platform = platform or sys.platform
    head = (
        "Kindly keeps account passwords and tokens only in your computer's secure keyring, "
        f"and it cannot use the one available here ({name}). "
    )
    if load_error:
        head += f"(keyring said: {load_error}) "
    if platform == "darwin":
        fix = (
            "Kindly uses the macOS Keychain. Run Kindly from your own logged-in desktop session "
            "(not over SSH or as another user) and make sure your login keychain is unlocked "
            "(Keychain Access → File → Unlock Keychain “login”), then try again."
        )
    elif platform.startswith("win"):
        fix = (
            "Kindly uses Windows Credential Manager. Run Kindly as your own signed-in user "
            "(not as a service or with a restricted or temporary profile) and check that "
            "Control Panel → Credential Manager opens, then try again."
        )
    else:
        fix = (
            "On Linux, Kindly needs a Secret Service keyring running in your desktop session. "
            "Either install GNOME Keyring (for example `sudo apt install gnome-keyring`, or "
            "`sudo dnf install gnome-keyring`) and log out and back in so it starts with your "
            "session; or on KDE Plasma enable KDE Wallet (System Settings → KDE Wallet); or in "
            "KeePassXC turn on Settings → Secret Service Integration and keep the database "
            "unlocked. Then try again."
        )
    tail = " Kindly will not store your credentials anywhere else in the meantime."
    note = _override_note()
    return head + fix + (" " + note if note else "") + tail


class SecretStore:
    """Get, set and delete one account's secret (a JSON object of strings) by reference.

    ``backend=None`` uses the backend keyring chooses for this machine (configuration,
    environment, then the highest priority); tests and ``--demo`` pass one explicitly.
    """

    def __init__(self, backend: KeyringBackend | None = None, service: str = SERVICE) -> None:
        load_error = ""
        if backend is None:
            try:
                backend = keyring.get_keyring()
            except Exception as exc:  # a configured backend that cannot load raises anything
                load_error = f"{type(exc).__name__}: {exc}"
                backend = None
        self.service = service
        self._configured = backend
        self._info = describe_backend(backend, load_error)
        target = backend
        if backend is not None and backend_id(backend) == "keyring.backends.chainer.ChainerBackend":
            target = _writable(backend)
        self._backend = target if self._info.usable else None
        self._lock = threading.RLock()
        log.info(
            "keyring backend: %s [%s]%s",
            self._info.name,
            self._info.backend_id,
            "" if self._info.usable else " (refused: no secure keyring)",
        )

    # -- which backend ----------------------------------------------------------------------

    def backend_info(self) -> BackendInfo:
        return self._info

    def ensure_usable(self) -> KeyringBackend:
        """Return the backend, or raise KeyringUnavailable with the fix for this machine."""
        if self._backend is None:
            assert self._info.explanation_if_unusable is not None
            raise KeyringUnavailable(self._info.explanation_if_unusable, self._info.backend_id)
        return self._backend

    # -- secrets ----------------------------------------------------------------------------

    def get(self, ref: str) -> dict[str, str] | None:
        """The secret stored under ``ref``, or None if there is none."""
        check_reference(ref)
        backend = self.ensure_usable()
        with self._lock:
            head = self._call(backend.get_password, ref)
            if head is None:
                return None
            names = _part_names(ref, head)
            if names:
                pieces = [self._call(backend.get_password, name) for name in names]
                if any(p is None for p in pieces):
                    raise SecretDamaged(
                        "Part of this account's saved sign-in is missing from the keyring. "
                        "Reconnect the account.",
                        f"{ref}: missing part",
                    )
                head = "".join(p for p in pieces if p is not None)
        return _decode(head, ref)

    def set(self, ref: str, secret: Mapping[str, str]) -> None:
        """Store ``secret`` under ``ref``, replacing what was there.

        A long secret goes into parts under a fresh generation name and the head is written
        last, so a failure half-way leaves the previous secret whole (and no stray parts).
        """
        check_reference(ref)
        backend = self.ensure_usable()
        payload = _encode(secret)
        chunks = [payload[i : i + MAX_ENTRY_CHARS] for i in range(0, len(payload), MAX_ENTRY_CHARS)]
        with self._lock:
            old_head = self._call(backend.get_password, ref)
            old_names = _part_names(ref, old_head) if old_head is not None else []
            if len(chunks) == 1:
                self._call(backend.set_password, ref, payload, secret=(payload,))
            else:
                generation = uuid.uuid4().hex[:8]
                names = [f"{ref}#{generation}-{i}" for i in range(len(chunks))]
                written: list[str] = []
                try:
                    for name, chunk in zip(names, chunks, strict=True):
                        self._call(backend.set_password, name, chunk, secret=(payload, chunk))
                        written.append(name)
                    head = json.dumps({_PARTS_KEY: len(chunks), "gen": generation})
                    self._call(backend.set_password, ref, head, secret=(payload,))
                except SecretStoreError:
                    for name in written:
                        self._forget(backend, name)
                    raise
            for name in old_names:
                self._forget(backend, name)

    def delete(self, ref: str) -> bool:
        """Delete the secret under ``ref``; False if there was none."""
        check_reference(ref)
        backend = self.ensure_usable()
        with self._lock:
            head = self._call(backend.get_password, ref)
            existed = self._delete_one(backend, ref)
            for name in _part_names(ref, head) if head is not None else []:
                self._delete_one(backend, name)
        return existed

    # -- internals --------------------------------------------------------------------------

    def _delete_one(self, backend: KeyringBackend, username: str) -> bool:
        try:
            self._call(backend.delete_password, username)
        except SecretStoreError as exc:
            if isinstance(exc.__cause__, PasswordDeleteError):
                return False
            raise
        return True

    def _forget(self, backend: KeyringBackend, username: str) -> None:
        """Best-effort clean-up of a part; a leftover part is harmless, just untidy."""
        try:
            self._delete_one(backend, username)
        except SecretStoreError as exc:
            log.warning("keyring: could not delete part %s: %s", username, exc)

    def _call(
        self,
        method: Callable[..., object],
        username: str,
        *args: str,
        secret: tuple[str, ...] = (),
    ) -> str | None:
        """Call a backend method; turn whatever it raises into errors that carry no secret."""
        try:
            result = method(self.service, username, *args)
        except PasswordDeleteError as exc:
            raise SecretStoreError("There was no such entry in the keyring.", "not found") from exc
        except KeyringLocked as exc:
            raise SecretStoreError(
                f"The keyring ({self._info.name}) is locked. Unlock it and try again.",
                _scrub(f"{type(exc).__name__}: {exc}", secret),
            ) from exc
        except NoKeyringError as exc:
            raise KeyringUnavailable(
                unusable_explanation(self._info.name, _scrub(str(exc), secret)),
                type(exc).__name__,
            ) from exc
        except Exception as exc:  # D-Bus, Security framework or Win32 errors: keyring lets them out
            detail = _scrub(f"{type(exc).__name__}: {exc}", secret)
            raise SecretStoreError(
                f"The keyring ({self._info.name}) did not work: {detail}. "
                "Check that it is running and unlocked, then try again.",
                detail,
            ) from exc
        return result if isinstance(result, str) else None


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    """Remove the secret (whole, its JSON values, its parts) from a message that might echo it."""
    for secret in secrets:
        if not secret:
            continue
        text = text.replace(secret, "***")
        try:
            values = json.loads(secret).values()
        except (ValueError, AttributeError):
            continue
        for value in values:
            if isinstance(value, str) and len(value) >= 4:
                text = text.replace(value, "***")
    return text


def _encode(secret: Mapping[str, str]) -> str:
    if not secret:
        raise ValueError("an empty secret cannot be stored")
    if _PARTS_KEY in secret:
        raise ValueError(f"{_PARTS_KEY} is reserved")
    for key, value in secret.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError("secrets are mappings of strings to strings")
    return json.dumps(dict(secret), separators=(",", ":"), sort_keys=True)


def _decode(payload: str, ref: str) -> dict[str, str]:
    try:
        value = json.loads(payload)
    except ValueError:
        value = None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise SecretDamaged(
            "The saved sign-in for this account is damaged. Reconnect the account.",
            f"{ref}: not a JSON object of strings",
        )
    return value


def _part_names(ref: str, head: str) -> list[str]:
    """The parts a head entry points at (none for a secret stored whole)."""
    if not head.startswith('{"' + _PARTS_KEY):
        return []
    try:
        value = json.loads(head)
    except ValueError:
        return []
    count, generation = value.get(_PARTS_KEY), value.get("gen")
    if not isinstance(count, int) or not isinstance(generation, str):
        return []
    return [f"{ref}#{generation}-{i}" for i in range(max(0, count))]
