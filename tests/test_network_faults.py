"""Network faults between followup-cal and its servers: a proxy (tests/fault_proxy.py) in front of a real
Radicale and of the Google stand-in drops connections (before or after the server acted), answers
500/502/503, stalls past the client's timeout and truncates answers.

- Transient faults on a share of the requests: the sync retries and finishes (exit 0) with the same
  calendar as an uninterrupted sync.
- A persistent fault that starts in the middle of the writes: exit 1 with exactly one line, naming the
  failed calendar; the other calendar is synced. The next healthy run converges: the same calendar as an
  uninterrupted sync, no duplicates.

``followup-cal`` runs as its own process with a 1-second request timeout (FOLLOWUP_CAL_TIMEOUT) and short
waits between retries (FOLLOWUP_CAL_MAX_RETRY_DELAY). ``pytest -s`` prints the faults injected by kind.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from fault_proxy import FaultProxy, Plan, Seen
from google_helpers import write_token
from google_standin import GoogleStandin
from job_search_seed import (
    FAST_NETWORK_ENV,
    Finished,
    Snapshot,
    config_text,
    copy_of_seed,
    google_seed,
    google_snapshot,
    radicale_snapshot,
    run_sync,
    seed_radicale,
)
from radicale_server import RadicaleServer, running_radicale

TRANSIENT_KINDS = ("drop", "500", "drop-after", "502", "stall", "503", "truncate")
PERSISTENT_KINDS = ("503", "drop", "stall", "truncate")
EVERY_NTH_REQUEST = 3
INTERVIEWS = 16  # fewer than the crash test's 40: every fault kind still lands on reads and on writes
PERSISTENT_FROM_WRITE = 20
STALL_SECONDS = 2.0  # the client gives up after 1


@pytest.fixture(scope="module")
def injected() -> Iterator[dict[str, Counter[str]]]:
    """Faults injected, by test (CalDAV or Google, transient or persistent) and kind."""
    totals: dict[str, Counter[str]] = {}
    yield totals
    every: Counter[str] = Counter()
    for counts in totals.values():
        every.update(counts)
    lines = [f"network faults: {sum(every.values())} injected"]
    for name, counts in [("all", every), *sorted(totals.items())]:
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(counts.items()))
        lines.append(f"  {name}: {sum(counts.values())} ({kinds})")
    print("\n" + "\n".join(lines))


@contextmanager
def tallied_proxy(
    root: str, totals: dict[str, Counter[str]], request: pytest.FixtureRequest
) -> Iterator[FaultProxy]:
    """A fault proxy in front of ``root``; what it injected is added to ``totals`` under the test's kind."""
    proxy = FaultProxy(root, stall_seconds=STALL_SECONDS)
    yield proxy
    backend = "google" if "google" in request.node.name else "caldav"
    how = "transient" if "transient" in request.node.name else "persistent"
    totals.setdefault(f"{backend} {how}", Counter()).update(proxy.injected)
    proxy.close()


def transient_plan() -> Plan:
    """A fault on every EVERY_NTH_REQUEST-th distinct request, cycling through the kinds; a retry of a
    faulted request (same method, path and body) always passes, so every request succeeds by its
    second attempt."""
    kinds = itertools.cycle(TRANSIENT_KINDS)
    faulted: set[tuple[str, str, bytes]] = set()
    distinct = itertools.count(1)
    lock = threading.Lock()

    def plan(seen: Seen) -> str | None:
        with lock:
            if seen.key in faulted:
                return None
            if next(distinct) % EVERY_NTH_REQUEST:
                return None
            faulted.add(seen.key)
            return next(kinds)

    return plan


def persistent_plan(kind: str, path_part: str) -> Plan:
    """From the PERSISTENT_FROM_WRITE-th write on, every request whose path holds ``path_part`` fails."""
    started = threading.Event()

    def plan(seen: Seen) -> str | None:
        if path_part not in seen.path:
            return None
        if seen.write_number >= PERSISTENT_FROM_WRITE:
            started.set()
        return kind if started.is_set() else None

    return plan


def assert_one_line_naming(done: Finished, calendar: str) -> None:
    assert done.code == 1, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert f"'{calendar}'" in lines[0] and "Traceback" not in done.stderr


def sync_through_transient_faults(proxy: FaultProxy, config: Path) -> None:
    """The sync retries faults of every transient kind and finishes."""
    proxy.reset(transient_plan())
    done = run_sync(config, FAST_NETWORK_ENV)
    assert done.code == 0, done.stderr
    assert set(proxy.injected) == set(TRANSIENT_KINDS), proxy.injected


def sync_through_persistent_fault(
    proxy: FaultProxy, config: Path, kind: str, path_part: str, name: str
) -> None:
    """The sync fails the calendar ``name`` (whose requests hold ``path_part``) with one line."""
    proxy.reset(persistent_plan(kind, path_part))
    assert_one_line_naming(run_sync(config, FAST_NETWORK_ENV), name)
    assert proxy.injected[kind] >= 1


def healthy_sync(proxy: FaultProxy, config: Path) -> Finished:
    """A sync with the faults over; it succeeds."""
    proxy.reset()
    done = run_sync(config, FAST_NETWORK_ENV)
    assert done.code == 0, done.stderr
    return done


