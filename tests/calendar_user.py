"""A person editing their calendar between syncs, the way a calendar app does it: it reads the stored
iCalendar object, changes the event, and writes the whole object back (keeping what it does not know).

Works on any store of iCalendar objects that can list, get, put and remove raw bytes, so the same
scenarios run against the memory, vdir and ics backends (and a CalDAV server).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

import icalendar


class RawStore(Protocol):
    def hrefs(self) -> list[str]: ...
    def get(self, href: str) -> bytes: ...
    def put(self, href: str, data: bytes) -> None: ...
    def remove(self, href: str) -> None: ...


@dataclass
class FolderStore:
    """A vdir: one file per object."""

    path: Path

    def hrefs(self) -> list[str]:
        return sorted(p.name for p in self.path.iterdir() if p.suffix == ".ics")

    def get(self, href: str) -> bytes:
        return (self.path / href).read_bytes()

    def put(self, href: str, data: bytes) -> None:
        (self.path / href).write_bytes(data)

    def remove(self, href: str) -> None:
        (self.path / href).unlink()


@dataclass
class FileStore:
    """One .ics file holding every event: a single object as far as a calendar app is concerned."""

    path: Path

    def hrefs(self) -> list[str]:
        return [self.path.name] if self.path.exists() else []

    def get(self, href: str) -> bytes:
        return self.path.read_bytes()

    def put(self, href: str, data: bytes) -> None:
        self.path.write_bytes(data)

    def remove(self, href: str) -> None:
        raise AssertionError("a single-file calendar is never removed")


@dataclass
class CallbackStore:
    """Any store given as four functions (the memory backend, a CalDAV collection)."""

    list_fn: Callable[[], list[str]]
    get_fn: Callable[[str], bytes]
    put_fn: Callable[[str, bytes], None]
    remove_fn: Callable[[str], None]

    def hrefs(self) -> list[str]:
        return self.list_fn()

    def get(self, href: str) -> bytes:
        return self.get_fn(href)

    def put(self, href: str, data: bytes) -> None:
        self.put_fn(href, data)

    def remove(self, href: str) -> None:
        self.remove_fn(href)


def _stamp() -> str:
    return "20260101T000000Z"


class CalendarUser:
    def __init__(self, store: RawStore, *, single_file: bool = False) -> None:
        self.store = store
        self.single_file = single_file

    # -- reading -------------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, bytes]:
        return {href: self.store.get(href) for href in self.store.hrefs()}

    def _locate(self, uid: str) -> tuple[str, icalendar.Calendar]:
        for href in self.store.hrefs():
            calendar = icalendar.Calendar.from_ical(self.store.get(href))
            if any(str(c.get("UID")) == uid for c in calendar.walk("VEVENT")):
                return href, calendar
        raise KeyError(uid)

    def components(self, uid: str) -> list[icalendar.Event]:
        _href, calendar = self._locate(uid)
        return [c for c in calendar.walk("VEVENT") if str(c.get("UID")) == uid]

    # -- writing -------------------------------------------------------------------------------------
    def add(
        self,
        uid: str,
        summary: str,
        start: datetime,
        end: datetime | None,
        *,
        description: str = "",
        organizer: tuple[str, str] | None = None,
        attendees: Sequence[tuple[str, str, str]] = (),
        rrule: str | None = None,
        categories: Sequence[str] = (),
    ) -> None:
        event = icalendar.Event()
        event.add("UID", uid)
        event.add("DTSTAMP", icalendar.vDatetime.from_ical(_stamp()))
        event.add("DTSTART", start)
        if end is not None:
            event.add("DTEND", end)
        event.add("SUMMARY", summary)
        if description:
            event.add("DESCRIPTION", description)
        if organizer:
            event.add("ORGANIZER", f"mailto:{organizer[0]}", parameters={"CN": organizer[1]})
        for email, name, partstat in attendees:
            event.add("ATTENDEE", f"mailto:{email}", parameters={"CN": name, "PARTSTAT": partstat})
        if rrule:
            event.add("RRULE", icalendar.vRecur.from_ical(rrule))
        if categories:
            event.add("CATEGORIES", list(categories))
        if self.single_file and self.store.hrefs():
            href = self.store.hrefs()[0]
            calendar = icalendar.Calendar.from_ical(self.store.get(href))
        else:
            href = f"user-{uid.replace('@', '-').replace('/', '-')}.ics"
            calendar = icalendar.Calendar()
            calendar.add("PRODID", "-//calendar app//EN")
            calendar.add("VERSION", "2.0")
        calendar.add_component(event)
        self.store.put(href, calendar.to_ical())

    def add_override(self, uid: str, occurrence_start: datetime, summary: str) -> None:
        """Renames one occurrence of a series, as an app does when "this event only" is edited."""
        href, calendar = self._locate(uid)
        master = next(c for c in calendar.walk("VEVENT") if str(c.get("UID")) == uid)
        length = master.decoded("DTEND") - master.decoded("DTSTART")
        override = icalendar.Event()
        override.add("UID", uid)
        override.add("DTSTAMP", icalendar.vDatetime.from_ical(_stamp()))
        override.add("RECURRENCE-ID", occurrence_start)
        override.add("DTSTART", occurrence_start)
        override.add("DTEND", occurrence_start + length)
        override.add("SUMMARY", summary)
        calendar.add_component(override)
        self.store.put(href, calendar.to_ical())

    def edit(self, uid: str, change: Callable[[icalendar.Event], None]) -> None:
        href, calendar = self._locate(uid)
        for component in calendar.walk("VEVENT"):
            if str(component.get("UID")) == uid:
                change(component)
        self.store.put(href, calendar.to_ical())

    def move(self, uid: str, delta: timedelta) -> None:
        def shift(component: icalendar.Event) -> None:
            for name in ("DTSTART", "DTEND"):
                if name in component:
                    value = component.decoded(name) + delta
                    del component[name]
                    component.add(name, value)

        self.edit(uid, shift)

    def set(self, uid: str, name: str, value: str) -> None:
        def change(component: icalendar.Event) -> None:
            if name in component:
                del component[name]
            component.add(name, value)

        self.edit(uid, change)

    def append_notes(self, uid: str, more: str) -> None:
        def change(component: icalendar.Event) -> None:
            notes = str(component.get("DESCRIPTION", ""))
            if "DESCRIPTION" in component:
                del component["DESCRIPTION"]
            component.add("DESCRIPTION", f"{notes}\n{more}".strip())

        self.edit(uid, change)

    def cancel(self, uid: str) -> None:
        self.set(uid, "STATUS", "CANCELLED")

    def delete(self, uid: str) -> None:
        href, calendar = self._locate(uid)
        keep = [c for c in calendar.subcomponents if str(c.get("UID")) != uid]
        if not self.single_file and all(c.name != "VEVENT" for c in keep):
            self.store.remove(href)
            return
        calendar.subcomponents[:] = keep
        self.store.put(href, calendar.to_ical())
