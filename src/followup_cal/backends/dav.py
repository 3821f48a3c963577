"""The WebDAV/CalDAV protocol layer under the caldav backend: one HTTP session per account (niquests, the
caldav library's HTTP client, with its Basic or Digest auth as the server's challenge asks), requests with
timeouts and bounded retries, errors turned into one clear line, and multistatus parsing. Calendar
discovery is in dav_discovery.py. The caldav library itself (which loads icalendar and more) is imported
only to find an account's calendar home, so a sync that finds nothing changed stays quick to start.
"""

from __future__ import annotations

import math
import os
import re
import socket
import ssl
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast
from urllib.parse import unquote, urljoin, urlsplit

if TYPE_CHECKING:
    import niquests

from followup_cal.backends.http import DEFAULT_TIMEOUT, RetryPolicy, is_transient, parse_retry_after
from followup_cal.errors import AuthenticationError, BackendError, TransientError

DAV = "{DAV:}"
CALDAV = "{urn:ietf:params:xml:ns:caldav}"

SAFE_TO_REDIRECT = frozenset({"GET", "OPTIONS"})
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PROPFIND", "REPORT"})
# Answers to a write that say the server takes fewer writes at once than it was sent.
CONTENTION_STATUSES = frozenset({423, 429, 503})
REDIRECTS = frozenset({301, 302, 307, 308})
MAX_REDIRECTS = 5
PROXY_VARIABLES = frozenset({"http_proxy", "https_proxy", "all_proxy"})


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]  # case-insensitive (the HTTP library's own mapping)
    body: bytes
    url: str  # after any redirect
    attempts: int = 1  # >1: an earlier attempt may have reached the server

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


@dataclass
class DavResource:
    """One ``<response>`` of a multistatus: its href and the properties found (status 200) in it."""

    href: str  # as the server sent it (percent-encoded path or URL)
    status: int  # the response's own status, or 200 when it reported properties
    props: dict[str, ET.Element] = field(default_factory=dict)

    def text(self, name: str) -> str | None:
        element = self.props.get(name)
        return None if element is None else (element.text or "")


