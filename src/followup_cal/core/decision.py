"""Find a decision date the interviewer stated, in an interview's free-text notes (DESCRIPTION).

Rules (DESIGN.md, "A stated decision date is read from the interview's notes"):

* An explicit line ``decision: <when>`` (case-insensitive, at a line start, optionally after a list bullet;
  ``decision date: <when>`` works too) wins over everything else. Of several such lines the last one holding
  a usable date wins: it is the user's latest correction. A line whose value holds no usable date is ignored.
* Otherwise a date counts only when it comes right after a connector ("by", "within", "in", "on", "before",
  "until", "expected", "due", ":" ...) and a decision cue ("decision", "decide", "hear", "get back",
  "feedback", "next steps", "let you know" ...) stands before it, at most 60 characters earlier in the same
  line and sentence. "next week", "this week", "end of (the) week" and "tomorrow" need no connector. When
  several phrases qualify, the last one in the text wins (notes grow at the bottom; later text is newer).
* A date without a year is the next such date on or after the interview day. Dates before the interview day
  and impossible dates (Feb 30) are ignored. "12/12" is US month/day; "12.12." is European day.month. and
  needs its trailing dot or a year; "the 15th" is the next 15th of a month. A weekday written in front
  ("Friday, December 12") is allowed and not checked: the date wins.
* Weekdays: "Friday" and "this Friday" are the next Friday strictly after the interview day; "next Friday"
  is the Friday of the week (Monday to Sunday) after the interview's week.
* "this week" and "end of (the) week" are the Friday of the interview's week, or of the following week when
  the interview is on a Friday, Saturday or Sunday. "next week" and "end of next week" are the Friday of the
  following week: the end of the stated period, so a check-in never comes before it. "tomorrow" is the day
  after the interview.
* Spans count from the interview day: days, weeks, calendar months (clamped to the month's end), hours
  (rounded up to whole days) and business/working days (Monday to Friday). Number words run from one to
  twenty; "a few" is 3 and "a couple (of)" is 2. Ranges ("2-3 weeks", "one or two weeks", "a week or two")
  take the upper bound.

Every pattern has bounded repetition only and cue positions are found once, so the scan is linear.
"""

import bisect
import calendar
import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class StatedDecision:
    date: datetime.date
    phrase: str
    """The matched text as written (whitespace collapsed), e.g. "decision by December 12"."""
    explicit: bool
    """True when the date came from a ``decision: ...`` line the user typed."""


_CUE_REACH = 60
_EXPLICIT_VALUE_LIMIT = 200
_WS = r"[^\S\n]{1,3}"
_OPT_WS = r"[^\S\n]{0,3}"

_MONTH_ABBREVIATIONS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTHS = {name: n for n, name in enumerate(_MONTH_ABBREVIATIONS, 1)}
_WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_ONE_TO_TWENTY = (
    "one two three four five six seven eight nine ten "
    "eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty"
)
_NUMBER_WORDS = {word: n for n, word in enumerate(_ONE_TO_TWENTY.split(), 1)} | {
    "a": 1,
    "an": 1,
    "a few": 3,
    "few": 3,
    "a couple": 2,
    "a couple of": 2,
    "couple of": 2,
}

_MONTH = (
    r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?"
)
_WEEKDAY = (
    r"(?:mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?|sat(?:urday)?"
    r"|sun(?:day)?)\b"
)
_WEEKDAY_PREFIX = rf"(?:{_WEEKDAY}\.?,?{_WS})?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?\b"
_YEAR = rf"(?:,?{_WS}(?P<year>\d{{4}})\b)?"
_NUMBER = "(?:" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)).replace(" ", _WS) + r"|\d{1,3})\b"

