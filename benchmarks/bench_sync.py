"""Benchmark of `followup-cal sync` against a real Radicale server (issue 6).

For each calendar size it seeds Radicale's storage in bulk, then runs the real CLI in a fresh process
through a counting proxy: the first sync, a sync with nothing changed (twice), a sync after one interview
moved, and the first sync again with ``connections = 1``. It measures wall time, HTTP requests per
method, bytes received and peak memory, and compares each with the floor: the same unavoidable requests
(one REPORT for the window, the same writes) sent raw over one kept-alive connection, plus the start of
an empty interpreter.

    .venv/bin/python benchmarks/bench_sync.py [--sizes 1000,10000 | --quick] [--separate-reminders]
                                              [--json [PATH]]

Radicale runs with fsync off and with its item cache and sync history built once after seeding, as a
server in use would have them. Note that Radicale scans the whole calendar for a UID clash on every
object it creates, so with reminders in the 10,000-event calendar a first sync is bound by the server;
``--separate-reminders`` (reminders_to an own calendar) shows the client's share.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from counting_proxy import CountingProxy, RecordedWrite, Traffic
from raw_dav import basic_auth, report_headers, send, window_report_body
from seed_calendar import (
    CALENDAR,
    PASSWORD,
    REMINDERS_CALENDAR,
    USER,
    WINDOW_FUTURE_DAYS,
    WINDOW_PAST_DAYS,
    Radicale,
    SeededEvent,
    copy_storage,
    generate,
    write_storage,
)

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
PASSWORD_ENV = "FOLLOWUP_BENCH_PASSWORD"
CALENDAR_PATH = f"/{USER}/{CALENDAR}/"
REMINDERS_PATH = f"/{USER}/{REMINDERS_CALENDAR}/"
NOOP_FLOOR_TRIES = 3


@dataclass
class Measure:
    """One measured process, with the traffic it caused."""

    label: str
    seconds: float
    peak_mb: float
    exit_code: int
    traffic: Traffic = field(default_factory=Traffic)
    floor: str = ""  # the floor it is compared with
    output: str = ""  # the CLI's output lines (stdout and stderr), for the report
    failed_replays: int = 0  # floor only: writes the server refused on replay
    seconds_by_method: dict[str, float] = field(default_factory=dict)  # floor only: server time per method

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["traffic"] = self.traffic.as_json()
        return data


@dataclass
class SizeResult:
    size: int
    interviews: int
    calendars: int
    measures: dict[str, Measure | None]


def run_child(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float, int, str]:
    """Runs a fresh process; returns wall seconds, its own peak RSS in MB (wait4), exit code, output."""
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read().decode(errors="replace")
    return seconds, usage.ru_maxrss / 1024, process.returncode, text


def median_seconds(command: list[str], tries: int) -> float:
    return statistics.median(run_child(command)[0] for _ in range(tries))


def write_config(folder: Path, proxy: CountingProxy, connections: int | None, separate: bool) -> Path:
    """The user's config: the seeded calendar through the proxy; with ``separate``, reminders go to an
    own (empty) calendar on the same server."""

    def caldav_table(name: str, path: str, more: str) -> str:
        extra = "" if connections is None else f"connections = {connections}\n"
        return (
            f'[calendars.{name}]\ntype = "caldav"\nurl = "{proxy.url(path)}"\nusername = "{USER}"\n'
            f'password_env = "{PASSWORD_ENV}"\n{extra}{more}'
        )

    config = folder / "config.toml"
    text = (
        'timezone = "Europe/Berlin"\nme = ["me@example.com"]\n'
        f"[rules]\nwindow_past_days = {WINDOW_PAST_DAYS}\nwindow_future_days = {WINDOW_FUTURE_DAYS}\n"
    )
    if separate:
        text += caldav_table(CALENDAR, CALENDAR_PATH, f'reminders_to = "{REMINDERS_CALENDAR}"\n')
        text += caldav_table(REMINDERS_CALENDAR, REMINDERS_PATH, "")
    else:
        text += caldav_table(CALENDAR, CALENDAR_PATH, "")
    config.write_text(text)
    return config


def sync(label: str, proxy: CountingProxy, config: Path, cache: Path) -> tuple[Measure, list[RecordedWrite]]:
    """One `followup-cal sync` in a fresh process; its cache dir (lock, sync token) is ``cache``."""
    env = {**os.environ, PASSWORD_ENV: PASSWORD, "XDG_CACHE_HOME": str(cache)}
    proxy.take()
    seconds, peak, code, output = run_child(
        [PYTHON, "-m", "followup_cal", "--config", str(config), "sync"], env
    )
    traffic, writes = proxy.take()
    return Measure(label, seconds, peak, code, traffic, output=output), writes


def warm(storage: Path, workdir: Path, now: datetime) -> None:
    """Lets Radicale build its item cache and sync history for the seeded files once, as a server in
    use would have them, so that no run pays for the server's first look at 10,000 files."""
    radicale = Radicale(storage, workdir)
    try:
        connection = radicale.connection()
        headers = report_headers(basic_auth(USER, PASSWORD))
        body = window_report_body(
            now - timedelta(days=WINDOW_PAST_DAYS), now + timedelta(days=WINDOW_FUTURE_DAYS)
        )
        status, _, _ = send(connection, "REPORT", CALENDAR_PATH, body, headers)
        assert status == 207, f"warm-up REPORT answered {status}"
        sync_body = (
            b'<?xml version="1.0" encoding="utf-8"?><D:sync-collection xmlns:D="DAV:"><D:sync-token/>'
            b"<D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>"
        )
        status, _, _ = send(connection, "REPORT", CALENDAR_PATH, sync_body, headers)
        assert status == 207, f"warm-up sync-collection answered {status}"
        connection.close()
    finally:
        radicale.stop()


