"""A stand-in of the Microsoft identity platform (login.microsoftonline.com) on 127.0.0.1, for the real msal.

msal accepts only an https authority, so the stand-in serves TLS with a certificate from a test CA it makes
on start (``ca_file``; point requests at it with ``REQUESTS_CA_BUNDLE``, as the ``identity`` fixture
does). It serves what msal asks for, with followup-cal's ``instance_discovery=False``:

- ``GET /{tenant}/v2.0/.well-known/openid-configuration`` (tenant discovery);
- ``GET /{tenant}/oauth2/v2.0/authorize``: the sign-in page after the user said yes: an HTML form that
  posts ``code``, ``state`` and ``client_info`` to the redirect URI (``response_mode=form_post``), as
  Entra does; :func:`consenting_browser` plays the user's browser;
- ``POST /{tenant}/oauth2/v2.0/devicecode`` and the token endpoint ``POST /{tenant}/oauth2/v2.0/token``
  for the ``authorization_code`` (PKCE checked), ``refresh_token`` and device-code grants.

Access tokens it issued and that are still good are in ``valid_tokens``: the Graph stand-in accepts a
bearer token only from there. ``revoke()`` ends the grant (refreshing answers ``invalid_grant`` and the
access tokens stop working); ``write_token_cache()`` signs the test account in with the real msal and
saves its token cache, as ``followup-cal auth microsoft`` would. The requests it makes are not logged.
The test CA and the TLS server are in tests/local_tls.py.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import secrets
import ssl
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from local_tls import TlsServer, write_test_ca

Json = dict[str, Any]

CLIENT_ID = "11111111-2222-3333-4444-555555555555"  # the test app registration
TENANT_ID = "9188040d-6c67-4c5b-b112-36a304b66dad"  # the tenant of personal accounts
USER_OID = "00000000-0000-0000-66f3-3332eca7ea81"
USERNAME = "alice@outlook.example"
RESERVED_SCOPES = frozenset({"openid", "profile", "offline_access", "email"})
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
ACCESS_TOKEN_LIFETIME = 3599  # seconds, as Entra's (60 to 90 minutes)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned_jwt(claims: Json) -> str:
    """msal reads an ID token's claims without checking its signature (since 1.38), so none is made."""
    header = _b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{_b64url(json.dumps(claims).encode())}."


