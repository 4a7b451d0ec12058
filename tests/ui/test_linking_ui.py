"""Linking people in the window: suggestions the officer accepts or turns down, finding the
other account by hand, the person panel's one history, and unlinking."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.core.context import AppContext
from app.core.ingest import Ingestor
from app.core.networks.base import RemoteMention, RemotePerson
from app.core.secrets import MemoryKeyring, SecretStore
from app.core.vocab import Network
from app.storage.models import Account, LinkDismissal, Person
from app.ui.link_people_dialog import LinkPeopleDialog
from app.ui.main_window import MainWindow
from app.ui.tasks import ImmediateRunner

NOW = datetime.now(UTC)


@pytest.fixture
def context(db_path: Path, data_dir: Path) -> Iterator[AppContext]:
    ctx = AppContext(data_dir, db_path, secrets=SecretStore(MemoryKeyring()))
    ctx.templates.seed()
    yield ctx
    ctx.close()


def write(network: Network, who: str, name: str, text: str, minutes: int) -> int:
    account = Account.get_or_create(
        network=network.value, handle="org", keyring_ref=f"k-{network}"
    )[0]
    author = RemotePerson(remote_id=who, handle=who, display_name=name)
    mention = RemoteMention(
        network, f"{network}-{who}-{minutes}", author, text, NOW - timedelta(minutes=minutes)
    )
    return Ingestor().ingest(account.id, network, [mention]).touched_cases[0]


@pytest.fixture
def cases(context: AppContext) -> dict[str, int]:
    return {
        "rosa_m": write(Network.MASTODON, "rosa@social.example", "Rosa Martínez", "First", 50),
        "rosa_b": write(Network.BLUESKY, "rosa.bsky.social", "Rosa Martinez", "Second", 40),
        "ana_x": write(Network.X, "ana_r", "Ana R", "Third", 30),
        "ana_m": write(Network.MASTODON, "ana@other.example", "Anita", "Fourth", 20),
    }


@pytest.fixture
def window(qtbot, context: AppContext, asker, qsettings, cases) -> Iterator[MainWindow]:
    win = MainWindow(context, asker=asker, qsettings=qsettings, runner=ImmediateRunner())
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.shutdown()


def person_of(case_id: int, context: AppContext) -> int:
    detail = context.inbox.case(case_id)
    assert detail is not None
    return detail.person_id


def link_dialog(window: MainWindow) -> LinkPeopleDialog:
    dialog = window.listening.link_dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


def test_a_suggestion_is_linked_from_the_person_panel_and_unlinked_again(
    qtbot, window: MainWindow, context: AppContext, asker, cases
) -> None:
    window.open_case(cases["rosa_m"])
    panel = window.person_panel
    assert panel.history.count() == 1 and panel.linked.count() == 0

    panel.link_button.click()
    dialog = link_dialog(window)
    assert dialog.suggestion_list.count() == 1  # only hers, and nothing linked yet
    assert "Same display name" in dialog.suggestion_list.item(0).text()
    # three lines a suggestion: banded and spaced so that each reads as one
    assert dialog.suggestion_list.alternatingRowColors() and dialog.suggestion_list.spacing() > 0
    assert Person.select().where(Person.link_group.is_null(False)).count() == 0
    dialog.suggestion_list.setCurrentRow(0)
    dialog.link_button.click()

    assert dialog.suggestion_list.count() == 0
    assert panel.linked.count() == 1  # "Also: Rosa Martinez … on Bluesky" with Unlink
    assert panel.history.count() == 2
    texts = [panel.history.item(i).text() for i in range(2)]
    assert {t.split(" · ")[0] for t in texts} == {"Mastodon", "Bluesky"}

    asker.confirms = [False]
    unlink = panel.linked.itemAt(0).widget().findChild(type(panel.link_button))
    unlink.click()
    assert panel.linked.count() == 1  # the officer said no
    asker.confirms = [True]
    unlink.click()
    qtbot.waitUntil(lambda: panel.linked.count() == 0)
    assert panel.history.count() == 1
    assert Person.select().where(Person.link_group.is_null(False)).count() == 0


def test_a_suggestion_turned_down_is_not_offered_again(
    qtbot, window: MainWindow, context: AppContext
) -> None:
    window.listening.act_link.trigger()
    dialog = link_dialog(window)
    assert not dialog.find_edit.isVisible()  # no person: suggestions only
    assert dialog.suggestion_list.count() == 1
    dialog.suggestion_list.setCurrentRow(0)
    dialog.dismiss_button.click()
    assert LinkDismissal.select().count() == 1
    assert "will not suggest" in dialog.message.text()

    window.listening.act_link.trigger()
    assert link_dialog(window).suggestion_list.count() == 0


def test_the_other_account_can_be_found_and_linked_by_hand(
    qtbot, window: MainWindow, context: AppContext, cases
) -> None:
    window.open_case(cases["ana_x"])
    window.person_panel.link_button.click()
    dialog = link_dialog(window)
    assert dialog.find_edit.isVisible() and dialog.suggestion_list.count() == 0
    dialog.find_edit.setText("anit")
    qtbot.waitUntil(lambda: dialog.found_list.count() == 1)
    dialog.found_list.setCurrentRow(0)
    dialog.link_found_button.click()

    ana = person_of(cases["ana_x"], context)
    assert [p.handle for p in context.inbox.person(ana).linked] == ["ana@other.example"]
    assert window.person_panel.history.count() == 2
