"""One run: read each calendar group, detect, plan, reconcile, write, report.

A *group* is a calendar that receives reminders (its *target*) with the calendars whose interviews it
receives them for (its *sources*). Without ``reminders_to`` a calendar is its own target and source.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from . import text
from .backends.base import CalendarBackend
from .detect import Detection, detect
from .errors import AlreadyExists, BackendError, FollowupCalError, NotFound, PreconditionFailed
from .guard import check_removals
from .model import Event, Kind, MarkUpdate, Moment, Problem, reminder_uid, split_source_key
from .plan import InterviewPlan, plan_interviews
from .reconcile import Action, Create, Delete, Mark, Update, plan_clean, reconcile
from .settings import Settings

log = logging.getLogger(__name__)

MAX_REPLANS = 3
MAX_UID_ATTEMPTS = 8


@dataclass(frozen=True)
class Group:
    target: str
    sources: tuple[str, ...]


@dataclass
class Analysis:
    """Everything one group's run knows before it writes; ``status`` shows it."""

    group: Group
    plans: list[InterviewPlan] = field(default_factory=list)
    detections: dict[str, Detection] = field(default_factory=dict)  # by source key, every event read
    reminders: list[Event] = field(default_factory=list)
    gone: dict[str, str] = field(default_factory=dict)
    actions: list[Action] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


@dataclass
class RunReport:
    changes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)  # calendar -> message
    analyses: list[Analysis] = field(default_factory=list)


def calendar_groups(settings: Settings, only: Sequence[str] = ()) -> list[Group]:
    sources: dict[str, list[str]] = defaultdict(list)
    for name, calendar in settings.calendars.items():
        if only and name not in only:
            continue
        sources[calendar.reminders_to or name].append(name)
    return [Group(target, tuple(names)) for target, names in sources.items()]


def window(settings: Settings, now: datetime) -> tuple[datetime, datetime]:
    rules = settings.rules
    return now - timedelta(days=rules.window_past_days), now + timedelta(days=rules.window_future_days)


