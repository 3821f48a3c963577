"""Microsoft Graph event JSON <-> the model: an event of a calendar view read as an Event, a reminder draft
as the body to write, the marks in single-value extended properties, the OData texts that find them, and
Windows time-zone names mapped to IANA zones.

Pure functions on dicts; nothing here talks to Graph (that is ``microsoft.py``).
"""

from __future__ import annotations

import contextlib
import functools
import html
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from followup_cal.core.model import (
    GOOGLE_FINGERPRINT,
    GOOGLE_ISSUED,
    GOOGLE_KIND,
    GOOGLE_SOURCE,
    GOOGLE_TAG,
    INTERVIEW_CATEGORY,
    Attendee,
    Event,
    Kind,
    MarkUpdate,
    Moment,
    Person,
    ReminderDraft,
    ReminderMark,
)

Json = dict[str, Any]

# One fixed property set for every mark (a GUID of followup-cal's own; it never changes).
PROPERTY_SET = "{8f3b8e2a-6c1d-4f57-9a0e-5b2c7d41e9a3}"
TAG, ISSUED, KIND, SOURCE, FINGERPRINT = (
    GOOGLE_TAG,
    GOOGLE_ISSUED,
    GOOGLE_KIND,
    GOOGLE_SOURCE,
    GOOGLE_FINGERPRINT,
)
UID = "followupCalUid"  # Graph chooses iCalUId itself: the reminder's derived UID is kept here
MARK_NAMES = (TAG, ISSUED, KIND, SOURCE, FINGERPRINT, UID)
TAG_VALUE = "interview"
MASTER_CATEGORY_COLOUR = "preset7"  # blue
PARTSTATS = {
    "accepted": "ACCEPTED",
    "organizer": "ACCEPTED",
    "declined": "DECLINED",
    "tentativelyAccepted": "TENTATIVE",
    "notResponded": "NEEDS-ACTION",
    "none": "NEEDS-ACTION",
}
SELECT = ",".join(
    (
        "id",
        "iCalUId",
        "subject",
        "body",
        "start",
        "end",
        "isAllDay",
        "isCancelled",
        "isOrganizer",
        "responseStatus",
        "location",
        "organizer",
        "attendees",
        "categories",
        "type",
        "seriesMasterId",
        "originalStart",
        "originalStartTimeZone",
        "originalEndTimeZone",
        "transactionId",
    )
)
_HTML_TAG = re.compile(r"<(br|p|div|span|b|i|u|a|ul|ol|li|html|head|body|meta)\b[^>]*>", re.IGNORECASE)
_REMINDER_UID = re.compile(r"fc[0-9a-f]{38}")


def property_id(name: str) -> str:
    """The id of one mark's single-value extended property."""
    return f"String {PROPERTY_SET} Name {name}"


def odata_text(value: str) -> str:
    """A string literal of an OData query (quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


def expand_marks() -> str:
    """The ``$expand`` that reads the marks with every event."""
    ids = " or ".join(f"id eq {odata_text(property_id(name))}" for name in MARK_NAMES)
    return f"singleValueExtendedProperties($filter={ids})"


def mark_filter(name: str, value: str) -> str:
    """The ``$filter`` that finds the events whose mark ``name`` is ``value``."""
    return (
        f"singleValueExtendedProperties/any(ep: ep/id eq {odata_text(property_id(name))} "
        f"and ep/value eq {odata_text(value)})"
    )


def looks_like_reminder_uid(uid: str) -> bool:
    return _REMINDER_UID.fullmatch(uid) is not None


def marks_of(item: Json) -> dict[str, str]:
    """The item's marks by name (an empty value, which is how a mark is removed, reads as absent)."""
    wanted = {property_id(name).casefold(): name for name in MARK_NAMES}
    found: dict[str, str] = {}
    for prop in item.get("singleValueExtendedProperties") or []:
        name = wanted.get(str(prop.get("id", "")).casefold())
        if name is not None and prop.get("value"):
            found[name] = str(prop["value"])
    return found


