"""The protocol every calendar backend implements.

Terms, as in vdirsyncer's storage interface:

``href``
    The backend's own locator of one stored object: a file name inside a vdir, a path below the CalDAV
    collection, a Google event id, a key in the in-memory store. Opaque to the core: it is only ever handed
    back to the backend that produced it. All occurrences of one stored series share their href.
``etag``
    A string that changes whenever the stored object changes (the HTTP ETag, Google's etag, a hash of the
    file's bytes). ``None`` when not known (a server that sent none): the next read decides.
``uid``
    The iCalendar UID (Google: ``iCalUID``) of the event. Never used as a file name or URL path unescaped.

Every write is conditional: ``create`` fails with :class:`AlreadyExists` when the UID is taken (HTTP
``If-None-Match: *``), ``update_reminder``, ``delete`` and ``write_marks`` fail with
:class:`PreconditionFailed` when the object's etag is no longer the one given (``If-Match``). A backend
never retries a write whose precondition could not make the retry safe.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, TypeAlias, runtime_checkable
from zoneinfo import ZoneInfo

if TYPE_CHECKING:  # annotations only: a no-op sync loads no model
    from followup_cal.core.model import Event, Listing, MarkUpdate, Moment, ReminderDraft


class CalendarBackend(Protocol):
    name: str
    """The calendar's name in the configuration (``[calendars.NAME]``)."""

    def list_window(self, start: datetime, end: datetime, tz: ZoneInfo) -> Listing:
        """Every occurrence that overlaps ``[start, end)``, recurring series expanded, including
        cancelled ones, plus a :class:`Problem` for each stored object that could not be read.

        ``tz`` is the zone given to floating (zone-less) times.
        """
        ...

    def find(self, uid: str, recurrence_id: Moment | None, tz: ZoneInfo) -> Event | None:
        """The event (or the occurrence ``recurrence_id`` of a series) with this UID, wherever it lies in
        time, including a cancelled one. ``None`` means it is confirmed gone: no such object, or the
        occurrence was removed from its series. Raises :class:`BackendError` when it cannot tell."""
        ...

    def create(self, draft: ReminderDraft) -> Event:
        """Stores a new reminder, only if no object with ``draft.uid`` exists (:class:`AlreadyExists`)."""
        ...

    def update_reminder(self, existing: Event, draft: ReminderDraft) -> Event:
        """Replaces a reminder that followup-cal wrote with ``draft`` (same UID), if its etag is still
        ``existing.etag``."""
        ...

    def delete(self, existing: Event) -> None:
        """Deletes the stored object of ``existing`` if its etag is still ``existing.etag``. Deleting an
        object that is already gone is not an error."""
        ...

    def write_marks(self, href: str, etag: str | None, updates: Sequence[MarkUpdate]) -> None:
        """Sets (or removes) the interview tag and ISSUED record of occurrences of the object at ``href``,
        changing nothing else in it: every other property, parameter and component stays as it was."""
        ...


@dataclass(frozen=True)
class ChangeCheck:
    changed: bool
    """False only when the backend confirmed that nothing in the calendar changed since the token."""
    token: str | None
    """The calendar's state now, to pass to the next check; None when the backend cannot tell."""


@runtime_checkable
class TracksChanges(Protocol):
    """Optional: a backend that can say cheaply (one request at most) whether its calendar changed."""

    def changes_since(self, token: str | None) -> ChangeCheck:
        """Whether anything in the whole calendar changed since ``token`` (a token from an earlier check;
        None: no earlier check, so ``changed`` is True). Any change counts, including followup-cal's own
        writes. A token the backend no longer accepts also reads as changed, with a fresh token."""
        ...


OwnWrites = Mapping[str, str | None]
"""What followup-cal wrote to a calendar: href -> the etag the write left (None: it deleted the object)."""


