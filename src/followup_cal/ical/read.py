"""iCalendar in and out, shared by every iCalendar backend (CalDAV, vdir, one .ics file, memory).

Reading goes through icalendar, x-wr-timezone and recurring-ical-events; the marks are written as a text
edit (see ical_marks) so that nothing else in a user's event changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
import x_wr_timezone

from followup_cal.core.model import (
    INTERVIEW_CATEGORY,
    PROP_FINGERPRINT,
    PROP_ISSUED,
    PROP_KIND,
    PROP_SOURCE,
    Attendee,
    Event,
    Kind,
    MarkUpdate,
    Moment,
    Person,
    Problem,
    ReminderDraft,
    ReminderMark,
    format_recurrence_id,
)
from followup_cal.errors import BackendError
from followup_cal.ical import marks as ical_marks
from followup_cal.ical.checks import (
    Unreadable,
    as_datetime,
    check_recurrence_cost,
    check_times,
    time_value,
    to_moment,
)

PRODID = "-//followup-cal//EN"
# recurring-ical-events compares floating times loosely; ask for a wider window, then filter exactly.
_WINDOW_SLACK = timedelta(days=1)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def uids_in(data: bytes) -> list[str]:
    """The distinct UIDs of the VEVENTs in the object (a text scan, no full parse)."""
    lines = ical_marks.physical_lines(data.decode("utf-8", "surrogateescape"))
    seen: dict[str, None] = {}
    for span in ical_marks.vevent_spans(lines):
        if span.uid:
            seen.setdefault(span.uid, None)
    return list(seen)


def apply_marks(data: bytes, uid: str, updates: Sequence[MarkUpdate]) -> bytes:
    """Sets or removes the interview tag and the ``X-FOLLOWUP-CAL-ISSUED`` record on the VEVENT(s) of
    ``uid`` as a text edit; every other byte stays as it was. Raises NotFound when ``uid`` is absent."""
    return ical_marks.apply_marks(data, uid, updates)


def reminder_to_ical(draft: ReminderDraft) -> bytes:
    """A whole VCALENDAR holding the reminder VEVENT (see ICAL-API.md)."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    event = icalendar.Event()
    event.add("uid", draft.uid)
    event.add("dtstamp", datetime.now(UTC).replace(microsecond=0))
    event.add("dtstart", draft.start.astimezone(UTC))
    event.add("dtend", draft.end.astimezone(UTC))
    event.add("summary", draft.summary)
    event.add("description", draft.description)
    if draft.url:
        event.add("url", icalendar.vUri(draft.url))
    event.add("transp", "TRANSPARENT")
    event.add("class", "PRIVATE")
    event.add("related-to", draft.parent_uid, parameters={"RELTYPE": "PARENT"})
    # X- values are written raw by icalendar unless given as vText; vText escapes , ; \ and newlines.
    event.add(PROP_KIND, icalendar.vText(draft.kind.value))
    event.add(PROP_SOURCE, icalendar.vText(draft.source))
    event.add(PROP_FINGERPRINT, icalendar.vText(draft.fingerprint))
    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", draft.alarm_description)
    alarm.add("trigger", icalendar.vUnknown("-PT0M"))
    event.add_component(alarm)
    cal.add_component(event)
    return bytes(cal.to_ical())


def read_events(
    data: bytes,
    *,
    calendar: str,
    href: str,
    etag: str | None,
    tz: ZoneInfo,
    start: datetime,
    end: datetime,
) -> tuple[list[Event], list[Problem]]:
    """Every VEVENT occurrence in one iCalendar object that overlaps ``[start, end)`` (see ICAL-API.md).
    Never raises on bad data: what cannot be read becomes a Problem naming ``href`` (and the UID)."""
    try:
        groups, problems = _vevents_by_uid(data, calendar, href)
    except Exception as exc:
        return [], [Problem(calendar, href, f"not a readable iCalendar file ({_brief(exc)})")]
    events: list[Event] = []
    for uid, components in groups.items():
        try:
            series = _Series(uid, components, tz)
            if series.ignored_masters:
                problems.append(Problem(calendar, href, _two_versions(uid, series.ignored_masters)))
            for occurrence in series.expand(start - _WINDOW_SLACK, end + _WINDOW_SLACK):
                event = series.to_event(occurrence, calendar=calendar, href=href, etag=etag)
                if _overlaps(event, start, end, tz):
                    events.append(event)
        except Exception as exc:
            problems.append(Problem(calendar, href, f"event {uid!r} could not be read ({_brief(exc)})"))
    events.sort(key=lambda event: as_datetime(event.start, tz))
    return events, problems


