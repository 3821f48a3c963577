"""Which calendars an account has (RFC 4791, RFC 5397): the URL itself when it is a calendar, else the
calendars in the logged-in principal's calendar home (found through the caldav library, see
:meth:`DavSession.principal_home`), else those directly below the URL. For ``calendars``, ``init``,
``doctor`` and a caldav backend whose ``url`` is an account rather than a calendar.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urljoin, urlsplit

from followup_cal.backends.dav import CALDAV, DAV, DavResource, DavSession, collection_url
from followup_cal.backends.http import DEFAULT_TIMEOUT, redact_url
from followup_cal.errors import AuthenticationError, BackendError

CALENDAR_PROPS = (
    "D:resourcetype",
    "D:displayname",
    "C:supported-calendar-component-set",
    "D:current-user-privilege-set",
    "D:sync-token",
)
WRITE_PRIVILEGES = frozenset({f"{DAV}write", f"{DAV}write-content", f"{DAV}all"})


@dataclass(frozen=True)
class CalendarInfo:
    """A calendar the account can see, for the ``calendars`` command."""

    display_name: str
    url: str
    holds_events: bool  # supported components include VEVENT (or are not restricted)
    writable: bool  # current-user-privilege-set grants write/write-content (or is not reported)
    sync_token: str | None = None  # RFC 6578 DAV:sync-token when the server reported one


def is_calendar(resource: DavResource) -> bool:
    kind = resource.props.get(f"{DAV}resourcetype")
    return kind is not None and kind.find(f"{CALDAV}calendar") is not None


def calendar_info(resource: DavResource, base_url: str) -> CalendarInfo:
    components = resource.props.get(f"{CALDAV}supported-calendar-component-set")
    holds_events = components is None or any(
        comp.get("name", "").upper() == "VEVENT" for comp in components.iter(f"{CALDAV}comp")
    )
    privileges = resource.props.get(f"{DAV}current-user-privilege-set")
    writable = privileges is None or any(
        child.tag in WRITE_PRIVILEGES for privilege in privileges for child in privilege
    )
    url = urljoin(base_url, resource.href)
    name = (resource.text(f"{DAV}displayname") or "").strip()
    token = (resource.text(f"{DAV}sync-token") or "").strip() or None
    return CalendarInfo(
        name or unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]), url, holds_events, writable, token
    )


def discover_calendars(session: DavSession, url: str) -> list[CalendarInfo]:
    """The calendars reachable from ``url``: itself when it is a calendar; otherwise those in the
    calendar home of the logged-in principal (found with the caldav library), or, for servers that
    report no principal, the calendars directly below ``url``."""
    reply, resources = session.propfind(url, CALENDAR_PROPS, depth=0)
    if reply.status == 404:
        raise BackendError(f"{session.label}: nothing there (HTTP 404): check the url")
    if reply.status != 207:
        raise BackendError(
            f"{session.label} is not a CalDAV server or collection (HTTP {reply.status} to PROPFIND): "
            "check the url"
        )
    for resource in resources:
        if is_calendar(resource):
            return [calendar_info(resource, reply.url)]
    homes = []
    try:
        homes.append(session.principal_home())
    except Exception as failure:
        mapped = session.network_error(failure)
        if isinstance(mapped, AuthenticationError):
            raise mapped from failure
        # No principal or home reported: look directly below the URL itself.
    homes.append(reply.url)
    for home in homes:
        home_reply, children = session.propfind(collection_url(home), CALENDAR_PROPS, depth=1)
        calendars = [calendar_info(child, home_reply.url) for child in children if is_calendar(child)]
        if calendars:
            return calendars
    return []


def list_calendars(
    url: str,
    username: str | None = None,
    password: str | None = None,
    verify: bool = True,
    ca_bundle: str | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[CalendarInfo]:
    """Every calendar the account at ``url`` (a server root, principal or calendar URL) can see."""
    session = DavSession(
        collection_url(url),
        label=f"the server at {redact_url(url)}",
        username=username,
        password=password,
        verify=verify,
        ca_bundle=ca_bundle,
        timeout=timeout,
    )
    try:
        return discover_calendars(session, collection_url(url))
    finally:
        session.close()
