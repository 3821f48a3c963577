"""status as a view of the search: the reminder states, the table (plain in pipes, rich on a terminal),
the JSON and its schema, the agenda; the progress bar; --help, --version and shell completion."""

from __future__ import annotations

import fcntl
import io
import json
import os
import pty
import struct
import subprocess
import sys
import termios
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click
import jsonschema
import pytest
from click.testing import CliRunner

from followup_cal.commands.cli import cli
from followup_cal.commands.status import (
    SCHEMA_RESOURCE,
    InterviewStatus,
    ReminderState,
    State,
    interview_statuses,
    reminder_state,
    render_agenda,
    render_json,
    render_text,
    schema_text,
    withdrawn_state,
)
from followup_cal.core.model import Event, Kind, Person, ReminderMark, fingerprint
from followup_cal.core.settings import Settings
from followup_cal.run.progress import ProgressBar

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PROGRAM = str(Path(sys.executable).with_name("followup-cal"))
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
READ_FROM = NOW - timedelta(days=30)
SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "src/followup_cal" / SCHEMA_RESOURCE).read_text())


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


def reminder(kind: Kind, start: datetime, *, edited: bool = False) -> Event:
    end = start + timedelta(minutes=30)
    mark = ReminderMark(kind, "iv-1", fingerprint(start, end, "Thank Jane — Acme interview", "notes"))
    return Event(
        calendar="cal",
        href="r.ics",
        etag="r1",
        uid="r1",
        start=start,
        end=end,
        summary="My own words" if edited else "Thank Jane — Acme interview",
        description="notes",
        reminder=mark,
    )


def state_of(kind: Kind = Kind.CHECK_IN, **kwargs: object) -> ReminderState:
    values: dict[str, object] = {
        "planned": at("2026-12-07 09:00"),
        "suppressed": None,
        "issued": frozenset(),
        "existing": None,
        "now": NOW,
        "read_from": READ_FROM,
    }
    values.update(kwargs)
    return reminder_state(kind, **values)  # type: ignore[arg-type]


# The states, one by one (pure).


def test_planned_when_not_yet_written() -> None:
    assert state_of().state is State.PLANNED


def test_written_when_in_the_calendar_ahead() -> None:
    state = state_of(existing=reminder(Kind.CHECK_IN, at("2026-12-07 09:00")))
    assert (state.state, state.note) == (State.WRITTEN, "in your calendar")


def test_written_that_will_move_says_so() -> None:
    state = state_of(existing=reminder(Kind.CHECK_IN, at("2026-12-07 09:00")), planned=at("2026-12-09 09:00"))
    assert state.state is State.WRITTEN and "moves to Wed 09 Dec 2026 09:00" in state.note


def test_done_when_its_time_has_passed() -> None:
    state = state_of(Kind.THANK_YOU, existing=reminder(Kind.THANK_YOU, at("2026-11-29 13:00")))
    assert state.state is State.DONE


def test_edited_by_you_wins_over_everything() -> None:
    existing = reminder(Kind.CHECK_IN, at("2026-11-20 09:00"), edited=True)
    state = state_of(existing=existing, planned=None, suppressed="ended by #offer")
    assert (state.state, state.label) == (State.EDITED, "edited by you")


def test_dismissed_when_issued_and_gone() -> None:
    state = state_of(issued=frozenset({Kind.CHECK_IN}))
    assert state.state is State.DISMISSED


def test_issued_before_the_window_read_is_done_not_dismissed() -> None:
    state = state_of(Kind.THANK_YOU, issued=frozenset({Kind.THANK_YOU}), planned=NOW - timedelta(days=40))
    assert state.state is State.DONE


def test_superseded_and_ended() -> None:
    superseded = state_of(planned=None, suppressed='superseded by "Final round" on 2026-12-04')
    ended = state_of(planned=None, suppressed="ended by #rejected")
    assert (superseded.state, superseded.at) == (State.SUPERSEDED, None)
    assert ended.state is State.ENDED and "#rejected" in ended.note


