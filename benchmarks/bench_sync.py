"""Benchmark of `followup-cal sync` against a real Radicale server (issue 6).

For each calendar size it seeds Radicale's storage in bulk, then runs the real CLI in a fresh process
through a counting proxy: the first sync, a sync with nothing changed (twice; the second one, the steady
state of a cron job, three times), a sync after one interview moved, and the first sync again with
``connections = 1``. It measures wall time, the time the server took (``server s``) and the rest, the
client's own time (``client s``), HTTP requests per method, bytes received and peak memory, and compares
each with the floor: the same unavoidable requests sent raw over one kept-alive connection by a fresh
interpreter, plus the start of an empty interpreter. Floors: one sync-collection REPORT per calendar
(what a no-op sync must send), one window REPORT per calendar, and the window REPORTs plus the same
writes the CLI sent.

    .venv/bin/python benchmarks/bench_sync.py [--sizes 1000,10000 | --quick] [--separate-reminders]
                                              [--latency MS] [--connections N] [--json [PATH]]

``--latency MS`` adds two first syncs (default connections and ``connections = 1``) through a proxy
that delays every request by MS milliseconds, half each way: a remote server's round trips.

Radicale runs with fsync off and with its item cache and sync history built once after seeding, as a
server in use would have them. Note that Radicale scans the whole calendar for a UID clash on every
object it creates, so with reminders in the 10,000-event calendar a first sync is bound by the server;
``--separate-reminders`` (reminders_to an own calendar) shows the client's share.
"""

from __future__ import annotations

import argparse
import base64
import importlib.util
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench_report import Measure, SizeResult, median_run, table, targets
from counting_proxy import CountingProxy, RecordedWrite
from raw_dav import (
    basic_auth,
    report_headers,
    send,
    sync_collection_body,
    sync_collection_headers,
    sync_token,
    window_report_body,
)
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
TRIES = 3  # runs behind a no-op row and the small floors (the row is their median)
# The measured processes run as an installed program does: with its bytecode compiled (pip compiles it
# at install; PYTHONDONTWRITEBYTECODE, set in some shells, would make every run compile every module).
CHILD_ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def compile_package() -> None:
    """Compiles followup-cal's modules once, as ``pip install`` does, before anything is measured."""
    spec = importlib.util.find_spec("followup_cal")
    if spec is not None and spec.origin is not None:
        folder = str(Path(spec.origin).parent)
        subprocess.run(
            [PYTHON, "-m", "compileall", "-q", folder], env=CHILD_ENV, check=True, capture_output=True
        )


def run_child(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float, int, str]:
    """Runs a fresh process; returns wall seconds, its own peak RSS in MB (wait4), exit code, output."""
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env or CHILD_ENV)
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
    env = {**CHILD_ENV, PASSWORD_ENV: PASSWORD, "XDG_CACHE_HOME": str(cache)}
    proxy.take()
    seconds, peak, code, output = run_child(
        [PYTHON, "-m", "followup_cal", "--config", str(config), "sync"], env
    )
    traffic, writes = proxy.take()
    return Measure(label, seconds, peak, code, traffic, output=output), writes


def probe_imports(config: Path, cache: Path, folder: Path) -> tuple[list[str], list[str]]:
    """One more no-op sync, through import_probe.py: the modules it imported, the data files it read."""
    out = folder / "imports.json"
    env = {**CHILD_ENV, PASSWORD_ENV: PASSWORD, "XDG_CACHE_HOME": str(cache)}
    command = [PYTHON, str(HERE / "import_probe.py"), str(out), "--config", str(config), "sync"]
    _, _, code, output = run_child(command, env)
    if code != 0 or not out.exists():
        raise RuntimeError(f"the import probe failed: {output[-2000:]}")
    found = json.loads(out.read_text())
    return list(found["modules"]), list(found["data_files"])


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
        status, _, _ = send(connection, "REPORT", CALENDAR_PATH, sync_collection_body(), headers)
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


def floor_run(
    label: str, proxy: CountingProxy, workdir: Path, requests: list[dict[str, Any]], interpreter: float
) -> Measure:
    """The raw requests in a fresh interpreter; its wall time is that of the requests plus
    ``interpreter`` (an empty interpreter's start, measured once)."""
    spec = workdir / f"{label.replace(' ', '-').replace(':', '')}.json"
    spec.write_text(json.dumps({"port": proxy.port, "requests": requests}))
    proxy.take()
    _, peak, code, output = run_child([PYTHON, str(HERE / "floor_client.py"), str(spec)])
    traffic, _ = proxy.take()
    if code != 0:
        raise RuntimeError(f"floor client failed: {output[-2000:]}")
    answer = json.loads(output.strip().splitlines()[-1])
    failed = sum(not 200 <= status < 300 for status in answer["statuses"])
    return Measure(label, answer["seconds"] + interpreter, peak, code, traffic, failed_replays=failed)


