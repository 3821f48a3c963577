"""`followup-cal doctor`: all green on a working set-up, and one FAIL line with a hint for each thing that
would stop a sync: a wrong password, an unreachable server, a read-only reminders calendar (Radicale's
rights file, Google's accessRole), an unknown time zone, a missing password, an empty keyring, an
unwritable cache folder, a missing config."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import keyring
import pytest

from google_helpers import add_interview, write_token
from google_standin import GoogleStandin
from radicale_server import RadicaleServer, free_port, running_radicale
from test_init import SECRET, invoke, put_interview

# Alice reads and writes her own calendars; the team's calendar she may only read.
RIGHTS = """
[root]
user: .+
collection:
permissions: R

[principal]
user: .+
collection: {user}
permissions: RW

[own-calendars]
user: .+
collection: {user}/[^/]+
permissions: rw

[team-calendar-read-only]
user: alice
collection: team/[^/]+
permissions: r
"""


@pytest.fixture(scope="module")
def radicale() -> Iterator[RadicaleServer]:
    with running_radicale(users={"alice": SECRET, "team": "team-pw"}, rights=RIGHTS) as server:
        server.make_calendar("alice", "work", "Work")
        put_interview(server, "alice", "work", "doctor-screen")
        server.make_calendar("team", "shared", "Team")
        yield server


def caldav_config(
    tmp_path: Path, url: str, *, zone: str = "Europe/Berlin", extra: str = 'password_env = "DAV_PW"'
) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f'timezone = "{zone}"\n[calendars.work]\ntype = "caldav"\nurl = "{url}"\n'
        f'username = "alice"\n{extra}\n'
    )
    return config


def lines_of(output: str, what: str) -> list[str]:
    return [line for line in output.splitlines() if re.match(rf"(ok  |FAIL)  {re.escape(what)}", line)]


def test_all_green_lists_the_next_reminders(radicale: RadicaleServer, tmp_path: Path) -> None:
    config = caldav_config(tmp_path, radicale.url("/alice/work/"))
    result = invoke(config, "doctor")
    assert result.exit_code == 0, result.output
    for what in ("config", "time zone", "calendar 'work'", "reminders calendar 'work'", "next reminders"):
        assert lines_of(result.stdout, what)[0].startswith("ok  "), what
    assert "lock and cache folder" in result.stdout
    assert "writable (the server grants write access)" in result.stdout
    reminder_lines = [line for line in result.stdout.splitlines() if line.startswith("        ")]
    assert [("thank-you" in line, "check-in" in line) for line in reminder_lines] == [
        (True, False),
        (False, True),
    ]
    assert all("planned" in line and "Phone screen with Acme" in line for line in reminder_lines)
    assert result.stdout.rstrip().endswith("All checks passed.")
    assert SECRET not in result.output


def test_doctor_writes_nothing(radicale: RadicaleServer, tmp_path: Path) -> None:
    config = caldav_config(tmp_path, radicale.url("/alice/work/"))
    before = radicale.request("PROPFIND", "/alice/work/", user="alice", headers={"Depth": "1"})[2]
    assert invoke(config, "doctor").exit_code == 0
    after = radicale.request("PROPFIND", "/alice/work/", user="alice", headers={"Depth": "1"})[2]
    assert before == after


def test_wrong_password(radicale: RadicaleServer, tmp_path: Path) -> None:
    config = caldav_config(tmp_path, radicale.url("/alice/work/"))
    result = invoke(config, "doctor", env={"DAV_PW": "wrong"})
    assert result.exit_code == 1
    (line,) = lines_of(result.stdout, "calendar 'work'")
    assert line.startswith("FAIL") and "authentication failed" in line and "app-specific password" in line
    assert lines_of(result.stdout, "config")[0].startswith("ok")
    assert "1 check(s) failed." in result.stdout


def test_unreachable_server(tmp_path: Path) -> None:
    config = caldav_config(tmp_path, f"http://127.0.0.1:{free_port()}/alice/work/")
    result = invoke(config, "doctor")
    assert result.exit_code == 1
    (line,) = lines_of(result.stdout, "calendar 'work'")
    assert line.startswith("FAIL") and "unreachable (connection refused)" in line and "check the url" in line
    assert not lines_of(result.stdout, "next reminders")  # nothing could be read


def test_read_only_calendar_from_radicale_rights(radicale: RadicaleServer, tmp_path: Path) -> None:
    config = caldav_config(tmp_path, radicale.url("/team/shared/"))
    result = invoke(config, "doctor")
    assert result.exit_code == 1, result.output
    assert lines_of(result.stdout, "calendar 'work'")[0].startswith("ok  ")  # reading works
    (line,) = lines_of(result.stdout, "reminders calendar 'work'")
    assert line.startswith("FAIL") and "read-only" in line and "reminders_to" in line


def test_a_read_only_calendar_with_a_writable_reminders_calendar_passes(
    radicale: RadicaleServer, tmp_path: Path
) -> None:
    config = caldav_config(
        tmp_path,
        radicale.url("/team/shared/"),
        extra='password_env = "DAV_PW"\nreminders_to = "mine"\n'
        f'[calendars.mine]\ntype = "caldav"\nurl = "{radicale.url("/alice/work/")}"\n'
        'username = "alice"\npassword_env = "DAV_PW"',
    )
    result = invoke(config, "doctor")
    assert result.exit_code == 0, result.output
    assert lines_of(result.stdout, "reminders calendar 'mine'")[0].startswith("ok  ")
    assert not lines_of(result.stdout, "reminders calendar 'work'")


def test_unknown_time_zone_fails_but_the_other_checks_run(radicale: RadicaleServer, tmp_path: Path) -> None:
    config = caldav_config(tmp_path, radicale.url("/alice/work/"), zone="Europe/Berln")
    result = invoke(config, "doctor")
    assert result.exit_code == 2
    (line,) = lines_of(result.stdout, "time zone")
    assert line.startswith("FAIL") and "did you mean Europe/Berlin" in line
    assert lines_of(result.stdout, "calendar 'work'")[0].startswith("ok  ")
    assert "fix the configuration first" in result.stdout


def test_password_variable_not_set(radicale: RadicaleServer, tmp_path: Path) -> None:
    config = caldav_config(tmp_path, radicale.url("/alice/work/"), extra='password_env = "UNSET_PW"')
    result = invoke(config, "doctor")
    assert result.exit_code == 1
    (line,) = lines_of(result.stdout, "calendar 'work'")
    assert "UNSET_PW" in line and "not set" in line and "cron" in line


@pytest.mark.usefixtures("memory_keyring")
def test_keyring_without_the_password(radicale: RadicaleServer, tmp_path: Path) -> None:
    config = caldav_config(tmp_path, radicale.url("/alice/work/"), extra="keyring = true")
    result = invoke(config, "doctor")
    assert result.exit_code == 1
    (line,) = lines_of(result.stdout, "keyring")
    assert line.startswith("FAIL") and "keyring set followup-cal alice" in line and "password_env" in line
    keyring.set_password("followup-cal", "alice", SECRET)  # the in-memory keyring of the fixture
    result = invoke(config, "doctor")
    assert result.exit_code == 0, result.output
    assert lines_of(result.stdout, "keyring")[0].startswith("ok  ")


def test_cache_folder_that_cannot_be_written(tmp_path: Path) -> None:
    folder = tmp_path / "laptop"
    folder.mkdir()
    config = tmp_path / "config.toml"
    config.write_text(f'timezone = "UTC"\n[calendars.laptop]\ntype = "vdir"\npath = "{folder}"\n')
    not_a_folder = tmp_path / "cache-is-a-file"
    not_a_folder.write_text("")
    result = invoke(config, "doctor", env={"XDG_CACHE_HOME": str(not_a_folder)})
    assert result.exit_code == 1
    (line,) = lines_of(result.stdout, "lock and cache folder")
    assert line.startswith("FAIL") and "XDG_CACHE_HOME" in line


def test_missing_config_points_at_init(tmp_path: Path) -> None:
    result = invoke(tmp_path / "nothing.toml", "doctor")
    assert result.exit_code == 2
    (line,) = lines_of(result.stdout, "config")
    assert line.startswith("FAIL") and "followup-cal init" in line
    assert "--force" not in line  # there is nothing to overwrite


def test_invalid_config(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[rules]\nworking_hours = "9-18"\n')
    result = invoke(config, "doctor")
    assert result.exit_code == 2
    (line,) = lines_of(result.stdout, "config")
    assert "rules.working_hours" in line and "HH:MM-HH:MM" in line


def google_config(tmp_path: Path, standin: GoogleStandin, calendar_id: str) -> Path:
    token = tmp_path / "google-token.json"
    write_token(token, standin, expired=True)
    config = tmp_path / "config.toml"
    config.write_text(
        f'timezone = "UTC"\n[calendars.gmail]\ntype = "google"\ncalendar_id = "{calendar_id}"\n'
        f'token_file = "{token}"\napi_endpoint = "{standin.api_endpoint}"\n'
    )
    return config


def test_google_green_and_read_only(tmp_path: Path, standin: GoogleStandin) -> None:
    start = datetime.now(UTC) + timedelta(days=2)
    add_interview(standin, "Technical screen - Initech", start, 60)
    result = invoke(google_config(tmp_path, standin, "primary"), "doctor")
    assert result.exit_code == 0, result.output
    assert "your access role is owner" in result.stdout and "Technical screen - Initech" in result.stdout

    standin.add_calendar("holidays@group.v.calendar.google.com")
    standin.access_roles["holidays@group.v.calendar.google.com"] = "reader"
    result = invoke(google_config(tmp_path, standin, "holidays@group.v.calendar.google.com"), "doctor")
    assert result.exit_code == 1
    (line,) = lines_of(result.stdout, "reminders calendar 'gmail'")
    assert line.startswith("FAIL") and "your access role is reader" in line


def test_google_revoked_grant(tmp_path: Path, standin: GoogleStandin) -> None:
    config = google_config(tmp_path, standin, "primary")
    standin.revoke()
    result = invoke(config, "doctor")
    assert result.exit_code == 1
    (line,) = lines_of(result.stdout, "calendar 'gmail'")
    assert "revoked or expired" in line and "followup-cal auth google" in line
