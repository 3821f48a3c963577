"""Decision reading that reads the sentence (issue 11): what is not a decision, the vague phrases of
DESIGN.md in every language, ranges, corrections and disagreements. 2026-11-10 is a Tuesday."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest

from followup_cal.core.decision import find_decision, read_decision

TUE = date(2026, 11, 10)


def read(text: str, day: date = TUE) -> date | None:
    found = find_decision(text, day)
    return found.date if found else None


@pytest.mark.parametrize(
    "text",
    [
        "Recruiter's number for the decision call: 06.12.45.78.90",
        "Reply to Dana by Monday about the decision.",
        "I need to send my references by Friday, then they decide.",
        "Next round on Nov 19, the decision comes after that.",
        "Start date would be January 4 once an offer is made.",
        "Application reference 2026-12-15 -- decision pending.",
        "Decision: req 12/15-2231 is still open.",
        "Next step: panel interview on Dec 3. Final decision a week after that.",
        "Feedback usually takes 2-3 days after each round.",
    ],
)
def test_not_a_decision(text: str) -> None:
    assert read(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("You'll hear back by end of day Thursday.", date(2026, 11, 12)),
        ("They'll let me know on Tuesday the 22nd.", date(2026, 12, 22)),  # not the coming Tuesday
        ("They will make the final call by Dec 18.", date(2026, 12, 18)),
        ("Feedback within 3-5 business days.", date(2026, 11, 17)),
        ("Decision no later than November 20.", date(2026, 11, 20)),
        ("We'll decide within a fortnight.", date(2026, 11, 24)),
        ("Feedback between Nov 16 and Nov 19.", date(2026, 11, 19)),
        ("Decision on Friday or Monday.", date(2026, 11, 16)),
        ("Decision within 3 business days, no later than Nov 20.", date(2026, 11, 20)),
        ("Décision d'ici le 15/12.", date(2026, 12, 15)),  # day/month in French
        ("We'll get back to you by 12/1.", date(2026, 12, 1)),  # month/day in English
        ("Réponse sous 48h.", date(2026, 11, 12)),
        ("Réponse jeudi à 14h.", date(2026, 11, 12)),  # 14h is a time, not a span or a second date
        ("Feedback a week after the interview.", date(2026, 11, 17)),
        ("Rückmeldung in KW 48.", date(2026, 11, 27)),  # a calendar week: its Friday
        ("Ze komen binnen twee weken bij me terug.", date(2026, 11, 24)),
    ],
)
def test_phrases_the_issue_names(text: str, expected: date) -> None:
    assert read(text) == expected


# DESIGN.md: "next week" -> its Friday; "early next week" -> its Wednesday; "a couple of weeks" -> 14 days;
# "a few days" -> 3; "a week or so" -> 7; "end of the month" -> its last day; "mid next month" -> the 15th;
# "after <date>" -> the day after. From Tuesday 2026-11-10.
VAGUE = {
    "next week": date(2026, 11, 20),
    "early next week": date(2026, 11, 18),
    "a couple of weeks": date(2026, 11, 24),
    "a few days": date(2026, 11, 13),
    "a week or so": date(2026, 11, 17),
    "end of the month": date(2026, 11, 30),
    "mid next month": date(2026, 12, 15),
    "after November 20": date(2026, 11, 21),
}
VAGUE_NOTES = {
    "en": [
        "Decision next week.",
        "Decision early next week.",
        "Feedback in a couple of weeks.",
        "Feedback in a few days.",
        "Decision in a week or so.",
        "Decision by the end of the month.",
        "Decision mid next month.",
        "Decision after November 20.",
    ],
    "de": [
        "Entscheidung nächste Woche.",
        "Entscheidung Anfang nächster Woche.",
        "Rückmeldung in ein paar Wochen.",
        "Rückmeldung in ein paar Tagen.",
        "Entscheidung in etwa einer Woche.",
        "Entscheidung bis Ende des Monats.",
        "Entscheidung Mitte nächsten Monats.",
        "Entscheidung nach dem 20. November.",
    ],
    "fr": [
        "Décision la semaine prochaine.",
        "Décision en début de semaine prochaine.",
        "Retour dans une paire de semaines.",
        "Retour dans quelques jours.",
        "Décision dans une semaine environ.",
        "Décision d'ici la fin du mois.",
        "Décision à la mi-mois prochain.",
        "Décision après le 20 novembre.",
    ],
    "es": [
        "Decisión la semana que viene.",
        "Decisión a principios de la semana que viene.",
        "Respuesta en un par de semanas.",
        "Respuesta en unos días.",
        "Decisión en una semana más o menos.",
        "Decisión a finales de mes.",
        "Decisión a mediados del mes que viene.",
        "Decisión después del 20 de noviembre.",
    ],
    "pt": [
        "Decisão na próxima semana.",
        "Decisão no início da próxima semana.",
        "Retorno em um par de semanas.",
        "Retorno em alguns dias.",
        "Decisão em uma semana mais ou menos.",
        "Decisão até o final do mês.",
        "Decisão em meados do próximo mês.",
        "Decisão depois de 20 de novembro.",
    ],
    "it": [
        "Decisione la prossima settimana.",
        "Decisione all'inizio della prossima settimana.",
        "Risposta tra un paio di settimane.",
        "Risposta tra qualche giorno.",
        "Decisione tra una settimana circa.",
        "Decisione entro la fine del mese.",
        "Decisione a metà del prossimo mese.",
        "Decisione dopo il 20 novembre.",
    ],
    "nl": [
        "Besluit volgende week.",
        "Besluit begin volgende week.",
        "Reactie over een paar weken.",
        "Reactie over een paar dagen.",
        "Besluit over een week of zo.",
        "Besluit eind van de maand.",
        "Besluit half volgende maand.",
        "Besluit na 20 november.",
    ],
    "pl": [
        "Decyzja w przyszłym tygodniu.",
        "Decyzja na początku przyszłego tygodnia.",
        "Odpowiedź za parę tygodni.",
        "Odpowiedź za kilka dni.",
        "Decyzja za mniej więcej tydzień.",
        "Decyzja do końca miesiąca.",
        "Decyzja w połowie przyszłego miesiąca.",
        "Decyzja po 20 listopada.",
    ],
}


@pytest.mark.parametrize("language", list(VAGUE_NOTES))
def test_vague_phrases_read_the_same_in_every_language(language: str) -> None:
    got = {phrase: read(note) for phrase, note in zip(VAGUE, VAGUE_NOTES[language], strict=True)}
    assert got == VAGUE


def test_a_later_sentence_corrects_an_earlier_one() -> None:
    text = "They'll decide by Friday.\nUpdate: recruiter wrote that the decision moved to Nov 27."
    assert read(text) == date(2026, 11, 27)
    assert read("Decision by Friday, actually Nov 27.") == date(2026, 11, 27)


def test_two_dates_that_disagree_fall_back_and_say_why() -> None:
    reading = read_decision("Sam said we'd hear back by Friday, Jo said on December 18.", TUE)
    assert reading.decision is None
    assert reading.disagreement == '"hear back by Friday" and "hear back by Friday, Jo said on December 18"'


def test_business_days_skip_what_the_caller_says_is_no_business_day() -> None:
    christmas = {date(2026, 12, 24), date(2026, 12, 25)}
    found = find_decision(
        "Decision within 3 business days.",
        date(2026, 12, 23),
        lambda d: d.weekday() < 5 and d not in christmas,
    )
    assert found is not None and found.date == date(2026, 12, 30)


def test_planning_without_notes_loads_no_language_data_or_holidays() -> None:
    code = (
        "import sys\n"
        "from datetime import datetime\n"
        "from zoneinfo import ZoneInfo\n"
        "from followup_cal.core.model import Event\n"
        "from followup_cal.core.plan import plan_interviews\n"
        "from followup_cal.core.settings import Settings\n"
        "tz = ZoneInfo('Europe/Berlin')\n"
        "event = Event(calendar='c', href='a.ics', etag=None, uid='a',"
        " start=datetime(2026, 12, 1, 10, tzinfo=tz), end=None, recurrence_id=None, summary='Interview',"
        " notes='', organizer=None, attendees=(), categories=())\n"
        "plan_interviews([event], Settings(timezone=tz))\n"
        "loaded = [m for m in ('followup_cal.core.decision', 'followup_cal.core.decision_words', 'holidays',"
        " 'dateparser') if m in sys.modules]\n"
        "print(loaded)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
