"""Carrying out a group's actions: deletes and moves first, then new reminders, then the interviews'
tags and ISSUED records, so that a record never names a reminder that is not in the calendar yet.

Within each of those steps the writes are independent of each other, so a backend that takes several
at once gets them so: in batch requests when it writes in batches (``WritesInBatches``), else over a
small pool of threads (``write_connections``); the steps stay in order. The count of threads is asked
again before each write: a backend may lower it during a run (a server that locked).
"""

from __future__ import annotations

import functools
import logging
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from followup_cal.backends.base import (
    CalendarBackend,
    CreateWrite,
    DeleteWrite,
    MarksWrite,
    UpdateWrite,
    Write,
    WritesInBatches,
    batch_size,
    server_keeps_marks,
    write_connections,
)
from followup_cal.core import text
from followup_cal.core.model import Kind, MarkUpdate, ReminderDraft, reminder_uid
from followup_cal.core.reconcile import Action, Create, Delete, Mark, Update
from followup_cal.core.settings import Settings
from followup_cal.core.unmarked import MAX_UID_ATTEMPTS
from followup_cal.errors import AlreadyExists, BackendError, FollowupCalError, NotFound, PreconditionFailed

if TYPE_CHECKING:
    from followup_cal.run.group import Group

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
"""``progress(calendar, done, total)``: called after each write of a run that writes."""


class Replan(Exception):
    """Something changed under a write (an etag moved, an object vanished): read again and re-plan."""


@dataclass
class _Tally:
    calendar: str
    total: int
    progress: Progress | None
    done: int = 0

    def tick(self) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.calendar, self.done, self.total)


def describe(action: Action, settings: Settings, dry_run: bool) -> str | None:
    """The one line a user sees for an action (None for bookkeeping that is not worth a line)."""
    tz = settings.timezone

    def verb(done: str, planned: str) -> str:
        return planned if dry_run else done

    if isinstance(action, Create):
        draft = action.draft
        at = text.when_text(draft.start, tz)
        return f'{verb("wrote", "would write")} {draft.kind} "{draft.summary}" at {at}'
    if isinstance(action, Update):
        was = action.existing.start
        now_at = text.when_text(action.draft.start, tz)
        if was == action.draft.start:
            return (
                f'{verb("updated", "would update")} {action.draft.kind} "{action.draft.summary}" at {now_at}'
            )
        return (
            f'{verb("moved", "would move")} {action.draft.kind} "{action.draft.summary}" '
            f"from {text.when_text(was, tz)} to {now_at}"
        )
    if isinstance(action, Delete):
        kind = action.existing.reminder.kind if action.existing.reminder else "reminder"
        return (
            f'{verb("removed", "would remove")} {kind} "{action.existing.summary}" at '
            f"{text.when_text(action.existing.start, tz)} ({action.why})"
        )
    event = action.interview
    if action.issued is None:
        at = text.when_text(event.start, tz)
        return f'{verb("untagged", "would untag")} "{text.clean(event.summary, 60)}" at {at}'
    if not event.tagged:
        return (
            f'{verb("tagged", "would tag")} "{text.clean(event.summary, 60)}" at '
            f"{text.when_text(event.start, tz)} as an interview"
        )
    return None


def first_candidate(action: Create) -> ReminderDraft:
    """The reminder under the UID of its first attempt."""
    draft = action.draft
    return replace(draft, uid=reminder_uid(draft.source, draft.kind, 0))


def create_reminder(
    action: Create, backend: CalendarBackend, tz: ZoneInfo, *, first_taken: bool = False
) -> str | None:
    """Creates the reminder under the first UID the server accepts, or adopts the object already at its
    derived UID. The UID of the reminder in the calendar, None when it could not be placed.
    ``first_taken``: the create at the first UID was already sent (in a batch) and found it taken."""
    draft = action.draft
    for attempt in range(MAX_UID_ATTEMPTS):
        candidate = replace(draft, uid=reminder_uid(draft.source, draft.kind, attempt))
        try:
            if attempt == 0 and first_taken:
                raise AlreadyExists(candidate.uid)
            backend.create(candidate)
            return candidate.uid
        except AlreadyExists:
            found = backend.find(candidate.uid, None, tz)
            if found is not None and found.status != "CANCELLED":
                # Ours already (an interrupted run, a reminder outside the window): adopt it. The UID
                # says whose it is; a client may have dropped the marks that say so too.
                mark = found.reminder
                ours = mark is None or (mark.source == draft.source and mark.kind == draft.kind)
                return candidate.uid if ours else None
    raise BackendError(f"could not find a free UID for the {draft.kind} reminder of {draft.source!r}")


