"""The officer's own decisions: recorded like a rule's, and final."""

from __future__ import annotations

import pytest

from app.core.policy.rules import Outcome
from app.core.triage import DecisionRefused
from app.core.vocab import CaseStatus, EventKind
from app.storage.models import Case, CaseEvent
from tests.core.triage.conftest import Desk


def last_decision(case_id: int) -> tuple[str, str]:
    event = (
        CaseEvent.select()
        .where((CaseEvent.case == case_id) & (CaseEvent.kind == EventKind.DECISION.value))
        .order_by(CaseEvent.id.desc())
        .get()
    )
    return event.actor, event.detail


@pytest.mark.parametrize(
    ("outcome", "status", "why"),
    [
        (Outcome.LEAVE_ALONE, CaseStatus.LEFT_ALONE, "left alone · officer"),
        (Outcome.SPAM, CaseStatus.LEFT_ALONE, "spam · officer"),
        (Outcome.ESCALATE, CaseStatus.ESCALATED, "escalated · officer"),
    ],
)
def test_not_answering_is_recorded_with_the_officers_reason(
    desk: Desk, outcome: Outcome, status: CaseStatus, why: str
) -> None:
    (case_id,) = desk.ingest(desk.mention("Is the event still on?")).new_cases
    detail = desk.triage.decide_as_officer(case_id, outcome, "  Spoke on the phone  ")
    assert detail == f"{outcome.label}: Spoke on the phone"
    case = Case.get_by_id(case_id)
    assert (case.status, case.status_reason, case.why) == (status.value, detail, why)
    assert case.priority == 0 and case.due_at is None
    assert last_decision(case_id) == ("officer", detail)


def test_a_reason_is_required_for_not_answering(desk: Desk) -> None:
    (case_id,) = desk.ingest(desk.mention("hello")).new_cases
    with pytest.raises(DecisionRefused, match="Say why"):
        desk.triage.decide_as_officer(case_id, Outcome.SPAM, " ")


def test_sending_a_case_back_to_the_inbox_ranks_it_and_the_rules_leave_it_be(desk: Desk) -> None:
    spam = "Free followers, click here https://spam.example"
    (case_id,) = desk.ingest(desk.mention(spam, conversation_id="t")).new_cases
    assert Case.get_by_id(case_id).status == CaseStatus.LEFT_ALONE.value
    desk.triage.decide_as_officer(case_id, Outcome.RESPOND, "A real supporter, oddly worded")
    case = Case.get_by_id(case_id)
    assert case.status == CaseStatus.OPEN.value and case.due_at is not None
    assert "suggests spam" in case.why
    desk.ingest(desk.mention(spam, conversation_id="t"))
    assert Case.get_by_id(case_id).status == CaseStatus.OPEN.value
    assert last_decision(case_id) == ("officer", "Respond: A real supporter, oddly worded")
