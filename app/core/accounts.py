"""Connecting, listing and removing network accounts; building their clients from the keyring.

The order matters: credentials are verified against the network first, only then is the
secret written to the keyring, and only then the ``Account`` row (which holds a reference,
never the secret). If the row cannot be written the secret is deleted again, so a failed
connect leaves nothing behind. Removing an account deletes its row (cases and mentions go
with it) and its secret.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import peewee as pw

from app.core.networks.base import NetworkClient
from app.core.networks.http import check_base_url, new_client
from app.core.networks.registry import (
    REGISTRY,
    ClientFactory,
    ClientParams,
    CredentialSpec,
    NetworkEntry,
)
from app.core.secrets import SecretDamaged, SecretStore, SecretStoreError, new_reference
from app.core.vocab import Network
from app.storage.models import Account, database

log = logging.getLogger(__name__)


class AccountError(Exception):
    """An account operation was refused; ``user_message`` says why (never a secret)."""

    def __init__(self, user_message: str, detail: str = "") -> None:
        super().__init__(detail or user_message)
        self.user_message = user_message


class AccountExists(AccountError):
    pass


class AccountNotFound(AccountError):
    pass


class NeedsReconnect(AccountError):
    """The keyring holds no usable secret for the account: the user must connect it again."""


@dataclass(frozen=True, slots=True)
class AccountView:
    """An account as the UI and the sync engine see it (no ORM row, no secret)."""

    id: int
    network: Network
    handle: str
    display_name: str
    base_url: str
    remote_id: str
    keyring_ref: str
    enabled: bool
    created_at: datetime
    last_sync_at: datetime | None
    last_error: str | None

    @property
    def label(self) -> str:
        return f"{self.network.label} {self.handle}"


@dataclass(frozen=True, slots=True)
class RemovedAccount:
    account: AccountView
    secret_deleted: bool
    warning: str | None  # set when the secret could not be deleted: the user may do it by hand


def _view(row: Account) -> AccountView:
    return AccountView(
        id=row.id,
        network=Network(row.network),
        handle=row.handle,
        display_name=row.display_name,
        base_url=row.base_url,
        remote_id=row.remote_id,
        keyring_ref=row.keyring_ref,
        enabled=bool(row.enabled),
        created_at=row.created_at,
        last_sync_at=row.last_sync_at,
        last_error=row.last_error,
    )


class AccountService:
    """Accounts over the database and the keyring; network clients come from the registry.

    ``http`` is shared by every client this service builds; when omitted, the service makes
    one and ``close()`` closes it.
    """

    def __init__(
        self,
        store: SecretStore,
        http: httpx.Client | None = None,
        registry: Mapping[Network, NetworkEntry] = REGISTRY,
    ) -> None:
        self.store = store
        self.registry = registry
        self._http = http
        self._owns_http = http is None
        self._lock = threading.Lock()

    @property
    def http(self) -> httpx.Client:
        with self._lock:
            if self._http is None:
                self._http = new_client()
            return self._http

    def close(self) -> None:
        with self._lock:
            if self._owns_http and self._http is not None:
                self._http.close()
                self._http = None

    # -- reading ---------------------------------------------------------------------------

    def list_accounts(self) -> list[AccountView]:
        """Connected accounts (not the hidden one that web feed items are kept under)."""
        rows = Account.select().where(Account.network != Network.WEB.value)
        return [_view(row) for row in rows.order_by(Account.network, Account.id)]

    def get(self, account_id: int) -> AccountView:
        row = Account.get_or_none(Account.id == account_id)
        if row is None:
            raise AccountNotFound(f"There is no account number {account_id}.")
        return _view(row)

    def spec(self, network: Network | str) -> CredentialSpec:
        return self.registry[Network(network)].spec

    # -- connecting ------------------------------------------------------------------------

    def add_account(
        self,
        network: Network | str,
        base_url: str | None,
        handle: str,
        credentials: Mapping[str, str],
        client_factory: ClientFactory | None = None,
    ) -> AccountView:
        """Verify ``credentials`` with the network, then keep the secret and the account.

        Raises KeyringUnavailable (before any network call) when no secure keyring exists,
        AccountError for input or duplicates, and NetworkError (AuthError, Offline, …) when
        the network refuses or cannot be reached. Nothing is stored unless all went well.
        """
        network = Network(network)
        entry = self.registry[network]
        spec = entry.spec
        base = self._base_url(spec, base_url)
        handle = handle.strip()
        if spec.handle_required and not handle:
            raise AccountError(
                f"Enter the {spec.handle_label.lower()} of the {network.label} account."
            )
        entered = _checked_credentials(spec, credentials)
        self.store.ensure_usable()  # say so now, not after the user signed in
        if handle and self._find(network, base, handle=handle) is not None:
            raise AccountExists(f"{network.label} {handle} is already connected.")

        renewed: list[dict[str, str]] = []
        factory = client_factory or entry.factory
        client = factory(self.http, ClientParams(base, handle), dict(entered), renewed.append)
        person = client.verify()  # NetworkError propagates; nothing was stored

        secret = (
            renewed[-1] if renewed else {k: v for k, v in entered.items() if k in spec.stored_keys}
        )
        _check_storable(spec, secret)
        stored_handle = person.handle or handle
        if self._find(network, base, remote_id=person.remote_id) is not None or (
            stored_handle != handle and self._find(network, base, handle=stored_handle)
        ):
            raise AccountExists(f"{network.label} {stored_handle} is already connected.")

        ref = new_reference(network)
        self.store.set(ref, secret)
        try:
            with database.atomic():
                row = Account.create(
                    network=network.value,
                    handle=stored_handle,
                    display_name=person.display_name,
                    base_url=base,
                    remote_id=person.remote_id,
                    keyring_ref=ref,
                )
        except BaseException as exc:
            self._forget_secret(ref)
            if isinstance(exc, pw.IntegrityError):
                raise AccountExists(
                    f"{network.label} {stored_handle} is already connected.", str(exc)
                ) from exc
            raise
        log.info("connected %s account %s (id %d)", network.value, stored_handle, row.id)
        return _view(row)

    def reconnect(
        self,
        account_id: int,
        credentials: Mapping[str, str],
        client_factory: ClientFactory | None = None,
    ) -> AccountView:
        """Replace an account's secret after verifying new credentials for the same account."""
        account = self.get(account_id)
        entry = self.registry[account.network]
        entered = _checked_credentials(entry.spec, credentials)
        self.store.ensure_usable()
        renewed: list[dict[str, str]] = []
        factory = client_factory or entry.factory
        params = ClientParams(account.base_url, account.handle)
        person = factory(self.http, params, dict(entered), renewed.append).verify()
        if account.remote_id and person.remote_id != account.remote_id:
            raise AccountError(
                f"These credentials belong to {person.handle or person.remote_id}, not to "
                f"{account.handle}. Sign in as {account.handle}, or add it as a new account."
            )
        secret = (
            renewed[-1]
            if renewed
            else {k: v for k, v in entered.items() if k in entry.spec.stored_keys}
        )
        _check_storable(entry.spec, secret)
        self.store.set(account.keyring_ref, secret)
        Account.update(
            display_name=person.display_name or account.display_name, last_error=None
        ).where(Account.id == account_id).execute()
        log.info(
            "reconnected %s account %s (id %d)", account.network.value, account.handle, account_id
        )
        return self.get(account_id)

    def remove_account(self, account_id: int) -> RemovedAccount:
        """Delete the account (its cases, mentions and replies go with it) and its secret."""
        account = self.get(account_id)
        with database.atomic():
            Account.delete().where(Account.id == account_id).execute()
        warning = None
        try:
            deleted = self.store.delete(account.keyring_ref)
        except SecretStoreError as exc:
            deleted = False
            warning = (
                f"The account was removed from Kindly, but its saved sign-in could not be "
                f"deleted from the keyring: {exc.user_message} You can delete the entry "
                f"“{account.keyring_ref}” (service “{self.store.service}”) yourself in "
                f"{self.store.backend_info().name}."
            )
            log.warning("account %d removed; keyring entry left behind: %s", account_id, exc)
        log.info("removed %s account %s (id %d)", account.network.value, account.handle, account_id)
        return RemovedAccount(account, deleted, warning)

    # -- using -----------------------------------------------------------------------------

    def client_for(self, account: AccountView | int) -> NetworkClient:
        """A client for sync and the outbox, from the stored secret.

        Raises NeedsReconnect when the keyring holds nothing usable for the account, and
        SecretStoreError/KeyringUnavailable when the keyring cannot be read.
        """
        view = account if isinstance(account, AccountView) else self.get(account)
        entry = self.registry[view.network]
        try:
            secret = self.store.get(view.keyring_ref)
        except SecretDamaged as exc:
            raise NeedsReconnect(self._reconnect_message(view), str(exc)) from exc
        if secret is None or not _has_required(entry.spec, secret):
            raise NeedsReconnect(self._reconnect_message(view))
        params = ClientParams(view.base_url, view.handle, view.remote_id)

        def keep(new_secret: dict[str, str]) -> None:
            self._keep_renewed(view, entry.spec, new_secret)

        return entry.factory(self.http, params, secret, keep)

    def mark_synced(self, account_id: int, when: datetime | None = None) -> None:
        Account.update(last_sync_at=when or datetime.now(UTC), last_error=None).where(
            Account.id == account_id
        ).execute()

    def mark_error(self, account_id: int, message: str) -> None:
        """Record what went wrong (a user message, e.g. ``NetworkError.user_message``)."""
        Account.update(last_error=message).where(Account.id == account_id).execute()

    def set_enabled(self, account_id: int, enabled: bool) -> None:
        Account.update(enabled=enabled).where(Account.id == account_id).execute()

    # -- internals -------------------------------------------------------------------------

    def _base_url(self, spec: CredentialSpec, base_url: str | None) -> str:
        raw = (base_url or "").strip() or spec.default_base_url
        if not raw:
            raise AccountError(
                f"Enter the address of your {spec.network.label} server, e.g. "
                "https://mastodon.social."
            )
        try:
            return check_base_url(raw)
        except ValueError as exc:
            raise AccountError(str(exc)) from exc

    def _find(
        self, network: Network, base_url: str, *, handle: str = "", remote_id: str = ""
    ) -> Account | None:
        query = Account.select().where(
            (Account.network == network.value) & (Account.base_url == base_url)
        )
        if remote_id:
            query = query.where(Account.remote_id == remote_id)
        elif handle:
            query = query.where(Account.handle == handle)
        else:
            return None
        row: Account | None = query.first()
        return row

    def _forget_secret(self, ref: str) -> None:
        try:
            self.store.delete(ref)
        except SecretStoreError as exc:
            log.error("could not delete keyring entry %s after a failed connect: %s", ref, exc)

    def _keep_renewed(
        self, view: AccountView, spec: CredentialSpec, new_secret: dict[str, str]
    ) -> None:
        """Write a client's renewed tokens back, unless the account was removed meanwhile."""
        if Account.get_or_none(Account.id == view.id) is None:
            log.info("renewed sign-in for removed account %d dropped", view.id)
            return
        try:
            _check_storable(spec, new_secret)
            self.store.set(view.keyring_ref, new_secret)
        except (SecretStoreError, AccountError) as exc:
            message = (
                "Kindly could not save the renewed sign-in for this account "
                f"({exc.user_message}). Reconnect it if it stops working."
            )
            log.warning("account %d: renewed sign-in not saved: %s", view.id, exc)
            self.mark_error(view.id, message)
        else:
            log.info("account %d: renewed sign-in saved to the keyring", view.id)

    @staticmethod
    def _reconnect_message(view: AccountView) -> str:
        return (
            f"Kindly has no saved sign-in for {view.label}. Connect the account again "
            "(Accounts → Reconnect)."
        )


