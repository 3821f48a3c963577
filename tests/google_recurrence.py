"""Event times and recurring events for the Google stand-in (tests/google_standin.py): when an event
starts and ends (an all-day event at the calendar zone's midnight), whether it overlaps a time range, and
``singleEvents`` expansion of a series into the instances Google generates (ids ``<id>_<YYYYMMDDTHHMMSSZ>``,
``recurringEventId``, ``originalStartTime``; an exception stored under an instance id replaces that
instance) from simple RRULEs (DAILY/WEEKLY with INTERVAL, COUNT, UNTIL, BYDAY) and EXDATEs."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

Json = dict[str, Any]


@dataclass(frozen=True)
class EventTimes:
    """The times of a calendar's events; ``zone`` is the calendar's time zone."""

    zone: ZoneInfo

    def bounds(self, event: Json) -> tuple[datetime, datetime]:
        start = self.instant(event["start"])
        end = self.instant(event["end"]) if "end" in event else start
        return start, end

    def instant(self, value: Json) -> datetime:
        if "dateTime" in value:
            return datetime.fromisoformat(value["dateTime"])
        return datetime.combine(date.fromisoformat(value["date"]), time(0), self.zone)

    def expand(
        self, master: Json, stored: dict[str, Json], lo: datetime | None, hi: datetime | None
    ) -> Iterator[Json]:
        """The instances of a series whose original start lies in ``[lo, hi)``; an exception stored under
        the instance id in ``stored`` (the calendar's events by id) replaces the generated instance."""
        start_value = master["start"]
        first: datetime | date
        if "dateTime" in start_value:
            first = datetime.fromisoformat(start_value["dateTime"])
            if start_value.get("timeZone"):
                first = first.astimezone(ZoneInfo(start_value["timeZone"]))
        else:
            first = date.fromisoformat(start_value["date"])
        duration = self.instant(master["end"]) - self.instant(master["start"])
        for original in expand_starts(first, master.get("recurrence", []), lo, hi, self.as_instant):
            instance = instance_of(master, original, duration)
            exception = stored.get(instance["id"])
            yield copy.deepcopy(exception) if exception is not None else instance

    def expand_overlapping(
        self, master: Json, stored: dict[str, Json], lo: datetime | None, hi: datetime | None
    ) -> list[Json]:
        """The instances of a series that overlap ``[lo, hi)`` (two years from its start without ``hi``)."""
        duration = self.instant(master["end"]) - self.instant(master["start"])
        if hi is None:
            hi = self.instant(master["start"]) + timedelta(days=730)
        start_lo = lo - duration - timedelta(days=1) if lo is not None else None
        return [i for i in self.expand(master, stored, start_lo, hi) if self.overlaps(i, lo, hi)]

    def expand_at(self, master: Json, stored: dict[str, Json], original: datetime | date) -> list[Json]:
        """The instances of a series whose original start is ``original`` ([] when there is none)."""
        instant = self.as_instant(original)
        return list(self.expand(master, stored, instant, instant + timedelta(seconds=1)))

    def as_instant(self, value: datetime | date) -> datetime:
        if isinstance(value, datetime):
            return value
        return datetime.combine(value, time(0), self.zone)

    def overlaps(self, event: Json, lo: datetime | None, hi: datetime | None) -> bool:
        start, end = self.bounds(event)
        if end == start:
            end = start + timedelta(seconds=1)
        return (lo is None or end > lo) and (hi is None or start < hi)


def instance_of(master: Json, original: datetime | date, duration: timedelta) -> Json:
    """The instance Google generates from a series for one original start (id ``<id>_<when>``)."""
    instance = copy.deepcopy(master)
    instance.pop("recurrence", None)
    if isinstance(original, datetime):
        rid = original.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        zone = master["start"].get("timeZone")
        when: Json = {"dateTime": original.isoformat(), **({"timeZone": zone} if zone else {})}
        end_zone = master["end"].get("timeZone")
        end: Json = {
            "dateTime": (original + duration).isoformat(),
            **({"timeZone": end_zone} if end_zone else {}),
        }
    else:
        rid = original.strftime("%Y%m%d")
        when = {"date": original.isoformat()}
        end = {"date": (original + timedelta(days=duration.days)).isoformat()}
    instance.update(
        id=f"{master['id']}_{rid}",
        recurringEventId=master["id"],
        originalStartTime=when,
        start=copy.deepcopy(when),
        end=end,
    )
    return instance


WEEKDAYS = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}
MAX_OCCURRENCES = 5000


