"""A busy job search for the crash and network-fault tests: 40 interviews (38 single events and a weekly
series of two) among ordinary events, in the weeks after today; running ``followup-cal`` as a real
process; and snapshots of a calendar that tell whether two runs left the same result.

The interviews lie in the future of the real clock (the CLI plans with it), at least three days ahead,
so that a few seconds between two runs never change which reminders are due.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar

from radicale_server import RadicaleServer

TZ = ZoneInfo("Europe/Berlin")
ME = "me@example.com"
INTERVIEWS = 40
MARK_PREFIX = "X-FOLLOWUP-CAL-"
INTERVIEW_CATEGORY = "Interview"
# Requests give up after this many seconds in the fault tests (FOLLOWUP_CAL_TIMEOUT), and no wait between
# retries is longer than FOLLOWUP_CAL_MAX_RETRY_DELAY: a stalled or failing server costs seconds, not minutes.
FAST_NETWORK_ENV = {"FOLLOWUP_CAL_TIMEOUT": "1", "FOLLOWUP_CAL_MAX_RETRY_DELAY": "0.2"}

TITLES = (
    "Phone screen - {org}",
    "Technical interview with {org}",
    "Hiring manager call - {org}",
    "Recruiter call ({org})",
    "Onsite at {org}",
    "Final round - {org}",
    "Coffee chat with {org}",  # an interview only through #interview in its notes
)
ORGS = ("acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "tyrell", "soylent", "cyberdyne")


def first_workday_after(days: int) -> date:
    day = datetime.now(TZ).date() + timedelta(days=days)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _workdays(start: date, count: int) -> list[date]:
    days: list[date] = []
    day = start
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%S")


def _event(uid: str, lines: list[str]) -> bytes:
    body = "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//followup-cal tests//job search seed//EN",
            "BEGIN:VEVENT",
            f"UID:{uid}",
            "DTSTAMP:20260101T000000Z",
            *lines,
            "END:VEVENT",
            "END:VCALENDAR",
            "",
        ]
    )
    return body.encode()


def seed_objects(interviews: int = INTERVIEWS) -> dict[str, bytes]:
    """File name -> iCalendar object: ``interviews - 2`` single interviews, one weekly interview series of
    two occurrences, and ordinary events (a standing meeting, a mock interview, a cancelled and a declined
    interview, an all-day conference...)."""
    days = _workdays(first_workday_after(3), 19)
    objects: dict[str, bytes] = {}
    hours = ((10, 0), (15, 30), (17, 30), (8, 0))
    for number in range(interviews - 2):
        org = ORGS[number % len(ORGS)]
        title = TITLES[number % len(TITLES)].format(org=org.capitalize())
        hour, minute = hours[number % len(hours)]
        start = datetime.combine(days[number // 2], datetime.min.time()).replace(hour=hour, minute=minute)
        end = start + timedelta(minutes=45 if number % 3 else 60)
        notes = [f"Interview {number} with {org}."]
        if "Coffee chat" in title:
            notes.append("#interview")
        if number % 5 == 1:
            notes.append(f"decision: {(start + timedelta(days=10)).date().isoformat()}")
        elif number % 5 == 3:
            notes.append("They will decide within two weeks.")
        lines = [
            f"DTSTART;TZID=Europe/Berlin:{_stamp(start)}",
            f"DTEND;TZID=Europe/Berlin:{_stamp(end)}",
            f"SUMMARY:{title}",
            "DESCRIPTION:" + "\\n".join(notes),
            f"ORGANIZER;CN=Recruiter {number}:mailto:recruiter{number}@{org}.example",
            f"ATTENDEE;CN=Interviewer {number};PARTSTAT=ACCEPTED:mailto:lead{number}@{org}.example",
            f"ATTENDEE;CN=Me;PARTSTAT=ACCEPTED:mailto:{ME}",
        ]
        if number % 4 == 0:
            lines.append("CATEGORIES:Work,Job search")
        if number % 3 == 0:
            lines.append(f"LOCATION:{org.capitalize()} HQ\\, Room {number}")
        if number % 6 == 0:
            lines.append("X-APPLE-TRAVEL-ADVISORY-BEHAVIOR:AUTOMATIC")
        if number % 7 == 0:
            lines += [
                "BEGIN:VALARM",
                "ACTION:DISPLAY",
                "DESCRIPTION:Get ready",
                "TRIGGER:-PT15M",
                "END:VALARM",
            ]
        objects[f"interview-{number:02d}.ics"] = _event(f"interview-{number:02d}@seed.example", lines)
    series_start = datetime.combine(days[0] + timedelta(days=1), datetime.min.time()).replace(hour=11)
    objects["interview-series.ics"] = _event(
        "interview-series@seed.example",
        [
            f"DTSTART;TZID=Europe/Berlin:{_stamp(series_start)}",
            f"DTEND;TZID=Europe/Berlin:{_stamp(series_start + timedelta(hours=1))}",
            "RRULE:FREQ=WEEKLY;COUNT=2",
            "SUMMARY:Interview loop - Vandelay",
            "ORGANIZER:mailto:art@vandelay.example",
        ],
    )
    monday = days[0] - timedelta(days=days[0].weekday())
    ordinary = {
        "standup": [
            f"DTSTART;TZID=Europe/Berlin:{monday.strftime('%Y%m%d')}T090000",
            "DURATION:PT15M",
            "RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=12",
            "SUMMARY:Volunteer standup",
            "CATEGORIES:Personal",
        ],
        "mock": ["SUMMARY:Mock interview with Priya", "DESCRIPTION:Practice run."],
        "prep": ["SUMMARY:Interview prep", "LOCATION:Library"],
        "cancelled": ["SUMMARY:Phone screen - Massive Dynamic", "STATUS:CANCELLED"],
        "declined": [
            "SUMMARY:Technical interview - Oscorp",
            f"ATTENDEE;PARTSTAT=DECLINED:mailto:{ME}",
            "ORGANIZER:mailto:norman@oscorp.example",
        ],
        "dentist": ["SUMMARY:Dentist", "DESCRIPTION:Bring the insurance card."],
        "no-followup": ["SUMMARY:Recruiter call - agency", "DESCRIPTION:Just a catch-up #no-followup"],
    }
    for index, (name, lines) in enumerate(ordinary.items()):
        if not any(line.startswith("DTSTART") for line in lines):
            start = datetime.combine(days[index * 2], datetime.min.time()).replace(hour=13)
            lines = [
                f"DTSTART;TZID=Europe/Berlin:{_stamp(start)}",
                f"DTEND;TZID=Europe/Berlin:{_stamp(start + timedelta(hours=1))}",
                *lines,
            ]
        objects[f"{name}.ics"] = _event(f"{name}@seed.example", lines)
    conference = days[5]
    objects["conference.ics"] = _event(
        "conference@seed.example",
        [
            f"DTSTART;VALUE=DATE:{conference.strftime('%Y%m%d')}",
            f"DTEND;VALUE=DATE:{(conference + timedelta(days=2)).strftime('%Y%m%d')}",
            "SUMMARY:PyCon",
            "TRANSP:TRANSPARENT",
        ],
    )
    return objects


def config_text(calendars: dict[str, str], *, extra: str = "") -> str:
    """A config with one CalDAV calendar per ``name -> url`` (no authentication)."""
    text = f'timezone = "Europe/Berlin"\nme = ["{ME}"]\n{extra}'
    for name, url in calendars.items():
        text += f'[calendars.{name}]\ntype = "caldav"\nurl = "{url}"\n'
    return text


# ---- the seed on Radicale


def seed_radicale(radicale: RadicaleServer, user: str, interviews: int = INTERVIEWS) -> Path:
    """Seeds the calendar /<user>/seed/ through Radicale and returns its folder in Radicale's storage;
    :func:`copy_of_seed` makes each test calendar a copy of it."""
    radicale.make_calendar(user, "seed")
    for name, data in seed_objects(interviews).items():
        assert radicale.put_ics(f"/{user}/seed/{name}", data) == 201, name
    return radicale.storage / "collections" / "collection-root" / user / "seed"


def copy_of_seed(radicale: RadicaleServer, seed_folder: Path, slug: str) -> str:
    """A new calendar holding the seed's events; returns its URL. (A copy of the folder: much faster than
    48 PUTs, and Radicale reads its storage afresh on each request.)"""
    building = seed_folder.with_name(f".{slug}.tmp")
    shutil.copytree(seed_folder, building)
    building.rename(seed_folder.with_name(slug))
    return radicale.url(f"/{seed_folder.parent.name}/{slug}/")


def radicale_snapshot(radicale: RadicaleServer, url: str) -> Snapshot:
    status, _, body = radicale.request("GET", url.removeprefix(radicale.root.rstrip("/")))
    assert status == 200, status
    return ical_snapshot(body)


# ---- running followup-cal as its own process


def start_sync(config: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "followup_cal", "--config", str(config), "sync"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )


@dataclass
class Finished:
    code: int
    stdout: str
    stderr: str


def run_sync(config: Path, env: dict[str, str] | None = None, timeout: float = 120) -> Finished:
    process = start_sync(config, env)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        stdout, stderr = process.communicate()
        raise AssertionError(f"followup-cal sync hung for {timeout} s: {stderr.decode()[-2000:]}") from None
    return Finished(process.returncode, stdout.decode(), stderr.decode())


# ---- what a calendar holds, in a form two runs can be compared by


@dataclass
class Snapshot:
    reminders: dict[tuple[str, str], tuple[str, ...]]  # (source, kind) -> (summary, start, end, notes)
    duplicates: int  # reminders beyond the first with the same (source, kind)
    user_events: dict[str, Any]  # key -> every property but followup-cal's marks, comparable
    marks: dict[str, Any]  # key -> followup-cal's marks on that user event


def _normal_property(name: str, value: Any) -> Any:
    items = value if isinstance(value, list) else [value]
    return sorted(
        (
            item.to_ical().decode() if hasattr(item, "to_ical") else str(item),
            sorted(getattr(item, "params", {}).items()),
        )
        for item in items
    )


def _categories(component: icalendar.Component) -> list[str]:
    value = component.get("CATEGORIES")
    found: list[str] = []
    for item in value if isinstance(value, list) else [value] if value is not None else []:
        found += [str(c) for c in item.cats]
    return found


def _without_marks(component: icalendar.Component) -> Any:
    props = sorted(
        (name, _normal_property(name, value))
        for name, value in component.property_items(recursive=False)
        if name not in ("BEGIN", "END", "CATEGORIES") and not name.startswith(MARK_PREFIX)
    )
    categories = sorted(c for c in _categories(component) if c != INTERVIEW_CATEGORY)
    children = sorted(json.dumps(_without_marks(child), default=str) for child in component.subcomponents)
    return [component.name, props, categories, children]


def ical_snapshot(calendar_data: bytes) -> Snapshot:
    """The snapshot of a whole calendar (Radicale answers GET on a collection with all its events)."""
    calendar = icalendar.Calendar.from_ical(calendar_data)
    reminders: dict[tuple[str, str], tuple[str, ...]] = {}
    per_key: Counter[tuple[str, str]] = Counter()
    user_events: dict[str, Any] = {}
    marks: dict[str, Any] = {}
    for event in calendar.walk("VEVENT"):
        kind = event.get(f"{MARK_PREFIX}KIND")
        if kind is not None:
            key = (str(event.get(f"{MARK_PREFIX}SOURCE")), str(kind))
            per_key[key] += 1
            reminders[key] = (
                str(event.get("SUMMARY")),
                event.decoded("DTSTART").isoformat(),
                event.decoded("DTEND").isoformat(),
                str(event.get("DESCRIPTION")),
            )
            continue
        rid = event.get("RECURRENCE-ID")
        key = str(event.get("UID")) + ("" if rid is None else ";" + rid.to_ical().decode())
        assert key not in user_events, f"user event {key} is there twice"
        user_events[key] = _without_marks(event)
        marks[key] = (
            str(event.get(f"{MARK_PREFIX}ISSUED", "")),
            INTERVIEW_CATEGORY in _categories(event),
        )
    duplicates = sum(count - 1 for count in per_key.values())
    return Snapshot(reminders, duplicates, user_events, marks)


# ---- the same seed on the Google stand-in


def _google_time(value: Any) -> dict[str, str]:
    moment = value.dt
    if isinstance(moment, datetime):
        return {"dateTime": moment.isoformat(), "timeZone": "Europe/Berlin"}
    return {"date": moment.isoformat()}


def _address(value: Any) -> str:
    return str(value).removeprefix("mailto:")


def google_seed(interviews: int = INTERVIEWS) -> list[dict[str, Any]]:
    """The seed's events as Calendar API resources (what another client would have inserted)."""
    partstats = {"ACCEPTED": "accepted", "DECLINED": "declined"}
    found: list[dict[str, Any]] = []
    for name, data in seed_objects(interviews).items():
        event = next(iter(icalendar.Calendar.from_ical(data).walk("VEVENT")))
        start = event["DTSTART"]
        end = event.get("DTEND")
        body: dict[str, Any] = {
            "id": name.removesuffix(".ics").replace("-", ""),
            "iCalUID": str(event["UID"]),
            "summary": str(event["SUMMARY"]),
            "start": _google_time(start),
            "end": _google_time(end)
            if end
            else _google_time(type(start)(start.dt + event.decoded("DURATION"))),
        }
        for key, prop in (("description", "DESCRIPTION"), ("location", "LOCATION")):
            if prop in event:
                body[key] = str(event[prop])
        if "ORGANIZER" in event:
            body["organizer"] = {"email": _address(event["ORGANIZER"])}
        attendees = event.get("ATTENDEE")
        if attendees is not None:
            body["attendees"] = [
                {
                    "email": _address(a),
                    "responseStatus": partstats.get(str(a.params.get("PARTSTAT")), "needsAction"),
                    **({"self": True} if _address(a) == ME else {}),
                }
                for a in (attendees if isinstance(attendees, list) else [attendees])
            ]
        if "RRULE" in event:
            body["recurrence"] = ["RRULE:" + event["RRULE"].to_ical().decode()]
        if str(event.get("STATUS", "")) == "CANCELLED":
            body["status"] = "cancelled"
        found.append(body)
    return found


