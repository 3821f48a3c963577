"""The contract every CalendarBackend keeps, as one test suite (like vdirsyncer's tests/storage).

A test module subclasses :class:`BackendContract` and provides a ``harness`` fixture returning a
:class:`BackendHarness`: the backend under test plus a way to seed and change a user's events the way
the user's own calendar app would (directly in the store, not through the backend). Nothing here knows
which backend it tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import pytest

from followup_cal.backends.base import CalendarBackend, TracksChanges
from followup_cal.core.model import (
    Event,
    Kind,
    MarkUpdate,
    ReminderDraft,
    event_is_edited,
    reminder_uid,
    source_key,
)
from followup_cal.errors import AlreadyExists, PreconditionFailed

TZ = ZoneInfo("Europe/Berlin")
WINDOW_START = datetime(2030, 3, 1, tzinfo=TZ)
WINDOW_END = datetime(2030, 4, 1, tzinfo=TZ)
ATTENDEES = (
    ("rita@acme.example", "Rita Recruiter", "ACCEPTED"),
    ("me@example.org", "Me Myself", "NEEDS-ACTION"),
)


class BackendHarness(Protocol):
    @property
    def backend(self) -> CalendarBackend:
        """The backend under test."""
        ...

    def add_user_event(
        self,
        uid: str,
        summary: str,
        start: datetime,
        end: datetime | None,
        *,
        description: str = "",
        categories: Sequence[str] = (),
        rrule: str | None = None,
        status: str | None = None,
        attendees: Sequence[tuple[str, str, str]] = (),  # (email, name, partstat)
    ) -> None:
        """Stores a user's event as their calendar app would."""
        ...

    def modify_user_event(self, uid: str, **changes: Any) -> None:
        """Changes fields (same names as add_user_event) of a seeded event, as the user would."""
        ...

    def delete_user_event(self, uid: str) -> None: ...


def make_draft(
    source_uid: str = "interview-1@example.com", kind: Kind = Kind.THANK_YOU, **changes: Any
) -> ReminderDraft:
    source = source_key(source_uid, None)
    values: dict[str, Any] = {
        "uid": reminder_uid(source, kind),
        "kind": kind,
        "source": source,
        "parent_uid": source_uid,
        "start": datetime(2030, 3, 12, 14, tzinfo=TZ),
        "end": datetime(2030, 3, 12, 14, 30, tzinfo=TZ),
        "summary": "Thank-you note: Interview with ACME",
        "description": "Thank Rita, Bob; mention the demo.\nType 'decision: 2030-03-20' in the notes.",
        "alarm_description": "Send your thank-you notes",
    }
    values.update(changes)
    return ReminderDraft(**values)


def listed(harness: BackendHarness, uid: str) -> list[Event]:
    listing = harness.backend.list_window(WINDOW_START, WINDOW_END, TZ)
    return [event for event in listing.events if event.uid == uid]


def only(harness: BackendHarness, uid: str) -> Event:
    events = listed(harness, uid)
    assert len(events) == 1, events
    return events[0]


def same_user_fields(before: Event, after: Event) -> None:
    assert after.summary == before.summary
    assert after.start == before.start and after.end == before.end
    assert after.notes == before.notes
    assert after.location == before.location
    assert after.status == before.status
    assert after.organizer == before.organizer
    assert [(a.email, a.name, a.partstat) for a in after.attendees] == [
        (a.email, a.name, a.partstat) for a in before.attendees
    ]


