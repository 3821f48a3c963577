"""The iCalendar layer: reading occurrences, writing reminders, and the text-level marks edit."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from followup_cal.core.model import (
    Kind,
    MarkUpdate,
    ReminderDraft,
    event_is_edited,
    reminder_uid,
    source_key,
)
from followup_cal.ical import marks as ical_marks
from followup_cal.ical import read as ical

BERLIN = ZoneInfo("Europe/Berlin")
WIDE = {"start": datetime(2000, 1, 1, tzinfo=UTC), "end": datetime(2100, 1, 1, tzinfo=UTC)}


def read(data: bytes, **window: datetime) -> tuple[list, list]:  # type: ignore[type-arg]
    bounds = window or WIDE
    return ical.read_events(data, calendar="cal", href="x.ics", etag="e1", tz=BERLIN, **bounds)


def crlf(text: str) -> bytes:
    return text.strip().replace("\n", "\r\n").encode() + b"\r\n"


SIMPLE = crlf("""
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Some App//EN
BEGIN:VEVENT
UID:interview-1@example.com
DTSTAMP:20260101T000000Z
DTSTART;TZID=Europe/Berlin:20260310T100000
DTEND;TZID=Europe/Berlin:20260310T110000
SUMMARY:Interview with ACME
DESCRIPTION:Decision by March 20\\, they said.\\nBring a notebook.
CATEGORIES:Work
ORGANIZER;CN=Rita Recruiter:mailto:rita@acme.example
ATTENDEE;CN=Bob Boss;PARTSTAT=ACCEPTED:mailto:bob@acme.example
ATTENDEE;PARTSTAT=NEEDS-ACTION;CN="Me, Myself":mailto:me@example.org
X-SOME-APP-FLAG:keep\\,me
BEGIN:VALARM
ACTION:DISPLAY
DESCRIPTION:Soon
TRIGGER:-PT15M
END:VALARM
END:VEVENT
END:VCALENDAR
""")

SERIES = crlf("""
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Some App//EN
BEGIN:VEVENT
UID:weekly@example.com
DTSTART;TZID=Europe/Berlin:20260302T090000
DTEND;TZID=Europe/Berlin:20260302T093000
RRULE:FREQ=WEEKLY;COUNT=6
EXDATE;TZID=Europe/Berlin:20260316T090000
SUMMARY:Weekly screening call
END:VEVENT
BEGIN:VEVENT
UID:weekly@example.com
RECURRENCE-ID;TZID=Europe/Berlin:20260323T090000
DTSTART;TZID=Europe/Berlin:20260601T140000
DTEND;TZID=Europe/Berlin:20260601T143000
SUMMARY:Weekly screening call (moved far)
END:VEVENT
END:VCALENDAR
""")


def draft(**changes: object) -> ReminderDraft:
    source = source_key("interview-1@example.com", datetime(2026, 3, 10, 9, tzinfo=UTC))
    values: dict[str, object] = {
        "uid": reminder_uid(source, Kind.THANK_YOU),
        "kind": Kind.THANK_YOU,
        "source": source,
        "parent_uid": "interview-1@example.com",
        "start": datetime(2026, 3, 10, 13, tzinfo=BERLIN),
        "end": datetime(2026, 3, 10, 13, 30, tzinfo=BERLIN),
        "summary": "Thank-you note: Interview with ACME",
        "description": "Write to Bob, Rita; mention the project.\nAdd a line decision: 2026-03-20",
        "alarm_description": "Send your thank-you note",
        "url": "https://example.com/x?a=1,2",
    }
    values.update(changes)
    return ReminderDraft(**values)  # type: ignore[arg-type]


def test_read_simple_event_fields() -> None:
    events, problems = read(SIMPLE)
    assert problems == []
    [event] = events
    assert event.uid == "interview-1@example.com"
    assert event.href == "x.ics" and event.etag == "e1" and event.calendar == "cal"
    assert event.start == datetime(2026, 3, 10, 10, tzinfo=BERLIN)
    assert event.end == datetime(2026, 3, 10, 11, tzinfo=BERLIN)
    assert event.recurrence_id is None
    assert event.summary == "Interview with ACME"
    assert event.notes == "Decision by March 20, they said.\nBring a notebook."
    assert event.categories == ("Work",)
    assert event.organizer is not None and event.organizer.email == "rita@acme.example"
    assert [(a.email, a.name, a.partstat) for a in event.attendees] == [
        ("bob@acme.example", "Bob Boss", "ACCEPTED"),
        ("me@example.org", "Me, Myself", "NEEDS-ACTION"),
    ]
    assert event.issued is None and event.reminder is None


def test_window_expands_series_with_exdate_and_moved_override() -> None:
    march = {"start": datetime(2026, 3, 1, tzinfo=BERLIN), "end": datetime(2026, 4, 1, tzinfo=BERLIN)}
    events, problems = read(SERIES, **march)
    assert problems == []
    assert [e.start.day for e in events if isinstance(e.start, datetime)] == [2, 9, 30]
    assert all(e.recurrence_id is not None for e in events)
    june = {"start": datetime(2026, 6, 1, tzinfo=BERLIN), "end": datetime(2026, 6, 2, tzinfo=BERLIN)}
    [moved], _ = read(SERIES, **june)
    assert moved.summary.endswith("(moved far)")
    assert moved.recurrence_id == datetime(2026, 3, 23, 8, tzinfo=UTC)


def test_find_event_occurrence_wherever_it_is() -> None:
    def find(rid: datetime | None) -> object:
        return ical.find_event(
            SERIES, "weekly@example.com", rid, calendar="c", href="h", etag=None, tz=BERLIN
        )

    moved = find(datetime(2026, 3, 23, 9, tzinfo=BERLIN))
    assert moved is not None and moved.start == datetime(2026, 6, 1, 14, tzinfo=BERLIN)  # type: ignore[attr-defined]
    regular = find(datetime(2026, 3, 30, 7, tzinfo=UTC))
    assert regular is not None and regular.start == datetime(2026, 3, 30, 9, tzinfo=BERLIN)  # type: ignore[attr-defined]
    assert find(datetime(2026, 3, 16, 9, tzinfo=BERLIN)) is None  # EXDATE'd
    assert find(datetime(2026, 3, 17, 9, tzinfo=BERLIN)) is None  # not in the RRULE
    assert find(datetime(2026, 5, 4, 9, tzinfo=BERLIN)) is None  # after COUNT
    assert ical.find_event(SERIES, "nope", None, calendar="c", href="h", etag=None, tz=BERLIN) is None


def test_floating_times_take_the_zone_and_windows_tzid_resolves() -> None:
    data = crlf("""
