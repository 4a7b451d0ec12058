"""Mastodon listening against the fake instance and the real ``/api/v2/search`` recording."""

from __future__ import annotations

import httpx
import pytest

from app.core.listening.mastodon_search import MastodonSearch
from app.core.listening.searches import FIRST_READ, SearchKind, SearchSpec
from app.core.networks.mastodon import MastodonClient
from tests.fakes.mastodon import TOKEN, load_cassette
from tests.fakes.search_routes import SearchingMastodon
from tests.fakes.server import FakeServer, Response

TAG = SearchSpec(SearchKind.HASHTAG, "RiverCleanup")
WORDS = SearchSpec(SearchKind.KEYWORDS, "riverbank alliance")


def searcher(http: httpx.Client, server: SearchingMastodon) -> MastodonSearch:
    return MastodonSearch(MastodonClient(http, server.base_url, TOKEN, sleep=lambda _s: None))


def run(search: MastodonSearch, spec: SearchSpec, cursor: str | None) -> tuple[list, str | None]:
    found, last = [], cursor
    for batch in search.search(spec, cursor):
        found += batch.mentions
        last = batch.cursor or last
    return found, last


def test_a_hashtag_is_read_forward_from_its_cursor_page_by_page(
    http: httpx.Client, mastodon: SearchingMastodon
) -> None:
    for i in range(55):
        mastodon.add_status(f"person{i % 7}@social.example", f"Day {i} of the #RiverCleanup")
    mastodon.add_status("other@social.example", "Nothing to see here #OtherTag")
    search = searcher(http, mastodon)

    first, cursor = run(search, TAG, None)  # a first read: the newest page only
    assert len(first) == FIRST_READ
    assert all(m.kind == "search" and not m.addressed_to_us for m in first)
    assert [m.created_at for m in first] == sorted(m.created_at for m in first)
    assert cursor == max((m.remote_id for m in first), key=lambda i: (len(i), i))

    for i in range(90):
        mastodon.add_status("late@social.example", f"More #rivercleanup {i}")  # any case
    batches = list(search.search(TAG, cursor))
    assert [len(b.mentions) for b in batches] == [40, 40, 10]
    assert all(b.cursor == b.mentions[-1].remote_id for b in batches)  # each page its own cursor
    assert not list(search.search(TAG, batches[-1].cursor))  # nothing newer: one request, no batch


def test_a_tagged_status_is_addressed_and_our_own_are_left_out(
    http: httpx.Client, mastodon: SearchingMastodon
) -> None:
    mastodon.add_status("ann@social.example", "Join the #RiverCleanup", mention_me=True)
    mastodon.add_status("bob@social.example", "I'll be at the #RiverCleanup")
    mastodon.add_own_status("See you at the #RiverCleanup")

    found, _ = run(searcher(http, mastodon), TAG, None)

    assert {(m.author.handle.split("@")[0], m.addressed_to_us) for m in found} == {
        ("ann", True),
        ("bob", False),
    }


def test_full_text_search_reads_every_page_after_the_cursor_in_relevance_order(
    http: httpx.Client, mastodon: SearchingMastodon
) -> None:
    for i in range(30):
        mastodon.add_status(f"p{i}@social.example", f"The Riverbank Alliance did a thing ({i})")
    mastodon.add_status("q@social.example", "Riverbank only")
    search = searcher(http, mastodon)
    assert search.full_text_search() is True

    first, cursor = run(search, WORDS, None)
    assert len(first) == 30 and cursor is not None

    for i in range(85):
        mastodon.add_status(f"r{i}@social.example", f"riverbank ALLIANCE again {i}")
    batches = list(search.search(WORDS, cursor))
    assert [b.cursor for b in batches[:-1]] == [None] * (len(batches) - 1)  # mark at the end
    assert sum(len(b.mentions) for b in batches) == 85
    assert batches[-1].cursor == max(
        (m.remote_id for b in batches for m in b.mentions), key=lambda i: (len(i), i)
    )
    assert len(mastodon.calls("GET", "/api/v2/search")) == 1 + 3  # then offsets 0, 40, 80
    assert not [b for b in search.search(WORDS, batches[-1].cursor) if b.mentions]


@pytest.mark.parametrize(
    ("full_text", "advertise", "expected"),
    [(True, True, True), (False, True, False), (True, False, None)],
)
def test_whether_the_instance_can_search_words(
    http: httpx.Client, full_text: bool, advertise: bool, expected: bool | None
) -> None:
    with SearchingMastodon(full_text=full_text, advertise=advertise) as server:
        assert searcher(http, server).full_text_search() is expected


def test_the_recorded_search_answer_is_read(http: httpx.Client) -> None:
    """Mastodon.py's recording of /api/v2/search on a real 4.6.4: no statuses for this query
    (the instance has no full-text search), accounts and hashtags that Kindly ignores."""
    (recorded, *_rest) = load_cassette("test_search")
    assert "/api/v2/search" in recorded.uri and recorded.status == 200
    body = recorded.json()
    assert set(body) == {"accounts", "statuses", "hashtags", "collections"}

    with FakeServer() as server:
        server.route("GET", "/api/v2/search", lambda _r: Response(200, recorded.body.encode()))
        server.route(
            "GET",
            "/api/v1/accounts/verify_credentials",
            lambda _r: Response(200, {"id": "1", "acct": "kindlytrust"}),
        )
        client = MastodonClient(http, server.base_url, TOKEN)
        assert list(MastodonSearch(client).search(WORDS, None)) == []


def test_the_fake_answers_search_in_the_recorded_shape(
    http: httpx.Client, mastodon: SearchingMastodon
) -> None:
    mastodon.add_status("ann@social.example", "riverbank alliance")
    recorded = load_cassette("test_search")[0].json()
    answer = http.get(
        f"{mastodon.base_url}/api/v2/search",
        params={"q": "riverbank", "type": "statuses"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    ).json()
    assert set(answer) == set(recorded)
    assert answer["statuses"] and answer["statuses"][0]["account"]["acct"] == "ann@social.example"


def test_a_hashtag_is_asked_of_our_instance_with_our_token(
    http: httpx.Client, mastodon: SearchingMastodon
) -> None:
    mastodon.add_status("ann@social.example", "#RiverCleanup")
    run(searcher(http, mastodon), TAG, None)
    seen = mastodon.calls("GET", "/api/v1/timelines/tag/RiverCleanup")
    assert seen and all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in seen)
