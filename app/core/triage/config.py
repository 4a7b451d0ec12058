"""What triage needs to know about the office, as one plain value.

The settings registry (``app.core.settings``) owns where these values are stored; the app builds
a ``TriageConfig`` from it, so triage, reminders and their tests never depend on storage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from app.core.triage.office_hours import OfficeHours

AWAY_TEMPLATE = "away"
OFFLINE_TEMPLATE = "take-it-offline"


@dataclass(frozen=True, slots=True)
class TriageConfig:
    office_hours: OfficeHours = field(default_factory=OfficeHours)
    response_target: timedelta = timedelta(hours=2)  # office time, when no rule sets its own
    at_risk_fraction: float = 0.25  # "at risk" once less than this share of the target is left
    organisation: str = ""
    phone: str = ""
    email: str = ""
    recent_replies_checked: int = 50  # how many of our recent replies the "bot" check compares
    similarity_threshold: float = 0.8  # shingle overlap from which two replies count as the same

    def __post_init__(self) -> None:
        if self.response_target <= timedelta():
            raise ValueError("The response target must be longer than zero.")
        if not 0 <= self.at_risk_fraction < 1:
            raise ValueError("The at-risk share is between 0 and 1.")
