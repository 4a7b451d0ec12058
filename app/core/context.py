"""The services one open database offers, handed to the UI and the command line together."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from app.core.cases import CaseService
from app.core.inbox import Inbox
from app.core.outbox import Outbox
from app.core.settings import Settings
from app.core.templates import TemplateLibrary
from app.storage.models import Account


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

    def has_accounts(self) -> bool:
        return bool(Account.select().exists())
