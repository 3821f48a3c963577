"""The run right after a sync that wrote is one request per calendar too: the writing sync keeps the change
tokens it took before reading and vouches for its own writes (each object with the etag it left), so the
next change check ignores exactly those. A change anyone else made meanwhile is never hidden: an edited
interview, a reminder the user edited, one they deleted. On Radicale, the Google stand-in and the Graph
stand-in, each run with a new backend, as a new process would have."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from calendar_user import CalendarUser
from dav_proxy import FlakyProxy
from followup_cal.backends.base import CalendarBackend
from followup_cal.backends.caldav_backend import CaldavBackend
from followup_cal.core.model import Kind, Listing
from followup_cal.run.sync_state import SyncCache
from google_helpers import make_backend
from google_standin import GoogleStandin
from graph_helpers import OutlookUser
from graph_helpers import make_backend as make_graph_backend
from graph_standin import GraphStandin
from radicale_server import RadicaleServer, running_radicale
from scenarios import World, local, seed_week
from test_caldav import FAST_RETRY, collection_store
from test_google_scenarios import GoogleCalendarUser


def move_interview(world: World) -> None:
    world.user.move("acme-screen", timedelta(days=1))


def edit_a_reminder(world: World) -> None:
    reminder = world.reminders()[("acme-screen", Kind.THANK_YOU)]
    world.user.set(reminder.uid, "SUMMARY", "Write to Jane (my own words)")


def delete_a_reminder(world: World) -> None:
    reminder = world.reminders()[("globex-tech", Kind.CHECK_IN)]
    world.user.delete(reminder.uid)


EDITS = {"moved interview": move_interview, "edited reminder": edit_a_reminder, "deleted": delete_a_reminder}


class Server:
    """A calendar on one server, with requests counted."""

    user: CalendarUser | GoogleCalendarUser | OutlookUser
    requests: Callable[[], list[str]]  # methods of the HTTP requests since the last clear
    clear: Callable[[], None]
    backend: Callable[[], CalendarBackend]  # a new one, as a new process opens


@pytest.fixture(scope="module")
def radicale() -> Iterator[RadicaleServer]:
    with running_radicale() as server:
        yield server


@pytest.fixture(params=["radicale", "google", "microsoft"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    found = Server()
    if request.param == "microsoft":
        with GraphStandin() as graph:
            found.user = OutlookUser(graph)
            # HTTP requests only: a $batch's parts are logged too, marked in_batch.
            found.requests = lambda: [r.method for r in graph.request_log if not r.in_batch]
            found.clear = graph.request_log.clear
            found.backend = lambda: make_graph_backend(graph, name="cal")
            yield found
            assert graph.violations == []
        return
    if request.param == "google":
        with GoogleStandin(timezone="Europe/Berlin") as standin:
            found.user = GoogleCalendarUser(standin)
            found.requests = lambda: [r.method for r in standin.request_log]
            found.clear = standin.request_log.clear
            found.backend = lambda: make_backend(standin, name="cal")
            yield found
        return
    radicale = request.getfixturevalue("radicale")
    url = radicale.make_calendar("alice", f"cal-{uuid.uuid4().hex[:8]}", "Work")
    proxy = FlakyProxy(radicale.root)
    found.user = CalendarUser(collection_store(radicale, url))
    found.requests = lambda: list(proxy.log)
    found.clear = proxy.log.clear
    found.backend = lambda: CaldavBackend("cal", proxy.url(url), retry=FAST_RETRY, connections=4)
    try:
        yield found
    finally:
        proxy.close()


def written_world(server: Server, tmp_path: Path) -> World:
    """A calendar after a first sync that wrote its reminders and tags, with the sync cache."""
    seed_week(server.user)  # type: ignore[arg-type]
    world = World(server.backend(), server.user, cache=SyncCache(tmp_path / "cache.json"))  # type: ignore[arg-type]
    world.sync()
    assert len(world.lines) >= 4  # two interviews: tagged, each with its reminders
    return world


def next_run(world: World, server: Server) -> list[str]:
    """A sync 15 minutes later in a new process; returns the requests it sent."""
    world.backend = server.backend()
    world.now += timedelta(minutes=15)
    server.clear()
    world.sync()
    return server.requests()


def test_the_run_after_a_writing_sync_is_one_request(server: Server, tmp_path: Path) -> None:
    world = written_world(server, tmp_path)
    expected = ["REPORT"] if isinstance(server.user, CalendarUser) else ["GET"]
    assert next_run(world, server) == expected
    assert world.lines == []
    assert next_run(world, server) == expected  # its token is past the writes now


@pytest.mark.parametrize("edit", EDITS)
def test_a_change_made_after_a_writing_sync_is_never_hidden(
    edit: str, server: Server, tmp_path: Path
) -> None:
    world = written_world(server, tmp_path)
    EDITS[edit](world)
    requests = next_run(world, server)
    assert len(requests) > 1, requests  # the change check, then a full read
    if edit == "moved interview":
        assert any("moved thank-you" in line for line in world.lines), world.lines
    else:  # the user's edit and deletion stand: nothing to write
        assert world.lines == []
    assert next_run(world, server) == requests[:1]  # settled again


def google_world(standin: GoogleStandin, tmp_path: Path) -> World:
    user = GoogleCalendarUser(standin)
    seed_week(user)  # type: ignore[arg-type]
    return World(make_backend(standin, name="cal"), user, cache=SyncCache(tmp_path / "cache.json"))  # type: ignore[arg-type]


def test_a_first_sync_on_google_reads_once_and_keeps_that_reads_token(tmp_path: Path) -> None:
    """No separate listing for a sync token (the window listing's last page carries one) and no read-back
    of a created reminder (Google keeps extended properties): one GET, then the writes."""
    with GoogleStandin(timezone="Europe/Berlin") as standin:
        world = google_world(standin, tmp_path)
        world.sync()
        reads = [r for r in standin.request_log if r.method == "GET"]
        assert len(reads) == 1 and "timeMin" in reads[0].query, [r.query for r in reads]
        assert len(world.reminders()) == 4
        standin.request_log.clear()
        world.backend = make_backend(standin, name="cal")
        world.now += timedelta(minutes=15)
        world.sync()
        assert [(r.method, "syncToken" in r.query) for r in standin.request_log] == [("GET", True)]
        assert world.lines == []


def test_an_interview_added_after_the_first_read_is_seen_by_the_next_run(tmp_path: Path) -> None:
    """The token comes from the read itself, so an event another client adds while the first sync writes
    is a change at the next check, never hidden behind a token taken after the read."""
    with GoogleStandin(timezone="Europe/Berlin") as standin:
        world = google_world(standin, tmp_path)
        backend = world.backend
        read = backend.list_window
        added: list[str] = []

        def read_then_add(*args: Any) -> Listing:
            listing = read(*args)
            if not added:
                added.append("initech-onsite")
                world.user.add(
                    "initech-onsite",
                    "Onsite interview - Initech",
                    local(2, 9, month=12),
                    local(2, 11, month=12),
                    organizer=("bill@initech.example", "Bill Lumbergh"),
                )
            return listing

        backend.list_window = read_then_add  # type: ignore[method-assign]
        world.sync()
        assert not any("Initech" in line for line in world.lines)
        world.backend = make_backend(standin, name="cal")
        world.now += timedelta(minutes=15)
        world.sync()
        assert any("Initech" in line and "thank-you" in line for line in world.lines), world.lines


def test_a_token_google_refuses_with_400_means_a_full_read_not_a_failure(tmp_path: Path) -> None:
    with GoogleStandin(timezone="Europe/Berlin") as standin:
        world = google_world(standin, tmp_path)
        world.sync()
        standin.inject_faults(400, method="GET")
        world.backend = make_backend(standin, name="cal")
        world.now += timedelta(minutes=15)
        standin.request_log.clear()
        world.sync()  # asserts that no calendar failed
        assert world.lines == []
        assert len(standin.request_log) > 1  # the refused check, a new token, the full read
        standin.request_log.clear()
        world.backend = make_backend(standin, name="cal")
        world.sync()
        assert len(standin.request_log) == 1  # settled again


def test_a_first_sync_on_graph_reads_no_reminder_back(tmp_path: Path) -> None:
    """Graph keeps extended properties as Google does: no look-up of a created reminder by its UID mark
    after the creates (each create still looks for its source mark first: that is how a retried create
    finds the one that landed)."""
    with GraphStandin() as graph:
        user = OutlookUser(graph)
        seed_week(user)  # type: ignore[arg-type]
        world = World(make_graph_backend(graph, name="cal"), user)  # type: ignore[arg-type]
        world.sync()
        assert len(world.reminders()) == 4
        filters = [" ".join(r.query.get("$filter", [])) for r in graph.request_log if r.method == "GET"]
        assert not any("followupCalUid" in text for text in filters), filters
        assert graph.violations == []
