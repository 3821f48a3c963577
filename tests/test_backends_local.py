"""The backend contract against the memory, vdir and one-file backends, plus what is special to each."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import icalendar
import pytest

from backend_contract import TZ, BackendContract, BackendHarness, make_draft
from followup_cal.backends.base import CalendarBackend
from followup_cal.backends.icsfile import IcsFileBackend
from followup_cal.backends.memory import MemoryBackend
from followup_cal.backends.vdir import VdirBackend
from followup_cal.core.model import Kind, MarkUpdate
from followup_cal.errors import AlreadyExists, BackendError, PreconditionFailed
from followup_cal.ical import marks as ical_marks


def user_event_ical(
    uid: str,
    summary: str,
    start: datetime,
    end: datetime | None,
    *,
    description: str = "",
    categories: Sequence[str] = (),
    rrule: str | None = None,
    status: str | None = None,
    attendees: Sequence[tuple[str, str, str]] = (),
) -> bytes:
    """A VCALENDAR as a typical calendar app writes it (with VTIMEZONEs and a VALARM of its own)."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Example Corp//Some Calendar App 2.1//EN")
    cal.add("version", "2.0")
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("dtstamp", datetime(2030, 1, 1, tzinfo=UTC))
    event.add("dtstart", start)
    if end is not None:
        event.add("dtend", end)
    event.add("summary", summary)
    if description:
        event.add("description", description)
    if categories:
        event.add("categories", list(categories))
    if rrule:
        event.add("rrule", icalendar.vRecur.from_ical(rrule))
    if status:
        event.add("status", status)
    organizer = icalendar.vCalAddress("mailto:rita@acme.example")
    organizer.params["CN"] = "Rita Recruiter"
    event.add("organizer", organizer)
    for email, name, partstat in attendees:
        address = icalendar.vCalAddress(f"mailto:{email}")
        address.params["CN"] = name
        address.params["PARTSTAT"] = partstat
        event.add("attendee", address)
    event.add("x-someapp-color", icalendar.vText("blue,green"))
    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", "Reminder")
    alarm.add("trigger", icalendar.vDuration(-(datetime(2030, 1, 1, 1) - datetime(2030, 1, 1))))
    event.add_component(alarm)
    cal.add_component(event)
    cal.add_missing_timezones()
    return bytes(cal.to_ical())


class _SeededEvents:
    """Keeps each seeded event's fields, so modify_user_event can rewrite it."""

    def __init__(self) -> None:
        self.fields: dict[str, dict[str, Any]] = {}

    def remember(self, uid: str, summary: str, start: datetime, end: datetime | None, **more: Any) -> bytes:
        self.fields[uid] = {"summary": summary, "start": start, "end": end, **more}
        return user_event_ical(uid, **self.fields[uid])

    def changed(self, uid: str, changes: dict[str, Any]) -> bytes:
        self.fields[uid].update(changes)
        return user_event_ical(uid, **self.fields[uid])


def user_href(uid: str) -> str:
    return "user-" + hashlib.sha256(uid.encode()).hexdigest()[:12] + ".ics"


class MemoryHarness(_SeededEvents):
    def __init__(self) -> None:
        super().__init__()
        self.backend = MemoryBackend("memory")

    def add_user_event(
        self, uid: str, summary: str, start: datetime, end: datetime | None, **more: Any
    ) -> None:
        self.backend.put_raw(user_href(uid), self.remember(uid, summary, start, end, **more))

    def modify_user_event(self, uid: str, **changes: Any) -> None:
        self.backend.put_raw(user_href(uid), self.changed(uid, changes))

    def delete_user_event(self, uid: str) -> None:
        self.backend.remove_raw(user_href(uid))


class VdirHarness(_SeededEvents):
    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder
        self.backend = VdirBackend("vdir", folder)

    def add_user_event(
        self, uid: str, summary: str, start: datetime, end: datetime | None, **more: Any
    ) -> None:
        (self.folder / user_href(uid)).write_bytes(self.remember(uid, summary, start, end, **more))

    def modify_user_event(self, uid: str, **changes: Any) -> None:
        (self.folder / user_href(uid)).write_bytes(self.changed(uid, changes))

    def delete_user_event(self, uid: str) -> None:
        (self.folder / user_href(uid)).unlink()


