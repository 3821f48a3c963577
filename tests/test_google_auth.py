"""Google OAuth against the stand-in's token endpoint on 127.0.0.1: the google backend refreshes an expired
access token and reports a revoked grant in one line; the token file is saved private (0600, no temporary
file left) and refreshed when loaded; the consent flow works with a pasted redirect and with a browser
that lands on the loopback redirect."""

from __future__ import annotations

import json
import os
import threading
import urllib.request
import webbrowser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from backend_contract import TZ, WINDOW_END, WINDOW_START, make_draft
from followup_cal.backends.google_auth import SCOPES, load_credentials, run_oauth_flow
from followup_cal.errors import AuthenticationError
from google_helpers import REVOKED_LINE, client_secrets, make_backend, write_token
from google_standin import AUTH_CODE, REFRESH_TOKEN, GoogleStandin


def test_expired_access_token_is_refreshed_by_the_client(standin: GoogleStandin) -> None:
    backend = make_backend(standin, token=None)
    assert backend.list_window(WINDOW_START, WINDOW_END, TZ).events == []
    assert [r["grant_type"] for r in standin.token_requests] == ["refresh_token"]


def test_revoked_grant_is_one_clear_line(standin: GoogleStandin) -> None:
    backend = make_backend(standin, token=None)
    standin.revoke()
    with pytest.raises(AuthenticationError) as raised:
        backend.list_window(WINDOW_START, WINDOW_END, TZ)
    assert str(raised.value) == REVOKED_LINE


def test_grant_revoked_while_the_access_token_was_in_use(standin: GoogleStandin) -> None:
    backend = make_backend(standin)
    backend.list_window(WINDOW_START, WINDOW_END, TZ)
    standin.revoke()  # the access token stops working (401); the client refreshes, Google says invalid_grant
    with pytest.raises(AuthenticationError) as raised:
        backend.create(make_draft())
    assert str(raised.value) == REVOKED_LINE


def test_token_file_is_saved_with_mode_0600(tmp_path: Path, standin: GoogleStandin) -> None:
    path = tmp_path / "sub" / "google-token.json"
    write_token(path, standin, expired=False)
    assert path.stat().st_mode & 0o777 == 0o600
    assert json.loads(path.read_text())["refresh_token"] == REFRESH_TOKEN
    assert os.listdir(path.parent) == ["google-token.json"]  # no temporary file left behind
    path.chmod(0o644)
    write_token(path, standin, expired=False)  # rewriting tightens the mode again
    assert path.stat().st_mode & 0o777 == 0o600


def test_load_credentials_refreshes_an_expired_token_and_saves_it(
    tmp_path: Path, standin: GoogleStandin
) -> None:
    path = tmp_path / "google-token.json"
    write_token(path, standin, expired=True)
    credentials = load_credentials(path)
    assert credentials.token.startswith("standin-access-") and credentials.valid
    saved = json.loads(path.read_text())
    assert saved["token"] == credentials.token and saved["token_uri"] == standin.token_uri
    assert path.stat().st_mode & 0o777 == 0o600
    assert standin.token_requests[0]["refresh_token"] == REFRESH_TOKEN


def test_load_credentials_keeps_a_valid_token_without_network(tmp_path: Path, standin: GoogleStandin) -> None:
    path = tmp_path / "google-token.json"
    write_token(path, standin, expired=False)
    assert load_credentials(path).token == "old-access-token"
    assert standin.token_requests == []


def test_load_credentials_revoked(tmp_path: Path, standin: GoogleStandin) -> None:
    path = tmp_path / "google-token.json"
    write_token(path, standin, expired=True)
    standin.revoke()
    with pytest.raises(AuthenticationError) as raised:
        load_credentials(path, calendar_name="gmail")
    assert str(raised.value) == REVOKED_LINE


def test_load_credentials_missing_or_broken_file(tmp_path: Path) -> None:
    with pytest.raises(
        AuthenticationError, match=r"No Google token at .*: run `followup-cal auth google` first"
    ):
        load_credentials(tmp_path / "nothing.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"token": "x"}')
    with pytest.raises(AuthenticationError, match="not an authorized-user token"):
        load_credentials(broken)


def test_oauth_flow_without_browser(
    tmp_path: Path, standin: GoogleStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the stand-in's token endpoint is plain http
    shown: list[str] = []

    def paste_redirect(_prompt: str) -> str:
        url = next(line for line in shown[0].splitlines() if line.startswith("http"))
        query = parse_qs(urlsplit(url).query)
        assert query["scope"] == [" ".join(SCOPES)] and query["access_type"] == ["offline"]
        return f"{query['redirect_uri'][0]}?state={query['state'][0]}&code={AUTH_CODE}&scope=x"

    token_file = tmp_path / "token.json"
    run_oauth_flow(
        client_secrets(tmp_path, standin),
        token_file,
        open_browser=False,
        show=shown.append,
        ask=paste_redirect,
    )
    saved = json.loads(token_file.read_text())
    assert saved["refresh_token"].startswith("standin-refresh-")
    assert token_file.stat().st_mode & 0o777 == 0o600
    assert load_credentials(token_file).refresh_token == saved["refresh_token"]


def test_oauth_flow_without_browser_rejects_another_state(
    tmp_path: Path, standin: GoogleStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    with pytest.raises(AuthenticationError, match="another authorisation attempt"):
        run_oauth_flow(
            client_secrets(tmp_path, standin),
            tmp_path / "token.json",
            open_browser=False,
            show=lambda _text: None,
            ask=lambda _prompt: f"http://127.0.0.1:8976/?state=forged&code={AUTH_CODE}",
        )
    assert not (tmp_path / "token.json").exists()


class ConsentingBrowser(webbrowser.BaseBrowser):
    """A user who approves the consent screen: the browser lands on the loopback redirect with a code."""

    def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
        query = parse_qs(urlsplit(url).query)
        redirect = f"{query['redirect_uri'][0]}?state={query['state'][0]}&code={AUTH_CODE}"
        threading.Thread(target=lambda: urllib.request.urlopen(redirect).read(), daemon=True).start()
        return True


def test_oauth_flow_with_loopback_browser(
    tmp_path: Path,
    standin: GoogleStandin,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    webbrowser.register("followup-cal-test", None, ConsentingBrowser("followup-cal-test"))
    token_file = tmp_path / "token.json"
    run_oauth_flow(
        client_secrets(tmp_path, standin), token_file, open_browser=True, browser="followup-cal-test"
    )
    assert json.loads(token_file.read_text())["refresh_token"].startswith("standin-refresh-")
    assert "redirect_uri=http%3A%2F%2Flocalhost%3A" in capsys.readouterr().out
