"""Xandikos, a second real CalDAV server next to Radicale: the backend contract, the end-to-end scenarios
with the default 4 connections, and the first sync of a fresh calendar from the command line.

Xandikos keeps each calendar in a git repository and answers ``423 Locked`` to a write that reaches it
while another one is being stored; followup-cal retries those and then writes one at a time.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from backend_contract import BackendContract
from calendar_user import CalendarUser
from followup_cal.backends.caldav_backend import CaldavBackend
from followup_cal.commands.cli import cli
from followup_cal.config.load import DEFAULT_CONNECTIONS
from followup_cal.core.model import Kind
from followup_cal.errors import AlreadyExists
from scenarios import TZ, SyncScenarios, World
from test_caldav import RadicaleHarness, collection_store, draft, object_paths, user_event
from xandikos_server import XandikosServer


@pytest.fixture
def calendar_url(xandikos: XandikosServer) -> str:
    """A new, empty calendar for each test."""
    return xandikos.make_calendar("user", f"cal-{uuid.uuid4().hex[:8]}", "Work")


def xandikos_backend(url: str) -> CaldavBackend:
    """As a user's configuration makes it: 4 connections, the default retries (a lock met while writes
    overlap costs a wait of 0.25 to 0.5 s; shorter waits would leave a busy machine less time to clear it)."""
    return CaldavBackend("cal", url, connections=DEFAULT_CONNECTIONS)


class TestXandikosContract(BackendContract):
    @pytest.fixture
    def harness(self, xandikos: XandikosServer, calendar_url: str) -> RadicaleHarness:
        return RadicaleHarness(xandikos, calendar_url, xandikos_backend(calendar_url), None)


class TestXandikosScenarios(SyncScenarios):
    @pytest.fixture
    def world(self, xandikos: XandikosServer, calendar_url: str) -> World:
        return World(xandikos_backend(calendar_url), CalendarUser(collection_store(xandikos, calendar_url)))


def seed_interviews(user: CalendarUser, count: int, first: datetime) -> None:
    for number in range(count):
        start = first + timedelta(days=number % 20, hours=number % 5)
        user.add(
            f"interview-{number}",
            f"Interview with Company {number}",
            start,
            start + timedelta(hours=1),
            organizer=(f"hr{number}@company{number}.example", f"Hiring Manager {number}"),
        )


def test_first_sync_of_a_fresh_calendar_from_the_command_line(
    xandikos: XandikosServer, calendar_url: str, tmp_path: Path
) -> None:
    """The case of the issue: 4 writes at once met 423 Locked and the sync failed (exit 1) every time."""
    tomorrow = datetime.now(TZ).replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(days=1)
    seed_interviews(CalendarUser(collection_store(xandikos, calendar_url)), 12, tomorrow)
    config = tmp_path / "config.toml"
    config.write_text(
        'timezone = "Europe/Berlin"\n[rules]\nwindow_future_days = 3650\nwindow_past_days = 3650\n'
        f'[calendars.work]\ntype = "caldav"\nurl = "{calendar_url}"\n'
    )
    runner = CliRunner(env={"FOLLOWUP_CAL_MAX_RETRY_DELAY": "1"})
    first = runner.invoke(cli, ["--config", str(config), "sync"], catch_exceptions=False)
    assert first.exit_code == 0, first.stderr
    assert first.stdout.count("tagged") == 12 and first.stdout.count("wrote") == 24
    second = runner.invoke(cli, ["--config", str(config), "sync"], catch_exceptions=False)
    assert (second.exit_code, second.stdout, second.stderr) == (0, "", "")
    world = World(xandikos_backend(calendar_url), CalendarUser(collection_store(xandikos, calendar_url)))
    reminders = world.reminders()  # asserts there is no duplicate
    assert {kind for _source, kind in reminders} == set(Kind)


def test_a_uid_stored_under_another_name_is_already_exists(
    xandikos: XandikosServer, calendar_url: str
) -> None:
    """Xandikos says so with 412 and a no-uid-conflict precondition."""
    written = draft()
    assert xandikos.put_ics(calendar_url + "elsewhere.ics", user_event(written.uid, "Someone else's")) == 201
    with pytest.raises(AlreadyExists, match=r"already exists \(HTTP 412\)"):
        xandikos_backend(calendar_url).create(written)
    assert object_paths(xandikos, calendar_url) == [urlsplit(calendar_url).path + "elsewhere.ics"]
