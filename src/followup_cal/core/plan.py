"""When the reminders of each interview fall (DESIGN.md "When the reminders fall").

Pure functions: no I/O, no clock. Whether a time is already in the past is for ``reconcile`` to judge.

Wall-clock times (working hours, dates) are taken in the configured zone; delays are elapsed time, so they
are added in UTC. Aware datetimes that share a ``tzinfo`` compare and subtract by wall clock in Python,
which is wrong across a DST change, so every comparison and sum here goes through UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from followup_cal.core.detect import organisation, outcome
from followup_cal.core.evidence import is_service
from followup_cal.core.holiday_calendar import is_holiday
from followup_cal.core.model import Event, Kind, Moment, end_of
from followup_cal.core.settings import Rules, Settings
from followup_cal.errors import ConfigError

if TYPE_CHECKING:  # the decision reader and its language data load only when an interview has notes
    from followup_cal.core.decision import StatedDecision


@dataclass(frozen=True)
class InterviewPlan:
    event: Event
    thank_you: datetime  # the rule's time, even if in the past (reconcile decides about the past)
    check_in: datetime | None  # None when suppressed
    # Why the check-in falls when it does; filled even when it is suppressed (for `status`).
    check_in_reason: str
    suppressed: str | None  # why there is no check-in, else None
    decision: StatedDecision | None = None  # the stated decision the check-in follows, if any
    # The last session of an interview day: the day's earlier sessions, whose interviewers its thank-you
    # lists too. An earlier session: why it has no thank-you of its own (``thank_you`` is then only the
    # rule's time, from which its check-in is reckoned).
    earlier_sessions: tuple[Event, ...] = ()
    thank_you_joined: str | None = None

    def planned(self, kind: Kind) -> datetime | None:
        """When the reminder of ``kind`` should fall; None when it is not to be written."""
        if kind is Kind.THANK_YOU:
            return None if self.thank_you_joined else self.thank_you
        return self.check_in

    def not_planned_because(self, kind: Kind) -> str | None:
        """Why the reminder of ``kind`` is not planned, else None."""
        return self.thank_you_joined if kind is Kind.THANK_YOU else self.suppressed


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _local(moment: datetime, tz: ZoneInfo) -> datetime:
    return moment.astimezone(tz)


def wall_time(day: date, at: time, tz: ZoneInfo) -> datetime:
    """``day`` at the wall-clock time ``at`` in ``tz``, as a real instant.

    A time inside a spring-forward gap becomes the instant it names with the offset before the change
    (02:30 in Berlin on the changeover day is 03:30 CEST); an ambiguous one is its first occurrence.
    """
    return _local(_utc(datetime.combine(day, at, tzinfo=tz)), tz)


def _is_workday(day: date, rules: Rules) -> bool:
    """One of ``workdays`` that is not a public holiday of ``holidays`` (DESIGN.md)."""
    return day.weekday() in rules.workdays and not is_holiday(day, rules.holidays)


def _is_business_day(day: date, rules: Rules) -> bool:
    """What "N business days" counts: Monday to Friday, except public holidays."""
    return day.weekday() < 5 and not is_holiday(day, rules.holidays)


def _first_workday_on_or_after(day: date, rules: Rules) -> date:
    if not rules.workdays:
        raise ConfigError('rules.workdays is empty: name at least one workday, e.g. workdays = ["mon"]')
    # Holidays can fill several weeks of a one-workday week; past that, the weekday alone decides.
    for offset in range(70):
        candidate = day + timedelta(days=offset)
        if _is_workday(candidate, rules):
            return candidate
    days = (day + timedelta(days=offset) for offset in range(7))
    return next(candidate for candidate in days if candidate.weekday() in rules.workdays)


def in_working_hours(moment: datetime, rules: Rules, tz: ZoneInfo) -> bool:
    """True when ``moment`` lies in ``[work_start, work_end)`` on a workday, by the wall clock in ``tz``."""
    local = _local(moment, tz)
    clock = local.time().replace(tzinfo=None)
    return _is_workday(local.date(), rules) and rules.work_start <= clock < rules.work_end


def next_working_start(moment: datetime, rules: Rules, tz: ZoneInfo) -> datetime:
    """The first workday's ``work_start`` at or after ``moment``, in ``tz``."""
    day = _local(moment, tz).date()
    while True:
        day = _first_workday_on_or_after(day, rules)
        start = wall_time(day, rules.work_start, tz)
        if _utc(start) >= _utc(moment):
            return start
        day += timedelta(days=1)


