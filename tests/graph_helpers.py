"""Helpers for the tests that talk to the Graph stand-in (tests/graph_standin.py): a microsoft backend built
on it, Graph's shapes of times (Windows zone names, as Outlook writes them), recurrences and attendees,
and a user who edits the calendar the way Outlook does (not through the backend)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from followup_cal.backends.http import RetryPolicy
from followup_cal.backends.microsoft import MicrosoftBackend
from followup_cal.backends.microsoft_http import GraphTransport
from graph_standin import ACCESS_TOKEN, GraphStandin

IANA_TO_WINDOWS = {iana: windows for windows, iana in reversed(list(WINDOWS_TO_OLSON.items()))}
RESPONSES = {"ACCEPTED": "accepted", "DECLINED": "declined", "TENTATIVE": "tentativelyAccepted"}
RESPONSES["NEEDS-ACTION"] = "notResponded"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
BYDAY = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}


def make_backend(standin: GraphStandin, name: str = "outlook", **options: Any) -> MicrosoftBackend:
    transport = GraphTransport(
        standin.api_endpoint, lambda: ACCESS_TOKEN, policy=RetryPolicy(attempts=6, base_delay=0.001)
    )
    return MicrosoftBackend(name, lambda: ACCESS_TOKEN, "primary", transport=transport, **options)


def graph_time(moment: datetime | date) -> dict[str, str]:
    """A start or end as Outlook writes it: wall-clock time and a Windows zone name."""
    if not isinstance(moment, datetime):
        return {"dateTime": f"{moment.isoformat()}T00:00:00.0000000", "timeZone": "UTC"}
    key = getattr(moment.tzinfo, "key", "UTC")
    return {
        "dateTime": moment.strftime("%Y-%m-%dT%H:%M:%S.0000000"),
        "timeZone": IANA_TO_WINDOWS.get(key, key),
    }


def recurrence(rrule: str, start: datetime) -> dict[str, Any]:
    """An RRULE (FREQ DAILY/WEEKLY, INTERVAL, COUNT, UNTIL, BYDAY) as Graph's patternedRecurrence."""
    rule = dict(part.split("=", 1) for part in rrule.split(";"))
    pattern: dict[str, Any] = {"type": rule["FREQ"].lower(), "interval": int(rule.get("INTERVAL", "1"))}
    if rule["FREQ"] == "WEEKLY":
        days = [BYDAY[d] for d in rule["BYDAY"].split(",")] if "BYDAY" in rule else [start.weekday()]
        pattern["daysOfWeek"] = [WEEKDAYS[d] for d in days]
    span: dict[str, Any] = {"type": "noEnd", "startDate": start.date().isoformat()}
    if "COUNT" in rule:
        span |= {"type": "numbered", "numberOfOccurrences": int(rule["COUNT"])}
    elif "UNTIL" in rule:
        until = rule["UNTIL"][:8]
        span |= {"type": "endDate", "endDate": f"{until[:4]}-{until[4:6]}-{until[6:]}"}
    return {"pattern": pattern, "range": span}


def attendees_json(attendees: Sequence[tuple[str, str, str]]) -> list[dict[str, Any]]:
    return [
        {
            "emailAddress": {"address": email, "name": name},
            "status": {"response": RESPONSES[partstat]},
            "type": "required",
        }
        for email, name, partstat in attendees
    ]


def event_body(
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
) -> dict[str, Any]:
    """An event as an invitation from ``organizer`` lands in the user's Outlook calendar."""
    body: dict[str, Any] = {
        "iCalUId": uid,
        "subject": summary,
        "body": {"contentType": "text", "content": description},
        "start": graph_time(start),
        "end": graph_time(end or start + timedelta(hours=1)),
        "categories": list(categories),
    }
    if organizer:
        body["organizer"] = {"emailAddress": {"address": organizer[0], "name": organizer[1]}}
        body["isOrganizer"] = False
        body["responseStatus"] = {"response": "accepted"}
    if attendees:
        body["attendees"] = attendees_json(attendees)
    if rrule:
        body["recurrence"] = recurrence(rrule, start)
    return body


class StoredJson:
    """One stored Graph event as the scenarios compare it (``to_ical`` gives its exact stored bytes)."""

    def __init__(self, resource: dict[str, Any]) -> None:
        self.resource = resource

    def to_ical(self) -> bytes:
        return json.dumps(self.resource, sort_keys=True).encode()


class OutlookUser:
    """The scenarios' CalendarUser on Microsoft: edits events in the stand-in as Outlook does."""

    def __init__(self, standin: GraphStandin, calendar_id: str = "primary") -> None:
        self.standin = standin
        self.calendar_id = calendar_id

    def snapshot(self) -> dict[str, bytes]:
        return {e["id"]: StoredJson(e).to_ical() for e in self.standin.events(self.calendar_id)}

    def resource(self, uid: str) -> dict[str, Any]:
        """The single event or series master with this iCalUId, or the reminder with this UID mark."""
        for event in self.standin.events(self.calendar_id):
            marks = {
                p["id"].rpartition(" ")[2]: p["value"] for p in event.get("singleValueExtendedProperties", [])
            }
            if event["type"] != "exception" and uid in (event["iCalUId"], marks.get("followupCalUid")):
                return event
        raise KeyError(uid)

    def components(self, uid: str) -> list[StoredJson]:
        return [StoredJson(self.resource(uid))]

    def add(self, uid: str, summary: str, start: datetime, end: datetime | None, **fields: Any) -> None:
        self.standin.add_event(self.calendar_id, event_body(uid, summary, start, end, **fields))

    def add_override(self, uid: str, occurrence_start: datetime, summary: str) -> None:
        master = self.resource(uid)["id"]
        occurrence = f"{master}_OCC_{occurrence_start.astimezone(UTC):%Y%m%dT%H%M%SZ}"
        self.standin.modify_event(self.calendar_id, occurrence, {"subject": summary})

    def patch(self, uid: str, changes: dict[str, Any]) -> None:
        self.standin.modify_event(self.calendar_id, self.resource(uid)["id"], changes)

    def move(self, uid: str, delta: timedelta) -> None:
        from graph_store import instant

        resource = self.resource(uid)
        changes = {}
        for key in ("start", "end"):
            moved = instant(resource[key]) + delta
            changes[key] = graph_time(moved.astimezone(instant(resource[key]).tzinfo))
        self.patch(uid, changes)

    def set(self, uid: str, name: str, value: str) -> None:
        if name == "SUMMARY":
            self.patch(uid, {"subject": value})
        elif name == "DESCRIPTION":
            self.patch(uid, {"body": {"contentType": "text", "content": value}})
        elif name == "STATUS":
            self.patch(uid, {"isCancelled": value.upper() == "CANCELLED"})
        else:
            raise AssertionError(f"unknown field {name}")

    def append_notes(self, uid: str, more: str) -> None:
        notes = (self.resource(uid).get("body") or {}).get("content", "")
        self.set(uid, "DESCRIPTION", f"{notes}\n{more}".strip())

    def cancel(self, uid: str) -> None:
        self.set(uid, "STATUS", "CANCELLED")

    def delete(self, uid: str) -> None:
        self.standin.delete_event(self.calendar_id, self.resource(uid)["id"])
