"""What an account can see and write, asked of the server without writing anything: for ``init`` (to list
the calendars to choose from) and ``doctor`` (to check that a configured calendar is reachable, the login
works and the reminders calendar is writable).

CalDAV answers with ``DAV:current-user-privilege-set`` (RFC 3744), Google with the calendar list's
``accessRole``, Microsoft Graph with each calendar's ``canEdit``. The client libraries are imported inside
the functions.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from followup_cal.core.settings import CalendarSettings
from followup_cal.errors import AuthenticationError, BackendError, ConfigError

WRITER_ROLES = frozenset({"writer", "owner"})


@dataclass(frozen=True)
class CalendarAccess:
    """One calendar as the account sees it."""

    name: str  # display name (CalDAV), summary (Google), name (Microsoft), folder or file name (vdir, ics)
    address: str  # the URL (CalDAV), the calendar id (Google, Microsoft), the path (vdir, ics)
    writable: bool
    how: str  # where ``writable`` comes from, for messages
    primary: bool = False  # Google's primary calendar, Microsoft's default calendar


def caldav_calendars(
    url: str,
    username: str | None,
    password: str | None,
    verify: bool = True,
    ca_bundle: str | None = None,
) -> list[CalendarAccess]:
    """The calendars holding events that the account at ``url`` (a server root, principal or calendar)
    sees. Raises BackendError (AuthenticationError for a refused login) when the server cannot tell."""
    from followup_cal.backends.dav_discovery import list_calendars

    found = list_calendars(url, username, password, verify, ca_bundle)
    return [
        CalendarAccess(
            info.display_name,
            info.url,
            info.writable,
            "the server grants write access" if info.writable else "the server grants read access only",
        )
        for info in found
        if info.holds_events
    ]


def google_calendars(credentials: Any, api_endpoint: str | None) -> list[CalendarAccess]:
    """Every calendar in the account's calendar list, with its access role."""
    from followup_cal.backends.google_service import calendar_list

    found: list[CalendarAccess] = []
    for entry in calendar_list(credentials, api_endpoint, lambda request: _google_call(request.execute)):
        role = str(entry.get("accessRole", ""))
        found.append(
            CalendarAccess(
                str(entry.get("summaryOverride") or entry.get("summary") or entry["id"]),
                str(entry["id"]),
                role in WRITER_ROLES,
                f"your access role is {role or 'not reported'}",
                bool(entry.get("primary")),
            )
        )
    return found


def _google_call(request: Any) -> Any:
    from googleapiclient.errors import HttpError

    try:
        return request()
    except HttpError as error:
        status = int(error.resp.status)
        if status == 401:
            raise AuthenticationError(
                "Google refused the saved token (HTTP 401): run `followup-cal auth google` again"
            ) from None
        raise BackendError(f"Google answered HTTP {status} to the calendar list; try again later") from None
    except OSError as error:  # httplib2 raises socket errors and its ServerNotFoundError (an OSError)
        raise BackendError(
            f"Google's calendar API is unreachable ({error.strerror or type(error).__name__}): "
            "check the network connection (and api_endpoint, if set)"
        ) from None


CALENDAR_LIST_SELECT = "id,name,canEdit,isDefaultCalendar"


def microsoft_calendars(access_token: Callable[[], str], api_endpoint: str | None) -> list[CalendarAccess]:
    """Every calendar of the signed-in Microsoft account (Graph ``GET /me/calendars``), with ``canEdit``."""
    from followup_cal.backends.microsoft_auth import AUTH_AGAIN
    from followup_cal.backends.microsoft_http import GraphRequest, GraphTransport

    transport = GraphTransport(api_endpoint, access_token)
    path: str | None = f"me/calendars?$select={CALENDAR_LIST_SELECT}&$top=100"
    found: list[CalendarAccess] = []
    while path:
        answer = transport.send(GraphRequest("GET", path))
        if answer.status == 401:
            raise AuthenticationError(f"Microsoft Graph refused the saved token (HTTP 401): {AUTH_AGAIN}")
        if answer.status == 0:
            raise BackendError(
                f"Microsoft Graph is unreachable ({answer.error()[1]}): check the network connection "
                "(and api_endpoint, if set)"
            )
        if not answer.ok or not isinstance(answer.body, dict):
            code = answer.error()[0] or "no calendar list"
            raise BackendError(
                f"Microsoft Graph answered HTTP {answer.status} ({code}) to the calendar list; "
                "try again later"
            )
        for entry in answer.body.get("value") or []:
            can_edit = bool(entry.get("canEdit"))
            found.append(
                CalendarAccess(
                    str(entry.get("name") or entry["id"]),
                    str(entry["id"]),
                    can_edit,
                    "canEdit is true" if can_edit else "canEdit is false (shared with you to read only)",
                    bool(entry.get("isDefaultCalendar")),
                )
            )
        following = answer.body.get("@odata.nextLink")
        path = following if isinstance(following, str) and transport.owns(following) else None
    return found


