"""Templates…: the officer adds, edits, duplicates and deletes canned replies, with a live preview,
warnings for typo'd variables and fill-ins, and a question before unsaved edits are lost."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from app.core.settings import ORG_NAME, SIGNATURE, Settings
from app.core.templates import TemplateLibrary, TemplateView
from app.storage.models import Template
from app.ui.template_list_model import NameRole, TemplateListModel, TemplateRole
from app.ui.templates_dialog import TemplatesDialog, Unsaved, open_templates_dialog
from tests.helpers.modal import when_shown
from tests.ui.conftest import ScriptedAsker


@pytest.fixture
def library(db_path: Path) -> TemplateLibrary:
    settings = Settings()
    settings.set(ORG_NAME, "Riverbank Alliance")
    settings.set(SIGNATURE, "— Sam")  # no phone or email: those stay to be typed in
    library = TemplateLibrary(settings)
    library.seed()
    return library


class Answers:
    """Scripted answers to “save your changes?”, recorded."""

    def __init__(self) -> None:
        self.script: list[Unsaved] = []
        self.asked: list[str] = []

    def __call__(self, title: str) -> Unsaved:
        self.asked.append(title)
        return self.script.pop(0) if self.script else Unsaved.CANCEL


@pytest.fixture
def answers() -> Answers:
    return Answers()


@pytest.fixture
def dialog(
    qtbot, library: TemplateLibrary, asker: ScriptedAsker, answers: Answers
) -> Iterator[TemplatesDialog]:
    dlg = TemplatesDialog(library, library.settings, asker=asker)
    dlg.ask_unsaved = answers
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    yield dlg
    dlg.ask_unsaved = lambda _title: Unsaved.DISCARD  # closing at teardown never asks


def titles(dlg: TemplatesDialog) -> list[str]:
    return [t.title for t in dlg.model.templates()]


def select(dlg: TemplatesDialog, name: str) -> None:
    """Click the template's row, as the officer would."""
    row = dlg.model.row_of(name)
    assert row >= 0, name
    dlg.list.setCurrentIndex(dlg.model.index(row))


def stored(name: str) -> Template | None:
    return Template.get_or_none(Template.name == name)


def key(qtbot, widget: QWidget, keys: str) -> None:
    from PySide6.QtGui import QKeySequence

    sequence = QKeySequence(keys)[0]
    qtbot.keyClick(widget, sequence.key(), sequence.keyboardModifiers())


# -- the list model -------------------------------------------------------------------------------


def view(name: str, title: str, category: str, n: int = 0) -> TemplateView:
    return TemplateView(n, name, title, f"Body of {name}", category, False)


def test_the_list_model_passes_the_model_tester_through_every_edit(qtmodeltester) -> None:
    model = TemplateListModel([view("b", "Beta", "B"), view("a", "Alpha", "A")])
    qtmodeltester.check(model, force_py=True)
    assert [model.data(model.index(r), NameRole) for r in range(2)] == ["a", "b"]

    assert model.put(view("c", "Gamma", "C")) == 2  # added at its place in the order
    assert model.put(view("a", "Zulu", "Z")) == 2  # moved to another category: down
    assert model.put(view("c", "Aardvark", "0")) == 0  # and up
    assert model.put(view("b", "Beta again", "B")) == 1  # same place: updated in place
    model.remove("a")
    model.remove("missing")
    qtmodeltester.check(model, force_py=True)

    assert [model.data(model.index(r), NameRole) for r in range(model.rowCount())] == ["c", "b"]
    assert model.data(model.index(1)) == "Beta again  ·  B"
    assert isinstance(model.data(model.index(0), TemplateRole), TemplateView)


def test_the_dialogs_model_passes_the_model_tester(qtmodeltester, dialog: TemplatesDialog) -> None:
    qtmodeltester.check(dialog.model, force_py=True)
    assert dialog.model.rowCount() == len(TemplateLibrary().all()) >= 5


# -- opening and editing --------------------------------------------------------------------------


def test_the_first_template_is_open_in_the_editor_with_its_preview(
    dialog: TemplatesDialog,
) -> None:
    first = dialog.model.template(0)
    assert first is not None and dialog.current == first
    assert dialog.editor.title.text() == first.title
    assert dialog.editor.body.toPlainText() == first.body
    assert dialog.editor.name.isReadOnly()  # a saved template keeps its short name
    assert not dialog.save_button.isEnabled()  # nothing to save yet
    assert "Rosa" in dialog.editor.preview.toPlainText()