def item_to_event(item: Json, calendar: str, tz: ZoneInfo, series_uid: str | None = None) -> Event:
    """An event or occurrence of the API as the model's Event; ``series_uid``: the iCalUId of the series
    an occurrence belongs to (Graph gives each occurrence an iCalUId of its own)."""
    marks = marks_of(item)
    zone = windows_zone(item.get("originalStartTimeZone")) or tz
    all_day = bool(item.get("isAllDay"))
    start = _moment(item["start"], zone, all_day)
    end = _moment(item["end"], zone, all_day) if item.get("end") else None
    recurrence_id: Moment | None = None
    if item.get("type") in ("occurrence", "exception") and item.get("originalStart"):
        original = _instant(str(item["originalStart"])).astimezone(zone)
        recurrence_id = original.date() if all_day else original
    reminder = _reminder_mark(marks)
    uid = marks.get(UID) or (item.get("transactionId") if reminder else None) or series_uid
    body = item.get("body") or {}
    description = str(body.get("content") or "")
    if str(body.get("contentType", "")).lower() == "html" or _HTML_TAG.search(description):
        description = _html_to_text(description)
    categories = [str(c) for c in item.get("categories") or []]
    tagged = marks.get(TAG) == TAG_VALUE
    if tagged and not any(c.casefold() == INTERVIEW_CATEGORY.casefold() for c in categories):
        categories.append(INTERVIEW_CATEGORY)
    return Event(
        calendar=calendar,
        href=item["id"],
        etag=item.get("@odata.etag"),
        uid=uid or item.get("iCalUId") or item["id"],
        start=start,
        end=end,
        recurrence_id=recurrence_id,
        summary=item.get("subject") or "",
        notes=description,
        location=str((item.get("location") or {}).get("displayName") or ""),
        organizer=_organizer(item),
        attendees=_attendees(item),
        categories=tuple(categories),
        status="CANCELLED" if item.get("isCancelled") else "CONFIRMED",
        issued=_parse_issued(marks.get(ISSUED)),
        reminder=reminder,
        description=description,
    )


def reminder_body(draft: ReminderDraft) -> Json:
    """A reminder as Graph stores it: free, private, a reminder at its start, no attendees."""
    marks = {KIND: draft.kind.value, SOURCE: draft.source, FINGERPRINT: draft.fingerprint, UID: draft.uid}
    return {
        "subject": draft.summary,
        "body": {"contentType": "text", "content": draft.description},
        "start": {"dateTime": graph_time(draft.start), "timeZone": "UTC"},
        "end": {"dateTime": graph_time(draft.end), "timeZone": "UTC"},
        "showAs": "free",
        "sensitivity": "private",
        "isReminderOn": True,
        "reminderMinutesBeforeStart": 0,
        "singleValueExtendedProperties": [{"id": property_id(k), "value": v} for k, v in marks.items()],
    }


def marks_patch(item: Json, update: MarkUpdate) -> Json:
    """The PATCH of an interview's categories and marks only: tag it (``issued`` set) with its record of
    the reminders issued, or (``issued`` None) remove tag, record and the category the tag added."""
    categories = [str(c) for c in item.get("categories") or []]
    has_category = any(c.casefold() == INTERVIEW_CATEGORY.casefold() for c in categories)
    if update.issued is None:
        if marks_of(item).get(TAG) == TAG_VALUE:
            categories = [c for c in categories if c.casefold() != INTERVIEW_CATEGORY.casefold()]
        values = {TAG: "", ISSUED: ""}
    else:
        if not has_category:
            categories.append(INTERVIEW_CATEGORY)
        values = {TAG: TAG_VALUE, ISSUED: ",".join(k.value for k in Kind if k in update.issued)}
    return {
        "categories": categories,
        "singleValueExtendedProperties": [{"id": property_id(k), "value": v} for k, v in values.items()],
    }


def is_our_reminder(item: Json, draft: ReminderDraft) -> bool:
    marks = marks_of(item)
    return marks.get(SOURCE) == draft.source and marks.get(KIND) == draft.kind.value