def parse_moment(text: str, zone: Any = UTC) -> datetime | date:
    """``YYYYMMDD`` -> date; ``YYYYMMDDTHHMMSS[Z]`` -> aware datetime (UTC with ``Z``, else ``zone``)."""
    if len(text) == 8 and text.isdigit():
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    moment = datetime.strptime(text.rstrip("Z"), "%Y%m%dT%H%M%S")
    return moment.replace(tzinfo=UTC if text.endswith("Z") else zone)


def _rule_days(first_day: date, freq: str, interval: int, byday: list[int] | None) -> Iterator[date]:
    if freq == "DAILY":
        day = first_day
        while True:
            yield day
            day += timedelta(days=interval)
    elif freq == "WEEKLY":
        weekdays = sorted(byday or [first_day.weekday()])
        week = first_day - timedelta(days=first_day.weekday())
        while True:
            for weekday in weekdays:
                day = week + timedelta(days=weekday)
                if day >= first_day:
                    yield day
            week += timedelta(weeks=interval)
    else:  # anything else is out of the stand-in's scope: the first occurrence only
        yield first_day


def expand_starts(
    first: datetime | date,
    recurrence: list[str],
    lo: datetime | None,
    hi: datetime | None,
    to_instant: Callable[[datetime | date], datetime],
) -> Iterator[datetime | date]:
    """The original starts in ``[lo, hi)`` of a series starting at ``first`` with these RRULE/EXDATE
    lines (DAILY/WEEKLY with INTERVAL, COUNT, UNTIL, BYDAY)."""
    rule: dict[str, str] = {}
    excluded: set[datetime | date] = set()
    zone = first.tzinfo if isinstance(first, datetime) else UTC
    for line in recurrence:
        name, _, value = line.partition(":")
        key, *params = name.split(";")
        if key.upper() == "RRULE":
            rule = dict(part.split("=", 1) for part in value.split(";") if "=" in part)
        elif key.upper() == "EXDATE":
            tzid = next((p.split("=", 1)[1] for p in params if p.upper().startswith("TZID=")), None)
            for text in value.split(","):
                moment = parse_moment(text, ZoneInfo(tzid) if tzid else zone)
                excluded.add(to_instant(moment) if isinstance(moment, datetime) else moment)
    freq = rule.get("FREQ", "")
    interval = int(rule.get("INTERVAL", "1"))
    count = int(rule["COUNT"]) if "COUNT" in rule else (None if rule else 1)
    until = parse_moment(rule["UNTIL"]) if "UNTIL" in rule else None
    byday = [WEEKDAYS[d[-2:]] for d in rule["BYDAY"].split(",")] if "BYDAY" in rule else None
    first_day = first.date() if isinstance(first, datetime) else first
    for emitted, day in enumerate(_rule_days(first_day, freq, interval, byday)):
        if (count is not None and emitted >= count) or emitted >= MAX_OCCURRENCES:
            return
        occurrence: datetime | date = day
        if isinstance(first, datetime):
            occurrence = datetime.combine(day, first.time(), first.tzinfo)
        instant = to_instant(occurrence)
        if isinstance(until, datetime) and instant > until:
            return
        if isinstance(until, date) and not isinstance(until, datetime) and day > until:
            return
        if hi is not None and instant >= hi:
            return
        if (instant if isinstance(occurrence, datetime) else occurrence) in excluded:
            continue
        if lo is None or instant >= lo:
            yield occurrence


def parse_start(text: str) -> datetime | date:
    if "T" in text:
        return datetime.fromisoformat(text)
    return date.fromisoformat(text)


def original_start(event: Json) -> datetime | date:
    value = event["originalStartTime"]
    if "dateTime" in value:
        return datetime.fromisoformat(value["dateTime"])
    return date.fromisoformat(value["date"])
