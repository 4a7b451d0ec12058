"""What triage and the composer need to know about cases, read in a few set-sized queries.

For each case: its status and author, its newest mention (what the policy looks at), when its
response clock started (the oldest mention we have not answered since our last reply), whether
the newest mention replies to one of our posts, and the last decision on record. Six queries
per 400 cases, whatever the number of mentions, so triage keeps up with ingest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import peewee as pw

from app.core.policy.rules import MentionFacts
from app.core.vocab import CaseStatus, EventKind, Network, ReplyState, Stance
from app.storage.models import Case, CaseEvent, Mention, OutboundReply, Person, database

CHUNK = 400
ANSWERED_STATES = (ReplyState.QUEUED.value, ReplyState.SENDING.value, ReplyState.SENT.value)
REPLY_KINDS = frozenset({"reply", "comment"})  # a reply to our post; a comment on our Page


@dataclass(frozen=True, slots=True)
class CaseFacts:
    case_id: int
    account_id: int
    status: CaseStatus
    network: Network
    person_id: int
    handle: str
    display_name: str
    follower_count: int | None
    stance: Stance
    reply_count: int
    newest_mention_id: int | None
    newest_text: str
    newest_sentiment: float | None
    reply_to_us: bool
    clock_start: datetime  # when the response clock started
    last_decision_actor: str | None
    last_decision_detail: str | None
    stored_priority: float = 0.0  # what the case row holds now, so unchanged rows are not written
    stored_due_at: datetime | None = None
    stored_why: str = ""

    def mention_facts(self) -> MentionFacts:
        return MentionFacts(
            text=self.newest_text,
            network=self.network,
            stance=self.stance,
            follower_count=self.follower_count,
            sentiment=self.newest_sentiment,
            reply_to_us=self.reply_to_us,
            author_handle=self.handle,
        )


def _in(field: pw.Field, values: Sequence[object]) -> pw.Expression:
    """``field IN (…)`` with the values as plain parameters: peewee builds a node per value in
    ``in_``, which costs more than the query itself for the hundreds of ids triage passes."""
    marks = ", ".join(database.param for _ in values)
    return pw.Expression(field, "IN", pw.SQL(f"({marks})", list(values)))


def _stamp(value: object) -> datetime:
    """A stored UTC timestamp read as text (``YYYY-MM-DD HH:MM:SS.ffffff``), parsed quickly."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def _stance(value: str) -> Stance:
    try:
        return Stance(value)
    except ValueError:
        return Stance.UNKNOWN


def load_case_facts(case_ids: Sequence[int]) -> dict[int, CaseFacts]:
    """Facts for each existing case among ``case_ids``."""
    found: dict[int, CaseFacts] = {}
    unique = list(dict.fromkeys(case_ids))
    for start in range(0, len(unique), CHUNK):
        found.update(_load_chunk(unique[start : start + CHUNK]))
    return found


def _load_chunk(ids: list[int]) -> dict[int, CaseFacts]:
    cases = (
        Case.select(
            Case.id,
            Case.account,
            Case.status,
            Case.network,
            Case.reply_count,
            Case.last_activity_at.cast("TEXT"),
            Case.priority,
            Case.due_at.cast("TEXT"),
            Case.why,
            Person.id,
            Person.handle,
            Person.display_name,
            Person.follower_count,
            Person.stance,
        )
        .join(Person)
        .where(_in(Case.id, ids))
        .tuples()
    )
    rows = {row[0]: row for row in cases}
    if not rows:
        return {}
    newest = _newest_mentions(ids)
    starts = _clock_starts(ids)
    ours = _replies_to_us(
        {row[1] for row in rows.values()},
        {m[3] for m in newest.values() if m[3]},
    )
    decisions = _last_decisions(ids)
    facts: dict[int, CaseFacts] = {}
    for case_id, row in rows.items():
        (_, account_id, status, network, reply_count, last_at) = row[:6]
        (priority, due_at, why, person_id, handle, display_name, followers, stance) = row[6:]
        mention = newest.get(case_id)
        mention_id, text, sentiment, parent, kind = mention or (None, "", None, None, "")
        actor, detail = decisions.get(case_id, (None, None))
        facts[case_id] = CaseFacts(
            case_id=case_id,
            account_id=account_id,
            status=CaseStatus(status),
            network=Network(network),
            person_id=person_id,
            handle=handle,
            display_name=display_name,
            follower_count=followers,
            stance=_stance(stance),
            reply_count=reply_count,
            newest_mention_id=mention_id,
            newest_text=text,
            newest_sentiment=sentiment,
            reply_to_us=kind in REPLY_KINDS or (parent is not None and parent in ours),
            clock_start=starts.get(case_id) or _stamp(last_at),
            last_decision_actor=actor,
            last_decision_detail=detail,
            stored_priority=priority,
            stored_due_at=None if due_at is None else _stamp(due_at),
            stored_why=why,
        )
    return facts


_NewestRow = tuple[int, str, float | None, str | None, str]


def _newest_mentions(ids: list[int]) -> dict[int, _NewestRow]:
    """The newest mention of each case: (id, text, sentiment, in_reply_to_id, kind)."""
    later = Mention.alias()
    newest_id = (
        later.select(later.id)
        .where(later.case == Case.id)
        .order_by(later.created_at.desc(), later.id.desc())
        .limit(1)
    )
    ids_query = Case.select(newest_id).where(_in(Case.id, ids))
    query = (
        Mention.select(
            Mention.case,
            Mention.id,
            Mention.text,
            Mention.sentiment,
            Mention.in_reply_to_id,
            Mention.kind,
        )
        .where(Mention.id.in_(ids_query))
        .tuples()
    )
    return {row[0]: row[1:] for row in query}


def _clock_starts(ids: list[int]) -> dict[int, datetime]:
    """The oldest mention of each case written after our last reply (queued counts)."""
    reply = OutboundReply.alias()
    last_reply = reply.select(pw.fn.MAX(reply.created_at)).where(
        (reply.case == Mention.case) & reply.state.in_(ANSWERED_STATES)
    )
    query = (
        Mention.select(Mention.case, pw.fn.MIN(Mention.created_at).coerce(False))
        .where(
            _in(Mention.case, ids) & (Mention.created_at > pw.fn.IFNULL(last_reply, pw.SQL("''")))
        )
        .group_by(Mention.case)
        .tuples()
    )
    return {case_id: _stamp(start) for case_id, start in query}


def _replies_to_us(account_ids: set[int], parents: set[str]) -> set[str]:
    """Which of these parent post ids are replies we posted."""
    if not parents:
        return set()
    query = (
        OutboundReply.select(OutboundReply.remote_id)
        .where(
            _in(OutboundReply.account, sorted(account_ids))
            & _in(OutboundReply.remote_id, sorted(parents))
        )
        .tuples()
    )
    return {remote_id for (remote_id,) in query}


def _last_decisions(ids: list[int]) -> dict[int, tuple[str, str]]:
    latest = (
        CaseEvent.select(pw.fn.MAX(CaseEvent.id))
        .where((CaseEvent.kind == EventKind.DECISION.value) & _in(CaseEvent.case, ids))
        .group_by(CaseEvent.case)
    )
    query = (
        CaseEvent.select(CaseEvent.case, CaseEvent.actor, CaseEvent.detail)
        .where(CaseEvent.id.in_(latest))
        .tuples()
    )
    return {case_id: (actor, detail) for case_id, actor, detail in query}