class BackendContract:
    # Where backends legitimately differ, a subclass says so instead of copying a test:
    # Google gives every occurrence of a series its own id (href) and etag.
    series_shares_href = True
    # Google keeps a deleted event as a "cancelled" one; the core treats both alike.
    deleted_reads_as_cancelled = False

    @pytest.fixture
    def harness(self) -> BackendHarness:
        pytest.fail("a test class provides the harness fixture")

    def seed_interview(self, harness: BackendHarness, uid: str = "interview-1@example.com") -> None:
        harness.add_user_event(
            uid,
            "Interview with ACME",
            datetime(2030, 3, 12, 10, tzinfo=TZ),
            datetime(2030, 3, 12, 11, tzinfo=TZ),
            description="Decision by March 20, they said.\nAsk about the team.",
            categories=("Work",),
            attendees=ATTENDEES,
        )

    # --- reading --------------------------------------------------------------------------------------

    def test_list_window_reads_a_seeded_event(self, harness: BackendHarness) -> None:
        self.seed_interview(harness)
        event = only(harness, "interview-1@example.com")
        assert event.summary == "Interview with ACME"
        assert event.start == datetime(2030, 3, 12, 10, tzinfo=TZ)
        assert event.end == datetime(2030, 3, 12, 11, tzinfo=TZ)
        assert event.notes == "Decision by March 20, they said.\nAsk about the team."
        assert event.categories == ("Work",)
        assert event.recurrence_id is None and event.reminder is None and event.issued is None
        assert {(a.email, a.name, a.partstat) for a in event.attendees} == set(ATTENDEES)
        assert event.href and event.calendar == harness.backend.name

    def test_list_window_expands_a_weekly_series(self, harness: BackendHarness) -> None:
        harness.add_user_event(
            "weekly@example.com",
            "Weekly screening call",
            datetime(2030, 2, 18, 9, tzinfo=TZ),
            datetime(2030, 2, 18, 9, 30, tzinfo=TZ),
            rrule="FREQ=WEEKLY;COUNT=8",
        )
        events = listed(harness, "weekly@example.com")
        starts = [event.start for event in events]
        assert starts == [datetime(2030, 3, day, 9, tzinfo=TZ) for day in (4, 11, 18, 25)]
        assert [event.recurrence_id for event in events] == starts
        hrefs = {event.href for event in events}
        assert len(hrefs) == (1 if self.series_shares_href else len(events))

    def test_events_outside_the_window_are_not_listed(self, harness: BackendHarness) -> None:
        harness.add_user_event("later@example.com", "Later", datetime(2030, 5, 1, 9, tzinfo=TZ), None)
        assert listed(harness, "later@example.com") == []
        found = harness.backend.find("later@example.com", None, TZ)
        assert found is not None and found.summary == "Later"

    def test_find_missing_is_none(self, harness: BackendHarness) -> None:
        self.seed_interview(harness)
        assert harness.backend.find("no-such-event@example.com", None, TZ) is None

    def test_find_cancelled_event(self, harness: BackendHarness) -> None:
        self.seed_interview(harness)
        harness.modify_user_event("interview-1@example.com", status="CANCELLED")
        found = harness.backend.find("interview-1@example.com", None, TZ)
        assert found is not None and found.status == "CANCELLED"

    def test_find_after_user_deleted_is_none(self, harness: BackendHarness) -> None:
        self.seed_interview(harness)
        harness.delete_user_event("interview-1@example.com")
        found = harness.backend.find("interview-1@example.com", None, TZ)
        if self.deleted_reads_as_cancelled:
            assert found is not None and found.status == "CANCELLED"
        else:
            assert found is None

    # --- reminders ------------------------------------------------------------------------------------

    def test_reminder_round_trip(self, harness: BackendHarness) -> None:
        backend = harness.backend
        draft = make_draft()
        created = backend.create(draft)
        for event in (created, backend.find(draft.uid, None, TZ), only(harness, draft.uid)):
            assert event is not None
            assert event.uid == draft.uid
            assert event.start == draft.start and event.end == draft.end
            assert event.summary == draft.summary
            assert event.description.strip() == draft.description
            assert event.reminder is not None
            assert event.reminder.kind is Kind.THANK_YOU
            assert event.reminder.source == draft.source
            assert event.reminder.fingerprint == draft.fingerprint
            assert not event_is_edited(event)

        moved = make_draft(start=draft.start + timedelta(days=1), end=draft.end + timedelta(days=1))
        updated = backend.update_reminder(created, moved)
        found = backend.find(draft.uid, None, TZ)
        assert found is not None and found.start == moved.start
        assert found.reminder is not None and found.reminder.fingerprint == moved.fingerprint
        assert updated.etag is None or updated.etag != created.etag

        backend.delete(updated)
        assert backend.find(draft.uid, None, TZ) is None
        backend.delete(updated)  # already gone: not an error

    def test_source_of_an_occurrence_round_trips(self, harness: BackendHarness) -> None:
        occurrence = datetime(2030, 3, 11, 8, tzinfo=ZoneInfo("UTC"))
        source = source_key("weekly;odd,uid@example.com", occurrence)
        draft = make_draft(uid=reminder_uid(source, Kind.CHECK_IN), kind=Kind.CHECK_IN, source=source)
        harness.backend.create(draft)
        found = harness.backend.find(draft.uid, None, TZ)
        assert found is not None and found.reminder is not None
        assert found.reminder.source == source and found.reminder.kind is Kind.CHECK_IN

    def test_create_twice_is_already_exists(self, harness: BackendHarness) -> None:
        harness.backend.create(make_draft())
        with pytest.raises(AlreadyExists):
            harness.backend.create(make_draft(summary="again"))

    def test_stale_etag_is_precondition_failed(self, harness: BackendHarness) -> None:
        backend = harness.backend
        created = backend.create(make_draft())
        later = make_draft(
            start=datetime(2030, 3, 13, 9, tzinfo=TZ), end=datetime(2030, 3, 13, 9, 30, tzinfo=TZ)
        )
        backend.update_reminder(created, later)
        with pytest.raises(PreconditionFailed):
            backend.update_reminder(created, make_draft(summary="overwrite"))
        with pytest.raises(PreconditionFailed):
            backend.delete(created)
        found = backend.find(created.uid, None, TZ)
        assert found is not None and found.start == later.start and found.summary == later.summary

    # --- marks ----------------------------------------------------------------------------------------

    def test_write_marks_tags_and_untags(self, harness: BackendHarness) -> None:
        self.seed_interview(harness)
        before = only(harness, "interview-1@example.com")
        harness.backend.write_marks(before.href, before.etag, [MarkUpdate(None, frozenset({Kind.THANK_YOU}))])
        tagged = only(harness, "interview-1@example.com")
        assert tagged.tagged and tagged.issued == frozenset({Kind.THANK_YOU})
        assert set(tagged.categories) == {"Work", "Interview"}
        same_user_fields(before, tagged)

        harness.backend.write_marks(tagged.href, tagged.etag, [MarkUpdate(None, frozenset(Kind))])
        both = harness.backend.find("interview-1@example.com", None, TZ)
        assert both is not None and both.issued == frozenset(Kind)

        harness.backend.write_marks(both.href, both.etag, [MarkUpdate(None, None)])
        untagged = only(harness, "interview-1@example.com")
        assert not untagged.tagged and untagged.issued is None
        assert untagged.categories == ("Work",)
        same_user_fields(before, untagged)

    def test_write_marks_with_a_stale_etag_fails(self, harness: BackendHarness) -> None:
        self.seed_interview(harness)
        before = only(harness, "interview-1@example.com")
        harness.modify_user_event("interview-1@example.com", summary="Interview with ACME (moved room)")
        with pytest.raises(PreconditionFailed):
            harness.backend.write_marks(before.href, before.etag, [MarkUpdate(None, frozenset())])
        after = only(harness, "interview-1@example.com")
        assert not after.tagged and after.summary.endswith("(moved room)")

    def test_write_marks_on_one_occurrence(self, harness: BackendHarness) -> None:
        harness.add_user_event(
            "weekly@example.com",
            "Weekly interview loop",
            datetime(2030, 3, 4, 9, tzinfo=TZ),
            datetime(2030, 3, 4, 10, tzinfo=TZ),
            rrule="FREQ=WEEKLY;COUNT=4",
            attendees=ATTENDEES[:1],
        )
        occurrences = listed(harness, "weekly@example.com")
        assert len(occurrences) == 4
        second = occurrences[1]
        assert second.recurrence_id is not None
        harness.backend.write_marks(
            second.href, second.etag, [MarkUpdate(second.recurrence_id, frozenset({Kind.CHECK_IN}))]
        )
        after = listed(harness, "weekly@example.com")
        assert [e.start for e in after] == [e.start for e in occurrences]
        by_rid = {event.recurrence_id: event for event in after}
        marked = by_rid[second.recurrence_id]
        assert marked.tagged and marked.issued == frozenset({Kind.CHECK_IN})
        same_user_fields(second, marked)
        for event in after:
            if event.recurrence_id != second.recurrence_id:
                assert not event.issued
        found = harness.backend.find("weekly@example.com", second.recurrence_id, TZ)
        assert found is not None and found.issued == frozenset({Kind.CHECK_IN})

    # --- change tracking (the sync cache's question: did anything change?) ---------------------------

    def test_changes_since_sees_user_edits_deletions_and_own_writes(self, harness: BackendHarness) -> None:
        backend = harness.backend
        assert isinstance(backend, TracksChanges)
        self.seed_interview(harness)
        first = backend.changes_since(None)
        assert first.changed and first.token
        again = backend.changes_since(first.token)
        assert not again.changed and again.token

        harness.modify_user_event("interview-1@example.com", summary="Interview with ACME (moved)")
        edited = backend.changes_since(again.token)
        assert edited.changed and edited.token
        assert not backend.changes_since(edited.token).changed

        backend.create(make_draft())
        written = backend.changes_since(edited.token)
        assert written.changed and written.token

        harness.delete_user_event("interview-1@example.com")
        assert backend.changes_since(written.token).changed

    def test_changes_since_a_token_it_never_gave_reads_as_changed(self, harness: BackendHarness) -> None:
        backend = harness.backend
        assert isinstance(backend, TracksChanges)
        self.seed_interview(harness)
        check = backend.changes_since("not-a-token-of-this-calendar")
        assert check.changed and check.token
        assert not backend.changes_since(check.token).changed
