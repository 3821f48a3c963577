"""ical_dates.certainly_outside: objects far from the window are skipped unparsed, and never one that
the full parse would have listed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from followup_cal.ical import read as ical
from followup_cal.ical.dates import certainly_outside

TZ = ZoneInfo("Europe/Berlin")
START = datetime(2026, 11, 1, tzinfo=TZ)
END = datetime(2027, 3, 1, tzinfo=TZ)
VTIMEZONE = (
    "BEGIN:VTIMEZONE\r\nTZID:Pacific/Kiritimati\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n"
    "TZOFFSETFROM:+1400\r\nTZOFFSETTO:+1400\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
)


def calendar(*events: str, timezone: str = "") -> bytes:
    body = "".join(
        f"BEGIN:VEVENT\r\nUID:{n}@x\r\nDTSTAMP:20260101T000000Z\r\n{e}END:VEVENT\r\n"
        for n, e in enumerate(events)
    )
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n{timezone}{body}END:VCALENDAR\r\n".encode()


def test_far_past_and_far_future_are_outside() -> None:
    assert certainly_outside(calendar("DTSTART:20200101T100000Z\r\nDTEND:20200101T110000Z\r\n"), START, END)
    assert certainly_outside(calendar("DTSTART;VALUE=DATE:20300101\r\n"), START, END)


def test_anything_undecidable_is_parsed() -> None:
    past = "DTSTART:20200101T100000Z\r\nDTEND:20200101T110000Z\r\n"
    for extra in ("RRULE:FREQ=YEARLY\r\n", "RDATE:20261201T100000Z\r\n", "DURATION:P2000D\r\n"):
        assert not certainly_outside(calendar(past + extra), START, END), extra
    assert not certainly_outside(calendar("DTSTART:garbage\r\n"), START, END)
    assert not certainly_outside(calendar("SUMMARY:no start\r\n"), START, END)
    assert not certainly_outside(b"not a calendar at all", START, END)


def test_one_event_inside_keeps_the_object() -> None:
    data = calendar("DTSTART:20200101T100000Z\r\n", "DTSTART;TZID=Europe/Berlin:20261201T100000\r\n")
    assert not certainly_outside(data, START, END)


def test_time_zone_definitions_and_alarms_do_not_count() -> None:
    event = (
        "DTSTART;TZID=Pacific/Kiritimati:20300101T100000\r\n"
        "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER;VALUE=DATE-TIME:20261201T100000Z\r\n"
        "DTSTART:20261201T100000Z\r\nEND:VALARM\r\n"
    )
    assert certainly_outside(calendar(event, timezone=VTIMEZONE), START, END)


def test_a_long_event_that_spans_the_window_is_inside() -> None:
    data = calendar("DTSTART;VALUE=DATE:20200101\r\nDTEND;VALUE=DATE:20300101\r\n")
    assert not certainly_outside(data, START, END)


@settings(max_examples=300, deadline=None)
@given(
    day=st.dates(min_value=date(2026, 9, 1), max_value=date(2027, 5, 1)),
    hour=st.integers(0, 23),
    length_hours=st.integers(0, 24 * 5),
    all_day=st.booleans(),
    zone=st.sampled_from(["UTC", "Europe/Berlin", "Pacific/Kiritimati", "Pacific/Pago_Pago", "floating"]),
)
def test_never_skips_what_the_parse_would_list(
    day: date, hour: int, length_hours: int, all_day: bool, zone: str
) -> None:
    if all_day:
        last = day + timedelta(days=1 + length_hours // 24)
        event = f"DTSTART;VALUE=DATE:{day:%Y%m%d}\r\nDTEND;VALUE=DATE:{last:%Y%m%d}\r\n"
    else:
        begin = datetime(day.year, day.month, day.day, hour)
        finish = begin + timedelta(hours=length_hours)
        if zone == "UTC":
            event = f"DTSTART:{begin:%Y%m%dT%H%M%S}Z\r\nDTEND:{finish:%Y%m%dT%H%M%S}Z\r\n"
        elif zone == "floating":
            event = f"DTSTART:{begin:%Y%m%dT%H%M%S}\r\nDTEND:{finish:%Y%m%dT%H%M%S}\r\n"
        else:
            event = (
                f"DTSTART;TZID={zone}:{begin:%Y%m%dT%H%M%S}\r\nDTEND;TZID={zone}:{finish:%Y%m%dT%H%M%S}\r\n"
            )
    data = calendar(event)
    for window_start in (START, datetime(2026, 12, 24, 23, tzinfo=UTC)):
        window_end = window_start + timedelta(days=30)
        if certainly_outside(data, window_start, window_end):
            events, _problems = ical.read_events(
                data, calendar="c", href="h", etag=None, tz=TZ, start=window_start, end=window_end
            )
            assert events == []
