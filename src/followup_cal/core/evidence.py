"""The evidence an event carries for and against being one of the user's job interviews.

Read from the title, the notes, the location and the links in them (scheduling platforms), and the
people (recruiting mailboxes, the company, the user's own employer). Words come from
:mod:`followup_cal.core.vocabulary`; what each kind of evidence weighs is decided here, by structure.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from followup_cal.core.model import Event, Person
from followup_cal.core.vocabulary import Hit, Vocabulary, fold, fold_keep

THRESHOLD = 3  # the weight at which the evidence makes an interview
TITLE_WEIGHTS = {"interview": 3, "rounds": 3, "weak": 2}
NOTES_INTERVIEW = 2
NOTES_APPLICATION = 1
NOTES_AGAINST = -3
ROLE = 1
SESSION = 2
BOOKING = 1
PLATFORM = 3
RECRUITER = 2
COMPANY = 1

# Applicant-tracking, interview-scheduling and coding-interview services: an invitation through them is
# about hiring. Matched as the end of a domain in an address or a link.
HIRING_PLATFORMS = {
    "greenhouse.io": "Greenhouse",
    "lever.co": "Lever",
    "ashbyhq.com": "Ashby",
    "ashby.io": "Ashby",
    "goodtime.io": "GoodTime",
    "modernloop.io": "ModernLoop",
    "hirevue.com": "HireVue",
    "myworkday.com": "Workday",
    "myworkdayjobs.com": "Workday",
    "smartrecruiters.com": "SmartRecruiters",
    "icims.com": "iCIMS",
    "jobvite.com": "Jobvite",
    "workable.com": "Workable",
    "teamtailor.com": "Teamtailor",
    "recruitee.com": "Recruitee",
    "bamboohr.com": "BambooHR",
    "breezy.hr": "Breezy HR",
    "jazzhr.com": "JazzHR",
    "applytojob.com": "JazzHR",
    "paradox.ai": "Paradox",
    "taleo.net": "Taleo",
    "personio.de": "Personio",
    "personio.com": "Personio",
    "softgarden.io": "softgarden",
    "join.com": "JOIN",
    "comeet.co": "Comeet",
    "homerun.co": "Homerun",
    "pinpointhq.com": "Pinpoint",
    "coderpad.io": "CoderPad",
    "hackerrank.com": "HackerRank",
    "codesignal.com": "CodeSignal",
    "codility.com": "Codility",
    "karat.io": "Karat",
    "karat.com": "Karat",
    "hackerearth.com": "HackerEarth",
    "testgorilla.com": "TestGorilla",
    "brighthire.ai": "BrightHire",
    "metaview.ai": "Metaview",
    "erecruiter.pl": "eRecruiter",
}
# Booking pages: used for hiring among much else.
BOOKING_PLATFORMS = {
    "calendly.com": "Calendly",
    "cal.com": "Cal.com",
    "savvycal.com": "SavvyCal",
    "zcal.co": "zcal",
    "tidycal.com": "TidyCal",
    "youcanbook.me": "YouCanBookMe",
    "meetings.hubspot.com": "HubSpot Meetings",
    "chilipiper.com": "Chili Piper",
}
_DOMAIN_IN_TEXT = re.compile(r"(?<![\w.-])(?:[a-z0-9-]+\.)+[a-z]{2,}(?![\w-])")
_SEPARATORS = re.compile(r"\s[-–—]\s|[–—|@()\[\]·•]|:(?!\d)|,\s|\s/\s")


@dataclass(frozen=True)
class Evidence:
    weight: int  # > 0 for, < 0 against
    text: str


@dataclass
class Findings:
    """What one event says, before the deciding: weighed evidence and the reasons that veto."""

    evidence: list[Evidence] = field(default_factory=list)
    vetoes: list[str] = field(default_factory=list)
    giving: list[str] = field(default_factory=list)  # signs the user gives the interview
    title_role: int = 0  # the title names a role: counts once something else speaks for an interview

    @property
    def score(self) -> int:
        return sum(item.weight for item in self.evidence)

    def add(self, weight: int, text: str) -> None:
        if all(item.text != text for item in self.evidence):
            self.evidence.append(Evidence(weight, text))


def _adjacent(hit: Hit, others: Sequence[Hit], folded: str) -> Hit | None:
    """The hit of ``others`` right before or right after ``hit``, or with at most two short words
    between ("entretien du jardin", "screen of the phone"), if any."""
    for other in others:
        if other.start >= hit.end:
            between = folded[hit.end : other.start].split()
        elif other.end <= hit.start:
            between = folded[other.end : hit.start].split()
        else:
            continue
        if len(between) <= 2 and all(len(word) <= 3 for word in between):
            return other
    return None


def _overlaps(a: Hit, b: Hit) -> bool:
    return a.start < b.end and b.start < a.end


def title_findings(title: str, vocab: Vocabulary, findings: Findings, extra_keywords: Sequence[str]) -> None:
    """Evidence from the title, segment by segment ("Phone screen – Acme | Backend Engineer")."""
    keep = fold_keep(title)
    everywhere = vocab.words["unrelated"].hits(fold(title))
    best: tuple[int, str] | None = None
    roles = 0
    recruiters: list[str] = []
    applications: list[str] = []
    for segment in (fold(part) for part in _SEPARATORS.split(keep)):
        if not segment:
            continue
        role_hits = vocab.words["roles"].hits(segment)
        unrelated = vocab.words["unrelated"].hits(segment)
        positives: list[tuple[int, Hit]] = []
        for name, weight in TITLE_WEIGHTS.items():
            positives.extend((weight, hit) for hit in vocab.words[name].hits(segment))
        for weight, hit in positives:
            context = _adjacent(hit, unrelated, segment)
            if context is None and weight < THRESHOLD and everywhere:
                # A weak word needs support: an unrelated word anywhere in the title cancels it.
                context = everywhere[0]
            if context is not None:
                if context in everywhere and context not in unrelated:
                    findings.add(-weight, f'"{hit.shown}" next to an unrelated word ("{context.shown}")')
                    continue
                start, end = min(hit.start, context.start), max(hit.end, context.end)
                findings.add(-weight, f'"{hit.shown}" in an unrelated phrase ("{segment[start:end]}")')
                continue
            if best is None or weight > best[0]:
                best = (weight, hit.shown)
        for name, matcher in vocab.against.items():
            for hit in matcher.hits(segment):
                if any(_overlaps(hit, p) and p.length > hit.length for _, p in positives):
                    continue  # "take-home debrief" is a round, not a debrief
                if any(role.start == hit.end + 1 for role in role_hits):
                    continue  # "Training Manager" is a job title
                label = name.replace("_", " ")
                findings.vetoes.append(f'{label}, not a job interview: title says "{hit.shown}"')
                if name == "giving":
                    findings.giving.append(f'title says "{hit.shown}"')
        named = [
            hit
            for hit in vocab.words["recruiting"].hits(segment)
            if not any(_overlaps(hit, p) for _, p in positives)
        ]
        recruiters += [hit.shown for hit in named]
        applications += [
            hit.shown
            for hit in vocab.words["application"].hits(segment)
            if not any(_overlaps(hit, p) for _, p in positives)
        ]
        taken = [p for _, p in positives] + named  # "recruiter" is a recruiter here, not also a role
        if any(not any(_overlaps(role, p) for p in taken) for role in role_hits):
            roles = ROLE
    if recruiters and not findings.vetoes:
        findings.add(RECRUITER, f'title names a recruiter ("{recruiters[0]}")')
    if applications and not findings.vetoes:
        findings.add(RECRUITER, f'title says "{applications[0]}"')
    job = _named_job(fold(title), vocab)
    if job is not None:
        findings.add(ROLE, f'title names a job ("{job}")')
        roles = 0
    for keyword in extra_keywords:
        words = fold(keyword)
        if words and re.search(rf"(?<!\w){re.escape(words)}s?(?!\w)", fold(title)):
            best = (3, keyword.strip())
            break
    if best is not None:
        findings.add(best[0], f'title says "{best[1]}"')
    if vocab.numbered_round is not None and (found := vocab.numbered_round.search(keep)):
        findings.add(3, f'title names a round ("{found.group(0).strip()}")')
    if vocab.session is not None and (found := vocab.session.search(keep)):
        findings.add(SESSION, f'one session of a loop ("{found.group(0).strip()}")')
    findings.title_role = roles
    if vocab.between is not None and vocab.between.search(fold(title)):
        findings.add(BOOKING, 'a booking page\'s title ("… between … and …")')


def cancelled_prefix(title: str, vocab: Vocabulary) -> str | None:
    """The cancelled-title prefix ("Canceled:", "Abgesagt:", "Annulé :") the title starts with, if any."""
    if vocab.cancelled_prefix is None:
        return None
    found = vocab.cancelled_prefix.search(fold_keep(title))
    return title[: found.end()].strip() if found else None


def notes_findings(notes: str, vocab: Vocabulary, findings: Findings) -> None:
    """Evidence from the notes: interview and application words for; research, media, exit against;
    notes written for an interviewer (scorecards, interview kits) veto."""
    folded = fold(notes[:20000])
    if not folded:
        return
    hit = vocab.words["interview"].first(folded) or vocab.words["rounds"].first(folded)
    if hit is not None:
        findings.add(NOTES_INTERVIEW, f'notes say "{hit.shown}"')
    hit = vocab.words["application"].first(folded)
    if hit is not None:
        findings.add(NOTES_APPLICATION, f'notes say "{hit.shown}"')
    else:
        job = _named_job(folded, vocab)
        if job is not None:
            findings.add(NOTES_APPLICATION, f'notes name a job ("{job}")')
    for name in ("research", "media", "exit"):
        matcher = vocab.against.get(name)
        for found in matcher.hits(folded) if matcher else []:
            if " " in found.shown or "interview" in found.shown:
                findings.add(NOTES_AGAINST, f'{name} in the notes ("{found.shown}")')
                break
    matcher = vocab.against.get("interviewer_notes")
    found_hit = matcher.first(folded) if matcher else None
    if found_hit is not None:
        findings.vetoes.append(f'notes are for an interviewer ("{found_hit.shown}"): an interview you give')
        findings.giving.append(f'notes say "{found_hit.shown}"')


def _named_job(folded: str, vocab: Vocabulary) -> str | None:
    """A role next to a word for a job: "the backend engineer role", "poste de developpeur"."""
    positions = vocab.words["position"].hits(folded)
    for role in vocab.words["roles"].hits(folded):
        for position in positions:
            if position.start == role.end + 1 or 0 < role.start - position.end <= 4:
                start, end = min(role.start, position.start), max(role.end, position.end)
                return folded[start:end]
    return None


def _platform(domain: str, table: dict[str, str]) -> str | None:
    for suffix, name in table.items():
        if domain == suffix or domain.endswith("." + suffix):
            return name
    return None


def link_findings(event: Event, findings: Findings) -> None:
    """Scheduling platforms in the addresses, the location and the links of the notes."""
    text = " ".join([event.notes[:20000], event.location]).lower()
    domains = set(_DOMAIN_IN_TEXT.findall(text))
    people = [event.organizer, *event.attendees] if event.organizer else list(event.attendees)
    domains.update(p.email.lower().rpartition("@")[2] for p in people if "@" in p.email)
    hiring = sorted({name for d in domains if (name := _platform(d, HIRING_PLATFORMS))})
    if hiring:
        findings.add(PLATFORM, f"scheduled through {hiring[0]}")
        return
    booking = sorted({name for d in domains if (name := _platform(d, BOOKING_PLATFORMS))})
    if booking and all(item.weight != BOOKING or "booking" not in item.text for item in findings.evidence):
        findings.add(BOOKING, f"booked through {booking[0]}")


def is_service(domain: str) -> bool:
    return _platform(domain, HIRING_PLATFORMS) is not None or _platform(domain, BOOKING_PLATFORMS) is not None


def recruiting_person(person: Person, vocab: Vocabulary) -> str | None:
    """What names ``person`` a recruiter: their mailbox ("talent@") or their name ("Acme Recruiting")."""
    local = person.address.partition("@")[0]
    for text in (local, person.name):
        hit = vocab.words["recruiting"].first(fold(text))
        if hit is not None:
            return hit.shown
    return None
