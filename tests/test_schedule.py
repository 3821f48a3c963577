"""`followup-cal schedule`: each format runs this program with this config, quoted for its scheduler."""

from __future__ import annotations

import os
import plistlib
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from followup_cal.commands.cli import cli
from followup_cal.commands.schedule import (
    render_cron,
    render_launchd,
    render_systemd,
    sync_command,
    this_program,
)
from followup_cal.errors import UsageError

PROGRAM = ["/opt/my tools/bin/followup-cal"]
CONFIG = Path("/home/ann/My Config/it's 100%.toml")
VENV_BIN = Path(sys.executable).parent


def executable(path: Path) -> Path:
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_this_program_prefers_the_running_script(tmp_path: Path) -> None:
    script = executable(tmp_path / "followup-cal")
    assert this_program(str(script), which=lambda name: None) == [str(script)]
    assert this_program("followup-cal", which=lambda name: str(script)) == [str(script)]


def test_this_program_falls_back_to_path_then_python(tmp_path: Path) -> None:
    on_path = executable(tmp_path / "followup-cal")
    main_py = str(tmp_path / "__main__.py")
    assert this_program(main_py, which=lambda name: str(on_path)) == [str(on_path)]
    assert this_program(main_py, which=lambda name: None, python="/usr/bin/python3") == [
        "/usr/bin/python3",
        "-m",
        "followup_cal",
    ]


def test_cron_line_runs_the_program_with_its_config() -> None:
    text = render_cron(PROGRAM, CONFIG, 15)
    line = text.splitlines()[-1]
    assert line.startswith("*/15 * * * * ")
    command = line.removeprefix("*/15 * * * * ")
    assert "%" not in command.replace("\\%", "")  # cron would cut the line at a bare %
    assert shlex.split(command.replace("\\%", "%")) == sync_command(PROGRAM, CONFIG)
    assert "'/opt/my tools/bin/followup-cal'" in command


def test_cron_install_command_appends_exactly_the_line() -> None:
    text = render_cron(PROGRAM, CONFIG, 15)
    line = text.splitlines()[-1]
    install = next(row for row in text.splitlines() if "crontab -" in row).removeprefix("#").strip()
    assert install.startswith("(crontab -l 2>/dev/null; echo ") and install.endswith(") | crontab -")
    echo = install.removeprefix("(crontab -l 2>/dev/null; ").removesuffix(") | crontab -")
    printed = subprocess.run(["sh", "-c", echo], capture_output=True, text=True, check=True).stdout
    assert printed == line + "\n"


@pytest.mark.parametrize(
    ("every", "fields"), [(5, "*/5 *"), (60, "0 */1"), (120, "0 */2"), (720, "0 */12"), (1440, "0 0")]
)
def test_cron_fields_for_each_interval(every: int, fields: str) -> None:
    assert render_cron(PROGRAM, CONFIG, every).splitlines()[-1].startswith(f"{fields} * * * ")


def test_cron_refuses_an_interval_it_cannot_express() -> None:
    with pytest.raises(UsageError, match="--systemd"):
        render_cron(PROGRAM, CONFIG, 90)


def test_systemd_units_have_their_sections_and_a_readable_exec_start() -> None:
    text = render_systemd(PROGRAM, CONFIG, 15)
    service, timer = text.split("\n\n# ~/.config/systemd/user/followup-cal.timer\n")
    assert service.startswith("# ~/.config/systemd/user/followup-cal.service\n[Unit]\n")
    assert "\n[Service]\nType=oneshot\n" in service
    for section in ("[Unit]", "[Timer]", "[Install]", "WantedBy=timers.target"):
        assert section in timer
    assert "OnCalendar=*-*-* *:0/15:00" in timer and "Persistent=true" in timer
    exec_start = next(row for row in service.splitlines() if row.startswith("ExecStart="))
    value = exec_start.removeprefix("ExecStart=")
    assert "%%" in value  # a single % would be a systemd specifier
    assert shlex.split(value.replace("%%", "%").replace("$$", "$")) == sync_command(PROGRAM, CONFIG)
    assert "systemctl --user daemon-reload && systemctl --user enable --now followup-cal.timer" in text


