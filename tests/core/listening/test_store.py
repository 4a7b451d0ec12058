"""What the officer sets up: saved searches per account, feeds, and the schema step behind them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.core.inbox import Inbox
from app.core.ingest import Ingestor
from app.core.listening.store import FEED_ACCOUNT_REF, ListeningError, ListeningStore
from app.core.networks.base import RemoteMention, RemotePerson
from app.core.outbox import Outbox, ReplyRefused
from app.core.vocab import Network
from app.storage.db import close_database, connect, open_database
from app.storage.migrations import migrate
from app.storage.models import Account, Feed, OutboundReply, Person, SavedSearch


def account(network: Network, handle: str = "org") -> int:
    return int(
        Account.create(network=network.value, handle=handle, keyring_ref=handle + network).id
    )


def test_searches_are_checked_kept_and_edited(db_path: Path) -> None:
    store = ListeningStore()
    masto, x, fb = account(Network.MASTODON), account(Network.X), account(Network.FACEBOOK)

    tag = store.add_search(masto, "hashtag", "  #RiverCleanup ")
    assert (tag.query, tag.enabled, tag.spec.label) == ("RiverCleanup", True, "#RiverCleanup")
    words = store.add_search(masto, "keywords", "Riverbank   Alliance")
    assert words.query == "Riverbank Alliance" and words.label.endswith("“Riverbank Alliance”")

    for bad in ("", "#", "two words", "#a#b"):
        with pytest.raises(ListeningError):
            store.add_search(masto, "hashtag", bad)
    with pytest.raises(ListeningError, match="already has this search"):
        store.add_search(masto, "hashtag", "RiverCleanup")
    with pytest.raises(ListeningError, match="no search"):
        store.add_search(fb, "keywords", "Riverbank")
    with pytest.raises(ListeningError):
        store.add_search(9999, "keywords", "Riverbank")
    with pytest.raises(ListeningError, match="at most"):
        store.add_search(masto, "keywords", "word " * 200)

    SavedSearch.update(cursor="123").where(SavedSearch.id == tag.id).execute()
    edited = store.edit_search(tag.id, "RiverCleanUp2026")
    assert (edited.query, edited.cursor) == ("RiverCleanUp2026", None)  # a new stream
    assert [s.id for s in store.searches(masto)] == [tag.id, words.id]

    on_x = store.add_search(x, "keywords", "riverbank")
    assert not on_x.enabled and on_x.billed  # X bills reads: off until the cost is seen
    with pytest.raises(ListeningError, match="bills every post"):
        store.set_search_enabled(on_x.id, True)
    store.set_estimate(on_x.id, 1200)
    enabled = store.set_search_enabled(on_x.id, True, cost_acknowledged=True)
    assert enabled.enabled and enabled.estimated_reads == 1200
    changed = store.edit_search(on_x.id, "riverbank alliance")
    assert not changed.enabled and changed.estimated_reads is None  # a new cost to look at

    store.remove_search(words.id)
    assert [s.id for s in store.searches()] == [tag.id, on_x.id]
    Account.delete().where(Account.id == masto).execute()
    assert [s.id for s in store.searches()] == [on_x.id]  # gone with their account


def test_feeds_live_under_one_hidden_account(db_path: Path) -> None:
    from app.core.accounts import AccountService
    from app.core.secrets import MemoryKeyring, SecretStore

    store = ListeningStore()
    feed = store.add_feed("www.google.com/alerts/feeds/0680/1060", "Alerts")
    assert feed.url == "https://www.google.com/alerts/feeds/0680/1060" and feed.label
    with pytest.raises(ListeningError, match="already reads"):
        store.add_feed("https://www.google.com/alerts/feeds/0680/1060")
    with pytest.raises(ListeningError):
        store.add_feed("ftp://files.example/feed")
    second = store.add_feed("https://news.example/rss")
    assert Account.select().where(Account.keyring_ref == FEED_ACCOUNT_REF).count() == 1
    assert AccountService(SecretStore(MemoryKeyring())).list_accounts() == []
    assert not store.set_feed_enabled(second.id, False).enabled
    store.remove_feed(second.id)
    assert [f.id for f in store.feeds()] == [feed.id]
    with pytest.raises(ListeningError):
        store.add_search(store.feed_account_id(), "keywords", "x")


def test_a_web_item_cannot_be_answered_and_a_found_post_says_so(db_path: Path) -> None:
    web = ListeningStore.feed_account_id()
    masto = account(Network.MASTODON)
    ingest = Ingestor()
    site = RemotePerson("news.example", "news.example", "news.example")
    when = datetime(2026, 7, 30, tzinfo=UTC)
    article = RemoteMention(
        Network.WEB, "https://news.example/a", site, "An article", when,
        kind="feed", addressed_to_us=False,
    )  # fmt: skip
    (web_case,) = ingest.ingest(web, Network.WEB, [article]).new_cases
    ann = RemotePerson("7", "ann@social.example", "Ann")
    found = RemoteMention(
        Network.MASTODON, "101", ann, "About them", when, kind="search", addressed_to_us=False
    )
    (found_case,) = ingest.ingest(masto, Network.MASTODON, [found]).new_cases

    detail = Inbox().case(web_case)
    assert detail is not None and not detail.can_reply and not detail.addressed_to_us
    with pytest.raises(ReplyRefused, match="web feed"):
        Outbox().queue_reply(web_case, "Thanks for the article!")
    assert OutboundReply.select().count() == 0

    other = Inbox().case(found_case)
    assert other is not None and other.can_reply and not other.addressed_to_us
    Outbox().queue_reply(found_case, "Hi Ann, thanks for mentioning us!")  # allowed, knowingly


def test_schema_4_upgrades_a_version_3_file_keeping_people_unlinked(tmp_path: Path) -> None:
    path = tmp_path / "kindly.sqlite3"
    db = connect(path)
    db.connect()
    migrate(db, path, target=3)
    db.execute_sql(
        "INSERT INTO person (network, remote_id, handle, display_name, stance, notes, updated_at)"
        " VALUES ('mastodon', '7', 'rosa@social.example', 'Rosa', 'unknown', '', "
        "'2026-01-01 00:00:00.000000')"
    )
    db.close()

    report = open_database(path)
    try:
        assert report.from_version == 3 and report.to_version >= 4
        rosa = Person.get(Person.remote_id == "7")
        assert rosa.link_group is None
        assert SavedSearch.select().count() == 0 and Feed.select().count() == 0
    finally:
        close_database()
