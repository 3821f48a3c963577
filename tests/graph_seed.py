"""The job search of tests/job_search_seed.py on the Graph stand-in: the seed's events as Outlook would hold
them (Windows zone names, invitations from recruiters), a snapshot of a stand-in calendar that tells
whether two runs left the same result, and a config for a Microsoft calendar signed in through the
identity stand-in (tests/microsoft_identity.py) with the real msal."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import icalendar

from graph_helpers import recurrence
from job_search_seed import ME, Snapshot, seed_objects
from microsoft_identity import CLIENT_ID, MicrosoftIdentity

BERLIN = "W. Europe Standard Time"
RESPONSES = {"ACCEPTED": "accepted", "DECLINED": "declined"}
# What differs between two calendars seeded alike, or changes with every write.
VOLATILE = frozenset(
    {
        "@odata.etag",
        "changeKey",
        "lastModifiedDateTime",
        "id",
        "seriesMasterId",
        "singleValueExtendedProperties",
    }
)


def _time(value: Any) -> dict[str, str]:
    moment = value.dt
    if hasattr(moment, "hour"):
        return {"dateTime": moment.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": BERLIN}
    return {"dateTime": f"{moment.isoformat()}T00:00:00.0000000", "timeZone": BERLIN}


def _address(value: Any) -> str:
    return str(value).removeprefix("mailto:")


def graph_seed(interviews: int) -> list[dict[str, Any]]:
    """The seed's events as Graph resources (what Outlook would hold after the invitations came)."""
    found: list[dict[str, Any]] = []
    for data in seed_objects(interviews).values():
        event = next(iter(icalendar.Calendar.from_ical(data).walk("VEVENT")))
        start = event["DTSTART"]
        end = event.get("DTEND") or type(start)(start.dt + event.decoded("DURATION"))
        body: dict[str, Any] = {
            "iCalUId": str(event["UID"]),
            "subject": str(event["SUMMARY"]),
            "body": {"contentType": "text", "content": str(event.get("DESCRIPTION", ""))},
            "start": _time(start),
            "end": _time(end),
            "isAllDay": not hasattr(start.dt, "hour"),
            "isCancelled": str(event.get("STATUS", "")) == "CANCELLED",
            "categories": [str(c) for c in event["CATEGORIES"].cats] if "CATEGORIES" in event else [],
        }
        if "LOCATION" in event:
            body["location"] = {"displayName": str(event["LOCATION"])}
        mine = "accepted"
        if "ORGANIZER" in event:
            body["organizer"] = {"emailAddress": {"address": _address(event["ORGANIZER"])}}
            body["isOrganizer"] = False
        attendees = event.get("ATTENDEE")
        listed = attendees if isinstance(attendees, list) else [attendees] if attendees is not None else []
        body["attendees"] = []
        for attendee in listed:
            response = RESPONSES.get(str(attendee.params.get("PARTSTAT")), "notResponded")
            if _address(attendee) == ME:
                mine = response
            body["attendees"].append(
                {
                    "emailAddress": {"address": _address(attendee)},
                    "status": {"response": response},
                    "type": "required",
                }
            )
        body["responseStatus"] = {"response": mine if "ORGANIZER" in event else "organizer"}
        if "RRULE" in event:
            body["recurrence"] = recurrence(event["RRULE"].to_ical().decode(), start.dt)
        found.append(body)
    return found


def graph_snapshot(items: list[dict[str, Any]]) -> Snapshot:
    """The snapshot of a stand-in calendar's stored events."""
    reminders: dict[tuple[str, str], tuple[str, ...]] = {}
    per_key: Counter[tuple[str, str]] = Counter()
    user_events: dict[str, Any] = {}
    marks: dict[str, Any] = {}
    for item in items:
        props = {
            p["id"].rpartition(" ")[2]: p["value"] for p in item.get("singleValueExtendedProperties") or []
        }
        if props.get("followupCalKind"):
            key = (props.get("followupCalSource", ""), props["followupCalKind"])
            per_key[key] += 1
            reminders[key] = (
                item.get("subject", ""),
                json.dumps(item.get("start"), sort_keys=True),
                json.dumps(item.get("end"), sort_keys=True),
                (item.get("body") or {}).get("content", ""),
            )
            continue
        # Keyed by iCalUId (an exception has one of its own): event ids differ from calendar to calendar.
        view = {k: v for k, v in item.items() if k not in VOLATILE}
        view["categories"] = [c for c in item.get("categories") or [] if c != "Interview"]
        key = item["iCalUId"]
        user_events[key] = json.dumps(view, sort_keys=True)
        marks[key] = (props.get("followupCalIssued", ""), props.get("followupCalTag", ""))
    duplicates = sum(count - 1 for count in per_key.values())
    return Snapshot(reminders, duplicates, user_events, marks)


def microsoft_config(
    tmp: Path, identity: MicrosoftIdentity, calendars: dict[str, tuple[str, str]], *, expired: bool = False
) -> Path:
    """A config with one Microsoft calendar per ``name -> (calendar_id, api_endpoint)``, all sharing a
    token cache signed in through the identity stand-in."""
    token = tmp / "microsoft-token.json"
    identity.write_token_cache(token, expired=expired)
    text = 'timezone = "Europe/Berlin"\nme = ["me@example.com"]\n'
    for name, (calendar_id, endpoint) in calendars.items():
        text += (
            f'[calendars.{name}]\ntype = "microsoft"\nclient_id = "{CLIENT_ID}"\n'
            f'calendar_id = "{calendar_id}"\ntoken_file = "{token}"\n'
            f'api_endpoint = "{endpoint}"\nauthority = "{identity.authority}"\n'
        )
    config = tmp / "config.toml"
    config.write_text(text)
    return config
