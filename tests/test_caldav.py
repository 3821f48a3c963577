"""The CalDAV backend against a real Radicale server (started once per module on 127.0.0.1).

A small forwarding proxy, also on 127.0.0.1, sits in front of Radicale where a test needs the server
to fail (503, 429, an answer lost after the request went through) or needs to count requests.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest

from backend_contract import BackendContract
from calendar_user import CalendarUser, CallbackStore
from dav_proxy import Fault, FlakyProxy
from followup_cal.backends.caldav_backend import CaldavBackend
from followup_cal.backends.dav_discovery import list_calendars
from followup_cal.backends.http import RetryPolicy
from followup_cal.core.model import Kind, MarkUpdate, ReminderDraft, reminder_uid, source_key
from followup_cal.errors import (
    AlreadyExists,
    AuthenticationError,
    BackendError,
    PreconditionFailed,
    TransientError,
)
from followup_cal.ical.read import uids_in
from radicale_server import RadicaleServer, free_port, running_radicale
from scenarios import SyncScenarios, World
from test_backends_local import user_event_ical, user_href

TZ = ZoneInfo("Europe/Berlin")
START = datetime(2026, 12, 1, 9, 0, tzinfo=TZ)
WINDOW = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
USERS = {"alice": "alice-secret-pw", "bob": "bob-secret-pw"}
FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)


# ---- servers and calendars


@pytest.fixture(scope="module")
def radicale() -> Iterator[RadicaleServer]:
    with running_radicale() as server:
        yield server


@pytest.fixture(scope="module")
def radicale_auth() -> Iterator[RadicaleServer]:
    with running_radicale(users=USERS) as server:
        yield server


@pytest.fixture
def calendar_url(radicale: RadicaleServer) -> str:
    """A new, empty calendar for each test."""
    return radicale.make_calendar("alice", f"cal-{uuid.uuid4().hex[:8]}", "Work")


@pytest.fixture
def backend(calendar_url: str) -> CaldavBackend:
    return CaldavBackend("work", calendar_url, retry=FAST_RETRY)


def user_event(uid: str, summary: str, start: datetime = START, *extra: str) -> bytes:
    """An event as another calendar program would store it."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Other App//EN",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20261101T000000Z",
        f"DTSTART:{start.astimezone(UTC):%Y%m%dT%H%M%SZ}",
        f"DTEND:{(start + timedelta(hours=1)).astimezone(UTC):%Y%m%dT%H%M%SZ}",
        f"SUMMARY:{summary}",
        *extra,
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


def put_user_event(server: RadicaleServer, calendar_url: str, name: str, data: bytes) -> str:
    path = urlsplit(calendar_url).path + name
    status, _, body = server.request("PUT", path, data, headers={"Content-Type": "text/calendar"})
    assert status in (201, 204), body
    return path


def stored(server: RadicaleServer, path: str) -> bytes:
    status, _, body = server.request("GET", path)
    assert status == 200
    return body


def object_paths(server: RadicaleServer, calendar_url: str) -> list[str]:
    status, _, body = server.request("PROPFIND", urlsplit(calendar_url).path, headers={"Depth": "1"})
    assert status == 207
    hrefs = [h.text or "" for h in ET.fromstring(body).iter("{DAV:}href")]
    return sorted(h for h in hrefs if h.endswith(".ics"))


def draft(source: str = "interview-1@example.com", summary: str = "Send a thank-you note") -> ReminderDraft:
    start = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
    return ReminderDraft(
        uid=reminder_uid(source, Kind.THANK_YOU),
        kind=Kind.THANK_YOU,
        source=source,
        parent_uid=source.split(";")[0],
        start=start,
        end=start + timedelta(minutes=30),
        summary=summary,
        description="Thank each interviewer within 24 hours.",
        alarm_description="Thank-you note",
    )


@pytest.fixture
def proxy(radicale: RadicaleServer) -> Iterator[FlakyProxy]:
    flaky = FlakyProxy(radicale.root)
    yield flaky
    flaky.close()


# ---- errors: one clear line each


def test_wrong_password_is_one_clear_line(radicale_auth: RadicaleServer) -> None:
    url = radicale_auth.make_calendar("alice", "work-auth", "Work")
    backend = CaldavBackend("work", url, username="alice", password="wrong-password")
    with pytest.raises(AuthenticationError) as caught:
        backend.list_window(*WINDOW, TZ)
    message = str(caught.value)
    assert message == f"authentication failed for calendar 'work' at {url}: check the username and password"
    assert "wrong-password" not in message


