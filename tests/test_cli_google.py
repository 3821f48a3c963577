"""The command line with a Google calendar, against the stand-in of the Calendar API on 127.0.0.1."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from followup_cal.commands.cli import cli
from google_helpers import REVOKED_LINE, add_recruiter_call, write_token
from google_standin import GoogleStandin

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def setup(tmp_path: Path, standin: GoogleStandin) -> Path:
    token = tmp_path / "google-token.json"
    write_token(token, standin, expired=True)
    folder = tmp_path / "laptop"
    folder.mkdir()
    shutil.copy(FIXTURES / "future_phone_screen.ics", folder / "screen.ics")
    config = tmp_path / "config.toml"
    config.write_text(
        'timezone = "Europe/Berlin"\n[rules]\nwindow_future_days = 3650\n'
        f'[calendars.gmail]\ntype = "google"\ntoken_file = "{token}"\n'
        f'api_endpoint = "{standin.api_endpoint}"\n'
        f'[calendars.laptop]\ntype = "vdir"\npath = "{folder}"\n'
    )
    add_recruiter_call(standin)
    return config


def invoke(config: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_sync_a_google_calendar_twice(tmp_path: Path, standin: GoogleStandin) -> None:
    config = setup(tmp_path, standin)
    code, stdout, stderr = invoke(config, "sync")
    assert code == 0, stderr
    assert stdout.count("gmail: wrote") == 2 and stdout.count("laptop: wrote") == 2
    code, stdout, _ = invoke(config, "sync")
    assert (code, stdout) == (0, "")


def test_revoked_grant_fails_only_that_calendar(tmp_path: Path, standin: GoogleStandin) -> None:
    config = setup(tmp_path, standin)
    standin.revoke()
    code, stdout, stderr = invoke(config, "sync")
    assert code == 1
    assert "laptop: wrote thank-you" in stdout
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and REVOKED_LINE in lines[0]


def test_a_token_file_others_can_read_is_warned_about(tmp_path: Path, standin: GoogleStandin) -> None:
    config = setup(tmp_path, standin)
    (tmp_path / "google-token.json").chmod(0o644)
    code, _, stderr = invoke(config, "sync")
    assert code == 0
    assert "other users can read it" in stderr and "chmod 600" in stderr
