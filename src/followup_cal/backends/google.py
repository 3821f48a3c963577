"""Google Calendar backend: Calendar API v3 through google-api-python-client.

Mapping (DESIGN.md "Marks"; the code is in google_items.py): an occurrence's ``href`` is its event id
(an instance id ``<id>_<YYYYMMDDTHHMMSSZ>`` for an occurrence of a series), ``uid`` its ``iCalUID`` and
``recurrence_id`` its ``originalStartTime``. Marks live in ``extendedProperties.private``; the interview tag
(``followupCalTag=interview``) reads as the ``Interview`` category. Reminders get their UID as client-chosen
event id and iCalUID, so a retried insert cannot create a duplicate.

Every write sends ``sendUpdates=none``; updates and deletes carry ``If-Match: <etag>``. Reads are retried
on rate limits and 5xx answers with bounded exponential backoff; writes only when their precondition (an
etag, or the client-chosen id of an insert) makes a retry safe.

google-api-python-client is imported when a backend is constructed, never when this module is imported.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import random
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from followup_cal.backends.base import ChangeCheck, OwnWrites, Write
from followup_cal.backends.google_auth import AUTH_AGAIN, is_invalid_grant, revoked_message
from followup_cal.backends.google_items import (
    Json,
    has_private,
    is_deleted_leftover,
    is_our_reminder,
    item_to_event,
    occurrence_id,
    original_start_text,
    private_marks,
    reminder_body,
    rfc3339,
    same_moment,
)
from followup_cal.backends.google_service import (
    ApiFailure,
    authorized_http,
    batch_uri,
    build_service,
    error_details,
    is_transient,
)
from followup_cal.backends.http import max_retry_delay
from followup_cal.core.model import Event, Listing, MarkUpdate, Moment, Problem, ReminderDraft
from followup_cal.errors import (
    AlreadyExists,
    AuthenticationError,
    BackendError,
    NotFound,
    PreconditionFailed,
    TransientError,
)

BATCHES_AT_ONCE = 4  # batch requests in flight at once (each on its own connection)
PAGE_SIZE = 2500  # the most Google gives in one page: a window of a busy calendar in one or two requests
BATCH_LIMIT = 50  # calls in one batch request, the Calendar API's limit
SYNC_PAGE_SIZE = 2500  # the most Google allows; the pages of a change check carry ids only


class GoogleBackend:
    """One Google calendar (``[calendars.NAME]`` with ``type = "google"``)."""

    server_keeps_marks = True  # marks are extended properties, which the API never drops

    def __init__(
        self,
        name: str,
        credentials: Any,
        calendar_id: str = "primary",
        api_endpoint: str | None = None,
        *,
        max_attempts: int = 6,
        backoff_base: float = 1.0,
        backoff_cap: float = 20.0,
        page_size: int = PAGE_SIZE,
        batch: bool = True,
    ) -> None:
        self.name = name
        self.calendar_id = calendar_id
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = max_retry_delay(backoff_cap)
        self.page_size = page_size
        self.retries = 0  # requests repeated after a transient failure, over the backend's life
        self.batch_size = BATCH_LIMIT if batch else 1  # writes per request (WritesInBatches)
        # Batches of one step go up to BATCHES_AT_ONCE at a time; without batching, one write at a time.
        self.write_connections = BATCHES_AT_ONCE if batch else 1
        self._credentials = credentials
        self._local = threading.local()  # each thread's own connection (httplib2 is not thread-safe)
        self._connections = [authorized_http(credentials)]  # every thread's, closed by close()
        self._connections_lock = threading.Lock()
        self._local.http = self._connections[0]
        self._service = build_service(credentials, api_endpoint, http=self._connections[0])
        self._events = self._service.events()
        self._batch_uri = batch_uri(api_endpoint)
        self._written: dict[str, str | None] = {}  # event id -> the etag our write left (None: deleted)
        self._unknown_write = False
        self._listing_token: str | None = None

    def close(self) -> None:
        with self._connections_lock:
            for connection in self._connections:
                connection.close()

    # -- reading ------------------------------------------------------------------------------------

    def changes_since(self, token: str | None) -> ChangeCheck:
        """Google's incremental sync: ``events.list`` with ``syncToken`` returns only what changed (ids,
        etags and status are all that is asked for). Without a token, or when Google answers 410 (token
        expired), a listing of nothing but page tokens ends with a fresh ``nextSyncToken``."""
        return self._changes(token, {})

    def changes_besides(self, token: str, ours: OwnWrites) -> ChangeCheck:
        """``changes_since``, where an event that holds the etag of our own write, or a tombstone of an
        event we deleted, does not count."""
        return self._changes(token, ours)

    def own_writes(self) -> OwnWrites | None:
        return None if self._unknown_write else dict(self._written)

    def record_write(self, event_id: str, item: Json | None) -> None:
        """Remembers what a write left: the item it answered with (its etag), or None for a deletion."""
        if item is None:
            self._written[event_id] = None
        elif item.get("etag"):
            self._written[str(item.get("id") or event_id)] = str(item["etag"])
        else:
            self._unknown_write = True

    def _changes(self, token: str | None, ours: OwnWrites) -> ChangeCheck:
        if token is not None:
            try:
                changed, fresh = self._sync_pages(
                    token, "items(id,etag,status),nextPageToken,nextSyncToken", ours
                )
                return ChangeCheck(changed, fresh)
            except ApiFailure as failure:
                # 410: the token expired. 400: a token Google does not take with this query (one from a
                # window listing, were Google ever to refuse it): either way, a full read and a new token.
                if failure.status not in (400, 410):
                    raise self.error_for(failure, "asking for changes") from None
        try:
            _changed, fresh = self._sync_pages(None, "nextPageToken,nextSyncToken", {})
        except ApiFailure as failure:
            raise self.error_for(failure, "asking for a sync token") from None
        return ChangeCheck(True, fresh)

    def _sync_pages(self, token: str | None, fields: str, ours: OwnWrites) -> tuple[bool, str | None]:
        page_token: str | None = None
        changed = False
        while True:
            query: Json = {"fields": fields, "maxResults": SYNC_PAGE_SIZE, "pageToken": page_token}
            if token is not None:
                query["syncToken"] = token
            page = self.execute_request(
                self._events.list(calendarId=self.calendar_id, **query), retry=True, what="asking for changes"
            )
            changed = changed or any(not _is_own_write(item, ours) for item in page.get("items", []))
            page_token = page.get("nextPageToken")
            if not page_token:
                return changed, page.get("nextSyncToken")

    def list_window(self, start: datetime, end: datetime, tz: ZoneInfo) -> Listing:
        """Every occurrence overlapping ``[start, end)``.

        ``showDeleted=true``: on Google an interview cancelled by its organiser (or deleted by the user)
        is a ``cancelled`` event that a plain listing leaves out, and the core must see it to remove its
        reminders. Deleted reminders come back the same way; they are gone, so they are left out here.
        """
        listing = Listing()
        query = {
            "timeMin": rfc3339(start),
            "timeMax": rfc3339(end),
            "singleEvents": True,
            "showDeleted": True,
        }
        self._listing_token = None
        for item in self._list_items(query, "reading events", keep_token=True):
            if is_deleted_leftover(item):
                continue
            try:
                listing.events.append(item_to_event(item, self.name, tz))
            except (KeyError, TypeError, ValueError) as error:
                where = str(item.get("id", "?"))
                listing.problems.append(Problem(self.name, where, f"cannot read this event ({error!r})"))
        return listing

    def listing_token(self) -> str | None:
        """The ``nextSyncToken`` on the last page of the last window listing. Google's own guide starts an
        incremental sync from a listing restricted by time this way; a token it later refuses (400, 410)
        means a full read, as an expired one does."""
        return self._listing_token

    def find(self, uid: str, recurrence_id: Moment | None, tz: ZoneInfo) -> Event | None:
        """Looks the event up by iCalUID (deleted ones included); an occurrence of a series through
        ``events.instances`` with ``originalStart``, which finds it wherever it lies in time."""
        items = list(self._list_items({"iCalUID": uid, "showDeleted": True}, "looking up an event"))
        items.sort(key=lambda i: i.get("status") == "cancelled")  # a live event before a tombstone
        if recurrence_id is None:
            item = next((i for i in items if not i.get("recurringEventId")), None)
            return self._found(item, tz)
        for item in items:
            if item.get("recurringEventId") and same_moment(item.get("originalStartTime"), recurrence_id):
                return self._found(item, tz)
        master = next((i for i in items if i.get("recurrence") and not i.get("recurringEventId")), None)
        if master is None or master.get("status") == "cancelled":
            return None
        request = self._events.instances(
            calendarId=self.calendar_id,
            eventId=master["id"],
            originalStart=original_start_text(recurrence_id),
            showDeleted=True,
        )
        try:
            page = self.execute_request(request, retry=True, what="looking up an occurrence")
        except ApiFailure as failure:
            if failure.status in (400, 404, 410):
                return None
            raise self.error_for(failure, "looking up an occurrence") from None
        for item in page.get("items", []):
            if same_moment(item.get("originalStartTime"), recurrence_id):
                return self._found(item, tz)
        return None

    def _found(self, item: Json | None, tz: ZoneInfo) -> Event | None:
        if item is None or is_deleted_leftover(item):
            return None
        try:
            return item_to_event(item, self.name, tz)
        except (KeyError, TypeError, ValueError) as error:
            raise BackendError(
                f"Calendar '{self.name}': event {item.get('id')} cannot be read ({error!r})"
            ) from None

    def _list_items(self, query: Json, what: str, *, keep_token: bool = False) -> Any:
        page_token: str | None = None
        while True:
            request = self._events.list(
                calendarId=self.calendar_id, maxResults=self.page_size, pageToken=page_token, **query
            )
            try:
                page = self.execute_request(request, retry=True, what=what)
            except ApiFailure as failure:
                raise self.error_for(failure, what) from None
            yield from page.get("items", [])
            page_token = page.get("nextPageToken")
            if not page_token:
                if keep_token:
                    self._listing_token = page.get("nextSyncToken")
                return

    def _get_item(self, event_id: str) -> Json | None:
        try:
            item: Json = self.execute_request(
                self._events.get(calendarId=self.calendar_id, eventId=event_id), retry=True, what="reading"
            )
        except ApiFailure as failure:
            if failure.status in (404, 410):
                return None
            raise self.error_for(failure, "reading an event") from None
        return item

    # -- writing ------------------------------------------------------------------------------------

    def create(self, draft: ReminderDraft) -> Event:
        return self.create_sent(draft, tried=False)

    def create_sent(self, draft: ReminderDraft, *, tried: bool) -> Event:
        """``create``; ``tried``: an earlier attempt (in a batch) may have landed."""
        retries_before = self.retries_here()
        try:
            item = self.execute_request(self.insert_request(draft), retry=True, what="creating a reminder")
        except ApiFailure as failure:
            item = self.settle_create(draft, failure, tried=tried or self.retries_here() > retries_before)
        self.record_write(draft.uid, item)
        return item_to_event(item, self.name, ZoneInfo("UTC"))

    def insert_request(self, draft: ReminderDraft) -> Any:
        body = {"id": draft.uid, "iCalUID": draft.uid, **reminder_body(draft)}
        return self._events.insert(calendarId=self.calendar_id, body=body, sendUpdates="none")

    def settle_create(self, draft: ReminderDraft, failure: ApiFailure, *, tried: bool) -> Json:
        """The item when an insert's error answer means it is done after all, else raises."""
        if failure.status != 409:
            raise self.error_for(failure, "creating a reminder") from None
        if tried:
            # A retried insert: the first attempt may have landed before its answer was lost.
            landed = self._get_item(draft.uid)
            if landed is not None and is_our_reminder(landed, draft):
                return landed
        raise AlreadyExists(
            f"Calendar '{self.name}': an event with id {draft.uid} already exists (perhaps deleted)"
        ) from None

    def update_reminder(self, existing: Event, draft: ReminderDraft) -> Event:
        return item_to_event(self.update_sent(existing, draft, tried=False), self.name, ZoneInfo("UTC"))

    def update_sent(self, existing: Event, draft: ReminderDraft, *, tried: bool) -> Json:
        item = self._conditional_write(
            self.patch_request(existing.href, reminder_body(draft)),
            existing.etag,
            "updating a reminder",
            existing.href,
            functools.partial(is_our_reminder, draft=draft),
            tried=tried,
        )
        self.record_write(existing.href, item)
        return item

    def patch_request(self, event_id: str, body: Json) -> Any:
        return self._events.patch(
            calendarId=self.calendar_id, eventId=event_id, body=body, sendUpdates="none"
        )

    def delete_request(self, event_id: str) -> Any:
        return self._events.delete(calendarId=self.calendar_id, eventId=event_id, sendUpdates="none")

    def delete(self, existing: Event) -> None:
        self.delete_sent(existing, tried=False)

    def delete_sent(self, existing: Event, *, tried: bool) -> None:
        with contextlib.suppress(NotFound):  # already gone
            self._conditional_write(
                self.delete_request(existing.href), existing.etag, "deleting a reminder", tried=tried
            )
        self.record_write(existing.href, None)

    def write_marks(self, href: str, etag: str | None, updates: Sequence[MarkUpdate]) -> None:
        """Patches only ``extendedProperties.private`` (a ``null`` value removes a key) of the event or
        instance; Google keeps a patched instance as an exception with its own properties."""
        for update in updates:
            target = occurrence_id(href, update.recurrence_id)
            private = private_marks(update)
            if target == href:
                match = etag
            else:  # another occurrence than the one read: conditional on its current etag
                current = self._get_item(target)
                if current is None:
                    raise NotFound(f"Calendar '{self.name}': event {target} is gone")
                match = current.get("etag")
            item = self.marks_sent(target, match, private, tried=False)
            if target == href:
                etag = item.get("etag")

    def marks_sent(self, event_id: str, etag: str | None, private: Json, *, tried: bool) -> Json:
        item = self._conditional_write(
            self.patch_request(event_id, {"extendedProperties": {"private": private}}),
            etag,
            "tagging an interview",
            event_id,
            functools.partial(has_private, private=private),
            tried=tried,
        )
        self.record_write(event_id, item)
        return item

    def write_batch(self, writes: Sequence[Write]) -> list[BaseException | None]:
        """Up to ``batch_size`` writes in one batch request (see google_batch.py)."""
        from followup_cal.backends.google_batch import write_batch

        return write_batch(self, writes)

    def new_batch(self, callback: Callable[[str, Any, Any], None]) -> Any:
        """An empty ``BatchHttpRequest`` to the API's batch endpoint (the stand-in's with api_endpoint)."""
        if self._batch_uri is None:
            return self._service.new_batch_http_request(callback=callback)
        from googleapiclient.http import BatchHttpRequest

        return BatchHttpRequest(callback=callback, batch_uri=self._batch_uri)

    def _conditional_write(
        self,
        request: Any,
        etag: str | None,
        what: str,
        event_id: str | None = None,
        landed: Callable[[Json], bool] | None = None,
        *,
        tried: bool = False,
    ) -> Json:
        """Sends a write with ``If-Match: etag``. When a retry of it meets 412, the first attempt may have
        been applied before its answer was lost: the event is read, and if ``landed`` says it holds what
        was written, that counts as done (as a retried DELETE's 404 does). ``tried``: an earlier attempt
        (in a batch) may have landed."""
        if etag is not None:
            request.headers["If-Match"] = etag
        retries_before = self.retries_here()
        try:
            result: Json = self.execute_request(request, retry=etag is not None, what=what)
        except ApiFailure as failure:
            tried = tried or self.retries_here() > retries_before
            return self.settle_conditional(failure, what, event_id, landed, tried=tried)
        return result or {}

    def settle_conditional(
        self,
        failure: ApiFailure,
        what: str,
        event_id: str | None,
        landed: Callable[[Json], bool] | None,
        *,
        tried: bool,
    ) -> Json:
        """The item when a conditional write's error answer means it is done after all, else raises."""
        if failure.status == 412 and tried and event_id and landed:
            current = self._get_item(event_id)
            if current is not None and landed(current):
                return current
        raise self.error_for(failure, what) from None

    # -- transport ----------------------------------------------------------------------------------

    def execute_request(self, request: Any, *, retry: bool, what: str) -> Any:
        """Runs one request, retrying transient failures when ``retry``; raises :class:`ApiFailure` for
        other error answers and followup-cal errors for everything else."""
        import httplib2  # type: ignore[import-untyped]
        from google.auth.exceptions import RefreshError, TransportError
        from googleapiclient.errors import HttpError

        attempt = 0
        while True:
            try:
                return request.execute(http=self._http(), num_retries=0)
            except HttpError as error:
                status = int(error.resp.status)
                reason, message = error_details(error)
                if not is_transient(status, reason):
                    raise ApiFailure(status, reason, message) from None
                failure = f"Google answered {status} {reason or message}".strip()
            except RefreshError as error:
                if is_invalid_grant(error):
                    raise AuthenticationError(revoked_message(self.name)) from None
                raise AuthenticationError(
                    f"Google refused to refresh the access token of calendar '{self.name}': {AUTH_AGAIN}"
                ) from None
            except (OSError, httplib2.HttpLib2Error, TransportError, http.client.HTTPException) as error:
                # HTTPException: an answer cut short (IncompleteRead) or garbled on the way.
                failure = f"cannot reach Google Calendar ({type(error).__name__}: {error})"
            attempt += 1
            if not retry or attempt >= self.max_attempts:
                raise TransientError(f"Calendar '{self.name}': {what} failed: {failure}; try again later")
            delay = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
            time.sleep(delay * random.uniform(0.5, 1.0))
            self.count_retry()

    def count_retry(self) -> None:
        """Counts a request sent again: over the backend's life (``retries``) and in this thread."""
        with self._connections_lock:
            self.retries += 1
        self._local.retries = self.retries_here() + 1

    def retries_here(self) -> int:
        """Requests this thread sent again. Whether a write's earlier attempt may have landed is judged
        by its own thread's retries: batches of one step are sent from several threads at once."""
        return int(getattr(self._local, "retries", 0))

    def _http(self) -> Any:
        """This thread's connection to the API (made on its first request)."""
        connection = getattr(self._local, "http", None)
        if connection is None:
            connection = self._local.http = authorized_http(self._credentials)
            with self._connections_lock:
                self._connections.append(connection)
        return connection

    def error_for(self, failure: ApiFailure, what: str) -> BackendError:
        prefix = f"Calendar '{self.name}': {what} failed"
        if failure.status == 401:
            return AuthenticationError(
                f"Google refused the credentials of calendar '{self.name}': {AUTH_AGAIN}"
            )
        if failure.status == 403:
            return AuthenticationError(
                f"{prefix}: Google refused access ({failure.reason or failure.message}); check calendar_id "
                f"'{self.calendar_id}' and, if the token lacks the calendar scopes, {AUTH_AGAIN}"
            )
        if failure.status in (404, 410):
            return NotFound(f"{prefix}: not found ({failure.message})")
        if failure.status == 409:
            return AlreadyExists(f"{prefix}: the id already exists ({failure.message})")
        if failure.status == 412:
            return PreconditionFailed(f"{prefix}: the event changed since it was read")
        return BackendError(
            f"{prefix}: Google answered {failure.status} ({failure.reason}: {failure.message})"
        )


def _is_own_write(item: Json, ours: OwnWrites) -> bool:
    """A changed item that is exactly as our own write left it (a deletion: a cancelled tombstone)."""
    event_id = str(item.get("id"))
    if event_id not in ours:
        return False
    etag = ours[event_id]
    if etag is None:
        return item.get("status") == "cancelled"
    return item.get("etag") == etag and item.get("status") != "cancelled"
