"""The language data is read only when events are detected: never by --help or a sync that finds
nothing changed (issue 11)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

PROBE = (
    "import sys\n"
    "from followup_cal.commands.cli import main\n"
    "sys.argv = ['followup-cal', *sys.argv[1:]]\n"
    "try:\n    main()\nexcept SystemExit:\n    pass\n"
    "vocabulary = sys.modules.get('followup_cal.core.vocabulary')\n"
    "loaded = vocabulary is not None and vocabulary.vocabulary.cache_info().currsize > 0\n"
    "print('LANGUAGE-DATA', loaded, file=sys.stderr)\n"
)


def run(*args: str) -> str:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True)
    return done.stderr


def test_language_data_is_read_by_a_sync_that_detects_and_not_by_a_no_op_sync(tmp_path: Path) -> None:
    folder = tmp_path / "vdir"
    folder.mkdir()
    shutil.copy(FIXTURES / "future_phone_screen.ics", folder / "screen.ics")
    config = tmp_path / "config.toml"
    config.write_text(
        'timezone = "Europe/Berlin"\nme = ["me@example.com"]\n[rules]\nwindow_future_days = 3650\n'
        f'[calendars.vdir]\ntype = "vdir"\npath = "{folder}"\n'
    )
    assert "LANGUAGE-DATA False" in run("--help")
    assert "LANGUAGE-DATA True" in run("--config", str(config), "sync")  # writes the reminders
    run("--config", str(config), "sync")  # reads them back: the calendar is settled
    assert "LANGUAGE-DATA False" in run("--config", str(config), "sync")  # nothing changed since
