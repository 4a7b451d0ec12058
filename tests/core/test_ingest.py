"""Ingest: each mention stored once, grouped into cases by conversation, status rules kept."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.core.ingest import UNKNOWN_AUTHOR, Ingestor, IngestResult
from app.core.networks.base import RemoteMention, RemotePerson
from app.core.outbox import Outbox
from app.core.vocab import Bucket, CaseStatus, EventKind, Network, ReplyState
from app.storage import sqlite
from app.storage.models import Account, Case, CaseEvent, Mention, OutboundReply, Person, database

T0 = datetime(2024, 4, 2, 9, 0, tzinfo=UTC)
ROSA = RemotePerson(
    "101", "@rosa@social.example", "Rosa García", 2150, "https://social.example/@rosa"
)
DEV = RemotePerson("102", "@dev@social.example", "Dev Patel", 12)


def post(
    remote_id: str,
    author: RemotePerson | None = ROSA,
    minutes: int = 0,
    text: str | None = None,
    in_reply_to: str | None = None,
    conversation: str | None = None,
    network: Network = Network.MASTODON,
) -> RemoteMention:
    return RemoteMention(
        network=network,
        remote_id=remote_id,
        author=author,
        text=text if text is not None else f"post {remote_id}",
        created_at=T0 + timedelta(minutes=minutes),
        in_reply_to_id=in_reply_to,
        conversation_id=conversation,
        kind="reply" if in_reply_to else "mention",
    )


@pytest.fixture
def account(db_path: Path) -> Account:
    return Account.create(network="mastodon", handle="@riverbank", keyring_ref="k:mastodon")


def ingest(account: Account, *mentions: RemoteMention) -> IngestResult:
    return Ingestor().ingest(account.id, Network(account.network), list(mentions))


def snapshot() -> dict[str, Any]:
    """Every row of every table ingest writes."""
    return {
        model.__name__: sorted(model.select().tuples())
        for model in (Person, Case, Mention, CaseEvent)
    }


def case_of(network: str, remote_id: str) -> Case:
    mention = Mention.get((Mention.network == network) & (Mention.remote_id == remote_id))
    return Case.get_by_id(mention.case_id)


def events(case_id: int) -> list[tuple[str, str]]:
    query = CaseEvent.select().where(CaseEvent.case == case_id).order_by(CaseEvent.id)
    return [(e.kind, e.actor) for e in query]


def set_status(case_id: int, status: CaseStatus, reason: str = "") -> None:
    Case.update(status=status.value, bucket=status.bucket.value, status_reason=reason).where(
        Case.id == case_id
    ).execute()


# -- stored once ----------------------------------------------------------------------------------


def test_the_same_batch_twice_changes_nothing(account: Account) -> None:
    batch = [
        post("1", ROSA, 0),
        post("2", ROSA, 5, in_reply_to="1", conversation="1"),
        post("3", DEV, 7),
    ]
    first = ingest(account, *batch)
    before = snapshot()

    again = ingest(account, *batch)

    assert (first.stored, first.duplicates, len(first.new_cases)) == (3, 0, 2)
    assert (again.stored, again.duplicates) == (0, 3)
    assert again.new_cases == again.touched_cases == again.mention_ids == []
    assert snapshot() == before


def test_duplicates_inside_one_batch_are_stored_once(account: Account) -> None:
    result = ingest(account, post("1"), post("1"), post("2", DEV), post("1"))

    assert (result.stored, result.duplicates) == (2, 2)
    assert Mention.select().count() == 2
    assert len(result.mention_ids) == 2


def test_a_batch_partly_seen_before_stores_only_the_new_part(account: Account) -> None:
    ingest(account, post("1"), post("2", DEV))

    result = ingest(account, post("2", DEV), post("3", DEV, 10, in_reply_to="2", conversation="2"))

    assert (result.stored, result.duplicates) == (1, 1)
    assert case_of("mastodon", "3").id == case_of("mastodon", "2").id


def test_the_same_remote_id_on_two_networks_is_two_mentions(account: Account) -> None:
    x = Account.create(network="x", handle="@riverbank", keyring_ref="k:x")

    ingest(account, post("77"))
    Ingestor().ingest(x.id, Network.X, [post("77", network=Network.X)])

    assert Mention.select().where(Mention.remote_id == "77").count() == 2
    assert case_of("mastodon", "77").id != case_of("x", "77").id


def test_a_large_batch_is_stored_in_chunks(account: Account) -> None:
    people = [RemotePerson(f"p{i}", f"@p{i}", f"Person {i}") for i in range(130)]
    batch = [post(f"m{i}", people[i % 130], i) for i in range(900)]

    result = ingest(account, *batch)

    assert result.stored == 900 == len(result.mention_ids) == Mention.select().count()
    assert Person.select().count() == 130
    assert Case.select().count() == 900  # every post starts its own conversation
    assert ingest(account, *batch).duplicates == 900


# -- grouped by conversation ----------------------------------------------------------------------


def test_a_thread_from_one_person_is_one_case(account: Account) -> None:
    result = ingest(
        account,
        post("1", ROSA, 0, "Why was the session cancelled?"),
        post("2", ROSA, 5, "Hello?", in_reply_to="1", conversation="1"),
        post("3", ROSA, 9, "Still waiting.", in_reply_to="2", conversation="1"),
        post("9", ROSA, 3, "A different question entirely"),
    )

    thread = case_of("mastodon", "1")
    assert {case_of("mastodon", rid).id for rid in ("1", "2", "3")} == {thread.id}
    assert case_of("mastodon", "9").id != thread.id
    assert len(result.new_cases) == 2
    assert thread.mention_count == 3
    assert thread.first_mention_at == T0
    assert thread.last_activity_at == T0 + timedelta(minutes=9)
    assert thread.last_snippet == "Still waiting."
    assert (thread.status, thread.bucket) == (CaseStatus.NEW.value, Bucket.NEEDS_REPLY.value)
    assert events(thread.id) == [(EventKind.CREATED.value, "kindly")]


def test_replies_in_later_batches_join_the_case_through_their_parent(account: Account) -> None:
    ingest(account, post("1", ROSA, 0))
    ingest(account, post("2", ROSA, 5, in_reply_to="1"))  # the network gave no thread root
    ingest(account, post("3", ROSA, 9, in_reply_to="2"))

    assert case_of("mastodon", "3").id == case_of("mastodon", "1").id
    assert case_of("mastodon", "1").mention_count == 3


def test_a_batch_out_of_order_still_threads(account: Account) -> None:
    ingest(
        account,
        post("3", ROSA, 9, in_reply_to="2"),
        post("2", ROSA, 5, in_reply_to="1"),
        post("1", ROSA, 0),
    )

    assert Case.select().count() == 1
    assert Case.get().last_snippet == "post 3"


def test_someone_else_in_the_same_thread_gets_their_own_case(account: Account) -> None:
    ingest(
        account,
        post("1", ROSA, 0),
        post("2", DEV, 5, "I'd like to know too", in_reply_to="1", conversation="1"),
    )

    rosa_case, dev_case = case_of("mastodon", "1"), case_of("mastodon", "2")
    assert rosa_case.id != dev_case.id
    assert rosa_case.conversation_key == dev_case.conversation_key == "1"
    assert Person.get_by_id(dev_case.person_id).remote_id == DEV.remote_id


def test_a_reply_to_one_of_our_replies_joins_that_case(account: Account) -> None:
    ingest(account, post("1", ROSA, 0, "Is the walk on?"))
    case = case_of("mastodon", "1")
    OutboundReply.create(
        case=case.id,
        account=account.id,
        text="Yes, 10am at the bridge.",
        state=ReplyState.SENT.value,
        idempotency_key="i-1",
        remote_id="our-500",
    )
    set_status(case.id, CaseStatus.WAITING)

    result = ingest(account, post("2", ROSA, 60, "Great, see you there", in_reply_to="our-500"))

    assert case_of("mastodon", "2").id == case.id
    assert result.new_cases == []
    assert result.touched_cases == [case.id]
    assert Case.get_by_id(case.id).mention_count == 2


def test_a_reply_to_another_accounts_reply_does_not_join_our_case(account: Account) -> None:
    ingest(account, post("1", ROSA, 0))
    other = Account.create(network="mastodon", handle="@other", keyring_ref="k:other")
    OutboundReply.create(
        case=case_of("mastodon", "1").id,
        account=other.id,
        text="Hello",
        state=ReplyState.SENT.value,
        idempotency_key="i-2",
        remote_id="their-600",
    )

    ingest(account, post("2", ROSA, 5, in_reply_to="their-600"))

    assert case_of("mastodon", "2").id != case_of("mastodon", "1").id


# -- status rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [CaseStatus.RESOLVED, CaseStatus.ESCALATED])
def test_a_new_mention_reopens_a_closed_case_and_says_so(
    account: Account, status: CaseStatus
) -> None:
    ingest(account, post("1", ROSA, 0))
    case = case_of("mastodon", "1")
    set_status(case.id, status, "Moved to phone" if status is CaseStatus.ESCALATED else "")

    result = ingest(account, post("2", ROSA, 30, "One more thing", in_reply_to="1"))

    reopened = Case.get_by_id(case.id)
    assert (reopened.status, reopened.bucket) == (CaseStatus.OPEN.value, Bucket.NEEDS_REPLY.value)
    assert reopened.status_reason == ""
    assert reopened.reopened_count == 1
    assert result.reopened_cases == [case.id]
    event = CaseEvent.select().where(CaseEvent.case == case.id).order_by(CaseEvent.id.desc()).get()
    assert (event.kind, event.actor) == (EventKind.REOPENED.value, "kindly")
    assert event.detail.startswith(f"{status.label} → Open")


def test_a_case_reopened_twice_counts_both(account: Account) -> None:
    ingest(account, post("1", ROSA, 0))
    case = case_of("mastodon", "1")
    for n in (2, 3):
        set_status(case.id, CaseStatus.RESOLVED)
        ingest(account, post(str(n), ROSA, n, in_reply_to="1"))

    assert Case.get_by_id(case.id).reopened_count == 2
    assert [k for k, _ in events(case.id)].count(EventKind.REOPENED.value) == 2


def test_waiting_becomes_open_without_counting_as_reopened(account: Account) -> None:
    ingest(account, post("1", ROSA, 0))
    case = case_of("mastodon", "1")
    set_status(case.id, CaseStatus.WAITING)

    result = ingest(account, post("2", ROSA, 30, in_reply_to="1"))

    after = Case.get_by_id(case.id)
    assert (after.status, after.bucket) == (CaseStatus.OPEN.value, Bucket.NEEDS_REPLY.value)
    assert after.reopened_count == 0
    assert result.reopened_cases == []
    assert events(case.id)[-1] == (EventKind.STATUS_CHANGED.value, "kindly")


def test_a_left_alone_case_stays_left_alone_but_shows_the_activity(account: Account) -> None:
    ingest(account, post("1", ROSA, 0))
    case = case_of("mastodon", "1")
    set_status(case.id, CaseStatus.LEFT_ALONE, "Troll: policy says no reply")
    events_before = events(case.id)

    result = ingest(account, post("2", ROSA, 30, "Answer me!", in_reply_to="1"))

    after = Case.get_by_id(case.id)
    assert (after.status, after.bucket) == (CaseStatus.LEFT_ALONE.value, Bucket.LEFT_ALONE.value)
    assert after.status_reason == "Troll: policy says no reply"
    assert after.mention_count == 2
    assert after.last_snippet == "Answer me!"
    assert after.last_activity_at == T0 + timedelta(minutes=30)
    assert result.reopened_cases == []
    assert events(case.id) == events_before


@pytest.mark.parametrize("status", [CaseStatus.NEW, CaseStatus.OPEN])
def test_a_case_that_needs_a_reply_keeps_its_status(account: Account, status: CaseStatus) -> None:
    ingest(account, post("1", ROSA, 0))
    case = case_of("mastodon", "1")
    set_status(case.id, status)

    ingest(account, post("2", ROSA, 30, in_reply_to="1"))

    assert Case.get_by_id(case.id).status == status.value
    assert events(case.id) == [(EventKind.CREATED.value, "kindly")]


def test_an_older_mention_arriving_late_does_not_turn_back_the_case(account: Account) -> None:
    ingest(account, post("1", ROSA, 0), post("3", ROSA, 60, "The newest words", in_reply_to="1"))
    case = case_of("mastodon", "1")

    ingest(account, post("2", ROSA, 30, "Words from before", in_reply_to="1"))

    after = Case.get_by_id(case.id)
    assert after.mention_count == 3
    assert after.last_activity_at == T0 + timedelta(minutes=60)
    assert after.last_snippet == "The newest words"


def test_their_words_written_before_our_reply_still_become_the_snippet(account: Account) -> None:
    ingest(account, post("1", ROSA, 0, "Is the walk on?"))
    case = case_of("mastodon", "1")
    Outbox().queue_reply(case.id, "Yes! 10am at the bridge.")  # activity now, long after T0

    ingest(account, post("2", ROSA, 5, "Also, can I bring my dog?", in_reply_to="1"))

    assert Case.get_by_id(case.id).last_snippet == "Also, can I bring my dog?"


def test_a_mention_a_microsecond_newer_becomes_the_snippet(account: Account) -> None:
    ingest(account, post("1", ROSA, 0, "older"))
    later = RemoteMention(
        network=Network.MASTODON,
        remote_id="2",
        author=ROSA,
        text="newer",
        created_at=T0 + timedelta(microseconds=1),
        in_reply_to_id="1",
    )

    ingest(account, later)

    assert case_of("mastodon", "1").last_snippet == "newer"


# -- people ---------------------------------------------------------------------------------------


def test_mentions_without_an_author_go_to_the_unknown_person(db_path: Path) -> None:
    page = Account.create(network="facebook", handle="Riverbank (Page)", keyring_ref="k:fb")

    Ingestor().ingest(
        page.id,
        Network.FACEBOOK,
        [
            post("c1", None, 0, "Who do I ask about the walk?", network=Network.FACEBOOK),
            post("c2", None, 5, "Great page", network=Network.FACEBOOK),
        ],
    )

    unknown = Person.get((Person.network == "facebook") & (Person.remote_id == "~unknown"))
    assert unknown.display_name == UNKNOWN_AUTHOR.display_name
    assert {m.author_id for m in Mention.select()} == {unknown.id}
    assert Case.select().where(Case.person == unknown.id).count() == 2  # two conversations
    assert Person.select().count() == 1


def test_a_persons_details_follow_the_network_but_keep_what_it_did_not_say(
    account: Account,
) -> None:
    ingest(account, post("1", ROSA, 0))

    renamed = RemotePerson(ROSA.remote_id, "@rosa@new.example", "Rosa G.", None, None)
    ingest(account, post("2", renamed, 5))

    rosa = Person.get((Person.network == "mastodon") & (Person.remote_id == ROSA.remote_id))
    assert (rosa.handle, rosa.display_name) == ("@rosa@new.example", "Rosa G.")
    assert rosa.follower_count == 2150  # the network did not say: the last known count stays
    assert rosa.profile_url == ROSA.profile_url
    assert Person.select().count() == 1
    # The search index follows the rename for both of her mentions.
    expression = sqlite.match_expression("new.example")
    assert expression is not None
    matched = Mention.select().where(Mention.id.in_(sqlite.matching_mention_ids(expression)))
    assert matched.count() == 2


def test_a_new_follower_count_replaces_the_old_one(account: Account) -> None:
    ingest(account, post("1", ROSA, 0))

    ingest(account, post("2", RemotePerson(ROSA.remote_id, ROSA.handle, ROSA.display_name, 0), 5))

    assert Person.get(Person.remote_id == ROSA.remote_id).follower_count == 0


def test_within_one_batch_the_newest_description_of_a_person_wins(account: Account) -> None:
    old = RemotePerson("101", "@rosa", "Old Name", 10)
    new = RemotePerson("101", "@rosa", "New Name", 20)

    ingest(account, post("2", new, 5), post("1", old, 0))

    rosa = Person.get(Person.remote_id == "101")
    assert (rosa.display_name, rosa.follower_count) == ("New Name", 20)


def test_hostile_text_and_names_are_cleaned_on_the_way_in(account: Account) -> None:
    sneaky = RemotePerson("666", "@evil\u202e", "Ev\u0000il \u202egnp.exe")

    ingest(account, post("1", sneaky, 0, "Open \u202egnp.exe\u202c now\x07"))

    mention = Mention.get()
    assert mention.text == "Open gnp.exe now"
    person = Person.get(Person.remote_id == "666")
    assert (person.handle, person.display_name) == ("@evil", "Evil gnp.exe")
    assert Case.get().last_snippet == "Open gnp.exe now"


def test_a_post_with_broken_unicode_escapes_does_not_stop_its_batch(account: Account) -> None:
    """JSON allows a lone "\\ud83d"; such a string cannot be stored as UTF-8 as it is."""
    payload = json.loads(
        '{"content": "<p>broken \\ud83d emoji</p>", "name": "Rosa \\udc00",'
        ' "url": "https://social.example/\\ud800", "id": "bad"}'
    )
    author = RemotePerson("103", "@rosa\udfff", payload["name"], None, payload["url"])
    broken = RemoteMention(
        network=Network.MASTODON,
        remote_id="bad",
        author=author,
        text="broken \ud83d emoji",
        created_at=T0,
        markup=payload["content"],
        url=payload["url"],
        raw=payload,
    )

    result = ingest(account, broken, post("fine", DEV, 1))

    assert result.stored == 2
    stored = Mention.get(Mention.remote_id == "bad")
    assert stored.text == "broken \ufffd emoji"
    assert stored.markup == "<p>broken \ufffd emoji</p>"
    assert stored.url == "https://social.example/\ufffd"
    assert stored.raw["name"] == "Rosa \ufffd"
    person = Person.get(Person.remote_id == "103")
    assert (person.handle, person.display_name) == ("@rosa\ufffd", "Rosa \ufffd")
    assert person.profile_url == "https://social.example/\ufffd"
    assert Case.get_by_id(stored.case_id).last_snippet == "broken \ufffd emoji"


# -- one transaction ------------------------------------------------------------------------------


class _Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.results: list[IngestResult] = []
        self.fail = fail

    def after_ingest(self, result: IngestResult) -> None:
        self.results.append(result)
        assert database.in_transaction()
        if self.fail:
            raise RuntimeError("triage failed")


def test_hooks_run_inside_the_transaction_and_a_failure_stores_nothing(account: Account) -> None:
    recorder = _Recorder()
    result = Ingestor([recorder]).ingest(account.id, Network.MASTODON, [post("1")])
    assert recorder.results == [result]
    before = snapshot()

    with pytest.raises(RuntimeError):
        Ingestor([_Recorder(fail=True)]).ingest(
            account.id, Network.MASTODON, [post("2", DEV), post("3", ROSA, 9, in_reply_to="1")]
        )

    assert snapshot() == before


def test_an_empty_batch_does_nothing(account: Account) -> None:
    recorder = _Recorder()

    result = Ingestor([recorder]).ingest(account.id, Network.MASTODON, [])

    assert result == IngestResult()
    assert Mention.select().count() == 0


@pytest.mark.parametrize("returning", [True, False])
def test_ids_and_renames_are_the_same_with_or_without_insert_returning(
    account: Account, monkeypatch: pytest.MonkeyPatch, returning: bool
) -> None:
    """SQLite before 3.35 has no RETURNING: ingest then reads the ids back with a SELECT."""
    import app.core.ingest as ingest_module

    monkeypatch.setattr(ingest_module, "RETURNING", returning)
    renamed = RemotePerson(ROSA.remote_id, "@rosa@social.example", "Rosa G.", 2200)
    first = ingest(account, post("1", ROSA, 0), post("2", DEV, 1))
    second = ingest(account, post("3", renamed, 2), post("4", DEV, 3), post("1", ROSA, 0))

    stored = dict(Mention.select(Mention.remote_id, Mention.id).tuples())
    assert sorted(first.mention_ids) == [stored["1"], stored["2"]]
    assert sorted(second.mention_ids) == [stored["3"], stored["4"]]
    assert (second.stored, second.duplicates) == (2, 1)
    people = {p.remote_id: (p.display_name, p.follower_count) for p in Person.select()}
    assert people == {ROSA.remote_id: ("Rosa G.", 2200), DEV.remote_id: ("Dev Patel", 12)}
    authors = dict(Mention.select(Mention.remote_id, Mention.author).tuples())
    assert authors["1"] == authors["3"] != authors["2"] == authors["4"]
    # The search index follows the new name, for the old mention too.
    hits = database.execute_sql(
        "SELECT rowid FROM mention_fts WHERE mention_fts MATCH 'author:G'"
    ).fetchall()
    assert sorted(row[0] for row in hits) == sorted([stored["1"], stored["3"]])
