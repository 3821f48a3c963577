"""The google backend (the shared backend contract, reading, writing, retries of transient errors), with
the real google-api-python-client talking HTTP to the stand-in of Calendar API v3 (tests/google_standin.py)
on 127.0.0.1. OAuth and the token file are tested in test_google_auth.py, the end-to-end scenarios in
test_google_scenarios.py."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from google.oauth2.credentials import Credentials

from backend_contract import TZ, WINDOW_END, WINDOW_START, BackendContract, listed, make_draft, only
from followup_cal.backends.google import GoogleBackend
from followup_cal.backends.google_service import list_calendars
from followup_cal.core.detect import detect
from followup_cal.core.model import GOOGLE_ISSUED, GOOGLE_TAG, Kind, MarkUpdate
from followup_cal.core.settings import Settings
from followup_cal.core.text import interviewers
from followup_cal.errors import (
    AlreadyExists,
    BackendError,
    PreconditionFailed,
    TransientError,
)
from google_helpers import PARTSTATS, credentials_for, google_time, make_backend
from google_standin import ACCESS_TOKEN, GoogleStandin


class GoogleHarness:
    """Edits the stand-in's events the way Google Calendar's own apps would (not through the backend)."""

    def __init__(self, standin: GoogleStandin, backend: GoogleBackend) -> None:
        self.standin = standin
        self.backend = backend

    def _body(self, changes: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for key, value in changes.items():
            if key in ("summary", "description"):
                body[key] = value
            elif key in ("start", "end"):
                body[key] = google_time(value)
            elif key == "status":
                body["status"] = value.lower() if value else "confirmed"
            elif key == "categories":
                body["extendedProperties"] = {"shared": {"X-MOZ-CATEGORIES": ",".join(value) or None}}
            elif key == "rrule":
                body["recurrence"] = [f"RRULE:{value}"] if value else None
            elif key == "attendees":
                body["attendees"] = [
                    {"email": email, "displayName": name, "responseStatus": PARTSTATS[partstat]}
                    for email, name, partstat in value
                ]
            else:
                raise AssertionError(f"unknown field {key}")
        return body

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
        fields: dict[str, Any] = {
            "summary": summary,
            "start": start,
            "end": end or start + timedelta(hours=1),
        }
        if description:
            fields["description"] = description
        if categories:
            fields["categories"] = categories
        if rrule:
            fields["rrule"] = rrule
        if status:
            fields["status"] = status
        if attendees:
            fields["attendees"] = attendees
        body = self._body(fields)
        body["iCalUID"] = uid
        body["organizer"] = {"email": "rita@acme.example", "displayName": "Rita Recruiter"}
        self.standin.add_event("primary", body)

    def _id_of(self, uid: str) -> str:
        for event in self.standin.events("primary"):
            if event["iCalUID"] == uid and "recurringEventId" not in event and event["status"] != "cancelled":
                return str(event["id"])
        raise AssertionError(f"no event {uid}")

    def modify_user_event(self, uid: str, **changes: Any) -> None:
        self.standin.modify_event("primary", self._id_of(uid), self._body(changes))

    def delete_user_event(self, uid: str) -> None:
        self.standin.delete_event("primary", self._id_of(uid))


@pytest.fixture
def harness(standin: GoogleStandin) -> GoogleHarness:
    return GoogleHarness(standin, make_backend(standin))


class TestGoogleContract(BackendContract):
    @pytest.fixture
    def harness(self, standin: GoogleStandin) -> GoogleHarness:
        return GoogleHarness(standin, make_backend(standin))

    series_shares_href = False
    deleted_reads_as_cancelled = True

    def test_occurrences_are_instances_with_their_own_ids(self, harness: Any) -> None:
        harness.add_user_event(
            "weekly@example.com",
            "Weekly screening call",
            datetime(2030, 3, 4, 9, tzinfo=TZ),
            datetime(2030, 3, 4, 9, 30, tzinfo=TZ),
            rrule="FREQ=WEEKLY;COUNT=2",
        )
        master = harness._id_of("weekly@example.com")
        hrefs = [e.href for e in listed(harness, "weekly@example.com")]
        assert hrefs == [f"{master}_203003{d:02}T080000Z" for d in (4, 11)]


# --- reading -----------------------------------------------------------------------------------------


def test_paging_reads_every_page(harness: GoogleHarness, standin: GoogleStandin) -> None:
    backend = make_backend(standin, page_size=3)
    for day in range(1, 9):
        harness.add_user_event(
            f"e{day}@example.com", f"Event {day}", datetime(2030, 3, day, 9, tzinfo=TZ), None
        )
    listing = backend.list_window(WINDOW_START, WINDOW_END, TZ)
    assert sorted(e.uid for e in listing.events) == sorted(f"e{day}@example.com" for day in range(1, 9))
    pages = standin.requests_to("GET", "/events")
    assert len(pages) == 3
    assert [r.query.get("pageToken") for r in pages] == [None, ["page3"], ["page6"]]
    assert all(r.query["singleEvents"] == ["true"] and r.query["showDeleted"] == ["true"] for r in pages)


def test_cancelled_interview_is_listed_and_deleted_reminder_is_not(harness: GoogleHarness) -> None:
    harness.add_user_event("gone@example.com", "Interview", datetime(2030, 3, 5, 9, tzinfo=TZ), None)
    harness.modify_user_event("gone@example.com", status="CANCELLED")
    reminder = harness.backend.create(make_draft())
    harness.backend.delete(reminder)
    listing = harness.backend.list_window(WINDOW_START, WINDOW_END, TZ)
    assert [(e.uid, e.status) for e in listing.events] == [("gone@example.com", "CANCELLED")]


def test_mapping_of_attendees_all_day_html_and_categories(
    harness: GoogleHarness, standin: GoogleStandin
) -> None:
    standin.add_event(
        "primary",
        {
            "iCalUID": "allday@example.com",
            "summary": "Onsite interview",
            "description": "Decision by<br>March 20 &amp; more<br><b>#interview</b>",
            "start": {"date": "2030-03-14"},
            "end": {"date": "2030-03-15"},
            "attendees": [
                {"email": "me@example.org", "self": True, "responseStatus": "declined"},
                {
                    "email": "room@resource.calendar.google.com",
                    "resource": True,
                    "responseStatus": "accepted",
                },
                {"email": "bob@acme.example", "optional": True},
            ],
            "extendedProperties": {
                "shared": {"X-MOZ-CATEGORIES": "Jobs,Work\\,Life"},
                "private": {GOOGLE_TAG: "interview", GOOGLE_ISSUED: "check-in"},
            },
        },
    )
    event = only(harness, "allday@example.com")
    assert event.start == date(2030, 3, 14) and event.end == date(2030, 3, 15) and event.all_day
    assert event.notes == "Decision by\nMarch 20 & more\n#interview"
    assert event.categories == ("Jobs", "Work,Life", "Interview") and event.tagged
    assert event.issued == frozenset({Kind.CHECK_IN})
    assert [(a.email, a.partstat, a.cutype, a.role) for a in event.attendees] == [
        ("me@example.org", "DECLINED", "INDIVIDUAL", "REQ-PARTICIPANT"),
        ("room@resource.calendar.google.com", "ACCEPTED", "RESOURCE", "REQ-PARTICIPANT"),
        ("bob@acme.example", "", "INDIVIDUAL", "OPT-PARTICIPANT"),
    ]
    assert event.organizer is not None and event.organizer.email == "me@example.com"
    # Google marks the account's own attendee entry: a decline there counts without any `me` config.
    assert [a.is_me for a in event.attendees] == [True, False, False]
    detection = detect(event, Settings(timezone=TZ))
    assert not detection.is_interview and detection.reason == "declined by you"
    assert [p.email for p in interviewers(event, ())] == ["bob@acme.example"]  # no self, no room


def test_find_an_occurrence_far_outside_the_window(harness: GoogleHarness) -> None:
    harness.add_user_event(
        "daily@example.com",
        "Daily standup interview",
        datetime(2030, 1, 1, 9, tzinfo=TZ),
        None,
        rrule="FREQ=DAILY;INTERVAL=2;UNTIL=20301231T000000Z",
    )
    occurrence = datetime(2030, 7, 2, 9, tzinfo=TZ)  # summer time: 07:00 UTC
    found = harness.backend.find("daily@example.com", occurrence, TZ)
    assert found is not None and found.start == occurrence and found.recurrence_id == occurrence
    assert found.href.endswith("_20300702T070000Z")
    assert harness.backend.find("daily@example.com", datetime(2030, 7, 3, 9, tzinfo=TZ), TZ) is None


def test_find_a_deleted_occurrence_reads_as_cancelled(harness: GoogleHarness, standin: GoogleStandin) -> None:
    harness.add_user_event(
        "weekly@example.com", "Interview loop", datetime(2030, 3, 4, 9, tzinfo=TZ), None, rrule="FREQ=WEEKLY"
    )
    second = listed(harness, "weekly@example.com")[1]
    standin.delete_event("primary", second.href)
    found = harness.backend.find("weekly@example.com", second.recurrence_id, TZ)
    assert found is not None and found.status == "CANCELLED" and found.start == second.start
    assert len(listed(harness, "weekly@example.com")) == 4  # the cancelled one is listed, as cancelled


def test_find_prefers_the_live_event_over_a_tombstone(harness: GoogleHarness) -> None:
    harness.add_user_event("again@example.com", "First", datetime(2030, 3, 5, 9, tzinfo=TZ), None)
    harness.delete_user_event("again@example.com")
    harness.add_user_event("again@example.com", "Re-imported", datetime(2030, 3, 6, 9, tzinfo=TZ), None)
    found = harness.backend.find("again@example.com", None, TZ)
    assert found is not None and found.summary == "Re-imported" and found.status == "CONFIRMED"


# --- writing -----------------------------------------------------------------------------------------


def test_create_sends_the_reminder_fields(harness: GoogleHarness, standin: GoogleStandin) -> None:
    draft = make_draft(url="https://jobs.acme.example/42")
    harness.backend.create(draft)
    (insert,) = standin.requests_to("POST", "/events")
    assert insert.query["sendUpdates"] == ["none"]
    body = insert.body
    assert body["id"] == body["iCalUID"] == draft.uid
    assert body["transparency"] == "transparent" and body["visibility"] == "private"
    assert body["reminders"] == {"useDefault": False, "overrides": [{"method": "popup", "minutes": 0}]}
    assert body["extendedProperties"]["private"] == {
        "followupCalKind": "thank-you",
        "followupCalSource": draft.source,
        "followupCalFingerprint": draft.fingerprint,
    }
    assert body["source"]["url"] == "https://jobs.acme.example/42"


def test_insert_of_a_deleted_id_is_already_exists(harness: GoogleHarness, standin: GoogleStandin) -> None:
    draft = make_draft()
    harness.backend.delete(harness.backend.create(draft))
    with pytest.raises(AlreadyExists):
        harness.backend.create(draft)
    assert standin.request_log[-1].status == 409
    assert harness.backend.find(draft.uid, None, TZ) is None  # deleted: gone, the core picks a new uid


def test_writes_are_conditional_on_the_etag(harness: GoogleHarness, standin: GoogleStandin) -> None:
    created = harness.backend.create(make_draft())
    harness.backend.update_reminder(created, make_draft(summary="Moved"))
    patch = standin.requests_to("PATCH")[-1]
    assert patch.headers["if-match"] == created.etag and patch.query["sendUpdates"] == ["none"]
    with pytest.raises(PreconditionFailed):
        harness.backend.delete(created)
    delete = standin.requests_to("DELETE")[-1]
    assert delete.status == 412 and delete.headers["if-match"] == created.etag


def test_write_marks_patches_only_the_private_properties(
    harness: GoogleHarness, standin: GoogleStandin
) -> None:
    harness.add_user_event(
        "i@example.com", "Interview", datetime(2030, 3, 5, 9, tzinfo=TZ), None, categories=("Work",)
    )
    before = {k: v for k, v in standin.events("primary")[0].items() if k not in ("etag", "updated")}
    event = only(harness, "i@example.com")
    harness.backend.write_marks(event.href, event.etag, [MarkUpdate(None, frozenset(Kind))])
    (patch,) = standin.requests_to("PATCH")
    assert patch.body == {
        "extendedProperties": {"private": {GOOGLE_TAG: "interview", GOOGLE_ISSUED: "thank-you,check-in"}}
    }
    assert patch.query["sendUpdates"] == ["none"] and patch.headers["if-match"] == event.etag
    after = {k: v for k, v in standin.events("primary")[0].items() if k not in ("etag", "updated")}
    assert after.pop("extendedProperties")["private"] == {
        GOOGLE_TAG: "interview",
        GOOGLE_ISSUED: "thank-you,check-in",
    }
    assert after == {k: v for k, v in before.items() if k != "extendedProperties"}

    tagged = only(harness, "i@example.com")
    harness.backend.write_marks(tagged.href, tagged.etag, [MarkUpdate(None, None)])
    assert standin.events("primary")[0]["extendedProperties"] == {
        "shared": {"X-MOZ-CATEGORIES": "Work"},
        "private": {},
    }


# --- transient errors --------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [403, 429, 500, 503])
def test_reads_retry_rate_limits_and_server_errors(
    harness: GoogleHarness, standin: GoogleStandin, status: int
) -> None:
    harness.add_user_event("i@example.com", "Interview", datetime(2030, 3, 5, 9, tzinfo=TZ), None)
    standin.inject_faults(status, 3)
    assert [e.uid for e in harness.backend.list_window(WINDOW_START, WINDOW_END, TZ).events] == [
        "i@example.com"
    ]
    assert harness.backend.retries == 3
    assert [r.status for r in standin.requests_to("GET", "/events")] == [status, status, status, 200]


def test_rate_limit_error_has_googles_shape(harness: GoogleHarness, standin: GoogleStandin) -> None:
    standin.inject_faults(403, 1)
    harness.backend.list_window(WINDOW_START, WINDOW_END, TZ)
    request = urllib.request.Request(standin.api_endpoint + "calendars/primary/events")
    request.add_header("Authorization", f"Bearer {ACCESS_TOKEN}")
    standin.inject_faults(403, 1)
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request)
    body = json.loads(raised.value.read())
    assert body["error"]["code"] == 403
    assert body["error"]["errors"][0]["reason"] == "rateLimitExceeded"
    assert body["error"]["errors"][0]["domain"] == "usageLimits"


def test_retries_are_bounded(standin: GoogleStandin) -> None:
    backend = make_backend(standin, max_attempts=3)
    standin.inject_faults(503, 10)
    with pytest.raises(TransientError, match="Calendar 'gmail': reading events failed: Google answered 503"):
        backend.list_window(WINDOW_START, WINDOW_END, TZ)
    assert len(standin.request_log) == 3 and backend.retries == 2


def test_a_retried_insert_that_had_landed_is_adopted(harness: GoogleHarness, standin: GoogleStandin) -> None:
    standin.inject_faults(503, 1, method="POST", after_processing=True)  # stored, but the answer is lost
    draft = make_draft()
    created = harness.backend.create(draft)
    assert created.uid == draft.uid and created.reminder is not None
    assert [r.status for r in standin.requests_to("POST")] == [503, 409]
    assert harness.backend.retries == 1
    assert [e["id"] for e in standin.events("primary")] == [draft.uid]


def test_unconditional_writes_are_not_retried(harness: GoogleHarness, standin: GoogleStandin) -> None:
    created = harness.backend.create(make_draft())
    standin.inject_faults(503, 1)
    with pytest.raises(TransientError):
        harness.backend.update_reminder(
            type(created)(**{**created.__dict__, "etag": None}), make_draft(summary="Other")
        )
    assert len(standin.requests_to("PATCH")) == 1


def test_conditional_writes_are_retried(harness: GoogleHarness, standin: GoogleStandin) -> None:
    created = harness.backend.create(make_draft())
    standin.inject_faults(429, 2, method="PATCH")
    updated = harness.backend.update_reminder(created, make_draft(summary="Other"))
    assert updated.summary == "Other" and harness.backend.retries == 2


def test_connection_failure_is_a_backend_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    credentials = Credentials(token=ACCESS_TOKEN)
    backend = GoogleBackend(
        "gmail",
        credentials,
        api_endpoint=f"http://127.0.0.1:{port}/calendar/v3",
        backoff_base=0.001,
        max_attempts=2,
    )
    with pytest.raises(BackendError, match="cannot reach Google Calendar"):
        backend.list_window(WINDOW_START, WINDOW_END, TZ)


def test_list_calendars(standin: GoogleStandin) -> None:
    standin.add_calendar("jobs@group.calendar.google.com")
    found = list_calendars(credentials_for(standin), standin.api_endpoint)
    assert found == [
        ("me@example.com", "me@example.com", True),
        ("jobs@group.calendar.google.com", "jobs@group.calendar.google.com", False),
    ]


# --- lazy import -------------------------------------------------------------------------------------


LAZY_IMPORT_CHECK = """
import sys
import followup_cal.backends.google as google, followup_cal.backends.google_auth
eager = {"googleapiclient", "google_auth_oauthlib", "httplib2"} & {m.split(".")[0] for m in sys.modules}
assert not eager, eager
assert "google.oauth2" not in sys.modules and "google.auth" not in sys.modules, "google-auth loaded"
from google.oauth2.credentials import Credentials
google.GoogleBackend("gmail", Credentials(token="t"), api_endpoint=sys.argv[1])
assert "googleapiclient.discovery" in sys.modules
"""


def test_google_libraries_load_only_when_a_backend_is_built(standin: GoogleStandin) -> None:
    command = [sys.executable, "-c", LAZY_IMPORT_CHECK, standin.api_endpoint]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_times_are_in_the_events_zone(harness: GoogleHarness) -> None:
    harness.add_user_event(
        "ny@example.com", "Interview", datetime(2030, 3, 5, 9, tzinfo=ZoneInfo("America/New_York")), None
    )
    event = only(harness, "ny@example.com")
    assert event.start == datetime(2030, 3, 5, 14, tzinfo=ZoneInfo("UTC"))
    assert getattr(event.start, "tzinfo", None) == ZoneInfo("America/New_York")
