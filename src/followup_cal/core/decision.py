"""Find the decision date the interviewer stated, in an interview's free-text notes (DESCRIPTION).

Rules (DESIGN.md, "A stated decision date is read from the interview's notes"):

* An explicit line ``decision: <when>`` (case-insensitive, at a line start, optionally after a list bullet;
  ``decision date: <when>`` works too) wins over everything else. Of several such lines the last one holding
  a usable date wins: it is the user's latest correction. A line whose value holds no usable date is ignored.
* Otherwise the notes are read sentence by sentence, in any of the languages in ``data/languages``. A date
  counts when its sentence is about the decision (a cue: "decide", "hear back", "Rückmeldung", "retour"...
  within reach) and the cue is nearer to it than words of a next round, a start or a task ("final round on
  Dec 10", "start date"). A clause that is the user's own to-do ("Reply to Dana by Monday") counts for
  nothing. Phone and reference numbers are not dates ("06.12.45.78.90").
* Of statements in different sentences the later wins (a correction). Two different dates in one sentence
  are a range when a range word joins them (the later end counts), a correction when a correction word
  stands between them; otherwise the notes disagree and no date is used: ``read_decision`` says why.
* Dates: "December 12", "12 Dec", "15. Dezember", "le 15/12" (day/month order by the sentence's language:
  English reads 12/11 as December 11), "Tuesday the 22nd" (the next Tuesday that is a 22nd), weekdays
  ("next Friday": the Friday of the week after the interview's), spans from the interview day ("within two
  weeks", "3-5 business days": the later end; business days skip weekends and holidays), and the vague
  phrases of DESIGN.md ("next week" -> its Friday, "early next week" -> its Wednesday, "end of the month",
  "mid next month" -> the 15th, "after <date>" -> the day after). A date without a year is the next such date
  on or after the interview day; dates before it and impossible dates are ignored.

The language data is read on first use (``decision_words``); the scan is linear in the text.
"""

from __future__ import annotations

import bisect
import datetime
import re
from collections.abc import Iterator
from dataclasses import dataclass

from followup_cal.core.decision_dates import IsBusinessDay, after_language, is_span, resolve, weekdays_only
from followup_cal.core.decision_words import grammar, starter_key

_CUE_REACH = 100
_SENTENCE_LIMIT = 600
_EXPLICIT_VALUE_LIMIT = 200
_EXPLICIT_LINE = re.compile(
    r"^[^\S\n]*(?:[-*•][^\S\n]*)?decision(?:[^\S\n]+date)?[^\S\n]*:(?P<value>[^\n]*)",
    re.IGNORECASE | re.MULTILINE,
)
# Sentence ends: a line break, ! ? ; or a full stop before whitespace and a capital or the end. A full stop
# after a number before a month name is an ordinal ("15. Dezember"); _sentence_around checks both.
_SENTENCE_END = re.compile(r"\n|[!?;](?=\s|$)|\.(?=\s+[^\W\d_]|\s*$)")
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+")
_PROSE_WINDOW = 100_000
_MATCH_BUDGET = 4000  # date matches tried per text: real notes need a few dozen
_CLAUSE_END = re.compile(r"[,:()\[\]–—]|\s-\s|\s\+\s")


@dataclass(frozen=True)
class StatedDecision:
    date: datetime.date
    phrase: str
    """The matched text as written (whitespace collapsed), e.g. "decision by December 12"."""
    explicit: bool
    """True when the date came from a ``decision: ...`` line the user typed."""


@dataclass(frozen=True)
class DecisionReading:
    """What the notes say about the decision: a date to use, or why none is used though one was stated."""

    decision: StatedDecision | None
    disagreement: str | None = None
    """When the notes state different dates that are neither a range nor a correction: both phrases."""


@dataclass(frozen=True)
class _Mention:
    start: int
    end: int
    date: datetime.date
    phrase: str


def _sentence_around(text: str, position: int, month_names: re.Pattern[str]) -> tuple[int, int]:
    """The sentence holding ``position``, at most ``_SENTENCE_LIMIT`` characters either side of it."""
    low, high = max(0, position - _SENTENCE_LIMIT), min(len(text), position + _SENTENCE_LIMIT)
    begin, stop = low, high
    for end in _SENTENCE_END.finditer(text, low, high):
        at = end.start()
        if text[at] == ".":
            following = _SPACE.match(text, at + 1)
            after = following.end() if following else at + 1
            if after < len(text) and not text[after].isupper():
                continue  # "approx. two weeks", "20. und 24."
            if at > 0 and text[at - 1].isdigit() and month_names.match(text, after):
                continue  # "15. Dezember"
        if at < position:
            begin = end.end()
        else:
            stop = end.end() if text[at] == "." else at
            break
    return begin, stop


