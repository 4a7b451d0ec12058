"""RSS and Atom feeds (Google Alerts, a news search, a blog) read into the inbox as web items.

Kindly fetches the feed itself (``httpx``, the shared retry and rate-limit rules, a conditional
GET with the stored ETag/Last-Modified) and hands the bytes to ``feedparser``, which copes with
what real feeds do: HTML in titles, missing or odd dates, relative links, broken XML. Never a
URL: given a string, feedparser would fetch it on its own.

An item becomes a ``RemoteMention`` on the ``web`` network: its id is the article's address
(Google's redirect links unwrapped, tracking parameters dropped), so the same article in two
feeds is stored once; its "person" is the site that published it. Items are never addressed to
us and cannot be replied to.

Cursor (JSON): ``etag``/``modified`` for the next conditional GET, and ``floor``, the oldest
date a first read took: later reads skip items older than it, so a feed's long tail of old
items does not arrive bit by bit. It is stored with the last batch, so a crash never leaves a
304 standing in front of items that were not stored.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

import feedparser  # type: ignore[import-untyped]
import httpx

from app.core.networks.base import MentionBatch, RemoteMention, RemotePerson
from app.core.networks.errors import BadResponse, NotFound, Rejected
from app.core.networks.http import (
    HttpSession,
    RateLimitSignal,
    RetryPolicy,
    parse_retry_after,
)
from app.core.text import clean_text, html_to_text, without_surrogates
from app.core.vocab import Network

log = logging.getLogger(__name__)

FIRST_READ = 50  # a new feed brings its newest items, not its archive
BATCH = 400
MAX_BYTES = 10_000_000
MAX_TEXT = 4000
_TRACKING = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|oc)$", re.I)
_GOOGLE = re.compile(r"^(www\.)?google\.[a-z.]+$", re.I)
ACCEPT = (
    "application/atom+xml, application/rss+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"
)


def check_feed_url(url: str) -> str:
    """The address normalised, or ValueError with a message for a person."""
    cleaned = url.strip()
    if cleaned.startswith("feed:"):
        cleaned = cleaned[5:].lstrip("/") if "://" not in cleaned[5:] else cleaned[5:]
    if "://" not in cleaned:
        cleaned = "https://" + cleaned
    parts = urlsplit(cleaned)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"“{url}” is not the web address of a feed.")
    return cleaned


def unwrap_redirect(url: str) -> str:
    """Google's ``/url?…&url=<real>`` (Alerts) or ``?q=<real>`` redirects: the real address."""
    parts = urlsplit(url)
    if _GOOGLE.match(parts.hostname or "") and parts.path == "/url":
        query = parse_qs(parts.query)
        for key in ("url", "q"):
            target = (query.get(key) or [""])[0]
            if target.startswith(("http://", "https://")):
                return target
    return url


def canonical_url(url: str) -> str:
    """The same article, however it was linked: no fragment, no tracking parameters."""
    parts = urlsplit(unwrap_redirect(url.strip()))
    query = [(k, v) for k, v in parse_qs(parts.query, keep_blank_values=True).items()]
    kept = [(k, v) for k, values in query for v in values if not _TRACKING.match(k)]
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", urlencode(kept), "")
    )


