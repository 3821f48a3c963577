"""Backend-neutral data: events as read, reminders as planned, and the marks that tie them together.

Nothing here does I/O. Every datetime in these classes is timezone-aware; all-day values are ``date``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

INTERVIEW_CATEGORY = "Interview"

# iCalendar property names (the contract in DESIGN.md "Marks").
PROP_ISSUED = "X-FOLLOWUP-CAL-ISSUED"
PROP_KIND = "X-FOLLOWUP-CAL-KIND"
PROP_SOURCE = "X-FOLLOWUP-CAL-SOURCE"
PROP_FINGERPRINT = "X-FOLLOWUP-CAL-FINGERPRINT"

# Google extendedProperties.private keys.
GOOGLE_TAG = "followupCalTag"
GOOGLE_ISSUED = "followupCalIssued"
GOOGLE_KIND = "followupCalKind"
GOOGLE_SOURCE = "followupCalSource"
GOOGLE_FINGERPRINT = "followupCalFingerprint"


class Kind(StrEnum):
    THANK_YOU = "thank-you"
    CHECK_IN = "check-in"


class Status(StrEnum):
    CONFIRMED = "CONFIRMED"
    TENTATIVE = "TENTATIVE"
    CANCELLED = "CANCELLED"


Moment = datetime | date
"""A start or end as read: an aware ``datetime``, or a ``date`` for all-day values."""


def format_recurrence_id(value: Moment) -> str:
    """The canonical text of a RECURRENCE-ID: ``YYYYMMDDTHHMMSSZ`` in UTC, or ``YYYYMMDD`` for a date."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return value.strftime("%Y%m%d")


def source_key(uid: str, recurrence_id: Moment | None) -> str:
    """The value of ``X-FOLLOWUP-CAL-SOURCE``: the UID, plus ``;`` and the RECURRENCE-ID for an occurrence."""
    if recurrence_id is None:
        return uid
    return f"{uid};{format_recurrence_id(recurrence_id)}"


def split_source_key(key: str) -> tuple[str, str | None]:
    """Inverse of :func:`source_key`: ``(uid, recurrence-id text or None)``.

    The recurrence id never contains ``;``, so the last ``;`` separates it, even when the UID has one.
    """
    uid, sep, rest = key.rpartition(";")
    if sep and rest and (rest.endswith("Z") or rest.isdigit()) and len(rest) in (8, 16):
        return uid, rest
    return key, None


def reminder_uid(source: str, kind: Kind, attempt: int = 0) -> str:
    """The deterministic UID (and Google event id) of a reminder.

    Hex digits only, so it is a safe file name, URL segment and Google (base32hex) id. ``attempt`` grows
    when a server refuses to reuse the UID of a reminder deleted earlier (see DESIGN.md).
    """
    digest = hashlib.sha256(f"{source}\x00{kind.value}\x00{attempt}".encode()).hexdigest()
    return f"fc{digest[:38]}"


@dataclass(frozen=True)
class Person:
    email: str
    name: str = ""
    is_me: bool = False  # the backend knows this is the account's owner (Google's "self")

    def label(self) -> str:
        return self.name or self.email

    @property
    def address(self) -> str:
        """The e-mail address in lower case, without a ``mailto:`` prefix."""
        return self.email.strip().casefold().removeprefix("mailto:")

    def is_user(self, me: Sequence[str]) -> bool:
        """The user: marked so by the backend, or one of the configured ``me`` addresses."""
        return self.is_me or self.address in {m.strip().casefold() for m in me}


@dataclass(frozen=True)
class Attendee(Person):
    partstat: str = ""  # NEEDS-ACTION, ACCEPTED, DECLINED, ... (upper case), "" when unknown
    cutype: str = ""  # INDIVIDUAL, ROOM, RESOURCE, GROUP, ... (upper case), "" when unknown
    role: str = ""


