"""The shared logic of backends that store one iCalendar object per href (a vdir, the in-memory store).

A subclass provides five primitives on raw bytes (list, read, create-if-absent, replace-if-match,
remove-if-match); everything about iCalendar is done here with :mod:`followup_cal.ical`.
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from .. import ical, ical_marks
from ..errors import BackendError, NotFound, PreconditionFailed
from ..model import Event, Listing, MarkUpdate, Moment, Problem, ReminderDraft
from .base import ChangeCheck

_SAFE_UID = re.compile(r"[A-Za-z0-9_-]{1,200}")


def content_etag(data: bytes) -> str:
    """The etag of a stored object: a hash of its bytes, so any change to it changes the etag."""
    return hashlib.sha256(data).hexdigest()[:32]


def href_for_uid(uid: str) -> str:
    """``<uid>.ics`` when the UID is made of safe characters (reminder UIDs are hex), else a hash of it."""
    if _SAFE_UID.fullmatch(uid):
        return f"{uid}.ics"
    return hashlib.sha256(uid.encode()).hexdigest()[:40] + ".ics"


def holds_uid(data: bytes, uid: str) -> bool:
    unfolded = data.replace(b"\r\n ", b"").replace(b"\n ", b"").replace(b"\r\n\t", b"").replace(b"\n\t", b"")
    candidates = {uid.encode(), ical_marks.escape_text(uid).encode()}
    return any(candidate in unfolded for candidate in candidates) and uid in ical.uids_in(data)


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
            if data is None:
                continue
            events, problems = ical.read_events(
                data, calendar=self.name, href=href, etag=content_etag(data), tz=tz, start=start, end=end
            )
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
            return ical.find_event(
                data, uid, recurrence_id, calendar=self.name, href=href, etag=content_etag(data), tz=tz
            )
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
        data = ical.reminder_to_ical(draft)
        self._replace(existing.href, data, existing.etag)
        return self._as_event(existing.href, data, draft.uid)

    def delete(self, existing: Event) -> None:
        self._remove(existing.href, existing.etag)

    def write_marks(self, href: str, etag: str | None, updates: Sequence[MarkUpdate]) -> None:
        data = self._read(href)
        if data is None:
            raise NotFound(f"Calendar {self.name!r}: {href} is gone; re-read the calendar.")
        if etag is not None and content_etag(data) != etag:
            raise PreconditionFailed(f"Calendar {self.name!r}: {href} changed since it was read.")
        uids = ical.uids_in(data)
        if len(uids) != 1:
            raise BackendError(
                f"Calendar {self.name!r}: {href} holds {len(uids)} events ({', '.join(uids[:3])}); "
                "followup-cal tags only files that hold one event. Split the file (vdirsyncer does)."
            )
        marked = ical.apply_marks(data, uids[0], updates)
        if marked != data:
            self._replace(href, marked, content_etag(data))

    def _as_event(self, href: str, data: bytes, uid: str) -> Event:
        tz = ZoneInfo("UTC")  # reminders are written in UTC; no floating times to resolve
        event = ical.find_event(
            data, uid, None, calendar=self.name, href=href, etag=content_etag(data), tz=tz
        )
        if event is None:  # pragma: no cover - reminder_to_ical always writes the UID
            raise BackendError(f"Calendar {self.name!r}: the reminder {uid!r} could not be read back.")
        return event
