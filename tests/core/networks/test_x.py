"""XClient against the fake X over real HTTP on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.core.networks.base import MentionBatch, ReplyRequest, ReplyTarget, UsageCount
from app.core.networks.errors import (
    AuthError,
    BadResponse,
    NetworkError,
    Offline,
    RateLimited,
    Rejected,
    ServerError,
)
from app.core.networks.http import RetryPolicy
from app.core.networks.x import XClient
from app.core.vocab import Network
from tests.fakes.server import Fault
from tests.fakes.x import FakeX
from tests.helpers.accounts_over_http import Sleeps

SECRET = "x-test-token"


@pytest.fixture
def fake() -> Iterator[FakeX]:
    with FakeX() as server:
        yield server


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def make(fake: FakeX, http: httpx.Client, sleeps: Sleeps | None = None, **kwargs: Any) -> XClient:
    return XClient(
        http,
        SECRET,
        base_url=fake.base_url,
        sleep=sleeps if sleeps is not None else Sleeps(),
        **kwargs,
    )


def sync(client: XClient, cursor: str | None) -> tuple[list[MentionBatch], str | None]:
    batches = list(client.fetch_mentions(cursor))
    for batch in batches:
        if batch.cursor is not None:
            cursor = batch.cursor
    return batches, cursor


def ids(batches: list[MentionBatch]) -> list[str]:
    return [m.remote_id for b in batches for m in b.mentions]


def request_for(fake: FakeX, target: str, text: str = "Thank you for asking!") -> ReplyRequest:
    return ReplyRequest(text, ReplyTarget(target, None, "ann", fake.tweets[target]), "key-1")


def test_verify_returns_the_account(fake: FakeX, http: httpx.Client) -> None:
    me = make(fake, http).verify()
    assert (me.remote_id, me.handle, me.display_name) == (fake.me, "kindlytrust", "Kindly Trust")
    assert me.follower_count == 1200
    assert me.profile_url == "https://x.com/kindlytrust"
    request = fake.calls("GET", "/2/users/me")[0]
    assert request.headers["authorization"] == f"Bearer {SECRET}"


def test_first_sync_reads_mentions_with_authors(fake: FakeX, http: httpx.Client) -> None:
    first = fake.add_mention("@kindlytrust do you take old coats?", "ann", followers=321)
    second = fake.add_mention("@kindlytrust thanks!", "bob")
    client = make(fake, http)
    assert client.network is Network.X
    batches, cursor = sync(client, None)
    assert ids(batches) == [second, first]  # newest first, as X sends them
    assert cursor == second
    mention = batches[-1].mentions[1]
    assert mention.author is not None
    assert (mention.author.handle, mention.author.follower_count) == ("ann", 321)
    assert mention.url == f"https://x.com/ann/status/{first}"
    assert mention.text == "@kindlytrust do you take old coats?"
    assert mention.created_at.tzinfo is UTC
    assert mention.conversation_id is None and mention.kind == "mention"
    query = fake.calls("GET", fake.mentions_path())[0].query
    assert query["expansions"] == ["author_id"]
    assert "public_metrics" in query["user.fields"][0]
    for field in ("created_at", "conversation_id", "in_reply_to_user_id", "referenced_tweets"):
        assert field in query["tweet.fields"][0]


def test_paging_yields_the_cursor_only_with_the_last_page(fake: FakeX, http: httpx.Client) -> None:
    old = fake.add_mention("@kindlytrust old")
    new = fake.add_mentions(12)
    batches, cursor = sync(make(fake, http, page_size=5), old)
    assert [b.cursor for b in batches] == [None, None, new[-1]]
    assert sorted(ids(batches)) == sorted(new)
    calls = fake.calls("GET", fake.mentions_path())
    assert [c.arg("since_id") for c in calls] == [old] * 3
    assert calls[0].arg("pagination_token") is None and calls[1].arg("pagination_token")
    assert cursor == new[-1]
    # Nothing new: one call, no mentions, the cursor stays.
    batches, again = sync(make(fake, http), cursor)
    assert ids(batches) == [] and again == cursor


def test_first_sync_reads_a_limited_number_of_pages(fake: FakeX, http: httpx.Client) -> None:
    made = fake.add_mentions(20)
    batches, cursor = sync(make(fake, http, page_size=5, first_sync_pages=2), None)
    assert len(batches) == 2 and batches[0].cursor is None
    assert ids(batches) == made[::-1][:10]
    assert cursor == made[-1]


def test_a_crash_after_any_batch_never_skips_a_mention(fake: FakeX, http: httpx.Client) -> None:
    start = fake.add_mention("@kindlytrust first")
    made = fake.add_mentions(11)
    full = len(list(make(fake, http, page_size=5).fetch_mentions(start)))
    for crash_after in range(full + 1):
        stored: set[str] = set()
        cursor = start
        for n, batch in enumerate(make(fake, http, page_size=5).fetch_mentions(cursor)):
            if n == crash_after:
                break  # the process dies before this batch's transaction
            stored.update(m.remote_id for m in batch.mentions)
            cursor = batch.cursor or cursor
        _batches, _ = sync(make(fake, http, page_size=5), cursor)
        stored.update(ids(_batches))
        assert stored == set(made), crash_after


def test_duplicates_across_pages_are_yielded_once(fake: FakeX, http: httpx.Client) -> None:
    made = fake.add_mentions(12)
    fake.overlap = 2  # each page repeats the last two of the previous one
    fake.duplicate(made[3])
    batches, _ = sync(make(fake, http, page_size=5, first_sync_pages=10), None)
    assert sorted(ids(batches)) == sorted(made)


def test_replies_quotes_and_threads(fake: FakeX, http: httpx.Client) -> None:
    root = fake.add_mention("@kindlytrust when is the fair?", "ann")
    reply = fake.add_mention("@ann @kindlytrust me too", "bob", in_reply_to=root)
    quote = fake.add_mention("look @kindlytrust", "cy", quote_of=root)
    batches, _ = sync(make(fake, http), None)
    by_id = {m.remote_id: m for b in batches for m in b.mentions}
    assert by_id[reply].kind == "reply"
    assert by_id[reply].in_reply_to_id == root
    assert by_id[reply].conversation_id == root
    assert by_id[quote].kind == "quote"
    assert by_id[root].conversation_id is None


def test_our_own_posts_are_not_mentions(fake: FakeX, http: httpx.Client) -> None:
    other = fake.add_mention("@kindlytrust hi", "ann")
    ours = fake.add_mention("@kindlytrust note to self", "kindlytrust")
    batches, cursor = sync(make(fake, http), None)
    assert ids(batches) == [other]
    assert cursor == ours  # still past it


def test_hostile_text_is_plain_and_clean(fake: FakeX, http: httpx.Client) -> None:
    hostile = "@kindlytrust &lt;script&gt;alert(1)&lt;/script&gt; \u202egnp.exe\x07 &amp; more"
    fake.add_mention(hostile, "mallory")
    batches, _ = sync(make(fake, http), None)
    mention = batches[0].mentions[0]
    assert mention.text == "@kindlytrust <script>alert(1)</script> gnp.exe & more"
    assert mention.markup == hostile


def test_429_waits_for_a_short_reset_and_retries(
    fake: FakeX, http: httpx.Client, sleeps: Sleeps
) -> None:
    fake.add_mention("@kindlytrust hi")
    reset = str(int(time.time()) + 5)
    headers = {"x-rate-limit-reset": reset, "x-rate-limit-remaining": "0"}
    fake.fail("GET", fake.mentions_path(), Fault.http_status(429, headers=headers))
    batches, _ = sync(make(fake, http, sleeps), None)
    assert len(ids(batches)) == 1
    assert len(sleeps) == 1 and 0 < sleeps[0] <= 6


def test_429_with_a_long_reset_is_handed_back(fake: FakeX, http: httpx.Client) -> None:
    reset = int(time.time()) + 900
    fake.fail(
        "GET", fake.mentions_path(), Fault.http_status(429, {"x-rate-limit-reset": str(reset)})
    )
    with pytest.raises(RateLimited) as caught:
        sync(make(fake, http), None)
    assert caught.value.retry_at == datetime.fromtimestamp(reset, UTC)
    assert "slow down" in caught.value.user_message


def test_5xx_is_retried_then_given_up(fake: FakeX, http: httpx.Client, sleeps: Sleeps) -> None:
    fake.add_mention("@kindlytrust hi")
    fake.fail("GET", fake.mentions_path(), Fault.http_status(503), Fault.http_status(502))
    batches, _ = sync(make(fake, http, sleeps), None)
    assert len(ids(batches)) == 1 and len(sleeps) == 2
    fake.fail("GET", fake.mentions_path(), *[Fault.http_status(500)] * 4)
    with pytest.raises(ServerError):
        sync(make(fake, http), None)


def test_timeouts_and_dropped_connections(fake: FakeX) -> None:
    fake.add_mention("@kindlytrust hi")
    policy = RetryPolicy(attempts=2, base_delay=0.0)
    with httpx.Client(timeout=0.2) as quick:
        client = make(fake, quick, policy=policy)
        client.verify()
        fake.fail("GET", fake.mentions_path(), Fault.slow(0.5))
        assert len(ids(sync(client, None)[0])) == 1  # the retry got through
        fake.fail("GET", fake.mentions_path(), Fault.slow(0.5), Fault.slow(0.5))
        with pytest.raises(Offline, match="timeout"):
            sync(client, None)
        fake.fail("GET", fake.mentions_path(), Fault.drop())
        assert len(ids(sync(client, None)[0])) == 1
        fake.fail("GET", fake.mentions_path(), Fault.drop(), Fault.drop())
        with pytest.raises(Offline) as caught:
            sync(client, None)
        assert "connection" in caught.value.user_message


@pytest.mark.parametrize("fault", [Fault.malformed(), Fault.truncated()])
def test_unreadable_json_is_a_bad_response(fake: FakeX, http: httpx.Client, fault: Fault) -> None:
    fake.add_mentions(3)
    client = make(fake, http)
    client.verify()
    fake.fail("GET", fake.mentions_path(), fault)
    with pytest.raises(BadResponse) as caught:
        sync(client, None)
    assert caught.value.retryable


def test_expired_token_asks_to_reconnect(fake: FakeX, http: httpx.Client) -> None:
    fake.expire_token()
    with pytest.raises(AuthError) as caught:
        make(fake, http).verify()
    assert "Reconnect this account" in caught.value.user_message
    assert SECRET not in str(caught.value)


def test_expired_token_is_refreshed_once(fake: FakeX, http: httpx.Client) -> None:
    renewed: list[str] = []

    def refresh() -> str:
        fake.token = f"renewed-{len(renewed)}"
        renewed.append(fake.token)
        return fake.token

    fake.expire_token()
    me = make(fake, http, refresh=refresh).verify()
    assert me.handle == "kindlytrust" and renewed == ["renewed-0"]


def test_reply_is_posted_once_with_the_thread_reference(fake: FakeX, http: httpx.Client) -> None:
    target = fake.add_mention("@kindlytrust can I volunteer?", "ann")
    client = make(fake, http)
    client.verify()
    posted = client.post_reply(request_for(fake, target))
    (reply,) = fake.replies_to(target)
    assert posted.remote_id == reply["id"]
    assert posted.url == f"https://x.com/kindlytrust/status/{reply['id']}"
    body = fake.calls("POST", "/2/tweets")[0].json()
    assert body == {"text": "Thank you for asking!", "reply": {"in_reply_to_tweet_id": target}}
    assert client.usage.posts == 1


@pytest.mark.parametrize("fault", [Fault.http_status(503), Fault.drop(), Fault.slow(0.5)])
def test_reply_post_is_never_retried(fake: FakeX, fault: Fault) -> None:
    target = fake.add_mention("@kindlytrust hello")
    with httpx.Client(timeout=0.2) as quick:
        client = make(fake, quick)
        fake.fail("POST", "/2/tweets", fault)
        with pytest.raises((ServerError, Offline)):
            client.post_reply(request_for(fake, target))
    assert len(fake.calls("POST", "/2/tweets")) == 1


def test_a_lost_reply_is_found_by_reading_back(fake: FakeX, http: httpx.Client) -> None:
    target = fake.add_mention("@kindlytrust hello", "ann")
    other = fake.add_mention("@kindlytrust hi there", "bob")
    client = make(fake, http)
    request = request_for(fake, target, "Hello Ann! See https://example.org/volunteer")
    assert client.find_posted_reply(request) is None
    fake.fail("POST", "/2/tweets", Fault.drop_after_handling())
    with pytest.raises(Offline):
        client.post_reply(request)
    # Another reply with the same words to someone else must not be mistaken for it.
    client.post_reply(request_for(fake, other, "Hello Ann! See https://example.org/volunteer"))
    found = client.find_posted_reply(request)
    (stored,) = fake.replies_to(target)
    assert stored["text"].startswith("@ann ")  # X shows the reply with the mention in front
    assert found is not None and found.remote_id == stored["id"]
    query = fake.calls("GET", f"/2/users/{fake.me}/tweets")[-1].query
    assert "referenced_tweets" in query["tweet.fields"][0]


def test_duplicate_refusal_returns_the_earlier_reply(fake: FakeX, http: httpx.Client) -> None:
    target = fake.add_mention("@kindlytrust hello", "ann")
    client = make(fake, http)
    first = client.post_reply(request_for(fake, target))
    again = client.post_reply(request_for(fake, target))
    assert again.remote_id == first.remote_id
    assert len(fake.replies_to(target)) == 1


def test_reply_to_a_deleted_post_is_rejected(fake: FakeX, http: httpx.Client) -> None:
    target = fake.add_mention("@kindlytrust hello")
    request = request_for(fake, target)
    del fake.tweets[target]
    with pytest.raises(Rejected) as caught:
        make(fake, http).post_reply(request)
    assert "deleted" in caught.value.user_message


def test_usage_counts_reads_and_posts(fake: FakeX, http: httpx.Client) -> None:
    fake.add_mentions(12, author="ann")
    start = UsageCount(reads=100, posts=7)
    client = make(fake, http, page_size=5, first_sync_pages=3, usage=start)
    client.verify()  # one user read
    sync(client, None)  # 12 posts + one author per page
    assert client.usage == UsageCount(reads=100 + 1 + 12 + 3, posts=7)
    client.post_reply(request_for(fake, fake.mention_ids[0]))
    assert client.usage.posts == 8


def test_plain_http_is_refused_except_loopback(http: httpx.Client) -> None:
    with pytest.raises(ValueError, match="unencrypted"):
        XClient(http, SECRET, base_url="http://api.x.com")
    assert XClient(http, SECRET).base_url == "https://api.x.com"


def test_the_token_never_shows_in_errors(fake: FakeX, http: httpx.Client) -> None:
    errors: list[NetworkError] = []
    for fault in (Fault.http_status(403, body={"detail": "no"}), Fault.drop(), Fault.malformed()):
        fake.fail("GET", "/2/users/me", fault)
        try:
            make(fake, http, policy=RetryPolicy(attempts=1)).verify()
        except NetworkError as exc:
            errors.append(exc)
    assert len(errors) == 3
    for exc in errors:
        assert SECRET not in str(exc) and SECRET not in exc.user_message


def test_since_id_older_than_the_first_sync_window_is_respected(
    fake: FakeX, http: httpx.Client
) -> None:
    old = fake.add_mention("@kindlytrust old", created_at=datetime.now(UTC) - timedelta(days=3))
    newer = fake.add_mention("@kindlytrust newer")
    batches, cursor = sync(make(fake, http), old)
    assert ids(batches) == [newer] and cursor == newer
