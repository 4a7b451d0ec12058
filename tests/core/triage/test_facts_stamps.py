"""Stored timestamps read by the facts statement come back exactly as parsing them did before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.core.triage.facts import _stamp


def before(value: object) -> datetime:
    """How ``_stamp`` read a value before its fast path."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-20 19:00:02.123456",
        "2026-11-20 19:00:02.000000",
        "2026-11-20 19:00:02",
        "2026-11-20T19:00",
        "2026-11-20T19",
        "2026-11-20",  # with "+00:00" this parses naive: read the old way
        "2024-02-29 23:59:59.999999",
        "2026-11-20 19:00:02+02:00",  # an offset already: read the old way (dropped)
        "2026-11-20T19:00:02Z",
        datetime(2026, 11, 20, 19, 0, 2),
        datetime(2026, 11, 20, 19, 0, 2, tzinfo=timezone(timedelta(hours=1))),
    ],
)
def test_stamps_read_as_before(value: object) -> None:
    got, want = _stamp(value), before(value)
    assert (got, got.tzinfo, got.utcoffset()) == (want, want.tzinfo, want.utcoffset())


def test_a_value_that_is_no_timestamp_still_fails() -> None:
    with pytest.raises(ValueError):
        _stamp("yesterday")