def test_written_check_in_that_a_later_round_replaces_is_superseded_until_removed() -> None:
    state = state_of(
        existing=reminder(Kind.CHECK_IN, at("2026-12-07 09:00")), planned=None, suppressed="superseded by X"
    )
    assert state.state is State.SUPERSEDED and "removed at the next sync" in state.note


def test_skipped_when_found_too_late() -> None:
    assert state_of(Kind.THANK_YOU, planned=NOW - timedelta(hours=1)).state is State.SKIPPED


def test_withdrawn_only_for_future_unedited_reminders() -> None:
    ahead = withdrawn_state(Kind.CHECK_IN, reminder(Kind.CHECK_IN, at("2026-12-07 09:00")), "cancelled", NOW)
    past = withdrawn_state(Kind.THANK_YOU, reminder(Kind.THANK_YOU, at("2026-11-29 09:00")), "cancelled", NOW)
    assert ahead is not None and ahead.state is State.WITHDRAWN and ahead.note.startswith("cancelled")
    assert past is not None and past.state is State.DONE
    assert withdrawn_state(Kind.CHECK_IN, None, "cancelled", NOW) is None


# Rendering (pure).


def sample_rows() -> list[InterviewStatus]:
    screen = Event(
        calendar="work",
        href="a.ics",
        etag=None,
        uid="a",
        start=at("2026-12-01 10:00"),
        end=at("2026-12-01 11:00"),
        summary="Phone screen - Acme Corp",
        organizer=Person("jane@acme.example", "Jane Doe"),
    )
    onsite = Event(
        calendar="work", href="b.ics", etag=None, uid="b", start=date(2027, 1, 4), summary="Onsite (Hooli)"
    )
    return [
        InterviewStatus(
            calendar="work",
            event=screen,
            reason='title says "phone screen"',
            reminders=(
                ReminderState(Kind.THANK_YOU, State.WRITTEN, at("2026-12-01 13:00"), "in your calendar", "T"),
                ReminderState(Kind.CHECK_IN, State.PLANNED, at("2026-12-15 09:00"), "next sync", "C"),
            ),
            check_in_reason='decision by Dec 15 stated ("decision by December 15")',
            company="Acme Corp",
            organisation="acme.example",
        ),
        InterviewStatus(
            calendar="work",
            event=onsite,
            reason="cancelled",
            reminders=(ReminderState(Kind.CHECK_IN, State.WITHDRAWN, at("2027-01-12 09:00"), "x", "C2"),),
            check_in_reason="",
            active=False,
        ),
    ]


def test_plain_table_has_one_row_per_interview_and_no_escape_codes() -> None:
    output = render_text(sample_rows(), Settings(timezone=BERLIN), NOW)
    lines = output.splitlines()
    assert lines[0].split() == [
        "WHEN",
        "COMPANY",
        "INTERVIEW",
        "WHY",
        "THANK-YOU",
        "CHECK-IN",
        "CHECK-IN",
        "DATE",
    ]
    assert lines[1].startswith("Tue 01 Dec 10:00  Acme Corp")
    assert "written Tue 01 Dec 13:00" in lines[1] and "planned Tue 15 Dec 09:00" in lines[1]
    assert 'decision by Dec 15 stated ("decision by December 15")' in lines[1]
    assert lines[2].startswith("Mon 04 Jan 2027") and "not any more: cancelled" in lines[2]
    assert "withdrawn Tue 12 Jan 2027 09:00" in lines[2]
    assert lines[-1] == "Next: thank-you Tue 01 Dec 13:00  T"
    assert "\x1b" not in output


