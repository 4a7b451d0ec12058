"""A fake Mastodon instance on 127.0.0.1, answering in the shapes of the Mastodon.py recordings.

Accounts, statuses and notifications are built from the objects recorded in
``tests/contract/recordings/mastodon`` (copies carrying our values), so every key the real
server sends is there. State is kept compactly and pages are rendered only when asked for,
so 100,000 mentions are served quickly.

    with FakeMastodon() as server:
        added = server.add_mention(author="ann@example.org", text="hello @kindlytrust")
        server.fail("GET", "/api/v1/notifications", Fault.http_status(429, headers=...))
        ... server.posted_replies() ...
"""

from __future__ import annotations

import copy
import html
import itertools
import re
import threading
from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tests.fakes.cassettes import Interaction, find_interaction, read_cassette
from tests.fakes.server import FakeServer, Request, Response

RECORDINGS = Path(__file__).resolve().parents[1] / "contract" / "recordings" / "mastodon"
TOKEN = "masto-test-token"
STATUS_ID_BASE = 117020577157693549


def load_cassette(name: str) -> tuple[Interaction, ...]:
    """A Mastodon cassette from the recordings folder (``name`` without ``.yaml``)."""
    return read_cassette(RECORDINGS / f"{name}.yaml")


def recorded(name: str, method: str, path: str) -> Interaction:
    """The first interaction of a cassette whose request matches ``method`` and ``path``."""
    return find_interaction(RECORDINGS / f"{name}.yaml", method, path)


@cache
def _templates() -> dict[str, Any]:
    notification = recorded("test_notifications_mentions_only", "GET", "/notifications?").json()
    credentials = recorded("test_verify_credentials", "GET", "/verify_credentials").json()
    return {
        "notification": notification[0],
        "status": notification[0]["status"],
        "account": notification[0]["account"],
        "credential_account": credentials,
    }


def template(name: str) -> Any:
    """A fresh deep copy of a recorded object (accounts, statuses, notifications)."""
    return copy.deepcopy(_templates()[name])


def _shallow(name: str) -> dict[str, Any]:
    """A shallow copy, for rendering many items fast: nested values are shared, never changed."""
    return dict(_templates()[name])


# -- state ------------------------------------------------------------------------------------


@dataclass(slots=True)
class Account:
    id: str
    username: str
    domain: str | None
    display_name: str = ""
    followers: int = 0
    note: str = ""

    @property
    def acct(self) -> str:
        return f"{self.username}@{self.domain}" if self.domain else self.username


@dataclass(slots=True)
class Status:
    id: str
    account_id: str
    content: str  # HTML
    created_at: datetime
    in_reply_to_id: str | None = None
    visibility: str = "public"
    spoiler_text: str = ""
    mentions: tuple[str, ...] = ()  # account ids
    media: tuple[str, ...] = ()  # descriptions of attached images


@dataclass(slots=True)
class Notification:
    id: int
    type: str
    account_id: str
    status_id: str | None
    created_at: datetime


@dataclass(frozen=True)
class Added:
    notification_id: str
    status_id: str


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def text_to_html(text: str, accounts_by_acct: dict[str, Account], host: str) -> str:
    """Roughly how Mastodon renders a status: paragraphs, line breaks, h-card mentions."""

    def mention(match: re.Match[str]) -> str:
        account = accounts_by_acct.get(match[1].lower())
        if account is None:
            return match[0]
        url = f"http://{host}/@{account.acct}"
        return (
            f'<span class="h-card" translate="no"><a href="{url}" class="u-url mention">'
            f"@<span>{html.escape(account.username)}</span></a></span>"
        )

    paragraphs = []
    for block in re.split(r"\n{2,}", text.strip()):
        escaped = html.escape(block, quote=False)
        escaped = re.sub(r"(?<![\w/])@([\w.-]+(?:@[\w.-]+)?)", mention, escaped)
        paragraphs.append("<p>" + escaped.replace("\n", "<br />") + "</p>")
    return "".join(paragraphs)


