"""The policy's rules as a list model: in order, each with its on/off checkbox.

Edits are targeted (``dataChanged``, inserts, removes, moves); only loading a whole policy
resets the model. ``RuleRole`` gives the ``Rule`` of a row; ``NumberedDelegate`` shows the
place of each rule in the order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem

from app.core.policy import Rule
from app.core.policy.rules import hours_text

Index = QModelIndex | QPersistentModelIndex
RuleRole = Qt.ItemDataRole.UserRole + 1


def rule_summary(rule: Rule) -> str:
    """ "Escalate within 1 h", "Leave alone", "Respond (standard target)"."""
    if rule.outcome.has_clock:
        hours = rule.respond_within_hours
        within = f"within {hours_text_of(hours)}" if hours else "(standard target)"
        return f"{rule.outcome.label} {within}"
    return rule.outcome.label


def hours_text_of(hours: float) -> str:
    return hours_text(timedelta(hours=hours))


class NumberedDelegate(QStyledItemDelegate):
    """Shows each rule with its place in the order ("3. Press — …"). The number is painted,
    not part of the model's data, so moving one rule changes no other row's data."""

    def initStyleOption(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        super().initStyleOption(option, index)
        option.text = f"{index.row() + 1}. {option.text}"  # type: ignore[attr-defined]


class RuleListModel(QAbstractListModel):
    """The rules in order; the checkbox turns a rule on or off. Edits are targeted
    (``dataChanged``, inserts, removes, moves); only loading a whole policy resets.
    ``enabled_toggled(row)`` says the checkbox of a row was used."""

    enabled_toggled = Signal(int)

    def __init__(self, rules: Sequence[Rule] = (), parent: Any = None) -> None:
        super().__init__(parent)
        self._rules = list(rules)
        self._problem_row = -1

    def rules(self) -> tuple[Rule, ...]:
        return tuple(self._rules)

    def set_rules(self, rules: Sequence[Rule]) -> None:
        self.beginResetModel()
        self._rules = list(rules)
        self._problem_row = -1
        self.endResetModel()

    def rule(self, row: int) -> Rule | None:
        return self._rules[row] if 0 <= row < len(self._rules) else None

    def set_rule(self, row: int, rule: Rule) -> None:
        if 0 <= row < len(self._rules) and self._rules[row] != rule:
            self._rules[row] = rule
            self._changed(row)

    def insert_rule(self, row: int, rule: Rule) -> int:
        row = max(0, min(row, len(self._rules)))
        self.beginInsertRows(QModelIndex(), row, row)
        self._rules.insert(row, rule)
        self.endInsertRows()
        return row

    def remove_rule(self, row: int) -> Rule | None:
        if not 0 <= row < len(self._rules):
            return None
        self.beginRemoveRows(QModelIndex(), row, row)
        removed = self._rules.pop(row)
        self.endRemoveRows()
        return removed

    def move_rule(self, row: int, step: int) -> int:
        """Move a rule one place up (-1) or down (+1); returns its new row."""
        target = row + step
        if step not in (-1, 1) or not 0 <= row < len(self._rules):
            return row
        if not 0 <= target < len(self._rules):
            return row
        destination = target + 1 if step > 0 else target  # Qt counts before the move
        self.beginMoveRows(QModelIndex(), row, row, QModelIndex(), destination)
        self._rules.insert(target, self._rules.pop(row))
        self.endMoveRows()
        return target

    def set_problem_row(self, row: int) -> None:
        """Mark the rule a problem is about (-1: none)."""
        if row == self._problem_row:
            return
        old, self._problem_row = self._problem_row, row
        for changed in (old, row):
            if 0 <= changed < len(self._rules):
                self._changed(changed)

    def _changed(self, row: int) -> None:
        index = self.index(row, 0)
        self.dataChanged.emit(index, index)

    # -- model API -----------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rules)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rules):
            return None
        rule = self._rules[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            mark = "⚠ " if index.row() == self._problem_row else ""
            name = rule.name or "(no name)"
            return f"{mark}{name} — {rule_summary(rule)}"  # NumberedDelegate adds "3. "
        if role == Qt.ItemDataRole.ToolTipRole:  # the whole line, which the list may cut
            line = f"{rule.name or '(no name)'} — {rule_summary(rule)}"
            return f"{line}\n{rule.note}" if rule.note else line
        if role == Qt.ItemDataRole.CheckStateRole:
            return Qt.CheckState.Checked if rule.enabled else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.AccessibleTextRole:
            state = "on" if rule.enabled else "off"
            return f"Rule {rule.name}, {rule_summary(rule)}, {state}"
        if role == RuleRole:
            return rule
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.CheckStateRole or not index.isValid():
            return False
        if not 0 <= index.row() < len(self._rules):
            return False
        on = value in (Qt.CheckState.Checked, Qt.CheckState.Checked.value, 2, True)
        self.set_rule(index.row(), replace(self._rules[index.row()], enabled=on))
        self.enabled_toggled.emit(index.row())
        return True

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemIsUserCheckable
            | Qt.ItemFlag.ItemNeverHasChildren
        )
