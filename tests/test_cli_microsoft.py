"""The command line with Microsoft calendars, the real msal against the identity stand-in (TLS) and the
Graph stand-in accepting only the access tokens the identity stand-in issued: `auth microsoft`, a revoked
grant failing that calendar alone, `doctor`, `calendars`, `init --type microsoft`; and msal staying
unloaded for everything that does not need it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from followup_cal.commands.cli import cli
from followup_cal.config.load import load_settings
from graph_helpers import event_body
from graph_standin import GraphStandin
from microsoft_identity import CLIENT_ID, DEVICE_GRANT, USERNAME, MicrosoftIdentity

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SECOND_APP = "22222222-3333-4444-5555-666666666666"
REVOKED_LINE = (
    "followup-cal: calendar 'outlook' was not synced: Microsoft access for calendar 'outlook' was revoked "
    "or expired: run `followup-cal auth microsoft` again"
)


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def outlook(identity: MicrosoftIdentity) -> Iterator[GraphStandin]:
    """The Graph stand-in with one interview in the default calendar, trusting the identity stand-in."""
    with GraphStandin(owner=USERNAME) as graph:
        graph.access_tokens.clear()
        graph.token_check = lambda token: token in identity.valid_tokens
        start = (datetime.now(UTC) + timedelta(days=3)).replace(hour=9, minute=0, second=0, microsecond=0)
        graph.add_event(
            "primary",
            event_body(
                "ms-screen@example.com",
                "Phone screen with Acme",
                start,
                start + timedelta(hours=1),
                organizer=("jane@acme.example", "Jane Doe"),
                attendees=[("jane@acme.example", "Jane Doe", "ACCEPTED")],
            ),
        )
        yield graph


def write_config(
    tmp_path: Path, identity: MicrosoftIdentity, graph: GraphStandin, client_id: str = CLIENT_ID
) -> Path:
    """A config with the Microsoft calendar and a vdir folder, and a token whose access token expired."""
    token = tmp_path / "microsoft-token.json"
    identity.write_token_cache(token, expired=True)
    folder = tmp_path / "laptop"
    folder.mkdir()
    shutil.copy(FIXTURES / "future_phone_screen.ics", folder / "screen.ics")
    config = tmp_path / "config.toml"
    config.write_text(
        'timezone = "Europe/Berlin"\n[rules]\nwindow_future_days = 3650\n'
        f'[calendars.outlook]\ntype = "microsoft"\nclient_id = "{client_id}"\ntoken_file = "{token}"\n'
        f'api_endpoint = "{graph.api_endpoint}"\nauthority = "{identity.authority}"\n'
        f'[calendars.laptop]\ntype = "vdir"\npath = "{folder}"\n'
    )
    return config


def test_sync_refreshes_the_token_and_a_revoked_grant_fails_only_that_calendar(
    tmp_path: Path, identity: MicrosoftIdentity, outlook: GraphStandin
) -> None:
    config = write_config(tmp_path, identity, outlook)
    code, stdout, stderr = invoke("--config", str(config), "sync")
    assert code == 0, stderr
    assert stdout.count("outlook: wrote") == 2 and len(identity.grants("refresh_token")) == 1
    identity.revoke()
    (tmp_path / "laptop" / "screen2.ics").write_text(
        (FIXTURES / "future_phone_screen.ics").read_text().replace("future-phone-screen@", "second@")
    )
    code, stdout, stderr = invoke("--config", str(config), "sync")
    assert code == 1
    assert "laptop: wrote thank-you" in stdout and "outlook" not in stdout
    assert stderr.splitlines() == [REVOKED_LINE]


def test_auth_microsoft_writes_the_configured_token_file(
    tmp_path: Path, identity: MicrosoftIdentity, outlook: GraphStandin
) -> None:
    config = write_config(tmp_path, identity, outlook)
    token = tmp_path / "microsoft-token.json"
    before = token.read_text()
    code, stdout, stderr = invoke("--config", str(config), "auth", "microsoft", "--device-code")
    assert code == 0, stderr
    assert stdout.splitlines()[-1] == "Now run: followup-cal sync --dry-run"
    assert token.read_text() != before and len(identity.grants(DEVICE_GRANT)) == 2
    # signing in for another app registration: the config must name it
    identity.client_ids.add(SECOND_APP)
    code, stdout, stderr = invoke(
        "--config", str(config), "auth", "microsoft", "--device-code", "--client-id", SECOND_APP
    )
    assert code == 0, stderr
    assert stdout.splitlines()[-1] == (
        f'Now put client_id = "{SECOND_APP}" in [calendars.outlook] of {config}: refreshing the token needs '
        "it. Then run: followup-cal sync --dry-run"
    )


def test_doctor_and_calendars(tmp_path: Path, identity: MicrosoftIdentity, outlook: GraphStandin) -> None:
    outlook.store.add_calendar("AAMkShared", "Team calendar", can_edit=False)
    config = write_config(tmp_path, identity, outlook)
    code, stdout, stderr = invoke("--config", str(config), "doctor")
    assert code == 0, stdout + stderr
    assert "ok    calendar 'outlook': reachable, login works (Calendar <AAMkADefaultCalendar>)" in stdout
    assert "ok    reminders calendar 'outlook': writable (canEdit is true)" in stdout
    code, stdout, stderr = invoke("--config", str(config), "calendars")
    assert code == 0, stderr
    assert stdout.splitlines() == [
        f"[calendars.outlook] Microsoft account {USERNAME}",
        "  Calendar  AAMkADefaultCalendar  (default, writable)",
        "  Team calendar  AAMkShared  (read-only)",
    ]
    text = config.read_text().replace("token_file =", 'calendar_id = "AAMkShared"\ntoken_file =')
    config.write_text(text)
    code, stdout, _ = invoke("--config", str(config), "doctor")
    assert code == 1
    assert "FAIL  reminders calendar 'outlook': read-only: canEdit is false" in stdout
    identity.revoke()
    code, stdout, _ = invoke("--config", str(config), "doctor")
    assert code == 1
    assert (
        "FAIL  calendar 'outlook': Microsoft access for calendar 'outlook' was revoked or expired: "
        "run `followup-cal auth microsoft` again\n"
    ) in stdout


def test_init_signs_in_lists_the_calendars_and_writes_a_working_config(
    tmp_path: Path, identity: MicrosoftIdentity, outlook: GraphStandin
) -> None:
    outlook.store.add_calendar("AAMkFollowups", "Follow-ups")
    config = tmp_path / "config.toml"
    token = tmp_path / "ms-token.json"
    flags = ["init", "--type", "microsoft", "--client-id", CLIENT_ID, "--device-code"]
    flags += ["--authority", identity.authority, "--api-endpoint", outlook.api_endpoint]
    flags += ["--token-file", str(token), "--reminders-to", "Follow-ups", "--timezone", "UTC"]
    code, stdout, stderr = invoke("--config", str(config), *flags)
    assert code == 0, stdout + stderr
    assert "enter the code" in stdout and f"Signed in as {USERNAME}" in stdout
    assert "Found 2 calendar(s): Calendar, Follow-ups" in stdout
    raw = tomllib.loads(config.read_text())
    assert raw["calendars"]["outlook"] == {
        "type": "microsoft",
        "client_id": CLIENT_ID,
        "calendar_id": "primary",
        "token_file": str(token),
        "api_endpoint": outlook.api_endpoint,
        "authority": identity.authority,
        "reminders_to": "follow-ups",
    }
    assert raw["calendars"]["follow-ups"]["calendar_id"] == "AAMkFollowups"
    assert load_settings(config).calendars["outlook"].reminders_to == "follow-ups"
    code, stdout, stderr = invoke("--config", str(config), "doctor")
    assert code == 0, stdout + stderr
    code, stdout, stderr = invoke("--config", str(config), "sync")
    assert code == 0, stderr
    assert stdout.count("follow-ups: wrote") == 2
    # a second init finds the token and signs in no more
    code, stdout, stderr = invoke("--config", str(config), *flags, "--force")
    assert code == 0, stderr
    assert "Signed in" not in stdout and len(identity.grants(DEVICE_GRANT)) == 2


def test_auth_microsoft_without_a_config_saves_the_default_token_file(
    tmp_path: Path, identity: MicrosoftIdentity, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FOLLOWUP_CAL_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    code, stdout, stderr = invoke(
        "auth", "microsoft", "--client-id", CLIENT_ID, "--device-code", "--authority", identity.authority
    )
    assert code == 0, stderr
    token_file = tmp_path / "data" / "followup-cal" / "microsoft-token.json"
    lines = stdout.splitlines()
    assert "enter the code CODE" in lines[0]
    assert lines[1] == f"Signed in as {USERNAME}; saved the Microsoft token to {token_file} (mode 0600)."
    assert lines[2] == (
        f"Next: `followup-cal init --type microsoft --client-id {CLIENT_ID}` writes a config that uses this "
        "token."
    )
    assert token_file.stat().st_mode & 0o777 == 0o600
    assert json.loads(token_file.read_text())["RefreshToken"]
    assert len(identity.grants(DEVICE_GRANT)) == 2


def test_auth_microsoft_needs_a_client_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOLLOWUP_CAL_CONFIG", str(tmp_path / "none.toml"))
    code, stdout, stderr = invoke("auth", "microsoft", "--device-code")
    assert code == 2 and stdout == ""
    assert stderr == (
        "followup-cal: missing --client-id: the Application (client) ID of your app registration in the "
        "Azure portal (see the README's Microsoft section)\n"
    )


def test_a_client_id_that_is_not_one_is_refused_before_signing_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FOLLOWUP_CAL_CONFIG", str(tmp_path / "none.toml"))
    for command in (["auth", "microsoft"], ["init", "--type", "microsoft"]):
        code, _, stderr = invoke(*command, "--client-id", "my-secret-app", "--device-code")
        assert code == 2
        assert stderr.startswith(
            "followup-cal: --client-id 'my-secret-app': expected the Application (client) ID of your app "
            "registration, a GUID"
        )


NO_MSAL_CHECK = """
import sys
from pathlib import Path
from followup_cal.commands.cli import main

