"""Deleting on purpose: everything about one person leaves nothing behind (rows in every table,
the full-text index, the WAL, the file's free pages); old resolved cases go unless kept."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.core.cases import CaseService
from app.core.ingest import Ingestor
from app.core.networks.base import RemoteMention, RemotePerson
from app.core.outbox import Outbox
from app.core.retention import Footprint, Retention, months_before
from app.core.vocab import CaseStatus, Network, ReplyState
from app.storage.models import Account, Case, Mention, OutboundReply, Person, database

T0 = datetime(2024, 4, 2, 9, 0, tzinfo=UTC)
# Words only the forgotten person's data holds, searched for everywhere afterwards.
SECRET_WORDS = ("quokkafan", "xylophonist", "Wibblethorpe", "zanzibarian")
ZED_MASTODON = RemotePerson("201", "@quokkafan@social.example", "Zed Wibblethorpe", 90)
ZED_BLUESKY = RemotePerson("did:plc:zed", "quokkafan.bsky.social", "Zed Wibblethorpe", 12)
ROSA = RemotePerson("101", "@rosa@social.example", "Rosa García", 2150)


def mention(
    network: Network, remote_id: str, who: RemotePerson, text: str, minutes: int, **kw: object
) -> RemoteMention:
    return RemoteMention(
        network,
        remote_id,
        who,
        text,
        T0 + timedelta(minutes=minutes),
        raw={"id": remote_id, "text": text, "account": who.handle},
        **kw,  # type: ignore[arg-type]
    )


def build_inbox() -> dict[str, int]:
    """Zed on two networks (cases, replies, notes), and Rosa, who must be left as she was."""
    masto = Account.create(network="mastodon", handle="@riverbank", keyring_ref="k1")
    sky = Account.create(network="bluesky", handle="riverbank.org", keyring_ref="k2")
    ingest = Ingestor()
    ingest.ingest(
        masto.id,
        Network.MASTODON,
        [
            mention(Network.MASTODON, "m1", ZED_MASTODON, "The xylophonist was late", 0),
            mention(
                Network.MASTODON, "m2", ZED_MASTODON, "zanzibarian tea?", 5, in_reply_to_id="m1"
            ),
            mention(Network.MASTODON, "m3", ROSA, "Is the walk on?", 7),
            mention(Network.MASTODON, "m4", ZED_MASTODON, "Another xylophonist thread", 60),
        ],
    )
    ingest.ingest(
        sky.id,
        Network.BLUESKY,
        [mention(Network.BLUESKY, "b1", ZED_BLUESKY, "xylophonist again, from Bluesky", 9)],
    )
    zed_m = Person.get(Person.remote_id == "201").id
    zed_b = Person.get(Person.remote_id == "did:plc:zed").id
    rosa = Person.get(Person.remote_id == "101").id
    cases = CaseService()
    outbox = Outbox()
    zed_case = Case.get(Case.person == zed_m).id
    rosa_case = Case.get(Case.person == rosa).id
    cases.add_case_note(zed_case, "Zed Wibblethorpe called about the xylophonist")
    cases.add_person_note(zed_m, "quokkafan is Zed's handle everywhere")
    cases.add_person_note(zed_b, "Same Zed Wibblethorpe on Bluesky")
    cases.set_status(zed_case, CaseStatus.ESCALATED, "Moved to phone with Wibblethorpe")
    sent = outbox.queue_reply(zed_case, "Thank you Zed Wibblethorpe!")
    OutboundReply.update(state=ReplyState.SENT.value, remote_id="r1").where(
        OutboundReply.id == sent.id
    ).execute()
    outbox.queue_reply(Case.get(Case.person == zed_b).id, "Hello quokkafan")
    cases.add_case_note(rosa_case, "Rosa asked about the walk")
    cases.add_person_note(rosa, "Rosa volunteers on Sundays")
    outbox.queue_reply(rosa_case, "Yes Rosa, it is on")
    return {"zed_m": zed_m, "zed_b": zed_b, "rosa": rosa, "rosa_case": rosa_case}


def all_tables() -> list[str]:
    rows = database.execute_sql("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return [name for (name,) in rows]


def rows_mentioning(word: str) -> dict[str, int]:
    """Every row of every table (FTS shadow tables too) whose text holds ``word``."""
    found: dict[str, int] = {}
    for table in all_tables():
        columns = [c[1] for c in database.execute_sql(f'PRAGMA table_info("{table}")').fetchall()]
        if not columns:
            continue
        condition = " OR ".join(f'CAST("{c}" AS TEXT) LIKE ?' for c in columns)
        count = database.execute_sql(
            f'SELECT count(*) FROM "{table}" WHERE {condition}', [f"%{word}%"] * len(columns)
        ).fetchone()[0]
        if count:
            found[table] = count
    return found


def fts_hits(word: str) -> int:
    return database.execute_sql(
        "SELECT count(*) FROM mention_fts WHERE mention_fts MATCH ?", [f'"{word}"']
    ).fetchone()[0]


def snapshot_except(tables: set[str]) -> dict[str, list[tuple[object, ...]]]:
    return {
        t: database.execute_sql(f'SELECT * FROM "{t}" ORDER BY 1').fetchall()
        for t in all_tables()
        if t not in tables and not t.startswith(("mention_fts", "person_fts"))  # their indexes
    }


def test_forgetting_a_person_leaves_nothing_of_them_anywhere(db_path: Path) -> None:
    ids = build_inbox()
    assert all(rows_mentioning(w) for w in SECRET_WORDS)  # the check can see them
    assert fts_hits("xylophonist") == 3
    # Debian builds SQLite with secure_delete on; others do not: start from off to show that
    # forgetting switches it on by itself, and back off afterwards.
    database.execute_sql("PRAGMA secure_delete = 0")
    retention = Retention()
    expected = retention.footprint([ids["zed_m"], ids["zed_b"]])
    assert expected == Footprint(people=2, cases=3, mentions=4, replies=2, notes=3, events=7)

    removed = retention.forget_person([ids["zed_m"], ids["zed_b"]])

    assert removed == Footprint(people=2, cases=3, mentions=4, replies=2, notes=3, events=7)
    for word in SECRET_WORDS:
        assert rows_mentioning(word) == {}, word
        assert fts_hits(word) == 0, word
    assert Person.select().where(Person.id.in_([ids["zed_m"], ids["zed_b"]])).count() == 0
    assert retention.footprint([ids["zed_m"], ids["zed_b"]]) == Footprint()
    # The WAL was checkpointed and emptied, and free pages were zeroed (secure_delete): the
    # words are not in the files on disk either.
    wal = db_path.with_name(db_path.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    raw = db_path.read_bytes()
    for word in SECRET_WORDS:
        assert word.encode() not in raw, word
    assert database.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert database.execute_sql("PRAGMA secure_delete").fetchone()[0] == 0  # as it was


def test_everyone_else_is_left_exactly_as_they_were(db_path: Path) -> None:
    ids = build_inbox()
    touched = {"person", "case", "mention", "outbound_reply", "note", "case_event"}
    before = snapshot_except(touched)
    rosa_before = {
        "person": Person.get_by_id(ids["rosa"]).__data__,
        "case": Case.get_by_id(ids["rosa_case"]).__data__,
        "mentions": [m.__data__ for m in Mention.select().where(Mention.author == ids["rosa"])],
    }

    Retention().forget_person([ids["zed_m"], ids["zed_b"]])

    assert snapshot_except(touched) == before  # accounts, settings, templates, …
    assert Person.get_by_id(ids["rosa"]).__data__ == rosa_before["person"]
    assert Case.get_by_id(ids["rosa_case"]).__data__ == rosa_before["case"]
    assert [
        m.__data__ for m in Mention.select().where(Mention.author == ids["rosa"])
    ] == rosa_before["mentions"]
    assert fts_hits("walk") == 1
    assert OutboundReply.select().where(OutboundReply.case == ids["rosa_case"]).count() == 1


def test_forgetting_nobody_or_an_unknown_id_does_nothing(db_path: Path) -> None:
    build_inbox()
    assert Retention().forget_person([]) == Footprint()
    assert Retention().forget_person([987654]) == Footprint()
    assert Person.select().count() == 3


# -- purging old resolved cases -------------------------------------------------------------------

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def test_old_resolved_cases_go_unless_kept_and_people_left_with_nothing_go_too(
    db_path: Path,
) -> None:
    account = Account.create(network="mastodon", handle="@riverbank", keyring_ref="k")
    people = [RemotePerson(str(i), f"@p{i}@x.example", f"Person {i}") for i in range(5)]
    Ingestor().ingest(
        account.id,
        Network.MASTODON,
        [
            mention(Network.MASTODON, f"m{i}", person, f"hello number{i}", i)
            for i, person in enumerate(people)
        ],
    )
    case_of = {
        i: Case.get(Case.person == Person.get(Person.remote_id == str(i))).id for i in range(5)
    }
    old, recent = NOW - timedelta(days=400), NOW - timedelta(days=200)
    plan = {
        0: (CaseStatus.RESOLVED, old, False),  # goes, and so does person 0
        1: (CaseStatus.RESOLVED, old, True),  # kept
        2: (CaseStatus.RESOLVED, recent, False),  # too recent
        3: (CaseStatus.LEFT_ALONE, old, False),  # not resolved
        4: (CaseStatus.RESOLVED, old, False),  # goes, but person 4 has a note: stays
    }
    for i, (status, when, keep) in plan.items():
        CaseService().set_status(case_of[i], status, "reason")
        Case.update(last_activity_at=when, keep=keep).where(Case.id == case_of[i]).execute()
    CaseService().add_person_note(Person.get(Person.remote_id == "4").id, "Knows the mayor")

    removed = Retention(clock=lambda: NOW).purge_resolved(12)

    assert (removed.cases, removed.mentions, removed.people) == (2, 2, 1)
    assert {c.id for c in Case.select()} == {case_of[1], case_of[2], case_of[3]}
    assert {p.remote_id for p in Person.select()} == {"1", "2", "3", "4"}
    assert fts_hits("number0") == 0 and fts_hits("number1") == 1
    assert Retention(clock=lambda: NOW).purge_resolved(12) == Footprint()  # nothing left to do
    with pytest.raises(ValueError):
        Retention().purge_resolved(0)


@pytest.mark.parametrize(
    ("when", "months", "expected"),
    [
        (datetime(2026, 3, 31, tzinfo=UTC), 1, datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2024, 3, 31, tzinfo=UTC), 1, datetime(2024, 2, 29, tzinfo=UTC)),
        (datetime(2026, 1, 15, tzinfo=UTC), 13, datetime(2024, 12, 15, tzinfo=UTC)),
        (datetime(2026, 6, 15, tzinfo=UTC), 24, datetime(2024, 6, 15, tzinfo=UTC)),
    ],
)
def test_months_are_calendar_months(when: datetime, months: int, expected: datetime) -> None:
    assert months_before(when, months) == expected


def test_the_file_is_sound_after_a_purge_read_by_another_connection(db_path: Path) -> None:
    build_inbox()
    Case.update(status=CaseStatus.RESOLVED.value, last_activity_at=T0).execute()
    Retention(clock=lambda: NOW).purge_resolved(1)
    assert Case.select().count() == 0
    con = sqlite3.connect(db_path)
    try:
        assert con.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        assert con.execute("SELECT count(*) FROM mention_fts").fetchone()[0] == 0
    finally:
        con.close()
