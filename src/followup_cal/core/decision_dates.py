"""What a matched date expression means, counted from the interview day (DESIGN.md "vague phrases").

Given one match of ``decision_words.grammar().dates``, ``resolve`` returns the date it names, or None when
it names none (Feb 30, a Tuesday that is never the 22nd).
"""

from __future__ import annotations

import calendar
import datetime
import re
from collections.abc import Callable

from followup_cal.core.decision_words import Grammar, normalise

IsBusinessDay = Callable[[datetime.date], bool]
_DAY = datetime.timedelta(days=1)


def weekdays_only(day: datetime.date) -> bool:
    return day.weekday() < 5


def _safe_date(year: int, month: int, day: int) -> datetime.date | None:
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def _next_month_day(month: int, day: int, interview_day: datetime.date) -> datetime.date | None:
    """``month``/``day`` in the first year that puts it on or after the interview day (8 years: Feb 29)."""
    for year in range(interview_day.year, min(interview_day.year + 9, datetime.MAXYEAR + 1)):
        candidate = _safe_date(year, month, day)
        if candidate is not None and candidate >= interview_day:
            return candidate
    return None


def _dated(year_text: str | None, month: int, day: int, interview_day: datetime.date) -> datetime.date | None:
    if year_text:
        year = int(year_text) + (2000 if len(year_text) == 2 else 0)
        return _safe_date(year, month, day)
    return _next_month_day(month, day, interview_day)


def _slash(
    first_text: str, second_text: str, year: str | None, month_first: bool, interview_day: datetime.date
) -> datetime.date | None:
    first, second = int(first_text), int(second_text)
    month, day = (first, second) if month_first else (second, first)
    if month > 12:
        month, day = day, month
    return _dated(year, month, day, interview_day) if 1 <= month <= 12 else None


def _month_index(text: str, grammar: Grammar) -> int:
    return grammar.months[normalise(text)]


def _month_shift(day: datetime.date, months: int) -> tuple[int, int]:
    years, index = divmod(day.month - 1 + months, 12)
    return day.year + years, index + 1


def _last_day(year: int, month: int) -> datetime.date:
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


def _add_months(day: datetime.date, months: int) -> datetime.date:
    year, month = _month_shift(day, months)
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _friday_of_week(day: datetime.date, weeks_ahead: int) -> datetime.date:
    return day + datetime.timedelta(days=4 - day.weekday(), weeks=weeks_ahead)


def _this_week_end(interview_day: datetime.date) -> datetime.date:
    # On a Friday, Saturday or Sunday "this week" has no working days left: the following Friday.
    return _friday_of_week(interview_day, 1 if interview_day.weekday() >= 4 else 0)


def _phrase(meaning: str, interview_day: datetime.date) -> datetime.date | None:
    monday_next_week = interview_day + datetime.timedelta(days=7 - interview_day.weekday())
    if meaning == "tomorrow":
        return interview_day + _DAY
    if meaning == "day_after_tomorrow":
        return interview_day + 2 * _DAY
    if meaning == "this_week":
        return _this_week_end(interview_day)
    if meaning == "next_week":
        return monday_next_week + 4 * _DAY
    if meaning == "early_next_week":
        return monday_next_week + 2 * _DAY
    if meaning == "end_of_month":
        return _last_day(interview_day.year, interview_day.month)
    if meaning == "next_month":
        return _last_day(*_month_shift(interview_day, 1))
    if meaning == "mid_next_month":
        year, month = _month_shift(interview_day, 1)
        return datetime.date(year, month, 15)
    if meaning == "mid_month":
        return (
            _next_month_day(interview_day.month, 15, interview_day)
            if interview_day.day <= 15
            else (datetime.date(*_month_shift(interview_day, 1), 15))
        )
    return None


def _weekday(target: int, next_week: bool, interview_day: datetime.date) -> datetime.date:
    if next_week:
        monday_next_week = interview_day + datetime.timedelta(days=7 - interview_day.weekday())
        return monday_next_week + datetime.timedelta(days=target)
    return interview_day + datetime.timedelta(days=(target - interview_day.weekday() - 1) % 7 + 1)


def _weekday_and_day(target: int, day: int, interview_day: datetime.date) -> datetime.date | None:
    """The first date on or after the interview day that is both that weekday and that day of a month."""
    year, month = interview_day.year, interview_day.month
    for _ in range(30):
        candidate = _safe_date(year, month, day)
        if candidate is not None and candidate >= interview_day and candidate.weekday() == target:
            return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def _week_friday(week: int, interview_day: datetime.date) -> datetime.date | None:
    """The Friday of ISO week ``week``: this year's, or next year's when this year's has passed."""
    for year in (interview_day.year, interview_day.year + 1):
        try:
            friday = datetime.date.fromisocalendar(year, week, 5)
        except ValueError:
            continue
        if friday >= interview_day:
            return friday
    return None


def _day_of_month(day: int, interview_day: datetime.date) -> datetime.date | None:
    year, month = interview_day.year, interview_day.month
    for _ in range(3):
        candidate = _safe_date(year, month, day)
        if candidate is not None and candidate >= interview_day:
            return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def _count(text: str | None, unit: str, grammar: Grammar) -> int:
    if text is None:
        return 0
    words = normalise(text)
    if words.isdigit():
        return int(words)
    if words in grammar.couple_or_few:
        return 3 if unit in ("day", "business_day", "hour") else 2
    return grammar.numbers.get(words, 0)


