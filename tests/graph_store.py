"""The calendars and events of the Microsoft Graph stand-in (tests/graph_standin.py): events stored in
Graph's JSON shape with ``@odata.etag`` that changes on every write, ``transactionId`` remembered per
calendar, series expanded into occurrences (``type``, ``seriesMasterId``, ``originalStart``, an iCalUId
of their own as Graph gives them; an exception stored under the occurrence's id replaces it, a deleted
occurrence is gone), a change log for the calendar view's delta, and times in any Windows or IANA zone.

The expansion reuses tests/google_recurrence.py: a Graph recurrence pattern becomes an RRULE.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from google_recurrence import expand_starts

Json = dict[str, Any]
DEFAULT_CALENDAR = "AAMkADefaultCalendar"
DAYS = {"monday": "MO", "tuesday": "TU", "wednesday": "WE", "thursday": "TH", "friday": "FR"}
DAYS |= {"saturday": "SA", "sunday": "SU"}
OCCURRENCE_MARK = "_OCC_"


class GraphError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def body(self) -> Json:
        return {"error": {"code": self.code, "message": self.message}}


def zone(name: str | None) -> ZoneInfo:
    if not name or name.upper() == "UTC":
        return ZoneInfo("UTC")
    return ZoneInfo(WINDOWS_TO_OLSON.get(name, name))


def instant(value: Json) -> datetime:
    """The instant of a Graph ``dateTimeTimeZone`` (a wall-clock time in its zone)."""
    text = re.sub(r"(\.\d{6})\d+", r"\1", value["dateTime"])
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=zone(value.get("timeZone")))


def graph_value(moment: datetime, zone_name: str) -> Json:
    local = moment.astimezone(zone(zone_name))
    return {"dateTime": local.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": zone_name}


def offset_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rid_text(moment: datetime | date) -> str:
    if isinstance(moment, datetime):
        return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return moment.strftime("%Y%m%d")


def rrule_lines(recurrence: Json) -> list[str]:
    """Graph's ``patternedRecurrence`` as RRULE lines for google_recurrence.expand_starts."""
    pattern, span = recurrence.get("pattern") or {}, recurrence.get("range") or {}
    freq = {"daily": "DAILY", "weekly": "WEEKLY"}.get(pattern.get("type", ""))
    if freq is None:
        return []
    parts = [f"FREQ={freq}", f"INTERVAL={int(pattern.get('interval') or 1)}"]
    if freq == "WEEKLY" and pattern.get("daysOfWeek"):
        parts.append("BYDAY=" + ",".join(DAYS[d.lower()] for d in pattern["daysOfWeek"]))
    if span.get("type") == "numbered":
        parts.append(f"COUNT={int(span['numberOfOccurrences'])}")
    elif span.get("type") == "endDate":
        parts.append(f"UNTIL={span['endDate'].replace('-', '')}")
    return ["RRULE:" + ";".join(parts)]


@dataclass
class Calendar:
    id: str
    name: str
    can_edit: bool = True
    is_default: bool = False
    events: dict[str, Json] = field(default_factory=dict)  # singles, series masters and exceptions
    removed: dict[str, set[str]] = field(default_factory=dict)  # master id -> deleted occurrences' rids
    transactions: dict[str, str] = field(default_factory=dict)  # transactionId -> event id
    changes: list[tuple[int, str]] = field(default_factory=list)  # (change number, event id)