@pytest.mark.parametrize(
    ("every", "timing"),
    [(1440, "OnCalendar=*-*-* 00:00:00"), (180, "OnCalendar=*-*-* 0/3:00:00"), (90, "OnUnitActiveSec=90min")],
)
def test_systemd_timer_for_each_interval(every: int, timing: str) -> None:
    assert timing in render_systemd(PROGRAM, CONFIG, every).splitlines()


def test_launchd_plist_parses_and_keeps_odd_paths_intact() -> None:
    odd_config = Path("/Users/ann/a & <b> -- c/config.toml")
    text = render_launchd(PROGRAM, odd_config, 20, Path("/Users/ann"))
    assert "&amp;" in text and "&lt;b&gt;" in text
    agent = plistlib.loads(text.encode())
    assert agent["Label"] == "com.followup-cal.sync"
    assert agent["ProgramArguments"] == [*PROGRAM, "--config", str(odd_config), "-q", "sync"]
    assert agent["StartInterval"] == 1200
    assert agent["StandardOutPath"] == "/Users/ann/Library/Logs/followup-cal.log"
    assert agent["StandardErrorPath"] == "/Users/ann/Library/Logs/followup-cal.err.log"
    assert "launchctl load -w ~/Library/LaunchAgents/com.followup-cal.sync.plist" in text


@pytest.mark.parametrize("every", ["0", "1441", "soon"])
def test_every_out_of_range_is_a_usage_error(every: str) -> None:
    result = CliRunner().invoke(cli, ["schedule", "--every", every])
    assert result.exit_code == 2
    assert "--every" in result.stderr


def test_cron_is_the_default_and_uses_the_given_config(tmp_path: Path) -> None:
    config = tmp_path / "with space" / "config.toml"
    config.parent.mkdir()
    config.write_text("")
    result = CliRunner().invoke(cli, ["--config", str(config), "schedule"])
    assert result.exit_code == 0, result.output
    line = result.stdout.splitlines()[-1]
    assert line.startswith("*/15 * * * * ")
    assert shlex.quote(str(config)) in line and result.stderr == ""


def test_missing_config_is_noted_and_made_absolute() -> None:
    result = CliRunner().invoke(cli, ["--config", "relative.toml", "schedule", "--launchd"])
    assert result.exit_code == 0
    arguments = plistlib.loads(result.stdout.encode())["ProgramArguments"]
    assert arguments[arguments.index("--config") + 1] == str(Path("relative.toml").absolute())
    assert "no config at" in result.stderr


def test_installed_script_names_itself(tmp_path: Path) -> None:
    script = VENV_BIN / "followup-cal"
    config = tmp_path / "config.toml"
    env = {**os.environ, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [str(script), "--config", str(config), "schedule", "--systemd", "--every", "30"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert f"ExecStart={script} --config {config} -q sync" in done.stdout.splitlines()


def test_python_dash_m_runs_the_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "followup_cal", "schedule", "--every", "90"], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "cron cannot run a job every 90 minutes" in done.stderr


@pytest.mark.parametrize(
    ("kind", "how"),
    [("--cron", "crontab -e"), ("--systemd", "Environment=DAV_PW="), ("--launchd", "EnvironmentVariables")],
)
def test_a_password_from_the_shell_is_noted_for_the_scheduler(tmp_path: Path, kind: str, how: str) -> None:
    """A scheduled run does not inherit the shell's variables: the first one would fail unnoticed."""
    config = tmp_path / "config.toml"
    config.write_text(
        '[calendars.work]\ntype = "caldav"\nurl = "https://dav.example.com/cal/"\n'
        'username = "ann"\npassword_env = "DAV_PW"\n'
        '[calendars.home]\ntype = "caldav"\nurl = "https://dav.example.com/home/"\nusername = "ann"\n'
        "keyring = true\n"
    )
    result = CliRunner().invoke(cli, ["--config", str(config), "schedule", kind])
    assert result.exit_code == 0, result.output
    assert "calendar 'work' reads its password from $DAV_PW" in result.stderr and how in result.stderr
    assert "calendar 'home' reads its password from the keyring" in result.stderr
    assert "DAV_PW" not in result.stdout  # what is to be installed stays as it was
