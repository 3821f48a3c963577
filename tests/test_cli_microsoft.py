"""The command line with Microsoft calendars: `auth microsoft` against the identity stand-in (TLS, the
real msal), and msal staying unloaded for everything that does not need it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from followup_cal.commands.cli import cli
from microsoft_identity import CLIENT_ID, DEVICE_GRANT, USERNAME, MicrosoftIdentity

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


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
load_token_source(Path(token_file), "client", None, "outlook")
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
