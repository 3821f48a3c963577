"""Password resolution: environment variable, command, keyring; and the permission warning."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import keyring
import keyring.backend
import pytest

from followup_cal.config import secrets
from followup_cal.config.load import parse_settings
from followup_cal.config.secrets import resolve_password, warn_if_readable_by_others
from followup_cal.core.settings import CalendarSettings
from followup_cal.errors import ConfigError
from memory_keyring import MemoryKeyring

SECRET = "s3cret-P@ss;word"


def caldav(**options: Any) -> CalendarSettings:
    base = {"url": "https://dav.example.com/", "username": "alice", "verify": True, "ca_bundle": None}
    return CalendarSettings(name="work", type="caldav", options={**base, **options})


def python_command(code: str, *args: str) -> list[str]:
    return [sys.executable, "-c", code, *args]


def test_no_password_source_gives_none() -> None:
    assert resolve_password(caldav()) is None
    assert resolve_password(caldav(keyring=False)) is None


def test_password_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FC_TEST_PASSWORD", SECRET)
    assert resolve_password(caldav(password_env="FC_TEST_PASSWORD")) == SECRET


@pytest.mark.parametrize("value", [None, ""])
def test_password_env_missing_or_empty(monkeypatch: pytest.MonkeyPatch, value: str | None) -> None:
    if value is None:
        monkeypatch.delenv("FC_TEST_PASSWORD", raising=False)
    else:
        monkeypatch.setenv("FC_TEST_PASSWORD", value)
    with pytest.raises(ConfigError) as caught:
        resolve_password(caldav(password_env="FC_TEST_PASSWORD"))
    assert "FC_TEST_PASSWORD" in str(caught.value)
    assert "'work'" in str(caught.value)


def test_password_from_parsed_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FC_TEST_PASSWORD", SECRET)
    data = {
        "calendars": {
            "work": {
                "type": "caldav",
                "url": "https://dav.example.com/",
                "username": "alice",
                "password_env": "FC_TEST_PASSWORD",
            }
        }
    }
    settings = parse_settings(data, "config.toml")
    assert resolve_password(settings.calendars["work"]) == SECRET


def test_password_command_output_without_trailing_newline() -> None:
    command = python_command("import sys; sys.stdout.write(sys.argv[1] + '\\n')", SECRET)
    assert resolve_password(caldav(password_command=command)) == SECRET


def test_password_command_keeps_only_the_first_line() -> None:
    # `pass show` prints the password, then the entry's other lines.
    command = python_command("import sys; sys.stdout.buffer.write(b'pw one\\r\\nuser: alice\\nurl: x\\n')")
    assert resolve_password(caldav(password_command=command)) == "pw one"


def test_password_command_runs_without_a_shell(tmp_path: Path) -> None:
    semicolon_marker = tmp_path / "semicolon-ran"
    substitution_marker = tmp_path / "substitution-ran"
    arguments = [f"x; touch {semicolon_marker}", f"$(touch {substitution_marker})", "`id`", "$HOME"]
    command = python_command("import sys; print(' '.join(sys.argv[1:]))", *arguments)

    password = resolve_password(caldav(password_command=command))

    assert password == " ".join(arguments)  # every argument arrived as written
    assert not semicolon_marker.exists()
    assert not substitution_marker.exists()


def test_password_command_failure_names_program_and_status_not_output() -> None:
    command = python_command("import sys; print(sys.argv[1]); sys.exit(3)", SECRET)
    with pytest.raises(ConfigError) as caught:
        resolve_password(caldav(password_command=command))
    message = str(caught.value)
    assert sys.executable in message
    assert "exit status 3" in message
    assert SECRET not in message
    assert "-c" not in message.split(sys.executable, 1)[1]  # the arguments are not repeated


def test_password_command_not_found() -> None:
    with pytest.raises(ConfigError, match="was not found"):
        resolve_password(caldav(password_command=["/nonexistent/followup-cal-helper", SECRET]))


def test_password_command_that_prints_nothing() -> None:
    with pytest.raises(ConfigError, match="printed nothing"):
        resolve_password(caldav(password_command=python_command("pass")))


def test_password_command_that_hangs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(secrets, "PASSWORD_COMMAND_TIMEOUT", 0.5)
    with pytest.raises(ConfigError, match="did not finish within"):
        resolve_password(caldav(password_command=python_command("import time; time.sleep(30)")))


def test_keyring(memory_keyring: MemoryKeyring) -> None:
    keyring.set_password("followup-cal", "alice", SECRET)
    assert resolve_password(caldav(keyring=True)) == SECRET


def test_keyring_without_entry_says_how_to_store_it(memory_keyring: MemoryKeyring) -> None:
    keyring.set_password("another-program", "alice", SECRET)
    with pytest.raises(ConfigError) as caught:
        resolve_password(caldav(keyring=True))
    assert "keyring set followup-cal alice" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_warn_if_readable_by_others(tmp_path: Path) -> None:
    token = tmp_path / "google-token.json"
    token.write_text("{}")
    token.chmod(0o644)
    warning = warn_if_readable_by_others(token)
    if os.name != "posix":  # no mode bits to judge: never a false alarm
        assert warning is None
        return
    assert warning is not None
    assert str(token) in warning
    assert "0644" in warning
    assert f"chmod 600 {token}" in warning

    token.chmod(0o640)
    assert warn_if_readable_by_others(token) is not None
    token.chmod(0o600)
    assert warn_if_readable_by_others(token) is None
    assert warn_if_readable_by_others(tmp_path / "missing.json") is None
