"""Calendar backends behind one protocol (see base.py).

Backends are imported only when a calendar of their type is configured, so that ``followup-cal --help``
and a sync of local calendars never load the CalDAV or Google client libraries.
"""

from __future__ import annotations

from pathlib import Path

from ..settings import CalendarSettings
from .base import CalendarBackend


def open_backend(calendar: CalendarSettings) -> CalendarBackend:
    """The backend for one ``[calendars.NAME]`` table (validated by config)."""
    options = calendar.options
    if calendar.type == "vdir":
        from .vdir import VdirBackend

        return VdirBackend(calendar.name, Path(options["path"]))
    if calendar.type == "ics":
        from .icsfile import IcsFileBackend

        return IcsFileBackend(calendar.name, Path(options["path"]))
    if calendar.type == "caldav":
        from ..secrets import resolve_password
        from .caldav_backend import CaldavBackend

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
        from ..google_auth import load_credentials
        from .google import GoogleBackend

        return GoogleBackend(
            calendar.name,
            load_credentials(Path(options["token_file"]), calendar_name=calendar.name),
            calendar_id=options.get("calendar_id", "primary"),
            api_endpoint=options.get("api_endpoint"),
        )
    if calendar.type == "memory":
        from .memory import MemoryBackend

        return MemoryBackend(calendar.name)
    raise ValueError(f"unknown calendar type {calendar.type!r}")
