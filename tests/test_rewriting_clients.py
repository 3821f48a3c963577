"""Calendars in the wild: apps that re-save followup-cal's reminders and the user's interviews without
the marks (tests/rewriting_client.py), on a vdir, the memory backend and real Radicale and Xandikos
servers.

After any such rewrite a sync exits cleanly, writes no second reminder for an interview and kind, tags no
reminder, leaves a reminder the user moved where they put it, and the sync after it is quiet.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from calendar_user import CalendarUser, CallbackStore, FolderStore
from followup_cal.backends.caldav_backend import CaldavBackend
from followup_cal.backends.memory import MemoryBackend
from followup_cal.backends.vdir import VdirBackend
from followup_cal.core.model import Event, Kind, MarkUpdate, ReminderDraft, reminder_uid
from followup_cal.core.reconcile import Create
from followup_cal.core.unmarked import MAX_UID_ATTEMPTS
from followup_cal.run.sync import marks_lost_line
from followup_cal.run.writes import create_reminder
from radicale_server import RadicaleServer, running_radicale
from rewriting_client import EVERYTHING_STRIPPED, RESERIALISED, STRIPPED, Rewrite, RewritingClient
from scenarios import NOW, TZ, World, local, seed_week
from test_caldav import FAST_RETRY, collection_store
from test_cli import invoke, vdir_with_screen, write_config
from test_xandikos import xandikos_backend
from xandikos_server import XandikosServer

INTERVIEWS = ("acme-screen", "globex-tech")
USER_EVENTS = (*INTERVIEWS, "lunch", "mock")
MOVED = timedelta(hours=1)


@pytest.fixture(scope="module")
def radicale() -> Iterator[RadicaleServer]:
    with running_radicale() as server:
        yield server


BACKENDS = ["vdir", "radicale", "xandikos"]
ON_EVERY_BACKEND = pytest.mark.parametrize("world", BACKENDS, indirect=True)


@pytest.fixture
def world(request: pytest.FixtureRequest, tmp_path: Path) -> World:
    if request.param == "memory":
        memory = MemoryBackend("cal", remember_deleted=True)
        store = CallbackStore(memory.hrefs, memory.get_raw, memory.put_raw, memory.remove_raw)
        return World(memory, CalendarUser(store))
    if request.param == "vdir":
        return World(VdirBackend("cal", tmp_path), CalendarUser(FolderStore(tmp_path)))
    if request.param == "xandikos":
        xandikos: XandikosServer = request.getfixturevalue("xandikos")
        url = xandikos.make_calendar("user", f"cal-{uuid.uuid4().hex[:8]}", "Work")
        return World(xandikos_backend(url), CalendarUser(collection_store(xandikos, url)))
    server: RadicaleServer = request.getfixturevalue("radicale")
    url = server.make_calendar("alice", f"cal-{uuid.uuid4().hex[:8]}", "Work")
    return World(CaldavBackend("cal", url, retry=FAST_RETRY), CalendarUser(collection_store(server, url)))


def everything(world: World) -> list[Event]:
    return world.backend.list_window(NOW - timedelta(days=60), NOW + timedelta(days=200), TZ).events


def reminder_objects(world: World) -> dict[tuple[str, Kind], list[Event]]:
    """Every object that is not one of the user's events, by the interview and kind its UID derives
    from; an object at no derived UID of an interview fails the test (a reminder of a reminder, say)."""
    derived = {
        reminder_uid(uid, kind, attempt): (uid, kind)
        for uid in INTERVIEWS
        for kind in Kind
        for attempt in range(MAX_UID_ATTEMPTS)
    }
    found: dict[tuple[str, Kind], list[Event]] = defaultdict(list)
    for event in everything(world):
        if event.uid in USER_EVENTS:
            continue
        assert event.uid in derived, f"an object that is no reminder of an interview: {event.summary!r}"
        found[derived[event.uid]].append(event)
    return found


def assert_one_untagged_reminder_each(world: World) -> dict[tuple[str, Kind], Event]:
    found = reminder_objects(world)
    assert set(found) == {(uid, kind) for uid in INTERVIEWS for kind in Kind}
    for key, objects in found.items():
        assert len(objects) == 1, f"{len(objects)} reminders for {key}"
        assert not objects[0].tagged and objects[0].issued is None, f"the reminder for {key} was tagged"
    return {key: objects[0] for key, objects in found.items()}


CASES = {
    "reminders stripped": (STRIPPED, None),
    "reminders re-serialised": (RESERIALISED, None),
    "reminders stripped of marks, alarm and categories": (EVERYTHING_STRIPPED, None),
    "reminders stripped and moved by the user": (Rewrite(move=MOVED), None),
    "interviews stripped of ISSUED and categories": (None, EVERYTHING_STRIPPED),
    "interviews stripped of ISSUED only": (None, STRIPPED),
    "both at once": (Rewrite(strip_alarms=True, move=MOVED), EVERYTHING_STRIPPED),
}


@pytest.mark.parametrize("world", ["memory", *BACKENDS], indirect=True)
@pytest.mark.parametrize("case", list(CASES))
def test_a_rewritten_calendar_gets_no_second_reminder(world: World, case: str) -> None:
    reminder_rewrite, interview_rewrite = CASES[case]
    seed_week(world.user)
    world.sync()
    written = assert_one_untagged_reminder_each(world)
    client = RewritingClient(world.user.store)
    if reminder_rewrite is not None:
        client.resave_all(sorted(r.uid for r in written.values()), reminder_rewrite)
    if interview_rewrite is not None:
        client.resave_all(INTERVIEWS, interview_rewrite)

    world.sync()
    after = assert_one_untagged_reminder_each(world)
    assert {key: r.uid for key, r in after.items()} == {key: r.uid for key, r in written.items()}
    shift = reminder_rewrite.move if reminder_rewrite is not None else timedelta(0)
    assert {key: r.start for key, r in after.items()} == {key: r.start + shift for key, r in written.items()}
    for uid in INTERVIEWS:
        interview = world.event(uid)
        assert interview.tagged and interview.issued == frozenset(Kind)
    assert not any("wrote" in line for line in world.lines), world.lines

    before = world.user.snapshot()
    world.sync()
    assert world.lines == []
    assert world.user.snapshot() == before


@ON_EVERY_BACKEND
def test_a_stripped_reminder_of_a_moved_interview_is_left_where_it_is(world: World) -> None:
    """Without its fingerprint nobody can tell whether the user moved it: the content no longer matches
    what followup-cal would write, so it is the user's."""
    seed_week(world.user)
    world.sync()
    written = assert_one_untagged_reminder_each(world)
    RewritingClient(world.user.store).resave_all(sorted(r.uid for r in written.values()))
    world.user.move("globex-tech", timedelta(days=1))
    world.sync()
    after = assert_one_untagged_reminder_each(world)
    assert {key: r.start for key, r in after.items()} == {key: r.start for key, r in written.items()}
    world.sync()
    assert world.lines == []


