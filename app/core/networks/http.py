"""What every network client shares: base-URL checks, retries with backoff, rate-limit waits.

Each client hands in its own rate-limit reader, because every network signals it differently
(Mastodon ISO-8601 ``X-RateLimit-Reset``, Bluesky ``ratelimit-reset``/``Retry-After``, X
``x-rate-limit-reset``, Facebook error codes in a 400 body).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from app.core.networks.errors import BadResponse, Offline, RateLimited, ServerError

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=10.0)
USER_AGENT = "Kindly/0.1 (+desktop inbox for nonprofits)"

RateLimitReader = Callable[[httpx.Response], "RateLimitSignal | None"]


@dataclass(frozen=True, slots=True)
class RateLimitSignal:
    """The network said "slow down"; ``retry_at`` is when it allows us again, if it said."""

    retry_at: datetime | None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    longest_inline_wait: float = 60.0  # a longer rate-limit wait is handed to the caller instead


def is_loopback_host(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(url: str) -> str:
    """Return the base URL normalised, or raise ValueError with a message for the user.

    Plain ``http://`` is refused except to this computer (loopback), where tests and local
    development servers live; credentials never cross a network unencrypted.
    """
    cleaned = url.strip().rstrip("/")
    if "://" not in cleaned:
        cleaned = "https://" + cleaned
    parts = urlsplit(cleaned)
    if not parts.hostname:
        raise ValueError(f"“{url}” is not a web address.")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ValueError(
            f"“{url}” uses plain http://, which would send your credentials unencrypted. "
            "Use the https:// address of the server."
        )
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"“{url}” must start with https://.")
    return cleaned


def new_client(timeout: httpx.Timeout = DEFAULT_TIMEOUT) -> httpx.Client:
    """The production client; tests inject their own pointed at a local fake server."""
    return httpx.Client(timeout=timeout, headers={"User-Agent": USER_AGENT}, follow_redirects=True)


def parse_epoch(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None


def parse_retry_after(value: str | None, now: datetime) -> datetime | None:
    """``Retry-After`` is either seconds or an HTTP date."""
    if not value:
        return None
    try:
        return now + timedelta(seconds=max(0.0, float(value)))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class HttpSession:
    """Sends requests for one network client with its retry and rate-limit rules."""

    def __init__(
        self,
        client: httpx.Client,
        network_label: str,
        rate_limit: RateLimitReader,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.network_label = network_label
        self.rate_limit = rate_limit
        self.policy = policy or RetryPolicy()
        self.sleep = sleep

    def request(
        self, method: str, url: str, *, retry: bool = True, **kwargs: Any
    ) -> httpx.Response:
        """Send, retrying transport errors, 5xx and short rate-limit waits when ``retry``.

        A POST without an idempotency key must pass ``retry=False``: if it failed after
        reaching the server, only reading back can tell, and the outbox does that.
        Any other status (2xx, 4xx) is returned for the client to interpret.
        """
        attempts = self.policy.attempts if retry else 1
        for attempt in range(1, attempts + 1):
            last = attempt == attempts
            try:
                response = self.client.request(method, url, **kwargs)
            except httpx.TimeoutException as exc:
                error: Exception = Offline(
                    f"{self.network_label} did not answer in time. Kindly will try again.",
                    f"{method} {url}: timeout: {exc}",
                )
            except httpx.TransportError as exc:
                error = Offline(
                    f"Could not reach {self.network_label}. Check the connection; "
                    "Kindly will try again.",
                    f"{method} {url}: {type(exc).__name__}: {exc}",
                )
            else:
                signal = self.rate_limit(response)
                if signal is not None:
                    wait = self._seconds_until(signal.retry_at)
                    if last or not retry or wait > self.policy.longest_inline_wait:
                        raise RateLimited(
                            f"{self.network_label} asked Kindly to slow down"
                            + (f" until {signal.retry_at:%H:%M} UTC." if signal.retry_at else "."),
                            signal.retry_at,
                            f"{method} {url}: HTTP {response.status_code}",
                        )
                    log.info("%s rate limit: waiting %.1f s", self.network_label, wait)
                    self.sleep(wait)
                    continue
                if response.status_code < 500:
                    return response
                error = ServerError(
                    f"{self.network_label} is having trouble (HTTP {response.status_code}). "
                    "Kindly will try again.",
                    f"{method} {url}: HTTP {response.status_code}",
                )
            if last:
                raise error
            delay = min(self.policy.max_delay, self.policy.base_delay * 2 ** (attempt - 1))
            delay *= 0.5 + random.random() / 2  # jitter
            log.info("%s: %s; retry %d in %.1f s", self.network_label, error, attempt, delay)
            self.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _seconds_until(self, when: datetime | None) -> float:
        if when is None:
            return self.policy.base_delay
        return max(0.0, (when - datetime.now(UTC)).total_seconds())


def json_body(response: httpx.Response, network_label: str) -> Any:
    """Parse JSON or raise BadResponse (malformed or truncated bodies happen).

    orjson reads a UTF-8 body first: a page of 80 Mastodon notifications (~280 KB) in a third
    of the time the standard library takes. What it refuses (another charset, a BOM, a lone
    surrogate escape, NaN) goes to ``response.json()`` as before, which reads it or says why
    not. An integer past 64 bits reads as a float, as in a browser (ids that large come as
    strings)."""
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        pass
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        # RecursionError: arrays or objects nested thousands deep (orjson stops at 1,024)
        raise BadResponse(
            f"{network_label} sent a reply Kindly could not read. It will try again later.",
            f"HTTP {response.status_code}: invalid JSON: {exc}",
        ) from exc


def json_or_none(response: httpx.Response) -> Any:
    """The body as JSON, or None when it is not JSON (an error page, a cut or hostile body):
    for reading what a server says about an error, where a body is a courtesy."""
    try:
        return json_body(response, "")
    except BadResponse:
        return None


def expect_dict(value: Any, network_label: str, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadResponse(
            f"{network_label} sent an unexpected reply. It will try again later.",
            f"{what}: expected an object, got {type(value).__name__}",
        )
    return value
