"""Crash safety and network faults on a Microsoft calendar: ``followup-cal sync`` runs as its own process,
signed in with the real msal (a token cache from the identity stand-in), against the Graph stand-in behind
the fault proxy (tests/fault_proxy.py), on 16 interviews of the job-search seed.

- A first sync killed with SIGKILL at 10 points, before a batch of writes reaches Graph or after Graph did
  it but before the client heard: the next runs converge to what one uninterrupted sync leaves, with no
  duplicate and every user event intact (as tests/test_crash.py does on Radicale and Google).
- A fault on the first try of every request (drops, 500/502/503, stalls, cut answers) and 429 storms are
  ridden out with exit 0 and the same calendar; a persistent fault fails that calendar with one line,
  the other calendar syncs, and the next healthy run converges.
- No request of any run was unconditional, invited or notified anyone.

Writes travel in ``$batch`` requests, so the kill points count the writes inside them.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from fault_proxy import FaultProxy, Plan, Seen
from graph_seed import graph_seed, graph_snapshot, microsoft_config
from graph_standin import GraphStandin
from job_search_seed import FAST_NETWORK_ENV, Snapshot, run_sync, start_sync
from microsoft_identity import MicrosoftIdentity
from test_crash import MAX_RUNS_AFTER_A_KILL, Tally, kill_points, survived
from test_network_faults import TRANSIENT_KINDS, assert_one_line_naming

INTERVIEWS = 16
KILL_POINTS = 10
CALENDARS = (
    "reference",
    *(f"kill{n:02d}" for n in range(KILL_POINTS)),
    "transient",
    "storm",
    "failing",
    "healthy",
)
PERSISTENT_FROM_WRITE = 10  # writes inside batches


@pytest.fixture(scope="module")
def identity() -> Iterator[MicrosoftIdentity]:
    with MicrosoftIdentity() as server:
        yield server


@pytest.fixture(scope="module")
def graph(identity: MicrosoftIdentity) -> Iterator[GraphStandin]:
    with GraphStandin() as server:
        server.access_tokens.clear()
        server.token_check = lambda token: token in identity.valid_tokens
        for calendar_id in CALENDARS:
            for body in graph_seed(INTERVIEWS):
                server.add_event(calendar_id, body)
        yield server
        assert server.violations == []


@pytest.fixture(scope="module")
def proxy(graph: GraphStandin) -> Iterator[FaultProxy]:
    server = FaultProxy(graph.url, stall_seconds=2.0)
    yield server
    server.close()


def writes_in(seen: Seen) -> int:
    """How many writes to the calendar a request carries: the non-GET requests of a batch, or itself (the
    mailbox's master category is created once, by whichever run comes first: not counted)."""
    if "masterCategories" in seen.path:
        return 0
    if seen.path.endswith("$batch"):
        return sum(r.get("method") != "GET" for r in json.loads(seen.body).get("requests", []))
    return 1 if seen.is_write else 0


class WriteCounter:
    """A plan that counts the writes passing through (inside batches too) and asks ``fault`` what to do
    with each request, given the count before and after it."""

    def __init__(self, fault: Plan | None = None) -> None:
        self.total = 0
        self.lock = threading.Lock()
        self.fault = fault

    def __call__(self, seen: Seen) -> str | None:
        with self.lock:
            before = self.total
            self.total += writes_in(seen)
            after = self.total
        return (
            None if self.fault is None else self.fault(Seen(seen.method, seen.path, seen.body, before, after))
        )


def first_tries_fail() -> Plan:
    """The first try of every distinct request meets a fault, the kinds in turn; its retry passes.
    (Batching makes a sync only a dozen requests: a fault on every third would miss most kinds.)"""
    kinds = itertools.cycle(TRANSIENT_KINDS)
    faulted: set[tuple[str, str, bytes]] = set()
    lock = threading.Lock()

    def plan(seen: Seen) -> str | None:
        with lock:
            if seen.key in faulted:
                return None
            faulted.add(seen.key)
            return next(kinds)

    return plan


def snapshot(graph: GraphStandin, calendar_id: str) -> Snapshot:
    return graph_snapshot(graph.events(calendar_id))


@pytest.fixture(scope="module")
def reference(
    graph: GraphStandin,
    identity: MicrosoftIdentity,
    proxy: FaultProxy,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Snapshot, Snapshot, int]:
    """(the seed as stored, the calendar after one uninterrupted sync, the writes it sent)"""
    seeded = snapshot(graph, "reference")
    counter = WriteCounter()
    proxy.reset(counter)
    tmp = tmp_path_factory.mktemp("reference")
    done = run_sync(microsoft_config(tmp, identity, {"outlook": ("reference", proxy.root + "v1.0/")}))
    assert done.code == 0, done.stderr
    synced = snapshot(graph, "reference")
    assert len(synced.reminders) >= 20 and synced.duplicates == 0
    return seeded, synced, counter.total


def assert_converged(final: Snapshot, reference: tuple[Snapshot, Snapshot, int]) -> None:
    seeded, synced, _ = reference
    assert final.duplicates == 0
    assert {key: final.user_events.get(key) for key in seeded.user_events} == seeded.user_events
    assert final.user_events == synced.user_events
    assert final.reminders == synced.reminders
    assert final.marks == synced.marks


@pytest.fixture(scope="module")
def tally() -> Iterator[Tally]:
    found = Tally()
    yield found
    print(f"\ncrash safety, Microsoft: {found.line()}")


@pytest.mark.parametrize("point", range(KILL_POINTS))
def test_sigkill_then_sync_again_converges(
    point: int,
    graph: GraphStandin,
    identity: MicrosoftIdentity,
    proxy: FaultProxy,
    reference: tuple[Snapshot, Snapshot, int],
    tally: Tally,
    tmp_path: Path,
) -> None:
    number, how = kill_points(reference[2], KILL_POINTS)[point]
    calendar_id = f"kill{point:02d}"
    config = microsoft_config(tmp_path, identity, {"outlook": (calendar_id, proxy.root + "v1.0/")})

    def kill_at_that_write(seen: Seen) -> str | None:
        # seen.number / seen.write_number: the writes before and after this request
        return how if seen.number < number <= seen.write_number else None

    proxy.reset(WriteCounter(kill_at_that_write))
    process = start_sync(config)
    proxy.victim = process.pid
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == -9, f"the sync was not killed at write {number}: {stderr.decode()}"

    proxy.reset()
    for _run in range(MAX_RUNS_AFTER_A_KILL):
        done = run_sync(config)
        tally.reruns += 1
        assert "Traceback" not in done.stderr, done.stderr
        if done.code == 0:
            break
    else:
        raise AssertionError(f"no clean sync in {MAX_RUNS_AFTER_A_KILL} runs after the kill: {done.stderr}")
    again = run_sync(config)
    assert (again.code, again.stdout) == (0, ""), "a second sync after convergence still changed things"
    final = snapshot(graph, calendar_id)
    tally.duplicates += final.duplicates
    tally.altered += sum(final.user_events.get(k) != v for k, v in reference[0].user_events.items())
    assert_converged(final, reference)
    survived(tally, number, how)


def test_transient_faults_are_retried(
    graph: GraphStandin,
    identity: MicrosoftIdentity,
    proxy: FaultProxy,
    reference: tuple[Snapshot, Snapshot, int],
    tmp_path: Path,
) -> None:
    config = microsoft_config(tmp_path, identity, {"outlook": ("transient", proxy.root + "v1.0/")})
    proxy.reset(first_tries_fail())
    proxy.injected.clear()
    done = run_sync(config, FAST_NETWORK_ENV)
    assert done.code == 0, done.stderr
    assert set(proxy.injected) == set(TRANSIENT_KINDS), proxy.injected
    assert_converged(snapshot(graph, "transient"), reference)
    counter = WriteCounter()
    proxy.reset(counter)
    assert run_sync(config, FAST_NETWORK_ENV).stdout == ""
    assert counter.total == 0


def test_a_throttling_storm_is_ridden_out(
    graph: GraphStandin,
    identity: MicrosoftIdentity,
    reference: tuple[Snapshot, Snapshot, int],
    tmp_path: Path,
) -> None:
    config = microsoft_config(tmp_path, identity, {"outlook": ("storm", graph.api_endpoint)})
    graph.inject_faults(429, 4, retry_after="1")  # whole requests, Graph's Retry-After: 1 s
    graph.inject_faults(429, 12, in_batch=True)  # sub-requests of batches
    graph.inject_faults(503, 2)
    graph.inject_faults(504, 1)  # 7 answers in a row that say "later": the 8th try passes
    done = run_sync(config, FAST_NETWORK_ENV)
    assert done.code == 0, done.stderr
    assert_converged(snapshot(graph, "storm"), reference)


def test_a_persistent_fault_fails_one_calendar_then_converges(
    graph: GraphStandin,
    identity: MicrosoftIdentity,
    proxy: FaultProxy,
    reference: tuple[Snapshot, Snapshot, int],
    tmp_path: Path,
) -> None:
    endpoint = proxy.root + "v1.0/"
    config = microsoft_config(
        tmp_path, identity, {"outlook": ("failing", endpoint), "other": ("healthy", endpoint)}
    )
    started = threading.Event()

    def fail_the_calendar(seen: Seen) -> str | None:
        if "/failing/" not in seen.path and b"/failing/" not in seen.body:
            return None
        if seen.write_number >= PERSISTENT_FROM_WRITE:
            started.set()
        return "503" if started.is_set() else None

    proxy.reset(WriteCounter(fail_the_calendar))
    assert_one_line_naming(run_sync(config, FAST_NETWORK_ENV), "outlook")
    assert proxy.injected["503"] >= 1
    assert_converged(snapshot(graph, "healthy"), reference)
    assert snapshot(graph, "failing").duplicates == 0
    proxy.reset()
    assert run_sync(config, FAST_NETWORK_ENV).code == 0
    assert_converged(snapshot(graph, "failing"), reference)
