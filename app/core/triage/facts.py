"""What triage and the composer need to know about cases, read in one statement per 400 cases.

For each case: its status and author, its newest mention (what the policy looks at), when its
response clock started (the oldest mention we have not answered since our last reply), the last
decision on record, and what the case row holds now. Correlated subqueries let SQLite walk its
indexes once per case, and the statement text is written here once per chunk size: building it
with the query builder cost more than running it, at ingest's rate of a page every few ms.
Only standard SQL is used (COALESCE, subqueries), so a later PostgreSQL backend can run it too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from app.core.policy.rules import MentionFacts
from app.core.vocab import CaseStatus, EventKind, Network, ReplyState, Stance
from app.storage.models import Case, CaseEvent, Mention, OutboundReply, Person, database

CHUNK = 400
ANSWERED_STATES = (ReplyState.QUEUED.value, ReplyState.SENDING.value, ReplyState.SENT.value)
REPLY_KINDS = frozenset({"reply", "comment"})  # a reply to our post; a comment on our Page
OFFICER = "officer"  # the actor of what the officer does by hand (app.core.cases)


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
    officer_decided: bool = False  # the officer decided or moved this case by hand before
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


def _stamp(value: object) -> datetime:
    """A stored UTC timestamp read as text (``YYYY-MM-DD HH:MM:SS.ffffff``), parsed quickly:
    with "+00:00" appended it parses straight to UTC (0.1 µs, where parsing and then replacing
    the zone took 0.8); anything that does not is read as before."""
    if isinstance(value, str):
        try:
            found = datetime.fromisoformat(value + "+00:00")
        except ValueError:
            found = None
        if found is not None and found.tzinfo is UTC:
            return found
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


# Enum members by stored value: a dict look-up, where calling the enum cost ~1 µs a field.
_STANCES: dict[object, Stance] = {s.value: s for s in Stance}
_STATUSES: dict[object, CaseStatus] = {s.value: s for s in CaseStatus}
_NETWORKS: dict[object, Network] = {n.value: n for n in Network}


def _stance(value: str) -> Stance:
    return _STANCES.get(value, Stance.UNKNOWN)


def _q(name: str) -> str:
    return '"' + name + '"'


@lru_cache(maxsize=16)
def _facts_sql(count: int) -> str:
    """The facts statement for ``count`` case ids (cached: chunks are mostly the same size)."""
    p = database.param
    case, person, mention = (_q(m._meta.table_name) for m in (Case, Person, Mention))
    reply, event = _q(OutboundReply._meta.table_name), _q(CaseEvent._meta.table_name)
    answered = ", ".join(p for _ in ANSWERED_STATES)
    marks = ", ".join(p for _ in range(count))
    return f"""
SELECT c.id, c.account_id, c.status, c.network, c.reply_count, c.last_activity_at,
       c.priority, c.due_at, c.why,
       pe.id, pe.handle, pe.display_name, pe.follower_count, pe.stance,
       m.id, m.text, m.sentiment, m.in_reply_to_id, m.kind,
       (SELECT MIN(m2.created_at) FROM {mention} m2
         WHERE m2.case_id = c.id AND m2.created_at > COALESCE(
               (SELECT MAX(r.created_at) FROM {reply} r
                 WHERE r.case_id = c.id AND r.state IN ({answered})), '')),
       d.actor, d.detail,
       EXISTS (SELECT 1 FROM {event} o WHERE o.case_id = c.id AND o.actor = {p}
                  AND o.kind IN ({p}, {p}))
  FROM {case} c
  JOIN {person} pe ON pe.id = c.person_id
  LEFT JOIN {mention} m ON m.id = (
       SELECT m3.id FROM {mention} m3 WHERE m3.case_id = c.id
        ORDER BY m3.created_at DESC, m3.id DESC LIMIT 1)
  LEFT JOIN {event} d ON d.id = (
       SELECT MAX(e.id) FROM {event} e WHERE e.case_id = c.id AND e.kind = {p})
 WHERE c.id IN ({marks})"""


@lru_cache(maxsize=16)
def _ours_sql(count: int) -> str:
    p = database.param
    marks = ", ".join(p for _ in range(count))
    return (
        f"SELECT remote_id FROM {_q(OutboundReply._meta.table_name)} "
        f"WHERE account_id = {p} AND remote_id IN ({marks})"
    )


def load_case_facts(case_ids: Sequence[int]) -> dict[int, CaseFacts]:
    """Facts for each existing case among ``case_ids``."""
    found: dict[int, CaseFacts] = {}
    unique = list(dict.fromkeys(case_ids))
    for start in range(0, len(unique), CHUNK):
        found.update(_load_chunk(unique[start : start + CHUNK]))
    return found


def _load_chunk(ids: list[int]) -> dict[int, CaseFacts]:
    params = [
        *ANSWERED_STATES,
        OFFICER,
        EventKind.DECISION.value,
        EventKind.STATUS_CHANGED.value,
        EventKind.DECISION.value,
        *ids,
    ]
    rows = database.execute_sql(_facts_sql(len(ids)), params).fetchall()
    ours = _replies_to_us(rows)
    facts: dict[int, CaseFacts] = {}
    statuses, networks, stances, unknown = _STATUSES, _NETWORKS, _STANCES, Stance.UNKNOWN
    for row in rows:
        (case_id, account_id, status, network, reply_count, last_at, priority, due_at, why) = row[
            :9
        ]
        (person_id, handle, display_name, followers, stance) = row[9:14]
        (mention_id, text, sentiment, parent, kind, clock, actor, detail, by_officer) = row[14:]
        facts[case_id] = CaseFacts(  # by position, in the order of the fields
            case_id,
            account_id,
            statuses.get(status) or CaseStatus(status),
            networks.get(network) or Network(network),
            person_id,
            handle,
            display_name,
            followers,
            stances.get(stance, unknown),
            reply_count,
            mention_id,
            text or "",
            sentiment,
            kind in REPLY_KINDS or (account_id, parent) in ours,
            _stamp(clock or last_at),
            actor,
            detail,
            bool(by_officer),
            priority,
            None if due_at is None else _stamp(due_at),
            why,
        )
    return facts


def _replies_to_us(rows: list[tuple[object, ...]]) -> set[tuple[object, object]]:
    """(account, parent id) pairs where the newest mention replies to a post of ours."""
    parents: dict[object, set[object]] = {}
    for row in rows:
        if row[17] is not None:
            parents.setdefault(row[1], set()).add(row[17])
    found: set[tuple[object, object]] = set()
    for account_id, wanted in parents.items():
        listed = sorted(wanted, key=str)
        cursor = database.execute_sql(_ours_sql(len(listed)), [account_id, *listed])
        found.update((account_id, remote_id) for (remote_id,) in cursor.fetchall())
    return found
