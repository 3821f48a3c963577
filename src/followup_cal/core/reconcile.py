"""Plan versus what exists -> actions. Pure: no I/O, no backend.

The rules (DESIGN.md, "The calendar is the single source of truth"):
- A reminder is matched to its interview by its SOURCE and KIND marks, never by time or title.
- A reminder whose fingerprint no longer matches was edited by the user: never touched again.
- A kind in the interview's ISSUED record with no reminder left was deleted by the user: never recreated.
- A reminder found without the kind recorded (a run interrupted between create and record) is adopted.
- A reminder whose time has passed is history: moved only when its new time lies ahead (its interview
  moved or a decision date was added), never removed, never recreated.
- Nothing is first written in the past.
- Future, unedited reminders of an interview that is cancelled, deleted, no longer an interview,
  superseded or ended by an outcome are removed; so is the thank-you of an earlier session of an
  interview day (the day's last session thanks everyone).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from followup_cal.core import text
from followup_cal.core.model import Event, Kind, ReminderDraft, event_is_edited, reminder_uid
from followup_cal.core.plan import InterviewPlan
from followup_cal.core.settings import Settings


@dataclass(frozen=True)
class Create:
    draft: ReminderDraft
    interview: Event


@dataclass(frozen=True)
class Update:
    existing: Event
    draft: ReminderDraft
    interview: Event


@dataclass(frozen=True)
class Delete:
    existing: Event
    why: str


@dataclass(frozen=True)
class Mark:
    """Tag an interview and set its ISSUED record (``issued``), or untag it (``issued`` None)."""

    interview: Event
    issued: frozenset[Kind] | None


Action = Create | Update | Delete | Mark


def draft_reminder(plan: InterviewPlan, kind: Kind, start: datetime, settings: Settings) -> ReminderDraft:
    event = plan.event
    source = event.source_key
    # A thank-you thanks everyone met that interview day; a check-in is about its own interview.
    earlier = plan.earlier_sessions if kind is Kind.THANK_YOU else ()
    return ReminderDraft(
        uid=reminder_uid(source, kind),
        kind=kind,
        source=source,
        parent_uid=event.uid,
        start=start,
        end=start + timedelta(minutes=settings.rules.reminder_minutes),
        summary=text.summary(kind, event, settings.me, plan.decision is not None, earlier),
        description=text.description(
            kind,
            event,
            settings.me,
            settings.timezone,
            plan.check_in_reason if kind is Kind.CHECK_IN else "",
            earlier,
        ),
        alarm_description=text.alarm_text(kind, event, settings.me),
        url=text.first_mailto(kind, event, settings.me, earlier),
    )


def _is_future(moment: object, now: datetime) -> bool:
    return isinstance(moment, datetime) and moment > now


def _group_reminders(reminders: Iterable[Event]) -> dict[tuple[str, Kind], list[Event]]:
    groups: dict[tuple[str, Kind], list[Event]] = defaultdict(list)
    for event in reminders:
        if event.reminder is not None:
            groups[(event.reminder.source, event.reminder.kind)].append(event)
    for found in groups.values():
        # The one to keep first: an edited one (the user's), then the lowest UID (stable across runs).
        found.sort(key=lambda e: (not event_is_edited(e), e.uid))
    return groups


def _reconcile_kind(
    plan: InterviewPlan,
    kind: Kind,
    found: list[Event],
    settings: Settings,
    now: datetime,
) -> tuple[list[Action], bool]:
    """Actions for one kind of reminder of one interview, and whether the kind is (now) issued."""
    event = plan.event
    planned = plan.planned(kind)
    actions: list[Action] = []
    for duplicate in found[1:]:
        if not event_is_edited(duplicate):
            actions.append(Delete(duplicate, "duplicate"))
    existing = found[0] if found else None
    recorded = event.issued is not None and kind in event.issued

    if existing is None:
        if recorded or planned is None or planned <= now:
            return actions, recorded
        draft = draft_reminder(plan, kind, planned, settings)
        actions.append(Create(draft, event))
        return actions, True

    if event_is_edited(existing):
        return actions, True
    if planned is None:
        if _is_future(existing.start, now):
            actions.append(Delete(existing, plan.not_planned_because(kind) or "no longer planned"))
        return actions, True
    draft = draft_reminder(plan, kind, planned, settings)
    assert existing.reminder is not None
    unchanged = existing.reminder.fingerprint == draft.fingerprint
    if not unchanged and (_is_future(existing.start, now) or planned > now):
        actions.append(Update(existing, draft, event))
    return actions, True


def reconcile(
    plans: Sequence[InterviewPlan],
    reminders: Sequence[Event],
    gone: Mapping[str, str],
    settings: Settings,
    now: datetime,
) -> list[Action]:
    """The actions that bring the calendar in line with ``plans``.

    ``reminders`` are the reminders read (events with a reminder mark). ``gone`` maps the source key of an
    interview that is confirmed cancelled, deleted or no longer an interview to the reason. A reminder whose
    interview is neither planned nor confirmed gone is left alone.
    """
    groups = _group_reminders(reminders)
    actions: list[Action] = []
    planned_sources = set()
    for plan in plans:
        source = plan.event.source_key
        planned_sources.add(source)
        issued: set[Kind] = set()
        for kind in Kind:
            kind_actions, is_issued = _reconcile_kind(
                plan, kind, groups.get((source, kind), []), settings, now
            )
            actions.extend(kind_actions)
            if is_issued:
                issued.add(kind)
        if not plan.event.tagged or plan.event.issued != frozenset(issued):
            actions.append(Mark(plan.event, frozenset(issued)))

    for (source, _kind), found in groups.items():
        if source in planned_sources or source not in gone:
            continue
        for existing in found:
            if not event_is_edited(existing) and _is_future(existing.start, now):
                actions.append(Delete(existing, gone[source]))
    return actions


def plan_clean(events: Iterable[Event], reminders: Iterable[Event]) -> list[Action]:
    """``clean``: remove every reminder followup-cal wrote that the user did not edit, and every tag."""
    actions: list[Action] = [Delete(r, "clean") for r in reminders if not event_is_edited(r)]
    actions.extend(Mark(e, None) for e in events if e.issued is not None and e.reminder is None)
    return actions
