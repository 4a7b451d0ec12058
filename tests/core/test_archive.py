"""Case archives: a round trip into a fresh database, idempotent re-import, atomic refusals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.core import archive
from app.core.archive import ArchiveError, export_archive, import_archive, read_archive
from app.core.checklist import EventChecklistStore, Step
from app.core.export_html import case_ids
from app.core.inbox import CaseQuery, Inbox
from app.core.policy.store import default_policy
from app.core.reports import ReportPeriod, Reports, report_tables
from app.storage.db import close_database, open_database
from app.storage.models import (
    Account,
    Case,
    CaseEvent,
    Mention,
    Note,
    OutboundReply,
    Person,
)
from tests.helpers.report_data import CONFIG, HOSTILE, NOW, build_known_data


def content() -> dict[str, Any]:
    """Every table's rows by their natural keys, without database ids."""
    people = {p.id: (p.network, p.remote_id) for p in Person.select()}
    accounts = {a.id: (a.network, a.handle) for a in Account.select()}
    cases = {
        c.id: (accounts[c.account_id], people[c.person_id], c.conversation_key)
        for c in Case.select()
    }
    return {
        "people": sorted(
            (p.network, p.remote_id, p.handle, p.display_name, p.stance, p.follower_count)
            for p in Person.select()
        ),
        "cases": sorted(
            (
                cases[c.id],
                c.status,
                c.bucket,
                c.status_reason,
                c.mention_count,
                c.reply_count,
                c.first_mention_at,
                c.last_activity_at,
                c.due_at,
            )
            for c in Case.select()
        ),
        "mentions": sorted(
            (cases[m.case_id], m.network, m.remote_id, m.text, m.url, m.created_at, m.sentiment)
            for m in Mention.select()
        ),
        "replies": sorted(
            (cases[r.case_id], r.idempotency_key, r.state, r.text, r.sent_at, r.remote_url)
            for r in OutboundReply.select()
        ),
        "notes": sorted((cases[n.case_id], n.text, n.created_at) for n in Note.select()),
        "events": sorted(
            (cases[e.case_id], e.kind, e.detail, e.actor, e.created_at) for e in CaseEvent.select()
        ),
    }


def counts() -> tuple[int, ...]:
    return tuple(
        m.select().count() for m in (Account, Person, Case, Mention, OutboundReply, Note, CaseEvent)
    )


@pytest.fixture
def exported(tmp_path: Path) -> Iterator[tuple[Path, dict[str, Any], dict[str, int]]]:
    """The known data set exported whole from one database; the test then runs on a fresh one."""
    open_database(tmp_path / "source.sqlite3")
    data = build_known_data()
    path = tmp_path / "all.kindly.json"
    summary = export_archive(case_ids(Inbox(), CaseQuery()), path, now=NOW)
    assert (summary.cases, summary.mentions) == (12, 14)
    before = content()
    close_database()
    open_database(tmp_path / "fresh.sqlite3")
    yield path, before, data.cases
    close_database()


def test_round_trip_restores_everything(
    exported: tuple[Path, dict[str, Any], dict[str, int]],
) -> None:
    path, before, _ = exported
    summary = import_archive(path)
    assert (summary.cases_added, summary.mentions_added, summary.replies_added) == (12, 14, 9)
    assert (summary.people_added, summary.accounts_added) == (12, 2)
    assert content() == before
    # Imported accounts have no secret: they come switched off, to be reconnected.
    assert [a.enabled for a in Account.select()] == [False, False]
    assert all(a.keyring_ref.startswith("imported:") for a in Account.select())
    # The checklist (kept as case events) and search (the FTS index) work on imported cases.
    d = Case.get(Case.conversation_key == Mention.get(Mention.text == HOSTILE).conversation_id)
    assert EventChecklistStore().get(d.id).checked == {Step.LISTEN, Step.CARE}
    assert Inbox().count(CaseQuery(search="scandal")) == 1
    # And the figures are the same as on the source.
    report = Reports(CONFIG, default_policy(), clock=lambda: NOW).build(
        ReportPeriod.month(2026, 10)
    )
    assert report.overall.answered == 6
    assert dict(report.key_numbers())["90th percentile"] == "3 h"
    assert len(report_tables(report)) == 6


def test_reimport_adds_nothing(exported: tuple[Path, dict[str, Any], dict[str, int]]) -> None:
    path, before, _ = exported
    import_archive(path)
    again = import_archive(path)
    assert again.nothing_new
    assert again.cases_matched == 12
    assert content() == before
    assert "Nothing new" in again.text()


