"""What ``status`` shows: each interview, why it counts, its reminders with their state, the next one due.

The states are derived here by pure functions from what one (dry) run knows: the plans, the reminders
read, the interviews' ISSUED records and the interviews that are gone. Rendering comes in three forms: a
plain table (pipes, cron, dumb terminals), a rich table (a terminal; ``rich`` is imported only then),
and JSON (``status --json``, schema in ``data/status.schema.json``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from followup_cal.core import text
from followup_cal.core.detect import organisation, outcome
from followup_cal.core.model import Event, Kind, event_is_edited
from followup_cal.core.plan import InterviewPlan
from followup_cal.core.settings import Settings
from followup_cal.run.sync import Analysis, window

SCHEMA_VERSION = 1
SCHEMA_RESOURCE = "data/status.schema.json"


class State(StrEnum):
    PLANNED = "planned"  # not in the calendar yet: the next sync writes it
    WRITTEN = "written"  # in the calendar, ahead
    DONE = "done"  # its time has passed
    EDITED = "edited"  # the user changed it: followup-cal leaves it alone
    DISMISSED = "dismissed"  # the user deleted it: it stays deleted
    SUPERSEDED = "superseded"  # a later round replaced the check-in; the day's last session, the thank-you
    ENDED = "ended"  # an outcome (#offer, #rejected, ...) ended the follow-ups
    SKIPPED = "skipped"  # its time had passed when the interview was found: never written
    WITHDRAWN = "withdrawn"  # the interview was cancelled, deleted or is no longer one


LABELS = {State.EDITED: "edited by you"}
ACTIVE_STATES = (State.PLANNED, State.WRITTEN, State.EDITED)


@dataclass(frozen=True)
class ReminderState:
    kind: Kind
    state: State
    at: datetime | None
    note: str
    summary: str = ""  # the title it has (or will have) in the calendar

    @property
    def label(self) -> str:
        return LABELS.get(self.state, self.state.value)


@dataclass(frozen=True)
class InterviewStatus:
    calendar: str
    event: Event
    reason: str
    reminders: tuple[ReminderState, ...]
    check_in_reason: str
    company: str = ""
    organisation: str | None = None
    outcome: str | None = None
    active: bool = True  # False: cancelled, deleted or no longer an interview
    evidence_for: tuple[str, ...] = ()  # all that speaks for an interview (see core.evidence)
    evidence_against: tuple[str, ...] = ()


def _start(existing: Event) -> datetime | None:
    return existing.start if isinstance(existing.start, datetime) else None


def reminder_state(
    kind: Kind,
    *,
    planned: datetime | None,
    suppressed: str | None,
    issued: frozenset[Kind],
    existing: Event | None,
    now: datetime,
    read_from: datetime,
    summary: str = "",
) -> ReminderState:
    """The state of one reminder of one planned interview.

    ``planned``: the rule's time, None when ``suppressed`` says why not (a later round, an outcome).
    ``existing``: the reminder as read from the calendar. ``read_from``: the start of the window read; a
    reminder recorded as issued whose time lies before it may simply not have been read.
    """
    if existing is not None:
        at, title = _start(existing), existing.summary
        if event_is_edited(existing):
            return ReminderState(kind, State.EDITED, at, "edited by you: followup-cal leaves it alone", title)
        if at is not None and at <= now:
            return ReminderState(kind, State.DONE, at, "its time has passed", title)
        if planned is None:
            state = State.ENDED if (suppressed or "").startswith("ended") else State.SUPERSEDED
            return ReminderState(kind, state, at, f"{suppressed}: removed at the next sync", title)
        if planned != at and planned > now:
            moves = f"moves to {planned:%a %d %b %Y %H:%M} at the next sync"
            return ReminderState(kind, State.WRITTEN, at, moves, title)
        return ReminderState(kind, State.WRITTEN, at, "in your calendar", title)
    if kind in issued:
        if planned is not None and planned < read_from:
            return ReminderState(kind, State.DONE, planned, "written earlier; its time has passed", summary)
        return ReminderState(kind, State.DISMISSED, planned, "deleted by you: stays deleted", summary)
    if planned is None:
        state = State.ENDED if (suppressed or "").startswith("ended") else State.SUPERSEDED
        return ReminderState(kind, state, None, suppressed or "", summary)
    if planned <= now:
        return ReminderState(kind, State.SKIPPED, planned, "its time had passed when the interview was found")
    return ReminderState(kind, State.PLANNED, planned, "written at the next sync", summary)


def withdrawn_state(kind: Kind, existing: Event | None, why: str, now: datetime) -> ReminderState | None:
    """The state of a reminder of an interview that is gone (cancelled, deleted, no longer one)."""
    if existing is None:
        return None
    at, title = _start(existing), existing.summary
    if event_is_edited(existing):
        return ReminderState(kind, State.EDITED, at, "edited by you: followup-cal leaves it alone", title)
    if at is not None and at <= now:
        return ReminderState(kind, State.DONE, at, "its time has passed", title)
    return ReminderState(kind, State.WITHDRAWN, at, f"{why}: removed at the next sync", title)


def _plan_row(plan: InterviewPlan, analysis: Analysis, settings: Settings, now: datetime) -> InterviewStatus:
    event = plan.event
    key = event.source_key
    by_key = {(r.reminder.source, r.reminder.kind): r for r in analysis.reminders if r.reminder}
    read_from, _ = window(settings, now)
    decided = plan.decision is not None
    states = tuple(
        reminder_state(
            kind,
            planned=plan.planned(kind),
            suppressed=plan.not_planned_because(kind),
            issued=event.issued or frozenset(),
            existing=by_key.get((key, kind)),
            now=now,
            read_from=read_from,
            summary=text.summary(
                kind, event, settings.me, decided, plan.earlier_sessions if kind is Kind.THANK_YOU else ()
            ),
        )
        for kind in Kind
    )
    detection = analysis.detections.get(key)
    return InterviewStatus(
        calendar=event.calendar,
        event=event,
        reason=detection.reason if detection else "",
        reminders=states,
        check_in_reason=plan.suppressed or plan.check_in_reason,
        company=text.company(event, settings.me),
        organisation=organisation(event, settings.me),
        outcome=outcome(event),
        evidence_for=detection.evidence_for if detection else (),
        evidence_against=detection.evidence_against if detection else (),
    )


def _gone_rows(analysis: Analysis, settings: Settings, now: datetime) -> list[InterviewStatus]:
    """Interviews that were followed up and are now cancelled or no longer interviews."""
    by_key = {(r.reminder.source, r.reminder.kind): r for r in analysis.reminders if r.reminder}
    rows = []
    for event in analysis.events:
        key = event.source_key
        why = analysis.gone.get(key)
        if why is None or event.reminder is not None:
            continue
        states = [withdrawn_state(kind, by_key.get((key, kind)), why, now) for kind in Kind]
        if event.issued is None and not any(states):
            continue  # never followed up: not part of the search
        detection = analysis.detections.get(key)
        rows.append(
            InterviewStatus(
                calendar=event.calendar,
                event=event,
                reason=why,
                reminders=tuple(s for s in states if s is not None),
                check_in_reason="",
                company=text.company(event, settings.me),
                organisation=organisation(event, settings.me),
                outcome=outcome(event),
                active=False,
                evidence_for=detection.evidence_for if detection else (),
                evidence_against=detection.evidence_against if detection else (),
            )
        )
    return rows


def interview_statuses(
    analyses: Sequence[Analysis], now: datetime, settings: Settings | None = None
) -> list[InterviewStatus]:
    """One row per interview of every analysed calendar group, in the order they took place."""
    rows: list[InterviewStatus] = []
    for analysis in analyses:
        group_settings = settings or Settings(timezone=ZoneInfo("UTC"))
        rows.extend(_plan_row(plan, analysis, group_settings, now) for plan in analysis.plans)
        rows.extend(_gone_rows(analysis, group_settings, now))
    rows.sort(key=lambda row: _sort_key(row.event))
    return rows


def _sort_key(event: Event) -> str:
    start = event.start
    return start.isoformat() if isinstance(start, datetime) else f"{start.isoformat()}T00:00"


def upcoming(rows: Sequence[InterviewStatus], now: datetime) -> list[tuple[InterviewStatus, ReminderState]]:
    """The follow-ups still to come (planned, written or edited), soonest first."""
    items = [
        (row, state)
        for row in rows
        for state in row.reminders
        if state.at is not None and state.at > now and state.state in ACTIVE_STATES
    ]
    items.sort(key=lambda item: item[1].at or now)
    return items


def next_due(rows: Sequence[InterviewStatus], now: datetime) -> tuple[InterviewStatus, ReminderState] | None:
    items = upcoming(rows, now)
    return items[0] if items else None


def short_when(moment: date | datetime | None, tz: ZoneInfo, now: datetime) -> str:
    """ "Mon 30 Nov 10:00"; with the year when it is not this year's."""
    if moment is None:
        return ""
    if isinstance(moment, datetime):
        local = moment.astimezone(tz)
        year = "" if local.year == now.astimezone(tz).year else f" {local.year}"
        return f"{local:%a %d %b}{year} {local:%H:%M}"
    return f"{moment:%a %d %b}" + ("" if moment.year == now.year else f" {moment.year}")