def raw(method: str, path: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    return {"method": method, "path": path, "headers": headers, "body": base64.b64encode(body).decode()}


def replayed(writes: list[RecordedWrite], auth: str) -> list[dict[str, Any]]:
    return [raw(w.method, w.path, {**w.headers, "Authorization": auth}, w.body) for w in writes]


class Bench:
    """The runs at one calendar size, each scenario on a fresh copy of the seeded storage."""

    def __init__(self, size: int, now: datetime, tmp: Path, args: argparse.Namespace, interpreter: float):
        self.size, self.now, self.tmp, self.interpreter = size, now, tmp, interpreter
        self.separate: bool = args.separate_reminders
        self.latency: float = args.latency
        self.connections: int | None = args.connections
        self.calendar_paths = [CALENDAR_PATH, REMINDERS_PATH] if self.separate else [CALENDAR_PATH]
        self.seed = tmp / f"seed-{size}"
        self.events: list[SeededEvent] = []
        self.measures: dict[str, Measure] = {}
        self.modules: list[str] = []
        self.data_files: list[str] = []

    def log(self, text: str) -> None:
        print(f"[{self.size} events] {text} ...", file=sys.stderr, flush=True)

    def scenario(self, name: str, latency: float = 0.0) -> tuple[Radicale, CountingProxy, Path]:
        storage = self.tmp / f"{name}-{self.size}" / "storage"
        copy_storage(self.seed, storage)
        radicale = Radicale(storage, storage.parent)
        return radicale, CountingProxy(radicale.port, latency), storage.parent

    def run(self) -> SizeResult:
        self.log("seeding")
        seeded = generate(self.size, self.now)
        self.events = [event for event, _ in seeded]
        write_storage(self.seed, seeded, (REMINDERS_CALENDAR,) if self.separate else ())
        warm(self.seed, self.tmp / f"warm-{self.size}", self.now)
        self.log("syncing")
        first_writes, moved_uid, moved_writes = self.main_runs()
        self.log("sequential baseline")
        self.first_sync("sequential", "first sync, connections = 1", 1)
        if self.latency:
            self.log(f"first syncs with {self.latency:g} ms latency")
            ms = f"{self.latency:g} ms latency"
            self.first_sync("first_latency", f"first sync, {ms}", self.connections, self.latency)
            self.first_sync("sequential_latency", f"first sync, connections = 1, {ms}", 1, self.latency)
        self.log("floor")
        self.floors(first_writes, moved_uid, moved_writes)
        links = {"first": "floor_first", "sequential": "floor_first", "noop1": "floor_noop"}
        links |= {"noop2": "floor_sync", "moved": "floor_moved"}
        for key, floor in links.items():
            self.measures[key].floor = floor
        interviews = sum(e.interview for e in self.events)
        return SizeResult(
            self.size, interviews, len(self.calendar_paths), self.measures, self.modules, self.data_files
        )

    def first_label(self) -> str:
        return "first sync" + (f", connections = {self.connections}" if self.connections else "")

    def main_runs(self) -> tuple[list[RecordedWrite], str, list[RecordedWrite]]:
        """First sync, no-op syncs, a sync after a move; returns what the floor replays."""
        radicale, proxy, folder = self.scenario("main")
        try:
            config = write_config(folder, proxy, self.connections, self.separate)
            cache = folder / "cache"
            self.measures["first"], first_writes = sync(self.first_label(), proxy, config, cache)
            self.measures["noop1"], _ = sync("no-op sync #1", proxy, config, cache)
            steady = [sync("no-op sync #2", proxy, config, cache)[0] for _ in range(TRIES)]
            self.measures["noop2"] = median_run(steady)
            self.modules, self.data_files = probe_imports(config, cache, folder)
            moved_uid = move_interview(radicale, self.events, self.now)
            self.measures["moved"], moved_writes = sync("one interview moved", proxy, config, cache)
        finally:
            proxy.close()
            radicale.stop()
        return first_writes, moved_uid, moved_writes

    def first_sync(self, key: str, label: str, connections: int | None, latency: float = 0.0) -> None:
        radicale, proxy, folder = self.scenario(key, latency)
        try:
            config = write_config(folder, proxy, connections, self.separate)
            self.measures[key], _ = sync(label, proxy, config, folder / "cache")
        finally:
            proxy.close()
            radicale.stop()

    def floors(
        self, first_writes: list[RecordedWrite], moved_uid: str, moved_writes: list[RecordedWrite]
    ) -> None:
        radicale, proxy, folder = self.scenario("floor")
        try:
            auth = basic_auth(USER, PASSWORD)
            window = window_report_body(
                self.now - timedelta(days=WINDOW_PAST_DAYS), self.now + timedelta(days=WINDOW_FUTURE_DAYS)
            )
            reports = [raw("REPORT", path, report_headers(auth), window) for path in self.calendar_paths]

            def floor(label: str, requests: list[dict[str, Any]]) -> Measure:
                return floor_run(label, proxy, folder, requests, self.interpreter)

            self.measures["floor_first"] = floor(
                "floor: REPORTs + first sync's writes", [*reports, *replayed(first_writes, auth)]
            )
            # What a no-op sync must send: one sync-collection REPORT per calendar, with the token the
            # collection reports now (taken by a raw PROPFIND straight to Radicale, not counted).
            connection = radicale.connection()
            tokens = [sync_token(connection, path, auth) for path in self.calendar_paths]
            connection.close()
            checks = [
                raw("REPORT", path, sync_collection_headers(auth), sync_collection_body(token))
                for path, token in zip(self.calendar_paths, tokens, strict=True)
            ]
            self.measures["floor_sync"] = median_run(
                [floor("floor: sync-collection per calendar", checks) for _ in range(TRIES)]
            )
            self.measures["floor_noop"] = median_run(
                [floor("floor: window REPORT per calendar", reports) for _ in range(TRIES)]
            )
            move_interview(radicale, [e for e in self.events if e.uid == moved_uid], self.now)
            self.measures["floor_moved"] = floor(
                "floor: REPORTs + move's writes", [*reports, *replayed(moved_writes, auth)]
            )
        finally:
            proxy.close()
            radicale.stop()


def load_text(load: tuple[float, float, float]) -> str:
    return "/".join(f"{value:.2f}" for value in load)


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
    parser.add_argument(
        "--backend",
        choices=("caldav", "google", "microsoft"),
        default="caldav",
        help="Radicale (default), the Google stand-in (tests/google_standin.py) or the Graph stand-in "
        "(tests/graph_standin.py)",
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
        "--latency",
        type=float,
        default=0.0,
        metavar="MS",
        help="also run the first sync (default connections and connections = 1) through a proxy that "
        "delays every request by MS milliseconds, half each way, like a remote server",
    )
    parser.add_argument(
        "--connections",
        type=int,
        metavar="N",
        help="the `connections` key of every run but the connections = 1 baselines (default: the product's)",
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
    if args.latency < 0:
        parser.error("--latency must not be negative")
    if args.connections is not None and args.connections < 1:
        parser.error("--connections must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    now = datetime.now(UTC)
    load_before = os.getloadavg()
    compile_package()
    interpreter = median_seconds([PYTHON, "-c", "pass"], 5)
    script = Path(PYTHON).parent / "followup-cal"
    help_command = [str(script)] if script.exists() else [PYTHON, "-m", "followup_cal"]
    help_seconds = median_seconds([*help_command, "--help"], 3)
    if args.backend in ("google", "microsoft"):
        return standin_main(args, now, load_before, interpreter, help_seconds)
    with tempfile.TemporaryDirectory(prefix="bench-sync-", dir=scratch_dir()) as tmp:
        results = [Bench(size, now, Path(tmp), args, interpreter).run() for size in args.size_list]
    commit = git_commit()
    print(f"followup-cal sync benchmark, {now:%Y-%m-%d %H:%M} UTC, commit {commit}, {os.cpu_count()} CPUs")
    print(
        "Radicale on 127.0.0.1 (fsync off), "
        + ("reminders in an own calendar (reminders_to), " if args.separate_reminders else "one calendar, ")
        + f"window -{WINDOW_PAST_DAYS}/+{WINDOW_FUTURE_DAYS} days; interviews: "
        + ", ".join(f"{r.interviews} of {r.size}" for r in results)
    )
    print(
        f"interpreter start (python -c pass): {interpreter:.3f} s; "
        f"followup-cal --help: {help_seconds:.3f} s; connections: {args.connections or 'the default'}\n"
        f"load average (1/5/15 min): {load_text(load_before)} before, {load_text(os.getloadavg())} after"
    )
    print(
        "floor rows: raw requests over one kept-alive connection by a fresh interpreter + its start; "
        "x floor = ratio to the run's floor\n"
        "server s: time from forwarding each request to having its whole answer (parallel requests count "
        "once); client s: wall - time waiting on answers (the simulated latency included)\n"
    )
    for line in table(results):
        print(line)
    print("\nTargets (issues 6 and 12):")
    for line in targets(results, help_seconds, args.latency):
        print(line)
    failed_runs = failed_runs_of(results)
    for size, measure in failed_runs:
        print(f"\n{measure.label} at {size} exited {measure.exit_code}:\n{measure.output[-1500:]}")
    if args.json:
        write_json(args, now, commit, interpreter, help_seconds, load_before, results)
    return 1 if failed_runs else 0


def failed_runs_of(results: list[SizeResult]) -> list[tuple[int, Measure]]:
    return [
        (r.size, m)
        for r in results
        for key, m in r.measures.items()
        if not key.startswith("floor") and m.exit_code != 0
    ]


def standin_main(
    args: argparse.Namespace,
    now: datetime,
    load_before: tuple[float, float, float],
    interpreter: float,
    help_seconds: float,
) -> int:
    """The benchmark on the Google or the Graph stand-in (``args.backend``)."""
    from bench_google import GoogleBench, google_targets
    from bench_microsoft import MicrosoftBench, microsoft_targets

    google = args.backend == "google"
    bench_of = GoogleBench if google else MicrosoftBench
    with tempfile.TemporaryDirectory(prefix=f"bench-{args.backend}-", dir=scratch_dir()) as tmp:
        benches = [bench_of(size, now, Path(tmp), args, interpreter) for size in args.size_list]
        results = [bench.run() for bench in benches]
    commit = git_commit()
    standin = "Google stand-in" if google else "Graph stand-in (msal token from the identity stand-in)"
    print(f"followup-cal sync benchmark, {now:%Y-%m-%d %H:%M} UTC, commit {commit}, {os.cpu_count()} CPUs")
    print(
        f"{standin} on 127.0.0.1 (in the benchmark's process), window -{WINDOW_PAST_DAYS}/"
        f"+{WINDOW_FUTURE_DAYS} days; interviews: "
        + ", ".join(f"{r.interviews} of {r.size}" for r in results)
    )
    print(
        f"interpreter start (python -c pass): {interpreter:.3f} s; "
        f"followup-cal --help: {help_seconds:.3f} s\n"
        f"load average (1/5/15 min): {load_text(load_before)} before, {load_text(os.getloadavg())} after"
    )
    print(
        "floor rows: raw requests over one kept-alive connection by a fresh interpreter + its start; "
        "x floor = ratio to the run's floor\n"
        "server s: the stand-in's time; client s: wall - time waiting on answers (the simulated latency "
        "included)\n"
    )
    for line in table(results):
        print(line)
    for bench in benches:
        print(
            f"\n{bench.size} events: the first sync wrote {bench.writes} calls in {bench.write_requests} "
            f"requests ({bench.failed_calls} answered with an error)"
        )
    print(f"\nTargets (issue 12, {'Google' if google else 'Microsoft'}):")
    judged = (
        google_targets(results, benches, help_seconds)  # type: ignore[arg-type]
        if google
        else microsoft_targets(results, benches, help_seconds)  # type: ignore[arg-type]
    )
    for line in judged:
        print(line)
    failed_runs = failed_runs_of(results)
    for size, measure in failed_runs:
        print(f"\n{measure.label} at {size} exited {measure.exit_code}:\n{measure.output[-1500:]}")
    if args.json:
        write_json(args, now, git_commit(), interpreter, help_seconds, load_before, results)
    return 1 if failed_runs else 0


def write_json(
    args: argparse.Namespace,
    now: datetime,
    commit: str,
    interpreter: float,
    help_seconds: float,
    load_before: tuple[float, float, float],
    results: list[SizeResult],
) -> None:
    dump = {
        "measured_at": now.isoformat(),
        "commit": commit,
        "interpreter_seconds": interpreter,
        "help_seconds": help_seconds,
        "backend": args.backend,
        "latency_ms": args.latency,
        "connections": args.connections,
        "load_average_before": load_before,
        "sizes": [
            {
                "size": r.size,
                "interviews": r.interviews,
                "runs": {k: m.as_json() for k, m in r.measures.items()},
            }
            for r in results
        ],
    }
    text = json.dumps(dump, indent=2)
    if args.json == "-":
        print(text)
    else:
        Path(args.json).write_text(text + "\n")


if __name__ == "__main__":
    sys.exit(main())
