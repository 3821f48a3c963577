"""Raw CalDAV requests for the benchmark's floor and setup, with nothing but http.client (importing
followup_cal here would put its import cost into the floor). The REPORT bodies have the same shape as
``calendar_query_body``/``time_range_filter`` and ``sync_collection_body`` in
src/followup_cal/backends/dav.py.
"""

from __future__ import annotations

import base64
import http.client
from datetime import UTC, datetime

CALENDAR_QUERY = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
    "<D:prop><D:getetag/><C:calendar-data/></D:prop>"
    '<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">'
    '<C:time-range start="{start}" end="{end}"/>'
    "</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"
)
SYNC_COLLECTION = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>1</D:sync-level>'
    "<D:prop><D:getetag/></D:prop></D:sync-collection>"
)


def utc_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def window_report_body(start: datetime, end: datetime) -> bytes:
    return CALENDAR_QUERY.format(start=utc_stamp(start), end=utc_stamp(end)).encode()


def send(
    connection: http.client.HTTPConnection,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One request on a kept-alive connection; returns status, headers and the whole body."""
    connection.request(method, path, body or None, headers or {})
    response = connection.getresponse()
    data = response.read()
    return response.status, dict(response.getheaders()), data


def report_headers(auth: str) -> dict[str, str]:
    return {
        "Authorization": auth,
        "Content-Type": "application/xml; charset=utf-8",
        "Depth": "1",
        "Accept-Encoding": "gzip, deflate",
    }
