"""OAuth for Microsoft calendars (Outlook.com, Microsoft 365) with msal, Microsoft's own library.

The token file is msal's serializable token cache (JSON): the signed-in account, its refresh token and the
current access token, for the user's own app registration (``client_id``). It is written atomically with
mode 0600 whenever msal changed it, and refreshed silently here. Signing in is the interactive flow (a
browser and a loopback redirect to ``http://localhost``) or the device-code flow (a code typed in on any
device), both run by msal.

msal is imported inside the functions, so importing this module (the CLI does) loads none of it; a sync
whose cached access token is still valid reads it from the cache's JSON and never loads msal at all.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from followup_cal.config.redact import register_secret
from followup_cal.config.secrets import write_private_file
from followup_cal.errors import AuthenticationError, BackendError, UsageError

if TYPE_CHECKING:
    import msal

# What a sync needs: read and write the user's events (and, for the backend, their calendars).
REQUIRED_SCOPES = ("Calendars.ReadWrite",)
# Asked for when signing in. msal adds openid, profile and offline_access (the refresh token) itself and
# refuses them here. User.Read: /me. MailboxSettings.ReadWrite: the coloured "Interview" category; a
# sync works without it, so the silent refresh asks only for REQUIRED_SCOPES.
CONSENT_SCOPES = ("Calendars.ReadWrite", "User.Read", "MailboxSettings.ReadWrite")
LOGIN_HOST = "https://login.microsoftonline.com"
DEFAULT_TENANT = "common"  # work, school and personal accounts
DEFAULT_AUTHORITY = f"{LOGIN_HOST}/{DEFAULT_TENANT}"
AUTH_AGAIN = "run `followup-cal auth microsoft` again"
EXPIRY_MARGIN = 300  # seconds: an access token this close to expiring is refreshed first (as msal does)
SIGN_IN_TIMEOUT = 600  # seconds to wait for the browser
HTTP_TIMEOUT = 30  # seconds per request to the sign-in service

# Hints for the answers an app registration set up wrongly gets (the AADSTS code starts the description).
_REGISTRATION_HINTS = {
    "AADSTS50011": "add the redirect URI http://localhost under Authentication > Mobile and desktop "
    "applications in the app registration",
    "AADSTS700016": "check --client-id (the Application (client) ID) and that the app registration allows "
    "this kind of account (Supported account types)",
    "AADSTS7000218": "turn on 'Allow public client flows' under Authentication in the app registration",
    "AADSTS90023": "turn on 'Allow public client flows' under Authentication in the app registration",
    "AADSTS65001": "the account has not consented to the permissions: sign in again and accept them",
    "AADSTS90072": "sign in with an account of the tenant the app registration belongs to, or register "
    "the app for accounts in any organizational directory and personal Microsoft accounts",
}


def authority_for(tenant: str | None = None, authority: str | None = None) -> str:
    """The authority URL: ``authority`` as configured, else Microsoft's sign-in service for ``tenant``
    (``common``, ``consumers``, ``organizations``, a tenant id or domain)."""
    if authority:
        return authority.rstrip("/")
    tenant = (tenant or DEFAULT_TENANT).strip().strip("/")
    if not tenant or "/" in tenant or " " in tenant:
        raise UsageError(
            f"--tenant {tenant!r}: expected common, consumers, organizations, a tenant id or a domain"
        )
    return f"{LOGIN_HOST}/{tenant}"


def check_client_id(client_id: str) -> str:
    """``client_id`` when it has the shape of an Application (client) ID (a GUID), else a UsageError
    before any browser opens (the config would refuse it anyway)."""
    client_id = client_id.strip()
    if not re.fullmatch(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}", client_id):
        raise UsageError(
            f"--client-id {client_id!r}: expected the Application (client) ID of your app registration, "
            "a GUID such as 00000000-0000-0000-0000-000000000000 (its Overview page shows it)"
        )
    return client_id


def revoked_message(calendar_name: str | None) -> str:
    """The one line shown when the grant was revoked or expired."""
    where = f"calendar '{calendar_name}'" if calendar_name else "your Microsoft calendars"
    return f"Microsoft access for {where} was revoked or expired: {AUTH_AGAIN}"


class TokenSource:
    """Gives a valid Microsoft Graph access token on each call, refreshing it silently with the refresh
    token in the cache (and saving the cache when msal changed it). ``refresh()`` forces a new access
    token, for a 401 from Graph."""

    def __init__(
        self, token_file: Path, client_id: str, authority: str, calendar_name: str | None, text: str
    ) -> None:
        self.token_file = token_file
        self.client_id = client_id
        self.authority = authority
        self.calendar_name = calendar_name
        try:
            self._data = json.loads(text)
        except ValueError:
            self._data = None
        if not isinstance(self._data, dict):
            raise AuthenticationError(
                f"Cannot read the Microsoft token at {token_file} (not an msal token cache): {AUTH_AGAIN}"
            )
        self._text = text
        for kind in ("AccessToken", "RefreshToken", "IdToken"):  # no log line may show a token
            for entry in _entries(self._data, kind):
                register_secret(str(entry.get("secret") or ""))
        self._cache: msal.SerializableTokenCache | None = None
        self._app: msal.PublicClientApplication | None = None
        self._token: str | None = None
        self._expires_at = 0.0

    def __call__(self) -> str:
        if self._token is not None and self._expires_at - EXPIRY_MARGIN > time.time():
            return self._token
        if self._app is None and self._from_cache():
            assert self._token is not None
            return self._token
        return self._acquire(force_refresh=False)

    @property
    def cache(self) -> msal.SerializableTokenCache:
        """msal's token cache of the file, loaded when first needed (a refresh, a sign-in check)."""
        if self._cache is None:
            import msal

            self._cache = msal.SerializableTokenCache()
            self._cache.deserialize(self._text)
        return self._cache

    def account_name(self) -> str:
        """The signed-in account's user name (its e-mail address), as the cache records it."""
        for account in _entries(self._data, "Account"):
            if account.get("username"):
                return str(account["username"])
        return "(unknown account)"

    def refresh(self) -> str:
        """A new access token from the refresh token, whatever the cached one's expiry says."""
        return self._acquire(force_refresh=True)

    def _from_cache(self) -> bool:
        """Takes a cached access token that is still valid, without msal (whose app would ask the
        sign-in service for its configuration): a sync every 15 minutes needs no request and no msal
        here. The entry is looked up as msal's ``search`` would: same client and host (msal files
        tokens under the host, without a port), its scopes a superset of the required ones."""
        if self._cache is not None:  # msal has it now, maybe refreshed since the file was read
            return False
        host = urlsplit(self.authority).hostname
        required = {scope.casefold() for scope in REQUIRED_SCOPES}
        now = time.time()
        for entry in _entries(self._data, "AccessToken"):
            scopes = {scope.casefold() for scope in str(entry.get("target", "")).split()}
            if entry.get("client_id") != self.client_id or entry.get("environment") != host:
                continue
            try:
                expires_at = float(entry.get("expires_on", 0))
            except (TypeError, ValueError):
                continue
            if required <= scopes and entry.get("secret") and expires_at - EXPIRY_MARGIN > now:
                self._token, self._expires_at = str(entry["secret"]), expires_at
                return True
        return False

    def _acquire(self, *, force_refresh: bool) -> str:
        app = self._app = self._app or build_app(self.client_id, self.authority, self.cache)
        accounts = app.get_accounts()
        if not accounts:
            raise AuthenticationError(
                f"The Microsoft token at {self.token_file} holds no signed-in account for client_id "
                f"{self.client_id}: {AUTH_AGAIN}"
            )
        try:
            result = app.acquire_token_silent_with_error(
                list(REQUIRED_SCOPES), account=accounts[0], force_refresh=force_refresh
            )
        except OSError as error:
            raise _unreachable(error) from None
        if not result or "access_token" not in result:
            raise AuthenticationError(self._refusal(result))
        token = str(result["access_token"])
        register_secret(token)
        self._token, self._expires_at = token, time.time() + float(result.get("expires_in", 0))
        if self.cache.has_state_changed:
            _register_cached_secrets(self.cache)
            write_private_file(self.token_file, self.cache.serialize())
            self.cache.has_state_changed = False
        return token

    def _refusal(self, result: dict[str, Any] | None) -> str:
        if not result:  # no refresh token for this account and client in the cache
            return (
                f"The Microsoft token at {self.token_file} holds no refresh token for client_id "
                f"{self.client_id}: {AUTH_AGAIN}"
            )
        error = str(result.get("error", ""))
        if error in ("invalid_grant", "interaction_required", "consent_required", "login_required"):
            return revoked_message(self.calendar_name)
        return f"Microsoft refused to refresh the access token ({_reason(result)}): {AUTH_AGAIN}"


