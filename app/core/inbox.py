"""Read side of the inbox: pages of cases, one case's thread, one person's history.

Returns plain dataclasses, never ORM rows, so the UI cannot query or save behind our back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.core.listening.linking import Identity, linked_ids, linked_people
from app.core.views import InboxView
from app.core.vocab import Network
from app.storage import queries
from app.storage.models import Account, Case, CaseEvent, Mention, Note, OutboundReply, Person
from app.storage.queries import CaseOrder, CaseQuery, CaseRowData, SortKey

__all__ = [
    "CaseDetail",
    "CaseOrder",
    "CaseQuery",
    "CaseRowData",
    "Inbox",
    "InboxView",
    "PersonDetail",
    "SortKey",
    "ThreadItem",
]


@dataclass(frozen=True, slots=True)
class ThreadItem:
    """One line of a case's thread: their mention, our reply, a note, or an event."""

    kind: str  # mention, reply, note, event
    at: datetime
    who: str
    text: str
    url: str | None = None
    state: str = ""  # reply state, or event kind
    mention_id: int | None = None
    reply_id: int | None = None
    sentiment: float | None = None
    addressed_to_us: bool = True  # False: found by a saved search or a feed, not sent to us


@dataclass(frozen=True, slots=True)
class CaseDetail:
    id: int
    network: Network
    status: str
    status_reason: str
    account_handle: str
    person_id: int
    display_name: str
    handle: str
    profile_url: str | None
    follower_count: int | None
    stance: str
    why: str
    due_at: datetime | None
    keep: bool
    reply_count: int
    items: list[ThreadItem]

    @property
    def latest_mention_id(self) -> int | None:
        for item in reversed(self.items):
            if item.kind == "mention":
                return item.mention_id
        return None

    @property
    def addressed_to_us(self) -> bool:
        """Whether the mention a reply would answer was addressed to us (tagged, or a reply)."""
        for item in reversed(self.items):
            if item.kind == "mention":
                return item.addressed_to_us
        return True

    @property
    def can_reply(self) -> bool:
        return self.network.can_reply


@dataclass(frozen=True, slots=True)
class PersonCase:
    id: int
    status: str
    last_activity_at: datetime
    snippet: str
    network: Network | None = None  # set when the person is linked across networks


@dataclass(frozen=True, slots=True)
class PersonDetail:
    id: int
    network: Network
    display_name: str
    handle: str
    profile_url: str | None
    follower_count: int | None
    stance: str
    cases: list[PersonCase]
    notes: list[ThreadItem]
    linked: tuple[Identity, ...] = ()  # the same person on other accounts, linked by the officer


class Inbox:
    PAGE = 100

    def page(
        self, query: CaseQuery, after: SortKey | None = None, limit: int = PAGE
    ) -> list[CaseRowData]:
        return queries.case_page(query, after, limit)

    def count(self, query: CaseQuery) -> int:
        return queries.case_count(query)

    def view_counts(self, network: Network | None = None) -> dict[InboxView, int]:
        raw = queries.bucket_counts(network.value if network else None)
        counts: dict[InboxView, int] = {
            view: raw.get(view.value, 0) for view in InboxView if view is not InboxView.ALL
        }
        counts[InboxView.ALL] = sum(raw.values())
        return counts

    def case(self, case_id: int) -> CaseDetail | None:
        case = (
            Case.select(Case, Person, Account)
            .join(Person)
            .switch(Case)
            .join(Account)
            .where(Case.id == case_id)
            .first()
        )
        if case is None:
            return None
        person = case.person
        items: list[ThreadItem] = []
        mentions = Mention.select().where(Mention.case == case_id).order_by(Mention.created_at)
        for m in mentions:
            items.append(
                ThreadItem(
                    "mention",
                    m.created_at,
                    person.display_name or person.handle,
                    m.text,
                    m.url,
                    m.kind,
                    mention_id=m.id,
                    sentiment=m.sentiment,
                    addressed_to_us=m.addressed_to_us,
                )
            )
        for r in OutboundReply.select().where(OutboundReply.case == case_id):
            items.append(
                ThreadItem(
                    "reply",
                    r.sent_at or r.created_at,
                    "You",
                    r.text,
                    r.remote_url,
                    r.state,
                    reply_id=r.id,
                )
            )
        for n in Note.select().where(Note.case == case_id):
            items.append(ThreadItem("note", n.created_at, "Note", n.text))
        for e in CaseEvent.select().where(CaseEvent.case == case_id):
            if e.kind in ("created", "note_added", "reply_queued", "checklist"):
                continue
            items.append(ThreadItem("event", e.created_at, e.actor, e.detail, state=e.kind))
        items.sort(key=lambda item: item.at)
        return CaseDetail(
            id=case.id,
            network=Network(case.network),
            status=case.status,
            status_reason=case.status_reason,
            account_handle=case.account.handle,
            person_id=person.id,
            display_name=person.display_name,
            handle=person.handle,
            profile_url=person.profile_url,
            follower_count=person.follower_count,
            stance=person.stance,
            why=case.why,
            due_at=case.due_at,
            keep=case.keep,
            reply_count=case.reply_count,
            items=items,
        )

    def person(self, person_id: int, case_limit: int = 50) -> PersonDetail | None:
        person = Person.get_or_none(Person.id == person_id)
        if person is None:
            return None
        people = linked_ids(person_id)  # one history across the networks they are linked on
        cases = (
            Case.select(
                Case.id, Case.status, Case.last_activity_at, Case.last_snippet, Case.network
            )
            .where(Case.person.in_(people))
            .order_by(Case.last_activity_at.desc())
            .limit(case_limit)
        )
        notes = Note.select().where(Note.person.in_(people)).order_by(Note.created_at)
        shown = len(people) > 1
        return PersonDetail(
            id=person.id,
            network=Network(person.network),
            display_name=person.display_name,
            handle=person.handle,
            profile_url=person.profile_url,
            follower_count=person.follower_count,
            stance=person.stance,
            cases=[
                PersonCase(
                    c.id,
                    c.status,
                    c.last_activity_at,
                    c.last_snippet,
                    Network(c.network) if shown else None,
                )
                for c in cases
            ],
            notes=[ThreadItem("note", n.created_at, "Note", n.text) for n in notes],
            linked=tuple(linked_people(person_id)) if shown else (),
        )
