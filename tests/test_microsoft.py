"""The microsoft backend (the shared backend contract, reading, writing, batching, throttling) in plain
HTTP against the stand-in of Microsoft Graph (tests/graph_standin.py) on 127.0.0.1. The end-to-end
scenarios are in test_microsoft_scenarios.py."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from backend_contract import TZ, WINDOW_END, WINDOW_START, BackendContract, listed, make_draft, only
from followup_cal.backends.microsoft import MicrosoftBackend
from followup_cal.backends.microsoft_items import PROPERTY_SET, windows_zone
from followup_cal.core.model import Kind, MarkUpdate, reminder_uid
from followup_cal.errors import AlreadyExists, AuthenticationError, TransientError
from graph_helpers import OutlookUser, event_body, make_backend
from graph_standin import GraphStandin


class OutlookHarness:
    """Edits the stand-in's events the way Outlook would (not through the backend)."""

    def __init__(self, standin: GraphStandin, backend: MicrosoftBackend) -> None:
        self.standin = standin
        self.backend = backend
        self.user = OutlookUser(standin)

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
        attendees: Sequence[tuple[str, str, str]] = (),
    ) -> None:
        body = event_body(
            uid,
            summary,
            start,
            end,
            description=description,
            organizer=("rita@acme.example", "Rita Recruiter"),
            attendees=attendees,
            rrule=rrule,
            categories=categories,
        )
        body["isCancelled"] = status == "CANCELLED"
        self.standin.add_event("primary", body)

    def modify_user_event(self, uid: str, **changes: Any) -> None:
        for key, value in changes.items():
            if key == "summary":
                self.user.set(uid, "SUMMARY", value)
            elif key == "status":
                self.user.set(uid, "STATUS", value)
            else:
                raise AssertionError(f"unknown field {key}")

    def delete_user_event(self, uid: str) -> None:
        self.user.delete(uid)


@pytest.fixture
def harness(graph: GraphStandin) -> Iterator[OutlookHarness]:
    yield OutlookHarness(graph, make_backend(graph))
    assert graph.violations == []


class TestMicrosoftContract(BackendContract):
    @pytest.fixture
    def harness(self, graph: GraphStandin) -> Iterator[OutlookHarness]:
        yield OutlookHarness(graph, make_backend(graph))
        assert graph.violations == []

    series_shares_href = False  # every occurrence has an event id of its own


def test_occurrences_carry_the_series_uid(harness: OutlookHarness, graph: GraphStandin) -> None:
    harness.add_user_event(
        "weekly@example.com",
        "Weekly screening call",
        datetime(2030, 3, 4, 9, tzinfo=TZ),
        datetime(2030, 3, 4, 9, 30, tzinfo=TZ),
        rrule="FREQ=WEEKLY;COUNT=3",
    )
    events = listed(harness, "weekly@example.com")
    assert [e.recurrence_id for e in events] == [datetime(2030, 3, d, 9, tzinfo=TZ) for d in (4, 11, 18)]
    # Graph gives each occurrence an iCalUId of its own; the series' is read once from its master.
    masters = [r for r in graph.request_log if r.method == "GET" and "events/" in r.path]
    assert len(masters) == 1
    make_backend(graph).list_window(WINDOW_START, WINDOW_END, TZ)  # a new run asks again, once
    assert len([r for r in graph.request_log if r.method == "GET" and "events/" in r.path]) == 2


def test_calendar_view_is_paged_in_utc_with_text_bodies(harness: OutlookHarness, graph: GraphStandin) -> None:
    backend = make_backend(graph, page_size=3)
    for day in range(1, 9):
        harness.add_user_event(
            f"e{day}@example.com", f"Event {day}", datetime(2030, 3, day, 9, tzinfo=TZ), None
        )
    listing = backend.list_window(WINDOW_START, WINDOW_END, TZ)
    assert sorted(e.uid for e in listing.events) == sorted(f"e{day}@example.com" for day in range(1, 9))
    pages = graph.requests_to("GET", "calendarView")
    assert len(pages) == 3
    prefer = pages[0].headers["prefer"]
    assert 'outlook.timezone="UTC"' in prefer and 'outlook.body-content-type="text"' in prefer
    assert "$select" in pages[0].query and PROPERTY_SET in pages[0].query["$expand"][0]