@ON_EVERY_BACKEND
def test_a_stripped_unedited_reminder_of_a_cancelled_interview_is_removed(world: World) -> None:
    seed_week(world.user)
    world.sync()
    written = assert_one_untagged_reminder_each(world)
    client = RewritingClient(world.user.store)
    client.resave(written[("acme-screen", Kind.CHECK_IN)].uid, EVERYTHING_STRIPPED)
    client.resave(written[("acme-screen", Kind.THANK_YOU)].uid, Rewrite(move=MOVED))
    world.user.cancel("acme-screen")
    world.sync()
    left = reminder_objects(world)
    assert ("acme-screen", Kind.CHECK_IN) not in left  # unedited: removed
    assert [r.start for r in left[("acme-screen", Kind.THANK_YOU)]] == [local(30, 13) + MOVED]  # the user's
    world.sync()
    assert world.lines == []


@ON_EVERY_BACKEND
@pytest.mark.parametrize("rewrite", [STRIPPED, EVERYTHING_STRIPPED], ids=["record", "record and tag"])
def test_an_interview_that_lost_its_record_tells_what_that_costs(world: World, rewrite: Rewrite) -> None:
    """A reminder deleted while its interview's ISSUED record is gone cannot be known to have been issued:
    it comes back, and the run says so once."""
    seed_week(world.user)
    world.sync()
    written = assert_one_untagged_reminder_each(world)
    app = RewritingClient(world.user.store, clock=datetime.now(UTC) + timedelta(minutes=5))
    app.resave_all(INTERVIEWS, rewrite)
    world.user.delete(written[("acme-screen", Kind.CHECK_IN)].uid)
    report = world.sync()
    assert report.marks_lost == ["cal"]
    assert "a reminder you delete may come back" in marks_lost_line(report.marks_lost)
    assert sum("wrote" in line for line in world.lines) == 1
    assert_one_untagged_reminder_each(world)
    quiet = world.sync()
    assert world.lines == [] and quiet.marks_lost == []


