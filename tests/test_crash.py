"""Crash safety, proven: ``followup-cal sync`` of 40 interviews on a real Radicale is killed with SIGKILL at
20 points — just before a write reaches the server ("between writes"), or after the server did it but
before the client heard ("during a write") — and each time the next runs must leave exactly what one
uninterrupted sync leaves: the same reminders at the same times, no duplicates, every user event intact.

The kill points are write requests counted by a proxy in front of Radicale (tests/fault_proxy.py), which
kills the process itself, so every point is the same on every run. ``pytest -s`` prints the figures.

Two more runs are killed the same way: a *second* sync, after the user moved, cancelled, ended (``#offer``)
and deleted interviews, so that the killed run moves and removes reminders; and a first sync on the Google
stand-in (tests/google_standin.py), each kill on a calendar of its own seeded the same way: with one
request per write (``batch = false``) and, in batches, just before and just after each batch request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import icalendar
import pytest

from fault_proxy import FaultProxy, Seen
from google_helpers import write_token
from google_standin import GoogleStandin
from job_search_seed import (
    Snapshot,
    config_text,
    copy_of_seed,
    google_seed,
    google_snapshot,
    radicale_snapshot,
    run_sync,
    seed_radicale,
    start_sync,
)
from radicale_server import RadicaleServer, running_radicale

KILL_POINTS = 20
MAX_RUNS_AFTER_A_KILL = 3
# The second sync and the Google sync: fewer kill points, and fewer interviews on Google, to keep them fast.
SECOND_SYNC_KILL_POINTS = 10
GOOGLE_KILL_POINTS = 10
# In batches (the default on Google) a first sync is two writes, the reminders and the tags: a kill just
# before and just after each.
GOOGLE_BATCH_KILL_POINTS = ((1, "kill-before"), (1, "kill-after"), (2, "kill-before"), (2, "kill-after"))
GOOGLE_INTERVIEWS = 16
# What the user changes between the first and the second sync (interview numbers of the seed).
MOVED_BY_A_DAY = (2, 5, 9, 13, 17, 21, 26, 30)
CANCELLED = (4, 11, 23)
ENDED_BY_AN_OFFER = (1, 15)
DELETED = (7, 19)


@dataclass
class Reference:
    seeded: Snapshot  # the calendar before the sync
    synced: Snapshot  # after one uninterrupted sync
    writes: int  # write requests that sync sent

    def what_it_does(self) -> str:
        before, after = self.seeded.reminders, self.synced.reminders
        added = len(after.keys() - before.keys())
        removed = len(before.keys() - after.keys())
        changed = sum(before[key] != after[key] for key in before.keys() & after.keys())
        return (
            f"sends {self.writes} writes: "
            f"{added} reminders added, {changed} moved or changed, {removed} removed"
        )


@dataclass
class Tally:
    survived: list[str] = field(default_factory=list)
    reruns: int = 0
    duplicates: int = 0
    altered: int = 0
    run: str = ""  # what the killed run does, when not a first sync on Radicale

    def line(self) -> str:
        return (
            f"{len(self.survived)} SIGKILL points survived "
            f"({sum('between' in s for s in self.survived)} between writes, "
            f"{sum('during' in s for s in self.survived)} during a write), "
            f"{self.reruns} runs after the kills, duplicates {self.duplicates}, "
            f"user events altered {self.altered}" + (f"; the killed run {self.run}" if self.run else "")
        )


@pytest.fixture(scope="module")
def radicale() -> Iterator[RadicaleServer]:
    with running_radicale() as server:
        yield server


@pytest.fixture(scope="module")
def proxy(radicale: RadicaleServer) -> Iterator[FaultProxy]:
    server = FaultProxy(radicale.root)
    yield server
    server.close()


@pytest.fixture(scope="module")
def seed_folder(radicale: RadicaleServer) -> Path:
    return seed_radicale(radicale, "crash")


def seeded_calendar(radicale: RadicaleServer, seed_folder: Path, slug: str) -> str:
    return copy_of_seed(radicale, seed_folder, slug)


def snapshot(radicale: RadicaleServer, slug: str) -> Snapshot:
    return radicale_snapshot(radicale, radicale.url(f"/crash/{slug}/"))


def write_config(tmp: Path, url: str) -> Path:
    config = tmp / "config.toml"
    config.write_text(config_text({"work": url}))
    return config


@pytest.fixture(scope="module")
def reference(
    radicale: RadicaleServer,
    seed_folder: Path,
    proxy: FaultProxy,
    tmp_path_factory: pytest.TempPathFactory,
) -> Reference:
    url = seeded_calendar(radicale, seed_folder, "reference")
    seeded = snapshot(radicale, "reference")
    proxy.reset()
    done = run_sync(write_config(tmp_path_factory.mktemp("reference"), proxy.url(url)))
    assert done.code == 0, done.stderr
    synced = snapshot(radicale, "reference")
    assert len(synced.reminders) >= 60 and synced.duplicates == 0
    assert sum(tagged for _, tagged in synced.marks.values()) >= 30
    return Reference(seeded, synced, proxy.writes)


FIRST_SYNC = "crash safety"
SECOND_SYNC = "crash safety, a second sync that moves and removes reminders"
GOOGLE_FIRST_SYNC = "crash safety, Google"


@pytest.fixture(scope="module")
def tallies() -> Iterator[dict[str, Tally]]:
    found = {FIRST_SYNC: Tally(), SECOND_SYNC: Tally(), GOOGLE_FIRST_SYNC: Tally()}
    yield found
    print("\n" + "\n".join(f"{name}: {tally.line()}" for name, tally in found.items() if tally.survived))


def kill_points(writes: int, count: int = KILL_POINTS) -> list[tuple[int, str]]:
    """``count`` write numbers spread over the whole run, the first and the last included, alternating
    between a kill before the write and one after it."""
    numbers = sorted({1 + round(i * (writes - 1) / (count - 1)) for i in range(count)})
    assert len(numbers) == count, f"only {writes} writes: too few for {count} kill points"
    return [(n, "kill-before" if i % 2 == 0 else "kill-after") for i, n in enumerate(numbers)]


def kill_then_converge(
    proxy: FaultProxy,
    config: Path,
    number: int,
    how: str,
    tally: Tally,
    take_snapshot: Callable[[], Snapshot],
) -> Snapshot:
    """Kills the sync at write ``number`` (``how``: kill-before or kill-after), syncs until a run succeeds
    (at most MAX_RUNS_AFTER_A_KILL), checks that a further sync changes nothing; returns the final snapshot
    and counts the runs and duplicates in ``tally``."""

    def kill_at_that_write(seen: Seen) -> str | None:
        return how if seen.write_number == number else None

    proxy.reset(kill_at_that_write)
    process = start_sync(config)
    proxy.victim = process.pid
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == -9, f"the sync was not killed at write {number}: {stderr.decode()}"
    assert proxy.injected[how] >= 1

    proxy.reset()
    for _run in range(1, MAX_RUNS_AFTER_A_KILL + 1):
        done = run_sync(config)
        tally.reruns += 1
        assert "Traceback" not in done.stderr, done.stderr
        if done.code == 0:
            break
    else:
        raise AssertionError(f"no clean sync in {MAX_RUNS_AFTER_A_KILL} runs after the kill: {done.stderr}")
    again = run_sync(config)
    assert (again.code, again.stdout) == (0, ""), "a second sync after convergence still changed things"
    final = take_snapshot()
    tally.duplicates += final.duplicates
    return final


def survived(tally: Tally, number: int, how: str) -> None:
    tally.survived.append(f"{'between' if how == 'kill-before' else 'during'} write {number}")


def test_the_reference_run_writes_enough_for_the_kill_points(reference: Reference) -> None:
    assert reference.writes >= 2 * KILL_POINTS
    assert reference.synced.user_events == reference.seeded.user_events


@pytest.mark.parametrize("point", range(KILL_POINTS))
def test_sigkill_then_sync_again_converges(
    point: int,
    radicale: RadicaleServer,
    seed_folder: Path,
    proxy: FaultProxy,
    reference: Reference,
    tallies: dict[str, Tally],
    tmp_path: Path,
) -> None:
    number, how = kill_points(reference.writes)[point]
    slug = f"kill-{point:02d}"
    url = seeded_calendar(radicale, seed_folder, slug)
    config = write_config(tmp_path, proxy.url(url))
    tally = tallies[FIRST_SYNC]
    final = kill_then_converge(proxy, config, number, how, tally, lambda: snapshot(radicale, slug))

    tally.altered += sum(final.user_events.get(k) != v for k, v in reference.seeded.user_events.items())
    assert final.duplicates == 0
    assert final.user_events == reference.seeded.user_events
    assert final.reminders == reference.synced.reminders
    assert final.marks == reference.synced.marks
    survived(tally, number, how)


# ---- a second sync, after the user changed the calendar


def change_like_a_user(radicale: RadicaleServer, url: str) -> None:
    """What a user does between two syncs, in a calendar app: moves interviews by a day, cancels some,
    notes an offer on some, deletes some."""
    path = url.removeprefix(radicale.root.rstrip("/"))
    for number in (*MOVED_BY_A_DAY, *CANCELLED, *ENDED_BY_AN_OFFER):
        item = f"{path}interview-{number:02d}.ics"
        status, _, data = radicale.request("GET", item)
        assert status == 200, (item, status)
        calendar = icalendar.Calendar.from_ical(data)
        event = next(iter(calendar.walk("VEVENT")))
        if number in MOVED_BY_A_DAY:
            for name in ("DTSTART", "DTEND"):
                moment = event.decoded(name)
                del event[name]
                event.add(name, moment + timedelta(days=1))
        elif number in CANCELLED:
            event["STATUS"] = "CANCELLED"
        else:
            event["DESCRIPTION"] = str(event.get("DESCRIPTION", "")) + "\n#offer"
        event["SEQUENCE"] = int(event.get("SEQUENCE", 0)) + 1
        assert radicale.put_ics(item, calendar.to_ical()) in (201, 204), item
    for number in DELETED:
        status, _, _ = radicale.request("DELETE", f"{path}interview-{number:02d}.ics")
        assert status in (200, 204), (number, status)


@pytest.fixture(scope="module")
def changed_folder(
    radicale: RadicaleServer, seed_folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A calendar after a completed first sync and the user's changes: each test of the second sync is a
    copy of it."""
    url = seeded_calendar(radicale, seed_folder, "changed")
    done = run_sync(write_config(tmp_path_factory.mktemp("first-sync"), url))
    assert done.code == 0, done.stderr
    change_like_a_user(radicale, url)
    return seed_folder.with_name("changed")