def test_windows_zone_names_map_to_iana_zones(harness: OutlookHarness, graph: GraphStandin) -> None:
    assert windows_zone("Pacific Standard Time") == ZoneInfo("America/Los_Angeles")
    assert windows_zone("Europe/Berlin") == ZoneInfo("Europe/Berlin")
    assert windows_zone("Customized Time Zone") is None
    body = event_body("la@example.com", "Interview", datetime(2030, 3, 5, 9, tzinfo=TZ), None)
    body["start"] = {"dateTime": "2030-03-05T09:00:00.0000000", "timeZone": "Pacific Standard Time"}
    body["end"] = {"dateTime": "2030-03-05T10:00:00.0000000", "timeZone": "Pacific Standard Time"}
    graph.add_event("primary", body)
    event = only(harness, "la@example.com")
    assert isinstance(event.start, datetime)
    assert event.start.tzinfo == ZoneInfo("America/Los_Angeles") and event.start.hour == 9


def test_invitation_fields_are_read(harness: OutlookHarness, graph: GraphStandin) -> None:
    body = event_body(
        "invite@example.com",
        "Interview",
        datetime(2030, 3, 5, 9, tzinfo=TZ),
        None,
        description="<p>Decision by <b>March 20</b></p>",
        organizer=("rita@acme.example", "Rita"),
        attendees=[("rita@acme.example", "Rita", "ACCEPTED")],
    )
    body["body"]["contentType"] = "html"
    body["responseStatus"] = {"response": "declined"}
    graph.add_event("primary", body)
    event = only(harness, "invite@example.com")
    assert event.notes == "Decision by March 20"
    assert event.organizer is not None and event.organizer.email == "rita@acme.example"
    assert not event.organizer.is_me
    assert any(a.is_me and a.partstat == "DECLINED" for a in event.attendees)


def test_a_reminder_is_free_private_with_an_alarm_and_no_attendees(
    harness: OutlookHarness, graph: GraphStandin
) -> None:
    draft = make_draft()
    harness.backend.create(draft)
    (create,) = [r for r in graph.requests_to("POST", "events") if r.path.endswith("events")]
    body = create.body
    assert body["transactionId"] == draft.uid
    assert (body["showAs"], body["sensitivity"]) == ("free", "private")
    assert (body["isReminderOn"], body["reminderMinutesBeforeStart"]) == (True, 0)
    assert "attendees" not in body
    assert {p["id"].split()[1] for p in body["singleValueExtendedProperties"]} == {PROPERTY_SET}
    # The lookup by the source mark came first.
    lookups = [r for r in graph.requests_to("GET", "events") if "$filter" in r.query]
    assert lookups and "followupCalSource" in lookups[0].query["$filter"][0]


def test_a_create_whose_answer_was_lost_is_not_repeated(harness: OutlookHarness, graph: GraphStandin) -> None:
    draft = make_draft()
    graph.inject_faults(503, 1, in_batch=False)  # the lookup: retried
    harness.backend.create(draft)
    # The same create sent again (as after a lost answer): the transactionId gives back the first event.
    with pytest.raises(AlreadyExists):
        harness.backend.create(draft)
    assert len([e for e in graph.events("primary") if e.get("transactionId") == draft.uid]) == 1


def test_reminder_found_by_its_source_is_already_there(harness: OutlookHarness) -> None:
    backend = harness.backend
    draft = make_draft()
    backend.create(draft)
    again = make_draft(uid=reminder_uid(draft.source, draft.kind, 1))
    with pytest.raises(AlreadyExists):
        backend.create(again)
    assert len(listed(harness, draft.uid)) == 1


