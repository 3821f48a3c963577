"""The command line as a user meets it: exit codes, output, config errors, the demo, the corpus."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import icalendar
import pytest
from click.testing import CliRunner

from followup_cal.commands.cli import cli

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def write_config(tmp_path: Path, calendars: str, extra: str = "[rules]\nwindow_future_days = 3650\n") -> Path:
    """A config; the fixtures' interviews lie in 2030, so the window reaches that far by default."""
    config = tmp_path / "config.toml"
    config.write_text(f'timezone = "Europe/Berlin"\nme = ["me@example.com"]\n{extra}\n{calendars}')
    return config


def vdir_with_screen(tmp_path: Path, name: str = "vdir") -> Path:
    """A vdir folder holding one future phone screen."""
    folder = tmp_path / name
    folder.mkdir()
    shutil.copy(FIXTURES / "future_phone_screen.ics", folder / "screen.ics")
    return folder


def test_demo_runs_the_whole_job(tmp_path: Path) -> None:
    out = tmp_path / "demo.ics"
    code, stdout, _ = invoke("demo", "--out", str(out))
    assert code == 0
    assert stdout.count("wrote thank-you") == 5
    assert "Second sync: 0 changes" in stdout
    calendar = icalendar.Calendar.from_ical(out.read_bytes())
    kinds = [str(e["X-FOLLOWUP-CAL-KIND"]) for e in calendar.walk("VEVENT") if "X-FOLLOWUP-CAL-KIND" in e]
    assert sorted(set(kinds)) == ["check-in", "thank-you"]
    globex = next(e for e in calendar.walk("VEVENT") if str(e.get("SUMMARY")).startswith("Thank Raj & Mei"))
    assert str(globex["URL"]).startswith("mailto:raj.patel@globex.example?subject=Thank%20you")
    mock = next(e for e in calendar.walk("VEVENT") if "Mock" in str(e.get("SUMMARY")))
    assert "Interview" not in str(mock.get("CATEGORIES", ""))


def test_sync_is_quiet_the_second_time(tmp_path: Path) -> None:
    folder = vdir_with_screen(tmp_path)
    config = write_config(tmp_path, f'[calendars.laptop]\ntype = "vdir"\npath = "{folder}"\n')
    code, stdout, _ = invoke("--config", str(config), "sync")
    assert code == 0 and "wrote thank-you" in stdout
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    code, stdout, stderr = invoke("--config", str(config), "sync")
    assert (code, stdout, stderr) == (0, "", "")
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    code, stdout, _ = invoke("--config", str(config), "status", "--json")
    assert code == 0 and '"schema": 1' in stdout


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    folder = vdir_with_screen(tmp_path)
    config = write_config(tmp_path, f'[calendars.laptop]\ntype = "vdir"\npath = "{folder}"\n')
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    code, stdout, _ = invoke("--config", str(config), "sync", "--dry-run")
    assert code == 0 and "would write thank-you" in stdout
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('[rules]\nworking_hours = "9-18"\n', "rules.working_hours"),
        ('[calendars.x]\ntype = "carddav"\n', "calendars.x.type"),
        ("timezone = 3\n", "timezone"),
    ],
)
def test_config_errors_exit_2_and_name_the_key(tmp_path: Path, body: str, expected: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(body)
    code, _, stderr = invoke("--config", str(config), "sync")
    assert code == 2
    assert expected in stderr and "config.toml" in stderr
    assert "Traceback" not in stderr


def test_missing_config_says_where_it_looked(tmp_path: Path) -> None:
    code, _, stderr = invoke("--config", str(tmp_path / "nope.toml"), "sync")
    assert code == 2 and "nope.toml" in stderr


def test_no_calendars_is_a_usage_error(tmp_path: Path) -> None:
    config = write_config(tmp_path, "")
    code, _, stderr = invoke("--config", str(config), "sync")
    assert code == 2 and "[calendars." in stderr


def test_unknown_calendar_name(tmp_path: Path) -> None:
    folder = tmp_path / "vdir"
    folder.mkdir()
    config = write_config(tmp_path, f'[calendars.laptop]\ntype = "vdir"\npath = "{folder}"\n')
    code, _, stderr = invoke("--config", str(config), "sync", "--calendar", "work")
    assert code == 2 and "'work'" in stderr and "laptop" in stderr


def test_missing_calendar_folder_fails_that_calendar_only(tmp_path: Path) -> None:
    good = vdir_with_screen(tmp_path, "good")
    config = write_config(
        tmp_path,
        f'[calendars.good]\ntype = "vdir"\npath = "{good}"\n'
        f'[calendars.gone]\ntype = "vdir"\npath = "{tmp_path / "missing"}"\n',
    )
    code, stdout, stderr = invoke("--config", str(config), "sync")
    assert code == 1
    assert "wrote thank-you" in stdout
    assert "'gone'" in stderr and "Traceback" not in stderr


def test_corpus_sync_never_crashes_and_leaves_non_interviews_alone(tmp_path: Path, ics_corpus: Path) -> None:
    folder = tmp_path / "vdir"
    folder.mkdir()
    files = sorted(ics_corpus.rglob("*.ics"))
    assert len(files) > 150
    for index, path in enumerate(files):
        shutil.copy(path, folder / f"{index:03d}-{path.name}")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    config = write_config(
        tmp_path,
        f'[calendars.corpus]\ntype = "vdir"\npath = "{folder}"\n',
        "[rules]\nwindow_past_days = 3650\nwindow_future_days = 3650\n",
    )
    code, stdout, stderr = invoke("--config", str(config), "sync")
    assert code in (0, 1)
    assert "Traceback" not in stdout + stderr
    skipped = [line for line in stderr.splitlines() if "skipped" in line]
    assert skipped, "the corpus holds broken files: each must be reported by name"
    assert all(".ics" in line for line in skipped)
    after = {p.name: p.read_bytes() for p in folder.iterdir() if p.name in before}
    changed = {name for name in before if after[name] != before[name]}
    for name in changed:
        assert b"Interview" in after[name] and b"X-FOLLOWUP-CAL-ISSUED" in after[name], name


def test_help_loads_no_backend_library() -> None:
    code = (
        "import sys\n"
        "from followup_cal.commands.cli import main\n"
        "sys.argv = ['followup-cal', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "libraries = ('googleapiclient', 'caldav', 'icalendar', 'radicale', 'rich')\n"
        "heavy = [m for m in libraries if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in output


def test_calendar_option_opens_only_that_calendar(tmp_path: Path) -> None:
    good = vdir_with_screen(tmp_path, "good")
    config = write_config(
        tmp_path,
        f'[calendars.good]\ntype = "vdir"\npath = "{good}"\n'
        f'[calendars.gmail]\ntype = "google"\ntoken_file = "{tmp_path / "no-token.json"}"\n',
    )
    code, stdout, stderr = invoke("--config", str(config), "sync", "--calendar", "good")
    assert (code, stderr) == (0, "")
    assert "wrote thank-you" in stdout
    code, _, stderr = invoke("--config", str(config), "sync")
    assert code == 1 and "'gmail'" in stderr and "auth google" in stderr
