"""The mass-removal guard: a run that would remove most reminders at once stops unless --force."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from followup_cal.commands.cli import cli
from followup_cal.core.model import Event
from followup_cal.core.reconcile import Action, Delete
from followup_cal.errors import BackendError, MassRemovalRefused
from followup_cal.run.guard import check_removals

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture(autouse=True)
def private_lock_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def removals(count: int, why: str = "interview deleted") -> list[Action]:
    start = datetime(2030, 6, 4, 8, tzinfo=UTC)
    return [Delete(Event("cal", f"r{i}.ics", None, f"r{i}", start), why) for i in range(count)]


def test_refuses_12_removals_of_20_owned() -> None:
    with pytest.raises(MassRemovalRefused) as refused:
        check_removals(removals(12), reminders_owned=20, force=False)
    message = str(refused.value)
    assert "remove 12 of the 20 reminders" in message
    assert "sync --dry-run" in message and "--force" in message
    assert isinstance(refused.value, BackendError) and refused.value.exit_code == 1


@pytest.mark.parametrize(("count", "owned"), [(12, 30), (10, 10), (11, 22), (0, 0)])
def test_allows_a_few_or_a_minority(count: int, owned: int) -> None:
    check_removals(removals(count), reminders_owned=owned, force=False)


def test_force_overrides() -> None:
    check_removals(removals(20), reminders_owned=20, force=True)


def test_clean_removals_are_not_counted() -> None:
    check_removals(removals(20, why="clean"), reminders_owned=20, force=False)
    with pytest.raises(MassRemovalRefused):
        check_removals(removals(20, "clean") + removals(11), reminders_owned=21, force=False)


def interview(day: int) -> str:
    """The fixture's phone screen on another day of June 2030, under its own UID."""
    text = (FIXTURES / "future_phone_screen.ics").read_text()
    return text.replace("future-phone-screen@", f"screen-{day}@").replace("20300604T", f"203006{day:02d}T")


def test_sync_refuses_to_remove_the_reminders_of_vanished_interviews_until_forced(tmp_path: Path) -> None:
    folder = tmp_path / "vdir"
    folder.mkdir()
    interviews = [folder / f"screen-{day}.ics" for day in range(3, 15)]
    for day, path in enumerate(interviews, start=3):
        path.write_text(interview(day))
    config = tmp_path / "config.toml"
    config.write_text(
        'timezone = "Europe/Berlin"\nme = ["me@example.com"]\n[rules]\nwindow_future_days = 3650\n'
        f'[calendars.laptop]\ntype = "vdir"\npath = "{folder}"\n'
    )

    def sync(*args: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(cli, ["--config", str(config), "sync", *args], catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    code, stdout, _ = sync()
    assert code == 0 and stdout.count("wrote thank-you") == 12
    reminders = {p.name: p.read_bytes() for p in folder.iterdir() if p not in interviews}
    assert len(reminders) >= 12
    for path in interviews:
        path.unlink()  # as a server answering with an empty calendar would look

    code, stdout, stderr = sync()
    assert code == 1 and stdout == ""
    assert f"would remove {len(reminders)} of the {len(reminders)} reminders" in stderr
    assert stderr.startswith("followup-cal: calendar 'laptop' was not synced:")
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == reminders

    code, stdout, _ = sync("--dry-run")
    assert code == 0 and stdout.count("would remove") == len(reminders)

    code, stdout, _ = sync("--force")
    assert code == 0 and stdout.count("removed") == len(reminders)
    assert list(folder.iterdir()) == []