def in_parallel(
    calls: Sequence[Callable[[], bool]], workers: Callable[[], int], on_done: Callable[[int, bool], None]
) -> None:
    """Runs ``calls`` with up to ``workers()`` at once, telling ``on_done(index, result)`` (in this
    thread) as each succeeds. ``workers()`` is asked again before each call starts, so a server that
    proved unable to take writes at once gets one at a time from then on. After the first failure no
    further call starts; the running ones finish, then a failure is raised: a precondition failure only
    when no other kind happened, since re-reading the calendar cannot mend a broken connection."""
    if workers() <= 1 or len(calls) <= 1:
        for index, call in enumerate(calls):
            on_done(index, call())
        return
    waiting = iter(enumerate(calls))
    running: dict[Future[bool], int] = {}
    failures: list[BaseException] = []
    with ThreadPoolExecutor(max_workers=min(workers(), len(calls))) as pool:
        while True:
            while not failures and len(running) < max(1, workers()):
                upcoming = next(waiting, None)
                if upcoming is None:
                    break
                running[pool.submit(upcoming[1])] = upcoming[0]
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in sorted(finished, key=running.__getitem__):
                index = running.pop(future)
                error = future.exception()
                if error is None:
                    on_done(index, future.result())
                else:
                    failures.append(error)
    if failures:
        raise worst(failures)


def worst(failures: Sequence[BaseException]) -> BaseException:
    """The failure to raise of several: a precondition failure only when no other kind happened, since
    re-reading the calendar cannot mend a broken connection."""
    return next((f for f in failures if not isinstance(f, PreconditionFailed | NotFound)), failures[0])


def apply_write(backend: CalendarBackend, write: Write) -> None:
    """One write through the backend's single methods."""
    if isinstance(write, CreateWrite):
        backend.create(write.draft)
    elif isinstance(write, UpdateWrite):
        backend.update_reminder(write.existing, write.draft)
    elif isinstance(write, DeleteWrite):
        backend.delete(write.existing)
    else:
        backend.write_marks(write.href, write.etag, write.updates)


def execute(
    actions: Sequence[Action],
    group: Group,
    backends: Mapping[str, CalendarBackend],
    settings: Settings,
    report: Callable[[str], None],
    progress: Progress | None = None,
) -> Executed:
    """Carries out ``actions``; raises :class:`Replan` when the calendar changed under a write."""
    execution = _Execution(group, backends, settings, report, progress)
    try:
        execution.run(actions)
    except (PreconditionFailed, NotFound) as error:
        raise Replan from error
    return Executed(marks_dropped=execution.marks_dropped, as_planned=execution.as_planned)


@dataclass(frozen=True)
class Executed:
    marks_dropped: bool
    """A reminder it created read back without its marks (the server drops them)."""
    as_planned: bool
    """Every action was done as planned (False: a reminder's UID was held by an object of the user's,
    so it was not written)."""