def test_editing_a_template_shows_the_preview_and_variables_then_saves_it(
    qtbot, dialog: TemplatesDialog
) -> None:
    select(dialog, "thank-you")
    dialog.editor.body.setPlainText("Thanks {first_name}! From all at {org}. {signature}")

    assert (
        dialog.editor.preview.toPlainText() == "Thanks Rosa! From all at Riverbank Alliance. — Sam"
    )
    assert dialog.editor.used.text() == "Variables used: {first_name}, {org}, {signature}"
    assert dialog.editor.warnings.isHidden()
    assert dialog.save_button.isEnabled()
    assert stored("thank-you").body.startswith("Hi {first_name}, thank you so much")  # type: ignore[union-attr]

    dialog.editor.title.setText("A big thank you")
    key(qtbot, dialog.editor.body, "Ctrl+S")

    row = stored("thank-you")
    assert row is not None
    assert (row.title, row.body) == (
        "A big thank you",
        "Thanks {first_name}! From all at {org}. {signature}",
    )
    assert dialog.changed and not dialog.dirty()
    assert "A big thank you" in titles(dialog)
    assert dialog.current is not None and dialog.current.name == "thank-you"
    assert dialog.list.currentIndex().row() == dialog.model.row_of("thank-you")


def test_an_unknown_variable_and_fill_ins_are_warned_about_inline(dialog: TemplatesDialog) -> None:
    select(dialog, "thank-you")
    dialog.editor.body.setPlainText("Hi {frist_name}, see [link] by [when]. Call {phone}.")

    warnings = dialog.editor.warnings.text()
    assert dialog.editor.warnings.isVisibleTo(dialog)
    assert "{frist_name} is not a variable" in warnings
    assert "Did you mean {first_name}?" in warnings
    assert "Fill-ins [link], [when]" in warnings
    assert "no phone number in Settings" in warnings
    assert dialog.editor.used.text() == "Variables used: {phone}"
    assert dialog.editor.preview.toPlainText() == (
        "Hi {frist_name}, see [link] by [when]. Call {phone}."
    )

    dialog.editor.body.setPlainText("Hi {first_name}")
    assert dialog.editor.warnings.isHidden()


def test_the_insert_variable_menu_puts_it_at_the_cursor(dialog: TemplatesDialog) -> None:
    select(dialog, "thank-you")
    dialog.editor.body.setPlainText("Hi !")
    cursor = dialog.editor.body.textCursor()
    cursor.setPosition(3)
    dialog.editor.body.setTextCursor(cursor)

    menu = dialog.editor.insert.menu()
    [first_name] = [a for a in menu.actions() if a.text().startswith("{first_name}")]
    first_name.trigger()

    assert dialog.editor.body.toPlainText() == "Hi {first_name}!"
    assert dialog.editor.preview.toPlainText() == "Hi Rosa!"


# -- adding and duplicating -----------------------------------------------------------------------


def test_ctrl_n_adds_a_template_named_after_its_title(qtbot, dialog: TemplatesDialog) -> None:
    count = dialog.model.rowCount()
    key(qtbot, dialog.list, "Ctrl+N")

    assert dialog.creating and not dialog.editor.name.isReadOnly()
    assert dialog.editor.title.hasFocus()
    qtbot.keyClicks(dialog.editor.title, "Thanks, volunteers!")
    assert dialog.editor.name.text() == "thanks-volunteers"
    dialog.editor.category.setCurrentText("Supporters")
    dialog.editor.body.setPlainText("Hi {first_name}, you made the day. {signature}")
    assert dialog.editor.preview.toPlainText() == "Hi Rosa, you made the day. — Sam"

    key(qtbot, dialog.editor.body, "Ctrl+S")

    row = stored("thanks-volunteers")
    assert row is not None and not row.builtin
    assert (row.title, row.category) == ("Thanks, volunteers!", "Supporters")
    assert dialog.model.rowCount() == count + 1
    assert not dialog.creating and dialog.editor.name.isReadOnly()
    assert dialog.current is not None and dialog.current.name == "thanks-volunteers"


