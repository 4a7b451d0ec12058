"""Triage set up from the settings registry: office hours, the response target, vacation mode.

The settings (``app.core.settings``, ``office.*``) are plain JSON values; this module turns them
into the typed ``OfficeHours`` and ``TriageConfig`` that triage and reminders use, and back.
A stored value that cannot be read (edited by hand, an unknown zone) is logged and replaced by
its default, so a bad setting never stops the inbox from opening.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.core import settings as options
from app.core.policy.rules import Policy
from app.core.policy.store import load_policy
from app.core.settings import Settings
from app.core.triage.config import TriageConfig
from app.core.triage.engine import Triage
from app.core.triage.office_hours import (
    WEEKDAYS,
    AwayPeriod,
    OfficeHours,
    OfficeHoursError,
    end_vacation,
    start_vacation,
)

log = logging.getLogger(__name__)

MAX_AWAY_PERIODS = 200  # ended periods are kept (past clocks depend on them), the oldest go first
MIN_TARGET_MINUTES = 5
MAX_TARGET_MINUTES = 30 * 24 * 60


def _valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def local_zone() -> str:
    """This computer's IANA time zone name, or "UTC" when it cannot be told."""
    candidates: list[str] = []
    env = os.environ.get("TZ", "").lstrip(":")
    if env:
        candidates.append(env)
    with contextlib.suppress(OSError):
        candidates.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    with contextlib.suppress(OSError):
        target = str(Path("/etc/localtime").resolve())
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    for name in candidates:
        if name and _valid_zone(name):
            return "UTC" if name in ("Etc/UTC", "Etc/Universal", "UCT", "Zulu") else name
    return "UTC"


def parse_clock(text: str) -> time:
    """ "09:00" → 09:00; raises ``ValueError`` for anything else."""
    hours, _, minutes = text.strip().partition(":")
    return time(int(hours), int(minutes or 0))


def clock_text(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


def _away_from(data: list[list[str | None]]) -> tuple[AwayPeriod, ...]:
    periods: list[AwayPeriod] = []
    for item in data:
        start = datetime.fromisoformat(str(item[0]))
        end = item[1] if len(item) > 1 else None
        periods.append(AwayPeriod(start, datetime.fromisoformat(end) if end else None))
    return tuple(periods)


def _away_to(periods: tuple[AwayPeriod, ...]) -> list[list[str | None]]:
    kept = periods[-MAX_AWAY_PERIODS:]
    return [[p.start.isoformat(), p.end.isoformat() if p.end else None] for p in kept]


def office_hours(settings: Settings) -> OfficeHours:
    """The office hours the settings describe (defaults for anything unreadable)."""
    zone = settings.get(options.OFFICE_ZONE).strip() or local_zone()
    if not _valid_zone(zone):
        log.warning("unknown time zone %r in the settings; using %s", zone, local_zone())
        zone = local_zone()
    days = frozenset(d for d in settings.get(options.OFFICE_DAYS) if isinstance(d, int))
    if not days <= frozenset(range(7)):
        log.warning("office days %s are not 0..6; using Monday to Friday", sorted(days))
        days = WEEKDAYS
    try:
        opens = parse_clock(settings.get(options.OFFICE_OPENS))
        closes = parse_clock(settings.get(options.OFFICE_CLOSES))
        hours = OfficeHours(zone=zone, days=days, opens=opens, closes=closes)
    except (ValueError, OfficeHoursError) as exc:
        log.warning("office hours in the settings cannot be used (%s); using 09:00-17:00", exc)
        hours = OfficeHours(zone=zone, days=days)
    holidays: set[date] = set()
    for text in settings.get(options.OFFICE_HOLIDAYS):
        try:
            holidays.add(date.fromisoformat(str(text)))
        except ValueError:
            log.warning("ignoring the holiday %r: not a YYYY-MM-DD date", text)
    try:
        away = _away_from(settings.get(options.OFFICE_AWAY))
    except (ValueError, TypeError, IndexError, OfficeHoursError) as exc:
        log.warning("time away in the settings cannot be read (%s); ignoring it", exc)
        away = ()
    return replace(hours, holidays=frozenset(holidays), away=away)


def response_target(settings: Settings) -> timedelta:
    minutes = settings.get(options.OFFICE_RESPONSE_MINUTES)
    minutes = min(MAX_TARGET_MINUTES, max(MIN_TARGET_MINUTES, minutes))
    return timedelta(minutes=minutes)


def triage_config(settings: Settings) -> TriageConfig:
    """Everything triage and reminders need from the settings, as one value."""
    org = settings.organisation()
    return TriageConfig(
        office_hours=office_hours(settings),
        response_target=response_target(settings),
        organisation=org["org"],
        phone=org["phone"],
        email=org["email"],
    )


def save_office(settings: Settings, hours: OfficeHours, target: timedelta) -> None:
    """Store office hours and the standard response target (whole minutes)."""
    minutes = round(target.total_seconds() / 60)
    if not MIN_TARGET_MINUTES <= minutes <= MAX_TARGET_MINUTES:
        raise ValueError(
            f"The response target is between {MIN_TARGET_MINUTES} minutes and 30 days."
        )
    settings.set(options.OFFICE_ZONE, "" if hours.zone == local_zone() else hours.zone)
    settings.set(options.OFFICE_DAYS, sorted(hours.days))
    settings.set(options.OFFICE_OPENS, clock_text(hours.opens))
    settings.set(options.OFFICE_CLOSES, clock_text(hours.closes))
    settings.set(options.OFFICE_HOLIDAYS, [d.isoformat() for d in sorted(hours.holidays)])
    settings.set(options.OFFICE_AWAY, _away_to(hours.away))
    settings.set(options.OFFICE_RESPONSE_MINUTES, minutes)


def set_vacation(settings: Settings, on: bool, now: datetime) -> OfficeHours:
    """Vacation mode on (the clocks stop now) or off (they run again); returns the new hours."""
    hours = office_hours(settings)
    hours = start_vacation(hours, now) if on else end_vacation(hours, now)
    settings.set(options.OFFICE_AWAY, _away_to(hours.away))
    return hours


def build_triage(settings: Settings, policy: Policy | None = None) -> Triage:
    """A ``Triage`` with the saved policy (or ``policy``) and the settings' office hours."""
    return Triage(policy or load_policy(), triage_config(settings))
