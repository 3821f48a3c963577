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

from followup_cal.core.detect import DEFAULT_KEYWORDS, organisation
from followup_cal.core.model import Attendee, Event, Kind, Person

SUMMARY_LIMIT = 50  # what a lock screen shows of a notification's title without cutting it
SUMMARY_TITLE_LIMIT = 40
OUTCOME_HINT = "#offer, #rejected, #withdrawn or #heard-back"
CHECKBOX = "☐"
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
_NON_PERSON = {"ROOM", "RESOURCE", "GROUP"}

# Titles name the company next to the kind of call: "Phone screen - Acme", "Interview with Globex",
# "Acme | Final round", "Onsite @ Initech", "Coffee with Sam from Umbrella".
_TITLE_SEPARATORS = re.compile(r"(\s+[-–—|@]\s+|:\s+|\s+(?:with|at|from)\s+|\s*[()\[\]]\s*)", re.IGNORECASE)
_WEAK_SEPARATORS = {"with", "from"}
# A title part made only of these words is the kind of call, not a company.
_FILLER_WORDS = re.compile(
    r"\b(?:coffee|chat|call|meeting|sync|intro|introduction|video|zoom|teams|google meet|round|"
    r"follow[- ]?up|catch[- ]?up|debrief|virtual|remote|onsite|on-site|interview|screen|screening|"
    r"recruiter|hr|panel|technical|final|first|second|third|next|\d+(?:st|nd|rd|th)?)\b",
    re.IGNORECASE,
)
# A title part with one of these words is the role applied for.
_ROLE_WORDS = re.compile(
    r"\b(?:engineer|developer|manager|designer|analyst|scientist|lead|role|position|intern|director|"
    r"architect|consultant|specialist|associate|officer|administrator|sre|devops)s?\b",
    re.IGNORECASE,
)
# Automatic senders: an invitation from them is not from a person to thank.
_NOT_A_PERSON = re.compile(
    r"^(?:no-?reply|do-?not-?reply|notifications?|calendar|invites?)(?:[+.].*)?@", re.I
)
# Scheduling and applicant-tracking services send invitations for many employers: their domain names none.
_SERVICE_DOMAINS = (
    "greenhouse.io",
    "lever.co",
    "ashbyhq.com",
    "workday.com",
    "myworkday.com",
    "smartrecruiters.com",
    "icims.com",
    "jobvite.com",
    "goodtime.io",
    "calendly.com",
    "zoom.us",
    "microsoft.com",
)
_SECOND_LEVEL = {"co", "com", "org", "net", "ac", "gov", "edu", "ltd", "plc"}


def clean(text: str, limit: int = 200) -> str:
    """One line of text from an untrusted source: control characters folded to spaces, length bounded."""
    single = " ".join(_CONTROL.sub(" ", text).split())
    return single if len(single) <= limit else single[: limit - 1].rstrip() + "…"


def interviewers(event: Event, me: Sequence[str], earlier: Sequence[Event] = ()) -> list[Person]:
    """The people to thank: attendees and the organiser, without the user, rooms and resources.
    ``earlier``: the earlier sessions of the same interview day, whose people come first."""
    people: dict[str, Person] = {}
    candidates: list[Person] = []
    for session in (*earlier, event):
        if session.organizer is not None:
            candidates.append(session.organizer)
        candidates.extend(session.attendees)
    for person in candidates:
        address = person.email.strip().casefold()
        if not address or person.is_user(me) or _NOT_A_PERSON.match(address):
            continue
        if isinstance(person, Attendee) and person.cutype in _NON_PERSON:
            continue
        known = people.get(address)
        if known is None or (not known.name and person.name.strip()):
            # The organiser often comes without a name that the same person's attendee line has.
            people[address] = Person(email=clean(person.email, 254), name=clean(person.name, 80))
    return list(people.values())


