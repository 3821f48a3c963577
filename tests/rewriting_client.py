"""A calendar client that re-saves events the way phone and desktop apps do (DESIGN.md "The calendar is
the single source of truth"): it parses the stored object with icalendar, drops what it does not know
(X- properties, RELATED-TO, VALARM, CATEGORIES -- each optionally), stamps it anew (DTSTAMP,
LAST-MODIFIED, SEQUENCE+1), and writes it back with its own property order and line folding.

Works on any :class:`calendar_user.RawStore`: the memory backend, a vdir folder, a CalDAV collection.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import icalendar

from calendar_user import RawStore

FOLD_OCTETS = 60  # icalendar folds at 75; clients fold where they like


@dataclass(frozen=True)
class Rewrite:
    """What the client drops when it re-saves an event (and, optionally, how the user moved it)."""

    strip_x: bool = True
    strip_related: bool = True
    strip_alarms: bool = False
    strip_categories: bool = False
    move: timedelta = timedelta(0)


STRIPPED = Rewrite()
EVERYTHING_STRIPPED = Rewrite(strip_alarms=True, strip_categories=True)
RESERIALISED = Rewrite(strip_x=False, strip_related=False)


class RewritingClient:
    def __init__(self, store: RawStore, clock: datetime = datetime(2026, 11, 30, 8, tzinfo=UTC)) -> None:
        self.store = store
        self.clock = clock

    def uids(self) -> list[str]:
        found = []
        for href in self.store.hrefs():
            calendar = icalendar.Calendar.from_ical(self.store.get(href))
            found += [str(c["UID"]) for c in calendar.walk("VEVENT") if "UID" in c]
        return sorted(set(found))

    def resave(self, uid: str, rewrite: Rewrite = STRIPPED) -> None:
        """Re-saves the object holding ``uid`` with every component of that UID rewritten."""
        for href in self.store.hrefs():
            calendar = icalendar.Calendar.from_ical(self.store.get(href))
            events = [c for c in calendar.walk("VEVENT") if str(c.get("UID")) == uid]
            if not events:
                continue
            self.clock += timedelta(minutes=1)
            for event in events:
                self._rewrite(event, rewrite)
            self.store.put(href, refold(calendar.to_ical(sorted=False)))
            return
        raise KeyError(uid)

    def resave_all(self, uids: Iterable[str], rewrite: Rewrite = STRIPPED) -> None:
        for uid in uids:
            self.resave(uid, rewrite)

    def _rewrite(self, event: icalendar.Event, rewrite: Rewrite) -> None:
        dropped = {"DTSTAMP", "LAST-MODIFIED", "SEQUENCE"}
        if rewrite.strip_related:
            dropped.add("RELATED-TO")
        if rewrite.strip_categories:
            dropped.add("CATEGORIES")
        if rewrite.strip_alarms:
            event.subcomponents[:] = [c for c in event.subcomponents if c.name != "VALARM"]
        sequence = int(event.get("SEQUENCE", 0)) + 1
        kept = [
            (name, value)
            for name, value in event.items()
            if name not in dropped and not (rewrite.strip_x and name.startswith("X-"))
        ]
        if rewrite.move:
            kept = [(name, _moved(event, name, rewrite.move) or value) for name, value in kept]
        event.clear()
        for name, value in reversed(kept):  # another order than the one it was read in
            event[name] = value
        event.add("DTSTAMP", self.clock)
        event.add("LAST-MODIFIED", self.clock)
        event.add("SEQUENCE", sequence)


def _moved(event: icalendar.Event, name: str, delta: timedelta) -> icalendar.prop.vDDDTypes | None:
    if name not in ("DTSTART", "DTEND"):
        return None
    return icalendar.prop.vDDDTypes(event.decoded(name) + delta)


def refold(data: bytes) -> bytes:
    """Unfolds every line and folds it again at :data:`FOLD_OCTETS`, never inside a UTF-8 character."""
    lines = data.replace(b"\r\n ", b"").replace(b"\r\n\t", b"").split(b"\r\n")
    out: list[bytes] = []
    for line in lines:
        text = line.decode()
        chunk = ""
        first = True
        for char in text:
            limit = FOLD_OCTETS if first else FOLD_OCTETS - 1
            if len((chunk + char).encode()) > limit:
                out.append((chunk if first else " " + chunk).encode())
                chunk, first = "", False
            chunk += char
        out.append((chunk if first else " " + chunk).encode())
    return b"\r\n".join(out)
