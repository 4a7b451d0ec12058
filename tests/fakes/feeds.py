"""A web site on 127.0.0.1 that serves feeds, with ETag/Last-Modified and 304 as servers do.

with FeedSite() as site:
    site.publish("/alerts.xml", body, etag='"v1"')
    url = site.base_url + "/alerts.xml"
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.fakes.server import FakeServer, Request, Response

ATOM = "application/atom+xml; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"


@dataclass
class Published:
    body: bytes
    content_type: str
    etag: str | None
    last_modified: str | None
    status: int = 200


class FeedSite(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.pages: dict[str, Published] = {}
        self.route("GET", "/{path}", self._serve)
        self.route("GET", "/{folder}/{path}", self._serve)

    def publish(
        self,
        path: str,
        body: bytes | str,
        *,
        content_type: str = ATOM,
        etag: str | None = None,
        last_modified: str | None = None,
        status: int = 200,
    ) -> str:
        data = body.encode("utf-8") if isinstance(body, str) else body
        with self.lock:
            self.pages[path] = Published(data, content_type, etag, last_modified, status)
        return self.base_url + path

    def gets(self, path: str) -> list[Request]:
        return self.calls("GET", path)

    def _serve(self, request: Request) -> Response:
        with self.lock:
            page = self.pages.get(request.path)
        if page is None:
            return Response(
                404, b"<html><body>Not found</body></html>", {"content-type": "text/html"}
            )
        headers: dict[str, Any] = {"content-type": page.content_type}
        if page.etag:
            headers["etag"] = page.etag
        if page.last_modified:
            headers["last-modified"] = page.last_modified
        unchanged = (page.etag and request.headers.get("if-none-match") == page.etag) or (
            not page.etag
            and page.last_modified
            and request.headers.get("if-modified-since") == page.last_modified
        )
        if unchanged and page.status == 200:
            return Response(304, b"", headers)
        return Response(page.status, page.body, headers)
