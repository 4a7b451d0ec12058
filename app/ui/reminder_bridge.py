"""Reminders while writing: the core's ``Reminder``s for the draft, shown in the composer.

The bridge asks the core (``ReminderService.for_draft``) when a case opens and, debounced, as
the officer types; it turns each reminder into a ``ReminderView`` whose one-click fix edits the
draft (``apply_fix``) or inserts a template. It also gives the composer the current network's
length counter. Reminders never block sending, except what the composer blocks on itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QTextCursor

from app.core.context import own_connection
from app.core.lengths import count_length
from app.core.reminders import Fix, FixAction, Reminder, ReminderKind, apply_fix
from app.core.templates import placeholders
from app.core.vocab import Network
from app.ui.composer import Composer, ReminderView
from app.ui.tasks import Runner

log = logging.getLogger(__name__)

ForDraft = Callable[[int, str, Sequence[str]], list[Reminder]]
DELAY_MS = 300


def length_counter(network: Network) -> Callable[[str], tuple[int, int]]:
    """The composer's counter for one network: (used, limit) in that network's own units."""

    def count(text: str) -> tuple[int, int]:
        counted = count_length(text, network)
        used = counted.used if not counted.too_many_bytes else max(counted.used, counted.limit + 1)
        return used, counted.limit

    return count


class ReminderBridge(QObject):
    def __init__(
        self,
        composer: Composer,
        for_draft: ForDraft,
        delay_ms: int = DELAY_MS,
        parent: QObject | None = None,
        runner: Runner | None = None,
    ) -> None:
        super().__init__(parent)
        self.composer = composer
        self.for_draft = for_draft
        self.runner = runner  # given: a case's first reminders are worked out on a pool thread
        self._asked = 0  # a result from the pool thread is shown only if nothing was asked since
        self.case_id: int | None = None
        self.reminders: list[Reminder] = []
        self._shown: list[tuple[str, str, str]] | None = None
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(delay_ms)
        self.timer.timeout.connect(self.refresh)
        composer.text_changed.connect(self._typed)

    def set_case(self, case_id: int | None, network: Network | None) -> None:
        """The case the composer writes to (None: none); its reminders appear at once."""
        self.case_id = case_id
        self.composer.length_counter = length_counter(network) if network else None
        self._shown = None  # the window may have cleared the rows (composer.reset)
        self.timer.stop()
        if self.runner is None or case_id is None:
            self.refresh()
        else:
            self._refresh_in_background(case_id)

    def _refresh_in_background(self, case_id: int) -> None:
        """A case just opened: its reminders (its history, the others' recent replies, its
        clock) are read on a pool thread, so opening a case, the first one at start-up
        included, does not wait for them; they are shown if the case and the draft are still
        the same when they come (typing asks again meanwhile, on the UI thread)."""
        text = self.composer.text()
        self._asked += 1
        asked = self._asked
        for_draft = self.for_draft

        def work() -> list[Reminder]:
            return for_draft(case_id, text, placeholders(text))

        def done(reminders: list[Reminder]) -> None:
            if asked == self._asked and case_id == self.case_id and text == self.composer.text():
                self.reminders = reminders
                self._show(reminders)

        def failed(error: BaseException) -> None:
            if not isinstance(error, LookupError):  # LookupError: the case went away
                log.error("reminders for case %s failed: %r", case_id, error)
            done([])

        self.reminders = []
        self._show([])
        assert self.runner is not None
        self.runner.run(own_connection(work), done, failed)

    def _typed(self, _text: str) -> None:
        if self.case_id is not None:
            self.timer.start()

    def refresh(self) -> None:
        """Ask the core again now (the debounce timer calls this, so do fixes and reloads)."""
        self.timer.stop()
        self._asked += 1  # supersedes one still being worked out in the background
        reminders: list[Reminder] = []
        if self.case_id is not None:
            text = self.composer.text()
            try:
                reminders = self.for_draft(self.case_id, text, placeholders(text))
            except LookupError:
                reminders = []  # the case went away (forgotten, purged)
            except Exception:  # a reminder must never get in the way of writing
                log.exception("reminders for case %s failed", self.case_id)
                reminders = []
        self.reminders = reminders
        self._show(reminders)

    def _show(self, reminders: list[Reminder]) -> None:
        # The composer names unfilled variables itself, with where to fill each, and blocks
        # sending on them; the core's UNFILLED reminder would say the same thing twice.
        shown = [r for r in reminders if r.kind is not ReminderKind.UNFILLED]
        key = [(r.kind.value, r.message, r.fix.label if r.fix else "") for r in shown]
        if key == self._shown:
            return  # nothing changed: keep the rows (and a button under the mouse) as they are
        self._shown = key
        self.composer.set_reminders([self.view(r) for r in shown])

    def view(self, reminder: Reminder) -> ReminderView:
        fix = reminder.fix
        run: Callable[[], None] | None = None
        if fix is not None:

            def run() -> None:
                self.apply(fix)

        return ReminderView(
            message=reminder.message,
            severity=reminder.severity.value,
            fix_label=fix.label if fix else "",
            fix=run,
        )

    def apply(self, fix: Fix) -> None:
        """Perform a one-click fix on the draft, then look again."""
        if fix.action is FixAction.USE_TEMPLATE:
            self.composer.insert_template(fix.template)
        else:
            edit = self.composer.edit
            edit.setPlainText(apply_fix(self.composer.text(), fix))
            edit.moveCursor(QTextCursor.MoveOperation.End)
            edit.setFocus()
        self.refresh()
