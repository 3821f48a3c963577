"""`followup-cal init`: the pure helpers, then non-interactive (flags) and interactive (CliRunner input) runs
against a real Radicale, the Google stand-in and a vdir folder. Each written config must load, pass
`doctor` and let `sync` write the reminders."""

from __future__ import annotations

import json
import os
import stat
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest
from click.testing import CliRunner, Result

from followup_cal.commands.cli import cli
from followup_cal.commands.setup_answers import (
    check_holidays,
    check_timezone,
    check_working_hours,
    propose_holidays,
    provider_url,
    render_config,
    table_name,
    toml_value,
)
from followup_cal.config.load import load_settings
from followup_cal.errors import UsageError
from google_helpers import add_recruiter_call, client_secrets, write_token
from google_standin import AUTH_CODE, GoogleStandin
from memory_keyring import MemoryKeyring, keyring_replaced_by
from radicale_server import RadicaleServer, running_radicale

SECRET = "init-Passw0rd-for-grep"


def interview_ics(uid: str, days_ahead: int = 3) -> bytes:
    """An interview a few days from now (so that its reminders lie in the future)."""
    start = (datetime.now(UTC) + timedelta(days=days_ahead)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    stamp = "%Y%m%dT%H%M%SZ"
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//followup-cal tests//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n"
        f"DTSTART:{start:{stamp}}\r\nDTEND:{start + timedelta(hours=1):{stamp}}\r\n"
        "SUMMARY:Phone screen with Acme\r\nORGANIZER;CN=Jane Doe:mailto:jane@acme.example\r\n"
        "ATTENDEE;CN=Jane Doe;PARTSTAT=ACCEPTED:mailto:jane@acme.example\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


def put_interview(radicale: RadicaleServer, user: str, calendar: str, name: str) -> None:
    status = radicale.put_ics(
        f"/{user}/{calendar}/{name}.ics", interview_ics(f"{name}@example.com"), user=user
    )
    assert status == 201


@pytest.fixture(scope="module")
def radicale() -> Iterator[RadicaleServer]:
    with running_radicale(users={"alice": SECRET}) as server:
        server.make_calendar("alice", "work", "Work")
        server.make_calendar("alice", "followups", "Follow-ups")
        put_interview(server, "alice", "work", "init-screen")
        yield server


def invoke(config: Path, *args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    runner = CliRunner(env={"DAV_PW": SECRET, **(env or {})})
    return runner.invoke(cli, ["--config", str(config), *args], input=input, catch_exceptions=False)


def caldav_flags(radicale: RadicaleServer, *more: str) -> list[str]:
    return [
        "init",
        "--type",
        "caldav",
        "--url",
        radicale.root,
        "--username",
        "alice",
        "--password-env",
        "DAV_PW",
        "--calendar",
        "Work",
        "--timezone",
        "Europe/Berlin",
        *more,
    ]


# ---- pure helpers


def test_provider_presets_fill_the_url() -> None:
    assert provider_url("icloud", "a@icloud.com", None) == "https://caldav.icloud.com/"
    assert (
        provider_url("fastmail", "a@fastmail.com", None)
        == "https://caldav.fastmail.com/dav/calendars/user/a@fastmail.com/"
    )
    assert (
        provider_url("nextcloud", "alice", "cloud.example.com")
        == "https://cloud.example.com/remote.php/dav/calendars/alice/"
    )
    full = "https://c.example.com/remote.php/dav/calendars/alice/personal/"
    assert provider_url("nextcloud", "alice", full) == full
    assert provider_url("nextcloud", "alice", None) is None  # the server's address is still needed
    assert provider_url("other", "alice", None) is None
    assert provider_url("icloud", "a@icloud.com", "https://p01-caldav.icloud.com/") == (
        "https://p01-caldav.icloud.com/"
    )


def test_table_names_are_bare_keys_and_unique() -> None:
    assert table_name("Work") == "work"
    assert table_name("Job search (2026)!") == "job-search-2026"
    assert table_name("日本") == "calendar"
    assert table_name("Work", ["work", "work-2"]) == "work-3"


def test_toml_values_round_trip_through_tomllib() -> None:
    nasty = 'quote " backslash \\ tab \t newline \n del \x7f umlaut ü emoji 😀'
    text = f"a = {toml_value(nasty)}\nb = {toml_value(['x', 'y'])}\nc = {toml_value(True)}\n"
    assert tomllib.loads(text) == {"a": nasty, "b": ["x", "y"], "c": True}


def test_rendered_config_loads(tmp_path: Path) -> None:
    text = render_config(
        "Europe/Berlin",
        ["alice@example.com"],
        "08:30-17:00",
        {"work": {"type": "vdir", "path": str(tmp_path), "reminders_to": None}},
    )
    path = tmp_path / "config.toml"
    path.write_text(text)
    settings = load_settings(path)
    assert settings.timezone.key == "Europe/Berlin" and settings.me == ("alice@example.com",)
    assert settings.rules.work_start.hour == 8 and settings.calendars["work"].type == "vdir"


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("Europe/Berlin", "DE"),
        ("America/Los_Angeles", "US"),
        ("Europe/Warsaw", "PL"),
        ("UTC", None),
        (None, None),
    ],
)
def test_init_proposes_the_holidays_of_the_zones_country(zone: str | None, expected: str | None) -> None:
    assert propose_holidays(zone) == expected


