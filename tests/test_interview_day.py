"""A loop of sessions with one organisation on one day is one interview day: one thank-you, after the last
session, listing everyone the user met; one check-in (issue 11)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from calendar_user import CalendarUser, CallbackStore
from followup_cal.backends.memory import MemoryBackend
from followup_cal.commands.status import State, interview_statuses
from followup_cal.core.model import Attendee, Event, Kind, Person, ReminderMark
from followup_cal.core.plan import InterviewPlan, plan_interviews, thank_you_time
from followup_cal.core.reconcile import Create, Delete, draft_reminder, reconcile
from followup_cal.core.settings import Settings
from scenarios import ME, World

TZ = ZoneInfo("Europe/Berlin")
SETTINGS = Settings(timezone=TZ, me=(ME,))
NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)  # Monday 07:00 in Berlin


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=TZ)


def session(uid: str, start: datetime, interviewer: str, domain: str = "acme.example") -> Event:
    """A one-hour session organised by the company's recruiter, with one interviewer."""
    name = interviewer.split()[0].lower()
    return Event(
        calendar="cal",
        href=f"{uid}.ics",
        etag="e1",
        uid=uid,
        start=start,
        end=start + timedelta(hours=1),
        summary=f"Onsite interview ({uid})",
        organizer=Person(f"rita@{domain}", "Rita Lopez"),
        attendees=(Attendee(f"{name}@{domain}", interviewer, partstat="ACCEPTED"), Attendee(ME, "Me")),
    )


# Wednesday 2 December: three sessions at Acme with a different interviewer each.
ONSITE = (
    session("s1", at(2, 10), "Jane Doe"),
    session("s2", at(2, 11, 15), "Raj Patel"),
    session("s3", at(2, 13, 30), "Mei Chen"),
)


def created(plans: list[InterviewPlan], reminders: tuple[Event, ...] = ()) -> list[Create]:
    actions = reconcile(plans, reminders, {}, SETTINGS, NOW)
    return [a for a in actions if isinstance(a, Create)]


def thank_yous(creates: list[Create]) -> dict[str, Create]:
    return {c.interview.uid: c for c in creates if c.draft.kind is Kind.THANK_YOU}


def test_a_three_session_onsite_gets_one_thank_you_after_the_last_session_for_everyone() -> None:
    # Given in any order, the plan is the same.
    plans = plan_interviews([ONSITE[2], ONSITE[0], ONSITE[1]], SETTINGS)
    creates = created(plans)
    thanks = thank_yous(creates)
    assert list(thanks) == ["s3"]
    draft = thanks["s3"].draft
    assert draft.start == thank_you_time(ONSITE[2], SETTINGS.rules, TZ) == at(2, 16, 30)
    for address in ("rita@acme.example", "jane@acme.example", "raj@acme.example", "mei@acme.example"):
        assert draft.description.count(f"mailto:{address}?") == 1, address
    assert "Thank Rita, Jane, Raj & Mei" in draft.summary
    assert "the 3 sessions of Wed 02 Dec 2026" in draft.description
    # One check-in for the day too: the later sessions supersede the earlier ones' check-ins.
    assert [c.interview.uid for c in creates if c.draft.kind is Kind.CHECK_IN] == ["s3"]
    by_uid = {plan.event.uid: plan for plan in plans}
    assert by_uid["s1"].planned(Kind.THANK_YOU) is None
    assert by_uid["s1"].not_planned_because(Kind.THANK_YOU) == "with the last session of the day (13:30)"


def test_two_organisations_on_the_same_day_get_two_thank_yous() -> None:
    globex = session("g1", at(2, 15), "Bill Lumbergh", "globex.example")
    thanks = thank_yous(created(plan_interviews([*ONSITE[:2], globex], SETTINGS)))
    assert sorted(thanks) == ["g1", "s2"]
    assert "mailto:bill@" not in thanks["s2"].draft.description
    assert "mailto:jane@" in thanks["s2"].draft.description


