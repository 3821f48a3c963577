"""The sync cache (sync_state): a no-op sync stops after asking each calendar for changes, and deleting
the cache never changes a result.

The whole scenario suite runs again with a cache on memory, vdir and Radicale; the tests below check
that the cache really engages, when it must let go (a user edit, time, other settings), and, with
Hypothesis, that a calendar synced with the cache ends exactly like one synced without it.
"""

from __future__ import annotations

import os
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calendar_user import CalendarUser, CallbackStore, FolderStore
from dav_proxy import FlakyProxy
from followup_cal.backends.caldav_backend import CaldavBackend
from followup_cal.backends.memory import MemoryBackend
from followup_cal.backends.vdir import VdirBackend
from followup_cal.core.model import Kind, Listing
from followup_cal.core.settings import Settings
from followup_cal.run.sync import run
from followup_cal.run.sync_state import SyncCache
from radicale_server import RadicaleServer, running_radicale
from scenarios import ME, NOW, SyncScenarios, World, local, seed_week
from test_caldav import FAST_RETRY, collection_store


class CountingMemory(MemoryBackend):
    """The memory backend, counting how often the whole window is read."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.window_reads = 0

    def list_window(self, start: datetime, end: datetime, tz: object) -> Listing:  # type: ignore[override]
        self.window_reads += 1
        return super().list_window(start, end, tz)  # type: ignore[arg-type]


def memory_world(tmp_path: Path, *, cached: bool = True) -> World:
    backend = CountingMemory("cal")
    store = CallbackStore(backend.hrefs, backend.get_raw, backend.put_raw, backend.remove_raw)
    cache = SyncCache(tmp_path / f"cache-{uuid.uuid4().hex}.json") if cached else None
    return World(backend, CalendarUser(store), cache=cache)


def reads(world: World) -> int:
    assert isinstance(world.backend, CountingMemory)
    return world.backend.window_reads


# ---- the scenario suite, with a cache


class TestMemoryCached(SyncScenarios):
    @pytest.fixture
    def world(self, tmp_path: Path) -> World:
        return memory_world(tmp_path)


class TestVdirCached(SyncScenarios):
    @pytest.fixture
    def world(self, tmp_path: Path) -> World:
        folder = tmp_path / "cal"
        folder.mkdir()
        cache = SyncCache(tmp_path / "cache.json")
        return World(VdirBackend("cal", folder), CalendarUser(FolderStore(folder)), cache=cache)


@pytest.fixture(scope="module")
def radicale() -> Iterator[RadicaleServer]:
    with running_radicale() as server:
        yield server


class TestRadicaleCached(SyncScenarios):
    @pytest.fixture
    def world(self, radicale: RadicaleServer, tmp_path: Path) -> World:
        url = radicale.make_calendar("alice", f"cal-{uuid.uuid4().hex[:8]}", "Work")
        backend = CaldavBackend("cal", url, retry=FAST_RETRY)
        cache = SyncCache(tmp_path / "cache.json")
        return World(backend, CalendarUser(collection_store(radicale, url)), cache=cache)


# ---- when the cache engages and when it lets go


def test_a_settled_calendar_is_not_read_again(tmp_path: Path) -> None:
    world = memory_world(tmp_path)
    seed_week(world.user)
    world.sync()  # writes: nothing is settled yet
    assert world.lines
    world.sync()  # reads everything, needs nothing: settled
    assert world.lines == []
    before = reads(world)
    world.now += timedelta(minutes=15)
    world.sync()
    assert world.lines == [] and reads(world) == before


def test_a_user_edit_is_seen_at_once(tmp_path: Path) -> None:
    world = memory_world(tmp_path)
    seed_week(world.user)
    world.sync()
    world.sync()
    world.user.move("acme-screen", timedelta(days=1))
    world.sync()
    assert any("moved" in line for line in world.lines), world.lines
    assert world.reminders()[("acme-screen", Kind.THANK_YOU)].start == local(1, 13, month=12)


def test_problems_are_reported_also_when_nothing_is_read(tmp_path: Path) -> None:
    world = memory_world(tmp_path)
    seed_week(world.user)
    assert isinstance(world.backend, MemoryBackend)
    world.backend.put_raw("broken.ics", b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:garbage\r\n")
    world.sync()
    settled = world.sync()
    world.now += timedelta(minutes=15)
    before = reads(world)
    again = world.sync()
    assert reads(world) == before
    assert [p.where for p in again.problems] == [p.where for p in settled.problems] == ["broken.ics"]


def test_an_interview_entering_the_window_is_synced_when_it_enters(tmp_path: Path) -> None:
    world = memory_world(tmp_path)
    window_end = NOW + timedelta(days=120)
    start = window_end + timedelta(hours=10)
    world.user.add(
        "far-future",
        "Interview with Initech",
        start,
        start + timedelta(hours=1),
        attendees=[(ME, "Me", "ACCEPTED")],
    )
    world.sync()
    world.sync()
    assert world.reminders() == {}
    before = reads(world)
    world.now = NOW + timedelta(hours=9)  # not yet inside
    world.sync()
    assert reads(world) == before and world.reminders() == {}
    world.now = NOW + timedelta(hours=10, minutes=1)  # now inside: the cache must let go
    world.sync()
    assert reads(world) > before
    assert ("far-future", Kind.THANK_YOU) in world.reminders()


class LaterCheckIns(World):
    @property
    def settings(self) -> Settings:
        base = super().settings
        return replace(base, rules=replace(base.rules, checkin_wait_days=7))


def test_other_settings_mean_a_full_read(tmp_path: Path) -> None:
    world = memory_world(tmp_path)
    seed_week(world.user)
    world.sync()
    world.sync()
    before = reads(world)
    changed = LaterCheckIns(world.backend, world.user, now=world.now, cache=world.cache)
    changed.sync()
    assert reads(world) > before
    assert any("moved" in line for line in changed.lines)


def test_a_broken_or_unwritable_cache_changes_nothing(tmp_path: Path) -> None:
    cache_path = tmp_path / "cache.json"
    cache_path.write_text("{not json")
    world = memory_world(tmp_path)
    world.cache = SyncCache(cache_path)
    seed_week(world.user)
    world.sync()
    assert len(world.reminders()) == 4
    world.sync()
    world.cache.save()
    assert '"format": 1' in cache_path.read_text()
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache dir should be")
    unwritable = SyncCache(blocked / "cache.json")
    unwritable.remember("cal", world.cache.settled("cal"))  # type: ignore[arg-type]
    unwritable.save()  # logged, not raised
    assert SyncCache(cache_path).settled("cal") is not None


# ---- deleting the cache changes no result (Hypothesis)

STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("wait"), st.integers(min_value=1, max_value=60 * 24 * 9)),  # minutes
        st.tuples(st.just("move"), st.sampled_from(["acme-screen", "globex-tech", "lunch"])),
        st.tuples(st.just("decide"), st.sampled_from(["acme-screen", "globex-tech"])),
        st.tuples(st.just("delete-reminder"), st.just(0)),
        st.tuples(st.just("sync"), st.just(0)),
    ),
    min_size=1,
    max_size=12,
)


def _state(world: World) -> dict[tuple[str, Kind], tuple[object, str]]:
    return {key: (event.start, event.summary) for key, event in world.reminders().items()}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS, far_hours=st.integers(min_value=1, max_value=24 * 12))
def test_a_cached_calendar_ends_like_an_uncached_one(
    tmp_path: Path, steps: list[tuple[str, int]], far_hours: int
) -> None:
    cached, plain = memory_world(tmp_path), memory_world(tmp_path, cached=False)
    for world in (cached, plain):
        seed_week(world.user)
        # Enters the window while the steps wait, unless they wait little.
        far = NOW + timedelta(days=120, hours=far_hours)
        world.user.add("far", "Interview with Initech", far, far + timedelta(hours=1))
        world.sync()
    for step, value in steps:
        for world in (cached, plain):
            if step == "wait":
                world.now += timedelta(minutes=value)
            elif step == "move":
                world.user.move(str(value), timedelta(hours=26))
            elif step == "decide":
                world.user.append_notes(str(value), "They will decide by Friday.")
            elif step == "delete-reminder":
                reminders = sorted(world.reminders().items())
                if reminders:
                    assert isinstance(world.backend, MemoryBackend)
                    world.backend.remove_raw(reminders[0][1].href)
            world.sync()
        assert cached.lines == plain.lines
        assert _state(cached) == _state(plain)


# ---- on a real server: one request when nothing changed


def test_a_no_op_sync_on_radicale_is_one_request(radicale: RadicaleServer, tmp_path: Path) -> None:
    url = radicale.make_calendar("alice", f"cal-{uuid.uuid4().hex[:8]}", "Work")
    user = CalendarUser(collection_store(radicale, url))
    seed_week(user)
    proxy = FlakyProxy(radicale.root)
    try:
        backend = CaldavBackend("cal", proxy.url(url), retry=FAST_RETRY, connections=4)
        world = World(backend, user, cache=SyncCache(tmp_path / "cache.json"))
        world.sync()
        proxy.log.clear()
        world.sync()
        assert world.lines == []
        assert proxy.log == ["REPORT"]  # the first sync's own writes are vouched for
        proxy.log.clear()
        world.now += timedelta(minutes=15)
        world.sync()
        assert proxy.log == ["REPORT"]  # sync-collection: nothing changed
        user.move("acme-screen", timedelta(days=1))
        proxy.log.clear()
        world.sync()
        assert any("moved" in line for line in world.lines)
        assert proxy.log[:2] == ["REPORT", "REPORT"]  # the changes, then the window
        # As a new process would: a new backend that has not looked at the server yet.
        world.sync()
        world.backend = CaldavBackend("cal", proxy.url(url), retry=FAST_RETRY)
        proxy.log.clear()
        world.now += timedelta(minutes=15)
        world.sync()
        assert world.lines == [] and proxy.log == ["REPORT"]
    finally:
        proxy.close()


# ---- parallel writes


def _seed_interviews(user: CalendarUser, count: int) -> None:
    for number in range(count):
        start = local(1, 10, month=12) + timedelta(days=number % 20, hours=number % 5)
        user.add(
            f"interview-{number}",
            f"Interview with Company {number}",
            start,
            start + timedelta(hours=1),
            organizer=(f"hr{number}@company{number}.example", f"Hiring Manager {number}"),
        )


def test_parallel_writes_end_like_sequential_ones(radicale: RadicaleServer) -> None:
    results = []
    for connections in (1, 4):
        url = radicale.make_calendar("alice", f"cal-{uuid.uuid4().hex[:8]}", "Work")
        user = CalendarUser(collection_store(radicale, url))
        _seed_interviews(user, 15)
        proxy = FlakyProxy(radicale.root)
        try:
            backend = CaldavBackend("cal", proxy.url(url), retry=FAST_RETRY, connections=connections)
            world = World(backend, user)
            ticks: list[tuple[str, int, int]] = []

            def tick(calendar: str, done: int, total: int, ticks: list[tuple[str, int, int]] = ticks) -> None:
                ticks.append((calendar, done, total))

            report = run(
                world.settings,
                {"cal": backend},
                now=world.now,
                report=world.lines.append,
                progress=tick,
            )
            assert not report.failures
            if connections == 1:
                assert proxy.most_in_flight == 1
            else:
                assert proxy.most_in_flight > 1, "the writes never overlapped"
            total = 15 * 2 + 15  # two reminders and one tag each
            assert [done for _cal, done, _total in ticks] == list(range(1, total + 1))
            assert {t for _cal, _done, t in ticks} == {total}
            results.append((sorted(world.lines), _state(world)))
            world.sync()
            assert world.lines == []  # converged
        finally:
            proxy.close()
    assert results[0] == results[1]
    assert len(results[0][1]) == 30


@pytest.mark.parametrize("scheme", ["basic", "digest"])
def test_a_no_op_sync_with_a_login_asks_once_or_twice(scheme: str, tmp_path: Path) -> None:
    """Basic: the credentials go along at once (the server asked for Basic before): one request.
    Digest needs the server's challenge first: two."""
    users = {"alice": "alice-secret-pw"} if scheme == "basic" else None
    with running_radicale(users=users) as server:
        url = server.make_calendar("alice", "work", "Work")
        user = CalendarUser(_logged_in_store(server, url, "alice" if users else None))
        seed_week(user)
        proxy = FlakyProxy(server.root)
        if scheme == "digest":
            proxy.digest_user = ("alice", "alice-secret-pw")
        try:

            def backend() -> CaldavBackend:
                return CaldavBackend(
                    "cal", proxy.url(url), username="alice", password="alice-secret-pw", retry=FAST_RETRY
                )

            world = World(backend(), user, cache=SyncCache(tmp_path / "cache.json"))
            world.sync()
            # Right after the writing sync (its writes vouched for, the token saved anew), and again.
            for _run in range(2):
                world.backend = backend()
                proxy.log.clear()
                world.now += timedelta(minutes=15)
                world.sync()
                assert world.lines == []
                assert proxy.log == (["REPORT"] if scheme == "basic" else ["REPORT", "REPORT"])
        finally:
            proxy.close()


def _logged_in_store(server: RadicaleServer, url: str, login: str | None) -> CallbackStore:
    """The calendar as the user's own app sees it, logged in when the server wants a login."""
    collection = urlsplit(url).path

    def call(method: str, href: str, body: bytes = b"") -> bytes:
        headers = {"Content-Type": "text/calendar"} if body else {"Depth": "1"}
        status, _, answer = server.request(method, collection + href, body, user=login, headers=headers)
        assert status < 300, (method, status, answer)
        return answer

    def hrefs() -> list[str]:
        listing = ET.fromstring(call("PROPFIND", ""))
        paths = [h.text or "" for h in listing.iter("{DAV:}href")]
        return sorted(p.rsplit("/", 1)[1] for p in paths if p.endswith(".ics"))

    def put(href: str, data: bytes) -> None:
        call("PUT", href, data)

    def remove(href: str) -> None:
        call("DELETE", href)

    return CallbackStore(hrefs, lambda href: call("GET", href), put, remove)


def test_the_fingerprint_covers_the_whole_program() -> None:
    """A new reminder wording must not hide behind a settled state: every source file is hashed."""
    from followup_cal.run import sync_state

    names = {
        path.relative_to(Path(sync_state.__file__).parent.parent).as_posix()
        for path in sync_state.program_files()
    }
    expected = {"core/text.py", "ical/read.py", "ical/checks.py", "backends/google_items.py"}
    expected.add("run/sync_state.py")
    expected |= {f"data/languages/{code}.toml" for code in ("en", "de", "fr", "es", "pt", "it", "nl", "pl")}
    assert expected <= names


