"""The detection words of every language, read from ``data/languages/<code>.toml``, and how they match.

Each file's ``[detect]`` table holds word lists by class (see ``en.toml``); all languages are merged, so
an event need not be told its language, and a ninth language is one more file. Text and entries are
folded alike (case, accents, ``ß``, ``ł``; punctuation to spaces) and matched as whole words. In an
entry, a leading ``*`` lets it end a compound ("*interview": "Telefoninterview") and a trailing ``*``
lets it take any ending ("rozmow*"); without one the last word may take a plural "s"/"es".

The files are read on the first call of :func:`vocabulary`, never at import: a sync that finds nothing
new, and ``--help``, never pay for them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from followup_cal.core import language_files
from followup_cal.core.language_files import LANGUAGE_FOLDER, broken

# Classes of [detect] that are word lists (the rest are settings such as session_of).
WORD_CLASSES = (
    "interview",
    "rounds",
    "weak",
    "recruiting",
    "application",
    "roles",
    "position",
    "unrelated",
    "cancelled",
)
AGAINST = "against:"  # the index's names of the not_interview classes
LEISURE = "leisure"  # a [detect] list that counts as a class of [detect.not_interview]

_FOLD_TABLE = str.maketrans(
    {"ł": "l", "Ł": "l", "ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "đ": "d", "ı": "i"}
)
_NON_WORD = re.compile(r"[\W_]+")
_WORD = re.compile(r"\w+")
_KEY = 3  # entries are found by the first letters of their first word


def fold_keep(text: str) -> str:
    """Lower case without accents, punctuation kept: "Annulé : Entretien" -> "annule : entretien"."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD_TABLE).casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """Words only, lower case, without accents, one space apart: "Vorstellungs-Gespräch!" ->
    "vorstellungs gesprach"."""
    return " ".join(word for word in _NON_WORD.split(fold_keep(text)) if word)


def entry_pattern(entry: str) -> str | None:
    """The regular expression (over :func:`fold` text) of one word-list entry; None for an empty one."""
    tokens = [token for token in entry.split() if token.strip("*")]
    parts: list[str] = []
    for index, token in enumerate(tokens):
        words = fold(token.strip("*")).split()
        if not words:
            continue
        body = r"\ ".join(re.escape(word) for word in words)
        prefix = r"\w*" if token.startswith("*") else ""
        if token.endswith("*"):
            suffix = r"\w*"
        elif index == len(tokens) - 1:
            suffix = "(?:e?s)?"
        else:
            suffix = ""
        parts.append(prefix + body + suffix)
    if not parts:
        return None
    return r"(?<!\w)" + r"\ ".join(parts) + r"(?!\w)"


@dataclass(frozen=True)
class Hit:
    start: int
    end: int
    shown: str  # what a reason quotes: the entry, or the words matched for a compound entry

    @property
    def length(self) -> int:
        return self.end - self.start


class Index:
    """The entries of every class, merged over all languages, found in one pass over a folded text.

    Entries are looked up by the first letters of the word a match would start with, so a text costs
    a few dictionary look-ups per word; compound entries ("*interview") by a piece of their first word
    found inside a word. Scans are cached: a title's segments are asked about by several classes.
    """

    def __init__(self, entries: list[tuple[str, str]]) -> None:
        patterns: dict[tuple[str, str], tuple[str, str, str]] = {}
        for name, entry in entries:
            pattern = entry_pattern(entry)
            if pattern is not None and (name, pattern) not in patterns:
                patterns[(name, pattern)] = (name, entry.strip(), pattern)
        # Where two entries match the same words, the longer (then the exact one) is quoted.
        ordered = sorted(
            patterns.values(), key=lambda item: (-len(item[1].strip("*")), "*" in item[1], item[1])
        )
        self._by_start: dict[str, list[tuple[int, str, str, str]]] = {}
        self._by_piece: dict[str, list[tuple[int, str, str, str]]] = {}
        for rank, (name, entry, pattern) in enumerate(ordered):
            first = fold(entry.split()[0].strip("*"))[:_KEY]
            table = self._by_piece if entry.startswith("*") else self._by_start
            table.setdefault(first, []).append((rank, name, entry, pattern))
        # An entry's expression is compiled when a word could start it: of some 2,000 entries in eight
        # languages a calendar meets a few hundred, and compiling them all cost a first sync ~0.1 s.
        self._compiled: dict[str, re.Pattern[str]] = {}
        self.names = frozenset(name for name, _ in entries)
        self.scan: Callable[[str], dict[str, list[Hit]]] = lru_cache(maxsize=2048)(self._scan)

    def _regex(self, pattern: str) -> re.Pattern[str]:
        regex = self._compiled.get(pattern)
        if regex is None:
            regex = self._compiled[pattern] = re.compile(pattern)
        return regex

    def _candidates(self, folded: str) -> list[tuple[int, int, int, str, str]]:
        found = []
        for word in _WORD.finditer(folded):
            position, text = word.start(), word.group(0)
            for size in range(1, _KEY + 1):
                for rank, name, entry, pattern in self._by_start.get(folded[position : position + size], ()):
                    match = self._regex(pattern).match(folded, position)
                    if match:
                        found.append((position, match.end(), rank, name, entry))
            tried: set[int] = set()
            for offset in range(len(text) - _KEY + 1):  # compound parts are at least _KEY letters
                for rank, name, entry, pattern in self._by_piece.get(text[offset : offset + _KEY], ()):
                    if rank in tried:
                        continue
                    tried.add(rank)
                    match = self._regex(pattern).match(folded, position)
                    if match:
                        found.append((position, match.end(), rank, name, entry))
        return found

    def _scan(self, folded: str) -> dict[str, list[Hit]]:
        """Per class, the non-overlapping matches left to right, each the longest starting there."""
        result: dict[str, list[Hit]] = {}
        ends: dict[str, int] = {}
        for start, stop, _rank, name, entry in sorted(
            self._candidates(folded), key=lambda c: (c[0], -c[1], c[2])
        ):
            if start < ends.get(name, -1):
                continue
            shown = folded[start:stop] if "*" in entry else entry
            result.setdefault(name, []).append(Hit(start, stop, shown))
            ends[name] = stop
        return result


class Matcher:
    """One class of an :class:`Index`."""

    def __init__(self, index: Index, name: str) -> None:
        self._index = index
        self._name = name

    def hits(self, folded: str) -> list[Hit]:
        """Every non-overlapping match of the class in ``folded`` (a :func:`fold` text), left to right."""
        return self._index.scan(folded).get(self._name, [])

    def first(self, folded: str) -> Hit | None:
        found = self.hits(folded)
        return max(found, key=lambda hit: hit.length) if found else None


@dataclass(frozen=True)
class Vocabulary:
    words: dict[str, Matcher]  # by class of WORD_CLASSES
    against: dict[str, Matcher]  # the [detect.not_interview] classes, and "leisure"
    cancelled_prefix: re.Pattern[str] | None  # over fold_keep(title)
    session: re.Pattern[str] | None  # "session 2 of 4", over fold_keep(title)
    numbered_round: re.Pattern[str] | None  # "round 2", "2nd round", "2. Runde", over fold_keep(title)
    between: re.Pattern[str] | None  # "... between A and B", a booking page's title, over fold(title)


def _strings(table: dict[str, Any], key: str, where: str) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise broken(where, f"{key} must be a list of strings")
    return value


def _alternatives(entries: list[str]) -> str:
    folded = sorted({fold(entry) for entry in entries if fold(entry)}, key=len, reverse=True)
    return "|".join(r"\s+".join(re.escape(word) for word in entry.split()) for entry in folded)


def build(tables: dict[str, dict[str, Any]]) -> Vocabulary:
    """A vocabulary from the ``[detect]`` tables of several languages (by language code)."""
    merged: dict[str, list[str]] = {name: [] for name in WORD_CLASSES}
    against: dict[str, list[str]] = {LEISURE: []}
    session_words: list[str] = []
    session_of: list[str] = []
    numbered: list[str] = []
    between: list[tuple[str, str]] = []
    for code, table in tables.items():
        where = f"{LANGUAGE_FOLDER}/{code}.toml [detect]"
        for name in WORD_CLASSES:
            merged[name].extend(_strings(table, name, where))
        against[LEISURE].extend(_strings(table, LEISURE, where))
        negative = table.get("not_interview", {})
        if not isinstance(negative, dict):
            raise broken(where, "not_interview must be a table of word lists")
        for name in negative:
            against.setdefault(name, []).extend(_strings(negative, name, where + ".not_interview"))
        session_words.extend(_strings(table, "session_words", where))
        session_of.extend(_strings(table, "session_of", where))
        numbered.extend(_strings(table, "numbered_rounds", where))
        pair = _strings(table, "between", where)
        if pair:
            if len(pair) != 2:
                raise broken(where, 'between must name two words, e.g. ["between", "and"]')
            between.append((pair[0], pair[1]))
    index = Index(
        [(name, entry) for name, entries in merged.items() for entry in entries]
        + [(AGAINST + name, entry) for name, entries in against.items() for entry in entries]
    )
    cancelled = _alternatives(merged["cancelled"])
    words = _alternatives(session_words)
    rounds = _alternatives(numbered)
    of = "|".join(re.escape(fold_keep(word).strip()) for word in session_of if word.strip())
    return Vocabulary(
        words={name: Matcher(index, name) for name in merged},
        against={name: Matcher(index, AGAINST + name) for name in against},
        cancelled_prefix=(
            re.compile(rf"^\W*(?:{cancelled})(?:\s+[^\s:]+){{0,3}}?\s*[:\]\-–—]") if cancelled else None
        ),
        session=(
            re.compile(
                rf"(?<!\w)(?:{words})\s*#?\s*\d{{1,2}}\s*(?:{of})\s*\d{{1,2}}(?!\d)|\(\s*\d\s*/\s*\d\s*\)"
            )
            if words and of
            else None
        ),
        numbered_round=(
            re.compile(
                rf"(?<!\w)(?:{rounds})\s*#?\s*\d{{1,2}}(?![\d:.])"
                rf"|(?<!\w)\d{{1,2}}(?:st|nd|rd|th|e|er|eme|a|o|ª|º|\.)?\s*(?:{rounds})(?!\w)"
            )
            if rounds
            else None
        ),
        between=(
            re.compile(
                "|".join(
                    rf"(?<!\w){re.escape(fold(first))}\s\w+(?:\s\w+){{0,3}}\s{re.escape(fold(second))}\s\w+"
                    for first, second in between
                )
            )
            if between
            else None
        ),
    )


def language_tables() -> dict[str, dict[str, Any]]:
    """The ``[detect]`` table of every language file shipped with the package, by language code."""
    # English first: where two languages share an entry, reasons quote it in English.
    return language_files.language_tables("detect", first="en")


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """Every shipped language's words, read once per process."""
    return build(language_tables())
