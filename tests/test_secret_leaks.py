"""Secrets never reach the terminal (issue 5, item 6).

The command line runs as a real process with known secrets (a CalDAV password against Radicale with
authentication, a Google refresh token, access token and client secret against the stand-in, Microsoft
refresh and access tokens from msal against the identity and Graph stand-ins), with -vv and
with the wire-level debugging of http.client and httplib2 switched on, as a user chasing a problem would.
Everything it prints (stdout, stderr: logs, tracebacks, messages) is searched for each secret, its Basic
authorization form (base64 of user:password) and its URL-encoded form.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from google.oauth2.credentials import Credentials

from followup_cal.backends.google_auth import SCOPES, save_credentials
from followup_cal.config.redact import redact, register_secret
from followup_cal.config.secrets import warn_if_readable_by_others
from google_helpers import add_recruiter_call
from google_standin import GoogleStandin
from graph_helpers import event_body
from graph_standin import GraphStandin
from microsoft_identity import CLIENT_ID, MicrosoftIdentity
from radicale_server import RadicaleServer, running_radicale

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"
PASSWORD = "Pw-leak-test-7d41c2e9"
WRONG_PASSWORD = "Wrong-pw-leak-test-0b5e"
REFRESH = "refresh-leak-test-5a9f01"
OLD_ACCESS = "access-leak-test-e3c7d2"
CLIENT_SECRET = "client-secret-leak-test-91b3"

# What -vv would show if followup-cal (or a user's sitecustomize) turned on wire-level debugging: every
# request line and header that http.client and httplib2 send, including Authorization.
DRIVER = textwrap.dedent(
    """
    import http.client, sys
    import httplib2
    http.client.HTTPConnection.debuglevel = 1
    httplib2.debuglevel = 1
    from followup_cal.commands.cli import main
    sys.argv = ["followup-cal", *sys.argv[1:]]
    main()
    """
)


def forms(secret: str, user: str | None = None) -> set[str]:
    """The secret as it could appear: plain, URL-encoded, and inside a Basic authorization header."""
    found = {secret, quote(secret, safe="")}
    if user is not None:
        found.add(base64.b64encode(f"{user}:{secret}".encode()).decode())
    return found


def run_cli(config: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    environment = {**os.environ, **(env or {})}
    environment.pop("PYTHONWARNINGS", None)
    finished = subprocess.run(
        [sys.executable, "-c", DRIVER, "--config", str(config), *args],
        capture_output=True,
        env=environment,
        timeout=120,
        check=False,
    )
    output = finished.stdout.decode("utf-8", "replace") + finished.stderr.decode("utf-8", "replace")
    return finished.returncode, output


def assert_no_secret(output: str, secrets: set[str]) -> None:
    leaked = sorted(secret for secret in secrets if secret in output)
    assert not leaked, f"leaked {leaked}:\n{output[:3000]}"


def test_redact_cuts_credentials_in_every_shape_a_library_logs_them() -> None:
    register_secret(PASSWORD, "alice")
    basic = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    shapes = [
        f"send: b'GET / HTTP/1.1\\r\\nAuthorization: Basic {basic}\\r\\n\\r\\n'",
        'Authorization: Digest username="alice", realm="r", response="6629fae49393a05397450978507c4ef1"',
        f"{{'Authorization': 'Bearer {OLD_ACCESS}', 'Accept': 'text/xml'}}",
        f'{{"access_token": "{OLD_ACCESS}", "refresh_token": "{REFRESH}",',
        f'"client_secret": "{CLIENT_SECRET}", "authorization": "Bearer {OLD_ACCESS}"}}',
        f"grant_type=refresh_token&refresh_token={REFRESH}&client_secret={CLIENT_SECRET}",
        f"the server said: wrong password {PASSWORD}",  # a registered secret, wherever it shows up
        f"Proxy-Authorization: Basic {basic}",
        "Cookie: session=abc123def",
    ]
    for shape in shapes:
        cleaned = redact(shape)
        assert "[redacted]" in cleaned
        for secret in (
            *forms(PASSWORD, "alice"),
            OLD_ACCESS,
            REFRESH,
            CLIENT_SECRET,
            "6629fae4",
            "abc123def",
        ):
            assert secret not in cleaned, (shape, cleaned)
    harmless = "authentication failed for calendar 'work': check the username and password (status code: 401)"
    assert redact(harmless) == harmless


# ---- CalDAV


@pytest.fixture(scope="module")
def radicale() -> Iterator[RadicaleServer]:
    with running_radicale(users={"alice": PASSWORD}) as server:
        yield server


def caldav_config(tmp_path: Path, url: str, source: str) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        'timezone = "Europe/Berlin"\n[rules]\nwindow_future_days = 3650\n'
        f'[calendars.work]\ntype = "caldav"\nurl = "{url}"\nusername = "alice"\n{source}\n'
    )
    return config


def test_caldav_password_never_printed(radicale: RadicaleServer, tmp_path: Path) -> None:
    url = radicale.make_calendar("alice", "leaks", "Work")
    screen = (FIXTURES / "future_phone_screen.ics").read_bytes()
    assert radicale.put_ics(url + "screen.ics", screen, user="alice") == 201
    config = caldav_config(tmp_path, url, 'password_env = "DAV_PW"')
    secrets = forms(PASSWORD, "alice") | forms(WRONG_PASSWORD, "alice")
    outputs = []
    for args in (["-vv", "sync"], ["-vv", "sync"], ["-vv", "status"], ["-vv", "status", "--json"]):
        code, output = run_cli(config, *args, env={"DAV_PW": PASSWORD})
        assert code == 0, output
        outputs.append(output)
    code, output = run_cli(config, "-vv", "calendars", env={"DAV_PW": PASSWORD})
    assert code == 0, output
    outputs.append(output)
    for args in (["-vv", "sync"], ["-vv", "calendars"], ["-v", "status"]):
        code, output = run_cli(config, *args, env={"DAV_PW": WRONG_PASSWORD})
        assert code == 1 and "authentication failed" in output, output
        outputs.append(output)
    everything = "\n".join(outputs)
    assert "wrote thank-you" in everything and "DEBUG urllib3" in everything  # the debug logs were on
    assert_no_secret(everything, secrets)
    print(f"caldav: {len(outputs)} runs, {len(everything)} characters printed, 0 secrets")


def test_password_command_secret_never_printed_and_no_shell(radicale: RadicaleServer, tmp_path: Path) -> None:
    url = radicale.make_calendar("alice", "leaks-command", "Work")
    marker = tmp_path / "shell-ran"
    script = tmp_path / "print-password"
    script.write_text(f"#!{sys.executable}\nimport sys\nprint({PASSWORD!r})\n")
    script.chmod(0o700)
    # Shell syntax in the arguments stays text: a shell would create the marker file.
    command = [str(script), f"; touch {marker}", f"$(touch {marker})", f"`touch {marker}`", "&&", "|"]
    config = caldav_config(tmp_path, url, f"password_command = {json.dumps(command)}")
    code, output = run_cli(config, "-vv", "sync")
    assert code == 0, output
    assert not marker.exists()
    assert_no_secret(output, forms(PASSWORD, "alice"))


def test_a_config_naming_a_password_command_that_others_can_change_is_warned_about(
    radicale: RadicaleServer, tmp_path: Path
) -> None:
    url = radicale.make_calendar("alice", "leaks-mode", "Work")
    script = tmp_path / "print-password"
    script.write_text(f"#!{sys.executable}\nprint({PASSWORD!r})\n")
    script.chmod(0o700)
    config = caldav_config(tmp_path, url, f"password_command = [{json.dumps(str(script))}]")
    config.chmod(0o600)
    code, output = run_cli(config, "sync")
    assert code == 0 and "warning" not in output, output
    config.chmod(0o666)
    code, output = run_cli(config, "sync")
    assert code == 0
    assert f"warning: {config}" in output and "chmod" in output, output
    assert_no_secret(output, forms(PASSWORD, "alice"))


# ---- Google


@pytest.fixture
def standin() -> Iterator[GoogleStandin]:
    with GoogleStandin() as server:
        server.refresh_tokens[REFRESH] = True
        yield server


def google_config(tmp_path: Path, standin: GoogleStandin) -> Path:
    token = tmp_path / "google-token.json"
    credentials = Credentials(
        token=OLD_ACCESS,
        refresh_token=REFRESH,
        token_uri=standin.token_uri,
        client_id="leak-test.apps.googleusercontent.com",
        client_secret=CLIENT_SECRET,
        scopes=list(SCOPES),
    )
    credentials.expiry = datetime(2000, 1, 1)  # expired: the run refreshes it through the token endpoint
    save_credentials(credentials, token)
    config = tmp_path / "config.toml"
    config.write_text(
        'timezone = "Europe/Berlin"\n[rules]\nwindow_future_days = 3650\n'
        f'[calendars.gmail]\ntype = "google"\ntoken_file = "{token}"\n'
        f'api_endpoint = "{standin.api_endpoint}"\n'
    )
    add_recruiter_call(standin)
    return config


def test_google_tokens_never_printed(standin: GoogleStandin, tmp_path: Path) -> None:
    config = google_config(tmp_path, standin)
    outputs = []
    for args in (["-vv", "sync"], ["-vv", "sync"], ["-vv", "status"]):
        code, output = run_cli(config, *args)
        assert code == 0, output
        outputs.append(output)
    issued = set(standin.access_tokens)
    standin.revoke(REFRESH)  # every access token dies with the grant: the next run must refresh and fails
    for args in (["-vv", "sync"], ["-v", "status"]):
        code, output = run_cli(config, *args)
        assert code == 1 and "revoked" in output, output
        outputs.append(output)
    everything = "\n".join(outputs)
    assert "wrote thank-you" in everything and "send: b'" in everything  # the wire dump was on
    assert "authorization: [redacted]" in everything  # ... it showed the header, and the value was cut
    secrets = {REFRESH, OLD_ACCESS, CLIENT_SECRET, *issued}
    assert len(issued) >= 2  # the stand-in's own test token and the one this run got
    assert_no_secret(everything, {form for secret in secrets for form in forms(secret)})
    print(f"google: {len(outputs)} runs, {len(everything)} characters printed, 0 secrets")


def test_token_file_is_private_and_replaced_atomically(standin: GoogleStandin, tmp_path: Path) -> None:
    config = google_config(tmp_path, standin)
    token = tmp_path / "google-token.json"
    token.chmod(0o644)
    before = token.stat().st_ino
    code, output = run_cli(config, "sync")
    assert code == 0
    assert f"warning: {token}" in output  # it was readable by others when the run began
    assert stat.S_IMODE(token.stat().st_mode) == 0o600  # the refreshed token was saved private
    assert token.stat().st_ino != before  # a new file renamed into place, not rewritten in place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml", "google-token.json"]
    assert warn_if_readable_by_others(token) is None
    saved = json.loads(token.read_text())
    assert saved["refresh_token"] == REFRESH and saved["token"] in standin.access_tokens


def test_microsoft_tokens_never_printed(identity: MicrosoftIdentity, tmp_path: Path) -> None:
    """The real msal refreshes through the identity stand-in (its test CA reaches the subprocess through
    REQUESTS_CA_BUNDLE); Graph accepts only the access tokens it issued."""
    token = tmp_path / "microsoft-token.json"
    identity.write_token_cache(token, expired=True)
    with GraphStandin(owner="alice@outlook.example") as graph:
        graph.access_tokens.clear()
        graph.token_check = lambda access_token: access_token in identity.valid_tokens
        start = datetime(2030, 6, 4, 8, tzinfo=UTC)
        organizer = ("jane@acme.example", "Jane Doe")
        interview = event_body("leak@example.com", "Phone screen", start, None, organizer=organizer)
        graph.add_event("primary", interview)
        config = tmp_path / "config.toml"
        config.write_text(
            'timezone = "Europe/Berlin"\n[rules]\nwindow_future_days = 3650\n'
            f'[calendars.outlook]\ntype = "microsoft"\nclient_id = "{CLIENT_ID}"\ntoken_file = "{token}"\n'
            f'api_endpoint = "{graph.api_endpoint}"\nauthority = "{identity.authority}"\n'
        )
        cached = {entry["secret"] for entry in json.loads(token.read_text())["AccessToken"].values()}
        outputs = []
        for args in (["-vv", "sync"], ["-vv", "sync"], ["-vv", "status"]):
            code, output = run_cli(config, *args)
            assert code == 0, output
            outputs.append(output)
        issued = {*cached, *identity.valid_tokens, *identity.refresh_tokens}
        identity.revoke()  # the access tokens die with the grant: the next run refreshes, and fails
        for args in (["-vv", "sync"], ["-v", "status"]):
            code, output = run_cli(config, *args)
            assert code == 1 and "revoked" in output, output
            outputs.append(output)
    everything = "\n".join(outputs)
    assert "wrote thank-you" in everything
    assert '"refresh_token": "[redacted]"' in everything  # msal's debug log showed the refresh, cut
    assert len(identity.grants("refresh_token")) == 3  # the first run's refresh and two refused ones
    assert_no_secret(everything, {form for secret in issued for form in forms(secret)})
    print(f"microsoft: {len(outputs)} runs, {len(everything)} characters printed, 0 secrets")
