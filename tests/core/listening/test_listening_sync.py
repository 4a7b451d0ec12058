"""Saved searches and feeds run by the SyncEngine as streams: incremental, batch and cursor
committed together, faults kept to their stream, and each post stored once even when it is
both found by a search and sent to us directly."""

from __future__ import annotations

import threading
from pathlib import Path

from app.core.accounts import AccountService
from app.core.listening.store import FEED_ACCOUNT_REF, ListeningStore
from app.core.listening.streams import ListeningStreams
from app.core.sync import SyncEngine, SyncProgress
from app.core.vocab import Network
from app.storage.models import Account, Case, Feed, Mention, SavedSearch
from tests.fakes.feeds import FeedSite
from tests.fakes.search_routes import SearchingMastodon, SearchingX
from tests.fakes.server import Fault
from tests.helpers.accounts_over_http import connect_mastodon, connect_x
from tests.helpers.sync_support import check_store

FEEDS = Path(__file__).parents[2] / "contract" / "recordings" / "feeds"
TAG_PATH = "/api/v1/timelines/tag/RiverCleanup"


def search_cursor(search_id: int) -> str | None:
    value: str | None = SavedSearch.get_by_id(search_id).cursor
    return value


def test_a_saved_search_runs_after_its_account_incrementally(
    service: AccountService, mastodon: SearchingMastodon
) -> None:
    account = connect_mastodon(service, mastodon)
    store = ListeningStore()
    tag = store.add_search(account.id, "hashtag", "#RiverCleanup")
    store.add_search(account.id, "keywords", "Riverbank Alliance")
    off = store.add_search(account.id, "keywords", "switched off")
    store.set_search_enabled(off.id, False)
    mastodon.add_mention("ann@social.example", "Hello @kindlytrust")
    for i in range(12):
        mastodon.add_status(f"p{i}@social.example", f"Clean-up day {i} #RiverCleanup")
    mastodon.add_status("q@social.example", "The Riverbank Alliance is great")
    mastodon.add_status("r@social.example", "switched off should not be searched")
    engine = SyncEngine(service)

    report = engine.sync_all()

    (result,) = report.accounts
    assert result.ok and result.stored == 1  # the direct mention
    assert [(s.label.split(" · ")[1], s.stored, s.error) for s in result.streams] == [
        ("#RiverCleanup", 12, None),
        ("“Riverbank Alliance”", 1, None),
    ]
    assert report.stored == 14 and not report.failed
    found = Mention.select().where(Mention.kind == "search")
    assert found.count() == 13 and not any(m.addressed_to_us for m in found)
    assert search_cursor(tag.id) == max(
        (m.remote_id for m in found if "#RiverCleanup" in m.text), key=lambda i: (len(i), i)
    )
    assert SavedSearch.get_by_id(tag.id).last_run_at is not None
    assert SavedSearch.get_by_id(off.id).last_run_at is None
    assert Case.select().where(Case.account == account.id).count() == 14

    mastodon.add_status("late@social.example", "Late to the #RiverCleanup")
    again = engine.sync_all()
    assert again.stored == 1 and Mention.select().count() == 15
    assert len(mastodon.calls("GET", "/api/v2/search")[-1].query["min_id"]) == 1
    assert check_store().sound


def test_a_search_broken_off_mid_walk_resumes_without_losing_or_repeating(
    service: AccountService, mastodon: SearchingMastodon
) -> None:
    account = connect_mastodon(service, mastodon)
    store = ListeningStore()
    search = store.add_search(account.id, "hashtag", "RiverCleanup")
    mastodon.add_status("first@social.example", "#RiverCleanup")
    engine = SyncEngine(service)
    engine.sync_all()
    for i in range(100):
        mastodon.add_status(f"p{i}@social.example", f"#RiverCleanup {i}")
    served = len(mastodon.calls("GET", TAG_PATH))

    def drop_after_first_page(progress: SyncProgress) -> None:
        if "#RiverCleanup" in progress.label and not progress.done:
            mastodon.fail("GET", TAG_PATH, *[Fault.drop()] * 4)  # then the network goes

    broken = engine.sync_all(progress=drop_after_first_page)

    (stream,) = broken.accounts[0].streams
    assert stream.stored == 40 and stream.error is not None
    assert broken.accounts[0].ok  # the account itself synced
    assert SavedSearch.get_by_id(search.id).last_error == stream.error
    assert len(mastodon.calls("GET", TAG_PATH)) > served + 1
    kept = search_cursor(search.id)

    resumed = engine.sync_all()
    assert resumed.accounts[0].streams[0].stored == 60
    assert mastodon.calls("GET", TAG_PATH)[-3].arg("min_id") == kept
    assert Mention.select().where(Mention.kind == "search").count() == 101
    assert SavedSearch.get_by_id(search.id).last_error is None
    assert check_store().sound


