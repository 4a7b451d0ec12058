"""Feeds as real sites serve them: Google Alerts, news searches, blogs, broken XML, huge feeds."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from app.core.listening.feeds import (
    FeedReader,
    FeedState,
    ParsedFeed,
    canonical_url,
    check_feed_url,
    parse_feed,
    unwrap_redirect,
)
from app.core.networks.errors import BadResponse, NotFound, Rejected
from app.core.networks.http import RetryPolicy
from app.core.vocab import Network
from tests.fakes.feeds import RSS, FeedSite
from tests.fakes.server import Fault

FEEDS = Path(__file__).parents[2] / "contract" / "recordings" / "feeds"
READ_AT = datetime(2026, 7, 31, 9, 0, tzinfo=UTC)
GAZETTE = "https://www.valleygazette.example/search/rss?q=riverbank+alliance"


def parsed(name: str, url: str = "https://feeds.example/feed.xml") -> ParsedFeed:
    return parse_feed((FEEDS / name).read_bytes(), url, fetched_at=READ_AT)


def reader(http: httpx.Client, **kwargs: object) -> FeedReader:
    return FeedReader(http, sleep=lambda _s: None, policy=RetryPolicy(attempts=2), **kwargs)  # type: ignore[arg-type]


# -- links ----------------------------------------------------------------------------------------


def test_google_redirects_are_unwrapped_and_tracking_is_dropped() -> None:
    alert = (
        "https://www.google.com/url?rct=j&sa=t&url=https://news.example/a%3Fid%3D7%26utm_source"
        "%3Dgoogle&ct=ga&cd=CAIyGjM1&usg=AOvVaw1"
    )
    assert unwrap_redirect(alert) == "https://news.example/a?id=7&utm_source=google"
    assert canonical_url(alert) == "https://news.example/a?id=7"
    assert unwrap_redirect("https://www.google.co.uk/url?q=https://b.example/x&sa=D") == (
        "https://b.example/x"
    )
    assert unwrap_redirect("https://www.google.com/search?q=https://c.example") == (
        "https://www.google.com/search?q=https://c.example"  # not a redirect
    )
    assert unwrap_redirect("https://evil.example/url?url=https://x.example") == (
        "https://evil.example/url?url=https://x.example"  # only Google's
    )
    assert unwrap_redirect("https://www.google.com/url?url=javascript:alert(1)").startswith(
        "https://www.google.com/"
    )
    assert canonical_url("HTTPS://News.Example/a#comments") == "https://news.example/a"


def test_feed_addresses_are_checked() -> None:
    assert check_feed_url("news.example/rss") == "https://news.example/rss"
    assert check_feed_url("feed://news.example/rss") == "https://news.example/rss"
    assert check_feed_url("feed:https://news.example/rss") == "https://news.example/rss"
    assert check_feed_url("http://news.example/rss") == "http://news.example/rss"
    for bad in ("", "ftp://news.example/rss", "https://"):
        with pytest.raises(ValueError):
            check_feed_url(bad)


# -- the quirks -----------------------------------------------------------------------------------


def test_google_alerts() -> None:
    feed = parsed("google_alerts.atom")
    assert feed.title == 'Google Alert - "Riverbank Alliance"'
    by_site = {m.author.handle: m for m in feed.items if m.author}
    assert set(by_site) == {
        "herefordtimes.example",
        "valleynews.example",
        "blog.riverside-residents.example",
    }
    cleanup = by_site["herefordtimes.example"]
    assert cleanup.url == (
        "https://www.herefordtimes.example/news/24410321.riverbank-alliance-clean-up/"
    )
    assert cleanup.text.startswith(
        "Riverbank Alliance volunteers clear two tonnes of plastic from the river"
    )  # <b> gone
    assert "<b>" not in cleanup.text and "&nbsp;" not in cleanup.text
    assert by_site["valleynews.example"].remote_id == (
        "https://valleynews.example/politics/council-questions-water-figures"
    )
    assert all(
        m.network is Network.WEB and m.kind == "feed" and not m.addressed_to_us for m in feed.items
    )
    assert [m.created_at for m in feed.items] == sorted(m.created_at for m in feed.items)
    assert cleanup.created_at == datetime(2026, 7, 30, 14, 23, 8, tzinfo=UTC)


def test_a_news_search_rss_with_html_titles_missing_dates_and_relative_links() -> None:
    feed = parsed("news_search.rss", GAZETTE)
    by_url = {m.url: m for m in feed.items}
    rows = by_url["https://www.valleygazette.example/news/2026/07/riverbank-council-rows"
                  "?utm_source=rss&utm_medium=feed&id=5521"]  # fmt: skip
    assert rows.text.splitlines()[0] == "Riverbank Alliance & the council: a year of rows"
    assert "by Priya Natarajan" in rows.text and "rarely agreed" in rows.text
    assert rows.created_at == datetime(2026, 7, 29, 15, 45, tzinfo=UTC)  # +0100 read right
    festival = by_url["https://www.valleygazette.example/news/2026/07/river-festival-returns"]
    assert festival.created_at == READ_AT  # no pubDate: when Kindly read it
    assert len(feed.items) == 3  # the same article linked twice is one item
    assert {m.author.handle for m in feed.items if m.author} == {"valleygazette.example"}
    opinion = next(m for m in feed.items if "opinion" in (m.url or ""))
    assert opinion.remote_id.endswith("charities-stick-to-charity")  # no #comments


def test_an_atom_blog_with_xml_base_and_an_entry_without_link_or_date() -> None:
    feed = parsed("blog.atom")
    assert feed.title == "RiverWatch — notes from the towpath"
    urls = {m.url for m in feed.items}
    assert "https://riverwatch.example/blog/2026/07/sampling-day" in urls
    assert "https://riverwatch.example/elsewhere/undated-post" in urls
    undated = next(m for m in feed.items if m.url and "undated" in m.url)
    assert undated.created_at == READ_AT
    linkless = next(m for m in feed.items if m.url is None)
    assert linkless.remote_id.startswith("sha256:")
    again = parsed("blog.atom")
    assert linkless.remote_id in {m.remote_id for m in again.items}  # stable across reads
    sampling = next(m for m in feed.items if m.url and "sampling" in m.url)
    assert sampling.created_at == datetime(2026, 7, 30, 6, 0, tzinfo=UTC)
    assert "About us" in sampling.text and "<p>" not in sampling.text


def test_broken_xml_is_still_read_and_a_web_page_is_refused() -> None:
    broken = parsed("broken.rss")
    assert broken.problem  # feedparser's bozo
    (item,) = broken.items
    assert item.text.startswith("Thanks to the Riverbank Alliance")
    with pytest.raises(BadResponse) as refused:
        parsed("not_a_feed.html")
    assert "does not give an RSS or Atom feed" in refused.value.user_message


def huge_feed(items: int) -> bytes:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    entries = "".join(
        f"<item><title>Story {i} &lt;i&gt;about&lt;/i&gt; the river</title>"
        f"<link>https://news.example/s/{i}?utm_source=rss</link>"
        f"<description>{'Long text. ' * 40}</description>"
        f"<pubDate>{(start + timedelta(minutes=i)).strftime('%a, %d %b %Y %H:%M:%S +0000')}"
        "</pubDate></item>"
        for i in range(items)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Big</title>'
        f"<link>https://news.example/</link>{entries}</channel></rss>"
    ).encode()


def test_a_huge_feed_is_parsed_and_a_first_read_takes_only_the_newest(
    http: httpx.Client, site: FeedSite
) -> None:
    body = huge_feed(5000)
    assert len(body) > 2_500_000
    url = site.publish("/big.rss", body, content_type=RSS, etag='"big-1"')

    started = time.perf_counter()
    batches = list(reader(http).fetch(url, None))
    took = time.perf_counter() - started

    items = [m for b in batches for m in b.mentions]
    assert len(items) == 50 and items[-1].url == "https://news.example/s/4999?utm_source=rss"
    assert items[-1].remote_id == "https://news.example/s/4999"
    assert took < 60
    state = FeedState.decode(batches[-1].cursor)
    assert state is not None and state.etag == '"big-1"'
    assert state.floor == items[0].created_at


# -- reading from a site --------------------------------------------------------------------------


def test_a_conditional_get_reads_nothing_when_unchanged(http: httpx.Client, site: FeedSite) -> None:
    url = site.publish(
        "/alerts.atom",
        (FEEDS / "google_alerts.atom").read_bytes(),
        etag='"v1"',
        last_modified="Thu, 30 Jul 2026 14:23:08 GMT",
    )
    first = list(reader(http).fetch(url, None))
    assert sum(len(b.mentions) for b in first) == 3

    assert list(reader(http).fetch(url, first[-1].cursor)) == []  # 304: nothing, state kept
    second = site.gets("/alerts.atom")[-1]
    assert second.headers["if-none-match"] == '"v1"'
    assert second.headers["if-modified-since"] == "Thu, 30 Jul 2026 14:23:08 GMT"


def test_later_reads_skip_what_is_older_than_the_first_read(
    http: httpx.Client, site: FeedSite
) -> None:
    url = site.publish("/big.rss", huge_feed(200), content_type=RSS, etag='"a"')
    first = list(reader(http, first_read=20).fetch(url, None))
    assert sum(len(b.mentions) for b in first) == 20

    site.publish("/big.rss", huge_feed(203), content_type=RSS, etag='"b"')
    later = [
        m for b in reader(http, first_read=20).fetch(url, first[-1].cursor) for m in b.mentions
    ]
    # the 20 read before (ingest drops them) and the 3 new ones; never the 180 older ones
    assert len(later) == 23
    assert later[-1].url == "https://news.example/s/202?utm_source=rss"


def test_site_errors_are_network_errors(http: httpx.Client, site: FeedSite) -> None:
    with pytest.raises(NotFound) as gone:
        list(reader(http).fetch(site.base_url + "/gone.xml", None))
    assert "no longer at this address" in gone.value.user_message
    url = site.publish(
        "/page.html", (FEEDS / "not_a_feed.html").read_bytes(), content_type="text/html"
    )
    with pytest.raises(BadResponse):
        list(reader(http).fetch(url, None))
    url = site.publish("/private.xml", b"denied", status=403)
    with pytest.raises(Rejected) as refused:
        list(reader(http).fetch(url, None))
    assert "HTTP 403" in refused.value.user_message


def test_a_busy_site_is_retried(http: httpx.Client, site: FeedSite) -> None:
    url = site.publish("/alerts.atom", (FEEDS / "google_alerts.atom").read_bytes())
    site.fail("GET", "/alerts.atom", Fault.http_status(503, headers={"retry-after": "0"}))
    items = [m for b in reader(http).fetch(url, None) for m in b.mentions]
    assert len(items) == 3 and len(site.gets("/alerts.atom")) == 2


def test_an_unreadable_cursor_is_a_first_read() -> None:
    assert FeedState.decode("not json") is None
    assert FeedState.decode('{"floor": "yesterday"}') is None
    state = FeedState(etag='"x"', floor=READ_AT)
    assert FeedState.decode(state.encode()) == state
