"""The end-to-end scenario of the brief, written once and run against every backend.

A subclass provides the fixture ``world``: a :class:`World` with a backend and a :class:`CalendarUser`
that edits the same calendar the way a calendar app would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from calendar_user import CalendarUser
from followup_cal.backends.base import CalendarBackend
from followup_cal.core.model import Event, Kind
from followup_cal.core.settings import CalendarSettings, Settings
from followup_cal.run.sync import RunReport, run
from followup_cal.run.sync_state import SyncCache

TZ = ZoneInfo("Europe/Berlin")
ME = "me@example.com"
# Monday 30 November 2026, 07:00 in Berlin.
NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


def local(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TZ)


@dataclass
class World:
    backend: CalendarBackend
    user: CalendarUser
    now: datetime = NOW
    lines: list[str] = field(default_factory=list)
    cache: SyncCache | None = None  # a run with the sync cache must end the same as one without

    @property
    def settings(self) -> Settings:
        return Settings(
            timezone=TZ,
            me=(ME,),
            calendars={"cal": CalendarSettings("cal", "memory")},
        )

    def sync(self, *, dry_run: bool = False, clean: bool = False) -> RunReport:
        self.lines = []
        report = run(
            self.settings,
            {"cal": self.backend},
            now=self.now,
            dry_run=dry_run,
            clean=clean,
            report=self.lines.append,
            cache=self.cache,
        )
        assert not report.failures, report.failures
        return report

    def reminders(self) -> dict[tuple[str, Kind], Event]:
        listing = self.backend.list_window(self.now - timedelta(days=60), self.now + timedelta(days=200), TZ)
        found: dict[tuple[str, Kind], Event] = {}
        for event in listing.events:
            if event.reminder is not None:
                key = (event.reminder.source, event.reminder.kind)
                assert key not in found, f"duplicate reminder {key}"
                found[key] = event
        return found

    def event(self, uid: str) -> Event:
        listing = self.backend.list_window(self.now - timedelta(days=60), self.now + timedelta(days=200), TZ)
        return next(e for e in listing.events if e.uid == uid)


def seed_week(user: CalendarUser) -> None:
    """Three interviews and two events that are not."""
    user.add(
        "acme-screen",
        "Phone screen - Acme",
        local(30, 10),
        local(30, 11),
        organizer=("jane@acme.example", "Jane Doe"),
        attendees=[("jane@acme.example", "Jane Doe", "ACCEPTED"), (ME, "Me", "ACCEPTED")],
        description="We will decide within two weeks.",
    )
    user.add(
        "globex-tech",
        "Technical interview - Globex",
        local(1, 17, month=12),
        local(1, 18, month=12),
        organizer=("raj@globex.example", "Raj Patel"),
    )
    user.add("lunch", "Lunch with Sam", local(2, 12, month=12), local(2, 13, month=12))
    user.add("mock", "Mock interview with Priya", local(3, 9, month=12), local(3, 10, month=12))


Check = Callable[[World], None]


class SyncScenarios:
    """Subclasses provide a ``world`` fixture."""

    def test_first_sync_writes_exactly_the_rules(self, world: World) -> None:
        seed_week(world.user)
        world.sync()
        reminders = world.reminders()
        assert set(reminders) == {
            ("acme-screen", Kind.THANK_YOU),
            ("acme-screen", Kind.CHECK_IN),
            ("globex-tech", Kind.THANK_YOU),
            ("globex-tech", Kind.CHECK_IN),
        }
        # Mon 10-11 → thank-you 13:00 the same day; decision within two weeks → Mon 14 Dec 09:00.
        assert reminders[("acme-screen", Kind.THANK_YOU)].start == local(30, 13)
        assert reminders[("acme-screen", Kind.CHECK_IN)].start == local(14, 9, month=12)
        # Tue 17-18 → 20:00 is outside hours; Wed 09:00 is within 24 h → Wed 09:00; +5 days = Mon 7 Dec.
        assert reminders[("globex-tech", Kind.THANK_YOU)].start == local(2, 9, month=12)
        assert reminders[("globex-tech", Kind.CHECK_IN)].start == local(7, 9, month=12)
        interview = world.event("acme-screen")
        assert interview.tagged and interview.issued == frozenset(Kind)
        assert any("Jane" in r.summary for r in reminders.values())
        assert len([line for line in world.lines if "wrote" in line]) == 4

    def test_second_sync_is_silent_and_changes_no_byte(self, world: World) -> None:
        seed_week(world.user)
        world.sync()
        before = world.user.snapshot()
        world.sync()
        assert world.lines == []
        assert world.user.snapshot() == before

    def test_non_interviews_never_change(self, world: World) -> None:
        seed_week(world.user)
        lunch = [c.to_ical() for c in world.user.components("lunch")]
        mock = [c.to_ical() for c in world.user.components("mock")]
        world.sync()
        world.sync(clean=True)
        assert [c.to_ical() for c in world.user.components("lunch")] == lunch
        assert [c.to_ical() for c in world.user.components("mock")] == mock

    def test_dry_run_changes_nothing(self, world: World) -> None:
        seed_week(world.user)
        before = world.user.snapshot()
        world.sync(dry_run=True)
        assert world.user.snapshot() == before
        assert sum("would write" in line for line in world.lines) == 4

    def test_moving_an_interview_moves_its_reminders(self, world: World) -> None:
        seed_week(world.user)
        world.sync()
        world.user.move("globex-tech", timedelta(days=1))
        world.sync()
        reminders = world.reminders()
        assert reminders[("globex-tech", Kind.THANK_YOU)].start == local(3, 9, month=12)
        assert reminders[("globex-tech", Kind.CHECK_IN)].start == local(8, 9, month=12)
        assert sum("moved" in line for line in world.lines) == 2
        world.sync()
        assert world.lines == []

    def test_deleted_reminder_is_not_recreated(self, world: World) -> None:
        seed_week(world.user)
        world.sync()
        reminder = world.reminders()[("acme-screen", Kind.CHECK_IN)]
        world.user.delete(reminder.uid)
        world.sync()
        assert ("acme-screen", Kind.CHECK_IN) not in world.reminders()
        assert world.lines == []

    def test_edited_reminder_is_never_touched_again(self, world: World) -> None:
        seed_week(world.user)
        world.sync()
        reminder = world.reminders()[("globex-tech", Kind.CHECK_IN)]
        world.user.set(reminder.uid, "SUMMARY", "Call Raj about Globex")
        edited = world.user.components(reminder.uid)[0].to_ical()
        world.user.move("globex-tech", timedelta(days=1))
        world.sync()
        assert world.user.components(reminder.uid)[0].to_ical() == edited
        assert world.reminders()[("globex-tech", Kind.THANK_YOU)].start == local(3, 9, month=12)
        world.user.cancel("globex-tech")
        world.sync()
        world.sync(clean=True)
        assert world.user.components(reminder.uid)[0].to_ical() == edited

    def test_cancelling_removes_future_unedited_reminders(self, world: World) -> None:
        seed_week(world.user)
        world.sync()
        world.user.cancel("acme-screen")
        world.sync()
        reminders = world.reminders()
        assert ("acme-screen", Kind.THANK_YOU) not in reminders
        assert ("acme-screen", Kind.CHECK_IN) not in reminders
        assert ("globex-tech", Kind.CHECK_IN) in reminders

    def test_deleting_an_interview_removes_its_future_reminders(self, world: World) -> None:
        seed_week(world.user)
        world.sync()
        world.user.delete("globex-tech")
        world.sync()
        assert {key[0] for key in world.reminders()} == {"acme-screen"}

    def test_outcome_hashtag_removes_the_check_in(self, world: World) -> None:
        seed_week(world.user)
        world.sync()
        world.user.append_notes("acme-screen", "Got the offer! #offer")
        world.sync()
        reminders = world.reminders()
        assert ("acme-screen", Kind.CHECK_IN) not in reminders
        assert ("acme-screen", Kind.THANK_YOU) in reminders

    def test_decision_line_moves_the_check_in(self, world: World) -> None:
        seed_week(world.user)
        world.sync()
        world.user.append_notes("globex-tech", "decision: 2026-12-18")
        world.sync()
        assert world.reminders()[("globex-tech", Kind.CHECK_IN)].start == local(18, 9, month=12)

    def test_past_reminders_stay_as_history(self, world: World) -> None:
        seed_week(world.user)
        world.sync()
        world.now = NOW + timedelta(days=3)
        before = world.user.snapshot()
        world.sync()
        assert world.lines == []
        assert world.user.snapshot() == before

    def test_clean_removes_every_unedited_reminder_and_tag(self, world: World) -> None:
        seed_week(world.user)
        world.sync()
        world.sync(clean=True)
        assert world.reminders() == {}
        interview = world.event("acme-screen")
        assert not interview.tagged and interview.issued is None
        # and a new sync puts everything back, under UIDs the server accepts
        world.sync()
        assert len(world.reminders()) == 4

    def test_later_round_supersedes_the_check_in(self, world: World) -> None:
        seed_week(world.user)
        world.sync()
        world.user.add(
            "acme-final",
            "Final round - Acme",
            local(4, 11, month=12),
            local(4, 13, month=12),
            organizer=("jane@acme.example", "Jane Doe"),
        )
        world.sync()
        reminders = world.reminders()
        assert ("acme-screen", Kind.CHECK_IN) not in reminders
        assert ("acme-final", Kind.THANK_YOU) in reminders

    def test_recurring_interview_gets_reminders_per_occurrence(self, world: World) -> None:
        world.user.add(
            "weekly-panel",
            "Panel interview - Initech",
            local(30, 14),
            local(30, 15),
            rrule="FREQ=WEEKLY;COUNT=2",
            organizer=("bill@initech.example", "Bill"),
        )
        world.sync()
        sources = {key[0] for key in world.reminders()}
        assert sources == {"weekly-panel;20261130T130000Z", "weekly-panel;20261207T130000Z"}
        world.sync()
        assert world.lines == []

    def test_one_interview_in_a_series_does_not_make_the_series_interviews(self, world: World) -> None:
        world.user.add(
            "weekly-sync",
            "Team sync",
            local(30, 14),
            local(30, 15),
            rrule="FREQ=WEEKLY;COUNT=4",
        )
        world.user.add_override("weekly-sync", local(7, 14, month=12), "Interview with Acme")
        world.sync()
        assert {key[0] for key in world.reminders()} == {"weekly-sync;20261207T130000Z"}
        world.sync()
        assert world.lines == []
        assert {key[0] for key in world.reminders()} == {"weekly-sync;20261207T130000Z"}

    def test_a_series_the_user_tagged_stays_interviews(self, world: World) -> None:
        world.user.add(
            "weekly-coaching",
            "Coaching with Acme",
            local(30, 14),
            local(30, 15),
            rrule="FREQ=WEEKLY;COUNT=2",
            categories=["Interview"],
            organizer=("coach@acme.example", "Coach"),
        )
        world.sync()
        assert len({key[0] for key in world.reminders()}) == 2
        world.now += timedelta(days=8)
        world.sync()
        assert world.lines == []
        assert len({key[0] for key in world.reminders()}) == 2
