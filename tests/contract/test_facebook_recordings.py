"""Every real Graph API recording goes through the client's parsing; the fake answers in their
shapes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.networks.errors import NotFound, Rejected
from app.core.networks.facebook import (
    after_cursor,
    error_for,
    facebook_rate_limit,
    page_items,
    parse_comment,
    parse_created,
    parse_page,
    parse_post,
)
from tests.fakes.facebook import FakeFacebook

RECORDINGS = Path(__file__).parent / "recordings" / "facebook"
RECORDED_POST = "19292868552_10158407654328553"


def load(name: str) -> Any:
    return json.loads((RECORDINGS / f"{name}.json").read_text("utf-8"))


@pytest.mark.parametrize("name", ["comments_comments_p1", "comments_comments_p2"])
def test_recorded_comment_pages_parse(name: str) -> None:
    body = load(name)
    items = page_items(body)
    mentions = [parse_comment(item, RECORDED_POST) for item in items]
    assert all(m is not None for m in mentions)
    for mention, item in zip(mentions, items, strict=True):
        assert mention is not None
        # The recording has no "id": it is rebuilt from the permalink, as Graph ids are formed.
        comment_id = item["permalink_url"].split("comment_id=")[-1]
        assert mention.remote_id.endswith("_" + comment_id)
        assert mention.remote_id.startswith("10158407654328553_")
        assert mention.author is None  # "from" was not asked for
        assert mention.kind == "comment"
        assert mention.conversation_id == RECORDED_POST
        assert mention.created_at.tzinfo is not None
        assert mention.url == item["permalink_url"]
    assert len({m.remote_id for m in mentions if m}) == len(items)


def test_recorded_comment_paging_uses_after_only_while_next_exists() -> None:
    assert after_cursor(load("comments_comments_p1")) == "after"
    assert after_cursor(load("comments_comments_p2")) is None  # only "previous": the end


def test_recorded_reply_comment_points_at_its_parent() -> None:
    items = page_items(load("comments_comments_p2"))
    replies = [i for i in items if "reply_comment_id" in i["permalink_url"]]
    assert replies
    mention = parse_comment(replies[0], RECORDED_POST)
    assert mention is not None
    assert mention.in_reply_to_id == "10158407654328553_10158412899928553"
    assert mention.remote_id == "10158407654328553_10158413660043553"
    assert mention.raw["parent"] == {"id": mention.in_reply_to_id}


def test_recorded_single_comments_parse() -> None:
    info = load("comments_comment_info")
    mention = parse_comment(info, "10158371815748553")
    assert mention is not None and mention.remote_id == info["id"]
    for cid, item in load("comments_comments_info").items():
        parsed = parse_comment(item, cid.split("_")[0])
        assert parsed is not None and parsed.remote_id == cid
        assert parsed.text == item["message"].strip()


def test_recorded_comment_create_parses() -> None:
    body = load("comments_create_resp")
    posted = parse_created(body)
    assert posted.remote_id == body["id"]
    assert posted.url == body["permalink_url"]


@pytest.mark.parametrize(
    "name", ["posts_feed_fields_p1", "posts_feed_fields_p2", "posts_tagged_posts"]
)
def test_recorded_post_pages_parse(name: str) -> None:
    body = load(name)
    items = page_items(body)
    assert items
    for item in items:
        mention = parse_post(item)
        assert mention is not None
        assert mention.remote_id == item["id"]
        assert mention.kind == "tag"
        assert mention.author is None
        assert mention.created_at == datetime.strptime(
            item["created_time"], "%Y-%m-%dT%H:%M:%S%z"
        ).astimezone(UTC)
    # Feed pages page by time (until/since) and tagged has no "next": nothing to follow.
    assert after_cursor(body) is None


def test_recorded_single_post_and_page_parse() -> None:
    post = parse_post(load("posts_single_post_data_fields"))
    assert post is not None and post.text == "我测试一下 MyLife"
    page = parse_page(load("pages_single_fields_page"))
    assert (page.remote_id, page.handle, page.display_name) == (
        "20531316728",
        "facebookapp",
        "Facebook",
    )
    assert page.follower_count == 214507731


def response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    request = httpx.Request("GET", "https://graph.facebook.com/v21.0/1/comments")
    return httpx.Response(status, json=body, headers=headers or {}, request=request)


def test_recorded_errors_map_to_typed_errors() -> None:
    missing = error_for(response(400, load("base_error_data")))
    assert isinstance(missing, NotFound)
    refused = error_for(response(400, load("error")))
    assert isinstance(refused, Rejected)
    assert "app secret proof" in refused.user_message
    for name in ("base_error_data", "error"):
        assert facebook_rate_limit(response(400, load(name))) is None
        assert set(load(name)["error"]) == {"message", "type", "code", "fbtrace_id"}


@pytest.mark.parametrize("code", [4, 17, 32, 613, 80001])
def test_throttling_codes_in_a_recorded_error_shape_are_rate_limits(code: int) -> None:
    body = load("error")
    body["error"]["code"] = code
    now = datetime.now(UTC)
    signal = facebook_rate_limit(response(400, body))
    assert signal is not None and signal.retry_at is not None
    assert signal.retry_at > now + timedelta(minutes=4)
    usage = {"1": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 12}]}
    signal = facebook_rate_limit(
        response(403, body, {"x-business-use-case-usage": json.dumps(usage)})
    )
    assert signal is not None and signal.retry_at is not None
    assert now + timedelta(minutes=11) < signal.retry_at < now + timedelta(minutes=13)


# -- the fake answers in the recordings' shapes ----------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeFacebook]:
    with FakeFacebook() as server:
        yield server


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=2.0) as client:
        yield client


def get(fake: FakeFacebook, http: httpx.Client, path: str, **params: str) -> dict[str, Any]:
    answer = http.get(
        f"{fake.base_url}/v21.0{path}",
        params=params,
        headers={"Authorization": f"Bearer {fake.token}"},
    )
    body: dict[str, Any] = answer.json()
    return body


def test_fake_comments_match_the_recorded_shape(fake: FakeFacebook, http: httpx.Client) -> None:
    recorded = load("comments_comments_p1")
    post = fake.add_post()
    fake.add_comments(post, 15)
    fields = "comment_count,created_time,like_count,message,permalink_url"
    body = get(fake, http, f"/{post}/comments", fields=fields, filter="stream", limit="10")
    assert {frozenset(i) for i in body["data"]} == {frozenset(i) for i in recorded["data"]}
    assert set(body["paging"]) == set(recorded["paging"])
    assert set(body["paging"]["cursors"]) == set(recorded["paging"]["cursors"])
    fake.omit_comment_ids = True  # like the recording, which asked for id and got none
    body = get(fake, http, f"/{post}/comments", fields="id," + fields)
    assert {frozenset(i) for i in body["data"]} == {frozenset(i) for i in recorded["data"]}


def test_fake_posts_tagged_page_and_errors_match(fake: FakeFacebook, http: httpx.Client) -> None:
    for _ in range(3):
        fake.add_post()
        fake.add_tagged_post("We love @kindlytrust")
    feed = get(fake, http, f"/{fake.page_id}/posts", fields="id,message,created_time", limit="2")
    recorded_feed = load("posts_feed_fields_p1")
    assert set(feed) == set(recorded_feed)
    assert set(feed["paging"]) == set(recorded_feed["paging"])
    assert {frozenset(i) for i in feed["data"]} == {frozenset(i) for i in recorded_feed["data"]}
    fields = "id,message,created_time,updated_time"
    tagged = get(fake, http, f"/{fake.page_id}/tagged", fields=fields)
    recorded_tagged = load("posts_tagged_posts")
    assert set(tagged) == set(recorded_tagged)
    assert {frozenset(i) for i in tagged["data"]} == {frozenset(i) for i in recorded_tagged["data"]}
    page = get(fake, http, f"/{fake.page_id}", fields="id,name,username,fan_count")
    assert set(page) == set(load("pages_single_fields_page"))
    missing = get(fake, http, "/nope_1/comments")
    assert set(missing["error"]) >= set(load("base_error_data")["error"])


def test_fake_comment_create_matches_the_recorded_shape(
    fake: FakeFacebook, http: httpx.Client
) -> None:
    post = fake.add_post()
    answer = http.post(
        f"{fake.base_url}/v21.0/{post}/comments",
        data={"message": "Thank you"},
        headers={"Authorization": f"Bearer {fake.token}"},
    )
    assert set(answer.json()) == set(load("comments_create_resp"))
