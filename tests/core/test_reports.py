"""Report figures on a known data set (tests/helpers/report_data.py), computed by hand here."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from app.core import report_queries
from app.core.policy.store import default_policy
from app.core.reminders import ReminderKind
from app.core.report_figures import percentile
from app.core.reports import Report, ReportPeriod, Reports, report_tables, write_csv
from app.core.vocab import Network, Stance
from app.storage.models import Account, Mention
from tests.helpers.report_data import CONFIG, NOW, KnownData, build_known_data


def minutes(value: float) -> timedelta:
    return timedelta(minutes=value)


Built = tuple[Report, KnownData, Path]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The data set and its October report, built once (the tests only read)."""
    from app.storage.db import close_database, open_database

    path = tmp_path_factory.mktemp("reports") / "kindly.sqlite3"
    open_database(path)
    try:
        data = build_known_data()
        reports = Reports(CONFIG, default_policy(), clock=lambda: NOW)
        return reports.build(ReportPeriod.month(2026, 10)), data, path
    finally:
        close_database()


@pytest.fixture
def october(built: Built) -> tuple[Report, KnownData]:
    return built[0], built[1]


@pytest.fixture
def reopened(built: Built) -> Iterator[Path]:
    from app.storage.db import close_database, open_database

    open_database(built[2])
    yield built[2]
    close_database()


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([20, 30, 45, 60, 120, 240], 0.5) == 52.5
    assert percentile([20, 30, 45, 60, 120, 240], 0.9) == 180
    assert percentile([7], 0.9) == 7
    with pytest.raises(ValueError):
        percentile([], 0.5)


def test_period_of_a_month_and_of_weeks() -> None:
    october = ReportPeriod.parse_month("2026-10")
    assert (october.start, october.end) == (
        datetime(2026, 10, 1, tzinfo=UTC),
        datetime(2026, 11, 1, tzinfo=UTC),
    )
    assert october.label == "October 2026"
    assert october.weeks() == [date(2026, 9, 28), *(date(2026, 10, d) for d in (5, 12, 19, 26))]
    berlin = ReportPeriod.parse_month("2026-10", "Europe/Berlin")
    assert berlin.start == datetime(2026, 9, 30, 22, tzinfo=UTC)  # CEST
    assert berlin.end == datetime(2026, 10, 31, 23, tzinfo=UTC)  # CET again
    assert len(berlin.days()) == 31
    weeks = ReportPeriod.last_weeks(2, NOW)
    assert (weeks.start, weeks.end) == (
        datetime(2026, 10, 26, tzinfo=UTC),
        datetime(2026, 11, 3, tzinfo=UTC),
    )
    for bad in ("2026-13", "Oct 2026", "2026"):
        with pytest.raises(ValueError, match="YYYY-MM"):
            ReportPeriod.parse_month(bad)


def test_first_response_overall(october: tuple[Report, KnownData]) -> None:
    report, _ = october
    # A 30, B 120 (16-17 + 9-10), C 45 (weekend skipped), D 240 (failed reply ignored),
    # E 20 (clock starts at 09:00), F 60 (second reply ignored): 20 30 45 60 120 240.
    assert report.overall.answered == 6
    assert report.overall.median == minutes(52.5)  # (45 + 60) / 2
    assert report.overall.p90 == minutes(180)  # position 4.5: 120 + 0.5 × 120


def test_first_response_by_network(october: tuple[Report, KnownData]) -> None:
    report, _ = october
    by = {t.label: t for t in report.by_network}
    assert list(by) == [Network.MASTODON.label, Network.BLUESKY.label]
    mastodon = by["Mastodon"]  # 20 30 45 120 240
    assert (mastodon.answered, mastodon.median, mastodon.p90) == (5, minutes(45), minutes(192))
    bluesky = by["Bluesky"]  # F 60 only (G and H have no reply yet)
    assert (bluesky.answered, bluesky.median, bluesky.p90) == (1, minutes(60), minutes(60))


