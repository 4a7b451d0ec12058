"""Triage: sentiment, office-hours clocks, priority, and applying the policy at ingest.

Wiring, once per open database::

    triage = Triage(load_policy(), TriageConfig(...from settings...))
    ingestor = Ingestor(hooks=[TriageHook(triage)])
    triage.refresh()  # every few minutes, and after the policy or settings change
"""

from app.core.triage.config import TriageConfig
from app.core.triage.decisions import DecisionRefused, decide_as_officer
from app.core.triage.engine import CasePlan, Triage, TriageReport, plan_case
from app.core.triage.hook import TriageHook
from app.core.triage.office_hours import (
    AwayPeriod,
    Deadline,
    OfficeHours,
    OfficeHoursError,
    Urgency,
    add_office_time,
    deadline,
    end_vacation,
    is_open,
    office_time_between,
    start_vacation,
    urgency_of_due,
)
from app.core.triage.priority import Priority, PriorityInputs, prioritise, why_line
from app.core.triage.sentiment import SentimentScorer, sentiment_label

__all__ = [
    "AwayPeriod",
    "CasePlan",
    "Deadline",
    "DecisionRefused",
    "OfficeHours",
    "OfficeHoursError",
    "Priority",
    "PriorityInputs",
    "SentimentScorer",
    "Triage",
    "TriageConfig",
    "TriageHook",
    "TriageReport",
    "Urgency",
    "add_office_time",
    "deadline",
    "decide_as_officer",
    "end_vacation",
    "is_open",
    "office_time_between",
    "plan_case",
    "prioritise",
    "sentiment_label",
    "start_vacation",
    "urgency_of_due",
    "why_line",
]
