"""Shared fixtures: offscreen Qt, a private data directory and a real SQLite file per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # an Xvfb run may override it
os.environ.setdefault("KINDLY_NO_TRAY", "")


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private data directory; KINDLY_DATA_DIR points at it so nothing touches the real one."""
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setenv("KINDLY_DATA_DIR", str(folder))
    return folder


@pytest.fixture
def db_path(data_dir: Path) -> Iterator[Path]:
    """A real SQLite file at the head schema, bound to the models for the test."""
    from app.storage.db import close_database, open_database

    path = data_dir / "kindly.sqlite3"
    open_database(path)
    yield path
    close_database()
