"""The command line with a Microsoft calendar: the real msal signed in through the identity stand-in
(tests/microsoft_identity.py), the microsoft backend against the Graph stand-in (tests/graph_standin.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from followup_cal.commands.cli import cli
from graph_helpers import event_body
from graph_seed import microsoft_config
from graph_standin import GraphStandin
from microsoft_identity import MicrosoftIdentity

INTERVIEW_START = datetime(2030, 6, 5, 10, tzinfo=timezone(timedelta(hours=2)))


@pytest.fixture
def linked(graph: GraphStandin, identity: MicrosoftIdentity) -> Iterator[GraphStandin]:
    """The Graph stand-in accepts the access tokens the identity stand-in issues (and only those)."""
    graph.access_tokens.clear()
    graph.token_check = lambda token: token in identity.valid_tokens
    yield graph
    assert graph.violations == []


def setup(tmp_path: Path, graph: GraphStandin, identity: MicrosoftIdentity, *, expired: bool = False) -> Path:
    body = event_body(
        "initech-call@example.com",
        "Recruiter call - Initech",
        INTERVIEW_START,
        INTERVIEW_START + timedelta(minutes=30),
        organizer=("hr@initech.example", "Hannah"),
        attendees=[("hr@initech.example", "Hannah", "ACCEPTED")],
    )
    graph.add_event("primary", body)
    config = microsoft_config(
        tmp_path, identity, {"outlook": ("primary", graph.api_endpoint)}, expired=expired
    )
    config.write_text(config.read_text() + "[rules]\nwindow_future_days = 3650\n")
    return config


def invoke(config: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_sync_twice_then_a_no_op_is_one_request(
    tmp_path: Path, linked: GraphStandin, identity: MicrosoftIdentity
) -> None:
    config = setup(tmp_path, linked, identity, expired=True)
    code, stdout, stderr = invoke(config, "sync")
    assert code == 0, stderr
    assert stdout.count("outlook: wrote") == 2 and "tagged" in stdout
    assert identity.grants("refresh_token"), "the expired access token was refreshed through msal"
    code, stdout, _ = invoke(config, "sync")
    assert (code, stdout) == (0, "")
    before = len(linked.request_log)
    code, stdout, _ = invoke(config, "sync")
    assert (code, stdout) == (0, "")
    assert [r.path for r in linked.request_log[before:]] == ["me/calendar/calendarView/delta"]


def test_status_and_clean(tmp_path: Path, linked: GraphStandin, identity: MicrosoftIdentity) -> None:
    config = setup(tmp_path, linked, identity)
    assert invoke(config, "sync")[0] == 0
    code, stdout, stderr = invoke(config, "status")
    assert code == 0, stderr
    assert "Recruiter call - Initech" in stdout and "written" in stdout
    code, stdout, stderr = invoke(config, "clean")
    assert code == 0, stderr
    assert stdout.count("outlook: removed") == 2 and "untagged" in stdout
    (interview,) = linked.events("primary")
    assert interview["categories"] == [] and not any(
        p["value"] for p in interview["singleValueExtendedProperties"]
    )


def test_a_revoked_grant_fails_that_calendar_with_one_line(
    tmp_path: Path, linked: GraphStandin, identity: MicrosoftIdentity
) -> None:
    config = setup(tmp_path, linked, identity)
    identity.revoke()
    code, _, stderr = invoke(config, "sync")
    assert code == 1
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "outlook" in lines[0] and "auth microsoft" in lines[0], stderr
