"""The policy editor driven as the officer would: order, conditions, outcome, checks, files."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QStyleOptionViewItem

from app.core.context import AppContext
from app.core.policy import (
    Conditions,
    Outcome,
    Policy,
    Rule,
    default_policy,
    load_policy,
    policy_to_text,
    read_policy_text,
)
from app.core.vocab import Network, Stance
from app.ui.main_window import MainWindow
from app.ui.policy_editor import PolicyEditor, describe_problem, flagged_from_text
from app.ui.rule_list_model import RuleListModel, RuleRole
from app.ui.tasks import ImmediateRunner
from tests.ui.conftest import ScriptedAsker

SMALL = Policy(
    rules=(
        Rule("Legal", Outcome.ESCALATE, Conditions(words=("lawyer",)), 4, reason="Legal matter"),
        Rule("Spam", Outcome.SPAM, Conditions(words=("crypto",), has_link=True), reason="Spam"),
        Rule("Everything else", Outcome.RESPOND),
    ),
    watch_list=("@troll@example.social",),
)


class Paths:
    """Answers the editor's file questions from a script."""

    def __init__(self, open_path: Path | None = None, save_path: Path | None = None) -> None:
        self.opened, self.saved = open_path, save_path
        self.asked: list[str] = []

    def ask_open_path(self, title: str, filters: str) -> Path | None:
        self.asked.append(title)
        return self.opened

    def ask_save_path(self, title: str, suggested: str, filters: str) -> Path | None:
        self.asked.append(title)
        return self.saved


@pytest.fixture
def paths() -> Paths:
    return Paths()


@pytest.fixture
def editor(qtbot, asker: ScriptedAsker, paths: Paths) -> PolicyEditor:
    dialog = PolicyEditor(SMALL, asker, paths)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def names(editor: PolicyEditor) -> list[str]:
    return [r.name for r in editor.policy().rules]


def test_the_rule_model_passes_the_model_tester(qtmodeltester) -> None:
    model = RuleListModel(default_policy().rules)
    qtmodeltester.check(model)
    model.move_rule(0, 1)
    model.insert_rule(2, Rule("Inserted"))
    model.remove_rule(5)
    model.setData(model.index(1, 0), Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole)
    qtmodeltester.check(model)
    assert model.data(model.index(1, 0), RuleRole).enabled is False


def test_rules_are_listed_in_order_with_their_outcome(editor: PolicyEditor) -> None:
    delegate = editor.list.itemDelegate()
    shown = []
    for row in range(editor.model.rowCount()):
        option = QStyleOptionViewItem()
        delegate.initStyleOption(option, editor.model.index(row, 0))
        shown.append(option.text)
    assert shown == [
        "1. Legal — Escalate within 4 h",
        "2. Spam — Spam",
        "3. Everything else — Respond (standard target)",
    ]
    assert editor.form.name.text() == "Legal"  # the first rule is open
    assert not editor.save_button.isEnabled()  # nothing changed yet
    # A long line is cut to the list's width (no sideways scrolling); its tooltip has it whole.
    assert editor.list.textElideMode() == Qt.TextElideMode.ElideRight
    assert editor.list.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff
    tip = editor.model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith("Legal — Escalate within 4 h")


def test_move_up_and_down_reorders_and_keeps_the_rule_selected(qtbot, editor) -> None:
    editor.select_row(1)
    qtbot.mouseClick(editor.up_button, Qt.MouseButton.LeftButton)
    assert names(editor) == ["Spam", "Legal", "Everything else"]
    assert editor.current_row() == 0 and not editor.up_button.isEnabled()
    qtbot.mouseClick(editor.down_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(editor.down_button, Qt.MouseButton.LeftButton)
    assert names(editor) == ["Legal", "Everything else", "Spam"]
    assert editor.form.name.text() == "Spam" and not editor.down_button.isEnabled()
    assert editor.save_button.isEnabled()


def test_a_new_rule_goes_before_the_catch_all_and_is_edited_in_the_form(qtbot, editor) -> None:
    editor.select_row(2)  # "Everything else", which has no conditions
    qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)
    assert names(editor) == ["Legal", "Spam", "New rule", "Everything else"]
    form = editor.form
    # A rule without conditions above the others would shadow them: the editor says so.
    assert "matches everything" in editor.message.text()
    form.name.selectAll()
    qtbot.keyClicks(form.name, "Big accounts complaining")
    form.words.setPlainText("refund*\nnot happy, broken")
    form.networks[Network.X].setChecked(True)
    form.stances[Stance.OPPONENT].setChecked(True)
    form.min_followers.check.setChecked(True)
    form.min_followers.spin.setValue(5000)
    form.sentiment_below.check.setChecked(True)
    form.sentiment_below.spin.setValue(-0.3)
    form.reply_to_us.setCurrentIndex(form.reply_to_us.findText("yes"))
    form.has_link.setCurrentIndex(form.has_link.findText("no"))
    form.on_watch_list.setCurrentIndex(form.on_watch_list.findText("no"))
    form.pattern.setText(r"\border\b")
    form.outcome.setCurrentIndex(form.outcome.findData(Outcome.RESPOND.value))
    form.within.setValue(1.5)
    form.reminder.setPlainText("Answer in public first.")
    rule = editor.policy().rules[2]
    assert rule == Rule(
        name="Big accounts complaining",
        outcome=Outcome.RESPOND,
        when=Conditions(
            words=("refund*", "not happy", "broken"),
            pattern=r"\border\b",
            networks=(Network.X,),
            stances=(Stance.OPPONENT,),
            min_followers=5000,
            sentiment_below=-0.3,
            reply_to_us=True,
            has_link=False,
            on_watch_list=False,
        ),
        respond_within_hours=1.5,
        reminder="Answer in public first.",
    )
    assert "Unsaved changes" in editor.message.text()
    assert editor.save_button.isEnabled()


