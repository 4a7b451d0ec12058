"""The network clients' own tests: ``http`` (from tests.helpers.accounts_over_http) waits 2 s."""

import pytest


@pytest.fixture
def http_timeout() -> float:
    return 2.0