def test_a_new_template_needs_a_title_a_free_name_and_a_text(
    qtbot, dialog: TemplatesDialog
) -> None:
    count = Template.select().count()
    dialog.add()
    dialog.editor.body.setPlainText("Hello")

    assert not dialog.save()
    assert "A title is required" in dialog.problems.text()

    dialog.editor.title.setText("Away")
    dialog.editor.name.setText("away")  # a starter's name
    assert not dialog.save()
    assert "already a template named “away”" in dialog.problems.text()

    dialog.editor.name.setText("Not OK!")
    assert "lower-case letters" in dialog.problems.text()

    dialog.editor.name.setText("away-weekend")
    dialog.editor.body.setPlainText("  ")
    assert not dialog.save()
    assert "The reply text is empty" in dialog.problems.text()
    assert Template.select().count() == count

    dialog.editor.body.setPlainText("Back on Monday, {first_name}.")
    assert dialog.save()
    assert dialog.problems.text() == ""
    assert Template.select().count() == count + 1


def test_duplicate_opens_a_copy_to_edit_that_is_saved_apart(qtbot, dialog: TemplatesDialog) -> None:
    select(dialog, "away")
    original = stored("away")
    assert original is not None

    key(qtbot, dialog.list, "Ctrl+D")

    assert dialog.creating
    assert dialog.editor.title.text() == f"{original.title} (copy)"
    assert dialog.editor.body.toPlainText() == original.body
    assert dialog.save()
    copy = stored(dialog.editor.name.text())
    assert copy is not None and copy.name != "away" and copy.body == original.body
    assert stored("away").title == original.title  # type: ignore[union-attr]


# -- deleting and restoring -----------------------------------------------------------------------


def test_delete_asks_first_and_a_deleted_starter_is_not_seeded_again(
    qtbot, dialog: TemplatesDialog, asker: ScriptedAsker
) -> None:
    select(dialog, "away")
    asker.confirms = [False]
    dialog.list.setFocus()
    key(qtbot, dialog.list, "Delete")

    assert asker.asked == ["Delete template"]
    assert stored("away") is not None

    asker.confirms = [True]
    dialog.delete_button.click()

    assert stored("away") is None
    assert dialog.model.row_of("away") == -1
    assert dialog.changed
    assert dialog.current is not None  # the next template is open
    assert TemplateLibrary().seed() == 0  # the next start does not bring it back
    assert stored("away") is None
    assert dialog.restore_button.isEnabled()
    assert dialog.restore_button.text() == "Restore starter templates (1)"


def test_the_delete_key_in_the_text_edits_text_not_templates(
    qtbot, dialog: TemplatesDialog, asker: ScriptedAsker
) -> None:
    select(dialog, "away")
    dialog.editor.body.setFocus()
    dialog.editor.body.moveCursor(dialog.editor.body.textCursor().MoveOperation.Start)
    asker.confirms = [True]

    qtbot.keyClick(dialog.editor.body, Qt.Key.Key_Delete)

    assert asker.asked == []
    assert stored("away") is not None
    assert dialog.dirty()


def test_restore_starters_brings_back_what_was_deleted(
    dialog: TemplatesDialog, asker: ScriptedAsker
) -> None:
    assert not dialog.restore_button.isEnabled()
    count = dialog.model.rowCount()
    for name in ("away", "thank-you"):
        select(dialog, name)
        asker.confirms = [True]
        dialog.delete()
    assert dialog.model.rowCount() == count - 2

    dialog.restore_button.click()

    assert dialog.model.rowCount() == count
    assert stored("away") is not None and stored("thank-you") is not None
    assert dialog.status.text() == "2 starter templates restored."
    assert not dialog.restore_button.isEnabled()


# -- unsaved edits --------------------------------------------------------------------------------


def test_leaving_an_edited_template_asks_cancel_keeps_the_edit(
    dialog: TemplatesDialog, answers: Answers
) -> None:
    select(dialog, "away")
    dialog.editor.body.setPlainText("Out of the office, {first_name}.")
    answers.script = [Unsaved.CANCEL]

    select(dialog, "thank-you")

    assert answers.asked == [dialog.editor.title.text()]
    assert dialog.current is not None and dialog.current.name == "away"
    assert dialog.list.currentIndex().row() == dialog.model.row_of("away")
    assert dialog.editor.body.toPlainText() == "Out of the office, {first_name}."
    assert stored("away").body != "Out of the office, {first_name}."  # type: ignore[union-attr]


def test_leaving_an_edited_template_discard_drops_the_edit(
    dialog: TemplatesDialog, answers: Answers
) -> None:
    select(dialog, "away")
    before = stored("away").body  # type: ignore[union-attr]
    dialog.editor.body.setPlainText("Out of the office.")
    answers.script = [Unsaved.DISCARD]

    select(dialog, "thank-you")

    assert dialog.current is not None and dialog.current.name == "thank-you"
    assert stored("away").body == before  # type: ignore[union-attr]
    assert not dialog.changed