_CUE = re.compile(
    rf"\b(?:decisions?|decid(?:e|es|ing)|hear(?:ing)?|get(?:ting)?{_WS}back|come{_WS}back|circle{_WS}back"
    rf"|revert|feedback|next{_WS}steps?|let{_WS}(?:you|me|us|him|her|them){_WS}know|updates?|respon(?:d|se)"
    rf"|reply|answer|outcome|results?|verdict|follow[- ]?up|reach{_WS}out|in{_WS}touch|contact"
    r"|notif(?:y|ied))\b",
    re.IGNORECASE,
)
_CONNECTOR = re.compile(
    rf"(?:\b(?:by|before|until|till|til|on|within|in|around|about|expected|due|no{_WS}later{_WS}than|latest)\b"
    rf"|(?<!\d):){_WS}",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[\n!?;]|\.(?:\s|$)")
_EXPLICIT_LINE = re.compile(
    r"^[^\S\n]*(?:[-*•][^\S\n]*)?decision(?:[^\S\n]+date)?[^\S\n]*:(?P<value>[^\n]*)",
    re.IGNORECASE | re.MULTILINE,
)
_WORD_START = re.compile(r"\b\w")

Resolver = Callable[[re.Match[str], datetime.date], datetime.date | None]


def _safe_date(year: int, month: int, day: int) -> datetime.date | None:
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def _absolute(match: re.Match[str], interview_day: datetime.date) -> datetime.date | None:
    month_text = match["month"]
    month = int(month_text) if month_text.isdigit() else _MONTHS[month_text[:3].lower()]
    day = int(match["day"])
    year_text = match.groupdict().get("year")
    if year_text:
        year = int(year_text) + (2000 if len(year_text) == 2 else 0)
        return _safe_date(year, month, day)
    # Up to 8 years ahead so that a year-less Feb 29 finds its leap year.
    for year in range(interview_day.year, interview_day.year + 9):
        candidate = _safe_date(year, month, day)
        if candidate is not None and candidate >= interview_day:
            return candidate
    return None


def _day_of_month(match: re.Match[str], interview_day: datetime.date) -> datetime.date | None:
    day = int(match["day"])
    year, month = interview_day.year, interview_day.month
    for _ in range(3):
        candidate = _safe_date(year, month, day)
        if candidate is not None and candidate >= interview_day:
            return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def _relative(match: re.Match[str], interview_day: datetime.date) -> datetime.date:
    words = " ".join(match["rel"].lower().split())
    if words == "tomorrow":
        return interview_day + datetime.timedelta(days=1)
    friday_this_week = interview_day + datetime.timedelta(days=4 - interview_day.weekday())
    if "next" in words or interview_day.weekday() >= 4:
        return friday_this_week + datetime.timedelta(weeks=1)
    return friday_this_week


def _weekday(match: re.Match[str], interview_day: datetime.date) -> datetime.date:
    target = _WEEKDAYS[match["weekday"][:3].lower()]
    if (match["which"] or "").lower() == "next":
        monday_next_week = interview_day + datetime.timedelta(days=7 - interview_day.weekday())
        return monday_next_week + datetime.timedelta(days=target)
    return interview_day + datetime.timedelta(days=(target - interview_day.weekday() - 1) % 7 + 1)


def _count(words: str | None) -> int:
    if words is None:
        return 0
    words = " ".join(words.lower().split())
    return int(words) if words.isdigit() else _NUMBER_WORDS[words]


def _add_months(day: datetime.date, months: int) -> datetime.date:
    years, month_index = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month_index + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _span(match: re.Match[str], interview_day: datetime.date) -> datetime.date:
    count = max(_count(match["n"]), _count(match["m"]), _count(match["m2"]))
    unit = match["unit"].lower()
    if unit == "hour":
        return interview_day + datetime.timedelta(days=-(-count // 24))
    if unit == "month":
        return _add_months(interview_day, count)
    if unit == "week":
        return interview_day + datetime.timedelta(weeks=count)
    if match["business"]:
        day = interview_day
        for _ in range(count):
            day += datetime.timedelta(days=1 if day.weekday() < 4 else 7 - day.weekday())
        return day
    return interview_day + datetime.timedelta(days=count)


_RELATIVE = re.compile(
    rf"(?:the{_WS})?(?P<rel>end{_WS}of{_WS}(?:the{_WS}|this{_WS})?week|end{_WS}of{_WS}next{_WS}week"
    rf"|next{_WS}week|this{_WS}week|tomorrow)\b",
    re.IGNORECASE,
)

# Tried in this order at a position; absolute forms come before the bare weekday they may start with.
_DATE_FORMS: list[tuple[re.Pattern[str], Resolver]] = [
    (re.compile(r"(?<!\d)(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})(?!\d)"), _absolute),
    (re.compile(rf"{_WEEKDAY_PREFIX}{_MONTH}{_WS}{_DAY}{_YEAR}", re.I), _absolute),
    (re.compile(rf"{_WEEKDAY_PREFIX}(?:the{_WS})?{_DAY}(?:{_WS}of)?{_WS}{_MONTH}{_YEAR}", re.I), _absolute),
    (
        re.compile(
            rf"{_WEEKDAY_PREFIX}(?<![\d/.])(?P<month>\d{{1,2}})/(?P<day>\d{{1,2}})(?:/(?P<year>\d{{4}}|\d{{2}}))?(?![\d/])",
            re.I,
        ),
        _absolute,
    ),
    (
        re.compile(
            rf"{_WEEKDAY_PREFIX}(?<![\d.])(?P<day>\d{{1,2}})\.(?P<month>\d{{1,2}})\.(?P<year>\d{{4}}|\d{{2}})?(?!\d)",
            re.I,
        ),
        _absolute,
    ),
    (re.compile(rf"the{_WS}(?P<day>\d{{1,2}})(?:st|nd|rd|th)\b", re.I), _day_of_month),
    (_RELATIVE, _relative),
    (re.compile(rf"(?:(?P<which>this|next){_WS})?(?P<weekday>{_WEEKDAY})", re.I), _weekday),
    (
        re.compile(
            rf"(?:the{_WS})?(?:next{_WS})?(?P<n>{_NUMBER})(?:{_OPT_WS}(?:-|–|to|or){_OPT_WS}(?P<m>{_NUMBER}))?"
            rf"{_WS}(?:(?P<business>business|working){_WS})?(?P<unit>day|week|month|hour)s?\b"
            rf"(?:{_WS}or{_WS}(?P<m2>{_NUMBER}))?",
            re.I,
        ),
        _span,
    ),
]


def _date_at(text: str, pos: int, interview_day: datetime.date) -> tuple[datetime.date, int] | None:
    """The first date form that matches exactly at ``pos`` and gives a usable date, with its end."""
    for pattern, resolve in _DATE_FORMS:
        match = pattern.match(text, pos)
        if match is None:
            continue
        try:
            found = resolve(match, interview_day)
        except (ValueError, OverflowError):
            found = None
        if found is not None and found >= interview_day:
            return found, match.end()
    return None


def _explicit_decision(text: str, interview_day: datetime.date) -> StatedDecision | None:
    result = None
    for line in _EXPLICIT_LINE.finditer(text):
        value_start = line.start("value")
        value = line["value"][:_EXPLICIT_VALUE_LIMIT]
        for word in _WORD_START.finditer(value):
            found = _date_at(value, word.start(), interview_day)
            if found is not None:
                phrase = text[line.start() : value_start + found[1]]
                result = StatedDecision(found[0], " ".join(phrase.split()), explicit=True)
                break
    return result


def _prose_decision(text: str, interview_day: datetime.date) -> StatedDecision | None:
    cues = [(cue.end(), cue.start()) for cue in _CUE.finditer(text)]
    if not cues:
        return None
    cue_ends = [end for end, _ in cues]

    def cue_start_before(pos: int) -> int | None:
        index = bisect.bisect_right(cue_ends, pos) - 1
        if index < 0 or pos - cue_ends[index] > _CUE_REACH:
            return None
        if _SENTENCE_END.search(text, cue_ends[index], pos):
            return None
        return cues[index][1]

    best: tuple[int, int, datetime.date] | None = None  # (end, cue start, date)
    anchors = [(c.start(), c.end()) for c in _CONNECTOR.finditer(text)]
    anchors += [(r.start(), r.start()) for r in _RELATIVE.finditer(text)]
    for anchor_start, date_start in anchors:
        cue_start = cue_start_before(anchor_start)
        if cue_start is None:
            continue
        found = _date_at(text, date_start, interview_day)
        if found is not None and (best is None or found[1] > best[0]):
            best = (found[1], cue_start, found[0])
    if best is None:
        return None
    return StatedDecision(best[2], " ".join(text[best[1] : best[0]].split()), explicit=False)


def find_decision(text: str, interview_day: datetime.date) -> StatedDecision | None:
    """The decision date stated in ``text`` (an interview's notes), or None when none is stated.

    ``interview_day`` is the interview's local date; relative phrases count from it and no returned date is
    before it. Never raises on any text. See the module docstring for the rules.
    """
    if isinstance(interview_day, datetime.datetime):
        interview_day = interview_day.date()
    return _explicit_decision(text, interview_day) or _prose_decision(text, interview_day)