def test_a_new_process_learns_the_sync_token_with_its_first_look(
    radicale: RadicaleServer, tmp_path: Path
) -> None:
    """A run with nothing cached (a deleted cache) costs two requests: the PROPFIND that finds the
    calendar also brings its sync-token, then the window. (After a sync that wrote, it is one: see
    test_sync_after_writes.py.)"""
    url = radicale.make_calendar("alice", f"cal-{uuid.uuid4().hex[:8]}", "Work")
    user = CalendarUser(collection_store(radicale, url))
    seed_week(user)
    proxy = FlakyProxy(radicale.root)
    try:
        world = World(CaldavBackend("cal", proxy.url(url)), user, cache=SyncCache(tmp_path / "cache.json"))
        world.sync()
        world.backend = CaldavBackend("cal", proxy.url(url))
        world.cache = SyncCache(tmp_path / "deleted-cache.json")
        proxy.log.clear()
        world.sync()
        assert world.lines == [] and proxy.log == ["PROPFIND", "REPORT"]
    finally:
        proxy.close()


def test_an_edited_word_list_changes_the_program_fingerprint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files count by size and modification time (a no-op opens no word list): an edit shows."""
    from followup_cal.run import sync_state

    words = tmp_path / "en.toml"
    words.write_text('[detect]\nstrong = ["interview"]\n', encoding="utf-8")
    monkeypatch.setattr(sync_state, "program_files", lambda: [words])
    before = sync_state._program_digest()
    assert sync_state._program_digest() == before
    words.write_text('[detect]\nstrong = ["interview", "screen"]\n', encoding="utf-8")
    os.utime(words, ns=(words.stat().st_atime_ns, words.stat().st_mtime_ns + 1_000_000))
    assert sync_state._program_digest() != before
