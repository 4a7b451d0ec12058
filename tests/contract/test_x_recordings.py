"""Every real X recording goes through the client's parsing; the fake answers in their shapes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.networks.errors import AuthError, NotFound, Rejected
from app.core.networks.http import parse_epoch
from app.core.networks.x import (
    error_for,
    next_token,
    parse_created,
    parse_timeline,
    parse_user,
    tweet_time,
    x_rate_limit,
)
from tests.fakes.x import FakeX

RECORDINGS = Path(__file__).parent / "recordings" / "x"


def interactions(name: str) -> list[dict[str, Any]]:
    data = json.loads((RECORDINGS / f"test_client_{name}.json").read_text("utf-8"))
    return list(data["interactions"])


def all_interactions() -> Iterator[tuple[str, dict[str, Any]]]:
    for path in sorted(RECORDINGS.glob("*.json")):
        for item in json.loads(path.read_text("utf-8"))["interactions"]:
            yield path.stem, item


def recorded_response(item: dict[str, Any]) -> httpx.Response:
    r = item["response"]
    request = httpx.Request(item["request"]["method"], item["request"]["url"])
    return httpx.Response(r["status"], headers=r["headers"], json=r["body"], request=request)


@pytest.mark.parametrize(
    "name", ["get_users_mentions", "get_home_timeline", "search_recent_tweets", "get_tweets"]
)
def test_every_recorded_timeline_parses(name: str) -> None:
    for item in interactions(name):
        body = item["response"]["body"]
        mentions = parse_timeline(body)
        assert [m.remote_id for m in mentions] == [t["id"] for t in body["data"]]
        reset = parse_epoch(item["response"]["headers"]["x-rate-limit-reset"])
        assert reset is not None
        for mention, tweet in zip(mentions, body["data"], strict=True):
            assert mention.created_at.tzinfo is not None
            # No created_at was asked for: the time comes from the id, and it was recent then.
            assert abs(mention.created_at - reset) < timedelta(
                days=30 if name != "get_tweets" else 5000
            )
            assert mention.author is None  # tweepy asked for no expansions
            assert mention.url == f"https://x.com/i/web/status/{tweet['id']}"
            assert mention.text
            assert mention.raw is tweet


def test_recorded_mentions_page_has_next_token_and_snowflake_times() -> None:
    (item,) = interactions("get_users_mentions")
    body = item["response"]["body"]
    assert next_token(body) == body["meta"]["next_token"]
    first = parse_timeline(body)[0]
    assert first.created_at.date() == datetime(2022, 10, 7, tzinfo=UTC).date()


def test_recorded_rate_limit_headers_give_the_reset_time() -> None:
    (item,) = interactions("get_users_mentions")
    headers = item["response"]["headers"]
    limited = httpx.Response(429, headers=headers, json={"title": "Too Many Requests"})
    signal = x_rate_limit(limited)
    assert signal is not None
    assert signal.retry_at == datetime.fromtimestamp(int(headers["x-rate-limit-reset"]), UTC)
    assert x_rate_limit(recorded_response(item)) is None  # a 200 is not a rate limit


def test_recorded_create_is_201_and_parses() -> None:
    create = interactions("create_and_delete_tweet")[0]
    assert create["request"]["method"] == "POST"
    assert create["response"]["status"] == 201
    posted = parse_created(create["response"]["body"], "TweepyDev")
    assert posted.remote_id == "1456012973835788293"
    assert posted.url == "https://x.com/TweepyDev/status/1456012973835788293"


@pytest.mark.parametrize("name", ["get_me", "get_user", "get_users"])
def test_recorded_users_parse(name: str) -> None:
    for item in interactions(name):
        data = item["response"]["body"]["data"]
        for user in data if isinstance(data, list) else [data]:
            person = parse_user(user)
            assert person.remote_id == user["id"]
            assert person.handle == user["username"]
            assert person.display_name == user["name"]
            assert person.profile_url == f"https://x.com/{user['username']}"
            assert person.follower_count is None  # public_metrics was not asked for


def test_every_recording_is_json_with_x_shapes() -> None:
    for _name, item in all_interactions():
        body = item["response"]["body"]
        assert isinstance(body, dict)
        assert "data" in body
        assert set(body) <= {"data", "includes", "meta", "errors"}


def test_tweet_time_prefers_created_at() -> None:
    tweet = {"id": "1578516295611748353", "created_at": "2022-10-07T22:43:18.000Z"}
    assert tweet_time(tweet) == datetime(2022, 10, 7, 22, 43, 18, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (
            401,
            {
                "title": "Unauthorized",
                "type": "about:blank",
                "status": 401,
                "detail": "Unauthorized",
            },
            AuthError,
        ),
        (
            403,
            {"title": "Forbidden", "detail": "You are not permitted to reply.", "status": 403},
            Rejected,
        ),
        (404, {"errors": [{"message": "Not found"}]}, NotFound),
        (400, {"errors": [{"message": "Invalid since_id"}], "title": "Invalid Request"}, Rejected),
    ],
)
def test_documented_error_shapes_map_to_typed_errors(
    status: int, body: dict[str, Any], error: type[Exception]
) -> None:
    """The recordings hold no errors; these are X's documented problem-JSON shapes."""
    exc = error_for(httpx.Response(status, json=body))
    assert isinstance(exc, error)
    assert exc.user_message


# -- the fake answers in the recordings' shapes ----------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeX]:
    with FakeX() as server:
        server.add_mentions(12)
        yield server


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=2.0) as client:
        yield client


def auth(fake: FakeX) -> dict[str, str]:
    return {"Authorization": f"Bearer {fake.token}"}


def test_fake_mentions_match_the_recorded_shape(fake: FakeX, http: httpx.Client) -> None:
    (item,) = interactions("get_users_mentions")
    recorded = item["response"]
    # The same request tweepy made (no fields, no expansions), and the same answer shape.
    answer = http.get(fake.base_url + fake.mentions_path(), headers=auth(fake))
    assert answer.status_code == recorded["status"]
    body = answer.json()
    assert set(body) == set(recorded["body"])
    assert set(body["meta"]) == set(recorded["body"]["meta"])
    assert {frozenset(t) for t in body["data"]} == {frozenset(t) for t in recorded["body"]["data"]}
    assert {h for h in recorded["headers"] if h.startswith("x-rate-limit")} <= set(answer.headers)


def test_fake_create_and_me_match_the_recorded_shape(fake: FakeX, http: httpx.Client) -> None:
    create = interactions("create_and_delete_tweet")[0]["response"]
    target = fake.mention_ids[0]
    answer = http.post(
        fake.base_url + "/2/tweets",
        json={"text": "Thanks!", "reply": {"in_reply_to_tweet_id": target}},
        headers=auth(fake),
    )
    assert answer.status_code == create["status"] == 201
    assert set(answer.json()["data"]) >= set(create["body"]["data"])
    me = interactions("get_me")[0]["response"]["body"]
    answer = http.get(fake.base_url + "/2/users/me", headers=auth(fake))
    assert set(answer.json()["data"]) == set(me["data"])
