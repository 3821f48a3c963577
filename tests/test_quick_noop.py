"""The quick no-op (commands/entry.py): a plain ``sync`` whose calendars did not change ends after the
change checks, without click, the deciding core or iCalendar; anything else leaves everything as it was
for the full command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from followup_cal.commands.entry import quick_arguments
from radicale_server import running_radicale

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SECRET = "quick-s3cret"
HEAVY = ("click", "icalendar", "rich", "keyring", "dateparser", "msal", "followup_cal.core.detect")
PROBE = (
    "import sys\n"
    "from followup_cal.commands.entry import _quick_noop\n"
    "done = _quick_noop(sys.argv[1:])\n"
    f"print(done, [m for m in {HEAVY!r} if m in sys.modules])\n"
)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["sync"], None),
        (["--config", "c.toml", "sync"], "c.toml"),
        (["-q", "--config=c.toml", "sync"], "c.toml"),
        (["-v", "sync"], False),
        (["sync", "--dry-run"], False),
        (["sync", "--calendar", "work"], False),
        (["status"], False),
        (["--config"], False),
        ([], False),
    ],
)
def test_only_a_plain_sync_tries_the_quick_way(argv: list[str], expected: str | bool | None) -> None:
    assert quick_arguments(argv) == expected


def test_a_settled_calendar_ends_quick_and_a_changed_one_is_left_to_the_full_run(tmp_path: Path) -> None:
    with running_radicale(users={"alice": SECRET}) as radicale:
        url = radicale.make_calendar("alice", "quick", "Work")
        screen = (FIXTURES / "future_phone_screen.ics").read_bytes()
        assert radicale.put_ics(url + "screen.ics", screen, user="alice") == 201
        config = tmp_path / "config.toml"
        config.write_text(
            'timezone = "Europe/Berlin"\nme = ["me@example.com"]\n[rules]\nwindow_future_days = 3650\n'
            f'[calendars.work]\ntype = "caldav"\nurl = "{url}"\nusername = "alice"\npassword_env = "DAV_PW"\n'
        )
        env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "DAV_PW": SECRET}

        def run(*code_and_args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, *code_and_args], capture_output=True, text=True, env=env, timeout=60
            )

        first = run("-m", "followup_cal", "--config", str(config), "sync")
        assert first.returncode == 0 and "wrote thank-you" in first.stdout, first.stderr
        # Right after the writing sync (its own writes vouched for): quick, nothing heavy imported.
        quick = run("-c", PROBE, "--config", str(config), "sync")
        assert quick.stdout.split("\n")[0] == "True []", quick.stdout + quick.stderr
        settled = run("-m", "followup_cal", "--config", str(config), "sync")
        assert (settled.returncode, settled.stdout, settled.stderr) == (0, "", "")

        caches = list((tmp_path / "cache").rglob("sync-state-*.json"))
        assert len(caches) == 1
        saved = caches[0].read_bytes()
        moved = screen.replace(b"SUMMARY:", b"SUMMARY:Moved: ")
        assert radicale.put_ics(url + "screen.ics", moved, user="alice") in (201, 204)
        quick = run("-c", PROBE, "--config", str(config), "sync")
        assert quick.stdout.startswith("False"), quick.stdout + quick.stderr
        assert caches[0].read_bytes() == saved  # left as it was for the full run
        full = run("-m", "followup_cal", "--config", str(config), "sync")
        assert full.returncode == 0 and "updated" in full.stdout, full.stdout + full.stderr


def test_a_lasting_problem_keeps_a_plain_sync_full_but_not_a_quiet_one(tmp_path: Path) -> None:
    """A settled calendar with an event that cannot be read: a plain sync says it again (the full
    command line), a ``-q`` sync (cron's) has nothing to say and ends quick."""
    unreadable = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nX-WR-TIMEZONE:Not/AZone\r\nBEGIN:VEVENT\r\n"
        b"UID:floating@x\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20300601T090000\r\n"
        b"DTEND:20300601T100000\r\nSUMMARY:Lunch\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    with running_radicale(users={"alice": SECRET}) as radicale:
        url = radicale.make_calendar("alice", "quick", "Work")
        screen = (FIXTURES / "future_phone_screen.ics").read_bytes()
        assert radicale.put_ics(url + "screen.ics", screen, user="alice") == 201
        assert radicale.put_ics(url + "zone.ics", unreadable, user="alice") == 201
        config = tmp_path / "config.toml"
        config.write_text(
            'timezone = "Europe/Berlin"\nme = ["me@example.com"]\n[rules]\nwindow_future_days = 3650\n'
            f'[calendars.work]\ntype = "caldav"\nurl = "{url}"\nusername = "alice"\npassword_env = "DAV_PW"\n'
        )
        env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "DAV_PW": SECRET}

        def run(*code_and_args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, *code_and_args], capture_output=True, text=True, env=env, timeout=60
            )

        first = run("-m", "followup_cal", "--config", str(config), "sync")
        assert first.returncode == 0 and "X-WR-TIMEZONE could not be applied" in first.stderr, first.stderr
        plain = run("-c", PROBE, "--config", str(config), "sync")
        assert plain.stdout.startswith("False"), plain.stdout + plain.stderr
        quiet = run("-c", PROBE, "-q", "--config", str(config), "sync")
        assert quiet.stdout.startswith("True"), quiet.stdout + quiet.stderr
        again = run("-m", "followup_cal", "--config", str(config), "sync")
        assert again.returncode == 0 and "X-WR-TIMEZONE could not be applied" in again.stderr
