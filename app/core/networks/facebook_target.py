"""The pre-send re-check on Facebook (``FacebookClient.target_status``), kept apart so the
client module stays small.

Two Graph API calls: ``GET /{comment-id}?fields=id,created_time`` (a deleted comment or post
answers error code 100, "does not exist", or 404: ``NotFound``), then the comments under the
object a reply goes to (as ``find_posted_reply`` reads them), keeping the Page's own.

Facebook threads comments two levels deep, so a reply to a reply goes under its parent
comment. For such a target, the Page's comments in that thread written *after* the target
count as answers to it: the Graph API does not say which comment of the thread a reply meant.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from app.core.networks.base import PostedReply, ReplyRequest, TargetStatus
from app.core.networks.errors import NotFound
from app.core.networks.facebook import _comparable, comment_ids, page_items, parse_time

if TYPE_CHECKING:
    from app.core.networks.facebook import FacebookClient

READ_FIELDS = "id,message,created_time,from{id,name},permalink_url"


def target_status(client: FacebookClient, request: ReplyRequest) -> TargetStatus:
    target = request.target.remote_id
    try:
        found = client._get(f"/{target}", {"fields": "id,created_time"})
    except NotFound:
        return TargetStatus(exists=False)
    under = client._reply_object(request)
    since: datetime | None = None
    if under != target:  # a reply to a reply: only what the Page wrote after it
        since = parse_time(found.get("created_time")) or parse_time(
            request.target.raw.get("created_time")
        )
    client._numeric_page_id()
    page_id = client.page_id
    params = {"fields": READ_FIELDS, "order": "reverse_chronological", "limit": "100"}
    wanted = _comparable(request.text)
    ours: list[PostedReply] = []
    same: PostedReply | None = None
    for item in page_items(client._get(f"/{under}/comments", params)):
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