class DavSession:
    """Requests towards one CalDAV account, with the caldav library's session and authentication."""

    def __init__(
        self,
        url: str,
        *,
        label: str,
        username: str | None = None,
        password: str | None = None,
        verify: bool = True,
        ca_bundle: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        connections: int = 1,
    ) -> None:
        self.label = label  # e.g. "calendar 'work' at https://..." (never with a password)
        self.url = url
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.verify: bool | str = ca_bundle if (ca_bundle and verify) else verify
        self.connections = connections
        # Set once the server answered a write with 423, 429 or 503: it gets one write at a time from
        # then on (see CaldavBackend.write_connections).
        self.writes_contended = False
        self._http: niquests.Session | None = None
        self.auth: niquests.auth.AuthBase | None = None
        self._credentials = (username, password) if username is not None and password is not None else None

    @property
    def http(self) -> niquests.Session:
        """The keep-alive session, made on first use (niquests takes a while to import)."""
        if self._http is None:
            import niquests

            self._http = niquests.Session(pool_maxsize=max(10, self.connections))
        return self._http

    @property
    def auth_scheme(self) -> str:
        """The scheme the server asked for so far: "basic", "digest", or "" (none yet)."""
        return type(self.auth).__name__.removeprefix("HTTP").removesuffix("Auth").lower() if self.auth else ""

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    def send_quick(
        self, method: str, url: str, body: bytes, headers: Mapping[str, str], basic: bool
    ) -> Reply | None:
        """One request with http.client alone (no session, no retries, no redirects), for the one
        question a sync that finds nothing changed asks: the answer when it is a success (2xx), else
        None, and the caller asks again through :meth:`send`, which handles authentication, retries,
        errors and proxies (with a proxy set in the environment this always answers None).
        ``basic``: the server asked for Basic auth before, so the credentials go with the request."""
        import http.client
        import ssl

        if any(name.lower() in PROXY_VARIABLES for name in os.environ):
            return None
        merged = {"User-Agent": "followup-cal", **headers}
        if basic and self._credentials is not None:
            import base64

            pair = ":".join(self._credentials).encode()
            merged["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection: http.client.HTTPConnection
        try:
            if parts.scheme == "https":
                if self.verify is False:
                    context = ssl._create_unverified_context()
                else:
                    context = ssl.create_default_context(
                        cafile=self.verify if isinstance(self.verify, str) else None
                    )
                connection = http.client.HTTPSConnection(
                    parts.hostname or "", parts.port, timeout=self.timeout, context=context
                )
            elif parts.scheme == "http":
                host = parts.hostname or ""
                connection = http.client.HTTPConnection(host, parts.port, timeout=self.timeout)
            else:
                return None
            try:
                connection.request(method, path, body or None, merged)
                response = connection.getresponse()
                data = response.read()
            finally:
                connection.close()
        except (OSError, ValueError, http.client.HTTPException):
            return None
        if not 200 <= response.status < 300:
            return None
        # An email Message, whose get() ignores case as the mapping of the full path does.
        return Reply(response.status, cast("Mapping[str, str]", response.headers), data, url)

    def send(
        self,
        method: str,
        url: str,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        *,
        retry: bool = True,
    ) -> Reply:
        """Sends one request; 429 and 5xx answers and timeouts are retried when ``retry`` (the caller
        says whether a second attempt is safe), and so is 423 Locked on a conditional write (its
        If-Match or If-None-Match keeps the retry safe). 401 raises AuthenticationError; network
        failures raise BackendError. Any other status is returned for the caller to judge."""
        headers = headers or {}
        attempts = self.retry.attempts if retry else 1
        for attempt in range(1, attempts + 1):
            try:
                reply = self._send_once(method, url, body, headers)
            except TransientError:
                if attempt == attempts:
                    raise
                self.retry.wait(attempt)
                continue
            if method not in READ_METHODS and reply.status in CONTENTION_STATUSES:
                self.writes_contended = True
            passing = is_transient(reply.status) or (reply.status == 423 and _conditional(headers))
            if passing and attempt < attempts:
                self.retry.wait(attempt, parse_retry_after(reply.header("Retry-After")))
                continue
            if reply.status == 423 and passing:
                raise TransientError(
                    f"{self.label} stayed locked (HTTP 423) through {attempt} tries of {method}: "
                    "another program may be writing to the calendar; try again later"
                )
            if passing:
                raise TransientError(
                    f"{self.label} answered HTTP {reply.status} to {method} after {attempt} tries: "
                    "the server is busy or failing; try again later"
                )
            return Reply(reply.status, reply.headers, reply.body, reply.url, attempt)
        raise AssertionError("unreachable")  # the loop returns or raises

    def _send_once(self, method: str, url: str, body: bytes, headers: Mapping[str, str]) -> Reply:
        merged = {"User-Agent": "followup-cal", **headers}
        try:
            with warnings.catch_warnings():
                if self.verify is False:  # the CLI warns about this once per run, not per request
                    warnings.filterwarnings("ignore", message=".*[Uu]nverified HTTPS")
                response = self.http.request(
                    method,
                    url,
                    data=body or None,
                    headers=merged,
                    auth=self.auth,
                    timeout=self.timeout,
                    verify=self.verify,
                    # A redirected PUT or REPORT would be re-sent without its body: only follow
                    # redirects for requests whose meaning survives that.
                    allow_redirects=method in SAFE_TO_REDIRECT,
                )
        except Exception as failure:
            raise self.network_error(failure) from failure
        reply = Reply(
            int(response.status_code or 0), response.headers, response.content or b"", str(response.url)
        )
        if reply.status == 401:
            challenge = reply.header("WWW-Authenticate")
            if self.auth is None and self._credentials is not None and challenge:
                # First contact: answer the scheme the server asked for.
                self.auth = _auth_for(challenge, *self._credentials)
                if self.auth is not None:
                    return self._send_once(method, url, body, headers)
            raise self.auth_error()
        return reply

    def auth_error(self) -> AuthenticationError:
        return AuthenticationError(f"authentication failed for {self.label}: check the username and password")

    def network_error(self, failure: BaseException) -> BackendError:
        """One clear line for an exception from the HTTP library or the caldav library."""
        import niquests

        exceptions = niquests.exceptions
        if isinstance(failure, BackendError):
            return failure
        if isinstance(failure, exceptions.SSLError):
            return BackendError(
                f"the TLS certificate of {self.label} could not be verified ({_tls_reason(failure)}): "
                "if the server uses its own certificate authority, set ca_bundle to its certificate file; "
                "verify = false turns the check off (unsafe)"
            )
        if isinstance(failure, exceptions.Timeout):
            return TransientError(f"{self.label} did not answer within {self.timeout:g} s; try again later")
        if isinstance(failure, exceptions.ConnectionError | exceptions.ChunkedEncodingError) and _broken_off(
            failure
        ):
            return TransientError(
                f"{self.label} broke the connection off ({_network_reason(failure)}); try again later"
            )
        if isinstance(failure, exceptions.ConnectionError):
            return BackendError(
                f"{self.label} is unreachable ({_network_reason(failure)}): check the url and the network"
            )
        if isinstance(failure, exceptions.InvalidURL | exceptions.MissingSchema | exceptions.InvalidSchema):
            return BackendError(f"{self.label}: the url is not a valid http(s) URL")
        return BackendError(f"{self.label}: request failed ({type(failure).__name__}: {_short(failure)})")

    def propfind(self, url: str, props: tuple[str, ...], depth: int) -> tuple[Reply, list[DavResource]]:
        for _ in range(MAX_REDIRECTS):
            reply = self.send("PROPFIND", url, propfind_body(props), _xml_headers(Depth=str(depth)))
            location = reply.header("Location")
            if reply.status not in REDIRECTS or not location:
                break
            url = urljoin(url, location)  # followed here, so that the body goes along
        if reply.status != 207:
            return reply, []
        return reply, self.parse(reply)

    def parse(self, reply: Reply) -> list[DavResource]:
        try:
            return parse_multistatus(reply.body)
        except ET.ParseError as failure:
            raise BackendError(
                f"{self.label} did not answer as a CalDAV server (unreadable XML: {failure}); check the url"
            ) from failure

    def principal_home(self) -> str:
        """The calendar home of the logged-in principal (RFC 5397, RFC 4791), found by the caldav
        library."""
        from caldav.davclient import DAVClient
        from caldav.lib import error as caldav_error

        username, password = self._credentials or (None, None)
        client = DAVClient(
            url=self.url,
            username=username,
            password=password,
            timeout=math.ceil(self.timeout),
            ssl_verify_cert=self.verify,
            enable_rfc6764=False,
        )
        try:
            return str(client.get_principal().calendar_home_set.url)
        except caldav_error.AuthorizationError as failure:
            if failure.status == 403:
                raise BackendError(
                    f"{self.label} refused access (HTTP 403): check the account's rights"
                ) from None
            raise self.auth_error() from None
        except caldav_error.DAVError as failure:
            raise BackendError(
                f"{self.label}: the server answered {failure.reason or 'with an error'}"
            ) from None
        except Exception as failure:
            raise self.network_error(failure) from failure
        finally:
            client.close()


def _conditional(headers: Mapping[str, str]) -> bool:
    return any(key.lower() in ("if-match", "if-none-match") for key in headers)


def _auth_for(challenge: str, username: str, password: str) -> niquests.auth.AuthBase | None:
    import niquests

    schemes = {part.strip().split(" ", 1)[0].lower() for part in challenge.split(",") if part.strip()}
    if "digest" in schemes:
        digest = niquests.auth.HTTPDigestAuth(username, password)
        # Answer the challenge already in hand rather than let the first request be refused again.
        digest.init_per_thread_state()
        state = digest._thread_local.get(None)
        if state is not None:
            state.chal = niquests.utils.parse_dict_header(re.sub(r"(?i)^.*?digest ", "", challenge, count=1))
            state.last_nonce = str(state.chal.get("nonce") or "")
        return digest
    if "basic" in schemes:
        return niquests.auth.HTTPBasicAuth(username, password)
    return None


def _causes(failure: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = failure
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _broken_off(failure: BaseException) -> bool:
    """True when the connection failed after it was made (closed without an answer, an answer cut short):
    worth another try, unlike a refused connection or an unknown host name."""
    return not any(isinstance(cause, ConnectionRefusedError | socket.gaierror) for cause in _causes(failure))


def _network_reason(failure: BaseException) -> str:
    for cause in reversed(_causes(failure)):  # the innermost cause says it best
        if isinstance(cause, socket.gaierror):
            return "the host name could not be resolved"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, TimeoutError):
            return "connection timed out"
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror
    return _short(failure)


def _tls_reason(failure: BaseException) -> str:
    for cause in reversed(_causes(failure)):
        if isinstance(cause, ssl.SSLCertVerificationError) and cause.verify_message:
            return str(cause.verify_message)
    return _short(failure)


def _short(failure: BaseException) -> str:
    text = str(failure).splitlines()[0] if str(failure) else type(failure).__name__
    return text[:200]


def _xml_headers(**extra: str) -> dict[str, str]:
    return {"Content-Type": "application/xml; charset=utf-8", **extra}


def propfind_body(props: tuple[str, ...]) -> bytes:
    names = "".join(f"<{name}/>" for name in props)
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop>{names}</D:prop>'
        "</D:propfind>"
    ).encode()