def assert_same(final: Snapshot, reference: Snapshot, seeded_user_events: dict[str, object]) -> None:
    assert final.duplicates == 0
    assert final.user_events == seeded_user_events
    assert final.reminders == reference.reminders
    assert final.marks == reference.marks


# ---- CalDAV (Radicale)


@pytest.fixture(scope="module")
def radicale() -> Iterator[RadicaleServer]:
    with running_radicale() as server:
        yield server


@pytest.fixture(scope="module")
def seed_folder(radicale: RadicaleServer) -> Path:
    return seed_radicale(radicale, "faults", INTERVIEWS)


@pytest.fixture
def proxy(
    radicale: RadicaleServer, injected: dict[str, Counter[str]], request: pytest.FixtureRequest
) -> Iterator[FaultProxy]:
    with tallied_proxy(radicale.root, injected, request) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def dav_reference(
    radicale: RadicaleServer, seed_folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Snapshot, Snapshot]:
    """(the seed as stored, the calendar after one uninterrupted sync)"""
    url = copy_of_seed(radicale, seed_folder, "reference")
    seeded = radicale_snapshot(radicale, url)
    config = tmp_path_factory.mktemp("reference") / "config.toml"
    config.write_text(config_text({"work": url}))
    done = run_sync(config)
    assert done.code == 0, done.stderr
    return seeded, radicale_snapshot(radicale, url)


def test_caldav_transient_faults_are_retried(
    radicale: RadicaleServer,
    seed_folder: Path,
    proxy: FaultProxy,
    dav_reference: tuple[Snapshot, Snapshot],
    tmp_path: Path,
) -> None:
    seeded, reference = dav_reference
    url = copy_of_seed(radicale, seed_folder, "transient")
    config = tmp_path / "config.toml"
    config.write_text(config_text({"work": proxy.url(url)}))
    sync_through_transient_faults(proxy, config)
    assert_same(radicale_snapshot(radicale, url), reference, seeded.user_events)
    assert (healthy_sync(proxy, config).stdout, proxy.writes) == ("", 0)


@pytest.mark.parametrize("kind", PERSISTENT_KINDS)
def test_caldav_persistent_fault_fails_one_calendar_then_converges(
    kind: str,
    radicale: RadicaleServer,
    seed_folder: Path,
    proxy: FaultProxy,
    dav_reference: tuple[Snapshot, Snapshot],
    tmp_path: Path,
) -> None:
    seeded, reference = dav_reference
    failing = copy_of_seed(radicale, seed_folder, f"persistent-{kind}")
    healthy = copy_of_seed(radicale, seed_folder, f"healthy-{kind}")
    config = tmp_path / "config.toml"
    config.write_text(config_text({"work": proxy.url(failing), "home": proxy.url(healthy)}))
    sync_through_persistent_fault(proxy, config, kind, f"/persistent-{kind}/", "work")
    assert_same(radicale_snapshot(radicale, healthy), reference, seeded.user_events)
    interrupted = radicale_snapshot(radicale, failing)
    assert interrupted.duplicates == 0 and interrupted.user_events == seeded.user_events

    healthy_sync(proxy, config)
    assert_same(radicale_snapshot(radicale, failing), reference, seeded.user_events)


# ---- Google (the stand-in)

GOOGLE_CALENDARS = (
    "reference",
    "transient",
    "batched",
    *(f"persistent{n}" for n in range(len(PERSISTENT_KINDS))),
)
BATCH_FAULTS_EACH = 4  # the first attempts of each batch request that fail (a write is tried 6 times)


@pytest.fixture(scope="module")
def standin() -> Iterator[GoogleStandin]:
    with GoogleStandin(timezone="Europe/Berlin") as server:
        for calendar_id in (*GOOGLE_CALENDARS, "healthy"):
            for body in google_seed(INTERVIEWS):
                server.add_event(calendar_id, body)
        yield server


@pytest.fixture
def google_proxy(
    standin: GoogleStandin, injected: dict[str, Counter[str]], request: pytest.FixtureRequest
) -> Iterator[FaultProxy]:
    with tallied_proxy(standin.url, injected, request) as proxy:
        yield proxy


def google_config(
    tmp_path: Path, standin: GoogleStandin, calendars: dict[str, tuple[str, str]], *, batch: bool = False
) -> Path:
    """A config with one Google calendar per ``name -> (calendar_id, api_endpoint)``; without ``batch``
    each write is its own request, so that faults land on single writes as on CalDAV."""
    token = tmp_path / "google-token.json"
    write_token(token, standin, expired=False)
    text = 'timezone = "Europe/Berlin"\nme = ["me@example.com"]\n'
    for name, (calendar_id, endpoint) in calendars.items():
        text += (
            f'[calendars.{name}]\ntype = "google"\ncalendar_id = "{calendar_id}"\n'
            f'token_file = "{token}"\napi_endpoint = "{endpoint}"\nbatch = {str(batch).lower()}\n'
        )
    config = tmp_path / "config.toml"
    config.write_text(text)
    return config