def test_missing_password_on_a_server_that_wants_one(radicale_auth: RadicaleServer) -> None:
    url = radicale_auth.url("/alice/")
    with pytest.raises(AuthenticationError):
        CaldavBackend("work", url).list_window(*WINDOW, TZ)


def test_unreachable_port() -> None:
    url = f"http://127.0.0.1:{free_port()}/dav/alice/work/"
    with pytest.raises(BackendError) as caught:
        CaldavBackend("work", url, retry=FAST_RETRY).list_window(*WINDOW, TZ)
    assert not isinstance(caught.value, AuthenticationError)
    assert str(caught.value) == (
        f"calendar 'work' at {url} is unreachable (connection refused): check the url and the network"
    )


def test_a_path_that_does_not_exist(radicale: RadicaleServer) -> None:
    url = radicale.url("/alice/no-such-calendar/")
    with pytest.raises(BackendError, match=r"nothing there \(HTTP 404\)"):
        CaldavBackend("work", url).list_window(*WINDOW, TZ)


def test_self_signed_certificate(tmp_path: Path) -> None:
    with running_radicale(tmp_path, tls=True) as server:
        url = server.make_calendar("alice", "work", "Work")
        with pytest.raises(BackendError) as caught:
            CaldavBackend("work", url).list_window(*WINDOW, TZ)
        message = str(caught.value)
        assert "\n" not in message
        assert "self-signed certificate" in message
        assert "ca_bundle" in message and "verify = false" in message
        # With the server's certificate named, or the check turned off, it works.
        put_user_event(server, url, "a.ics", user_event("a@x", "Interview"))
        trusted = CaldavBackend("work", url, ca_bundle=str(tmp_path / "server.pem"))
        assert [e.uid for e in trusted.list_window(*WINDOW, TZ).events] == ["a@x"]
        unchecked = CaldavBackend("work", url, verify=False)
        assert [e.uid for e in unchecked.list_window(*WINDOW, TZ).events] == ["a@x"]


# ---- accounts: discovery and list_calendars


def test_list_calendars_on_the_server_root(radicale_auth: RadicaleServer) -> None:
    radicale_auth.make_calendar("alice", "home", "Home")
    radicale_auth.make_calendar("alice", "tasks", "Tasks", components=("VTODO",))
    radicale_auth.make_calendar("alice", "work-auth-2", "Work two")
    calendars = list_calendars(radicale_auth.root, "alice", USERS["alice"], True, None)
    by_name = {info.display_name: info for info in calendars}
    assert {"Home", "Tasks", "Work two"} <= set(by_name)
    assert by_name["Home"].url == radicale_auth.url("/alice/home/")
    assert by_name["Home"].holds_events and by_name["Home"].writable
    assert not by_name["Tasks"].holds_events
    # A calendar's own URL lists just that calendar.
    assert list_calendars(by_name["Home"].url, "alice", USERS["alice"], True, None) == [by_name["Home"]]


def test_root_url_with_one_calendar_uses_it(radicale_auth: RadicaleServer) -> None:
    only = radicale_auth.make_calendar("bob", "only", "Only one")
    backend = CaldavBackend("bob", radicale_auth.root, username="bob", password=USERS["bob"])
    assert backend.collection() == only
    assert backend.list_window(*WINDOW, TZ).events == []


def test_root_url_with_several_calendars_names_them(radicale_auth: RadicaleServer) -> None:
    radicale_auth.make_calendar("alice", "home2", "Home two")
    radicale_auth.make_calendar("alice", "work2", "Work two bis")
    backend = CaldavBackend("acct", radicale_auth.root, username="alice", password=USERS["alice"])
    with pytest.raises(BackendError) as caught:
        backend.list_window(*WINDOW, TZ)
    message = str(caught.value)
    assert radicale_auth.url("/alice/home2/") in message and radicale_auth.url("/alice/work2/") in message
    assert "put one of them in url" in message and "followup-cal calendars" in message


