"""Hypothesis state machine: random interviews and random user actions between syncs.

After every sync: no duplicate reminders, a second sync is a no-op, events that are not interviews are
untouched byte for byte, interviews changed only in their tag lines, and reminders the user edited are
untouched.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from calendar_user import CalendarUser, FolderStore
from followup_cal.backends.vdir import VdirBackend
from scenarios import NOW, World, local
from user_expectations import UserExpectations

TITLES = ["Phone screen", "Technical interview", "Hiring manager call", "Final round", "Onsite"]
OTHER_TITLES = ["Lunch", "Dentist", "Mock interview", "Gym"]
DOMAINS = ["acme.example", "globex.example", "gmail.com"]
NOTES = ["#offer", "decision: in 2 weeks", "they will decide by Friday", "#not-interview", "nice chat"]


class SyncMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="followup-cal-state-"))
        self.user = CalendarUser(FolderStore(self.folder))
        self.world = World(VdirBackend("cal", self.folder), self.user, now=NOW)
        self.expect = UserExpectations(self.user)
        self.counter = 0

    def teardown(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def _new_uid(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter}"

    @rule(
        day=st.integers(0, 12),
        hour=st.integers(6, 21),
        minutes=st.sampled_from([30, 45, 60, 120]),
        title=st.sampled_from(TITLES),
        domain=st.sampled_from(DOMAINS),
    )
    def add_interview(self, day: int, hour: int, minutes: int, title: str, domain: str) -> None:
        uid = self._new_uid("iv")
        start = local(30, hour) + timedelta(days=day - 3)
        self.user.add(
            uid,
            f"{title} - {domain}",
            start,
            start + timedelta(minutes=minutes),
            organizer=(f"hr@{domain}", "HR"),
        )
        self.expect.added(uid, interview=True)

    @rule(day=st.integers(0, 12), title=st.sampled_from(OTHER_TITLES))
    def add_other(self, day: int, title: str) -> None:
        uid = self._new_uid("other")
        start = local(30, 12) + timedelta(days=day - 3)
        self.user.add(uid, title, start, start + timedelta(hours=1))
        self.expect.added(uid, interview=False)

    @precondition(lambda self: self.expect.interviews)
    @rule(data=st.data(), hours=st.integers(-48, 96))
    def move_interview(self, data: st.DataObject, hours: int) -> None:
        uid = data.draw(st.sampled_from(self.expect.interviews))
        self.user.move(uid, timedelta(hours=hours))
        self.expect.remember(uid)

    @precondition(lambda self: self.expect.interviews)
    @rule(data=st.data(), note=st.sampled_from(NOTES))
    def add_notes(self, data: st.DataObject, note: str) -> None:
        uid = data.draw(st.sampled_from(self.expect.interviews))
        self.user.append_notes(uid, note)
        self.expect.remember(uid)

    @precondition(lambda self: self.expect.interviews)
    @rule(data=st.data())
    def cancel_interview(self, data: st.DataObject) -> None:
        uid = data.draw(st.sampled_from(self.expect.interviews))
        self.user.cancel(uid)
        self.expect.remember(uid)

    @precondition(lambda self: self.expect.interviews)
    @rule(data=st.data())
    def delete_interview(self, data: st.DataObject) -> None:
        self.expect.delete_interview(data.draw(st.sampled_from(self.expect.interviews)))

    @rule(data=st.data(), action=st.sampled_from(["delete", "rename", "move"]))
    def touch_reminder(self, data: st.DataObject, action: str) -> None:
        reminders = sorted(r.uid for r in self.world.reminders().values())
        if not reminders:
            return
        uid = data.draw(st.sampled_from(reminders))
        self.expect.edit_reminder(uid, action, summary="my own words", shift=timedelta(hours=1))

    @rule(data=st.data(), hours=st.integers(-30, 30).filter(bool))
    def edit_reminder_then_move_its_interview(self, data: st.DataObject, hours: int) -> None:
        reminders = sorted(self.world.reminders().values(), key=lambda r: r.uid)
        ours = [r for r in reminders if r.reminder and r.reminder.source in self.expect.interviews]
        if not ours:
            return
        reminder = data.draw(st.sampled_from(ours))
        assert reminder.reminder is not None
        self.user.set(reminder.uid, "SUMMARY", "in my own words")
        self.expect.reminder_edited(reminder.uid)
        self.user.move(reminder.reminder.source, timedelta(hours=hours))
        self.expect.remember(reminder.reminder.source)

    @rule(hours=st.integers(1, 72))
    def time_passes(self, hours: int) -> None:
        self.world.now += timedelta(hours=hours)

    @rule()
    def sync(self) -> None:
        self.world.sync()
        self.world.reminders()  # asserts no duplicates
        before = self.user.snapshot()
        self.world.sync()
        assert self.world.lines == [], self.world.lines
        assert self.user.snapshot() == before

    @invariant()
    def user_events_untouched_but_for_the_tag_and_edited_reminders_untouched(self) -> None:
        self.expect.check(lambda uid: [c.to_ical() for c in self.user.components(uid)])


SyncMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=20, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestSyncMachine = SyncMachine.TestCase