def find_event(
    data: bytes,
    uid: str,
    recurrence_id: Moment | None,
    *,
    calendar: str,
    href: str,
    etag: str | None,
    tz: ZoneInfo,
) -> Event | None:
    """The event with that UID (or the occurrence ``recurrence_id`` of its series), or None when the
    object holds no such event/occurrence. Raises BackendError when the event exists but cannot be read."""
    try:
        groups, _ = _vevents_by_uid(data, calendar, href)
    except Exception as exc:
        raise BackendError(f"{href}: not a readable iCalendar object ({_brief(exc)}).") from exc
    components = groups.get(uid)
    if not components:
        return None
    try:
        series = _Series(uid, components, tz)
        occurrence = series.occurrence(recurrence_id)
        if occurrence is None:
            return None
        return series.to_event(occurrence, calendar=calendar, href=href, etag=etag)
    except Exception as exc:
        raise BackendError(f"{href}: event {uid!r} could not be read ({_brief(exc)}).") from exc


# --- parsing ------------------------------------------------------------------------------------------


def _two_versions(uid: str, ignored: int) -> str:
    return (
        f"event {uid!r} is in it {ignored + 1} times without RECURRENCE-ID; the newest (highest SEQUENCE, "
        "then latest LAST-MODIFIED, then the first) is used and the "
        f"other{'s are' if ignored > 1 else ' is'} ignored: delete the copy you do not want"
    )


def _brief(exc: Exception) -> str:
    """A short reason for a user: our own checks speak for themselves; a library error names its kind.
    Library messages quote the input, so control characters (a terminal escape) are shown escaped."""
    text = str(exc).strip().splitlines()
    first = _CONTROL.sub(lambda match: ascii(match.group())[1:-1], text[0][:160]) if text else ""
    if isinstance(exc, Unreadable):
        return first or "unreadable"
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def _vevents_by_uid(
    data: bytes, calendar: str, href: str
) -> tuple[dict[str, list[icalendar.Component]], list[Problem]]:
    """The VEVENTs grouped by UID (master and overrides together). Raises when nothing parses."""
    if not data.strip():
        raise ValueError("the file is empty")
    # Unfold by octets before icalendar decodes the lines: a fold may split a UTF-8 sequence (RFC 5545
    # 3.1 folds at 75 octets), and decoding each half alone would turn it into two U+FFFD.
    components = icalendar.Calendar.from_ical(ical_marks.unfold_bytes(data), multiple=True)
    groups: dict[str, list[icalendar.Component]] = {}
    problems: list[Problem] = []
    found_vevent = False
    for top in components:
        if top.name == "VCALENDAR":
            try:
                top = _with_calendar_zone(top)
            except Exception as exc:
                problems.append(
                    Problem(calendar, href, f"X-WR-TIMEZONE could not be applied ({_brief(exc)})")
                )
            vevents = [c for c in top.subcomponents if c.name == "VEVENT"]
        else:
            vevents = [top] if top.name == "VEVENT" else []
        for vevent in vevents:
            uid = str(vevent.get("UID", "")).strip()
            if not uid:
                summary = str(vevent.get("SUMMARY", ""))
                problems.append(Problem(calendar, href, f"an event without UID ({summary!r}) was skipped"))
                continue
            groups.setdefault(uid, []).append(vevent)
            found_vevent = True
    if not components:
        raise ValueError("no iCalendar component found")
    if not found_vevent and not problems and b"BEGIN:VEVENT" in data.upper():
        problems.append(Problem(calendar, href, "its events could not be parsed (unbalanced BEGIN/END?)"))
    return groups, problems


class _FloatingTimesWalker(x_wr_timezone.UTCChangingWalker):  # type: ignore[misc] # untyped library
    """x-wr-timezone's walker, except that a time is floating only when it has no zone at all: a time
    in a VTIMEZONE of its own (Outlook's "W. Europe Standard Time", often without TZNAME) has no tzname,
    and the library took it for floating and moved it into the calendar's zone."""

    def is_Floating(self, dt: datetime) -> bool:
        return dt.tzinfo is None


def _with_calendar_zone(calendar: icalendar.Calendar) -> icalendar.Calendar:
    """The calendar with X-WR-TIMEZONE applied (as x_wr_timezone.to_standard does) to its floating and
    UTC times only; a time with its own TZID keeps its zone."""
    name = calendar.get(x_wr_timezone.X_WR_TIMEZONE)
    if name is None:
        return calendar
    walked: icalendar.Calendar = _FloatingTimesWalker(ZoneInfo(str(name).strip())).walk(calendar)
    return walked


def _overlaps(event: Event, start: datetime, end: datetime, tz: ZoneInfo) -> bool:
    first = as_datetime(event.start, tz)
    last = as_datetime(event.end, tz) if event.end is not None else first
    if not isinstance(event.start, datetime) and event.end is None:
        last = first + timedelta(days=1)
    return first < end and (last > start or first >= start)


def _rid_text(value: Any, tz: ZoneInfo) -> str:
    return format_recurrence_id(to_moment(value, tz))


