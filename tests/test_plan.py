"""Tests for plan: when the thank-you and check-in reminders fall (DESIGN.md "When the reminders fall").

Expected times are ISO strings with the offset, so both the wall clock and the instant are checked.
2026-11-30 is a Monday; Europe/Berlin changes to summer time on 2026-03-29 and back on 2026-10-25.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from followup_cal.core.model import Attendee, Event, Moment, Person
from followup_cal.core.plan import (
    InterviewPlan,
    in_working_hours,
    interview_end,
    next_working_start,
    plan_interviews,
    thank_you_time,
)
from followup_cal.core.settings import Rules, Settings

BERLIN = ZoneInfo("Europe/Berlin")
RULES = Rules()
ME = "alice@example.com"
SETTINGS = Settings(timezone=BERLIN, me=(ME,))
EVERY_DAY = frozenset(range(7))


def at(text: str, tz: ZoneInfo = BERLIN) -> datetime:
    """A wall-clock time in ``tz`` ("2026-12-01 10:00")."""
    return datetime.fromisoformat(text).replace(tzinfo=tz)


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="minutes")


def interview(
    start: Moment,
    end: Moment | None = None,
    *,
    summary: str = "Interview",
    notes: str = "",
    organizer: str | None = None,
    attendees: tuple[Attendee, ...] = (),
    uid: str = "uid-a",
    recurrence_id: Moment | None = None,
    categories: tuple[str, ...] = (),
) -> Event:
    return Event(
        calendar="work",
        href=f"{uid}.ics",
        etag=None,
        uid=uid,
        start=start,
        end=end,
        recurrence_id=recurrence_id,
        summary=summary,
        notes=notes,
        organizer=None if organizer is None else Person(organizer),
        attendees=attendees,
        categories=categories,
    )


def plan_one(event: Event, settings: Settings = SETTINGS) -> InterviewPlan:
    [plan] = plan_interviews([event], settings)
    return plan


# --- thank-you ---------------------------------------------------------------------------------------------

THANK_YOU_CASES = [
    # (name, start, end, rules, expected thank-you)
    ("inside hours", at("2026-12-01 10:00"), at("2026-12-01 11:00"), RULES, "2026-12-01T13:00+01:00"),
    (
        "candidate at work_start is inside",
        at("2026-12-01 06:00"),
        at("2026-12-01 07:00"),
        RULES,
        "2026-12-01T09:00+01:00",
    ),
    (
        "candidate at work_end is outside",
        at("2026-12-01 15:00"),
        at("2026-12-01 16:00"),
        RULES,
        "2026-12-02T09:00+01:00",
    ),
    (
        "evening -> next morning",
        at("2026-12-01 18:00"),
        at("2026-12-01 19:00"),
        RULES,
        "2026-12-02T09:00+01:00",
    ),
    (
        "late night -> next morning",
        at("2026-12-01 23:00"),
        at("2026-12-02 00:30"),
        RULES,
        "2026-12-02T09:00+01:00",
    ),
    (
        "next morning beyond 24h - reminder_minutes -> candidate",
        at("2026-12-01 09:00"),
        at("2026-12-01 10:00"),
        Rules(thank_you_delay=timedelta(hours=10), reminder_minutes=120),
        "2026-12-01T20:00+01:00",
    ),
    (
        "next morning exactly at 24h - reminder_minutes is allowed",
        at("2026-12-01 09:00"),
        at("2026-12-01 10:00"),
        Rules(thank_you_delay=timedelta(hours=10), reminder_minutes=60),
        "2026-12-02T09:00+01:00",
    ),
    (
        "Friday evening -> Monday is too late",
        at("2026-12-04 17:00"),
        at("2026-12-04 18:30"),
        RULES,
        "2026-12-04T20:30+01:00",
    ),
    (
        "Friday late afternoon",
        at("2026-12-04 15:00"),
        at("2026-12-04 16:30"),
        RULES,
        "2026-12-04T18:30+01:00",
    ),
    (
        "Saturday -> Monday is too late",
        at("2026-12-05 10:00"),
        at("2026-12-05 11:00"),
        RULES,
        "2026-12-05T13:00+01:00",
    ),
    (
        "Sunday evening -> Monday morning",
        at("2026-12-06 19:00"),
        at("2026-12-06 20:00"),
        RULES,
        "2026-12-07T09:00+01:00",
    ),
    (
        "Friday evening with Saturday a workday",
        at("2026-12-04 17:00"),
        at("2026-12-04 18:30"),
        Rules(workdays=frozenset({0, 1, 2, 3, 4, 5})),
        "2026-12-05T09:00+01:00",
    ),
    (
        "Sunday-to-Thursday week, Thursday evening",
        at("2026-12-03 15:00"),
        at("2026-12-03 16:00"),
        Rules(workdays=frozenset({6, 0, 1, 2, 3}), work_start=time(8), work_end=time(16)),
        "2026-12-03T18:00+01:00",
    ),
    (
        "Sunday-to-Thursday week, Saturday evening -> Sunday",
        at("2026-12-05 18:00"),
        at("2026-12-05 19:00"),
        Rules(workdays=frozenset({6, 0, 1, 2, 3}), work_start=time(8), work_end=time(16)),
        "2026-12-06T08:00+01:00",
    ),
    (
        "custom hours are half-open",
        at("2026-12-01 12:00"),
        at("2026-12-01 13:30"),
        Rules(work_start=time(7, 30), work_end=time(15, 30)),
        "2026-12-02T07:30+01:00",
    ),
    ("no end lasts one hour", at("2026-12-01 10:00"), None, RULES, "2026-12-01T13:00+01:00"),
    ("all-day ends at work_end", date(2026, 12, 1), date(2026, 12, 2), RULES, "2026-12-02T09:00+01:00"),
    ("all-day without end", date(2026, 12, 1), None, RULES, "2026-12-02T09:00+01:00"),
    ("multi-day all-day: last day", date(2026, 12, 1), date(2026, 12, 4), RULES, "2026-12-04T09:00+01:00"),
    ("all-day Friday", date(2026, 12, 4), date(2026, 12, 5), RULES, "2026-12-04T20:00+01:00"),
    (
        "interview in another zone",
        datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("America/New_York")),
        datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("America/New_York")),
        RULES,
        "2026-12-02T09:00+01:00",  # ends 16:00 Berlin: 18:00 is outside, Wednesday 09:00 is 17h later
    ),
    # DST: delays are elapsed time, the 24 h limit is elapsed time, working hours are wall clock.
    (
        "spring forward: 2h elapsed over the gap",
        at("2026-03-29 00:30"),
        at("2026-03-29 01:30"),
        RULES,
        "2026-03-29T04:30+02:00",
    ),
    (
        "fall back: 2h elapsed over the repeated hour",
        at("2026-10-25 00:30"),
        at("2026-10-25 01:30"),
        RULES,
        "2026-10-25T02:30+01:00",
    ),
    (
        "spring forward: next morning is 22h20 later, not 23h20",
        at("2026-03-28 09:00"),
        at("2026-03-28 09:40"),
        Rules(workdays=EVERY_DAY, work_start=time(9), work_end=time(10), reminder_minutes=80),
        "2026-03-29T09:00+02:00",
    ),
    (
        "fall back: next morning is 24h20 later, not 23h20",
        at("2026-10-24 09:00"),
        at("2026-10-24 09:40"),
        Rules(workdays=EVERY_DAY, work_start=time(9), work_end=time(10)),
        "2026-10-24T11:40+02:00",
    ),
]


@pytest.mark.parametrize(
    ("start", "end", "rules", "expected"),
    [case[1:] for case in THANK_YOU_CASES],
    ids=[case[0] for case in THANK_YOU_CASES],
)
def test_thank_you_time(start: Moment, end: Moment | None, rules: Rules, expected: str) -> None:
    result = thank_you_time(interview(start, end), rules, BERLIN)
    assert iso(result) == expected
    assert result.tzinfo is BERLIN


def test_thank_you_uses_the_configured_zone() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    event = interview(datetime(2026, 12, 1, 9, 0, tzinfo=UTC), datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    # Ends 19:00 in Tokyo: the candidate 21:00 is outside hours, the next morning is 14h later.
    assert iso(thank_you_time(event, RULES, tokyo)) == "2026-12-02T09:00+09:00"


def test_all_day_interview_ends_at_work_end_of_its_last_day() -> None:
    rules = Rules(work_end=time(17, 30))
    event = interview(date(2026, 3, 27), date(2026, 3, 30))  # Friday to Sunday, across the DST change
    assert iso(interview_end(event, rules, BERLIN)) == "2026-03-29T17:30+02:00"


@pytest.mark.parametrize(
    ("moment", "rules", "expected"),
    [
        (at("2026-12-01 09:00"), RULES, "2026-12-01T09:00+01:00"),
        (at("2026-12-01 09:00:01"), RULES, "2026-12-02T09:00+01:00"),
        (at("2026-12-01 03:00"), RULES, "2026-12-01T09:00+01:00"),
        (at("2026-12-04 09:30"), RULES, "2026-12-07T09:00+01:00"),
        (at("2026-12-05 08:00"), RULES, "2026-12-07T09:00+01:00"),
        (datetime(2026, 12, 1, 7, 59, tzinfo=UTC), RULES, "2026-12-01T09:00+01:00"),
        (datetime(2026, 12, 1, 8, 1, tzinfo=UTC), RULES, "2026-12-02T09:00+01:00"),
        # A work start inside the spring-forward gap becomes the instant it names.
        (at("2026-03-29 00:00"), Rules(workdays=EVERY_DAY, work_start=time(2, 30)), "2026-03-29T03:30+02:00"),
        (at("2026-03-27 10:00"), RULES, "2026-03-30T09:00+02:00"),
    ],
)
def test_next_working_start(moment: datetime, rules: Rules, expected: str) -> None:
    assert iso(next_working_start(moment, rules, BERLIN)) == expected


def test_in_working_hours_is_half_open_and_wall_clock() -> None:
    assert in_working_hours(at("2026-12-01 09:00"), RULES, BERLIN)
    assert in_working_hours(at("2026-12-01 17:59"), RULES, BERLIN)
    assert not in_working_hours(at("2026-12-01 18:00"), RULES, BERLIN)
    assert not in_working_hours(at("2026-12-05 12:00"), RULES, BERLIN)
    assert in_working_hours(datetime(2026, 12, 1, 8, 0, tzinfo=UTC), RULES, BERLIN)


# --- check-in ----------------------------------------------------------------------------------------------

CHECK_IN_CASES = [
    # (name, start, end, notes, rules, expected check-in, expected reason)
    (
        "Monday -> Saturday -> Monday",
        at("2026-11-30 10:00"),
        at("2026-11-30 11:00"),
        "",
        RULES,
        "2026-12-07T09:00+01:00",
        "5 days after thank-you",
    ),
    (
        "Tuesday -> Sunday -> Monday",
        at("2026-12-01 10:00"),
        at("2026-12-01 11:00"),
        "",
        RULES,
        "2026-12-07T09:00+01:00",
        "5 days after thank-you",
    ),
    (
        "Wednesday -> Monday",
        at("2026-12-02 10:00"),
        at("2026-12-02 11:00"),
        "",
        RULES,
        "2026-12-07T09:00+01:00",
        "5 days after thank-you",
    ),
    (
        "Thursday -> Tuesday",
        at("2026-12-03 10:00"),
        at("2026-12-03 11:00"),
        "",
        RULES,
        "2026-12-08T09:00+01:00",
        "5 days after thank-you",
    ),
    (
        "counts from the thank-you's date, not the interview's",
        at("2026-12-01 18:00"),
        at("2026-12-01 19:00"),
        "",
        RULES,
        "2026-12-07T09:00+01:00",
        "5 days after thank-you",
    ),
    (
        "custom wait and hours",
        at("2026-12-01 10:00"),
        at("2026-12-01 11:00"),
        "",
        Rules(checkin_wait_days=7, work_start=time(8, 15)),
        "2026-12-08T08:15+01:00",
        "7 days after thank-you",
    ),
    (
        "across the DST change",
        at("2026-03-27 10:00"),
        at("2026-03-27 11:00"),
        "",
        RULES,
        "2026-04-01T09:00+02:00",
        "5 days after thank-you",
    ),
    (
        "stated date on a Saturday -> Monday",
        at("2026-12-01 10:00"),
        at("2026-12-01 11:00"),
        "They said: decision by December 12.",
        RULES,
        "2026-12-14T09:00+01:00",
        'decision by Dec 12 stated ("decision by December 12")',
    ),
    (
        "explicit decision line on a workday",
        at("2026-12-01 10:00"),
        at("2026-12-01 11:00"),
        "notes\ndecision: 2026-12-10",
        RULES,
        "2026-12-10T09:00+01:00",
        'decision by Dec 10 stated ("decision: 2026-12-10")',
    ),
    (
        "stated date sooner than the default wait is respected",
        at("2026-12-01 10:00"),
        at("2026-12-01 11:00"),
        "You'll hear back by Friday",
        RULES,
        "2026-12-04T09:00+01:00",
        'decision by Dec 4 stated ("hear back by Friday")',
    ),
    (
        "stated date in the next year names the year",
        at("2026-12-21 10:00"),
        at("2026-12-21 11:00"),
        "decision by January 8",
        RULES,
        "2027-01-08T09:00+01:00",
        'decision by Jan 8 2027 stated ("decision by January 8")',
    ),
    (
        "stated date on 25 December, a public holiday -> the next workday after Boxing Day",
        at("2026-12-01 10:00"),
        at("2026-12-01 11:00"),
        "decision: 2026-12-25",
        replace(RULES, holidays="DE"),
        "2026-12-28T09:00+01:00",
        'decision by Dec 25 stated ("decision: 2026-12-25")',
    ),
    (
        "stated date on 25 December without holidays stays there",
        at("2026-12-01 10:00"),
        at("2026-12-01 11:00"),
        "decision: 2026-12-25",
        RULES,
        "2026-12-25T09:00+01:00",
        'decision by Dec 25 stated ("decision: 2026-12-25")',
    ),
    (
        "the wait lands on Christmas with every day a workday -> skips both holidays",
        at("2026-12-20 10:00"),
        at("2026-12-20 11:00"),
        "",
        replace(RULES, workdays=EVERY_DAY, holidays="DE"),
        "2026-12-27T09:00+01:00",
        "5 days after thank-you",
    ),
    (
        "business days skip public holidays",
        at("2026-12-23 10:00"),
        at("2026-12-23 11:00"),
        "We'll decide within 3 business days.",
        replace(RULES, holidays="DE"),
        "2026-12-29T09:00+01:00",
        'decision by Dec 29 stated ("decide within 3 business days")',
    ),
    (
        "two decision dates in one sentence that are no range: the wait rule, and why",
        at("2026-12-01 10:00"),
        at("2026-12-01 11:00"),
        "Sam said we'd hear back by Friday, Jo said on December 18.",
        RULES,
        "2026-12-07T09:00+01:00",
        '5 days after thank-you (the notes give two decision dates: "hear back by Friday" and '
        '"hear back by Friday, Jo said on December 18")',
    ),
    (
        "stated date before the thank-you is ignored",
        at("2026-12-01 10:00"),
        at("2026-12-01 11:00"),
        "decision: 2026-12-01",
        RULES,
        "2026-12-07T09:00+01:00",
        '5 days after thank-you (stated "decision: 2026-12-01" is not after the thank-you)',
    ),
    (
        "stated date at the thank-you itself is ignored",
        at("2026-12-01 18:00"),
        at("2026-12-01 19:00"),
        "decision: 2026-12-02",
        RULES,
        "2026-12-07T09:00+01:00",
        '5 days after thank-you (stated "decision: 2026-12-02" is not after the thank-you)',
    ),
]


def test_thank_you_skips_a_public_holiday() -> None:
    # Christmas Eve 17:00-18:00: the next working start would be Christmas Day; with German holidays it is
    # the 28th, too late, so the thank-you stays at end + delay on the evening of the 24th.
    event = interview(at("2026-12-24 17:00"), at("2026-12-24 18:00"))
    plain = plan_one(event)
    german = plan_one(event, replace(SETTINGS, rules=replace(RULES, holidays="DE")))
    assert iso(plain.thank_you) == "2026-12-25T09:00+01:00"
    assert iso(german.thank_you) == "2026-12-24T20:00+01:00"


def test_subdivision_holidays_apply_only_there() -> None:
    # Epiphany (6 January) is a public holiday in Bavaria, not in Berlin.
    event = interview(at("2027-01-04 10:00"), at("2027-01-04 11:00"), notes="decision: 2027-01-06")
    bavaria = plan_one(event, replace(SETTINGS, rules=replace(RULES, holidays="DE-BY")))
    berlin = plan_one(event, replace(SETTINGS, rules=replace(RULES, holidays="DE-BE")))
    assert iso(bavaria.check_in) == "2027-01-07T09:00+01:00"
    assert iso(berlin.check_in) == "2027-01-06T09:00+01:00"


@pytest.mark.parametrize(
    ("start", "end", "notes", "rules", "expected", "reason"),
    [case[1:] for case in CHECK_IN_CASES],
    ids=[case[0] for case in CHECK_IN_CASES],
)
def test_check_in(start: Moment, end: Moment, notes: str, rules: Rules, expected: str, reason: str) -> None:
    plan = plan_one(interview(start, end, notes=notes), replace(SETTINGS, rules=rules))
    assert iso(plan.check_in) == expected
    assert plan.check_in_reason == reason
    assert plan.suppressed is None
    assert plan.check_in is not None and plan.check_in.tzinfo is BERLIN


def test_plan_keeps_the_stated_decision() -> None:
    plan = plan_one(interview(at("2026-12-01 10:00"), at("2026-12-01 11:00"), notes="decision: 2026-12-10"))
    assert plan.decision is not None and plan.decision.date == date(2026, 12, 10) and plan.decision.explicit
    assert plan_one(interview(at("2026-12-01 10:00"), at("2026-12-01 11:00"))).decision is None


@pytest.mark.parametrize("tag", ["#offer", "#rejected", "#withdrawn", "#heard-back"])
def test_outcome_ends_the_check_in(tag: str) -> None:
    plan = plan_one(interview(at("2026-12-01 10:00"), at("2026-12-01 11:00"), notes=f"Call went well. {tag}"))
    assert plan.check_in is None
    assert plan.suppressed == f"ended by {tag}"
    assert iso(plan.thank_you) == "2026-12-01T13:00+01:00"
    assert plan.check_in_reason == "5 days after thank-you"


def test_outcome_as_category_ends_the_check_in() -> None:
    plan = plan_one(
        interview(at("2026-12-01 10:00"), at("2026-12-01 11:00"), categories=("Interview", "Offer"))
    )
    assert plan.suppressed == "ended by #offer"
    assert plan.check_in is None


# --- later rounds ------------------------------------------------------------------------------------------

FIRST = interview(
    at("2026-12-01 10:00"), at("2026-12-01 11:00"), summary="Acme phone screen", organizer="bob@acme.com"
)
# FIRST's check-in is Monday 2026-12-07 09:00.


def second(start: str = "2026-12-03 14:00", **fields: object) -> Event:
    values: dict[str, object] = {"summary": "Acme final round", "organizer": "carol@acme.com", "uid": "uid-b"}
    values.update(fields)
    begin = at(start)
    return interview(begin, begin + timedelta(hours=2), **values)  # type: ignore[arg-type]


SUPERSEDE_CASES = [
    # (name, first, second, expected suppressed reason of the first)
    ("same domain supersedes", FIRST, second(), 'superseded by "Acme final round" on 2026-12-03'),
    (
        "domain compared case-insensitively",
        FIRST,
        second(organizer="Carol@ACME.com"),
        'superseded by "Acme final round" on 2026-12-03',
    ),
    ("different domain does not", FIRST, second(organizer="carol@globex.example"), None),
    (
        "free-mail never matches",
        replace(FIRST, organizer=Person("bob@gmail.com")),
        second(organizer="carol@gmail.com"),
        None,
    ),
    ("no organiser never matches", replace(FIRST, organizer=None), second(organizer=None), None),
    ("same series does not", FIRST, second(uid="uid-a", recurrence_id=at("2026-12-03 14:00")), None),
    ("starting at the check-in is too late", FIRST, second("2026-12-07 09:00"), None),
    (
        "starting just before the check-in supersedes",
        FIRST,
        second("2026-12-07 08:59"),
        'superseded by "Acme final round" on 2026-12-07',
    ),
    ("starting before the first does not", FIRST, second("2026-12-01 09:00"), None),
    (
        "organised by me: attendees decide",
        replace(FIRST, organizer=Person(ME), attendees=(Attendee(ME), Attendee("bob@acme.com"))),
        second(),
        'superseded by "Acme final round" on 2026-12-03',
    ),
    (
        "later round in another calendar",
        FIRST,
        replace(second(), calendar="personal"),
        'superseded by "Acme final round" on 2026-12-03',
    ),
    (
        "all-day later round",
        FIRST,
        interview(
            date(2026, 12, 3), date(2026, 12, 4), summary="Acme onsite", organizer="x@acme.com", uid="uid-c"
        ),
        'superseded by "Acme onsite" on 2026-12-03',
    ),
]


@pytest.mark.parametrize(
    ("first", "later", "expected"),
    [case[1:] for case in SUPERSEDE_CASES],
    ids=[case[0] for case in SUPERSEDE_CASES],
)
def test_later_round_supersedes(first: Event, later: Event, expected: str | None) -> None:
    plans = plan_interviews([later, first], SETTINGS)
    assert [plan.event for plan in plans] == [later, first]
    plan = plans[1]
    assert plan.suppressed == expected
    assert (plan.check_in is None) == (expected is not None)
    assert iso(plan.thank_you) == "2026-12-01T13:00+01:00"


def test_earliest_later_round_is_named_and_last_round_keeps_its_check_in() -> None:
    third = second("2026-12-04 10:00", summary="Acme CEO chat", uid="uid-c")
    first, middle, last = plan_interviews([FIRST, second(), third], SETTINGS)
    assert first.suppressed == 'superseded by "Acme final round" on 2026-12-03'
    assert middle.suppressed == 'superseded by "Acme CEO chat" on 2026-12-04'
    assert last.suppressed is None
    assert iso(last.check_in) == "2026-12-09T09:00+01:00"  # Fri 14:00 + 5 days = Wed


def test_outcome_wins_over_later_round() -> None:
    first = replace(FIRST, notes="#rejected")
    [plan, _] = plan_interviews([first, second()], SETTINGS)
    assert plan.suppressed == "ended by #rejected"


# --- properties --------------------------------------------------------------------------------------------

ZONES = [
    ZoneInfo(name)
    for name in ("Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC")
]


@st.composite
def rules_strategy(draw: st.DrawFn) -> Rules:
    # Work starts at 04:00 or later: no zone here has a DST gap then, so check-ins fall exactly at it.
    start_minutes = draw(st.integers(4 * 60, 14 * 60))
    end_minutes = draw(st.integers(start_minutes + 15, 23 * 60 + 59))
    return Rules(
        thank_you_delay=timedelta(minutes=draw(st.integers(0, 12 * 60))),
        checkin_wait_days=draw(st.integers(1, 10)),
        work_start=time(start_minutes // 60, start_minutes % 60),
        work_end=time(end_minutes // 60, end_minutes % 60),
        workdays=frozenset(draw(st.sets(st.integers(0, 6), min_size=1))),
        reminder_minutes=draw(st.integers(0, 180)),
    )


@st.composite
def interview_strategy(draw: st.DrawFn) -> Event:
    tz = draw(st.sampled_from(ZONES))
    if draw(st.booleans()):
        day = draw(st.dates(date(2025, 1, 1), date(2028, 12, 31)))
        days = draw(st.integers(1, 3))
        return interview(
            day, draw(st.sampled_from([None, day + timedelta(days=days)])), notes=draw(notes_strategy)
        )
    start = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=draw(st.integers(0, 4 * 366 * 24 * 60)))
    end = draw(st.sampled_from([None, start + timedelta(minutes=draw(st.integers(0, 8 * 60)))]))
    return interview(
        start.astimezone(tz),
        None if end is None else end.astimezone(tz),
        notes=draw(notes_strategy),
    )


notes_strategy = st.sampled_from(
    [
        "",
        "decision by December 12",
        "we'll decide within two weeks",
        "hear back by Friday",
        "decision: tomorrow",
        "decision: 2026-06-01",
    ]
)


@hypothesis_settings(max_examples=400, deadline=None)
@given(event=interview_strategy(), rules=rules_strategy(), tz=st.sampled_from(ZONES))
def test_properties(event: Event, rules: Rules, tz: ZoneInfo) -> None:
    plan = plan_one(event, Settings(timezone=tz, rules=rules))
    end = interview_end(event, rules, tz).astimezone(UTC)
    thank_you = plan.thank_you.astimezone(UTC)
    assert end <= thank_you <= end + timedelta(hours=24)
    if rules.thank_you_delay > timedelta(0):
        assert thank_you > end
    assert plan.check_in is not None
    local = plan.check_in.astimezone(tz)
    assert plan.check_in.astimezone(UTC) > thank_you
    assert local.time() == rules.work_start
    assert local.weekday() in rules.workdays