def test_agenda_lists_coming_follow_ups_by_day() -> None:
    output = render_agenda(sample_rows(), Settings(timezone=BERLIN), NOW)
    assert output.splitlines() == [
        "Tue 01 Dec 2026 (tomorrow)",
        "  13:00  thank-you  T",
        "",
        "Tue 15 Dec 2026",
        "  09:00  check-in   C  [written at the next sync]",
    ]


def test_json_of_every_state_validates_against_the_schema() -> None:
    rows = sample_rows()
    states = [
        ReminderState(Kind.CHECK_IN, state, None if state is State.SUPERSEDED else NOW, "n")
        for state in State
    ]
    rows.append(InterviewStatus("work", rows[0].event, "r", tuple(states), "", outcome="#offer"))
    document = render_json(rows, NOW, Settings(timezone=BERLIN))
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.validate(document, SCHEMA)
    assert [item["summary"] for item in document["upcoming"]] == ["T", "C"]
    broken = json.loads(json.dumps(document))
    broken["interviews"][0]["reminders"][0]["state"] = "lost"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA)


# The command as a user runs it.


def write_config(tmp_path: Path, folder: Path) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        'timezone = "Europe/Berlin"\nme = ["me@example.com"]\n[rules]\nwindow_future_days = 3650\n'
        f'[calendars.laptop]\ntype = "vdir"\npath = "{folder}"\n'
    )
    return config


def screens(tmp_path: Path, count: int = 1) -> Path:
    """A vdir with ``count`` future phone screens with Acme, a week apart."""
    folder = tmp_path / "vdir"
    folder.mkdir()
    template = (FIXTURES / "future_phone_screen.ics").read_text()
    for index in range(count):
        day = date(2030, 6, 4) + timedelta(days=7 * index)
        text = template.replace("future-phone-screen@", f"screen-{index}@").replace(
            "20300604T", f"{day:%Y%m%d}T"
        )
        (folder / f"screen-{index}.ics").write_text(text)
    return folder


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PROGRAM, *args], capture_output=True, text=True, check=False)


