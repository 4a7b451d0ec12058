"""Mastodon listening: hashtag timelines, and full-text search where the instance has it.

Hashtags (``/api/v1/timelines/tag/:hashtag``) are read forward with ``min_id`` like the
notifications: each page holds the statuses just after the cursor, and is yielded with the
newest id in it as its cursor, so a crash never skips one. A first read takes the latest page.

Full-text search (``/api/v2/search?type=statuses``) exists only on instances that run
Elasticsearch/OpenSearch; elsewhere it quietly finds nothing, so ``full_text_search`` asks the
instance first. Results come by relevance, not time: every page after the cursor (``min_id``)
is read with ``offset`` and only the last batch carries the new high-water mark.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from app.core.listening.searches import FIRST_READ, MAX_PAGES, SearchKind, SearchSpec
from app.core.networks.base import MentionBatch, RemoteMention, RemotePerson
from app.core.networks.errors import BadResponse, NotFound, Rejected
from app.core.networks.http import json_body
from app.core.networks.mastodon import LABEL, MastodonClient, id_order, mention_from_status

log = logging.getLogger(__name__)

PAGE = 40  # the most Mastodon returns per page of a timeline or a search


class MastodonSearch:
    def __init__(self, client: MastodonClient, *, max_pages: int = MAX_PAGES) -> None:
        self.client = client
        self.max_pages = max_pages
        self._me: RemotePerson | None = None

    def search(self, spec: SearchSpec, cursor: str | None) -> Iterator[MentionBatch]:
        if spec.kind is SearchKind.HASHTAG:
            yield from self._tag(spec.query, cursor)
        else:
            yield from self._full_text(spec.query, cursor)

    def full_text_search(self) -> bool | None:
        """Whether the instance says it can search statuses by words (None: it does not say).

        Mastodon publishes it as ``configuration.search.enabled`` (newer versions), Fedibird
        and its forks as ``fedibird_capabilities``; older instances say nothing.
        """
        try:
            body = json_body(self.client.get("/api/v2/instance", what="instance"), LABEL)
        except (NotFound, Rejected):
            return None
        data = body if isinstance(body, dict) else {}
        search = (data.get("configuration") or {}).get("search")
        if isinstance(search, dict) and isinstance(search.get("enabled"), bool):
            return bool(search["enabled"])
        capabilities = data.get("fedibird_capabilities")
        if isinstance(capabilities, list) and "full_text_search" in capabilities:
            return True
        return None

    # -- walks --

    def _tag(self, tag: str, cursor: str | None) -> Iterator[MentionBatch]:
        path = f"/api/v1/timelines/tag/{quote(tag, safe='')}"
        if cursor is None:
            statuses = self._statuses(path, {"limit": min(PAGE, FIRST_READ)})
            ids = [str(s["id"]) for s in statuses]
            if ids:
                yield MentionBatch(self._mentions(statuses), cursor=max(ids, key=id_order))
            return
        newest = cursor
        for _ in range(self.max_pages):
            statuses = self._statuses(path, {"min_id": newest, "limit": PAGE})
            fresh = [s for s in statuses if id_order(str(s["id"])) > id_order(newest)]
            if not fresh:
                return  # nothing newer (or a server repeating itself: stop, never loop)
            newest = max((str(s["id"]) for s in fresh), key=id_order)
            yield MentionBatch(self._mentions(fresh), cursor=newest)

    def _full_text(self, words: str, cursor: str | None) -> Iterator[MentionBatch]:
        params: dict[str, Any] = {"q": words, "type": "statuses", "resolve": "false", "limit": PAGE}
        if cursor is not None:
            params["min_id"] = cursor
        newest, seen = cursor, set[str]()
        held: list[dict[str, Any]] = []
        for page in range(1 if cursor is None else self.max_pages):
            params["offset"] = page * PAGE
            body = json_body(self.client.get("/api/v2/search", params, what="search"), LABEL)
            found = body.get("statuses") if isinstance(body, dict) else None
            if not isinstance(found, list):
                raise BadResponse(f"{LABEL} sent an unexpected reply.", "search without statuses")
            statuses = [
                s
                for s in found
                if isinstance(s, dict)
                and s.get("id")
                and str(s["id"]) not in seen
                and (cursor is None or id_order(str(s["id"])) > id_order(cursor))
            ]
            seen.update(str(s["id"]) for s in statuses)
            for status_id in (str(s["id"]) for s in statuses):
                if newest is None or id_order(status_id) > id_order(newest):
                    newest = status_id
            if held:
                yield MentionBatch(self._mentions(held), cursor=None)  # not yet: pages remain
            held = statuses
            if len(found) < PAGE:
                break
        if held or newest != cursor:
            yield MentionBatch(self._mentions(held), cursor=newest if newest != cursor else None)

    # -- parsing --

    def _statuses(self, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        body = json_body(self.client.get(path, params, what="hashtag timeline"), LABEL)
        if not isinstance(body, list):
            raise BadResponse(f"{LABEL} sent an unexpected reply.", "timeline is not a list")
        return [s for s in body if isinstance(s, dict) and s.get("id") and not s.get("reblog")]

    def _me_id(self) -> str:
        if self._me is None:
            self._me = self.client.verify()
        return self._me.remote_id

    def _mentions(self, statuses: list[dict[str, Any]]) -> list[RemoteMention]:
        """Oldest first, without our own statuses; addressed only when they tag or answer us."""
        if not statuses:
            return []
        me = self._me_id()
        found: list[RemoteMention] = []
        for status in statuses:
            account = status.get("account")
            account = account if isinstance(account, dict) else {}
            if str(account.get("id", "")) == me:
                continue
            tagged = any(
                isinstance(m, dict) and str(m.get("id", "")) == me
                for m in status.get("mentions") or []
            )
            addressed = tagged or str(status.get("in_reply_to_account_id") or "") == me
            try:
                mention = mention_from_status(status, self.client.host, addressed_to_us=addressed)
            except BadResponse as exc:
                log.warning("%s: skipping a search result: %s", LABEL, exc)
                continue
            found.append(replace(mention, kind="search"))
        found.sort(key=lambda m: (m.created_at, id_order(m.remote_id)))
        return found
