"""Typed network errors, each with a message a person understands."""

from __future__ import annotations

from datetime import datetime


class NetworkError(Exception):
    """Base class. ``user_message`` is shown in the UI; ``str()`` carries the technical detail."""

    retryable = False

    def __init__(self, user_message: str, detail: str = "") -> None:
        super().__init__(detail or user_message)
        self.user_message = user_message


class Offline(NetworkError):
    """The network could not be reached (no connection, DNS, timeout, dropped connection)."""

    retryable = True


class AuthError(NetworkError):
    """The credentials were refused or have expired: the account must be reconnected."""


class RateLimited(NetworkError):
    """The network asked us to wait; ``retry_at`` says until when (UTC), if it said."""

    retryable = True

    def __init__(self, user_message: str, retry_at: datetime | None, detail: str = "") -> None:
        super().__init__(user_message, detail)
        self.retry_at = retry_at


class ServerError(NetworkError):
    """The network failed (5xx); trying again later may work."""

    retryable = True


class BadResponse(NetworkError):
    """The network answered with something we cannot read (malformed or truncated JSON)."""

    retryable = True


class Rejected(NetworkError):
    """The network refused the request itself (validation, permissions, too long)."""


class NotFound(NetworkError):
    """The post or comment no longer exists (deleted, or made private)."""
