"""Calendars as other programs leave them: Outlook's Windows time zones under an X-WR-TIMEZONE, one UID in
two files, and a tag that must join the event's own CATEGORIES line."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
from click.testing import CliRunner

from followup_cal.commands.cli import cli
from followup_cal.ical import read as ical

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
WINDOW = (datetime(2030, 1, 1, tzinfo=UTC), datetime(2031, 1, 1, tzinfo=UTC))


def sync(tmp_path: Path, calendar: str) -> tuple[int, str, str]:
    config = tmp_path / "config.toml"
    config.write_text(
        'timezone = "Europe/Berlin"\nme = ["me@example.com"]\n[rules]\nwindow_future_days = 3650\n' + calendar
    )
    result = CliRunner().invoke(cli, ["--config", str(config), "sync"], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def reminders_in(data: bytes) -> dict[tuple[str, str], datetime]:
    """(summary of the interview's UID, kind) -> start, of the reminders in one calendar text."""
    found = {}
    for calendar in icalendar.Calendar.from_ical(data, multiple=True):
        for event in calendar.walk("VEVENT"):
            kind = event.get("X-FOLLOWUP-CAL-KIND")
            if kind is not None:
                found[(str(event["RELATED-TO"]), str(kind))] = event["DTSTART"].dt
    return found


# --- X-WR-TIMEZONE applies to floating times only -----------------------------------------------------

OUTLOOK = FIXTURES / "outlook_windows_zone_under_x_wr_timezone.ics"
OUTLOOK_UID = (  # folded in the file, as Outlook folds it
    "040000008200E00074C5B7101A82E0080000000010F7D3E1C0A2DC01000000000000000"
    "010000000A1B2C3D4E5F60718293A4B5C6D7E8F90"
)
FLOATING_UID = "floating-technical-interview@bolt.example"


def outlook_variant(variant: str) -> bytes:
    data = OUTLOOK.read_bytes()
    if variant == "with TZNAME":
        data = data.replace(b"TZOFFSETTO:+0100\r\n", b"TZOFFSETTO:+0100\r\nTZNAME:CET\r\n")
        data = data.replace(b"TZOFFSETTO:+0200\r\n", b"TZOFFSETTO:+0200\r\nTZNAME:CEST\r\n")
    elif variant == "IANA TZID":
        data = data.replace(b'"W. Europe Standard Time"', b"Europe/Berlin")
        data = data.replace(b"TZID:W. Europe Standard Time", b"TZID:Europe/Berlin")
    return data


@pytest.mark.parametrize("variant", ["as Outlook writes it", "with TZNAME", "IANA TZID"])
def test_x_wr_timezone_leaves_an_event_with_its_own_zone_alone(variant: str) -> None:
    events, problems = ical.read_events(
        outlook_variant(variant), calendar="c", href="h", etag=None, tz=BERLIN, start=WINDOW[0], end=WINDOW[1]
    )
    assert problems == []
    starts = {event.uid: event.start for event in events}
    assert starts[OUTLOOK_UID] == datetime(2030, 12, 10, 9, 30, tzinfo=BERLIN)
    # A floating time is in the calendar's X-WR-TIMEZONE, not in the configured zone.
    assert starts[FLOATING_UID] == datetime(2030, 12, 11, 14, tzinfo=NEW_YORK)


def test_reminders_of_an_outlook_event_under_x_wr_timezone_fall_at_the_right_hour(tmp_path: Path) -> None:
    calendar = tmp_path / "job-search.ics"
    shutil.copyfile(OUTLOOK, calendar)
    code, stdout, stderr = sync(tmp_path, f'[calendars.jobs]\ntype = "ics"\npath = "{calendar}"\n')
    assert (code, stderr) == (0, ""), stdout
    reminders = reminders_in(calendar.read_bytes())
    # Interview 09:30-10:30 Berlin: thank-you two hours after its end, inside working hours.
    assert reminders[(OUTLOOK_UID, "thank-you")] == datetime(2030, 12, 10, 11, 30, tzinfo=UTC)
    # Floating 14:00-15:00 New York is 21:00 in Berlin: the thank-you waits for the next morning.
    assert reminders[(FLOATING_UID, "thank-you")] == datetime(2030, 12, 12, 8, tzinfo=UTC)
    assert reminders[(OUTLOOK_UID, "check-in")].astimezone(BERLIN).hour == 9
    written = calendar.read_bytes()
    assert sync(tmp_path, f'[calendars.jobs]\ntype = "ics"\npath = "{calendar}"\n') == (0, "", "")
    assert calendar.read_bytes() == written