# Mailboxes of a team or a machine, in the eight languages: written to, never greeted as a person.
_MAILBOX_WORDS = frozenset(
    {
        "hr",
        "talent",
        "talents",
        "recruiting",
        "recruiter",
        "recruiters",
        "recruitment",
        "recruit",
        "jobs",
        "job",
        "careers",
        "career",
        "people",
        "hiring",
        "noreply",
        "donotreply",
        "reply",
        "notifications",
        "notification",
        "calendar",
        "scheduling",
        "scheduler",
        "interviews",
        "interview",
        "team",
        "info",
        "contact",
        "hello",
        "office",
        "admin",
        "support",
        "staffing",
        "ta",
        "talentacquisition",
        "acquisition",
        "sourcing",
        "humanresources",
        "personal",
        "personalabteilung",
        "bewerbung",
        "bewerbungen",
        "karriere",
        "rh",
        "rrhh",
        "recrutement",
        "emploi",
        "carrieres",
        "empleo",
        "seleccion",
        "reclutamiento",
        "vagas",
        "recrutamento",
        "selecao",
        "talentos",
        "selezione",
        "lavoro",
        "carriere",
        "werving",
        "werkenbij",
        "vacatures",
        "sollicitatie",
        "rekrutacja",
        "kariera",
        "praca",
        "kadry",
        "invites",
        "events",
        "mailer",
        "postmaster",
        "system",
    }
)
_NAME_PART = re.compile(r"[^\W\d_]{2,}")


def _local_words(person: Person) -> list[str]:
    local = person.address.partition("@")[0]
    return [word for word in re.split(r"[._+\-]", local) if word]


def is_role_mailbox(person: Person) -> bool:
    """A team's or a machine's address (talent@, recruiting@, no-reply@, "Acme Talent Team"): it is
    written to, but never addressed as a person."""
    words = _local_words(person)
    if any(word in _MAILBOX_WORDS for word in words) or "".join(words) in _MAILBOX_WORDS:
        return True
    # "Acme Talent Team", "Recruiting" -- but "Jane Doe (Recruiter)" is Jane.
    name = re.sub(r"\([^)]*\)", " ", person.name.casefold())
    return any(word in _MAILBOX_WORDS for word in re.split(r"[\s,|\-–]+", name) if word)


def display_name(person: Person) -> str:
    """The name a person would write: the invitation's (CN), else "First Last" from first.last@;
    "" for a role mailbox and for a bare local part ("jsmith@"), which is never shown as a name."""
    if is_role_mailbox(person):
        return ""
    name = clean(person.name, 80)
    local = person.address.partition("@")[0]
    if name and "@" not in name and not (name.casefold() == local.casefold() and name.islower()):
        return name
    words = re.split(r"[._\-]", local)
    if 2 <= len(words) <= 3 and all(_NAME_PART.fullmatch(word) for word in words):
        return clean(" ".join(word[:1].upper() + word[1:].lower() for word in words), 80)
    return ""


def first_name(person: Person) -> str:
    """What the user calls them: the first word of their name; "" when there is no name to call them."""
    name = display_name(person)
    return clean(name.split()[0], 16) if name else ""


def _squash(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.casefold())


def _domain_label(domain: str) -> str:
    """The name part of a domain: "jobs.acme.co.uk" -> "acme", "globex.example" -> "globex"."""
    labels = domain.split(".")[:-1]
    if len(labels) > 1 and labels[-1] in _SECOND_LEVEL:
        labels = labels[:-1]
    return labels[-1] if labels else ""


def _title_candidates(event: Event, people: Sequence[Person]) -> list[tuple[str, bool]]:
    """Parts of the title that could be a company: not the kind of call, a role, or a person's name.

    Each comes with whether a separator that usually sets off a company ("-", "|", ":", "@", "at",
    brackets) stands next to it; "with" and "from" more often introduce a person.
    """
    names = {_squash(p.name) for p in people if p.name} | {_squash(first_name(p)) for p in people}
    pieces = _TITLE_SEPARATORS.split(clean(event.summary, 200))
    keywords = [re.compile(rf"(?<!\w){re.escape(k)}s?(?!\w)", re.IGNORECASE) for k in DEFAULT_KEYWORDS]
    candidates = []
    for index in range(0, len(pieces), 2):
        part = clean(pieces[index].strip(" -–—|:,."))
        if not re.search(r"[^\W\d_]", part) or _squash(part) in names:
            continue
        if any(k.search(part) for k in keywords) or _ROLE_WORDS.search(part):
            continue
        if not _FILLER_WORDS.sub("", part).strip(" -&/+"):
            continue
        beside = [pieces[i].strip().casefold() for i in (index - 1, index + 1) if 0 < i < len(pieces)]
        candidates.append((part, any(sep not in _WEAK_SEPARATORS for sep in beside)))
    return candidates