def parse_recurrence_id(text_value: str | None) -> Moment | None:
    if text_value is None:
        return None
    if "T" in text_value:
        return datetime.strptime(text_value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return datetime.strptime(text_value, "%Y%m%d").date()


def analyse(
    group: Group,
    backends: Mapping[str, CalendarBackend],
    settings: Settings,
    now: datetime,
    *,
    clean: bool = False,
) -> Analysis:
    """Reads the group's calendars and decides the actions: a sync's, or with ``clean`` the removal of
    every unedited reminder and tag (which needs no detection, planning or lookups)."""
    start, end = window(settings, now)
    analysis = Analysis(group)
    listings = {}
    for name in dict.fromkeys((*group.sources, group.target)):
        listings[name] = backends[name].list_window(start, end, settings.timezone)
        analysis.problems.extend(listings[name].problems)
    analysis.reminders = [e for e in listings[group.target].events if e.reminder is not None]
    if clean:
        analysis.events = [e for name in group.sources for e in listings[name].events if e.reminder is None]
        analysis.actions = plan_clean(analysis.events, analysis.reminders)
        return analysis
    interviews: list[Event] = []
    for name in group.sources:
        for event in listings[name].events:
            if event.reminder is not None:
                continue
            analysis.events.append(event)
            detection = detect(event, settings)
            analysis.detections[event.source_key] = detection
            if detection.is_interview:
                interviews.append(event)
            else:
                analysis.gone[event.source_key] = detection.reason
    for key in sorted(
        {r.reminder.source for r in analysis.reminders if r.reminder} - analysis.detections.keys()
    ):
        found = _look_up(key, group, backends, settings)
        if found is None:
            analysis.gone[key] = "interview deleted"
        elif isinstance(found, Event):
            detection = detect(found, settings)
            analysis.detections[key] = detection
            if detection.is_interview:
                interviews.append(found)
            else:
                analysis.gone[key] = detection.reason
    analysis.plans = plan_interviews(interviews, settings)
    analysis.actions = reconcile(analysis.plans, analysis.reminders, analysis.gone, settings, now)
    return analysis


def _look_up(
    key: str, group: Group, backends: Mapping[str, CalendarBackend], settings: Settings
) -> Event | str | None:
    """The interview a reminder points at, None when confirmed gone, or a string when it cannot tell."""
    uid, rid_text = split_source_key(key)
    try:
        rid = parse_recurrence_id(rid_text)
    except ValueError:
        return "unreadable source mark"
    for name in group.sources:
        try:
            found = backends[name].find(uid, rid, settings.timezone)
        except BackendError as error:
            log.warning("could not look up interview %s in %s: %s", uid, name, error)
            return "lookup failed"
        if found is not None:
            return found
    return None


def describe(action: Action, settings: Settings, dry_run: bool) -> str | None:
    """The one line a user sees for an action (None for bookkeeping that is not worth a line)."""
    tz = settings.timezone

    def verb(done: str, planned: str) -> str:
        return planned if dry_run else done

    if isinstance(action, Create):
        draft = action.draft
        at = text.when_text(draft.start, tz)
        return f'{verb("wrote", "would write")} {draft.kind} "{draft.summary}" at {at}'
    if isinstance(action, Update):
        was = action.existing.start
        now_at = text.when_text(action.draft.start, tz)
        if was == action.draft.start:
            return (
                f'{verb("updated", "would update")} {action.draft.kind} "{action.draft.summary}" at {now_at}'
            )
        return (
            f'{verb("moved", "would move")} {action.draft.kind} "{action.draft.summary}" '
            f"from {text.when_text(was, tz)} to {now_at}"
        )
    if isinstance(action, Delete):
        kind = action.existing.reminder.kind if action.existing.reminder else "reminder"
        return (
            f'{verb("removed", "would remove")} {kind} "{action.existing.summary}" at '
            f"{text.when_text(action.existing.start, tz)} ({action.why})"
        )
    event = action.interview
    if action.issued is None:
        at = text.when_text(event.start, tz)
        return f'{verb("untagged", "would untag")} "{text.clean(event.summary, 60)}" at {at}'
    if not event.tagged:
        return (
            f'{verb("tagged", "would tag")} "{text.clean(event.summary, 60)}" at '
            f"{text.when_text(event.start, tz)} as an interview"
        )
    return None


class _Replan(Exception):
    pass


def _create(action: Create, backend: CalendarBackend, tz: ZoneInfo) -> bool:
    """Creates the reminder under the first UID the server accepts. True when it is in the calendar."""
    draft = action.draft
    for attempt in range(MAX_UID_ATTEMPTS):
        candidate = replace(draft, uid=reminder_uid(draft.source, draft.kind, attempt))
        try:
            backend.create(candidate)
            return True
        except AlreadyExists:
            found = backend.find(candidate.uid, None, tz)
            mark = found.reminder if found is not None else None
            if found is not None and found.status != "CANCELLED" and mark is not None:
                # Ours already (an interrupted run, or a reminder outside the window): adopt it.
                return mark.source == draft.source and mark.kind == draft.kind
    raise BackendError(f"could not find a free UID for the {draft.kind} reminder of {draft.source!r}")


def execute(
    actions: Sequence[Action],
    group: Group,
    backends: Mapping[str, CalendarBackend],
    settings: Settings,
    report: Callable[[str], None],
) -> None:
    target = backends[group.target]
    failed_creates: set[tuple[str, Kind]] = set()
    ordered: list[Action] = [a for a in actions if isinstance(a, Delete | Update)]
    ordered += [a for a in actions if isinstance(a, Create)]
    for action in ordered:
        try:
            if isinstance(action, Delete):
                target.delete(action.existing)
            elif isinstance(action, Update):
                target.update_reminder(action.existing, action.draft)
            elif isinstance(action, Create) and not _create(action, target, settings.timezone):
                failed_creates.add((action.draft.source, action.draft.kind))
                continue
        except (PreconditionFailed, NotFound) as error:
            raise _Replan from error
        line = describe(action, settings, dry_run=False)
        if line:
            report(f"{group.target}: {line}")
    marks: dict[tuple[str, str], list[Mark]] = defaultdict(list)
    for mark in actions:
        if isinstance(mark, Mark):
            marks[(mark.interview.calendar, mark.interview.href)].append(mark)
    for (calendar, href), group_marks in marks.items():
        updates = []
        for mark in group_marks:
            issued = mark.issued
            if issued is not None:
                issued = frozenset(k for k in issued if (mark.interview.source_key, k) not in failed_creates)
            updates.append(MarkUpdate(mark.interview.recurrence_id, issued))
        try:
            backends[calendar].write_marks(href, group_marks[0].interview.etag, updates)
        except (PreconditionFailed, NotFound) as error:
            raise _Replan from error
        for mark in group_marks:
            line = describe(mark, settings, dry_run=False)
            if line:
                report(f"{calendar}: {line}")


def run(
    settings: Settings,
    backends: Mapping[str, CalendarBackend],
    *,
    now: datetime,
    dry_run: bool = False,
    clean: bool = False,
    only: Sequence[str] = (),
    report: Callable[[str], None] = lambda line: None,
    force: bool = False,
) -> RunReport:
    """Syncs (or cleans) every group; a failing group is recorded and the others go on.

    A group whose run would remove most of its reminders is refused (see ``guard``) unless ``force``.
    """
    result = RunReport()
    for group in calendar_groups(settings, only):
        try:
            for _round in range(MAX_REPLANS):
                analysis = analyse(group, backends, settings, now, clean=clean)
                if dry_run:
                    for action in analysis.actions:
                        line = describe(action, settings, dry_run=True)
                        if line:
                            report(f"{group.target}: {line}")
                    break
                check_removals(analysis.actions, len(analysis.reminders), force)
                try:
                    execute(analysis.actions, group, backends, settings, report)
                    break
                except _Replan:
                    log.info("%s changed while syncing; reading it again", group.target)
            else:
                raise BackendError(
                    f"calendar '{group.target}' kept changing while followup-cal wrote to it; try again later"
                )
            result.analyses.append(analysis)
            result.problems.extend(analysis.problems)
        except FollowupCalError as error:
            result.failures[group.target] = str(error)
    return result
