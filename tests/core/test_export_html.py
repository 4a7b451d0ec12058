"""HTML export: hostile text escaped, nothing that runs or loads, the whole case readable."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from app.core.export_html import case_ids, link, write_cases_html
from app.core.inbox import CaseQuery, Inbox
from app.core.vocab import Network, Stance
from app.storage.models import Account, Mention
from tests.helpers.report_data import HOSTILE, NOW, KnownData, build_known_data


class Collect(HTMLParser):
    """Every tag and attribute of the page, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.fixture
def data(db_path: Path) -> KnownData:
    return build_known_data()


def export(ids: list[int], zone: str = "UTC") -> str:
    out = io.StringIO()
    write_cases_html(ids, out, title="Case <D>", zone=zone, organisation="R&B", now=NOW)
    return out.getvalue()


def test_hostile_text_is_escaped_and_nothing_runs_or_loads(data: KnownData) -> None:
    page = export([data.cases["D"]])
    parsed = Collect()
    parsed.feed(page)
    tags = [tag for tag, _ in parsed.tags]
    assert "script" not in tags and "<script" not in page.lower()
    assert not {"img", "iframe", "object", "embed", "link", "form", "base"} & set(tags)
    for tag, attrs in parsed.tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert "src" not in attrs
        if tag == "a":
            assert attrs["href"] and attrs["href"].startswith("https://")
            assert attrs["rel"] == "noopener noreferrer nofollow"
    # The mention reads exactly as written, as text.
    assert HOSTILE in "".join(parsed.text)
    assert "&lt;script&gt;" in page
    # No remote resources: the only URLs are the links' targets, and a policy forbids loading.
    csp = next(a for t, a in parsed.tags if t == "meta" and a.get("http-equiv"))
    assert "default-src 'none'" in (csp["content"] or "")
    assert "url(" not in page and "@import" not in page


def test_case_contents(data: KnownData) -> None:
    page = export([data.cases["D"]])
    text = "".join(_text(page))
    assert "Case &lt;D&gt;" in page  # the title is escaped too
    assert "Exported from Kindly for R&B on 2026-11-02 09:30 UTC" in text
    assert "Dndy Doe (@dndydoe@example.social)" in text
    assert "This is a scandal." in text
    assert "2026-10-14 09:00 UTC" in text
    assert "Calm down, the facts are on our website." in text  # our sent reply
    assert "A draft that failed to send" in text and "· failed" in text
    assert "Called them back <b>later</b> & it went well" in text  # the note, as text
    assert "Resolved" in text  # status, and the decision in the history
    assert "☑ Listen" in text and "☑ Show you care" in text and "☐ Identify the problem" in text
    assert '{"checked"' not in text  # the checklist's raw history is not shown
    mention = Mention.get(Mention.text == "This is a scandal.")
    assert f'href="{mention.url}"' in page


def test_links_only_for_web_addresses() -> None:
    assert link("javascript:alert(1)") == "javascript:alert(1)"
    assert link("data:text/html,<b>x</b>") == "data:text/html,&lt;b&gt;x&lt;/b&gt;"
    assert link('https://a.example/"onmouseover="x') == (
        '<a href="https://a.example/&quot;onmouseover=&quot;x" '
        'rel="noopener noreferrer nofollow">https://a.example/&quot;onmouseover=&quot;x</a>'
    )
    assert link(None) == ""


def test_a_javascript_link_on_a_mention_is_text(db_path: Path) -> None:
    data = KnownData()
    data.accounts["mastodon"] = Account.create(network="mastodon", handle="@us", keyring_ref="k").id
    case = data.case(
        "Q",
        Network.MASTODON,
        Stance.OPPONENT,
        [(datetime(2026, 10, 5, 10, tzinfo=UTC), "hi", None)],
        url="javascript:alert(document.cookie)",
    )
    page = export([case])
    assert 'href="javascript' not in page
    assert "javascript:alert(document.cookie)" in "".join(_text(page))


def test_a_filtered_set_in_one_page(data: KnownData) -> None:
    ids = list(case_ids(Inbox(), CaseQuery(network="bluesky"), page=2))
    assert sorted(ids) == sorted(data.cases[x] for x in "FGH")
    page = export(ids, zone="Europe/London")
    assert len(re.findall(r'<h2 id="case-', page)) == 3
    assert "2026-10-19 12:00 BST" in page  # F's first mention, 11:00 UTC


def test_an_empty_selection_says_so(data: KnownData) -> None:
    assert "No cases were selected." in export([])


def _text(page: str) -> list[str]:
    parsed = Collect()
    parsed.feed(page)
    return parsed.text