def test_leaving_an_edited_template_save_stores_it_and_moves_on(
    dialog: TemplatesDialog, answers: Answers
) -> None:
    select(dialog, "away")
    dialog.editor.title.setText("Zz away")  # saving moves its row to the end of its category
    dialog.editor.body.setPlainText("Out of the office.")
    answers.script = [Unsaved.SAVE]

    select(dialog, "thank-you")

    assert stored("away").body == "Out of the office."  # type: ignore[union-attr]
    assert dialog.current is not None and dialog.current.name == "thank-you"
    assert dialog.list.currentIndex().row() == dialog.model.row_of("thank-you")
    assert dialog.changed


def test_an_unsaved_answer_that_cannot_be_saved_stays(
    dialog: TemplatesDialog, answers: Answers
) -> None:
    select(dialog, "away")
    dialog.editor.title.setText("")
    answers.script = [Unsaved.SAVE]

    select(dialog, "thank-you")

    assert dialog.current is not None and dialog.current.name == "away"
    assert "A title is required" in dialog.problems.text()


def test_closing_with_unsaved_edits_asks_and_cancel_keeps_it_open(
    qtbot, dialog: TemplatesDialog, answers: Answers
) -> None:
    select(dialog, "away")
    dialog.editor.body.setPlainText("Out of the office.")
    answers.script = [Unsaved.CANCEL]

    qtbot.keyClick(dialog.list, Qt.Key.Key_Escape)

    assert dialog.isVisible()
    assert len(answers.asked) == 1

    answers.script = [Unsaved.SAVE]
    dialog.close_button.click()

    assert not dialog.isVisible()
    assert stored("away").body == "Out of the office."  # type: ignore[union-attr]


def test_a_new_template_with_nothing_typed_closes_without_asking(
    dialog: TemplatesDialog, answers: Answers
) -> None:
    dialog.add()
    dialog.reject()

    assert answers.asked == [] and not dialog.isVisible()


def test_hostile_text_is_shown_as_text(dialog: TemplatesDialog) -> None:
    select(dialog, "away")
    dialog.editor.body.setPlainText("<img src=x onerror=alert(1)> {nope<b>}")

    assert dialog.editor.preview.toPlainText() == "<img src=x onerror=alert(1)> {nope<b>}"
    assert dialog.editor.warnings.textFormat() == Qt.TextFormat.PlainText
    assert dialog.problems.textFormat() == Qt.TextFormat.PlainText


# -- the entry point ------------------------------------------------------------------------------


def test_open_templates_dialog_says_whether_anything_changed(
    qtbot, library: TemplateLibrary
) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)

    when_shown(TemplatesDialog, lambda dlg: dlg.reject())
    assert open_templates_dialog(parent, library, library.settings) is False

    def edit_and_close(dlg: TemplatesDialog) -> None:
        dlg.editor.body.setPlainText("Thank you, {first_name}!")
        assert dlg.save()
        dlg.reject()

    when_shown(TemplatesDialog, edit_and_close)
    assert open_templates_dialog(parent, library, library.settings) is True
    assert [t.body for t in library.all()].count("Thank you, {first_name}!") == 1


def test_with_no_templates_at_all_the_dialog_starts_a_new_one(
    qtbot, db_path: Path, answers: Answers
) -> None:
    library = TemplateLibrary()
    dlg = TemplatesDialog(library, Settings())
    dlg.ask_unsaved = answers
    qtbot.addWidget(dlg)

    assert dlg.creating and dlg.model.rowCount() == 0
    assert not dlg.delete_button.isEnabled() and not dlg.duplicate_button.isEnabled()
    dlg.editor.title.setText("First")
    dlg.editor.name.setText("first")
    dlg.editor.body.setPlainText("Hello")
    assert dlg.save()
    assert [t.name for t in library.all()] == ["first"]


def test_enter_in_a_field_neither_closes_nor_adds(qtbot, dialog: TemplatesDialog) -> None:
    select(dialog, "away")
    count = dialog.model.rowCount()

    qtbot.keyClick(dialog.editor.title, Qt.Key.Key_Return)

    assert dialog.isVisible() and not dialog.creating
    assert dialog.model.rowCount() == count


def test_saving_with_nothing_changed_changes_nothing(qtbot, dialog: TemplatesDialog) -> None:
    select(dialog, "away")
    before = stored("away").updated_at  # type: ignore[union-attr]

    key(qtbot, dialog.list, "Ctrl+S")

    assert not dialog.changed
    assert stored("away").updated_at == before  # type: ignore[union-attr]
