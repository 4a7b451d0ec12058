"""The main window's listening parts: the "Saved searches and feeds…" and "Link people…" menu
items, linking from the person panel, and telling the composer who a reply would reach.

Kept apart from ``main_window`` so the window only creates it, adds its menu items and hands it
each case it shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QWidget

from app.core.context import AppContext
from app.core.inbox import CaseDetail
from app.core.listening.linking import Identity
from app.ui.composer import Composer
from app.ui.dialogs import Asker
from app.ui.person_panel import PersonPanel
from app.ui.tasks import Runner

if TYPE_CHECKING:  # imported on first use: the network clients and keyring load with them
    from app.core.listening.service import ListeningService
    from app.ui.link_people_dialog import LinkPeopleDialog
    from app.ui.listening_dialog import ListeningDialog


class Window(Protocol):
    """What this helper uses of the main window (``MainWindow`` is one)."""

    context: AppContext
    asker: Asker
    runner: Runner
    composer: Composer
    person_panel: PersonPanel
    current: CaseDetail | None
    act_refresh: QAction


class ListeningActions(QObject):
    def __init__(self, window: Window) -> None:
        self.widget = window if isinstance(window, QWidget) else None
        super().__init__(self.widget)
        self.window = window
        self._service: ListeningService | None = None
        self.listening_dialog: ListeningDialog | None = None
        self.link_dialog: LinkPeopleDialog | None = None
        self.act_listening = QAction("Saved searches and feeds…", self)
        self.act_listening.setToolTip("Listen beyond @-mentions: your name, hashtags, news feeds")
        self.act_listening.triggered.connect(self.open_listening)
        self.act_link = QAction("Link people…", self)
        self.act_link.setToolTip("The same person on two networks: one history")
        self.act_link.triggered.connect(lambda: self.link_people(None))
        window.person_panel.link_requested.connect(self.link_people)
        window.person_panel.unlink_requested.connect(self.unlink)

    @property
    def service(self) -> ListeningService:
        """Built when first needed: the accounts service opens the keyring lazily."""
        if self._service is None:
            from app.core.listening.service import ListeningService

            self._service = ListeningService(self.window.context.accounts)
        return self._service

    def add_menus(self, file_menu: QMenu, case_menu: QMenu) -> None:
        file_menu.insertAction(self.window.act_refresh, self.act_listening)
        case_menu.addSeparator()
        case_menu.addAction(self.act_link)

    def show_case(self, detail: CaseDetail | None) -> None:
        composer = self.window.composer
        if detail is None:
            composer.set_audience()
        else:
            composer.set_audience(
                can_reply=detail.can_reply, addressed_to_us=detail.addressed_to_us
            )

    # -- dialogs --

    def open_listening(self) -> None:
        if self.listening_dialog is None:
            from app.ui.listening_dialog import ListeningDialog

            self.listening_dialog = ListeningDialog(
                self.service, self.window.runner, self.window.asker, self.widget
            )
        else:
            self.listening_dialog.reload()
        self.listening_dialog.open()
        self.listening_dialog.raise_()

    def link_people(self, person_id: int | None) -> None:
        from app.ui.link_people_dialog import LinkPeopleDialog

        person = self._identity(person_id) if person_id is not None else None
        if self.link_dialog is not None:
            self.link_dialog.close()
            self.link_dialog.deleteLater()
        self.link_dialog = LinkPeopleDialog(self.service, self.window.runner, person, self.widget)
        self.link_dialog.linked.connect(lambda _pid: self._people_changed())
        self.link_dialog.open()
        self.link_dialog.raise_()

    def unlink(self, person_id: int) -> None:
        who = self._identity(person_id)
        label = who.label if who else "this account"
        if self.window.asker.confirm(
            "Unlink",
            f"Keep {label} apart from this person? Both histories stay as they were.",
        ):
            self.service.unlink(person_id)
            self._people_changed()

    def _people_changed(self) -> None:
        current = self.window.current
        if current is not None:
            self.window.person_panel.show_person(
                self.window.context.inbox.person(current.person_id)
            )

    def _identity(self, person_id: int) -> Identity | None:
        person = self.window.context.inbox.person(person_id)
        if person is None:
            return None
        return Identity(
            person.id, person.network, person.handle, person.display_name, person.profile_url
        )