@runtime_checkable
class VouchesForOwnWrites(Protocol):
    """Optional, with :class:`TracksChanges`: a backend that remembers exactly what it wrote, so that the
    run after a sync that wrote needs no more than the change check either."""

    def own_writes(self) -> OwnWrites | None:
        """Every object this backend wrote since it was opened, with the etag each write left (None for a
        deletion); None when some write's outcome is not known exactly (the server sent no etag)."""
        ...

    def changes_besides(self, token: str, ours: OwnWrites) -> ChangeCheck:
        """As ``changes_since(token)``, except that a change which leaves an object exactly as followup-cal
        wrote it (``ours``: its etag; None: deleted) does not count. Any other change does: another etag,
        another object, a deletion of something it did not delete."""
        ...


@runtime_checkable
class TokenFromListing(Protocol):
    """Optional, with :class:`TracksChanges`: a backend whose window listing also answers the calendar's
    change token (Google sends ``nextSyncToken`` on a listing's last page), so that a run that knows no
    token reads at once instead of asking for one first."""

    def listing_token(self) -> str | None:
        """The change token the last ``list_window`` received with what it read: the calendar's state as
        read, so any later change counts at the next check. None when it received none."""
        ...


def server_keeps_marks(backend: CalendarBackend) -> bool:
    """Whether the server stores followup-cal's marks as data of its own API that it never drops
    (Google's and Microsoft's extended properties: an optional ``server_keeps_marks`` attribute). Then a
    run need not read a reminder back to learn whether its marks were kept."""
    return bool(getattr(backend, "server_keeps_marks", False))


def write_connections(backend: CalendarBackend) -> int:
    """How many writes the backend takes at once (an optional ``write_connections`` attribute; 1 when it
    has none, as for backends whose client is not thread-safe). Read before each write: a backend
    lowers it when its server turns out not to take writes at once (423, 429, 503)."""
    return max(1, int(getattr(backend, "write_connections", 1)))


@dataclass(frozen=True)
class CreateWrite:
    """``create(draft)``."""

    draft: ReminderDraft


@dataclass(frozen=True)
class UpdateWrite:
    """``update_reminder(existing, draft)``."""

    existing: Event
    draft: ReminderDraft


@dataclass(frozen=True)
class DeleteWrite:
    """``delete(existing)``."""

    existing: Event


@dataclass(frozen=True)
class MarksWrite:
    """``write_marks(href, etag, updates)``."""

    href: str
    etag: str | None
    updates: tuple[MarkUpdate, ...]


Write: TypeAlias = CreateWrite | UpdateWrite | DeleteWrite | MarksWrite
"""One write of :class:`CalendarBackend`, as data, for :class:`WritesInBatches`."""


@runtime_checkable
class WritesInBatches(Protocol):
    """Optional: a backend whose API takes several writes in one request (Google's batch endpoint,
    Microsoft Graph's ``$batch``). The run hands it the independent writes of one step (deletes and
    moves, then creates, then tags) in chunks of at most ``batch_size``; the steps stay in order."""

    batch_size: int
    """The most writes :meth:`write_batch` takes at once (the API's limit per batch request)."""

    def write_batch(self, writes: Sequence[Write]) -> list[BaseException | None]:
        """Carries out ``writes`` (independent of each other, at most ``batch_size``), each exactly as
        its single method would (same preconditions, same answers read the same way), and returns for
        each, in order, None when it is done or the exception its single method would have raised
        (:class:`AlreadyExists`, :class:`PreconditionFailed`, :class:`NotFound`, ...). A part that
        failed transiently is retried with backoff, on its own or in a later batch, only where its
        precondition makes the retry safe. Raises when the batch as a whole failed (after its own
        retries); then none of its writes counts as done."""
        ...


def batch_size(backend: CalendarBackend) -> int:
    """How many writes one request of ``backend`` carries: its ``batch_size`` when it writes in batches,
    else 1 (each write its own request, over ``write_connections``)."""
    if isinstance(backend, WritesInBatches):
        return max(1, int(backend.batch_size))
    return 1
