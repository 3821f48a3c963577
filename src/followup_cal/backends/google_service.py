"""The Calendar API v3 service of google-api-python-client, and what its error answers mean.

Builds the service (and its batch endpoint), lists the account's calendars, and reads Google's JSON error
shape: :class:`ApiFailure`, :func:`is_transient`, :func:`error_details`. Used by ``google`` (the backend)
and ``google_batch``. The client library is imported when a service is built, never when this module is.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from followup_cal.backends.google_items import Json
from followup_cal.backends.http import DEFAULT_TIMEOUT

RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})


class ApiFailure(Exception):
    """A non-transient error answer of the API (Google's JSON error shape, already parsed)."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status, self.reason, self.message = status, reason, message


def batch_uri(api_endpoint: str | None) -> str | None:
    """The batch endpoint beside ``api_endpoint`` (``<root>/batch/calendar/v3`` as on Google's own
    server, whose address the service's discovery document knows: None)."""
    if not api_endpoint:
        return None
    root = api_endpoint.rstrip("/").removesuffix("/calendar/v3")
    return f"{root}/batch/calendar/v3"


def authorized_http(credentials: Any, timeout: float = DEFAULT_TIMEOUT) -> Any:
    """An HTTP connection that signs its requests with ``credentials`` and gives up after ``timeout``
    seconds without an answer. httplib2's connections are not thread-safe: one per thread."""
    import google_auth_httplib2  # type: ignore[import-untyped]
    from googleapiclient.http import build_http

    connection = build_http()
    connection.timeout = timeout
    return google_auth_httplib2.AuthorizedHttp(credentials, http=connection)


def build_service(
    credentials: Any, api_endpoint: str | None = None, timeout: float = DEFAULT_TIMEOUT, http: Any = None
) -> Any:
    """A Calendar v3 service from the discovery document bundled with the library (no network), whose
    requests go through ``http`` (default: a new :func:`authorized_http` with ``timeout``)."""
    from googleapiclient.discovery import build

    options = None
    if api_endpoint:
        # The endpoint replaces rootUrl + servicePath, so it ends in /calendar/v3/ for the real API.
        options = {"api_endpoint": api_endpoint if api_endpoint.endswith("/") else api_endpoint + "/"}
    return build(
        "calendar",
        "v3",
        http=http or authorized_http(credentials, timeout),
        static_discovery=True,
        cache_discovery=False,
        client_options=options,
    )


def list_calendars(credentials: Any, api_endpoint: str | None = None) -> list[tuple[str, str, bool]]:
    """``(calendar_id, name, primary)`` of every calendar the account sees, for ``auth google`` to show."""
    return [
        (entry["id"], entry.get("summary", ""), bool(entry.get("primary")))
        for entry in calendar_list(credentials, api_endpoint)
    ]


def calendar_list(
    credentials: Any, api_endpoint: str | None = None, execute: Callable[[Any], Json] | None = None
) -> list[Json]:
    """Every entry of the account's calendar list, all pages. ``execute`` sends one page's request
    (default: with the client library's own 3 retries)."""
    service = build_service(credentials, api_endpoint)
    entries: list[Json] = []
    page_token: str | None = None
    try:
        while True:
            request = service.calendarList().list(pageToken=page_token)
            page = execute(request) if execute is not None else request.execute(num_retries=3)
            entries.extend(page.get("items", []))
            page_token = page.get("nextPageToken")
            if not page_token:
                return entries
    finally:
        service.close()


def is_transient(status: int, reason: str) -> bool:
    """A rate limit or a server error: the request may succeed if sent again later."""
    return status in TRANSIENT_STATUSES or (status == 403 and reason in RATE_LIMIT_REASONS)


def error_details(error: Any) -> tuple[str, str]:
    """``(reason, message)`` from Google's JSON error body."""
    try:
        data = json.loads(error.content)
        body = data["error"]
        errors = body.get("errors") or [{}]
        return str(errors[0].get("reason", "")), str(body.get("message", ""))
    except (ValueError, KeyError, TypeError, AttributeError):
        return "", str(getattr(error, "reason", "") or "")