def site_of(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


@dataclass(frozen=True, slots=True)
class FeedState:
    etag: str | None = None
    modified: str | None = None
    floor: datetime | None = None

    def encode(self) -> str:
        floor = self.floor.isoformat() if self.floor else None
        return json.dumps({"etag": self.etag, "modified": self.modified, "floor": floor})

    @classmethod
    def decode(cls, cursor: str | None) -> FeedState | None:
        """None for no cursor (a first read) or one that cannot be read."""
        if not cursor:
            return None
        try:
            data = json.loads(cursor)
            floor = datetime.fromisoformat(data["floor"]) if data.get("floor") else None
        except (TypeError, ValueError, KeyError, AttributeError):
            log.warning("unreadable feed cursor; reading as if for the first time")
            return None
        etag, modified = (data.get(k) for k in ("etag", "modified"))
        return cls(
            etag if isinstance(etag, str) else None,
            modified if isinstance(modified, str) else None,
            floor,
        )


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str
    items: list[RemoteMention]  # oldest first
    problem: str = ""  # feedparser's complaint about a feed it could still read


def _entry_time(entry: Any, fetched_at: datetime) -> datetime:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if parsed:
            try:
                when = datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
            except (OverflowError, ValueError, TypeError):
                continue
            return min(when, fetched_at)  # a feed's clock is not to be trusted with the future
    return fetched_at


def _plain(detail: Any, value: str) -> str:
    kind = str((detail or {}).get("type") or "")
    return html_to_text(value) if "html" in kind else clean_text(value)


def entry_mention(entry: Any, feed_url: str, fetched_at: datetime) -> RemoteMention | None:
    """One feed item as a web mention; None when it has neither a link nor an id."""
    base = str((entry.get("title_detail") or {}).get("base") or feed_url)
    raw_link = str(entry.get("link") or "")
    link = unwrap_redirect(urljoin(base, raw_link)) if raw_link else ""
    title = _plain(entry.get("title_detail"), str(entry.get("title") or ""))
    summary_html = str(entry.get("summary") or "")
    summary = _plain(entry.get("summary_detail") or {"type": "text/html"}, summary_html)
    guid = str(entry.get("id") or "")
    if link:
        remote_id = canonical_url(link)
    elif guid:
        remote_id = f"{feed_url}#{guid}"
    elif title or summary:
        digest = hashlib.sha256(f"{feed_url}\n{title}\n{summary}".encode()).hexdigest()
        remote_id = f"sha256:{digest[:40]}"  # an id for an item that has no link and no id
    else:
        return None
    site = site_of(link) or site_of(feed_url)
    source = entry.get("source") or {}  # Google News names the publication
    name = clean_text(str(source.get("title") or "")) or site
    byline = clean_text(str(entry.get("author") or ""))
    parts = [title or "(untitled)", f"by {byline}" if byline and byline not in title else ""]
    if summary and summary != title:
        parts.append(summary)
    text = "\n\n".join(p for p in parts if p)[:MAX_TEXT]
    return RemoteMention(
        network=Network.WEB,
        remote_id=without_surrogates(remote_id),
        author=RemotePerson(
            remote_id=site or "~unknown-site",
            handle=site,
            display_name=(name or site)[:200],
            profile_url=f"https://{site}/" if site else None,
        ),
        text=text,
        created_at=_entry_time(entry, fetched_at),
        markup=summary_html,
        url=link or None,
        kind="feed",
        addressed_to_us=False,
        raw={"feed": feed_url, "id": guid, "title": title, "link": link, "wrapped": raw_link},
    )


def parse_feed(content: bytes, feed_url: str, *, fetched_at: datetime,
               headers: dict[str, str] | None = None) -> ParsedFeed:  # fmt: skip
    """Parse bytes (never a URL). Raises BadResponse when it is not a feed at all."""
    response_headers = {"content-location": feed_url, **(headers or {})}
    parsed = feedparser.parse(content, response_headers=response_headers, sanitize_html=True)
    problem = str(parsed.get("bozo_exception") or "") if parsed.get("bozo") else ""
    if not parsed.get("version") and not parsed.entries:
        raise BadResponse(
            "This address does not give an RSS or Atom feed. Check it in a browser.",
            f"{feed_url}: not a feed ({problem or 'no entries'})",
        )
    feed = parsed.get("feed") or {}
    title = _plain(feed.get("title_detail"), str(feed.get("title") or ""))[:200]
    items: dict[str, RemoteMention] = {}
    for entry in parsed.entries:
        mention = entry_mention(entry, feed_url, fetched_at)
        if mention is not None:
            items.setdefault(mention.remote_id, mention)
    ordered = sorted(items.values(), key=lambda m: (m.created_at, m.remote_id))
    return ParsedFeed(title, ordered, problem)


def feed_rate_limit(response: httpx.Response) -> RateLimitSignal | None:
    """429, or 503 with ``Retry-After``: the site asks us to come back later."""
    if response.status_code == 429 or (
        response.status_code == 503 and response.headers.get("retry-after")
    ):
        return RateLimitSignal(
            parse_retry_after(response.headers.get("retry-after"), datetime.now(UTC))
        )
    return None


class FeedReader:
    """Reads one feed at a time over an injected ``httpx.Client``."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        sleep: Callable[[float], None] = time.sleep,
        policy: RetryPolicy | None = None,
        first_read: int = FIRST_READ,
    ) -> None:
        self.client = client
        self.sleep = sleep
        self.policy = policy
        self.first_read = first_read
        self.last_title = ""

    def fetch(self, url: str, cursor: str | None) -> Iterator[MentionBatch]:
        """New items since the stored state, oldest first, the new state with the last batch."""
        state = FeedState.decode(cursor)
        label = site_of(url) or "the feed's site"
        session = HttpSession(self.client, label, feed_rate_limit, self.policy, self.sleep)
        headers = {"Accept": ACCEPT}
        if state and state.etag:
            headers["If-None-Match"] = state.etag
        if state and state.modified:
            headers["If-Modified-Since"] = state.modified
        response = session.request("GET", url, headers=headers)
        if response.status_code == 304:
            return  # unchanged: nothing to store, the state stays as it is
        if response.status_code >= 400:
            raise self._error(response, url)
        if len(response.content) > MAX_BYTES:
            raise Rejected(
                f"The feed at {label} is larger than {MAX_BYTES // 1_000_000} MB; "
                "Kindly does not read it.",
                f"{url}: {len(response.content)} bytes",
            )
        fetched_at = datetime.now(UTC)
        content_type = response.headers.get("content-type", "")
        parsed = parse_feed(
            response.content,
            str(response.url),
            fetched_at=fetched_at,
            headers={"content-type": content_type} if content_type else None,
        )
        if parsed.problem:
            log.info("feed %s read despite: %s", label, parsed.problem)
        self.last_title = parsed.title
        items = parsed.items
        floor = state.floor if state else None
        if state is None:
            items = items[-self.first_read :]
            floor = items[0].created_at if items else fetched_at
        elif floor is not None:
            items = [m for m in items if m.created_at >= floor]
        new_state = FeedState(
            response.headers.get("etag"), response.headers.get("last-modified"), floor
        ).encode()
        chunks = [items[i : i + BATCH] for i in range(0, len(items), BATCH)] or [[]]
        for index, chunk in enumerate(chunks):
            yield MentionBatch(chunk, new_state if index == len(chunks) - 1 else None)

    @staticmethod
    def _error(response: httpx.Response, url: str) -> Exception:
        status, label = response.status_code, site_of(url)
        detail = f"GET {url}: HTTP {status}"
        if status in (404, 410):
            return NotFound(
                f"The feed is no longer at this address ({label} answers HTTP {status}).", detail
            )
        return Rejected(f"{label} refused to give the feed (HTTP {status}).", detail)
