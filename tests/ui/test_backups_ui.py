"""Backups and deleting someone's data from the window: File → Back up now, File → Backups and
restore… (the list with its checks, restoring through the launcher, the retention setting),
and the person panel's "Delete everything about this person…" with its confirmation."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.core import settings as options
from app.core.backups import BackupKind
from app.core.context import AppContext
from app.core.ingest import Ingestor
from app.core.listening.linking import link
from app.core.networks.base import RemoteMention, RemotePerson
from app.core.secrets import MemoryKeyring, SecretStore
from app.core.vocab import Network
from app.storage.db import close_database
from app.storage.models import Account, Case, Mention, Note, Person
from app.ui import app as app_module
from app.ui.backups_dialog import BackupsDialog
from app.ui.main_window import MainWindow
from app.ui.tasks import ImmediateRunner

SHOTS = os.environ.get("KINDLY_TEST_SCREENSHOTS")
T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


def seed(*names: str) -> None:
    account = Account.get_or_none() or Account.create(
        network="mastodon", handle="@riverbank", keyring_ref="k"
    )
    Ingestor().ingest(
        account.id,
        Network.MASTODON,
        [
            RemoteMention(
                Network.MASTODON,
                f"m-{name}",
                RemotePerson(f"p-{name}", f"@{name}@social.example", name.title()),
                f"Hello from {name}",
                T0 + timedelta(minutes=n),
            )
            for n, name in enumerate(names)
        ],
    )


def people() -> set[str]:
    return {p.display_name for p in Person.select()}


def new_context(data_dir: Path, path: Path, demo: bool = False) -> AppContext:
    return AppContext(data_dir, path, demo=demo, secrets=SecretStore(MemoryKeyring()))


@pytest.fixture
def context(db_path: Path, data_dir: Path) -> Iterator[AppContext]:
    seed("ann", "bob")
    ctx = new_context(data_dir, db_path)
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


def file_menu_texts(window: MainWindow) -> list[str]:
    [file_menu] = [a.menu() for a in window.menuBar().actions() if a.text() == "&File"]
    return [a.text() for a in file_menu.actions()]


# -- backing up -----------------------------------------------------------------------------------


def test_back_up_now_from_the_file_menu(window: MainWindow, data_dir: Path) -> None:
    assert {"Back up now", "Backups and restore…"} <= set(file_menu_texts(window))
    assert window.act_backup.isEnabled()

    window.act_backup.trigger()

    [made] = window.context.backups.files()
    assert made.kind is BackupKind.MANUAL and made.path.parent == data_dir / "backups"
    assert window.statusBar().currentMessage().startswith(f"Backed up to {made.path.name} (")


def test_the_backups_dialog_lists_each_backup_with_its_check(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    backups = window.context.backups
    good = backups.back_up(BackupKind.DAILY)
    bad = good.path.with_name(good.path.name.replace("daily", "manual"))
    bad.write_bytes(b"not a database at all" * 100)

    dialog = window.data_care.open_backups()

    assert isinstance(dialog, BackupsDialog) and dialog.isVisible()
    assert dialog.table.rowCount() == 2
    rows = {dialog.table.item(r, 1).text(): dialog.table.item(r, 3).text() for r in range(2)}
    assert rows["Daily"].startswith("Sound (schema ")
    assert rows["Backed up by hand"].startswith("Cannot be restored: ")
    assert dialog.status.text() == "2 backup(s), 1 sound."
    assert not dialog.restore_button.isEnabled()  # nothing chosen yet
    dialog.table.selectRow(
        next(r for r in range(2) if dialog.table.item(r, 1).text() == "Backed up by hand")
    )
    assert not dialog.restore_button.isEnabled()  # a damaged copy cannot be restored
    dialog.table.selectRow(next(r for r in range(2) if dialog.table.item(r, 1).text() == "Daily"))
    assert dialog.restore_button.isEnabled()
    shot = Path(SHOTS or tmp_path) / "backups-dialog.png"
    assert dialog.grab().save(str(shot))

    dialog.back_up_button.click()
    assert dialog.table.rowCount() == 3
    assert dialog.status.text().startswith("Backed up: kindly-manual-")
    dialog.close()


def test_retention_is_switched_on_in_the_backups_dialog(window: MainWindow) -> None:
    dialog = window.data_care.open_backups()
    assert dialog is not None
    settings = window.context.settings
    assert not dialog.purge_box.isChecked() and dialog.months.value() == 24
    dialog.months.setValue(18)
    dialog.purge_box.setChecked(True)
    assert settings.get(options.RETENTION_ENABLED) is True
    assert settings.get(options.RETENTION_MONTHS) == 18
    dialog.close()


def test_the_demo_has_no_backups(qtbot, demo_context: AppContext, asker, qsettings) -> None:
    win = MainWindow(demo_context, asker=asker, qsettings=qsettings, runner=ImmediateRunner())
    qtbot.addWidget(win)
    assert not win.act_backup.isEnabled() and not win.act_backups.isEnabled()
    assert win.data_care.open_backups() is None
    win.data_care.back_up_now()
    win.data_care.run_maintenance()
    assert not (demo_context.data_dir / "backups").exists()
    win.shutdown()


# -- restoring through the launcher ---------------------------------------------------------------


@pytest.fixture
def launcher(qtbot, data_dir: Path, asker, qsettings, monkeypatch) -> Iterator[app_module.Launcher]:
    def window(context: AppContext) -> MainWindow:
        win = MainWindow(context, asker=asker, qsettings=qsettings, runner=ImmediateRunner())
        qtbot.addWidget(win)
        return win

    monkeypatch.setattr(app_module, "MainWindow", window)
    monkeypatch.setattr(app_module, "new_context", new_context)
    options_ = app_module.LaunchOptions(data_dir, data_dir / "log.txt", exit_after_paint=True)
    launch = app_module.Launcher(options_, asker=asker)
    yield launch
    if launch.window is not None:
        launch.window.close()
    close_database()


def test_restore_from_the_dialog_reopens_the_window_on_the_backup(
    launcher: app_module.Launcher, asker
) -> None:
    first = launcher.start(demo=False)
    assert first is not None
    seed("ann", "bob")
    saved = first.context.backups.back_up()
    seed("cat")
    Person.delete().where(Person.display_name == "Ann").execute()
    assert people() == {"Bob", "Cat"}
    dialog = first.data_care.open_backups()
    assert dialog is not None
    dialog.table.selectRow(0)
    asker.confirms = [True]

    dialog.restore_button.click()

    assert asker.asked[-1] == "Restore from this backup?"
    second = launcher.window
    assert second is not None and second is not first
    assert people() == {"Ann", "Bob"}
    assert second.model.rowCount() == 2
    assert second.statusBar().currentMessage().startswith("Restored the backup made ")
    kinds = [b.kind for b in second.context.backups.files()]
    assert kinds.count(BackupKind.BEFORE_RESTORE) == 1 and saved.path.exists()


def test_restore_can_be_called_off(launcher: app_module.Launcher, asker) -> None:
    window = launcher.start(demo=False)
    assert window is not None
    seed("ann")
    window.context.backups.back_up()
    seed("bob")
    dialog = window.data_care.open_backups()
    assert dialog is not None
    dialog.table.selectRow(0)
    asker.confirms = [False]

    dialog.restore_button.click()

    assert launcher.window is window
    assert people() == {"Ann", "Bob"}
    assert [b.kind for b in window.context.backups.files()] == [BackupKind.MANUAL]


# -- deleting everything about a person -----------------------------------------------------------


def open_case_of(window: MainWindow, name: str) -> int:
    person = Person.get(Person.display_name == name)
    window.open_case(Case.get(Case.person == person).id)
    assert window.person_panel.person_id == person.id
    return int(person.id)


def test_delete_everything_about_a_person_asks_first_then_removes_them(
    window: MainWindow, asker
) -> None:
    person_id = open_case_of(window, "Ann")
    window.context.cases.add_person_note(person_id, "Ann runs the choir")
    assert window.person_panel.forget_button.isEnabled()
    asker.confirms = [False]
    window.person_panel.forget_button.click()
    assert asker.asked == ["Delete everything about this person?"]
    assert "Ann" in people()

    asker.confirms = [True]
    window.person_panel.forget_button.click()

    assert people() == {"Bob"}
    assert Mention.select().count() == 1 and Note.select().count() == 0
    assert window.model.rowCount() == 1
    assert window.current is None or window.current.display_name == "Bob"
    assert window.statusBar().currentMessage() == (
        "Deleted everything about Ann: 1 case, 1 message, 0 replies of ours, 1 note."
    )


def test_the_confirmation_says_what_goes_and_what_stays(window: MainWindow, asker) -> None:
    texts: list[str] = []
    asker.confirm = lambda title, text: texts.append(text) or False  # type: ignore[method-assign]
    open_case_of(window, "Bob")
    window.person_panel.forget_button.click()
    [text] = texts
    assert text.startswith("Delete everything Kindly holds about Bob (@bob@social.example on ")
    assert "1 case, 1 message, 0 replies of ours, 0 notes will be deleted" in text
    assert "cannot be undone" in text
    assert "Nothing is deleted on Mastodon" in text and "Backups made before now" in text


def test_the_same_person_linked_on_another_network_goes_too(window: MainWindow, asker) -> None:
    sky = Account.create(network="bluesky", handle="riverbank.org", keyring_ref="k2")
    Ingestor().ingest(
        sky.id,
        Network.BLUESKY,
        [
            RemoteMention(
                Network.BLUESKY,
                "b-ann",
                RemotePerson("did:plc:ann", "ann.bsky.social", "Ann"),
                "Hello from Bluesky",
                T0,
            )
        ],
    )
    ann_masto = Person.get(Person.remote_id == "p-ann").id
    link(ann_masto, Person.get(Person.remote_id == "did:plc:ann").id)
    texts: list[str] = []

    def confirm(title: str, text: str) -> bool:
        texts.append(text)
        return True

    asker.confirm = confirm  # type: ignore[method-assign]
    open_case_of(window, "Ann")
    window.person_panel.forget_button.click()

    [text] = texts
    assert "and their linked account (ann.bsky.social on Bluesky)" in text
    assert "2 cases, 2 messages" in text and "Nothing is deleted on Mastodon or Bluesky" in text
    assert {p.remote_id for p in Person.select()} == {"p-bob"}
