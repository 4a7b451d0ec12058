"""Paints one case in the list: who, where, when, the last words, and why it is here.

Cases that need a reply show their clock: an overdue case has a red bar and badge, one at risk
an amber one, and in vacation mode a grey "paused". ``urgency_of`` (set by the window) says
which, from the row's stored due time and the office hours; without it no clock is shown.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from app.core.inbox import CaseRowData
from app.core.triage import Urgency
from app.ui.case_list_model import RowRole, ago
from app.ui.style import NETWORK_COLOURS, NETWORK_SHORT, STATUS_COLOURS

PAD = 8
URGENCY_LOOK = {  # badge text, colour
    Urgency.OVERDUE: ("Overdue", "#B91C1C"),
    Urgency.AT_RISK: ("At risk", "#D97706"),
    Urgency.PAUSED: ("Paused", "#6B7280"),
}
CLOCKED_STATUSES = ("new", "open")
# Out of the inbox, the why line is kept when a decision put the case there; waiting and
# resolved cases say how long the conversation was instead.
DECIDED_STATUSES = ("left_alone", "escalated")


def info_text(row: CaseRowData) -> str:
    """The small line under the snippet: why the case is here."""
    if row.why and row.status in CLOCKED_STATUSES:
        return row.why
    if row.why and row.status in DECIDED_STATUSES:  # "left alone · officer" beside "left alone"
        shown = row.why.removeprefix(row.status.replace("_", " ") + " · ")
        return "decided by the officer" if shown == "officer" else shown
    messages = f"{row.mention_count} message{'s' if row.mention_count != 1 else ''}"
    if row.reply_count:
        return f"{messages} · {row.reply_count} repl{'y' if row.reply_count == 1 else 'ies'}"
    return messages


class CaseDelegate(QStyledItemDelegate):
    urgency_of: Callable[[CaseRowData], Urgency | None] | None = None

    def urgency(self, row: CaseRowData) -> Urgency | None:
        if self.urgency_of is None or row.status not in CLOCKED_STATUSES:
            return None
        return self.urgency_of(row)

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        line = QFontMetrics(option.font).height()
        # Narrow: the row takes the list's width (text elided); wider hints add a sideways scrollbar
        return QSize(160, PAD * 2 + line * 3 + 4)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        row = index.data(RowRole)
        if row is None:
            super().paint(painter, option, index)
            return
        painter.save()
        rect: QRect = option.rect  # type: ignore[attr-defined]
        palette = option.palette  # type: ignore[attr-defined]
        selected = bool(option.state & QStyle.StateFlag.State_Selected)  # type: ignore[attr-defined]
        if selected:
            painter.fillRect(rect, palette.highlight())
        urgency = self.urgency(row)
        look = URGENCY_LOOK.get(urgency) if urgency is not None else None
        if look is not None:
            painter.fillRect(
                QRect(rect.left(), rect.top() + 2, 4, rect.height() - 4), QColor(look[1])
            )
        text_colour = palette.highlightedText().color() if selected else palette.text().color()
        muted = QColor(text_colour)
        muted.setAlpha(150)
        font = QFont(option.font)  # type: ignore[attr-defined]
        metrics = QFontMetrics(font)
        line = metrics.height()
        inner = rect.adjusted(PAD, PAD, -PAD, -PAD)

        badge = QRect(inner.left(), inner.top(), line, line)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(NETWORK_COLOURS.get(row.network, "#888")))
        painter.drawRoundedRect(badge, 4, 4)
        painter.setPen(QColor("white"))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, NETWORK_SHORT.get(row.network, "?"))

        when = ago(row.last_activity_at)
        when_width = metrics.horizontalAdvance(when) + 4
        bold = QFont(font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(text_colour)
        name = row.display_name or row.handle or "Someone"
        name_rect = QRect(
            badge.right() + 6, inner.top(), inner.width() - line - 6 - when_width, line
        )
        painter.drawText(
            name_rect,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            QFontMetrics(bold).elidedText(name, Qt.TextElideMode.ElideRight, name_rect.width()),
        )
        painter.setFont(font)
        painter.setPen(muted)
        painter.drawText(
            QRect(inner.right() - when_width, inner.top(), when_width, line),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            when,
        )

        painter.setPen(text_colour)
        snippet_rect = QRect(inner.left(), inner.top() + line + 2, inner.width(), line)
        painter.drawText(
            snippet_rect,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            metrics.elidedText(row.snippet, Qt.TextElideMode.ElideRight, snippet_rect.width()),
        )

        status = row.status.replace("_", " ")
        small = QFont(font)
        small.setPointSizeF(max(6.0, font.pointSizeF() * 0.85))
        painter.setFont(small)
        small_metrics = QFontMetrics(small)
        info_top = inner.top() + 2 * line + 4
        if look is not None:
            badge_font = QFont(small)
            badge_font.setBold(True)
            badge_width = QFontMetrics(badge_font).horizontalAdvance(look[0]) + 10
            badge_rect = QRect(inner.left(), info_top + 1, badge_width, line - 2)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(look[1]))
            painter.drawRoundedRect(badge_rect, 3, 3)
            painter.setFont(badge_font)
            painter.setPen(QColor("white"))
            painter.drawText(badge_rect, Qt.AlignmentFlag.AlignCenter, look[0])
            painter.setFont(small)
            inner = inner.adjusted(badge_width + 6, 0, 0, 0)
        status_width = small_metrics.horizontalAdvance(status) + 8
        painter.setPen(
            QColor(STATUS_COLOURS.get(row.status, "#888")) if not selected else text_colour
        )
        painter.drawText(
            QRect(inner.left(), info_top, status_width, line),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            status,
        )
        painter.setPen(muted)
        why = info_text(row)
        why_rect = QRect(inner.left() + status_width, info_top, inner.width() - status_width, line)
        painter.drawText(
            why_rect,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            small_metrics.elidedText(why, Qt.TextElideMode.ElideRight, why_rect.width()),
        )
        painter.restore()