@dataclass(frozen=True)
class ReminderMark:
    """The marks on a reminder written by followup-cal."""

    kind: Kind
    source: str  # see source_key()
    fingerprint: str
    # False when a client dropped the marks and the reminder is known by its derived UID alone
    # (core/unmarked.py); its fingerprint is then the one its content would have had, unedited, or "".
    marked: bool = True


@dataclass(frozen=True)
class Event:
    """One occurrence of a calendar event, as read from a backend.

    ``href`` and ``etag`` describe the stored object the occurrence comes from (see backends.base);
    all occurrences of one stored series share them. ``issued`` is ``None`` when the event carries no
    ``X-FOLLOWUP-CAL-ISSUED`` record; otherwise the kinds recorded for this occurrence.
    """

    calendar: str
    href: str
    etag: str | None
    uid: str
    start: Moment
    end: Moment | None = None  # None: no DTEND/DURATION. For all-day events the exclusive end date.
    recurrence_id: Moment | None = None  # set for each occurrence of a recurring series
    summary: str = ""
    notes: str = ""
    location: str = ""
    organizer: Person | None = None
    attendees: tuple[Attendee, ...] = ()
    categories: tuple[str, ...] = ()
    status: str = ""  # upper-case STATUS, "" when absent
    issued: frozenset[Kind] | None = None
    reminder: ReminderMark | None = None
    # Fields of a reminder as read back, used to detect user edits (see fingerprint()).
    description: str = ""
    # Which of two objects holding one UID is the newer (see run.duplicates): SEQUENCE, and LAST-MODIFIED
    # (else DTSTAMP) in UTC.
    sequence: int = 0
    modified: datetime | None = None

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, datetime)

    @property
    def source_key(self) -> str:
        return source_key(self.uid, self.recurrence_id)

    @property
    def tagged(self) -> bool:
        return any(c.casefold() == INTERVIEW_CATEGORY.casefold() for c in self.categories)


@dataclass(frozen=True)
class ReminderDraft:
    """A reminder as followup-cal wants it to be in the calendar."""

    uid: str
    kind: Kind
    source: str  # the interview's source_key
    parent_uid: str  # the interview's UID, for RELATED-TO
    start: datetime
    end: datetime
    summary: str
    description: str
    alarm_description: str
    url: str = ""

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.start, self.end, self.summary, self.description)


def _normalise_text(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").strip().split("\n"))


def fingerprint(start: Moment, end: Moment | None, summary: str, description: str) -> str:
    """A short hash of the fields followup-cal writes into a reminder.

    Computed the same way from a draft and from a reminder read back; when they differ, the user edited
    the reminder and it is theirs.
    """

    def moment(value: Moment | None) -> str:
        if isinstance(value, datetime):
            return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        return "" if value is None else value.isoformat()

    text = "\x1f".join([moment(start), moment(end), summary.strip(), _normalise_text(description)])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def event_is_edited(event: Event) -> bool:
    """True when a reminder written by followup-cal no longer matches its fingerprint."""
    if event.reminder is None:
        return False
    current = fingerprint(event.start, event.end, event.summary, event.description)
    return current != event.reminder.fingerprint


@dataclass(frozen=True)
class MarkUpdate:
    """What the interview tag of one occurrence should become.

    ``issued`` set: the event is tagged (``Interview`` category) and its ISSUED record for this
    occurrence is exactly these kinds. ``issued`` None: tag and record are removed (``clean``).
    """

    recurrence_id: Moment | None
    issued: frozenset[Kind] | None


@dataclass(frozen=True)
class Problem:
    """Something in a calendar that could not be read; reported by name and skipped."""

    calendar: str
    where: str  # file name, href or event id
    message: str


@dataclass
class Listing:
    """The result of reading a window: the occurrences that could be read, and what could not."""

    events: list[Event] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def end_of(event: Event, default_duration: timedelta = timedelta(hours=1)) -> Moment:
    """The event's end, with the DESIGN's default of one hour for a timed event without one."""
    if event.end is not None:
        return event.end
    if isinstance(event.start, datetime):
        return event.start + default_duration
    return event.start + timedelta(days=1)
