"""File → Manage templates… from the main window: what is saved there is offered in the composer."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction

from app.storage.models import Template
from app.ui.main_window import MainWindow
from app.ui.templates_dialog import TemplatesDialog
from tests.helpers.modal import when_shown
from tests.ui.conftest import ScriptedAsker


def file_menu_action(window: MainWindow, text: str) -> QAction:
    matches = [a for a in window.actions.file_menu.actions() if a.text() == text]
    assert len(matches) == 1, [a.text() for a in window.actions.file_menu.actions()]
    return matches[0]


def test_a_template_added_from_the_file_menu_is_offered_in_the_composer(
    qtbot, window: MainWindow
) -> None:
    action = file_menu_action(window, "Manage templates…")
    assert action.isEnabled()
    assert "thanks-volunteers" not in window.composer.templates
    seen: list[str] = []

    def add_one(dialog: TemplatesDialog) -> None:
        seen.append(dialog.windowTitle())
        dialog.add()
        qtbot.keyClicks(dialog.editor.title, "Thanks, volunteers!")  # names it as typed
        dialog.editor.body.setPlainText("Hi {first_name}, you made the day. {signature}")
        assert dialog.save(), dialog.problems.text()

    when_shown(TemplatesDialog, add_one)
    action.trigger()  # returns when the dialog is closed

    assert seen == ["Templates"]
    assert Template.get_or_none(Template.name == "thanks-volunteers") is not None
    assert "thanks-volunteers" in window.composer.templates
    picker = window.composer.picker
    picker.filter.setText("volunteers")
    shown = [picker.list.item(row) for row in range(picker.list.count())]
    assert [i.data(Qt.ItemDataRole.UserRole) for i in shown if not i.isHidden()] == [
        "thanks-volunteers"
    ]
    assert window.current is not None
    window.composer.insert_template("thanks-volunteers")
    text = window.composer.text()
    assert text.startswith("Hi ") and "{" not in text and "— Sam, Riverbank Alliance" in text


def test_a_starter_deleted_from_the_menu_leaves_the_picker(
    window: MainWindow, asker: ScriptedAsker
) -> None:
    assert "thank-you" in window.composer.templates
    asker.confirms.append(True)  # "Delete this template?"

    def delete_thank_you(dialog: TemplatesDialog) -> None:
        row = dialog.model.row_of("thank-you")
        dialog.list.setCurrentIndex(dialog.model.index(row, 0))
        dialog.delete()

    when_shown(TemplatesDialog, delete_thank_you)
    file_menu_action(window, "Manage templates…").trigger()

    assert asker.asked and "thank-you" not in window.composer.templates
    assert Template.get_or_none(Template.name == "thank-you") is None


def test_closing_without_changes_keeps_the_composer_as_it_was(window: MainWindow) -> None:
    before = dict(window.composer.templates)
    when_shown(TemplatesDialog, lambda dialog: None)
    file_menu_action(window, "Manage templates…").trigger()
    assert window.composer.templates == before