def _checked_credentials(spec: CredentialSpec, credentials: Mapping[str, str]) -> dict[str, str]:
    known = {f.key for f in spec.fields}
    unknown = sorted(set(credentials) - known)
    if unknown:
        raise AccountError(
            f"{spec.network.label} does not use {', '.join(unknown)}.",
            f"unknown credential fields: {unknown}",
        )
    entered = {k: v.strip() for k, v in credentials.items() if isinstance(v, str) and v.strip()}
    missing = [f.label for f in spec.fields if f.required and f.key not in entered]
    if missing:
        raise AccountError(f"Enter the {' and '.join(missing).lower()}.")
    return entered


def _has_required(spec: CredentialSpec, secret: Mapping[str, str]) -> bool:
    return bool(secret) and spec.must_store <= set(secret)


def _check_storable(spec: CredentialSpec, secret: Mapping[str, str]) -> None:
    """Only the keys the network's spec allows reach the keyring (never an app password)."""
    extra = sorted(set(secret) - spec.stored_keys)
    missing = sorted(spec.must_store - set(secret))
    if extra or missing:
        raise AccountError(
            f"Kindly could not keep the {spec.network.label} sign-in. Try connecting again.",
            f"{spec.network.value}: refusing keys {extra}, missing keys {missing}",
        )