BEGIN:VCALENDAR
BEGIN:VEVENT
UID:floating
DTSTART:20260310T100000
SUMMARY:Floating
END:VEVENT
BEGIN:VEVENT
UID:windows
DTSTART;TZID=W. Europe Standard Time:20260310T100000
DURATION:PT45M
SUMMARY:Outlook
END:VEVENT
BEGIN:VEVENT
UID:unknown-zone
DTSTART;TZID=Mars/Olympus:20260310T100000
SUMMARY:Nowhere
END:VEVENT
END:VCALENDAR
""")
    events, problems = read(data)
    by_uid = {e.uid: e for e in events}
    assert by_uid["floating"].start == datetime(2026, 3, 10, 10, tzinfo=BERLIN)
    assert by_uid["floating"].end is None
    assert by_uid["windows"].start == datetime(2026, 3, 10, 9, tzinfo=UTC)
    assert by_uid["windows"].end == datetime(2026, 3, 10, 9, 45, tzinfo=UTC)
    [problem] = problems
    assert (
        problem.where == "x.ics" and "unknown-zone" in problem.message and "Mars/Olympus" in problem.message
    )


def test_x_wr_timezone_calendar_is_repaired() -> None:
    data = crlf("""
BEGIN:VCALENDAR
X-WR-TIMEZONE:America/New_York
BEGIN:VEVENT
UID:google-style
DTSTART:20260310T150000Z
DTEND:20260310T160000Z
SUMMARY:Phone screen
END:VEVENT
END:VCALENDAR
""")
    [event], _ = read(data)
    assert isinstance(event.start, datetime)
    assert event.start == datetime(2026, 3, 10, 11, tzinfo=ZoneInfo("America/New_York"))
    assert event.start.utcoffset() == timedelta(hours=-4)


def test_not_icalendar_is_one_problem() -> None:
    events, problems = read(b"<html>hello</html>\n")
    assert events == [] and len(problems) == 1 and problems[0].where == "x.ics"


def test_all_day_event_and_window_edges() -> None:
    data = crlf("""
