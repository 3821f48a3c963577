"""Crash safety, proven: ``followup-cal sync`` of 40 interviews on a real Radicale is killed with SIGKILL at
20 points — just before a write reaches the server ("between writes"), or after the server did it but
before the client heard ("during a write") — and each time the next runs must leave exactly what one
uninterrupted sync leaves: the same reminders at the same times, no duplicates, every user event intact.

The kill points are write requests counted by a proxy in front of Radicale (tests/fault_proxy.py), which
kills the process itself, so every point is the same on every run. ``pytest -s`` prints the figures.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from fault_proxy import FaultProxy, Seen
from job_search_seed import (
    Snapshot,
    config_text,
    copy_of_seed,
    radicale_snapshot,
    run_sync,
    seed_radicale,
    start_sync,
)
from radicale_server import RadicaleServer, running_radicale

KILL_POINTS = 20
MAX_RUNS_AFTER_A_KILL = 3


@dataclass
class Reference:
    seeded: Snapshot  # the calendar before any sync
    synced: Snapshot  # after one uninterrupted sync
    writes: int  # write requests that sync sent


@dataclass
class Tally:
    survived: list[str] = field(default_factory=list)
    reruns: int = 0
    duplicates: int = 0
    altered: int = 0


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


@pytest.fixture(scope="module")
def tally() -> Iterator[Tally]:
    found = Tally()
    yield found
    print(
        f"\ncrash safety: {len(found.survived)} SIGKILL points survived "
        f"({sum('between' in s for s in found.survived)} between writes, "
        f"{sum('during' in s for s in found.survived)} during a write), "
        f"{found.reruns} runs after the kills, duplicates {found.duplicates}, "
        f"user events altered {found.altered}"
    )


def kill_points(writes: int) -> list[tuple[int, str]]:
    """KILL_POINTS write numbers spread over the whole run, the first and the last included, alternating
    between a kill before the write and one after it."""
    numbers = sorted({1 + round(i * (writes - 1) / (KILL_POINTS - 1)) for i in range(KILL_POINTS)})
    assert len(numbers) == KILL_POINTS, f"only {writes} writes: too few for {KILL_POINTS} kill points"
    return [(n, "kill-before" if i % 2 == 0 else "kill-after") for i, n in enumerate(numbers)]


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
    tally: Tally,
    tmp_path: Path,
) -> None:
    number, how = kill_points(reference.writes)[point]
    slug = f"kill-{point:02d}"
    url = seeded_calendar(radicale, seed_folder, slug)
    config = write_config(tmp_path, proxy.url(url))

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

    final = snapshot(radicale, slug)
    tally.duplicates += final.duplicates
    tally.altered += sum(final.user_events.get(k) != v for k, v in reference.seeded.user_events.items())
    assert final.duplicates == 0
    assert final.user_events == reference.seeded.user_events
    assert final.reminders == reference.synced.reminders
    assert final.marks == reference.synced.marks
    tally.survived.append(f"{'between' if how == 'kill-before' else 'during'} write {number}")
