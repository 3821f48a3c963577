"""Two objects holding one UID (a file copied in a vdir, two exports merged, one invitation in two of the
group's calendars): one copy is chosen for planning, the same one every run, and each other copy is
reported once by name and left alone. Planning both would tag both and move their reminders back and
forth between them on every run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from followup_cal.backends.objectstore import split_href
from followup_cal.core.model import Event, Listing, Problem

_NEVER = datetime.min.replace(tzinfo=UTC)


def _stored(event: Event) -> tuple[str, str]:
    """The calendar and the stored object (file name, href) an event was read from."""
    return event.calendar, split_href(event.href)[0]


def _rank(event: Event) -> tuple[int, float, tuple[str, str]]:
    """Smaller is preferred: the highest SEQUENCE, then the latest LAST-MODIFIED (else DTSTAMP), then the
    first calendar and href by name."""
    return -event.sequence, -(event.modified or _NEVER).timestamp(), _stored(event)


def _why(best: Event, other: Event) -> str:
    if best.sequence != other.sequence:
        return "its SEQUENCE is higher"
    if (best.modified or _NEVER) != (other.modified or _NEVER):
        return "it was modified later"
    return "it comes first by name"


def one_copy_each(events: Sequence[Event]) -> tuple[list[Event], list[Problem]]:
    """``events`` with each occurrence (UID and RECURRENCE-ID) taken from one stored object only, and a
    Problem for each object whose copy was left out. Events of one object keep their order."""
    copies: dict[str, list[Event]] = {}
    for event in events:
        copies.setdefault(event.source_key, []).append(event)
    chosen: dict[str, tuple[str, str]] = {}
    problems: dict[tuple[str, str], Problem] = {}
    for key, found in copies.items():
        if len({_stored(event) for event in found}) < 2:
            continue
        best = min(found, key=_rank)
        chosen[key] = _stored(best)
        for event in found:
            where = _stored(event)
            if where != chosen[key] and where not in problems:
                problems[where] = Problem(
                    event.calendar,
                    where[1],
                    f"event {event.uid!r} is also in {_describe(best, event)}, which is used because "
                    f"{_why(best, event)}; this copy is left alone: delete the copy you do not want",
                )
    kept = [event for event in events if chosen.get(event.source_key, _stored(event)) == _stored(event)]
    return kept, list(problems.values())


def _describe(best: Event, other: Event) -> str:
    calendar, href = _stored(best)
    return href if calendar == other.calendar else f"{href} of calendar {calendar!r}"


def drop_duplicate_copies(listings: Mapping[str, Listing], sources: Sequence[str]) -> list[Problem]:
    """Leaves in the ``sources``' listings one copy of each event that is not a reminder (reconcile
    handles copies of reminders) and returns the problems naming the copies left out."""
    names = list(dict.fromkeys(sources))
    candidates = [e for name in names for e in listings[name].events if e.reminder is None]
    kept, problems = one_copy_each(candidates)
    if problems:
        dropped = {id(event) for event in candidates} - {id(event) for event in kept}
        for name in names:
            listings[name].events = [e for e in listings[name].events if id(e) not in dropped]
    return problems
