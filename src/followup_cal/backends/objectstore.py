"""The shared logic of backends that store one iCalendar object per href (a vdir, the in-memory store).

A subclass provides five primitives on raw bytes (list, read, create-if-absent, replace-if-match,
remove-if-match); everything about iCalendar is done here with :mod:`followup_cal.ical.read`.

A stored object should hold one UID (vdirsyncer's rule), but files holding several exist. Their events get
the href ``<file>#followup-cal-uid=<quoted UID>`` and an etag of that UID's own lines, so each one can be
tagged on its own (and the others in the file are left alone) instead of failing the whole calendar.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

from followup_cal.backends.base import ChangeCheck
from followup_cal.core.model import Event, Listing, MarkUpdate, Moment, Problem, ReminderDraft
from followup_cal.errors import BackendError, NotFound, PreconditionFailed
from followup_cal.ical import marks as ical_marks
from followup_cal.ical import read as ical
from followup_cal.ical.dates import certainly_outside

_SAFE_UID = re.compile(r"[A-Za-z0-9_-]{1,200}")
_UID_FRAGMENT = "#followup-cal-uid="


def content_etag(data: bytes) -> str:
    """The etag of a stored object: a hash of its bytes, so any change to it changes the etag."""
    return hashlib.sha256(data).hexdigest()[:32]


def href_for_uid(uid: str) -> str:
    """``<uid>.ics`` when the UID is made of safe characters (reminder UIDs are hex), else a hash of it."""
    if _SAFE_UID.fullmatch(uid):
        return f"{uid}.ics"
    return hashlib.sha256(uid.encode()).hexdigest()[:40] + ".ics"


def holds_uid(data: bytes, uid: str) -> bool:
    if "\ufffd" not in uid:  # a UID read from invalid UTF-8 is not in the bytes as such
        unfolded = ical_marks.unfold_bytes(data)
        candidates = {uid.encode(), ical_marks.escape_text(uid).encode()}
        if not any(candidate in unfolded for candidate in candidates):
            return False
    return uid in ical.uids_in(data)


def uid_etag(data: bytes, uid: str) -> str:
    """The etag of one UID inside an object holding several: a hash of that UID's VEVENT lines."""
    lines = ical_marks.physical_lines(data.decode("utf-8", "surrogateescape"))
    digest = hashlib.sha256()
    for span in ical_marks.vevent_spans(lines, uid):
        digest.update("".join(lines[span.first : span.stop]).encode("utf-8", "surrogateescape"))
    return digest.hexdigest()[:32]


def split_href(href: str) -> tuple[str, str | None]:
    """``(stored object's href, UID)`` of an event's href; the UID is None for a one-UID object."""
    stored, sep, quoted = href.partition(_UID_FRAGMENT)
    return (stored, unquote(quoted)) if sep else (href, None)


def _located(event: Event, data: bytes, uids: list[str]) -> Event:
    if len(uids) < 2:
        return event
    href = f"{event.href}{_UID_FRAGMENT}{quote(event.uid, safe='')}"
    return dataclasses.replace(event, href=href, etag=uid_etag(data, event.uid))