HEADERS = ("WHEN", "COMPANY", "INTERVIEW", "WHY", "THANK-YOU", "CHECK-IN", "CHECK-IN DATE")


def table_rows(rows: Sequence[InterviewStatus], tz: ZoneInfo, now: datetime) -> list[tuple[str, ...]]:
    """The table's cells, as text: one tuple per interview, in :data:`HEADERS` order."""

    def cell(row: InterviewStatus, kind: Kind) -> str:
        state = next((s for s in row.reminders if s.kind is kind), None)
        if state is None:
            return "-"
        return f"{state.label} {short_when(state.at, tz, now)}".strip()

    return [
        (
            short_when(row.event.start, tz, now),
            row.company or "-",
            text.clean(row.event.summary, 32) or "-",
            _why(row),
            cell(row, Kind.THANK_YOU),
            cell(row, Kind.CHECK_IN),
            row.check_in_reason or "-",
        )
        for row in rows
    ]


def _why(row: InterviewStatus) -> str:
    """The WHY cell: what decided, and for an interview what spoke against it (if anything did)."""
    if not row.active:
        return f"not any more: {row.reason}"
    against = [item for item in row.evidence_against if item not in row.reason]
    return f"{row.reason}; against: {against[0]}" if against else row.reason


def _footer(rows: Sequence[InterviewStatus], tz: ZoneInfo, now: datetime) -> str:
    due = next_due(rows, now)
    if not due:
        return "Nothing due: no follow-up ahead."
    row, state = due
    title = state.summary or text.clean(row.event.summary)
    return f"Next: {state.kind} {short_when(state.at, tz, now)}  {title}"


