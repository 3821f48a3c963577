"""One ``.ics`` file holding a whole calendar (an export, a file synced by another tool).

href = the event's UID (the file holds one object per UID: a master and its overrides); etag = a hash of
that UID's VEVENT text. A write splices text: only the lines of the UID being written change, every other
line of the file stays byte for byte. The precondition is checked against the file as re-read just before
the write, and the whole file is replaced atomically (temporary file in the same folder, fsync, rename).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from followup_cal.backends.base import ChangeCheck
from followup_cal.core.model import Event, Listing, MarkUpdate, Moment, ReminderDraft
from followup_cal.errors import AlreadyExists, BackendError, NotFound, PreconditionFailed
from followup_cal.ical import marks as ical_marks
from followup_cal.ical import read as ical


class _File:
    """The file's lines as read, with the VEVENT spans of each UID."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        text = data.decode("utf-8", "surrogateescape")
        self.newline = ical_marks.detect_newline(text)
        self.lines = ical_marks.physical_lines(text)
        self.spans: dict[str, list[ical_marks.ComponentSpan]] = {}
        self.others: list[ical_marks.ComponentSpan] = []  # VTIMEZONEs and the like
        for span in ical_marks.component_spans(self.lines):
            if span.name != "VEVENT":
                self.others.append(span)
            elif span.uid:
                self.spans.setdefault(span.uid, []).append(span)

    def subset(self, uid: str) -> bytes:
        """A VCALENDAR with the calendar's own properties, its other components (time zones) and the
        VEVENTs of ``uid`` only: reading one event then costs as much as that event, not the whole file."""
        spans = self.spans.get(uid, [])
        everything = sorted(
            [*self.others, *(s for group in self.spans.values() for s in group)], key=lambda s: s.first
        )
        starts = [line.strip().upper() == "BEGIN:VCALENDAR" for line in self.lines]
        if not spans or not everything or sum(starts) != 1:
            return self.data  # no single VCALENDAR around the events: read it all
        keep = sorted([*self.others, *spans], key=lambda s: s.first)
        parts = self.lines[: everything[0].first]
        for span in keep:
            parts.extend(self.lines[span.first : span.stop])
        parts.append("END:VCALENDAR" + self.newline)
        return "".join(parts).encode("utf-8", "surrogateescape")

    def etag(self, uid: str) -> str | None:
        spans = self.spans.get(uid)
        if not spans:
            return None
        digest = hashlib.sha256()
        for span in spans:
            digest.update("".join(self.lines[span.first : span.stop]).encode("utf-8", "surrogateescape"))
        return digest.hexdigest()[:32]

    def check(self, uid: str, etag: str | None, where: str) -> bool:
        """True when ``uid`` is in the file with ``etag`` (any etag when None); False when it is absent."""
        current = self.etag(uid)
        if current is None:
            return False
        if etag is not None and current != etag:
            raise PreconditionFailed(f"{where}: the event {uid!r} changed since it was read.")
        return True

    def spliced(self, uid: str, block: list[str]) -> bytes:
        """The file with the spans of ``uid`` replaced by ``block`` (or ``block`` added, if absent)."""
        lines = list(self.lines)
        spans = sorted(self.spans.get(uid, []), key=lambda span: span.first, reverse=True)
        if spans:
            for index, span in enumerate(spans):
                lines[span.first : span.stop] = block if index == len(spans) - 1 else []
        else:
            end = _last_end_vcalendar(lines)
            if end is None:
                raise BackendError("the file holds no VCALENDAR to add the event to")
            if end > 0 and not lines[end - 1].endswith("\n"):
                lines[end - 1] += self.newline
            lines[end:end] = block
        return "".join(lines).encode("utf-8", "surrogateescape")


def _last_end_vcalendar(lines: list[str]) -> int | None:
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].strip().upper() == "END:VCALENDAR":
            return index
    return None


def _reminder_block(draft: ReminderDraft, newline: str) -> list[str]:
    text = ical.reminder_to_ical(draft).decode()
    lines = ical_marks.physical_lines(text)
    [span] = ical_marks.vevent_spans(lines)
    return [line.rstrip("\r\n") + newline for line in lines[span.first : span.stop]]


