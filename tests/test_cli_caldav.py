"""The command line against a real Radicale server: sync, calendars, a wrong password among good calendars."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from followup_cal.commands.cli import cli
from radicale_server import RadicaleServer, running_radicale

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SECRET = "s3cret-Passw0rd-for-grep"


@pytest.fixture(scope="module")
def radicale() -> Iterator[RadicaleServer]:
    with running_radicale(users={"alice": SECRET}) as server:
        yield server


def invoke(config: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner(env=env).invoke(cli, ["--config", str(config), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def config_for(tmp_path: Path, url: str, *, more: str = "") -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        'timezone = "Europe/Berlin"\n[rules]\nwindow_future_days = 3650\n'
        f'[calendars.work]\ntype = "caldav"\nurl = "{url}"\nusername = "alice"\npassword_env = "DAV_PW"\n'
        + more
    )
    return config


def test_sync_twice_against_radicale(radicale: RadicaleServer, tmp_path: Path) -> None:
    url = radicale.make_calendar("alice", "cli-sync", "Work")
    screen = (FIXTURES / "future_phone_screen.ics").read_bytes()
    assert radicale.put_ics(url + "screen.ics", screen, user="alice") == 201
    config = config_for(tmp_path, url)
    code, stdout, stderr = invoke(config, "-vv", "sync", env={"DAV_PW": SECRET})
    assert code == 0, stderr
    assert stdout.count("wrote") == 2 and "tagged" in stdout
    assert SECRET not in stdout + stderr
    code, stdout, stderr = invoke(config, "sync", env={"DAV_PW": SECRET})
    assert (code, stdout) == (0, "")
    assert SECRET not in stdout + stderr


def test_calendars_lists_what_the_account_sees(radicale: RadicaleServer, tmp_path: Path) -> None:
    radicale.make_calendar("alice", "listed-a", "Job search")
    config = config_for(tmp_path, radicale.url("/alice/"))
    code, stdout, stderr = invoke(config, "calendars", env={"DAV_PW": SECRET})
    assert code == 0, stderr
    assert "Job search" in stdout and "/alice/listed-a/" in stdout and "writable" in stdout


def test_wrong_password_fails_one_calendar_with_one_line(radicale: RadicaleServer, tmp_path: Path) -> None:
    url = radicale.make_calendar("alice", "cli-wrong-pw", "Work")
    folder = tmp_path / "laptop"
    folder.mkdir()
    shutil.copy(FIXTURES / "future_phone_screen.ics", folder / "screen.ics")
    config = config_for(tmp_path, url, more=f'[calendars.laptop]\ntype = "vdir"\npath = "{folder}"\n')
    code, stdout, stderr = invoke(config, "sync", env={"DAV_PW": "wrong"})
    assert code == 1
    assert "wrote thank-you" in stdout  # the other calendar still synced
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "authentication failed" in lines[0] and "'work'" in lines[0]
    assert "Traceback" not in stderr


def test_unreachable_server_is_one_line(tmp_path: Path) -> None:
    config = config_for(tmp_path, "http://127.0.0.1:9/cal/")
    code, _, stderr = invoke(config, "sync", env={"DAV_PW": "x"})
    assert code == 1
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr
