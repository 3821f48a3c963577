"""Reminders whose marks a client dropped, known by their UID (DESIGN.md "The calendar is the single source
of truth").

Phone and desktop apps re-save an event the user touched and may drop what they do not know: the
X-FOLLOWUP-CAL-* marks, RELATED-TO, the VALARM. A reminder's UID follows from its interview's source key,
its kind and an attempt number (:func:`~followup_cal.core.model.reminder_uid`), so an object at one of
those UIDs is that reminder, marks or not: never an interview, never tagged. Its content says whether the
user edited it: still what followup-cal would write for it now, it is unedited; anything else, it is the
user's. Nothing here writes, so nothing is ever written only to put the marks back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from followup_cal.core.model import Event, Kind, ReminderMark, fingerprint, reminder_uid
from followup_cal.core.plan import InterviewPlan, check_in_time, plan_interviews
from followup_cal.core.reconcile import draft_reminder
from followup_cal.core.settings import Settings

MAX_UID_ATTEMPTS = 8
"""How many UIDs a reminder may try (the next one when a server refuses to reuse a deleted one)."""

_DERIVED_SHAPE = re.compile(r"fc[0-9a-f]{38}")


def looks_derived(uid: str) -> bool:
    """True when ``uid`` has the shape of a reminder UID (its interview may lie outside the window)."""
    return _DERIVED_SHAPE.fullmatch(uid) is not None


def derived_uids(events: Iterable[Event]) -> dict[str, tuple[str, Kind]]:
    """Every UID a reminder of one of ``events`` may have, with its interview's source key and kind."""
    found: dict[str, tuple[str, Kind]] = {}
    for event in events:
        if event.reminder is not None:
            continue
        source = event.source_key
        for kind in Kind:
            for attempt in range(MAX_UID_ATTEMPTS):
                found[reminder_uid(source, kind, attempt)] = (source, kind)
    return found


def recognise(events: Iterable[Event], derived: Mapping[str, tuple[str, Kind]]) -> list[Event]:
    """``events``, each object at a derived UID that lost its marks known as that reminder (with an
    empty fingerprint until :func:`judge` compares it with what followup-cal would write)."""
    result = []
    for event in events:
        known = derived.get(event.uid) if event.reminder is None else None
        if known is not None:
            source, kind = known
            event = replace(event, reminder=ReminderMark(kind, source, "", marked=False))
        result.append(event)
    return result


def judge(
    reminders: Sequence[Event],
    plans: Sequence[InterviewPlan],
    events: Iterable[Event],
    settings: Settings,
) -> list[Event]:
    """``reminders``, each one known by UID alone given the fingerprint that tells whether it was edited:
    its content's own when that is what followup-cal would write for it now, else "" (the user's).

    ``events`` are all events read: an interview that is gone (cancelled, no longer one) is planned alone
    to know what its reminders said, so an unedited one can still be removed.
    """
    plans_by_source = {plan.event.source_key: plan for plan in plans}
    events_by_source = {event.source_key: event for event in events if event.reminder is None}
    result = []
    for event in reminders:
        mark = event.reminder
        if mark is None or mark.marked:
            result.append(event)
            continue
        current = fingerprint(event.start, event.end, event.summary, event.description)
        unedited = current in _expected(mark, plans_by_source, events_by_source, settings)
        result.append(replace(event, reminder=replace(mark, fingerprint=current if unedited else "")))
    return result


def _expected(
    mark: ReminderMark,
    plans_by_source: Mapping[str, InterviewPlan],
    events_by_source: Mapping[str, Event],
    settings: Settings,
) -> set[str]:
    """The fingerprints of what followup-cal would write for this reminder: by its plan, and for a
    check-in also by the rules alone (a check-in written before a later round or an outcome ended it)."""
    plan = plans_by_source.get(mark.source)
    if plan is None:
        interview = events_by_source.get(mark.source)
        if interview is None:
            return set()
        plan = plan_interviews([interview], settings)[0]
    if mark.kind is Kind.THANK_YOU:
        times = [plan.thank_you]
    else:
        by_rules = check_in_time(plan.event, plan.thank_you, settings.rules, settings.timezone)[0]
        times = [t for t in (plan.check_in, by_rules) if t is not None]
    return {draft_reminder(plan, mark.kind, at, settings).fingerprint for at in times}


def marks_lost(plans: Sequence[InterviewPlan], reminders: Sequence[Event]) -> bool:
    """True when the calendar shows that marks were dropped: a reminder known by its UID alone, or an
    interview with reminders but no ISSUED record that is tagged, or that was re-saved after its reminders
    were written. (An untagged one re-saved before is what a run interrupted before it tagged leaves.)"""
    if any(r.reminder is not None and not r.reminder.marked for r in reminders):
        return True
    written: dict[str, list[Event]] = {}
    for reminder in reminders:
        if reminder.reminder is not None:
            written.setdefault(reminder.reminder.source, []).append(reminder)
    return any(_record_lost(plan.event, written.get(plan.event.source_key, [])) for plan in plans)


def _record_lost(interview: Event, reminders: Sequence[Event]) -> bool:
    if interview.issued is not None or not reminders:
        return False
    if interview.tagged:
        return True
    stamps = [r.modified for r in reminders if r.modified is not None]
    return interview.modified is not None and bool(stamps) and interview.modified > max(stamps)