def test_holidays_answer_is_checked() -> None:
    assert check_holidays(" us-ca ") == "US-CA" and check_holidays("none") is None
    with pytest.raises(UsageError, match="a country the holidays package knows"):
        check_holidays("XX")


def test_time_zone_and_working_hours_are_checked() -> None:
    assert check_timezone(" Europe/Berlin ") == "Europe/Berlin"
    with pytest.raises(UsageError, match="did you mean Europe/Berlin"):
        check_timezone("Europe/Berln")
    assert check_working_hours("08:00-16:30") == "08:00-16:30"
    with pytest.raises(UsageError, match=r"e\.g\. 09:00-18:00"):
        check_working_hours("18:00-09:00")


# ---- CalDAV, non-interactive


def test_caldav_with_flags_writes_a_config_that_doctor_and_sync_accept(
    radicale: RadicaleServer, tmp_path: Path
) -> None:
    config = tmp_path / "sub" / "config.toml"
    result = invoke(
        config, *caldav_flags(radicale, "--reminders-to", "followups", "--me", "alice@example.com")
    )
    assert result.exit_code == 0, result.output
    assert "Found 2 calendar(s)" in result.stdout and f"Wrote {config}" in result.stdout
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert SECRET not in config.read_text()
    settings = load_settings(config)
    work, followups = settings.calendars["work"], settings.calendars["follow-ups"]
    assert work.options["url"] == radicale.url("/alice/work/")
    assert work.options["password_env"] == "DAV_PW" and work.reminders_to == "follow-ups"
    assert followups.options["url"] == radicale.url("/alice/followups/")
    assert settings.me == ("alice@example.com",) and settings.timezone.key == "Europe/Berlin"
    assert [p.name for p in config.parent.iterdir()] == ["config.toml"]  # no temporary file left

    doctor = invoke(config, "doctor")
    assert doctor.exit_code == 0, doctor.output
    assert "All checks passed." in doctor.stdout and "FAIL" not in doctor.stdout
    assert "thank-you" in doctor.stdout and "Phone screen with Acme" in doctor.stdout

    sync = invoke(config, "sync")
    assert sync.exit_code == 0, sync.output
    assert sync.stdout.count("follow-ups: wrote") == 2