HEADER = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example Corp//Export//EN\r\nX-WR-CALNAME:Mine\r\n"


class IcsFileHarness(_SeededEvents):
    """Edits the one file as text: VEVENTs of a UID are replaced, VTIMEZONEs added once."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        path.write_bytes(HEADER + b"END:VCALENDAR\r\n")
        self.backend = IcsFileBackend("ics", path)

    def _splice(self, uid: str, data: bytes | None) -> None:
        lines = ical_marks.physical_lines(self.path.read_text())
        for span in sorted(ical_marks.vevent_spans(lines, uid), key=lambda s: s.first, reverse=True):
            del lines[span.first : span.stop]
        if data is not None:
            new_lines = ical_marks.physical_lines(data.decode())
            known = {s.value("TZID") for s in ical_marks.component_spans(lines) if s.name == "VTIMEZONE"}
            for span in ical_marks.component_spans(new_lines):
                if span.name == "VEVENT" or (span.name == "VTIMEZONE" and span.value("TZID") not in known):
                    lines[-1:-1] = new_lines[span.first : span.stop]
        self.path.write_text("".join(lines))

    def add_user_event(
        self, uid: str, summary: str, start: datetime, end: datetime | None, **more: Any
    ) -> None:
        self._splice(uid, self.remember(uid, summary, start, end, **more))

    def modify_user_event(self, uid: str, **changes: Any) -> None:
        self._splice(uid, self.changed(uid, changes))

    def delete_user_event(self, uid: str) -> None:
        self._splice(uid, None)


class TestMemoryContract(BackendContract):
    @pytest.fixture
    def harness(self) -> MemoryHarness:
        return MemoryHarness()


class TestVdirContract(BackendContract):
    @pytest.fixture
    def harness(self, tmp_path: Path) -> VdirHarness:
        return VdirHarness(tmp_path)


class TestIcsFileContract(BackendContract):
    @pytest.fixture
    def harness(self, tmp_path: Path) -> IcsFileHarness:
        return IcsFileHarness(tmp_path / "calendar.ics")


# --- memory -------------------------------------------------------------------------------------------


def test_memory_remember_deleted_refuses_the_old_uid() -> None:
    backend = MemoryBackend("m", remember_deleted=True)
    created = backend.create(make_draft())
    backend.delete(created)
    assert backend.find(created.uid, None, TZ) is None
    with pytest.raises(AlreadyExists):
        backend.create(make_draft())
    assert backend.hrefs() == []
    plain = MemoryBackend("m")
    plain.delete(plain.create(make_draft()))
    assert plain.create(make_draft()).uid == created.uid


def test_memory_raw_helpers() -> None:
    backend = MemoryBackend("m")
    created = backend.create(make_draft())
    assert backend.hrefs() == [created.href]
    assert backend.get_raw(created.href).startswith(b"BEGIN:VCALENDAR")
    etag = backend.put_raw("x.ics", user_event_ical("x", "X", datetime(2030, 3, 3, 9, tzinfo=TZ), None))
    assert etag and backend.find("x", None, TZ) is not None


# --- vdir ---------------------------------------------------------------------------------------------


def test_vdir_new_files_are_named_after_safe_uids(tmp_path: Path) -> None:
    backend = VdirBackend("v", tmp_path)
    created = backend.create(make_draft())
    assert created.href == f"{created.uid}.ics" and (tmp_path / created.href).is_file()
    assert sorted(os.listdir(tmp_path)) == [created.href]  # no temporary file left behind
    backend.update_reminder(created, make_draft(summary="changed"))
    assert sorted(os.listdir(tmp_path)) == [created.href]


@pytest.mark.parametrize("uid", ["../escape", "a/b", "..", "/etc/passwd", ".hidden", "x\\y"])
def test_vdir_odd_uids_never_leave_the_folder(tmp_path: Path, uid: str) -> None:
    folder = tmp_path / "cal"
    folder.mkdir()
    backend = VdirBackend("v", folder)
    created = backend.create(make_draft(uid=uid))
    assert created.uid == uid
    assert os.listdir(tmp_path) == ["cal"]
    [name] = os.listdir(folder)
    assert name == created.href and not name.startswith(".") and "/" not in name
    found = backend.find(uid, None, TZ)
    assert found is not None and found.href == name


@pytest.mark.parametrize("href", ["../x.ics", "sub/x.ics", ".x.ics", "x.txt"])
def test_vdir_refuses_hrefs_outside_the_folder(tmp_path: Path, href: str) -> None:
    backend = VdirBackend("v", tmp_path)
    with pytest.raises(BackendError):
        backend.write_marks(href, None, [MarkUpdate(None, frozenset())])


def test_vdir_marks_change_only_the_mark_lines_and_other_files_stay(tmp_path: Path) -> None:
    harness = VdirHarness(tmp_path)
    harness.add_user_event(
        "a@x", "Interview A", datetime(2030, 3, 5, 9, tzinfo=TZ), None, categories=["Work"]
    )
    harness.add_user_event("b@x", "Dentist", datetime(2030, 3, 6, 9, tzinfo=TZ), None)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    stats = {p.name: p.stat().st_ino for p in tmp_path.iterdir()}
    [event] = [e for e in harness.backend.list_window(*_window()).events if e.uid == "a@x"]
    harness.backend.write_marks(event.href, event.etag, [MarkUpdate(None, frozenset({Kind.THANK_YOU}))])
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert set(after) == set(before)
    assert after[user_href("b@x")] == before[user_href("b@x")]
    assert tmp_path.joinpath(user_href("b@x")).stat().st_ino == stats[user_href("b@x")]
    old_lines = before[user_href("a@x")].splitlines()
    new_lines = after[user_href("a@x")].splitlines()
    # The tag joins the event's own CATEGORIES line; the ISSUED record says so.
    assert sorted(line for line in new_lines if line not in old_lines) == [
        b"CATEGORIES:Work,Interview",
        b"X-FOLLOWUP-CAL-ISSUED;X-FOLLOWUP-CAL-TAG=JOINED:thank-you",
    ]
    assert [line for line in new_lines if line in old_lines] == [
        line for line in old_lines if line != b"CATEGORIES:Work"
    ]


def test_vdir_reports_unreadable_files_and_skips_others(tmp_path: Path) -> None:
    harness = VdirHarness(tmp_path)
    harness.add_user_event("a@x", "Interview A", datetime(2030, 3, 5, 9, tzinfo=TZ), None)
    (tmp_path / "broken.ics").write_bytes(b"\x00\x01 not a calendar")
    (tmp_path / "notes.txt").write_bytes(b"BEGIN:VCALENDAR\r\nnope")
    (tmp_path / ".hidden.ics").write_bytes(b"nope")
    (tmp_path / "dir.ics").mkdir()
    listing = harness.backend.list_window(*_window())
    assert [e.uid for e in listing.events] == ["a@x"]
    assert [p.where for p in listing.problems] == ["broken.ics"]


def test_vdir_missing_folder_is_a_backend_error(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="does not exist"):
        VdirBackend("v", tmp_path / "nope").list_window(*_window())


def test_vdir_precondition_sees_a_changed_file(tmp_path: Path) -> None:
    backend = VdirBackend("v", tmp_path)
    created = backend.create(make_draft())
    path = tmp_path / created.href
    stat = path.stat()
    path.write_bytes(path.read_bytes().replace(b"SUMMARY:Thank", b"SUMMARY:thank"))  # same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and same mtime
    with pytest.raises(PreconditionFailed):
        backend.delete(created)
    assert path.exists()


# --- one .ics file ------------------------------------------------------------------------------------


def test_icsfile_writes_change_only_that_uid(tmp_path: Path) -> None:
    harness = IcsFileHarness(tmp_path / "cal.ics")
    harness.add_user_event("a@x", "Interview A", datetime(2030, 3, 5, 9, tzinfo=TZ), None)
    harness.add_user_event("b@x", "Dentist", datetime(2030, 3, 6, 9, tzinfo=TZ), None, description="x,y;z")
    path = harness.path
    # Odd but valid bytes the backend must keep: a folded value with trailing spaces.
    path.write_bytes(path.read_bytes().replace(b"SUMMARY:Dentist\r\n", b"SUMMARY:Den\r\n tist  \r\n"))
    original = path.read_bytes()
    backend = harness.backend

    def other_text(data: bytes) -> bytes:
        lines = ical_marks.physical_lines(data.decode())
        spans = [s for s in ical_marks.component_spans(lines) if s.name == "VEVENT" and s.uid != "a@x"]
        return b"".join("".join(lines[s.first : s.stop]).encode() for s in spans)

    [event] = [e for e in backend.list_window(*_window()).events if e.uid == "a@x"]
    assert event.href == "a@x"
    backend.write_marks(event.href, event.etag, [MarkUpdate(None, frozenset({Kind.THANK_YOU}))])
    marked = path.read_bytes()
    assert len(marked.splitlines()) == len(original.splitlines()) + 2
    assert other_text(marked) == other_text(original)
    created = backend.create(make_draft())
    assert other_text(path.read_bytes()).startswith(other_text(marked))
    backend.delete(created)
    assert path.read_bytes() == marked
    tagged = backend.find("a@x", None, TZ)
    assert tagged is not None
    backend.write_marks(tagged.href, tagged.etag, [MarkUpdate(None, None)])
    assert path.read_bytes() == original
    assert [p.name for p in tmp_path.iterdir()] == ["cal.ics"]  # no temporary file left behind


def test_icsfile_etag_is_per_uid(tmp_path: Path) -> None:
    harness = IcsFileHarness(tmp_path / "cal.ics")
    harness.add_user_event("a@x", "A", datetime(2030, 3, 5, 9, tzinfo=TZ), None)
    harness.add_user_event("b@x", "B", datetime(2030, 3, 6, 9, tzinfo=TZ), None)
    a = harness.backend.find("a@x", None, TZ)
    assert a is not None
    harness.modify_user_event("b@x", summary="B changed")
    harness.backend.write_marks(a.href, a.etag, [MarkUpdate(None, frozenset())])  # b's change is no conflict
    harness.modify_user_event("a@x", summary="A changed")
    with pytest.raises(PreconditionFailed):
        harness.backend.write_marks(a.href, a.etag, [MarkUpdate(None, frozenset())])


def test_icsfile_keeps_lf_files_lf(tmp_path: Path) -> None:
    path = tmp_path / "cal.ics"
    path.write_bytes(HEADER.replace(b"\r\n", b"\n") + b"END:VCALENDAR")  # no final newline either
    backend = IcsFileBackend("ics", path)
    created = backend.create(make_draft())
    data = path.read_bytes()
    assert b"\r" not in data and data.startswith(HEADER.replace(b"\r\n", b"\n"))
    assert data.rstrip().endswith(b"END:VCALENDAR")
    backend.delete(created)
    assert path.read_bytes() == HEADER.replace(b"\r\n", b"\n") + b"END:VCALENDAR"


def _window() -> tuple[datetime, datetime, Any]:
    return datetime(2030, 3, 1, tzinfo=TZ), datetime(2030, 4, 1, tzinfo=TZ), TZ


def test_harnesses_and_backends_match_the_protocols(tmp_path: Path) -> None:
    harnesses: list[BackendHarness] = [
        MemoryHarness(),
        VdirHarness(tmp_path),
        IcsFileHarness(tmp_path / "c.ics"),
    ]
    backends: list[CalendarBackend] = [harness.backend for harness in harnesses]  # checked by mypy
    assert [backend.name for backend in backends] == ["memory", "vdir", "ics"]