def test_import_keeps_local_changes_and_adds_what_is_missing(
    exported: tuple[Path, dict[str, Any], dict[str, int]], tmp_path: Path
) -> None:
    path, _, _ = exported
    import_archive(path)
    # Locally: a case was resolved and one message and one note were lost.
    case = Case.get(Case.status == "escalated")
    Case.update(status="resolved", bucket="resolved").where(Case.id == case.id).execute()
    lost = Mention.select().where(Mention.text == HOSTILE).get()
    Mention.delete().where(Mention.id == lost.id).execute()
    Note.delete().execute()
    summary = import_archive(path)
    assert (summary.mentions_added, summary.notes_added, summary.cases_added) == (1, 1, 0)
    assert Case.get_by_id(case.id).status == "resolved"  # the local decision stands
    assert Mention.select().where(Mention.text == HOSTILE).count() == 1
    assert Mention.get(Mention.text == HOSTILE).case.mention_count == 2


def test_export_of_one_case(tmp_path: Path, db_path: Path) -> None:
    data = build_known_data()
    path = tmp_path / "d.json"
    summary = export_archive([data.cases["D"]], path, now=NOW)
    assert (summary.cases, summary.mentions, summary.people) == (1, 2, 1)
    decoded = json.loads(path.read_text(encoding="utf-8"))
    assert (decoded["format"], decoded["version"]) == ("kindly-archive", 1)
    (case,) = decoded["cases"]
    assert [m["text"] for m in case["mentions"]][1] == HOSTILE
    assert {r["state"] for r in case["replies"]} == {"sent", "failed"}
    assert case["notes"][0]["text"].startswith("Called them back")
    assert "checklist" in {e["kind"] for e in case["events"]}
    assert "keyring_ref" not in json.dumps(decoded)  # no secret names in an archive


def write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "archive.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_a_newer_archive_is_refused(tmp_path: Path, db_path: Path) -> None:
    path = write(tmp_path, {"format": "kindly-archive", "version": 2, "cases": []})
    with pytest.raises(ArchiveError, match="newer Kindly"):
        import_archive(path)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("not json {", "not JSON"),
        ("[" * 100_000 + "]" * 100_000, "not JSON"),  # nested too deep to read
        ({"hello": 1}, "not a Kindly archive"),
        ({"format": "kindly-archive", "version": "1"}, "version"),
        ({"format": "kindly-archive", "version": 1, "exported_at": "yesterday"}, "exported_at"),
    ],
)
def test_bad_files_are_refused(tmp_path: Path, db_path: Path, data: Any, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    with pytest.raises(ArchiveError, match=message):
        import_archive(path)


def test_a_damaged_case_refuses_the_whole_archive(
    exported: tuple[Path, dict[str, Any], dict[str, int]], tmp_path: Path
) -> None:
    path, _, _ = exported
    data = json.loads(path.read_text(encoding="utf-8"))
    data["cases"][-1]["mentions"][0]["created_at"] = "2026-10-05 10:00"  # no UTC offset
    bad = write(tmp_path, data)
    with pytest.raises(ArchiveError, match=r"cases\[11\]\.mentions\[0\]\.created_at"):
        import_archive(bad)
    assert counts() == (0, 0, 0, 0, 0, 0, 0)
    data["cases"][-1]["mentions"][0]["created_at"] = "2026-10-05T10:00:00+00:00"
    data["cases"][0]["status"] = "archived-by-aliens"
    with pytest.raises(ArchiveError, match="unknown value"):
        import_archive(write(tmp_path, data))
    assert counts() == (0, 0, 0, 0, 0, 0, 0)


def test_a_failure_while_writing_leaves_nothing(
    exported: tuple[Path, dict[str, Any], dict[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _, _ = exported
    parsed = read_archive(path)
    calls = {"n": 0}
    real = archive._Importer._replies

    def fail_late(self: Any, *args: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 8:
            raise RuntimeError("disk on fire")
        return real(self, *args)

    monkeypatch.setattr(archive._Importer, "_replies", fail_late)
    with pytest.raises(ArchiveError, match="nothing was imported"):
        archive.import_parsed(parsed)
    assert counts() == (0, 0, 0, 0, 0, 0, 0)


def test_an_unfinished_export_leaves_no_file(tmp_path: Path, db_path: Path) -> None:
    build_known_data()
    target = tmp_path / "out.json"

    def ids() -> Iterator[int]:
        yield 1
        raise RuntimeError("stopped")

    with pytest.raises(RuntimeError):
        export_archive(ids(), target)
    assert list(tmp_path.glob("out.json*")) == []
    assert not list(tmp_path.glob(".kindly-*"))