def test_an_existing_config_is_not_overwritten_without_force(
    radicale: RadicaleServer, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("# mine\n")
    result = invoke(config, *caldav_flags(radicale))
    assert result.exit_code == 2
    assert "already exists" in result.stderr and "--force" in result.stderr
    assert config.read_text() == "# mine\n"
    result = invoke(config, *caldav_flags(radicale, "--force"))
    assert result.exit_code == 0, result.output
    assert load_settings(config).calendars["work"].type == "caldav"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600


def test_several_calendars_and_no_choice_names_the_flag(radicale: RadicaleServer, tmp_path: Path) -> None:
    flags = caldav_flags(radicale)
    flags.remove("--calendar")
    flags.remove("Work")
    result = invoke(tmp_path / "config.toml", *flags)
    assert result.exit_code == 2
    assert "--calendar" in result.stderr and "Work" in result.stderr and "Follow-ups" in result.stderr
    assert "pass --calendar to say which one holds your interviews" in result.stderr
    assert not (tmp_path / "config.toml").exists()


def test_wrong_password_writes_nothing(radicale: RadicaleServer, tmp_path: Path) -> None:
    result = invoke(tmp_path / "config.toml", *caldav_flags(radicale), env={"DAV_PW": "wrong"})
    assert result.exit_code == 1
    assert "authentication failed" in result.stderr and "nothing was written" in result.stderr
    assert not (tmp_path / "config.toml").exists()


def test_unset_password_variable_says_how_to_set_it(radicale: RadicaleServer, tmp_path: Path) -> None:
    flags = caldav_flags(radicale)
    flags[flags.index("DAV_PW")] = "NOT_SET_ANYWHERE"
    result = invoke(tmp_path / "config.toml", *flags)
    assert result.exit_code == 2
    assert "NOT_SET_ANYWHERE is not set" in result.stderr and "export NOT_SET_ANYWHERE" in result.stderr


def test_unknown_time_zone_is_refused_with_a_suggestion(radicale: RadicaleServer, tmp_path: Path) -> None:
    flags = caldav_flags(radicale)
    flags[flags.index("Europe/Berlin")] = "Europe/Berln"
    result = invoke(tmp_path / "config.toml", *flags)
    assert result.exit_code == 2 and "did you mean Europe/Berlin" in result.stderr
    assert not (tmp_path / "config.toml").exists()


def test_unreachable_server_says_so(tmp_path: Path) -> None:
    from radicale_server import free_port

    flags = ["init", "--type", "caldav", "--url", f"http://127.0.0.1:{free_port()}/", "--username", "a"]
    result = invoke(tmp_path / "config.toml", *flags, "--password-env", "DAV_PW")
    assert result.exit_code == 1 and "unreachable" in result.stderr and "check the url" in result.stderr


# ---- keyring


def test_keyring_stores_the_password_not_the_file(
    radicale: RadicaleServer, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    config = tmp_path / "config.toml"
    flags = caldav_flags(radicale)
    flags[flags.index("--password-env") : flags.index("--password-env") + 2] = [
        "--keyring",
        "--password-stdin",
    ]
    result = invoke(config, *flags, input=SECRET + "\n", env={"DAV_PW": ""})
    assert result.exit_code == 0, result.output
    assert memory_keyring.store == {("followup-cal", "alice"): SECRET}
    assert SECRET not in config.read_text() and SECRET not in result.output
    work = load_settings(config).calendars["work"]
    assert work.options.get("keyring") is True and "password_env" not in work.options
    doctor = invoke(config, "doctor", env={"DAV_PW": ""})
    assert doctor.exit_code == 0, doctor.output
    assert "ok    keyring: holds the password of 'alice'" in doctor.stdout


def test_no_usable_keyring_suggests_password_env(radicale: RadicaleServer, tmp_path: Path) -> None:
    flags = caldav_flags(radicale)
    flags[flags.index("--password-env") : flags.index("--password-env") + 2] = [
        "--keyring",
        "--password-stdin",
    ]
    with keyring_replaced_by(keyring.backends.fail.Keyring()):
        result = invoke(tmp_path / "config.toml", *flags, input=SECRET + "\n")
    assert result.exit_code == 2
    assert "no system keyring" in result.stderr and "--password-env" in result.stderr
    assert not (tmp_path / "config.toml").exists()


# ---- interactive


def test_interactive_caldav_asks_and_writes(radicale: RadicaleServer, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    answers = [
        "1",  # CalDAV
        "4",  # another CalDAV server
        "alice",
        radicale.root,
        "2",  # the password is in an environment variable
        "DAV_PW",
        "2",  # interviews: the second calendar listed (Work)
        "1",  # reminders: Follow-ups
        "Europe/Berln",  # a typo: asked again
        "Europe/Berlin",
        "",  # working hours: the default
        "alice@example.com",
        "",  # public holidays: the one proposed for Europe/Berlin
    ]
    result = invoke(config, "init", input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    assert "Which calendar holds your interviews?" in result.stdout
    assert "did you mean Europe/Berlin" in result.output
    settings = load_settings(config)
    assert settings.calendars["work"].reminders_to == "follow-ups"
    assert settings.rules.work_start.hour == 9 and settings.me == ("alice@example.com",)
    assert settings.rules.holidays == "DE"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600


def test_interactive_asks_before_overwriting(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("# mine\n")
    result = invoke(config, "init", input="n\n")
    assert result.exit_code == 0 and "Overwrite it?" in result.stdout
    assert "nothing was written" in result.stdout and config.read_text() == "# mine\n"
    folder = tmp_path / "laptop"
    folder.mkdir()
    answers = ["y", "4", str(folder), "Europe/Berlin", "", "", "none"]
    result = invoke(config, "init", input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    assert load_settings(config).calendars["laptop"].options["path"] == folder
    assert load_settings(config).rules.holidays is None


# ---- vdir and Google


def test_vdir_with_flags_then_sync(tmp_path: Path) -> None:
    folder = tmp_path / "personal"
    folder.mkdir()
    (folder / "screen.ics").write_bytes(interview_ics("vdir-screen@example.com"))
    config = tmp_path / "config.toml"
    result = invoke(config, "init", "--type", "vdir", "--path", str(folder), "--timezone", "Europe/Berlin")
    assert result.exit_code == 0, result.output
    assert load_settings(config).calendars["personal"].options["path"] == folder
    assert invoke(config, "doctor").exit_code == 0
    sync = invoke(config, "sync")
    assert sync.exit_code == 0 and sync.stdout.count("personal: wrote") == 2


def test_vdir_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    result = invoke(tmp_path / "config.toml", "init", "--type", "vdir", "--path", str(tmp_path / "nope"))
    assert result.exit_code == 1 and "no folder at" in result.stderr


def test_google_with_a_saved_token_and_a_second_calendar(tmp_path: Path, standin: GoogleStandin) -> None:
    token = tmp_path / "google-token.json"
    write_token(token, standin, expired=True)
    standin.add_calendar("jobs@group.calendar.google.com")
    add_recruiter_call(standin, datetime.now(UTC) + timedelta(days=3))
    config = tmp_path / "config.toml"
    flags = ["init", "--type", "google", "--token-file", str(token), "--api-endpoint", standin.api_endpoint]
    result = invoke(config, *flags, "--reminders-to", "jobs@group.calendar.google.com", "--timezone", "UTC")
    assert result.exit_code == 0, result.output
    settings = load_settings(config)
    assert settings.calendars["google"].options["calendar_id"] == "primary"
    jobs = settings.calendars[settings.calendars["google"].reminders_to or ""]
    assert jobs.options["calendar_id"] == "jobs@group.calendar.google.com"
    doctor = invoke(config, "doctor")
    assert doctor.exit_code == 0, doctor.output
    sync = invoke(config, "sync")
    assert sync.exit_code == 0, sync.output
    assert len(standin.events("jobs@group.calendar.google.com")) == 2


def test_google_oauth_flow_without_browser(tmp_path: Path, standin: GoogleStandin) -> None:
    secrets = client_secrets(tmp_path, standin)
    token = tmp_path / "token.json"
    config = tmp_path / "config.toml"
    flags = ["init", "--type", "google", "--client-secrets", str(secrets), "--no-browser"]
    flags += ["--token-file", str(token), "--api-endpoint", standin.api_endpoint, "--timezone", "UTC"]
    result = invoke(config, *flags, input=AUTH_CODE + "\n", env={"OAUTHLIB_INSECURE_TRANSPORT": "1"})
    assert result.exit_code == 0, result.output
    assert "Open this URL" in result.stdout
    assert json.loads(token.read_text())["refresh_token"].startswith("standin-refresh-")
    assert stat.S_IMODE(token.stat().st_mode) == 0o600
    assert load_settings(config).calendars["google"].options["token_file"] == token


def test_google_without_token_or_client_file_says_what_to_pass(tmp_path: Path) -> None:
    flags = ["init", "--type", "google", "--token-file", str(tmp_path / "none.json")]
    result = invoke(tmp_path / "config.toml", *flags)
    assert result.exit_code == 2
    assert "--client-secrets" in result.stderr and "Google Cloud Console" in result.stderr


def test_help_has_an_example() -> None:
    result = CliRunner().invoke(cli, ["init", "--help"])
    assert "Examples:" in result.stdout and "--password-env DAV_PASSWORD" in result.stdout
    assert os.environ.get("DAV_PW") is None  # the tests never leak the password into the environment
