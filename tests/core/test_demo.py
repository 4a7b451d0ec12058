"""The demo organisation: its own file, realistic variety, and the threads the UI needs to show."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import peewee as pw
import pytest

from app.core import demo
from app.core.demo import DemoBuilder, demo_database_path, open_demo_database
from app.core.inbox import CaseQuery, Inbox, InboxView
from app.core.ingest import IngestResult
from app.core.settings import Settings
from app.core.triage.office_hours import office_time_between
from app.core.triage_setup import office_hours
from app.core.vocab import CaseStatus, EventKind, Network, ReplyState
from app.storage.db import close_database
from app.storage.models import Account, Case, CaseEvent, Mention, OutboundReply, Person

SOCIAL = {n.value for n in Network if n.can_reply}  # the four networks (not web feeds)


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Built once for the module (it is only read); each test opens it again."""
    folder = tmp_path_factory.mktemp("data")
    open_demo_database(folder)
    close_database()
    yield folder


@pytest.fixture
def demo_db(demo_folder: Path) -> Iterator[Path]:
    path = open_demo_database(demo_folder)
    yield path
    close_database()


def texts() -> list[str]:
    return [m.text for m in Mention.select(Mention.text)]


def test_the_demo_lives_in_its_own_private_file(demo_folder: Path, demo_db: Path) -> None:
    assert demo_db == demo_database_path(demo_folder) == demo_folder / "demo" / demo_db.name
    assert not (demo_folder / "kindly.sqlite3").exists()  # real data is never touched
    if os.name == "posix":
        assert stat.S_IMODE(demo_db.stat().st_mode) == 0o600
        assert stat.S_IMODE(demo_db.parent.stat().st_mode) == 0o700


def test_hundreds_of_mentions_on_all_four_networks(demo_db: Path) -> None:
    assert Mention.select().count() >= 300
    per_network = {
        row.network: row.n
        for row in Mention.select(Mention.network, pw.fn.COUNT(Mention.id).alias("n")).group_by(
            Mention.network
        )
    }
    assert set(per_network) == SOCIAL
    assert all(n >= 50 for n in per_network.values()), per_network
    assert {a.network for a in Account.select()} == SOCIAL


@pytest.mark.parametrize(
    "pool",
    ["QUESTIONS", "COMPLAINTS", "PRAISE", "OPPOSITION", "SPAM"],
)
def test_every_kind_of_mention_is_there(demo_db: Path, pool: str) -> None:
    stored = texts()
    present = [line for line in getattr(demo, pool) if any(line in text for text in stored)]
    assert present, f"no {pool.lower()} in the demo"


def test_hostile_text_is_there_and_was_made_safe(demo_db: Path) -> None:
    stored = texts()

    assert any("<script>" in t for t in stored)  # shown as text, never run
    assert any("gnp.exe" in t for t in stored)
    assert not any("\u202e" in t or "\u202c" in t for t in stored)
    assert any("👩🏽\u200d🔬" in t for t in stored)  # but emoji sequences survive
    assert any("ما رأيكم" in t for t in stored)
    assert any(len(t) > 4000 for t in stored)


def per_case(query: pw.ModelSelect, field: pw.Field) -> dict[int, int]:
    counted = query.select(field, pw.fn.COUNT(pw.SQL("*"))).group_by(field).tuples()
    return {case_id: n for case_id, n in counted}


def test_the_five_exchange_thread(demo_db: Path) -> None:
    sent = OutboundReply.select().where(OutboundReply.state == ReplyState.SENT.value)
    theirs = per_case(Mention.select(), Mention.case)
    ours = per_case(sent, OutboundReply.case)
    long_threads = [c for c, n in theirs.items() if n >= 5 and ours.get(c, 0) >= 4]
    assert len(long_threads) == 1
    case = Case.get_by_id(long_threads[0])
    assert Person.get_by_id(case.person_id).display_name == "Rosa García"
    # Each of her later messages answers one of our replies, so they all landed in one case.
    our_ids = {r.remote_id for r in sent.where(OutboundReply.case == case.id)}
    replies_to_us = Mention.select().where(
        (Mention.case == case.id) & (Mention.in_reply_to_id.in_(list(our_ids)))
    )
    assert replies_to_us.count() == 4
    assert case.status == CaseStatus.OPEN.value  # her last message waits for our answer