EMPTY = (
    "No interviews found in the window. Run `followup-cal sync --dry-run -v` to see why events did not count."
)


def render_text(rows: Sequence[InterviewStatus], settings: Settings, now: datetime) -> str:
    """The table as plain text: columns padded with spaces, no escape codes."""
    if not rows:
        return EMPTY
    tz = settings.timezone
    cells = [HEADERS, *table_rows(rows, tz, now)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(HEADERS))]
    lines = [
        "  ".join(value.ljust(width) for value, width in zip(line, widths, strict=True)).rstrip()
        for line in cells
    ]
    return "\n".join([*lines, "", _footer(rows, tz, now)])


_STATE_STYLES = {
    State.PLANNED: "cyan",
    State.WRITTEN: "green",
    State.DONE: "dim",
    State.EDITED: "yellow",
    State.DISMISSED: "dim",
    State.SUPERSEDED: "magenta",
    State.ENDED: "blue",
    State.SKIPPED: "dim",
    State.WITHDRAWN: "red",
}


def supports_rich(stream: TextIO) -> bool:
    """A terminal that draws tables: a tty whose TERM is not "dumb"."""
    try:
        is_tty = stream.isatty()
    except (AttributeError, ValueError):
        return False
    return is_tty and os.environ.get("TERM", "") != "dumb"


