"""The daily housekeeping the app runs at start-up and then every hour: back up, then purge.

The backup comes first, so the optional purge of old resolved cases never deletes anything that
is not in at least one backup made that day.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from app.core import settings as options
from app.core.backups import BackupError, BackupInfo, BackupService, Rotation
from app.core.retention import Footprint, Retention
from app.core.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MaintenanceReport:
    backup: BackupInfo | None = None  # None: none was due
    backup_error: str | None = None
    purged: Footprint | None = None  # None: retention is off (or the backup failed)


def rotation(settings: Settings) -> Rotation:
    return Rotation(
        keep_daily=max(1, settings.get(options.BACKUP_KEEP_DAILY)),
        keep_weekly=max(0, settings.get(options.BACKUP_KEEP_WEEKLY)),
    )


def run_due(backups: BackupService, retention: Retention, settings: Settings) -> MaintenanceReport:
    """The daily backup if due, then (if switched on) the purge of old resolved cases."""
    try:
        made = backups.back_up_if_due(rotation(settings))
    except BackupError as error:
        log.error("the daily backup failed: %s", error.user_message)
        return MaintenanceReport(backup_error=error.user_message)  # no purge without a backup
    purged = None
    if settings.get(options.RETENTION_ENABLED):
        purged = retention.purge_resolved(max(1, settings.get(options.RETENTION_MONTHS)))
    return MaintenanceReport(made, None, purged)