def test_sam_answers_in_office_hours_and_nothing_is_dated_in_the_future(demo_db: Path) -> None:
    """The reports' response times are office hours: replies sent at night, or dated after the
    demo was built, made the demo's median first response 0 min."""
    now, hours = datetime.now(UTC), office_hours(Settings())
    sent = list(OutboundReply.select().where(OutboundReply.state == ReplyState.SENT.value))
    assert len(sent) >= 10 and all(r.sent_at <= now for r in sent)
    rosa = Person.get(Person.display_name == "Rosa García")
    by_sam = [r for r in sent if Case.get_by_id(r.case_id).person_id != rosa.id]
    assert len(by_sam) >= 5
    for reply in by_sam:  # 10 minutes to 3 hours of his working time after their message
        waited = office_time_between(
            hours, Case.get_by_id(reply.case_id).last_activity_at, reply.sent_at
        )
        assert timedelta(minutes=10) <= waited <= timedelta(hours=3)
    decided = CaseEvent.select().where(CaseEvent.actor == "officer")
    assert decided.count() >= 5 and all(e.created_at <= now for e in decided)


def test_some_cases_were_decided_with_reasons(demo_db: Path) -> None:
    def cases(status: CaseStatus) -> list[Case]:
        return list(Case.select().where(Case.status == status.value))

    assert len(cases(CaseStatus.RESOLVED)) >= 5
    assert len(cases(CaseStatus.WAITING)) >= 5
    left_alone, escalated = cases(CaseStatus.LEFT_ALONE), cases(CaseStatus.ESCALATED)
    assert len(left_alone) >= 5 and len(escalated) >= 1
    for case in left_alone + escalated:
        assert case.status_reason, f"case {case.id} decided without a reason"
        decision = (  # the latest: a rule may have decided first, at ingest
            CaseEvent.select()
            .where((CaseEvent.case == case.id) & (CaseEvent.kind == EventKind.DECISION.value))
            .order_by(CaseEvent.id.desc())
            .get()
        )
        assert case.status_reason in decision.detail
    for case in Case.select():
        assert case.bucket == CaseStatus(case.status).bucket.value


def test_the_demo_is_triaged_like_synced_mentions(demo_db: Path) -> None:
    waiting = list(Case.select().where(Case.bucket == CaseStatus.NEW.bucket.value))
    assert waiting and all(case.why for case in waiting), "every inbox case says why"
    assert any("rule: " in case.why for case in waiting)
    assert Mention.select().where(Mention.sentiment.is_null(False)).count() > 0
    by_rule = CaseEvent.select().where(CaseEvent.actor.startswith("rule: ")).count()
    assert by_rule > 0


def test_the_counts_on_cases_match_their_rows(demo_db: Path) -> None:
    mentions = per_case(Mention.select(), Mention.case)
    replies = per_case(OutboundReply.select(), OutboundReply.case)
    for case_id, mention_count, reply_count in Case.select(
        Case.id, Case.mention_count, Case.reply_count
    ).tuples():
        assert mention_count == mentions[case_id]
        assert reply_count == replies.get(case_id, 0)
    assert None not in mentions


def test_facebook_comments_without_an_author_are_from_the_unknown_person(demo_db: Path) -> None:
    unknown = Person.get_or_none((Person.network == "facebook") & (Person.remote_id == "~unknown"))
    assert unknown is not None
    assert Mention.select().where(Mention.author == unknown.id).count() >= 1


def test_the_inbox_reads_the_demo(demo_db: Path) -> None:
    inbox = Inbox()
    counts = inbox.view_counts()

    assert counts[InboxView.ALL] == Case.select().count()
    assert counts[InboxView.NEEDS_REPLY] > 0
    query = CaseQuery(bucket=InboxView.NEEDS_REPLY.bucket)
    page = inbox.page(query)
    assert 0 < len(page) <= Inbox.PAGE
    assert inbox.count(query) == counts[InboxView.NEEDS_REPLY]
    detail = inbox.case(page[0].id)
    assert detail is not None and detail.items


def test_building_twice_into_the_same_database_is_refused(demo_db: Path) -> None:
    before = (Mention.select().count(), Case.select().count(), Account.select().count())

    with pytest.raises(RuntimeError, match="empty database"):
        DemoBuilder().build()

    assert (Mention.select().count(), Case.select().count(), Account.select().count()) == before


def test_opening_the_demo_again_does_not_rebuild_it(demo_folder: Path, demo_db: Path) -> None:
    before = Mention.select().count()
    close_database()

    open_demo_database(demo_folder)

    assert Mention.select().count() == before


class _FailsOnSecondBatch:
    def __init__(self) -> None:
        self.batches = 0

    def after_ingest(self, result: IngestResult) -> None:
        self.batches += 1
        if self.batches == 2:
            raise RuntimeError("triage failed on the second network")


def test_a_failed_build_leaves_no_half_demo_and_is_built_next_time(data_dir: Path) -> None:
    failing = _FailsOnSecondBatch()

    with pytest.raises(RuntimeError, match="second network"):
        open_demo_database(data_dir, hooks=[failing])

    assert failing.batches == 2
    assert Account.select().count() == 0 and Mention.select().count() == 0
    close_database()

    open_demo_database(data_dir)

    assert Account.select().count() == len(SOCIAL)
    assert Mention.select().count() >= 300
    close_database()
