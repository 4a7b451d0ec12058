"""A search with many matches walks the cases in list order: same rows, same order, same pages.

``queries.case_page`` answers a search with many matching mentions by reading cases in order
and keeping those with a match (``_scan_for_matches``), and one with few by collecting every
match's case. Both must give exactly the same result, page by page.
"""

from __future__ import annotations

from typing import Any

import pytest

from app.storage import queries, sqlite
from app.storage.models import Mention
from app.storage.queries import CaseOrder, CaseQuery
from tests.storage.test_keyset_paging import cases, expected, filled, walk

__all__ = ["cases", "filled"]  # fixtures, used by name


def both_ways(
    monkeypatch: pytest.MonkeyPatch, query: CaseQuery, limit: int
) -> tuple[list[int], list[int]]:
    monkeypatch.setattr(queries, "SEARCH_SCAN_FROM", 10**9)
    direct = [row.id for row in walk(query, limit)]
    monkeypatch.setattr(queries, "SEARCH_SCAN_FROM", 1)
    monkeypatch.setattr(queries, "_SCAN_BATCH", 5)  # many small batches
    scanned = [row.id for row in walk(query, limit)]
    return direct, scanned


SEARCHES = ("river", "case", "case 1", "person", "Person 2", "p3", "person river", "nothing-like")


@pytest.mark.parametrize("order", list(CaseOrder))
@pytest.mark.parametrize(
    "filters",
    [{}, {"bucket": "needs_reply"}, {"network": "bluesky"}, {"bucket": "resolved", "network": "x"}],
)
@pytest.mark.parametrize("limit", [1, 7, 1000])
def test_scanning_gives_the_same_pages(
    cases: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    order: CaseOrder,
    filters: dict[str, str],
    limit: int,
) -> None:
    # Words, a phrase-like pair, people's names and handles (all twelve people are "Person n",
    # so "person" names every case), a name with a word of text, nothing.
    for typed in SEARCHES:
        direct, scanned = both_ways(
            monkeypatch, CaseQuery(order=order, search=typed, **filters), limit
        )
        assert scanned == direct, (typed, filters, limit)
        assert len(set(scanned)) == len(scanned)
    assert both_ways(monkeypatch, CaseQuery(order=order, search="river", **filters), limit)[0]


@pytest.mark.parametrize("order", list(CaseOrder))
def test_a_scan_finding_too_few_gives_way_to_the_direct_query(
    cases: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, order: CaseOrder
) -> None:
    monkeypatch.setattr(queries, "_SCAN_PROBE", 10)
    monkeypatch.setattr(queries, "_SCAN_MOST", 1)
    for limit in (1, 7, 1000):
        direct, scanned = both_ways(monkeypatch, CaseQuery(order=order, search="river"), limit)
        assert scanned == direct


@pytest.mark.parametrize("order", list(CaseOrder))
def test_a_search_finds_the_cases_of_the_mentions_that_match(
    cases: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, order: CaseOrder
) -> None:
    """Whatever the path (people first, direct query, scan), the cases found are those holding
    a mention whose text and author name have every word, as the mention index alone says."""
    for typed in SEARCHES:
        expression = sqlite.match_expression(typed)
        assert expression is not None
        holding = {
            m.case_id
            for m in Mention.select().where(Mention.id.in_(sqlite.matching_mention_ids(expression)))
        }
        want = [i for i in expected(cases, order, lambda r: True) if i in holding]
        for scan_from in (1, 10**9):
            monkeypatch.setattr(queries, "SEARCH_SCAN_FROM", scan_from)
            assert [row.id for row in walk(CaseQuery(order=order, search=typed), 7)] == want
            assert queries.case_count(CaseQuery(search=typed)) == len(want)


def test_many_cases_of_the_people_named_are_scanned(
    cases: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "person" names all twelve people and matches no text: the people's cases decide."""
    used: list[str] = []
    real = queries._scan_for_matches

    def spy(query: CaseQuery, *args: Any) -> Any:
        used.append(query.search or "")
        return real(query, *args)

    monkeypatch.setattr(queries, "_scan_for_matches", spy)
    monkeypatch.setattr(queries, "SEARCH_SCAN_FROM", 241)  # more than every case: direct
    direct = [row.id for row in queries.case_page(CaseQuery(search="person"), None, 50)]
    monkeypatch.setattr(queries, "SEARCH_SCAN_FROM", 240)  # their 240 cases reach it: scan
    scanned = [row.id for row in queries.case_page(CaseQuery(search="person"), None, 50)]
    assert used == ["person"]
    assert scanned == direct == expected(cases, CaseOrder.PRIORITY, lambda r: True)[:50]


def test_the_scan_is_used_only_from_many_matches(
    cases: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    used: list[str] = []
    real = queries._scan_for_matches

    def spy(query: CaseQuery, *args: Any) -> Any:
        used.append(query.search or "")
        return real(query, *args)

    monkeypatch.setattr(queries, "_scan_for_matches", spy)
    monkeypatch.setattr(queries, "SEARCH_SCAN_FROM", 50)
    queries.case_page(CaseQuery(search="case"), None, 10)  # every mention matches
    queries.case_page(CaseQuery(search="case 17"), None, 10)  # a few
    assert used == ["case"]