@pytest.fixture(scope="module")
def second_reference(
    radicale: RadicaleServer,
    changed_folder: Path,
    proxy: FaultProxy,
    tmp_path_factory: pytest.TempPathFactory,
) -> Reference:
    url = copy_of_seed(radicale, changed_folder, "second-reference")
    changed = snapshot(radicale, "second-reference")
    proxy.reset()
    done = run_sync(write_config(tmp_path_factory.mktemp("second-reference"), proxy.url(url)))
    assert done.code == 0, done.stderr
    synced = snapshot(radicale, "second-reference")
    assert synced.duplicates == 0
    assert synced.reminders.keys() != changed.reminders.keys(), "the second sync removed no reminder"
    moved = [
        key for key, value in synced.reminders.items() if changed.reminders.get(key) not in (None, value)
    ]
    assert len(moved) >= len(MOVED_BY_A_DAY), "the second sync moved too few reminders"
    return Reference(changed, synced, proxy.writes)


def test_the_second_sync_writes_enough_for_the_kill_points(second_reference: Reference) -> None:
    assert second_reference.writes >= 2 * SECOND_SYNC_KILL_POINTS
    assert second_reference.synced.user_events == second_reference.seeded.user_events


@pytest.mark.parametrize("point", range(SECOND_SYNC_KILL_POINTS))
def test_sigkill_in_a_second_sync_then_sync_again_converges(
    point: int,
    radicale: RadicaleServer,
    changed_folder: Path,
    proxy: FaultProxy,
    second_reference: Reference,
    tallies: dict[str, Tally],
    tmp_path: Path,
) -> None:
    number, how = kill_points(second_reference.writes, SECOND_SYNC_KILL_POINTS)[point]
    slug = f"second-kill-{point:02d}"
    url = copy_of_seed(radicale, changed_folder, slug)
    config = write_config(tmp_path, proxy.url(url))
    tally = tallies[SECOND_SYNC]
    tally.run = second_reference.what_it_does()
    final = kill_then_converge(proxy, config, number, how, tally, lambda: snapshot(radicale, slug))

    seeded = second_reference.seeded.user_events
    tally.altered += sum(final.user_events.get(k) != v for k, v in seeded.items())
    assert final.duplicates == 0
    assert final.user_events == seeded
    assert final.reminders == second_reference.synced.reminders
    assert final.marks == second_reference.synced.marks
    survived(tally, number, how)