def move_interview(radicale: Radicale, events: list[SeededEvent], now: datetime) -> str:
    """Moves one future interview in the window by a day with a raw PUT straight to Radicale (behind
    the proxy's back), as a phone would. Returns its UID."""
    candidates = [
        e for e in events if e.interview and now + timedelta(days=3) < e.start < now + timedelta(days=90)
    ]
    if not candidates:
        raise RuntimeError("no future interview in the window to move")
    uid = candidates[0].uid
    path = f"{CALENDAR_PATH}{uid}.ics"
    auth = basic_auth(USER, PASSWORD)
    connection = radicale.connection()
    status, headers, body = send(connection, "GET", path, headers={"Authorization": auth})
    assert status == 200, f"GET {path} answered {status}"

    def shifted(match: re.Match[str]) -> str:
        value = datetime.strptime(match.group(3)[:15], "%Y%m%dT%H%M%S") + timedelta(days=1)
        return f"{match.group(1)}{match.group(2)}:{value:%Y%m%dT%H%M%S}{match.group(3)[15:]}"

    text = re.sub(r"(?m)^(DTSTART|DTEND)([^:\r\n]*):(\d{8}T\d{6}Z?)", shifted, body.decode())
    etag = next(v for k, v in headers.items() if k.lower() == "etag")
    put_headers = {"Authorization": auth, "Content-Type": "text/calendar; charset=utf-8", "If-Match": etag}
    status, _, _ = send(connection, "PUT", path, text.encode(), put_headers)
    assert status in (201, 204), f"moving PUT answered {status}"
    connection.close()
    return uid


def floor_run(label: str, proxy: CountingProxy, workdir: Path, requests: list[dict[str, Any]]) -> Measure:
    """The raw requests in a fresh interpreter; its time is that of the requests alone (the
    interpreter's start is added by the caller)."""
    spec = workdir / f"{label.replace(' ', '-')}.json"
    spec.write_text(json.dumps({"port": proxy.port, "requests": requests}))
    proxy.take()
    _, peak, code, output = run_child([PYTHON, str(HERE / "floor_client.py"), str(spec)])
    traffic, _ = proxy.take()
    if code != 0:
        raise RuntimeError(f"floor client failed: {output[-2000:]}")
    answer = json.loads(output.strip().splitlines()[-1])
    failed = sum(not 200 <= status < 300 for status in answer["statuses"])
    by_method: dict[str, float] = {}
    for method, _, seconds in answer["timings"]:
        by_method[method] = by_method.get(method, 0.0) + seconds
    return Measure(
        label, answer["seconds"], peak, code, traffic, failed_replays=failed, seconds_by_method=by_method
    )


