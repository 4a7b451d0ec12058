"""Bucket counts: one grouped count, kept only while the database is unchanged."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from app.storage import queries
from app.storage.models import Account, Case, Person

T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def make_case(account: Account, person: Person, key: str, bucket: str) -> Case:
    return Case.create(
        account=account,
        person=person,
        network=account.network,
        conversation_key=key,
        bucket=bucket,
        first_mention_at=T0,
        last_activity_at=T0,
    )


def test_counts_per_network_and_overall_follow_every_change(db_path: Path) -> None:
    mastodon = Account.create(network="mastodon", handle="@us", keyring_ref="k-m")
    bluesky = Account.create(network="bluesky", handle="us.bsky", keyring_ref="k-b")
    ann = Person.create(network="mastodon", remote_id="1", handle="ann")
    bob = Person.create(network="bluesky", remote_id="2", handle="bob")
    make_case(mastodon, ann, "a", "needs_reply")
    make_case(mastodon, ann, "b", "resolved")
    make_case(bluesky, bob, "c", "needs_reply")

    assert queries.bucket_counts() == {"needs_reply": 2, "resolved": 1}
    assert queries.bucket_counts("mastodon") == {"needs_reply": 1, "resolved": 1}
    assert queries.bucket_counts("bluesky") == {"needs_reply": 1}
    assert queries.bucket_counts("x") == {}

    # A change through this connection shows at once.
    Case.update(bucket="waiting").where(Case.conversation_key == "c").execute()
    assert queries.bucket_counts("bluesky") == {"waiting": 1}
    assert queries.bucket_counts() == {"needs_reply": 1, "resolved": 1, "waiting": 1}

    # So does one committed by another connection (another thread, another process).
    other = sqlite3.connect(db_path)
    other.execute("UPDATE \"case\" SET bucket = 'resolved' WHERE conversation_key = 'a'")
    other.commit()
    other.close()
    assert queries.bucket_counts("mastodon") == {"resolved": 2}
    assert queries.bucket_counts() == {"resolved": 2, "waiting": 1}
