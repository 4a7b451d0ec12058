"""Saved searches and feeds in the window: the menu, the dialog against the network fakes (X's
cost shown and confirmed before a search is switched on), and the composer on what they find."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMenu

from app.core.accounts import AccountView
from app.core.context import AppContext
from app.core.secrets import MemoryKeyring, SecretStore
from app.core.vocab import Network
from app.storage.models import Case, Mention, SavedSearch
from app.ui.listening_dialog import ListeningDialog
from app.ui.main_window import MainWindow
from app.ui.tasks import ImmediateRunner
from app.ui.thread_view import render_thread
from tests.fakes.feeds import FeedSite
from tests.fakes.mastodon import TOKEN as MASTODON_TOKEN
from tests.fakes.search_routes import SearchingMastodon, SearchingX

FEEDS = Path(__file__).parents[1] / "contract" / "recordings" / "feeds"


@pytest.fixture
def context(db_path: Path, data_dir: Path) -> Iterator[AppContext]:
    ctx = AppContext(data_dir, db_path, secrets=SecretStore(MemoryKeyring()))
    ctx.templates.seed()
    yield ctx
    ctx.close()


@pytest.fixture
def window(qtbot, context: AppContext, asker, qsettings) -> Iterator[MainWindow]:
    win = MainWindow(context, asker=asker, qsettings=qsettings, runner=ImmediateRunner())
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.shutdown()


@pytest.fixture
def mastodon() -> Iterator[SearchingMastodon]:
    with SearchingMastodon(full_text=False) as server:
        yield server


@pytest.fixture
def x() -> Iterator[SearchingX]:
    with SearchingX() as server:
        yield server


@pytest.fixture
def site() -> Iterator[FeedSite]:
    with FeedSite() as server:
        yield server


def connect(context: AppContext, mastodon: SearchingMastodon, x: SearchingX) -> list[AccountView]:
    return [
        context.accounts.add_account(
            Network.MASTODON, mastodon.base_url, "", {"access_token": MASTODON_TOKEN}
        ),
        context.accounts.add_account(Network.X, x.base_url, "", {"access_token": "x-test-token"}),
    ]


def menu_texts(window: MainWindow, title: str) -> list[str]:
    (menu,) = [m for m in window.menuBar().findChildren(QMenu) if m.title() == title]
    return [a.text() for a in menu.actions() if a.text()]


def open_dialog(window: MainWindow) -> ListeningDialog:
    window.listening.act_listening.trigger()
    dialog = window.listening.listening_dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


def choose(dialog: ListeningDialog, label_part: str, kind: str) -> None:
    dialog.account_combo.setCurrentIndex(
        next(
            i
            for i in range(dialog.account_combo.count())
            if label_part in dialog.account_combo.itemText(i)
        )
    )
    dialog.kind_combo.setCurrentIndex(dialog.kind_combo.findData(kind))


def test_the_menus_offer_listening_and_linking(window: MainWindow) -> None:
    file_items = menu_texts(window, "&File")
    assert file_items.index("Saved searches and feeds…") == file_items.index("Accounts…") + 1
    assert "Link people…" in menu_texts(window, "&Case")


def test_searches_are_added_per_account_and_x_waits_for_its_cost(
    qtbot, window: MainWindow, context: AppContext, asker, mastodon, x
) -> None:
    masto, on_x = connect(context, mastodon, x)
    for i in range(21):
        x.add_post(f"riverbank {i}")
    dialog = open_dialog(window)
    assert dialog.account_combo.count() == 2

    choose(dialog, "Mastodon", "hashtag")
    dialog.query_edit.setText("#RiverCleanup")
    dialog.add_search_button.click()
    assert dialog.search_list.count() == 1 and not dialog.error.isVisible()
    assert "#RiverCleanup (hashtag, on)" in dialog.search_list.item(0).text()

    choose(dialog, "Mastodon", "keywords")  # this server has no full-text search
    dialog.query_edit.setText("Riverbank Alliance")
    dialog.add_search_button.click()
    assert dialog.error.isVisible() and "no full-text search" in dialog.error.text()
    assert dialog.search_list.count() == 1

    choose(dialog, "X", "keywords")
    dialog.query_edit.setText("riverbank")
    dialog.add_search_button.click()
    x_item = dialog.search_list.currentItem().text()
    assert "(words, off)" in x_item and "About 90 posts a month" in x_item
    assert "About 90 posts a month" in dialog.status.text()
    assert not x.calls("GET", "/2/tweets/search/recent")  # nothing read (nor billed) yet

    asker.confirms = [False]
    dialog.toggle_search_button.click()
    assert "Switch on an X search" in asker.asked and not dialog.selected_search().enabled
    asker.confirms = [True]
    dialog.toggle_search_button.click()
    assert dialog.selected_search().enabled
    assert SavedSearch.select().where(SavedSearch.enabled == True).count() == 2  # noqa: E712

    asker.reasons = ["riverbank alliance"]
    dialog.edit_search_button.click()
    assert not dialog.selected_search().enabled  # new words on X: a new cost to look at
    asker.confirms = [True]
    dialog.remove_search_button.click()
    assert dialog.search_list.count() == 1
    assert masto.id and on_x.id


def test_feeds_are_added_checked_and_their_items_cannot_be_answered(
    qtbot, window: MainWindow, context: AppContext, asker, site: FeedSite
) -> None:
    url = site.publish("/alerts.atom", (FEEDS / "google_alerts.atom").read_bytes())
    dialog = open_dialog(window)
    dialog.tabs.setCurrentIndex(1)
    dialog.url_edit.setText("ftp://nowhere.example/feed")
    dialog.add_feed_button.click()
    assert dialog.error.isVisible() and dialog.feed_list.count() == 0
    dialog.url_edit.setText(url)
    dialog.add_feed_button.click()
    assert dialog.feed_list.count() == 1 and not dialog.error.isVisible()
    assert dialog.url_edit.text() == ""

    report = context.sync.sync_all()
    assert report.stored == 3
    window.refresh()
    case = Case.select().where(Case.network == Network.WEB.value).first()
    window.open_case(case.id)

    composer = window.composer
    assert composer.audience.isVisible() and "web feed" in composer.audience.text()
    composer.edit.setPlainText("Thanks for writing about us!")
    assert not composer.send_button.isEnabled()
    assert composer.edit.isReadOnly()
    dialog.feed_list.setCurrentRow(0)
    dialog.toggle_feed_button.click()
    assert "(off)" in dialog.feed_list.item(0).text()


def test_the_composer_says_when_a_reply_reaches_someone_who_did_not_tag_us(
    qtbot, window: MainWindow, context: AppContext, mastodon, x
) -> None:
    masto, on_x = connect(context, mastodon, x)
    context.accounts.set_enabled(on_x.id, False)
    window.listening.service.add_search(masto.id, "hashtag", "RiverCleanup")
    mastodon.add_status("ann@social.example", "Who organises the #RiverCleanup?")
    mastodon.add_mention("bob@social.example", "Hello @kindlytrust")
    context.sync.sync_all()
    window.refresh()

    found = Mention.get(Mention.kind == "search").case_id
    window.open_case(found)
    composer = window.composer
    assert composer.audience.isVisible()
    assert composer.audience.text() == (
        "This person did not tag you: a reply will reach someone who didn't address you."
    )
    composer.edit.setPlainText("Hi Ann, we do! See you there.")
    assert composer.send_button.isEnabled()
    detail = context.inbox.case(found)
    assert detail is not None and "not addressed to you" in render_thread(detail)

    direct = Mention.get(Mention.kind == "mention").case_id
    window.open_case(direct)
    assert not composer.audience.isVisible() and not composer.edit.isReadOnly()
