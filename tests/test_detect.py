"""Tests for detect: which events are interviews, outcomes and organisations."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from followup_cal.core.detect import OUTCOME_TAGS, Detection, detect, organisation, outcome
from followup_cal.core.model import Attendee, Event, Kind, Person, ReminderMark
from followup_cal.core.settings import DetectSettings, Settings

ME = "alice@example.com"
SETTINGS = Settings(timezone=ZoneInfo("Europe/Berlin"), me=(ME, "Alice.Work@Corp.example"))


def make_event(
    summary: str = "",
    notes: str = "",
    categories: tuple[str, ...] = (),
    status: str = "",
    organizer: Person | None = None,
    attendees: tuple[Attendee, ...] = (),
    reminder: ReminderMark | None = None,
    uid: str = "uid-1",
) -> Event:
    return Event(
        calendar="work",
        href="a.ics",
        etag=None,
        uid=uid,
        start=datetime(2026, 12, 1, 10, tzinfo=UTC),
        end=datetime(2026, 12, 1, 11, tzinfo=UTC),
        summary=summary,
        notes=notes,
        categories=categories,
        status=status,
        organizer=organizer,
        attendees=attendees,
        reminder=reminder,
    )


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        # Positives.
        (make_event("Interview with Acme"), Detection(True, 'title says "interview"')),
        (make_event("ACME INTERVIEWS"), Detection(True, 'title says "interview"')),
        (make_event("Phone screen – Acme"), Detection(True, 'title says "phone screen"')),
        (make_event("Acme phone-screen"), Detection(True, 'title says "phone screen"')),
        (make_event("Screening call w/ Bob"), Detection(True, 'title says "screening call"')),
        (make_event("Recruiter call"), Detection(True, 'title says "recruiter call"')),
        (make_event("Technical screen"), Detection(True, 'title says "technical screen"')),
        (make_event("Tech screen (Globex)"), Detection(True, 'title says "tech screen"')),
        (make_event("Meet the hiring manager"), Detection(True, 'title says "hiring manager"')),
        (make_event("Acme onsite"), Detection(True, 'title says "onsite"')),
        (make_event("Acme on-site day"), Detection(True, 'title says "on-site"')),
        (make_event("Final round, Acme"), Detection(True, 'title says "final round"')),
        (make_event("Acme", notes="Bring CV #interview"), Detection(True, "#interview in notes")),
        (make_event("Acme", notes="#Interview."), Detection(True, "#interview in notes")),
        (make_event("Acme", categories=("Work", "interview")), Detection(True, "category Interview")),
        # Not on word boundaries, and hashtags only as whole tags.
        # Interviewer training is the user's own job (issue 11): said so, not "no keyword".
        (
            make_event("Interviewer training"),
            Detection(False, 'prep, not a job interview: title says "training"'),
        ),
        (make_event("Ponsite"), Detection(False, "no interview keyword")),
        # The word in the notes weighs, but not enough alone (issue 11: reasons for and against).
        (make_event("Acme", notes="#interviewing season"), Detection(False, "no interview keyword")),
        (
            make_event("Acme", notes="#interview-prep"),
            Detection(False, 'too little evidence (notes say "interview")'),
        ),
        (
            make_event("Acme", notes="x#interview"),
            Detection(False, 'too little evidence (notes say "interview")'),
        ),
        (make_event("Dentist"), Detection(False, "no interview keyword")),
        # Negatives win over positives.
        (make_event("Mock interview with Bob"), Detection(False, 'excluded: "mock interview"')),
        (make_event("Mock Interviews"), Detection(False, 'excluded: "mock interview"')),
        (make_event("Interview prep"), Detection(False, 'excluded: "interview prep"')),
        (make_event("Interview practice"), Detection(False, 'excluded: "interview practice"')),
        (
            make_event("Prep for interview", categories=("Interview",)),
            Detection(False, 'excluded: "prep for interview"'),
        ),
        (
            make_event("Interview", notes="actually not #not-interview"),
            Detection(False, "excluded: #not-interview in notes"),
        ),
        (make_event("Interview", notes="#no-followup"), Detection(False, "excluded: #no-followup in notes")),
        (make_event("Interview", status="CANCELLED"), Detection(False, "cancelled")),
        (make_event("Interview", status="cancelled"), Detection(False, "cancelled")),
        (
            make_event("Interview", attendees=(Attendee("ALICE@example.com", partstat="DECLINED"),)),
            Detection(False, "declined by you"),
        ),
        (
            make_event(
                "Interview", attendees=(Attendee("mailto:alice.work@corp.example", partstat="DECLINED"),)
            ),
            Detection(False, "declined by you"),
        ),
        (
            make_event("Interview", reminder=ReminderMark(Kind.THANK_YOU, "uid-0", "abc")),
            Detection(False, "a followup-cal reminder"),
        ),
        # Someone else declining changes nothing; the user accepting changes nothing.
        (
            make_event(
                "Interview",
                attendees=(Attendee("bob@acme.com", partstat="DECLINED"), Attendee(ME, partstat="ACCEPTED")),
            ),
            Detection(True, 'title says "interview"; with acme.com, not your employer'),
        ),
        # The interview notes may mention prep without excluding it: exclusions are read from the title.
        (
            make_event("Acme interview", notes="interview prep: read the job ad"),
            Detection(True, 'title says "interview"; notes say "interview"'),
        ),
    ],
)
def test_detect(event: Event, expected: Detection) -> None:
    assert detect(event, SETTINGS) == expected


def test_detect_uses_configured_keywords_and_exclusions() -> None:
    settings = Settings(
        timezone=ZoneInfo("UTC"),
        detect=DetectSettings(extra_keywords=("coffee chat",), exclude=("internal interview",)),
    )
    assert detect(make_event("Coffee chat with Acme CTO"), settings) == Detection(
        True, 'title says "coffee chat"'
    )
    assert detect(make_event("Coffee chat with Acme CTO"), SETTINGS).is_interview is False
    assert detect(make_event("Internal interview panel"), settings) == Detection(
        False, 'excluded: "internal interview"'
    )


@pytest.mark.parametrize(
    ("notes", "categories", "expected"),
    [
        ("Great talk. #offer", (), "#offer"),
        ("#rejected :(", (), "#rejected"),
        ("#withdrawn", (), "#withdrawn"),
        ("recruiter called #heard-back", (), "#heard-back"),
        ("#heard-back on Monday, then #offer on Friday", (), "#heard-back"),
        ("", ("Interview", "#Offer"), "#offer"),
        ("", ("Rejected",), "#rejected"),
        ("#offering to send samples", (), None),
        ("#heard", (), None),
        ("offer letter expected", (), None),
        ("", ("Interview",), None),
    ],
)
def test_outcome(notes: str, categories: tuple[str, ...], expected: str | None) -> None:
    result = outcome(make_event("Interview", notes=notes, categories=categories))
    assert result == expected
    assert result is None or result in OUTCOME_TAGS


@pytest.mark.parametrize(
    ("organizer", "attendees", "expected"),
    [
        (Person("Bob@Acme.COM"), (), "acme.com"),
        (Person("mailto:jobs@sub.acme.com"), (), "sub.acme.com"),
        (Person("recruiter@gmail.com"), (), None),
        (Person("recruiter@googlemail.com"), (), None),
        (Person("recruiter@yahoo.co.uk"), (), None),
        (Person("recruiter@gmx.de"), (), None),
        (Person("recruiter@proton.me"), (), None),
        (Person("abc123@group.calendar.google.com"), (), None),
        (Person("no-at-sign"), (), None),
        (None, (), None),
        # The organiser is the user: the first attendee that is a person at an organisation decides.
        (
            Person(ME),
            (
                Attendee(ME, partstat="ACCEPTED"),
                Attendee("room-1@acme.com", cutype="ROOM"),
                Attendee("friend@gmail.com"),
                Attendee("bob@Globex.example"),
                Attendee("carol@initech.example"),
            ),
            "globex.example",
        ),
        (Person("ALICE.work@corp.example"), (Attendee("bob@acme.com"),), "acme.com"),
        (Person(ME), (Attendee("friend@outlook.com"),), None),
        (Person(ME), (), None),
        (None, (Attendee(ME), Attendee("bob@acme.com")), "acme.com"),
        (Person(""), (Attendee("bob@acme.com"),), "acme.com"),
    ],
)
def test_organisation(
    organizer: Person | None, attendees: tuple[Attendee, ...], expected: str | None
) -> None:
    event = make_event("Interview", organizer=organizer, attendees=attendees)
    assert organisation(event, SETTINGS.me) == expected


def test_all_day_event_is_detected_like_any_other() -> None:
    event = Event(
        calendar="c", href="h", etag=None, uid="u", start=date(2026, 12, 1), summary="Onsite at Acme"
    )
    assert detect(event, SETTINGS) == Detection(True, 'title says "onsite"')