def _text(component: icalendar.Component, name: str) -> str:
    value = component.get(name)
    if value is None:
        return ""
    if isinstance(value, list):
        value = value[0]
    return str(value)


def _x_text(component: icalendar.Component, name: str) -> str | None:
    """An X- property as TEXT: icalendar hands X- values over raw (still escaped)."""
    value = component.get(name)
    if value is None:
        return None
    if isinstance(value, list):
        value = value[0]
    raw = value.to_ical()
    raw_text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return ical_marks.unescape_text(raw_text).strip()


def _issued(components: Iterable[icalendar.Component], key: str | None) -> frozenset[Kind] | None:
    found = False
    kinds: set[Kind] = set()
    for component in components:
        values = component.get(PROP_ISSUED)
        if values is None:
            continue
        found = True
        for value in values if isinstance(values, list) else [values]:
            raw = value.to_ical()
            raw_text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
            for kind in ical_marks.parse_issued(raw_text).get(key, []):
                if kind in Kind._value2member_map_:
                    kinds.add(Kind(kind))
    return frozenset(kinds) if found else None


def _categories_of(item: Any) -> tuple[str, ...]:
    """The values of one CATEGORIES property."""
    cats = getattr(item, "cats", None)
    return tuple(text for cat in (cats if cats is not None else [item]) if (text := str(cat).strip()))


def _categories(component: icalendar.Component) -> tuple[str, ...]:
    value = component.get("CATEGORIES")
    if value is None:
        return ()
    result: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        for text in _categories_of(item):
            if text not in result:
                result.append(text)
    return tuple(result)


def _raw(component: icalendar.Component, name: str) -> str | None:
    value = component.get(name)
    if value is None or isinstance(value, list):
        return None
    raw = value.to_ical()
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def _version_rank(component: icalendar.Component) -> tuple[int, str]:
    return ical_marks.version_rank(
        _raw(component, "SEQUENCE"), _raw(component, "LAST-MODIFIED"), _raw(component, "DTSTAMP")
    )


def _sequence(component: icalendar.Component) -> int:
    try:
        return int(str(component.get("SEQUENCE", 0)).strip())
    except ValueError:
        return 0


def _modified(component: icalendar.Component) -> datetime | None:
    """LAST-MODIFIED, else DTSTAMP, in UTC (a floating one read as UTC); None when neither is a time."""
    for name in ("LAST-MODIFIED", "DTSTAMP"):
        value = getattr(component.get(name), "dt", None)
        if isinstance(value, datetime):
            try:
                return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
            except (ValueError, OverflowError):
                continue
    return None


def _person(value: Any) -> Person:
    email = str(value).strip()
    if email.lower().startswith("mailto:"):
        email = email[len("mailto:") :]
    params = getattr(value, "params", {})
    return Person(email=email, name=str(params.get("CN", "")))


def _attendees(component: icalendar.Component) -> tuple[Attendee, ...]:
    value = component.get("ATTENDEE")
    if value is None:
        return ()
    result: list[Attendee] = []
    for item in value if isinstance(value, list) else [value]:
        person = _person(item)
        params = getattr(item, "params", {})
        result.append(
            Attendee(
                email=person.email,
                name=person.name,
                partstat=str(params.get("PARTSTAT", "")).upper(),
                cutype=str(params.get("CUTYPE", "")).upper(),
                role=str(params.get("ROLE", "")).upper(),
            )
        )
    return tuple(result)


def _reminder_mark(component: icalendar.Component) -> ReminderMark | None:
    kind = _x_text(component, PROP_KIND)
    if kind is None or kind not in Kind._value2member_map_:
        return None
    return ReminderMark(
        kind=Kind(kind),
        source=_x_text(component, PROP_SOURCE) or "",
        fingerprint=_x_text(component, PROP_FINGERPRINT) or "",
    )


