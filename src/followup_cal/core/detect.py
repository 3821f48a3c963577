"""Which events are interviews, why, how they ended, and which organisation they are with.

Pure functions of an :class:`~followup_cal.core.model.Event` and the settings (DESIGN.md "Which events are
interviews"). Negative signals are checked first and always win over positive ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from followup_cal.core.evidence import (
    COMPANY,
    RECRUITER,
    THRESHOLD,
    Findings,
    cancelled_prefix,
    is_service,
    link_findings,
    notes_findings,
    recruiting_person,
    title_findings,
)
from followup_cal.core.model import INTERVIEW_CATEGORY, Attendee, Event, Status, end_of
from followup_cal.core.settings import Settings
from followup_cal.core.vocabulary import Vocabulary, vocabulary

DEFAULT_KEYWORDS = (
    "interview",
    "phone screen",
    "screening call",
    "recruiter call",
    "technical screen",
    "tech screen",
    "hiring manager",
    "onsite",
    "on-site",
    "final round",
    "panel interview",
)

# Matched in the title only: the notes of a real interview often say "interview prep: read the job ad".
DEFAULT_EXCLUDE = (
    "mock interview",
    "practice interview",
    "interview prep",
    "interview preparation",
    "interview practice",
    "interview coaching",
    "prep for interview",
    "preparation for interview",
    "practice for interview",
)

INTERVIEW_TAG = "#interview"
OPT_OUT_TAGS = ("#not-interview", "#no-followup")
OUTCOME_TAGS = ("#offer", "#rejected", "#withdrawn", "#heard-back")

# Domains that say nothing about an employer. Entries ending in "." match any top-level domain (yahoo.de).
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "outlook.de",
        "hotmail.com",
        "hotmail.co.uk",
        "hotmail.de",
        "hotmail.fr",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "proton.me",
        "protonmail.com",
        "protonmail.ch",
        "pm.me",
        "web.de",
        "aol.com",
        "fastmail.com",
        "fastmail.fm",
        "zoho.com",
        "mail.com",
        "yandex.com",
        "yandex.ru",
        "t-online.de",
        "freenet.de",
        "posteo.de",
        "mailbox.org",
        "tutanota.com",
        "tuta.io",
        "hey.com",
        "qq.com",
        "163.com",
        # Regional providers of the eight languages' countries.
        "orange.fr",
        "wanadoo.fr",
        "free.fr",
        "sfr.fr",
        "neuf.fr",
        "laposte.net",
        "arcor.de",
        "online.de",
        "telefonica.net",
        "terra.com.br",
        "uol.com.br",
        "bol.com.br",
        "ig.com.br",
        "sapo.pt",
        "libero.it",
        "virgilio.it",
        "alice.it",
        "tiscali.it",
        "tin.it",
        "ziggo.nl",
        "kpnmail.nl",
        "xs4all.nl",
        "planet.nl",
        "home.nl",
        "hetnet.nl",
        "telenet.be",
        "skynet.be",
        "wp.pl",
        "o2.pl",
        "interia.pl",
        "onet.pl",
        "op.pl",
        "gazeta.pl",
        "tlen.pl",
    }
)
FREE_MAIL_PREFIXES = ("yahoo.", "ymail.", "gmx.", "hotmail.", "outlook.", "live.")
# Calendars and rooms rather than people: Google's group and resource calendars.
NON_PERSON_DOMAIN_SUFFIXES = ("calendar.google.com",)
NON_PERSON_CUTYPES = frozenset({"ROOM", "RESOURCE"})


@dataclass(frozen=True)
class Detection:
    is_interview: bool
    reason: str  # human-readable, shown by `sync --dry-run` and `status`: what decided
    # All the evidence weighed, for `status`: what speaks for, and what against.
    evidence_for: tuple[str, ...] = field(default=(), compare=False)
    evidence_against: tuple[str, ...] = field(default=(), compare=False)


@lru_cache(maxsize=256)
def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    """A phrase matched case-insensitively on word boundaries, with an optional plural ``s``.

    Spaces and hyphens inside the phrase match any run of spaces or hyphens ("phone-screen").
    """
    words = [re.escape(word) for word in re.split(r"[\s\-]+", phrase.strip()) if word]
    body = r"[\s\-]+".join(words)
    return re.compile(rf"(?<!\w){body}s?(?!\w)", re.IGNORECASE)


@lru_cache(maxsize=64)
def _tag_pattern(tag: str) -> re.Pattern[str]:
    """A hashtag as a whole tag: ``#interview`` does not match ``#interviewing`` or ``#interview-prep``."""
    return re.compile(rf"(?<![\w#-]){re.escape(tag)}(?![\w-])", re.IGNORECASE)


def _first_phrase(text: str, phrases: Iterable[str]) -> str | None:
    for phrase in phrases:
        if phrase.strip() and _phrase_pattern(phrase).search(text):
            return phrase.strip()
    return None


