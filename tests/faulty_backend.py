"""A calendar backend wrapper that injects faults into writes, for the stateful fault test.

Each write (create, update, delete, write_marks) takes the next fault from a queue:

``fail``
    a TransientError before the write: nothing changed (a 503, a dropped connection).
``fail-hard``
    a BackendError before the write (a 500 that is not worth retrying, a full disk).
``flaky``
    the write happens, then a TransientError: the answer was lost on the way back.
``race``
    someone else writes the same object just before the write: the user edits the interview or the
    reminder (its etag changes, so the write meets a precondition failure), or for a create another run
    creates the same reminder first (the write meets AlreadyExists).
``ok``
    no fault.

Reads go straight through. ``injected`` counts the faults that took effect.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from followup_cal.backends.memory import MemoryBackend
from followup_cal.core.model import Event, Listing, MarkUpdate, Moment, ReminderDraft
from followup_cal.errors import BackendError, TransientError

FAULTS = ("fail", "flaky", "race", "fail-hard", "ok")

T = TypeVar("T")


class FaultyBackend:
    def __init__(self, inner: MemoryBackend, concurrent_edit: Callable[[str], None]) -> None:
        """``concurrent_edit(href)``: a user edit of the object at ``href``, made during a ``race``."""
        self.inner = inner
        self.name = inner.name
        self.concurrent_edit = concurrent_edit
        self.faults: deque[str] = deque()
        self.paused = False  # faults stay queued but none is taken while paused
        self.injected: Counter[str] = Counter()
        self.writes = 0

    # --- reads ----------------------------------------------------------------------------------------

    def list_window(self, start: datetime, end: datetime, tz: ZoneInfo) -> Listing:
        return self.inner.list_window(start, end, tz)

    def find(self, uid: str, recurrence_id: Moment | None, tz: ZoneInfo) -> Event | None:
        return self.inner.find(uid, recurrence_id, tz)

    # --- writes ---------------------------------------------------------------------------------------

    def _write(self, href: str, write: Callable[[], T], race: Callable[[], None]) -> T:
        self.writes += 1
        fault = self.faults.popleft() if self.faults and not self.paused else "ok"
        if fault != "ok":
            self.injected[fault] += 1
        if fault == "fail":
            raise TransientError(f"injected: {href} was not written (503)")
        if fault == "fail-hard":
            raise BackendError(f"injected: {href} could not be written (500)")
        if fault == "race":
            race()
        result = write()
        if fault == "flaky":
            raise TransientError(f"injected: {href} was written but the answer was lost")
        return result

    def create(self, draft: ReminderDraft) -> Event:
        def another_run_first() -> None:
            self.inner.create(draft)

        return self._write(draft.uid, lambda: self.inner.create(draft), another_run_first)

    def update_reminder(self, existing: Event, draft: ReminderDraft) -> Event:
        return self._write(
            existing.href,
            lambda: self.inner.update_reminder(existing, draft),
            lambda: self.concurrent_edit(existing.href),
        )

    def delete(self, existing: Event) -> None:
        self._write(
            existing.href, lambda: self.inner.delete(existing), lambda: self.concurrent_edit(existing.href)
        )

    def write_marks(self, href: str, etag: str | None, updates: Sequence[MarkUpdate]) -> None:
        self._write(
            href, lambda: self.inner.write_marks(href, etag, updates), lambda: self.concurrent_edit(href)
        )
