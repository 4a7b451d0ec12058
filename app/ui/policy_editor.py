"""The policy editor: the ordered rules, the watch list and wording to avoid, import and export.

Rules are read from the top and the first that matches decides, so order matters: rules move up
and down here. Every edit is checked at once with the core's ``check_policy``; a problem names
the rule and field, outlines the field, and keeps Save disabled until it is fixed. Nothing is
stored until Save, which emits ``saved(Policy)`` for the window to store and apply.

File choices and questions go through the window's seams (``PathAsker`` as for exports, and
``Asker``), so tests never meet a modal dialog.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListView,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.policy import (
    FlaggedPhrase,
    Policy,
    PolicyError,
    PolicyFileError,
    Rule,
    check_policy,
    default_policy,
    export_policy,
    import_policy,
)
from app.ui.dialogs import Asker
from app.ui.export_dialog import FileDialogPaths, PathAsker
from app.ui.rule_form import RuleForm
from app.ui.rule_list_model import NumberedDelegate, RuleListModel

FILE_FILTER = "Kindly policy (*.toml);;All files (*)"


_ARROW = re.compile(r"\s*(?:→|->|=>)\s*")


def flagged_to_text(phrases: Sequence[FlaggedPhrase]) -> str:
    return "\n".join(f"{f.phrase} → {f.suggestion}" if f.suggestion else f.phrase for f in phrases)


def flagged_from_text(text: str) -> tuple[FlaggedPhrase, ...]:
    found: list[FlaggedPhrase] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = _ARROW.split(line.strip(), maxsplit=1)
        phrase, suggestion = parts[0].strip(), parts[1].strip() if len(parts) > 1 else ""
        found.append(FlaggedPhrase(phrase, suggestion))
    return tuple(found)


def lines_of(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def describe_problem(error: PolicyError, policy: Policy) -> str:
    """ "Rule 3 “Press”, pattern: not a valid regular expression …" for a person."""
    path = error.path
    if len(path) >= 2 and path[0] == "rule" and isinstance(path[1], int):
        index = path[1]
        name = policy.rules[index - 1].name if 0 < index <= len(policy.rules) else ""
        named = f" “{name}”" if name.strip() else ""
        field = ".".join(str(p) for p in path[2:] if p != "when")
        return (
            f"Rule {index}{named}"
            + (f", {field.replace('_', ' ')}" if field else "")
            + (f": {error.message}")
        )
    labels = {
        "take_offline_after": "Suggest phone or email from reply",
        "watch_list": "Watch list",
        "flagged_phrases": "Wording to avoid",
    }
    where = labels.get(str(path[0]), str(path[0])) if path else "The policy"
    line = f", line {path[1]}" if len(path) > 1 and isinstance(path[1], int) else ""
    return f"{where}{line}: {error.message}"


def shadowing_rule(policy: Policy) -> Rule | None:
    """An enabled rule with no conditions above other enabled rules: they can never apply."""
    enabled = [r for r in policy.rules if r.enabled]
    return next((r for r in enabled[:-1] if r.when.empty), None)


class PolicyEditor(QDialog):
    saved = Signal(object)  # Policy, checked

    def __init__(
        self,
        policy: Policy,
        asker: Asker,
        paths: PathAsker | None = None,
        parent: QWidget | None = None,
        notice: str = "",
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Response policy")
        self.asker = asker
        self.paths: PathAsker = paths or FileDialogPaths(self)
        self._saved = policy
        self.problem: PolicyError | None = None
        self.model = RuleListModel(policy.rules, self)
        self.list = QListView()
        self.list.setModel(self.model)
        self.list.setItemDelegate(NumberedDelegate(self.list))
        self.model.enabled_toggled.connect(self._enabled_toggled)
        self.list.setAccessibleName("Rules")
        self.list.setSelectionMode(QListView.SelectionMode.SingleSelection)
        # One line a rule, cut to the list's width; the whole line and the note in its tooltip.
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.selectionModel().currentChanged.connect(self._current_changed)
        self.form = RuleForm()
        self.form.edited.connect(self._form_edited)
        self.add_button = QPushButton("Add rule")
        self.delete_button = QPushButton("Delete")
        self.up_button = QPushButton("Move up")
        self.down_button = QPushButton("Move down")
        self.add_button.clicked.connect(self.add_rule)
        self.delete_button.clicked.connect(self.delete_rule)
        self.up_button.clicked.connect(lambda: self.move_rule(-1))
        self.down_button.clicked.connect(lambda: self.move_rule(1))

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        hint = QLabel("Read from the top: the first rule that matches decides.")
        hint.setWordWrap(True)
        left_layout.addWidget(hint)
        left_layout.addWidget(self.list, 1)
        row = QHBoxLayout()
        for button in (self.add_button, self.delete_button, self.up_button, self.down_button):
            row.addWidget(button)
        left_layout.addLayout(row)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(scroll)
        split.setStretchFactor(1, 1)
        split.setSizes([330, 560])

        self.take_offline = QSpinBox()
        self.take_offline.setRange(2, 100)
        self.take_offline.setPrefix("our ")
        self.take_offline.setSuffix(". public reply in a conversation")
        self.watch_list = QPlainTextEdit()
        self.watch_list.setPlaceholderText("One handle per line, e.g. @someone@example.social")
        self.flagged = QPlainTextEdit()
        self.flagged.setPlaceholderText("One per line: phrase → kinder words (or just the phrase)")
        general = QWidget()
        general_form = QFormLayout(general)
        general_form.addRow("Suggest phone or email from", self.take_offline)
        general_form.addRow("Watch list", self.watch_list)
        general_form.addRow("Wording to avoid", self.flagged)
        self.take_offline.valueChanged.connect(lambda _v: self.validate())
        self.watch_list.textChanged.connect(self.validate)
        self.flagged.textChanged.connect(self.validate)

        self.tabs = QTabWidget()
        self.tabs.addTab(split, "Rules")
        self.tabs.addTab(general, "Watch list and wording")
        self.notice = QLabel(notice)
        self.notice.setWordWrap(True)
        self.notice.setVisible(bool(notice))
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setAccessibleName("Policy check")
        self.import_button = QPushButton("Import…")
        self.export_button = QPushButton("Export…")
        self.defaults_button = QPushButton("Restore defaults…")
        self.save_button = QPushButton("Save")
        self.save_button.setDefault(True)
        self.close_button = QPushButton("Close")
        self.import_button.clicked.connect(self.import_file)
        self.export_button.clicked.connect(self.export_file)
        self.defaults_button.clicked.connect(self.restore_defaults)
        self.save_button.clicked.connect(self.save)
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        for button in (self.import_button, self.export_button, self.defaults_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.notice)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.resize(980, 680)
        self.load(policy)

    # -- the policy in the editor ----------------------------------------------------------------

    def load(self, policy: Policy) -> None:
        """Show a policy (opening, import, restore defaults); unsaved until Save."""
        self.model.set_rules(policy.rules)
        for edit, text in (
            (self.watch_list, "\n".join(policy.watch_list)),
            (self.flagged, flagged_to_text(policy.flagged_phrases)),
        ):
            edit.blockSignals(True)
            edit.setPlainText(text)
            edit.blockSignals(False)
        self.take_offline.blockSignals(True)
        self.take_offline.setValue(policy.take_offline_after)
        self.take_offline.blockSignals(False)
        self.select_row(0)
        self.validate()

    def policy(self) -> Policy:
        """What the editor holds now (perhaps not valid: see ``problem``)."""
        return Policy(
            rules=self.model.rules(),
            watch_list=lines_of(self.watch_list.toPlainText()),
            flagged_phrases=flagged_from_text(self.flagged.toPlainText()),
            take_offline_after=self.take_offline.value(),
        )

    @property
    def dirty(self) -> bool:
        return self.policy() != self._saved

    def validate(self) -> bool:
        policy = self.policy()
        try:
            check_policy(policy)
        except PolicyError as error:
            self.problem = error
        else:
            self.problem = None
        problem = self.problem
        row = -1
        field: str | None = None
        if problem is not None and problem.path[:1] == ("rule",) and len(problem.path) > 1:
            row = int(problem.path[1]) - 1
            field = ".".join(str(p) for p in problem.path[2:]) or "name"
        self.model.set_problem_row(row)
        self.form.show_problem(field if row == self.current_row() else None)
        if problem is not None:
            self.message.setText(describe_problem(problem, policy) + " Fix this to save.")
            self.message.setStyleSheet("color: #B91C1C")
        else:
            shadow = shadowing_rule(policy)
            self.message.setText(
                f"“{shadow.name}” has no conditions, so it matches everything: the rules below "
                "it never apply. Add conditions, or move it to the end."
                if shadow
                else ("Unsaved changes." if self.dirty else "The policy is in use.")
            )
            self.message.setStyleSheet("color: #B45309" if shadow else "color: gray")
        self.save_button.setEnabled(problem is None and self.dirty)
        self.export_button.setEnabled(problem is None)
        self._update_buttons()
        return problem is None

    # -- rules -------------------------------------------------------------------------------

    def current_row(self) -> int:
        return self.list.currentIndex().row()

    def select_row(self, row: int) -> None:
        if 0 <= row < self.model.rowCount():
            self.list.setCurrentIndex(self.model.index(row, 0))
        else:
            self.form.set_rule(None)
            self._update_buttons()

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.form.set_rule(self.model.rule(current.row()) if current.isValid() else None)
        self.validate()

    def _enabled_toggled(self, row: int) -> None:
        rule = self.model.rule(row)
        if row == self.current_row() and rule is not None:
            self.form.enabled.blockSignals(True)
            self.form.enabled.setChecked(rule.enabled)
            self.form.enabled.blockSignals(False)
        self.validate()

    def _form_edited(self) -> None:
        row = self.current_row()
        if row >= 0:
            self.model.set_rule(row, self.form.rule())
        self.validate()

    def _update_buttons(self) -> None:
        row, count = self.current_row(), self.model.rowCount()
        self.delete_button.setEnabled(row >= 0)
        self.up_button.setEnabled(row > 0)
        self.down_button.setEnabled(0 <= row < count - 1)

    def add_rule(self) -> None:
        names = {r.name.casefold() for r in self.model.rules()}
        name, n = "New rule", 1
        while name.casefold() in names:
            n += 1
            name = f"New rule {n}"
        rules = self.model.rules()
        row = self.current_row() + 1 if self.current_row() >= 0 else len(rules)
        if rules and row >= len(rules) and rules[-1].when.empty:
            row = len(rules) - 1  # keep the catch-all last
        row = self.model.insert_rule(row, Rule(name=name))
        self.select_row(row)
        self.form.name.setFocus()
        self.form.name.selectAll()

    def delete_rule(self) -> None:
        row = self.current_row()
        rule = self.model.rule(row)
        if rule is None:
            return
        if not self.asker.confirm("Delete rule", f"Delete the rule “{rule.name}”?"):
            return
        self.model.remove_rule(row)
        self.select_row(min(row, self.model.rowCount() - 1))
        self.validate()

    def move_rule(self, step: int) -> None:
        row = self.current_row()
        if row < 0:
            return
        self.select_row(self.model.move_rule(row, step))
        self.validate()

    # -- files, defaults, saving -------------------------------------------------------------------

    def import_file(self) -> None:
        if self.dirty and not self.asker.confirm(
            "Import a policy", "Replace the rules in the editor (your unsaved changes) with a file?"
        ):
            return
        path = self.paths.ask_open_path("Import a policy", FILE_FILTER)
        if path is None:
            return
        try:
            policy = import_policy(path)
        except PolicyFileError as error:
            self.asker.inform("This policy file cannot be used", f"{path.name}: {error}")
            return
        self.load(policy)
        self.message.setText(
            f"Imported {len(policy.rules)} rules from {path.name}. Save to start using them."
        )

    def export_file(self) -> None:
        if not self.validate():
            return
        path = self.paths.ask_save_path("Export the policy", "kindly-policy.toml", FILE_FILTER)
        if path is None:
            return
        if not path.suffix:
            path = path.with_suffix(".toml")
        try:
            export_policy(self.policy(), path)
        except OSError as error:
            self.asker.inform("The policy was not exported", f"{path}: {error.strerror or error}")
            return
        self.message.setText(f"Exported to {path}.")

    def restore_defaults(self) -> None:
        if self.asker.confirm(
            "Restore the default policy",
            "Replace the rules in the editor with the policy Kindly ships with? "
            "Nothing changes until you save.",
        ):
            self.load(default_policy())

    def save(self) -> None:
        if not self.validate():
            return
        policy = self.policy()
        self._saved = policy
        self.saved.emit(policy)
        self.validate()
        self.message.setText("Saved: new mentions and the inbox now follow this policy.")

    def reject(self) -> None:
        """Close, Esc and the window's close button: unsaved changes are asked about once."""
        if self.dirty and not self.asker.confirm(
            "Unsaved changes", "Close the policy editor without saving your changes?"
        ):
            return
        super().reject()