def run_on_terminal(*args: str, columns: int = 200) -> str:
    """Runs the program with stdout and stderr on a pseudo-terminal, and returns what it drew."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "NO_COLOR")}
    process = subprocess.Popen(
        [PROGRAM, *args], stdout=terminal, stderr=terminal, env=env | {"TERM": "xterm"}
    )
    os.close(terminal)
    output = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed
            break
        if not chunk:
            break
        output += chunk
    os.close(controller)
    assert process.wait(timeout=60) == 0
    return output.decode()


def test_status_in_a_pipe_is_a_plain_table(tmp_path: Path) -> None:
    config = write_config(tmp_path, screens(tmp_path))
    result = run("--config", str(config), "status")
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and result.stderr == ""
    header, row = result.stdout.splitlines()[:2]
    assert header.startswith("WHEN") and "THANK-YOU" in header
    assert row.startswith("Tue 04 Jun 2030 10:00  Acme")
    assert (
        "planned Tue 04 Jun 2030 13:00" in row
        and 'decision by Jun 18 stated ("decide within two weeks")' in row
    )


def test_status_says_why_a_stated_decision_date_was_not_used(tmp_path: Path) -> None:
    folder = screens(tmp_path)
    event = folder / "screen-0.ics"
    event.write_text(
        event.read_text().replace(
            "DESCRIPTION:They will decide within two weeks.",
            "DESCRIPTION:Sam said we'd hear back by Friday\\, Jo said on June 21.",
        )
    )
    result = run("--config", str(write_config(tmp_path, folder)), "status")
    assert result.returncode == 0, result.stderr
    row = result.stdout.splitlines()[1]
    assert "5 days after thank-you (the notes give two decision dates:" in row
    assert '"hear back by Friday" and "hear back by Friday, Jo said on June 21")' in row


def test_status_on_a_terminal_draws_a_rich_table(tmp_path: Path) -> None:
    config = write_config(tmp_path, screens(tmp_path))
    drawn = run_on_terminal("--config", str(config), "status")
    assert "─" in drawn and "\x1b[" in drawn  # rich's rule and its colours
    assert "Acme" in drawn and "planned" in drawn


def test_status_json_validates_against_the_shipped_schema(tmp_path: Path) -> None:
    folder = screens(tmp_path, 2)
    config = write_config(tmp_path, folder)
    assert run("--config", str(config), "sync").returncode == 0
    before = json.loads(run("--config", str(config), "status", "--json").stdout)
    jsonschema.validate(before, SCHEMA)
    assert [r["state"] for r in before["interviews"][0]["reminders"]] == ["written", "superseded"]
    (folder / "screen-1.ics").write_text(
        (folder / "screen-1.ics").read_text().replace("END:VEVENT", "STATUS:CANCELLED\r\nEND:VEVENT", 1)
    )
    result = run("--config", str(config), "status", "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    jsonschema.validate(document, json.loads(schema_text()))
    first, second = document["interviews"]
    assert first["company"] == "Acme" and first["active"] is True
    # The second round superseded the first's check-in; cancelled, it no longer does.
    assert [r["state"] for r in first["reminders"]] == ["written", "planned"]
    assert second["active"] is False and [r["state"] for r in second["reminders"]] == ["withdrawn"] * 2
    assert first["interviewers"] == [{"name": "Jane Doe", "email": "jane@acme.example"}]
    assert run("--config", str(config), "status", "--schema").stdout == schema_text()


def test_status_agenda(tmp_path: Path) -> None:
    config = write_config(tmp_path, screens(tmp_path))
    result = run("--config", str(config), "status", "--agenda")
    assert result.stdout.splitlines() == [
        "Tue 04 Jun 2030",
        "  13:00  thank-you  Thank Jane — Acme phone screen  [written at the next sync]",
        "",
        "Tue 18 Jun 2030",
        "  09:00  check-in   Check in with Acme — decision due  [written at the next sync]",
    ]


def test_status_rows_come_from_the_analysis(tmp_path: Path) -> None:
    from followup_cal.config.load import load_settings
    from followup_cal.run.sync import run as sync_run

    config = write_config(tmp_path, screens(tmp_path))
    settings = load_settings(config)
    from followup_cal.backends.registry import open_backend

    backends = {name: open_backend(cal) for name, cal in settings.calendars.items()}
    report = sync_run(settings, backends, now=NOW, dry_run=True)
    (row,) = interview_statuses(report.analyses, NOW, settings)
    assert (row.company, row.organisation, row.outcome) == ("Acme", "acme.example", None)
    assert [s.state for s in row.reminders] == [State.PLANNED, State.PLANNED]
    # Why it counts, with all the evidence weighed (issue 11); the JSON carries both lists.
    assert (
        row.reason.startswith('title says "phone screen"')
        and row.evidence_for[0] == row.reason.split("; ")[0]
    )
    document = render_json([row], NOW, settings)
    assert document["interviews"][0]["evidence"] == {"for": list(row.evidence_for), "against": []}
    jsonschema.validate(document, SCHEMA)


def test_the_why_column_names_what_spoke_against_an_interview_kept() -> None:
    row = sample_rows()[0]
    kept = InterviewStatus(
        calendar=row.calendar,
        event=row.event,
        reason="category Interview",
        reminders=row.reminders,
        check_in_reason="",
        evidence_against=('prep, not a job interview: title says "webinar"',),
    )
    assert 'category Interview; against: prep, not a job interview: title says "webinar"' in render_text(
        [kept], Settings(timezone=BERLIN), NOW
    )


# Progress on stderr, only on a terminal.


def test_progress_bar_draws_nothing_when_stderr_is_no_terminal() -> None:
    stream = io.StringIO()
    bar = ProgressBar(stream)
    printed: list[str] = []
    echo = bar.echo(printed.append)
    for done in range(1, 51):
        bar("work", done, 50)
        echo(f"line {done}")
    bar.clear()
    assert stream.getvalue() == "" and len(printed) == 50


def test_progress_bar_draws_lifts_for_lines_and_clears() -> None:
    stream = io.StringIO()
    ticks = iter(range(100))
    bar = ProgressBar(stream, enabled=True, clock=lambda: float(next(ticks)))
    printed: list[str] = []
    bar("work", 5, 20)
    assert stream.getvalue().endswith("work: writing 5/20 [######------------------]")
    bar.echo(lambda line: printed.append(stream.getvalue()))("wrote one")
    assert printed[0].endswith("\r\x1b[2K")  # the bar was lifted before the line
    assert stream.getvalue().endswith("work: writing 5/20 [######------------------]")  # and drawn again
    bar("work", 20, 20)
    assert stream.getvalue().endswith("\r\x1b[2K") and bar.line == ""


def test_progress_bar_stays_away_from_short_runs() -> None:
    stream = io.StringIO()
    bar = ProgressBar(stream, enabled=True)
    bar("work", 1, 3)
    assert stream.getvalue() == ""


def test_sync_in_a_pipe_prints_only_its_change_lines(tmp_path: Path) -> None:
    config = write_config(tmp_path, screens(tmp_path, 8))
    result = run("--config", str(config), "sync")
    assert result.returncode == 0 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert all(line.startswith("laptop: ") for line in lines) and len(lines) >= 16
    assert "writing" not in result.stdout and "\x1b" not in result.stdout


def test_sync_on_a_terminal_shows_progress(tmp_path: Path) -> None:
    config = write_config(tmp_path, screens(tmp_path, 8))
    drawn = run_on_terminal("--config", str(config), "sync")
    assert "laptop: writing " in drawn and "wrote thank-you" in drawn


# Help, version, completion.


def command_paths(group: click.Group = cli, prefix: tuple[str, ...] = ()) -> list[str]:
    """Every command and group, as typed after ``followup-cal`` ("auth google")."""
    paths = []
    for name, command in sorted(group.commands.items()):
        paths.append(" ".join((*prefix, name)))
        if isinstance(command, click.Group):
            paths += command_paths(command, (*prefix, name))
    return paths


def test_the_command_list_is_complete() -> None:
    assert {"sync", "status", "clean", "demo", "schedule", "auth google"} <= set(command_paths())


@pytest.mark.parametrize("command", command_paths())
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = CliRunner().invoke(cli, [*command.split(), "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output
    description = result.output.split("\n\n")[1].strip()
    assert len(description) > 20


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0 and result.stdout.startswith("followup-cal, version ")


@pytest.mark.parametrize(
    ("shell", "marker"), [("bash", "complete -o"), ("zsh", "compdef"), ("fish", "complete")]
)
def test_shell_completion_script(shell: str, marker: str) -> None:
    env = os.environ | {"_FOLLOWUP_CAL_COMPLETE": f"{shell}_source"}
    result = subprocess.run([PROGRAM], capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0 and marker in result.stdout and "_FOLLOWUP_CAL_COMPLETE" in result.stdout


def test_completion_completes_commands() -> None:
    env = os.environ | {
        "_FOLLOWUP_CAL_COMPLETE": "bash_complete",
        "COMP_WORDS": "followup-cal sta",
        "COMP_CWORD": "1",
    }
    result = subprocess.run([PROGRAM], capture_output=True, text=True, env=env, check=False)
    assert "plain,status" in result.stdout.splitlines()


def test_status_in_a_pipe_does_not_load_rich(tmp_path: Path) -> None:
    config = write_config(tmp_path, screens(tmp_path))
    code = (
        "import sys\n"
        "from followup_cal.commands.cli import main\n"
        f"sys.argv = ['followup-cal', '--config', {str(config)!r}, 'status']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('RICH', 'rich' in sys.modules)\n"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "Acme" in output and output.rstrip().endswith("RICH False")
