"""Logging to a rotating file in the data directory (and stderr), never with secrets in it."""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

from app.core.paths import logs_dir

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(data_folder: Path, level: int = logging.INFO, to_stderr: bool = True) -> Path:
    """Log to ``logs/kindly.log`` (1 MB × 5 files); returns the log file's path."""
    folder = logs_dir(data_folder)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / "kindly.log"
    root = logging.getLogger()
    root.setLevel(level)
    for handler in list(root.handlers):
        if getattr(handler, "_kindly", False):
            root.removeHandler(handler)
            handler.close()
    file_handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=1_000_000, backupCount=5, encoding="utf-8"
    )
    if os.name == "posix" and path.exists():
        os.chmod(path, 0o600)
    handlers: list[logging.Handler] = [file_handler]
    if to_stderr:
        handlers.append(logging.StreamHandler())
    for handler in handlers:
        handler.setFormatter(logging.Formatter(FORMAT))
        handler._kindly = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # URLs may carry tokens in queries
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    return path