def test_tagging_an_invitation_patches_only_categories_and_marks(
    harness: OutlookHarness, graph: GraphStandin
) -> None:
    harness.add_user_event(
        "invite@example.com",
        "Interview with ACME",
        datetime(2030, 3, 12, 10, tzinfo=TZ),
        None,
        categories=("Work",),
        attendees=[("rita@acme.example", "Rita", "ACCEPTED")],
    )
    event = only(harness, "invite@example.com")
    harness.backend.write_marks(event.href, event.etag, [MarkUpdate(None, frozenset({Kind.THANK_YOU}))])
    (patch,) = graph.requests_to("PATCH", "events")
    assert set(patch.body) == {"categories", "singleValueExtendedProperties"}
    assert patch.body["categories"] == ["Work", "Interview"] and patch.headers["if-match"] == event.etag
    assert graph.master_categories == [{"id": "cat1", "displayName": "Interview", "color": "preset7"}]


def test_a_refused_master_category_is_not_fatal(harness: OutlookHarness, graph: GraphStandin) -> None:
    graph.master_categories_forbidden = True
    harness.add_user_event("i@example.com", "Interview", datetime(2030, 3, 12, 10, tzinfo=TZ), None)
    event = only(harness, "i@example.com")
    harness.backend.write_marks(event.href, event.etag, [MarkUpdate(None, frozenset())])
    assert only(harness, "i@example.com").tagged and graph.master_categories == []