def _as_datetime(value: Moment, at: time, tz: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return _local(value, tz)
    return wall_time(value, at, tz)


def interview_start(event: Event, rules: Rules, tz: ZoneInfo) -> datetime:
    """The interview's start; an all-day interview starts at ``work_start`` of its first day."""
    return _as_datetime(event.start, rules.work_start, tz)


def interview_end(event: Event, rules: Rules, tz: ZoneInfo) -> datetime:
    """The interview's end: one hour after the start when it has none; an all-day interview ends at
    ``work_end`` of its last day (the stored end date is exclusive)."""
    if isinstance(event.start, datetime):
        end = end_of(event)
        if isinstance(end, datetime):
            return _local(end, tz)
        # A timed start with a date end is malformed: treat it as having no end.
        return _local(event.start + timedelta(hours=1), tz)
    end = end_of(event)
    end_day = end.date() if isinstance(end, datetime) else end
    last_day = max(end_day - timedelta(days=1), event.start)
    return wall_time(last_day, rules.work_end, tz)


def thank_you_time(event: Event, rules: Rules, tz: ZoneInfo) -> datetime:
    """When the thank-you reminder starts, in ``tz``: ``end + thank_you_delay`` if that lies in working
    hours, else the next working-hours start if that is at most ``end + 24h - reminder_minutes``, else
    ``end + thank_you_delay`` after all."""
    end = _utc(interview_end(event, rules, tz))
    candidate = _local(end + rules.thank_you_delay, tz)
    if in_working_hours(candidate, rules, tz):
        return candidate
    next_start = next_working_start(candidate, rules, tz)
    latest = end + timedelta(hours=24) - timedelta(minutes=rules.reminder_minutes)
    if _utc(next_start) <= latest:
        return next_start
    return candidate


def _format_day(day: date, reference: date) -> str:
    text = f"{day:%b} {day.day}"
    return text if day.year == reference.year else f"{text} {day.year}"


def _check_in_after(thank_you: datetime, rules: Rules, tz: ZoneInfo) -> datetime:
    # At least one day, so the check-in always comes after the thank-you even with checkin_wait_days = 0.
    wait = max(rules.checkin_wait_days, 1)
    day = _local(thank_you, tz).date() + timedelta(days=wait)
    return wall_time(_first_workday_on_or_after(day, rules), rules.work_start, tz)


def check_in_time(
    event: Event, thank_you: datetime, rules: Rules, tz: ZoneInfo
) -> tuple[datetime, str, StatedDecision | None]:
    """The check-in by the rules (ignoring later rounds and outcomes): time, reason, decision used."""
    interview_day = interview_start(event, rules, tz).date()
    fallback = _check_in_after(thank_you, rules, tz)
    wait_reason = f"{rules.checkin_wait_days} days after thank-you"
    if not event.notes.strip():
        return fallback, wait_reason, None
    from followup_cal.core.decision import read_decision

    reading = read_decision(event.notes, interview_day, lambda day: _is_business_day(day, rules))
    decision = reading.decision
    if decision is None:
        if reading.disagreement:
            why = f"the notes give two decision dates: {reading.disagreement}"
            return fallback, f"{wait_reason} ({why})", None
        return fallback, wait_reason, None
    stated = wall_time(_first_workday_on_or_after(decision.date, rules), rules.work_start, tz)
    day_text = _format_day(decision.date, interview_day)
    if _utc(stated) <= _utc(thank_you):
        return fallback, f'{wait_reason} (stated "{decision.phrase}" is not after the thank-you)', None
    return stated, f'decision by {day_text} stated ("{decision.phrase}")', decision


def _superseding_round(
    event: Event,
    start: datetime,
    check_in: datetime,
    others: Sequence[tuple[Event, datetime, str | None]],
    org: str | None,
) -> tuple[Event, datetime] | None:
    """The earliest other interview with the same organisation that starts in ``(start, check_in)``."""
    if org is None:
        return None
    rounds = [
        (other_start, other)
        for other, other_start, other_org in others
        if other_org == org and other.uid != event.uid and _utc(start) < _utc(other_start) < _utc(check_in)
    ]
    if not rounds:
        return None
    other_start, other = min(rounds, key=lambda item: _utc(item[0]))
    return other, other_start


def _interview_days(
    interviews: Sequence[Event], orgs: Sequence[str | None], rules: Rules, tz: ZoneInfo
) -> dict[int, tuple[int, list[int]]]:
    """Interview days: sessions with one organisation on one local day. Maps the index of each session
    that is part of a day to ``(index of the day's last session by end, indices of its earlier
    sessions)``. Occurrences of the last session's own series stay apart, as does a scheduling
    service's domain (it names no employer)."""
    groups: dict[tuple[str, date], list[int]] = {}
    for index, (event, org) in enumerate(zip(interviews, orgs, strict=True)):
        if org is not None and not is_service(org):
            day = interview_start(event, rules, tz).date()
            groups.setdefault((org, day), []).append(index)

    def by_end(index: int) -> tuple[datetime, datetime, str]:
        event = interviews[index]
        return _utc(interview_end(event, rules, tz)), _utc(interview_start(event, rules, tz)), event.uid

    days: dict[int, tuple[int, list[int]]] = {}
    for members in groups.values():
        last = max(members, key=by_end)
        earlier = sorted((i for i in members if interviews[i].uid != interviews[last].uid), key=by_end)
        if earlier:
            for index in (*earlier, last):
                days[index] = (last, earlier)
    return days


def plan_interviews(interviews: Sequence[Event], settings: Settings) -> list[InterviewPlan]:
    """One plan per interview, in the order given. ``interviews`` are the detected interviews of all
    calendars together, so a later round in another calendar still supersedes an earlier one."""
    rules, tz = settings.rules, settings.timezone
    facts = [
        (event, interview_start(event, rules, tz), organisation(event, settings.me)) for event in interviews
    ]
    days = _interview_days(interviews, [org for _, _, org in facts], rules, tz)
    plans = []
    for index, (event, start, org) in enumerate(facts):
        earlier: tuple[Event, ...] = ()
        joined: str | None = None
        if index in days:
            last, earlier_indices = days[index]
            if index == last:
                earlier = tuple(interviews[i] for i in earlier_indices)
            else:
                joined = f"with the last session of the day ({facts[last][1]:%H:%M})"
        thank_you = thank_you_time(event, rules, tz)
        check_in, reason, decision = check_in_time(event, thank_you, rules, tz)
        suppressed: str | None = None
        ended_by = outcome(event)
        if ended_by is not None:
            suppressed = f"ended by {ended_by}"
        elif (later := _superseding_round(event, start, check_in, facts, org)) is not None:
            other, other_start = later
            title = other.summary.strip() or "another interview"
            suppressed = f'superseded by "{title}" on {other_start.date().isoformat()}'
        elif joined is not None:  # a session that starts with the last one: one check-in for the day
            suppressed = joined
        plans.append(
            InterviewPlan(
                event=event,
                thank_you=thank_you,
                check_in=None if suppressed else check_in,
                check_in_reason=reason,
                suppressed=suppressed,
                decision=decision,
                earlier_sessions=earlier,
                thank_you_joined=joined,
            )
        )
    return plans