config, token_file = sys.argv[1:3]

def run(*args):
    sys.argv = ["followup-cal", *args]
    try:
        main()
    except SystemExit as stop:
        assert stop.code in (0, None), (args, stop.code)

run("--help")
run("auth", "--help")
run("auth", "microsoft", "--help")
run("init", "--help")
run("--config", config, "sync")
run("--config", config, "sync")  # the no-op sync
import followup_cal.backends.microsoft_auth
assert "msal" not in sys.modules, "msal was loaded"
from followup_cal.backends.microsoft_auth import load_token_source
source = load_token_source(Path(token_file), "client", None, "outlook")
assert "msal" not in sys.modules, "reading the token file loaded msal"
source.cache  # msal's own cache, as a refresh needs it
assert "msal" in sys.modules
"""


def test_help_and_a_sync_of_other_calendars_load_no_msal(tmp_path: Path) -> None:
    folder = tmp_path / "laptop"
    folder.mkdir()
    (folder / "screen.ics").write_bytes((FIXTURES / "future_phone_screen.ics").read_bytes())
    config = tmp_path / "config.toml"
    config.write_text(f'timezone = "UTC"\n[calendars.laptop]\ntype = "vdir"\npath = "{folder}"\n')
    token_file = tmp_path / "microsoft-token.json"
    token_file.write_text("{}")
    command = [sys.executable, "-c", NO_MSAL_CHECK, str(config), str(token_file)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_init_asks_its_questions(tmp_path: Path, identity: MicrosoftIdentity, outlook: GraphStandin) -> None:
    config = tmp_path / "config.toml"
    flags = ["init", "--authority", identity.authority, "--api-endpoint", outlook.api_endpoint]
    flags += ["--token-file", str(tmp_path / "ms-token.json")]
    answers = ["3", CLIENT_ID, "n", "UTC", "", "", "none"]  # Microsoft, client id, no browser: a device code
    result = CliRunner().invoke(
        cli, ["--config", str(config), *flags], input="\n".join(answers) + "\n", catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "3. Outlook.com or Microsoft 365" in result.stdout and "app registration" in result.stdout
    assert "enter the code" in result.stdout
    settings = load_settings(config)
    assert settings.me == (USERNAME,)  # the signed-in account is offered as your address
    assert settings.calendars["outlook"].options["client_id"] == CLIENT_ID