# ---- Google (the stand-in): a first sync


def google_calendar(point: int | None, *, batch: bool = False) -> str:
    prefix = "batch" if batch else ""
    return f"{prefix}reference" if point is None else f"{prefix}kill{point:02d}"


@pytest.fixture(scope="module")
def standin() -> Iterator[GoogleStandin]:
    with GoogleStandin(timezone="Europe/Berlin") as server:
        calendars = [google_calendar(point) for point in (None, *range(GOOGLE_KILL_POINTS))]
        calendars += [
            google_calendar(point, batch=True) for point in (None, *range(len(GOOGLE_BATCH_KILL_POINTS)))
        ]
        for calendar_id in calendars:
            for body in google_seed(GOOGLE_INTERVIEWS):
                server.add_event(calendar_id, body)
        yield server


@pytest.fixture(scope="module")
def google_proxy(standin: GoogleStandin) -> Iterator[FaultProxy]:
    server = FaultProxy(standin.url)
    yield server
    server.close()


def google_config(
    tmp: Path, standin: GoogleStandin, calendar_id: str, endpoint: str, *, batch: bool = False
) -> Path:
    token = tmp / "google-token.json"
    write_token(token, standin, expired=False)
    config = tmp / "config.toml"
    config.write_text(
        'timezone = "Europe/Berlin"\nme = ["me@example.com"]\n'
        f'[calendars.gmail]\ntype = "google"\ncalendar_id = "{calendar_id}"\n'
        f'token_file = "{token}"\napi_endpoint = "{endpoint}"\nbatch = {str(batch).lower()}\n'
    )
    return config


def google_reference_run(standin: GoogleStandin, proxy: FaultProxy, tmp: Path, *, batch: bool) -> Reference:
    calendar_id = google_calendar(None, batch=batch)
    seeded = google_snapshot(standin.events(calendar_id))
    proxy.reset()
    done = run_sync(google_config(tmp, standin, calendar_id, proxy.root + "calendar/v3/", batch=batch))
    assert done.code == 0, done.stderr
    synced = google_snapshot(standin.events(calendar_id))
    assert len(synced.reminders) >= 20 and synced.duplicates == 0
    return Reference(seeded, synced, proxy.writes)


@pytest.fixture(scope="module")
def google_reference(
    standin: GoogleStandin, google_proxy: FaultProxy, tmp_path_factory: pytest.TempPathFactory
) -> Reference:
    return google_reference_run(
        standin, google_proxy, tmp_path_factory.mktemp("google-reference"), batch=False
    )


@pytest.fixture(scope="module")
def google_batch_reference(
    standin: GoogleStandin, google_proxy: FaultProxy, tmp_path_factory: pytest.TempPathFactory
) -> Reference:
    return google_reference_run(standin, google_proxy, tmp_path_factory.mktemp("google-batch"), batch=True)


def test_the_google_sync_writes_enough_for_the_kill_points(google_reference: Reference) -> None:
    assert google_reference.writes >= 2 * GOOGLE_KILL_POINTS


@pytest.mark.parametrize("point", range(GOOGLE_KILL_POINTS))
def test_sigkill_on_google_then_sync_again_converges(
    point: int,
    standin: GoogleStandin,
    google_proxy: FaultProxy,
    google_reference: Reference,
    tallies: dict[str, Tally],
    tmp_path: Path,
) -> None:
    number, how = kill_points(google_reference.writes, GOOGLE_KILL_POINTS)[point]
    kill_on_google(
        standin, google_proxy, google_reference, tallies, tmp_path, point, number, how, batch=False
    )


def test_the_google_sync_in_batches_is_two_writes(google_batch_reference: Reference) -> None:
    assert google_batch_reference.writes == 2
    assert google_batch_reference.synced.reminders


@pytest.mark.parametrize("point", range(len(GOOGLE_BATCH_KILL_POINTS)))
def test_sigkill_around_a_google_batch_then_sync_again_converges(
    point: int,
    standin: GoogleStandin,
    google_proxy: FaultProxy,
    google_batch_reference: Reference,
    tallies: dict[str, Tally],
    tmp_path: Path,
) -> None:
    number, how = GOOGLE_BATCH_KILL_POINTS[point]
    kill_on_google(
        standin, google_proxy, google_batch_reference, tallies, tmp_path, point, number, how, batch=True
    )


def kill_on_google(
    standin: GoogleStandin,
    google_proxy: FaultProxy,
    reference: Reference,
    tallies: dict[str, Tally],
    tmp_path: Path,
    point: int,
    number: int,
    how: str,
    *,
    batch: bool,
) -> None:
    calendar_id = google_calendar(point, batch=batch)
    config = google_config(tmp_path, standin, calendar_id, google_proxy.root + "calendar/v3/", batch=batch)
    tally = tallies[GOOGLE_FIRST_SYNC]
    tally.run = reference.what_it_does()
    final = kill_then_converge(
        google_proxy, config, number, how, tally, lambda: google_snapshot(standin.events(calendar_id))
    )

    # Every seeded event unchanged but for the marks; a series' tagged occurrences are new exceptions,
    # in the reference too, so the whole set is compared with the reference's.
    seeded = reference.seeded.user_events
    tally.altered += sum(final.user_events.get(k) != v for k, v in seeded.items())
    assert final.duplicates == 0
    assert {key: final.user_events.get(key) for key in seeded} == seeded
    assert final.user_events == reference.synced.user_events
    assert final.reminders == reference.synced.reminders
    assert final.marks == reference.synced.marks
    survived(tally, number, how)
