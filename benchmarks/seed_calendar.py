"""A synthetic calendar for the benchmark, written straight into Radicale's filesystem storage, and a
Radicale launcher for it.

Radicale 3 keeps a calendar as a folder ``<root>/collection-root/<user>/<calendar>/`` holding one
``<name>.ics`` file per object and a ``.Radicale.props`` JSON file whose ``"tag": "VCALENDAR"`` makes
the folder a calendar. Writing those files directly seeds 10,000 events in a second instead of 10,000
PUTs.
"""

from __future__ import annotations

import http.client
import json
import random
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

# The tests' Radicale helpers (tests/radicale_server.py) find a free port and stop the server here too.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from radicale_server import free_port, stop_process

USER = "alice"
PASSWORD = "bench-password"
CALENDAR = "work"
REMINDERS_CALENDAR = "followups"  # with --separate-reminders
ME = "me@example.com"
HISTORY_DAYS = 730  # the calendar reaches two years back ...
FUTURE_DAYS = 365  # ... and one year ahead: three years in all
WINDOW_PAST_DAYS = 30  # followup-cal's default window
WINDOW_FUTURE_DAYS = 120
INTERVIEW_SHARE = 0.02
RECURRING_SERIES = 6

ORDINARY_TITLES = (
    "Team sync",
    "1:1 with Maria",
    "Dentist",
    "Lunch with Sam",
    "Gym",
    "Project review",
    "Coffee with Alex",
    "Yoga class",
    "Call with the bank",
    "Parents' evening",
    "Car service",
    "Interview prep",  # an exclusion, not an interview
    "Mock interview with Priya",  # an exclusion, not an interview
    "Haircut",
    "Book club",
)
INTERVIEW_TITLES = (
    "Phone screen - {company}",
    "Technical interview - {company}",
    "Recruiter call - {company}",
    "Onsite interview - {company}",
    "Hiring manager interview - {company}",
    "Final round - {company}",
)
COMPANIES = (
    "Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Tyrell", "Cyberdyne", "Soylent",
    "Wonka", "Gringotts", "Oscorp", "Vandelay", "Dunder", "Pied Piper", "Aperture", "Black Mesa",
)  # fmt: skip
DECISION_NOTES = (
    "We will decide within two weeks.",
    "You'll hear back by Friday.",
    "decision: in 10 days",
    "",  # no time frame stated
    "",
)
SERIES = (
    ("Weekly team standup", "FREQ=WEEKLY;BYDAY=MO"),
    ("Yoga", "FREQ=WEEKLY;BYDAY=WE;COUNT=150"),
    ("Book club", "FREQ=MONTHLY;BYMONTHDAY=15"),
    ("Sprint planning", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"),
    ("Family call", "FREQ=WEEKLY;BYDAY=SU"),
    ("Payroll reminder", "FREQ=MONTHLY;BYMONTHDAY=28;COUNT=36"),
)


@dataclass(frozen=True)
class SeededEvent:
    uid: str
    start: datetime
    interview: bool


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _vcalendar(lines: list[str]) -> str:
    body = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//followup-cal//benchmark//EN", "BEGIN:VEVENT"]
    return "\r\n".join([*body, *lines, "END:VEVENT", "END:VCALENDAR", ""])


def _working_time(rng: random.Random, day: datetime) -> datetime:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day.replace(hour=rng.randint(7, 15), minute=rng.choice((0, 15, 30, 45)), second=0, microsecond=0)


def generate(size: int, now: datetime, seed: int = 6) -> list[tuple[SeededEvent, str]]:
    """``size`` events over three years around ``now``: 2 % interviews (half of them in the current job
    search, i.e. in the sync window, the rest in older history), a few recurring series, the rest
    ordinary one-off events. Returns each event with its iCalendar text."""
    rng = random.Random(seed)
    first_day = (now - timedelta(days=HISTORY_DAYS)).replace(hour=0, minute=0, second=0, microsecond=0)
    span_days = HISTORY_DAYS + FUTURE_DAYS
    interviews = max(4, round(size * INTERVIEW_SHARE))
    stamp = _stamp(now - timedelta(days=HISTORY_DAYS + 1))
    events: list[tuple[SeededEvent, str]] = []
    for index in range(size):
        uid = f"bench-{index:05d}@example.com"
        common = [f"UID:{uid}", f"DTSTAMP:{stamp}"]
        if index < interviews:
            if index == 0:  # one certainly ahead, for the benchmark to move
                day = now + timedelta(days=rng.uniform(7, 30))
            elif index % 2 == 0:  # the current search: inside the window
                offset = rng.uniform(-WINDOW_PAST_DAYS + 2, WINDOW_FUTURE_DAYS - 10)
                day = now + timedelta(days=offset)
            else:
                day = first_day + timedelta(days=rng.uniform(0, HISTORY_DAYS - WINDOW_PAST_DAYS - 10))
            start = _working_time(rng, day)
            company = COMPANIES[index % len(COMPANIES)]
            domain = company.lower().replace(" ", "") + ".example"
            title = rng.choice(INTERVIEW_TITLES).format(company=company)
            lines = [
                *common,
                f"DTSTART:{_stamp(start)}",
                f"DTEND:{_stamp(start + timedelta(minutes=rng.choice((30, 45, 60))))}",
                f"SUMMARY:{title}",
                f"ORGANIZER;CN=Recruiter at {company}:mailto:talent@{domain}",
                f"ATTENDEE;CN=Jordan Lee;PARTSTAT=ACCEPTED:mailto:jordan@{domain}",
                f"ATTENDEE;CN=Me;PARTSTAT=ACCEPTED:mailto:{ME}",
                "LOCATION:Video call",
            ]
            note = rng.choice(DECISION_NOTES)
            if note:
                lines.append(f"DESCRIPTION:{note}")
            events.append((SeededEvent(uid, start, True), _vcalendar(lines)))
            continue
        start = _working_time(rng, first_day + timedelta(days=rng.uniform(0, span_days)))
        lines = [*common, f"DTSTART:{_stamp(start)}"]
        if index < interviews + RECURRING_SERIES:
            title, rule = SERIES[index - interviews]
            start = _working_time(rng, first_day + timedelta(days=rng.uniform(0, 30)))
            lines = [*common, f"DTSTART:{_stamp(start)}", f"RRULE:{rule}"]
        else:
            title = rng.choice(ORDINARY_TITLES)
        lines += [
            f"DTEND:{_stamp(start + timedelta(minutes=rng.choice((30, 60, 90))))}",
            f"SUMMARY:{title}",
        ]
        if rng.random() < 0.3:
            lines.append("DESCRIPTION:Bring the notes from last time. Parking at the back of the building.")
        events.append((SeededEvent(uid, start, False), _vcalendar(lines)))
    return events


def calendar_folder(storage: Path, calendar: str = CALENDAR) -> Path:
    return storage / "collection-root" / USER / calendar


def write_storage(
    storage: Path, events: list[tuple[SeededEvent, str]], empty_calendars: tuple[str, ...] = ()
) -> None:
    """Writes the calendar (and any ``empty_calendars``) into an empty Radicale storage folder."""
    for calendar in (CALENDAR, *empty_calendars):
        folder = calendar_folder(storage, calendar)
        folder.mkdir(parents=True)
        props = {
            "C:supported-calendar-component-set": "VEVENT",
            "D:displayname": calendar,
            "tag": "VCALENDAR",
        }
        (folder / ".Radicale.props").write_text(json.dumps(props))
    for event, text in events:
        (calendar_folder(storage) / f"{event.uid}.ics").write_text(text, newline="")


def copy_storage(source: Path, target: Path) -> None:
    """A fresh copy of a seeded storage (with Radicale's caches), for one independent run."""
    shutil.copytree(source, target, symlinks=True)
    lock = target / ".Radicale.lock"
    if lock.exists():
        lock.unlink()


class Radicale:
    """Radicale on 127.0.0.1 and a free port, htpasswd (plain) authentication for USER, and fsync
    turned off (``_filesystem_fsync``): the benchmark measures the client, not the disk."""

    def __init__(self, storage: Path, workdir: Path) -> None:
        self.port = free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        users = workdir / "users"
        users.write_text(f"{USER}:{PASSWORD}\n")
        config = workdir / "radicale.conf"
        config.write_text(
            f"[server]\nhosts = 127.0.0.1:{self.port}\n"
            f"[auth]\ntype = htpasswd\nhtpasswd_filename = {users}\nhtpasswd_encryption = plain\ndelay = 0\n"
            "[rights]\ntype = owner_only\n"
            f"[storage]\nfilesystem_folder = {storage}\n"
            "[web]\ntype = none\n[logging]\nlevel = warning\n"
        )
        self.log_path = workdir / "radicale.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(Path(__file__).with_name("radicale_launcher.py")), str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"radicale exited: {self.log_path.read_text(errors='replace')[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("radicale did not start within 20 s")

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)

    def stop(self) -> None:
        stop_process(self.process)