def load_token_source(
    token_file: Path, client_id: str, authority: str | None, calendar_name: str | None
) -> TokenSource:
    """The access-token source for one calendar, from the msal token cache in ``token_file``.

    Reading the file happens here (a missing or broken file raises :class:`AuthenticationError` at once);
    the network only when a token is asked for and the cached one has expired: then a revoked grant raises
    AuthenticationError with one line saying to sign in again, an unreachable service BackendError.
    """
    path = token_file.expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AuthenticationError(
            f"No Microsoft token at {path}: run `followup-cal auth microsoft` first"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not text"
        raise AuthenticationError(
            f"Cannot read the Microsoft token at {path} ({reason}): {AUTH_AGAIN}"
        ) from None
    return TokenSource(path, client_id, authority_for(authority=authority), calendar_name, text)


def build_app(
    client_id: str, authority: str, cache: msal.TokenCache | None = None
) -> msal.PublicClientApplication:
    """msal's public-client app for ``authority``. Instance discovery (a request to Microsoft asking whether
    it knows the authority's host) is off: the authority is Microsoft's own or a stand-in the user set."""
    import msal

    try:
        return msal.PublicClientApplication(
            client_id,
            authority=authority,
            token_cache=cache,
            instance_discovery=False,
            timeout=HTTP_TIMEOUT,
        )
    except OSError as error:
        raise _unreachable(error) from None
    except ValueError:  # the authority's OpenID configuration could not be had
        raise UsageError(
            f"Microsoft's sign-in service does not know the authority {authority}: check --tenant "
            "(common, consumers, organizations, your tenant id or domain) or the calendar's authority"
        ) from None


def sign_in(
    client_id: str,
    authority: str,
    token_file: Path,
    *,
    device_code: bool,
    show: Callable[[str], None],
    timeout: float = SIGN_IN_TIMEOUT,
) -> str:
    """Runs the interactive flow (a browser, loopback redirect) or the device-code flow, saves the new
    token cache (mode 0600, atomically) and returns the signed-in account's name.

    ``show`` prints the instructions (the device code, or the URL when no browser opens).
    """
    import msal
    from msal.oauth2cli.oauth2 import BrowserInteractionTimeoutError

    cache = msal.SerializableTokenCache()  # a fresh sign-in replaces whatever the file held
    app = build_app(client_id, authority, cache)
    try:
        if device_code:
            flow = app.initiate_device_flow(scopes=list(CONSENT_SCOPES))
            if "user_code" not in flow:
                raise AuthenticationError(f"Microsoft did not start the device-code flow ({_reason(flow)})")
            show(str(flow["message"]))
            flow["expires_at"] = min(float(flow["expires_at"]), time.time() + timeout)
            result = app.acquire_token_by_device_flow(flow)
        else:
            show("Opening a browser to sign in to Microsoft; on a machine without one, use --device-code.")
            result = app.acquire_token_interactive(
                list(CONSENT_SCOPES),
                prompt="select_account",
                timeout=timeout,
                auth_uri_callback=lambda url: show(f"No browser opened: visit this URL to sign in:\n{url}"),
            )
    except BrowserInteractionTimeoutError:
        raise AuthenticationError(
            f"No sign-in arrived from the browser within {timeout / 60:.0f} minutes: try again, "
            "or use --device-code"
        ) from None
    except OSError as error:
        raise _unreachable(error) from None
    if "access_token" not in result:
        raise AuthenticationError(f"Microsoft did not grant access ({_reason(result)}): try again")
    _register_cached_secrets(cache)
    write_private_file(token_file.expanduser(), cache.serialize())
    claims = result.get("id_token_claims") or {}
    return str(
        claims.get("preferred_username") or claims.get("email") or claims.get("name") or "your account"
    )


def granted_scopes(token_file: Path) -> list[str]:
    """The scopes the cached tokens in ``token_file`` carry (empty when there are none)."""
    try:
        data = json.loads(token_file.expanduser().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    scopes: set[str] = set()
    for entry in (data.get("AccessToken") or {}).values():
        scopes.update(str(entry.get("target", "")).split())
    return sorted(scopes)


def _entries(data: Any, kind: str) -> list[dict[str, Any]]:
    """The entries of one kind ("AccessToken", "RefreshToken", "IdToken", "Account") in msal's token
    cache JSON."""
    section = data.get(kind) if isinstance(data, dict) else None
    if not isinstance(section, dict):
        return []
    return [entry for entry in section.values() if isinstance(entry, dict)]


def _register_cached_secrets(cache: msal.TokenCache) -> None:
    """Every token in the cache is a secret: no log line may show it."""
    import msal

    kinds = msal.TokenCache.CredentialType
    for kind in (kinds.ACCESS_TOKEN, kinds.REFRESH_TOKEN, kinds.ID_TOKEN):
        for entry in cache.search(kind):
            register_secret(str(entry.get("secret") or ""))


def _reason(result: dict[str, Any]) -> str:
    """``error: first line of the description`` plus a hint for a known app-registration mistake."""
    error = str(result.get("error") or "unknown error")
    description = str(result.get("error_description") or "").strip().splitlines()
    first = description[0] if description else ""
    text = f"{error}: {first}" if first else error
    code = first.split(":", 1)[0].strip()
    hint = _REGISTRATION_HINTS.get(code)
    return f"{text}; {hint}" if hint else text


def _unreachable(error: OSError) -> BackendError:
    name = type(error).__name__
    return BackendError(
        f"Could not reach Microsoft's sign-in service ({name}): check the network connection and try again"
    )
