"""The CalDAV backend: one calendar collection on a CalDAV server (RFC 4791).

Reads are calendar-query REPORTs (a time range for the window, a UID match for ``find``); recurring
series are expanded on the client. Writes are our own conditional requests: create is a PUT with
``If-None-Match: *``, update, delete and tagging use ``If-Match: <etag>``. (``Calendar.add_event`` of the
caldav library is not used for reminders: it would also rewrite the parent event named in RELATED-TO.)
The module is not called ``caldav.py`` so that it is never mistaken for the caldav library.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urljoin, urlsplit
from zoneinfo import ZoneInfo

from followup_cal.backends.base import ChangeCheck, OwnWrites
from followup_cal.backends.dav import (
    CALDAV,
    DAV,
    DavResource,
    DavSession,
    Precondition,
    Reply,
    calendar_query_body,
    collection_url,
    preconditions_in,
    sync_collection_body,
    sync_token_in,
    time_range_filter,
    uid_filter,
)
from followup_cal.backends.http import DEFAULT_TIMEOUT, RetryPolicy, redact_url
from followup_cal.errors import AlreadyExists, BackendError, NotFound, PreconditionFailed

if TYPE_CHECKING:  # annotations only: a no-op sync loads no model
    from followup_cal.core.model import Event, Listing, MarkUpdate, Moment, ReminderDraft

ICAL_HEADERS = {"Content-Type": "text/calendar; charset=utf-8"}
XML_HEADERS = {"Content-Type": "application/xml; charset=utf-8"}
# Answers to a sync token the server no longer accepts (RFC 6578 DAV:valid-sync-token, or gone).
STALE_TOKEN_STATUSES = frozenset({400, 403, 409, 410, 412})
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")
# Preconditions a server names when the UID is held by another object: RFC 4791 5.3.2.1 (in this
# calendar) and RFC 6638 3.2.4.1 (anywhere in the account, for servers that keep UIDs unique per user).
UID_TAKEN = frozenset({f"{CALDAV}no-uid-conflict", f"{CALDAV}unique-scheduling-object-resource"})


@dataclass(frozen=True)
class StoredObject:
    etag: str | None
    data: bytes


class CaldavBackend:
    """One calendar collection; ``url`` may also be a server root or principal URL when the account
    has exactly one calendar holding events."""

    def __init__(
        self,
        name: str,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        verify: bool = True,
        ca_bundle: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        connections: int = 1,
    ) -> None:
        self.name = name
        self._connections = connections
        self.url = url
        self._session = DavSession(
            collection_url(url),
            label=f"calendar '{name}' at {redact_url(url)}",
            username=username,
            password=password,
            verify=verify,
            ca_bundle=ca_bundle,
            timeout=timeout,
            retry=retry,
            connections=connections,
        )
        self._collection: str | None = None
        # The sync-token the collection reported when it was resolved, before anything was read: a
        # change check needs no request of its own to learn it.
        self._fresh_sync_token: str | None = None
        # The objects seen by the last reads, by path: write_marks edits these bytes when the etag
        # still matches, saving a GET. Only a speed-up: without it the object is fetched.
        self._objects: dict[str, StoredObject] = {}
        # What this backend wrote (unquoted path -> the etag left, None: deleted), for own_writes.
        self._written: dict[str, str | None] = {}
        self._unknown_write = False

    @property
    def write_connections(self) -> int:
        """Writes sent at once: as configured, until the server answers a write with 423, 429 or 503;
        then one for the rest of the run."""
        return 1 if self._session.writes_contended else self._connections

    # ---- the collection

    def collection(self) -> str:
        """The calendar collection's URL, resolved (and checked) on first use."""
        if self._collection is None:
            self._collection = self._resolve_collection()
        return self._collection

    def _resolve_collection(self) -> str:
        label = self._session.label
        from followup_cal.backends.dav_discovery import discover_calendars

        calendars = discover_calendars(self._session, collection_url(self.url))
        with_events = [info for info in calendars if info.holds_events]
        if len(with_events) == 1:
            self._fresh_sync_token = with_events[0].sync_token
            return collection_url(with_events[0].url)
        if not calendars:
            raise BackendError(f"{label}: no calendar found there; set url to a calendar's URL")
        if len(calendars) == 1:
            raise BackendError(
                f"{label} is a calendar for tasks or journals, not events; "
                "pick another one (`followup-cal calendars` lists them)"
            )
        names = ", ".join(f"{info.display_name} <{info.url}>" for info in with_events or calendars)
        raise BackendError(
            f"{label} is not one calendar but an account with several: {names}; put one of them in url "
            "(`followup-cal calendars` lists them)"
        )

    def close(self) -> None:
        self._session.close()

    # ---- reading

    def changes_since(self, token: str | None) -> ChangeCheck:
        """RFC 6578: a sync-collection REPORT for the etags changed since ``token``; without a token, or
        when the server refuses it, the collection's current ``DAV:sync-token`` (PROPFIND).

        The token also names the collection it belongs to, so that a check needs no discovery first:
        one request in all when nothing changed."""
        return self._changes(token, {})

    def changes_besides(self, token: str, ours: OwnWrites) -> ChangeCheck:
        """``changes_since``, where a changed object that holds the etag of our own write (or that our
        own delete removed) does not count."""
        return self._changes(token, ours)

    def own_writes(self) -> OwnWrites | None:
        return None if self._unknown_write else dict(self._written)

    def _record(self, href: str, etag: str | None, *, deleted: bool = False) -> None:
        """Remembers what a write left at ``href`` (an etag; a deletion), for ``own_writes``."""
        if deleted:
            self._written[unquote(href)] = None
        elif etag is None:
            self._unknown_write = True
        else:
            self._written[unquote(href)] = etag

    def _changes(self, token: str | None, ours: OwnWrites) -> ChangeCheck:
        if token is not None:
            known, sync_token, scheme = [*token.split("\n"), "", ""][:3]
            collection = self._collection or known
            if sync_token and collection == known and _same_origin(collection, self.url):
                body = sync_collection_body(sync_token)
                reply = None
                if scheme != "digest":  # a Digest answer needs the server's challenge first
                    reply = self._session.send_quick(
                        "REPORT", collection, body, XML_HEADERS, basic=scheme == "basic"
                    )
                if reply is None:
                    reply = self._session.send("REPORT", collection, body, XML_HEADERS)
                if reply.status == 207:
                    self._collection = collection
                    own_path = urlsplit(collection).path.rstrip("/")
                    changed = False
                    for resource in self._session.parse(reply):
                        path = urlsplit(urljoin(collection, resource.href)).path
                        if path.rstrip("/") == own_path:
                            continue
                        gone = resource.status in (404, 410)
                        etag = None if gone else _strong_etag(resource.text(f"{DAV}getetag"))
                        if unquote(path) not in ours or ours[unquote(path)] != etag:
                            changed = True
                            break
                    return ChangeCheck(changed, self._token(collection, sync_token_in(reply.body), scheme))
                if reply.status not in STALE_TOKEN_STATUSES and reply.status not in (404, 501):
                    raise BackendError(
                        f"{self._session.label} refused the sync-collection report (HTTP {reply.status})"
                    )
        collection = self.collection()
        current, self._fresh_sync_token = self._fresh_sync_token, None
        if current is None:
            reply, resources = self._session.propfind(collection, ("D:sync-token",), 0)
            current = resources[0].text(f"{DAV}sync-token") if resources else None
        return ChangeCheck(True, self._token(collection, current))

    def _token(self, collection: str, sync_token: str | None, known_scheme: str = "") -> str | None:
        """Collection, sync-token and the auth scheme the server asked for, one per line (the scheme of
        the token checked, when this process sent its credentials without being asked)."""
        sync_token = (sync_token or "").strip()
        if not sync_token:
            return None
        return f"{collection}\n{sync_token}\n{self._session.auth_scheme or known_scheme}"

    def list_window(self, start: datetime, end: datetime, tz: ZoneInfo) -> Listing:
        from followup_cal.ical import read as ical  # lazily: a sync that finds nothing changed never parses

        body = calendar_query_body(time_range_filter(_utc_text(start), _utc_text(end)))
        from followup_cal.core.model import Listing

        listing = Listing()
        for href, stored in self._query(body):
            events, problems = ical.read_events(
                stored.data, calendar=self.name, href=href, etag=stored.etag, tz=tz, start=start, end=end
            )
            listing.events.extend(events)
            listing.problems.extend(problems)
        return listing

    def find(self, uid: str, recurrence_id: Moment | None, tz: ZoneInfo) -> Event | None:
        from followup_cal.ical import read as ical  # lazily: a sync that finds nothing changed never parses

        for href, stored in self._query(calendar_query_body(uid_filter(uid))):
            if uid not in ical.uids_in(stored.data):
                continue  # text-match is a substring match
            return ical.find_event(
                stored.data, uid, recurrence_id, calendar=self.name, href=href, etag=stored.etag, tz=tz
            )
        return None

    def _query(self, body: bytes) -> list[tuple[str, StoredObject]]:
        """Runs one calendar-query REPORT; returns (href, object) pairs and remembers them."""
        collection = self.collection()
        reply = self._session.send(
            "REPORT", collection, body, {"Content-Type": "application/xml; charset=utf-8", "Depth": "1"}
        )
        if reply.status != 207:
            raise BackendError(
                f"{self._session.label} refused the calendar query (HTTP {reply.status}); "
                "is the url a CalDAV calendar?"
            )
        found: list[tuple[str, StoredObject]] = []
        for resource in self._session.parse(reply):
            href = urlsplit(urljoin(collection, resource.href)).path
            if resource.status != 200 or href.rstrip("/") == urlsplit(collection).path.rstrip("/"):
                continue
            stored = self._stored_from(resource, href)
            if stored is not None:
                self._objects[href] = stored
                found.append((href, stored))
        return found

    def _stored_from(self, resource: DavResource, href: str) -> StoredObject | None:
        etag = resource.text(f"{DAV}getetag")
        data = resource.text(f"{CALDAV}calendar-data")
        if data is None:  # a server that ignored the calendar-data request: fetch the object
            return self._get(href)
        # XML parsing turned the object's CRLF line ends into LF; iCalendar wants CRLF back.
        return StoredObject(_strong_etag(etag), _LINE_BREAK.sub(b"\r\n", data.encode()))

    def _get(self, href: str) -> StoredObject | None:
        reply = self._session.send("GET", self._url(href), headers={"Accept": "text/calendar"})
        if reply.status in (404, 410):
            return None
        if reply.status != 200:
            raise BackendError(f"{self._session.label}: reading {href} failed (HTTP {reply.status})")
        stored = StoredObject(_strong_etag(reply.header("ETag")), reply.body)
        self._objects[href] = stored
        return stored

    def _url(self, href: str) -> str:
        return urljoin(self.collection(), href)

    # ---- writing

    def create(self, draft: ReminderDraft) -> Event:
        from followup_cal.ical import read as ical  # lazily: a sync that finds nothing changed never parses

        data = ical.reminder_to_ical(draft)
        href = urlsplit(self._url(quote(draft.uid, safe="") + ".ics")).path
        headers = {**ICAL_HEADERS, "If-None-Match": "*"}
        reply = self._session.send("PUT", self._url(href), data, headers)
        if reply.status == 412 and reply.attempts > 1:
            # Our own earlier attempt may have been stored before the connection failed.
            landed = self._read_back(href, draft)
            if landed is not None:
                return landed
        taken = _uid_taken(reply)
        if taken is not None:
            raise AlreadyExists(
                f"{self._session.label}: an event with UID {draft.uid} already exists{taken} "
                f"(HTTP {reply.status}); it will be looked up"
            )
        self._check_written(reply, "creating", href)
        return self._written_event(href, data, draft.uid, reply.header("ETag"))

    def update_reminder(self, existing: Event, draft: ReminderDraft) -> Event:
        from followup_cal.ical import read as ical  # lazily: a sync that finds nothing changed never parses

        href = existing.href
        etag = existing.etag or self._etag_still_matching(existing)
        data = ical.reminder_to_ical(draft)
        reply = self._session.send("PUT", self._url(href), data, {**ICAL_HEADERS, "If-Match": etag})
        if reply.status == 412 and reply.attempts > 1:
            landed = self._read_back(href, draft)
            if landed is not None:
                return landed
        if reply.status == 412:
            raise self._changed(href)
        if reply.status in (404, 410):
            raise NotFound(f"{self._session.label}: the reminder {href} is gone")
        self._check_written(reply, "updating", href)
        return self._written_event(href, data, draft.uid, reply.header("ETag"))

    def delete(self, existing: Event) -> None:
        href = existing.href
        etag = existing.etag or self._etag_still_matching(existing, missing_ok=True)
        if not etag:
            return
        reply = self._session.send("DELETE", self._url(href), headers={"If-Match": etag})
        self._objects.pop(href, None)
        if reply.status in (404, 410):
            self._record(href, None, deleted=True)
            return
        if reply.status == 412:
            # Even after a retry: our first DELETE would have left a 404, so this is a real change.
            raise self._changed(href)
        self._check_written(reply, "deleting", href)
        self._record(href, None, deleted=True)

    def write_marks(self, href: str, etag: str | None, updates: Sequence[MarkUpdate]) -> None:
        cached = self._objects.get(href)
        if etag is not None and cached is not None and cached.etag == etag:
            stored = cached
        else:
            fetched = self._get(href)
            if fetched is None:
                raise NotFound(f"{self._session.label}: the event {href} is gone")
            if etag is not None and fetched.etag != etag:
                raise self._changed(href)
            stored = fetched
        if stored.etag is None:
            raise BackendError(f"{self._session.label} sent no ETag for {href}: cannot change it safely")
        marked = _with_marks(stored.data, updates, href)
        if marked == stored.data:
            return
        reply = self._session.send("PUT", self._url(href), marked, {**ICAL_HEADERS, "If-Match": stored.etag})
        if reply.status == 412 and reply.attempts > 1:
            current = self._get(href)
            if current is not None and _with_marks(current.data, updates, href) == current.data:
                self._record(href, current.etag)
                return  # our first attempt went through
        if reply.status == 412:
            raise self._changed(href)
        if reply.status in (404, 410):
            raise NotFound(f"{self._session.label}: the event {href} is gone")
        self._check_written(reply, "tagging", href)
        new_etag = _strong_etag(reply.header("ETag"))
        self._record(href, new_etag)
        if new_etag is None:
            self._objects.pop(href, None)
        else:
            self._objects[href] = StoredObject(new_etag, marked)

    # ---- helpers for writing

    def _check_written(self, reply: Reply, doing: str, href: str) -> None:
        status = reply.status
        if status in (200, 201, 204):
            return
        conditions = preconditions_in(reply.body) if 400 <= status < 500 else []
        # DAV:need-privileges is the 403 of a calendar the account may not write to: said below.
        refused = [condition for condition in conditions if condition.local_name != "need-privileges"]
        if refused:
            names = ", ".join(condition.local_name for condition in refused)
            raise BackendError(
                f"{self._session.label} refused {doing} {href} (HTTP {status}, precondition {names}): "
                "the server does not accept this object; please report it with the server's name"
            )
        if status == 403:
            raise BackendError(
                f"{self._session.label} refused {doing} {href} (HTTP 403): check the calendar is writable"
            )
        raise BackendError(f"{self._session.label}: {doing} {href} failed (HTTP {status})")

    def _written_event(self, href: str, data: bytes, uid: str, etag_header: str | None) -> Event:
        from followup_cal.ical import read as ical  # lazily: a sync that finds nothing changed never parses

        etag = _strong_etag(etag_header)  # none (or a weak one): the next read decides
        self._record(href, etag)
        if etag is None:
            self._objects.pop(href, None)
        else:
            self._objects[href] = StoredObject(etag, data)
        event = ical.find_event(data, uid, None, calendar=self.name, href=href, etag=etag, tz=ZoneInfo("UTC"))
        if event is None:
            raise BackendError(f"{self._session.label}: the reminder {uid} could not be read back")
        return event

    def _read_back(self, href: str, draft: ReminderDraft) -> Event | None:
        """The stored reminder when it is exactly ``draft`` (our own earlier attempt), else None."""
        from followup_cal.ical import read as ical  # lazily: a sync that finds nothing changed never parses

        stored = self._get(href)
        if stored is None:
            return None
        event = ical.find_event(
            stored.data, draft.uid, None, calendar=self.name, href=href, etag=stored.etag, tz=ZoneInfo("UTC")
        )
        if event is None or event.reminder is None or event.reminder.fingerprint != draft.fingerprint:
            return None
        self._record(href, stored.etag)
        return event

    def _etag_still_matching(self, existing: Event, *, missing_ok: bool = False) -> str:
        """The current ETag of ``existing``'s object, read now because the server sent none before;
        PreconditionFailed when the object no longer holds the event as it was read."""
        from followup_cal.ical import read as ical  # lazily: a sync that finds nothing changed never parses

        stored = self._get(existing.href)
        if stored is None:
            if missing_ok:
                return ""
            raise NotFound(f"{self._session.label}: the event {existing.href} is gone")
        current = ical.find_event(
            stored.data,
            existing.uid,
            existing.recurrence_id,
            calendar=self.name,
            href=existing.href,
            etag=stored.etag,
            tz=ZoneInfo("UTC"),
        )
        as_read = existing.reminder if existing.reminder is None or existing.reminder.marked else None
        unchanged = current is not None and (
            current.start,
            current.end,
            current.summary,
            current.description,
            current.reminder,
        ) == (existing.start, existing.end, existing.summary, existing.description, as_read)
        if stored.etag is None:
            raise BackendError(
                f"{self._session.label} sends no usable ETag for {existing.href}: cannot change it safely"
            )
        if not unchanged:
            raise self._changed(existing.href)
        return stored.etag

    def _changed(self, href: str) -> PreconditionFailed:
        self._objects.pop(href, None)
        return PreconditionFailed(
            f"{self._session.label}: {href} changed since it was read; it will be read again"
        )


