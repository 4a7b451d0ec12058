"""Mastodon: mentions from notifications, replies as statuses, over one instance's REST API.

Cursor strategy (crash safety): the stored cursor is the id of the newest mention notification
already stored. ``fetch_mentions`` walks *forward* with ``min_id`` (each page holds the mentions
just after the cursor; the ``Link`` header's ``prev`` URL continues the walk) and yields every
page with ``cursor`` = the newest notification id in it. Everything up to that id is in this
batch or an earlier one, so storing batch and cursor in one transaction never skips a mention,
whatever moment a crash happens. The first sync walks forward from the beginning, or, with
``backfill=N``, reads only the N newest mentions (newest-first through ``max_id``) and yields
them oldest first with the cursor on the last batch only.

Replies carry an ``Idempotency-Key`` header, which Mastodon honours for an hour: a retried POST
returns the status already created instead of posting twice, so replies may be retried.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from app.core.networks.base import (
    MentionBatch,
    PostedReply,
    RemoteMention,
    RemotePerson,
    ReplyRequest,
    TargetStatus,
)
from app.core.networks.errors import (
    AuthError,
    BadResponse,
    NetworkError,
    NotFound,
    Rejected,
)
from app.core.networks.http import (
    HttpSession,
    RateLimitSignal,
    RetryPolicy,
    check_base_url,
    expect_dict,
    json_body,
    json_or_none,
    parse_retry_after,
)
from app.core.text import clean_text, html_to_text
from app.core.vocab import Network

log = logging.getLogger(__name__)

LABEL = "Mastodon"
PAGE_SIZE = 80  # the most Mastodon returns per page of notifications
OWN_STATUSES_LOOKBACK = 80  # how many of our recent statuses find_posted_reply reads
_VISIBILITIES = ("public", "unlisted", "private", "direct")
_MENTION_TOKEN = re.compile(r"(?<!\w)@[\w.-]+(?:@[\w.-]+)?")


# -- parsing (pure functions, also run against the recordings) --------------------------------


def mastodon_rate_limit(response: httpx.Response) -> RateLimitSignal | None:
    """Mastodon answers 429 and says when in ``X-RateLimit-Reset`` (ISO 8601)."""
    if response.status_code != 429:
        return None
    reset = parse_time(response.headers.get("x-ratelimit-reset"))
    if reset is None:
        reset = parse_retry_after(response.headers.get("retry-after"), datetime.now(UTC))
    return RateLimitSignal(retry_at=reset)


def parse_time(value: object) -> datetime | None:
    """Mastodon's ISO 8601 times ("2026-08-01T13:51:43.458Z"), as aware UTC datetimes."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def id_order(remote_id: str) -> tuple[int, str]:
    """Sort key for ids: numeric strings of different lengths compare as numbers."""
    return (len(remote_id), remote_id)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def qualified_handle(acct: str, host: str) -> str:
    """``user@instance`` for everyone: local accounts' ``acct`` has no domain."""
    acct = acct.lstrip("@")
    return acct if "@" in acct or not acct else f"{acct}@{host}"


def person_from_account(account: dict[str, Any], host: str) -> RemotePerson:
    remote_id = str(account.get("id") or "")
    if not remote_id:
        raise BadResponse(f"{LABEL} sent an unexpected reply.", "account without id")
    followers = account.get("followers_count")
    return _person(
        remote_id,
        qualified_handle(_text(account.get("acct")) or _text(account.get("username")), host),
        _text(account.get("display_name")),
        followers if isinstance(followers, int) and followers >= 0 else None,
        _text(account.get("url")),
        _text(account.get("note")),
    )


@lru_cache(maxsize=4096)
def _person(
    remote_id: str, handle: str, display_name: str, followers: int | None, url: str, note: str
) -> RemotePerson:
    """Cached: the same few people appear on every page, and HTML parsing is not free."""
    return RemotePerson(
        remote_id=remote_id,
        handle=handle,
        display_name=clean_text(display_name)[:200],
        follower_count=followers,
        profile_url=url or None,
        bio=html_to_text(note)[:2000] if note else "",
    )


def _status_text(status: dict[str, Any]) -> str:
    text = html_to_text(_text(status.get("content")))
    spoiler = clean_text(_text(status.get("spoiler_text")))
    if spoiler:
        text = f"CW: {spoiler}\n\n{text}".strip()
    notes = []
    for media in status.get("media_attachments") or []:
        if isinstance(media, dict):
            description = clean_text(_text(media.get("description")))
            kind = _text(media.get("type")) or "attachment"
            notes.append(f"[{kind}: {description}]" if description else f"[{kind}]")
    return "\n".join([text, *notes]).strip() if notes else text


