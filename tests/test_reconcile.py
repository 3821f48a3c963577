"""reconcile: plan + what exists -> actions, with no backend at all."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from followup_cal.core.model import Event, Kind, ReminderDraft, ReminderMark
from followup_cal.core.plan import InterviewPlan
from followup_cal.core.reconcile import Create, Delete, Mark, Update, draft_reminder, plan_clean, reconcile
from followup_cal.core.settings import Settings

TZ = ZoneInfo("Europe/Berlin")
SETTINGS = Settings(timezone=TZ, me=("me@example.com",))
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def interview(uid: str = "iv-1", *, issued: frozenset[Kind] | None = None, tagged: bool = False) -> Event:
    start = datetime(2026, 11, 30, 10, 0, tzinfo=TZ)
    return Event(
        calendar="cal",
        href=f"{uid}.ics",
        etag="e1",
        uid=uid,
        start=start,
        end=start + timedelta(hours=1),
        summary="Phone screen - Acme",
        categories=("Interview",) if tagged else (),
        issued=issued,
    )


def plan_for(
    event: Event,
    *,
    thank_you: datetime | None = None,
    check_in: datetime | None = None,
    suppressed: str | None = None,
) -> InterviewPlan:
    return InterviewPlan(
        event=event,
        thank_you=thank_you or datetime(2026, 11, 30, 13, 0, tzinfo=TZ),
        check_in=None if suppressed else (check_in or datetime(2026, 12, 7, 9, 0, tzinfo=TZ)),
        check_in_reason="5 days after thank-you",
        suppressed=suppressed,
    )


def as_written(draft: ReminderDraft) -> Event:
    """The reminder as a backend would read it back after writing ``draft``."""
    return Event(
        calendar="cal",
        href=f"{draft.uid}.ics",
        etag="r1",
        uid=draft.uid,
        start=draft.start,
        end=draft.end,
        summary=draft.summary,
        description=draft.description,
        notes=draft.description,
        reminder=ReminderMark(draft.kind, draft.source, draft.fingerprint),
    )


def written(plan: InterviewPlan, kind: Kind) -> Event:
    at = plan.thank_you if kind is Kind.THANK_YOU else plan.check_in
    assert at is not None
    return as_written(draft_reminder(plan, kind, at, SETTINGS))


def kinds(actions: list, cls: type) -> list[Kind]:
    return sorted(
        a.draft.kind if hasattr(a, "draft") else a.existing.reminder.kind
        for a in actions
        if isinstance(a, cls)
    )


def test_first_sync_creates_both_and_tags() -> None:
    plan = plan_for(interview())
    actions = reconcile([plan], [], {}, SETTINGS, NOW)
    assert kinds(actions, Create) == [Kind.CHECK_IN, Kind.THANK_YOU]
    marks = [a for a in actions if isinstance(a, Mark)]
    assert marks == [Mark(plan.event, frozenset(Kind))]


def test_second_sync_is_a_no_op() -> None:
    plan = plan_for(interview(issued=frozenset(Kind), tagged=True))
    existing = [written(plan, Kind.THANK_YOU), written(plan, Kind.CHECK_IN)]
    assert reconcile([plan], existing, {}, SETTINGS, NOW) == []


def test_interrupted_run_adopts_reminder_and_records_it() -> None:
    plan = plan_for(interview())
    existing = [written(plan, Kind.THANK_YOU)]
    actions = reconcile([plan], existing, {}, SETTINGS, NOW)
    assert kinds(actions, Create) == [Kind.CHECK_IN]
    assert [a.issued for a in actions if isinstance(a, Mark)] == [frozenset(Kind)]


def test_deleted_by_user_stays_deleted() -> None:
    plan = plan_for(interview(issued=frozenset(Kind), tagged=True))
    existing = [written(plan, Kind.CHECK_IN)]
    assert reconcile([plan], existing, {}, SETTINGS, NOW) == []


def test_moved_interview_moves_unedited_reminders() -> None:
    old = plan_for(interview(issued=frozenset(Kind), tagged=True))
    existing = [written(old, Kind.THANK_YOU), written(old, Kind.CHECK_IN)]
    moved = replace(
        old, thank_you=old.thank_you + timedelta(days=1), check_in=(old.check_in or NOW) + timedelta(days=1)
    )
    actions = reconcile([moved], existing, {}, SETTINGS, NOW)
    updates = [a for a in actions if isinstance(a, Update)]
    assert sorted(u.draft.kind for u in updates) == [Kind.CHECK_IN, Kind.THANK_YOU]
    assert all(u.draft.start == u.existing.start + timedelta(days=1) for u in updates)


def test_edited_reminder_is_never_touched() -> None:
    plan = plan_for(interview(issued=frozenset(Kind), tagged=True))
    edited = replace(written(plan, Kind.THANK_YOU), summary="Thank Jane (my words)")
    later = replace(plan, thank_you=plan.thank_you + timedelta(hours=5), suppressed=None)
    assert [
        a
        for a in reconcile([later], [edited, written(plan, Kind.CHECK_IN)], {}, SETTINGS, NOW)
        if not isinstance(a, Update) or a.draft.kind is not Kind.CHECK_IN
    ] == []
    assert reconcile([], [edited], {plan.event.source_key: "cancelled"}, SETTINGS, NOW) == []


def test_cancelled_interview_removes_future_unedited_only() -> None:
    plan = plan_for(interview(issued=frozenset(Kind), tagged=True))
    past = replace(written(plan, Kind.THANK_YOU))
    future = written(plan, Kind.CHECK_IN)
    later_now = plan.thank_you + timedelta(hours=1)
    actions = reconcile([], [past, future], {plan.event.source_key: "cancelled"}, SETTINGS, later_now)
    assert actions == [Delete(future, "cancelled")]


def test_unknown_source_is_left_alone() -> None:
    plan = plan_for(interview(issued=frozenset(Kind), tagged=True))
    assert reconcile([], [written(plan, Kind.CHECK_IN)], {}, SETTINGS, NOW) == []


def test_outcome_removes_future_check_in() -> None:
    plan = plan_for(interview(issued=frozenset(Kind), tagged=True))
    existing = [written(plan, Kind.THANK_YOU), written(plan, Kind.CHECK_IN)]
    ended = replace(plan, check_in=None, suppressed="ended by #offer")
    actions = reconcile([ended], existing, {}, SETTINGS, NOW)
    assert actions == [Delete(existing[1], "ended by #offer")]


def test_nothing_written_in_the_past() -> None:
    plan = plan_for(interview())
    late_now = plan.thank_you + timedelta(days=2)
    actions = reconcile([plan], [], {}, SETTINGS, late_now)
    assert kinds(actions, Create) == [Kind.CHECK_IN]
    assert [a.issued for a in actions if isinstance(a, Mark)] == [frozenset({Kind.CHECK_IN})]


def test_past_reminder_is_history_unless_it_moves_ahead() -> None:
    plan = plan_for(interview(issued=frozenset(Kind), tagged=True))
    existing = [written(plan, Kind.THANK_YOU), written(plan, Kind.CHECK_IN)]
    later_now = plan.thank_you + timedelta(hours=1)
    # The rule now gives another past time (e.g. a config change): history stays.
    shifted = replace(plan, thank_you=plan.thank_you - timedelta(minutes=30))
    assert reconcile([shifted], existing, {}, SETTINGS, later_now) == []
    # The interview moved into the future: the past thank-you follows it.
    ahead = replace(plan, thank_you=later_now + timedelta(days=3))
    actions = reconcile([ahead], existing, {}, SETTINGS, later_now)
    assert [type(a) for a in actions] == [Update]


def test_duplicates_are_removed_keeping_one() -> None:
    plan = plan_for(interview(issued=frozenset(Kind), tagged=True))
    first = written(plan, Kind.THANK_YOU)
    twin = replace(first, uid="fz-other", href="fz-other.ics")
    actions = reconcile([plan], [first, twin, written(plan, Kind.CHECK_IN)], {}, SETTINGS, NOW)
    assert actions == [Delete(twin, "duplicate")]


@pytest.mark.parametrize("edited_field", ["summary", "start", "description"])
def test_clean_keeps_edited_reminders(edited_field: str) -> None:
    plan = plan_for(interview(issued=frozenset(Kind), tagged=True))
    reminder = written(plan, Kind.THANK_YOU)
    changes = {"summary": "mine", "start": reminder.start + timedelta(hours=1), "description": "notes"}
    edited = replace(reminder, **{edited_field: changes[edited_field]})
    actions = plan_clean([plan.event], [reminder, edited])
    assert Delete(reminder, "clean") in actions and all(
        not (isinstance(a, Delete) and a.existing is edited) for a in actions
    )
    assert Mark(plan.event, None) in actions
