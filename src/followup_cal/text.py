"""The words of a reminder: a summary short enough for a lock screen, and a description that is a ready
checklist with the advice, one ``mailto:`` link per interviewer, and how to steer followup-cal.

Everything copied from an invitation (names, titles) is cleaned of control characters here, and
URL-encoded inside links, so it cannot break the reminder's lines.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from .model import Attendee, Event, Kind, Person

SUMMARY_TITLE_LIMIT = 40
OUTCOME_HINT = "#offer, #rejected, #withdrawn or #heard-back"
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
_NON_PERSON = {"ROOM", "RESOURCE", "GROUP"}


def clean(text: str, limit: int = 200) -> str:
    """One line of text from an untrusted source: control characters folded to spaces, length bounded."""
    single = " ".join(_CONTROL.sub(" ", text).split())
    return single if len(single) <= limit else single[: limit - 1].rstrip() + "…"


def interviewers(event: Event, me: Sequence[str]) -> list[Person]:
    """The people to thank: attendees and the organiser, without the user, rooms and resources."""
    people: list[Person] = []
    seen: set[str] = set()
    candidates: list[Person] = list(event.attendees)
    if event.organizer is not None:
        candidates.insert(0, event.organizer)
    for person in candidates:
        address = person.email.strip().casefold()
        if not address or person.is_user(me) or address in seen:
            continue
        if isinstance(person, Attendee) and person.cutype in _NON_PERSON:
            continue
        seen.add(address)
        people.append(Person(email=clean(person.email, 254), name=clean(person.name, 80)))
    return people


def _first_name(person: Person) -> str:
    if person.name:
        return person.name.split()[0]
    return person.email.split("@")[0]


def _short_title(event: Event) -> str:
    return clean(event.summary, SUMMARY_TITLE_LIMIT) or "interview"


def when_text(moment: date | datetime, tz: ZoneInfo) -> str:
    if isinstance(moment, datetime):
        local = moment.astimezone(tz)
        return f"{local:%a %d %b %Y, %H:%M}"
    return f"{moment:%a %d %b %Y}"


def summary(kind: Kind, event: Event, me: Sequence[str]) -> str:
    title = _short_title(event)
    if kind is Kind.CHECK_IN:
        return f"Check in — {title}"
    people = interviewers(event, me)
    if not people:
        return f"Send thank-you note — {title}"
    names = [_first_name(p) for p in people[:2]]
    extra = f" +{len(people) - 2}" if len(people) > 2 else ""
    return f"Thank {' & '.join(names)}{extra} — {title}"


def mail_subject(kind: Kind, title: str) -> str:
    return f"Thank you — {title}" if kind is Kind.THANK_YOU else f"Following up — {title}"


def first_mailto(kind: Kind, event: Event, me: Sequence[str]) -> str:
    """The reminder's URL: a one-tap e-mail to the first interviewer, or "" when there is none."""
    people = interviewers(event, me)
    title = clean(event.summary, 120) or "your interview"
    return mailto(people[0], mail_subject(kind, title)) if people else ""


def mailto(person: Person, subject: str) -> str:
    return f"mailto:{quote(person.email, safe='@')}?subject={quote(subject, safe='')}"


def _people_lines(people: list[Person], subject: str) -> list[str]:
    lines = []
    for person in people:
        label = f"{person.name} <{person.email}>" if person.name else person.email
        lines.append(f"- {label}: {mailto(person, subject)}")
    return lines


def description(kind: Kind, event: Event, me: Sequence[str], tz: ZoneInfo, check_in_reason: str = "") -> str:
    title = clean(event.summary, 120) or "your interview"
    when = when_text(event.start, tz)
    people = interviewers(event, me)
    if kind is Kind.THANK_YOU:
        lines = [
            f'Send a short thank-you note for "{title}" ({when}) within 24 hours,',
            "to each interviewer:" if people else "to each interviewer (add their addresses to the event):",
            *_people_lines(people, mail_subject(kind, title)),
            "Add anything you forgot to mention and restate your interest in the role.",
            "",
            "Did they say when they decide? Add a line to the interview's notes, e.g.",
            "  decision: 2026-12-12   or   decision: in 2 weeks",
            "and the check-in moves to that date.",
            f"Heard back already? Add {OUTCOME_HINT} to the interview's notes.",
        ]
    else:
        lines = [
            f'Time to check in about "{title}" ({when}).',
            *([f"Why today: {clean(check_in_reason, 160)}."] if check_in_reason else []),
            "Keep it short and friendly: thank them again, ask whether there is news on the timeline,",
            "and restate your interest. Silence is usually about their process, not about you.",
            *_people_lines(people, mail_subject(kind, title)),
            "",
            f"Heard back? Add {OUTCOME_HINT} to the interview's notes.",
        ]
    lines.append(
        "Edit or move this reminder and followup-cal leaves it alone; delete it and it stays deleted."
    )
    return "\n".join(lines)


def alarm_text(kind: Kind, event: Event) -> str:
    title = _short_title(event)
    return f"Thank-you note due — {title}" if kind is Kind.THANK_YOU else f"Check in today — {title}"
