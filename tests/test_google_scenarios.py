"""The shared end-to-end sync scenarios (tests/scenarios.py) on Google: the google backend against the
stand-in of Calendar API v3, with a user who edits events as Google Calendar's own apps do."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from google_helpers import PARTSTATS, google_time, make_backend
from google_standin import GoogleStandin
from scenarios import SyncScenarios, World


class StoredJson:
    """One stored Google event as the scenarios compare it (``to_ical`` gives its exact stored bytes)."""

    def __init__(self, resource: dict[str, Any]) -> None:
        self.resource = resource

    def to_ical(self) -> bytes:
        return json.dumps(self.resource, sort_keys=True).encode()


class GoogleCalendarUser:
    """The scenarios' CalendarUser on Google: edits events as Google Calendar's own apps do."""

    def __init__(self, standin: GoogleStandin, calendar_id: str = "primary") -> None:
        self.standin = standin
        self.calendar_id = calendar_id

    def snapshot(self) -> dict[str, bytes]:
        return {e["id"]: StoredJson(e).to_ical() for e in self.standin.events(self.calendar_id)}

    def _resource(self, uid: str) -> dict[str, Any]:
        for event in self.standin.events(self.calendar_id):
            if event["iCalUID"] == uid and "recurringEventId" not in event:
                return event
        raise KeyError(uid)

    def components(self, uid: str) -> list[StoredJson]:
        return [StoredJson(self._resource(uid))]

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
        body: dict[str, Any] = {
            "iCalUID": uid,
            "summary": summary,
            "start": google_time(start),
            "end": google_time(end or start + timedelta(hours=1)),
        }
        if description:
            body["description"] = description
        if organizer:
            body["organizer"] = {"email": organizer[0], "displayName": organizer[1]}
        if attendees:
            body["attendees"] = [
                {"email": email, "displayName": name, "responseStatus": PARTSTATS[partstat]}
                for email, name, partstat in attendees
            ]
        if rrule:
            body["recurrence"] = [f"RRULE:{rrule}"]
        if categories:
            body["extendedProperties"] = {"shared": {"X-MOZ-CATEGORIES": ",".join(categories)}}
        self.standin.add_event(self.calendar_id, body)

    def add_override(self, uid: str, occurrence_start: datetime, summary: str) -> None:
        instance = f"{self._resource(uid)['id']}_{occurrence_start.astimezone(UTC):%Y%m%dT%H%M%SZ}"
        self.standin.modify_event(self.calendar_id, instance, {"summary": summary})

    def _patch(self, uid: str, changes: dict[str, Any]) -> None:
        self.standin.modify_event(self.calendar_id, self._resource(uid)["id"], changes)

    def move(self, uid: str, delta: timedelta) -> None:
        resource = self._resource(uid)
        changes = {}
        for key in ("start", "end"):
            moved = datetime.fromisoformat(resource[key]["dateTime"]) + delta
            changes[key] = {**resource[key], "dateTime": moved.isoformat()}
        self._patch(uid, changes)

    def set(self, uid: str, name: str, value: str) -> None:
        field = {"SUMMARY": "summary", "DESCRIPTION": "description", "STATUS": "status"}[name]
        self._patch(uid, {field: value.lower() if field == "status" else value})

    def append_notes(self, uid: str, more: str) -> None:
        notes = self._resource(uid).get("description", "")
        self._patch(uid, {"description": f"{notes}\n{more}".strip()})

    def cancel(self, uid: str) -> None:
        self.set(uid, "STATUS", "CANCELLED")

    def delete(self, uid: str) -> None:
        self.standin.delete_event(self.calendar_id, self._resource(uid)["id"])


class TestGoogleScenarios(SyncScenarios):
    @pytest.fixture
    def world(self, standin: GoogleStandin) -> World:
        return World(make_backend(standin, name="cal"), GoogleCalendarUser(standin))  # type: ignore[arg-type]