def check_calendar(calendar: CalendarSettings) -> CalendarAccess:
    """The configured calendar as the server sees it: reachable, logged in, and whether it is writable.

    Raises FollowupCalError with a message saying what to do when it is not reachable or the login fails.
    """
    options = calendar.options
    label = f"calendar '{calendar.name}'"
    if calendar.type == "caldav":
        from followup_cal.config.secrets import resolve_password

        url = options["url"]
        ca_bundle = options.get("ca_bundle")
        found = caldav_calendars(
            url,
            options.get("username"),
            resolve_password(calendar),
            options.get("verify", True),
            str(ca_bundle) if ca_bundle else None,
        )
        if len(found) == 1:
            return found[0]
        if not found:
            raise BackendError(f"{label}: no calendar for events at {url}; set url to a calendar's URL")
        names = ", ".join(f"{info.name} <{info.address}>" for info in found)
        raise BackendError(f"{label}: {url} is an account with several calendars: {names}; put one in url")
    if calendar.type == "google":
        from followup_cal.backends.google_auth import load_credentials

        credentials = load_credentials(Path(options["token_file"]), calendar_name=calendar.name)
        wanted = options.get("calendar_id", "primary")
        for access in google_calendars(credentials, options.get("api_endpoint")):
            if access.address == wanted or (wanted == "primary" and access.primary):
                return access
        raise BackendError(
            f"{label}: calendar_id {wanted!r} is not in this Google account's calendar list: "
            "check calendar_id (`followup-cal init` lists them)"
        )
    if calendar.type == "microsoft":
        from followup_cal.backends.microsoft_auth import load_token_source

        source = load_token_source(
            Path(options["token_file"]), options["client_id"], options.get("authority"), calendar.name
        )
        wanted = options.get("calendar_id") or "primary"
        for access in microsoft_calendars(source, options.get("api_endpoint")):
            if access.address == wanted or (wanted == "primary" and access.primary):
                return access
        raise BackendError(
            f"{label}: calendar_id {wanted!r} is not among this Microsoft account's calendars: "
            "check calendar_id (`followup-cal calendars` lists them)"
        )
    if calendar.type in ("vdir", "ics"):
        return local_calendar(Path(options["path"]), folder=calendar.type == "vdir", label=label)
    raise ConfigError(f"{label}: unknown type {calendar.type!r}")


def local_calendar(path: Path, *, folder: bool, label: str) -> CalendarAccess:
    """A vdir folder or an .ics file: it exists, can be read, and whether followup-cal can write it."""
    path = path.expanduser()
    if folder and not path.is_dir():
        raise BackendError(f"{label}: no folder at {path}: create it, or point path at your vdir folder")
    if not folder and not path.is_file():
        raise BackendError(f"{label}: no file at {path}: export your calendar there, or fix path")
    if not os.access(path, os.R_OK | (os.X_OK if folder else 0)):
        raise BackendError(f"{label}: {path} cannot be read (permission denied): check its permissions")
    # A write is a temporary file in the folder renamed over the old one: the folder must be writable.
    where = path if folder else path.parent
    writable = os.access(where, os.W_OK | os.X_OK) and (folder or os.access(path, os.W_OK))
    how = "you can write to it" if writable else f"{where} is not writable for you"
    return CalendarAccess(path.name, str(path), writable, how)