def test_a_bad_field_is_named_outlined_and_blocks_saving(qtbot, editor) -> None:
    editor.select_row(0)
    editor.form.pattern.setText("(unclosed")
    assert editor.message.text().startswith("Rule 1 “Legal”, pattern: not a valid regular expr")
    assert not editor.save_button.isEnabled() and not editor.export_button.isEnabled()
    assert "B91C1C" in editor.form.pattern.styleSheet()
    assert editor.model.data(editor.model.index(0, 0)) == "⚠ Legal — Escalate within 4 h"
    editor.form.pattern.setText("(closed)")
    assert editor.save_button.isEnabled()
    assert editor.form.pattern.styleSheet() == ""
    assert not editor.model.data(editor.model.index(0, 0)).startswith("⚠")


def test_leaving_alone_needs_a_reason_and_has_no_reply_time(qtbot, editor) -> None:
    editor.select_row(0)
    form = editor.form
    form.outcome.setCurrentIndex(form.outcome.findData(Outcome.LEAVE_ALONE.value))
    assert not form.within.isEnabled()
    form.reason.clear()
    assert "reason" in editor.message.text() and not editor.save_button.isEnabled()
    qtbot.keyClicks(form.reason, "Not ours to answer")
    assert editor.save_button.isEnabled()
    assert editor.policy().rules[0].respond_within_hours is None


def test_two_rules_with_one_name_are_refused(qtbot, editor) -> None:
    editor.select_row(1)
    editor.form.name.setText("legal")
    assert "already used by rule 1" in editor.message.text()
    assert not editor.save_button.isEnabled()


def test_the_checkbox_turns_a_rule_off(editor: PolicyEditor) -> None:
    index = editor.model.index(1, 0)
    editor.model.setData(index, Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole)
    assert editor.policy().rules[1].enabled is False
    assert editor.save_button.isEnabled()
    editor.select_row(1)
    assert not editor.form.enabled.isChecked()
    editor.model.setData(index, Qt.CheckState.Checked.value, Qt.ItemDataRole.CheckStateRole)
    assert editor.form.enabled.isChecked() and not editor.dirty


def test_delete_asks_first(qtbot, editor, asker: ScriptedAsker) -> None:
    editor.select_row(1)
    qtbot.mouseClick(editor.delete_button, Qt.MouseButton.LeftButton)  # the asker says no
    assert names(editor) == ["Legal", "Spam", "Everything else"]
    asker.confirms.append(True)
    qtbot.mouseClick(editor.delete_button, Qt.MouseButton.LeftButton)
    assert names(editor) == ["Legal", "Everything else"]
    assert editor.form.name.text() == "Everything else"


def test_watch_list_and_wording_to_avoid(editor: PolicyEditor) -> None:
    editor.watch_list.setPlainText("@troll@example.social\n\n  @another@x  \n")
    editor.flagged.setPlainText("calm down → I understand\nobviously\nas I said -> To recap")
    editor.take_offline.setValue(4)
    policy = editor.policy()
    assert policy.watch_list == ("@troll@example.social", "@another@x")
    assert [(f.phrase, f.suggestion) for f in policy.flagged_phrases] == [
        ("calm down", "I understand"),
        ("obviously", ""),
        ("as I said", "To recap"),
    ]
    assert policy.take_offline_after == 4
    assert flagged_from_text("") == ()


