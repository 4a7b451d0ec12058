"""The services one open database offers, handed to the UI and the command line together."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from app.core.cases import CaseService
from app.core.checklist import EventChecklistStore
from app.core.inbox import Inbox
from app.core.outbox import Outbox
from app.core.settings import Settings
from app.core.templates import TemplateLibrary
from app.storage.models import Account, database

# The services below are imported when first used, not when the app starts: the network
# clients (httpx), the keyring, sync and triage cost ~100 ms of imports (bench_startup).
if TYPE_CHECKING:
    from app.core.accounts import AccountService
    from app.core.backups import BackupService
    from app.core.reminders import ReminderService
    from app.core.retention import Retention
    from app.core.secrets import SecretStore
    from app.core.sending import Sender
    from app.core.sync import SyncEngine
    from app.core.triage import Triage
    from app.core.triage.config import TriageConfig

T = TypeVar("T")


@dataclass
class AppContext:
    data_dir: Path
    database_path: Path
    demo: bool = False
    inbox: Inbox = field(default_factory=Inbox)
    cases: CaseService = field(default_factory=CaseService)
    outbox: Outbox = field(default_factory=Outbox)
    settings: Settings = field(default_factory=Settings)
    templates: TemplateLibrary = field(default_factory=TemplateLibrary)
    checklist: EventChecklistStore = field(default_factory=EventChecklistStore)
    # None: the OS keyring (looked up on first use); the demo keeps secrets in memory only
    secrets: SecretStore | None = None

    def has_accounts(self) -> bool:
        return bool(Account.select().exists())

    @cached_property
    def accounts(self) -> AccountService:
        from app.core.accounts import AccountService
        from app.core.secrets import MemoryKeyring, SecretStore

        store = self.secrets
        if store is None:
            store = SecretStore(MemoryKeyring()) if self.demo else SecretStore()
        return AccountService(store)

    @cached_property
    def triage_config(self) -> TriageConfig:
        """Office hours, the response target, the organisation: all the case list needs to
        mark overdue cases, without reading the policy (which ``triage`` adds on first use)."""
        from app.core.triage_setup import triage_config

        return triage_config(self.settings)

    @cached_property
    def triage(self) -> Triage:
        """The saved policy and the settings' office hours; built on first use (UI thread)."""
        from app.core.policy.store import load_policy
        from app.core.triage.engine import Triage

        return Triage(load_policy(), self.triage_config)

    def clock_config(self) -> tuple[TriageConfig, Callable[[], datetime]]:
        """Triage's config and clock, without building triage when it is not built yet (the
        start-up's first page marks overdue cases before the policy is read)."""
        triage = self.__dict__.get("triage")
        if triage is not None:
            return triage.config, triage.clock
        return self.triage_config, lambda: datetime.now(UTC)

    @cached_property
    def reminders(self) -> ReminderService:
        from app.core.reminders import ReminderService

        return ReminderService(self.triage)

    def reload_triage(self) -> None:
        """After the policy or the settings changed: the next triage run and reminders use them."""
        from app.core.triage_setup import triage_config

        self.triage_config = triage_config(self.settings)
        if "triage" in self.__dict__:  # else built with these on first use
            from app.core.policy.store import load_policy

            self.triage.policy = load_policy()
            self.triage.config = self.triage_config

    @cached_property
    def sync(self) -> SyncEngine:
        # Triage at ingest: sentiment, the policy's decision, priority and the why line are
        # stored with each batch of mentions.
        from app.core.ingest import Ingestor
        from app.core.sync import SyncEngine
        from app.core.triage import TriageHook

        return SyncEngine(self.accounts, Ingestor([TriageHook(self.triage)]))

    @cached_property
    def sender(self) -> Sender:
        from app.core.sending import Sender

        return Sender(self.accounts)

    @cached_property
    def backups(self) -> BackupService:
        from app.core.backups import BackupService

        return BackupService(self.database_path)

    @cached_property
    def retention(self) -> Retention:
        from app.core.retention import Retention

        return Retention()

    def close(self) -> None:
        """Close what the services opened (the HTTP client); the database is not ours."""
        if "accounts" in self.__dict__:
            self.accounts.close()


def own_connection(fn: Callable[[], T]) -> Callable[[], T]:
    """Wrap ``fn`` for a pool thread: it gets its own database connection, closed afterwards.

    On a thread that already has a connection open (the UI thread, when a test runs tasks
    synchronously) ``fn`` simply uses it and it stays open.
    """

    def run() -> T:
        if not database.is_closed():
            return fn()
        try:
            return fn()
        finally:
            database.close()

    return run
