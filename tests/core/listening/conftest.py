"""Listening fixtures: the network fakes with their search routes and a feed site.

``http``, ``service`` and the ``connect_*`` helpers are ``tests.helpers.accounts_over_http``'s."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.feeds import FeedSite
from tests.fakes.search_routes import SearchingBluesky, SearchingMastodon, SearchingX


@pytest.fixture
def http_timeout() -> float:
    return 5.0  # searches and feeds page through more than the sync tests do


@pytest.fixture
def mastodon() -> Iterator[SearchingMastodon]:
    with SearchingMastodon() as server:
        yield server


@pytest.fixture
def bluesky() -> Iterator[SearchingBluesky]:
    with SearchingBluesky() as server:
        yield server


@pytest.fixture
def x() -> Iterator[SearchingX]:
    with SearchingX() as server:
        yield server


@pytest.fixture
def site() -> Iterator[FeedSite]:
    with FeedSite() as server:
        yield server