def test_save_emits_the_checked_policy(qtbot, editor) -> None:
    editor.select_row(2)
    editor.form.within.setValue(3)
    with qtbot.waitSignal(editor.saved) as saved:
        qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    assert saved.args[0].rules[2].respond_within_hours == 3
    assert not editor.dirty and not editor.save_button.isEnabled()


def test_export_then_import_gives_the_same_policy(qtbot, editor, paths, tmp_path) -> None:
    target = tmp_path / "our-policy"
    paths.saved = target
    qtbot.mouseClick(editor.export_button, Qt.MouseButton.LeftButton)
    written = tmp_path / "our-policy.toml"
    assert written.read_text(encoding="utf-8") == policy_to_text(SMALL)
    assert "Exported to" in editor.message.text()

    changed = replace(SMALL, rules=SMALL.rules[::-1], watch_list=())
    written.write_text(policy_to_text(changed), encoding="utf-8")
    paths.opened = written
    qtbot.mouseClick(editor.import_button, Qt.MouseButton.LeftButton)
    assert editor.policy() == changed
    assert "Imported 3 rules from our-policy.toml" in editor.message.text()
    assert editor.save_button.isEnabled()  # not in use until saved


def test_a_damaged_file_is_refused_with_its_line(qtbot, editor, paths, asker, tmp_path) -> None:
    broken = tmp_path / "broken.toml"
    text = policy_to_text(SMALL).replace('outcome = "spam"', 'outcome = "reply"')
    broken.write_text(text, encoding="utf-8")
    paths.opened = broken
    qtbot.mouseClick(editor.import_button, Qt.MouseButton.LeftButton)
    assert editor.policy() == SMALL  # unchanged
    [message] = asker.informed
    assert message.startswith("broken.toml: line ") and "unknown outcome 'reply'" in message


def test_importing_over_unsaved_changes_asks_first(qtbot, editor, paths, asker) -> None:
    editor.take_offline.setValue(9)
    qtbot.mouseClick(editor.import_button, Qt.MouseButton.LeftButton)
    assert asker.asked == ["Import a policy"] and paths.asked == []  # said no: no file dialog


def test_restore_defaults_and_close_with_unsaved_changes(qtbot, editor, asker) -> None:
    asker.confirms.append(True)
    qtbot.mouseClick(editor.defaults_button, Qt.MouseButton.LeftButton)
    assert editor.policy() == default_policy()
    qtbot.mouseClick(editor.close_button, Qt.MouseButton.LeftButton)  # asks; the answer is no
    assert editor.isVisible() and asker.asked[-1] == "Unsaved changes"
    asker.confirms.append(True)
    qtbot.mouseClick(editor.close_button, Qt.MouseButton.LeftButton)
    assert not editor.isVisible()


def test_problems_outside_rules_are_described() -> None:
    from app.core.policy import PolicyError

    error = PolicyError("a watch-list entry is empty", ("watch_list", 2))
    assert describe_problem(error, SMALL) == "Watch list, line 2: a watch-list entry is empty"


# -- in the window ---------------------------------------------------------------------------------


@pytest.fixture
def window(qtbot, demo_context: AppContext, asker, qsettings: QSettings) -> MainWindow:
    win = MainWindow(demo_context, asker=asker, qsettings=qsettings, runner=ImmediateRunner())
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


def test_saving_in_the_window_stores_the_policy_and_triage_follows_it(qtbot, window) -> None:
    actions = window.policy_actions
    actions.act_policy.trigger()
    editor = actions.policy_editor
    assert editor is not None and editor.isVisible()
    assert editor.policy() == default_policy()
    editor.select_row(0)
    editor.form.name.setText("Threats, safety and danger")
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    assert load_policy().rules[0].name == "Threats, safety and danger"
    assert window.context.triage.policy.rules[0].name == "Threats, safety and danger"
    assert read_policy_text(policy_to_text(load_policy())) == load_policy()


class FileAsker(ScriptedAsker):
    """A window asker that can also choose files (the seam exports use)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def ask_open_path(self, title: str, filters: str) -> Path | None:
        return self.path

    def ask_save_path(self, title: str, suggested: str, filters: str) -> Path | None:
        return self.path


def test_the_window_editor_chooses_files_through_the_windows_asker(
    qtbot, demo_context, qsettings, tmp_path
) -> None:
    asker = FileAsker(tmp_path / "policy.toml")
    win = MainWindow(demo_context, asker=asker, qsettings=qsettings, runner=ImmediateRunner())
    qtbot.addWidget(win)
    win.policy_actions.act_policy.trigger()
    editor = win.policy_actions.policy_editor
    assert editor is not None
    qtbot.mouseClick(editor.export_button, Qt.MouseButton.LeftButton)
    assert read_policy_text(asker.path.read_text(encoding="utf-8")) == default_policy()
    win.shutdown()
