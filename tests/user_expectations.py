"""What the person editing a calendar (tests/calendar_user.py) expects to find after any sync, for the
Hypothesis state machines (test_stateful, test_stateful_faults): every event they added unchanged but for
followup-cal's tag lines (byte for byte when it is not an interview), and every reminder they edited
unchanged."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from calendar_user import CalendarUser

TAG_PREFIXES = (b"CATEGORIES:Interview", b"X-FOLLOWUP-CAL-ISSUED")


def without_tag_lines(component_text: bytes) -> list[bytes]:
    unfolded = component_text.replace(b"\r\n ", b"").split(b"\r\n")
    joined = any(line.startswith(b"X-FOLLOWUP-CAL-ISSUED;X-FOLLOWUP-CAL-TAG=JOINED") for line in unfolded)
    kept = [line for line in unfolded if not line.startswith(TAG_PREFIXES)]
    # The tag joins the event's own CATEGORIES line when it has one.
    return [
        line[: -len(b",Interview")]
        if joined and line.startswith(b"CATEGORIES") and line.endswith(b",Interview")
        else line
        for line in kept
    ]


class UserExpectations:
    def __init__(self, user: CalendarUser) -> None:
        self.user = user
        self.interviews: list[str] = []
        self.others: list[str] = []
        self.user_text: dict[str, list[bytes]] = {}  # UID -> its components as the user left them
        self.edited_reminders: dict[str, bytes] = {}  # UID -> the reminder as the user left it

    def remember(self, uid: str) -> None:
        """The user added or changed this event: this is how it must stay (tags aside)."""
        self.user_text[uid] = [c.to_ical() for c in self.user.components(uid)]

    def added(self, uid: str, *, interview: bool) -> None:
        (self.interviews if interview else self.others).append(uid)
        self.remember(uid)

    def delete_interview(self, uid: str) -> None:
        self.user.delete(uid)
        self.interviews.remove(uid)
        del self.user_text[uid]

    def reminder_edited(self, uid: str) -> None:
        self.edited_reminders[uid] = self.user.components(uid)[0].to_ical()

    def edit_reminder(self, uid: str, change: str, *, summary: str, shift: timedelta) -> None:
        """The user deletes the reminder, renames it to ``summary`` or moves it by ``shift``."""
        if change == "delete":
            self.user.delete(uid)
            self.edited_reminders.pop(uid, None)
            return
        if change == "rename":
            self.user.set(uid, "SUMMARY", summary)
        else:
            self.user.move(uid, shift)
        self.reminder_edited(uid)

    def check(self, stored: Callable[[str], list[bytes]]) -> None:
        """``stored(uid)``: the text of each stored component with that UID ([] when there is none)."""
        for uid, expected in self.user_text.items():
            actual = stored(uid)
            if uid in self.others:
                assert actual == expected
            else:
                assert [without_tag_lines(a) for a in actual] == [without_tag_lines(e) for e in expected]
        for uid, text in self.edited_reminders.items():
            assert stored(uid) == [text]
