"""OAuth for Google calendars: the installed-app flow and the authorized-user token file.

The token file holds Google's authorized-user JSON (``Credentials.to_json()``): the refresh token, the
client id and secret of the user's own OAuth client, the token endpoint and the current access token.
It is written atomically with mode 0600 and refreshed here when it has expired.

The Google libraries are imported inside the functions, so importing this module (the CLI does) loads
none of them.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from followup_cal.config.secrets import write_private_file
from followup_cal.errors import AuthenticationError, BackendError, UsageError

if TYPE_CHECKING:
    from google.oauth2.credentials import Credentials

SCOPES = (
    "https://www.googleapis.com/auth/calendar.events",  # read and write events
    "https://www.googleapis.com/auth/calendar.readonly",  # the calendar list, to name calendar ids
)
# Where the browser is sent after consent in the --no-browser flow. Nothing listens there: the page fails
# to load and the user copies the address (which carries the code) from the browser's address bar.
NO_BROWSER_REDIRECT_URI = "http://127.0.0.1:8976/"
AUTH_AGAIN = "run `followup-cal auth google` again"


def revoked_message(calendar_name: str | None) -> str:
    """The one line shown when the grant was revoked or expired (``invalid_grant``)."""
    where = f"calendar '{calendar_name}'" if calendar_name else "your Google calendars"
    return f"Google access for {where} was revoked or expired: {AUTH_AGAIN}"


def is_invalid_grant(error: BaseException) -> bool:
    """True for a ``google.auth.exceptions.RefreshError`` saying the refresh token is no longer valid."""
    for arg in getattr(error, "args", ()):
        if isinstance(arg, dict) and arg.get("error") == "invalid_grant":
            return True
        if isinstance(arg, str) and "invalid_grant" in arg:
            return True
    return False


def load_credentials(token_file: Path, *, calendar_name: str | None = None) -> Credentials:
    """The credentials stored in ``token_file``, refreshed (and saved back) when expired.

    Raises :class:`AuthenticationError` when the file is missing or unreadable or the grant was revoked,
    and :class:`BackendError` when the token endpoint cannot be reached.
    """
    from google.oauth2.credentials import Credentials

    path = token_file.expanduser()
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        credentials: Credentials = Credentials.from_authorized_user_info(info)  # type: ignore[no-untyped-call]
    except FileNotFoundError:
        raise AuthenticationError(
            f"No Google token at {path}: run `followup-cal auth google` first"
        ) from None
    except (OSError, ValueError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not an authorized-user token"
        raise AuthenticationError(
            f"Cannot read the Google token at {path} ({reason}): {AUTH_AGAIN}"
        ) from None
    token_uri = info.get("token_uri")
    if isinstance(token_uri, str) and token_uri != credentials.token_uri and _is_loopback(token_uri):
        # google-auth ignores the file's token_uri (a file must not send the refresh token elsewhere);
        # a token endpoint on this machine (a local stand-in for tests) is honoured.
        expiry = credentials.expiry
        credentials = credentials.with_token_uri(token_uri)
        credentials.expiry = expiry  # the copy drops it
    if not credentials.valid:
        refresh_credentials(credentials, calendar_name=calendar_name)
        save_credentials(credentials, path)
    return credentials


def _is_loopback(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and parts.hostname in ("127.0.0.1", "localhost", "::1")


def refresh_credentials(credentials: Credentials, *, calendar_name: str | None = None) -> None:
    """Gets a new access token from the token endpoint, mapping failures to followup-cal's errors."""
    from google.auth.exceptions import RefreshError, TransportError
    from google.auth.transport.requests import Request

    if not credentials.refresh_token:
        raise AuthenticationError(f"The Google token has no refresh token: {AUTH_AGAIN}")
    try:
        credentials.refresh(Request())  # type: ignore[no-untyped-call]
    except RefreshError as error:
        if is_invalid_grant(error):
            raise AuthenticationError(revoked_message(calendar_name)) from None
        raise AuthenticationError(f"Google refused to refresh the access token: {AUTH_AGAIN}") from error
    except TransportError as error:
        raise BackendError(
            "Could not reach Google's token endpoint: check the network connection and try again"
        ) from error


def save_credentials(credentials: Credentials, token_file: Path) -> None:
    """Writes the authorized-user JSON atomically, readable by the user only (mode 0600)."""
    data: str = credentials.to_json()  # type: ignore[no-untyped-call]
    write_private_file(token_file.expanduser(), data)


def run_oauth_flow(
    client_secrets: Path,
    token_file: Path,
    *,
    open_browser: bool,
    show: Callable[[str], None] | None = None,
    ask: Callable[[str], str] | None = None,
    browser: str | None = None,
) -> None:
    """Runs the OAuth installed-app flow with the user's own client file and saves the token.

    With ``open_browser`` a loopback server on 127.0.0.1 and a free port receives the code (the library
    prints the URL too, in case no browser opens). Without it (a headless machine) ``show`` is given the
    URL to open on any device and ``ask`` reads back the address the browser ended on (or just the code).
    ``show``/``ask`` default to click's echo and prompt; ``browser`` names a ``webbrowser`` controller.
    """
    from google_auth_oauthlib.flow import InstalledAppFlow
    from oauthlib.oauth2.rfc6749.errors import OAuth2Error  # type: ignore[import-untyped]

    path = client_secrets.expanduser()
    try:
        flow = InstalledAppFlow.from_client_secrets_file(str(path), scopes=list(SCOPES))
    except FileNotFoundError:
        raise UsageError(f"No OAuth client file at {path}: download it from Google Cloud Console") from None
    except (OSError, ValueError) as error:
        raise UsageError(
            f"{path} is not an OAuth client file for a desktop app ({error}): download it again from "
            "Google Cloud Console (APIs & Services > Credentials)"
        ) from None
    try:
        if open_browser:
            flow.run_local_server(
                host="localhost",
                bind_addr="127.0.0.1",
                port=0,
                open_browser=True,
                browser=browser,
                authorization_prompt_message="If no browser opened, visit this URL to authorise "
                "followup-cal:\n{url}",
                success_message="followup-cal is authorised. You can close this window.",
                access_type="offline",
                prompt="consent",
            )
        else:
            _run_no_browser(flow, show, ask)
    except OAuth2Error as error:
        raise AuthenticationError(f"Google did not grant access ({error.error}): try again") from None
    save_credentials(flow.credentials, token_file)


def _run_no_browser(flow: Any, show: Callable[[str], None] | None, ask: Callable[[str], str] | None) -> None:
    import click

    show = show or click.echo
    ask = ask or (lambda text: str(click.prompt(text)))
    flow.redirect_uri = NO_BROWSER_REDIRECT_URI
    state = secrets.token_urlsafe(24)
    url, _ = flow.authorization_url(access_type="offline", prompt="consent", state=state)
    show(
        "Open this URL in a browser on any device and allow access:\n"
        f"{url}\n"
        f"The browser then fails to load {NO_BROWSER_REDIRECT_URI}: that is expected. "
        "Copy the whole address from its address bar."
    )
    answer = ask("Address (or code)").strip()
    code = answer
    if answer.startswith("http"):
        params = parse_qs(urlsplit(answer).query)
        if params.get("state", [state])[0] != state:
            raise AuthenticationError("That address belongs to another authorisation attempt: try again")
        if "error" in params:
            raise AuthenticationError(f"Google did not grant access ({params['error'][0]}): try again")
        if "code" not in params:
            raise AuthenticationError("That address carries no code: copy the whole address and try again")
        code = params["code"][0]
    if not code:
        raise AuthenticationError("No code given: try again")
    flow.fetch_token(code=code)