def has_tag(text: str, tag: str) -> bool:
    """True when ``text`` contains the hashtag ``tag`` (with its ``#``) as a whole tag."""
    return _tag_pattern(tag).search(text) is not None


def _email(address: str) -> str:
    address = address.strip().casefold()
    return address.removeprefix("mailto:")


def _declined_by_me(event: Event, me: Sequence[str]) -> bool:
    return any(a.is_user(me) and a.partstat.upper() == "DECLINED" for a in event.attendees)


def my_domains(settings: Settings) -> frozenset[str]:
    """The user's employer's domains: ``[detect] my_domains``, else those of the non-free-mail ``me``."""
    if settings.detect.my_domains is not None:
        return frozenset(domain.casefold().strip(".") for domain in settings.detect.my_domains)
    domains = (_domain(address) for address in settings.me)
    return frozenset(
        d for d in domains if d and not is_free_mail(d) and not d.endswith(NON_PERSON_DOMAIN_SUFFIXES)
    )


def _at(domain: str | None, domains: frozenset[str]) -> bool:
    return domain is not None and any(domain == d or domain.endswith("." + d) for d in domains)


def _strong_negative(event: Event, settings: Settings) -> str | None:
    """The first of the signals that say "not an interview" whatever else the event says."""
    if event.reminder is not None:
        return "a followup-cal reminder"
    for tag in OPT_OUT_TAGS:
        if has_tag(event.notes, tag):
            return f"excluded: {tag} in notes"
    if event.status.upper() == Status.CANCELLED:
        return "cancelled"
    if _declined_by_me(event, settings.me):
        return "declined by you"
    excluded = _first_phrase(event.summary, (*DEFAULT_EXCLUDE, *settings.detect.exclude))
    if excluded is not None:
        return f'excluded: "{excluded}"'
    return None


def _people_findings(
    event: Event, settings: Settings, vocab: Vocabulary, findings: Findings, *, supporting: bool
) -> None:
    """Recruiters, the company and the user's own employer among the organiser and the attendees."""
    mine = my_domains(settings)
    people = [p for p in (event.organizer, *event.attendees) if p is not None and p.email.strip()]
    others = [
        p
        for p in people
        if not p.is_user(settings.me)
        and not (isinstance(p, Attendee) and p.cutype.upper() in NON_PERSON_CUTYPES)
    ]
    colleagues = [p for p in others if _at(_domain(p.email), mine)]
    companies = []
    for person in others:
        domain = _organisation_domain(person.email)
        if domain is None or _at(domain, mine) or is_service(domain):
            continue
        companies.append(domain)
        recruiter = recruiting_person(person, vocab)
        if recruiter is not None and supporting:
            findings.add(RECRUITER, f"{_email(person.email)} is a recruiting contact")
    if companies and supporting:
        findings.add(COMPANY, f"with {companies[0]}, not your employer")
    organizer = event.organizer
    organised_by_colleague = organizer is not None and organizer in colleagues
    if colleagues and (organised_by_colleague or not companies):
        domain = _domain(colleagues[0].email) or ""
        findings.giving.append(f"{_email(colleagues[0].email)} works at your employer ({domain})")
    elif organizer is not None and organizer.is_user(settings.me) and others:
        domain = _domain(organizer.email)
        if _at(domain, mine):
            # A job seeker is invited to interviews; one the user sends from work is work.
            findings.giving.append(f"you invited the others from your work address ({domain})")


def _decide(event: Event, settings: Settings) -> Detection:
    vocab = vocabulary()
    findings = Findings()
    prefix = cancelled_prefix(event.summary, vocab)
    title_findings(event.summary, vocab, findings, settings.detect.extra_keywords)
    notes_findings(event.notes, vocab, findings)
    link_findings(event, findings)
    # Who sent it supports what the event says; alone ("Lunch with Sam" from hr@) it decides nothing.
    _people_findings(event, settings, vocab, findings, supporting=findings.score > 0)
    if findings.title_role and findings.score > 0:
        findings.add(findings.title_role, "title names a role")
    score = findings.score
    for_ = tuple(item.text for item in sorted(findings.evidence, key=lambda e: -e.weight) if item.weight > 0)
    against = tuple(item.text for item in findings.evidence if item.weight < 0)
    if prefix is not None:
        return Detection(False, f'cancelled: title starts "{prefix}"', for_, (*against, "cancelled"))
    if findings.vetoes:
        return Detection(False, findings.vetoes[0], for_, (*against, *findings.vetoes))
    if score >= THRESHOLD and findings.giving:
        reason = f"an interview you give: {findings.giving[0]}"
        return Detection(False, reason, for_, (*against, *findings.giving))
    if score >= THRESHOLD:
        return Detection(True, "; ".join(for_[:3]), for_, against)
    if not for_:
        return Detection(False, "no interview keyword", for_, (*against, *findings.giving))
    return Detection(False, f"too little evidence ({'; '.join(for_)})", for_, (*against, *findings.giving))