class IcsFileBackend:
    def __init__(self, name: str, path: str | os.PathLike[str]) -> None:
        self.name = name
        self.path = Path(path).expanduser()

    def _load(self) -> _File:
        try:
            return _File(self.path.read_bytes())
        except FileNotFoundError as exc:
            raise BackendError(f"Calendar {self.name!r}: {self.path} does not exist; fix 'path'.") from exc
        except OSError as exc:
            raise BackendError(f"Calendar {self.name!r}: cannot read {self.path}: {exc.strerror}.") from exc

    def _where(self) -> str:
        return f"Calendar {self.name!r} ({self.path.name})"

    def _save(self, data: bytes) -> None:
        folder = self.path.parent
        fd, name = tempfile.mkstemp(dir=folder, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            with contextlib.suppress(OSError):
                os.chmod(name, self.path.stat().st_mode & 0o7777)
            os.replace(name, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(name)
            raise BackendError(f"{self._where()}: cannot write {self.path}: {exc.strerror}.") from exc

    def _located(self, event: Event, file: _File) -> Event:
        return dataclasses.replace(event, href=event.uid, etag=file.etag(event.uid))

    # --- CalendarBackend ------------------------------------------------------------------------------

    def changes_since(self, token: str | None) -> ChangeCheck:
        current = hashlib.sha256(self._load().data).hexdigest()
        return ChangeCheck(current != token, current)

    def list_window(self, start: datetime, end: datetime, tz: ZoneInfo) -> Listing:
        file = self._load()
        events, problems = ical.read_events(
            file.data, calendar=self.name, href=self.path.name, etag=None, tz=tz, start=start, end=end
        )
        return Listing([self._located(event, file) for event in events], problems)

    def find(self, uid: str, recurrence_id: Moment | None, tz: ZoneInfo) -> Event | None:
        file = self._load()
        if uid not in file.spans:
            return None
        event = ical.find_event(
            file.subset(uid), uid, recurrence_id, calendar=self.name, href=uid, etag=None, tz=tz
        )
        return None if event is None else self._located(event, file)

    def create(self, draft: ReminderDraft) -> Event:
        file = self._load()
        if draft.uid in file.spans:
            raise AlreadyExists(f"{self._where()} already holds an event with UID {draft.uid!r}.")
        block = _reminder_block(draft, file.newline)
        self._save(file.spliced(draft.uid, block))
        return self._written(draft.uid, block)

    def update_reminder(self, existing: Event, draft: ReminderDraft) -> Event:
        if draft.uid != existing.uid:
            raise BackendError(f"A reminder keeps its UID: {existing.uid!r} cannot become {draft.uid!r}.")
        file = self._load()
        if not file.check(existing.href, existing.etag, self._where()):
            raise NotFound(f"{self._where()}: the event {existing.href!r} is gone; re-read the calendar.")
        block = _reminder_block(draft, file.newline)
        self._save(file.spliced(existing.href, block))
        return self._written(draft.uid, block)

    def delete(self, existing: Event) -> None:
        file = self._load()
        if file.check(existing.href, existing.etag, self._where()):
            self._save(file.spliced(existing.href, []))

    def write_marks(self, href: str, etag: str | None, updates: Sequence[MarkUpdate]) -> None:
        file = self._load()
        if not file.check(href, etag, self._where()):
            raise NotFound(f"{self._where()}: the event {href!r} is gone; re-read the calendar.")
        marked = ical.apply_marks(file.data, href, updates)
        if marked != file.data:
            self._save(marked)

    def _written(self, uid: str, block: list[str]) -> Event:
        """The reminder just written, read from its own lines (re-reading the whole file for each write
        would make a sync quadratic in the file's size); its etag is that of its lines in the file."""
        data = ("BEGIN:VCALENDAR\n" + "".join(block) + "END:VCALENDAR\n").encode()
        event = ical.find_event(data, uid, None, calendar=self.name, href=uid, etag=None, tz=ZoneInfo("UTC"))
        if event is None:  # pragma: no cover - reminder_to_ical always writes the UID
            raise BackendError(f"{self._where()}: the reminder {uid!r} could not be read back.")
        return dataclasses.replace(event, etag=hashlib.sha256("".join(block).encode()).hexdigest()[:32])
