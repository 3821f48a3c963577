"""Retry and timeout helpers shared by the network backends.

Reads may always be retried; a write only where its precondition makes a second attempt safe (the caller
decides that and says so). Delays grow exponentially, are bounded, and carry jitter so that several
clients that failed together do not retry together.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit, urlunsplit

TIMEOUT_ENV = "FOLLOWUP_CAL_TIMEOUT"
MAX_RETRY_DELAY_ENV = "FOLLOWUP_CAL_MAX_RETRY_DELAY"


def seconds_from_env(name: str, default: float) -> float:
    """A positive number of seconds from the environment variable ``name``, else ``default``."""
    try:
        value = float(os.environ.get(name, ""))
    except ValueError:
        return default
    return value if 0 < value < float("inf") else default


DEFAULT_TIMEOUT = seconds_from_env(TIMEOUT_ENV, 30.0)
"""Seconds any single request may wait for the server (connecting, or between two bytes of its answer)
before it is abandoned; $FOLLOWUP_CAL_TIMEOUT overrides it (a slow server, or tests)."""


def max_retry_delay(default: float) -> float:
    """The longest single wait between two attempts: ``default``, or $FOLLOWUP_CAL_MAX_RETRY_DELAY when
    set (tests use it so that a failing server costs seconds, not minutes)."""
    return seconds_from_env(MAX_RETRY_DELAY_ENV, default)


TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
"""HTTP statuses that may pass if the same request is sent again a little later."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3  # total tries, the first one included
    base_delay: float = 0.5  # seconds before the first retry; doubles each time
    # No single wait is longer, whatever the server's Retry-After says.
    max_delay: float = field(default_factory=lambda: max_retry_delay(8.0))
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)

    def delay(self, retry_number: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry ``retry_number`` (1 for the first retry).

        Exponential backoff with "equal jitter" (between half and all of the backoff); a server's
        ``Retry-After`` is honoured when longer, but never beyond ``max_delay``.
        """
        backoff = min(self.max_delay, self.base_delay * 2 ** (retry_number - 1))
        wait: float = backoff / 2 + random.uniform(0, backoff / 2)
        if retry_after is not None:
            wait = max(wait, retry_after)
        return min(wait, self.max_delay)

    def wait(self, retry_number: int, retry_after: float | None = None) -> None:
        self.sleep(self.delay(retry_number, retry_after))


NO_RETRY = RetryPolicy(attempts=1)


def is_transient(status: int) -> bool:
    return status in TRANSIENT_STATUSES


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def redact_url(url: str) -> str:
    """The URL without any user name or password in it, for messages."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))