def detect(event: Event, settings: Settings) -> Detection:
    """Whether ``event`` is one of the user's job interviews, with the reason that decided.

    The user's signals decide first: reminders of its own, ``#not-interview``/``#no-followup``,
    cancellation, declining and ``[detect] exclude`` against; ``#interview`` and the Interview category
    for. Then the evidence of title, notes, links and people is weighed (see ``evidence``).
    """
    negative = _strong_negative(event, settings)
    if negative is not None:
        return Detection(False, negative, (), (negative,))
    if has_tag(event.notes, INTERVIEW_TAG):
        return Detection(True, f"{INTERVIEW_TAG} in notes", (f"{INTERVIEW_TAG} in notes",))
    decided = _decide(event, settings)
    if event.tagged:
        # The user's category decides. (Once tagged, followup-cal's own tag looks the same: an event it
        # tagged stays an interview until the user removes the category or opts out.)
        reason = f"category {INTERVIEW_CATEGORY}"
        return Detection(True, reason, (reason, *decided.evidence_for), decided.evidence_against)
    return decided


LOOP_GAP = timedelta(minutes=90)  # sessions of one interview day follow each other with short breaks


def _span(event: Event) -> tuple[datetime, datetime] | None:
    if not isinstance(event.start, datetime):
        return None
    end = end_of(event)
    return event.start, end if isinstance(end, datetime) else event.start


def detect_all(events: Sequence[Event], settings: Settings) -> list[Detection]:
    """:func:`detect` for each event, then a loop of sessions is one interview day: an event with some
    evidence for and none against, with the same organisation as an interview, on the same day and at
    most :data:`LOOP_GAP` before or after it (or after another session of the chain), is an interview
    too."""
    found = [detect(event, settings) for event in events]
    mine = my_domains(settings)
    orgs = [organisation(event, settings.me) for event in events]
    spans = [_span(event) for event in events]

    def usable(index: int) -> bool:
        org = orgs[index]
        return org is not None and spans[index] is not None and not _at(org, mine) and not is_service(org)

    changed = True
    while changed:
        changed = False
        for index, detection in enumerate(found):
            if detection.is_interview or detection.evidence_against or not usable(index):
                continue
            if not detection.evidence_for:
                continue  # "Lunch with Sam" next to a phone screen says nothing of itself
            start, end = spans[index]  # type: ignore[misc]
            local_day = start.astimezone(settings.timezone).date()
            for other, other_detection in enumerate(found):
                if other == index or not other_detection.is_interview or orgs[other] != orgs[index]:
                    continue
                span = spans[other]
                if span is None or span[0].astimezone(settings.timezone).date() != local_day:
                    continue
                if span[0] - end <= LOOP_GAP and start - span[1] <= LOOP_GAP:
                    title = events[other].summary.strip() or "an interview"
                    reason = f'one interview day with {orgs[index]}: next to "{title}"'
                    found[index] = Detection(
                        True, reason, (reason, *detection.evidence_for), detection.evidence_against
                    )
                    changed = True
                    break
    return found


def outcome(event: Event) -> str | None:
    """The outcome tag of an interview, with its ``#`` (one of :data:`OUTCOME_TAGS`), else ``None``.

    Found in the notes as a hashtag, or as a category spelled with or without ``#`` ("#offer", "Offer").
    When the notes hold several, the one written first wins.
    """
    found = [
        (match.start(), tag)
        for tag in OUTCOME_TAGS
        if (match := _tag_pattern(tag).search(event.notes)) is not None
    ]
    if found:
        return min(found)[1]
    categories = {category.strip().casefold().lstrip("#") for category in event.categories}
    for tag in OUTCOME_TAGS:
        if tag.lstrip("#") in categories:
            return tag
    return None


def _domain(address: str) -> str | None:
    email = _email(address)
    _, at, domain = email.rpartition("@")
    domain = domain.strip().rstrip(".")
    return domain if at and domain else None


def is_free_mail(domain: str) -> bool:
    return domain in FREE_MAIL_DOMAINS or domain.startswith(FREE_MAIL_PREFIXES)


def _organisation_domain(address: str) -> str | None:
    domain = _domain(address)
    if domain is None or is_free_mail(domain) or domain.endswith(NON_PERSON_DOMAIN_SUFFIXES):
        return None
    return domain


def organisation(event: Event, me: Sequence[str]) -> str | None:
    """The organisation an interview is with: its organiser's e-mail domain, lower case.

    ``None`` for free-mail domains and when nothing tells. When the organiser is the user (one of ``me``)
    or absent, the first attendee that is neither the user nor a room and has an organisation domain
    decides (free-mail attendees are skipped, not taken as "no organisation").
    """
    organizer = event.organizer
    if organizer is not None and organizer.email.strip() and not organizer.is_user(me):
        return _organisation_domain(organizer.email)
    for attendee in event.attendees:
        if attendee.is_user(me) or attendee.cutype.upper() in NON_PERSON_CUTYPES:
            continue
        domain = _organisation_domain(attendee.email)
        if domain is not None:
            return domain
    return None
