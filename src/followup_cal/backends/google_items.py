"""Google Calendar event JSON <-> the model: an API item read as an Event, a reminder draft as the body
to write, the marks in ``extendedProperties.private``, and the time and id texts the API takes.

Pure functions on dicts; nothing here talks to Google (that is ``google.py``).
"""

from __future__ import annotations

import contextlib
import html
import re
from datetime import UTC, date, datetime
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
    format_recurrence_id,
)

Json = dict[str, Any]

TAG_VALUE = "interview"
MOZ_CATEGORIES = "X-MOZ-CATEGORIES"
PARTSTATS = {
    "needsAction": "NEEDS-ACTION",
    "accepted": "ACCEPTED",
    "declined": "DECLINED",
    "tentative": "TENTATIVE",
}
_HTML_TAG = re.compile(r"<(br|p|div|span|b|i|u|a|ul|ol|li)\b[^>]*>", re.IGNORECASE)


def item_to_event(item: Json, calendar: str, tz: ZoneInfo) -> Event:
    """An event or instance of the API as the model's Event of calendar ``calendar``."""
    private = (item.get("extendedProperties") or {}).get("private") or {}
    description = item.get("description") or ""
    organizer_json = item.get("organizer") or {}
    organizer = None
    if organizer_json.get("email"):
        organizer = Person(
            organizer_json["email"],
            organizer_json.get("displayName", ""),
            bool(organizer_json.get("self")),
        )
    attendees = tuple(
        Attendee(
            email=a["email"],
            name=a.get("displayName", ""),
            partstat=PARTSTATS.get(a.get("responseStatus", ""), ""),
            cutype="RESOURCE" if a.get("resource") else "INDIVIDUAL",
            role="OPT-PARTICIPANT" if a.get("optional") else "REQ-PARTICIPANT",
            is_me=bool(a.get("self")),
        )
        for a in item.get("attendees", [])
        if a.get("email")
    )
    original = item.get("originalStartTime")
    recurrence_id = _moment(original, tz) if item.get("recurringEventId") and original else None
    start_json = item.get("start") or original  # a cancelled instance may carry only its original start
    if start_json is None:
        raise ValueError("the event has no start")
    return Event(
        calendar=calendar,
        href=item["id"],
        etag=item.get("etag"),
        uid=item.get("iCalUID") or item["id"],
        start=_moment(start_json, tz),
        end=_moment(item["end"], tz) if item.get("end") else None,
        recurrence_id=recurrence_id,
        summary=item.get("summary") or "",
        notes=_html_to_text(description),
        location=item.get("location") or "",
        organizer=organizer,
        attendees=attendees,
        categories=_categories(item, tagged=private.get(GOOGLE_TAG) == TAG_VALUE),
        status=str(item.get("status") or "").upper(),
        issued=_parse_issued(private.get(GOOGLE_ISSUED)),
        reminder=_reminder_mark(private),
        description=description,
    )


def reminder_body(draft: ReminderDraft) -> Json:
    body: Json = {
        "summary": draft.summary,
        "description": draft.description,
        "start": {"dateTime": rfc3339(draft.start)},
        "end": {"dateTime": rfc3339(draft.end)},
        "transparency": "transparent",
        "visibility": "private",
        "reminders": {"useDefault": False, "overrides": [{"method": "popup", "minutes": 0}]},
        "extendedProperties": {
            "private": {
                GOOGLE_KIND: draft.kind.value,
                GOOGLE_SOURCE: draft.source,
                GOOGLE_FINGERPRINT: draft.fingerprint,
            }
        },
    }
    if draft.url.startswith(("https://", "http://")):
        body["source"] = {"title": "Interview", "url": draft.url}
    return body


def private_marks(update: MarkUpdate) -> Json:
    """The ``extendedProperties.private`` patch that sets (or, ``issued`` None, removes) the interview
    tag and the record of the reminders issued."""
    if update.issued is None:
        return {GOOGLE_TAG: None, GOOGLE_ISSUED: None}
    issued = ",".join(kind.value for kind in Kind if kind in update.issued)
    return {GOOGLE_TAG: TAG_VALUE, GOOGLE_ISSUED: issued}


