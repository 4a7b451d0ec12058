"""Paints one case in the list: who, where, when, the last words, and why it is here."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from app.ui.case_list_model import RowRole, ago
from app.ui.style import NETWORK_COLOURS, NETWORK_SHORT, STATUS_COLOURS

PAD = 8


class CaseDelegate(QStyledItemDelegate):
    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        line = QFontMetrics(option.font).height()
        return QSize(320, PAD * 2 + line * 3 + 4)

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
        status_width = small_metrics.horizontalAdvance(status) + 8
        info_top = inner.top() + 2 * line + 4
        painter.setPen(
            QColor(STATUS_COLOURS.get(row.status, "#888")) if not selected else text_colour
        )
        painter.drawText(
            QRect(inner.left(), info_top, status_width, line),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            status,
        )
        painter.setPen(muted)
        why = row.why or f"{row.mention_count} message{'s' if row.mention_count != 1 else ''}"
        why_rect = QRect(inner.left() + status_width, info_top, inner.width() - status_width, line)
        painter.drawText(
            why_rect,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            small_metrics.elidedText(why, Qt.TextElideMode.ElideRight, why_rect.width()),
        )
        painter.restore()
