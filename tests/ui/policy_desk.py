"""A small inbox for the policy and triage UI tests: a Mastodon account, mentions stored
through the real ingest path with triage, and a clock that stands on Monday 4 March 2024 at
10:00 UTC (the office is open Monday to Friday, 09:00-17:00 UTC)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.core import settings as options
from app.core.context import AppContext
from app.core.ingest import Ingestor
from app.core.networks.base import RemoteMention, RemotePerson
from app.core.settings import Settings
from app.core.triage import TriageHook
from app.core.vocab import Network
from app.storage.models import Account, Mention

NOW = datetime(2024, 3, 4, 10, 0, tzinfo=UTC)
_ids = itertools.count(1)


def desk_context(data_dir: Path, db_path: Path, phone: str = "") -> AppContext:
    settings = Settings()
    settings.set(options.OFFICE_ZONE, "UTC")
    settings.set(options.ORG_NAME, "Riverbank Alliance")
    settings.set(options.SIGNATURE, "— Sam")
    settings.set(options.EMAIL, "hello@riverbank.example")
    settings.set(options.PHONE, phone)
    Account.create(
        network=Network.MASTODON.value, handle="@riverbank@example.social", keyring_ref="k-1"
    )
    context = AppContext(data_dir, db_path)
    context.templates.seed()
    context.triage.clock = lambda: NOW
    return context


def mention(
    context: AppContext,
    text: str,
    handle: str = "rosa@social.example",
    name: str = "Rosa Mensah",
    ago: timedelta = timedelta(minutes=5),
    followers: int = 120,
) -> int:
    """Store one mention through ingest and triage; returns its case id."""
    account = Account.get()
    number = next(_ids)
    remote = RemoteMention(
        network=Network.MASTODON,
        remote_id=f"m{number}",
        author=RemotePerson(
            remote_id=f"p-{handle}", handle=handle, display_name=name, follower_count=followers
        ),
        text=text,
        created_at=NOW - ago,
    )
    Ingestor([TriageHook(context.triage)]).ingest(account.id, Network.MASTODON, [remote])
    return int(Mention.get(Mention.remote_id == f"m{number}").case_id)