BEGIN:VCALENDAR
BEGIN:VEVENT
UID:allday
DTSTART;VALUE=DATE:20260310
DTEND;VALUE=DATE:20260311
SUMMARY:Onsite
END:VEVENT
END:VCALENDAR
""")
    [event], _ = read(
        data, start=datetime(2026, 3, 10, 23, tzinfo=BERLIN), end=datetime(2026, 3, 12, tzinfo=BERLIN)
    )
    assert event.start == date(2026, 3, 10) and event.end == date(2026, 3, 11) and event.all_day
    events, _ = read(
        data, start=datetime(2026, 3, 11, tzinfo=BERLIN), end=datetime(2026, 3, 12, tzinfo=BERLIN)
    )
    assert events == []


def test_reminder_round_trip() -> None:
    wanted = draft()
    data = ical.reminder_to_ical(wanted)
    event = ical.find_event(data, wanted.uid, None, calendar="c", href="h", etag="e", tz=BERLIN)
    assert event is not None
    assert event.reminder is not None
    assert event.reminder.kind is Kind.THANK_YOU
    assert event.reminder.source == wanted.source and ";" in wanted.source
    assert event.reminder.fingerprint == wanted.fingerprint
    assert not event_is_edited(event)
    assert event.start == wanted.start and event.end == wanted.end
    assert event.description == wanted.description
    parsed = icalendar.Calendar.from_ical(data)
    [vevent] = parsed.walk("VEVENT")
    assert str(vevent["TRANSP"]) == "TRANSPARENT" and str(vevent["CLASS"]) == "PRIVATE"
    assert str(vevent["RELATED-TO"]) == "interview-1@example.com"
    assert vevent["RELATED-TO"].params["RELTYPE"] == "PARENT"
    assert str(vevent["URL"]) == wanted.url
    [alarm] = vevent.walk("VALARM")
    assert str(alarm["ACTION"]) == "DISPLAY" and str(alarm["DESCRIPTION"]) == wanted.alarm_description
    assert b"PRODID:-//followup-cal//EN" in data
    assert b"TRIGGER:-PT0M" in data


def test_reminder_x_values_are_escaped() -> None:
    wanted = draft(source="uid;with,odd\\chars;20260310T090000Z")
    data = ical.reminder_to_ical(wanted)
    assert b"X-FOLLOWUP-CAL-SOURCE:uid\\;with\\,odd\\\\chars\\;20260310T090000Z" in data.replace(
        b"\r\n ", b""
    )
    event = ical.find_event(data, wanted.uid, None, calendar="c", href="h", etag="e", tz=BERLIN)
    assert event is not None and event.reminder is not None
    assert event.reminder.source == wanted.source


def test_text_from_invitations_cannot_inject_lines() -> None:
    evil = "Hi\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil\r\nX-FOLLOWUP-CAL-KIND:check-in"
    wanted = draft(summary=evil, description=evil, alarm_description=evil)
    data = ical.reminder_to_ical(wanted)
    assert ical.uids_in(data) == [wanted.uid]
    assert data.count(b"\r\nX-FOLLOWUP-CAL-KIND:") == 1
    event = ical.find_event(data, wanted.uid, None, calendar="c", href="h", etag="e", tz=BERLIN)
    assert event is not None and event.summary.replace("\r\n", "\n") == evil.replace("\r\n", "\n")


def test_uids_in() -> None:
    assert ical.uids_in(SIMPLE) == ["interview-1@example.com"]
    assert ical.uids_in(SERIES) == ["weekly@example.com"]
    assert ical.uids_in(b"garbage") == []


# --- apply_marks --------------------------------------------------------------------------------------


def added_lines(before: bytes, after: bytes) -> list[bytes]:
    """The lines of ``after`` that are not in ``before``, asserting that nothing else changed."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    remaining = list(new)
    for line in old:
        assert line in remaining, f"line lost: {line!r}"
        remaining.remove(line)
    kept = [line for line in new if line in old]
    assert kept == old, "the untouched lines changed order"
    return remaining