def xml_text(value: str) -> str:
    """``value`` as XML character data (what xml.sax.saxutils.escape does, without importing xml.sax on
    the no-op path)."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def sync_collection_body(token: str) -> bytes:
    """An RFC 6578 sync-collection REPORT asking only for the etags of what changed since ``token``."""
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<D:sync-collection xmlns:D="DAV:"><D:sync-token>{xml_text(token)}</D:sync-token>'
        "<D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>"
    ).encode()


def sync_token_in(body: bytes) -> str | None:
    """The new ``DAV:sync-token`` at the top of a sync-collection answer."""
    token = ET.fromstring(body).findtext(f"{DAV}sync-token")
    return token.strip() if token and token.strip() else None


def calendar_query_body(event_filter: str) -> bytes:
    """A calendar-query REPORT for VEVENT objects matching ``event_filter`` (XML inside the VEVENT
    comp-filter), asking for each object's ETag and data."""
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
        "<D:prop><D:getetag/><C:calendar-data/></D:prop>"
        '<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">'
        f"{event_filter}</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"
    ).encode()


def time_range_filter(start_utc: str, end_utc: str) -> str:
    return f'<C:time-range start="{start_utc}" end="{end_utc}"/>'


def uid_filter(uid: str) -> str:
    # text-match is a substring match (RFC 4791 9.7.5): the caller keeps only exact UIDs.
    return (
        '<C:prop-filter name="UID">'
        f'<C:text-match collation="i;octet">{xml_text(uid)}</C:text-match></C:prop-filter>'
    )