GOOGLE_VOLATILE = frozenset({"etag", "updated", "sequence", "created"})


def google_snapshot(items: list[dict[str, Any]]) -> Snapshot:
    """The snapshot of a stand-in calendar's stored resources (tombstones of deleted reminders left out)."""
    reminders: dict[tuple[str, str], tuple[str, ...]] = {}
    per_key: Counter[tuple[str, str]] = Counter()
    user_events: dict[str, Any] = {}
    marks: dict[str, Any] = {}
    for item in items:
        private = dict((item.get("extendedProperties") or {}).get("private") or {})
        if "followupCalKind" in private:
            if item.get("status") == "cancelled":
                continue
            key = (private.get("followupCalSource", ""), private["followupCalKind"])
            per_key[key] += 1
            reminders[key] = (
                item.get("summary", ""),
                json.dumps(item.get("start"), sort_keys=True),
                json.dumps(item.get("end"), sort_keys=True),
                item.get("description", ""),
            )
            continue
        ours = {k: private.pop(k) for k in list(private) if k.startswith("followupCal")}
        view = {k: v for k, v in item.items() if k not in GOOGLE_VOLATILE and k != "extendedProperties"}
        view["private"] = private
        user_events[item["id"]] = json.dumps(view, sort_keys=True)
        marks[item["id"]] = (ours.get("followupCalIssued", ""), ours.get("followupCalTag", ""))
    duplicates = sum(count - 1 for count in per_key.values())
    return Snapshot(reminders, duplicates, user_events, marks)
