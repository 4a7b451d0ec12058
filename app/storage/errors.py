"""Storage errors that the UI shows as they are: each carries a message for a person."""

from __future__ import annotations

from pathlib import Path


class StorageError(Exception):
    def __init__(self, user_message: str, path: Path | None = None) -> None:
        super().__init__(user_message)
        self.user_message = user_message
        self.path = path


class DatabaseTooNew(StorageError):
    """The file was written by a newer Kindly; we leave it untouched."""


class DatabaseCorrupt(StorageError):
    """The file is damaged or is not a database at all; we leave it untouched."""


class NotKindlyDatabase(StorageError):
    """A valid SQLite file, but not one of ours."""
