"""What ``status`` shows: each interview, why it counts, its reminders with their state, the next one due."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import text
from .model import Event, Kind, event_is_edited
from .plan import InterviewPlan
from .settings import Settings
from .sync import Analysis

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class ReminderState:
    kind: Kind
    state: str  # planned | written | done | edited | dismissed | superseded | ended | skipped
    at: datetime | None
    note: str


@dataclass(frozen=True)
class InterviewStatus:
    calendar: str
    event: Event
    reason: str
    reminders: tuple[ReminderState, ...]
    check_in_reason: str


def _reminder_state(plan: InterviewPlan, kind: Kind, existing: Event | None, now: datetime) -> ReminderState:
    planned = plan.thank_you if kind is Kind.THANK_YOU else plan.check_in
    issued = plan.event.issued or frozenset()
    if existing is not None:
        at = existing.start if isinstance(existing.start, datetime) else None
        if event_is_edited(existing):
            return ReminderState(kind, "edited", at, "edited by you: followup-cal leaves it alone")
        if at is not None and at <= now:
            return ReminderState(kind, "done", at, "its time has passed")
        return ReminderState(kind, "written", at, "in your calendar")
    if kind in issued:
        return ReminderState(kind, "dismissed", planned, "deleted by you: stays deleted")
    if planned is None:
        reason = plan.suppressed or ""
        state = "ended" if reason.startswith("ended") else "superseded"
        return ReminderState(kind, state, None, reason)
    if planned <= now:
        return ReminderState(kind, "skipped", planned, "its time had passed when the interview was found")
    return ReminderState(kind, "planned", planned, "written at the next sync")


def interview_statuses(analyses: Sequence[Analysis], now: datetime) -> list[InterviewStatus]:
    rows = []
    for analysis in analyses:
        by_key = {(r.reminder.source, r.reminder.kind): r for r in analysis.reminders if r.reminder}
        for plan in analysis.plans:
            key = plan.event.source_key
            detection = analysis.detections.get(key)
            states = tuple(_reminder_state(plan, kind, by_key.get((key, kind)), now) for kind in Kind)
            rows.append(
                InterviewStatus(
                    calendar=plan.event.calendar,
                    event=plan.event,
                    reason=detection.reason if detection else "",
                    reminders=states,
                    check_in_reason=plan.suppressed or plan.check_in_reason,
                )
            )
    rows.sort(key=lambda row: _sort_key(row.event))
    return rows


def _sort_key(event: Event) -> str:
    start = event.start
    return start.isoformat() if isinstance(start, datetime) else f"{start.isoformat()}T00:00"


def next_due(rows: Sequence[InterviewStatus], now: datetime) -> tuple[InterviewStatus, ReminderState] | None:
    upcoming = [
        (state.at, row, state)
        for row in rows
        for state in row.reminders
        if state.at is not None and state.at > now and state.state in ("written", "planned", "edited")
    ]
    if not upcoming:
        return None
    upcoming.sort(key=lambda item: item[0])
    return upcoming[0][1], upcoming[0][2]


def render_text(rows: Sequence[InterviewStatus], settings: Settings, now: datetime) -> str:
    if not rows:
        return "No interviews found in the window. Run with -v to see why events were not counted."
    tz = settings.timezone
    lines = []
    for row in rows:
        lines.append(
            f"{text.when_text(row.event.start, tz)}  {text.clean(row.event.summary, 70)}  [{row.calendar}]"
        )
        lines.append(f"    why: {row.reason}")
        for state in row.reminders:
            at = text.when_text(state.at, tz) if state.at else "-"
            lines.append(f"    {state.kind:<9}  {state.state:<10}  {at}  {state.note}")
        if row.check_in_reason:
            lines.append(f"    check-in: {row.check_in_reason}")
    due = next_due(rows, now)
    if due:
        row, state = due
        at = text.when_text(state.at, tz) if state.at else "-"
        lines.append(f"Next due: {state.kind} for {text.clean(row.event.summary, 60)!r} at {at}")
    return "\n".join(lines)


def render_json(rows: Sequence[InterviewStatus], now: datetime) -> dict[str, Any]:
    def moment(value: object) -> str | None:
        return value.isoformat() if hasattr(value, "isoformat") else None

    due = next_due(rows, now)
    return {
        "schema": SCHEMA_VERSION,
        "generated_at": now.isoformat(),
        "interviews": [
            {
                "calendar": row.calendar,
                "uid": row.event.uid,
                "recurrence_id": moment(row.event.recurrence_id),
                "summary": row.event.summary,
                "start": moment(row.event.start),
                "end": moment(row.event.end),
                "reason": row.reason,
                "check_in_reason": row.check_in_reason,
                "reminders": [
                    {"kind": str(s.kind), "state": s.state, "at": moment(s.at), "note": s.note}
                    for s in row.reminders
                ],
            }
            for row in rows
        ],
        "next_due": (
            {"uid": due[0].event.uid, "kind": str(due[1].kind), "at": moment(due[1].at)} if due else None
        ),
    }
