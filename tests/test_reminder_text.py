"""The words of a reminder as a person reads them on a lock screen and in the event view."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from followup_cal.core import text
from followup_cal.core.model import Attendee, Event, Kind, Person

NOW = datetime(2030, 6, 4, 8, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


def interview(summary: str, organizer: str | None = None, *people: tuple[str, str]) -> Event:
    return Event(
        calendar="work",
        href="a.ics",
        etag=None,
        uid="a",
        start=NOW,
        summary=summary,
        organizer=Person(organizer) if organizer else None,
        attendees=tuple(Attendee(email, name) for email, name in people),
    )


@pytest.mark.parametrize(
    ("summary", "organizer", "expected"),
    [
        ("Phone screen - Acme Corp", "jane@acme.example", "Acme Corp"),  # the title's spelling wins
        ("Technical interview", "raj@globex.example", "Globex"),  # else the domain
        ("Interview", "x@jobs.deutsche-bahn.co.uk", "Deutsche Bahn"),
        ("Onsite @ J.P. Morgan", "x@jpmorgan.com", "J.P. Morgan"),
        ("Acme | Final round", None, "Acme"),  # no domain: the part set off from the kind of call
        ("Backend Engineer - Phone screen - Initech", None, "Initech"),  # a role is not a company
        ("Interview with Jane Smith", None, ""),  # "with" more often names a person
        ("Recruiter call", "no-reply@greenhouse.io", ""),  # a scheduling service names no one
        ("Interview", "someone@gmail.com", ""),
    ],
)
def test_company(summary: str, organizer: str | None, expected: str) -> None:
    assert text.company(interview(summary, organizer), ()) == expected


def test_thank_you_summary_names_the_people_and_the_interview() -> None:
    event = interview(
        "Technical interview with Globex",
        "raj@globex.example",
        ("raj@globex.example", "Raj Patel"),
        ("mei@globex.example", "Mei Lin"),
    )
    assert text.summary(Kind.THANK_YOU, event, ()) == "Thank Raj & Mei — Globex interview"
    assert text.summary(Kind.CHECK_IN, event, ()) == "Check in with Globex — any news?"
    assert (
        text.summary(Kind.CHECK_IN, event, (), decision_stated=True) == "Check in with Globex — decision due"
    )


def test_many_interviewers_are_cut_to_fit() -> None:
    names = ["Jane", "Raj", "Mei", "Tom"]
    event = interview("Final round - Acme", None, *[(f"{n}@acme.example", n) for n in names])
    assert text.summary(Kind.THANK_YOU, event, ()) == "Thank Jane, Raj, Mei & Tom — Acme final round"
    names = ["Jane", "Rajesh", "Meilin", "Thomas"]
    event = interview("Final round - Acme Corp", None, *[(f"{n}@acme.example", n) for n in names])
    assert text.summary(Kind.THANK_YOU, event, ()) == "Thank Jane, Rajesh & 2 more — Acme Corp"


@pytest.mark.parametrize(
    "summary",
    [
        "Final round - Acme Corporation International Holdings Worldwide GmbH & Co. KG",
        "Phone screen for the Senior Staff Principal Engineer position, second conversation",
        "Interview",
        "",
    ],
)
def test_every_summary_fits_a_lock_screen(summary: str) -> None:
    names = ["Alexandra Montgomery", "Bartholomew", "Christopher", "Dmitri", "Evangeline"]
    people = [(f"{n.split()[0].lower()}@example-company.com", n) for n in names]
    for count in range(len(people) + 1):
        event = interview(summary, None, *people[:count])
        for kind in Kind:
            for decided in (False, True):
                line = text.summary(kind, event, (), decision_stated=decided)
                assert 0 < len(line) <= text.SUMMARY_LIMIT, line
                assert "\n" not in line


def test_the_user_rooms_and_robots_are_not_thanked() -> None:
    event = Event(
        calendar="work",
        href="a.ics",
        etag=None,
        uid="a",
        start=NOW,
        summary="Onsite - Hooli",
        organizer=Person("noreply@hooli.example"),
        attendees=(
            Attendee("me@example.com", "Me"),
            Attendee("room-4@hooli.example", "Room 4", cutype="ROOM"),
            Attendee("gavin@hooli.example", "Gavin Belson"),
        ),
    )
    assert [p.email for p in text.interviewers(event, ("me@example.com",))] == ["gavin@hooli.example"]
    assert text.summary(Kind.THANK_YOU, event, ("me@example.com",)) == "Thank Gavin — Hooli onsite"


def test_description_is_a_checklist_with_one_mailto_per_interviewer() -> None:
    event = interview(
        "Final round - Acme Corp",
        "jane@acme.example",
        ("jane@acme.example", "Jane Doe"),
        ("tom@acme.example", "Tom Baker"),
    )
    body = text.description(Kind.THANK_YOU, event, (), BERLIN)
    lines = body.splitlines()
    assert (
        lines[0]
        == "Thank-you notes for Final round - Acme Corp (Tue 04 Jun 2030, 10:00). Send them within 24 hours:"
    )
    links = [line for line in lines if "mailto:" in line]
    assert [line.split(":")[0] for line in links] == ["☐ Jane Doe", "☐ Tom Baker"]
    url = urlsplit(links[1].split(": ", 1)[1])
    assert (url.scheme, url.path) == ("mailto", "tom@acme.example")
    assert parse_qs(url.query) == {"subject": ["Thank you for the interview"], "body": ["Hi Tom,\n\n"]}
    assert "decision: 2026-12-12" in body and "#offer" in body
    check_in = text.description(
        Kind.CHECK_IN, event, (), BERLIN, 'decision by Jun 18 stated ("decide by June 18")'
    )
    assert "Why today: decision by Jun 18 stated" in check_in
    assert check_in.count("mailto:") == 2 and "Following%20up%20on%20my%20interview" in check_in


def test_hostile_invitation_text_cannot_break_lines_or_links() -> None:
    event = interview(
        "Interview\r\nX-INJECTED:1",
        "evil@acme.example",
        ("evil@acme.example", "Eve\nDROP"),
        ("a&b?c@acme.example", "Amp"),
    )
    for kind in Kind:
        assert "\n" not in text.summary(kind, event, ())
        body = text.description(kind, event, (), BERLIN)
        assert "X-INJECTED" not in body.splitlines()[0].split("(")[-1]
        assert not any(line.startswith(("X-INJECTED", "DROP")) for line in body.splitlines())
    link = text.first_mailto(Kind.THANK_YOU, interview("Interview", None, ("a&b?c@acme.example", "")), ())
    assert link.startswith("mailto:a%26b%3Fc@acme.example?subject=")


def test_alarm_text_is_the_task_in_a_few_words() -> None:
    event = interview("Phone screen - Acme Corp", "jane@acme.example")
    assert text.alarm_text(Kind.THANK_YOU, event, ()) == "Thank-you notes due — Acme Corp"
    assert text.alarm_text(Kind.CHECK_IN, event, ()) == "Time to check in — Acme Corp"


@pytest.mark.parametrize(
    ("email", "name", "expected"),
    [
        ("jane@acme.example", "Jane Doe", "Jane Doe"),  # the invitation's name
        ("jane.doe@acme.example", "", "Jane Doe"),  # first.last@ as "First Last"
        ("mei_lin@acme.example", "", "Mei Lin"),
        ("jsmith@acme.example", "", ""),  # a bare local part is never a name
        ("jsmith@acme.example", "jsmith", ""),  # not even when the invitation repeats it
        ("talent@acme.example", "", ""),  # role mailboxes are never people
        ("hr@acme.example", "Hr", ""),
        ("recruiting.emea@acme.example", "", ""),
        ("no-reply@acme.example", "", ""),
        ("jobs@acme.example", "Acme Jobs", ""),
        ("ta@acme.example", "Acme Talent Acquisition", ""),
        ("bewerbung@acme.example", "", ""),
        ("jane.doe@acme.example", "Jane Doe (Recruiter)", "Jane Doe (Recruiter)"),  # a person, titled
        ("x17@acme.example", "Acme Talent Team", ""),
    ],
)
def test_names_a_person_would_write(email: str, name: str, expected: str) -> None:
    assert text.display_name(Person(email, name)) == expected


def test_role_mailboxes_are_the_team_never_a_person() -> None:
    event = interview(
        "Onsite - Acme",
        "talent@acme.example",
        ("talent@acme.example", ""),
        ("jane@acme.example", "Jane Doe"),
        ("hr@acme.example", "Hr"),
    )
    assert text.summary(Kind.THANK_YOU, event, ()) == "Thank Jane & the Acme team — Acme onsite"
    alone = interview("Phone screen", "talent@acme.example", ("jsmith@acme.example", ""))
    assert text.summary(Kind.THANK_YOU, alone, ()) == "Thank the Acme team — Acme phone screen"
    assert text.summary(Kind.CHECK_IN, interview("Interview", None, ("talent@x.example", "")), ()).startswith(
        "Check in with X"
    )
    body = text.description(Kind.THANK_YOU, event, (), BERLIN)
    assert "☐ talent@acme.example: mailto:talent@acme.example" in body
    talent_link = next(line for line in body.splitlines() if line.startswith("☐ talent@"))
    assert parse_qs(urlsplit(talent_link.split(": ", 1)[1]).query)["body"] == ["Hello,\n\n"]
