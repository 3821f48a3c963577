"""Hypothesis state machine: random interviews and random user actions between syncs, and an app that
re-saves random objects without followup-cal's marks (tests/rewriting_client.py).

After every sync: no duplicate reminders, a second sync is a no-op, events that are not interviews are
untouched byte for byte, interviews changed only in their tag lines, and reminders the user edited are
untouched. At every step: at most one reminder per interview and kind, marks or not, and no reminder
tagged or given reminders of its own.
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
from followup_cal.core.model import Kind, reminder_uid
from followup_cal.core.unmarked import MAX_UID_ATTEMPTS
from rewriting_client import EVERYTHING_STRIPPED, RESERIALISED, STRIPPED, Rewrite, RewritingClient
from scenarios import NOW, TZ, World, local
from user_expectations import UserExpectations

TITLES = ["Phone screen", "Technical interview", "Hiring manager call", "Final round", "Onsite"]
OTHER_TITLES = ["Lunch", "Dentist", "Mock interview", "Gym"]
DOMAINS = ["acme.example", "globex.example", "gmail.com"]
NOTES = ["#offer", "decision: in 2 weeks", "they will decide by Friday", "#not-interview", "nice chat"]
REWRITES = [STRIPPED, EVERYTHING_STRIPPED, RESERIALISED, Rewrite(move=timedelta(hours=2))]


class SyncMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="followup-cal-state-"))
        self.user = CalendarUser(FolderStore(self.folder))
        self.world = World(VdirBackend("cal", self.folder), self.user, now=NOW)
        self.expect = UserExpectations(self.user)
        self.app = RewritingClient(FolderStore(self.folder))
        self.counter = 0
        self.derived: dict[str, tuple[str, Kind]] = {}  # every reminder UID of every event the user added

    def teardown(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def _new_uid(self, prefix: str) -> str:
        self.counter += 1
        uid = f"{prefix}-{self.counter}"
        for kind in Kind:
            for attempt in range(MAX_UID_ATTEMPTS):
                self.derived[reminder_uid(uid, kind, attempt)] = (uid, kind)
        return uid

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

    @rule(data=st.data(), rewrite=st.sampled_from(REWRITES))
    def an_app_resaves_an_object(self, data: st.DataObject, rewrite: Rewrite) -> None:
        """A phone re-saves an event or reminder the user touched, dropping what it does not know;
        with ``move``, the user moved it."""
        uids = self.app.uids()
        if not uids:
            return
        uid = data.draw(st.sampled_from(uids))
        self.app.resave(uid, rewrite)
        if uid in self.expect.user_text:
            self.expect.remember(uid)
        elif rewrite.move or uid in self.expect.edited_reminders:
            self.expect.reminder_edited(uid)

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
    def at_most_one_reminder_per_interview_and_kind_and_none_tagged(self) -> None:
        listing = self.world.backend.list_window(NOW - timedelta(days=90), NOW + timedelta(days=300), TZ)
        seen: set[tuple[str, Kind]] = set()
        for event in listing.events:
            if event.uid not in self.derived:
                assert event.reminder is None and event.uid.startswith(("iv-", "other-")), event.summary
                continue
            key = self.derived[event.uid]
            assert key not in seen, f"a second {key[1]} reminder for {key[0]}"
            seen.add(key)
            assert not event.tagged and event.issued is None, f"reminder {event.summary!r} was tagged"

    @invariant()
    def user_events_untouched_but_for_the_tag_and_edited_reminders_untouched(self) -> None:
        self.expect.check(lambda uid: [c.to_ical() for c in self.user.components(uid)])


SyncMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=20, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestSyncMachine = SyncMachine.TestCase