def test_found_first_then_sent_to_us_is_stored_once_and_becomes_addressed(
    service: AccountService, mastodon: SearchingMastodon
) -> None:
    account = connect_mastodon(service, mastodon)
    search = ListeningStore().add_search(account.id, "hashtag", "RiverCleanup")
    status = mastodon.add_status("ann@social.example", "Who runs the #RiverCleanup?")
    engine = SyncEngine(service)
    (stream,) = ListeningStreams().search_streams(account.id, service.client_for(account))
    assert engine.sync_stream(stream).stored == 1
    row = Mention.get(Mention.remote_id == status.id)
    assert (row.kind, row.addressed_to_us) == ("search", False)

    # Later she tags us in a reply to it: that is a direct mention, and so is the post itself
    # when the network notifies us of it.
    mastodon.add_notification("mention", mastodon.accounts[status.account_id], status)
    report = engine.sync_all()

    assert report.accounts[0].stored == 0 and report.accounts[0].duplicates == 1
    row = Mention.get(Mention.remote_id == status.id)
    assert (row.kind, row.addressed_to_us) == ("mention", True)
    assert Mention.select().count() == 1 and search.id
    assert check_store().sound


def test_sent_to_us_first_then_found_stays_addressed(
    service: AccountService, mastodon: SearchingMastodon
) -> None:
    account = connect_mastodon(service, mastodon)
    ListeningStore().add_search(account.id, "hashtag", "RiverCleanup")
    added = mastodon.add_mention("ann@social.example", "@kindlytrust see you at #RiverCleanup")

    report = SyncEngine(service).sync_all()

    assert report.accounts[0].stored == 1
    assert report.accounts[0].streams[0].stored == 0  # found again: the same post
    assert report.accounts[0].streams[0].duplicates == 1
    row = Mention.get(Mention.remote_id == added.status_id)
    assert (row.kind, row.addressed_to_us) == ("mention", True)


def test_x_searches_wait_for_their_cost_to_be_seen_and_their_reads_are_billed(
    service: AccountService, x: SearchingX
) -> None:
    account = connect_x(service, x)
    store = ListeningStore()
    search = store.add_search(account.id, "keywords", "riverbank")
    assert not search.enabled and search.billed
    for i in range(5):
        x.add_post(f"riverbank {i}")
    engine = SyncEngine(service)
    assert engine.sync_all().accounts[0].streams == []
    assert not x.calls("GET", "/2/tweets/search/recent")

    store.set_search_enabled(search.id, True, cost_acknowledged=True)
    before = engine.usage.totals(account.id).reads
    report = engine.sync_all()

    assert report.accounts[0].streams[0].stored == 5
    assert engine.usage.totals(account.id).reads >= before + 5  # what the search read is billed


def test_feeds_are_read_under_the_hidden_web_account(
    service: AccountService, site: FeedSite
) -> None:
    alerts = site.publish("/alerts.atom", (FEEDS / "google_alerts.atom").read_bytes(), etag='"1"')
    broken = site.base_url + "/gone.atom"
    store = ListeningStore()
    feed = store.add_feed(alerts)
    gone = store.add_feed(broken)
    engine = SyncEngine(service)

    report = engine.sync_all()

    assert report.accounts == []  # no network accounts: feeds still run
    assert [(f.source_id, f.stored, bool(f.error)) for f in report.feeds] == [
        (feed.id, 3, False),
        (gone.id, 0, True),
    ]
    assert report.failed == [report.feeds[1]]
    assert Feed.get_by_id(gone.id).last_error == report.feeds[1].error
    assert Feed.get_by_id(feed.id).title == 'Google Alert - "Riverbank Alliance"'
    web = Account.get(Account.keyring_ref == FEED_ACCOUNT_REF)
    assert web.network == Network.WEB.value and service.list_accounts() == []
    cases = Case.select().where(Case.account == web.id)
    assert cases.count() == 3 and {c.network for c in cases} == {"web"}
    assert not any(m.addressed_to_us for m in Mention.select())

    again = engine.sync_all()
    assert (
        again.feeds[0].stored == 0
        and site.gets("/alerts.atom")[-1].headers.get("if-none-match") == '"1"'
    )
    assert Mention.select().count() == 3
    assert check_store().sound


def test_a_cancel_stops_a_stream_between_batches(service: AccountService, site: FeedSite) -> None:
    body = (FEEDS / "google_alerts.atom").read_bytes()
    first = ListeningStore().add_feed(site.publish("/a.atom", body))
    ListeningStore().add_feed(site.publish("/b.atom", body.replace(b"herefordtimes", b"hts")))
    cancel = threading.Event()

    report = SyncEngine(service).sync_all(cancel, lambda _p: cancel.set())

    assert [f.source_id for f in report.feeds] == [first.id]
    assert report.feeds[0].stored == 3  # what was committed stays
    assert Feed.get_by_id(first.id).last_run_at is None  # not a finished run


def test_kindly_sync_prints_each_feed_and_fails_when_one_fails(
    service: AccountService, site: FeedSite
) -> None:
    import argparse
    import io

    from app.core import cli_sync
    from app.core.ingest import Ingestor

    store = ListeningStore()
    store.add_feed(site.publish("/alerts.atom", (FEEDS / "google_alerts.atom").read_bytes()))
    out = io.StringIO()
    args = argparse.Namespace(no_send=True)

    assert cli_sync.run(args, service=service, ingestor=Ingestor(), stdout=out) == 0
    assert out.getvalue().splitlines()[-1].endswith(": 3 new")

    store.add_feed(site.base_url + "/gone.atom")
    out = io.StringIO()
    assert cli_sync.run(args, service=service, ingestor=Ingestor(), stdout=out) == 1
    assert "failed: The feed is no longer at this address" in out.getvalue()