@pytest.fixture(scope="module")
def google_reference(
    standin: GoogleStandin, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Snapshot, Snapshot]:
    """(the seed as stored, the calendar after one uninterrupted sync)"""
    seeded = google_snapshot(standin.events("reference"))
    tmp = tmp_path_factory.mktemp("google-reference")
    done = run_sync(google_config(tmp, standin, {"gmail": ("reference", standin.api_endpoint)}))
    assert done.code == 0, done.stderr
    synced = google_snapshot(standin.events("reference"))
    assert len(synced.reminders) >= 20 and synced.duplicates == 0
    return seeded, synced


def assert_same_on_google(final: Snapshot, reference: tuple[Snapshot, Snapshot]) -> None:
    """Same as the uninterrupted sync; every seeded event unchanged but for the marks (a series' tagged
    occurrences are new exceptions, in the reference too)."""
    seeded, synced = reference
    assert_same(final, synced, synced.user_events)
    assert {key: final.user_events[key] for key in seeded.user_events} == seeded.user_events


def test_google_transient_faults_are_retried(
    standin: GoogleStandin,
    google_proxy: FaultProxy,
    google_reference: tuple[Snapshot, Snapshot],
    tmp_path: Path,
) -> None:
    endpoint = google_proxy.root + "calendar/v3/"
    config = google_config(tmp_path, standin, {"gmail": ("transient", endpoint)})
    sync_through_transient_faults(google_proxy, config)
    assert_same_on_google(google_snapshot(standin.events("transient")), google_reference)
    assert (healthy_sync(google_proxy, config).stdout, google_proxy.writes) == ("", 0)


def batch_fault_plan() -> Plan:
    """Faults on batch requests only: the first BATCH_FAULTS_EACH attempts of each batch (its calls,
    whatever the boundary) fail, cycling through the transient kinds; other requests pass."""
    kinds = itertools.cycle(TRANSIENT_KINDS)
    attempts: Counter[bytes] = Counter()
    lock = threading.Lock()

    def plan(seen: Seen) -> str | None:
        if not seen.path.startswith("/batch/"):
            return None
        calls = re.sub(rb"(?m)^(--.*|Content-ID: .*)$", b"", seen.body)
        with lock:
            attempts[calls] += 1
            return next(kinds) if attempts[calls] <= BATCH_FAULTS_EACH else None

    return plan


def test_google_batches_through_transient_faults(
    standin: GoogleStandin,
    google_proxy: FaultProxy,
    google_reference: tuple[Snapshot, Snapshot],
    tmp_path: Path,
) -> None:
    """Whole batch requests dropped (before or after Google acted), answered 5xx, stalled, cut short:
    each is sent again, and calls that landed before their answer was lost are recognised."""
    endpoint = google_proxy.root + "calendar/v3/"
    config = google_config(tmp_path, standin, {"gmail": ("batched", endpoint)}, batch=True)
    google_proxy.reset(batch_fault_plan())
    done = run_sync(config, FAST_NETWORK_ENV)
    assert done.code == 0, done.stderr
    assert set(google_proxy.injected) == set(TRANSIENT_KINDS), google_proxy.injected
    assert_same_on_google(google_snapshot(standin.events("batched")), google_reference)
    assert (healthy_sync(google_proxy, config).stdout, google_proxy.writes) == ("", 0)


@pytest.mark.parametrize("kind", PERSISTENT_KINDS)
def test_google_persistent_fault_fails_one_calendar_then_converges(
    kind: str,
    standin: GoogleStandin,
    google_proxy: FaultProxy,
    google_reference: tuple[Snapshot, Snapshot],
    tmp_path: Path,
) -> None:
    calendar_id = f"persistent{PERSISTENT_KINDS.index(kind)}"
    endpoint = google_proxy.root + "calendar/v3/"
    config = google_config(
        tmp_path, standin, {"gmail": (calendar_id, endpoint), "other": ("healthy", standin.api_endpoint)}
    )
    sync_through_persistent_fault(google_proxy, config, kind, f"/calendars/{calendar_id}/", "gmail")
    assert_same_on_google(google_snapshot(standin.events("healthy")), google_reference)
    assert google_snapshot(standin.events(calendar_id)).duplicates == 0

    healthy_sync(google_proxy, config)
    assert_same_on_google(google_snapshot(standin.events(calendar_id)), google_reference)


def test_timeout_and_retry_delay_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from followup_cal.backends.http import max_retry_delay, seconds_from_env

    for value, expected in (("1.5", 1.5), ("0", 30.0), ("-2", 30.0), ("inf", 30.0), ("soon", 30.0)):
        monkeypatch.setenv("FOLLOWUP_CAL_TIMEOUT", value)
        assert seconds_from_env("FOLLOWUP_CAL_TIMEOUT", 30.0) == expected
    monkeypatch.delenv("FOLLOWUP_CAL_MAX_RETRY_DELAY", raising=False)
    assert max_retry_delay(20.0) == 20.0
    monkeypatch.setenv("FOLLOWUP_CAL_MAX_RETRY_DELAY", "0.2")
    assert max_retry_delay(20.0) == 0.2
