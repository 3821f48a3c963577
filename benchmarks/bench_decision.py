"""Decision-date reading: the project's own grammar against dateparser, on the labelled notes.

    python benchmarks/bench_decision.py            # needs `pip install dateparser` for its half

Prints exact-date accuracy per language for both, and the time to import and read the first note in a
fresh interpreter (what a sync pays once when it reads an interview's notes). dateparser gets the same
help the grammar has: the note's language, the interview day as its base, future dates preferred; of the
dates it finds on or after the interview day the last one counts (later statements win).
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
import warnings
from collections import defaultdict
from datetime import date, datetime, time
from pathlib import Path

NOTES = Path(__file__).parent.parent / "tests" / "data" / "decision_notes.toml"
LANGUAGES = ("en", "de", "fr", "es", "pt", "it", "nl", "pl")

OWN_STARTUP = (
    "import time, datetime; t = time.perf_counter()\n"
    "from followup_cal.core.decision import find_decision\n"
    "find_decision('Decision by December 12', datetime.date(2026, 12, 1))\n"
    "print(time.perf_counter() - t)\n"
)
DATEPARSER_STARTUP = (
    "import time, datetime, warnings; warnings.filterwarnings('ignore'); t = time.perf_counter()\n"
    "from dateparser.search import search_dates\n"
    "for code in ('en', 'de', 'fr', 'es', 'pt', 'it', 'nl', 'pl'):\n"
    "    search_dates('Decision by 12 December', languages=[code])\n"
    "print(time.perf_counter() - t)\n"
)


def own(text: str, day: date, language: str) -> date | None:
    from followup_cal.core.decision import find_decision

    found = find_decision(text, day)
    return found.date if found else None


def with_dateparser(text: str, day: date, language: str) -> date | None:
    from dateparser.search import search_dates

    base = datetime.combine(day, time(12))
    settings = {"RELATIVE_BASE": base, "PREFER_DATES_FROM": "future"}
    try:
        found = search_dates(text, languages=[language], settings=settings) or []
    except Exception:  # dateparser raises on some inputs; that counts as reading nothing
        found = []
    dates = [moment.date() for _, moment in found if moment.date() >= day]
    return dates[-1] if dates else None


def accuracy(read: object) -> dict[str, tuple[int, int]]:
    scores: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for note in tomllib.loads(NOTES.read_text(encoding="utf-8"))["note"]:
        got = read(note["text"], note["interview"], note["lang"])  # type: ignore[operator]
        expected = None if note["expect"] == "none" else note["expect"]
        scores[note["lang"]][1] += 1
        scores[note["lang"]][0] += got == expected
    return {language: (right, total) for language, (right, total) in scores.items()}


def startup(code: str, runs: int = 5) -> float:
    times = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        for _ in range(runs)
    ]
    return sorted(times)[len(times) // 2]


def main() -> None:
    warnings.filterwarnings("ignore")
    readers = {"own grammar": own, "dateparser": with_dateparser}
    try:
        import dateparser  # noqa: F401
    except ModuleNotFoundError:
        print("dateparser is not installed: only the own grammar is measured")
        del readers["dateparser"]
    results = {name: accuracy(read) for name, read in readers.items()}
    print("language  " + "  ".join(f"{name:>14}" for name in results))
    for language in (*LANGUAGES, "all"):
        cells = []
        for scores in results.values():
            if language == "all":
                right, total = sum(r for r, _ in scores.values()), sum(t for _, t in scores.values())
            else:
                right, total = scores[language]
            cells.append(f"{right:>3}/{total:<3} {right / total:5.0%}")
        print(f"{language:<9} " + "  ".join(f"{cell:>14}" for cell in cells))
    print(f"import + first read (median of 5 fresh interpreters): own {startup(OWN_STARTUP) * 1000:.0f} ms")
    if "dateparser" in readers:
        print(f"import + first read in 8 languages: dateparser {startup(DATEPARSER_STARTUP) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
