"""A stand-in for the part of Google Calendar API v3 that followup-cal uses, for tests.

A threaded ``http.server`` on 127.0.0.1 and a free port that follows the documented behaviour of
events.list/get/insert/patch/update/delete/instances, calendarList.list and the OAuth token endpoint:
paging (``maxResults``/``nextPageToken``), ``singleEvents`` expansion of simple RRULEs (DAILY/WEEKLY with
COUNT/UNTIL/INTERVAL/BYDAY, EXDATE) into instances ``<id>_<YYYYMMDDTHHMMSSZ>``, ``showDeleted``,
``iCalUID``, ``syncToken`` (410 when no longer valid), client-chosen base32hex ids (409 when taken, also by
a deleted event), ``If-Match`` etags (412), deletions kept as ``cancelled`` tombstones, etags that change
on every write, Google's JSON error shape, ``fields`` partial responses of listings
(tests/google_partial.py), and injectable faults (rate limits, 5xx). The batch endpoint
``POST /batch/calendar/v3`` (tests/google_batch_endpoint.py) takes up to 50 calls as ``multipart/mixed``
parts and answers each on its own: every call is carried out, logged and faulted exactly as if sent
alone. Faults for the batch request itself are injected with ``method="BATCH"``. The expansion of
recurring events and the event times are in tests/google_recurrence.py, the listings in
tests/google_standin_listing.py, the error shape and injected faults in tests/google_standin_errors.py.

The real google-api-python-client talks to it with ``client_options={"api_endpoint": standin.api_endpoint}``.
"""

from __future__ import annotations

import copy
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

from background_server import BackgroundServer
from google_batch_endpoint import BATCH_PATH, RawAnswer, answer_batch
from google_recurrence import EventTimes, Json, parse_moment
from google_standin_errors import FAULT_REASONS, ApiError, Fault
from google_standin_listing import EventListing

BASE32HEX = frozenset("0123456789abcdefghijklmnopqrstuv")
ACCESS_TOKEN = "standin-access-token"
REFRESH_TOKEN = "standin-refresh-token"
AUTH_CODE = "standin-auth-code"
GRANTED_SCOPES = (
    "https://www.googleapis.com/auth/calendar.events",
    "https://www.googleapis.com/auth/calendar.readonly",
)


@dataclass
class LoggedRequest:
    method: str
    path: str  # below /calendar/v3, e.g. /calendars/primary/events
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    status: int = 0
    in_batch: bool = False  # one call of a batch request


@dataclass
class _Calendar:
    events: dict[str, Json] = field(default_factory=dict)  # id -> stored resource (tombstones included)
    changed: dict[str, int] = field(default_factory=dict)  # id -> change counter of its last write


