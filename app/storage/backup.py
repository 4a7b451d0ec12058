"""Copies of the database made with SQLite's online backup API (consistent even while in use)."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from app.storage.sqlite import read_only_uri


def backup_file(source: Path, destination: Path) -> Path:
    """Copy ``source`` into ``destination`` page by page; the copy is private to the user."""
    destination.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = destination.with_suffix(destination.suffix + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    src = sqlite3.connect(read_only_uri(source), uri=True)
    try:
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    os.replace(tmp, destination)
    return destination


def backup_name(label: str, when: datetime | None = None) -> str:
    stamp = (when or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S")
    return f"kindly-{label}-{stamp}.sqlite3"
