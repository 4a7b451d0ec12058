"""Fixtures for triage tests: an account, and mentions stored through the real ingest path."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.core.ingest import Ingestor, IngestResult
from app.core.networks.base import RemoteMention, RemotePerson
from app.core.policy.store import default_policy
from app.core.triage import OfficeHours, Triage, TriageConfig, TriageHook
from app.core.vocab import Network
from app.storage.models import Account

# Monday 4 March 2024, 10:00 UTC; the office is open Mon–Fri 09:00–17:00 UTC.
NOW = datetime(2024, 3, 4, 10, 0, tzinfo=UTC)
OFFICE = OfficeHours(zone="UTC", opens=time(9), closes=time(17))


@dataclass
class Desk:
    """An account, a triage set up with the default policy, and a way to ingest mentions."""

    account_id: int
    triage: Triage
    ingestor: Ingestor
    counter: list[int] = field(default_factory=lambda: [0])

    def person(
        self, handle: str = "rosa", followers: int | None = 120, name: str = ""
    ) -> RemotePerson:
        return RemotePerson(
            remote_id=f"id-{handle}",
            handle=handle,
            display_name=name or handle.capitalize(),
            follower_count=followers,
        )

    def mention(
        self,
        text: str,
        author: RemotePerson | None = None,
        ago: timedelta = timedelta(minutes=5),
        **extra: Any,
    ) -> RemoteMention:
        self.counter[0] += 1
        return RemoteMention(
            network=extra.pop("network", Network.MASTODON),
            remote_id=extra.pop("remote_id", f"m{self.counter[0]}"),
            author=author or self.person(),
            text=text,
            created_at=NOW - ago,
            **extra,
        )

    def ingest(self, *mentions: RemoteMention, network: Network = Network.MASTODON) -> IngestResult:
        return self.ingestor.ingest(self.account_id, network, list(mentions))


@pytest.fixture
def make_desk(db_path: Path) -> Callable[..., Desk]:
    def make(policy: Any = None, config: TriageConfig | None = None, now: datetime = NOW) -> Desk:
        account = Account.create(
            network=Network.MASTODON.value, handle="@org@example.social", keyring_ref="k-1"
        )
        triage = Triage(
            policy or default_policy(),
            config or TriageConfig(office_hours=OFFICE, response_target=timedelta(hours=2)),
            clock=lambda: now,
        )
        return Desk(account.id, triage, Ingestor([TriageHook(triage)]))

    return make


@pytest.fixture
def desk(make_desk: Callable[..., Desk]) -> Desk:
    return make_desk()