def _distance(span: tuple[int, int], start: int, end: int) -> int:
    # A word after the date counts double: "decision by <date>" and "round on <date>" are how notes run, so
    # the word before a date is more likely the one it belongs to.
    return max(2 * (span[0] - end), start - span[1], 0)


def _gap(spans: list[tuple[int, int]], start: int, end: int) -> int | None:
    """The distance from ``[start, end)`` to the nearest span, or None when there is none."""
    best = None
    for span in spans:
        distance = _distance(span, start, end)
        best = distance if best is None else min(best, distance)
    return best


def _nearest(spans: list[tuple[int, int]], start: int, end: int) -> tuple[int, int]:
    return min(spans, key=lambda span: _distance(span, start, end))


class _Reader:
    def __init__(self, text: str, interview_day: datetime.date, is_business_day: IsBusinessDay) -> None:
        self.text = text
        self.day = interview_day
        self.business = is_business_day
        self.grammar = grammar()
        self.budget = _MATCH_BUDGET
        self.cues: list[tuple[int, int, str]] = []
        self.cue_starts: list[int] = []

    def cue_positions(self) -> list[tuple[int, int, str]]:
        """Every cue in the text: start, end and language code."""
        grammar, text = self.grammar, self.text
        found = []
        resume = 0
        for word in _WORD.finditer(text):
            start = word.start()
            if start >= resume and starter_key(word.group()) in grammar.cue_starters:
                cue = grammar.cues.match(text, start)
                if cue is not None and cue.end() > start:
                    found.append((start, cue.end(), (cue.lastgroup or "c_en")[2:]))
                    resume = cue.end()
        return found

    def _clause(self, begin: int, stop: int, position: int) -> tuple[int, int]:
        """The clause of the sentence ``[begin, stop)`` holding ``position`` (split at , : ( ) and dashes)."""
        clause_start, clause_end = begin, stop
        for boundary in _CLAUSE_END.finditer(self.text, begin, stop):
            if boundary.end() <= position:
                clause_start = boundary.end()
            elif boundary.start() >= position:
                clause_end = boundary.start()
                break
        return clause_start, clause_end

    def _is_todo(self, clause_start: int, clause_end: int) -> bool:
        """True when the clause is the user's own to-do ("Reply to Dana by Monday")."""
        clause = self.text[clause_start:clause_end]
        grammar = self.grammar
        if grammar.todo_start.search(clause) or grammar.todo_marker.search(clause):
            return True
        return bool(grammar.todo_end.search(clause)) and not grammar.todo_end_unless.search(clause)

    def _date_matches(self, begin: int, stop: int) -> Iterator[re.Match[str]]:
        """The date expressions in ``[begin, stop)``, tried only at words a date can begin with."""
        grammar, text = self.grammar, self.text
        resume = begin
        for word in _WORD.finditer(text, begin, stop):
            start = word.start()
            if start < resume or not (
                text[start].isdigit() or starter_key(word.group()) in grammar.date_starters
            ):
                continue
            if self.budget <= 0:
                return
            self.budget -= 1
            match = grammar.dates.match(text, start, stop)
            if match is not None and match.end() > start:
                resume = match.end()
                yield match

    def _month_first(self, cue_languages: set[str]) -> bool:
        orders = {self.grammar.languages[code].slash_order for code in cue_languages}
        return "mdy" in orders

    def mentions(self, begin: int, stop: int, explicit: bool = False) -> list[_Mention]:
        """The decision dates stated in the sentence ``[begin, stop)``, in order."""
        grammar = self.grammar
        first = bisect.bisect_left(self.cue_starts, begin)
        last = bisect.bisect_left(self.cue_starts, stop)
        cues = [] if explicit else self.cues[first:last]
        if not explicit and not cues:
            return []
        cue_spans = [(start, end) for start, end, _ in cues]
        blockers = (
            []
            if explicit
            else [(m.start(), m.end()) for m in grammar.not_decision.finditer(self.text, begin, stop)]
        )
        languages = {language for _, _, language in cues}
        month_first = explicit or self._month_first(languages)
        found: list[_Mention] = []
        for match in self._date_matches(begin, stop):
            try:
                after = after_language(match, grammar)
                after_counts = after is not None and (explicit or after in languages)
                date = resolve(match, self.day, grammar, month_first, self.business, after_counts)
            except (ValueError, OverflowError):
                continue
            if date is None or date < self.day:
                continue
            if is_span(match) and grammar.span_from_elsewhere.match(self.text, match.end()):
                continue  # "a week after that": counted from another event, not from the interview
            start, end = match.span()
            if explicit:
                found.append(_Mention(start, end, date, ""))
                break
            cue_gap = _gap(cue_spans, start, end)
            # A blocker inside the date phrase ("Anfang nächster Woche") is part of it, not about it.
            blocker_gap = _gap([b for b in blockers if b[1] <= start or b[0] >= end], start, end)
            if cue_gap is None or cue_gap > _CUE_REACH or (blocker_gap is not None and blocker_gap < cue_gap):
                continue
            clause_start, clause_end = self._clause(begin, stop, start)
            if self._is_todo(clause_start, clause_end):
                continue
            # "Second round on 18.11., decision by the end of November": a clause that names a round or a
            # start and holds no cue keeps its date, whatever cue the next clause begins with.
            in_clause = [span for span in blockers + cue_spans if clause_start <= span[0] < clause_end]
            if any(span in blockers for span in in_clause) and not any(
                span in cue_spans for span in in_clause
            ):
                continue
            cue_start, cue_end = _nearest(cue_spans, start, end)
            phrase = self.text[min(cue_start, start) : max(cue_end, end)]
            found.append(_Mention(start, end, date, " ".join(phrase.split())))
        return found

    def statement(self, mentions: list[_Mention]) -> tuple[_Mention | None, str | None]:
        """One sentence's statement: its last date, the later end of a range, or a disagreement."""
        current = mentions[0]
        for following in mentions[1:]:
            gap = self.text[current.end : following.start]
            if following.date == current.date or self.grammar.range_gap.fullmatch(gap):
                current = following if following.date >= current.date else current
            elif self.grammar.corrections.search(gap):
                current = following
            else:
                return None, f'"{current.phrase}" and "{following.phrase}"'
        return current, None


