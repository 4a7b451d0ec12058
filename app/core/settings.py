"""The typed settings registry: every setting's name, type and default in one place.

Values live in the data database (``Setting`` rows, JSON) because they belong to the
organisation's data (its name and signature travel with a backup). Window geometry is not here:
that is per machine and lives in ``QSettings`` (see ``app.ui.window_state``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from app.storage.models import Setting

T = TypeVar("T")


@dataclass(frozen=True)
class Option(Generic[T]):
    key: str
    default: T
    label: str
    help: str = ""

    def coerce(self, value: Any) -> T:
        """Return ``value`` if it has the default's type, else the default (never crash)."""
        kind = type(self.default)
        if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
            return value
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)  # type: ignore[return-value]
        return self.default


ORG_NAME = Option("org.name", "", "Organisation name", "Used as {org} in templates.")
SIGNATURE = Option(
    "org.signature", "", "Signature", "Used as {signature}, e.g. “— Sam, Kindly Trust”."
)
PHONE = Option("org.phone", "", "Phone", "Used as {phone} when a thread moves off the network.")
EMAIL = Option("org.email", "", "Email", "Used as {email} when a thread moves off the network.")
SYNC_MINUTES = Option("sync.interval_minutes", 5, "Sync every (minutes)")
DEMO_OFFERED = Option("ui.demo_offered", False, "Demo data was offered")

REGISTRY: dict[str, Option[Any]] = {
    option.key: option for option in (ORG_NAME, SIGNATURE, PHONE, EMAIL, SYNC_MINUTES, DEMO_OFFERED)
}

# Backups and retention (app.core.backups, app.core.retention, app.core.maintenance)
BACKUP_KEEP_DAILY = Option(
    "backup.keep_daily", 7, "Daily backups kept", "The newest backup of each of this many days."
)
BACKUP_KEEP_WEEKLY = Option(
    "backup.keep_weekly", 4, "Weekly backups kept", "Plus the newest of each of this many weeks."
)
RETENTION_ENABLED = Option(
    "retention.enabled",
    False,
    "Delete old resolved cases",
    "Resolved cases with no activity for the chosen months are deleted, unless marked to keep.",
)
RETENTION_MONTHS = Option("retention.months", 24, "Delete resolved cases after (months)")
REGISTRY.update(
    (option.key, option)
    for option in (BACKUP_KEEP_DAILY, BACKUP_KEEP_WEEKLY, RETENTION_ENABLED, RETENTION_MONTHS)
)

# Office hours and the response target (app.core.triage_setup builds triage's config from these)
OFFICE_ZONE = Option(
    "office.zone",
    "",
    "Time zone",
    "Where the office is, e.g. Europe/London; empty: this computer's.",
)
OFFICE_DAYS = Option[list[int]](
    "office.days", [0, 1, 2, 3, 4], "Office days", "0 Monday … 6 Sunday."
)
OFFICE_OPENS = Option("office.opens", "09:00", "Opens at", "Local time, HH:MM.")
OFFICE_CLOSES = Option("office.closes", "17:00", "Closes at", "Local time, HH:MM; 00:00 midnight.")
OFFICE_HOLIDAYS = Option[list[str]](
    "office.holidays", [], "Holidays", "Dates (YYYY-MM-DD) the clocks do not run."
)
OFFICE_AWAY = Option[list[list[str | None]]](
    "office.away",
    [],
    "Time away",
    "[start, end] as ISO times (end null: vacation mode is on); the clocks stop meanwhile.",
)
OFFICE_RESPONSE_MINUTES = Option(
    "office.response_minutes",
    120,
    "Response target (minutes of office time)",
    "How soon a reply is due when no rule sets its own time.",
)
CHECKLIST_ASK = Option(
    "checklist.ask_on_resolve",
    True,
    "Ask about the closing checklist when resolving",
    "Resolving a case with unticked closing steps asks once first.",
)
POLICY_SETUP_DONE = Option("ui.policy_setup_done", False, "First-run policy step was shown")
REGISTRY.update(
    (option.key, option)
    for option in (
        OFFICE_ZONE,
        OFFICE_DAYS,
        OFFICE_OPENS,
        OFFICE_CLOSES,
        OFFICE_HOLIDAYS,
        OFFICE_AWAY,
        OFFICE_RESPONSE_MINUTES,
        CHECKLIST_ASK,
        POLICY_SETUP_DONE,
    )
)


# Templates (app.core.templates): starters the officer deleted are not seeded again
REMOVED_STARTERS = Option[list[str]](
    "templates.removed_starters",
    [],
    "Starter templates you deleted",
    "Names of starter templates that starting Kindly does not add back; "
    "“Restore starter templates” does.",
)
REGISTRY[REMOVED_STARTERS.key] = REMOVED_STARTERS


class Settings:
    """Reads and writes registered options; unknown keys are refused to catch typos early."""

    def get(self, option: Option[T]) -> T:
        row = Setting.get_or_none(Setting.key == option.key)
        return option.default if row is None else option.coerce(row.value)

    def set(self, option: Option[T], value: T) -> None:
        if option.key not in REGISTRY:
            raise KeyError(f"unregistered setting {option.key!r}")
        checked = option.coerce(value)
        if checked is not value and checked != value:
            raise TypeError(f"{option.key} takes {type(option.default).__name__}, not {value!r}")
        Setting.insert(key=option.key, value=value).on_conflict_replace().execute()

    def organisation(self) -> dict[str, str]:
        """The values templates use, by variable name."""
        return {
            "org": self.get(ORG_NAME),
            "signature": self.get(SIGNATURE),
            "phone": self.get(PHONE),
            "email": self.get(EMAIL),
        }
