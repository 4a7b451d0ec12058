"""A fake Facebook Graph API on 127.0.0.1, in the shapes of the python-facebook recordings.

State: one Page, its posts and their comments (with replies), posts the Page is tagged in, and the
valid Page token. Comments page by ``after`` cursors with ``paging.next`` (which, as on Facebook,
embeds the access token), honour ``filter`` (toplevel/stream) and ``order``; fields appear only
when asked for. Errors use Facebook's ``{"error": {"message", "type", "code", "fbtrace_id"}}``.

    with FakeFacebook() as fb:
        post = fb.add_post("Our spring appeal")
        fb.add_comment(post, "Lovely!", author="Ann Example")
        fb.throttle(f"/v21.0/{post}/comments", code=4)
"""

from __future__ import annotations

import base64
import itertools
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from tests.fakes.server import FakeServer, Fault, Request, Response

VERSION = "v21.0"
FB_TIME = "%Y-%m-%dT%H:%M:%S+0000"


def error_body(code: int, message: str, subcode: int | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AQt_hJ68vFybS4TnupatNtX",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


EXPIRED = error_body(
    190,
    "Error validating access token: Session has expired on Tuesday, 07-May-24 10:00:00 PDT.",
    463,
)
MISSING = error_body(
    100,
    "(#100) Object does not exist, cannot be loaded due to missing permission or reviewable "
    "feature, or does not support this operation.",
    33,
)


def _cursor(item_id: str) -> str:
    return base64.b64encode(item_id.encode()).decode().rstrip("=")


def _uncursor(cursor: str) -> str:
    return base64.b64decode(cursor + "=" * (-len(cursor) % 4)).decode()


def _fields(request: Request) -> set[str]:
    """Top-level names of ``fields=id,from{id,name},parent{id}``."""
    raw = re.sub(r"\{[^}]*\}", "", request.arg("fields") or "")
    return {f for f in raw.split(",") if f}


class FakeFacebook(FakeServer):
    def __init__(
        self, page_id: str = "1000001", name: str = "Kindly Trust", username: str = "kindlytrust"
    ) -> None:
        super().__init__()
        self.page_id = page_id
        self.page = {
            "id": page_id,
            "name": name,
            "username": username,
            "fan_count": 5400,
            "followers_count": 5600,
            "link": f"https://www.facebook.com/{username}",
        }
        self.token: str | None = "fb-page-token"
        self.objects: dict[str, dict[str, Any]] = {}  # posts and comments by id
        self.posts: list[str] = []
        self.tagged: list[str] = []
        self.overlap = 0  # items of the previous page repeated at the top of the next one
        self.omit_comment_ids = False  # the recordings show comments without "id"
        self.clock = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=6)
        self._numbers = itertools.count(10158407654328553)
        self._people: dict[str, str] = {}
        for pattern, handler in (
            ("/{version}/{obj}", self._object),
            ("/{version}/{obj}/posts", self._posts),
            ("/{version}/{obj}/feed", self._posts),
            ("/{version}/{obj}/tagged", self._tagged),
            ("/{version}/{obj}/comments", self._comments),
        ):
            self.route("GET", pattern, handler)
        self.route("POST", "/{version}/{obj}/comments", self._create_comment)

    # -- helpers for tests ---------------------------------------------------------------------

    def _tick(self, when: datetime | None) -> datetime:
        self.clock = max(self.clock + timedelta(seconds=1), when or self.clock)
        return when or self.clock

    def person(self, name: str) -> dict[str, str]:
        pid = self._people.setdefault(name, str(100000 + len(self._people)))
        return {"id": pid, "name": name}

    def add_post(self, message: str = "News from the Page", created: datetime | None = None) -> str:
        with self.lock:
            number = next(self._numbers)
            pid = f"{self.page_id}_{number}"
            when = self._tick(created)
            self.objects[pid] = {
                "id": pid,
                "message": message,
                "created_time": when,
                "updated_time": when,
                "from": {"id": self.page_id, "name": self.page["name"]},
                "permalink_url": f"https://www.facebook.com/{self.page_id}/posts/{number}",
                "_kind": "post",
                "_number": str(number),
                "_comments": [],
            }
            self.posts.append(pid)
            return pid

    def add_comment(
        self,
        on: str,
        message: str,
        author: str | None = "Ann Example",
        created: datetime | None = None,
    ) -> str:
        """A comment on a post, or a reply when ``on`` is a comment; ``author=None`` leaves
        ``from`` out, as Facebook does without the permission to show it."""
        with self.lock:
            target = self.objects[on]
            parent = target if target["_kind"] == "comment" else None
            if parent is not None and parent.get("_parent"):
                parent = self.objects[parent["_parent"]]  # two levels only
            post = self.objects[parent["_post"]] if parent else target
            number = next(self._numbers)
            cid = f"{post['_number']}_{number}"
            link = f"https://www.facebook.com/{self.page_id}/posts/{post['_number']}/?"
            if parent:
                link += f"comment_id={parent['id'].split('_')[1]}&reply_comment_id={number}"
            else:
                link += f"comment_id={number}"
            comment: dict[str, Any] = {
                "id": cid,
                "message": message,
                "created_time": self._tick(created),
                "permalink_url": link,
                "comment_count": 0,
                "like_count": 0,
                "_kind": "comment",
                "_post": post["id"],
                "_parent": parent["id"] if parent else None,
            }
            if author is not None:
                comment["from"] = (
                    {"id": self.page_id, "name": self.page["name"]}
                    if author == self.page_id
                    else self.person(author)
                )
            self.objects[cid] = comment
            post["_comments"].append(cid)
            post["updated_time"] = comment["created_time"]
            if parent:
                parent["comment_count"] += 1
            return cid

    def add_comments(
        self, on: str, count: int, author: str | None = "Ann Example", message: str = "Comment {i}"
    ) -> list[str]:
        return [self.add_comment(on, message.format(i=i), author) for i in range(count)]

    def add_tagged_post(
        self,
        message: str,
        author: str | None = "Bob Example",
        created: datetime | None = None,
        updated: datetime | None = None,
    ) -> str:
        with self.lock:
            number = next(self._numbers)
            owner = self.person(author) if author else {"id": "999", "name": "?"}
            pid = f"{owner['id']}_{number}"
            when = self._tick(created)
            post = {
                "id": pid,
                "message": message,
                "created_time": when,
                "updated_time": updated or when,
                "permalink_url": f"https://www.facebook.com/{owner['id']}/posts/{number}",
                "_kind": "post",
                "_number": str(number),
                "_comments": [],
            }
            if author:
                post["from"] = owner
            self.objects[pid] = post
            self.tagged.append(pid)
            return pid

    def page_comments(self) -> list[dict[str, Any]]:
        """Comments the Page wrote (our replies): a test asserts each target got exactly one."""
        with self.lock:
            return [
                o
                for o in self.objects.values()
                if o["_kind"] == "comment" and o.get("from", {}).get("id") == self.page_id
            ]

    def delete(self, oid: str) -> None:
        """Someone deleted a comment (with its replies) or a post: reads of it answer code 100."""
        with self.lock:
            obj = self.objects.pop(oid, None)
            if obj is None:
                return
            if obj["_kind"] == "post":
                self.posts = [p for p in self.posts if p != oid]
                self.tagged = [p for p in self.tagged if p != oid]
                for cid in obj["_comments"]:
                    self.objects.pop(cid, None)
                return
            post = self.objects.get(obj["_post"])
            if post is not None:
                replies = [c for c in post["_comments"] if c != oid]
                gone = {oid} | {c for c in replies if self.objects[c]["_parent"] == oid}
                post["_comments"] = [c for c in post["_comments"] if c not in gone]
                for cid in gone:
                    self.objects.pop(cid, None)

    def expire_token(self) -> None:
        self.token = None

    def throttle(
        self,
        path: str,
        code: int = 4,
        status: int = 400,
        minutes: int | None = None,
        times: int = 1,
    ) -> None:
        """Queue Facebook throttling: an error code in the body, usage headers alongside."""
        headers = {"x-app-usage": json.dumps({"call_count": 100, "total_time": 30})}
        if minutes is not None:
            usage = {
                self.page_id: [
                    {
                        "type": "pages",
                        "call_count": 100,
                        "total_cputime": 20,
                        "total_time": 30,
                        "estimated_time_to_regain_access": minutes,
                    }
                ]
            }
            headers["x-business-use-case-usage"] = json.dumps(usage)
        body = error_body(code, "(#4) Application request limit reached")
        for _ in range(times):
            self.fail("GET", path, Fault.http_status(status, headers, body))

    # -- routes ----------------------------------------------------------------------------------

    def _token_of(self, request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        for scheme in ("Bearer ", "OAuth "):
            if header.startswith(scheme):
                return header[len(scheme) :]
        return request.arg("access_token")

    def _is_page(self, oid: str) -> bool:
        """The Graph API accepts a Page's username wherever its id goes."""
        return oid in (self.page_id, self.page["username"])

    def _check(self, request: Request) -> Response | None:
        if self.token is None or self._token_of(request) != self.token:
            return Response(400, EXPIRED)
        return None

    def _render(self, obj: dict[str, Any], fields: set[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in fields or {"id", "message", "created_time"}:
            if key == "id" and obj["_kind"] == "comment" and self.omit_comment_ids:
                continue
            if key == "parent":
                if obj.get("_parent"):
                    out["parent"] = {"id": obj["_parent"]}
                continue
            if key in obj and not key.startswith("_"):
                value = obj[key]
                out[key] = value.strftime(FB_TIME) if isinstance(value, datetime) else value
        return out

    def _paged(
        self, request: Request, ids: list[str], edge: str, default_limit: int = 25
    ) -> Response:
        """Cursor paging (``after`` names the last item sent), ``next`` with the token in it."""
        fields = _fields(request)
        limit = int(request.arg("limit") or default_limit)
        start = 0
        after = request.arg("after")
        if after:
            last = _uncursor(after)
            start = ids.index(last) + 1 if last in ids else 0
            start = max(0, start - self.overlap)
        page = ids[start : start + limit]
        body: dict[str, Any] = {"data": [self._render(self.objects[i], fields) for i in page]}
        if page:
            paging: dict[str, Any] = {
                "cursors": {"before": _cursor(page[0]), "after": _cursor(page[-1])}
            }
            if start + limit < len(ids):
                query = {k: v[0] for k, v in request.query.items() if k != "after"}
                query = {"access_token": self._token_of(request) or "", **query}
                query["after"] = _cursor(page[-1])
                paging["next"] = f"{self.base_url}/{VERSION}/{edge}?{urlencode(query)}"
            body["paging"] = paging
        return Response(200, body)

    def _object(self, request: Request) -> Response:
        if (denied := self._check(request)) is not None:
            return denied
        oid = request.params["obj"]
        if self._is_page(oid):
            fields = _fields(request) or {"id", "name"}
            return Response(200, {k: v for k, v in self.page.items() if k in fields})
        with self.lock:
            obj = self.objects.get(oid)
            return (
                Response(400, MISSING)
                if obj is None
                else Response(200, self._render(obj, _fields(request)))
            )

    def _posts(self, request: Request) -> Response:
        if (denied := self._check(request)) is not None:
            return denied
        if not self._is_page(request.params["obj"]):
            return Response(400, MISSING)
        with self.lock:
            ordered = sorted(
                self.posts, key=lambda p: self.objects[p]["created_time"], reverse=True
            )
            limit = int(request.arg("limit") or 25)
            page = ordered[:limit]
            body: dict[str, Any] = {
                "data": [self._render(self.objects[p], _fields(request)) for p in page]
            }
        if page:  # /posts pages by time (until/since), not by cursors, as in the recording
            token = self._token_of(request)
            oldest = int(self.objects[page[-1]]["created_time"].timestamp())
            newest = int(self.objects[page[0]]["created_time"].timestamp())
            base = f"{self.base_url}/{VERSION}/{self.page_id}/posts?access_token={token}"
            body["paging"] = {"previous": f"{base}&since={newest}&__previous=1"}
            if len(ordered) > limit:
                body["paging"]["next"] = f"{base}&until={oldest}"
        return Response(200, body)

    def _tagged(self, request: Request) -> Response:
        if (denied := self._check(request)) is not None:
            return denied
        with self.lock:
            ordered = sorted(
                self.tagged, key=lambda p: self.objects[p]["updated_time"], reverse=True
            )
            return self._paged(request, ordered, f"{self.page_id}/tagged")

    def _comments(self, request: Request) -> Response:
        if (denied := self._check(request)) is not None:
            return denied
        oid = request.params["obj"]
        with self.lock:
            obj = self.objects.get(oid)
            if obj is None:
                return Response(400, MISSING)
            if obj["_kind"] == "post":
                ids = list(obj["_comments"])
                if request.arg("filter", "toplevel") != "stream":
                    ids = [c for c in ids if not self.objects[c]["_parent"]]
            else:
                post = self.objects[obj["_post"]]
                ids = [c for c in post["_comments"] if self.objects[c]["_parent"] == oid]
            ids.sort(key=lambda c: (self.objects[c]["created_time"], c))
            if request.arg("order") == "reverse_chronological":
                ids.reverse()
            return self._paged(request, ids, f"{oid}/comments")

    def _create_comment(self, request: Request) -> Response:
        if (denied := self._check(request)) is not None:
            return denied
        form = {k: v[0] for k, v in request.form().items()}
        message = form.get("message", "")
        if not message:
            return Response(400, error_body(100, "(#100) Missing message or attachment"))
        with self.lock:
            if request.params["obj"] not in self.objects:
                return Response(400, MISSING)
            cid = self.add_comment(request.params["obj"], message, author=self.page_id)
            comment = self.objects[cid]
            return Response(
                200,
                {
                    "id": cid,
                    "message": message,
                    "permalink_url": comment["permalink_url"],
                    "created_time": comment["created_time"].strftime(FB_TIME),
                },
            )
