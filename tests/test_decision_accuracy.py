"""Decision dates on the labelled notes in tests/data/decision_notes.toml, in each of the eight languages.

Prints exact-date accuracy per language and overall (pytest -s shows it) and fails when any language is
below 95 %. A note expecting "none" counts as right only when no date is read from it.
"""

from __future__ import annotations

import tomllib
from collections import defaultdict
from datetime import date
from pathlib import Path

from followup_cal.core.decision import find_decision

NOTES = Path(__file__).parent / "data" / "decision_notes.toml"
GOAL = 0.95
LANGUAGES = ("en", "de", "fr", "es", "pt", "it", "nl", "pl")


def _labelled() -> list[dict[str, object]]:
    notes: list[dict[str, object]] = tomllib.loads(NOTES.read_text(encoding="utf-8"))["note"]
    return notes


def accuracy_table() -> tuple[dict[str, tuple[int, int]], list[str]]:
    """(right, total) per language, and a line for each wrong answer."""
    scores: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    wrong = []
    for note in _labelled():
        interview = note["interview"]
        assert isinstance(interview, date)
        found = find_decision(str(note["text"]), interview)
        got = found.date if found else "none"
        expected = note["expect"]
        language = str(note["lang"])
        scores[language][1] += 1
        if got == expected:
            scores[language][0] += 1
        else:
            wrong.append(f"{language}: {note['text']!r}: expected {expected}, read {got}")
    return {language: (right, total) for language, (right, total) in scores.items()}, wrong


def test_the_labelled_set_covers_eight_languages() -> None:
    notes = _labelled()
    assert len(notes) >= 80
    per_language = defaultdict(int)
    for note in notes:
        per_language[note["lang"]] += 1
    assert {language: per_language[language] >= 10 for language in LANGUAGES} == dict.fromkeys(
        LANGUAGES, True
    )


def test_exact_date_accuracy_in_every_language() -> None:
    scores, wrong = accuracy_table()
    print("\nlanguage  right/notes  accuracy")
    for language in LANGUAGES:
        right, total = scores[language]
        print(f"{language:<9} {right:>5}/{total:<5}  {right / total:6.1%}")
    all_right = sum(right for right, _ in scores.values())
    all_total = sum(total for _, total in scores.values())
    print(f"{'all':<9} {all_right:>5}/{all_total:<5}  {all_right / all_total:6.1%}")
    for line in wrong:
        print("  wrong:", line)
    below = {
        language: f"{right}/{total}" for language, (right, total) in scores.items() if right / total < GOAL
    }
    assert below == {}, "\n".join(wrong)