def test_first_response_by_week(october: tuple[Report, KnownData]) -> None:
    report, _ = october
    weeks = {t.label: (t.answered, t.median, t.p90) for t in report.by_week}
    assert weeks == {
        "2026-09-28": (0, None, None),
        "2026-10-05": (3, minutes(45), minutes(105)),  # 30 45 120: 45 + 0.8 × 75
        "2026-10-12": (2, minutes(130), minutes(218)),  # 20 240: 20 + 0.9 × 220
        "2026-10-19": (1, minutes(60), minutes(60)),
        "2026-10-26": (0, None, None),  # H is not answered yet
    }


def test_counts(october: tuple[Report, KnownData]) -> None:
    report, _ = october
    c = report.counts
    # A–J began in October; K in September, L in November.
    assert (c.total, c.answered) == (10, 6)
    assert (c.open, c.waiting, c.resolved, c.left_alone, c.escalated) == (2, 3, 3, 1, 1)
    # G: 2 h target passed long ago; H: its stored due time (09:15) is past at 09:30, although
    # the standard target alone (30 min Friday + 30 min Monday) would not be.
    assert c.overdue == 2


def test_volume_and_sentiment(october: tuple[Report, KnownData]) -> None:
    report, _ = october
    total = report.volume_total
    # 11 mentions in A–J (D has two) + K's follow-up on 1 October; not K's first, not L.
    assert total.mentions == 12
    # positive ≥ 0.05: A .8, E .3, F .6, J .05; negative ≤ -0.05: B, D, G, I;
    # neutral: C 0, D's second -0.02, K's 0.04; H unscored.
    assert (total.positive, total.negative, total.neutral) == (4, 4, 3)
    assert total.mean_sentiment == pytest.approx(-0.73 / 11)
    days = {p.start: p.mentions for p in report.volume_by_day if p.mentions}
    assert days == {
        date(2026, 10, 1): 1,
        date(2026, 10, 5): 2,
        date(2026, 10, 10): 1,
        date(2026, 10, 14): 2,
        date(2026, 10, 15): 1,
        date(2026, 10, 19): 1,
        date(2026, 10, 20): 1,
        date(2026, 10, 21): 1,
        date(2026, 10, 22): 1,
        date(2026, 10, 30): 1,
    }
    assert len(report.volume_by_day) == 31
    assert [(p.start.day, p.mentions) for p in report.volume_by_week] == [
        (28, 1),
        (5, 3),
        (12, 3),
        (19, 4),
        (26, 1),
    ]


def test_equal_treatment_by_stance(october: tuple[Report, KnownData]) -> None:
    report, _ = october
    supporters = report.stance(Stance.SUPPORTER)  # A E F J; times 20 30 60
    assert (supporters.cases, supporters.answered, supporters.left_alone) == (4, 3, 0)
    assert supporters.response.median == minutes(30)
    assert supporters.response.p90 == minutes(54)  # 30 + 0.8 × 30
    # A, E, F and F's second reply, all greeting or naming them, politely.
    assert (supporters.replies_sent, supporters.courtesy_passed) == (4, 4)
    opponents = report.stance(Stance.OPPONENT)  # B D G I; times 120 240
    assert (opponents.cases, opponents.answered, opponents.left_alone) == (4, 2, 1)
    assert opponents.response.median == minutes(180)
    assert opponents.response.p90 == minutes(228)  # 120 + 0.9 × 120
    assert (opponents.replies_sent, opponents.courtesy_passed) == (2, 0)
    assert opponents.issues == {
        ReminderKind.NO_GREETING: 2,
        ReminderKind.CAPITALS: 1,
        ReminderKind.FLAGGED_WORDING: 1,  # "calm down"
        ReminderKind.TOO_LONG: 0,
    }
    neutral = report.stance(Stance.NEUTRAL)  # C only (K's reply was sent in September)
    assert (neutral.cases, neutral.replies_sent, neutral.response.median) == (1, 1, minutes(45))
    unknown = report.stance(Stance.UNKNOWN)
    assert (unknown.cases, unknown.answered, unknown.response.median) == (1, 0, None)


def test_notable_cases(october: tuple[Report, KnownData]) -> None:
    report, data = october
    ids = [n.case_id for n in report.notable]
    # Escalated first (J), then the longest (D, two messages), then by reach (G, B).
    assert ids[:4] == [data.cases[x] for x in ("J", "D", "G", "B")]
    assert report.notable[0].why.startswith("escalated: Moved to phone")
    assert report.notable[2].why == "1 message, reach 50k"
    assert report.notable[3].first_response == minutes(120)


