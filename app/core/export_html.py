"""Cases as one self-contained HTML page, for someone without Kindly (a colleague, a lawyer, the
board): the thread with times and links, our replies, notes, decisions and the closing checklist.

Mention text is hostile by assumption. Every piece of text, ours or theirs, is HTML-escaped;
the page has no script, no image, no font or style sheet from anywhere, and a Content Security
Policy that forbids loading anything, so opening it fetches nothing. Links are plain anchors
(and only ``http``/``https`` ones; anything else is shown as text), so nothing is followed
unless the reader clicks. The same HTML is what the PDF export prints (``app.ui.export_dialog``).

Cases are written one at a time to a stream (``write_cases_html``), so a long selection is never
held whole; ``case_ids`` pages through the inbox by keyset for a filtered set.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import TextIO
from zoneinfo import ZoneInfo

from app.core.checklist import STEPS, Checklist, ChecklistStore, EventChecklistStore
from app.core.inbox import CaseDetail, CaseQuery, Inbox, SortKey, ThreadItem
from app.core.triage.sentiment import sentiment_label
from app.core.vocab import CaseStatus, EventKind

HIDDEN_EVENTS = frozenset({"checklist"})  # shown as the checklist itself, not as raw history
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; form-action 'none'"

STYLE = """
body { font-family: "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; font-size: 10pt;
       color: #1d2330; max-width: 52em; margin: 1.5em auto; line-height: 1.4; }
h1 { font-size: 16pt; margin-bottom: 0.2em; }
h2 { font-size: 13pt; margin-top: 1.6em; border-bottom: 1px solid #c8cdd6; }
h3 { font-size: 11pt; margin-bottom: 0.3em; }
.meta { color: #596273; }
table.facts td { padding: 1px 10px 1px 0; vertical-align: top; }
.item { margin: 0.5em 0; padding: 0.4em 0.6em; border-left: 3px solid #c8cdd6; }
.mention { border-left-color: #4a78c2; }
.reply { border-left-color: #2e8b57; background: #f3faf5; }
.note { border-left-color: #c9a227; background: #fdf9ec; }
.event { border-left-color: #9aa3b2; color: #465064; }
.head { font-size: 9pt; color: #596273; }
.text { white-space: pre-wrap; }
"""


def case_ids(inbox: Inbox, query: CaseQuery, page: int = 200) -> Iterator[int]:
    """The ids of every case ``query`` selects, a keyset page at a time."""
    after: SortKey | None = None
    while True:
        rows = inbox.page(query, after, page)
        yield from (row.id for row in rows)
        if len(rows) < page:
            return
        after = rows[-1].sort_key


def e(text: object) -> str:
    """Escape for element content and quoted attributes."""
    return html.escape(str(text), quote=True)


def link(url: str | None, label: str | None = None) -> str:
    """An anchor for an http(s) URL; any other scheme (javascript:, data:, file:) as text."""
    if not url:
        return ""
    shown = e(label if label is not None else url)
    if not url.lower().startswith(("https://", "http://")):
        return shown
    return f'<a href="{e(url)}" rel="noopener noreferrer nofollow">{shown}</a>'


class CaseHtmlWriter:
    """Writes the page: ``begin``, then ``case`` for each case, then ``end``."""

    def __init__(
        self,
        out: TextIO,
        zone: str = "UTC",
        checklists: ChecklistStore | None = None,
        now: datetime | None = None,
    ) -> None:
        self.out = out
        self.tz = ZoneInfo(zone)
        self.zone = zone
        self.checklists = checklists or EventChecklistStore()
        self.now = now or datetime.now(UTC)
        self.count = 0

    def when(self, at: datetime) -> str:
        local = at.astimezone(self.tz)
        return f"{local:%Y-%m-%d %H:%M} {local.tzname() or self.zone}"

    def begin(self, title: str, organisation: str = "") -> None:
        by = f" for {e(organisation)}" if organisation else ""
        self.out.write(
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
            '<meta name="referrer" content="no-referrer">\n'
            f"<title>{e(title)}</title>\n<style>{STYLE}</style></head><body>\n"
            f"<h1>{e(title)}</h1>\n"
            f'<p class="meta">Exported from Kindly{by} on {e(self.when(self.now))}. '
            f"Times are in {e(self.zone)}. Messages are shown exactly as written; "
            "links are not followed unless you click them.</p>\n"
        )

    def case(self, detail: CaseDetail) -> None:
        self.count += 1
        checklist = self.checklists.get(detail.id)
        name = detail.display_name or detail.handle or "Someone"
        out = self.out
        out.write(
            f'<h2 id="case-{detail.id}">Case {detail.id}: {e(name)} on {e(detail.network.label)}'
            "</h2>\n"
        )
        out.write('<table class="facts">\n')
        for label, value in self._facts(detail):
            out.write(f"<tr><td><b>{e(label)}</b></td><td>{value}</td></tr>\n")
        out.write("</table>\n<h3>Conversation</h3>\n")
        for item in detail.items:
            if item.kind == "event" and item.state in HIDDEN_EVENTS:
                continue
            out.write(self._item(item))
        out.write("<h3>Closing checklist</h3>\n")
        out.write(self._checklist(checklist))

    def end(self) -> None:
        if not self.count:
            self.out.write("<p>No cases were selected.</p>\n")
        self.out.write("</body></html>\n")

    # -- parts --------------------------------------------------------------------------------

    def _facts(self, d: CaseDetail) -> list[tuple[str, str]]:
        person = e(d.display_name or "")
        if d.handle:
            person += f" ({link(d.profile_url, d.handle) if d.profile_url else e(d.handle)})"
        status = e(_status(d.status)) + (f": {e(d.status_reason)}" if d.status_reason else "")
        facts = [
            ("Person", person),
            ("Stance", e(d.stance.capitalize())),
            ("Followers", e(d.follower_count) if d.follower_count is not None else "not known"),
            ("Our account", e(d.account_handle)),
            ("Status", status),
        ]
        if d.why:
            facts.append(("Why it was in the inbox", e(d.why)))
        if d.due_at is not None:
            facts.append(("Reply due", e(self.when(d.due_at))))
        return facts

    def _item(self, item: ThreadItem) -> str:
        label, extra = _ITEM_LABELS.get(item.kind, item.kind), ""
        if item.kind == "mention" and item.sentiment is not None:
            extra = f" · {sentiment_label(item.sentiment)}"
        elif item.kind == "reply":
            extra = f" · {item.state}"
        elif item.kind == "event":
            label = _event_label(item.state)
            extra = f" · by {item.who}" if item.who else ""
        who = "" if item.kind == "event" else f"{item.who} · "
        url = f" · {link(item.url)}" if item.url else ""
        return (
            f'<div class="item {e(item.kind)}"><div class="head">{e(who)}<b>{e(label)}</b>'
            f"{e(extra)} · {e(self.when(item.at))}{url}</div>"
            f'<div class="text">{e(item.text)}</div></div>\n'
        )

    def _checklist(self, checklist: Checklist) -> str:
        rows = "".join(
            f"<li>{'☑' if step in checklist.checked else '☐'} {e(step.label)}</li>"
            for step in STEPS
        )
        return f"<ul>{rows}</ul>\n"


_ITEM_LABELS = {"mention": "Their message", "reply": "Our reply", "note": "Private note"}


def _event_label(kind: str) -> str:
    labels = {
        EventKind.DECISION.value: "Decision",
        EventKind.STATUS_CHANGED.value: "Status changed",
        EventKind.REOPENED.value: "Reopened",
        EventKind.MENTION_ADDED.value: "New message",
        EventKind.REPLY_SENT.value: "Reply sent",
        EventKind.REPLY_FAILED.value: "Reply failed",
    }
    return labels.get(kind, kind.replace("_", " ").capitalize())


def _status(value: str) -> str:
    try:
        return CaseStatus(value).label
    except ValueError:
        return value


def write_cases_html(
    ids: Iterable[int],
    out: TextIO,
    *,
    title: str = "Cases from Kindly",
    zone: str = "UTC",
    organisation: str = "",
    inbox: Inbox | None = None,
    checklists: ChecklistStore | None = None,
    now: datetime | None = None,
) -> int:
    """Write the page for the cases ``ids`` (one case read at a time); returns how many."""
    inbox = inbox or Inbox()
    writer = CaseHtmlWriter(out, zone, checklists, now)
    writer.begin(title, organisation)
    for case_id in ids:
        detail = inbox.case(case_id)
        if detail is not None:
            writer.case(detail)
    writer.end()
    return writer.count
