"""FacebookClient against the fake Graph API over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.core.networks.base import MentionBatch, ReplyRequest, ReplyTarget
from app.core.networks.errors import (
    AuthError,
    BadResponse,
    NetworkError,
    NotFound,
    Offline,
    RateLimited,
    ServerError,
)
from app.core.networks.facebook import FacebookClient
from app.core.networks.http import RetryPolicy
from app.core.vocab import Network
from tests.fakes.facebook import FakeFacebook
from tests.fakes.server import Fault
from tests.helpers.accounts_over_http import Sleeps

SECRET = "fb-page-token"
V = "/v21.0"


@pytest.fixture
def fake() -> Iterator[FakeFacebook]:
    with FakeFacebook() as server:
        yield server


def make(fake: FakeFacebook, http: httpx.Client, **kwargs: Any) -> FacebookClient:
    kwargs.setdefault("sleep", Sleeps())
    return FacebookClient(http, fake.base_url, fake.page_id, SECRET, **kwargs)


def sync(client: FacebookClient, cursor: str | None) -> tuple[list[MentionBatch], str | None]:
    batches = list(client.fetch_mentions(cursor))
    for batch in batches:
        if batch.cursor is not None:
            cursor = batch.cursor
    return batches, cursor


def ids(batches: list[MentionBatch]) -> list[str]:
    return [m.remote_id for b in batches for m in b.mentions]


def reply_to(batches: list[MentionBatch], remote_id: str, text: str) -> ReplyRequest:
    mention = next(m for b in batches for m in b.mentions if m.remote_id == remote_id)
    target = ReplyTarget(mention.remote_id, mention.conversation_id, None, mention.raw)
    return ReplyRequest(text, target, "key-1")


def test_verify_returns_the_page(fake: FakeFacebook, http: httpx.Client) -> None:
    page = make(fake, http).verify()
    assert (page.remote_id, page.handle, page.display_name) == (
        fake.page_id,
        "kindlytrust",
        "Kindly Trust",
    )
    assert page.follower_count == 5600
    assert page.profile_url == "https://www.facebook.com/kindlytrust"
    request = fake.calls("GET", f"{V}/{fake.page_id}")[0]
    assert request.headers["authorization"] == f"Bearer {SECRET}"
    assert "access_token" not in request.query


def test_first_sync_reads_comments_replies_and_tags(fake: FakeFacebook, http: httpx.Client) -> None:
    post = fake.add_post("Our spring appeal")
    ann = fake.add_comment(post, "Count me in!", author="Ann Example")
    hidden = fake.add_comment(post, "Who am I?", author=None)
    reply = fake.add_comment(ann, "Me too", author="Bob Example")
    ours = fake.add_comment(ann, "Thank you!", author=fake.page_id)
    tag = fake.add_tagged_post("Great day with @Kindly Trust", author="Cy Example")
    client = make(fake, http)
    assert client.network is Network.FACEBOOK
    batches, cursor = sync(client, None)
    by_id = {m.remote_id: m for b in batches for m in b.mentions}
    assert set(by_id) == {ann, hidden, reply, tag}
    assert ours not in by_id  # the Page's own comment is our reply, not a mention
    assert by_id[ann].kind == "comment"
    assert by_id[ann].conversation_id == post and by_id[ann].in_reply_to_id == post
    assert by_id[ann].author is not None and by_id[ann].author.display_name == "Ann Example"
    assert by_id[hidden].author is None
    assert by_id[reply].in_reply_to_id == ann and by_id[reply].conversation_id == post
    assert by_id[tag].kind == "tag" and by_id[tag].conversation_id is None
    assert by_id[tag].url and by_id[tag].author and by_id[tag].author.display_name == "Cy Example"
    assert cursor is not None and set(json.loads(cursor)["marks"]) == {"tagged", f"post:{post}"}
    query = fake.calls("GET", f"{V}/{post}/comments")[0].query
    assert query["filter"] == ["stream"] and query["order"] == ["reverse_chronological"]
    assert "from{id,name}" in query["fields"][0] and "parent{id}" in query["fields"][0]


def test_second_sync_reads_only_what_is_new(fake: FakeFacebook, http: httpx.Client) -> None:
    post = fake.add_post()
    fake.add_comments(post, 3)
    fake.add_tagged_post("hello @kindlytrust")
    _, cursor = sync(make(fake, http), None)
    batches, again = sync(make(fake, http), cursor)
    assert ids(batches) == [] and again == cursor
    new_comment = fake.add_comment(post, "one more")
    new_post = fake.add_post("Second post")
    on_new = fake.add_comment(new_post, "first on the new post")
    new_tag = fake.add_tagged_post("again @kindlytrust")
    batches, cursor = sync(make(fake, http), cursor)
    assert sorted(ids(batches)) == sorted([new_comment, on_new, new_tag])


def test_comments_at_the_same_second_are_neither_lost_nor_repeated(
    fake: FakeFacebook, http: httpx.Client
) -> None:
    post = fake.add_post()
    moment = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    first = fake.add_comment(post, "a", created=moment)
    _, cursor = sync(make(fake, http), None)
    second = fake.add_comment(post, "b", created=moment)  # indexed late, same second
    batches, _ = sync(make(fake, http), cursor)
    assert ids(batches) == [second] and first != second


def test_paging_yields_a_cursor_only_with_each_streams_last_page(
    fake: FakeFacebook, http: httpx.Client
) -> None:
    post = fake.add_post()
    made = fake.add_comments(post, 12)
    batches, _ = sync(make(fake, http, page_size=5), None)
    comment_batches = [b for b in batches if b.mentions]
    assert [b.cursor is None for b in comment_batches] == [True, True, False]
    assert sorted(ids(batches)) == sorted(made)
    calls = fake.calls("GET", f"{V}/{post}/comments")
    assert [c.arg("after") is None for c in calls] == [True, False, False]
    assert all("access_token" not in r.query for r in fake.requests)  # paging.next not followed


def test_a_crash_after_any_batch_never_skips_a_mention(
    fake: FakeFacebook, http: httpx.Client
) -> None:
    posts = [fake.add_post(), fake.add_post()]
    _, start = sync(make(fake, http), None)
    made = fake.add_comments(posts[0], 7) + fake.add_comments(posts[1], 6)
    made.append(fake.add_tagged_post("tagged @kindlytrust"))
    full = len(list(make(fake, http, page_size=4).fetch_mentions(start)))
    assert full >= 5
    for crash_after in range(full + 1):
        stored: set[str] = set()
        cursor = start
        for n, batch in enumerate(make(fake, http, page_size=4).fetch_mentions(cursor)):
            if n == crash_after:
                break
            stored.update(m.remote_id for m in batch.mentions)
            cursor = batch.cursor or cursor
        stored.update(ids(sync(make(fake, http, page_size=4), cursor)[0]))
        assert stored == set(made), crash_after


def test_duplicates_across_pages_are_yielded_once(fake: FakeFacebook, http: httpx.Client) -> None:
    post = fake.add_post()
    made = fake.add_comments(post, 12)
    fake.overlap = 2
    batches, _ = sync(make(fake, http, page_size=5), None)
    assert sorted(ids(batches)) == sorted(made)


def test_missing_comment_ids_come_from_the_permalink(
    fake: FakeFacebook, http: httpx.Client
) -> None:
    post = fake.add_post()
    top = fake.add_comment(post, "top")
    reply = fake.add_comment(top, "reply")
    fake.omit_comment_ids = True  # as in the recordings
    batches, _ = sync(make(fake, http), None)
    assert sorted(ids(batches)) == sorted([top, reply])


def test_old_comments_before_the_first_sync_window_are_left(
    fake: FakeFacebook, http: httpx.Client
) -> None:
    post = fake.add_post(created=datetime.now(UTC) - timedelta(days=40))
    fake.add_comment(post, "ancient", created=datetime.now(UTC) - timedelta(days=30))
    recent = fake.add_comment(post, "recent", created=datetime.now(UTC) - timedelta(minutes=5))
    batches, _ = sync(make(fake, http, first_sync_days=14), None)
    assert ids(batches) == [recent]


def test_hostile_text_is_plain_and_clean(fake: FakeFacebook, http: httpx.Client) -> None:
    post = fake.add_post()
    hostile = "<img src=x onerror=alert(1)>\u202eevil\x00 \r\nline"
    fake.add_comment(post, hostile, author="Mallory \u202eX")
    batches, _ = sync(make(fake, http), None)
    (mention,) = [m for b in batches for m in b.mentions]
    assert mention.text == "<img src=x onerror=alert(1)>evil\nline"
    assert mention.author is not None and mention.author.display_name == "Mallory X"


@pytest.mark.parametrize("code", [4, 17, 32, 613, 80001])
def test_throttling_codes_in_a_400_body_are_rate_limits(
    fake: FakeFacebook, http: httpx.Client, code: int
) -> None:
    fake.throttle(f"{V}/{fake.page_id}/posts", code=code, status=400, minutes=10)
    before = datetime.now(UTC)
    with pytest.raises(RateLimited) as caught:
        sync(make(fake, http), None)
    retry_at = caught.value.retry_at
    assert retry_at is not None
    assert before + timedelta(minutes=9) < retry_at < before + timedelta(minutes=11)
    assert len(fake.calls("GET", f"{V}/{fake.page_id}/posts")) == 1  # no hammering


def test_throttling_without_a_time_backs_off_minutes(
    fake: FakeFacebook, http: httpx.Client
) -> None:
    fake.throttle(f"{V}/{fake.page_id}", code=613, status=403)
    with pytest.raises(RateLimited) as caught:
        make(fake, http).verify()
    assert caught.value.retry_at is not None
    assert caught.value.retry_at > datetime.now(UTC) + timedelta(minutes=4)


def test_5xx_is_retried(fake: FakeFacebook, http: httpx.Client) -> None:
    sleeps = Sleeps()
    fake.fail("GET", f"{V}/{fake.page_id}", Fault.http_status(500), Fault.http_status(503))
    assert make(fake, http, sleep=sleeps).verify().handle == "kindlytrust"
    assert len(sleeps) == 2
    fake.fail("GET", f"{V}/{fake.page_id}", *[Fault.http_status(502)] * 4)
    with pytest.raises(ServerError):
        make(fake, http).verify()


def test_timeouts_and_dropped_connections(fake: FakeFacebook) -> None:
    policy = RetryPolicy(attempts=2, base_delay=0.0)
    path = f"{V}/{fake.page_id}"
    with httpx.Client(timeout=0.2) as quick:
        client = make(fake, quick, policy=policy)
        fake.fail("GET", path, Fault.slow(0.5))
        assert client.verify().handle == "kindlytrust"
        fake.fail("GET", path, Fault.slow(0.5), Fault.slow(0.5))
        with pytest.raises(Offline):
            client.verify()
        fake.fail("GET", path, Fault.drop(), Fault.drop())
        with pytest.raises(Offline):
            client.verify()


@pytest.mark.parametrize("fault", [Fault.malformed(), Fault.truncated()])
def test_unreadable_json_is_a_bad_response(
    fake: FakeFacebook, http: httpx.Client, fault: Fault
) -> None:
    post = fake.add_post()
    fake.add_comments(post, 3)
    fake.fail("GET", f"{V}/{post}/comments", fault)
    with pytest.raises(BadResponse):
        sync(make(fake, http), None)


def test_expired_token_asks_to_reconnect(fake: FakeFacebook, http: httpx.Client) -> None:
    fake.expire_token()
    with pytest.raises(AuthError) as caught:
        make(fake, http).verify()
    assert "Reconnect this account" in caught.value.user_message
    assert SECRET not in str(caught.value)


def test_reply_is_posted_once_as_a_comment(fake: FakeFacebook, http: httpx.Client) -> None:
    post = fake.add_post()
    ann = fake.add_comment(post, "Can I help?")
    client = make(fake, http)
    batches, _ = sync(client, None)
    posted = client.post_reply(reply_to(batches, ann, "Yes please!"))
    (ours,) = fake.page_comments()
    assert posted.remote_id == ours["id"] and ours["_parent"] == ann
    assert posted.url == ours["permalink_url"]
    request = fake.calls("POST", f"{V}/{ann}/comments")[0]
    assert request.form() == {"message": ["Yes please!"]}
    assert "access_token" not in request.query


def test_a_reply_to_a_reply_goes_under_its_parent(fake: FakeFacebook, http: httpx.Client) -> None:
    post = fake.add_post()
    ann = fake.add_comment(post, "Question")
    bob = fake.add_comment(ann, "Same question")
    client = make(fake, http)
    batches, _ = sync(client, None)
    client.post_reply(reply_to(batches, bob, "Answer for you both"))
    assert fake.calls("POST", f"{V}/{ann}/comments")
    assert not fake.calls("POST", f"{V}/{bob}/comments")


@pytest.mark.parametrize("fault", [Fault.http_status(500), Fault.drop()])
def test_reply_post_is_never_retried(fake: FakeFacebook, http: httpx.Client, fault: Fault) -> None:
    post = fake.add_post()
    ann = fake.add_comment(post, "Hi")
    client = make(fake, http)
    batches, _ = sync(client, None)
    fake.fail("POST", f"{V}/{ann}/comments", fault)
    with pytest.raises((ServerError, Offline)):
        client.post_reply(reply_to(batches, ann, "Hello"))
    assert len(fake.calls("POST", f"{V}/{ann}/comments")) == 1
    assert fake.page_comments() == []


def test_a_lost_reply_is_found_by_reading_back(fake: FakeFacebook, http: httpx.Client) -> None:
    post = fake.add_post()
    ann = fake.add_comment(post, "Hi")
    client = make(fake, http)
    batches, _ = sync(client, None)
    request = reply_to(batches, ann, "Hello  Ann,\nthanks!")
    assert client.find_posted_reply(request) is None
    fake.add_comment(ann, "Hello Ann, thanks!", author="Someone Else")  # not from the Page
    fake.fail("POST", f"{V}/{ann}/comments", Fault.drop_after_handling())
    with pytest.raises(Offline):
        client.post_reply(request)
    (ours,) = fake.page_comments()
    found = client.find_posted_reply(request)
    assert found is not None and found.remote_id == ours["id"]


def test_a_reply_to_a_deleted_comment_is_not_found(fake: FakeFacebook, http: httpx.Client) -> None:
    post = fake.add_post()
    ann = fake.add_comment(post, "Hi")
    client = make(fake, http)
    batches, _ = sync(client, None)
    request = reply_to(batches, ann, "Hello")
    del fake.objects[ann]
    with pytest.raises(NotFound) as caught:
        client.post_reply(request)
    assert "no longer on Facebook" in caught.value.user_message


def test_base_url_gets_the_api_version_and_plain_http_is_refused(http: httpx.Client) -> None:
    client = FacebookClient(http, "https://graph.facebook.com", "1", SECRET)
    assert client.base_url == "https://graph.facebook.com/v21.0"
    with pytest.raises(ValueError, match="unencrypted"):
        FacebookClient(http, "http://graph.facebook.com", "1", SECRET)


def test_the_token_never_shows_in_errors(fake: FakeFacebook, http: httpx.Client) -> None:
    path = f"{V}/{fake.page_id}"
    errors: list[NetworkError] = []
    faults = [Fault.http_status(400, body={"error": {"code": 100, "message": "bad"}})]
    faults += [Fault.drop(), Fault.malformed()]
    for fault in faults:
        fake.fail("GET", path, fault)
        try:
            make(fake, http, policy=RetryPolicy(attempts=1)).verify()
        except NetworkError as exc:
            errors.append(exc)
    assert len(errors) == 3
    assert all(SECRET not in str(e) and SECRET not in e.user_message for e in errors)


def test_an_unreadable_cursor_starts_over(fake: FakeFacebook, http: httpx.Client) -> None:
    post = fake.add_post()
    made = fake.add_comments(post, 2)
    batches, cursor = sync(make(fake, http), "{not json")
    assert sorted(ids(batches)) == sorted(made) and cursor is not None
    json.loads(cursor)


def test_a_page_entered_by_username_learns_its_id(fake: FakeFacebook, http: httpx.Client) -> None:
    post = fake.add_post()
    ann = fake.add_comment(post, "Hi")
    fake.add_comment(ann, "Hello from the Page", author=fake.page_id)
    client = FacebookClient(http, fake.base_url, "kindlytrust", SECRET, sleep=Sleeps())
    batches, _ = sync(client, None)
    assert ids(batches) == [ann]  # the Page's own comment was recognised
    assert client.page_id == fake.page_id


def test_usage_headers_nested_too_deep_are_skipped_not_a_crash() -> None:
    from app.core.networks.facebook import regain_access_at

    now = datetime(2026, 10, 5, 12, 0, tzinfo=UTC)
    headers = httpx.Headers(
        {
            "x-app-usage": "[" * 5_000 + "]" * 5_000,  # deeper than either reader goes
            "x-page-usage": '{"estimated_time_to_regain_access": 7}',
        }
    )
    assert regain_access_at(headers, now) == now + timedelta(minutes=7)
