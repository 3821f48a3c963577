"""Hostile and broken calendar input (issue 5, item 5), through the real sync.

Every case sits in a calendar next to a normal interview. The broken event is skipped with its file and UID
in the problems report, the rest of the sync goes on (the normal interview gets its reminders), each run
stays within MAX_SECONDS and MAX_MEGABYTES, nothing is written outside the calendar folder, and every
reminder written from hostile text parses back with exactly followup-cal's properties. The hand-made files
are in fixtures/hostile/; the huge ones are generated here.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from followup_cal.backends.base import CalendarBackend
from followup_cal.backends.caldav_backend import CaldavBackend
from followup_cal.backends.icsfile import IcsFileBackend
from followup_cal.backends.vdir import VdirBackend
from followup_cal.commands.cli import cli
from followup_cal.core.model import PROP_KIND, Problem
from followup_cal.core.settings import CalendarSettings, Settings
from followup_cal.ical import marks as ical_marks
from followup_cal.ical import read as ical
from followup_cal.run.sync import RunReport, run
from hostile_checks import (
    CONTROL,
    Bounds,
    assert_clean_reminder,
    content_line_names,
    measure,
    tree,
    without_tag_lines,
)
from radicale_server import RadicaleServer, running_radicale

HOSTILE = Path(__file__).resolve().parents[1] / "fixtures" / "hostile"
TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)  # Monday 07:00 in Berlin
NORMAL_UID = "normal-screen@acme.example"
NORMAL = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calendar app//EN\r\nBEGIN:VEVENT\r\n"
    f"UID:{NORMAL_UID}\r\nDTSTAMP:20260101T000000Z\r\n"
    "DTSTART;TZID=Europe/Berlin:20261201T100000\r\nDTEND;TZID=Europe/Berlin:20261201T110000\r\n"
    "SUMMARY:Phone screen - Acme\r\nORGANIZER;CN=Jane Doe:mailto:jane@acme.example\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
).encode()
REMINDER_FILE = re.compile(r"fc[0-9a-f]{38}\.ics")
LONG_UID = "u" * 1983 + "@hostile.example"  # 2,000 characters


def _event(uid: str, summary: str, extra: str = "") -> bytes:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//hostile tests//EN\r\nBEGIN:VEVENT\r\n"
        + ical_marks.fold(f"UID:{uid}", "\r\n")
        + "DTSTAMP:20260101T000000Z\r\nDTSTART:20261202T090000Z\r\nDTEND:20261202T100000Z\r\n"
        + f"SUMMARY:{summary}\r\n{extra}END:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


def huge_description() -> bytes:
    notes = ("They said: decision: in 2 weeks. <b>bold</b>\\, \\; " * 110_000)[:5_000_000]
    return _event(
        "big-notes@hostile.example",
        "Interview - 5 MB of notes",
        ical_marks.fold(f"DESCRIPTION:{notes}", "\r\n"),
    )


def ten_thousand_attendees() -> bytes:
    people = "".join(
        f"ATTENDEE;CN=Person {i};PARTSTAT=ACCEPTED:mailto:p{i}@crowd.example\r\n" for i in range(10_000)
    )
    return _event(
        "crowd@hostile.example",
        "Interview - town hall",
        "ORGANIZER;CN=Boss:mailto:boss@crowd.example\r\n" + people,
    )


def long_uid() -> bytes:
    return _event(LONG_UID, "Interview - 2000-character UID", "ORGANIZER:mailto:hr@hostile.example\r\n")


@dataclass(frozen=True)
class Case:
    file: str
    interviews: tuple[str, ...] = ()  # UIDs that must get reminders
    broken: tuple[str, ...] = ()  # UIDs skipped as problems ("" = the whole file)
    make: Callable[[], bytes] | None = None  # None: fixtures/hostile/<file>

    def data(self) -> bytes:
        return self.make() if self.make else (HOSTILE / self.file).read_bytes()


CASES = [
    Case("invalid_utf8_summary.ics", interviews=("invalid-utf8@hostile.example",)),
    Case("recurrence_id_without_master.ics", interviews=("orphan-override@hostile.example",)),
    Case("dtend_before_dtstart.ics", broken=("backwards@hostile.example",)),
    Case("unknown_tzid.ics", broken=("unknown-tzid@hostile.example",)),
    Case("folded_mid_utf8_character.ics", interviews=("folded-Müller@hostile.example",)),
    Case("uid_with_slashes_and_dotdot.ics", interviews=("../../../outside/evil.ics",)),
    Case("uid_dotdot.ics", interviews=("..",)),
    Case("uid_with_newline.ics", interviews=("line1\nX-INJECT:1\nEND:VEVENT",)),
    Case("html_and_property_injection.ics", interviews=("injection@hostile.example",)),
    Case(
        "terminal_escapes.ics",
        interviews=("escape-readable@hostile.example",),
        broken=("escape\x1b[2J@hostile.example",),
    ),
    Case("unbalanced_begin_end.ics", broken=("",)),
    # Expanding these would take minutes and gigabytes (the first one took 12 GB before it was bounded).
    Case("rrule_every_second.ics", broken=("every-second@hostile.example",)),
    Case("rrule_every_minute_by_parts.ics", broken=("every-minute@hostile.example",)),
    Case("rrule_hourly_since_1970.ics", broken=("hourly-1970@hostile.example",)),
    Case("not_icalendar_binary.ics", broken=("",)),
    Case("description_5mb.ics", interviews=("big-notes@hostile.example",), make=huge_description),
    Case("attendees_10000.ics", interviews=("crowd@hostile.example",), make=ten_thousand_attendees),
    Case("uid_2000_characters.ics", interviews=(LONG_UID,), make=long_uid),
]


def settings_for(kind: str) -> Settings:
    return Settings(timezone=TZ, me=("me@example.com",), calendars={"cal": CalendarSettings("cal", kind)})


def sync(backend: CalendarBackend, kind: str) -> tuple[RunReport, list[str], Bounds]:
    lines: list[str] = []
    report, bounds = measure(lambda: run(settings_for(kind), {"cal": backend}, now=NOW, report=lines.append))
    assert not report.failures, report.failures
    for line in lines:
        assert not CONTROL.search(line), line
    return report, lines, bounds


def assert_reported(problems: list[Problem], where: str, broken: tuple[str, ...]) -> None:
    """Each broken UID has a problem naming ``where``; a whole broken file has one; nothing else does."""
    assert {p.where for p in problems} <= {where}, problems
    for uid in broken:
        if uid:
            assert any(repr(uid) in p.message for p in problems), (uid, problems)
        else:
            assert any("not a readable iCalendar file" in p.message for p in problems), problems
    for problem in problems:
        assert not CONTROL.search(problem.message), problem


def reminders_by_parent(files: dict[str, bytes]) -> dict[str, list[str]]:
    """Parent UID -> kinds, for every reminder file, each checked to parse back clean."""
    found: dict[str, list[str]] = {}
    for data in files.values():
        parent = str(ical.icalendar.Calendar.from_ical(data).walk("VEVENT")[0]["RELATED-TO"])
        event = assert_clean_reminder(data, parent)
        found.setdefault(parent, []).append(str(event[PROP_KIND]))
    return found


@pytest.mark.parametrize("case", CASES, ids=[case.file for case in CASES])
def test_hostile_file_in_a_vdir(case: Case, tmp_path: Path) -> None:
    folder = tmp_path / "cal"
    folder.mkdir()
    (folder / "normal.ics").write_bytes(NORMAL)
    (folder / case.file).write_bytes(case.data())
    before = tree(tmp_path)

    report, lines, bounds = sync(VdirBackend("cal", folder), "vdir")

    assert_reported(report.problems, case.file, case.broken)
    after = tree(tmp_path)
    new = {name: data for name, data in after.items() if name not in before}
    assert all(name.startswith("cal/") and REMINDER_FILE.fullmatch(name[4:]) for name in new), sorted(new)
    assert set(before) <= set(after)
    reminders = reminders_by_parent(new)
    assert {uid: sorted(kinds) for uid, kinds in reminders.items()} == {
        uid: ["check-in", "thank-you"] for uid in (NORMAL_UID, *case.interviews)
    }
    # Bounded whatever the invitation holds (5 MB of notes, 10,000 guests).
    assert all(len(data) < 64_000 for data in new.values()), max(len(data) for data in new.values())
    hostile_before, hostile_after = before[f"cal/{case.file}"], after[f"cal/{case.file}"]
    assert without_tag_lines(hostile_after) == hostile_before
    assert (hostile_after != hostile_before) == bool(case.interviews)
    # A second sync changes nothing and says nothing.
    again, lines, _ = sync(VdirBackend("cal", folder), "vdir")
    assert lines == [] and tree(tmp_path) == after
    assert again.problems == report.problems
    print(f"{case.file}: {bounds.seconds:.2f} s ({bounds.cpu_seconds:.2f} s CPU), +{bounds.megabytes:.0f} MB")


def test_folded_utf8_and_invalid_bytes_read_as_text(tmp_path: Path) -> None:
    window = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    folded = (HOSTILE / "folded_mid_utf8_character.ics").read_bytes()
    [event], problems = ical.read_events(
        folded, calendar="c", href="f", etag=None, tz=TZ, start=window[0], end=window[1]
    )
    assert not problems
    assert event.uid == "folded-Müller@hostile.example"
    assert event.summary == "Interview: Vorstellungsgespräch bei Müüller"
    assert event.organizer is not None and event.organizer.name == "Jürgen Müller"
    assert ical.uids_in(folded) == [event.uid]
    broken = (HOSTILE / "invalid_utf8_summary.ics").read_bytes()
    [event], _ = ical.read_events(
        broken, calendar="c", href="f", etag=None, tz=TZ, start=window[0], end=window[1]
    )
    assert event.summary == "Interview \ufffd\ufffd caf\ufffd \ufffd("


def test_a_reminder_cannot_be_made_to_carry_other_properties() -> None:
    """Text copied from an invitation, straight into reminder_to_ical: CR, LF, quotes, ';' ',' '\\' and
    property-looking lines stay inside their values."""
    from followup_cal.core.model import Kind, ReminderDraft

    nasty = 'Interview</a><script>\r\nX-INJECT:1\nEND:VEVENT\r\nBEGIN:VEVENT\n"quoted";a,b\\c\u2028x'
    draft = ReminderDraft(
        uid="fc" + "0" * 38,
        kind=Kind.THANK_YOU,
        source=f"{nasty};20261202T090000Z",
        parent_uid=nasty,
        start=datetime(2026, 12, 2, 12, tzinfo=UTC),
        end=datetime(2026, 12, 2, 12, 30, tzinfo=UTC),
        summary=nasty,
        description=nasty * 3,
        alarm_description=nasty,
        url="mailto:eve@evil.example?subject=x%0D%0AX-INJECT%3A1",
    )
    data = ical.reminder_to_ical(draft)
    names = content_line_names(data)
    assert "X-INJECT" not in names and names.count("BEGIN") == 3
    [event], problems = ical.read_events(
        data,
        calendar="c",
        href="r",
        etag=None,
        tz=TZ,
        start=datetime(2026, 12, 1, tzinfo=UTC),
        end=datetime(2026, 12, 3, tzinfo=UTC),
    )
    assert not problems and event.reminder is not None
    unix = nasty.replace("\r\n", "\n")  # a CRLF inside a value comes back as one line break
    assert event.summary == unix and event.description == unix * 3
    assert event.reminder.source == draft.source.replace("\r\n", "\n")
    assert event.reminder.fingerprint == draft.fingerprint


def test_one_vdir_holding_every_hostile_file(tmp_path: Path) -> None:
    folder = tmp_path / "cal"
    folder.mkdir()
    (folder / "normal.ics").write_bytes(NORMAL)
    for case in CASES:
        (folder / case.file).write_bytes(case.data())
    before = tree(tmp_path)
    report, _, bounds = sync(VdirBackend("cal", folder), "vdir")
    for case in CASES:
        assert_reported([p for p in report.problems if p.where == case.file], case.file, case.broken)
    new = {name: data for name, data in tree(tmp_path).items() if name not in before}
    expected = {NORMAL_UID, *(uid for case in CASES for uid in case.interviews)}
    parents = reminders_by_parent(new)
    # Invitations from one organisation on one day are one interview day: one thank-you and one check-in
    # for them together (each file alone gets its own: test_hostile_file_in_a_vdir).
    assert set(parents) <= expected and NORMAL_UID in parents, sorted(parents)
    assert all(sorted(kinds) == ["check-in", "thank-you"] for kinds in parents.values()), parents
    assert len(new) == 2 * len(parents)
    print(
        f"{len(CASES)} hostile files in one vdir: {bounds.seconds:.2f} s "
        f"({bounds.cpu_seconds:.2f} s CPU), +{bounds.megabytes:.0f} MB"
    )


# ---- one .ics file holding every hostile event


def vevent_blocks(data: bytes) -> list[bytes]:
    text = data.decode("utf-8", "surrogateescape")
    lines = ical_marks.physical_lines(text)
    return [
        "".join(lines[s.first : s.stop]).encode("utf-8", "surrogateescape")
        for s in ical_marks.vevent_spans(lines)
    ]


# Not the files broken as a whole (they would spoil the one file), nor the 5 MB and 10,000-attendee ones
# (a one-file calendar is re-read before each write, so those cost seconds per reminder: the vdir has them).
ICS_CASES = [case for case in CASES if case.broken != ("",) and case.make in (None, long_uid)]


def test_one_ics_file_holding_every_hostile_event(tmp_path: Path) -> None:
    head, tail = NORMAL.split(b"BEGIN:VEVENT", 1)
    body = b"".join(block for case in ICS_CASES for block in vevent_blocks(case.data()))
    path = tmp_path / "calendar.ics"
    path.write_bytes(head + body + b"BEGIN:VEVENT" + tail)
    original = path.read_bytes()

    report, lines, bounds = sync(IcsFileBackend("cal", path), "ics")

    broken = tuple(uid for case in ICS_CASES for uid in case.broken)
    assert_reported(report.problems, "calendar.ics", broken)
    assert [p.name for p in tmp_path.iterdir()] == ["calendar.ics"]  # no temporary file left, nothing else
    marked = path.read_bytes()
    assert without_tag_lines(marked).startswith(original[: -len(b"END:VCALENDAR\r\n")])
    reminder_blocks = [block for block in vevent_blocks(marked) if b"X-FOLLOWUP-CAL-KIND" in block]
    wrapped = {
        str(i): b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//followup-cal//EN\r\n"
        + block
        + b"END:VCALENDAR\r\n"
        for i, block in enumerate(reminder_blocks)
    }
    expected = {NORMAL_UID, *(uid for case in ICS_CASES for uid in case.interviews)}
    found = reminders_by_parent(wrapped)
    # One organisation on one day is one interview day (see test_one_vdir_holding_every_hostile_file).
    assert set(found) <= expected and NORMAL_UID in found, sorted(found)
    assert all(sorted(kinds) == ["check-in", "thank-you"] for kinds in found.values()), found
    _, lines, _ = sync(IcsFileBackend("cal", path), "ics")
    assert lines == [] and path.read_bytes() == marked
    print(
        f"{len(ICS_CASES)} hostile inputs in one .ics file: "
        f"{bounds.seconds:.2f} s ({bounds.cpu_seconds:.2f} s CPU), +{bounds.megabytes:.0f} MB"
    )


# ---- a real CalDAV server


@pytest.fixture(scope="module")
def radicale() -> Iterator[RadicaleServer]:
    with running_radicale() as server:
        yield server


# Radicale (vobject) refuses the whole object for this line, so the server gets the rest of the file.
UNPARSABLE_FOR_RADICALE = b'ATTENDEE;CN="Trudy\\" ;X-INJECT=1":mailto:trudy@evil.example\r\n'
RADICALE_CASES = [
    "html_and_property_injection.ics",
    "unknown_tzid.ics",
    "uid_with_newline.ics",
    "uid_with_slashes_and_dotdot.ics",
    "folded_mid_utf8_character.ics",
    "dtend_before_dtstart.ics",
]


def test_hostile_events_on_radicale(radicale: RadicaleServer) -> None:
    url = radicale.make_calendar("alice", "hostile", "Hostile")
    path = url.removeprefix(radicale.root.rstrip("/"))
    accepted = []
    for index, name in enumerate(["normal.ics", *RADICALE_CASES]):
        data = NORMAL if name == "normal.ics" else (HOSTILE / name).read_bytes()
        data = data.replace(UNPARSABLE_FOR_RADICALE, b"")
        if radicale.put_ics(f"{path}item-{index}.ics", data, user="alice") == 201:
            accepted.append(name)
    assert {
        "normal.ics",
        "html_and_property_injection.ics",
        "uid_with_newline.ics",
        "unknown_tzid.ics",
    } <= set(accepted)

    report, lines, bounds = sync(CaldavBackend("cal", url), "caldav")

    assert all(p.calendar == "cal" for p in report.problems)
    assert any("'unknown-tzid@hostile.example'" in p.message for p in report.problems)
    if "dtend_before_dtstart.ics" in accepted:
        assert any("'backwards@hostile.example'" in p.message for p in report.problems)
    storage = radicale.storage / "collections" / "collection-root" / "alice" / "hostile"
    stored = {p.name: p.read_bytes() for p in storage.glob("*.ics")}
    reminders = {name: data for name, data in stored.items() if b"X-FOLLOWUP-CAL-KIND" in data}
    found = reminders_by_parent(reminders)
    assert NORMAL_UID in found and "injection@hostile.example" in found
    assert "line1\nX-INJECT:1\nEND:VEVENT" in found
    assert all(sorted(kinds) == ["check-in", "thank-you"] for kinds in found.values())
    _, lines, _ = sync(CaldavBackend("cal", url), "caldav")
    assert lines == []
    print(
        f"Radicale accepted {len(accepted) - 1} of {len(RADICALE_CASES)} hostile files: "
        f"{bounds.seconds:.2f} s"
    )


# ---- what the command line prints


def test_cli_names_each_skipped_file_on_one_clean_line(tmp_path: Path) -> None:
    folder = tmp_path / "cal"
    folder.mkdir()
    (folder / "normal.ics").write_bytes(NORMAL)
    for case in CASES:
        if case.make is None:
            shutil.copy(HOSTILE / case.file, folder / case.file)
    config = tmp_path / "config.toml"
    config.write_text(f'timezone = "Europe/Berlin"\n[calendars.cal]\ntype = "vdir"\npath = "{folder}"\n')
    result = CliRunner().invoke(cli, ["--config", str(config), "sync", "--dry-run"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert not CONTROL.search(result.stdout + result.stderr)
    skipped = [line for line in result.stderr.splitlines() if " skipped " in line]
    for case in CASES:
        if case.make is None and case.broken:
            assert any(f"skipped {case.file}:" in line for line in skipped), (case.file, skipped)


def test_an_old_daily_series_is_still_read_and_quickly() -> None:
    """The bound on expansion spares what people have: a daily standup since 1990."""
    data = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//app//EN\r\nBEGIN:VEVENT\r\nUID:standup@x\r\n"
        b"DTSTAMP:19900101T000000Z\r\nDTSTART:19900101T090000Z\r\nDTEND:19900101T091500Z\r\n"
        b"RRULE:FREQ=DAILY\r\nSUMMARY:Standup\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    (events, problems), bounds = measure(
        lambda: ical.read_events(
            data, calendar="c", href="standup.ics", etag=None, tz=TZ, start=NOW, end=NOW + timedelta(days=30)
        )
    )
    assert problems == [] and len(events) == 30
    assert bounds.cpu_seconds < 5