class ObjectStoreBackend(ABC):
    """A CalendarBackend over a store of ``href -> iCalendar bytes`` objects."""

    name: str

    # --- primitives -----------------------------------------------------------------------------------

    @abstractmethod
    def _hrefs(self) -> list[str]:
        """Every stored object's href."""

    @abstractmethod
    def _read(self, href: str) -> bytes | None:
        """The object's bytes, ``None`` when it is gone. Raises BackendError when it cannot be read."""

    @abstractmethod
    def _store_new(self, href: str, data: bytes) -> None:
        """Stores a new object; AlreadyExists when ``href`` is taken."""

    @abstractmethod
    def _replace(self, href: str, data: bytes, etag: str | None) -> None:
        """Replaces the object if its etag is still ``etag`` (None: unconditionally).
        PreconditionFailed when it changed, NotFound when it is gone."""

    @abstractmethod
    def _remove(self, href: str, etag: str | None) -> None:
        """Removes the object if its etag is still ``etag``; nothing when it is already gone."""

    # --- CalendarBackend ------------------------------------------------------------------------------

    def changes_since(self, token: str | None) -> ChangeCheck:
        """A hash of every object's bytes: exact, and far cheaper than parsing them."""
        state = hashlib.sha256()
        for href in sorted(self._hrefs()):
            try:
                data = self._read(href)
            except BackendError:
                data = b"unreadable"
            state.update(f"{href}\0{content_etag(data or b'')}\0".encode())
        current = state.hexdigest()
        return ChangeCheck(current != token, current)

    def list_window(self, start: datetime, end: datetime, tz: ZoneInfo) -> Listing:
        listing = Listing()
        for href in self._hrefs():
            try:
                data = self._read(href)
            except BackendError as exc:
                listing.problems.append(Problem(self.name, href, str(exc)))
                continue
            if data is None or certainly_outside(data, start, end):
                continue
            events, problems = ical.read_events(
                data, calendar=self.name, href=href, etag=content_etag(data), tz=tz, start=start, end=end
            )
            if events:
                uids = ical.uids_in(data)
                events = [_located(event, data, uids) for event in events]
            listing.events.extend(events)
            listing.problems.extend(problems)
        return listing

    def find(self, uid: str, recurrence_id: Moment | None, tz: ZoneInfo) -> Event | None:
        unreadable: list[str] = []
        preferred = href_for_uid(uid)
        hrefs = self._hrefs()
        ordered = ([preferred] if preferred in hrefs else []) + [h for h in hrefs if h != preferred]
        for href in ordered:
            try:
                data = self._read(href)
            except BackendError:
                unreadable.append(href)
                continue
            if data is None or not holds_uid(data, uid):
                continue
            event = ical.find_event(
                data, uid, recurrence_id, calendar=self.name, href=href, etag=content_etag(data), tz=tz
            )
            return None if event is None else _located(event, data, ical.uids_in(data))
        if unreadable:
            raise BackendError(
                f"Calendar {self.name!r}: could not tell whether event {uid!r} exists because "
                f"{', '.join(unreadable[:3])} could not be read; fix the file permissions or contents."
            )
        return None

    def create(self, draft: ReminderDraft) -> Event:
        # The file name follows from the UID, so "If-None-Match: *" is the create-if-absent of that name:
        # reading every other object for each new reminder would make a first sync quadratic. A copy of
        # the UID under another name is read as a duplicate and removed by reconcile.
        href = href_for_uid(draft.uid)
        data = ical.reminder_to_ical(draft)
        self._store_new(href, data)
        return self._as_event(href, data, draft.uid)

    def update_reminder(self, existing: Event, draft: ReminderDraft) -> Event:
        if draft.uid != existing.uid:
            raise BackendError(f"A reminder keeps its UID: {existing.uid!r} cannot become {draft.uid!r}.")
        self._refuse_shared(existing.href)
        data = ical.reminder_to_ical(draft)
        self._replace(existing.href, data, existing.etag)
        return self._as_event(existing.href, data, draft.uid)

    def delete(self, existing: Event) -> None:
        self._refuse_shared(existing.href)
        self._remove(existing.href, existing.etag)

    def _refuse_shared(self, href: str) -> None:
        stored, uid = split_href(href)
        if uid is not None:
            raise BackendError(
                f"Calendar {self.name!r}: {stored} holds several events; followup-cal replaces or removes "
                "only files that hold one. Split the file (vdirsyncer does)."
            )

    def write_marks(self, href: str, etag: str | None, updates: Sequence[MarkUpdate]) -> None:
        stored, uid = split_href(href)
        data = self._read(stored)
        if data is None:
            raise NotFound(f"Calendar {self.name!r}: {stored} is gone; re-read the calendar.")
        uids = ical.uids_in(data)
        if uid is None and len(uids) != 1:  # it held one UID when it was read
            raise PreconditionFailed(f"Calendar {self.name!r}: {stored} changed since it was read.")
        uid = uids[0] if uid is None else uid
        if uid not in uids:
            raise NotFound(f"Calendar {self.name!r}: {stored} no longer holds {uid!r}; re-read the calendar.")
        current = content_etag(data) if len(uids) == 1 else uid_etag(data, uid)
        if etag is not None and current != etag:
            raise PreconditionFailed(f"Calendar {self.name!r}: {stored} changed since it was read.")
        marked = ical.apply_marks(data, uid, updates)
        if marked != data:
            self._replace(stored, marked, content_etag(data))

    def _as_event(self, href: str, data: bytes, uid: str) -> Event:
        tz = ZoneInfo("UTC")  # reminders are written in UTC; no floating times to resolve
        event = ical.find_event(
            data, uid, None, calendar=self.name, href=href, etag=content_etag(data), tz=tz
        )
        if event is None:  # pragma: no cover - reminder_to_ical always writes the UID
            raise BackendError(f"Calendar {self.name!r}: the reminder {uid!r} could not be read back.")
        return event