def test_the_same_organisation_on_two_days_gets_two_thank_yous() -> None:
    next_day = replace(ONSITE[1], start=at(3, 11), end=at(3, 12))
    thanks = thank_yous(created(plan_interviews([ONSITE[0], next_day], SETTINGS)))
    assert sorted(thanks) == ["s1", "s2"]
    assert "mailto:raj@" not in thanks["s1"].draft.description


def test_a_scheduling_service_names_no_organisation_to_join_by() -> None:
    one = session("a", at(2, 10), "Jane Doe", "greenhouse.io")
    two = session("b", at(2, 14), "Raj Patel", "greenhouse.io")
    assert sorted(thank_yous(created(plan_interviews([one, two], SETTINGS)))) == ["a", "b"]


def test_sessions_starting_together_still_leave_one_check_in() -> None:
    twin = replace(ONSITE[0], uid="twin", end=at(2, 12))
    creates = created(plan_interviews([ONSITE[0], twin], SETTINGS))
    assert [(c.interview.uid, c.draft.kind) for c in creates] == [
        ("twin", Kind.THANK_YOU),
        ("twin", Kind.CHECK_IN),
    ]


def _as_written(plan: InterviewPlan, *, edited: bool = False) -> Event:
    draft = draft_reminder(plan, Kind.THANK_YOU, plan.thank_you, SETTINGS)
    return Event(
        calendar="cal",
        href=f"{draft.uid}.ics",
        etag="r1",
        uid=draft.uid,
        start=draft.start,
        end=draft.end,
        summary="My own words" if edited else draft.summary,
        description=draft.description,
        reminder=ReminderMark(draft.kind, draft.source, draft.fingerprint),
    )


@pytest.mark.parametrize("edited", [False, True])
def test_an_earlier_sessions_thank_you_written_alone_goes_unless_edited(edited: bool) -> None:
    alone = plan_interviews([ONSITE[0]], SETTINGS)[0]  # what was written before the day was known
    old = _as_written(alone, edited=edited)
    actions = reconcile(plan_interviews(ONSITE, SETTINGS), [old], {}, SETTINGS, NOW)
    deleted = [a for a in actions if isinstance(a, Delete)]
    if edited:
        assert deleted == []
    else:
        assert [(d.existing.uid, d.why) for d in deleted] == [
            (old.uid, "with the last session of the day (13:30)")
        ]


def seed_onsite(user: CalendarUser) -> None:
    for event in ONSITE:
        attendee = event.attendees[0]
        assert isinstance(event.start, datetime) and isinstance(event.end, datetime)
        user.add(
            event.uid,
            event.summary,
            event.start,
            event.end,
            organizer=("rita@acme.example", "Rita Lopez"),
            attendees=[(attendee.email, attendee.name, "ACCEPTED"), (ME, "Me", "ACCEPTED")],
        )


def test_end_to_end_one_thank_you_and_one_check_in_and_a_quiet_second_sync() -> None:
    backend = MemoryBackend("cal", remember_deleted=True)
    user = CalendarUser(CallbackStore(backend.hrefs, backend.get_raw, backend.put_raw, backend.remove_raw))
    world = World(backend, user)
    seed_onsite(user)
    world.sync()
    reminders = world.reminders()
    assert set(reminders) == {("s3", Kind.THANK_YOU), ("s3", Kind.CHECK_IN)}
    assert reminders[("s3", Kind.THANK_YOU)].start == at(2, 16, 30)
    assert all(world.event(uid).tagged for uid in ("s1", "s2", "s3"))
    before = user.snapshot()
    world.sync()
    assert world.lines == []
    assert user.snapshot() == before
    # status says where the earlier sessions' thank-you went.
    rows = interview_statuses(world.sync(dry_run=True).analyses, world.now, world.settings)
    thanks = {row.event.uid: next(s for s in row.reminders if s.kind is Kind.THANK_YOU) for row in rows}
    assert thanks["s1"].state is State.SUPERSEDED
    assert thanks["s1"].note == "with the last session of the day (13:30)"
    assert thanks["s3"].state is State.WRITTEN