def company(event: Event, me: Sequence[str]) -> str:
    """The employer an interview is with, as the user would name it; "" when nothing tells.

    A part of the title that matches the organiser's (or an attendee's) e-mail domain wins ("Acme Corp"
    for acme.example); else the domain itself ("Globex"); without a domain, the one title part set off
    from the kind of call ("Phone screen - Acme Corp"). Free-mail and scheduling-service domains name no
    one.
    """
    people = interviewers(event, me)
    candidates = _title_candidates(event, people)
    domain = organisation(event, me)
    if domain and not domain.endswith(_SERVICE_DOMAINS):
        label = _domain_label(domain)
        squashed = _squash(label)
        for part, _strong in candidates:
            if squashed and (_squash(part).startswith(squashed) or squashed.startswith(_squash(part))):
                return clean(part, 30)
        if label:
            return clean(" ".join(w[:1].upper() + w[1:] for w in label.split("-")), 30)
    strong = [part for part, is_strong in candidates if is_strong]
    return clean(strong[0], 30) if len(strong) == 1 else ""


# What to call the interview in a summary, by the first of these phrases its title holds.
_CALL_KINDS = (
    ("phone screen", "phone screen"),
    ("screening call", "screening call"),
    ("recruiter call", "recruiter call"),
    ("technical screen", "tech screen"),
    ("tech screen", "tech screen"),
    ("hiring manager", "hiring manager call"),
    ("final round", "final round"),
    ("onsite", "onsite"),
    ("on-site", "onsite"),
)


def call_kind(event: Event) -> str:
    """ "phone screen", "final round", "onsite", ... from the title; "interview" when it says no more."""
    title = clean(event.summary, 200)
    for phrase, name in _CALL_KINDS:
        body = r"[\s-]+".join(re.escape(word) for word in re.split(r"[\s-]+", phrase))
        if re.search(rf"(?<!\w){body}(?!\w)", title, re.IGNORECASE):
            return name
    return "interview"


def team_text(company_name: str) -> str:
    return f"the {company_name} team" if company_name else "the team"


def names_text(people: Sequence[Person], limit: int, company_name: str = "") -> str:
    """ "Jane", "Jane & Raj", "Jane, Raj & Mei", or "Jane, Raj & 2 more" when the names do not fit.

    People without a name (role mailboxes, bare addresses) are "the Acme team", named once, last.
    """
    names = list(dict.fromkeys(name for p in people if (name := first_name(p))))
    if len(names) < len(people):
        team = team_text(company_name)
        if not names or len(f"{' & '.join(names)} & {team}") <= limit or len(names) == 1:
            names.append(team)
    if len(names) <= 2:
        text = " & ".join(names)
        return text if len(text) <= limit or len(names) == 1 else f"{names[0]} & 1 more"
    full = ", ".join(names[:-1]) + f" & {names[-1]}"
    if len(full) <= limit:
        return full
    return f"{names[0]}, {names[1]} & {len(names) - 2} more"


def _fit(candidates: Sequence[str], limit: int = SUMMARY_LIMIT) -> str:
    """The first candidate that fits, else the last one cut with an ellipsis."""
    for candidate in candidates:
        if len(candidate) <= limit:
            return candidate
    return clean(candidates[-1], limit)


def when_text(moment: date | datetime, tz: ZoneInfo) -> str:
    if isinstance(moment, datetime):
        local = moment.astimezone(tz)
        return f"{local:%a %d %b %Y, %H:%M}"
    return f"{moment:%a %d %b %Y}"


def summary(
    kind: Kind, event: Event, me: Sequence[str], decision_stated: bool = False, earlier: Sequence[Event] = ()
) -> str:
    """The reminder's title, under :data:`SUMMARY_LIMIT` characters: who to thank or check in with,
    and for which interview. ``decision_stated``: the check-in falls on a date the interviewer named.
    ``earlier``: the earlier sessions of its interview day, whose interviewers are thanked too."""
    employer = company(event, me)
    title = clean(event.summary, SUMMARY_TITLE_LIMIT) or "interview"
    people = interviewers(event, me, earlier)
    if kind is Kind.CHECK_IN:
        tail = "decision due" if decision_stated else "any news?"
        if employer:
            return _fit([f"Check in with {employer} — {tail}", f"Check in with {employer}"])
        named = [name for p in people if (name := first_name(p))]
        if named:
            return _fit([f"Check in with {named[0]} — {title}", f"Check in — {title}"])
        return _fit([f"Check in — {title}"])
    if not people:
        about = f"{employer} {call_kind(event)}" if employer else title
        return _fit([f"Send thank-you notes — {about}", f"Thank-you notes — {about}"])
    names = names_text(people, 24, employer)
    if employer:
        return _fit(
            [
                f"Thank {names} — {employer} {call_kind(event)}",
                f"Thank {names} — {employer}",
                f"Thank {names_text(people, 12, employer)} — {employer}",
            ]
        )
    return _fit([f"Thank {names} — {title}", f"Thank {names_text(people, 12)} — {title}"])


