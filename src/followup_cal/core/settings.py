"""The validated configuration as plain dataclasses. Loading and validation live in ``config``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Rules:
    thank_you_delay: timedelta = timedelta(hours=2)
    checkin_wait_days: int = 5
    work_start: time = time(9, 0)
    work_end: time = time(18, 0)  # exclusive: working hours are [work_start, work_end)
    workdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # datetime.weekday() numbers, Monday = 0
    reminder_minutes: int = 30
    window_past_days: int = 30
    window_future_days: int = 120
    holidays: str | None = None  # "DE", "US-CA": public holidays are no workdays; None: no holidays


@dataclass(frozen=True)
class DetectSettings:
    extra_keywords: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    # The user's employer's e-mail domains: interviews from there are ones the user gives.
    # None: the domains of the user's non-free-mail `me` addresses (see detect.my_domains).
    my_domains: tuple[str, ...] | None = None


@dataclass(frozen=True)
class CalendarSettings:
    name: str
    type: str  # caldav | google | ics | vdir | memory
    options: dict[str, Any] = field(default_factory=dict)  # the type's own keys, validated by config
    reminders_to: str | None = None


@dataclass(frozen=True)
class Settings:
    timezone: ZoneInfo
    me: tuple[str, ...] = ()
    rules: Rules = Rules()
    detect: DetectSettings = DetectSettings()
    calendars: dict[str, CalendarSettings] = field(default_factory=dict)
    source: str = ""  # the file it was loaded from, for messages
