"""MastodonClient against the fake Mastodon over real HTTP on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.core.networks.base import MentionBatch, RemoteMention, ReplyRequest, ReplyTarget
from app.core.networks.errors import (
    AuthError,
    BadResponse,
    NotFound,
    Offline,
    RateLimited,
    Rejected,
    ServerError,
)
from app.core.networks.http import RetryPolicy
from app.core.networks.mastodon import MastodonClient
from app.core.networks.mastodon_oauth import authorize_url, exchange_code, register_app
from tests.fakes.mastodon import TOKEN, FakeMastodon
from tests.fakes.server import Fault

NOTIFICATIONS = "/api/v1/notifications"
STATUSES = "/api/v1/statuses"


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def fake() -> Iterator[FakeMastodon]:
    with FakeMastodon() as server:
        yield server


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=2.0) as client:
        yield client


def make(
    fake: FakeMastodon, http: httpx.Client, sleeps: Sleeps | None = None, **kwargs: Any
) -> MastodonClient:
    return MastodonClient(
        http, fake.base_url, TOKEN, sleep=sleeps if sleeps is not None else Sleeps(), **kwargs
    )


def collect(batches: Iterator[MentionBatch]) -> list[MentionBatch]:
    return list(batches)


def texts(batches: list[MentionBatch]) -> list[str]:
    return [m.text for b in batches for m in b.mentions]


def target(mention: RemoteMention) -> ReplyTarget:
    handle = mention.author.handle if mention.author else None
    return ReplyTarget(mention.remote_id, mention.conversation_id, handle, mention.raw)


def first_mention(client: MastodonClient) -> RemoteMention:
    return next(iter(client.fetch_mentions(None))).mentions[0]


# -- identity and credentials ------------------------------------------------------------------


def test_verify_returns_our_account(fake: FakeMastodon, http: httpx.Client) -> None:
    me = make(fake, http).verify()
    assert me.remote_id == fake.me.id
    assert me.handle == f"kindlytrust@{fake.host}"
    assert me.follower_count == 42


def test_revoked_token_asks_to_reconnect(fake: FakeMastodon, http: httpx.Client) -> None:
    fake.revoke_tokens()
    client = make(fake, http)
    with pytest.raises(AuthError) as raised:
        client.verify()
    assert "Reconnect this account" in raised.value.user_message
    with pytest.raises(AuthError):
        collect(client.fetch_mentions("5"))
    assert TOKEN not in str(raised.value) + raised.value.user_message + repr(client)


def test_plain_http_is_refused_except_on_loopback(http: httpx.Client) -> None:
    with pytest.raises(ValueError, match="unencrypted"):
        MastodonClient(http, "http://mastodon.example", TOKEN)
    assert MastodonClient(http, "mastodon.example/", TOKEN).base_url == "https://mastodon.example"


# -- fetching mentions ------------------------------------------------------------------------


def test_first_sync_walks_forward_with_a_cursor_per_page(
    fake: FakeMastodon, http: httpx.Client
) -> None:
    for i in range(5):
        fake.add_mention(text=f"m{i}")
    batches = collect(make(fake, http, page_size=2).fetch_mentions(None))
    assert texts(batches) == ["m0", "m1", "m2", "m3", "m4"]  # oldest first, page by page
    assert [len(b.mentions) for b in batches] == [2, 2, 1]
    assert [b.cursor for b in batches] == ["2", "4", "5"]  # newest notification id of each
    calls = fake.calls("GET", NOTIFICATIONS)
    assert calls[0].query["min_id"] == ["0"] and calls[0].query["types[]"] == ["mention"]
    assert calls[1].query["min_id"] == ["2"]  # followed the Link header's prev URL
    assert len(calls) == 4  # the last page is empty: nothing newer


def test_later_sync_starts_after_the_cursor(fake: FakeMastodon, http: httpx.Client) -> None:
    fake.add_mention(text="old")
    client = make(fake, http)
    cursor = collect(client.fetch_mentions(None))[-1].cursor
    assert collect(client.fetch_mentions(cursor)) == []
    fake.add_mention(text="new")
    batches = collect(client.fetch_mentions(cursor))
    assert texts(batches) == ["new"]
    assert batches[-1].cursor == "2"


def test_a_crash_between_batches_never_skips(fake: FakeMastodon, http: httpx.Client) -> None:
    for i in range(7):
        fake.add_mention(text=f"m{i}")
    client = make(fake, http, page_size=3)
    stored: list[str] = []
    cursor = None
    for batch in client.fetch_mentions(None):  # the app stores one batch, then "crashes"
        stored += [m.text for m in batch.mentions]
        cursor = batch.cursor
        break
    stored += texts(collect(client.fetch_mentions(cursor)))
    assert stored == [f"m{i}" for i in range(7)]


def test_duplicates_across_pages_are_dropped(fake: FakeMastodon, http: httpx.Client) -> None:
    fake.overlap = 1  # every page repeats the last item of the previous one
    for i in range(6):
        fake.add_mention(text=f"m{i}")
    batches = collect(make(fake, http, page_size=2).fetch_mentions(None))
    assert texts(batches) == [f"m{i}" for i in range(6)]
    cursors = [int(b.cursor or 0) for b in batches]
    assert cursors == sorted(cursors)


def test_a_link_to_another_host_is_not_followed(fake: FakeMastodon, http: httpx.Client) -> None:
    for i in range(3):
        fake.add_mention(text=f"m{i}")
    original = fake._page

    def foreign_links(*args: Any) -> Any:
        page, headers = original(*args)
        return page, {k: v.replace(fake.base_url, "http://127.0.0.2:9") for k, v in headers.items()}

    fake._page = foreign_links  # type: ignore[method-assign]
    batches = collect(make(fake, http, page_size=1).fetch_mentions(None))
    assert texts(batches) == ["m0", "m1", "m2"]


def test_backfill_reads_only_the_newest(fake: FakeMastodon, http: httpx.Client) -> None:
    for i in range(10):
        fake.add_mention(text=f"m{i}")
    client = make(fake, http, page_size=2, backfill=3)
    batches = collect(client.fetch_mentions(None))
    assert texts(batches) == ["m7", "m8", "m9"]
    assert [b.cursor for b in batches] == [None, "10"]  # the cursor only on the last batch
    fake.add_mention(text="m10")
    assert texts(collect(client.fetch_mentions("10"))) == ["m10"]


def test_other_notifications_are_not_mentions(fake: FakeMastodon, http: httpx.Client) -> None:
    fan = fake.add_account("fan@example.org")
    fake.add_notification("favourite", fan, fake.add_own_status("our post"))
    fake.add_notification("follow", fan, None)
    fake.add_mention(text="a real mention")
    assert texts(collect(make(fake, http).fetch_mentions(None))) == ["a real mention"]


def test_many_mentions_in_order(fake: FakeMastodon, http: httpx.Client) -> None:
    fake.add_mentions(1500, authors=30)
    batches = collect(make(fake, http).fetch_mentions(None))
    assert len(batches) == 19  # 80 a page
    ids = [m.remote_id for b in batches for m in b.mentions]
    assert len(ids) == len(set(ids)) == 1500
    assert texts(batches)[:2] == ["Mention 0", "Mention 1"]


def test_replies_and_conversations(fake: FakeMastodon, http: httpx.Client) -> None:
    ours = fake.add_own_status("Our appeal")
    fake.add_mention(author="ann@example.org", text="@kindlytrust great", in_reply_to=ours.id)
    [reply] = collect(make(fake, http).fetch_mentions(None))[0].mentions
    assert reply.kind == "reply"
    assert reply.in_reply_to_id == ours.id == reply.conversation_id


def test_html_becomes_text_and_markup_is_kept(fake: FakeMastodon, http: httpx.Client) -> None:
    markup = (
        '<p>Hi <span class="h-card"><a href="https://x/@kindlytrust" class="u-url mention">'
        '@<span>kindlytrust</span></a></span> &amp; team,<br />see <a href="https://ex.org/a">'
        '<span class="invisible">https://</span><span class="">ex.org/a</span></a></p><p>Bye</p>'
    )
    fake.add_mention(html_content=markup, spoiler="food", media=("a cat",))
    [mention] = collect(make(fake, http).fetch_mentions(None))[0].mentions
    assert (
        mention.text
        == "CW: food\n\nHi @kindlytrust & team,\nsee https://ex.org/a\n\nBye\n[image: a cat]"
    )
    assert mention.markup == markup


def test_hostile_text_is_neutralised(fake: FakeMastodon, http: httpx.Client) -> None:
    markup = (
        "<script>alert(1)</script><style>p{}</style><p>pay\u202etxt.exe\x00\x07 "
        "<img src=x onerror=alert(2)><iframe src=https://evil>inside</iframe>ok</p>" + "A" * 30000
    )
    fake.add_mention(html_content=markup, display_name="\u202eEvil\x1b[31m Bot")
    [mention] = collect(make(fake, http).fetch_mentions(None))[0].mentions
    assert "alert" not in mention.text and "inside" not in mention.text
    assert "\u202e" not in mention.text and "\x00" not in mention.text
    assert mention.text.startswith("paytxt.exe ok")
    assert len(mention.text) <= 20_000
    assert mention.author is not None and mention.author.display_name == "Evil[31m Bot"


# -- failures ---------------------------------------------------------------------------------


def rate_limited(reset: datetime) -> Fault:
    iso = reset.isoformat().replace("+00:00", "Z")
    return Fault.http_status(429, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": iso})


def test_a_short_rate_limit_is_waited_out(fake: FakeMastodon, http: httpx.Client) -> None:
    fake.add_mention(text="after the wait")
    fake.fail("GET", NOTIFICATIONS, rate_limited(datetime.now(UTC) + timedelta(seconds=20)))
    sleeps = Sleeps()
    assert texts(collect(make(fake, http, sleeps).fetch_mentions(None))) == ["after the wait"]
    assert len(sleeps) == 1 and 15 < sleeps[0] <= 20


def test_a_long_rate_limit_is_handed_back(fake: FakeMastodon, http: httpx.Client) -> None:
    reset = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    fake.fail("GET", NOTIFICATIONS, rate_limited(reset))
    sleeps = Sleeps()
    with pytest.raises(RateLimited) as raised:
        collect(make(fake, http, sleeps).fetch_mentions(None))
    assert raised.value.retry_at == reset
    assert sleeps == []


def test_server_errors_are_retried(fake: FakeMastodon, http: httpx.Client) -> None:
    fake.add_mention(text="finally")
    fake.fail("GET", NOTIFICATIONS, Fault.http_status(503), Fault.http_status(502))
    sleeps = Sleeps()
    assert texts(collect(make(fake, http, sleeps).fetch_mentions(None))) == ["finally"]
    assert len(sleeps) == 2


def test_persistent_server_errors_raise(fake: FakeMastodon, http: httpx.Client) -> None:
    fake.fail("GET", NOTIFICATIONS, *[Fault.http_status(500)] * 4)
    with pytest.raises(ServerError):
        collect(make(fake, http).fetch_mentions(None))


def test_timeouts_are_retried_then_reported(fake: FakeMastodon) -> None:
    fake.add_mention(text="slowly")
    with httpx.Client(timeout=0.1) as quick:
        client = make(fake, quick, policy=RetryPolicy(attempts=2))
        fake.fail("GET", NOTIFICATIONS, Fault.slow(0.4))
        assert texts(collect(client.fetch_mentions(None))) == ["slowly"]
        fake.fail("GET", NOTIFICATIONS, Fault.slow(0.4), Fault.slow(0.4))
        with pytest.raises(Offline) as raised:
            collect(client.fetch_mentions(None))
        assert "did not answer in time" in raised.value.user_message


def test_dropped_connections(fake: FakeMastodon, http: httpx.Client) -> None:
    fake.add_mention(text="survived")
    fake.fail("GET", NOTIFICATIONS, Fault.drop())
    client = make(fake, http)
    assert texts(collect(client.fetch_mentions(None))) == ["survived"]
    fake.fail("GET", NOTIFICATIONS, *[Fault.drop()] * 4)
    with pytest.raises(Offline):
        collect(client.fetch_mentions(None))


@pytest.mark.parametrize("fault", [Fault.malformed(), Fault.truncated()], ids=lambda f: f.kind)
def test_unreadable_json_is_a_bad_response(
    fake: FakeMastodon, http: httpx.Client, fault: Fault
) -> None:
    fake.add_mention()
    fake.fail("GET", NOTIFICATIONS, fault)
    with pytest.raises(BadResponse) as raised:
        collect(make(fake, http).fetch_mentions(None))
    assert "could not read" in raised.value.user_message


def test_an_unexpected_shape_is_a_bad_response(fake: FakeMastodon, http: httpx.Client) -> None:
    fake.fail("GET", NOTIFICATIONS, Fault.http_status(200, body={"not": "a list"}))
    with pytest.raises(BadResponse):
        collect(make(fake, http).fetch_mentions(None))


# -- replying ---------------------------------------------------------------------------------


def test_reply_threads_mentions_and_matches_visibility(
    fake: FakeMastodon, http: httpx.Client
) -> None:
    fake.add_mention(author="ann@example.org", text="psst @kindlytrust", visibility="private")
    client = make(fake, http)
    mention = first_mention(client)
    posted = client.post_reply(ReplyRequest("Thank you!", target(mention), "key-1"))
    [status] = fake.posted_replies()
    assert posted.remote_id == status["id"]
    assert status["in_reply_to_id"] == mention.remote_id
    assert status["visibility"] == "private"
    assert "ann" in status["content"]  # the author is mentioned, or would not see it
    [request] = fake.calls("POST", STATUSES)
    assert request.headers["idempotency-key"] == "key-1"
    for text, posted_text in [
        ("@ann@example.org hi", "@ann@example.org hi"),
        ("hi (@ANN@example.org).", "hi (@ANN@example.org)."),
        ("@ann@example.orgy hi", "@ann@example.org @ann@example.orgy hi"),
    ]:
        assert client.reply_text(ReplyRequest(text, target(mention), "k")) == posted_text


def test_a_retried_reply_posts_once(fake: FakeMastodon, http: httpx.Client) -> None:
    fake.add_mention()
    client = make(fake, http)
    request = ReplyRequest("Thanks <3 & more", target(first_mention(client)), "key-7")
    fake.fail("POST", STATUSES, Fault.drop_after_handling())  # posted, but the answer is lost
    first = client.post_reply(request)  # the retry carries the same Idempotency-Key
    again = client.post_reply(request)
    assert first == again
    assert len(fake.posted) == 1
    assert len(fake.calls("POST", STATUSES)) == 3
    other = client.post_reply(ReplyRequest("Another", request.target, "key-8"))
    assert other.remote_id != first.remote_id and len(fake.posted) == 2


def test_find_posted_reply(fake: FakeMastodon, http: httpx.Client) -> None:
    fake.add_mention()
    client = make(fake, http)
    mention = first_mention(client)
    request = ReplyRequest("Thanks <3 &\n\nsee you", target(mention), "key-9")
    assert client.find_posted_reply(request) is None
    for i in range(3):
        fake.add_own_status(f"unrelated {i}")
    fake.fail("POST", STATUSES, *[Fault.drop_after_handling()] * 4)
    with pytest.raises(Offline):
        client.post_reply(request)
    found = client.find_posted_reply(request)
    assert found is not None and found.remote_id == fake.posted[0]
    changed = ReplyRequest("Different words", request.target, "key-10")
    assert client.find_posted_reply(changed) is None


def test_refused_and_vanished_replies(fake: FakeMastodon, http: httpx.Client) -> None:
    fake.add_mention()
    client = make(fake, http)
    mention = first_mention(client)
    with pytest.raises(Rejected) as raised:
        client.post_reply(ReplyRequest("x" * 600, target(mention), "long"))
    assert "character limit of 500" in raised.value.user_message
    gone = ReplyTarget("999", None, "ann@example.org", {})
    with pytest.raises(NotFound):
        client.post_reply(ReplyRequest("hello", gone, "gone"))
    assert fake.posted == []


def test_thread_finds_the_root(fake: FakeMastodon, http: httpx.Client) -> None:
    root = fake.add_own_status("Our appeal")
    first = fake.add_mention(text="first", in_reply_to=root.id)
    second = fake.add_mention(author="bob@example.org", text="second", in_reply_to=first.status_id)
    fake.add_mention(text="third", in_reply_to=second.status_id)
    thread = make(fake, http).thread(second.status_id)
    assert [m.text for m in thread.ancestors] == ["Our appeal", "first"]
    assert [m.text for m in thread.descendants] == ["third"]
    assert thread.root_id(second.status_id) == root.id
    with pytest.raises(NotFound):
        make(fake, http).thread("404")


# -- connecting (OAuth) -----------------------------------------------------------------------


def test_oauth_registration_and_code_exchange(fake: FakeMastodon, http: httpx.Client) -> None:
    app = register_app(http, fake.base_url, sleep=lambda _: None)
    assert app.client_id and "read:notifications" in app.scopes
    url = authorize_url(fake.base_url, app, state="xyz")
    assert url.startswith(f"{fake.base_url}/oauth/authorize?client_id=")
    token = exchange_code(http, fake.base_url, app, " good-code\n", sleep=lambda _: None)
    assert MastodonClient(http, fake.base_url, token, sleep=lambda _: None).verify()
    with pytest.raises(AuthError) as raised:
        exchange_code(http, fake.base_url, app, "bad-code", sleep=lambda _: None)
    assert "Try connecting again" in raised.value.user_message