def is_own_write(item: Json, ours: Mapping[str, str | None]) -> bool:
    """An item of a delta that is exactly as our own write left it: the etag it left, or the removal of
    an event we deleted."""
    event_id = str(item.get("id"))
    if event_id not in ours:
        return False
    etag = ours[event_id]
    if etag is None:
        return "@removed" in item
    return "@removed" not in item and item.get("@odata.etag") == etag


def graph_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment} given to the Microsoft backend")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


@functools.cache
def windows_zone(name: str | None) -> ZoneInfo | None:
    """The IANA zone of a Graph time-zone name: Windows names ("W. Europe Standard Time") through the
    CLDR map that icalendar ships, IANA names as they are; None when unknown."""
    if not name:
        return None
    from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

    for candidate in (WINDOWS_TO_OLSON.get(name.strip()), name.strip()):
        if candidate:
            with contextlib.suppress(ZoneInfoNotFoundError, ValueError):
                return ZoneInfo(candidate)
    return None


def _instant(text: str) -> datetime:
    """An instant from Graph's ``DateTimeOffset`` text (``2026-11-30T13:00:00Z``, 7 fraction digits)."""
    text = text.strip().replace("Z", "+00:00")
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _moment(value: Json, zone: ZoneInfo, all_day: bool) -> Moment:
    text = re.sub(r"(\.\d{6})\d+", r"\1", str(value["dateTime"]))
    local = datetime.fromisoformat(text)
    if all_day:
        return local.date()
    if local.tzinfo is None:
        local = local.replace(tzinfo=windows_zone(value.get("timeZone")) or UTC)
    return local.astimezone(zone)


def _organizer(item: Json) -> Person | None:
    address = ((item.get("organizer") or {}).get("emailAddress")) or {}
    if not address.get("address"):
        return None
    return Person(str(address["address"]), str(address.get("name") or ""), bool(item.get("isOrganizer")))


def _attendees(item: Json) -> tuple[Attendee, ...]:
    found: list[Attendee] = []
    for attendee in item.get("attendees") or []:
        address = attendee.get("emailAddress") or {}
        if not address.get("address"):
            continue
        response = (attendee.get("status") or {}).get("response", "")
        kind = attendee.get("type", "")
        found.append(
            Attendee(
                email=str(address["address"]),
                name=str(address.get("name") or ""),
                partstat=PARTSTATS.get(response, ""),
                cutype="RESOURCE" if kind == "resource" else "INDIVIDUAL",
                role="OPT-PARTICIPANT" if kind == "optional" else "REQ-PARTICIPANT",
            )
        )
    mine = (item.get("responseStatus") or {}).get("response")
    if mine == "declined" and not item.get("isOrganizer"):
        # Graph tells the user's own answer apart, without saying which attendee is the user.
        found.append(Attendee(email="", partstat="DECLINED", is_me=True))
    return tuple(found)


def _reminder_mark(marks: dict[str, str]) -> ReminderMark | None:
    kind, source = marks.get(KIND), marks.get(SOURCE)
    if kind not in {k.value for k in Kind} or not source:
        return None
    return ReminderMark(Kind(kind), source, marks.get(FINGERPRINT, ""))


def _parse_issued(value: str | None) -> frozenset[Kind] | None:
    if value is None:
        return None
    names = {part.strip() for part in value.split(",")}
    return frozenset(kind for kind in Kind if kind.value in names)


def same_original_start(item: Json, recurrence_id: Moment) -> bool:
    """Whether an occurrence's ``originalStart`` is ``recurrence_id`` (a date: the same day)."""
    text = item.get("originalStart")
    if not text:
        return False
    original = _instant(str(text))
    if isinstance(recurrence_id, datetime):
        return original == recurrence_id
    zone = windows_zone(item.get("originalStartTimeZone")) or UTC
    return original.astimezone(zone).date() == recurrence_id or original.date() == recurrence_id


def _html_to_text(text: str) -> str:
    """Outlook keeps bodies as HTML; the core reads notes as plain text."""
    text = re.sub(r"<br\s*/?>|</p>|</div>|</li>", "\n", text, flags=re.IGNORECASE)
    text = re.sub(r"<(head|style|script)\b.*?</\1>", "", text, flags=re.IGNORECASE | re.DOTALL)
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip("\n")