def test_authenticated_round_trip(radicale_auth: RadicaleServer) -> None:
    url = radicale_auth.make_calendar("alice", "round-trip", "Round trip")
    backend = CaldavBackend("work", url, username="alice", password=USERS["alice"])
    created = backend.create(draft())
    listed = backend.list_window(*WINDOW, TZ).events
    assert [(e.uid, e.reminder) for e in listed] == [(created.uid, created.reminder)]
    backend.delete(listed[0])
    assert backend.list_window(*WINDOW, TZ).events == []


# ---- marks survive the server's round trip


def test_issued_record_with_two_kinds_reads_back_as_both(
    radicale: RadicaleServer, calendar_url: str, backend: CaldavBackend
) -> None:
    path = put_user_event(
        radicale,
        calendar_url,
        "user-1.ics",
        user_event(
            "interview-1@example.com",
            "Interview with ACME",
            START,
            "ATTENDEE;CN=Jane Doe;PARTSTAT=ACCEPTED:mailto:jane@acme.example",
            "X-OTHER-APP-PROP;X-PARAM=kept:some value",
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            "DESCRIPTION:Interview soon",
            "TRIGGER:-PT15M",
            "END:VALARM",
        ),
    )
    [event] = backend.list_window(*WINDOW, TZ).events
    both = frozenset({Kind.THANK_YOU, Kind.CHECK_IN})
    backend.write_marks(event.href, event.etag, [MarkUpdate(None, both)])

    [marked] = backend.list_window(*WINDOW, TZ).events
    assert marked.issued == both
    assert marked.tagged
    raw = stored(radicale, path).decode()
    assert "X-FOLLOWUP-CAL-ISSUED:thank-you\\,check-in" in raw
    for kept in ("X-OTHER-APP-PROP;X-PARAM=kept:some value", "TRIGGER:-PT15M", "CN=Jane Doe"):
        assert kept in raw
    # A second write with the same record changes nothing on the server.
    before = stored(radicale, path)
    backend.write_marks(marked.href, marked.etag, [MarkUpdate(None, both)])
    assert stored(radicale, path) == before


