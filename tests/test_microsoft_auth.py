"""Microsoft sign-in with the real msal against the identity stand-in (TLS on 127.0.0.1, a test CA): the
token cache is refreshed silently and saved private (0600, atomically), a revoked grant is one line, and the
device-code and browser (loopback redirect) flows save a cache that later runs use without signing in."""

from __future__ import annotations

import json
import os
import webbrowser
from pathlib import Path

import pytest

from followup_cal.backends.microsoft_auth import (
    CONSENT_SCOPES,
    authority_for,
    granted_scopes,
    load_token_source,
    revoked_message,
    sign_in,
)
from followup_cal.errors import AuthenticationError, UsageError
from microsoft_identity import CLIENT_ID, DEVICE_GRANT, USERNAME, MicrosoftIdentity, consenting_browser


def cached_refresh_tokens(path: Path) -> list[str]:
    return [entry["secret"] for entry in json.loads(path.read_text())["RefreshToken"].values()]


def test_expired_access_token_is_refreshed_and_the_cache_saved_private(
    tmp_path: Path, identity: MicrosoftIdentity
) -> None:
    path = tmp_path / "sub" / "microsoft-token.json"
    identity.write_token_cache(path, expired=True)
    path.chmod(0o644)
    before = cached_refresh_tokens(path)
    source = load_token_source(path, CLIENT_ID, identity.authority, "outlook")
    token = source()
    assert token in identity.valid_tokens
    assert [form["refresh_token"] for form in identity.grants("refresh_token")] == before
    after = cached_refresh_tokens(path)
    assert after != before and after[0] in identity.refresh_tokens  # the rotated refresh token is kept
    assert path.stat().st_mode & 0o777 == 0o600
    assert os.listdir(path.parent) == ["microsoft-token.json"]  # no temporary file left behind
    assert source() == token and len(identity.grants("refresh_token")) == 1


def test_a_valid_cached_token_needs_no_request(tmp_path: Path, identity: MicrosoftIdentity) -> None:
    path = tmp_path / "microsoft-token.json"
    identity.write_token_cache(path)
    saved = path.read_bytes()
    token = load_token_source(path, CLIENT_ID, identity.authority, "outlook")()
    assert token in identity.valid_tokens
    assert identity.requests == []  # not even the OpenID configuration
    assert path.read_bytes() == saved


def test_forced_refresh_after_graph_refused_the_token(tmp_path: Path, identity: MicrosoftIdentity) -> None:
    path = tmp_path / "microsoft-token.json"
    identity.write_token_cache(path)
    source = load_token_source(path, CLIENT_ID, identity.authority, "outlook")
    old = source()
    identity.expire_access_tokens()  # Graph would answer 401 now
    new = source.refresh()
    assert new != old and new in identity.valid_tokens and source() == new


def test_revoked_grant_is_one_line_saying_to_sign_in_again(
    tmp_path: Path, identity: MicrosoftIdentity
) -> None:
    path = tmp_path / "microsoft-token.json"
    identity.write_token_cache(path, expired=True)
    saved = path.read_bytes()
    identity.revoke()
    with pytest.raises(AuthenticationError) as raised:
        load_token_source(path, CLIENT_ID, identity.authority, "outlook")()
    assert (
        str(raised.value)
        == revoked_message("outlook")
        == (
            "Microsoft access for calendar 'outlook' was revoked or expired: "
            "run `followup-cal auth microsoft` again"
        )
    )
    assert path.read_bytes() == saved


def test_a_token_of_another_app_registration_is_refused(tmp_path: Path, identity: MicrosoftIdentity) -> None:
    path = tmp_path / "microsoft-token.json"
    identity.write_token_cache(path, expired=True)
    with pytest.raises(
        AuthenticationError,
        match="holds no refresh token for client_id other-app: run `followup-cal auth microsoft` again",
    ):
        load_token_source(path, "other-app", identity.authority, "outlook")()


def test_missing_or_broken_token_file(tmp_path: Path) -> None:
    with pytest.raises(
        AuthenticationError, match=r"^No Microsoft token at .*: run `followup-cal auth microsoft` first$"
    ):
        load_token_source(tmp_path / "nothing.json", CLIENT_ID, None, "outlook")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(AuthenticationError, match=r"not an msal token cache\): run `followup-cal auth"):
        load_token_source(broken, CLIENT_ID, None, "outlook")


def test_authority_from_tenant() -> None:
    assert authority_for() == "https://login.microsoftonline.com/common"
    assert authority_for("consumers") == "https://login.microsoftonline.com/consumers"
    assert (
        authority_for("contoso.onmicrosoft.com", "https://127.0.0.1:1/common/")
        == "https://127.0.0.1:1/common"
    )
    with pytest.raises(UsageError, match="--tenant"):
        authority_for("a/b")


def test_device_code_flow(tmp_path: Path, identity: MicrosoftIdentity) -> None:
    shown: list[str] = []
    token_file = tmp_path / "microsoft-token.json"
    account = sign_in(CLIENT_ID, identity.authority, token_file, device_code=True, show=shown.append)
    assert account == USERNAME
    assert "enter the code CODE" in shown[0] and identity.base_url in shown[0]
    polls = identity.grants(DEVICE_GRANT)
    assert len(polls) == 2  # msal polled: "authorization_pending", then the tokens
    (started,) = identity.device_code_requests
    assert set(started["scope"].split()) >= {*CONSENT_SCOPES, "offline_access"}  # msal adds offline_access
    assert token_file.stat().st_mode & 0o777 == 0o600
    assert granted_scopes(token_file) == sorted([*CONSENT_SCOPES, "openid", "profile"])
    identity.requests.clear()
    assert load_token_source(token_file, CLIENT_ID, identity.authority, None)() in identity.valid_tokens
    assert identity.requests == []


def test_device_code_flow_with_an_unknown_client_id(tmp_path: Path, identity: MicrosoftIdentity) -> None:
    with pytest.raises(AuthenticationError, match=r"AADSTS700016.*; check --client-id"):
        sign_in("typo", identity.authority, tmp_path / "t.json", device_code=True, show=print)
    assert not (tmp_path / "t.json").exists()


def test_browser_flow_with_loopback_redirect(
    tmp_path: Path, identity: MicrosoftIdentity, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BROWSER", "followup-cal-test")  # msal then prefers no particular browser
    monkeypatch.setattr(webbrowser, "open", consenting_browser(identity))  # the user's browser
    token_file = tmp_path / "microsoft-token.json"
    account = sign_in(CLIENT_ID, identity.authority, token_file, device_code=False, show=print, timeout=30)
    assert account == USERNAME
    (redeemed,) = identity.grants("authorization_code")
    assert redeemed["redirect_uri"].startswith("http://localhost:") and redeemed["code_verifier"]
    assert cached_refresh_tokens(token_file)[0] in identity.refresh_tokens
    assert token_file.stat().st_mode & 0o777 == 0o600


def test_browser_flow_declined(
    tmp_path: Path, identity: MicrosoftIdentity, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BROWSER", "followup-cal-test")
    monkeypatch.setattr(webbrowser, "open", consenting_browser(identity))
    identity.decline = True
    with pytest.raises(
        AuthenticationError, match=r"^Microsoft did not grant access \(access_denied: AADSTS65004"
    ):
        sign_in(CLIENT_ID, identity.authority, tmp_path / "t.json", device_code=False, show=print, timeout=30)
    assert not (tmp_path / "t.json").exists()
