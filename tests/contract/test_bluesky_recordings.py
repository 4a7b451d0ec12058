"""The Bluesky client's parsers on live-network responses (MarshalX/atproto test data), and the
fake Bluesky's answers and the client's records checked against the atproto lexicons."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.networks.base import ReplyRequest, ReplyTarget
from app.core.networks.bluesky import BlueskyClient
from app.core.networks.bluesky_records import (
    bluesky_rate_limit,
    error_for,
    mention_from_post,
    parse_notifications,
    parse_session,
    parse_thread,
    parse_time,
    person_from_profile,
    post_url,
    posted_reply_from_record,
)
from app.core.networks.errors import AuthError, NotFound, Rejected
from app.core.networks.graphemes import grapheme_count
from app.core.vocab import Network
from tests.fakes.bluesky import PASSWORD, FakeBluesky

RECORDINGS = Path(__file__).parent / "recordings" / "bluesky"


def live(name: str) -> Any:
    return json.loads((RECORDINGS / "marshalx-atproto" / f"{name}.json").read_text("utf-8"))


# -- a small lexicon checker: required fields, types, refs and known unions ---------------------


@cache
def lexicon(nsid: str) -> dict[str, Any]:
    path = RECORDINGS / "lexicons" / f"{nsid}.json"
    return json.loads(path.read_text("utf-8")) if path.exists() else {}


def resolve(ref: str, context: str) -> tuple[dict[str, Any] | None, str]:
    nsid, _, name = ref.partition("#")
    nsid = nsid or context
    defs = lexicon(nsid).get("defs", {})
    return defs.get(name or "main"), nsid


def check(value: Any, schema: dict[str, Any], nsid: str, path: str = "$") -> list[str]:
    """Problems with ``value`` against a lexicon schema (empty when it conforms)."""
    kind = schema.get("type")
    if kind == "ref":
        target, target_nsid = resolve(schema["ref"], nsid)
        return check(value, target, target_nsid, path) if target else []
    if kind == "union":
        chosen = value.get("$type") if isinstance(value, dict) else None
        if chosen is None:
            return [f"{path}: union without $type"]

        def full(ref: str) -> str:
            name = nsid + ref if ref.startswith("#") else ref
            return name.removesuffix("#main")

        ref = next((r for r in schema["refs"] if full(r) == chosen), None)
        if ref is None and schema.get("closed"):
            return [f"{path}: {chosen} is not one of the union"]
        target, target_nsid = resolve(ref, nsid) if ref else (None, nsid)
        return check(value, target, target_nsid, path) if target else []
    if kind in ("object", "record", "params"):
        body = schema.get("record", schema)
        if not isinstance(value, dict):
            return [f"{path}: expected an object"]
        problems = [f"{path}.{k}: required" for k in body.get("required", []) if k not in value]
        for key, prop in body.get("properties", {}).items():
            if key in value:
                problems += check(value[key], prop, nsid, f"{path}.{key}")
        return problems
    if kind == "array":
        if not isinstance(value, list):
            return [f"{path}: expected an array"]
        return [
            p for i, v in enumerate(value) for p in check(v, schema["items"], nsid, f"{path}[{i}]")
        ]
    expected = {"string": str, "integer": int, "boolean": bool}.get(kind or "")
    if expected and (
        not isinstance(value, expected) or (expected is int and isinstance(value, bool))
    ):
        return [f"{path}: expected {kind}"]
    if kind == "string" and schema.get("format") == "datetime" and parse_time(value) is None:
        return [f"{path}: not a datetime"]
    if kind == "string" and len(value.encode()) > schema.get("maxLength", len(value.encode())):
        return [f"{path}: longer than {schema['maxLength']} bytes"]
    if kind == "string" and grapheme_count(value) > schema.get("maxGraphemes", 10**9):
        return [f"{path}: longer than {schema['maxGraphemes']} graphemes"]
    return []


def output_problems(nsid: str, body: Any) -> list[str]:
    main = lexicon(nsid)["defs"]["main"]
    return check(body, main["output"]["schema"], nsid)


def test_the_checker_catches_problems() -> None:
    good = {"uri": "at://did:plc:x/app.bsky.feed.post/3k", "cid": "bafy", "value": {}}
    assert output_problems("com.atproto.repo.getRecord", good) == []
    assert output_problems("com.atproto.repo.getRecord", {"cid": 1}) == [
        "$.uri: required",
        "$.value: required",
        "$.cid: expected string",
    ]
    broken = {
        "notifications": [
            {
                "uri": "at://x",
                "cid": "c",
                "author": {"did": "did:plc:x"},
                "reason": 3,
                "record": {},
                "isRead": False,
                "indexedAt": "yesterday",
            }
        ]
    }
    assert output_problems("app.bsky.notification.listNotifications", broken) == [
        "$.notifications[0].author.handle: required",
        "$.notifications[0].reason: expected string",
        "$.notifications[0].indexedAt: not a datetime",
    ]
    post = {"type": "ref", "ref": "app.bsky.feed.post"}
    record = {"text": "é" * 301, "createdAt": "2026-08-01T12:00:00Z", "facets": [{}]}
    assert check(record, post, "x") == [
        "$.text: longer than 300 graphemes",
        "$.facets[0].index: required",
        "$.facets[0].features: required",
    ]


# -- live-network responses ------------------------------------------------------------------


def test_thread_with_embedded_media() -> None:
    thread = parse_thread(live("thread_view_post_with_embed_media"))
    assert thread.ancestors == [] and thread.replies == []
    post = thread.post
    assert post is not None and post.network is Network.BLUESKY
    assert (
        post.remote_id == "at://did:plc:kvwvcn5iqfooopmyzvb4qzba/app.bsky.feed.post/3kaheyt6vpc22"
    )
    assert post.text == "[image]"  # no text, one image without alt text
    assert post.url == "https://bsky.app/profile/test.marshal.dev/post/3kaheyt6vpc22"
    assert post.author is not None and post.author.handle == "test.marshal.dev"
    assert post.author.display_name == "Python SDK"
    assert post.created_at == datetime(2023, 9, 28, 12, 49, 36, 735000, tzinfo=UTC)
    assert json.loads(post.markup)["embed"]["$type"] == "app.bsky.embed.recordWithMedia"
    node = live("thread_view_post_with_embed_media")["thread"]
    assert check(node, {"type": "ref", "ref": "app.bsky.feed.defs#threadViewPost"}, "x") == []


@pytest.mark.parametrize("name", ["post_record", "extended_post_record"])
def test_get_record_responses(name: str) -> None:
    body = live(name)
    assert output_problems("com.atproto.repo.getRecord", body) == []
    posted = posted_reply_from_record(body, "test.marshal.dev")
    assert posted.remote_id == body["uri"]
    assert posted.url == f"https://bsky.app/profile/test.marshal.dev/post/{body['uri'][-13:]}"
    created = parse_time(body["value"]["createdAt"])  # one of them has no time zone
    assert created is not None and created.tzinfo is not None


def test_resolve_handle_response() -> None:
    body = live("resolve_handle")
    assert output_problems("com.atproto.identity.resolveHandle", body) == []
    assert body["did"].startswith("did:plc:")


def test_profile_views_from_follows() -> None:
    follows = live("get_follows")["follows"]
    people = [person_from_profile(p) for p in follows]
    assert people[0].handle == "why.bsky.team" and people[0].display_name == "Why"
    assert people[0].bio.startswith("Technical advisor")
    assert people[1].display_name == "devin ivy 🐋"
    assert all(p.follower_count is None for p in people)  # profileView has no counts
    assert person_from_profile({**follows[0], "followersCount": 7}).follower_count == 7
    for profile in follows:
        assert check(profile, {"type": "ref", "ref": "app.bsky.actor.defs#profileView"}, "x") == []


def test_urls_and_uris() -> None:
    uri = "at://did:plc:kvwvcn5iqfooopmyzvb4qzba/app.bsky.feed.post/3k2yihcrp6f2c"
    assert post_url(uri, "handle.invalid") == (
        "https://bsky.app/profile/did:plc:kvwvcn5iqfooopmyzvb4qzba/post/3k2yihcrp6f2c"
    )
    assert post_url("at://did:plc:x/app.bsky.feed.like/3k") is None


@pytest.mark.parametrize(
    ("status", "name", "error"),
    [
        (400, "ExpiredToken", AuthError),
        (401, "AuthenticationRequired", AuthError),
        (400, "AccountTakedown", AuthError),
        (400, "RecordNotFound", NotFound),
        (400, "InvalidRequest", Rejected),
        (400, "InvalidSwap", Rejected),
    ],
)
def test_lexicon_errors(status: int, name: str, error: type) -> None:
    response = httpx.Response(status, json={"error": name, "message": "Something went wrong"})
    raised = error_for(response, "test")
    assert isinstance(raised, error)
    assert name in str(raised)


def test_rate_limit_headers() -> None:
    headers = {
        "ratelimit-limit": "3000",
        "ratelimit-remaining": "0",
        "ratelimit-reset": "1785600000",
    }
    signal = bluesky_rate_limit(httpx.Response(429, headers=headers))
    assert signal is not None and signal.retry_at == datetime.fromtimestamp(1785600000, UTC)
    with_retry_after = bluesky_rate_limit(httpx.Response(429, headers={"retry-after": "30"}))
    assert with_retry_after is not None and with_retry_after.retry_at is not None
    assert bluesky_rate_limit(httpx.Response(200, headers=headers)) is None


# -- the fake answers in the lexicons' shapes; the client's records conform -------------------


@pytest.fixture
def fake() -> Iterator[FakeBluesky]:
    with FakeBluesky() as server:
        yield server


def xrpc(fake: FakeBluesky, http: httpx.Client, method: str, nsid: str, **kwargs: Any) -> Any:
    response = http.request(method, f"{fake.base_url}/xrpc/{nsid}", **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def test_fake_answers_conform_to_the_lexicons(fake: FakeBluesky) -> None:
    ours = fake.add_post("kindlytrust.test", "Our appeal")
    reply = fake.add_mention(text="Count me in", reply_to=ours.uri)
    fake.add_mention(author="bob.example.com", text="Look", quote=ours.uri)
    with httpx.Client() as http:
        session = xrpc(
            fake,
            http,
            "POST",
            "com.atproto.server.createSession",
            json={"identifier": "kindlytrust.test", "password": PASSWORD},
        )
        auth = {"Authorization": f"Bearer {session['accessJwt']}"}
        refresh = {"Authorization": f"Bearer {session['refreshJwt']}"}
        answers = {
            "com.atproto.server.createSession": session,
            "com.atproto.server.getSession": xrpc(
                fake, http, "GET", "com.atproto.server.getSession", headers=auth
            ),
            "app.bsky.notification.listNotifications": xrpc(
                fake,
                http,
                "GET",
                "app.bsky.notification.listNotifications",
                headers=auth,
                params={"limit": 1},
            ),
            "app.bsky.actor.getProfiles": xrpc(
                fake,
                http,
                "GET",
                "app.bsky.actor.getProfiles",
                headers=auth,
                params={"actors": [fake.me.did, reply.author]},
            ),
            "com.atproto.identity.resolveHandle": xrpc(
                fake,
                http,
                "GET",
                "com.atproto.identity.resolveHandle",
                params={"handle": "bob.example.com"},
            ),
            "com.atproto.repo.getRecord": xrpc(
                fake,
                http,
                "GET",
                "com.atproto.repo.getRecord",
                params={"repo": fake.me.did, "collection": "app.bsky.feed.post", "rkey": ours.rkey},
            ),
            "app.bsky.feed.getPostThread": xrpc(
                fake,
                http,
                "GET",
                "app.bsky.feed.getPostThread",
                headers=auth,
                params={"uri": ours.uri},
            ),
            "app.bsky.feed.getPosts": xrpc(
                fake,
                http,
                "GET",
                "app.bsky.feed.getPosts",
                headers=auth,
                params={"uris": [reply.uri]},
            ),
            "com.atproto.server.refreshSession": xrpc(
                fake, http, "POST", "com.atproto.server.refreshSession", headers=refresh
            ),
        }
    for nsid, body in answers.items():
        assert output_problems(nsid, body) == [], nsid
    notifications, cursor = parse_notifications(answers["app.bsky.notification.listNotifications"])
    assert cursor and len(notifications) == 1
    assert parse_session(answers["com.atproto.server.refreshSession"]).did == fake.me.did
    assert answers["app.bsky.feed.getPostThread"]["thread"]["replies"]


def test_the_client_reads_fake_notifications_and_writes_valid_records(fake: FakeBluesky) -> None:
    ours = fake.add_post("kindlytrust.test", "Our appeal")
    fake.add_account("bob.example.com")
    fake.add_mention(text="Hi @kindlytrust.test", reply_to=ours.uri)
    with httpx.Client() as http:
        client = BlueskyClient(
            http,
            fake.base_url,
            "kindlytrust.test",
            {"app_password": PASSWORD},
            sleep=lambda _: None,
        )
        [batch] = list(client.fetch_mentions(None))
        mention = batch.mentions[0]
        for item in [m.raw for m in batch.mentions]:
            ref = {"type": "ref", "ref": "app.bsky.notification.listNotifications#notification"}
            assert check(item, ref, "x") == []
        assert mention_from_post(mention.raw).remote_id == mention.remote_id
        target = ReplyTarget(mention.remote_id, mention.conversation_id, None, mention.raw)
        client.post_reply(
            ReplyRequest("Thanks! 💚 cc @bob.example.com https://ex.org", target, "k")
        )
    [posted] = fake.posted_replies()
    assert check(posted.record, {"type": "ref", "ref": "app.bsky.feed.post"}, "x") == []
    assert [f["features"][0]["$type"] for f in posted.record["facets"]] == [
        "app.bsky.richtext.facet#mention",
        "app.bsky.richtext.facet#link",
    ]