def raw(method: str, path: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    return {"method": method, "path": path, "headers": headers, "body": base64.b64encode(body).decode()}


def replayed(writes: list[RecordedWrite], auth: str) -> list[dict[str, Any]]:
    return [raw(w.method, w.path, {**w.headers, "Authorization": auth}, w.body) for w in writes]


def bench_size(size: int, now: datetime, tmp: Path, separate: bool) -> SizeResult:
    print(f"[{size} events] seeding ...", file=sys.stderr, flush=True)
    seeded = generate(size, now)
    events = [event for event, _ in seeded]
    seed = tmp / f"seed-{size}"
    write_storage(seed, seeded, (REMINDERS_CALENDAR,) if separate else ())
    warm(seed, tmp / f"warm-{size}", now)
    measures: dict[str, Measure | None] = {}

    def scenario(name: str) -> tuple[Radicale, CountingProxy, Path]:
        storage = tmp / f"{name}-{size}" / "storage"
        copy_storage(seed, storage)
        radicale = Radicale(storage, storage.parent)
        return radicale, CountingProxy(radicale.port), storage.parent

    print(f"[{size} events] syncing ...", file=sys.stderr, flush=True)
    radicale, proxy, folder = scenario("main")
    try:
        config = write_config(folder, proxy, None, separate)
        cache = folder / "cache"
        measures["first"], first_writes = sync("first sync", proxy, config, cache)
        measures["noop1"], _ = sync("no-op sync #1", proxy, config, cache)
        measures["noop2"], _ = sync("no-op sync #2", proxy, config, cache)
        moved_uid = move_interview(radicale, events, now)
        measures["moved"], moved_writes = sync("one interview moved", proxy, config, cache)
    finally:
        proxy.close()
        radicale.stop()

    print(f"[{size} events] sequential baseline ...", file=sys.stderr, flush=True)
    radicale, proxy, folder = scenario("sequential")
    try:
        config = write_config(folder, proxy, 1, separate)
        sequential, _ = sync("first sync, connections = 1", proxy, config, folder / "cache")
        rejected = sequential.exit_code == 2 and "connections" in sequential.output
        measures["sequential"] = None if rejected else sequential
    finally:
        proxy.close()
        radicale.stop()

    print(f"[{size} events] floor ...", file=sys.stderr, flush=True)
    calendar_paths = [CALENDAR_PATH, REMINDERS_PATH] if separate else [CALENDAR_PATH]
    radicale, proxy, folder = scenario("floor")
    try:
        auth = basic_auth(USER, PASSWORD)
        window = window_report_body(
            now - timedelta(days=WINDOW_PAST_DAYS), now + timedelta(days=WINDOW_FUTURE_DAYS)
        )
        # One window REPORT per calendar read.
        reports = [raw("REPORT", path, report_headers(auth), window) for path in calendar_paths]
        measures["floor_first"] = floor_run(
            "floor: REPORTs + first sync's writes", proxy, folder, [*reports, *replayed(first_writes, auth)]
        )
        noop_floors = [
            floor_run("floor: REPORT per calendar", proxy, folder, reports) for _ in range(NOOP_FLOOR_TRIES)
        ]
        measures["floor_noop"] = min(noop_floors, key=lambda m: m.seconds)
        move_interview(radicale, [e for e in events if e.uid == moved_uid], now)
        measures["floor_moved"] = floor_run(
            "floor: REPORTs + move's writes", proxy, folder, [*reports, *replayed(moved_writes, auth)]
        )
    finally:
        proxy.close()
        radicale.stop()
    for key, floor in (("first", "floor_first"), ("sequential", "floor_first"), ("noop1", "floor_noop")):
        if (measure := measures[key]) is not None:
            measure.floor = floor
    for key, floor in (("noop2", "floor_noop"), ("moved", "floor_moved")):
        if (measure := measures[key]) is not None:
            measure.floor = floor
    return SizeResult(size, sum(e.interview for e in events), len(calendar_paths), measures)


def ratio(value: float, floor: float) -> str:
    return f"{value / floor:.2f}x" if floor > 0 else "-"


ROWS = ("floor_noop", "floor_first", "floor_moved", "first", "noop1", "noop2", "moved", "sequential")
SEQUENTIAL_LABEL = "first sync, connections = 1"


def table(results: list[SizeResult], interpreter: float) -> list[str]:
    header = (
        f"{'events':>6} {'run':<38} {'wall s':>7} {'x floor':>7} {'reqs':>5} {'x floor':>7} "
        f"{'KiB recv':>9} {'x floor':>7} {'conns':>5} {'peak MB':>7} {'exit':>4}  requests by method"
    )
    lines = [header, "-" * len(header)]
    for result in results:
        for key in ROWS:
            measure = result.measures.get(key)
            if measure is None:
                lines.append(
                    f"{result.size:>6} {SEQUENTIAL_LABEL:<38} {'n/a':>7}  (no `connections` key yet)"
                )
                continue
            floor = result.measures[measure.floor] if measure.floor else measure
            assert floor is not None
            wall = measure.seconds + (interpreter if key.startswith("floor") else 0)
            floor_wall = floor.seconds + interpreter
            note = f"  ({measure.failed_replays} replayed writes refused)" if measure.failed_replays else ""
            lines.append(
                f"{result.size:>6} {measure.label:<38} {wall:>7.3f} {ratio(wall, floor_wall):>7} "
                f"{measure.traffic.total_requests:>5} "
                f"{ratio(measure.traffic.total_requests, floor.traffic.total_requests):>7} "
                f"{measure.traffic.total_bytes / 1024:>9.1f} "
                f"{ratio(measure.traffic.total_bytes, floor.traffic.total_bytes):>7} "
                f"{measure.traffic.connections:>5} {measure.peak_mb:>7.1f} {measure.exit_code:>4}  "
                f"{measure.traffic.by_method()}{note}"
            )
    return lines


def verdict(ok: bool | None) -> str:
    return "n/a " if ok is None else ("PASS" if ok else "FAIL")


def targets(results: list[SizeResult], interpreter: float, help_seconds: float) -> list[str]:
    """Issue 6's targets. Those stated "at 10,000 events" are judged at the largest size measured."""
    small, large = results[0], results[-1]
    m = large.measures

    def need(key: str, result: SizeResult = large) -> Measure:
        measure = result.measures[key]
        assert measure is not None
        return measure

    def floor_wall(key: str) -> float:
        return need(key).seconds + interpreter

    noop_requests = [need("noop2", r).traffic.total_requests / r.calendars for r in results]
    noop_growth = need("noop2").seconds / need("noop2", small).seconds if len(results) > 1 else None
    noop_vs_floor = need("noop2").seconds / floor_wall("floor_noop")
    first_vs_floor = need("first").seconds / floor_wall("floor_first")
    sequential = m["sequential"]
    speedup = sequential.seconds / need("first").seconds if sequential is not None else None
    peak = max(
        measure.peak_mb for key, measure in m.items() if measure is not None and not key.startswith("floor")
    )
    n = large.size
    rows = [
        (
            all(r <= 2 for r in noop_requests),
            "no-op sync: at most 2 requests per calendar (got "
            + ", ".join(f"{r:g}" for r in noop_requests)
            + ")",
        ),
        (
            None if noop_growth is None else noop_growth <= 1.5,
            f"no-op sync at {n} within 1.5x of its time at {small.size}"
            + (" (needs two sizes)" if noop_growth is None else f" (got {noop_growth:.2f}x)"),
        ),
        (
            noop_vs_floor <= 2,
            f"no-op sync at {n} within 2x of floor + interpreter start (got {noop_vs_floor:.2f}x)",
        ),
        (first_vs_floor <= 1.5, f"first sync at {n} within 1.5x of its floor (got {first_vs_floor:.2f}x)"),
        (
            None if speedup is None else speedup >= 2.5,
            f"first sync at {n} at least 2.5x faster than connections = 1"
            + (" (no `connections` key yet)" if speedup is None else f" (got {speedup:.2f}x)"),
        ),
        (help_seconds < 0.3, f"followup-cal --help under 0.3 s (got {help_seconds:.3f} s)"),
        (peak < 150, f"peak memory of a sync at {n} under 150 MB (got {peak:.1f} MB)"),
    ]
    return [f"{verdict(ok)}  {text}" for ok, text in rows]


def git_commit() -> str:
    try:
        head = subprocess.run(
            ["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(HERE.parent), "status", "--porcelain", "--", "src"],
            capture_output=True,
            text=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" (+ uncommitted changes in src/)" if dirty else "")


def scratch_dir() -> str | None:
    """/dev/shm when there is one, so that neither the seeding nor Radicale waits for a disk."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000", help="calendar sizes, comma-separated")
    parser.add_argument("--quick", action="store_true", help="a smoke run with sizes 300,3000")
    parser.add_argument(
        "--separate-reminders",
        action="store_true",
        help="reminders go to an own calendar (reminders_to): Radicale then does not scan the big "
        "calendar for a UID clash on every reminder it creates",
    )
    parser.add_argument(
        "--json",
        nargs="?",
        const="-",
        metavar="PATH",
        help="also dump the results as JSON (to PATH or stdout)",
    )
    args = parser.parse_args(argv)
    text = "300,3000" if args.quick else args.sizes
    try:
        args.size_list = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        parser.error(f"--sizes expects comma-separated numbers, got {text!r}")
    if not args.size_list or min(args.size_list) < 50:
        parser.error("--sizes: each size must be at least 50 events")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    now = datetime.now(UTC)
    interpreter = median_seconds([PYTHON, "-c", "pass"], 5)
    script = Path(PYTHON).parent / "followup-cal"
    help_command = [str(script)] if script.exists() else [PYTHON, "-m", "followup_cal"]
    help_seconds = median_seconds([*help_command, "--help"], 3)
    with tempfile.TemporaryDirectory(prefix="bench-sync-", dir=scratch_dir()) as tmp:
        results = [bench_size(size, now, Path(tmp), args.separate_reminders) for size in args.size_list]
    commit = git_commit()
    print(f"followup-cal sync benchmark, {now:%Y-%m-%d %H:%M} UTC, commit {commit}, {os.cpu_count()} CPUs")
    print(
        "Radicale on 127.0.0.1 (fsync off), "
        + ("reminders in an own calendar (reminders_to), " if args.separate_reminders else "one calendar, ")
        + f"window -{WINDOW_PAST_DAYS}/+{WINDOW_FUTURE_DAYS} days; interviews: "
        + ", ".join(f"{r.interviews} of {r.size}" for r in results)
    )
    print(
        f"interpreter start (python -c pass): {interpreter:.3f} s; followup-cal --help: {help_seconds:.3f} s"
    )
    print(
        "floor rows: raw requests over one kept-alive connection + interpreter start; x floor = ratio to it\n"
    )
    for line in table(results, interpreter):
        print(line)
    print("\nTargets (issue 6):")
    for line in targets(results, interpreter, help_seconds):
        print(line)
    failed_runs = [
        (r.size, m)
        for r in results
        for key, m in r.measures.items()
        if m is not None and not key.startswith("floor") and m.exit_code != 0
    ]
    for size, measure in failed_runs:
        print(f"\n{measure.label} at {size} exited {measure.exit_code}:\n{measure.output[-1500:]}")
    if args.json:
        dump = {
            "measured_at": now.isoformat(),
            "commit": commit,
            "interpreter_seconds": interpreter,
            "help_seconds": help_seconds,
            "sizes": [
                {
                    "size": r.size,
                    "interviews": r.interviews,
                    "runs": {k: (m.as_json() if m is not None else None) for k, m in r.measures.items()},
                }
                for r in results
            ],
        }
        text = json.dumps(dump, indent=2)
        if args.json == "-":
            print(text)
        else:
            Path(args.json).write_text(text + "\n")
    return 1 if failed_runs else 0


if __name__ == "__main__":
    sys.exit(main())