class GoogleStandin(EventListing, BackgroundServer):
    """Start with ``with GoogleStandin() as standin:`` (or ``start()``/``stop()``)."""

    def __init__(self, *, owner: str = "me@example.com", timezone: str = "UTC") -> None:
        self.owner = owner
        self.timezone = ZoneInfo(timezone)  # the calendars' zone: all-day events start at its midnight
        self.lock = threading.RLock()
        self.request_log: list[LoggedRequest] = []
        self.batch_sizes: list[int] = []  # calls in each batch request answered
        self.batch_delay = 0.0  # seconds each batch request is held before its calls are carried out
        self.batches_in_flight = 0
        self.most_batches_at_once = 0  # batch requests being answered at one time, at most
        self.access_tokens = {ACCESS_TOKEN}
        self.refresh_tokens = {REFRESH_TOKEN: True}  # token -> still valid
        self.auth_codes = {AUTH_CODE}  # codes the consent screen would hand out
        self.granted_scopes = GRANTED_SCOPES
        self.token_requests: list[dict[str, str]] = []  # forms posted to the token endpoint (successes)
        self._calendars: dict[str, _Calendar] = {"primary": _Calendar()}
        self.access_roles: dict[str, str] = {}  # calendar id -> accessRole other than "owner"
        self._faults: list[Fault] = []
        self._counter = 0
        self._sync_floor = 0  # sync tokens older than this answer 410
        BackgroundServer.__init__(self, _Handler)

    @property
    def api_endpoint(self) -> str:
        return self.url + "calendar/v3/"

    @property
    def token_uri(self) -> str:
        return self.url + "token"

    @property
    def times(self) -> EventTimes:
        return EventTimes(self.timezone)

    # -- test helpers -------------------------------------------------------------------------------

    def inject_faults(
        self, status: int, count: int = 1, *, method: str | None = None, after_processing: bool = False
    ) -> None:
        """The next ``count`` API requests (of ``method``, if given) answer ``status`` in Google's shape.
        Calls inside a batch count as requests; ``method="BATCH"`` faults the batch request itself."""
        with self.lock:
            self._faults.append(Fault(status, count, method, after_processing))

    def revoke(self, refresh_token: str = REFRESH_TOKEN) -> None:
        """The grant is revoked: refreshing answers 400 invalid_grant, issued access tokens stop working."""
        with self.lock:
            self.refresh_tokens[refresh_token] = False
            self.access_tokens.clear()

    def invalidate_sync_tokens(self) -> None:
        with self.lock:
            self._sync_floor = self._counter + 1

    def add_calendar(self, calendar_id: str) -> None:
        with self.lock:
            self._calendars.setdefault(calendar_id, _Calendar())

    def add_event(self, calendar_id: str, body: Json) -> Json:
        """Stores an event as if another client had inserted it; returns the stored resource."""
        with self.lock:
            self.add_calendar(calendar_id)
            return self._insert(calendar_id, copy.deepcopy(body))

    def seed(self, calendar_id: str, bodies: list[Json]) -> None:
        """Stores many events at once as another client would have inserted them (ids and iCalUIDs
        assumed unique: the one-by-one checks of ``add_event`` cost O(n) each)."""
        with self.lock:
            self.add_calendar(calendar_id)
            calendar = self._calendars[calendar_id]
            for body in bodies:
                event = {"kind": "calendar#event", "status": "confirmed", **copy.deepcopy(body)}
                event.setdefault("organizer", {"email": self.owner, "self": True})
                self._touch(calendar_id, event)
                calendar.events[event["id"]] = event

    def copy_of(self) -> GoogleStandin:
        """A new stand-in (not started) holding the same calendars, at the same change counter."""
        other = GoogleStandin(owner=self.owner, timezone=str(self.timezone))
        with self.lock:
            other._calendars = copy.deepcopy(self._calendars)
            other._counter = self._counter
        return other

    def modify_event(self, calendar_id: str, event_id: str, changes: Json) -> Json:
        """Patches an event (or an instance id) as another client would; returns the stored resource."""
        with self.lock:
            return self._patch(calendar_id, event_id, copy.deepcopy(changes), if_match=None)

    def delete_event(self, calendar_id: str, event_id: str) -> None:
        with self.lock:
            self._delete(calendar_id, event_id, if_match=None)

    def events(self, calendar_id: str) -> list[Json]:
        """Every stored resource of the calendar, tombstones and instance exceptions included."""
        with self.lock:
            return [copy.deepcopy(e) for e in self._cal(calendar_id).events.values()]

    def requests_to(self, method: str, path_part: str = "") -> list[LoggedRequest]:
        with self.lock:
            return [r for r in self.request_log if r.method == method and path_part in r.path]

    # -- dispatch -----------------------------------------------------------------------------------

    def handle(self, method: str, raw_path: str, headers: dict[str, str], raw_body: bytes) -> tuple[int, Any]:
        parts = urlsplit(raw_path)
        path = parts.path
        if path.startswith("/calendar/v3/"):
            path = path[len("/calendar/v3") :]
        query = parse_qs(parts.query, keep_blank_values=True)
        if path == "/token" and method == "POST":
            return self._token(parse_qs(raw_body.decode()))
        if path == "/discovery/v1/apis/calendar/v3/rest":
            return 200, self._discovery()
        if parts.path == BATCH_PATH:
            return answer_batch(self, method, headers, raw_body)
        return self.call(method, path, query, headers, raw_body)

    def call(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        raw_body: bytes,
        *,
        in_batch: bool = False,
    ) -> tuple[int, Any]:
        try:
            body = json.loads(raw_body) if raw_body else None
        except ValueError:
            body = None
        entry = LoggedRequest(method, path, query, headers, body, in_batch=in_batch)
        with self.lock:
            self.request_log.append(entry)
            status, answer = self._api(method, path, query, headers, body)
            entry.status = status
        return status, answer

    def _api(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        auth = headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth[len("Bearer ") :] not in self.access_tokens:
            return 401, ApiError(401, "authError", "Invalid Credentials").body()
        fault = self.take_fault(method)
        if fault is not None and not fault.after_processing:
            return self.fault_answer(fault.status)
        try:
            status, answer = self._route(method, path, query, headers, body)
        except ApiError as error:
            status, answer = error.code, error.body()
        if fault is not None:
            return self.fault_answer(fault.status)
        return status, answer

    def take_fault(self, method: str) -> Fault | None:
        for fault in self._faults:
            if fault.count > 0 and (fault.method == method or (fault.method is None and method != "BATCH")):
                fault.count -= 1
                return fault
        return None

    @staticmethod
    def fault_answer(status: int) -> tuple[int, Json]:
        domain, reason, message = FAULT_REASONS.get(status, ("global", "backendError", "Backend Error"))
        return status, ApiError(status, reason, message, domain).body()

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        seg = [unquote(s) for s in path.strip("/").split("/")]
        if seg == ["users", "me", "calendarList"] and method == "GET":
            return 200, self._calendar_list()
        if len(seg) < 3 or seg[0] != "calendars" or seg[2] != "events":
            raise ApiError(404, "notFound", "Not Found")
        calendar_id = seg[1]
        if_match = headers.get("if-match")
        if len(seg) == 3 and method == "GET":
            return 200, self._list(calendar_id, query)
        if len(seg) == 3 and method == "POST":
            if not isinstance(body, dict):
                raise ApiError(400, "parseError", "Parse Error")
            self._cal(calendar_id)
            return 200, self._insert(calendar_id, body, validate=True)
        if len(seg) == 5 and seg[4] == "instances" and method == "GET":
            return 200, self._instances(calendar_id, seg[3], query)
        if len(seg) != 4:
            raise ApiError(404, "notFound", "Not Found")
        event_id = seg[3]
        if method == "GET":
            return 200, self._get(calendar_id, event_id)
        if method == "PATCH":
            return 200, self._patch(calendar_id, event_id, body or {}, if_match)
        if method == "PUT":
            return 200, self._update(calendar_id, event_id, body or {}, if_match)
        if method == "DELETE":
            self._delete(calendar_id, event_id, if_match)
            return 204, None
        raise ApiError(405, "httpMethodNotAllowed", "Method Not Allowed")

    # -- storage ------------------------------------------------------------------------------------

    def _cal(self, calendar_id: str) -> _Calendar:
        calendar = self._calendars.get(calendar_id)
        if calendar is None:
            raise ApiError(404, "notFound", "Not Found")
        return calendar

    def _touch(self, calendar_id: str, event: Json) -> None:
        self._counter += 1
        event["etag"] = f'"{3_300_000_000_000_000 + self._counter * 1000}"'
        event["updated"] = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        calendar = self._calendars[calendar_id]
        calendar.events[event["id"]] = event
        calendar.changed[event["id"]] = self._counter

    def _new_id(self, calendar: _Calendar) -> str:
        number = self._counter * 7919 + len(calendar.events) + 1
        digits = "0123456789abcdefghijklmnopqrstuv"
        text = ""
        while number:
            number, rest = divmod(number, 32)
            text = digits[rest] + text
        return f"standin{text:0>8}"

    def _insert(self, calendar_id: str, body: Json, *, validate: bool = False) -> Json:
        calendar = self._calendars[calendar_id]
        event_id = body.get("id")
        if event_id is None:
            event_id = self._new_id(calendar)
        elif validate and not (5 <= len(event_id) <= 1024 and set(event_id) <= BASE32HEX):
            raise ApiError(400, "invalid", "Invalid resource id value.")
        if event_id in calendar.events:
            raise ApiError(409, "duplicate", "The requested identifier already exists.")
        for key in ("start", "end"):
            if not isinstance(body.get(key), dict) or not ({"date", "dateTime"} & body[key].keys()):
                raise ApiError(400, "required", f"Missing {key} time.")
        ical_uid = body.get("iCalUID") or f"{event_id}@google.com"
        for other in calendar.events.values():
            live = other.get("status") != "cancelled" and "recurringEventId" not in other
            if live and other.get("iCalUID") == ical_uid:
                raise ApiError(409, "duplicate", "The requested identifier already exists.")
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        person = {"email": self.owner, "self": True}
        event: Json = {
            "kind": "calendar#event",
            "status": "confirmed",
            "htmlLink": f"{self.url}event?eid={event_id}",
            "created": now,
            "creator": person,
            "organizer": person,
            "sequence": 0,
            "reminders": {"useDefault": True},
            "eventType": "default",
            **body,
            "id": event_id,
            "iCalUID": ical_uid,
        }
        self._touch(calendar_id, event)
        return copy.deepcopy(event)

    def _stored_or_instance(self, calendar_id: str, event_id: str) -> Json:
        """The stored resource, else the generated instance of a series with that instance id."""
        calendar = self._cal(calendar_id)
        if event_id in calendar.events:
            return calendar.events[event_id]
        master_id, sep, rid_text = event_id.rpartition("_")
        master = calendar.events.get(master_id) if sep else None
        if master is not None and master.get("recurrence"):
            try:
                original = parse_moment(rid_text)
            except ValueError:
                original = None
            if original is not None:
                for instance in self.times.expand_at(master, calendar.events, original):
                    if instance["id"] == event_id:
                        return instance
        raise ApiError(404, "notFound", "Not Found")

    def _get(self, calendar_id: str, event_id: str) -> Json:
        return copy.deepcopy(self._stored_or_instance(calendar_id, event_id))

    @staticmethod
    def _check_etag(event: Json, if_match: str | None) -> None:
        if if_match is not None and if_match != "*" and if_match != event.get("etag"):
            raise ApiError(412, "conditionNotMet", "Precondition Failed")

    def _patch(self, calendar_id: str, event_id: str, changes: Json, if_match: str | None) -> Json:
        event = copy.deepcopy(self._stored_or_instance(calendar_id, event_id))
        self._check_etag(event, if_match)
        for fixed in ("id", "iCalUID", "recurringEventId", "originalStartTime", "etag", "kind"):
            changes.pop(fixed, None)
        _merge(event, changes)
        self._touch(calendar_id, event)
        return copy.deepcopy(event)

    def _update(self, calendar_id: str, event_id: str, body: Json, if_match: str | None) -> Json:
        old = self._stored_or_instance(calendar_id, event_id)
        self._check_etag(old, if_match)
        keep = ("id", "iCalUID", "recurringEventId", "originalStartTime", "created", "creator", "organizer")
        event = {k: v for k, v in body.items() if v is not None}
        event.update({k: copy.deepcopy(old[k]) for k in keep if k in old})
        event.setdefault("kind", "calendar#event")
        event.setdefault("status", "confirmed")
        self._touch(calendar_id, event)
        return copy.deepcopy(event)

    def _delete(self, calendar_id: str, event_id: str, if_match: str | None) -> None:
        event = copy.deepcopy(self._stored_or_instance(calendar_id, event_id))
        if event.get("status") == "cancelled":
            raise ApiError(410, "deleted", "Resource has been deleted")
        self._check_etag(event, if_match)
        event["status"] = "cancelled"
        self._touch(calendar_id, event)

    # -- reading (events.list and events.instances: google_standin_listing.py) ------------------------

    def _calendar_list(self) -> Json:
        entries = [
            {
                "kind": "calendar#calendarListEntry",
                "id": self.owner if name == "primary" else name,
                "summary": self.owner if name == "primary" else name,
                "primary": name == "primary",
                "accessRole": self.access_roles.get(name, "owner"),
                "timeZone": str(self.timezone),
            }
            for name in self._calendars
        ]
        return {"kind": "calendar#calendarList", "items": entries}

    # -- OAuth and discovery ------------------------------------------------------------------------

    def _token(self, form: dict[str, list[str]]) -> tuple[int, Json]:
        """The OAuth token endpoint: ``refresh_token`` and ``authorization_code`` (codes in auth_codes)."""
        with self.lock:
            grant = form.get("grant_type", [""])[0]
            answer: Json = {"expires_in": 3599, "token_type": "Bearer"}
            if grant == "refresh_token":
                if not self.refresh_tokens.get(form.get("refresh_token", [""])[0], False):
                    return 400, {
                        "error": "invalid_grant",
                        "error_description": "Token has been expired or revoked.",
                    }
                answer["scope"] = " ".join(self.granted_scopes)
            elif grant == "authorization_code":
                code = form.get("code", [""])[0]
                if code not in self.auth_codes or not form.get("code_verifier"):
                    return 400, {"error": "invalid_grant", "error_description": "Malformed auth code."}
                self.auth_codes.discard(code)
                self._counter += 1
                answer["refresh_token"] = f"standin-refresh-{self._counter}"
                self.refresh_tokens[answer["refresh_token"]] = True
            else:
                return 400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type."}
            self._counter += 1
            answer["access_token"] = f"standin-access-{self._counter}"
            self.access_tokens.add(answer["access_token"])
            self.token_requests.append({k: v[0] for k, v in form.items()})
            return 200, answer

    def _discovery(self) -> Json:
        import googleapiclient

        documents = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents"
        document: Json = json.loads((documents / "calendar.v3.json").read_text())
        document["rootUrl"] = self.url
        document["baseUrl"] = self.api_endpoint
        return document


def _merge(target: Json, changes: Json) -> None:
    """Patch semantics: objects merge, arrays and scalars replace, ``null`` removes."""
    for key, value in changes.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        standin: GoogleStandin = self.server.standin  # type: ignore[attr-defined]
        status, answer = standin.handle(self.command, self.path, headers, raw_body)
        if isinstance(answer, RawAnswer):
            data, content_type = answer.data, answer.content_type
        else:
            data = b"" if answer is None else json.dumps(answer).encode()
            content_type = "application/json; charset=UTF-8"
        self.send_response(status)
        if data:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass
