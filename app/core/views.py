"""The inbox's views (Needs reply, Waiting, …): a vocabulary with no database behind it.

Kept apart from ``app.core.inbox`` so the window's sidebar can be drawn before the database
and its models are imported (start-up: bench/bench_startup.py). ``app.core.inbox`` re-exports it.
"""

from __future__ import annotations

from enum import StrEnum

from app.core.vocab import Bucket


class InboxView(StrEnum):
    NEEDS_REPLY = "needs_reply"
    WAITING = "waiting"
    RESOLVED = "resolved"
    LEFT_ALONE = "left_alone"
    ESCALATED = "escalated"
    ALL = "all"

    @property
    def label(self) -> str:
        return {
            "needs_reply": "Needs reply",
            "waiting": "Waiting",
            "resolved": "Resolved",
            "left_alone": "Left alone",
            "escalated": "Escalated",
            "all": "All",
        }[self.value]

    @property
    def bucket(self) -> str | None:
        return None if self is InboxView.ALL else Bucket(self.value).value
