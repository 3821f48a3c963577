"""Public holidays, from the ``holidays`` package (pure data; imported on first use, never on --help).

A calendar is named by a country code, optionally with a subdivision: ``"DE"``, ``"US-CA"``, ``"DE-BY"``.
"""

from __future__ import annotations

import datetime
import functools


def split_code(code: str) -> tuple[str, str | None]:
    country, _, subdivision = code.strip().upper().partition("-")
    return country, subdivision or None


def holiday_code_problem(code: str) -> str | None:
    """Why ``code`` names no holiday calendar the ``holidays`` package knows, or None when it does."""
    import holidays

    country, subdivision = split_code(code)
    if not country.isalpha() or len(country) != 2:
        return "a two-letter country code"
    try:
        calendar = holidays.country_holidays(country)
    except NotImplementedError:
        return f"a country the holidays package knows ({country} is not one)"
    if subdivision is not None and subdivision not in calendar.subdivisions:
        known = ", ".join(calendar.subdivisions[:12]) + (", ..." if len(calendar.subdivisions) > 12 else "")
        return f"a subdivision of {country}" + (f" ({known})" if known else " (it has none)")
    return None


@functools.cache
def holidays_in(code: str, year: int) -> frozenset[datetime.date]:
    """The public holidays of ``code`` in ``year`` (empty for a year the package cannot compute)."""
    import holidays

    country, subdivision = split_code(code)
    try:
        return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year))
    except (NotImplementedError, ValueError, OverflowError, KeyError):
        return frozenset()


def is_holiday(day: datetime.date, code: str | None) -> bool:
    return code is not None and day in holidays_in(code, day.year)
