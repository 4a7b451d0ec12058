"""Bluesky listening: searchPosts against the fake, its lexicon, and live-network post views."""

from __future__ import annotations

import httpx

from app.core.listening.bluesky_search import BlueskySearch, parse_search
from app.core.listening.searches import FIRST_READ, SearchKind, SearchSpec
from app.core.networks.bluesky import BlueskyClient
from app.core.networks.bluesky_records import Mark
from tests.contract.test_bluesky_recordings import lexicon, live, output_problems
from tests.fakes.bluesky import PASSWORD
from tests.fakes.search_routes import SearchingBluesky

WORDS = SearchSpec(SearchKind.KEYWORDS, "Riverbank")
TAG = SearchSpec(SearchKind.HASHTAG, "RiverCleanup")
NSID = "app.bsky.feed.searchPosts"


def searcher(http: httpx.Client, server: SearchingBluesky) -> BlueskySearch:
    client = BlueskyClient(http, server.base_url, server.me.handle, {"app_password": PASSWORD})
    return BlueskySearch(client)


def test_searches_walk_newest_first_down_to_the_mark_which_moves_on_the_last_batch(
    http: httpx.Client, bluesky: SearchingBluesky
) -> None:
    bluesky.search_limit = 25  # small pages: the walk must page
    for i in range(60):
        bluesky.add_public_post(f"p{i % 9}.example.com", f"Riverbank did well ({i})")
    bluesky.add_public_post("other.example.com", "Nothing about them")
    search = searcher(http, bluesky)

    first = list(search.search(WORDS, None))
    found = [m for b in first for m in b.mentions]
    assert len(found) == 25  # a first read is one page (at most FIRST_READ)
    assert FIRST_READ >= 25
    assert all(m.kind == "search" and not m.addressed_to_us for m in found)
    assert [m.created_at for m in found] == sorted(m.created_at for m in found)
    mark = Mark.decode(first[-1].cursor or "")
    assert mark is not None and mark.uri == found[-1].remote_id

    for i in range(70):
        bluesky.add_public_post("late.example.com", f"riverbank again {i}")
    batches = list(search.search(WORDS, first[-1].cursor))
    assert [b.cursor is None for b in batches] == [True, True, False]
    assert sum(len(b.mentions) for b in batches) == 70
    since = [r.arg("since") for r in bluesky.calls("GET", f"/xrpc/{NSID}")][-1]
    assert since is not None and since.startswith(mark.indexed_at.strftime("%Y-%m-%dT%H:%M:%S"))
    again = list(search.search(WORDS, batches[-1].cursor))
    assert not [m for b in again for m in b.mentions]


def test_a_hashtag_is_searched_as_a_tag_and_a_mention_facet_makes_it_addressed(
    http: httpx.Client, bluesky: SearchingBluesky
) -> None:
    bluesky.add_public_post("ann.example.com", "Off to the #RiverCleanup", mention_me=True)
    bluesky.add_public_post("bob.example.com", "Off to the #RiverCleanup too")
    bluesky.add_post(bluesky.me.handle, "Thanks all #RiverCleanup")  # our own

    found = [m for b in searcher(http, bluesky).search(TAG, None) for m in b.mentions]

    assert {(m.author.handle, m.addressed_to_us) for m in found} == {
        ("ann.example.com", True),
        ("bob.example.com", False),
    }
    assert bluesky.calls("GET", f"/xrpc/{NSID}")[0].arg("q") == "#RiverCleanup"


def test_the_fake_answers_searchposts_as_the_lexicon_says(
    http: httpx.Client, bluesky: SearchingBluesky
) -> None:
    assert lexicon(NSID)["defs"]["main"]["output"]["schema"]["required"] == ["posts"]
    for i in range(3):
        bluesky.add_public_post("ann.example.com", f"Riverbank {i}")
    token = http.post(
        f"{bluesky.base_url}/xrpc/com.atproto.server.createSession",
        json={"identifier": bluesky.me.handle, "password": PASSWORD},
    ).json()["accessJwt"]
    body = http.get(
        f"{bluesky.base_url}/xrpc/{NSID}",
        params={"q": "riverbank", "limit": 2},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    assert output_problems(NSID, body) == []
    assert len(body["posts"]) == 2 and body["cursor"]


def test_live_network_post_views_parse_as_search_results() -> None:
    """Post views recorded from the live network (MarshalX/atproto test data)."""
    thread = live("thread_view_post_with_embed_media")
    post = thread["thread"]["post"]
    assert output_problems(NSID, {"posts": [post]}) == []
    posts, cursor = parse_search({"posts": [post], "cursor": "abc"})
    assert cursor == "abc" and posts == [post]