class MicrosoftIdentity:
    """Start with ``with MicrosoftIdentity() as identity:``; ``identity.authority`` is the authority URL
    (tenant ``common``) to put in a calendar's ``authority``."""

    def __init__(self, *, client_ids: Iterable[str] = (CLIENT_ID,), username: str = USERNAME) -> None:
        self.lock = threading.RLock()
        self.client_ids = set(client_ids)
        self.username = username
        # Scopes the user consents to when asked; anything else asked for is left out of the grant.
        self.grantable_scopes = {"Calendars.ReadWrite", "User.Read", "MailboxSettings.ReadWrite"}
        self.consented: set[str] = set()  # what the user consented to: every later token carries it
        self.valid_tokens: set[str] = set()  # access tokens Graph accepts
        self.refresh_tokens: dict[str, bool] = {}  # token -> still valid
        self.token_requests: list[dict[str, str]] = []  # every form posted to the token endpoint
        self.requests: list[str] = []  # "METHOD /path" of every request
        self.device_code_requests: list[dict[str, str]] = []  # forms posted to the devicecode endpoint
        self.access_token_lifetime = ACCESS_TOKEN_LIFETIME
        self.device_polls_before_approval = 1  # "authorization_pending" answers before the user is done
        self.decline = False  # the user says no on the consent screen
        self._codes: dict[str, Json] = {}  # authorization code -> the authorize request's parameters
        self._devices: dict[str, Json] = {}  # device code -> its state
        self._counter = 0
        self._folder = tempfile.TemporaryDirectory(prefix="followup-cal-identity-")
        self.ca_file, cert_file, key_file = write_test_ca(Path(self._folder.name))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        self._server = TlsServer(("127.0.0.1", 0), _Handler, context)
        self._server.identity = self
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    # -- lifecycle and addresses --------------------------------------------------------------------

    def start(self) -> MicrosoftIdentity:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._folder.cleanup()

    def __enter__(self) -> MicrosoftIdentity:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    @property
    def authority(self) -> str:
        return f"{self.base_url}/common"

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    # -- test helpers -------------------------------------------------------------------------------

    def revoke(self) -> None:
        """The user revoked the app's access (or the grant expired): refreshing answers 400
        ``invalid_grant``, and the access tokens issued so far stop working."""
        with self.lock:
            for token in self.refresh_tokens:
                self.refresh_tokens[token] = False
            self.valid_tokens.clear()

    def expire_access_tokens(self) -> None:
        """The access tokens stop working early (Graph answers 401); refresh tokens still work."""
        with self.lock:
            self.valid_tokens.clear()

    def grants(self, grant_type: str) -> list[dict[str, str]]:
        """The forms posted to the token endpoint with this grant type."""
        with self.lock:
            return [form for form in self.token_requests if form.get("grant_type") == grant_type]

    def write_token_cache(self, path: Path, client_id: str = CLIENT_ID, *, expired: bool = False) -> Json:
        """Signs the test account in with the real msal (a refresh token the stand-in hands out, redeemed
        through msal's ``acquire_token_by_refresh_token``) and saves msal's token cache to ``path`` (mode
        0600), as ``followup-cal auth microsoft`` does. With ``expired`` the cached access token has
        already expired, so the first use refreshes it. The requests it makes are not logged."""
        import msal
        import requests

        from followup_cal.backends.microsoft_auth import CONSENT_SCOPES
        from followup_cal.config.secrets import write_private_file

        with self.lock:
            refresh_token = self._new_refresh_token()
            lifetime, self.access_token_lifetime = self.access_token_lifetime, 0 if expired else 3599
            logged, logged_requests = len(self.token_requests), len(self.requests)
        cache = msal.SerializableTokenCache()
        session = requests.Session()
        session.trust_env = False  # REQUESTS_CA_BUNDLE would win over verify
        session.verify = str(self.ca_file)
        app = msal.PublicClientApplication(
            client_id,
            authority=self.authority,
            token_cache=cache,
            instance_discovery=False,
            http_client=session,
        )
        try:
            result = app.acquire_token_by_refresh_token(refresh_token, list(CONSENT_SCOPES))
        finally:
            with self.lock:
                self.access_token_lifetime = lifetime
                del self.token_requests[logged:]
                del self.requests[logged_requests:]
        assert "access_token" in result, result
        write_private_file(path, cache.serialize())
        return dict(result)

    # -- the endpoints ------------------------------------------------------------------------------

    def handle(self, method: str, raw_path: str, body: bytes) -> tuple[int, str, str]:
        """(status, content type, body) for one request."""
        parts = urlsplit(raw_path)
        with self.lock:
            self.requests.append(f"{method} {parts.path}")
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        form = {key: values[0] for key, values in parse_qs(body.decode()).items()}
        match = re.fullmatch(r"/([^/]+)(/.*)", parts.path)
        if match is None:
            return _json(404, {"error": "not_found"})
        tenant, rest = match.groups()
        if method == "GET" and rest == "/v2.0/.well-known/openid-configuration":
            return _json(200, self._configuration(tenant))
        if method == "GET" and rest == "/oauth2/v2.0/authorize":
            return self._authorize(query)
        if method == "POST" and rest == "/oauth2/v2.0/devicecode":
            return _json(*self._device_code(tenant, form))
        if method == "POST" and rest == "/oauth2/v2.0/token":
            return _json(*self._token(tenant, form))
        return _json(404, {"error": "not_found", "error_description": f"no {method} {parts.path}"})

    def _configuration(self, tenant: str) -> Json:
        base = f"{self.base_url}/{tenant}"
        return {
            "issuer": f"{self.base_url}/{TENANT_ID}/v2.0",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
        }

    def _authorize(self, query: dict[str, str]) -> tuple[int, str, str]:
        """The page the browser gets once the user has signed in and consented."""
        redirect_uri = query.get("redirect_uri", "")
        if query.get("client_id") not in self.client_ids:
            return _html(400, "AADSTS700016: Application not found in the directory.")
        if not redirect_uri.startswith("http://localhost"):
            return _html(400, "AADSTS50011: The redirect URI does not match the ones configured.")
        if query.get("response_mode") != "form_post" or query.get("code_challenge_method") != "S256":
            return _html(400, "AADSTS90014: form_post and a PKCE S256 code challenge are expected.")
        with self.lock:
            if self.decline:
                fields = {
                    "error": "access_denied",
                    "error_description": "AADSTS65004: User declined to consent to access the app.",
                }
            else:
                self._counter += 1
                code = f"standin-code-{self._counter}-{secrets.token_hex(4)}"
                self._codes[code] = dict(query)
                fields = {"code": code, "client_info": self._client_info()}
        fields["state"] = query.get("state", "")
        inputs = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
            for name, value in fields.items()
        )
        page = (
            f'<html><body onload="document.forms[0].submit()"><form method="POST" '
            f'action="{html.escape(redirect_uri)}">{inputs}</form></body></html>'
        )
        return 200, "text/html; charset=utf-8", page

    def _device_code(self, tenant: str, form: dict[str, str]) -> tuple[int, Json]:
        if form.get("client_id") not in self.client_ids:
            return 400, _error("unauthorized_client", "AADSTS700016: Application not found in the directory.")
        with self.lock:
            self.device_code_requests.append(dict(form))
            self._counter += 1
            device_code = f"standin-device-{self._counter}-{secrets.token_hex(8)}"
            user_code = f"CODE{self._counter:04d}"
            self._devices[device_code] = {
                "scope": form.get("scope", ""),
                "client_id": form["client_id"],
                "polls": 0,
                "user_code": user_code,
            }
        uri = f"{self.base_url}/{tenant}/devicelogin"
        return 200, {
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": uri,
            "expires_in": 900,
            "interval": 1,
            "message": f"To sign in, use a web browser to open the page {uri} and enter the code "
            f"{user_code} to authenticate.",
        }

    def _token(self, tenant: str, form: dict[str, str]) -> tuple[int, Json]:
        with self.lock:
            self.token_requests.append(dict(form))
            if form.get("client_id") not in self.client_ids:
                return 400, _error("unauthorized_client", "AADSTS700016: Application not found.")
            grant = form.get("grant_type", "")
            if grant == "refresh_token":
                if not self.refresh_tokens.get(form.get("refresh_token", ""), False):
                    return 400, _error(
                        "invalid_grant",
                        "AADSTS50173: The provided grant has expired due to it being revoked, a fresh auth "
                        "token is needed. The user might have changed or reset their password.",
                    )
                return 200, self._tokens(form.get("scope", ""))
            if grant == "authorization_code":
                return self._redeem_code(form)
            if grant == DEVICE_GRANT:
                return self._redeem_device_code(form)
            return 400, _error(
                "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type."
            )

    def _redeem_code(self, form: dict[str, str]) -> tuple[int, Json]:
        request = self._codes.pop(form.get("code", ""), None)
        if request is None:
            return 400, _error("invalid_grant", "AADSTS70000: The provided authorization code is invalid.")
        verifier = form.get("code_verifier", "")
        challenge = _b64url(hashlib.sha256(verifier.encode()).digest())
        if challenge != request.get("code_challenge"):
            return 400, _error(
                "invalid_grant", "AADSTS501481: The Code_Verifier does not match the code_challenge."
            )
        if form.get("redirect_uri") != request.get("redirect_uri"):
            return 400, _error("invalid_grant", "AADSTS70000: The redirect URI does not match.")
        return 200, self._tokens(request.get("scope", ""), nonce=request.get("nonce"))

    def _redeem_device_code(self, form: dict[str, str]) -> tuple[int, Json]:
        device = self._devices.get(form.get("device_code", ""))
        if device is None:
            return 400, _error(
                "expired_token",
                "AADSTS70020: The provided value for the input parameter 'device_code' is not valid.",
            )
        device["polls"] += 1
        if device["polls"] <= self.device_polls_before_approval:
            return 400, _error(
                "authorization_pending", "AADSTS70016: OAuth 2.0 device flow error. Authorization is pending."
            )
        if self.decline:
            return 400, _error("authorization_declined", "AADSTS70019: The user declined the sign-in.")
        del self._devices[form["device_code"]]
        return 200, self._tokens(device["scope"])

    def _tokens(self, requested: str, *, nonce: str | None = None) -> Json:
        """A token response: access, refresh and ID token for the test account (rotating the refresh token,
        as Entra does on every redemption). Its scopes are all the user consented to, as Entra's are."""
        self.consented |= {s for s in requested.split() if s in self.grantable_scopes}
        scopes = sorted(self.consented)
        access_token = f"standin-ms-access-{self._next()}-{secrets.token_hex(8)}"
        self.valid_tokens.add(access_token)
        now = int(time.time())
        claims: Json = {
            "aud": CLIENT_ID,
            "iss": f"{self.base_url}/{TENANT_ID}/v2.0",
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "name": "Alice Example",
            "oid": USER_OID,
            "preferred_username": self.username,
            "sub": "standin-subject",
            "tid": TENANT_ID,
            "ver": "2.0",
        }
        if nonce:
            claims["nonce"] = nonce
        return {
            "token_type": "Bearer",
            "scope": " ".join([*scopes, "openid", "profile"]),
            "expires_in": self.access_token_lifetime,
            "ext_expires_in": self.access_token_lifetime,
            "access_token": access_token,
            "refresh_token": self._new_refresh_token(),
            "id_token": _unsigned_jwt(claims),
            "client_info": self._client_info(),
        }

    def _new_refresh_token(self) -> str:
        token = f"standin-ms-refresh-{self._next()}-{secrets.token_hex(8)}"
        self.refresh_tokens[token] = True
        return token

    def _next(self) -> int:
        self._counter += 1
        return self._counter

    @staticmethod
    def _client_info() -> str:
        return _b64url(json.dumps({"uid": USER_OID, "utid": TENANT_ID}).encode())


