"""Overlapping runs: a second run of the same config does nothing while the first holds the lock."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from followup_cal.commands.cli import cli
from followup_cal.errors import LockedError
from followup_cal.run.lock import lock_file, run_lock

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

HOLD_LOCK = """
import sys, time
from pathlib import Path
from followup_cal.run.lock import run_lock
with run_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    time.sleep(120)
"""


@pytest.fixture(autouse=True)
def private_lock_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Lock files go under tmp_path, for this process and the subprocesses it starts."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@contextmanager
def lock_held_elsewhere(config: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the lock for ``config``; SIGKILLed on exit, as cron overlap or a crash."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(config)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        yield holder
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)


def test_lock_file_lives_in_the_cache_dir(tmp_path: Path) -> None:
    path = lock_file(tmp_path / "config.toml")
    assert path.parent == tmp_path / "cache" / "followup-cal"
    assert lock_file(tmp_path / "other.toml") != path


def test_a_second_run_is_refused_and_the_lock_frees_when_the_holder_dies(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("")
    with lock_held_elsewhere(config) as holder:
        with pytest.raises(LockedError) as refused, run_lock(config):
            pytest.fail("the lock was taken twice")
        assert refused.value.exit_code == 0
        assert str(refused.value) == (
            f"another followup-cal sync is running for {config}; this run does nothing"
        )
        with run_lock(tmp_path / "another-config.toml"):
            pass  # a different config is not blocked
    assert holder.returncode == -signal.SIGKILL
    with run_lock(config):
        pass  # the kernel dropped the dead process's lock


def test_the_same_config_by_another_path_is_the_same_lock(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("")
    (tmp_path / "sub").mkdir()
    with (
        lock_held_elsewhere(config),
        pytest.raises(LockedError),
        run_lock(tmp_path / "sub" / ".." / "config.toml"),
    ):
        pytest.fail("the lock was taken twice")


def test_cli_sync_with_the_lock_held_says_so_and_writes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "vdir"
    folder.mkdir()
    shutil.copy(FIXTURES / "future_phone_screen.ics", folder / "screen.ics")
    config = tmp_path / "config.toml"
    config.write_text(
        'timezone = "Europe/Berlin"\nme = ["me@example.com"]\n[rules]\nwindow_future_days = 3650\n'
        f'[calendars.laptop]\ntype = "vdir"\npath = "{folder}"\n'
    )
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    with lock_held_elsewhere(config):
        for command in (["sync"], ["clean"]):
            result = CliRunner().invoke(cli, ["--config", str(config), *command], catch_exceptions=False)
            assert result.exit_code == 0
            assert result.stdout == ""
            assert result.stderr == (
                f"followup-cal: another followup-cal sync is running for {config}; this run does nothing\n"
            )
            assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    result = CliRunner().invoke(cli, ["--config", str(config), "sync"], catch_exceptions=False)
    assert result.exit_code == 0 and "wrote thank-you" in result.stdout
