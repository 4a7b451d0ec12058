"""Deciding the pre-send re-check on Facebook (``FacebookClient.target_status`` reads, this
judges), kept apart so the client module stays small and this part is pure.

Two Graph API calls: ``GET /{comment-id}?fields=id,created_time`` (a deleted comment or post
answers error code 100, "does not exist", or 404: ``NotFound``), then the comments under the
object a reply goes to (as ``find_posted_reply`` reads them), keeping the Page's own.

Facebook threads comments two levels deep, so a reply to a reply goes under its parent
comment. For such a target, the Page's comments in that thread written *after* the target
count as answers to it: the Graph API does not say which comment of the thread a reply meant.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.core.networks.base import PostedReply, ReplyRequest, TargetStatus
from app.core.networks.facebook_items import _comparable, comment_ids, page_items, parse_time

READ_FIELDS = "id,message,created_time,from{id,name},permalink_url"


def answered_since(found: dict[str, Any], request: ReplyRequest, under: str) -> datetime | None:
    """For a reply to a reply, only what the Page wrote after the target counts as an answer."""
    if under == request.target.remote_id:
        return None
    return parse_time(found.get("created_time")) or parse_time(
        request.target.raw.get("created_time")
    )


def judge(
    comments: dict[str, Any], request: ReplyRequest, page_id: str, since: datetime | None
) -> TargetStatus:
    """The target exists; which of the Page's comments under it answer it, and is one ours?"""
    target = request.target.remote_id
    wanted = _comparable(request.text)
    ours: list[PostedReply] = []
    same: PostedReply | None = None
    for item in page_items(comments):
        author = item.get("from")
        if not isinstance(author, dict) or str(author.get("id")) != page_id:
            continue
        created = parse_time(item.get("created_time"))
        if since is not None and (created is None or created <= since):
            continue
        cid, _parent = comment_ids(item)
        if not cid or cid == target:
            continue
        link = item.get("permalink_url")
        posted = PostedReply(cid, link if isinstance(link, str) else None)
        ours.append(posted)
        if same is None and _comparable(str(item.get("message") or "")) == wanted:
            same = posted
    return TargetStatus(exists=True, our_replies=tuple(ours), same_text=same)
