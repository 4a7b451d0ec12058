"""The Mastodon client's parsers on real Mastodon 4.6.4 responses (Mastodon.py's cassettes),
and the fake Mastodon checked against the same shapes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from app.core.networks.errors import AuthError, NotFound, Rejected
from app.core.networks.mastodon import (
    MastodonClient,
    comparable_text,
    error_for,
    mastodon_rate_limit,
    mention_from_status,
    parse_context,
    parse_notifications,
    parse_time,
    person_from_account,
    posted_reply_from_status,
)
from app.core.networks.mastodon_oauth import MastodonApp as App
from app.core.networks.mastodon_oauth import authorize_url, parse_app, parse_token
from app.core.vocab import Network
from tests.fakes.mastodon import (
    RECORDINGS,
    TOKEN,
    FakeMastodon,
    Interaction,
    load_cassette,
    recorded,
)

HOST = "localhost:3000"  # where the recordings were made


def response(interaction: Interaction) -> httpx.Response:
    request = httpx.Request(interaction.method, interaction.uri)
    return httpx.Response(
        interaction.status,
        content=interaction.body.encode("utf-8"),
        headers=interaction.headers,
        request=request,
    )


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


@pytest.mark.parametrize("path", sorted(RECORDINGS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_cassette_loads_byte_exact(path: Path) -> None:
    interactions = load_cassette(path.stem)
    assert interactions
    for item in interactions:
        length = item.headers.get("content-length")
        if length is not None:  # the loader folded every multi-line string correctly
            assert len(item.body.encode("utf-8")) == int(length)
        item.json()


def test_mentions_only_notifications() -> None:
    page = recorded("test_notifications_mentions_only", "GET", "/notifications?")
    assert "types%5B%5D=mention" in page.uri  # what the client asks for
    mentions, ids = parse_notifications(page.json(), HOST)
    assert ids == ["21"]
    [mention] = mentions
    assert mention.network is Network.MASTODON
    assert mention.remote_id == "117020577157693549"  # the status, which a reply answers
    assert mention.text == "@mastodonpy_test hello!"
    assert mention.markup.startswith("<p><span class=")
    assert mention.kind == "mention"
    assert mention.in_reply_to_id is None and mention.conversation_id is None
    assert mention.created_at == datetime(2026, 8, 1, 13, 51, 42, 823000, tzinfo=UTC)
    assert mention.url == "http://localhost:3000/@admin/117020577157693549"
    assert mention.author is not None
    assert mention.author.handle == "admin@localhost:3000"
    assert mention.author.remote_id == "117020565693913441"
    assert mention.author.follower_count == 1
    assert mention.raw["id"] == "21"  # the notification: its id is the cursor


def test_link_header_of_a_notifications_page() -> None:
    page = response(recorded("test_notifications_mentions_only", "GET", "/notifications?"))
    links = page.links
    assert query(links["next"]["url"]) == {"max_id": ["21"], "types[]": ["mention"]}
    assert query(links["prev"]["url"]) == {"min_id": ["21"], "types[]": ["mention"]}


def test_empty_page_has_no_link_header() -> None:
    page = recorded("test_notifications_types", "GET", "types%5B%5D=follow_request")
    assert page.json() == []
    assert "link" not in page.headers
    assert parse_notifications(page.json(), HOST) == ([], [])


@pytest.mark.parametrize(
    ("cassette", "needle"),
    [
        ("test_notifications", "/notifications"),
        ("test_notifications_types", "types%5B%5D=follow&"),
    ],
)
def test_other_notification_pages(cassette: str, needle: str) -> None:
    page = recorded(cassette, "GET", needle)
    mentions, ids = parse_notifications(page.json(), HOST)
    assert len(ids) == 1 and len(mentions) == 1
    assert mentions[0].text.endswith("hello!")


def test_link_paging_semantics_match_the_walk() -> None:
    """``next`` continues with older items (max_id = oldest), ``prev`` with newer (min_id)."""
    pages = [
        i
        for i in load_cassette("test_fetch_next_previous")
        if i.method == "GET" and "/statuses?" in i.uri
    ]
    assert len(pages) == 3
    for page in pages:
        body = page.json()
        ids = [s["id"] for s in body]
        assert ids == sorted(ids, key=lambda i: (len(i), i), reverse=True)  # newest first
        links = response(page).links
        assert query(links["next"]["url"])["max_id"] == [ids[-1]]
        assert query(links["prev"]["url"])["min_id"] == [ids[0]]
        for status in body:
            mention = mention_from_status(status, HOST)
            assert mention.text.startswith("Toot number")
    first, older, newer_again = (p.json() for p in pages)
    assert {s["id"] for s in first}.isdisjoint(s["id"] for s in older)
    assert [s["id"] for s in newer_again] == [s["id"] for s in first]  # min_id walks forward


def test_status_reply_as_sent_and_as_rendered() -> None:
    post = [i for i in load_cassette("test_status_reply") if i.method == "POST"][1]
    form = parse_qs(post.request_body or "")
    assert form["in_reply_to_id"] == ["117020583245459824"]
    assert form["visibility"] == ["public"]
    posted = posted_reply_from_status(post.json())
    assert posted.remote_id == "117020583258292382"
    assert posted.url and posted.url.endswith("/117020583258292382")
    mention = mention_from_status(post.json(), HOST)
    assert mention.kind == "reply"
    assert mention.in_reply_to_id == "117020583245459824"
    assert mention.conversation_id == "117020583245459824"
    # find_posted_reply matches what Mastodon rendered against what was sent
    assert comparable_text(mention.text) == comparable_text(form["status"][0])


def test_status_context() -> None:
    context = recorded("test_status_context", "GET", "/context")
    thread = parse_context(context.json(), HOST)
    assert thread.ancestors == [] and thread.descendants == []
    assert thread.root_id("117020585487094447") == "117020585487094447"


def test_verify_credentials_and_account() -> None:
    me = recorded("test_verify_credentials", "GET", "/verify_credentials").json()
    person = person_from_account(me, HOST)
    assert person.remote_id == "117020457910412882"
    assert person.handle == "mastodonpy_test@localhost:3000"
    assert person.follower_count == 0
    assert person.profile_url == "http://localhost:3000/@mastodonpy_test"
    other = [i for i in load_cassette("test_account") if i.method == "GET"][1].json()
    assert person_from_account(other, HOST).remote_id == other["id"]


@pytest.mark.parametrize(
    ("cassette", "status", "error", "words"),
    [
        ("test_unauthed_home_tl_throws", 401, AuthError, "Reconnect this account"),
        ("test_status_missing", 404, NotFound, "no longer on Mastodon"),
        ("test_timeline_link_fails", 404, NotFound, "no longer on Mastodon"),
        ("test_status_empty", 422, Rejected, "Text"),
    ],
)
def test_recorded_errors(cassette: str, status: int, error: type, words: str) -> None:
    [failure] = [i for i in load_cassette(cassette) if i.status >= 400]
    assert failure.status == status
    assert "error" in failure.json()
    raised = error_for(response(failure), "test")
    assert isinstance(raised, error)
    assert words in raised.user_message
    assert "__MASTODON_PY_TEST" not in str(raised) + raised.user_message


def test_rate_limit_headers_are_iso_times() -> None:
    page = recorded("test_notifications_mentions_only", "GET", "/notifications?")
    reset = parse_time(page.headers["x-ratelimit-reset"])
    assert reset == datetime(2026, 8, 1, 13, 55, 0, 940463, tzinfo=UTC)
    limited = httpx.Response(429, headers=page.headers, json={"error": "Too many requests"})
    signal = mastodon_rate_limit(limited)
    assert signal is not None and signal.retry_at == reset
    assert mastodon_rate_limit(response(page)) is None  # a 200 is never a rate limit


def test_oauth_app_token_and_authorize_url() -> None:
    app = parse_app(recorded("test_app_account_create", "POST", "/api/v1/apps").json())
    assert app.client_id == "dSqEHsXYueL3gn3LbghhdtDXqqa9es7Ydchk8qWmIA0"
    assert app.client_secret not in repr(app)
    token = parse_token(recorded("test_app_account_create", "POST", "/oauth/token").json())
    assert token == "qLFk5fQZHZfAWvjsVWMJZRH2K9coa_1JOCpbMwOlPbM"
    meta = recorded("test_auth_request_url", "GET", "/.well-known/").json()
    url = authorize_url("http://localhost:3000", App("id", "secret"), state="s1")
    assert url.split("?")[0] == meta["authorization_endpoint"]
    assert set(App("id", "secret").scopes.split()) <= set(meta["scopes_supported"])
    assert query(url)["response_type"] == ["code"] and query(url)["state"] == ["s1"]


# -- the fake answers in the recorded shapes ---------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeMastodon]:
    with FakeMastodon() as server:
        yield server


def keys(value: dict[str, Any]) -> set[str]:
    return set(value)


def test_fake_notification_has_the_recorded_shape(fake: FakeMastodon) -> None:
    fake.add_mention(text="hello")
    real = recorded("test_notifications_mentions_only", "GET", "/notifications?").json()[0]
    with httpx.Client() as http:
        page = http.get(
            f"{fake.base_url}/api/v1/notifications",
            params={"types[]": "mention"},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
    ours = page.json()[0]
    assert keys(ours) == keys(real)
    assert keys(ours["status"]) == keys(real["status"])
    assert keys(ours["account"]) == keys(real["account"])
    assert keys(ours["status"]["account"]) == keys(real["status"]["account"])
    assert set(page.headers) >= {"link", "x-ratelimit-limit", "x-ratelimit-reset"}
    assert parse_time(page.headers["x-ratelimit-reset"]) is not None


def test_fake_status_credentials_and_errors_have_the_recorded_shapes(fake: FakeMastodon) -> None:
    real_reply = [i for i in load_cassette("test_status_reply") if i.method == "POST"][1].json()
    real_me = recorded("test_verify_credentials", "GET", "/verify_credentials").json()
    added = fake.add_mention()
    with httpx.Client() as http:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        posted = http.post(
            f"{fake.base_url}/api/v1/statuses",
            data={"status": "thanks", "in_reply_to_id": added.status_id},
            headers=auth,
        ).json()
        me = http.get(f"{fake.base_url}/api/v1/accounts/verify_credentials", headers=auth).json()
        context = http.get(f"{fake.base_url}/api/v1/statuses/{posted['id']}/context", headers=auth)
        missing = http.get(f"{fake.base_url}/api/v1/statuses/0", headers=auth)
        refused = http.get(f"{fake.base_url}/api/v1/notifications")
    assert keys(posted) == keys(real_reply)
    assert keys(me) == keys(real_me)
    assert keys(context.json()) == {"ancestors", "descendants"}
    assert missing.status_code == 404 and keys(missing.json()) == {"error"}
    assert refused.status_code == 401 and refused.json() == {"error": "The access token is invalid"}
    assert "www-authenticate" in refused.headers


def test_client_reads_the_fake_like_the_recordings(fake: FakeMastodon) -> None:
    fake.add_mention(author="admin", text="@kindlytrust hello!")
    with httpx.Client() as http:
        client = MastodonClient(http, fake.base_url, TOKEN, sleep=lambda _: None)
        [batch] = list(client.fetch_mentions(None))
    real, _ = parse_notifications(
        recorded("test_notifications_mentions_only", "GET", "/notifications?").json(), HOST
    )
    assert batch.mentions[0].text == real[0].text.replace("mastodonpy_test", "kindlytrust")
    assert batch.mentions[0].markup.count("h-card") == real[0].markup.count("h-card")
