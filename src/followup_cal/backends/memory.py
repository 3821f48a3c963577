"""An in-memory calendar of iCalendar objects, for tests and the demo.

``remember_deleted=True`` makes it behave like a server with a trash bin (Nextcloud): the UID of a deleted
object cannot be created again, so the core's "never reuse a deleted UID" logic can be tested.
"""

from __future__ import annotations

from followup_cal.backends.objectstore import ObjectStoreBackend, content_etag
from followup_cal.core.model import Event, ReminderDraft
from followup_cal.errors import AlreadyExists, NotFound, PreconditionFailed
from followup_cal.ical import read as ical


class MemoryBackend(ObjectStoreBackend):
    def __init__(self, name: str, *, remember_deleted: bool = False) -> None:
        self.name = name
        self.remember_deleted = remember_deleted
        self._objects: dict[str, tuple[str, bytes]] = {}  # href -> (etag, data)
        self._deleted_uids: set[str] = set()

    # --- helpers for tests ----------------------------------------------------------------------------

    def put_raw(self, href: str, data: bytes) -> str:
        """Stores ``data`` at ``href`` as a user's calendar app would (no precondition); returns the etag."""
        self._objects[href] = (content_etag(data), data)
        return self._objects[href][0]

    def get_raw(self, href: str) -> bytes:
        """The bytes stored at ``href`` (KeyError when there are none)."""
        return self._objects[href][1]

    def hrefs(self) -> list[str]:
        return sorted(self._objects)

    def remove_raw(self, href: str) -> None:
        """Deletes ``href`` as a user would (not remembered as deleted)."""
        self._objects.pop(href, None)

    # --- primitives -----------------------------------------------------------------------------------

    def _hrefs(self) -> list[str]:
        return self.hrefs()

    def _read(self, href: str) -> bytes | None:
        stored = self._objects.get(href)
        return None if stored is None else stored[1]

    def _store_new(self, href: str, data: bytes) -> None:
        if href in self._objects:
            raise AlreadyExists(f"Calendar {self.name!r} already holds {href}.")
        self.put_raw(href, data)

    def _check(self, href: str, etag: str | None) -> bool:
        stored = self._objects.get(href)
        if stored is None:
            return False
        if etag is not None and stored[0] != etag:
            raise PreconditionFailed(f"Calendar {self.name!r}: {href} changed since it was read.")
        return True

    def _replace(self, href: str, data: bytes, etag: str | None) -> None:
        if not self._check(href, etag):
            raise NotFound(f"Calendar {self.name!r}: {href} is gone; re-read the calendar.")
        self.put_raw(href, data)

    def _remove(self, href: str, etag: str | None) -> None:
        if not self._check(href, etag):
            return
        if self.remember_deleted:
            self._deleted_uids.update(ical.uids_in(self._objects[href][1]))
        del self._objects[href]

    def create(self, draft: ReminderDraft) -> Event:
        if draft.uid in self._deleted_uids:
            raise AlreadyExists(
                f"Calendar {self.name!r} keeps the deleted event {draft.uid!r} in its trash bin; "
                "use another UID."
            )
        return super().create(draft)
