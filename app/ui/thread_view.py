"""A case's thread: their mentions and our replies in order, with times, notes and decisions.

All text from a network is escaped here and shown as plain text. The view builds its own
minimal HTML for layout only; it loads no resource of any kind (``loadResource`` returns
nothing), so a mention can never execute, fetch an image or track the reader.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QTextBrowser, QWidget

from app.core.inbox import CaseDetail, ThreadItem
from app.core.triage import sentiment_label

SEND_ANYWAY = "kindly:send-anyway/"  # a link on a failed reply; never leaves the app
STATE_LABELS = {
    "queued": "queued — will be sent when the account is online",
    "sending": "sending…",
    "sent": "sent",
    "failed": "failed",
    "draft": "draft",
}


def _text(value: str) -> str:
    return html.escape(value).replace("\n", "<br>")


def _when(item: ThreadItem) -> str:
    return item.at.astimezone().strftime("%a %d %b %H:%M")


def _sentiment(value: float | None) -> str:
    """The same words as the why line and the sentiment button (``sentiment_label``)."""
    return "" if value is None else f" · {sentiment_label(value)}"


def render_thread(detail: CaseDetail) -> str:
    parts = ["<div style='font-size: 10pt'>"]
    for item in detail.items:
        if item.kind == "mention":
            link = ""
            if item.url and item.url.startswith(("https://", "http://")):
                href = html.escape(item.url, quote=True)
                where = "the article" if item.state == "feed" else f"on {detail.network.label}"
                link = f" · <a href='{href}'>open {where}</a>"
            heard = "" if item.addressed_to_us else " · not addressed to you"  # search or feed
            parts.append(
                "<table width='100%' cellpadding='8' style='margin: 4px 60px 8px 0;"
                " background: palette(alternate-base)'><tr><td>"
                f"<b>{html.escape(item.who)}</b> <span style='color: gray'>· {_when(item)}"
                f"{_sentiment(item.sentiment)}{heard}{link}</span><br>{_text(item.text)}"
                "</td></tr></table>"
            )
        elif item.kind == "reply":
            state = STATE_LABELS.get(item.state, item.state)
            colour = "#B91C1C" if item.state == "failed" else "gray"
            if item.state == "failed" and item.reply_id is not None:  # see Sender.send_anyway
                state += f" · <a href='{SEND_ANYWAY}{item.reply_id}'>send anyway</a>"
            parts.append(
                "<table width='100%' cellpadding='8' style='margin: 4px 0 8px 60px;"
                " background: #E8F0FE; color: #111'><tr><td>"
                f"<b>You</b> <span style='color: {colour}'>· {_when(item)} · {state}</span><br>"
                f"{_text(item.text)}</td></tr></table>"
            )
        elif item.kind == "note":
            parts.append(
                "<p style='margin: 6px 40px; color: #7C5E10'>"
                f"📝 <i>Note · {_when(item)}</i><br>{_text(item.text)}</p>"
            )
        else:
            parts.append(
                f"<p style='margin: 2px 40px; color: gray; font-size: 9pt'>"
                f"{_when(item)} · {html.escape(item.text)}"
                f"{' · ' + html.escape(item.who) if item.who else ''}</p>"
            )
    parts.append("</div>")
    return "".join(parts)


class ThreadView(QTextBrowser):
    """Read-only thread; links open in the browser only when clicked."""

    link_opened = Signal(QUrl)
    send_anyway_requested = Signal(int)  # reply id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setReadOnly(True)
        self.anchorClicked.connect(self._open)
        self.setAccessibleName("Conversation")
        self.setPlaceholderText("Pick a case to read the conversation.")

    def show_case(self, detail: CaseDetail | None) -> None:
        if detail is None:
            self.clear()
            return
        self.setHtml(render_thread(detail))
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())

    def loadResource(self, kind: int, url: QUrl | str) -> Any:
        return None  # never fetch images, stylesheets or anything else

    def _open(self, url: QUrl) -> None:
        text = url.toString()
        if text.startswith(SEND_ANYWAY) and text[len(SEND_ANYWAY) :].isdigit():
            self.send_anyway_requested.emit(int(text[len(SEND_ANYWAY) :]))
            return
        if url.scheme() in ("https", "http"):
            self.link_opened.emit(url)
            QDesktopServices.openUrl(url)