class FakeMastodon(FakeServer):
    """One instance with our account (``me``), other accounts, notifications and statuses."""

    def __init__(self, username: str = "kindlytrust", token: str = TOKEN) -> None:
        super().__init__()
        self.tokens = {token}
        self.accounts: dict[str, Account] = {}
        self._by_acct: dict[str, Account] = {}
        self.statuses: dict[str, Status] = {}
        self._children: dict[str, list[str]] = defaultdict(list)
        self._account_statuses: dict[str, list[int]] = defaultdict(list)
        self.notifications: dict[int, Notification] = {}
        self._by_type: dict[str, list[int]] = defaultdict(list)
        self.idempotency: dict[tuple[str, str], str] = {}
        self.posted: list[str] = []  # statuses created through the API, in order
        self.overlap = 0  # repeat this many already-served items at each page boundary
        self.clock = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)
        self._note_ids = itertools.count(1)
        self._status_seq = itertools.count(1)
        self._account_ids = itertools.count(117020565693913441)
        self._calls = 0
        self._state_lock = threading.RLock()
        self.me = self.add_account(username, display_name="Kindly Trust", followers=42)
        self.route("GET", "/api/v1/accounts/verify_credentials", self._verify)
        self.route("GET", "/api/v1/notifications", self._notifications)
        self.route("POST", "/api/v1/statuses", self._post_status)
        self.route("GET", "/api/v1/statuses/{id}", self._get_status)
        self.route("GET", "/api/v1/statuses/{id}/context", self._context)
        self.route("GET", "/api/v1/accounts/{id}/statuses", self._account_statuses_route)
        self.route("POST", "/api/v1/apps", self._register_app)
        self.route("POST", "/oauth/token", self._token)

    @property
    def host(self) -> str:
        return self.base_url.split("://", 1)[1] if self._httpd else "localhost"

    # -- helpers for tests --------------------------------------------------------------------

    def _tick(self) -> datetime:
        self.clock += timedelta(seconds=1)
        return self.clock

    def add_account(
        self, handle: str, *, display_name: str = "", followers: int = 0, note: str = ""
    ) -> Account:
        """``handle``: ``user`` (this instance) or ``user@domain``; returns the existing one."""
        handle = handle.lstrip("@")
        if handle.lower() in self._by_acct:
            return self._by_acct[handle.lower()]
        username, _, domain = handle.partition("@")
        account = Account(
            str(next(self._account_ids)), username, domain or None, display_name, followers, note
        )
        self.accounts[account.id] = account
        self._by_acct[account.acct.lower()] = account
        return account

    def _new_status(self, account: Account, content: str, **fields: Any) -> Status:
        status_id = str(STATUS_ID_BASE + next(self._status_seq) * 65536)
        when = fields.pop("created_at", None) or self._tick()
        status = Status(status_id, account.id, content, when, **fields)
        self.statuses[status_id] = status
        self._account_statuses[account.id].append(int(status_id))
        if status.in_reply_to_id:
            self._children[status.in_reply_to_id].append(status_id)
        return status

    def add_notification(
        self, kind: str, account: Account, status: Status | None, when: datetime | None = None
    ) -> int:
        note = Notification(
            next(self._note_ids), kind, account.id, status and status.id, when or self.clock
        )
        self.notifications[note.id] = note
        self._by_type[kind].append(note.id)
        return note.id

    def add_mention(
        self,
        author: str = "ann@example.org",
        text: str = "Hello @kindlytrust",
        *,
        html_content: str | None = None,
        in_reply_to: str | None = None,
        visibility: str = "public",
        spoiler: str = "",
        media: tuple[str, ...] = (),
        display_name: str = "",
        followers: int = 10,
    ) -> Added:
        """A status by ``author`` mentioning us, and its mention notification."""
        with self._state_lock:
            account = self.add_account(author, display_name=display_name, followers=followers)
            content = (
                html_content
                if html_content is not None
                else text_to_html(text, self._by_acct, self.host)
            )
            status = self._new_status(
                account,
                content,
                in_reply_to_id=in_reply_to,
                visibility=visibility,
                spoiler_text=spoiler,
                mentions=(self.me.id,),
                media=media,
            )
            return Added(str(self.add_notification("mention", account, status)), status.id)

    def add_mentions(self, count: int, *, authors: int = 100, text: str = "Mention {i}") -> None:
        """Many mentions at once (benchmarks): kept compact, rendered only when served."""
        with self._state_lock:
            people = [self.add_account(f"person{i}@example.org") for i in range(authors)]
            for i in range(count):
                account = people[i % authors]
                status = self._new_status(
                    account, f"<p>{text.format(i=i)}</p>", mentions=(self.me.id,)
                )
                self.add_notification("mention", account, status)

    def add_own_status(self, text: str, in_reply_to: str | None = None) -> Status:
        with self._state_lock:
            return self._new_status(
                self.me, text_to_html(text, self._by_acct, self.host), in_reply_to_id=in_reply_to
            )

    def delete_status(self, status_id: str) -> None:
        """The author deleted the status: it answers 404 from now on (replies under it stay)."""
        with self._state_lock:
            self.statuses.pop(status_id, None)

    def revoke_tokens(self) -> None:
        """Every token now answers 401, as when the person revoked Kindly's access."""
        self.tokens.clear()

    def posted_replies(self) -> list[dict[str, Any]]:
        """The statuses created through the API, rendered as Mastodon would return them."""
        with self._state_lock:
            return [self.render_status(self.statuses[i]) for i in self.posted]

    # -- rendering ----------------------------------------------------------------------------

    def render_account(self, account: Account) -> dict[str, Any]:
        data = _shallow("account")
        url = f"http://{self.host}/@{account.acct}"
        data.update(
            id=account.id,
            username=account.username,
            acct=account.acct,
            url=url,
            uri=f"http://{self.host}/ap/users/{account.id}",
            display_name=account.display_name,
            followers_count=account.followers,
            note=account.note,
        )
        return data

    def render_status(self, status: Status) -> dict[str, Any]:
        data = _shallow("status")
        account = self.accounts[status.account_id]
        parent = self.statuses.get(status.in_reply_to_id or "")
        data.update(
            id=status.id,
            created_at=_iso(status.created_at),
            content=status.content,
            in_reply_to_id=status.in_reply_to_id,
            visibility=status.visibility,
            in_reply_to_account_id=parent.account_id if parent else None,
            spoiler_text=status.spoiler_text,
            sensitive=bool(status.spoiler_text),
            uri=f"http://{self.host}/ap/users/{account.id}/statuses/{status.id}",
            url=f"http://{self.host}/@{account.acct}/{status.id}",
            replies_count=len(self._children.get(status.id, ())),
            account=self.render_account(account),
        )
        if status.account_id == self.me.id:
            data["pinned"] = False  # Mastodon adds it to the caller's own statuses
        data["mentions"] = [
            {
                "id": a.id,
                "username": a.username,
                "url": f"http://{self.host}/@{a.acct}",
                "acct": a.acct,
            }
            for a in (self.accounts[i] for i in status.mentions)
        ]
        data["media_attachments"] = [
            {
                "id": str(n),
                "type": "image",
                "url": f"http://{self.host}/media/{n}.png",
                "preview_url": None,
                "remote_url": None,
                "meta": {},
                "description": d,
                "blurhash": None,
            }
            for n, d in enumerate(status.media)
        ]
        return data

    def render_notification(self, note: Notification) -> dict[str, Any]:
        data = _shallow("notification")
        status = self.statuses.get(note.status_id or "")
        data.update(
            id=str(note.id),
            type=note.type,
            created_at=_iso(note.created_at),
            group_key=f"ungrouped-{note.id}",
            account=self.render_account(self.accounts[note.account_id]),
            status=self.render_status(status) if status else None,
        )
        if status is None:
            del data["status"]
        return data

    # -- serving ------------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        self._calls += 1
        reset = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=5)
        return {
            "x-ratelimit-limit": "300",
            "x-ratelimit-remaining": str(max(0, 300 - self._calls)),
            "x-ratelimit-reset": reset.isoformat().replace("+00:00", ".000000Z"),
        }

    def _authorised(self, request: Request) -> Response | None:
        header = request.headers.get("authorization", "")
        if header.startswith("Bearer ") and header[7:] in self.tokens:
            return None
        return Response(
            401,
            {"error": "The access token is invalid"},
            {
                "www-authenticate": 'Bearer realm="Doorkeeper", error="invalid_token", '
                'error_description="The access token is invalid"',
                **self._headers(),
            },
        )

    def _ok(self, body: Any, headers: dict[str, str] | None = None) -> Response:
        return Response(200, body, {**self._headers(), **(headers or {})})

    def _page(
        self, request: Request, ids: list[int], default: int, maximum: int
    ) -> tuple[list[int], dict[str, str]]:
        """Mastodon's id paging: max_id/since_id/min_id, newest first, Link next/prev."""

        def number(name: str) -> int | None:
            value = request.arg(name)
            return int(value) if value and value.lstrip("-").isdigit() else None

        limit = min(maximum, max(1, number("limit") or default))
        max_id, since_id, min_id = number("max_id"), number("since_id"), number("min_id")
        hi = bisect_left(ids, max_id) if max_id is not None else len(ids)
        lo = bisect_right(ids, min_id if min_id is not None else since_id or -1)
        if min_id is not None:
            page = ids[max(0, lo - self.overlap) : min(lo + limit, hi)]
        else:
            page = ids[max(lo, hi - limit) : min(len(ids), hi + self.overlap)]
        page = page[::-1]
        if not page:
            return page, {}
        keep = [
            (k, v)
            for k, vs in request.query.items()
            for v in vs
            if k not in ("max_id", "min_id", "since_id")
        ]
        base = f"{self.base_url}{request.path}"
        next_url = base + "?" + urlencode([*keep, ("max_id", str(page[-1]))])
        prev_url = base + "?" + urlencode([*keep, ("min_id", str(page[0]))])
        return page, {"link": f'<{next_url}>; rel="next", <{prev_url}>; rel="prev"'}

    def _verify(self, request: Request) -> Response:
        if denied := self._authorised(request):
            return denied
        data = template("credential_account")
        data.update({k: v for k, v in self.render_account(self.me).items() if k in data})
        return self._ok(data)

    def _notifications(self, request: Request) -> Response:
        if denied := self._authorised(request):
            return denied
        with self._state_lock:
            types = request.query.get("types[]") or list(self._by_type)
            excluded = set(request.query.get("exclude_types[]") or [])
            wanted = [t for t in types if t not in excluded]
            if len(wanted) == 1:
                ids = self._by_type.get(wanted[0], [])
            else:
                ids = sorted(i for t in wanted for i in self._by_type.get(t, []))
            page, headers = self._page(request, ids, 40, 80)
            body = [self.render_notification(self.notifications[i]) for i in page]
        return self._ok(body, headers)

    def _post_status(self, request: Request) -> Response:
        if denied := self._authorised(request):
            return denied
        is_json = request.headers.get("content-type", "").startswith("application/json")
        raw = request.json() if is_json else {k: v[0] for k, v in request.form().items()}
        text, reply_to = str(raw.get("status") or ""), raw.get("in_reply_to_id") or None
        visibility = raw.get("visibility") or "public"
        key = request.headers.get("idempotency-key")
        token = request.headers.get("authorization", "")
        with self._state_lock:
            if key and (token, key) in self.idempotency:
                return self._ok(self.render_status(self.statuses[self.idempotency[(token, key)]]))
            if not text.strip():
                return Response(422, {"error": "Validation failed: Text can't be blank"})
            if len(text) > 500:
                return Response(
                    422, {"error": "Validation failed: Text character limit of 500 exceeded"}
                )
            if visibility not in ("public", "unlisted", "private", "direct"):
                return Response(422, {"error": "Validation failed: Visibility is not included"})
            if reply_to and reply_to not in self.statuses:
                return Response(404, {"error": "Record not found"})
            mentioned = tuple(
                a.id
                for m in re.findall(r"@([\w.-]+(?:@[\w.-]+)?)", text)
                if (a := self._by_acct.get(m.lower()))
            )
            status = self._new_status(
                self.me,
                text_to_html(text, self._by_acct, self.host),
                in_reply_to_id=reply_to,
                visibility=visibility,
                mentions=mentioned,
                spoiler_text=str(raw.get("spoiler_text") or ""),
            )
            self.posted.append(status.id)
            if key:
                self.idempotency[(token, key)] = status.id
            return self._ok(self.render_status(status))

    def _get_status(self, request: Request) -> Response:
        if denied := self._authorised(request):
            return denied
        status = self.statuses.get(request.params["id"])
        if status is None:
            return Response(404, {"error": "Record not found"}, self._headers())
        return self._ok(self.render_status(status))

    def _context(self, request: Request) -> Response:
        if denied := self._authorised(request):
            return denied
        with self._state_lock:
            status = self.statuses.get(request.params["id"])
            if status is None:
                return Response(404, {"error": "Record not found"}, self._headers())
            ancestors = []
            parent = self.statuses.get(status.in_reply_to_id or "")
            while parent is not None:
                ancestors.append(parent)
                parent = self.statuses.get(parent.in_reply_to_id or "")
            descendants, queue = [], list(self._children.get(status.id, []))
            while queue:
                child = self.statuses[queue.pop(0)]
                descendants.append(child)
                queue.extend(self._children.get(child.id, []))
            body = {
                "ancestors": [self.render_status(s) for s in reversed(ancestors)],
                "descendants": [self.render_status(s) for s in descendants],
            }
        return self._ok(body)

    def _account_statuses_route(self, request: Request) -> Response:
        if denied := self._authorised(request):
            return denied
        with self._state_lock:
            account_id = request.params["id"]
            if account_id not in self.accounts:
                return Response(404, {"error": "Record not found"}, self._headers())
            ids = self._account_statuses[account_id]
            if request.arg("exclude_replies") in ("true", "1"):
                ids = [i for i in ids if not self.statuses[str(i)].in_reply_to_id]
            page, headers = self._page(request, ids, 20, 40)
            body = [self.render_status(self.statuses[str(i)]) for i in page]
        return self._ok(body, headers)

    def _register_app(self, request: Request) -> Response:
        recorded_app = recorded("test_app_account_create", "POST", "/api/v1/apps").json()
        form = {k: v[0] for k, v in request.form().items()}
        recorded_app.update(
            name=form.get("client_name", ""),
            redirect_uri=form.get("redirect_uris", ""),
            redirect_uris=[form.get("redirect_uris", "")],
            scopes=form.get("scopes", "read").split(),
        )
        return self._ok(recorded_app)

    def _token(self, request: Request) -> Response:
        form = {k: v[0] for k, v in request.form().items()}
        app = recorded("test_app_account_create", "POST", "/api/v1/apps").json()
        if form.get("client_id") != app["client_id"] or form.get("code") != "good-code":
            return Response(
                400,
                {
                    "error": "invalid_grant",
                    "error_description": "The provided authorization "
                    "grant is invalid, expired, revoked, does not match the redirection URI used "
                    "in the authorization request, or was issued to another client.",
                },
            )
        token = recorded("test_app_account_create", "POST", "/oauth/token").json()
        self.tokens.add(token["access_token"])
        return self._ok(token)
