"""The stand-in of Calendar API v3 follows the documented behaviour the google backend relies on.

Driven through the real google-api-python-client, as the backend drives it.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from google_standin import ACCESS_TOKEN, REFRESH_TOKEN, GoogleStandin

BERLIN_10 = {"dateTime": "2030-03-04T10:00:00+01:00", "timeZone": "Europe/Berlin"}
BERLIN_11 = {"dateTime": "2030-03-04T11:00:00+01:00", "timeZone": "Europe/Berlin"}


@pytest.fixture
def events(standin: GoogleStandin) -> Any:
    credentials = Credentials(
        token=ACCESS_TOKEN,
        refresh_token=REFRESH_TOKEN,
        token_uri=standin.token_uri,
        client_id="c",
        client_secret="s",
    )
    service = build(
        "calendar",
        "v3",
        credentials=credentials,
        static_discovery=True,
        client_options={"api_endpoint": standin.api_endpoint},
    )
    return service.events()


def error_of(request: Any) -> tuple[int, dict[str, Any]]:
    with pytest.raises(HttpError) as raised:
        request.execute()
    return raised.value.resp.status, json.loads(raised.value.content)["error"]


def series(standin: GoogleStandin, *recurrence: str) -> dict[str, Any]:
    body = {
        "id": "series01",
        "summary": "Loop",
        "start": BERLIN_10,
        "end": BERLIN_11,
        "recurrence": list(recurrence),
    }
    return standin.add_event("primary", body)


def listed_ids(events: Any, **query: Any) -> list[str]:
    query.setdefault("singleEvents", True)
    return [item["id"] for item in events.list(calendarId="primary", **query).execute()["items"]]


def test_weekly_rule_with_byday_interval_and_count(standin: GoogleStandin, events: Any) -> None:
    series(standin, "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;COUNT=5")
    page = events.list(calendarId="primary", singleEvents=True, timeMin="2030-03-01T00:00:00Z").execute()
    assert [i["id"] for i in page["items"]] == [
        "series01_20300304T090000Z",
        "series01_20300306T090000Z",
        "series01_20300318T090000Z",
        "series01_20300320T090000Z",
        "series01_20300401T080000Z",  # summer time: still 10:00 in Berlin
    ]
    last = page["items"][-1]
    assert last["start"] == {"dateTime": "2030-04-01T10:00:00+02:00", "timeZone": "Europe/Berlin"}
    assert last["originalStartTime"] == last["start"] and last["recurringEventId"] == "series01"
    assert "recurrence" not in last


def test_daily_rule_with_until_and_exdate(standin: GoogleStandin, events: Any) -> None:
    series(standin, "RRULE:FREQ=DAILY;UNTIL=20300307T090000Z", "EXDATE;TZID=Europe/Berlin:20300305T100000")
    assert listed_ids(events) == [
        "series01_20300304T090000Z",
        "series01_20300306T090000Z",
        "series01_20300307T090000Z",
    ]


def test_window_bounds_are_exclusive(standin: GoogleStandin, events: Any) -> None:
    series(standin, "RRULE:FREQ=DAILY;COUNT=3")
    # timeMin bounds the end, timeMax the start, both exclusive.
    query = {"timeMin": "2030-03-04T10:00:00Z", "timeMax": "2030-03-06T09:00:00Z"}
    assert listed_ids(events, **query) == ["series01_20300305T090000Z"]
    assert listed_ids(events, singleEvents=False, **query) == ["series01"]


def test_all_day_series_instance_ids(standin: GoogleStandin, events: Any) -> None:
    standin.add_event(
        "primary",
        {
            "id": "allday01",
            "start": {"date": "2030-03-04"},
            "end": {"date": "2030-03-05"},
            "recurrence": ["RRULE:FREQ=DAILY;COUNT=2"],
        },
    )
    items = events.list(calendarId="primary", singleEvents=True).execute()["items"]
    assert [(i["id"], i["originalStartTime"]) for i in items] == [
        ("allday01_20300304", {"date": "2030-03-04"}),
        ("allday01_20300305", {"date": "2030-03-05"}),
    ]


def test_patched_instance_becomes_an_exception(standin: GoogleStandin, events: Any) -> None:
    series(standin, "RRULE:FREQ=DAILY;COUNT=3")
    instance = events.get(calendarId="primary", eventId="series01_20300305T090000Z").execute()
    patched = events.patch(calendarId="primary", eventId=instance["id"], body={"summary": "Moved"}).execute()
    assert patched["summary"] == "Moved" and patched["etag"] != instance["etag"]
    items = events.list(calendarId="primary", singleEvents=True).execute()["items"]
    assert [i["summary"] for i in items] == ["Loop", "Moved", "Loop"]
    found = events.instances(
        calendarId="primary", eventId="series01", originalStart="2030-03-05T09:00:00Z"
    ).execute()["items"]
    assert [i["summary"] for i in found] == ["Moved"]


def test_deleted_instance_is_cancelled_and_shown_only_with_show_deleted(
    standin: GoogleStandin, events: Any
) -> None:
    series(standin, "RRULE:FREQ=DAILY;COUNT=3")
    events.delete(calendarId="primary", eventId="series01_20300305T090000Z").execute()
    assert listed_ids(events) == ["series01_20300304T090000Z", "series01_20300306T090000Z"]
    assert len(listed_ids(events, showDeleted=True)) == 3
    # Not expanding: the cancelled exception is listed next to its series, as documented.
    assert listed_ids(events, singleEvents=False) == ["series01", "series01_20300305T090000Z"]


def test_paging(standin: GoogleStandin, events: Any) -> None:
    for n in range(5):
        standin.add_event("primary", {"summary": f"e{n}", "start": BERLIN_10, "end": BERLIN_11})
    first = events.list(calendarId="primary", maxResults=2).execute()
    second = events.list(calendarId="primary", maxResults=2, pageToken=first["nextPageToken"]).execute()
    third = events.list(calendarId="primary", maxResults=2, pageToken=second["nextPageToken"]).execute()
    assert [len(p["items"]) for p in (first, second, third)] == [2, 2, 1]
    assert "nextPageToken" not in third and "nextSyncToken" in third and "nextSyncToken" not in first


def test_client_ids_are_base32hex_and_unique_even_after_deletion(events: Any) -> None:
    body = {"start": BERLIN_10, "end": BERLIN_11}
    for bad in ("ABCDEF", "abcw1", "abc", "abc_def"):
        status, error = error_of(events.insert(calendarId="primary", body={**body, "id": bad}))
        assert (status, error["errors"][0]["reason"]) == (400, "invalid")
    created = events.insert(calendarId="primary", body={**body, "id": "fc0123456789abcdef"}).execute()
    assert created["iCalUID"] == "fc0123456789abcdef@google.com"
    events.delete(calendarId="primary", eventId="fc0123456789abcdef").execute()
    status, error = error_of(events.insert(calendarId="primary", body={**body, "id": "fc0123456789abcdef"}))
    assert status == 409
    assert error["errors"] == [
        {"domain": "global", "reason": "duplicate", "message": "The requested identifier already exists."}
    ]
    assert error_of(events.delete(calendarId="primary", eventId="fc0123456789abcdef"))[0] == 410
    tombstone = events.get(calendarId="primary", eventId="fc0123456789abcdef").execute()
    assert tombstone["status"] == "cancelled"


def test_if_match_and_etags(standin: GoogleStandin, events: Any) -> None:
    created = standin.add_event("primary", {"id": "event01", "start": BERLIN_10, "end": BERLIN_11})
    stale = created["etag"]
    updated = events.update(
        calendarId="primary", eventId="event01", body={"summary": "New", "start": BERLIN_10, "end": BERLIN_11}
    ).execute()
    assert updated["etag"] != stale and updated["iCalUID"] == created["iCalUID"]
    for request in (
        events.patch(calendarId="primary", eventId="event01", body={"summary": "x"}),
        events.update(calendarId="primary", eventId="event01", body={"start": BERLIN_10, "end": BERLIN_11}),
        events.delete(calendarId="primary", eventId="event01"),
    ):
        request.headers["If-Match"] = stale
        status, error = error_of(request)
        assert (status, error["errors"][0]["reason"]) == (412, "conditionNotMet")
    request = events.delete(calendarId="primary", eventId="event01")
    request.headers["If-Match"] = updated["etag"]
    request.execute()
    assert standin.events("primary")[0]["status"] == "cancelled"


def test_patch_merges_objects_and_null_removes(standin: GoogleStandin, events: Any) -> None:
    standin.add_event(
        "primary",
        {
            "id": "event01",
            "start": BERLIN_10,
            "end": BERLIN_11,
            "extendedProperties": {"private": {"theirs": "1", "ours": "a"}, "shared": {"s": "2"}},
        },
    )
    patched = events.patch(
        calendarId="primary",
        eventId="event01",
        body={"extendedProperties": {"private": {"ours": None, "new": "b"}}},
    ).execute()
    assert patched["extendedProperties"] == {"private": {"theirs": "1", "new": "b"}, "shared": {"s": "2"}}


def test_ical_uid_filter(standin: GoogleStandin, events: Any) -> None:
    standin.add_event("primary", {"iCalUID": "a@example.com", "start": BERLIN_10, "end": BERLIN_11})
    standin.add_event("primary", {"iCalUID": "b@example.com", "start": BERLIN_10, "end": BERLIN_11})
    items = events.list(calendarId="primary", iCalUID="b@example.com").execute()["items"]
    assert [i["iCalUID"] for i in items] == ["b@example.com"]


def test_sync_token_lists_changes_and_410_when_invalid(standin: GoogleStandin, events: Any) -> None:
    standin.add_event("primary", {"id": "event01", "start": BERLIN_10, "end": BERLIN_11})
    standin.add_event("primary", {"id": "event02", "start": BERLIN_10, "end": BERLIN_11})
    token = events.list(calendarId="primary").execute()["nextSyncToken"]
    standin.delete_event("primary", "event01")
    changed = events.list(calendarId="primary", syncToken=token).execute()
    assert [(i["id"], i["status"]) for i in changed["items"]] == [("event01", "cancelled")]
    assert events.list(calendarId="primary", syncToken=changed["nextSyncToken"]).execute()["items"] == []
    assert (
        error_of(events.list(calendarId="primary", syncToken=token, timeMin="2030-01-01T00:00:00Z"))[0] == 400
    )
    standin.invalidate_sync_tokens()
    status, error = error_of(events.list(calendarId="primary", syncToken=token))
    assert (status, error["errors"][0]["reason"]) == (410, "fullSyncRequired")


@pytest.mark.parametrize(
    ("status", "reason"),
    [(403, "rateLimitExceeded"), (429, "rateLimitExceeded"), (500, "backendError"), (503, "backendError")],
)
def test_injected_faults(standin: GoogleStandin, events: Any, status: int, reason: str) -> None:
    standin.inject_faults(status, 2)
    for _ in range(2):
        answer = error_of(events.list(calendarId="primary"))
        assert (answer[0], answer[1]["code"], answer[1]["errors"][0]["reason"]) == (status, status, reason)
    events.list(calendarId="primary").execute()
    assert [r.status for r in standin.request_log] == [status, status, 200]


def test_fault_after_processing_keeps_the_write(standin: GoogleStandin, events: Any) -> None:
    standin.inject_faults(503, 1, method="POST", after_processing=True)
    assert (
        error_of(
            events.insert(calendarId="primary", body={"id": "event01", "start": BERLIN_10, "end": BERLIN_11})
        )[0]
        == 503
    )
    assert [e["id"] for e in standin.events("primary")] == ["event01"]


def test_requests_need_a_valid_access_token(standin: GoogleStandin) -> None:
    request = urllib.request.Request(standin.api_endpoint + "calendars/primary/events")
    request.add_header("Authorization", "Bearer nope")
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request)
    assert raised.value.code == 401
    assert json.loads(raised.value.read())["error"]["errors"][0]["reason"] == "authError"


def test_token_endpoint_refreshes_and_refuses_a_revoked_grant(standin: GoogleStandin) -> None:
    def refresh() -> tuple[int, dict[str, Any]]:
        form = f"grant_type=refresh_token&refresh_token={REFRESH_TOKEN}&client_id=c&client_secret=s".encode()
        try:
            with urllib.request.urlopen(standin.token_uri, data=form) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    status, body = refresh()
    assert status == 200 and body["access_token"] in standin.access_tokens
    standin.revoke()
    assert refresh() == (
        400,
        {"error": "invalid_grant", "error_description": "Token has been expired or revoked."},
    )


def test_discovery_document_points_at_the_standin(standin: GoogleStandin) -> None:
    credentials = Credentials(token=ACCESS_TOKEN)
    service = build(
        "calendar",
        "v3",
        credentials=credentials,
        static_discovery=False,
        cache_discovery=False,
        discoveryServiceUrl=standin.url + "discovery/v1/apis/{api}/{apiVersion}/rest",
    )
    standin.add_event("primary", {"id": "event01", "start": BERLIN_10, "end": BERLIN_11})
    assert [i["id"] for i in service.events().list(calendarId="primary").execute()["items"]] == ["event01"]


def test_a_listing_keeps_only_the_fields_asked_for(standin: GoogleStandin) -> None:
    """``fields`` partial responses, as a change check asks for them: ids, etags and status only."""
    for number in range(3):
        standin.add_event(
            "primary",
            {
                "id": f"event{number}",
                "summary": "Lunch",
                "start": {"dateTime": "2030-01-01T12:00:00Z"},
                "end": {"dateTime": "2030-01-01T13:00:00Z"},
            },
        )
    headers = {"authorization": f"Bearer {ACCESS_TOKEN}"}
    path = "/calendar/v3/calendars/primary/events?maxResults=2&fields=items(id,etag),nextPageToken"
    status, page = standin.handle("GET", path, headers, b"")
    assert status == 200
    assert set(page) == {"items", "nextPageToken"}
    assert [set(item) for item in page["items"]] == [{"id", "etag"}, {"id", "etag"}]
    status, last = standin.handle("GET", f"{path}&pageToken={page['nextPageToken']}", headers, b"")
    assert status == 200 and set(last) == {"items"} and last["items"][0]["id"] == "event2"