def mention_from_status(
    status: dict[str, Any], host: str, *, addressed_to_us: bool = True, raw: Any = None
) -> RemoteMention:
    """A status as a mention; ``conversation_id`` falls back to the parent (see ``thread``).

    Mastodon's REST API does not name a thread's root, so a reply whose parent Kindly does
    not know is grouped by its parent; ``thread()`` finds the real root when it matters.
    """
    status_id = _text(status.get("id"))
    account = status.get("account")
    if not status_id or not isinstance(account, dict):
        raise BadResponse(f"{LABEL} sent an unexpected reply.", "status without id or account")
    in_reply_to = _text(status.get("in_reply_to_id")) or None
    kind = "quote" if status.get("quote") else "reply" if in_reply_to else "mention"
    return RemoteMention(
        network=Network.MASTODON,
        remote_id=status_id,
        author=person_from_account(account, host),
        text=_status_text(status),
        created_at=parse_time(status.get("created_at")) or datetime.now(UTC),
        markup=_text(status.get("content")),
        url=_text(status.get("url")) or _text(status.get("uri")) or None,
        in_reply_to_id=in_reply_to,
        conversation_id=in_reply_to,
        kind=kind,
        addressed_to_us=addressed_to_us,
        raw=raw if isinstance(raw, dict) else status,
    )


def mention_from_notification(notification: dict[str, Any], host: str) -> RemoteMention | None:
    """A mention notification as a mention; None for other types or a vanished status."""
    status = notification.get("status")
    if notification.get("type") != "mention" or not isinstance(status, dict):
        return None
    return mention_from_status(status, host, raw=notification)


def parse_notifications(body: Any, host: str) -> tuple[list[RemoteMention], list[str]]:
    """Mentions in a page (oldest first) and every notification id seen, readable or not."""
    if not isinstance(body, list):
        raise BadResponse(
            f"{LABEL} sent an unexpected reply. It will try again later.",
            f"notifications: expected a list, got {type(body).__name__}",
        )
    mentions: list[RemoteMention] = []
    ids: list[str] = []
    for item in body:
        note_id = _text(item.get("id")) if isinstance(item, dict) else ""
        if not note_id:
            log.warning("%s: skipping a notification without id", LABEL)
            continue
        ids.append(note_id)
        try:
            mention = mention_from_notification(item, host)
        except BadResponse as exc:
            log.warning("%s: skipping notification %s: %s", LABEL, note_id, exc)
            continue
        if mention is not None:
            mentions.append(mention)
    mentions.sort(key=lambda m: (m.created_at, id_order(m.remote_id)))
    return mentions, ids


@dataclass(frozen=True, slots=True)
class MastodonThread:
    """A status's context: ``ancestors`` from the root down, then ``descendants``."""

    ancestors: list[RemoteMention]
    descendants: list[RemoteMention]

    def root_id(self, remote_id: str) -> str:
        return self.ancestors[0].remote_id if self.ancestors else remote_id


def parse_context(body: Any, host: str) -> MastodonThread:
    data = expect_dict(body, LABEL, "context")

    def statuses(key: str) -> list[RemoteMention]:
        items = data.get(key) or []
        return [
            mention_from_status(s, host, addressed_to_us=False)
            for s in items
            if isinstance(s, dict)
        ]

    return MastodonThread(statuses("ancestors"), statuses("descendants"))


def posted_reply_from_status(body: Any) -> PostedReply:
    status = expect_dict(body, LABEL, "status")
    status_id = _text(status.get("id"))
    if not status_id:
        raise BadResponse(f"{LABEL} sent an unexpected reply.", "status without id")
    return PostedReply(status_id, _text(status.get("url")) or _text(status.get("uri")) or None)


def _server_message(response: httpx.Response) -> str:
    body = json_or_none(response)
    if not isinstance(body, dict):
        return ""
    message = _text(body.get("error_description")) or _text(body.get("error"))
    return clean_text(message)[:200]


def error_for(response: httpx.Response, what: str) -> NetworkError:
    """The typed error for a 4xx answer (``{"error": "…"}``), with a message for a person."""
    status = response.status_code
    message = _server_message(response)
    detail = f"{what}: HTTP {status}: {message}"
    if status == 401 or (status == 403 and re.search(r"scope|login|disabled", message, re.I)):
        return AuthError(
            "Mastodon no longer accepts Kindly's access to this account. "
            "Reconnect this account (File → Accounts…).",
            detail,
        )
    if status in (404, 410):
        return NotFound("This post is no longer on Mastodon (deleted, or made private).", detail)
    if status == 422:
        return Rejected(f"Mastodon refused this: {message or 'invalid request'}.", detail)
    return Rejected(f"Mastodon refused the request (HTTP {status}).", detail)


