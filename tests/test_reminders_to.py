"""Reminders written into another calendar (``reminders_to``) still follow their interview."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from calendar_user import CalendarUser, FolderStore
from followup_cal.backends.base import CalendarBackend
from followup_cal.backends.caldav_backend import CaldavBackend
from followup_cal.backends.vdir import VdirBackend
from followup_cal.core.model import Event, Kind
from followup_cal.core.settings import CalendarSettings, Settings
from followup_cal.run.sync import run
from radicale_server import RadicaleServer, running_radicale
from scenarios import NOW, TZ, local, seed_week

SETTINGS = Settings(
    timezone=TZ,
    me=("me@example.com",),
    calendars={
        "work": CalendarSettings("work", "vdir", reminders_to="followups"),
        "followups": CalendarSettings("followups", "vdir"),
    },
)


def reminders(backend: CalendarBackend) -> dict[tuple[str, Kind], Event]:
    listing = backend.list_window(NOW - timedelta(days=30), NOW + timedelta(days=120), TZ)
    found = {}
    for event in listing.events:
        if event.reminder is not None:
            key = (event.reminder.source, event.reminder.kind)
            assert key not in found
            found[key] = event
    return found


def sync(backends: dict[str, CalendarBackend]) -> list[str]:
    lines: list[str] = []
    report = run(SETTINGS, backends, now=NOW, report=lines.append)
    assert not report.failures
    return lines


def check_follows(user: CalendarUser, backends: dict[str, CalendarBackend]) -> None:
    seed_week(user)
    sync(backends)
    assert reminders(backends["work"]) == {}
    written = reminders(backends["followups"])
    assert len(written) == 4
    assert sync(backends) == []
    user.move("globex-tech", timedelta(days=1))
    sync(backends)
    assert reminders(backends["followups"])[("globex-tech", Kind.THANK_YOU)].start == local(3, 9, month=12)
    user.delete("acme-screen")
    sync(backends)
    assert {source for source, _ in reminders(backends["followups"])} == {"globex-tech"}
    assert sync(backends) == []


def test_vdir_to_vdir(tmp_path: Path) -> None:
    work, followups = tmp_path / "work", tmp_path / "followups"
    work.mkdir()
    followups.mkdir()
    backends: dict[str, CalendarBackend] = {
        "work": VdirBackend("work", work),
        "followups": VdirBackend("followups", followups),
    }
    check_follows(CalendarUser(FolderStore(work)), backends)


@pytest.fixture(scope="module")
def radicale() -> Iterator[RadicaleServer]:
    with running_radicale() as server:
        yield server


def test_caldav_to_caldav(radicale: RadicaleServer) -> None:
    from test_caldav import collection_store

    suffix = uuid.uuid4().hex[:6]
    work_url = radicale.make_calendar("alice", f"work-{suffix}", "Work")
    followups_url = radicale.make_calendar("alice", f"followups-{suffix}", "Follow-ups")
    backends: dict[str, CalendarBackend] = {
        "work": CaldavBackend("work", work_url),
        "followups": CaldavBackend("followups", followups_url),
    }
    check_follows(CalendarUser(collection_store(radicale, work_url)), backends)
