"""BlueskyClient against the fake Bluesky over real HTTP on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from app.core.networks.base import MentionBatch, RemoteMention, ReplyRequest, ReplyTarget
from app.core.networks.bluesky import BlueskyClient, BlueskySession, Mark
from app.core.networks.bluesky_records import reply_rkey
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
from tests.fakes.bluesky import PASSWORD, FakeBluesky
from tests.fakes.server import Fault

X = "/xrpc/"
LIST = X + "app.bsky.notification.listNotifications"
CREATE = X + "com.atproto.repo.createRecord"
PROFILES = X + "app.bsky.actor.getProfiles"
HANDLE = "kindlytrust.test"


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def fake() -> Iterator[FakeBluesky]:
    with FakeBluesky(HANDLE) as server:
        yield server


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=2.0) as client:
        yield client


def make(
    fake: FakeBluesky,
    http: httpx.Client,
    secret: dict[str, str] | None = None,
    sleeps: Sleeps | None = None,
    **kwargs: Any,
) -> BlueskyClient:
    return BlueskyClient(
        http,
        fake.base_url,
        HANDLE,
        {"app_password": PASSWORD} if secret is None else secret,
        sleep=sleeps if sleeps is not None else Sleeps(),
        **kwargs,
    )


def collect(batches: Iterator[MentionBatch]) -> list[MentionBatch]:
    return list(batches)


def texts(batches: list[MentionBatch]) -> list[str]:
    return [m.text for b in batches for m in b.mentions]


def target(mention: RemoteMention) -> ReplyTarget:
    return ReplyTarget(mention.remote_id, mention.conversation_id, None, mention.raw)


def only_mention(client: BlueskyClient) -> RemoteMention:
    [batch] = collect(client.fetch_mentions(None))
    return batch.mentions[-1]


# -- sessions ---------------------------------------------------------------------------------


def test_signs_in_once_and_hands_over_the_session(fake: FakeBluesky, http: httpx.Client) -> None:
    secrets: list[dict[str, str]] = []
    sessions: list[BlueskySession] = []
    client = make(fake, http, on_secret_changed=secrets.append, on_session_changed=sessions.append)
    me = client.verify()
    assert me.remote_id == fake.me.did and me.handle == HANDLE and me.follower_count == 42
    assert secrets == [
        {"did": fake.me.did, "access_jwt": "fake-access-1", "refresh_jwt": "fake-refresh-1"}
    ]
    assert sessions == [client.session]
    assert "fake-access" not in repr(client.session) + repr(client)
    for _ in range(10):  # polls reuse the session: createSession is limited to 30 per 5 min
        collect(client.fetch_mentions(None))
    assert fake.create_session_calls == 1


def test_resumes_a_stored_session_without_signing_in(fake: FakeBluesky, http: httpx.Client) -> None:
    stored: list[dict[str, str]] = []
    make(fake, http, on_secret_changed=stored.append).verify()
    resumed = make(fake, http, secret=stored[-1])
    fake.add_mention(text="welcome back")
    assert texts(collect(resumed.fetch_mentions(None))) == ["welcome back"]
    assert fake.create_session_calls == 1  # only the first client signed in
    typed = make(fake, http, secret={}, session=BlueskySession.from_secret(stored[-1], HANDLE))
    assert typed.verify().remote_id == fake.me.did


def test_an_expired_token_is_refreshed_not_signed_in_again(
    fake: FakeBluesky, http: httpx.Client
) -> None:
    secrets: list[dict[str, str]] = []
    client = make(fake, http, on_secret_changed=secrets.append)
    client.verify()
    fake.expire_access_tokens()
    fake.add_mention(text="after expiry")
    assert texts(collect(client.fetch_mentions(None))) == ["after expiry"]
    assert (fake.create_session_calls, fake.refresh_calls) == (1, 1)
    assert secrets[-1]["refresh_jwt"] == "fake-refresh-2"  # rotated, and handed over to keep
    assert client.session is not None and client.session.access_jwt == "fake-access-2"
    fake.expire_access_tokens()  # again, from a stored session without the password
    resumed = make(fake, http, secret=secrets[-1])
    assert resumed.verify().remote_id == fake.me.did
    assert (fake.create_session_calls, fake.refresh_calls) == (1, 2)


def test_a_session_stored_without_its_did_learns_it(fake: FakeBluesky, http: httpx.Client) -> None:
    stored: list[dict[str, str]] = []
    make(fake, http, on_secret_changed=stored.append).verify()
    tokens = {k: v for k, v in stored[-1].items() if k != "did"}
    later: list[dict[str, str]] = []
    client = make(fake, http, secret=tokens, on_secret_changed=later.append)
    fake.add_mention()
    mention = only_mention(client)
    client.post_reply(ReplyRequest("Thanks!", target(mention), "key-d"))
    assert fake.posted_replies()[0].uri.startswith(f"at://{fake.me.did}/")
    assert later == [{**tokens, "did": fake.me.did}]


def test_a_refused_refresh_token_needs_reconnecting(fake: FakeBluesky, http: httpx.Client) -> None:
    stored: list[dict[str, str]] = []
    make(fake, http, on_secret_changed=stored.append).verify()
    fake.expire_access_tokens()
    fake.expire_refresh_tokens()
    client = make(fake, http, secret=stored[-1])  # the keyring keeps no app password
    with pytest.raises(AuthError) as raised:
        collect(client.fetch_mentions(None))
    assert "Reconnect this account" in raised.value.user_message
    assert "fake-" not in str(raised.value) + raised.value.user_message
    assert fake.create_session_calls == 1


def test_a_refused_refresh_token_signs_in_once_with_the_password(
    fake: FakeBluesky, http: httpx.Client
) -> None:
    client = make(fake, http)
    client.verify()
    client.sign_in_interval = 0.0  # as if the first sign-in were months ago
    fake.expire_access_tokens()
    fake.expire_refresh_tokens()
    client.verify()
    assert fake.create_session_calls == 2
    client.sign_in_interval = 300.0
    fake.expire_access_tokens()
    fake.expire_refresh_tokens()
    with pytest.raises(AuthError):  # refused again right after signing in: stop, do not loop
        client.verify()
    assert fake.create_session_calls == 2


def test_a_wrong_app_password(fake: FakeBluesky, http: httpx.Client) -> None:
    with pytest.raises(AuthError) as raised:
        make(fake, http, secret={"app_password": "wrong"}).verify()
    assert "did not accept this handle and app password" in raised.value.user_message
    with pytest.raises(AuthError):
        make(fake, http, secret={}).verify()  # nothing to sign in with


def test_sign_in_rate_limit(fake: FakeBluesky, http: httpx.Client) -> None:
    for _ in range(30):
        make(fake, http).verify()
    with pytest.raises(RateLimited) as raised:
        make(fake, http).verify()
    assert raised.value.retry_at is not None


# -- fetching mentions ------------------------------------------------------------------------


def test_first_sync_pages_newest_first_with_the_mark_on_the_last_batch(
    fake: FakeBluesky, http: httpx.Client
) -> None:
    ours = fake.add_post(HANDLE, "Our appeal")
    fake.add_mention(text="m0")
    fake.add_mention(author="bob.example.com", text="m1", reply_to=ours.uri)
    liker = fake.add_post("fan.example.com", "like record")
    fake.add_notification(liker, "like", ours.uri)
    fake.add_mention(author="cat.example.com", text="m2", quote=ours.uri)
    fake.add_mention(text="m3")
    fake.add_mention(text="m4")
    batches = collect(make(fake, http, page_size=2).fetch_mentions(None))
    assert [[m.text for m in b.mentions] for b in batches] == [["m3", "m4"], ["m1", "m2"], ["m0"]]
    assert [b.cursor is None for b in batches] == [True, True, False]
    mark = Mark.decode(batches[-1].cursor or "")
    assert mark is not None and mark.uri == batches[0].mentions[-1].remote_id
    kinds = {m.text: m.kind for b in batches for m in b.mentions}
    assert kinds == {
        "m0": "mention",
        "m1": "reply",
        "m2": "quote",
        "m3": "mention",
        "m4": "mention",
    }
    assert fake.calls("GET", LIST)[0].query["reasons"] == ["mention", "reply", "quote"]


def test_later_syncs_stop_at_the_mark(fake: FakeBluesky, http: httpx.Client) -> None:
    for i in range(5):
        fake.add_mention(text=f"old{i}")
    client = make(fake, http, page_size=2)
    cursor = collect(client.fetch_mentions(None))[-1].cursor
    requests = len(fake.calls("GET", LIST))
    assert collect(client.fetch_mentions(cursor)) == []  # nothing new: one request, no batch
    assert len(fake.calls("GET", LIST)) == requests + 1
    fake.add_mention(text="new0")
    fake.add_mention(text="new1")
    fake.add_mention(text="new2")
    batches = collect(client.fetch_mentions(cursor))
    assert texts(batches) == ["new1", "new2", "new0"]
    assert batches[-1].cursor is not None and batches[-1].cursor != cursor
    assert collect(client.fetch_mentions(batches[-1].cursor)) == []


def test_a_notification_of_the_same_instant_as_the_mark_is_not_lost(
    fake: FakeBluesky, http: httpx.Client
) -> None:
    fake.add_mention(text="first")
    client = make(fake, http)
    cursor = collect(client.fetch_mentions(None))[-1].cursor
    fake.clock -= timedelta(seconds=1)  # the next one is indexed at the very same millisecond
    fake.add_mention(text="same instant")
    batches = collect(client.fetch_mentions(cursor))
    assert texts(batches) == ["same instant"]
    assert batches[-1].cursor != cursor


def test_a_crash_mid_walk_repeats_but_never_skips(fake: FakeBluesky, http: httpx.Client) -> None:
    for i in range(5):
        fake.add_mention(text=f"m{i}")
    client = make(fake, http, page_size=2)
    stored: set[str] = set()
    cursor = None
    for batch in client.fetch_mentions(None):  # store one batch, then "crash"
        stored.update(m.text for m in batch.mentions)
        cursor = batch.cursor
        break
    assert cursor is None  # the mark was not stored yet
    batches = collect(client.fetch_mentions(cursor))
    stored.update(texts(batches))
    assert stored == {f"m{i}" for i in range(5)}
    assert batches[-1].cursor is not None


def test_duplicates_across_pages_are_dropped(fake: FakeBluesky, http: httpx.Client) -> None:
    fake.overlap = 1
    for i in range(6):
        fake.add_mention(text=f"m{i}")
    found = texts(collect(make(fake, http, page_size=2).fetch_mentions(None)))
    assert sorted(found) == [f"m{i}" for i in range(6)]


def test_a_repeating_cursor_ends_the_walk(fake: FakeBluesky, http: httpx.Client) -> None:
    fake.add_mention(text="only")
    client = make(fake, http)
    client.verify()
    page = httpx.get(
        f"{fake.base_url}{LIST}",
        headers={"Authorization": f"Bearer {client.session.access_jwt if client.session else ''}"},
    ).json()
    stuck = {**page, "cursor": "same"}
    fake.fail("GET", LIST, *[Fault.http_status(200, body=stuck)] * 3)
    batches = collect(client.fetch_mentions(None))
    assert texts(batches) == ["only"]
    assert len(fake.calls("GET", LIST)) == 3  # the manual read, then two pages


def test_backfill_reads_only_the_newest(fake: FakeBluesky, http: httpx.Client) -> None:
    for i in range(10):
        fake.add_mention(text=f"m{i}")
    batches = collect(make(fake, http, page_size=2, backfill=3).fetch_mentions(None))
    assert texts(batches) == ["m8", "m9", "m7"]
    assert [b.cursor is None for b in batches] == [True, False]


def test_follower_counts_in_batches_of_25(fake: FakeBluesky, http: httpx.Client) -> None:
    for i in range(60):
        fake.add_mention(author=f"p{i}.example.com", text=f"m{i}", followers=i)
    batches = collect(make(fake, http).fetch_mentions(None))
    counts = {m.text: m.author.follower_count for b in batches for m in b.mentions if m.author}
    assert counts["m7"] == 7 and counts["m59"] == 59
    sizes = [len(r.query["actors"]) for r in fake.calls("GET", PROFILES)]
    assert sizes == [25, 25, 10]


def test_mentions_survive_missing_follower_counts(fake: FakeBluesky, http: httpx.Client) -> None:
    fake.add_mention(text="hello")
    fake.fail("GET", PROFILES, *[Fault.http_status(500)] * 4)
    [mention] = texts_and_people(collect(make(fake, http).fetch_mentions(None)))
    assert mention == ("hello", None)


def texts_and_people(batches: list[MentionBatch]) -> list[tuple[str, int | None]]:
    return [
        (m.text, m.author.follower_count if m.author else None) for b in batches for m in b.mentions
    ]


def test_post_fields(fake: FakeBluesky, http: httpx.Client) -> None:
    ours = fake.add_post(HANDLE, "Our appeal")
    first = fake.add_mention(text="first", reply_to=ours.uri)
    second = fake.add_mention(
        author="bob.example.com",
        text="pay\u202etxt.exe\x00 now",
        reply_to=first.uri,
        display_name="\u202eBob\x07",
        created_at="2099-01-01T00:00:00Z",  # a client's clock is not to be trusted
    )
    mention = next(
        m
        for b in collect(make(fake, http).fetch_mentions(None))
        for m in b.mentions
        if m.remote_id == second.uri
    )
    assert mention.text == "paytxt.exe now"
    assert mention.author is not None and mention.author.display_name == "Bob"
    assert mention.in_reply_to_id == first.uri and mention.conversation_id == ours.uri
    assert mention.created_at == second.indexed_at
    assert mention.url == f"https://bsky.app/profile/bob.example.com/post/{second.rkey}"
    assert mention.raw["cid"] == second.cid


# -- failures ---------------------------------------------------------------------------------


def test_a_short_rate_limit_is_waited_out(fake: FakeBluesky, http: httpx.Client) -> None:
    fake.add_mention(text="after the wait")
    reset = str(int(time.time()) + 20)
    fake.fail(
        "GET", LIST, Fault.http_status(429, {"ratelimit-remaining": "0", "ratelimit-reset": reset})
    )
    fake.fail("GET", LIST, Fault.http_status(429, {"Retry-After": "3"}))
    sleeps = Sleeps()
    assert texts(collect(make(fake, http, sleeps=sleeps).fetch_mentions(None))) == [
        "after the wait"
    ]
    assert len(sleeps) == 2 and 15 < sleeps[0] <= 20 and 2 < sleeps[1] <= 3


def test_a_long_rate_limit_is_handed_back(fake: FakeBluesky, http: httpx.Client) -> None:
    fake.fail("GET", LIST, Fault.http_status(429, {"ratelimit-reset": str(int(time.time()) + 900)}))
    sleeps = Sleeps()
    with pytest.raises(RateLimited) as raised:
        collect(make(fake, http, sleeps=sleeps).fetch_mentions(None))
    assert raised.value.retry_at is not None and sleeps == []


def test_server_errors_timeouts_and_drops_are_retried(fake: FakeBluesky) -> None:
    fake.add_mention(text="made it")
    with httpx.Client(timeout=0.1) as quick:
        client = make(fake, quick, policy=RetryPolicy(attempts=4))
        fake.fail("GET", LIST, Fault.http_status(502), Fault.slow(0.4), Fault.drop())
        assert texts(collect(client.fetch_mentions(None))) == ["made it"]
        fake.fail("GET", LIST, *[Fault.http_status(503)] * 4)
        with pytest.raises(ServerError):
            collect(client.fetch_mentions(None))
        fake.fail("GET", LIST, *[Fault.drop()] * 4)
        with pytest.raises(Offline):
            collect(client.fetch_mentions(None))


@pytest.mark.parametrize("fault", [Fault.malformed(), Fault.truncated()], ids=lambda f: f.kind)
def test_unreadable_json_is_a_bad_response(
    fake: FakeBluesky, http: httpx.Client, fault: Fault
) -> None:
    fake.add_mention()
    fake.fail("GET", LIST, fault)
    with pytest.raises(BadResponse):
        collect(make(fake, http).fetch_mentions(None))


# -- replying ---------------------------------------------------------------------------------


def test_reply_record_threads_with_strong_refs(fake: FakeBluesky, http: httpx.Client) -> None:
    ours = fake.add_post(HANDLE, "Our appeal")
    first = fake.add_mention(text="first", reply_to=ours.uri)
    client = make(fake, http)
    mention = only_mention(client)
    posted = client.post_reply(ReplyRequest("Thank you!", target(mention), "key-1"))
    [reply] = fake.posted_replies()
    assert posted.remote_id == reply.uri
    assert reply.rkey == reply_rkey("key-1")
    assert reply.record["reply"] == {"root": ours.ref(), "parent": first.ref()}
    assert posted.url == f"https://bsky.app/profile/{HANDLE}/post/{reply.rkey}"
    assert "facets" not in reply.record
    top = fake.add_mention(text="a new thread")
    client.post_reply(ReplyRequest("Hi", ReplyTarget(top.uri, None, None, {}), "key-2"))
    assert fake.posted_replies()[1].record["reply"] == {"root": top.ref(), "parent": top.ref()}


def test_mention_facets_count_utf8_bytes(fake: FakeBluesky, http: httpx.Client) -> None:
    fake.add_account("bob.example.com")
    fake.add_account("zoë.example.com")  # not a valid handle: stays text
    fake.add_mention(text="hello")
    client = make(fake, http)
    text = (
        "Merci 💚 à @bob.example.com, (@BOB.example.com) et @nobody.example.com! https://ex.org/ü."
    )
    client.post_reply(ReplyRequest(text, target(only_mention(client)), "key-f"))
    [reply] = fake.posted_replies()
    data = text.encode("utf-8")
    spans = [
        (data[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode(), f["features"][0])
        for f in reply.record["facets"]
    ]
    bob = fake.add_account("bob.example.com").did
    assert spans == [
        ("@bob.example.com", {"$type": "app.bsky.richtext.facet#mention", "did": bob}),
        ("@BOB.example.com", {"$type": "app.bsky.richtext.facet#mention", "did": bob}),
        ("https://ex.org/ü", {"$type": "app.bsky.richtext.facet#link", "uri": "https://ex.org/ü"}),
    ]
    resolved = [
        r.query["handle"][0] for r in fake.calls("GET", X + "com.atproto.identity.resolveHandle")
    ]
    assert resolved == ["bob.example.com", "nobody.example.com"]  # once per handle


def test_the_300_grapheme_limit(fake: FakeBluesky, http: httpx.Client) -> None:
    fake.add_mention()
    client = make(fake, http)
    mention = only_mention(client)
    family = "👩\u200d👩\u200d👧"  # one grapheme, five code points
    client.post_reply(ReplyRequest(family * 100 + "e\u0301" * 200, target(mention), "ok"))
    with pytest.raises(Rejected) as raised:
        client.post_reply(ReplyRequest("🇫🇷" * 301, target(mention), "long"))
    assert "301 characters long; Bluesky allows 300" in raised.value.user_message
    assert len(fake.calls("POST", CREATE)) == 1  # refused before sending


def test_a_reply_is_never_posted_twice(fake: FakeBluesky, http: httpx.Client) -> None:
    fake.add_mention()
    client = make(fake, http)
    request = ReplyRequest("Thanks!", target(only_mention(client)), "key-9")
    assert client.find_posted_reply(request) is None
    fake.fail("POST", CREATE, Fault.drop_after_handling())  # created; the answer is lost
    first = client.post_reply(request)  # not retried: read back under the derived key
    assert len(fake.calls("POST", CREATE)) == 1
    again = client.post_reply(request)  # the same key collides instead of duplicating
    assert again == first == client.find_posted_reply(request)
    assert len(fake.posted) == 1


def test_a_failed_create_is_not_retried_blindly(fake: FakeBluesky, http: httpx.Client) -> None:
    fake.add_mention()
    client = make(fake, http)
    request = ReplyRequest("Thanks!", target(only_mention(client)), "key-5")
    fake.fail("POST", CREATE, Fault.http_status(502))
    with pytest.raises(ServerError):
        client.post_reply(request)
    assert len(fake.calls("POST", CREATE)) == 1 and fake.posted == []
    assert client.find_posted_reply(request) is None
    assert client.post_reply(request).remote_id.endswith(reply_rkey("key-5"))


def test_replying_after_the_token_expired(fake: FakeBluesky, http: httpx.Client) -> None:
    fake.add_mention()
    client = make(fake, http)
    mention = only_mention(client)
    fake.expire_access_tokens()
    client.post_reply(ReplyRequest("Thanks!", target(mention), "key-e"))
    assert len(fake.posted) == 1 and fake.create_session_calls == 1


def test_reply_target_read_when_not_stored(fake: FakeBluesky, http: httpx.Client) -> None:
    post = fake.add_mention(text="hello")
    client = make(fake, http)
    client.post_reply(ReplyRequest("Hi", ReplyTarget(post.uri, None, None, {}), "key-r"))
    assert fake.posted_replies()[0].record["reply"]["parent"] == post.ref()
    gone = ReplyTarget(post.uri.replace(post.rkey, "3kaaaaaaaaaaa"), None, None, {})
    with pytest.raises(NotFound):
        client.post_reply(ReplyRequest("Hi", gone, "key-g"))


def test_thread(fake: FakeBluesky, http: httpx.Client) -> None:
    ours = fake.add_post(HANDLE, "Our appeal")
    first = fake.add_mention(text="first", reply_to=ours.uri)
    fake.add_mention(author="bob.example.com", text="second", reply_to=first.uri)
    thread = make(fake, http).thread(first.uri)
    assert [m.text for m in thread.ancestors] == ["Our appeal"]
    assert thread.post is not None and thread.post.text == "first"
    assert [m.text for m in thread.replies] == ["second"]


# -- helpers: graphemes, facets, record keys, marks ----------------------------------------------


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("", 0),
        ("abc", 3),
        ("e\u0301", 1),  # combining accent
        ("👩\u200d👩\u200d👧", 1),  # ZWJ family
        ("🧑🏽\u200d💻", 1),  # skin tone inside a ZWJ sequence
        ("👍🏽", 1),
        ("❤️", 1),  # variation selector
        ("1️⃣", 1),  # keycap
        ("🇫🇷🇩🇪", 2),  # regional-indicator pairs
        ("🇫🇷🇩", 2),
        ("🏴󠁧󠁢󠁳󠁣󠁴󠁿", 1),  # tag sequence (Scotland)
        ("한국어", 3),
        ("\u1100\u1161\u11a8", 1),  # conjoining jamo
        ("\r\n", 1),
        ("a\u200db", 2),  # ZWJ between letters joins nothing
        ("ก้า", 2),  # Thai mark + SARA AA
    ],
)
def test_grapheme_count(text: str, count: int) -> None:
    from app.core.networks.graphemes import grapheme_count, graphemes

    assert grapheme_count(text) == count
    assert "".join(graphemes(text)) == text


def test_facets_without_a_server() -> None:
    from app.core.networks.facets import build_facets, link_spans, mention_spans

    text = "(@a.b) x@no.pe @bad @trailing.dot. 🎉@after.emoji.com"
    assert [s.text for s in mention_spans(text)] == ["@a.b", "@trailing.dot"]
    assert [s.text for s in link_spans("see (https://ex.org/a_(b)), http://x.io/?q=1!")] == [
        "https://ex.org/a_(b)",
        "http://x.io/?q=1",
    ]
    facets = build_facets("é @a.b", lambda handle: None)
    assert facets == []


def test_record_keys_are_stable_valid_tids() -> None:
    import re

    keys = {reply_rkey(f"key-{i}") for i in range(1000)}
    assert len(keys) == 1000
    assert all(
        re.fullmatch(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}", k) for k in keys
    )
    assert reply_rkey("same") == reply_rkey("same")


def test_marks_round_trip_and_a_bad_cursor_means_a_first_sync(
    fake: FakeBluesky, http: httpx.Client
) -> None:
    fake.add_mention(text="again")
    mark = Mark.decode("2026-08-01T12:00:00.123000+00:00|at://did:plc:x/app.bsky.feed.post/3k")
    assert mark is not None and Mark.decode(mark.encode()) == mark
    assert Mark.decode("nonsense") is None
    batches = collect(make(fake, http).fetch_mentions("nonsense"))
    assert texts(batches) == ["again"] and batches[-1].cursor