def is_our_reminder(item: Json, draft: ReminderDraft) -> bool:
    private = (item.get("extendedProperties") or {}).get("private") or {}
    return (
        item.get("status") != "cancelled"
        and private.get(GOOGLE_SOURCE) == draft.source
        and private.get(GOOGLE_FINGERPRINT) == draft.fingerprint
    )


def has_private(item: Json, private: Json) -> bool:
    """True when the item's private extended properties hold ``private`` (a None value: absent)."""
    stored = (item.get("extendedProperties") or {}).get("private") or {}
    return item.get("status") != "cancelled" and all(stored.get(k) == v for k, v in private.items())


def is_deleted_leftover(item: Json) -> bool:
    """A cancelled reminder (deleted: gone) or a cancelled item without any start (nothing to place)."""
    if item.get("status") != "cancelled":
        return False
    private = (item.get("extendedProperties") or {}).get("private") or {}
    return GOOGLE_KIND in private or not (item.get("start") or item.get("originalStartTime"))


def _categories(item: Json, *, tagged: bool) -> tuple[str, ...]:
    """Google has no categories. Thunderbird's provider for Google Calendar keeps them in the extended
    property ``X-MOZ-CATEGORIES`` (shared; private in old versions), a comma list with ``\\,`` escapes.
    Our interview tag reads as the ``Interview`` category."""
    properties = item.get("extendedProperties") or {}
    text = (properties.get("shared") or {}).get(MOZ_CATEGORIES) or (properties.get("private") or {}).get(
        MOZ_CATEGORIES
    )
    found: list[str] = []
    if isinstance(text, str):
        for part in re.split(r"(?<!\\),", text):
            name = part.replace("\\,", ",").strip()
            if name and name not in found:
                found.append(name)
    if tagged and not any(name.casefold() == INTERVIEW_CATEGORY.casefold() for name in found):
        found.append(INTERVIEW_CATEGORY)
    return tuple(found)


def _reminder_mark(private: Json) -> ReminderMark | None:
    kind, source = private.get(GOOGLE_KIND), private.get(GOOGLE_SOURCE)
    if kind not in {k.value for k in Kind} or not source:
        return None
    return ReminderMark(Kind(kind), source, private.get(GOOGLE_FINGERPRINT, ""))


def _parse_issued(value: Any) -> frozenset[Kind] | None:
    if value is None:
        return None
    names = {part.strip() for part in str(value).split(",")}
    return frozenset(kind for kind in Kind if kind.value in names)


def _moment(value: Json, tz: ZoneInfo) -> Moment:
    if "dateTime" in value:
        moment = datetime.fromisoformat(value["dateTime"])
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=tz)
        zone = value.get("timeZone")
        if zone:
            with contextlib.suppress(ZoneInfoNotFoundError, ValueError):  # else keep Google's offset
                moment = moment.astimezone(ZoneInfo(zone))
        return moment
    return date.fromisoformat(value["date"])


def same_moment(value: Json | None, recurrence_id: Moment) -> bool:
    if not value:
        return False
    try:
        moment = _moment(value, ZoneInfo("UTC"))
    except (KeyError, ValueError):
        return False
    return isinstance(moment, datetime) == isinstance(recurrence_id, datetime) and moment == recurrence_id


def rfc3339(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment} given to the Google backend")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def original_start_text(recurrence_id: Moment) -> str:
    if isinstance(recurrence_id, datetime):
        return rfc3339(recurrence_id)
    return recurrence_id.isoformat()


def occurrence_id(href: str, recurrence_id: Moment | None) -> str:
    """The event id of occurrence ``recurrence_id`` of the series ``href`` belongs to (ids are base32hex;
    only instance ids hold ``_``)."""
    if recurrence_id is None:
        return href
    suffix = format_recurrence_id(recurrence_id)
    if href.endswith("_" + suffix):
        return href
    return f"{href.partition('_')[0]}_{suffix}"


def _html_to_text(text: str) -> str:
    """Google's web UI stores edited descriptions as HTML; the core reads notes as plain text."""
    if not _HTML_TAG.search(text):
        return text
    text = re.sub(r"<br\s*/?>|</p>|</div>|</li>", "\n", text, flags=re.IGNORECASE)
    return html.unescape(re.sub(r"<[^>]+>", "", text))