@ON_EVERY_BACKEND
def test_a_run_interrupted_before_it_tagged_is_not_taken_for_lost_marks(world: World) -> None:
    """Reminders written, interview not yet tagged (the run was killed in between): the next run tags it
    and says nothing about lost marks."""
    seed_week(world.user)
    world.sync()
    interview = world.event("globex-tech")
    world.backend.write_marks(interview.href, interview.etag, [MarkUpdate(None, None)])
    assert not world.event("globex-tech").tagged
    report = world.sync()
    assert any("tagged" in line for line in world.lines) and report.marks_lost == []
    assert world.event("globex-tech").issued == frozenset(Kind)


@ON_EVERY_BACKEND
def test_stripped_reminders_alone_need_no_write_and_no_line(world: World) -> None:
    seed_week(world.user)
    world.sync()
    written = assert_one_untagged_reminder_each(world)
    RewritingClient(world.user.store).resave_all(sorted(r.uid for r in written.values()))
    before = world.user.snapshot()
    report = world.sync()
    assert world.lines == [] and report.marks_lost == []
    assert world.user.snapshot() == before


def test_create_adopts_an_object_at_the_derived_uid_without_marks(tmp_path: Path) -> None:
    """An interrupted run's reminder that a client re-saved without marks, outside what was read."""
    backend = VdirBackend("cal", tmp_path)
    start = local(30, 13)
    draft = ReminderDraft(
        uid=reminder_uid("acme-screen", Kind.THANK_YOU),
        kind=Kind.THANK_YOU,
        source="acme-screen",
        parent_uid="acme-screen",
        start=start,
        end=start + timedelta(minutes=30),
        summary="Thank Jane",
        description="",
        alarm_description="Thank Jane",
    )
    backend.create(draft)
    RewritingClient(FolderStore(tmp_path)).resave(draft.uid, EVERYTHING_STRIPPED)
    interview = Event("cal", "acme.ics", None, "acme-screen", local(30, 10), local(30, 11))
    assert create_reminder(Create(draft, interview), backend, TZ) == draft.uid
    assert len(list(tmp_path.glob("*.ics"))) == 1


def test_the_command_line_says_it_once_and_doctor_shows_it(tmp_path: Path) -> None:
    folder = vdir_with_screen(tmp_path)
    config = write_config(tmp_path, f'[calendars.laptop]\ntype = "vdir"\npath = "{folder}"\n')
    code, stdout, _ = invoke("--config", str(config), "sync")
    assert code == 0 and "wrote thank-you" in stdout
    code, stdout, _ = invoke("--config", str(config), "doctor")
    assert "ok    marks: followup-cal's marks are intact" in stdout
    client = RewritingClient(FolderStore(folder))
    client.resave_all(client.uids())  # the phone re-saves the interview and its reminders without marks

    code, stdout, stderr = invoke("--config", str(config), "sync")
    assert code == 0 and "wrote" not in stdout and "tagged" not in stdout
    assert stderr.count("lost followup-cal's marks") == 1
    assert "a reminder you delete may come back" in stderr
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert invoke("--config", str(config), "sync") == (0, "", "")
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before

    code, stdout, _ = invoke("--config", str(config), "doctor")
    assert code == 1
    assert "FAIL  marks: lost in 'laptop'" in stdout and "a reminder you delete may come back" in stdout
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
