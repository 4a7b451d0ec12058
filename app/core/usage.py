"""A running count of API reads and posts per account, for networks that bill per call (X)."""

from __future__ import annotations

from typing import Any

from app.core.networks.base import UsageCount
from app.storage.models import Setting


def _key(account_id: int) -> str:
    return f"usage:{account_id}"


class UsageLedger:
    """Adds each session's calls to the stored totals (kept in the data, not in logs)."""

    def totals(self, account_id: int) -> UsageCount:
        row = Setting.get_or_none(Setting.key == _key(account_id))
        value: dict[str, Any] = row.value if row is not None and isinstance(row.value, dict) else {}
        return UsageCount(int(value.get("reads", 0)), int(value.get("posts", 0)))

    def record(self, account_id: int, client: object) -> UsageCount | None:
        """Add what a client counted to the totals; call once, when its run is over.

        Sync and the sender build a fresh client for each run, so its count is that run's.
        Clients without ``usage`` (networks that do not bill per call) add nothing.
        """
        usage = getattr(client, "usage", None)
        if not isinstance(usage, UsageCount) or not (usage.reads or usage.posts):
            return None
        totals = self.totals(account_id)
        updated = UsageCount(totals.reads + usage.reads, totals.posts + usage.posts)
        Setting.insert(
            key=_key(account_id), value={"reads": updated.reads, "posts": updated.posts}
        ).on_conflict_replace().execute()
        return updated
