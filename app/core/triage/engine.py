"""Triage: apply the policy to cases, rank them, and record every decision with its reason.

For each case that needs a reply (new or open), the policy looks at its newest mention:

- respond: the case gets a due time (its response target in office hours, from the oldest
  mention we have not answered), a priority and a "why" line;
- escalate: the same, with a priority boost and the reminder to move it to phone or email. The
  case stays in the inbox: *the officer* marks it escalated once it has actually moved, because
  only they know when it has;
- leave alone / spam: the case moves to "left alone" with the rule's reason as its status
  reason, unless the officer is already in the conversation (we replied, or they decided on
  this case before). Then Kindly does not take it out of their hands: it stays in the inbox and
  the why line and composer say what the rule suggests.

Each decision is a ``CaseEvent(kind="decision", actor="rule: <name>", detail=<reason>)``,
written only when it differs from the last decision on record, so re-triage is idempotent and
the history reads as a list of real decisions. Cases in other states (waiting, resolved,
escalated, left alone) are not touched: a person decided those.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from app.core.policy.engine import PolicyEngine
from app.core.policy.rules import Decision, Outcome, Policy
from app.core.triage.bulk import insert_rows, update_rows
from app.core.triage.config import TriageConfig
from app.core.triage.decisions import decide_as_officer
from app.core.triage.facts import CHUNK as FACTS_CHUNK
from app.core.triage.facts import CaseFacts, load_case_facts
from app.core.triage.office_hours import Deadline, deadline
from app.core.triage.priority import score_and_why
from app.core.triage.sentiment import SentimentScorer, correct_sentiment, score_unscored
from app.core.vocab import Bucket, CaseStatus, EventKind
from app.storage.models import Case, CaseEvent, database

AUTOMATIC_STATUSES = frozenset({CaseStatus.NEW, CaseStatus.OPEN})


@dataclass(frozen=True, slots=True)
class CasePlan:
    """What triage will write for one case."""

    case_id: int
    decision: Decision
    priority: float
    due_at: datetime | None
    why: str
    leave: bool  # move to "left alone" now
    suggested_only: bool  # the rule would leave it alone, but the officer is in the conversation
    record: bool  # write the decision to the case history
    changed: bool  # priority, due time or why differ from what the case row holds


@dataclass(slots=True)
class TriageReport:
    scored: int = 0
    cases: int = 0
    decisions_recorded: int = 0
    left_alone: int = 0
    suggestions: int = 0


def utcnow() -> datetime:
    return datetime.now(UTC)


def officer_involved(facts: CaseFacts) -> bool:
    """We replied, or the officer decided or moved this case by hand: it is theirs now."""
    return facts.reply_count > 0 or facts.officer_decided


def plan_case(
    facts: CaseFacts, decision: Decision, config: TriageConfig, now: datetime
) -> CasePlan:
    """Pure: from the facts of a case and the policy's decision, what to store.

    Runs for every case sync touches, so it builds nothing it does not store: the score and why
    line come from ``score_and_why`` (what ``prioritise`` gives, without its parts)."""
    outcome = decision.outcome
    leaves = outcome is Outcome.LEAVE_ALONE or outcome is Outcome.SPAM
    suggested_only = leaves and officer_involved(facts)
    effective, target = outcome, decision.target
    if suggested_only:
        effective, target = Outcome.RESPOND, config.response_target
    clock: Deadline | None = None
    if target is not None:
        clock = deadline(
            config.office_hours, facts.clock_start, target, now, config.at_risk_fraction
        )
    rule = decision.rule
    score, why = score_and_why(
        effective,
        facts.newest_sentiment,
        facts.follower_count,
        clock,
        rule.name if rule else None,
        f"suggests {outcome.label.lower()}" if suggested_only else "",
    )
    record = not suggested_only and (
        decision.detail != facts.last_decision_detail or decision.actor != facts.last_decision_actor
    )
    due_at = clock.due_at if clock else None
    changed = (score, due_at, why) != (
        facts.stored_priority,
        facts.stored_due_at,
        facts.stored_why,
    )
    return CasePlan(
        case_id=facts.case_id,
        decision=decision,
        priority=score,
        due_at=due_at,
        why=why,
        leave=leaves and not suggested_only,
        suggested_only=suggested_only,
        record=record,
        changed=changed,
    )


class Triage:
    """Runs the policy over cases. Swap ``policy`` or ``config`` at any time (the next run uses
    them); ``clock`` is injectable so tests can stand at any moment."""

    def __init__(
        self,
        policy: Policy,
        config: TriageConfig | None = None,
        scorer: SentimentScorer | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._engine = PolicyEngine(policy)
        self.config = config or TriageConfig()
        self.scorer = scorer or SentimentScorer()
        self.clock = clock

    @property
    def policy(self) -> Policy:
        return self._engine.policy

    @policy.setter
    def policy(self, policy: Policy) -> None:
        self._engine = PolicyEngine(policy)

    @property
    def engine(self) -> PolicyEngine:
        return self._engine

    def decide(self, facts: CaseFacts) -> Decision:
        """The policy's decision on the case's newest mention (``facts.mention_facts()``)."""
        return self._engine.decide(
            self.config.response_target,
            facts.newest_text,
            facts.network,
            facts.stance,
            facts.follower_count,
            facts.newest_sentiment,
            facts.reply_to_us,
            facts.handle,
        )

    def plan(self, facts: CaseFacts, now: datetime | None = None) -> CasePlan:
        return plan_case(facts, self.decide(facts), self.config, now or self.clock())

    # -- runs -------------------------------------------------------------------------------

    def score_mentions(self, mention_ids: Sequence[int]) -> int:
        """Score the sentiment of mentions that have none (corrected scores are kept)."""
        return score_unscored(mention_ids, self.scorer)

    def triage_cases(self, case_ids: Sequence[int], now: datetime | None = None) -> TriageReport:
        """Decide, rank and record for these cases; cases a person has moved stay as they are."""
        now = now or self.clock()
        report = TriageReport()
        facts = load_case_facts(case_ids)
        config, decide = self.config, self.decide
        plans = [
            plan_case(f, decide(f), config, now)
            for f in facts.values()
            if f.status in AUTOMATIC_STATUSES
        ]
        if plans:
            with database.atomic():
                self._write(plans, now, report)
        return report

    def refresh(self, now: datetime | None = None) -> TriageReport:
        """Re-triage every case that needs a reply: after a policy or settings change, and from
        time to time so that priorities follow the clock (a case gets more urgent as it waits).

        Each chunk of cases is its own short transaction, so sync is never held up for long.
        Run it off the UI thread (it takes about a second per 10,000 open cases)."""
        now = now or self.clock()
        ids = [
            row[0]
            for row in Case.select(Case.id).where(Case.bucket == Bucket.NEEDS_REPLY.value).tuples()
        ]
        total = TriageReport()
        for start in range(0, len(ids), FACTS_CHUNK):
            report = self.triage_cases(ids[start : start + FACTS_CHUNK], now)
            total.cases += report.cases
            total.decisions_recorded += report.decisions_recorded
            total.left_alone += report.left_alone
            total.suggestions += report.suggestions
        return total

    def decide_as_officer(self, case_id: int, outcome: Outcome, reason: str = "") -> str:
        """The officer's call, recorded with actor "officer"; a case sent back to the inbox is
        ranked at once. Returns the recorded detail."""
        detail = decide_as_officer(case_id, outcome, reason, self.clock())
        if outcome is Outcome.RESPOND:
            self.triage_cases([case_id])
        return detail

    def correct_sentiment(self, mention_id: int, score: float) -> None:
        """The officer's reading of a mention; it sticks, and the case is re-ranked at once."""
        case_id = correct_sentiment(mention_id, score)
        if case_id:
            self.triage_cases([case_id])

    # -- writing ----------------------------------------------------------------------------

    def _write(self, plans: list[CasePlan], now: datetime, report: TriageReport) -> None:
        update_rows(
            Case,
            [Case.priority, Case.due_at, Case.why],
            Case.id,
            [(p.priority, p.due_at, p.why, p.case_id) for p in plans if p.changed],
        )
        leaving = [p for p in plans if p.leave]
        statuses = ", ".join(f"'{s.value}'" for s in sorted(AUTOMATIC_STATUSES))
        update_rows(
            Case,
            [Case.status, Case.bucket, Case.status_reason, Case.updated_at],
            Case.id,
            [
                (
                    CaseStatus.LEFT_ALONE.value,
                    CaseStatus.LEFT_ALONE.bucket.value,
                    p.decision.detail,
                    now,
                    p.case_id,
                )
                for p in leaving
            ],
            extra_where=f'"status" IN ({statuses})',
        )
        recorded = [p for p in plans if p.record]
        insert_rows(
            CaseEvent,
            [
                CaseEvent.case,
                CaseEvent.kind,
                CaseEvent.detail,
                CaseEvent.actor,
                CaseEvent.created_at,
            ],
            [
                (p.case_id, EventKind.DECISION.value, p.decision.detail, p.decision.actor, now)
                for p in recorded
            ],
        )
        report.cases += len(plans)
        report.left_alone += len(leaving)
        report.decisions_recorded += len(recorded)
        report.suggestions += sum(1 for p in plans if p.suggested_only)