def test_source_with_a_semicolon_survives(backend: CaldavBackend) -> None:
    occurrence = source_key("series-7@example.com", datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
    assert ";" in occurrence
    written = draft(source=occurrence)
    backend.create(written)
    [event] = backend.list_window(*WINDOW, TZ).events
    assert event.reminder is not None
    assert event.reminder.source == occurrence
    assert event.reminder.fingerprint == written.fingerprint
    assert backend.find(written.uid, None, TZ) == event


# ---- conditional writes


def test_create_twice_is_already_exists(backend: CaldavBackend) -> None:
    backend.create(draft())
    with pytest.raises(AlreadyExists):
        backend.create(draft())


def test_create_with_a_uid_stored_under_another_name(
    radicale: RadicaleServer, calendar_url: str, backend: CaldavBackend
) -> None:
    written = draft()
    put_user_event(radicale, calendar_url, "elsewhere.ics", user_event(written.uid, "Someone else's"))
    with pytest.raises(AlreadyExists):
        backend.create(written)
    assert len(object_paths(radicale, calendar_url)) == 1


def test_concurrent_edit_before_tagging_is_detected(
    radicale: RadicaleServer, calendar_url: str, backend: CaldavBackend
) -> None:
    path = put_user_event(radicale, calendar_url, "user-1.ics", user_event("i-1@x", "Interview"))
    [event] = backend.list_window(*WINDOW, TZ).events
    edited = user_event("i-1@x", "Interview (moved to room 4)")
    put_user_event(radicale, calendar_url, "user-1.ics", edited)

    with pytest.raises(PreconditionFailed):
        backend.write_marks(event.href, event.etag, [MarkUpdate(None, frozenset({Kind.THANK_YOU}))])
    after = stored(radicale, path)
    assert b"room 4" in after
    assert b"X-FOLLOWUP-CAL" not in after and b"CATEGORIES" not in after


def test_concurrent_edit_of_a_reminder_is_never_overwritten(
    radicale: RadicaleServer, calendar_url: str, backend: CaldavBackend
) -> None:
    created = backend.create(draft())
    path = created.href
    user_version = stored(radicale, path).replace(b"SUMMARY:Send a thank-you note", b"SUMMARY:My own text")
    put_user_event(radicale, calendar_url, path.rsplit("/", 1)[1], user_version)

    with pytest.raises(PreconditionFailed):
        backend.update_reminder(created, draft(summary="New text"))
    with pytest.raises(PreconditionFailed):
        backend.delete(created)
    assert b"SUMMARY:My own text" in stored(radicale, path)


def test_delete_of_a_gone_object_is_fine(backend: CaldavBackend) -> None:
    created = backend.create(draft())
    backend.delete(created)
    backend.delete(created)
    assert backend.find(created.uid, None, TZ) is None


def test_find_looks_outside_any_window(
    radicale: RadicaleServer, calendar_url: str, backend: CaldavBackend
) -> None:
    far = datetime(2029, 5, 5, 10, 0, tzinfo=TZ)
    put_user_event(radicale, calendar_url, "far.ics", user_event("far-away@x", "Interview", far))
    put_user_event(radicale, calendar_url, "near.ics", user_event("far-away@x.longer", "Other"))
    found = backend.find("far-away@x", None, TZ)
    assert found is not None and found.uid == "far-away@x" and found.start == far
    assert backend.find("far-away", None, TZ) is None
    assert backend.find("nobody@x", None, TZ) is None


def test_find_an_occurrence_of_a_series(
    radicale: RadicaleServer, calendar_url: str, backend: CaldavBackend
) -> None:
    series = user_event(
        "weekly@x", "Interview loop", START, "RRULE:FREQ=WEEKLY;COUNT=3", "EXDATE:20261208T080000Z"
    )
    put_user_event(radicale, calendar_url, "weekly.ics", series)
    third = datetime(2026, 12, 15, 8, 0, tzinfo=UTC)
    found = backend.find("weekly@x", third, TZ)
    assert found is not None and found.recurrence_id == third
    assert backend.find("weekly@x", datetime(2026, 12, 8, 8, 0, tzinfo=UTC), TZ) is None
    occurrences = backend.list_window(*WINDOW, TZ).events
    assert sorted(e.recurrence_id for e in occurrences if e.recurrence_id) == [
        datetime(2026, 12, 1, 8, 0, tzinfo=UTC),
        third,
    ]


# ---- requests: one REPORT per window, retries where safe


def test_one_report_per_window(proxy: FlakyProxy, calendar_url: str, radicale: RadicaleServer) -> None:
    put_user_event(radicale, calendar_url, "a.ics", user_event("a@x", "Interview A"))
    put_user_event(
        radicale, calendar_url, "b.ics", user_event("b@x", "Interview B", START + timedelta(days=1))
    )
    backend = CaldavBackend("work", proxy.url(calendar_url), retry=FAST_RETRY)
    backend.collection()
    proxy.log.clear()
    assert len(backend.list_window(*WINDOW, TZ).events) == 2
    assert proxy.log == ["REPORT"]


def test_reads_are_retried_after_503_and_429(proxy: FlakyProxy, calendar_url: str) -> None:
    backend = CaldavBackend("work", proxy.url(calendar_url), retry=FAST_RETRY)
    backend.collection()
    proxy.faults = [Fault("REPORT", 503), Fault("REPORT", 429, headers={"Retry-After": "0"})]
    proxy.log.clear()
    assert backend.list_window(*WINDOW, TZ).events == []
    assert proxy.log == ["REPORT"] * 3


def test_reads_give_up_after_bounded_tries(proxy: FlakyProxy, calendar_url: str) -> None:
    backend = CaldavBackend("work", proxy.url(calendar_url), retry=FAST_RETRY)
    backend.collection()
    proxy.faults = [Fault("REPORT", 502, times=10)]
    proxy.log.clear()
    with pytest.raises(TransientError, match="HTTP 502"):
        backend.list_window(*WINDOW, TZ)
    assert proxy.log == ["REPORT"] * FAST_RETRY.attempts


def test_create_whose_answer_was_lost_is_not_duplicated(
    proxy: FlakyProxy, calendar_url: str, radicale: RadicaleServer
) -> None:
    backend = CaldavBackend("work", proxy.url(calendar_url), retry=FAST_RETRY)
    proxy.faults = [Fault("PUT", 502, forward_first=True)]
    event = backend.create(draft())
    assert event.reminder is not None and event.etag
    assert proxy.log.count("PUT") == 2  # the retry met 412 and read the object back
    assert object_paths(radicale, calendar_url) == [event.href]


def test_tagging_whose_answer_was_lost_succeeds_once(
    proxy: FlakyProxy, calendar_url: str, radicale: RadicaleServer
) -> None:
    path = put_user_event(radicale, calendar_url, "u.ics", user_event("u@x", "Interview"))
    backend = CaldavBackend("work", proxy.url(calendar_url), retry=FAST_RETRY)
    [event] = backend.list_window(*WINDOW, TZ).events
    proxy.faults = [Fault("PUT", 503, forward_first=True)]
    backend.write_marks(event.href, event.etag, [MarkUpdate(None, frozenset({Kind.THANK_YOU}))])
    assert stored(radicale, path).count(b"X-FOLLOWUP-CAL-ISSUED") == 1


# ---- the shared contract and the end-to-end scenario, on Radicale


class RadicaleHarness:
    """Seeds and changes a user's events with plain HTTP, as another CalDAV client would."""

    def __init__(
        self, server: RadicaleServer, calendar_url: str, backend: CaldavBackend, user: str | None
    ) -> None:
        self.server = server
        self.collection = urlsplit(calendar_url).path
        self.backend = backend
        self.user = user
        self.fields: dict[str, dict[str, Any]] = {}

    def _put(self, uid: str) -> None:
        data = user_event_ical(uid, **self.fields[uid])
        status, _, body = self.server.request(
            "PUT",
            self.collection + user_href(uid),
            data,
            user=self.user,
            headers={"Content-Type": "text/calendar"},
        )
        assert status in (201, 204), body

    def add_user_event(
        self, uid: str, summary: str, start: datetime, end: datetime | None, **more: Any
    ) -> None:
        self.fields[uid] = {"summary": summary, "start": start, "end": end, **more}
        self._put(uid)

    def modify_user_event(self, uid: str, **changes: Any) -> None:
        self.fields[uid].update(changes)
        self._put(uid)

    def delete_user_event(self, uid: str) -> None:
        status, _, _ = self.server.request("DELETE", self.collection + user_href(uid), user=self.user)
        assert status in (200, 204)


class TestRadicaleContract(BackendContract):
    @pytest.fixture
    def harness(self, radicale: RadicaleServer, calendar_url: str, backend: CaldavBackend) -> RadicaleHarness:
        return RadicaleHarness(radicale, calendar_url, backend, None)


class TestRadicaleWithPasswordContract(BackendContract):
    @pytest.fixture
    def harness(self, radicale_auth: RadicaleServer) -> RadicaleHarness:
        url = radicale_auth.make_calendar("alice", f"cal-{uuid.uuid4().hex[:8]}", "Work")
        backend = CaldavBackend("work", url, username="alice", password=USERS["alice"], retry=FAST_RETRY)
        return RadicaleHarness(radicale_auth, url, backend, "alice")


def collection_store(server: RadicaleServer, calendar_url: str) -> CallbackStore:
    collection = urlsplit(calendar_url).path

    def get(href: str) -> bytes:
        return stored(server, collection + href)

    def put(href: str, data: bytes) -> None:
        put_user_event(server, calendar_url, href, data)

    def remove(href: str) -> None:
        assert server.request("DELETE", collection + href)[0] in (200, 204)

    def hrefs() -> list[str]:
        return [path.rsplit("/", 1)[1] for path in object_paths(server, calendar_url)]

    return CallbackStore(hrefs, get, put, remove)


class TestRadicaleScenarios(SyncScenarios):
    @pytest.fixture
    def world(self, radicale: RadicaleServer, calendar_url: str) -> World:
        backend = CaldavBackend("cal", calendar_url, retry=FAST_RETRY)
        return World(backend, CalendarUser(collection_store(radicale, calendar_url)))


def _content_lines_without_marks(data: bytes) -> list[str]:
    """The unfolded content lines without the tag: its own line, or its value joined to the event's."""
    unfolded = data.decode().replace("\r\n ", "").replace("\r\n\t", "")
    joined = "X-FOLLOWUP-CAL-TAG=JOINED" in unfolded
    return sorted(
        line.removesuffix(",Interview") if joined and line.startswith("CATEGORIES") else line
        for line in unfolded.splitlines()
        if not line.startswith("X-FOLLOWUP-CAL-ISSUED") and line != "CATEGORIES:Interview"
    )


def test_tagging_corpus_events_keeps_everything_else(
    radicale: RadicaleServer, calendar_url: str, backend: CaldavBackend, ics_corpus: Path
) -> None:
    """Every real-world file Radicale accepts as one event: after tagging, the server holds the same
    content lines as before plus the tag and the record."""
    collection = urlsplit(calendar_url).path
    tagged = 0
    for index, source in enumerate(sorted(ics_corpus.rglob("*.ics"))):
        data = source.read_bytes()
        if len(uids_in(data)) != 1:
            continue  # a CalDAV object holds the components of one UID (RFC 4791 4.1)
        path = f"{collection}corpus-{index}.ics"
        if radicale.put_ics(path, data) != 201:
            continue  # refused by Radicale (broken on purpose)
        _, headers, before = radicale.request("GET", path)
        etag = next(value for key, value in headers.items() if key.lower() == "etag")
        backend.write_marks(path, etag, [MarkUpdate(None, frozenset({Kind.THANK_YOU}))])
        after = stored(radicale, path)
        assert re.search(rb"\nX-FOLLOWUP-CAL-ISSUED(;X-FOLLOWUP-CAL-TAG=JOINED)?:thank-you\r", after), source
        assert _content_lines_without_marks(after) == _content_lines_without_marks(before), source
        radicale.request("DELETE", path)
        tagged += 1
    assert tagged >= 30  # 34 of icalendar's test files alone, more with the shared corpus


def test_a_calendar_for_tasks_is_refused(radicale: RadicaleServer) -> None:
    url = radicale.make_calendar("alice", f"tasks-{uuid.uuid4().hex[:8]}", "Tasks", components=("VTODO",))
    with pytest.raises(BackendError, match="not events"):
        CaldavBackend("tasks", url).list_window(*WINDOW, TZ)


def test_a_redirected_calendar_url_is_followed(proxy: FlakyProxy, calendar_url: str) -> None:
    old_url = proxy.root + "old/place/"
    proxy.faults = [Fault("PROPFIND", 301, headers={"Location": proxy.url(calendar_url)})]
    backend = CaldavBackend("work", old_url, retry=FAST_RETRY)
    assert backend.collection() == proxy.url(calendar_url)
    assert backend.list_window(*WINDOW, TZ).events == []


def test_digest_authentication(proxy: FlakyProxy, calendar_url: str) -> None:
    proxy.digest_user = ("carol", "carol-digest-pw")
    url = proxy.url(calendar_url)
    backend = CaldavBackend("work", url, username="carol", password="carol-digest-pw", retry=FAST_RETRY)
    created = backend.create(draft())
    assert [e.uid for e in backend.list_window(*WINDOW, TZ).events] == [created.uid]
    backend.delete(created)
    assert backend.find(created.uid, None, TZ) is None
    wrong = CaldavBackend("work", url, username="carol", password="not-it")
    with pytest.raises(AuthenticationError, match="check the username and password"):
        wrong.list_window(*WINDOW, TZ)


def test_the_quick_request_speaks_https_with_the_calendars_certificate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The no-op's one request (``send_quick``, http.client alone) checks certificates as the full path
    does, and leaves anything it does not handle (an untrusted certificate, a proxy) to the full path."""
    from followup_cal.backends.dav import DavSession

    propfind = b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>'
    headers = {"Depth": "0", "Content-Type": "application/xml; charset=utf-8"}
    with running_radicale(tmp_path, tls=True) as server:
        url = server.make_calendar("alice", "work", "Work")
        trusted = DavSession(url, label="test", ca_bundle=str(tmp_path / "server.pem"))
        reply = trusted.send_quick("PROPFIND", url, propfind, headers, basic=False)
        assert reply is not None and reply.status == 207 and b"multistatus" in reply.body
        assert reply.header("content-type") == reply.header("Content-Type")
        untrusted = DavSession(url, label="test")
        assert untrusted.send_quick("PROPFIND", url, propfind, headers, basic=False) is None
        unchecked = DavSession(url, label="test", verify=False)
        assert unchecked.send_quick("PROPFIND", url, propfind, headers, basic=False) is not None
        monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
        assert trusted.send_quick("PROPFIND", url, propfind, headers, basic=False) is None
