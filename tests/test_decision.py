"""Tests for decision: the decision date stated in an interview's notes."""

from __future__ import annotations

import time
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from followup_cal.core.decision import StatedDecision, find_decision

TUE = date(2026, 12, 1)  # a Tuesday
FRI = date(2026, 12, 4)
SAT = date(2026, 12, 5)
LATE_DEC = date(2026, 12, 20)  # a Sunday

PHRASINGS = [
    # Absolute dates, in a decision context.
    ("Decision by December 12", TUE, date(2026, 12, 12)),
    ("feedback by Dec 12th", TUE, date(2026, 12, 12)),
    ("They'll decide by Dec. 12th, 2026.", TUE, date(2026, 12, 12)),
    ("decision by 12 December", TUE, date(2026, 12, 12)),
    ("we should hear back by the 12th of December", TUE, date(2026, 12, 12)),
    ("next steps by 12/12", TUE, date(2026, 12, 12)),
    ("decision by 12/12/2026", TUE, date(2026, 12, 12)),
    ("decision by 12/12/27", TUE, date(2027, 12, 12)),
    ("decision expected 2026-12-12", TUE, date(2026, 12, 12)),
    ("Entscheidung, decision by 12.12.", TUE, date(2026, 12, 12)),
    ("decision by 12.12.2026.", TUE, date(2026, 12, 12)),
    ("you'll hear back by Friday, December 12", TUE, date(2026, 12, 12)),
    ("results on Fri 11/12", TUE, date(2027, 11, 12)),
    ("We'll get back to you by January 5", LATE_DEC, date(2027, 1, 5)),
    ("decision by 2/29", TUE, date(2028, 2, 29)),
    ("decision by 12/1", TUE, TUE),
    ("decision by the 15th", TUE, date(2026, 12, 15)),
    ("decision by the 5th", LATE_DEC, date(2027, 1, 5)),
    ("Great chat. They'll make a decision by  December 12, then call.", TUE, date(2026, 12, 12)),
    # Weekdays and weeks.
    ("you'll hear back by Friday", TUE, FRI),
    ("hear back by Friday", FRI, date(2026, 12, 11)),
    ("decision on Monday", TUE, date(2026, 12, 7)),
    ("decision by this Friday", TUE, FRI),
    ("they will let you know by next Friday", TUE, date(2026, 12, 11)),
    ("they will let you know by next Friday", SAT, date(2026, 12, 11)),
    ("decision by end of week", TUE, FRI),
    ("decision by the end of the week", FRI, date(2026, 12, 11)),
    ("decision by end of week", SAT, date(2026, 12, 11)),
    ("will get back to you next week", TUE, date(2026, 12, 11)),
    ("feedback by the end of next week", TUE, date(2026, 12, 11)),
    ("you'll hear back later this week", TUE, FRI),
    ("we'll hear back tomorrow", TUE, date(2026, 12, 2)),
    # Spans from the interview day.
    ("we'll decide within two weeks", TUE, date(2026, 12, 15)),
    ("expect to hear in 10 days", TUE, date(2026, 12, 11)),
    ("decision in 2 weeks", TUE, date(2026, 12, 15)),
    ("They'll decide within a week", TUE, date(2026, 12, 8)),
    ("you'll get feedback in a few days", TUE, FRI),
    ("you'll hear in a couple of weeks", TUE, date(2026, 12, 15)),
    ("response within 48 hours", TUE, date(2026, 12, 3)),
    ("decision in twenty days", TUE, date(2026, 12, 21)),
    ("decision within a month", TUE, date(2027, 1, 1)),
    ("decision in a month", date(2027, 1, 31), date(2027, 2, 28)),
    ("decision in 2-3 weeks", TUE, date(2026, 12, 22)),
    ("hear back in a week or two", TUE, date(2026, 12, 15)),
    ("We'll be in touch within 5 business days", FRI, date(2026, 12, 11)),
    ("we'll decide within the next 10 days", TUE, date(2026, 12, 11)),
    # Nothing stated, or dates that are not about the decision.
    ("", TUE, None),
    ("Company founded in 2019", TUE, None),
    ("The office moved on March 3", TUE, None),
    ("Interview on 12/01 at 3pm", TUE, None),
    ("Call me at 555-123-4567 or +49 30 1212 1212", TUE, None),
    ("No decision date was given", TUE, None),
    ("We discussed the decision process. The office moved on March 3.", TUE, None),
    ("decision\nMarch 3 office move", TUE, None),
    ("Next week I am travelling", TUE, None),
    ("Recruiter was nice. Within two weeks", TUE, None),
    ("decision by 12.12", TUE, None),
    ("decision by Feb 30", TUE, None),
    ("decision by Dec 12, 2025", TUE, None),
    ("decision by 13/13", TUE, None),
    ("Ask the recruiter about the decision at 555-123-4567", TUE, None),
    ("decision in 2019", TUE, None),
    ("feedback on version 1.2.3", TUE, None),
    ("We'll decide. Founded in 2019, office moved on March 3", TUE, None),
]


@pytest.mark.parametrize(("text", "interview_day", "expected"), PHRASINGS)
def test_phrasings(text: str, interview_day: date, expected: date | None) -> None:
    found = find_decision(text, interview_day)
    assert (found.date if found else None) == expected


def test_phrase_is_the_matched_text_with_whitespace_collapsed() -> None:
    found = find_decision("Great chat. They'll make a decision by  December 12, then call.", TUE)
    assert found == StatedDecision(date(2026, 12, 12), "decision by December 12", explicit=False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("decision: 2026-12-12", date(2026, 12, 12)),
        ("Decision: in 2 weeks", date(2026, 12, 15)),
        ("  DECISION :  Dec 12", date(2026, 12, 12)),
        ("decision: friday", FRI),
        ("- decision: next week", date(2026, 12, 11)),
        ("Decision date: 12/12", date(2026, 12, 12)),
        ("notes\n\tdecision:by Dec 12 per Sam", date(2026, 12, 12)),
    ],
)
def test_explicit_line_forms(text: str, expected: date) -> None:
    found = find_decision(text, TUE)
    assert found is not None
    assert (found.date, found.explicit) == (expected, True)


