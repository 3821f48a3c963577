"""The user changes the calendar while a sync writes: the sync re-reads and re-plans, overwriting nothing."""

from __future__ import annotations

from datetime import timedelta

from calendar_user import CalendarUser, CallbackStore
from followup_cal.backends.memory import MemoryBackend
from followup_cal.core.model import Event, Kind, ReminderDraft
from scenarios import World, local, seed_week


class UserDeletesDuringUpdate(MemoryBackend):
    """The user deletes a reminder just before followup-cal moves it."""

    armed = False

    def update_reminder(self, existing: Event, draft: ReminderDraft) -> Event:
        if self.armed:
            self.armed = False
            self.remove_raw(existing.href)
        return super().update_reminder(existing, draft)


def test_reminder_deleted_while_being_moved_stays_deleted() -> None:
    backend = UserDeletesDuringUpdate("cal")
    world = World(
        backend,
        CalendarUser(CallbackStore(backend.hrefs, backend.get_raw, backend.put_raw, backend.remove_raw)),
    )
    seed_week(world.user)
    world.sync()
    world.user.move("globex-tech", timedelta(days=1))
    backend.armed = True
    world.sync()
    reminders = world.reminders()
    # The thank-you (updated first) was deleted mid-run and stays deleted; the check-in moved.
    assert ("globex-tech", Kind.THANK_YOU) not in reminders
    assert reminders[("globex-tech", Kind.CHECK_IN)].start == local(8, 9, month=12)
    world.sync()
    assert world.lines == []