def _with_marks(data: bytes, updates: Sequence[MarkUpdate], href: str) -> bytes:
    from followup_cal.ical import read as ical  # lazily: a sync that finds nothing changed never parses

    uids = ical.uids_in(data)
    if len(uids) != 1:
        raise BackendError(f"{href} holds {len(uids)} events instead of one; followup-cal leaves it alone")
    return ical.apply_marks(data, uids[0], updates)


def _same_origin(url_a: str, url_b: str) -> bool:
    a, b = urlsplit(url_a), urlsplit(url_b)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc)


def _uid_taken(reply: Reply) -> str | None:
    """When a create's refusal says the UID is taken: where (" at <href>" when the server named the
    other object, else ""); None for any other answer. Read from the status and the parsed
    precondition, never from the body's wording: 409 (Radicale), 412 on If-None-Match (Xandikos), or
    403 naming no-uid-conflict or unique-scheduling-object-resource (servers with per-account UIDs)."""
    conditions: list[Precondition] = []
    if reply.status in (403, 409, 412):
        conditions = [c for c in preconditions_in(reply.body) if c.name in UID_TAKEN]
    if reply.status in (409, 412) or conditions:
        hrefs = [href for condition in conditions for href in condition.hrefs]
        return f" at {hrefs[0]}" if hrefs else ""
    return None


def _strong_etag(value: str | None) -> str | None:
    """An ETag usable in If-Match; a weak one (W/...) never matches strongly, so it counts as none."""
    if not value or value.startswith("W/"):
        return None
    return value


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


__all__ = ["CaldavBackend"]