def test_apply_marks_joins_the_categories_line_and_adds_one_line() -> None:
    marked = ical.apply_marks(
        SIMPLE, "interview-1@example.com", [MarkUpdate(None, frozenset({Kind.THANK_YOU}))]
    )
    assert added_lines(SIMPLE.replace(b"CATEGORIES:Work\r\n", b""), marked) == [
        b"CATEGORIES:Work,Interview\r\n",
        b"X-FOLLOWUP-CAL-ISSUED;X-FOLLOWUP-CAL-TAG=JOINED:thank-you\r\n",
    ]
    assert marked.index(b"CATEGORIES:Work,Interview") == SIMPLE.index(b"CATEGORIES:Work")
    [event], _ = read(marked)
    assert event.tagged and event.issued == frozenset({Kind.THANK_YOU})
    assert set(event.categories) == {"Work", "Interview"}
    both = ical.apply_marks(marked, "interview-1@example.com", [MarkUpdate(None, frozenset(Kind))])
    assert b"X-FOLLOWUP-CAL-ISSUED;X-FOLLOWUP-CAL-TAG=JOINED:thank-you\\,check-in\r\n" in both
    assert both.count(b"Interview\r\n") == 1 and both.count(b"CATEGORIES") == 1
    [event], _ = read(both)
    assert event.issued == frozenset(Kind)
    assert ical.apply_marks(both, "interview-1@example.com", [MarkUpdate(None, frozenset(Kind))]) == both
    removed = ical.apply_marks(both, "interview-1@example.com", [MarkUpdate(None, None)])
    assert removed == SIMPLE


def test_apply_marks_empty_issued_still_tags() -> None:
    marked = ical.apply_marks(SIMPLE, "interview-1@example.com", [MarkUpdate(None, frozenset())])
    [event], _ = read(marked)
    assert event.tagged and event.issued == frozenset()


def test_apply_marks_keeps_users_own_interview_category() -> None:
    data = SIMPLE.replace(b"CATEGORIES:Work", b"CATEGORIES:Work,Interview")
    marked = ical.apply_marks(data, "interview-1@example.com", [MarkUpdate(None, frozenset({Kind.CHECK_IN}))])
    assert added_lines(data, marked) == [b"X-FOLLOWUP-CAL-ISSUED:check-in\r\n"]
    assert ical.apply_marks(marked, "interview-1@example.com", [MarkUpdate(None, None)]) == data


@pytest.mark.parametrize("raw", [b"thank-you,check-in", b"thank-you\\,check-in", b"check-in\\, thank-you"])
def test_issued_is_read_escaped_or_raw(raw: bytes) -> None:
    data = SIMPLE.replace(b"CATEGORIES:Work", b"CATEGORIES:Interview\r\nX-FOLLOWUP-CAL-ISSUED:" + raw)
    [event], _ = read(data)
    assert event.issued == frozenset(Kind)


