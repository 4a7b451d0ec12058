"""X listening: recent search against the fake and the tweepy recording; the cost beforehand."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from app.core.listening.searches import SearchKind, SearchSpec
from app.core.listening.x_search import (
    SEARCH,
    XSearch,
    found_posts,
    monthly_from_week,
    search_query,
)
from app.core.networks.x import XClient, next_token
from tests.fakes.search_routes import SearchingX

RECORDING = Path(__file__).parents[2] / "contract" / "recordings" / "x"
WORDS = SearchSpec(SearchKind.KEYWORDS, "riverbank")
TOKEN = "x-test-token"


def client(http: httpx.Client, server: SearchingX) -> XClient:
    return XClient(http, TOKEN, base_url=server.base_url, user_id=server.me, sleep=lambda _s: None)


def test_the_query_leaves_retweets_out_and_a_hashtag_is_a_hashtag() -> None:
    assert search_query(WORDS) == "riverbank -is:retweet"
    assert search_query(SearchSpec(SearchKind.HASHTAG, "RiverCleanup")) == (
        "#RiverCleanup -is:retweet"
    )
    assert search_query(SearchSpec(SearchKind.KEYWORDS, "river is:retweet")) == "river is:retweet"


def test_the_recorded_search_answer_parses() -> None:
    """tweepy's recording of GET /2/tweets/search/recent (no expansions were asked for)."""
    data = json.loads((RECORDING / "test_client_search_recent_tweets.json").read_text("utf-8"))
    (item,) = data["interactions"]
    assert item["request"]["url"].split("?")[0].endswith(SEARCH)
    body = item["response"]["body"]
    found = found_posts(body, me="2244994945")
    assert [m.remote_id for m in found] == [t["id"] for t in body["data"]]
    assert all(m.kind == "search" and not m.addressed_to_us for m in found)
    assert all(m.author is None for m in found)  # no author_id expansion in the recording
    assert next_token(body) == body["meta"]["next_token"]


def test_the_fake_answers_search_in_the_recorded_shape(http: httpx.Client, x: SearchingX) -> None:
    recorded = json.loads((RECORDING / "test_client_search_recent_tweets.json").read_text())
    recorded_body = recorded["interactions"][0]["response"]["body"]
    for i in range(12):
        x.add_post(f"riverbank {i}", author="ann")
    answer = http.get(
        x.base_url + SEARCH,
        params={"query": "riverbank", "max_results": "10"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    ).json()
    assert set(answer) == set(recorded_body) | {"includes"}
    assert set(answer["meta"]) == set(recorded_body["meta"])
    assert set(answer["data"][0]) == set(recorded_body["data"][0])


def test_search_walks_newest_first_to_since_id_and_counts_what_it_reads(
    http: httpx.Client, x: SearchingX
) -> None:
    for i in range(15):
        x.add_post(f"The riverbank crew #{i}", author=f"user{i % 4}")
    x.add_post("kindlytrust's riverbank question", author="ann")  # their name, untagged
    x.add_post("riverbank, are you there?", author="bob", mention_me=True)
    ours = x.add_mention("ignored")  # a direct mention, not matching
    x_client = client(http, x)
    search = XSearch(x_client, page_size=10)

    first = list(search.search(WORDS, None))
    assert len(first) == 1  # a first read is one page
    found = first[0].mentions
    assert len(found) == 17 and first[0].cursor == max((m.remote_id for m in found), key=int)
    addressed = {m.author.handle for m in found if m.addressed_to_us}
    assert addressed == {"bob"}  # X's entities say who is tagged
    assert ours not in {m.remote_id for m in found}
    assert x_client.usage.reads >= 17

    for i in range(25):
        x.add_post(f"riverbank later {i}")
    batches = list(search.search(WORDS, first[0].cursor))
    assert [b.cursor is None for b in batches] == [True, True, False]
    assert sum(len(b.mentions) for b in batches) == 25
    pages = x.calls("GET", SEARCH)[-3:]
    assert all(r.arg("since_id") == first[0].cursor for r in pages)
    assert [r.arg("next_token") is None for r in pages] == [True, False, False]


def test_a_since_id_older_than_a_week_starts_over(http: httpx.Client, x: SearchingX) -> None:
    old = x.add_post("riverbank long ago", created_at=datetime.now(UTC) - timedelta(days=9))
    x.add_post("riverbank now")

    batches = list(XSearch(client(http, x)).search(WORDS, old))

    assert [m.text for b in batches for m in b.mentions] == ["riverbank now"]
    assert batches[-1].cursor is not None


def test_the_estimate_comes_from_counts_and_is_not_billed(
    http: httpx.Client, x: SearchingX
) -> None:
    for i in range(14):
        x.add_post(f"riverbank {i}")
    x_client = client(http, x)

    estimate = XSearch(x_client).estimate_monthly_reads(WORDS)

    assert estimate == monthly_from_week(14) == 60
    assert x_client.usage.reads == 0
    assert x.calls("GET", "/2/tweets/counts/recent")[0].arg("query") == "riverbank -is:retweet"
    assert monthly_from_week(0) == 0 and monthly_from_week(1) == 5
