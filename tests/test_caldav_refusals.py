"""How the CalDAV backend reads a server's refusals: a UID taken (409, 412, or 403 with a precondition
element), a 403 that is not about the UID, and 423 Locked on a write. A proxy in front of a real Radicale
answers as such servers do; the requests it forwards and when are recorded in ``proxy.spans``.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest

from calendar_user import CalendarUser
from dav_proxy import Fault, FlakyProxy
from followup_cal.backends.caldav_backend import CaldavBackend
from followup_cal.backends.dav import CALDAV, Precondition, preconditions_in
from followup_cal.backends.http import RetryPolicy
from followup_cal.core.model import Kind, reminder_uid
from followup_cal.errors import AlreadyExists, BackendError, TransientError
from radicale_server import RadicaleServer, running_radicale
from scenarios import World, local, seed_week
from test_caldav import FAST_RETRY, collection_store, draft

WRITES = ("PUT", "DELETE")
XML = {"Content-Type": "application/xml; charset=utf-8"}


def dav_error(inner: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<D:error xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">{inner}</D:error>'
    ).encode()


@pytest.fixture(scope="module")
def radicale() -> Iterator[RadicaleServer]:
    with running_radicale() as server:
        yield server


@pytest.fixture
def calendar_url(radicale: RadicaleServer) -> str:
    return radicale.make_calendar("alice", f"cal-{uuid.uuid4().hex[:8]}", "Work")


@pytest.fixture
def proxy(radicale: RadicaleServer) -> Iterator[FlakyProxy]:
    flaky = FlakyProxy(radicale.root)
    yield flaky
    flaky.close()


# ---- the precondition, parsed


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            dav_error("<C:no-uid-conflict><D:href>/alice/other/x.ics</D:href></C:no-uid-conflict>"),
            [Precondition(f"{CALDAV}no-uid-conflict", ("/alice/other/x.ics",))],
        ),
        (
            dav_error("<C:unique-scheduling-object-resource/>"),
            [Precondition(f"{CALDAV}unique-scheduling-object-resource", ())],
        ),
        (b"Forbidden: that UID conflicts with another event", []),
        (b"<html><body>no-uid-conflict</body></html>", []),
        (b"<D:error xmlns:D='DAV:'><unclosed>", []),
        (b"", []),
    ],
)
def test_preconditions_are_read_from_the_xml(body: bytes, expected: list[Precondition]) -> None:
    assert preconditions_in(body) == expected


# ---- UID taken elsewhere in the account: 403 with a precondition


@pytest.mark.parametrize("condition", ["no-uid-conflict", "unique-scheduling-object-resource"])
def test_uid_taken_in_another_calendar_takes_the_next_uid(
    condition: str, proxy: FlakyProxy, radicale: RadicaleServer, calendar_url: str
) -> None:
    """A server with UIDs unique per account refuses a reminder whose UID another calendar holds."""
    taken = reminder_uid("acme-screen", Kind.THANK_YOU)
    body = dav_error(f"<C:{condition}><D:href>/alice/other/{taken}.ics</D:href></C:{condition}>")
    assert condition == "no-uid-conflict" or b"uid" not in body.lower()
    proxy.faults = [Fault("PUT", 403, times=100, path_suffix=f"/{taken}.ics", body=body, headers=XML)]
    backend = CaldavBackend("cal", proxy.url(calendar_url), retry=FAST_RETRY, connections=4)
    world = World(backend, CalendarUser(collection_store(radicale, calendar_url)))
    seed_week(world.user)
    world.sync()  # fails the test on any failure
    reminders = world.reminders()
    assert reminders[("acme-screen", Kind.THANK_YOU)].uid == reminder_uid("acme-screen", Kind.THANK_YOU, 1)
    assert len(reminders) == 4
    assert sum("wrote" in line for line in world.lines) == 4
    before = world.user.snapshot()
    world.sync()
    assert world.lines == [] and world.user.snapshot() == before


def test_a_403_that_only_mentions_the_uid_is_an_error(proxy: FlakyProxy, calendar_url: str) -> None:
    proxy.faults = [Fault("PUT", 403, body=b"Forbidden: this account may not store a UID here")]
    backend = CaldavBackend("work", proxy.url(calendar_url), retry=FAST_RETRY)
    with pytest.raises(BackendError) as caught:
        backend.create(draft())
    assert not isinstance(caught.value, AlreadyExists)
    assert "(HTTP 403): check the calendar is writable" in str(caught.value)


def test_another_precondition_is_named(proxy: FlakyProxy, calendar_url: str) -> None:
    body = dav_error("<C:max-resource-size/>")
    proxy.faults = [Fault("PUT", 403, body=body, headers=XML)]
    backend = CaldavBackend("work", proxy.url(calendar_url), retry=FAST_RETRY)
    with pytest.raises(BackendError) as caught:
        backend.create(draft())
    assert not isinstance(caught.value, AlreadyExists)
    assert "(HTTP 403, precondition max-resource-size)" in str(caught.value)


# ---- 423 Locked, and a server that takes one write at a time


@pytest.mark.parametrize("status", [423, 429])
def test_a_busy_server_gets_one_write_at_a_time(
    status: int, proxy: FlakyProxy, radicale: RadicaleServer, calendar_url: str
) -> None:
    """The first write is refused (Retry-After: 1): it is retried after the wait the server asked for,
    and from then on no two writes overlap."""
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(0.05)  # not the full wait; enough for writes already on their way to arrive first

    retry = RetryPolicy(attempts=3, base_delay=0.01, max_delay=5.0, sleep=sleep)
    proxy.faults = [Fault("PUT", status, headers={"Retry-After": "1"})]
    backend = CaldavBackend("cal", proxy.url(calendar_url), retry=retry, connections=4)
    world = World(backend, CalendarUser(collection_store(radicale, calendar_url)))
    seed_week(world.user)
    for number in range(6):
        start = local(2 + number, 10, month=12)
        world.user.add(f"more-{number}", f"Interview with Co {number}", start, start + timedelta(hours=1))
    world.sync()
    assert waits == [1.0]
    assert len(world.reminders()) == 4 + 2 * 6

    writes = [span for span in proxy.spans if span.method in WRITES]
    refused = next(span for span in writes if span.status == status)
    retried = next(span for span in writes if span.path == refused.path and span.arrived > refused.done)
    assert retried.status in (200, 201, 204)
    # Writes sent once the refused one went through run one after the other.
    later = sorted((span for span in writes if span.arrived > retried.done), key=lambda span: span.arrived)
    assert len(later) >= 10
    for first, second in itertools.pairwise(later):
        assert second.arrived >= first.done, "two writes overlapped after the server said it was busy"
    world.sync()
    assert world.lines == []


def test_a_lock_that_stays_is_one_clear_line(proxy: FlakyProxy, calendar_url: str) -> None:
    proxy.faults = [Fault("PUT", 423, times=10)]
    backend = CaldavBackend("work", proxy.url(calendar_url), retry=FAST_RETRY)
    with pytest.raises(TransientError) as caught:
        backend.create(draft())
    assert str(caught.value).endswith(
        "stayed locked (HTTP 423) through 3 tries of PUT: another program may be writing to the "
        "calendar; try again later"
    )
    assert proxy.log.count("PUT") == FAST_RETRY.attempts


def test_only_dav_and_caldav_conditions_count_as_preconditions() -> None:
    """SabreDAV (Nextcloud, Baikal) puts its own s:exception and s:message in every DAV:error body: those
    are notes, not conditions; a read-only calendar's need-privileges is the 403 to explain."""
    from followup_cal.backends.dav import preconditions_in

    body = (
        b'<?xml version="1.0"?><d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns">'
        b"<d:need-privileges/><s:exception>Sabre\\DAV\\Exception\\NeedPrivileges</s:exception>"
        b"<s:message>User did not have the required privileges</s:message></d:error>"
    )
    assert [condition.local_name for condition in preconditions_in(body)] == ["need-privileges"]
