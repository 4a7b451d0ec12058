"""``kindly accounts add|list|remove|keyring``: manage accounts without the window.

Secrets are never taken from arguments (they would land in shell history and in ``ps``): they
are asked for with a hidden prompt on a terminal, or read one per line from standard input
when it is not a terminal (``printf '%s\\n' "$TOKEN" | kindly accounts add mastodon …``).
``main.py`` opens the database before calling ``run``.

Exit codes: 0 done, 1 refused or failed (the message says why), 2 wrong usage or missing
input, 3 no secure keyring on this computer.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from typing import Any, TextIO

from app.core.accounts import AccountError, AccountService, AccountView
from app.core.networks.errors import NetworkError
from app.core.networks.registry import REGISTRY, CredentialSpec
from app.core.secrets import KeyringUnavailable, MemoryKeyring, SecretStore, SecretStoreError
from app.core.vocab import Network

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NO_KEYRING = 3

Prompt = Callable[[str], str]


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``accounts`` command to ``main.py``'s subparsers; dispatch with ``run(args)``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "accounts",
        help="connect, list and remove network accounts",
        description="Connect, list and remove network accounts. Secrets are kept only in "
        "this computer's keyring.",
    )
    sub = parser.add_subparsers(dest="accounts_command", metavar="COMMAND", required=True)

    add = sub.add_parser(
        "add",
        help="connect an account (the secret is asked for, never passed as an argument)",
        description=_add_description(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add.add_argument("network", choices=[n.value for n in REGISTRY], help="which network")
    add.add_argument("--base-url", help="the server's address (default: the network's own)")
    add.add_argument("--handle", default="", help="the account's handle (Facebook: Page id)")

    sub.add_parser("list", help="list connected accounts and where their secrets are kept")
    remove = sub.add_parser("remove", help="remove an account and delete its secret")
    remove.add_argument("account_id", type=int, metavar="ID", help="the id shown by `list`")
    sub.add_parser("keyring", help="show which keyring holds the secrets, and whether it is usable")
    parser.set_defaults(run=run)
    return parser


def _add_description() -> str:
    lines = ["Connect an account. Kindly checks the credentials with the network first.", ""]
    for spec in (entry.spec for entry in REGISTRY.values()):
        server = spec.default_base_url or "--base-url required"
        needs = ", ".join(f.label + ("" if f.required else " (optional)") for f in spec.fields)
        lines.append(f"  {spec.network.value:<9} {server}; asks for: {needs}")
    lines += ["", "On a terminal the secrets are asked for hidden; otherwise they are read"]
    lines += ["from standard input, one per line, in the order above."]
    return "\n".join(lines)


def run(
    args: argparse.Namespace,
    *,
    service: AccountService | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    prompt_secret: Prompt = getpass.getpass,
) -> int:
    """Run one ``accounts`` command; returns the process exit code."""
    io = _Io(stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr, prompt_secret)
    owned = service is None
    if service is None:
        store = SecretStore(MemoryKeyring()) if getattr(args, "demo", False) else SecretStore()
        service = AccountService(store)
    try:
        command = args.accounts_command
        if command == "add":
            return _add(service, args, io)
        if command == "list":
            return _list(service, io)
        if command == "remove":
            return _remove(service, args.account_id, io)
        if command == "keyring":
            return _keyring(service, io)
        io.err(f"Unknown accounts command: {command}")
        return EXIT_USAGE
    finally:
        if owned:
            service.close()


class _Io:
    def __init__(self, stdin: TextIO, stdout: TextIO, stderr: TextIO, secret: Prompt) -> None:
        self.stdin, self.stdout, self.stderr, self.secret = stdin, stdout, stderr, secret

    def out(self, text: str) -> None:
        print(text, file=self.stdout)

    def err(self, text: str) -> None:
        print(text, file=self.stderr)

    def interactive(self) -> bool:
        try:
            return self.stdin.isatty()
        except (AttributeError, ValueError):
            return False


class _MissingInput(Exception):
    pass


def _read_credentials(spec: CredentialSpec, io: _Io) -> dict[str, str]:
    """Hidden prompts on a terminal; one line per field from a pipe. Never from arguments."""
    values: dict[str, str] = {}
    if io.interactive():
        for field in spec.fields:
            if field.help:
                io.err(f"{field.label}: {field.help}")
            label = field.label + ("" if field.required else " (Enter to skip)") + ": "
            if field.secret:
                value = io.secret(label)
            else:
                io.stderr.write(label)
                io.stderr.flush()
                value = io.stdin.readline()
            values[field.key] = value.strip()
        return values
    for field in spec.fields:
        line = io.stdin.readline()
        if not line and field.required:
            raise _MissingInput(
                f"Expected {len(spec.fields)} line(s) on standard input "
                f"({', '.join(f.label for f in spec.fields)}); got none for {field.label}."
            )
        values[field.key] = line.strip()
    return values


def _add(service: AccountService, args: argparse.Namespace, io: _Io) -> int:
    network = Network(args.network)
    spec = service.spec(network)
    try:
        service.store.ensure_usable()  # before asking for anything
    except KeyringUnavailable as exc:
        io.err(exc.user_message)
        return EXIT_NO_KEYRING
    try:
        credentials = _read_credentials(spec, io)
    except _MissingInput as exc:
        io.err(str(exc))
        return EXIT_USAGE
    except (EOFError, KeyboardInterrupt):
        io.err("Cancelled; nothing was saved.")
        return EXIT_FAILED
    where = args.base_url or spec.default_base_url or "?"
    io.err(f"Checking the credentials with {network.label} at {where} …")
    try:
        account = service.add_account(network, args.base_url, args.handle or "", credentials)
    except KeyringUnavailable as exc:
        io.err(exc.user_message)
        return EXIT_NO_KEYRING
    except (AccountError, NetworkError, SecretStoreError) as exc:
        io.err(f"Not connected: {exc.user_message}")
        return EXIT_FAILED
    io.out(
        f"Connected {account.network.label} account {account.handle} (id {account.id}). "
        f"Its secret is in {service.store.backend_info().name}."
    )
    return EXIT_OK


def _when(account: AccountView) -> str:
    if account.last_sync_at is None:
        return "never"
    return account.last_sync_at.strftime("%Y-%m-%d %H:%M UTC")


def _list(service: AccountService, io: _Io) -> int:
    info = service.store.backend_info()
    accounts = service.list_accounts()
    if info.usable:
        io.out(f"Secrets are kept in: {info.name}")
    else:
        io.err(f"Warning: {info.explanation_if_unusable}")
    if not accounts:
        io.out("No accounts connected. Add one with: kindly accounts add NETWORK")
        return EXIT_OK
    rows = [("ID", "NETWORK", "HANDLE", "SERVER", "LAST SYNC", "STATUS")]
    for a in accounts:
        status = (
            "disabled" if not a.enabled else ("error: " + a.last_error if a.last_error else "ok")
        )
        rows.append((str(a.id), a.network.value, a.handle, a.base_url, _when(a), status))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        io.out("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[-1])
    return EXIT_OK


def _remove(service: AccountService, account_id: int, io: _Io) -> int:
    try:
        removed = service.remove_account(account_id)
    except AccountError as exc:
        io.err(exc.user_message)
        return EXIT_FAILED
    a = removed.account
    if removed.warning:
        io.out(f"Removed {a.network.label} account {a.handle} (id {a.id}).")
        io.err(removed.warning)
        return EXIT_FAILED
    io.out(
        f"Removed {a.network.label} account {a.handle} (id {a.id}) and deleted its secret "
        f"from {service.store.backend_info().name}."
    )
    return EXIT_OK


def _keyring(service: AccountService, io: _Io) -> int:
    info = service.store.backend_info()
    io.out(f"Keyring: {info.name} [{info.backend_id}]")
    io.out(f"The operating system's secure store: {'yes' if info.is_secure else 'no'}")
    if info.usable:
        io.out("Kindly can keep account secrets there.")
        return EXIT_OK
    io.err(info.explanation_if_unusable or "")
    return EXIT_NO_KEYRING
