"""Raw CalDAV requests for the benchmark's floor and setup, with nothing but http.client (importing
followup_cal here would put its import cost into the floor). The REPORT bodies have the same shape as
``calendar_query_body``/``time_range_filter`` and ``sync_collection_body`` in
src/followup_cal/backends/dav.py.
"""

from __future__ import annotations

import base64
import http.client
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from xml.sax.saxutils import escape

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
    '<D:sync-collection xmlns:D="DAV:"><D:sync-token>{token}</D:sync-token><D:sync-level>1</D:sync-level>'
    "<D:prop><D:getetag/></D:prop></D:sync-collection>"
)
SYNC_TOKEN_PROPFIND = (
    b'<?xml version="1.0" encoding="utf-8"?>'
    b'<D:propfind xmlns:D="DAV:"><D:prop><D:sync-token/></D:prop></D:propfind>'
)


def utc_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def window_report_body(start: datetime, end: datetime) -> bytes:
    return CALENDAR_QUERY.format(start=utc_stamp(start), end=utc_stamp(end)).encode()


def sync_collection_body(token: str = "") -> bytes:
    """An RFC 6578 sync-collection REPORT for the etags changed since ``token`` (all, when empty)."""
    return SYNC_COLLECTION.format(token=escape(token)).encode()


def sync_token(connection: http.client.HTTPConnection, path: str, auth: str) -> str:
    """The collection's current ``DAV:sync-token``, by a Depth 0 PROPFIND."""
    headers = {"Authorization": auth, "Content-Type": "application/xml; charset=utf-8", "Depth": "0"}
    status, _, body = send(connection, "PROPFIND", path, SYNC_TOKEN_PROPFIND, headers)
    token = ET.fromstring(body).findtext(".//{DAV:}sync-token") if status == 207 else None
    if not token or not token.strip():
        raise RuntimeError(f"PROPFIND {path} brought no sync-token (HTTP {status})")
    return token.strip()


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


def sync_collection_headers(auth: str) -> dict[str, str]:
    """The headers followup-cal sends with its sync-collection REPORT (no Depth: RFC 6578 wants 0)."""
    return {"Authorization": auth, "Content-Type": "application/xml; charset=utf-8"}


def report_headers(auth: str) -> dict[str, str]:
    return {
        "Authorization": auth,
        "Content-Type": "application/xml; charset=utf-8",
        "Depth": "1",
        "Accept-Encoding": "gzip, deflate",
    }
