"""What makes one event unreadable, so that it becomes a Problem instead of a wrong or endless read:
a start that is missing, a time given twice or in an unknown zone, an end before the start, a recurrence
rule whose expansion would take minutes or gigabytes. With the date/time accessors ical.py shares.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar

from followup_cal.core.model import Moment

_TIME_PROPS = ("DTSTART", "DTEND", "RECURRENCE-ID")
MAX_OCCURRENCES = 5000  # of one series inside the window; more is no calendar a person reads
MAX_EXPANSION_STEPS = 200_000  # occurrences from DTSTART to the window's end: about a second's work


class Unreadable(Exception):
    """One event (UID) cannot be read; becomes a Problem."""


def to_moment(value: Any, tz: ZoneInfo) -> Moment:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return value
    raise Unreadable(f"expected a date or date-time, found {value!r}")


def as_datetime(value: Moment, tz: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time(), tz)


def check_times(component: icalendar.Component) -> None:
    if "DTSTART" not in component:
        raise Unreadable("it has no DTSTART")
    for name in _TIME_PROPS:
        prop = component.get(name)
        if prop is None:
            continue
        if isinstance(prop, list):
            raise Unreadable(f"it has {name} more than once")
        value = prop.dt
        tzid = prop.params.get("TZID")
        if isinstance(value, datetime) and value.tzinfo is None and tzid:
            raise Unreadable(f"unknown time zone {tzid!r} and no VTIMEZONE for it")
    if _ends_before_start(component):
        raise Unreadable("it ends before it starts (DTEND or DURATION before DTSTART)")


def _ends_before_start(component: icalendar.Component) -> bool:
    start: Any = time_value(component, "DTSTART")
    if "DURATION" in component and not isinstance(component["DURATION"], list):
        duration: Any = time_value(component, "DURATION")
        return isinstance(duration, timedelta) and duration < timedelta(0)
    if "DTEND" not in component:
        return False
    end: Any = time_value(component, "DTEND")
    if isinstance(start, datetime) != isinstance(end, datetime):
        return False  # mixed DATE and DATE-TIME: read as it comes, as other programs do
    if isinstance(start, datetime) and (start.tzinfo is None) != (end.tzinfo is None):
        return False  # floating against zoned: resolved later with the calendar's zone
    return bool(end < start)


def time_value(component: icalendar.Component, name: str) -> Any:
    """The value of a date/time property (DTSTART, DTEND, DURATION, RECURRENCE-ID)."""
    prop: Any = component[name]
    return prop.dt


def check_recurrence_cost(master: icalendar.Component, start: datetime, end: datetime, tz: ZoneInfo) -> None:
    """Raises Unreadable for a rule whose expansion alone would take minutes or gigabytes. The
    expansion (dateutil's) steps through every occurrence from DTSTART to the window's end and keeps
    those inside it, so both counts are bounded, from an upper bound of how often it repeats in a day.
    No calendar app offers such rules; an invitation may still carry one."""
    rules = master.get("RRULE")
    first = time_value(master, "DTSTART")
    if rules is None or first is None:
        return
    begin = as_datetime(to_moment(first, tz), tz)
    for rule in rules if isinstance(rules, list) else [rules]:
        freq = str((rule.get("FREQ") or [""])[0]).upper()
        if freq in ("SECONDLY", "MINUTELY"):
            raise Unreadable(f"it repeats {freq.lower()}; it was skipped")
        interval = max(1, int((rule.get("INTERVAL") or [1])[0]))
        per_day = 24 / interval if freq == "HOURLY" else 1.0
        for part in ("BYMINUTE", "BYSECOND") + (() if freq == "HOURLY" else ("BYHOUR",)):
            per_day *= max(1, len(rule.get(part) or []))
        stop = end
        until = (rule.get("UNTIL") or [None])[0]
        if until is not None:
            stop = min(stop, as_datetime(to_moment(until, tz), tz))
        count = float(rule["COUNT"][0]) if "COUNT" in rule else float("inf")
        steps = min(count, per_day * max(0.0, (stop - begin).total_seconds() / 86400))
        inside = min(count, per_day * max(0.0, (stop - max(begin, start)).total_seconds() / 86400))
        if steps > MAX_EXPANSION_STEPS or inside > MAX_OCCURRENCES:
            raise Unreadable("it repeats too often to be expanded; it was skipped")