class _Series:
    """The VEVENTs of one UID: a master (maybe absent) and its overrides."""

    def __init__(self, uid: str, components: list[icalendar.Component], tz: ZoneInfo) -> None:
        for component in components:
            check_times(component)
        self.uid = uid
        self.tz = tz
        masters = [c for c in components if "RECURRENCE-ID" not in c]
        ranks = [_version_rank(c) for c in masters]
        self.master = masters[ranks.index(max(ranks))] if masters else None
        self.ignored_masters = len(masters) - 1 if masters else 0
        self.overrides = {
            _rid_text(time_value(c, "RECURRENCE-ID"), tz): c for c in components if "RECURRENCE-ID" in c
        }
        self.recurring = bool(self.overrides) or (
            self.master is not None and ("RRULE" in self.master or "RDATE" in self.master)
        )
        self.container = icalendar.Calendar()
        for component in ([self.master] if self.master is not None else []) + list(self.overrides.values()):
            self.container.add_component(component)

    def expand(self, start: datetime, end: datetime) -> list[icalendar.Component]:
        """The occurrences overlapping ``[start, end)``; a rule that would repeat absurdly often (as a
        hostile invitation's may: every second, since 1970) is refused before it takes all memory."""
        if self.master is not None:
            check_recurrence_cost(self.master, start, end, self.tz)
        return list(recurring_ical_events.of(self.container).between(start, end))

    def occurrence(self, recurrence_id: Moment | None) -> icalendar.Component | None:
        if recurrence_id is None or not self.recurring:
            if self.master is None:
                return next(iter(self.overrides.values()), None)
            if recurrence_id is not None and _rid_text(
                time_value(self.master, "DTSTART"), self.tz
            ) != format_recurrence_id(recurrence_id):
                return None
            return self.master
        wanted = format_recurrence_id(recurrence_id)
        if wanted in self.overrides:
            return self.overrides[wanted]
        if self.master is None:
            return None
        around = as_datetime(recurrence_id, self.tz)
        for candidate in self.expand(around - 2 * _WINDOW_SLACK, around + 2 * _WINDOW_SLACK):
            rid = candidate.get("RECURRENCE-ID")
            if rid is not None and _rid_text(rid.dt, self.tz) == wanted:
                return candidate
        return None

    def _tag_is_ours(self) -> bool:
        """True when the master's Interview category is followup-cal's tag (it carries an ISSUED record,
        and the tag joined the series' CATEGORIES line or has a line of its own), not a category the user
        gave the series."""
        master = self.master
        if master is None or PROP_ISSUED not in master:
            return False
        issued = master.get(PROP_ISSUED)
        for item in issued if isinstance(issued, list) else [issued]:
            params = getattr(item, "params", {})
            if str(params.get(ical_marks.TAG_PARAM, "")).upper() == ical_marks.TAG_JOINED:
                return True
        value = master.get("CATEGORIES")
        items = value if isinstance(value, list) else [] if value is None else [value]
        with_tag = [_categories_of(item) for item in items if INTERVIEW_CATEGORY in _categories_of(item)]
        return bool(with_tag) and all(cats == (INTERVIEW_CATEGORY,) for cats in with_tag)

    def _categories(
        self, occurrence: icalendar.Component, source: icalendar.Component, rid_key: str | None
    ) -> tuple[str, ...]:
        """The occurrence's categories. The interview tag of a series lives on its master; it shows on
        the occurrences the master's ISSUED record names (an override included), and on all of them
        when the user gave the whole series the category."""
        own = _categories(source if source is not self.master else occurrence)
        if self.master is None or rid_key is None:
            return own
        tagged = INTERVIEW_CATEGORY in _categories(self.master)
        if tagged and self._tag_is_ours():
            tagged = rid_key in ical_marks.parse_issued(_x_text(self.master, PROP_ISSUED) or "")
        without = tuple(c for c in own if c != INTERVIEW_CATEGORY or source is not self.master)
        return (*without, INTERVIEW_CATEGORY) if tagged and INTERVIEW_CATEGORY not in without else without

    def to_event(
        self, occurrence: icalendar.Component, *, calendar: str, href: str, etag: str | None
    ) -> Event:
        tz = self.tz
        rid_prop = occurrence.get("RECURRENCE-ID")
        recurrence_id = to_moment(rid_prop.dt, tz) if self.recurring and rid_prop is not None else None
        rid_key = None if recurrence_id is None else format_recurrence_id(recurrence_id)
        source = self.overrides.get(rid_key or "") or self.master or occurrence
        start = to_moment(time_value(occurrence, "DTSTART"), tz)
        end: Moment | None = None
        if "DTEND" in source or "DURATION" in source:
            if "DTEND" in occurrence:
                end = to_moment(time_value(occurrence, "DTEND"), tz)
            elif "DURATION" in occurrence:
                end = start + time_value(occurrence, "DURATION")
        organizer = occurrence.get("ORGANIZER")
        description = _text(occurrence, "DESCRIPTION")
        records = [c for c in (self.master, source) if c is not None]
        if len(records) == 2 and records[0] is records[1]:
            records = records[:1]
        return Event(
            calendar=calendar,
            href=href,
            etag=etag,
            uid=self.uid,
            start=start,
            end=end,
            recurrence_id=recurrence_id,
            summary=_text(occurrence, "SUMMARY"),
            notes=description,
            location=_text(occurrence, "LOCATION"),
            organizer=None if organizer is None else _person(organizer),
            attendees=_attendees(occurrence),
            categories=self._categories(occurrence, source, rid_key),
            status=_text(occurrence, "STATUS").strip().upper(),
            issued=_issued(records, rid_key),
            reminder=_reminder_mark(occurrence),
            description=description,
            sequence=_sequence(source),
            modified=_modified(source),
        )
