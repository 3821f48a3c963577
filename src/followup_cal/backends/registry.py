"""Which backend opens a ``[calendars.NAME]`` table of each ``type``.

Backends are imported only when a calendar of their type is configured, so that ``followup-cal --help``
and a sync of local calendars never load the CalDAV or Google client libraries, nor msal.
"""

from __future__ import annotations

from pathlib import Path

from followup_cal.backends.base import CalendarBackend
from followup_cal.core.settings import CalendarSettings


def open_backend(calendar: CalendarSettings) -> CalendarBackend:
    """The backend for one ``[calendars.NAME]`` table (validated by config)."""
    options = calendar.options
    if calendar.type == "vdir":
        from followup_cal.backends.vdir import VdirBackend

        return VdirBackend(calendar.name, Path(options["path"]))
    if calendar.type == "ics":
        from followup_cal.backends.icsfile import IcsFileBackend

        return IcsFileBackend(calendar.name, Path(options["path"]))
    if calendar.type == "caldav":
        from followup_cal.backends.caldav_backend import CaldavBackend
        from followup_cal.config.secrets import resolve_password

        return CaldavBackend(
            calendar.name,
            options["url"],
            username=options.get("username"),
            password=resolve_password(calendar),
            verify=options.get("verify", True),
            ca_bundle=options.get("ca_bundle"),
            connections=options.get("connections", 1),
        )
    if calendar.type == "google":
        from followup_cal.backends.google import GoogleBackend
        from followup_cal.backends.google_auth import load_credentials

        return GoogleBackend(
            calendar.name,
            load_credentials(Path(options["token_file"]), calendar_name=calendar.name),
            calendar_id=options.get("calendar_id", "primary"),
            api_endpoint=options.get("api_endpoint"),
            batch=options.get("batch", True),
        )
    if calendar.type == "microsoft":
        from followup_cal.backends.microsoft import MicrosoftBackend
        from followup_cal.backends.microsoft_auth import load_token_source

        token_file = Path(options["token_file"])
        return MicrosoftBackend(
            calendar.name,
            load_token_source(token_file, options["client_id"], options.get("authority"), calendar.name),
            calendar_id=options.get("calendar_id", "primary"),
            api_endpoint=options.get("api_endpoint"),
        )
    if calendar.type == "memory":
        from followup_cal.backends.memory import MemoryBackend

        return MemoryBackend(calendar.name)
    raise ValueError(f"unknown calendar type {calendar.type!r}")
