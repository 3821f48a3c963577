"""The decision-date vocabulary of every supported language, compiled into one grammar.

The words live as data, one file per language: ``data/languages/<code>.toml``, table ``[decision]``
(en.toml documents each key). A ninth language is a ninth file. The files are read on first use and the
grammar is cached; nothing here is imported on a sync that reads no interview's notes.

Entries of ``cues``, ``not_decision``, ``todo_*``, ``after``, ``corrections``, ``phrases`` and the articles
are regular-expression fragments matched as whole words in any case, a space standing for any run of
whitespace. ``months``, ``weekdays``, ``numbers``, ``units`` and ``range_words`` are plain words: the
reader looks up what it matched.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from followup_cal.core.language_files import LANGUAGE_FOLDER, broken, language_tables

_WS = r"[^\S\n]+"
_OWS = r"[^\S\n]*"
# A time right after a number ("Friday 3pm", "mardi 14h", "22:00") makes it no day of the month.
_TIME_AFTER = r"(?:[:h]\d|[^\S\n]*(?:[ap]\.?m\b|h\b|uhr\b|godz|hrs?\b|o'clock))"


@dataclass(frozen=True)
class Language:
    code: str
    slash_order: str  # "mdy" or "dmy"


@dataclass(frozen=True)
class Grammar:
    """Everything the reader matches, built from all language files together."""

    cues: re.Pattern[str]  # one group per language: c_<code>
    not_decision: re.Pattern[str]
    todo_start: re.Pattern[str]
    todo_marker: re.Pattern[str]
    todo_end: re.Pattern[str]
    todo_end_unless: re.Pattern[str]
    corrections: re.Pattern[str]
    span_from_elsewhere: re.Pattern[str]  # matched right after a span
    range_gap: re.Pattern[str]
    dates: re.Pattern[str]
    month_names: re.Pattern[str]  # a month name at a position (for sentence ends: "15. Dezember")
    languages: dict[str, Language]
    months: dict[str, int]
    weekdays: dict[str, int]
    numbers: dict[str, int]
    couple_or_few: frozenset[str]
    units: dict[str, str]  # word -> hour | day | business_day | week | month | fortnight
    phrase_meanings: dict[str, str]  # group name -> meaning
    month_phrase_kinds: dict[str, str]  # group name -> end | mid
    date_starters: frozenset[str]  # starter_key() of every word a date expression can begin with
    cue_starters: frozenset[str]  # ... and a cue


def starter_key(word: str) -> str:
    """What a word is looked up by to see whether a match can begin at it: its first three letters."""
    return word[:3].lower()


def normalise(word: str) -> str:
    return " ".join(word.lower().split()).rstrip(".")


def _fragment(entry: str) -> str:
    return entry.strip().replace(" ", _WS)


def _literal(entry: str) -> str:
    return re.escape(normalise(entry)).replace(r"\ ", _WS)


def _alternation(entries: list[str], literal: bool = False) -> str:
    parts = {(_literal(e) if literal else _fragment(e)) for e in entries if e.strip()}
    if not parts:
        return r"(?!)"
    return "(?:" + "|".join(sorted(parts, key=lambda p: (-len(p), p))) + ")"


def _words(entries: list[str], literal: bool = False) -> str:
    return rf"(?<!\w){_alternation(entries, literal)}(?!\w)"


def _read_tables() -> dict[str, dict[str, Any]]:
    return language_tables("decision")


def _starters(tables: dict[str, dict[str, Any]], keys: tuple[str, ...]) -> frozenset[str]:
    """The starter keys of every word in these entries (a superset of the words a match can begin with)."""
    found: set[str] = set()
    for table in tables.values():
        for key in keys:
            value = table.get(key, [])
            entries = value.values() if isinstance(value, dict) else value
            for entry in entries:
                for text in entry if isinstance(entry, list) else [entry] if isinstance(entry, str) else []:
                    found.update(starter_key(word) for word in re.findall(r"[^\W\d_]+", text))
            if isinstance(value, dict) and key == "numbers":
                found.update(starter_key(word) for text in value for word in re.findall(r"[^\W\d_]+", text))
    return frozenset(found)


def _collect(tables: dict[str, dict[str, Any]], key: str) -> list[str]:
    return [entry for table in tables.values() for entry in table.get(key, [])]


def _lookup(tables: dict[str, dict[str, Any]], key: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for table in tables.values():
        for index, forms in enumerate(table.get(key, [])):
            for form in forms:
                found.setdefault(normalise(form), index)
    return found


def _date_pattern(tables: dict[str, dict[str, Any]], grammar_parts: dict[str, Any]) -> str:
    month_words = list(grammar_parts["months"])
    weekday_words = list(grammar_parts["weekdays"])
    unit_words = list(grammar_parts["units"])
    number_words = list(grammar_parts["numbers"]) + list(grammar_parts["couple_or_few"])

    def month(name: str) -> str:
        return rf"(?P<{name}>{_alternation(month_words, literal=True)})(?!\w)\.?"

    weekday_alt = _alternation(weekday_words, literal=True)
    not_after_weekday = _alternation(_collect(tables, "weekday_not_followed_by"))
    weekday = rf"{weekday_alt}(?!\w)(?!{_WS}{not_after_weekday}(?!\w))"
    articles = _alternation(_collect(tables, "day_articles"))
    # A full stop after a day is an ordinal only before its month ("15. Dezember"); elsewhere it may end the
    # sentence ("decision by December 12.") and stays out of the match.
    suffix = rf"(?:{_alternation(_collect(tables, 'ordinals'), literal=True)}(?!\w))?"
    ordinal = rf"(?:{_alternation(_collect(tables, 'ordinals'), literal=True)}(?!\w)|\.)?"
    ranges = _alternation([*_collect(tables, "range_words"), "–", "—"], literal=True)
    joiners = _alternation(_collect(tables, "date_joiners"))
    year_joiners = _alternation(_collect(tables, "year_joiners"))
    weekday_prefix = rf"(?:{weekday}\.?,?{_WS}(?:{articles}{_WS})?)?"
    not_a_number_around = r"(?<![\w./:-])"

    def year(name: str) -> str:
        return rf"(?:,?{_OWS}(?:{year_joiners}{_WS})?(?P<{name}>\d{{4}})(?!\d))?"

    def day_range(name: str, end: str) -> str:
        return rf"(?:{_OWS}(?:-|{ranges}){_OWS}(?P<{name}>\d{{1,2}}){end})?"

    number = rf"(?:\d{{1,3}}(?![\d.,/])|{_words(number_words, literal=True)})"
    units = _alternation(unit_words, literal=True)
    fortnights = [w for w, unit in grammar_parts["units"].items() if unit == "fortnight" and " " in w]
    # After a day of the month: no month (that is a full date), no time, no unit ("de 5 días" is a span).
    not_a_day = (
        rf"(?!\w|\.\d|[/]|{_TIME_AFTER}|{_OWS}{_alternation(month_words, literal=True)}(?!\w)"
        rf"|{_OWS}{_alternation(unit_words, literal=True)}(?!\w))"
    )

    forms = {
        "iso": rf"{not_a_number_around}(?P<iso_year>\d{{4}})-(?P<iso_month>\d{{1,2}})-(?P<iso_day>\d{{1,2}})"
        r"(?![\w/-]|\.\d)",
        "md": rf"{weekday_prefix}{month('md_month')}{_OWS}(?P<md_day>\d{{1,2}})(?!\d){suffix}"
        rf"{day_range('md_day2', suffix)}{year('md_year')}(?![\d:])",
        "dm": rf"{weekday_prefix}(?:{articles}{_WS})?{not_a_number_around}(?P<dm_day>\d{{1,2}}){ordinal}"
        rf"{day_range('dm_day2', ordinal)}{_OWS}(?:{joiners}{_WS})?{month('dm_month')}{year('dm_year')}",
        "slash": rf"{weekday_prefix}{not_a_number_around}(?P<slash_a>\d{{1,2}})/(?P<slash_b>\d{{1,2}})"
        r"(?:/(?P<slash_year>\d{4}|\d{2}))?(?:[-–](?P<slash_a2>\d{1,2})/(?P<slash_b2>\d{1,2}))?"
        r"(?![\w/]|[.,:-]\d)",
        "dot": rf"{weekday_prefix}{not_a_number_around}(?P<dot_day>\d{{1,2}})\.(?P<dot_month>\d{{1,2}})\."
        r"(?:(?P<dot_year>\d{4}|\d{2})(?!\w|\.\d|[/:-]\d)|(?![\w]|[./:-]?\d))",
        "wdom": rf"(?P<wdom_weekday>{weekday})\.?,?{_OWS}(?:{articles}{_WS})?(?<!\d)(?P<wdom_day>\d{{1,2}})"
        rf"{suffix}{not_a_day}",
        "weekday": rf"(?:(?P<weekday_next>{_alternation(_collect(tables, 'next_weekday_before'))}){_WS})?"
        rf"(?P<weekday_name>{weekday})(?:{_OWS},?{_OWS}"
        rf"(?P<weekday_next_after>{_alternation(_collect(tables, 'next_weekday_after'))})(?!\w))?",
    }
    # Every month phrase ends in its month ("end of {month}"): one group per kind holds the words before it,
    # and the month is found again in the matched text, so the month names appear in the pattern once here.
    kinds = []
    for kind, templates in grammar_parts["month_phrase_templates"].items():
        prefixes = [t.removesuffix("{month}") for t in templates if t.endswith("{month}")]
        kinds.append(
            rf"(?P<mp_{kind}>{_alternation([p.rstrip() for p in prefixes if p.strip()])}"
            rf"(?:{_WS}|-|(?<=-)))"
        )
    forms["month_phrase"] = (
        rf"(?:{'|'.join(kinds)}){_alternation(month_words, literal=True)}(?!\w)\.?" if kinds else r"(?!)"
    )
    phrase_groups = [
        rf"(?P<{name}>{_fragment(entry)})(?!\w)" for name, entry in grammar_parts["phrase_templates"].items()
    ]
    forms["phrase"] = "|".join(phrase_groups) or r"(?!)"
    forms["span"] = (
        rf"(?<![\w.,/-])(?P<span_n>{number})(?:{_OWS}(?:-|{ranges}){_OWS}(?P<span_m>{number}))?{_OWS}"
        rf"(?P<span_unit>{units})(?!\w)(?:{_WS}(?:{ranges}){_WS}(?P<span_m2>{number}))?"
    )
    forms["week_number"] = (
        rf"(?<!\w)(?:{_alternation(_collect(tables, 'week_numbers'))}){_OWS}"
        r"(?P<week_number>\d{1,2})(?!\d|[.,/:-]\d)"
    )
    forms["single"] = (
        rf"(?<!\w)(?:{_alternation(_collect(tables, 'span_single'))}){_WS}(?P<single_unit>{units})(?!\w)"
    )
    forms["fortnight"] = rf"(?<!\w)(?P<fortnight_words>{_alternation(fortnights, literal=True)})(?!\w)"
    forms["dom"] = (
        rf"(?<!\w)(?:{articles}){_WS}(?P<dom_day>\d{{1,2}}){suffix}{not_a_day}"
        rf"|(?<![\w./-])(?P<dom_day2>\d{{1,2}})(?:st|nd|rd|th|-go|-ego)(?!\w)"
    )
    body = "|".join(f"(?P<f_{name}>{pattern})" for name, pattern in forms.items())
    # "after" words are tagged by language: Dutch "na" is "after", Portuguese and Polish "na" are not.
    after = "|".join(
        f"(?P<after_{code}>{_alternation(table['after'])})"
        for code, table in tables.items()
        if table.get("after")
    )
    return rf"(?<!\w)(?:(?P<after>{after or '(?!)'}){_WS})?(?:{body})"


@functools.cache
def grammar() -> Grammar:
    """The grammar of all language files, built once."""
    try:
        return _build_grammar()
    except (KeyError, TypeError, ValueError, AttributeError, re.error) as error:
        raise broken(f"{LANGUAGE_FOLDER}/*.toml [decision]", repr(error)) from None


def _build_grammar() -> Grammar:
    tables = _read_tables()
    months = {word: index + 1 for word, index in _lookup(tables, "months").items()}
    weekdays = _lookup(tables, "weekdays")
    numbers: dict[str, int] = {}
    units: dict[str, str] = {}
    phrase_templates: dict[str, str] = {}
    phrase_meanings: dict[str, str] = {}
    month_phrase_templates: dict[str, list[str]] = {}
    for table in tables.values():
        numbers.update({normalise(word): int(value) for word, value in table.get("numbers", {}).items()})
        for unit, words in table.get("units", {}).items():
            units.update({normalise(word): unit for word in words})
        for meaning, entries in table.get("phrases", {}).items():
            for entry in entries:
                name = f"ph{len(phrase_templates)}"
                phrase_templates[name] = entry
                phrase_meanings[name] = meaning
        for kind, entries in table.get("month_phrases", {}).items():
            month_phrase_templates.setdefault(kind, []).extend(entries)
    # Longer phrases first, so that "end of next week" is tried before "next week" at one position.
    phrase_templates = dict(sorted(phrase_templates.items(), key=lambda item: -len(item[1])))
    couple_or_few = frozenset(normalise(word) for word in _collect(tables, "couple_or_few"))
    parts = {
        "months": months,
        "weekdays": weekdays,
        "numbers": numbers,
        "couple_or_few": couple_or_few,
        "units": units,
        "phrase_templates": phrase_templates,
        "month_phrase_templates": month_phrase_templates,
    }
    cue_groups = "|".join(
        f"(?P<c_{code}>{_words(table.get('cues', []))})"
        for code, table in tables.items()
        if table.get("cues")
    )
    flags = re.IGNORECASE
    range_words = _alternation(
        _collect(tables, "range_words") + _collect(tables, "upper_bounds"), literal=True
    )
    return Grammar(
        cues=re.compile(cue_groups or r"(?!)", flags),
        not_decision=re.compile(_words(_collect(tables, "not_decision")), flags),
        todo_start=re.compile(rf"^[\W\d_]*{_alternation(_collect(tables, 'todo_starts'))}(?!\w)", flags),
        todo_marker=re.compile(_words(_collect(tables, "todo_markers")), flags),
        todo_end=re.compile(rf"(?<!\w){_alternation(_collect(tables, 'todo_ends'))}[\W\d_]*$", flags),
        todo_end_unless=re.compile(_words(_collect(tables, "todo_ends_unless")), flags),
        corrections=re.compile(_words(_collect(tables, "corrections")), flags),
        span_from_elsewhere=re.compile(rf"{_OWS}{_words(_collect(tables, 'span_from_elsewhere'))}", flags),
        range_gap=re.compile(
            rf"[\s,()]*(?:(?:-|–|—|/|(?<!\w){range_words}\.?(?!\w))[\s,()]*)*(?:\w{{1,4}}[\s,]*)?", flags
        ),
        dates=re.compile(_date_pattern(tables, parts), flags),
        month_names=re.compile(_words(list(months), literal=True), flags),
        languages={
            code: Language(code, str(table.get("slash_order", "dmy"))) for code, table in tables.items()
        },
        months=months,
        weekdays=weekdays,
        numbers=numbers,
        couple_or_few=couple_or_few,
        units=units,
        phrase_meanings={name: phrase_meanings[name] for name in phrase_templates},
        month_phrase_kinds={f"mp_{kind}": kind for kind in month_phrase_templates},
        date_starters=_starters(
            tables,
            (
                "months",
                "weekdays",
                "numbers",
                "couple_or_few",
                "units",
                "day_articles",
                "next_weekday_before",
                "after",
                "phrases",
                "month_phrases",
                "span_single",
                "week_numbers",
            ),
        ),
        cue_starters=_starters(tables, ("cues",)),
    )
