"""A stand-in for the part of Microsoft Graph v1.0 that followup-cal uses, for tests.

A threaded ``http.server`` on 127.0.0.1 and a free port: ``calendarView`` (occurrences expanded, paged by
``@odata.nextLink``, times in the zone ``Prefer: outlook.timezone`` names), its ``delta`` (``deltaLink``;
410 for a token it does not know), ``/events`` with ``$filter`` on iCalUId or a single-value extended
property, ``$select``, ``$expand`` of extended properties, ``instances``, create (``transactionId`` makes a
repeated create return the first event), PATCH and DELETE with ``If-Match`` (412), JSON ``$batch`` (at most
20 requests, each answered on its own), master categories, the calendars list with ``canEdit``, bearer
tokens, and injectable faults (429 storms with ``Retry-After``, 503, 504) outside or inside batches.

It also watches the client: every create must carry a ``transactionId``, every PATCH and DELETE an
``If-Match``, and no request may invite or notify anyone (attendees written, meeting actions, a change to
an event with attendees beyond its categories and extended properties). ``violations`` lists each
breach; tests assert it is empty. Events and times are in tests/graph_store.py.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from background_server import BackgroundServer
from graph_odata import Shape, matches, one, prefer_header, time_range
from graph_store import DEFAULT_CALENDAR, GraphError, GraphStore, Json

ACCESS_TOKEN = "standin-graph-access-token"
MAX_BATCH = 20
ACTIONS = ("accept", "decline", "tentativelyAccept", "forward", "cancel", "dismissReminder", "snoozeReminder")
QUIET_FIELDS = frozenset({"categories", "singleValueExtendedProperties"})


@dataclass
class Fault:
    status: int
    count: int
    in_batch: bool  # answer sub-requests of a $batch (else whole HTTP requests)
    retry_after: str | None


@dataclass
class LoggedRequest:
    method: str
    path: str  # below /v1.0, e.g. me/calendar/events
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    in_batch: bool
    status: int = 0


class GraphStandin(BackgroundServer):
    """Start with ``with GraphStandin() as standin:`` (or ``start()``/``stop()``)."""

    def __init__(self, *, owner: str = "me@example.com") -> None:
        self.lock = threading.RLock()
        self.store = GraphStore(owner)
        self.request_log: list[LoggedRequest] = []
        self.violations: list[str] = []
        self.access_tokens = {ACCESS_TOKEN}
        self.token_check: Callable[[str], bool] | None = None  # e.g. the identity stand-in's
        self.master_categories: list[Json] = []
        self.master_categories_forbidden = False  # POST answers 403 (no MailboxSettings.ReadWrite)
        self.etags_in_write_answers = True  # False: creates and PATCHes answer without @odata.etag
        self.public_url: str | None = None  # the address clients use, when a proxy stands in front
        self._faults: list[Fault] = []
        self._delta_floor = 0
        BackgroundServer.__init__(self, _Handler)

    @property
    def api_endpoint(self) -> str:
        """The Graph endpoint, as next and delta links name it."""
        return (self.public_url or self.url) + "v1.0/"

    # -- test helpers (as another client of the mailbox would act) -----------------------------------

    def accept_token(self, token: str) -> None:
        with self.lock:
            self.access_tokens.add(token)

    def inject_faults(
        self, status: int, count: int = 1, *, in_batch: bool = False, retry_after: str | None = "0"
    ) -> None:
        """The next ``count`` requests (or sub-requests of batches) answer ``status``."""
        with self.lock:
            self._faults.append(Fault(status, count, in_batch, retry_after if status in (429, 503) else None))

    def invalidate_delta_tokens(self) -> None:
        with self.lock:
            self.store.counter += 1
            self._delta_floor = self.store.counter

    def add_calendar(self, calendar_id: str, name: str | None = None, can_edit: bool = True) -> None:
        with self.lock:
            self.store.add_calendar(calendar_id, name, can_edit)

    def add_event(self, calendar_id: str, body: Json) -> Json:
        with self.lock:
            if calendar_id not in ("primary", DEFAULT_CALENDAR):
                self.store.add_calendar(calendar_id)
            return self.store.insert(calendar_id, copy.deepcopy(body))[1]

    def modify_event(self, calendar_id: str, event_id: str, changes: Json) -> Json:
        with self.lock:
            return self.store.patch(calendar_id, event_id, copy.deepcopy(changes), None)

    def delete_event(self, calendar_id: str, event_id: str) -> None:
        with self.lock:
            self.store.delete(calendar_id, event_id, None)

    def events(self, calendar_id: str) -> list[Json]:
        """Every stored event of the calendar: single events, series masters and exceptions."""
        with self.lock:
            return [copy.deepcopy(e) for e in self.store.calendar(calendar_id).events.values()]

    def requests_to(self, method: str, path_part: str = "") -> list[LoggedRequest]:
        with self.lock:
            return [r for r in self.request_log if r.method == method and path_part in r.path]

    # -- dispatch -----------------------------------------------------------------------------------

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], raw_body: bytes
    ) -> tuple[int, Json, Any]:
        """(status, extra headers, JSON answer) of one HTTP request."""
        try:
            body = json.loads(raw_body) if raw_body else None
        except ValueError:
            return 400, {}, GraphError(400, "BadRequest", "Unable to read JSON request payload.").body()
        with self.lock:
            token = headers.get("authorization", "").removeprefix("Bearer ")
            valid = token in self.access_tokens or (self.token_check is not None and self.token_check(token))
            if not valid:
                return (
                    401,
                    {},
                    GraphError(401, "InvalidAuthenticationToken", "Access token is invalid.").body(),
                )
            fault = self._take_fault(in_batch=False)
            if fault is not None:
                return self._fault_answer(fault)
            parts = urlsplit(raw_path)
            path = parts.path.removeprefix("/v1.0/").strip("/")
            if path == "$batch" and method == "POST":
                return 200, {}, self._batch(body, headers)
            status, answer = self.dispatch(method, path, parts.query, headers, body, in_batch=False)
            return status, {}, answer

    def dispatch(
        self, method: str, path: str, raw_query: str, headers: dict[str, str], body: Any, *, in_batch: bool
    ) -> tuple[int, Any]:
        query = parse_qs(raw_query, keep_blank_values=True)
        entry = LoggedRequest(method, path, query, headers, body, in_batch)
        self.request_log.append(entry)
        try:
            self._watch(method, path, headers, body)
            status, answer = self._route(method, path, query, headers, body)
        except GraphError as error:
            status, answer = error.status, error.body()
        entry.status = status
        return status, answer

    def _batch(self, body: Any, headers: dict[str, str]) -> Json:
        requests = (body or {}).get("requests")
        if not isinstance(requests, list) or not 0 < len(requests) <= MAX_BATCH:
            return GraphError(400, "BadRequest", f"A batch holds 1 to {MAX_BATCH} requests.").body()
        self.request_log.append(LoggedRequest("POST", "$batch", {}, headers, body, False, 200))
        responses: list[Json] = []
        for sub in requests:
            sub_headers = {k.lower(): str(v) for k, v in (sub.get("headers") or {}).items()}
            fault = self._take_fault(in_batch=True)
            if fault is not None:
                status, extra, answer = self._fault_answer(fault)
            else:
                target = urlsplit(str(sub.get("url", "")))
                path = target.path.removeprefix("/v1.0").strip("/")
                status, answer = self.dispatch(
                    str(sub.get("method", "GET")).upper(),
                    path,
                    target.query,
                    sub_headers,
                    sub.get("body"),
                    in_batch=True,
                )
                extra = {}
            responses.append({"id": sub.get("id"), "status": status, "headers": extra, "body": answer})
        return {"responses": responses}

    def _take_fault(self, *, in_batch: bool) -> Fault | None:
        for fault in self._faults:
            if fault.count > 0 and fault.in_batch == in_batch:
                fault.count -= 1
                return fault
        return None

    @staticmethod
    def _fault_answer(fault: Fault) -> tuple[int, Json, Json]:
        codes = {429: "TooManyRequests", 503: "ServiceNotAvailable", 504: "GatewayTimeout"}
        extra = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
        error = GraphError(fault.status, codes.get(fault.status, "InternalServerError"), "Try again later.")
        return fault.status, extra, error.body()

    def _watch(self, method: str, path: str, headers: dict[str, str], body: Any) -> None:
        """Records every write that is not conditional, or that would invite or notify someone."""
        seg = path.split("/")
        if seg and seg[-1] in ACTIONS:
            self.violations.append(f"{method} {path}: a meeting action notifies the organiser")
            return
        is_events = "events" in seg
        if method == "POST" and is_events and seg[-1] == "events" and not (body or {}).get("transactionId"):
            self.violations.append(f"POST {path}: a create without transactionId")
        if method in ("PATCH", "DELETE") and is_events and not headers.get("if-match"):
            self.violations.append(f"{method} {path}: a write without If-Match")
        if isinstance(body, dict) and body.get("attendees"):
            self.violations.append(f"{method} {path}: a write naming attendees would invite them")
        if method == "PATCH" and is_events and isinstance(body, dict) and set(body) - QUIET_FIELDS:
            try:
                event = self.store.get(_calendar_of(seg), unquote(seg[-1]))
            except GraphError:
                return
            if event.get("attendees"):
                changed = sorted(set(body) - QUIET_FIELDS)
                self.violations.append(
                    f"PATCH {path}: changing {changed} of a meeting notifies its attendees"
                )

    # -- routes -------------------------------------------------------------------------------------

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        seg = [unquote(s) for s in path.split("/")]
        if seg == ["me", "calendars"] and method == "GET":
            return 200, {"value": [self._calendar_json(c.id) for c in self.store.calendars.values()]}
        if seg == ["me", "outlook", "masterCategories"]:
            return self._master_categories(method, body)
        if seg[:2] == ["me", "calendar"]:
            calendar_id, rest = DEFAULT_CALENDAR, seg[2:]
        elif seg[:2] == ["me", "calendars"] and len(seg) >= 3:
            calendar_id, rest = seg[2], seg[3:]
        elif seg[:2] == ["me", "events"]:
            calendar_id, rest = DEFAULT_CALENDAR, seg[1:]
        else:
            raise GraphError(400, "BadRequest", f"Resource not found for the segment '{path}'.")
        self.store.calendar(calendar_id)
        prefer = prefer_header(headers)
        shape = Shape(query, prefer)
        if rest == [] and method == "GET":
            return 200, self._calendar_json(calendar_id)
        if rest == ["calendarView"] and method == "GET":
            lo, hi = time_range(query)
            return 200, self._page(path, query, shape.all(self.store.view(calendar_id, lo, hi)), shape)
        if rest == ["calendarView", "delta"] and method == "GET":
            return 200, self._delta(path, query, calendar_id, shape)
        if rest == ["events"] and method == "GET":
            items = [e for e in self.store.events(calendar_id) if matches(e, one(query, "$filter"))]
            return 200, self._page(path, query, shape.all(items), shape)
        if rest == ["events"] and method == "POST":
            self._check_can_edit(calendar_id)
            if not isinstance(body, dict):
                raise GraphError(400, "BadRequest", "Empty payload.")
            status, event = self.store.insert(calendar_id, body)
            return status, self._written(shape.one(event))
        if len(rest) == 3 and rest[0] == "events" and rest[2] == "instances" and method == "GET":
            master = self.store.get(calendar_id, rest[1])
            if master.get("type") != "seriesMaster":
                raise GraphError(400, "ErrorInvalidRequest", "The event is not a series master.")
            lo, hi = time_range(query)
            calendar = self.store.calendar(calendar_id)
            return 200, self._page(
                path, query, shape.all(self.store.occurrences(calendar, master, lo, hi)), shape
            )
        if len(rest) != 2 or rest[0] != "events":
            raise GraphError(400, "BadRequest", f"Resource not found for the segment '{path}'.")
        event_id = rest[1]
        if method == "GET":
            return 200, shape.one(self.store.get(calendar_id, event_id))
        self._check_can_edit(calendar_id)
        if method == "PATCH":
            return 200, self._written(
                shape.one(self.store.patch(calendar_id, event_id, body or {}, headers.get("if-match")))
            )
        if method == "DELETE":
            self.store.delete(calendar_id, event_id, headers.get("if-match"))
            return 204, None
        raise GraphError(405, "ErrorInvalidRequest", "Method not allowed.")

    def _written(self, event: Json) -> Json:
        if not self.etags_in_write_answers:
            event.pop("@odata.etag", None)
        return event

    def _check_can_edit(self, calendar_id: str) -> None:
        if not self.store.calendar(calendar_id).can_edit:
            raise GraphError(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")

    def _calendar_json(self, calendar_id: str) -> Json:
        calendar = self.store.calendar(calendar_id)
        owner = {"name": "Me", "address": self.store.owner}
        return {
            "id": calendar.id,
            "name": calendar.name,
            "canEdit": calendar.can_edit,
            "isDefaultCalendar": calendar.is_default,
            "owner": owner,
        }

    def _master_categories(self, method: str, body: Any) -> tuple[int, Any]:
        if method == "GET":
            return 200, {"value": copy.deepcopy(self.master_categories)}
        if method == "POST":
            if self.master_categories_forbidden:
                raise GraphError(
                    403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
                )
            name = str((body or {}).get("displayName", ""))
            if any(c["displayName"].casefold() == name.casefold() for c in self.master_categories):
                raise GraphError(409, "ErrorDuplicateCategory", "The category already exists.")
            category = {
                "id": f"cat{len(self.master_categories) + 1}",
                "displayName": name,
                "color": body.get("color", "none"),
            }
            self.master_categories.append(category)
            return 201, copy.deepcopy(category)
        raise GraphError(405, "ErrorInvalidRequest", "Method not allowed.")

    def _page(self, path: str, query: dict[str, list[str]], items: list[Json], shape: Shape) -> Json:
        size = shape.page_size
        offset = int(one(query, "$skip") or 0)
        page: Json = {"value": items[offset : offset + size]}
        if offset + size < len(items):
            following = {k: v[0] for k, v in query.items() if k != "$skip"} | {"$skip": str(offset + size)}
            page["@odata.nextLink"] = f"{self.api_endpoint}{path}?{urlencode(following, quote_via=quote)}"
        return page

    def _delta(self, path: str, query: dict[str, list[str]], calendar_id: str, shape: Shape) -> Json:
        """A round of the calendar view's delta: the view page by page (``$skiptoken`` carries the range
        and the offset), then a ``deltaLink``; with ``$deltatoken``, what changed since it."""
        delta_link = f"{self.api_endpoint}{path}?$deltatoken={self.store.counter}"
        token = one(query, "$deltatoken")
        if token is not None:
            number = int(token) if token.isdigit() else -1
            if number < self._delta_floor or number > self.store.counter:
                raise GraphError(410, "SyncStateNotFound", "The sync state is not found or expired.")
            changed = self.store.changed_since(calendar_id, number)
            return {
                "value": [e if "@removed" in e else shape.one(e) for e in changed],
                "@odata.deltaLink": delta_link,
            }
        skip = one(query, "$skiptoken")
        if skip:
            start, end, offset_text = skip.split("~")
            offset = int(offset_text)
        else:
            start, end, offset = one(query, "startDateTime") or "", one(query, "endDateTime") or "", 0
        lo, hi = time_range({"startDateTime": [start], "endDateTime": [end]})
        items = shape.all(self.store.view(calendar_id, lo, hi))
        size = shape.page_size
        page: Json = {"value": items[offset : offset + size]}
        if offset + size < len(items):
            following = urlencode({"$skiptoken": f"{start}~{end}~{offset + size}"}, quote_via=quote)
            page["@odata.nextLink"] = f"{self.api_endpoint}{path}?{following}"
        else:
            page["@odata.deltaLink"] = delta_link
        return page


def _calendar_of(seg: list[str]) -> str:
    if seg[:2] == ["me", "calendars"] and len(seg) > 2:
        return unquote(seg[2])
    return DEFAULT_CALENDAR


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        standin: GraphStandin = self.server.standin  # type: ignore[attr-defined]
        status, extra, answer = standin.handle(self.command, self.path, headers, raw_body)
        data = b"" if answer is None else json.dumps(answer).encode()
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        if data:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass
