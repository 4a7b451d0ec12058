"""Raw payloads stored zlib-packed (schema 8) beside rows written before as JSON text: every
reader takes both kinds. A step-7 file with text payloads is upgraded, new mentions are stored
packed, and then people linking (the author's profile), the pre-send check's reply target (the
status, uri, parent) and the archive export (the payload whole, and back in on import) read
the old rows and the new ones alike."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.core.archive import export_archive, import_archive, read_archive
from app.core.ingest import Ingestor
from app.core.listening import linking
from app.core.networks.base import RemoteMention, RemotePerson
from app.core.networks.mastodon import _target_status
from app.core.outbox import Outbox
from app.core.sending import _request
from app.core.vocab import Network
from app.storage.db import close_database, connect, open_database
from app.storage.migrations import HEAD, migrate
from app.storage.models import (
    PACK_FROM,
    Account,
    Mention,
    OutboundReply,
    Setting,
    database,
    read_json,
)

NOW = datetime(2026, 8, 3, 10, 0, tzinfo=UTC)
T0 = "2026-08-03 08:00:00.000000"


def mastodon_payload(status_id: str, note: str) -> dict[str, Any]:
    """A Mastodon notification, as long as real ones (~3 KB)."""
    account = {
        "id": "7",
        "username": "grumpy",
        "acct": "grumpy@social.example",
        "note": note,
        "fields": [{"name": "Bluesky", "value": "bsky.app/profile/grump.bsky.social"}],
        "avatar": "https://social.example/avatars/" + "a" * 120,
    }
    status = {
        "id": status_id,
        "uri": f"https://social.example/users/grumpy/statuses/{status_id}",
        "content": "<p>" + "Where is the river clean-up? " * 40 + "</p>",
        "account": account,
        "mentions": [{"acct": "riverbank", "id": "42"}],
    }
    return {"id": f"n{status_id}", "type": "mention", "account": account, "status": status}


def bluesky_payload() -> dict[str, Any]:
    return {
        "uri": "at://did:plc:grump/app.bsky.feed.post/3k",
        "cid": "bafyreib" + "c" * 50,
        "author": {
            "did": "did:plc:grump",
            "handle": "grump.bsky.social",
            "description": "Also @grumpy@social.example on the fediverse. " + "Rivers! " * 60,
        },
        "record": {"text": "Any news on the clean-up?", "reply": None},
    }


OLD_PAYLOAD = mastodon_payload("100", "Old profile")


def build_step_7(path: Path) -> None:
    """A file a Kindly at schema 7 left: one Mastodon mention, its payload as JSON text."""
    db = connect(path)
    db.connect()
    try:
        migrate(db, path, target=7)
        sql = db.execute_sql
        with db.atomic():
            sql(
                "INSERT INTO account (id, network, handle, display_name, base_url, remote_id,"
                " keyring_ref, cursor, enabled, created_at, last_sync_at, last_error) VALUES"
                " (1, 'mastodon', 'riverbank', '', 'https://mastodon.example', '42', 'k:m:1',"
                " NULL, 1, ?, NULL, NULL)",
                (T0,),
            )
            sql(
                "INSERT INTO person (id, network, remote_id, handle, display_name,"
                " follower_count, profile_url, stance, notes, updated_at) VALUES"
                " (1, 'mastodon', 'grumpy@social.example', 'grumpy@social.example', 'G.', 3,"
                " NULL, 'unknown', '', ?)",
                (T0,),
            )
            sql(
                'INSERT INTO "case" (id, account_id, person_id, network, conversation_key,'
                " status, bucket, status_reason, created_at, updated_at, first_mention_at,"
                " last_activity_at, mention_count, reply_count, last_snippet, reopened_count,"
                " priority, why, due_at, keep) VALUES (1, 1, 1, 'mastodon', '100', 'new',"
                " 'needs_reply', '', ?, ?, ?, ?, 1, 0, 'Where?', 0, 0.5, '', NULL, 0)",
                (T0, T0, T0, T0),
            )
            sql(
                "INSERT INTO mention (id, account_id, network, remote_id, author_id, case_id,"
                " text, markup, url, kind, addressed_to_us, created_at, fetched_at,"
                " in_reply_to_id, conversation_id, sentiment, sentiment_corrected, raw) VALUES"
                " (1, 1, 'mastodon', '100', 1, 1, 'Where is the river clean-up?', '', NULL,"
                " 'mention', 1, ?, ?, NULL, '100', 0.0, 0, ?)",
                (T0, T0, json.dumps(OLD_PAYLOAD)),
            )
    finally:
        db.close()


@pytest.fixture
def upgraded(data_dir: Path) -> Iterator[Path]:
    path = data_dir / "kindly.sqlite3"
    build_step_7(path)
    report = open_database(path)
    assert (report.from_version, report.to_version) == (7, HEAD)
    yield path
    close_database()


def stored_as(mention_id: int) -> tuple[str, int]:
    row = database.execute_sql(
        "SELECT typeof(raw), length(raw) FROM mention WHERE id = ?", (mention_id,)
    ).fetchone()
    return str(row[0]), int(row[1])


def ingest_new(network: Network, who: str, remote_id: str, raw: dict[str, Any]) -> int:
    """A new mention through ingest (as sync stores it); returns its id."""
    if network is Network.MASTODON:
        account_id = 1
    else:
        account_id = Account.create(network=network.value, handle="org", keyring_ref="k:b").id
    author = RemotePerson(remote_id=who, handle=who, display_name="Grumbles")
    mention = RemoteMention(
        network, remote_id, author, "Any news on the clean-up?", NOW - timedelta(minutes=5),
        raw=raw,
    )  # fmt: skip
    result = Ingestor().ingest(account_id, network, [mention])
    return result.mention_ids[0]


def test_old_text_payloads_and_new_packed_ones_read_alike(upgraded: Path) -> None:
    new_payload = mastodon_payload("200", "New profile: " + "ünïcödé " * 20)
    new_id = ingest_new(Network.MASTODON, "grumpy@social.example", "200", new_payload)

    old_kind = stored_as(1)[0]
    new_kind, new_size = stored_as(new_id)
    assert old_kind == "text"  # rows written before are left as they are
    assert new_kind == "blob" and new_size < len(json.dumps(new_payload)) / 2

    assert Mention.get_by_id(1).raw == OLD_PAYLOAD
    assert Mention.get_by_id(new_id).raw == new_payload
    assert read_json(json.dumps(OLD_PAYLOAD)) == OLD_PAYLOAD


def test_short_payloads_stay_text_and_damaged_ones_read_as_missing(db_path: Path) -> None:
    account = Account.create(network="mastodon", handle="org", keyring_ref="k")
    short = {"demo": True, "id": "1"}
    assert len(json.dumps(short)) < PACK_FROM
    author = RemotePerson(remote_id="a", handle="a", display_name="A")
    mention = RemoteMention(Network.MASTODON, "1", author, "hi", NOW, raw=short)
    mention_id = Ingestor().ingest(account.id, Network.MASTODON, [mention]).mention_ids[0]
    assert stored_as(mention_id)[0] == "text"
    assert Mention.get_by_id(mention_id).raw == short

    database.execute_sql("UPDATE mention SET raw = ? WHERE id = ?", (b"x\x9cnot zlib", mention_id))
    assert Mention.get_by_id(mention_id).raw is None
    assert read_json(zlib.compress(b"{not json")) is None
    assert read_json(None) is None
    # Settings are JSON too, and stay text whatever their length.
    Setting.create(key="long", value="x" * (PACK_FROM * 2))
    kind = database.execute_sql("SELECT typeof(value) FROM setting WHERE key = 'long'")
    assert kind.fetchone()[0] == "text"
    assert Setting.get_by_id("long").value == "x" * (PACK_FROM * 2)


def test_people_linking_reads_profiles_from_both_kinds_of_row(upgraded: Path) -> None:
    # The old Mastodon row (text) links to the Bluesky profile; the new Bluesky row (packed)
    # names the Mastodon handle: both directions must be found.
    bluesky_id = ingest_new(Network.BLUESKY, "grump.bsky.social", "at://3k", bluesky_payload())
    assert stored_as(bluesky_id)[0] == "blob"
    bluesky_person = Mention.get_by_id(bluesky_id).author_id

    found = {s.pair: s for s in linking.suggestions()}

    suggestion = found[(1, bluesky_person)]
    assert any("grump.bsky.social" in reason for reason in suggestion.reasons)
    assert any("grumpy@social.example" in reason for reason in suggestion.reasons)


def test_the_reply_target_carries_the_whole_payload_of_both_kinds(upgraded: Path) -> None:
    new_payload = mastodon_payload("200", "New")
    new_id = ingest_new(Network.MASTODON, "grumpy@social.example", "200", new_payload)
    for mention_id, payload in ((1, OLD_PAYLOAD), (new_id, new_payload)):
        mention = Mention.get_by_id(mention_id)
        queued = Outbox().queue_reply(mention.case_id, "Thank you!", mention.id)
        request = _request(OutboundReply.get_by_id(queued.id))
        assert request.target.raw == payload
        assert _target_status(request)["id"] == payload["status"]["id"]  # what the check reads


def test_the_archive_exports_both_kinds_whole_and_imports_them_packed(
    upgraded: Path, tmp_path: Path
) -> None:
    new_payload = mastodon_payload("200", "New")
    new_id = ingest_new(Network.MASTODON, "grumpy@social.example", "200", new_payload)
    cases = sorted({int(m.case_id) for m in Mention.select()})
    archive = tmp_path / "all.kindly.json"

    export_archive(cases, archive, now=NOW)

    exported = {
        m["remote_id"]: m["raw"] for record in read_archive(archive).cases for m in record.mentions
    }
    assert exported == {"100": OLD_PAYLOAD, "200": new_payload}
    assert Mention.get_by_id(new_id).raw == new_payload

    close_database()
    open_database(tmp_path / "fresh.sqlite3")
    assert import_archive(archive).mentions_added == 2
    for mention in Mention.select():
        assert stored_as(mention.id)[0] == "blob"
        assert mention.raw == exported[mention.remote_id]


def test_a_long_payload_with_a_lone_surrogate_is_packed_with_it_replaced(db_path: Path) -> None:
    account = Account.create(network="mastodon", handle="org", keyring_ref="k")
    payload = {"id": "1", "content": "broken \ud83d emoji " * 40}
    author = RemotePerson(remote_id="a", handle="a", display_name="A")
    mention = RemoteMention(Network.MASTODON, "1", author, "hi", NOW, raw=payload)
    mention_id = Ingestor().ingest(account.id, Network.MASTODON, [mention]).mention_ids[0]
    assert stored_as(mention_id)[0] == "blob"
    assert Mention.get_by_id(mention_id).raw == {
        "id": "1",
        "content": "broken \ufffd emoji " * 40,
    }