def _explicit_decision(reader: _Reader) -> StatedDecision | None:
    result = None
    text = reader.text
    for line in _EXPLICIT_LINE.finditer(text):
        value_start = line.start("value")
        value_end = min(line.end("value"), value_start + _EXPLICIT_VALUE_LIMIT)
        found = reader.mentions(value_start, value_end, explicit=True)
        if found:
            phrase = text[line.start() : found[0].end]
            result = StatedDecision(found[0].date, " ".join(phrase.split()), explicit=True)
    return result


def read_decision(
    text: str, interview_day: datetime.date, is_business_day: IsBusinessDay | None = None
) -> DecisionReading:
    """What ``text`` (an interview's notes) says about the decision date. See the module docstring.

    ``interview_day`` is the interview's local date; relative phrases count from it and no returned date is
    before it. ``is_business_day`` decides what "N business days" skips (default: Saturdays and Sundays).
    Never raises on any text.
    """
    if isinstance(interview_day, datetime.datetime):
        interview_day = interview_day.date()
    reader = _Reader(text, interview_day, is_business_day or weekdays_only)
    explicit = _explicit_decision(reader)
    if explicit is not None:
        return DecisionReading(explicit)
    # Later statements win, so the sentences are read from the last cue backwards until one states a date;
    # prose beyond the last _PROSE_WINDOW characters (no real note is that long) is not read.
    if len(text) > _PROSE_WINDOW:
        text = text[-_PROSE_WINDOW:]
        reader = _Reader(text, interview_day, is_business_day or weekdays_only)
    reader.cues = reader.cue_positions()
    reader.cue_starts = [start for start, _, _ in reader.cues]
    last: tuple[_Mention | None, str | None] = (None, None)
    done_before = len(text) + 1
    for cue_start, _, _ in reversed(reader.cues):
        if cue_start >= done_before:
            continue
        begin, stop = _sentence_around(text, cue_start, reader.grammar.month_names)
        done_before = begin
        mentions = reader.mentions(begin, stop)
        if mentions:
            last = reader.statement(mentions)
            break
        if reader.budget <= 0:
            break
    mention, disagreement = last
    if mention is None:
        return DecisionReading(None, disagreement)
    return DecisionReading(StatedDecision(mention.date, mention.phrase, explicit=False))


def find_decision(
    text: str, interview_day: datetime.date, is_business_day: IsBusinessDay | None = None
) -> StatedDecision | None:
    """The decision date stated in ``text``, or None when none is stated or the notes disagree."""
    return read_decision(text, interview_day, is_business_day).decision