class GraphStore:
    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.counter = 0
        self.calendars: dict[str, Calendar] = {
            DEFAULT_CALENDAR: Calendar(DEFAULT_CALENDAR, "Calendar", is_default=True)
        }

    def calendar(self, calendar_id: str) -> Calendar:
        key = DEFAULT_CALENDAR if calendar_id in ("primary", "") else calendar_id
        found = self.calendars.get(key)
        if found is None:
            raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        return found

    def add_calendar(self, calendar_id: str, name: str | None = None, can_edit: bool = True) -> Calendar:
        return self.calendars.setdefault(calendar_id, Calendar(calendar_id, name or calendar_id, can_edit))

    # -- writes -------------------------------------------------------------------------------------

    def _touch(self, calendar: Calendar, event: Json) -> Json:
        self.counter += 1
        event["@odata.etag"] = f'W/"CQAAABYAAAD{self.counter:08d}"'
        event["changeKey"] = f"CQAAABYAAAD{self.counter:08d}"
        event["lastModifiedDateTime"] = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        calendar.events[event["id"]] = event
        calendar.changes.append((self.counter, event["id"]))
        return copy.deepcopy(event)

    def insert(self, calendar_id: str, body: Json) -> tuple[int, Json]:
        calendar = self.calendar(calendar_id)
        transaction = body.get("transactionId")
        if transaction and transaction in calendar.transactions:
            known = calendar.events.get(calendar.transactions[transaction])
            if known is None:  # the event of that transaction was deleted: it is not made again
                raise GraphError(409, "ErrorDuplicateTransactionId", "The transaction id was used before.")
            return 201, copy.deepcopy(known)
        for key in ("start", "end"):
            if not isinstance(body.get(key), dict) or "dateTime" not in body[key]:
                raise GraphError(400, "ErrorInvalidRequest", f"The {key} time is missing.")
        self.counter += 1
        event_id = f"AAMkAG{self.counter:06d}"
        event: Json = {
            "id": event_id,
            "iCalUId": f"040000008200E00074C5B7101A82E008{self.counter:016X}",
            "type": "seriesMaster" if body.get("recurrence") else "singleInstance",
            "isCancelled": False,
            "isAllDay": False,
            "isOrganizer": True,
            "organizer": {"emailAddress": {"address": self.owner, "name": "Me"}},
            "responseStatus": {"response": "organizer"},
            "categories": [],
            "attendees": [],
            "showAs": "busy",
            "sensitivity": "normal",
            **copy.deepcopy(body),
        }
        event.setdefault("originalStartTimeZone", event["start"].get("timeZone", "UTC"))
        event.setdefault("originalEndTimeZone", event["end"].get("timeZone", "UTC"))
        if transaction:
            calendar.transactions[transaction] = event_id
        return 201, self._touch(calendar, event)

    def patch(self, calendar_id: str, event_id: str, changes: Json, if_match: str | None) -> Json:
        calendar = self.calendar(calendar_id)
        event = copy.deepcopy(self.get(calendar_id, event_id))
        check_etag(event, if_match)
        for key, value in changes.items():
            if key in ("id", "iCalUId", "type", "seriesMasterId", "originalStart", "transactionId"):
                continue
            if key == "singleValueExtendedProperties":
                merge_properties(event, value)
            else:
                event[key] = copy.deepcopy(value)
        if event["type"] == "occurrence":
            event["type"] = "exception"
        return self._touch(calendar, event)

    def delete(self, calendar_id: str, event_id: str, if_match: str | None) -> None:
        calendar = self.calendar(calendar_id)
        event = self.get(calendar_id, event_id)
        check_etag(event, if_match)
        calendar.events.pop(event_id, None)
        if event.get("seriesMasterId"):
            rid = event_id.rpartition(OCCURRENCE_MARK)[2]
            calendar.removed.setdefault(event["seriesMasterId"], set()).add(rid)
        self.counter += 1
        calendar.changes.append((self.counter, event_id))

    # -- reads --------------------------------------------------------------------------------------

    def get(self, calendar_id: str, event_id: str) -> Json:
        """The stored event, else the occurrence of a series with that id."""
        calendar = self.calendar(calendar_id)
        if event_id in calendar.events:
            return calendar.events[event_id]
        master_id, mark, _rid = event_id.rpartition(OCCURRENCE_MARK)
        master = calendar.events.get(master_id) if mark else None
        if master is not None and master.get("type") == "seriesMaster":
            for occurrence in self.occurrences(calendar, master, None, None):
                if occurrence["id"] == event_id:
                    return occurrence
        raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")

    def occurrences(
        self, calendar: Calendar, master: Json, lo: datetime | None, hi: datetime | None
    ) -> list[Json]:
        """The occurrences of a series that overlap ``[lo, hi)`` (exceptions in their place)."""
        start, end = bounds(master)
        length = end - start
        all_day = bool(master.get("isAllDay"))
        master_zone = zone(master["start"].get("timeZone"))
        first: datetime | date = start.date() if all_day else start.astimezone(master_zone)
        horizon = hi if hi is not None else start + timedelta(days=730)
        floor = lo - length - timedelta(days=1) if lo is not None else None

        def to_instant(value: datetime | date) -> datetime:
            if isinstance(value, datetime):
                return value
            return datetime.combine(value, time(0), master_zone)

        lines = rrule_lines(master.get("recurrence") or {})
        found: list[Json] = []
        removed = calendar.removed.get(master["id"], set())
        for original in expand_starts(first, lines, floor, horizon, to_instant):
            rid = rid_text(original)
            if rid in removed:
                continue
            occurrence_id = f"{master['id']}{OCCURRENCE_MARK}{rid}"
            item = calendar.events.get(occurrence_id)
            if item is None:
                item = copy.deepcopy(master)
                item.pop("recurrence", None)
                moment = to_instant(original)
                item.update(
                    id=occurrence_id,
                    type="occurrence",
                    seriesMasterId=master["id"],
                    originalStart=offset_text(moment),
                    iCalUId=f"{master['iCalUId']}{rid}",
                    start=graph_value(moment, master["start"].get("timeZone", "UTC")),
                    end=graph_value(moment + length, master["end"].get("timeZone", "UTC")),
                )
            if overlaps(item, lo, hi):
                found.append(copy.deepcopy(item))
        return found

    def view(self, calendar_id: str, lo: datetime | None, hi: datetime | None) -> list[Json]:
        """The calendar view: single events and occurrences overlapping ``[lo, hi)``, by start."""
        calendar = self.calendar(calendar_id)
        found: list[Json] = []
        for event in list(calendar.events.values()):
            if event["type"] == "seriesMaster":
                found.extend(self.occurrences(calendar, event, lo, hi))
            elif event["type"] == "singleInstance" and overlaps(event, lo, hi):
                found.append(copy.deepcopy(event))
        found.sort(key=lambda e: (bounds(e)[0], e["id"]))
        return found

    def events(self, calendar_id: str) -> list[Json]:
        """The ``/events`` collection: single events and series masters."""
        calendar = self.calendar(calendar_id)
        return [copy.deepcopy(e) for e in calendar.events.values() if e["type"] != "exception"]

    def changed_since(self, calendar_id: str, number: int) -> list[Json]:
        calendar = self.calendar(calendar_id)
        found: list[Json] = []
        for event_id in dict.fromkeys(i for n, i in calendar.changes if n > number):
            try:
                found.append(copy.deepcopy(self.get(calendar_id, event_id)))
            except GraphError:
                found.append({"id": event_id, "@removed": {"reason": "deleted"}})
        return found


def bounds(event: Json) -> tuple[datetime, datetime]:
    if event.get("isAllDay"):
        day_zone = zone(event["start"].get("timeZone"))
        start = datetime.combine(instant(event["start"]).date(), time(0), day_zone)
        end = datetime.combine(instant(event["end"]).date(), time(0), day_zone)
        return start, end
    return instant(event["start"]), instant(event["end"])


def overlaps(event: Json, lo: datetime | None, hi: datetime | None) -> bool:
    start, end = bounds(event)
    if end <= start:
        end = start + timedelta(seconds=1)
    return (lo is None or end > lo) and (hi is None or start < hi)


def check_etag(event: Json, if_match: str | None) -> None:
    if if_match is not None and if_match != "*" and if_match != event.get("@odata.etag"):
        raise GraphError(
            412, "ErrorIrresolvableConflict", "The change key passed in the request does not match."
        )


def merge_properties(event: Json, properties: list[Json]) -> None:
    stored = {p["id"].casefold(): p for p in event.get("singleValueExtendedProperties") or []}
    for prop in properties:
        stored[str(prop["id"]).casefold()] = {"id": prop["id"], "value": prop.get("value")}
    event["singleValueExtendedProperties"] = list(stored.values())