def parse_multistatus(body: bytes) -> list[DavResource]:
    root = ET.fromstring(body)
    resources: list[DavResource] = []
    for response in root.iter(f"{DAV}response"):
        href = (response.findtext(f"{DAV}href") or "").strip()
        resource = DavResource(href, _status_code(response.findtext(f"{DAV}status")) or 200)
        for propstat in response.findall(f"{DAV}propstat"):
            if _status_code(propstat.findtext(f"{DAV}status")) != 200:
                continue
            prop = propstat.find(f"{DAV}prop")
            for element in prop if prop is not None else ():
                resource.props[element.tag] = element
        resources.append(resource)
    return resources


@dataclass(frozen=True)
class Precondition:
    """The precondition or postcondition a server named in a DAV:error body (RFC 4918 16)."""

    name: str  # "{namespace}local-name" of the element
    hrefs: tuple[str, ...]  # any DAV:href inside it (e.g. the object already holding the UID)

    @property
    def local_name(self) -> str:
        return self.name.rsplit("}", 1)[-1]


def preconditions_in(body: bytes) -> list[Precondition]:
    """The DAV and CalDAV conditions named by a DAV:error answer; none when the body is not such XML.
    Elements of other namespaces are a server's own notes (SabreDAV's s:exception, s:message)."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return []
    if root.tag != f"{DAV}error":
        return []
    found = []
    for element in root:
        if not element.tag.startswith((DAV, CALDAV)):
            continue
        hrefs = ((href.text or "").strip() for href in element.iter(f"{DAV}href"))
        found.append(Precondition(element.tag, tuple(href for href in hrefs if href)))
    return found


def _status_code(status_line: str | None) -> int | None:
    parts = (status_line or "").split()
    return int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else None


def same_path(href_a: str, href_b: str) -> bool:
    return unquote(urlsplit(href_a).path).rstrip("/") == unquote(urlsplit(href_b).path).rstrip("/")


def collection_url(url: str) -> str:
    """A collection's URL ends with a slash (some servers insist)."""
    parts = urlsplit(url)
    if parts.path.endswith("/"):
        return url
    return parts._replace(path=parts.path + "/").geturl()
