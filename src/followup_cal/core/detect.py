"""Which events are interviews, why, how they ended, and which organisation they are with.

Pure functions of an :class:`~followup_cal.core.model.Event` and the settings (DESIGN.md "Which events are
interviews"). Negative signals are checked first and always win over positive ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from followup_cal.core.model import INTERVIEW_CATEGORY, Event, Status
from followup_cal.core.settings import Settings

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
    }
)
FREE_MAIL_PREFIXES = ("yahoo.", "ymail.", "gmx.")
# Calendars and rooms rather than people: Google's group and resource calendars.
NON_PERSON_DOMAIN_SUFFIXES = ("calendar.google.com",)
NON_PERSON_CUTYPES = frozenset({"ROOM", "RESOURCE"})


@dataclass(frozen=True)
class Detection:
    is_interview: bool
    reason: str  # human-readable, shown by `sync --dry-run` and `status`


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


def detect(event: Event, settings: Settings) -> Detection:
    """Whether ``event`` is an interview, with the reason. The first matching rule gives the reason."""
    if event.reminder is not None:
        return Detection(False, "a followup-cal reminder")
    for tag in OPT_OUT_TAGS:
        if has_tag(event.notes, tag):
            return Detection(False, f"excluded: {tag} in notes")
    if event.status.upper() == Status.CANCELLED:
        return Detection(False, "cancelled")
    if _declined_by_me(event, settings.me):
        return Detection(False, "declined by you")
    excluded = _first_phrase(event.summary, (*DEFAULT_EXCLUDE, *settings.detect.exclude))
    if excluded is not None:
        return Detection(False, f'excluded: "{excluded}"')

    keyword = _first_phrase(event.summary, (*DEFAULT_KEYWORDS, *settings.detect.extra_keywords))
    if keyword is not None:
        return Detection(True, f'title says "{keyword}"')
    if has_tag(event.notes, INTERVIEW_TAG):
        return Detection(True, f"{INTERVIEW_TAG} in notes")
    if event.tagged:
        return Detection(True, f"category {INTERVIEW_CATEGORY}")
    return Detection(False, "no interview keyword")


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