def add_span(
    count: int, unit: str, interview_day: datetime.date, is_business_day: IsBusinessDay
) -> datetime.date:
    if unit == "hour":
        return interview_day + datetime.timedelta(days=-(-count // 24))
    if unit == "month":
        return _add_months(interview_day, count)
    if unit == "week":
        return interview_day + datetime.timedelta(weeks=count)
    if unit == "fortnight":
        return interview_day + datetime.timedelta(weeks=2 * count)
    if unit == "business_day":
        day = interview_day
        for _ in range(min(count, 400)):
            day += _DAY
            for _ in range(60):  # a long run of holidays cannot loop forever
                if is_business_day(day):
                    break
                day += _DAY
        return day
    return interview_day + datetime.timedelta(days=count)


def _span(
    match: re.Match[str], interview_day: datetime.date, grammar: Grammar, business: IsBusinessDay
) -> datetime.date | None:
    unit = grammar.units[normalise(match["span_unit"])]
    count = max(_count(match[name], unit, grammar) for name in ("span_n", "span_m", "span_m2"))
    if normalise(match["span_unit"]) == "h" and count < 24:
        return None  # "à 14h" is a time of day, "sous 48h" a span
    return add_span(count, unit, interview_day, business)


def is_span(match: re.Match[str]) -> bool:
    return bool(match["f_span"] or match["f_single"] or match["f_fortnight"])


def after_language(match: re.Match[str], grammar: Grammar) -> str | None:
    """The language of the "after" word in front of the match, if there is one."""
    if not match["after"]:
        return None
    return next((code for code in grammar.languages if match.groupdict().get(f"after_{code}")), None)


def resolve(
    match: re.Match[str],
    interview_day: datetime.date,
    grammar: Grammar,
    month_first: bool,
    business: IsBusinessDay,
    after: bool = False,
) -> datetime.date | None:
    """The date ``match`` names. ``month_first``: "12/11" is December 11 (English) rather than 12 November.
    ``after``: the match's "after" word is one in the sentence's language, so the day after counts."""
    found = _resolve_form(match, interview_day, grammar, month_first, business)
    if found is not None and after and not is_span(match):
        found += _DAY
    return found


def _resolve_form(
    match: re.Match[str],
    interview_day: datetime.date,
    grammar: Grammar,
    month_first: bool,
    business: IsBusinessDay,
) -> datetime.date | None:
    if match["f_iso"]:
        return _safe_date(int(match["iso_year"]), int(match["iso_month"]), int(match["iso_day"]))
    if match["f_md"]:
        day = int(match["md_day2"] or match["md_day"])
        return _dated(match["md_year"], _month_index(match["md_month"], grammar), day, interview_day)
    if match["f_dm"]:
        day = int(match["dm_day2"] or match["dm_day"])
        return _dated(match["dm_year"], _month_index(match["dm_month"], grammar), day, interview_day)
    if match["f_slash"]:
        found = _slash(match["slash_a"], match["slash_b"], match["slash_year"], month_first, interview_day)
        if match["slash_a2"]:  # "11/20-11/24": the later end
            later = _slash(
                match["slash_a2"], match["slash_b2"], match["slash_year"], month_first, interview_day
            )
            return None if found is None or later is None else max(found, later)
        return found
    if match["f_dot"]:
        month = int(match["dot_month"])
        return (
            _dated(match["dot_year"], month, int(match["dot_day"]), interview_day)
            if 1 <= month <= 12
            else None
        )
    if match["f_wdom"]:
        target = grammar.weekdays[normalise(match["wdom_weekday"])]
        return _weekday_and_day(target, int(match["wdom_day"]), interview_day)
    if match["f_weekday"]:
        target = grammar.weekdays[normalise(match["weekday_name"])]
        next_week = bool(match["weekday_next"] or match["weekday_next_after"])
        return _weekday(target, next_week, interview_day)
    if match["f_month_phrase"]:
        return _month_phrase(match, interview_day, grammar)
    if match["f_phrase"]:
        for name, meaning in grammar.phrase_meanings.items():
            if match[name]:
                return _phrase(meaning, interview_day)
        return None
    if match["f_span"]:
        return _span(match, interview_day, grammar, business)
    if match["f_week_number"]:
        return _week_friday(int(match["week_number"]), interview_day)
    if match["f_single"]:
        return add_span(1, grammar.units[normalise(match["single_unit"])], interview_day, business)
    if match["f_fortnight"]:
        return interview_day + datetime.timedelta(weeks=2)
    if match["f_dom"]:
        return _day_of_month(int(match["dom_day"] or match["dom_day2"]), interview_day)
    return None


def _month_phrase(
    match: re.Match[str], interview_day: datetime.date, grammar: Grammar
) -> datetime.date | None:
    named = grammar.month_names.search(match.group(0))
    if named is None:
        return None
    month = _month_index(named.group(0), grammar)
    if match["mp_mid"]:
        return _next_month_day(month, 15, interview_day)
    first = _next_month_day(month, 1, interview_day.replace(day=1))
    return None if first is None else _last_day(first.year, month)
