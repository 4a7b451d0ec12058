"""Triage's config from the settings registry: round trips, bad values, vacation mode."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from app.core import settings as options
from app.core.policy import default_policy, save_policy
from app.core.settings import Settings
from app.core.triage import AwayPeriod, OfficeHours
from app.core.triage_setup import (
    build_triage,
    local_zone,
    office_hours,
    response_target,
    save_office,
    set_vacation,
    triage_config,
)

NOW = datetime(2024, 3, 4, 10, 0, tzinfo=UTC)


@pytest.fixture
def settings(db_path: Path) -> Settings:
    return Settings()


def test_defaults_are_weekdays_nine_to_five_in_this_computers_zone(settings) -> None:
    hours = office_hours(settings)
    assert hours == OfficeHours(zone=local_zone())
    assert response_target(settings) == timedelta(hours=2)


def test_office_hours_round_trip(settings) -> None:
    hours = OfficeHours(
        zone="Europe/Berlin",
        days=frozenset({0, 2, 4, 5}),
        opens=time(8, 15),
        closes=time(0),
        holidays=frozenset({date(2024, 12, 25), date(2024, 5, 1)}),
        away=(AwayPeriod(NOW - timedelta(days=30), NOW - timedelta(days=20)),),
    )
    save_office(settings, hours, timedelta(minutes=45))
    assert office_hours(settings) == hours
    assert response_target(settings) == timedelta(minutes=45)
    assert settings.get(options.OFFICE_OPENS) == "08:15"
    assert settings.get(options.OFFICE_CLOSES) == "00:00"


def test_targets_outside_five_minutes_to_thirty_days_are_refused(settings) -> None:
    with pytest.raises(ValueError, match="between 5 minutes and 30 days"):
        save_office(settings, OfficeHours(), timedelta(minutes=2))


def test_unreadable_values_fall_back_to_defaults(settings) -> None:
    settings.set(options.OFFICE_ZONE, "Mars/Olympus_Mons")
    settings.set(options.OFFICE_DAYS, [0, 9])
    settings.set(options.OFFICE_OPENS, "nine")
    settings.set(options.OFFICE_HOLIDAYS, ["2024-12-25", "Christmas"])
    settings.set(options.OFFICE_AWAY, [["yesterday", None]])
    settings.set(options.OFFICE_RESPONSE_MINUTES, 0)
    hours = office_hours(settings)
    assert hours.zone == local_zone()
    assert hours.days == frozenset(range(5))
    assert (hours.opens, hours.closes) == (time(9), time(17))
    assert hours.holidays == frozenset({date(2024, 12, 25)})
    assert hours.away == ()
    assert response_target(settings) == timedelta(minutes=5)


def test_vacation_mode_on_and_off(settings) -> None:
    on = set_vacation(settings, True, NOW)
    assert on.on_vacation(NOW) and office_hours(settings).on_vacation(NOW + timedelta(days=3))
    assert set_vacation(settings, True, NOW + timedelta(days=1)).away == on.away  # already on
    off = set_vacation(settings, False, NOW + timedelta(days=7))
    assert not off.on_vacation(NOW + timedelta(days=8))
    assert off.away == (AwayPeriod(NOW, NOW + timedelta(days=7)),)


def test_the_config_carries_the_organisation_and_the_saved_policy(settings) -> None:
    settings.set(options.ORG_NAME, "Riverbank Alliance")
    settings.set(options.PHONE, "01234 567890")
    settings.set(options.OFFICE_RESPONSE_MINUTES, 30)
    config = triage_config(settings)
    assert (config.organisation, config.phone, config.email) == (
        "Riverbank Alliance",
        "01234 567890",
        "",
    )
    assert config.response_target == timedelta(minutes=30)
    policy = default_policy()
    shorter = type(policy)(rules=policy.rules[:3], take_offline_after=3)
    save_policy(shorter)
    assert build_triage(settings).policy == shorter
