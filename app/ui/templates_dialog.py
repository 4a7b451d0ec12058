"""Templates…: the officer keeps their own canned replies (add, duplicate, edit, delete).

The editor (``template_editor.TemplateEditor``) shows, as they type, the reply as it would be
inserted (sample person, the organisation's real values from Settings), which variables it uses,
and warnings for a typo'd variable (``{frist_name}``) or a ``[fill-in]`` that must be replaced
before each reply is sent.
Nothing is stored until Save; leaving a template with unsaved edits asks first.

Open it with ``open_templates_dialog(parent, context.templates, context.settings)``: it returns
True when anything was saved, deleted or restored (the composer's list should then be refreshed).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from enum import Enum

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.core.settings import Settings
from app.core.templates import (
    TemplateLibrary,
    TemplateRefused,
    TemplateView,
    name_problem,
    suggest_name,
)
from app.ui.dialogs import Asker, DialogAsker
from app.ui.labels import plain_label
from app.ui.template_editor import PROBLEM_STYLE, Draft, TemplateEditor
from app.ui.template_list_model import TemplateListModel


class Unsaved(Enum):
    """The answer to “save your changes?” when leaving a template with unsaved edits."""

    SAVE = "save"
    DISCARD = "discard"
    CANCEL = "cancel"


def ask_unsaved_with_message_box(parent: QWidget, title: str) -> Unsaved:
    buttons = QMessageBox.StandardButton
    answer = QMessageBox.question(
        parent,
        "Unsaved changes",
        f"Save your changes to “{title or 'the new template'}”?",
        buttons.Save | buttons.Discard | buttons.Cancel,
        buttons.Save,
    )
    return {buttons.Save: Unsaved.SAVE, buttons.Discard: Unsaved.DISCARD}.get(
        answer, Unsaved.CANCEL
    )


class TemplatesDialog(QDialog):
    """The list of templates, the editor, and the actions on them (see the module doc)."""

    def __init__(
        self,
        library: TemplateLibrary,
        settings: Settings,
        parent: QWidget | None = None,
        asker: Asker | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Templates")
        self.library = library
        self.asker: Asker = asker or DialogAsker(self)
        self.ask_unsaved: Callable[[str], Unsaved] = lambda title: ask_unsaved_with_message_box(
            self, title
        )
        self.changed = False  # anything saved, deleted or restored: the composer should reload
        self.current: TemplateView | None = None  # the saved template in the editor
        self.creating = False  # the editor holds a new template, not saved yet
        self._baseline = Draft("", "", "", "")
        self._quiet = False
        self._last_title = ""  # what the title was when the short name was last suggested

        self.model = TemplateListModel(library.all(), self)
        self.list = QListView()
        self.list.setModel(self.model)
        self.list.setAccessibleName("Templates")
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.selectionModel().currentChanged.connect(self._current_changed)
        self.add_button = QPushButton("&Add")
        self.add_button.setToolTip("A new template (Ctrl+N)")
        self.add_button.clicked.connect(self.add)
        self.duplicate_button = QPushButton("D&uplicate")
        self.duplicate_button.setToolTip("A copy of this template to edit (Ctrl+D)")
        self.duplicate_button.clicked.connect(self.duplicate)
        self.delete_button = QPushButton("&Delete")
        self.delete_button.setToolTip("Delete this template (Delete, in the list)")
        self.delete_button.clicked.connect(self.delete)
        self.restore_button = QPushButton("Restore starter templates")
        self.restore_button.clicked.connect(self.restore_starters)

        self.editor = TemplateEditor(settings.organisation())
        for signal in (
            self.editor.title.textChanged,
            self.editor.name.textChanged,
            self.editor.category.currentTextChanged,
            self.editor.body.textChanged,
        ):
            signal.connect(self._edited)
        self.editor.title.textEdited.connect(self._title_typed)
        self.problems = plain_label(style=PROBLEM_STYLE, name="Problems")
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.save_button = QPushButton("&Save")
        self.save_button.setToolTip("Save this template (Ctrl+S)")
        self.save_button.clicked.connect(self.save)
        self.cancel_button = QPushButton("Cancel changes")
        self.cancel_button.setToolTip("Put this template back as it was saved")
        self.cancel_button.clicked.connect(self.cancel_changes)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        for button in (
            self.add_button,
            self.duplicate_button,
            self.delete_button,
            self.restore_button,
            self.save_button,
            self.cancel_button,
            self.close_button,
        ):
            button.setAutoDefault(False)  # Enter in a field must not add, delete or close

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.list, 1)
        row = QHBoxLayout()
        for button in (self.add_button, self.duplicate_button, self.delete_button):
            row.addWidget(button)
        left_layout.addLayout(row)
        left_layout.addWidget(self.restore_button)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.editor, 1)
        right_layout.addWidget(self.problems)
        actions = QHBoxLayout()
        actions.addWidget(self.status, 1)
        actions.addWidget(self.cancel_button)
        actions.addWidget(self.save_button)
        right_layout.addLayout(actions)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([260, 520])
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addLayout(bottom)
        self.resize(860, 560)

        self._shortcut("Ctrl+N", self.add)
        self._shortcut("Ctrl+D", self.duplicate)
        self._shortcut("Ctrl+S", self.save)
        delete = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.list)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)  # Delete in the text edits text
        delete.activated.connect(self.delete)

        if self.model.rowCount():
            self._select(0)
            self._load(self.model.template(0))
        else:
            self.add()
        self._update_buttons()

    def _shortcut(self, keys: str, slot: Callable[[], object]) -> None:
        action = QAction(self)
        action.setShortcut(QKeySequence(keys))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        self.addAction(action)

    # -- state -----------------------------------------------------------------------------------

    def dirty(self) -> bool:
        """Unsaved edits: a changed template, or a new one with something in it."""
        draft = self.editor.draft()
        if self.creating:
            return bool(draft.title or draft.body.strip())
        return self.current is not None and draft != self._baseline

    def problems_of(self, draft: Draft) -> list[str]:
        problems: list[str] = []
        if not draft.title:
            problems.append("A title is required: it is what you pick the template by.")
        if self.creating:
            problem = name_problem(draft.name)
            if problem:
                problems.append(problem)
            elif draft.name in self.model.names():
                problems.append(f"There is already a template named “{draft.name}”.")
        if not draft.body.strip():
            problems.append("The reply text is empty.")
        return problems

    def _load(self, template: TemplateView | None) -> None:
        self.current, self.creating = template, False
        if template is None:
            self._baseline = Draft("", "", "", "")
        else:
            self._baseline = Draft(template.name, template.title, template.category, template.body)
        self._show(self._baseline, name_editable=False)

    @contextlib.contextmanager
    def _quietly(self) -> Iterator[None]:
        """Changes made here to the list or the editor are not the officer's edits."""
        before, self._quiet = self._quiet, True
        try:
            yield
        finally:
            self._quiet = before

    def _select(self, row: int) -> None:
        with self._quietly():
            self.list.selectionModel().setCurrentIndex(
                self.model.index(row), QItemSelectionModel.SelectionFlag.ClearAndSelect
            )

    def _select_none(self) -> None:
        with self._quietly():
            self.list.selectionModel().clearSelection()
            self.list.selectionModel().setCurrentIndex(
                QModelIndex(), QItemSelectionModel.SelectionFlag.Clear
            )

    def _start_new(self, draft: Draft) -> None:
        self._select_none()
        self.current, self.creating = None, True
        self._baseline = draft
        self._show(draft, name_editable=True)
        self.editor.title.setFocus()
        self.editor.title.selectAll()

    def _show(self, draft: Draft, name_editable: bool) -> None:
        with self._quietly():
            categories = sorted({t.category for t in self.model.templates() if t.category})
            self.editor.set_categories(categories)
            self.editor.load(draft, name_editable)
        self.editor.setEnabled(self.creating or self.current is not None)
        self.problems.clear()
        self._update_buttons()

    def _edited(self) -> None:
        if self._quiet:
            return
        self.status.clear()
        problems = self.problems_of(self.editor.draft()) if self.dirty() else []
        self.problems.setText("\n".join(problems))
        self._update_buttons()

    def _title_typed(self, title: str) -> None:
        """A new template's short name follows its title until the officer types one."""
        if self.creating and self.editor.name.text() in ("", self._suggested(self._last_title)):
            self.editor.name.setText(self._suggested(title))
        self._last_title = title

    def _suggested(self, title: str) -> str:
        return suggest_name(title, self.model.names()) if title.strip() else ""

    def _update_buttons(self) -> None:
        dirty = self.dirty()
        self.save_button.setEnabled(dirty)
        self.cancel_button.setEnabled(dirty)
        self.duplicate_button.setEnabled(self.current is not None)
        self.delete_button.setEnabled(self.current is not None)
        removed = len(self.library.removed_starters())
        self.restore_button.setEnabled(bool(removed))
        self.restore_button.setText(
            f"Restore starter templates ({removed})" if removed else "Restore starter templates"
        )

    def _current_changed(
        self,
        current: QModelIndex | QPersistentModelIndex,
        previous: QModelIndex | QPersistentModelIndex,
    ) -> None:
        if self._quiet:
            return
        wanted = self.model.template(current.row()) if current.isValid() else None
        if not self.settle():
            if self.creating or not previous.isValid():
                self._select_none()
            elif self.current is not None:
                self._select(self.model.row_of(self.current.name))
            return
        if wanted is not None and self.model.row_of(wanted.name) >= 0:
            self._select(self.model.row_of(wanted.name))  # saving may have moved rows
            self._load(self.model.template(self.model.row_of(wanted.name)))

    # -- actions ---------------------------------------------------------------------------------

    def settle(self) -> bool:
        """Before leaving the template in the editor: ask about unsaved edits. True: go on."""
        if not self.dirty():
            return True
        answer = self.ask_unsaved(self.editor.draft().title)
        if answer is Unsaved.SAVE:
            return self.save()
        if answer is Unsaved.DISCARD:
            self.cancel_changes()
            return True
        return False

    def add(self) -> None:
        if self.settle():
            self._last_title = ""
            self._start_new(Draft("", "", "", ""))

    def duplicate(self) -> None:
        source = self.current
        if source is None or not self.settle():
            return
        title = f"{source.title} (copy)"
        self._last_title = title
        self._start_new(
            Draft(suggest_name(title, self.model.names()), title, source.category, source.body)
        )

    def save(self) -> bool:
        """Store the template in the editor; False (with the reasons shown) if it cannot be."""
        if not (self.creating or self.current is not None):
            return False
        if not self.dirty():
            return True  # Ctrl+S with nothing changed: nothing to store
        draft = self.editor.draft()
        problems = self.problems_of(draft)
        if problems:
            self.problems.setText("\n".join(problems))
            return False
        try:
            if self.creating:
                saved = self.library.create(draft.name, draft.title, draft.body, draft.category)
            else:
                assert self.current is not None
                saved = self.library.save(
                    self.current.name, draft.title, draft.body, draft.category
                )
        except TemplateRefused as refused:
            self.problems.setText(refused.user_message)
            return False
        self.changed = True
        row = self.model.put(saved)
        self._select(row)
        self._load(saved)
        self.status.setText(f"Saved “{saved.title}”.")
        return True

    def cancel_changes(self) -> None:
        """Back to the saved template (a new one not saved yet is dropped)."""
        if self.creating:
            self.creating = False
            row = 0 if self.model.rowCount() else -1
            if row >= 0:
                self._select(row)
            self._load(self.model.template(row))
        else:
            self._load(self.current)

    def delete(self) -> None:
        template = self.current
        if template is None:
            return
        after = (
            " “Restore starter templates” brings it back."
            if template.builtin
            else " This cannot be undone."
        )
        if not self.asker.confirm("Delete template", f"Delete “{template.title}”?{after}"):
            return
        self.library.delete(template.name)
        self.changed = True
        row = self.model.row_of(template.name)
        with self._quietly():
            self.model.remove(template.name)
        row = min(row, self.model.rowCount() - 1)
        if row >= 0:
            self._select(row)
        self._load(self.model.template(row))
        self.status.setText(f"Deleted “{template.title}”.")

    def restore_starters(self) -> None:
        if not self.settle():
            return
        name = self.current.name if self.current is not None else None
        restored = self.library.restore_starters()
        if restored:
            self.changed = True
        with self._quietly():
            self.model.set_templates(self.library.all())
        row = max(0, self.model.row_of(name)) if name else 0
        if self.model.rowCount():
            self._select(row)
        self._load(self.model.template(row))
        self.status.setText(
            f"{restored} starter template{'s' if restored != 1 else ''} restored."
            if restored
            else "Every starter template is already here."
        )

    def reject(self) -> None:
        """Close (Esc, the window's close button, Close): ask about unsaved edits first."""
        if self.settle():
            super().reject()


def open_templates_dialog(
    parent: QWidget | None,
    templates: TemplateLibrary,
    settings: Settings,
    *,
    asker: Asker | None = None,
) -> bool:
    """Let the officer manage the templates (modal); True if anything was changed."""
    dialog = TemplatesDialog(templates, settings, parent, asker)
    try:
        dialog.exec()
        return dialog.changed
    finally:
        dialog.deleteLater()
