"""Small readers of Facebook Graph items, shared by the client and its pre-send check."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from app.core.networks.errors import BadResponse
from app.core.text import clean_text

LABEL = "Facebook"


def parse_time(value: Any) -> datetime | None:
    """Graph API times look like ``2021-08-10T18:45:03+0000``."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _permalink_ids(permalink: Any) -> tuple[str | None, str | None]:
    """(comment id, parent comment id) from ``…/posts/<post>/?comment_id=C&reply_comment_id=R``."""
    if not isinstance(permalink, str):
        return None, None
    parts = urlsplit(permalink)
    post = re.search(r"/posts/(\d+)", parts.path)
    query = parse_qs(parts.query)
    comment = (query.get("comment_id") or [""])[0]
    reply = (query.get("reply_comment_id") or [""])[0]
    if not post or not comment.isdigit():
        return None, None
    if reply.isdigit():
        return f"{post.group(1)}_{reply}", f"{post.group(1)}_{comment}"
    return f"{post.group(1)}_{comment}", None


def comment_ids(item: dict[str, Any]) -> tuple[str | None, str | None]:
    """(id, parent id) of a comment; from its permalink when Facebook leaves ``id`` out."""
    from_link, parent_from_link = _permalink_ids(item.get("permalink_url"))
    cid = item.get("id") if isinstance(item.get("id"), str) else from_link
    parent = item.get("parent")
    parent_id = parent.get("id") if isinstance(parent, dict) else None
    return cid or None, (parent_id if isinstance(parent_id, str) else parent_from_link)


def page_items(body: dict[str, Any]) -> list[dict[str, Any]]:
    data = body.get("data")
    if data is None:
        return []
    if not isinstance(data, list):
        raise BadResponse(_unreadable(), f"data is {type(data).__name__}")
    return [item for item in data if isinstance(item, dict)]


def _unreadable() -> str:
    return f"{LABEL} sent an unexpected reply. Kindly will try again later."


def _comparable(text: str) -> str:
    return " ".join(clean_text(text).split()).casefold()