def test_concurrent_writes_share_batches(harness: OutlookHarness, graph: GraphStandin) -> None:
    drafts = [make_draft(f"interview-{n}@example.com") for n in range(30)]
    graph.inject_faults(429, 2, in_batch=True)  # two sub-requests throttled: each retried on its own
    threads = [threading.Thread(target=harness.backend.create, args=(draft,)) for draft in drafts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    reminders = [e for e in harness.backend.list_window(WINDOW_START, WINDOW_END, TZ).events if e.reminder]
    assert sorted(e.uid for e in reminders) == sorted(d.uid for d in drafts)
    batches = graph.requests_to("POST", "$batch")
    assert batches and all(len(b.body["requests"]) <= 20 for b in batches)
    assert len(batches) < 30 and harness.backend.retries >= 2


def test_a_throttling_storm_is_ridden_out(harness: OutlookHarness, graph: GraphStandin) -> None:
    harness.add_user_event("i@example.com", "Interview", datetime(2030, 3, 12, 10, tzinfo=TZ), None)
    graph.inject_faults(429, 3)
    graph.inject_faults(503, 1)
    graph.inject_faults(504, 1)
    assert only(harness, "i@example.com").summary == "Interview"
    assert harness.backend.retries == 5


def test_retries_are_bounded(harness: OutlookHarness, graph: GraphStandin) -> None:
    graph.inject_faults(429, 50)
    with pytest.raises(TransientError, match=r"'outlook'.*try again later"):
        harness.backend.list_window(WINDOW_START, WINDOW_END, TZ)


def test_a_refused_token_says_to_authenticate_again(graph: GraphStandin) -> None:
    graph.access_tokens.clear()
    with pytest.raises(AuthenticationError, match="auth microsoft"):
        make_backend(graph).list_window(WINDOW_START, WINDOW_END, TZ)


def test_a_check_without_changes_is_one_request(harness: OutlookHarness, graph: GraphStandin) -> None:
    backend = harness.backend
    for day in range(1, 30):  # more than a page of the first round
        harness.add_user_event(f"e{day}@example.com", "Event", datetime(2030, 3, day, 9, tzinfo=TZ), None)
    first = backend.changes_since(None)
    before = len(graph.request_log)
    assert not backend.changes_since(first.token).changed
    assert len(graph.request_log) == before + 1
    graph.invalidate_delta_tokens()
    check = backend.changes_since(first.token)
    assert check.changed and check.token and not backend.changes_since(check.token).changed


def test_own_writes_are_vouched_for_by_the_etag_they_left(
    harness: OutlookHarness, graph: GraphStandin
) -> None:
    backend = harness.backend
    harness.add_user_event("i@example.com", "Interview", datetime(2030, 3, 12, 10, tzinfo=TZ), None)
    token = backend.changes_since(None).token
    assert token is not None
    event = only(harness, "i@example.com")
    backend.write_marks(event.href, event.etag, [MarkUpdate(None, frozenset())])
    kept = backend.create(make_draft("i@example.com"))
    gone = backend.create(make_draft("i@example.com", Kind.CHECK_IN))
    backend.delete(gone)
    ours = backend.own_writes()
    stored = {e["id"]: e["@odata.etag"] for e in graph.events("primary")}
    assert ours == {event.href: stored[event.href], kept.href: stored[kept.href], gone.href: None}
    before = len(graph.request_log)
    assert backend.changes_since(token).changed
    assert not backend.changes_besides(token, ours).changed
    assert len(graph.request_log) == before + 2  # one delta request each
    harness.modify_user_event("i@example.com", summary="Interview (moved)")
    assert backend.changes_besides(token, ours).changed  # another's change to an event we wrote
    graph.etags_in_write_answers = False
    backend.update_reminder(kept, make_draft("i@example.com", summary="Thank-you note, again"))
    assert backend.own_writes() is None  # its outcome is not known exactly


def test_a_change_token_from_another_address_is_not_followed(graph: GraphStandin) -> None:
    backend = make_backend(graph)
    check = backend.changes_since(
        "2030-01-01|https://elsewhere.example/v1.0/me/calendarView/delta?$deltatoken=1"
    )
    assert check.changed and check.token and check.token.split("|")[1].startswith(graph.api_endpoint)


def test_msal_and_the_backend_load_only_when_used() -> None:
    code = (
        "import sys, followup_cal.backends.registry, followup_cal.commands.cli;"
        "assert 'msal' not in sys.modules and 'followup_cal.backends.microsoft' not in sys.modules;"
        "import followup_cal.backends.microsoft; assert 'msal' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_events_cancelled_and_moved_occurrences(harness: OutlookHarness, graph: GraphStandin) -> None:
    harness.add_user_event(
        "weekly@example.com",
        "Weekly interview loop",
        datetime(2030, 3, 4, 9, tzinfo=TZ),
        datetime(2030, 3, 4, 10, tzinfo=TZ),
        rrule="FREQ=WEEKLY;COUNT=4",
    )
    occurrences = listed(harness, "weekly@example.com")
    graph.delete_event("primary", occurrences[1].href)
    assert len(listed(harness, "weekly@example.com")) == 3
    assert harness.backend.find("weekly@example.com", occurrences[1].recurrence_id, TZ) is None
    third = harness.backend.find("weekly@example.com", occurrences[2].recurrence_id, TZ)
    assert third is not None and third.start == occurrences[2].start
    assert third.start + timedelta(hours=1) == third.end


def test_a_batch_names_next_links_below_the_endpoint(harness: OutlookHarness, graph: GraphStandin) -> None:
    from followup_cal.backends.microsoft_http import GraphRequest

    harness.add_user_event("i@example.com", "Interview", datetime(2030, 3, 12, 10, tzinfo=TZ), None)
    transport = harness.backend.http
    query = "startDateTime=2030-03-01T00:00:00Z&endDateTime=2030-04-01T00:00:00Z&$top=1"
    requests = [
        GraphRequest("GET", f"{graph.api_endpoint}me/calendar/calendarView?{query}"),
        GraphRequest("GET", "me/calendar"),
    ]
    answers = transport.send_all(requests)
    assert [a.status for a in answers] == [200, 200]
    assert answers[0].body["value"][0]["subject"] == "Interview"
    assert graph.requests_to("POST", "$batch")