def comparable_text(text: str) -> str:
    """Text reduced to what survives Mastodon's rendering: no @mentions, case or spacing."""
    return " ".join(_MENTION_TOKEN.sub(" ", text).casefold().split())


# -- the client -------------------------------------------------------------------------------


class MastodonClient:
    """One Mastodon account on one instance, over an injected ``httpx.Client``."""

    network = Network.MASTODON

    def __init__(
        self,
        client: httpx.Client,
        base_url: str,
        access_token: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        policy: RetryPolicy | None = None,
        backfill: int | None = None,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.base_url = check_base_url(base_url)
        self.host = urlsplit(self.base_url).netloc
        self._token = access_token
        self._http = HttpSession(client, LABEL, mastodon_rate_limit, policy, sleep)
        self.backfill = backfill
        self.page_size = max(1, min(page_size, PAGE_SIZE))
        self._me: RemotePerson | None = None

    def __repr__(self) -> str:  # never the token
        return f"MastodonClient({self.base_url!r})"

    # -- plumbing --

    def _send(
        self,
        method: str,
        path_or_url: str,
        *,
        what: str,
        retry: bool = True,
        params: Any = None,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        url = path_or_url if "://" in path_or_url else self.base_url + path_or_url
        response = self._http.request(
            method,
            url,
            retry=retry,
            params=params,
            data=data,
            headers={"Authorization": f"Bearer {self._token}", **(headers or {})},
        )
        if response.status_code >= 400:
            raise error_for(response, what)
        return response

    def _same_origin(self, url: str) -> bool:
        """Only follow ``Link`` URLs on our instance: the token must not go anywhere else."""
        ours, theirs = urlsplit(self.base_url), urlsplit(url)
        return (ours.scheme, ours.netloc) == (theirs.scheme, theirs.netloc)

    def _link(self, response: httpx.Response, rel: str) -> str | None:
        url = response.links.get(rel, {}).get("url")
        return url if url and self._same_origin(url) else None

    def get(self, path: str, params: Any = None, *, what: str) -> httpx.Response:
        """An authenticated GET on this instance (listening: tag timelines, search)."""
        return self._send("GET", path, params=params, what=what)

    # -- NetworkClient --

    def verify(self) -> RemotePerson:
        response = self._send("GET", "/api/v1/accounts/verify_credentials", what="verify")
        body = expect_dict(json_body(response, LABEL), LABEL, "verify_credentials")
        self._me = person_from_account(body, self.host)
        return self._me

    def fetch_mentions(self, cursor: str | None) -> Iterator[MentionBatch]:
        """Yield new mentions after ``cursor`` (a notification id); see the module docstring."""
        if cursor:
            yield from self._walk_forward(cursor)
        elif self.backfill is None:
            yield from self._walk_forward("0")
        else:
            yield from self._backfill(self.backfill)

    def _notifications(self, url: str, params: dict[str, Any] | None) -> httpx.Response:
        return self._send("GET", url, params=params, what="notifications")

    def _walk_forward(self, since: str) -> Iterator[MentionBatch]:
        newest = since
        url = "/api/v1/notifications"
        params: dict[str, Any] | None = {
            "types[]": "mention",
            "min_id": since,
            "limit": self.page_size,
        }
        while True:
            response = self._notifications(url, params)
            mentions, ids = parse_notifications(json_body(response, LABEL), self.host)
            fresh_ids = [i for i in ids if id_order(i) > id_order(newest)]
            if not fresh_ids:
                return  # nothing newer (or a server repeating itself: stop, never loop)
            seen = set(fresh_ids)
            newest = max(fresh_ids, key=id_order)
            batch = [m for m in mentions if _notification_id(m) in seen]
            yield MentionBatch(batch, cursor=newest)
            link = self._link(response, "prev")
            if link and parse_qs(urlsplit(link).query).get("min_id") == [newest]:
                url, params = link, None
            else:
                url = "/api/v1/notifications"
                params = {"types[]": "mention", "min_id": newest, "limit": self.page_size}

    def _backfill(self, limit: int) -> Iterator[MentionBatch]:
        """The ``limit`` newest mentions, yielded oldest first; the cursor on the last batch."""
        pages: list[list[RemoteMention]] = []
        newest: str | None = None
        seen: set[str] = set()
        count = 0
        url = "/api/v1/notifications"
        params: dict[str, Any] | None = {"types[]": "mention", "limit": self.page_size}
        while count < limit:
            response = self._notifications(url, params)
            mentions, ids = parse_notifications(json_body(response, LABEL), self.host)
            new_ids = {i for i in ids if i not in seen}
            if not new_ids:
                break
            seen.update(new_ids)
            top = max(new_ids, key=id_order)
            if newest is None or id_order(top) > id_order(newest):
                newest = top
            fresh = [m for m in mentions if _notification_id(m) in new_ids]
            fresh = fresh[-(limit - count) :]  # oldest first: keep the newest
            pages.append(fresh)
            count += len(fresh)
            link = self._link(response, "next")
            url, params = (
                (link, None)
                if link
                else (
                    "/api/v1/notifications",
                    {
                        "types[]": "mention",
                        "max_id": min(new_ids, key=id_order),
                        "limit": self.page_size,
                    },
                )
            )
        if newest is None:
            return
        pages.reverse()
        for index, page in enumerate(pages):
            yield MentionBatch(page, cursor=newest if index == len(pages) - 1 else None)

    def reply_text(self, request: ReplyRequest) -> str:
        """What is posted: the text, starting with the author's @handle if it lacks it.

        Mastodon only notifies (and, for direct messages, only shows the reply to) the people
        mentioned in it, so a reply that does not mention its author would go unseen.
        """
        account = _target_status(request).get("account")
        acct = _text(account.get("acct")) if isinstance(account, dict) else ""
        acct = (acct or request.target.author_handle or "").lstrip("@")
        mentioned = rf"(?<![\w@]){re.escape('@' + acct)}(?![\w@-]|\.\w)"
        if not acct or re.search(mentioned, request.text, re.IGNORECASE):
            return request.text
        return f"@{acct} {request.text}"

    def post_reply(self, request: ReplyRequest) -> PostedReply:
        """Post once; the Idempotency-Key makes a retried POST return the same status."""
        visibility = _text(_target_status(request).get("visibility"))
        data = {
            "status": self.reply_text(request),
            "in_reply_to_id": request.target.remote_id,
            "visibility": visibility if visibility in _VISIBILITIES else "unlisted",
        }
        response = self._send(
            "POST",
            "/api/v1/statuses",
            what="post reply",
            data=data,
            headers={"Idempotency-Key": request.idempotency_key},
        )
        return posted_reply_from_status(json_body(response, LABEL))

    def find_posted_reply(self, request: ReplyRequest) -> PostedReply | None:
        """Look through our recent statuses for this reply (same parent, same text)."""
        me = self._me or self.verify()
        wanted = comparable_text(self.reply_text(request))
        url = f"/api/v1/accounts/{me.remote_id}/statuses"
        params: dict[str, Any] | None = {"limit": 40, "exclude_reblogs": "true"}
        read = 0
        while url and read < OWN_STATUSES_LOOKBACK:
            response = self._send("GET", url, params=params, what="own statuses")
            body = json_body(response, LABEL)
            if not isinstance(body, list) or not body:
                return None
            read += len(body)
            for status in body:
                if not isinstance(status, dict):
                    continue
                if _text(status.get("in_reply_to_id")) != request.target.remote_id:
                    continue
                if comparable_text(html_to_text(_text(status.get("content")))) == wanted:
                    return posted_reply_from_status(status)
            url, params = self._link(response, "next") or "", None
        return None

    def target_status(self, request: ReplyRequest) -> TargetStatus:
        """Before a reply that waited is sent: is the status still there, and did our account
        (Kindly, or someone on the website) already answer it? ``/statuses/:id`` then
        ``/context``; a status that is gone or private answers 404."""
        target = request.target.remote_id
        try:
            self._send("GET", f"/api/v1/statuses/{target}", what="status")
        except NotFound:
            return TargetStatus(exists=False)
        me = self._me or self.verify()
        ours = [
            status
            for status in self.thread(target).descendants
            if status.in_reply_to_id == target
            and status.author is not None
            and status.author.remote_id == me.remote_id
        ]
        wanted = comparable_text(self.reply_text(request))
        same = next((s for s in ours if comparable_text(s.text) == wanted), None)
        return TargetStatus(
            exists=True,
            our_replies=tuple(PostedReply(s.remote_id, s.url) for s in ours),
            same_text=PostedReply(same.remote_id, same.url) if same else None,
        )

    def thread(self, remote_id: str) -> MastodonThread:
        """The conversation around a status (``/context``): its root is ``ancestors[0]``."""
        response = self._send("GET", f"/api/v1/statuses/{remote_id}/context", what="context")
        return parse_context(json_body(response, LABEL), self.host)


def _notification_id(mention: RemoteMention) -> str:
    return _text(mention.raw.get("id"))


def _target_status(request: ReplyRequest) -> dict[str, Any]:
    """The status being answered, from the stored notification (or a stored status)."""
    raw = request.target.raw
    status = raw.get("status") if isinstance(raw.get("status"), dict) else raw
    return status if isinstance(status, dict) else {}
