"""Ingest stores a post once per network: found by a search first and sent to us later (or the
other way round), it ends up as one mention, addressed to us if either stream says so."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from app.core.ingest import IngestHook, Ingestor, IngestResult
from app.core.networks.base import RemoteMention, RemotePerson
from app.core.vocab import Network
from app.storage.models import Account, Case, Mention

WHEN = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)
ANN = RemotePerson("did:plc:ann", "ann.example.com", "Ann")


class Seen(IngestHook):
    def __init__(self) -> None:
        self.results: list[IngestResult] = []

    def after_ingest(self, result: IngestResult) -> None:
        self.results.append(result)


def post(remote_id: str, *, kind: str, addressed: bool) -> RemoteMention:
    return RemoteMention(
        Network.BLUESKY, remote_id, ANN, f"post {remote_id}", WHEN, kind=kind,
        addressed_to_us=addressed,
    )  # fmt: skip


def stored(remote_id: str) -> tuple[str, bool]:
    row = Mention.get(Mention.remote_id == remote_id)
    return row.kind, bool(row.addressed_to_us)


def test_found_then_direct_becomes_addressed_with_the_direct_kind(db_path: Path) -> None:
    account = Account.create(network="bluesky", handle="org", keyring_ref="b").id
    seen = Seen()
    ingest = Ingestor([seen])
    first = ingest.ingest(
        account,
        Network.BLUESKY,
        [
            post("at://1", kind="search", addressed=False),
            post("at://2", kind="search", addressed=True),  # it tagged us, found first anyway
            post("at://3", kind="search", addressed=False),
        ],
    )
    assert first.stored == 3
    case_of = {m.remote_id: m.case_id for m in Mention.select()}

    later = ingest.ingest(
        account,
        Network.BLUESKY,
        [
            post("at://1", kind="reply", addressed=True),
            post("at://2", kind="mention", addressed=True),
            post("at://3", kind="search", addressed=False),  # found again: nothing changes
            post("at://4", kind="mention", addressed=True),
        ],
    )

    assert (later.stored, later.duplicates) == (1, 3)
    assert [stored(f"at://{i}") for i in (1, 2, 3, 4)] == [
        ("reply", True),
        ("mention", True),
        ("search", False),
        ("mention", True),
    ]
    assert {case_of["at://1"], case_of["at://2"]} <= set(later.touched_cases)  # ranked again
    assert case_of["at://3"] not in later.touched_cases
    assert seen.results[-1] is later
    assert Mention.select().count() == 4


def test_direct_then_found_stays_as_it_was(db_path: Path) -> None:
    account = Account.create(network="bluesky", handle="org", keyring_ref="b").id
    ingest = Ingestor()
    ingest.ingest(account, Network.BLUESKY, [post("at://9", kind="reply", addressed=True)])
    again = ingest.ingest(
        account, Network.BLUESKY, [post("at://9", kind="search", addressed=False)]
    )
    assert (again.stored, again.duplicates, again.touched_cases) == (0, 1, [])
    assert stored("at://9") == ("reply", True)
    assert Case.select().count() == 1


def test_the_same_id_on_another_network_is_another_post(db_path: Path) -> None:
    masto = Account.create(network="mastodon", handle="org", keyring_ref="m").id
    bsky = Account.create(network="bluesky", handle="org", keyring_ref="b").id
    ingest = Ingestor()
    ingest.ingest(bsky, Network.BLUESKY, [post("42", kind="search", addressed=False)])
    on_mastodon = replace(post("42", kind="mention", addressed=True), network=Network.MASTODON)
    assert ingest.ingest(masto, Network.MASTODON, [on_mastodon]).stored == 1
    rows = {(m.network, m.kind, m.addressed_to_us) for m in Mention.select()}
    assert rows == {("bluesky", "search", False), ("mastodon", "mention", True)}