def test_apply_marks_on_occurrences_lives_on_master() -> None:
    first = datetime(2026, 3, 2, 8, tzinfo=UTC)
    moved = datetime(2026, 3, 23, 8, tzinfo=UTC)
    marked = ical.apply_marks(
        SERIES,
        "weekly@example.com",
        [MarkUpdate(first, frozenset({Kind.THANK_YOU})), MarkUpdate(moved, frozenset(Kind))],
    )
    added = added_lines(SERIES, marked)
    assert b"CATEGORIES:Interview\r\n" in added
    assert all(len(line.rstrip(b"\r\n")) <= 75 for line in added)  # folded
    assert (
        b"\r\nX-FOLLOWUP-CAL-ISSUED:thank-you@20260302T080000Z\\,thank-you@20260323T080000Z"
        b"\\,check-in@20260323T080000Z\r\n"
    ) in marked.replace(b"\r\n ", b"")
    # Added to the master: before the master's END:VEVENT, not the override's.
    assert marked.index(b"CATEGORIES:Interview") < marked.index(b"RECURRENCE-ID")
    events, _ = read(marked)
    issued = {e.recurrence_id: e.issued for e in events}
    assert issued[first] == frozenset({Kind.THANK_YOU})
    assert issued[moved] == frozenset(Kind)
    assert issued[datetime(2026, 3, 9, 8, tzinfo=UTC)] == frozenset()
    # Removing one occurrence keeps the others and the tag; removing the last one untags.
    partly = ical.apply_marks(marked, "weekly@example.com", [MarkUpdate(first, None)])
    assert b"CATEGORIES:Interview" in partly and b"20260302T080000Z" not in partly
    assert ical.apply_marks(partly, "weekly@example.com", [MarkUpdate(moved, None)]) == SERIES


def test_apply_marks_keeps_lf_line_endings_and_folding() -> None:
    long_description = "DESCRIPTION:" + "word " * 30
    folded = long_description[:75] + "\n " + long_description[75:]
    data = (
        SIMPLE.replace(b"\r\n", b"\n")
        .replace(b"DESCRIPTION:Decision by March 20\\, they said.\\nBring a notebook.", folded.encode())
        .replace(b"CATEGORIES:Work\n", b"")
    )
    marked = ical.apply_marks(
        data, "interview-1@example.com", [MarkUpdate(None, frozenset({Kind.THANK_YOU}))]
    )
    assert b"\r" not in marked
    assert sorted(added_lines(data, marked)) == [
        b"CATEGORIES:Interview\n",
        b"X-FOLLOWUP-CAL-ISSUED:thank-you\n",
    ]


def test_apply_marks_on_a_missing_uid_is_an_error() -> None:
    from followup_cal.errors import NotFound

    with pytest.raises(NotFound):
        ical.apply_marks(SIMPLE, "other", [MarkUpdate(None, frozenset())])


def test_an_override_shows_the_tag_of_its_series() -> None:
    moved = datetime(2026, 3, 23, 8, tzinfo=UTC)
    marked = ical.apply_marks(SERIES, "weekly@example.com", [MarkUpdate(moved, frozenset({Kind.CHECK_IN}))])
    found = ical.find_event(marked, "weekly@example.com", moved, calendar="c", href="h", etag=None, tz=BERLIN)
    assert found is not None and found.summary.endswith("(moved far)")
    assert found.tagged and found.issued == frozenset({Kind.CHECK_IN})


def test_marks_without_a_master_go_on_the_matching_override() -> None:
    data = crlf("""
BEGIN:VCALENDAR
BEGIN:VEVENT
UID:no-master
RECURRENCE-ID;TZID=Europe/Berlin:20260302T090000
DTSTART;TZID=Europe/Berlin:20260302T100000
SUMMARY:First
END:VEVENT
BEGIN:VEVENT
UID:no-master
RECURRENCE-ID;TZID=Europe/Berlin:20260309T090000
DTSTART;TZID=Europe/Berlin:20260309T100000
SUMMARY:Second
END:VEVENT
END:VCALENDAR
""")
    second = datetime(2026, 3, 9, 9, tzinfo=BERLIN)
    marked = ical.apply_marks(data, "no-master", [MarkUpdate(second, frozenset({Kind.THANK_YOU}))])
    assert marked.index(b"CATEGORIES:Interview") > marked.index(b"SUMMARY:First")
    events, _ = read(marked)
    assert [(e.summary, e.tagged, e.issued) for e in events] == [
        ("First", False, None),
        ("Second", True, frozenset({Kind.THANK_YOU})),
    ]


def test_an_occurrence_tagged_with_nothing_issued_is_still_recorded() -> None:
    record = {None: ["thank-you"], "20261207T130000Z": [], "20261214T130000Z": ["check-in"]}
    text = ical_marks.format_issued(record)
    assert text == "thank-you\\,@20261207T130000Z\\,check-in@20261214T130000Z"
    assert ical_marks.parse_issued(text) == record