def test_key_numbers(october: tuple[Report, KnownData]) -> None:
    report, _ = october
    numbers = dict(report.key_numbers())
    assert numbers["Median first response"] == "52 min"  # 52.5, rounded half to even
    assert numbers["90th percentile"] == "3 h"
    assert numbers["Answered"] == "6 (60%)"
    assert (numbers["Open"], numbers["Overdue"], numbers["Left alone"]) == ("2", "2", "1")


def test_tables_and_csv(october: tuple[Report, KnownData], tmp_path: Path) -> None:
    report, _ = october
    tables = {t.name: t for t in report_tables(report)}
    assert set(tables) == {
        "case-counts",
        "response-by-network",
        "response-by-week",
        "volume-by-day",
        "equal-treatment",
        "notable-cases",
    }
    path = tmp_path / "network.csv"
    write_csv(tables["response-by-network"], path)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        ["Network", "Answered", "Median (office h)", "90th pct. (office h)"],
        ["Mastodon", "5", "0.75", "3.20"],
        ["Bluesky", "1", "1.00", "1.00"],
        ["All networks", "6", "0.88", "3.00"],
    ]
    notable = tmp_path / "notable.csv"
    write_csv(tables["notable-cases"], notable)
    text = notable.read_text(encoding="utf-8-sig")
    assert all(len(row) == 7 for row in csv.reader(text.splitlines()))


def test_csv_cells_that_look_like_formulas_are_text(tmp_path: Path) -> None:
    from app.core.reports import Table, csv_cell

    assert csv_cell('=HYPERLINK("https://evil.example")').startswith("'=")
    assert csv_cell("@SUM(A1)") == "'@SUM(A1)"
    assert csv_cell("-0.25") == "-0.25"
    assert csv_cell("+3%") == "+3%"
    path = tmp_path / "t.csv"
    write_csv(Table("t", "T", ("a",), (("=1+1",),)), path)
    assert path.read_text(encoding="utf-8-sig").splitlines() == ["a", "'=1+1"]


def test_days_follow_the_office_time_zone(db_path: Path) -> None:
    """A mention at 22:30 UTC on Sunday 4 October is Monday 5 October in Berlin (CEST)."""
    data = KnownData()
    data.accounts["mastodon"] = Account.create(
        network="mastodon", handle="@riverbank", keyring_ref="k:m"
    ).id
    data.case(
        "Z",
        Network.MASTODON,
        Stance.NEUTRAL,
        [(datetime(2026, 10, 4, 22, 30, tzinfo=UTC), "late", 0.2)],
    )
    data.case(
        "Y",
        Network.MASTODON,
        Stance.NEUTRAL,
        [(datetime(2026, 10, 31, 23, 30, tzinfo=UTC), "Nov in Berlin", 0.2)],
    )
    berlin = report_queries.daily_volume(
        datetime(2026, 9, 30, 22, tzinfo=UTC),
        datetime(2026, 10, 31, 23, tzinfo=UTC),
        "Europe/Berlin",
    )
    assert {d: v.mentions for d, v in berlin.items()} == {date(2026, 10, 5): 1}
    utc = report_queries.daily_volume(
        datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC), "UTC"
    )
    assert {d: v.mentions for d, v in utc.items()} == {date(2026, 10, 4): 1, date(2026, 10, 31): 1}
    assert Mention.select().count() == 2


def test_cases_are_read_in_chunks(reopened: Path) -> None:
    """Keyset paging over cases gives every case once whatever the chunk size."""
    period = ReportPeriod.month(2026, 10)
    whole = [c.case_id for c in report_queries.case_timings(period.start, period.end)]
    for size in (1, 3, 10):
        assert [
            c.case_id for c in report_queries.case_timings(period.start, period.end, chunk=size)
        ] == whole
    assert len(whole) == 10
    replies = list(report_queries.sent_replies(period.start, period.end, chunk=2))
    assert len(replies) == 7  # A B C D E F F