def mail_subject(kind: Kind) -> str:
    """The e-mail's subject. Not the calendar title: that is the user's own wording and may hold notes."""
    return "Thank you for the interview" if kind is Kind.THANK_YOU else "Following up on my interview"


def first_mailto(kind: Kind, event: Event, me: Sequence[str], earlier: Sequence[Event] = ()) -> str:
    """The reminder's URL: a one-tap e-mail to the first interviewer, or "" when there is none."""
    people = interviewers(event, me, earlier)
    return mailto(people[0], mail_subject(kind)) if people else ""


def mailto(person: Person, subject: str) -> str:
    """A ``mailto:`` link with the subject filled in and the greeting as the body's first line."""
    name = first_name(person)
    body = f"Hi {name},\n\n" if name else "Hello,\n\n"
    address = quote(person.email, safe="@")
    return f"mailto:{address}?subject={quote(subject, safe='')}&body={quote(body, safe='')}"


MAX_PEOPLE_LINES = 25  # an all-hands invitation with 10,000 guests must not make a megabyte reminder


def _people_lines(people: list[Person], subject: str) -> list[str]:
    lines = []
    for person in people[:MAX_PEOPLE_LINES]:
        label = display_name(person) or person.email
        lines.append(f"{CHECKBOX} {label}: {mailto(person, subject)}")
    if len(people) > MAX_PEOPLE_LINES:
        lines.append(f"   and {len(people) - MAX_PEOPLE_LINES} more: see the interview's guest list")
    return lines


def _day_text(sessions: Sequence[Event], tz: ZoneInfo) -> str:
    """ "the 3 sessions of Mon 07 Dec 2026 (Session 1; Session 2; Session 3)" for an interview day."""
    start = sessions[-1].start
    day = start.astimezone(tz).date() if isinstance(start, datetime) else start
    titles = clean("; ".join(clean(s.summary, 60) or "interview" for s in sessions), 240)
    return f"the {len(sessions)} sessions of {day:%a %d %b %Y} ({titles})"


def description(
    kind: Kind,
    event: Event,
    me: Sequence[str],
    tz: ZoneInfo,
    check_in_reason: str = "",
    earlier: Sequence[Event] = (),
) -> str:
    """The reminder's notes: a checklist to work through, with one tap per interviewer to write to them.
    ``earlier``: the earlier sessions of its interview day, whose interviewers are listed too."""
    title = clean(event.summary, 120) or "your interview"
    when = when_text(event.start, tz)
    people = interviewers(event, me, earlier)
    subject = mail_subject(kind)
    about = _day_text((*earlier, event), tz) if earlier else f"{title} ({when})"
    if kind is Kind.THANK_YOU:
        lines = [
            f"Thank-you notes for {about}. Send them within 24 hours:",
            *(
                _people_lines(people, subject)
                or [f"{CHECKBOX} Each interviewer (add their addresses to the event)"]
            ),
            f"{CHECKBOX} Mention anything you forgot to say, and restate your interest in the role.",
            f"{CHECKBOX} Did they say when they decide? Add a line to the interview's notes,",
            "   e.g. decision: 2026-12-12  or  decision: in 2 weeks  (the check-in moves there).",
            "",
            f"Heard back already? Add {OUTCOME_HINT} to the interview's notes.",
        ]
    else:
        lines = [
            f"Check in about {title} ({when}).",
            *([f"Why today: {clean(check_in_reason, 160)}."] if check_in_reason else []),
            f"{CHECKBOX} Write a short, friendly note: thank them again, ask about the timeline.",
            f"{CHECKBOX} Restate your interest. Silence is usually their process, not you.",
            *_people_lines(people, subject),
            "",
            f"Heard back? Add {OUTCOME_HINT} to the interview's notes.",
        ]
    lines.append(
        "Edit or move this reminder and followup-cal leaves it alone; delete it and it stays deleted."
    )
    return "\n".join(lines)


def alarm_text(kind: Kind, event: Event, me: Sequence[str] = ()) -> str:
    """What the alarm's notification says: the task, in a few words."""
    about = company(event, me) or clean(event.summary, SUMMARY_TITLE_LIMIT) or "your interview"
    if kind is Kind.THANK_YOU:
        return _fit([f"Thank-you notes due — {about}"])
    return _fit([f"Time to check in — {about}"])