def test_explicit_phrase_ends_at_the_date() -> None:
    found = find_decision("decision: in 2 weeks (per Sam)", TUE)
    assert found == StatedDecision(date(2026, 12, 15), "decision: in 2 weeks", explicit=True)


def test_explicit_line_wins_over_prose_before_and_after_it() -> None:
    text = "They'll decide by Friday.\ndecision: 2026-12-20\nWe'll hear back in 2 days."
    found = find_decision(text, TUE)
    assert found is not None
    assert (found.date, found.explicit) == (date(2026, 12, 20), True)


def test_last_explicit_line_wins() -> None:
    found = find_decision("decision: Dec 12\nmore notes\nDecision: Dec 19", TUE)
    assert found is not None
    assert found.date == date(2026, 12, 19)


def test_explicit_line_without_a_date_is_ignored() -> None:
    found = find_decision("decision: Dec 12\ndecision: soon", TUE)
    assert found is not None
    assert (found.date, found.explicit) == (date(2026, 12, 12), True)
    found = find_decision("decision: 2025-01-01\nwe'll decide by Friday", TUE)
    assert found is not None
    assert (found.date, found.explicit) == (FRI, False)


def test_explicit_word_must_start_the_line() -> None:
    found = find_decision("no final decision: they will call", TUE)
    assert found is None


def test_last_prose_phrase_wins() -> None:
    text = "You'll hear back by Friday about round two. Final decision within 4 weeks."
    found = find_decision(text, TUE)
    assert found is not None
    assert found.date == date(2026, 12, 29)


def test_interview_day_given_as_datetime_counts_as_its_date() -> None:
    from datetime import datetime

    found = find_decision("decision in 2 days", datetime(2026, 12, 1, 15, 30))
    assert found is not None
    assert found.date == date(2026, 12, 3)


def test_extreme_interview_days_do_not_raise() -> None:
    for day in (date.min, date.max, date(9999, 12, 25)):
        for text in (
            "decision by Friday",
            "decision in 2 months",
            "decision by Dec 31",
            "hear back next week",
        ):
            found = find_decision(text, day)
            assert found is None or found.date >= day


FILLER = (
    "Talked with the hiring manager about the team (founded in 2019, moved offices on March 3). "
    "Interview on 12/01 at 3pm; call 555-123-4567. Next week I am travelling. version 1.2.3\n"
)


# A guard against super-linear blow-ups (a quadratic scan of a megabyte takes minutes), not a speed target:
# CPU seconds of this process, so a busy shared machine does not make it fail. Speed is the benchmarks' job.
HANG_GUARD_CPU_SECONDS = 10.0


@pytest.mark.parametrize(
    "text",
    [
        FILLER * (1_000_000 // len(FILLER)) + "They'll decide by Dec 12.",
        "x" * 1_000_000 + "\ndecision: Dec 12",
    ],
    ids=["notes", "one-long-line"],
)
def test_megabyte_description_is_fast_and_still_found(text: str) -> None:
    started = time.process_time()
    found = find_decision(text, TUE)
    assert time.process_time() - started < HANG_GUARD_CPU_SECONDS
    assert found is not None
    assert found.date == date(2026, 12, 12)


@pytest.mark.parametrize(
    "text",
    [
        "decision by " * 90_000,
        "decision: by\n" * 80_000,
        "decision: " * 100_000,
        " " * 1_000_000,
        "\n" * 1_000_000,
        "1/" * 500_000,
        "12.12.12." * 110_000,
        "decision in a a a a " * 50_000,
        "hear back by Friday, the 12th of " * 30_000,
    ],
    ids=lambda text: repr(text[:14]),
)
def test_adversarial_megabyte_is_linear(text: str) -> None:
    started = time.process_time()
    find_decision(text, TUE)
    assert time.process_time() - started < HANG_GUARD_CPU_SECONDS


VOCABULARY = [
    "decision",
    "decide",
    "hear back",
    "feedback",
    "next steps",
    "decision:",
    "\n",
    " ",
    ".",
    ",",
    "/",
    "-",
    ":",
    "by",
    "in",
    "within",
    "on",
    "the",
    "next",
    "this",
    "end of",
    "week",
    "weeks",
    "days",
    "hours",
    "months",
    "business",
    "a",
    "a few",
    "a couple of",
    "or",
    "two",
    "twenty",
    "Friday",
    "fri",
    "Dec",
    "December",
    "Feb",
    "12th",
    "29",
    "30",
    "31",
    "0",
    "12",
    "99",
    "2026",
    "9999",
    "tomorrow",
]


@settings(max_examples=300, deadline=None)
@given(text=st.text(), interview_day=st.dates())
def test_arbitrary_text_never_raises(text: str, interview_day: date) -> None:
    found = find_decision(text, interview_day)
    assert found is None or found.date >= interview_day


@settings(max_examples=500, deadline=None)
@given(
    pieces=st.lists(st.one_of(st.sampled_from(VOCABULARY), st.text(max_size=3)), max_size=30),
    separators=st.sampled_from([" ", "", "\n"]),
    interview_day=st.dates(),
)
def test_date_like_text_never_raises_and_never_goes_back(
    pieces: list[str], separators: str, interview_day: date
) -> None:
    found = find_decision(separators.join(pieces), interview_day)
    assert found is None or found.date >= interview_day
