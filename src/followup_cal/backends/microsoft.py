"""Microsoft backend: Outlook.com and Microsoft 365 calendars over Microsoft Graph, in plain HTTP.

Mapping (the JSON side is in microsoft_items.py): an occurrence's ``href`` is its Graph event id (every
occurrence of a series has one of its own), ``uid`` the iCalUId of the event or of its series (a
reminder's: its derived UID, kept in a mark and sent as ``transactionId``), ``recurrence_id`` its
``originalStart``. Marks are single-value extended properties under one property set; the interview also
gains the ``Interview`` category.

Reads use the calendar view of the window (occurrences expanded, times in UTC, bodies as text, paged by
``@odata.nextLink``); ``changes_since`` its delta (one request when nothing changed), where
``changes_besides`` lets pass the events that hold exactly the etag of this backend's own writes (every
write is recorded at its one call site, under a lock, as writes run on several threads). Every create
carries a ``transactionId`` and is preceded by a lookup of the reminder's source mark; updates and
deletes carry ``If-Match`` with the event's ``@odata.etag``. Writes from several threads share ``$batch``
requests (microsoft_http.py). No request names an attendee, so nobody is ever invited or notified.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from followup_cal.backends.base import ChangeCheck, OwnWrites
from followup_cal.backends.http import is_transient
from followup_cal.backends.microsoft_auth import AUTH_AGAIN
from followup_cal.backends.microsoft_http import BATCH_SIZE, GraphAnswer, GraphRequest, GraphTransport
from followup_cal.backends.microsoft_items import (
    MASTER_CATEGORY_COLOUR,
    SELECT,
    SOURCE,
    UID,
    Json,
    expand_marks,
    graph_time,
    is_our_reminder,
    is_own_write,
    item_to_event,
    looks_like_reminder_uid,
    mark_filter,
    marks_of,
    marks_patch,
    odata_text,
    reminder_body,
    same_original_start,
)
from followup_cal.core.model import (
    INTERVIEW_CATEGORY,
    Event,
    Listing,
    MarkUpdate,
    Moment,
    Problem,
    ReminderDraft,
)
from followup_cal.errors import (
    AlreadyExists,
    AuthenticationError,
    BackendError,
    NotFound,
    PreconditionFailed,
    TransientError,
)

log = logging.getLogger(__name__)

PAGE_SIZE = 100
DELTA_PAGE_SIZE = 500
# The calendar view a change check watches, from the day its token was made; a token older than
# DELTA_TOKEN_DAYS starts a new one (the window it watches would no longer cover a sync's).
DELTA_PAST_DAYS = 400
DELTA_FUTURE_DAYS = 3700
DELTA_TOKEN_DAYS = 30
PREFER_READ = 'outlook.timezone="UTC", outlook.body-content-type="text"'


class MicrosoftBackend:
    """One Microsoft calendar (``[calendars.NAME]`` with ``type = "microsoft"``)."""

    write_connections = BATCH_SIZE  # threads whose writes share one $batch (4 HTTP requests at most)
    server_keeps_marks = True  # marks are extended properties, which Graph never drops

    def __init__(
        self,
        name: str,
        access_token: Callable[[], str],
        calendar_id: str = "primary",
        api_endpoint: str | None = None,
        *,
        transport: GraphTransport | None = None,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.name = name
        self.calendar_id = calendar_id
        self.page_size = page_size
        self.http = transport or GraphTransport(api_endpoint, access_token)
        self.calendar_path = (
            "me/calendar" if calendar_id in ("primary", "") else f"me/calendars/{quote(calendar_id, safe='')}"
        )
        self._series_uids: dict[str, str] = {}  # series master id -> its iCalUId
        self._category_checked = False
        self._lock = threading.Lock()
        self._written: dict[str, str | None] = {}  # event id -> the etag our write left (None: deleted)
        self._unknown_write = False  # a write answered without an etag

    @property
    def retries(self) -> int:
        return self.http.retries

    # -- reading ------------------------------------------------------------------------------------

    def list_window(self, start: datetime, end: datetime, tz: ZoneInfo) -> Listing:
        query = {
            "startDateTime": graph_time(start) + "Z",
            "endDateTime": graph_time(end) + "Z",
            "$select": SELECT,
            "$expand": expand_marks(),
            "$top": str(self.page_size),
        }
        items = self._pages(f"{self.calendar_path}/calendarView?{urlencode(query)}", "reading events")
        self._learn_series_uids(items)
        listing = Listing()
        for item in items:
            try:
                series = self._series_uids.get(str(item.get("seriesMasterId") or ""))
                listing.events.append(item_to_event(item, self.name, tz, series))
            except (KeyError, TypeError, ValueError) as error:
                where = str(item.get("id", "?"))
                listing.problems.append(Problem(self.name, where, f"cannot read this event ({error!r})"))
        return listing

    def find(self, uid: str, recurrence_id: Moment | None, tz: ZoneInfo) -> Event | None:
        """A reminder by its UID mark; any other event by iCalUId (a series' master, then the occurrence
        ``recurrence_id`` among its instances around that time)."""
        if looks_like_reminder_uid(uid) and recurrence_id is None:
            items = self._events_where(mark_filter(UID, uid), "looking up a reminder")
            if items:
                return self._read(items[0], tz)
        items = self._events_where(f"iCalUId eq {odata_text(uid)}", "looking up an event")
        single = [i for i in items if i.get("type") != "seriesMaster"]
        masters = [i for i in items if i.get("type") == "seriesMaster"]
        if recurrence_id is None:
            chosen = single or masters
            return self._read(chosen[0], tz) if chosen else None
        if not masters:
            return None
        master = masters[0]
        self._series_uids[str(master["id"])] = str(master.get("iCalUId") or uid)
        day = timedelta(days=1)
        around = (
            recurrence_id
            if isinstance(recurrence_id, datetime)
            else datetime.combine(recurrence_id, datetime.min.time(), UTC)
        )
        query = {
            "startDateTime": graph_time(around - 7 * day) + "Z",
            "endDateTime": graph_time(around + 8 * day) + "Z",
            "$select": SELECT,
            "$expand": expand_marks(),
        }
        path = f"{self.calendar_path}/events/{quote(str(master['id']), safe='')}/instances?{urlencode(query)}"
        for item in self._pages(path, "looking up an occurrence"):
            if same_original_start(item, recurrence_id):
                return self._read(item, tz, uid)
        return None

    def _read(self, item: Json, tz: ZoneInfo, series_uid: str | None = None) -> Event:
        try:
            return item_to_event(item, self.name, tz, series_uid)
        except (KeyError, TypeError, ValueError) as error:
            raise BackendError(
                f"Calendar '{self.name}': event {item.get('id')} cannot be read ({error!r})"
            ) from None

    def _events_where(self, condition: str, what: str) -> list[Json]:
        query = {"$filter": condition, "$select": SELECT, "$expand": expand_marks()}
        return self._pages(f"{self.calendar_path}/events?{urlencode(query)}", what, submit=True)

    def _pages(self, path: str, what: str, *, submit: bool = False) -> list[Json]:
        items: list[Json] = []
        url: str | None = path
        while url:
            request = GraphRequest("GET", url, headers={"Prefer": PREFER_READ})
            answer = self.http.submit(request) if submit else self.http.send(request)
            page = self._checked(answer, what)
            items.extend(page.get("value") or [])
            url = self._next_link(page.get("@odata.nextLink"))
        return items

    def _next_link(self, link: object) -> str | None:
        if not link:
            return None
        if not isinstance(link, str) or not self.http.owns(link):
            raise BackendError(f"Calendar '{self.name}': Microsoft Graph sent a next page at another address")
        return link

    def _learn_series_uids(self, items: list[Json]) -> None:
        """The iCalUId of each series whose occurrences were listed (one batched GET per new series)."""
        unknown = sorted(
            {str(i["seriesMasterId"]) for i in items if i.get("seriesMasterId")} - set(self._series_uids)
        )
        requests = [
            GraphRequest("GET", f"{self.calendar_path}/events/{quote(mid, safe='')}?$select=id,iCalUId")
            for mid in unknown
        ]
        for master_id, answer in zip(unknown, self.http.send_all(requests), strict=True):
            if answer.status == 404:
                continue  # its occurrences keep their own iCalUId
            master = self._checked(answer, "reading a series")
            self._series_uids[master_id] = str(master.get("iCalUId") or master_id)

    # -- change tracking ----------------------------------------------------------------------------

    def changes_since(self, token: str | None) -> ChangeCheck:
        """The calendar view's delta: with a token, one request (more pages only when much changed);
        without one, or with one Graph no longer takes, a new round that ends in a fresh token."""
        return self._changes(token, {})

    def changes_besides(self, token: str, ours: OwnWrites) -> ChangeCheck:
        """``changes_since``, where an event that holds the etag of our own write, or the removal of an
        event we deleted, does not count."""
        return self._changes(token, ours)

    def own_writes(self) -> OwnWrites | None:
        with self._lock:
            return None if self._unknown_write else dict(self._written)

    def _record_write(self, event_id: str, item: Json | None) -> None:
        """Remembers what a write left: the event it answered with (its etag), or None for a deletion."""
        with self._lock:
            if item is None:
                self._written[event_id] = None
            elif isinstance(item.get("@odata.etag"), str) and event_id:
                self._written[event_id] = item["@odata.etag"]
            else:
                self._unknown_write = True

    def _changes(self, token: str | None, ours: OwnWrites) -> ChangeCheck:
        today = datetime.now(UTC).date()
        if token is not None:
            made, _, link = token.partition("|")
            try:
                fresh = today - date.fromisoformat(made) <= timedelta(days=DELTA_TOKEN_DAYS)
            except ValueError:
                fresh = False
            if fresh and self.http.owns(link):
                result = self._delta_round(link, made, ours)
                if result is not None:
                    return result
        start = datetime.combine(today - timedelta(days=DELTA_PAST_DAYS), datetime.min.time(), UTC)
        end = datetime.combine(today + timedelta(days=DELTA_FUTURE_DAYS), datetime.min.time(), UTC)
        query = {"startDateTime": graph_time(start) + "Z", "endDateTime": graph_time(end) + "Z"}
        first = f"{self.calendar_path}/calendarView/delta?{urlencode(query)}"
        result = self._delta_round(first, today.isoformat(), {})
        if result is None:
            raise BackendError(f"Calendar '{self.name}': Microsoft Graph refused a new change round")
        return ChangeCheck(True, result.token)

    def _delta_round(self, url: str, made: str, ours: OwnWrites) -> ChangeCheck | None:
        changed = False
        while True:
            headers = {"Prefer": f"odata.maxpagesize={DELTA_PAGE_SIZE}"}
            answer = self.http.send(GraphRequest("GET", url, headers=headers))
            if answer.status in (400, 404, 410):  # a token Graph no longer knows
                return None
            page = self._checked(answer, "asking for changes")
            changed = changed or any(not is_own_write(item, ours) for item in page.get("value") or [])
            next_link = self._next_link(page.get("@odata.nextLink"))
            if next_link is None:
                delta = page.get("@odata.deltaLink")
                if not isinstance(delta, str) or not self.http.owns(delta):
                    return ChangeCheck(True, None)
                return ChangeCheck(changed, f"{made}|{delta}")
            url = next_link

    # -- writing ------------------------------------------------------------------------------------

    def create(self, draft: ReminderDraft) -> Event:
        """Creates the reminder with ``transactionId`` = its UID, after looking for one with its source
        mark (a reminder of the same source and kind already there is :class:`AlreadyExists`)."""
        existing = self._events_where(mark_filter(SOURCE, draft.source), "looking for a reminder")
        if any(is_our_reminder(item, draft) for item in existing):
            raise AlreadyExists(f"Calendar '{self.name}': a {draft.kind} reminder of this interview exists")
        body = {**reminder_body(draft), "transactionId": draft.uid}
        answer = self.http.submit(GraphRequest("POST", f"{self.calendar_path}/events", body))
        if answer.status == 409:
            raise AlreadyExists(f"Calendar '{self.name}': a reminder with id {draft.uid} already exists")
        item = self._checked(answer, "creating a reminder")
        if marks_of(item).get(UID, draft.uid) != draft.uid:
            raise AlreadyExists(f"Calendar '{self.name}': transaction {draft.uid} belongs to another event")
        self._record_write(str(item.get("id") or ""), item)
        return self._as_written(item, body)

    def update_reminder(self, existing: Event, draft: ReminderDraft) -> Event:
        body = reminder_body(draft)
        answer = self._conditional("PATCH", existing.href, existing.etag, body)
        item = self._checked(answer, "updating a reminder")
        self._record_write(existing.href, item)
        return self._as_written(item, body)

    def _as_written(self, item: Json, body: Json) -> Event:
        """The reminder as written: Graph answers a write without the extended properties it stored."""
        if not marks_of(item):
            item = {**item, "singleValueExtendedProperties": body["singleValueExtendedProperties"]}
        return self._read(item, ZoneInfo("UTC"))

    def delete(self, existing: Event) -> None:
        answer = self._conditional("DELETE", existing.href, existing.etag)
        if answer.status != 404:  # 404: already gone
            self._checked(answer, "deleting a reminder")
        self._record_write(existing.href, None)

    def write_marks(self, href: str, etag: str | None, updates: Sequence[MarkUpdate]) -> None:
        """Patches only the categories and the marks of the event (or of each occurrence named), so an
        invitation's organiser hears nothing."""
        if any(update.issued is not None for update in updates):
            self._ensure_master_category()
        if len(updates) == 1:
            targets = [(href, etag, updates[0])]
        else:
            targets = [(*self._occurrence(href, u.recurrence_id), u) for u in updates]
        for target, match, update in targets:
            current = self._checked(self.http.submit(self._get_marks(target)), "tagging an interview")
            if match is not None and current.get("@odata.etag") != match:
                raise PreconditionFailed(f"Calendar '{self.name}': the event changed since it was read")
            answer = self._conditional(
                "PATCH", target, current.get("@odata.etag"), marks_patch(current, update)
            )
            self._record_write(target, self._checked(answer, "tagging an interview"))

    def _get_marks(self, event_id: str) -> GraphRequest:
        query = urlencode(
            {"$select": "id,categories,seriesMasterId,originalStart", "$expand": expand_marks()}
        )
        return GraphRequest("GET", f"{self.calendar_path}/events/{quote(event_id, safe='')}?{query}")

    def _occurrence(self, href: str, recurrence_id: Moment | None) -> tuple[str, str | None]:
        """The id and etag of the occurrence ``recurrence_id`` of the series ``href`` belongs to."""
        current = self._checked(self.http.submit(self._get_marks(href)), "tagging an interview")
        if recurrence_id is None or not current.get("seriesMasterId"):
            return href, None
        master = str(current["seriesMasterId"])
        around = (
            recurrence_id
            if isinstance(recurrence_id, datetime)
            else datetime.combine(recurrence_id, datetime.min.time(), UTC)
        )
        query = {
            "startDateTime": graph_time(around - timedelta(days=7)) + "Z",
            "endDateTime": graph_time(around + timedelta(days=8)) + "Z",
            "$select": "id,originalStart,originalStartTimeZone",
        }
        path = f"{self.calendar_path}/events/{quote(master, safe='')}/instances?{urlencode(query)}"
        for item in self._pages(path, "tagging an interview"):
            if same_original_start(item, recurrence_id):
                return str(item["id"]), None
        raise NotFound(f"Calendar '{self.name}': the occurrence {recurrence_id} is gone")

    def _conditional(
        self, method: str, event_id: str, etag: str | None, body: Json | None = None
    ) -> GraphAnswer:
        headers = {"If-Match": etag} if etag else {}
        path = f"{self.calendar_path}/events/{quote(event_id, safe='')}"
        return self.http.submit(GraphRequest(method, path, body, headers, retry=etag is not None))

    def _ensure_master_category(self) -> None:
        """Puts ``Interview`` in the mailbox's master category list, with a colour, once per run. Never
        fatal: without MailboxSettings.ReadWrite (403) the category is still set on events, uncoloured."""
        with self._lock:
            if self._category_checked:
                return
            self._category_checked = True
        path = "me/outlook/masterCategories"
        answer = self.http.send(GraphRequest("GET", path))
        if not answer.ok:
            log.info("calendar %s: cannot read the master categories (%s)", self.name, answer.status)
            return
        names = {str(c.get("displayName", "")).casefold() for c in (answer.body or {}).get("value") or []}
        if INTERVIEW_CATEGORY.casefold() in names:
            return
        body = {"displayName": INTERVIEW_CATEGORY, "color": MASTER_CATEGORY_COLOUR}
        created = self.http.send(GraphRequest("POST", path, body, retry=False))
        if not created.ok:
            log.info("calendar %s: the Interview category stays uncoloured (%s)", self.name, created.status)

    # -- answers ------------------------------------------------------------------------------------

    def _checked(self, answer: GraphAnswer, what: str) -> Json:
        """The answer's JSON body when it succeeded, else the matching followup-cal error."""
        if answer.ok:
            return answer.body if isinstance(answer.body, dict) else {}
        prefix = f"Calendar '{self.name}': {what} failed"
        code, message = answer.error()
        status = answer.status
        if status == 0 or is_transient(status):
            detail = message if status == 0 else f"Microsoft Graph answered {status} {code}".strip()
            raise TransientError(f"{prefix}: {detail}; try again later")
        if status == 401:
            raise AuthenticationError(
                f"Microsoft refused the access token of calendar '{self.name}': {AUTH_AGAIN}"
            )
        if status == 403:
            raise AuthenticationError(
                f"{prefix}: Microsoft Graph refused access ({code or message}); check calendar_id "
                f"'{self.calendar_id}' and, if the token lacks Calendars.ReadWrite, {AUTH_AGAIN}"
            )
        if status in (404, 410):
            raise NotFound(f"{prefix}: not found ({message})")
        if status == 409:
            raise AlreadyExists(f"{prefix}: it already exists ({message})")
        if status == 412:
            raise PreconditionFailed(f"{prefix}: the event changed since it was read")
        raise BackendError(f"{prefix}: Microsoft Graph answered {status} ({code}: {message})")
