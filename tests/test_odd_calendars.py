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
from followup_cal.core.model import Event, Kind, MarkUpdate
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


# --- one UID in two objects ---------------------------------------------------------------------------

DUPLICATES = FIXTURES / "duplicate_uid"
DUPLICATE_UID = "5D3F1C2A-8B7E-4C11-9A0B-2E4F6A8C0D12"


def vdir_config(*folders: Path, reminders_to: str = "") -> str:
    tables = ""
    for folder in folders:
        tables += f'[calendars.{folder.name}]\ntype = "vdir"\npath = "{folder}"\n'
        if reminders_to and folder.name != reminders_to:
            tables += f'reminders_to = "{reminders_to}"\n'
    return tables


def files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_one_uid_in_two_files_plans_the_newer_copy_and_reports_the_other_once(tmp_path: Path) -> None:
    folder = tmp_path / "vdir"
    shutil.copytree(DUPLICATES, folder)
    code, stdout, stderr = sync(tmp_path, vdir_config(folder))
    assert code == 0, stderr
    # The copy with the higher SEQUENCE (moved to 14:00) is the interview; the other is named once.
    assert stdout.count("tagged") == 1 and stdout.count("wrote thank-you") == 1
    assert stderr.count("\n") == 1 and "skipped phone-screen.ics:" in stderr
    assert DUPLICATE_UID in stderr and "phone-screen-moved.ics" in stderr and "SEQUENCE" in stderr
    after = files(folder)
    assert after["phone-screen.ics"] == (DUPLICATES / "phone-screen.ics").read_bytes()
    assert b"X-FOLLOWUP-CAL-ISSUED" in after["phone-screen-moved.ics"]
    reminders = {key: start for data in after.values() for key, start in reminders_in(data).items()}
    assert reminders[(DUPLICATE_UID, "thank-you")] == datetime(2030, 6, 4, 15, tzinfo=UTC)  # 17:00 Berlin
    # The second sync writes nothing, prints nothing but the same problem, and succeeds.
    assert sync(tmp_path, vdir_config(folder)) == (0, "", stderr)
    assert files(folder) == after


def test_copies_that_tie_are_chosen_by_name_and_stay_chosen(tmp_path: Path) -> None:
    folder = tmp_path / "vdir"
    folder.mkdir()
    moved = (DUPLICATES / "phone-screen-moved.ics").read_bytes()
    (folder / "b-export.ics").write_bytes(moved)
    (folder / "a-copy.ics").write_bytes(moved.replace(b"T140000", b"T120000"))
    code, _, stderr = sync(tmp_path, vdir_config(folder))
    assert code == 0 and "skipped b-export.ics:" in stderr and "comes first by name" in stderr
    after = files(folder)
    assert after["b-export.ics"] == moved and b"X-FOLLOWUP-CAL-ISSUED" in after["a-copy.ics"]
    assert sync(tmp_path, vdir_config(folder)) == (0, "", stderr)
    assert files(folder) == after


def test_one_invitation_in_two_calendars_of_a_group_gets_one_set_of_reminders(tmp_path: Path) -> None:
    work, personal = tmp_path / "work", tmp_path / "personal"
    for folder, name in ((work, "phone-screen.ics"), (personal, "phone-screen-moved.ics")):
        folder.mkdir()
        shutil.copyfile(DUPLICATES / name, folder / "invite.ics")
    config = vdir_config(personal, work, reminders_to="personal")
    code, stdout, stderr = sync(tmp_path, config)
    assert code == 0 and stdout.count("wrote thank-you") == 1
    assert stderr.startswith("work: skipped invite.ics:") and "calendar 'personal'" in stderr
    before = files(work), files(personal)
    assert sync(tmp_path, config) == (0, "", stderr)
    assert (files(work), files(personal)) == before


# --- the tag joins the event's own CATEGORIES line ----------------------------------------------------


def interview(categories: str, extra: str = "") -> bytes:
    """An interview as a client wrote it, with ``categories`` as its raw CATEGORIES line(s)."""
    text = (
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Some App//EN\nBEGIN:VEVENT\nUID:screen@acme.example\n"
        "DTSTAMP:20300101T000000Z\nDTSTART;TZID=Europe/Berlin:20300604T100000\n"
        "DTEND;TZID=Europe/Berlin:20300604T110000\nSUMMARY:Phone screen with Acme\n"
        f"{categories}{extra}ORGANIZER;CN=Jane Doe:mailto:jane@acme.example\nEND:VEVENT\nEND:VCALENDAR\n"
    )
    return text.replace("\n", "\r\n").encode()


UID = "screen@acme.example"
TAG = [MarkUpdate(None, frozenset({Kind.THANK_YOU}))]
UNTAG = [MarkUpdate(None, None)]


def categories_lines(data: bytes) -> list[bytes]:
    unfolded = data.replace(b"\r\n ", b"").split(b"\r\n")
    return [line for line in unfolded if line.upper().startswith(b"CATEGORIES")]


def read_one(data: bytes) -> Event:
    [event], problems = ical.read_events(
        data, calendar="c", href="h", etag=None, tz=BERLIN, start=WINDOW[0], end=WINDOW[1]
    )
    assert problems == []
    return event


@pytest.mark.parametrize(
    "line",
    [
        "CATEGORIES:Job search\n",
        "CATEGORIES;LANGUAGE=en:Job search,R\\,D\\; team,Acme\n",
        "categories:Job search\n",
        "CATEGORIES:\n",
    ],
)
def test_the_tag_joins_the_events_categories_line_and_clean_restores_it(line: str) -> None:
    data = interview(line)
    marked = ical.apply_marks(data, UID, TAG)
    [joined] = categories_lines(marked)
    assert joined == line.rstrip("\n").encode() + (b"," if line.strip()[-1] != ":" else b"") + b"Interview"
    event = read_one(marked)
    assert event.tagged and event.issued == frozenset({Kind.THANK_YOU})
    assert ical.apply_marks(marked, UID, TAG) == marked
    assert ical.apply_marks(marked, UID, UNTAG) == data


def test_the_tag_joins_a_folded_line_and_never_refolds_the_users_bytes() -> None:
    long_value = ",".join(f"Category number {n}" for n in range(8))
    folded = "CATEGORIES:" + long_value[:63] + "\n " + long_value[63:] + "\n"
    unfolded_long = "CATEGORIES:" + long_value + "\n"  # some writers do not fold
    for line in (folded, unfolded_long):
        data = interview(line)
        marked = ical.apply_marks(data, UID, TAG)
        for physical in line.encode().replace(b"\n", b"\r\n").splitlines(keepends=True):
            assert physical in marked
        assert categories_lines(marked) == [b"CATEGORIES:" + long_value.encode() + b",Interview"]
        added = [m for m in marked.splitlines() if m not in data.splitlines()]
        assert all(len(m) <= 75 for m in added), added
        assert ical.apply_marks(marked, UID, UNTAG) == data


def test_a_category_the_user_gave_is_neither_added_twice_nor_removed() -> None:
    data = interview("CATEGORIES:Job search,Interview\n")
    marked = ical.apply_marks(data, UID, TAG)
    assert categories_lines(marked) == [b"CATEGORIES:Job search,Interview"]
    assert ical.apply_marks(marked, UID, UNTAG) == data


def test_clean_takes_out_only_our_value_after_a_client_reordered_the_line() -> None:
    marked = ical.apply_marks(interview("CATEGORIES:Job search,Acme\n"), UID, TAG)
    reordered = marked.replace(
        b"CATEGORIES:Job search,Acme,Interview", b"CATEGORIES:Interview,Acme,Job search"
    )
    assert read_one(reordered).tagged
    cleaned = ical.apply_marks(reordered, UID, UNTAG)
    assert categories_lines(cleaned) == [b"CATEGORIES:Acme,Job search"]
    assert b"X-FOLLOWUP-CAL" not in cleaned


def test_an_event_tagged_the_old_way_is_tagged_and_cleaned_and_not_rewritten() -> None:
    """Earlier versions wrote the tag as a second CATEGORIES line."""
    data = interview("CATEGORIES:Job search\n")
    old_way = interview("CATEGORIES:Job search\nCATEGORIES:Interview\n", "X-FOLLOWUP-CAL-ISSUED:thank-you\n")
    event = read_one(old_way)
    assert event.tagged and set(event.categories) == {"Job search", "Interview"}
    assert event.issued == frozenset({Kind.THANK_YOU})
    assert ical.apply_marks(old_way, UID, TAG) == old_way
    both = ical.apply_marks(old_way, UID, [MarkUpdate(None, frozenset(Kind))])
    assert categories_lines(both) == categories_lines(old_way)
    assert b"X-FOLLOWUP-CAL-ISSUED:thank-you\\,check-in\r\n" in both
    assert ical.apply_marks(both, UID, UNTAG) == data


def test_a_sync_leaves_an_event_tagged_the_old_way_alone(tmp_path: Path) -> None:
    folder = tmp_path / "vdir"
    folder.mkdir()
    (folder / "screen.ics").write_bytes(interview("CATEGORIES:Job search\n"))
    assert sync(tmp_path, vdir_config(folder))[0] == 0
    tagged = (folder / "screen.ics").read_bytes()
    assert categories_lines(tagged) == [b"CATEGORIES:Job search,Interview"]
    old_way = tagged.replace(
        b"CATEGORIES:Job search,Interview", b"CATEGORIES:Job search\r\nCATEGORIES:Interview"
    )
    old_way = old_way.replace(b";X-FOLLOWUP-CAL-TAG=JOINED", b"")
    (folder / "screen.ics").write_bytes(old_way)
    assert sync(tmp_path, vdir_config(folder)) == (0, "", "")
    assert (folder / "screen.ics").read_bytes() == old_way


SERIES = (
    (
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Some App//EN\nBEGIN:VEVENT\nUID:weekly@example.com\n"
        "DTSTAMP:20300101T000000Z\nDTSTART:20300304T080000Z\nDTEND:20300304T090000Z\n"
        "RRULE:FREQ=WEEKLY;COUNT=3\nSUMMARY:Interview loop\nCATEGORIES:Work\nEND:VEVENT\nEND:VCALENDAR\n"
    )
    .replace("\n", "\r\n")
    .encode()
)


def test_a_joined_tag_on_a_series_tags_only_the_occurrences_it_names() -> None:
    first = datetime(2030, 3, 4, 8, tzinfo=UTC)
    marked = ical.apply_marks(SERIES, "weekly@example.com", [MarkUpdate(first, frozenset({Kind.THANK_YOU}))])
    assert categories_lines(marked) == [b"CATEGORIES:Work,Interview"]
    events, _ = ical.read_events(
        marked, calendar="c", href="h", etag=None, tz=BERLIN, start=WINDOW[0], end=WINDOW[1]
    )
    assert {e.recurrence_id: e.tagged for e in events} == {
        first: True,
        datetime(2030, 3, 11, 8, tzinfo=UTC): False,
        datetime(2030, 3, 18, 8, tzinfo=UTC): False,
    }
    assert ical.apply_marks(marked, "weekly@example.com", [MarkUpdate(first, None)]) == SERIES


MERGED = FIXTURES / "merged_exports.ics"
MERGED_UID = "onsite-4711@hire.example"


@pytest.mark.parametrize("kind", ["ics", "vdir"])
def test_one_uid_twice_in_one_file_uses_the_newer_version_and_reports_it(tmp_path: Path, kind: str) -> None:
    if kind == "ics":
        calendar = tmp_path / "merged.ics"
        shutil.copyfile(MERGED, calendar)
        config = f'[calendars.jobs]\ntype = "ics"\npath = "{calendar}"\n'
    else:
        folder = tmp_path / "jobs"
        folder.mkdir()
        calendar = folder / "merged.ics"
        shutil.copyfile(MERGED, calendar)
        config = vdir_config(folder)
    code, stdout, stderr = sync(tmp_path, config)
    assert code == 0 and stdout.count("wrote thank-you") == 1
    assert (
        stderr.count("\n") == 1
        and "is in it 2 times without RECURRENCE-ID" in stderr
        and MERGED_UID in stderr
    )
    data = calendar.read_bytes()
    # The tag went on the SEQUENCE:2 version (the second in the file), the reminder follows its time.
    older, newer = data.split(b"END:VEVENT", 2)[:2]
    assert b"X-FOLLOWUP-CAL-ISSUED" in newer and b"X-FOLLOWUP-CAL-ISSUED" not in older
    reminders = reminders_in(data) if kind == "ics" else reminders_in(b"".join(files(folder).values()))
    assert reminders[(MERGED_UID, "thank-you")] == datetime(2030, 6, 4, 12, tzinfo=UTC)  # 14:00 Berlin
    written = data if kind == "ics" else b"".join(files(folder).values())
    assert sync(tmp_path, config) == (0, "", stderr)
    assert (calendar.read_bytes() if kind == "ics" else b"".join(files(folder).values())) == written