def _error(code: str, description: str) -> Json:
    number = description.removeprefix("AADSTS").split(":", 1)[0]
    return {"error": code, "error_description": description, "error_codes": [int(number)]}


def _json(status: int, answer: Json) -> tuple[int, str, str]:
    return status, "application/json; charset=utf-8", json.dumps(answer)


def _html(status: int, text: str) -> tuple[int, str, str]:
    return status, "text/html; charset=utf-8", f"<html><body>{html.escape(text)}</body></html>"


def consenting_browser(identity: MicrosoftIdentity) -> Callable[[str], bool]:
    """A user's browser that signs in and consents: a replacement for ``webbrowser.open``. It loads the
    sign-in URL from the stand-in (over TLS, trusting the test CA) and, in the background as a browser
    would, submits the form it gets back to the loopback redirect URI."""

    def open_url(url: str, *_args: Any, **_kwargs: Any) -> bool:
        with urllib.request.urlopen(url, context=identity.ssl_context()) as response:
            page = response.read().decode()
        action = html.unescape(re.search(r'action="([^"]*)"', page).group(1))  # type: ignore[union-attr]
        fields = {
            name: html.unescape(value) for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', page)
        }
        data = urlencode(fields).encode()
        threading.Thread(target=lambda: urllib.request.urlopen(action, data).read(), daemon=True).start()
        return True

    return open_url


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        identity: MicrosoftIdentity = self.server.identity  # type: ignore[attr-defined]
        status, content_type, text = identity.handle(self.command, self.path, body)
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass
