"""Hypothesis state machine over the memory backend with injected faults (issue 5, item 7).

Between syncs a user adds, moves, annotates, cancels and deletes interviews and edits, moves or deletes
reminders; faults are queued for the next writes (tests/faulty_backend.py): writes that fail before they
happen, writes that happen but report an error, and races where the user edits the very object (or another
run creates the very reminder) just before the write. A sync may fail while faults are on; whatever happens:

- no duplicates: at most one reminder per interview occurrence and kind;
- no user event altered but for the tag lines (CATEGORIES:Interview, X-FOLLOWUP-CAL-ISSUED);
- no reminder the user edited is altered (or removed) again;
- once the faults stop, a sync succeeds and a second one is a no-op (no line, no byte changed).
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import icalendar
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from calendar_user import CalendarUser, CallbackStore
from faulty_backend import FAULTS, FaultyBackend
from followup_cal.backends.memory import MemoryBackend
from followup_cal.core.model import Kind
from followup_cal.ical import read as ical
from followup_cal.run.sync import RunReport, run
from scenarios import NOW, TZ, World, local
from user_expectations import UserExpectations

TITLES = ["Phone screen", "Technical interview", "Hiring manager call", "Final round"]
DOMAINS = ["acme.example", "globex.example", "gmail.com"]
NOTES = ["#offer", "decision: in 2 weeks", "they decide by Friday", "#not-interview", "nice chat"]
EXAMPLES = 50
STEPS = 40

TOTALS: Counter[str] = Counter()


class FaultMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        memory = MemoryBackend("cal", remember_deleted=True)
        self.memory = memory
        self.user = CalendarUser(
            CallbackStore(memory.hrefs, memory.get_raw, memory.put_raw, memory.remove_raw)
        )
        self.backend = FaultyBackend(memory, self._edit_during_write)
        self.world = World(self.backend, self.user, now=NOW)  # type: ignore[arg-type]
        self.expect = UserExpectations(self.user)
        self.counter = 0
        self.checked_after: Counter[str] = Counter()  # the faults injected when faults_stop last ran
        TOTALS["examples"] += 1

    def teardown(self) -> None:
        TOTALS.update(self.backend.injected)
        TOTALS["writes"] += self.backend.writes

    # --- helpers -----------------------------------------------------------------------------------

    def _edit_during_write(self, href: str) -> None:
        """A user edit of the object a write is about to change (its etag moves under the write)."""
        [uid] = ical.uids_in(self.memory.get_raw(href))
        if uid in self.expect.user_text:
            self.user.append_notes(uid, "Edited on the phone while followup-cal was writing.")
            self.expect.remember(uid)
        else:
            self.user.set(uid, "SUMMARY", "renamed on the phone during a sync")
            self.expect.reminder_edited(uid)

    def _sync(self) -> tuple[RunReport, list[str]]:
        lines: list[str] = []
        report = run(self.world.settings, {"cal": self.backend}, now=self.world.now, report=lines.append)  # type: ignore[dict-item]
        return report, lines

    # --- the user ----------------------------------------------------------------------------------

    @rule(
        day=st.integers(0, 10),
        hour=st.integers(7, 20),
        title=st.sampled_from(TITLES),
        domain=st.sampled_from(DOMAINS),
        count=st.integers(1, 3),
        other=st.booleans(),
    )
    def add_events(self, day: int, hour: int, title: str, domain: str, count: int, other: bool) -> None:
        for index in range(count):
            self.counter += 1
            uid = f"{'other' if other else 'iv'}-{self.counter}"
            start = local(30, hour) + timedelta(days=day - 2 + 2 * index)
            summary = "Lunch with Sam" if other else f"{title} - {domain}"
            self.user.add(uid, summary, start, start + timedelta(hours=1), organizer=(f"hr@{domain}", "HR"))
            self.expect.added(uid, interview=not other)

    @precondition(lambda self: self.expect.interviews)
    @rule(data=st.data(), change=st.sampled_from(["move", "note", "cancel", "delete"]))
    def edit_interview(self, data: st.DataObject, change: str) -> None:
        uid = data.draw(st.sampled_from(self.expect.interviews))
        if change == "delete":
            self.expect.delete_interview(uid)
            return
        if change == "move":
            self.user.move(uid, timedelta(hours=data.draw(st.integers(-30, 60))))
        elif change == "note":
            self.user.append_notes(uid, data.draw(st.sampled_from(NOTES)))
        else:
            self.user.cancel(uid)
        self.expect.remember(uid)

    @rule(data=st.data(), change=st.sampled_from(["delete", "rename", "move"]))
    def edit_reminder(self, data: st.DataObject, change: str) -> None:
        reminders = sorted(r.uid for r in self.world.reminders().values())
        if not reminders:
            return
        uid = data.draw(st.sampled_from(reminders))
        self.expect.edit_reminder(uid, change, summary="in my own words", shift=timedelta(hours=2))

    @rule(hours=st.integers(1, 48))
    def time_passes(self, hours: int) -> None:
        self.world.now += timedelta(hours=hours)

    # --- faults and syncs --------------------------------------------------------------------------

    @rule(faults=st.lists(st.sampled_from(FAULTS), min_size=1, max_size=10))
    def sync_with_faults(self, faults: list[str]) -> None:
        """Queues faults for the next writes (those this sync does not reach wait for later syncs)."""
        self.backend.faults.extend(faults)
        report, _ = self._sync()
        TOTALS["syncs"] += 1
        TOTALS["failed syncs"] += bool(report.failures)

    @precondition(lambda self: self.backend.injected != self.checked_after)
    @rule()
    def faults_stop(self) -> None:
        """With no fault, a sync succeeds and the next one is a no-op (queued faults wait for later)."""
        self.backend.paused = True
        try:
            report, _ = self._sync()
            assert not report.failures, report.failures
            before = self.user.snapshot()
            report, lines = self._sync()
            assert not report.failures and lines == [], lines
            assert self.user.snapshot() == before
        finally:
            self.backend.paused = False
        TOTALS["clean second syncs"] += 1
        self.checked_after = self.backend.injected.copy()

    # --- invariants --------------------------------------------------------------------------------

    def _stored(self) -> dict[str, list[bytes]]:
        """Every stored VEVENT's text by UID, each object parsed once (CalendarUser looks one UID up by
        parsing objects until it finds it: quadratic for an invariant that checks them all)."""
        found: dict[str, list[bytes]] = {}
        for href in self.memory.hrefs():
            calendar = icalendar.Calendar.from_ical(self.memory.get_raw(href))
            for component in calendar.walk("VEVENT"):
                found.setdefault(str(component.get("UID")), []).append(component.to_ical())
        return found

    @invariant()
    def invariants(self) -> None:
        reminders = self.world.reminders()  # asserts at most one reminder per (source, kind)
        assert all(kind in Kind for _source, kind in reminders)
        stored = self._stored()
        self.expect.check(lambda uid: stored.get(uid, []))


def test_syncs_survive_injected_faults() -> None:
    started = time.perf_counter()
    run_state_machine_as_test(
        FaultMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            derandomize=True,  # the same examples each run: the figures in the README are reproducible
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    faults = sum(TOTALS[fault] for fault in FAULTS if fault != "ok")
    print(
        f"stateful faults: {TOTALS['examples']} examples, {TOTALS['syncs']} syncs with faults "
        f"({TOTALS['failed syncs']} failed), {faults} faults injected "
        f"({', '.join(f'{f} {TOTALS[f]}' for f in FAULTS if f != 'ok')}) in {TOTALS['writes']} writes, "
        f"{TOTALS['clean second syncs']} clean second syncs, {time.perf_counter() - started:.1f} s"
    )
    assert faults > 50 and TOTALS["failed syncs"] > 10 and TOTALS["clean second syncs"] > 10
    assert TZ is not None
