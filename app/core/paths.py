"""Where Kindly keeps its files: one data directory per user, overridable for tests and demos."""

from __future__ import annotations

import os
from pathlib import Path

ENV_DATA_DIR = "KINDLY_DATA_DIR"


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """``--data-dir``, else ``$KINDLY_DATA_DIR``, else the per-user data directory."""
    chosen = override or os.environ.get(ENV_DATA_DIR)
    if not chosen:
        from platformdirs import user_data_dir  # imported when used: ~4 ms at start-up

        chosen = user_data_dir("Kindly", appauthor=False)
    path = Path(chosen).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def database_path(folder: Path) -> Path:
    return folder / "kindly.sqlite3"


def logs_dir(folder: Path) -> Path:
    return folder / "logs"


def backups_dir(folder: Path) -> Path:
    return folder / "backups"