class _Execution:
    def __init__(
        self,
        group: Group,
        backends: Mapping[str, CalendarBackend],
        settings: Settings,
        report: Callable[[str], None],
        progress: Progress | None,
    ) -> None:
        self.group = group
        self.backends = backends
        self.settings = settings
        self.report = report
        self.tally = _Tally(group.target, 0, progress)
        self.created: list[str] = []
        self.marks_dropped = False
        self.as_planned = True

    def run(self, actions: Sequence[Action]) -> None:
        target = self.backends[self.group.target]
        removals = [a for a in actions if isinstance(a, Delete | Update)]
        creates = [a for a in actions if isinstance(a, Create)]
        marks: dict[str, dict[str, list[Mark]]] = defaultdict(lambda: defaultdict(list))
        for mark in actions:
            if isinstance(mark, Mark):
                marks[mark.interview.calendar][mark.interview.href].append(mark)
        self.tally.total = len(removals) + len(creates) + sum(len(by_href) for by_href in marks.values())

        self._phase(
            self.group.target,
            removals,
            [
                DeleteWrite(a.existing) if isinstance(a, Delete) else UpdateWrite(a.existing, a.draft)
                for a in removals
            ],
        )
        tz = self.settings.timezone
        created = self._phase(self.group.target, creates, [CreateWrite(first_candidate(a)) for a in creates])
        if self.created and not server_keeps_marks(target):  # one read back tells whether it keeps them
            found = target.find(min(self.created), None, tz)
            self.marks_dropped = found is not None and found.reminder is None
        failed_creates = {
            (a.draft.source, a.draft.kind) for i, a in enumerate(creates) if created.get(i) is False
        }
        for calendar, by_href in marks.items():
            objects = list(by_href.items())
            self._phase(
                calendar,
                [m for _href, group_marks in objects for m in group_marks],
                [_marks_write(h, m, failed_creates) for h, m in objects],
                spans=[len(m) for _href, m in objects],
            )
        self.as_planned = not failed_creates

    def _create(
        self, action: Create, target: CalendarBackend, tz: ZoneInfo, *, first_taken: bool = False
    ) -> bool:
        uid = create_reminder(action, target, tz, first_taken=first_taken)
        if uid is not None:
            self.created.append(uid)
        return uid is not None

    def _phase(
        self,
        calendar: str,
        actions: Sequence[Action],
        writes: Sequence[Write],
        spans: Sequence[int] | None = None,
    ) -> dict[int, bool]:
        """Runs one step's writes; reports, in the actions' order, each that is done (also when another
        failed). ``spans``: how many actions each write carries out (tagging writes one object for
        several occurrences); one each by default. A create's result is False when it could not be
        placed (an object of the user's holds its UID)."""
        spans = spans or [1] * len(writes)
        done: dict[int, bool] = {}
        backend = self.backends[calendar]
        tz = self.settings.timezone

        def finished(index: int, ok: bool) -> None:
            done[index] = ok
            self.tally.tick()

        def single(index: int) -> bool:
            action = actions[index]
            if isinstance(action, Create):  # the create step: one action per write
                return self._create(action, backend, tz)
            apply_write(backend, writes[index])
            return True

        try:
            size = batch_size(backend)
            if size > 1 and len(writes) > 1:
                self._in_batches(backend, actions, writes, size, finished)
            else:
                calls = [functools.partial(single, i) for i in range(len(writes))]
                in_parallel(calls, lambda: write_connections(backend), finished)
        finally:
            first = 0
            for index, span in enumerate(spans):
                if done.get(index):
                    for action in actions[first : first + span]:
                        line = describe(action, self.settings, dry_run=False)
                        if line:
                            self.report(f"{calendar}: {line}")
                first += span
        return done

    def _in_batches(
        self,
        backend: CalendarBackend,
        actions: Sequence[Action],
        writes: Sequence[Write],
        size: int,
        finished: Callable[[int, bool], None],
    ) -> None:
        """The writes in batches of ``size``, up to ``write_connections`` batches at once; a create whose
        UID is taken goes on alone (look-up, adopt or the next UID). After a round of batches with a
        failure no further batch is sent."""
        assert isinstance(backend, WritesInBatches)
        tz = self.settings.timezone
        chunks = [range(start, min(start + size, len(writes))) for start in range(0, len(writes), size)]
        while chunks:
            at_once = max(1, write_connections(backend))
            round_, chunks = chunks[:at_once], chunks[at_once:]
            failures: list[BaseException] = []
            for chunk, answered in zip(round_, _send_batches(backend, writes, round_), strict=True):
                if isinstance(answered, BaseException):
                    failures.append(answered)  # the batch as a whole failed: none of its writes is done
                    continue
                for index, outcome in zip(chunk, answered, strict=True):
                    write = writes[index]
                    action = actions[index] if isinstance(write, CreateWrite) else None
                    try:
                        if isinstance(outcome, AlreadyExists) and isinstance(action, Create):
                            finished(index, self._create(action, backend, tz, first_taken=True))
                        elif outcome is not None:
                            failures.append(outcome)
                        else:
                            if isinstance(write, CreateWrite):
                                self.created.append(write.draft.uid)
                            finished(index, True)
                    except FollowupCalError as error:
                        failures.append(error)
            if failures:
                raise worst(failures)


def _send_batches(
    backend: WritesInBatches, writes: Sequence[Write], chunks: Sequence[range]
) -> list[list[BaseException | None] | BaseException]:
    """Each chunk's outcomes from ``write_batch``, or the error that failed its batch as a whole; the
    chunks' batches are sent at once, each from its own thread."""

    def send(chunk: range) -> list[BaseException | None] | BaseException:
        try:
            return backend.write_batch([writes[index] for index in chunk])
        except FollowupCalError as error:
            return error

    if len(chunks) == 1:
        return [send(chunks[0])]
    with ThreadPoolExecutor(max_workers=len(chunks)) as pool:
        return list(pool.map(send, chunks))


def _marks_write(href: str, marks: list[Mark], failed_creates: set[tuple[str, Kind]]) -> MarksWrite:
    """The tag write of one object; a kind whose reminder could not be created is not recorded."""
    updates = []
    for mark in marks:
        issued = mark.issued
        if issued is not None:
            key = mark.interview.source_key
            issued = frozenset(k for k in issued if (key, k) not in failed_creates)
        updates.append(MarkUpdate(mark.interview.recurrence_id, issued))
    return MarksWrite(href, marks[0].interview.etag, tuple(updates))
