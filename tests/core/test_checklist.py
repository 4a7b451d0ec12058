"""The closing checklist per case, stored as an append-only log where the latest entry wins."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.core.checklist import (
    CHECKLIST_EVENT,
    STEPS,
    Checklist,
    ChecklistStore,
    EventChecklistStore,
    Step,
    decode,
    encode,
    unchecked_before_resolving,
)
from app.core.ingest import Ingestor
from app.core.networks.base import RemoteMention, RemotePerson
from app.core.vocab import Network
from app.storage.models import Account, CaseEvent


def new_cases(count: int) -> list[int]:
    account = Account.create(network="mastodon", handle="@org@example.social", keyring_ref="k")
    mentions = [
        RemoteMention(
            Network.MASTODON,
            f"m{n}",
            RemotePerson(f"p{n}", f"person{n}"),
            "Hello",
            datetime(2024, 3, 4, 9, n, tzinfo=UTC),
        )
        for n in range(count)
    ]
    return Ingestor().ingest(account.id, Network.MASTODON, mentions).new_cases


def test_the_five_steps_in_order() -> None:
    assert [s.label for s in STEPS] == [
        "Listen",
        "Identify the problem",
        "Provide information",
        "Show you care",
        "End the conversation",
    ]
    assert all(step.hint for step in STEPS)


def test_a_new_case_has_nothing_ticked_and_resolving_would_ask(db_path: Path) -> None:
    (case_id,) = new_cases(1)
    store: ChecklistStore = EventChecklistStore()
    assert store.get(case_id) == Checklist(case_id)
    assert unchecked_before_resolving(store, case_id) == STEPS


def test_ticking_and_unticking_latest_wins(db_path: Path) -> None:
    (case_id,) = new_cases(1)
    store = EventChecklistStore()
    store.set_step(case_id, Step.LISTEN)
    store.set_step(case_id, Step.CARE)
    store.set_step(case_id, Step.LISTEN, done=False)
    assert store.get(case_id).checked == {Step.CARE}
    assert unchecked_before_resolving(store, case_id) == (
        Step.LISTEN,
        Step.IDENTIFY,
        Step.INFORM,
        Step.CLOSE,
    )
    for step in STEPS:
        store.set_step(case_id, step)
    assert store.get(case_id).complete
    assert unchecked_before_resolving(store, case_id) == ()
    events = CaseEvent.select().where(
        (CaseEvent.case == case_id) & (CaseEvent.kind == CHECKLIST_EVENT)
    )
    assert [e.actor for e in events] == ["officer"] * 7


def test_saving_the_same_checklist_twice_adds_nothing(db_path: Path) -> None:
    (case_id,) = new_cases(1)
    store = EventChecklistStore()
    store.set_step(case_id, Step.INFORM)
    store.set_step(case_id, Step.INFORM)
    count = CaseEvent.select().where(CaseEvent.kind == CHECKLIST_EVENT).count()
    assert count == 1


def test_checklists_are_per_case_and_read_in_one_go(db_path: Path) -> None:
    first, second, third = new_cases(3)
    store = EventChecklistStore()
    store.set_step(first, Step.LISTEN)
    store.set_step(second, Step.CLOSE)
    many = store.get_many([first, second, third])
    assert many[first].checked == {Step.LISTEN}
    assert many[second].checked == {Step.CLOSE}
    assert many[third].checked == frozenset()


@pytest.mark.parametrize(
    ("detail", "checked"),
    [
        ('{"checked": ["listen", "close"]}', {Step.LISTEN, Step.CLOSE}),
        ('{"checked": ["listen", "from-a-newer-kindly"]}', {Step.LISTEN}),
        ("not json", set()),
        ("[1, 2]", set()),
    ],
)
def test_decoding_is_tolerant(detail: str, checked: set[Step]) -> None:
    assert decode(7, detail).checked == checked


def test_encoding_is_in_step_order() -> None:
    checklist = Checklist(1, frozenset({Step.CLOSE, Step.LISTEN}))
    assert encode(checklist) == '{"checked": ["listen", "close"]}'
    assert decode(1, encode(checklist)) == checklist