def print_rich(rows: Sequence[InterviewStatus], settings: Settings, now: datetime, stream: TextIO) -> None:
    """The table drawn by rich, for a terminal. Imports rich only here, so --help and cron stay light."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(file=stream, highlight=False)
    if not rows:
        console.print(Text(EMPTY))
        return
    tz = settings.timezone
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
    for index, header in enumerate(HEADERS):
        table.add_column(header, no_wrap=index in (0, 4, 5), overflow="fold")
    for row, cells in zip(rows, table_rows(rows, tz, now), strict=True):
        styled = [Text(value) for value in cells]
        for column, kind in ((4, Kind.THANK_YOU), (5, Kind.CHECK_IN)):
            state = next((s for s in row.reminders if s.kind is kind), None)
            if state is not None:
                when = short_when(state.at, tz, now)
                styled[column] = Text(state.label + (f"\n{when}" if when else ""), _STATE_STYLES[state.state])
        table.add_row(*styled, style=None if row.active else "dim")
    console.print(table)
    console.print(Text(_footer(rows, tz, now)))


def render_agenda(rows: Sequence[InterviewStatus], settings: Settings, now: datetime) -> str:
    """The coming follow-ups, day by day."""
    tz = settings.timezone
    items = upcoming(rows, now)
    if not items:
        return "No follow-ups ahead."
    today = now.astimezone(tz).date()
    lines: list[str] = []
    day: date | None = None
    for row, state in items:
        assert state.at is not None
        local = state.at.astimezone(tz)
        if local.date() != day:
            day = local.date()
            gap = (day - today).days
            label = {0: " (today)", 1: " (tomorrow)"}.get(gap, "")
            lines.append(f"{'' if not lines else chr(10)}{day:%a %d %b %Y}{label}")
        # Whether it is in the calendar yet matters little here; that the user took it over does.
        note = {State.EDITED: "  [edited by you]", State.PLANNED: "  [written at the next sync]"}
        note_text = note.get(state.state, "")
        title = state.summary or text.clean(row.event.summary, 50)
        lines.append(f"  {local:%H:%M}  {state.kind:<9}  {title}{note_text}")
    return "\n".join(lines)


def schema_text() -> str:
    """The JSON Schema of ``status --json``, as shipped with the package."""
    from importlib import resources

    return resources.files("followup_cal").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")


def _moment(value: object) -> str | None:
    return value.isoformat() if isinstance(value, date) else None


def _reminder_json(state: ReminderState) -> dict[str, Any]:
    return {
        "kind": str(state.kind),
        "state": str(state.state),
        "label": state.label,
        "at": _moment(state.at),
        "note": state.note,
        "summary": state.summary,
    }


def render_json(
    rows: Sequence[InterviewStatus], now: datetime, settings: Settings | None = None
) -> dict[str, Any]:
    """The document ``status --json`` prints; its shape is ``data/status.schema.json``."""
    me = settings.me if settings else ()
    due = next_due(rows, now)
    return {
        "schema": SCHEMA_VERSION,
        "generated_at": now.isoformat(),
        "interviews": [
            {
                "calendar": row.calendar,
                "uid": row.event.uid,
                "recurrence_id": _moment(row.event.recurrence_id),
                "summary": row.event.summary,
                "start": _moment(row.event.start),
                "end": _moment(row.event.end),
                "reason": row.reason,
                "check_in_reason": row.check_in_reason,
                "reminders": [_reminder_json(s) for s in row.reminders],
                "company": row.company,
                "organisation": row.organisation,
                "outcome": row.outcome,
                "active": row.active,
                "evidence": {"for": list(row.evidence_for), "against": list(row.evidence_against)},
                "interviewers": [
                    {"name": p.name, "email": p.email} for p in text.interviewers(row.event, me)
                ],
            }
            for row in rows
        ],
        "next_due": (
            {"uid": due[0].event.uid, "kind": str(due[1].kind), "at": _moment(due[1].at)} if due else None
        ),
        "upcoming": [
            {
                "calendar": row.calendar,
                "uid": row.event.uid,
                "recurrence_id": _moment(row.event.recurrence_id),
                "company": row.company,
                **_reminder_json(state),
            }
            for row, state in upcoming(rows, now)
        ],
    }
