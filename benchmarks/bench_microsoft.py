"""The sync benchmark on Microsoft (issue 12): the same calendars as on Radicale, in the Graph stand-in
(tests/graph_standin.py, in this process), the real CLI in fresh processes through the counting proxy, its
token a real msal token cache signed in through the identity stand-in (tests/microsoft_identity.py).

Runs per size: the first sync, a no-op sync twice (#1 right after the writing sync, #2 the steady state),
a sync after one interview was moved; what a no-op imports is probed as on Radicale. With ``--latency
MS`` the first sync runs again through a proxy that holds every request MS milliseconds, beside a floor
sent through the same proxy.

Floors, sent raw by a fresh interpreter over one kept-alive connection, plus interpreter start: the
delta check with the current delta token (what a no-op must send); the window listing (calendarView, in
the pages the backend asks for); that listing plus the first sync's writes regrouped into ``$batch``
requests of at most 20 (the lookups before the writes left out).

The generated calendar's monthly series become four-weekly ones: the stand-in expands daily and weekly
patterns only.
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import re
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench_report import (
    Measure,
    SizeResult,
    median_run,
    noop_path_rows,
    probed_sync,
    standin_floor,
    standin_size_rows,
    verdict,
)
from counting_proxy import CountingProxy, RecordedWrite
from seed_calendar import ME, WINDOW_FUTURE_DAYS, WINDOW_PAST_DAYS, SeededEvent, generate

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from followup_cal.backends.microsoft import PAGE_SIZE, PREFER_READ
from followup_cal.backends.microsoft_items import SELECT, expand_marks
from graph_helpers import recurrence
from graph_seed import microsoft_config
from graph_standin import ACCESS_TOKEN, QUIET_FIELDS, GraphStandin
from microsoft_identity import MicrosoftIdentity

CALENDAR_PATH = "me/calendar"
AUTH = {"Authorization": f"Bearer {ACCESS_TOKEN}"}
BATCH_LIMIT = 20
TRIES = 3
_ICAL_TIME = "%Y%m%dT%H%M%SZ"


def graph_body(event: SeededEvent, text: str) -> dict[str, Any]:
    """A seeded event (its iCalendar text) as the Graph resource Outlook would hold after an invitation."""
    fields: dict[str, str] = {}
    attendees: list[dict[str, Any]] = []
    organizer = ""
    for line in text.split("\r\n"):
        name, _, value = line.partition(":")
        key, *params = name.split(";")
        if key == "ATTENDEE":
            answer = "accepted" if "PARTSTAT=ACCEPTED" in params else "notResponded"
            address = value.removeprefix("mailto:")
            attendees.append({"emailAddress": {"address": address}, "status": {"response": answer}})
        elif key == "ORGANIZER":
            organizer = value.removeprefix("mailto:")
        elif key:
            fields.setdefault(key, value)

    def moment(value: str) -> dict[str, str]:
        return {
            "dateTime": datetime.strptime(value, _ICAL_TIME).strftime("%Y-%m-%dT%H:%M:%S.0000000"),
            "timeZone": "UTC",
        }

    body: dict[str, Any] = {
        "iCalUId": event.uid,
        "subject": fields.get("SUMMARY", ""),
        "body": {"contentType": "text", "content": fields.get("DESCRIPTION", "")},
        "start": moment(fields["DTSTART"]),
        "end": moment(fields["DTEND"]),
    }
    if "LOCATION" in fields:
        body["location"] = {"displayName": fields["LOCATION"]}
    if "RRULE" in fields:
        rule = fields["RRULE"]
        if rule.startswith("FREQ=MONTHLY"):
            count = re.search(r"COUNT=\d+", rule)
            rule = "FREQ=WEEKLY;INTERVAL=4" + (f";{count.group()}" if count else "")
        body["recurrence"] = recurrence(rule, datetime.strptime(fields["DTSTART"], _ICAL_TIME))
    if organizer:
        mine = next((a["status"]["response"] for a in attendees if a["emailAddress"]["address"] == ME), "")
        body |= {
            "organizer": {"emailAddress": {"address": organizer}},
            "isOrganizer": False,
            "attendees": attendees,
            "responseStatus": {"response": mine or "notResponded"},
        }
    return body


def raw_request(
    method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    data = b"" if body is None else json.dumps(body).encode()
    extra = {"Content-Type": "application/json"} if body is not None else {}
    return {
        "method": method,
        "path": "/v1.0/" + path.lstrip("/"),
        "headers": {**AUTH, **extra, **(headers or {})},
        "body": base64.b64encode(data).decode(),
    }


def write_parts(writes: list[RecordedWrite]) -> list[dict[str, Any]]:
    """The writes a sync sent (alone or inside its ``$batch`` requests) as ``$batch`` parts, in order."""
    parts: list[dict[str, Any]] = []
    for write in writes:
        if write.path.rstrip("/").endswith("$batch"):
            for part in json.loads(write.body)["requests"]:
                if part["method"] != "GET":
                    parts.append({k: v for k, v in part.items() if k != "id"})
            continue
        headers = {k: v for k, v in write.headers.items() if k.lower() != "content-type"}
        part: dict[str, Any] = {"method": write.method, "url": write.path.removeprefix("/v1.0")}
        if write.body:
            part["body"] = json.loads(write.body)
            headers["Content-Type"] = "application/json"
        if headers:
            part["headers"] = headers
        parts.append(part)
    return parts


def batched(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The parts as raw ``$batch`` requests of at most BATCH_LIMIT."""
    chunks = [parts[i : i + BATCH_LIMIT] for i in range(0, len(parts), BATCH_LIMIT)]
    return [
        raw_request("POST", "$batch", {"requests": [{"id": str(n), **p} for n, p in enumerate(chunk, 1)]})
        for chunk in chunks
    ]


class MicrosoftBench:
    """The runs at one calendar size, each scenario on a fresh copy of the seeded stand-in's store."""

    def __init__(self, size: int, now: datetime, tmp: Path, args: argparse.Namespace, interpreter: float):
        self.size, self.now, self.tmp, self.interpreter = size, now, tmp, interpreter
        self.latency: float = args.latency
        self.measures: dict[str, Measure] = {}
        self.seed = GraphStandin()  # never started: its store is copied into each scenario's stand-in
        self.events: list[SeededEvent] = []
        self.identity = MicrosoftIdentity()
        self.write_requests = 0  # the first sync's HTTP requests that carried writes
        self.writes = 0  # writes sent by the first sync
        self.failed_calls = 0  # answered 4xx/5xx in the first sync (retried or re-planned)
        self.steps = [0, 0, 0, 0]  # the first sync's writes: deletes and moves, creates, tags, categories
        self.modules: list[str] = []  # what a no-op sync imported
        self.data_files: list[str] = []  # and read from the package's data folder

    def log(self, text: str) -> None:
        print(f"[microsoft, {self.size} events] {text} ...", file=sys.stderr, flush=True)

    def run(self) -> SizeResult:
        from bench_sync import run_child

        self.run_child = run_child
        self.log("seeding")
        seeded = generate(self.size, self.now)
        self.events = [event for event, _ in seeded]
        for event, text in seeded:
            self.seed.store.insert("primary", graph_body(event, text))
        self.seed.start()  # answers the floors' questions directly (not through a proxy)
        self.identity.start()
        try:
            self.log("syncing")
            first_writes = self.main_runs()
            if self.latency:
                self.log(f"first sync with {self.latency:g} ms latency")
                self.first_sync("first_latency", f"first sync, {self.latency:g} ms latency", self.latency)
            self.log("floor")
            self.floors(first_writes)
        finally:
            self.identity.stop()
            self.seed.stop()
        links = {"first": "floor_first", "noop1": "floor_sync", "noop2": "floor_sync", "moved": "floor_noop"}
        if self.latency:
            links["first_latency"] = "floor_first_latency"
        for key, floor in links.items():
            self.measures[key].floor = floor
        interviews = sum(e.interview for e in self.events)
        return SizeResult(self.size, interviews, 1, self.measures, self.modules, self.data_files)

    def scenario(self, latency: float = 0.0) -> tuple[GraphStandin, CountingProxy]:
        standin = GraphStandin()
        standin.store = copy.deepcopy(self.seed.store)
        standin.token_check = lambda token: token in self.identity.valid_tokens
        standin.start()
        proxy = CountingProxy(int(standin.url.rsplit(":", 1)[1].strip("/")), latency)
        standin.public_url = proxy.url("")  # next and delta links lead through the proxy too
        return standin, proxy

    def config(self, name: str, proxy: CountingProxy) -> Path:
        folder = self.folder(name)
        config = microsoft_config(folder, self.identity, {"outlook": ("primary", proxy.url("v1.0/"))})
        config.write_text(
            config.read_text()
            + f"[rules]\nwindow_past_days = {WINDOW_PAST_DAYS}\nwindow_future_days = {WINDOW_FUTURE_DAYS}\n"
        )
        return config

    def sync(self, label: str, proxy: CountingProxy, config: Path) -> tuple[Measure, list[RecordedWrite]]:
        from bench_sync import CHILD_ENV

        env = {
            **CHILD_ENV,
            "XDG_CACHE_HOME": str(config.parent / "cache"),
            "REQUESTS_CA_BUNDLE": str(self.identity.ca_file),  # msal, should the token need a refresh
        }
        return probed_sync(self.run_child, label, proxy, config, env)

    def folder(self, name: str) -> Path:
        folder = self.tmp / f"microsoft-{name}-{self.size}"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def main_runs(self) -> list[RecordedWrite]:
        from bench_sync import probe_imports

        standin, proxy = self.scenario()
        try:
            config = self.config("main", proxy)
            self.measures["first"], first_writes = self.sync("first sync", proxy, config)
            self.count_writes(standin)
            self.measures["noop1"], _ = self.sync("no-op sync #1 (right after it)", proxy, config)
            steady = [self.sync("no-op sync #2", proxy, config)[0] for _ in range(TRIES)]
            self.measures["noop2"] = median_run(steady)
            self.modules, self.data_files = probe_imports(config, config.parent / "cache", config.parent)
            self.move_interview(standin)
            self.measures["moved"], _ = self.sync("one interview moved", proxy, config)
        finally:
            proxy.close()
            standin.stop()
        return first_writes

    def count_writes(self, standin: GraphStandin) -> None:
        log = standin.request_log
        writes = [r for r in log if r.method in ("POST", "PATCH", "DELETE") and r.path != "$batch"]
        write_ids = {id(r) for r in writes}
        carriers = {id(r) for r in writes if not r.in_batch}
        # A $batch is logged before its parts (under the stand-in's lock): each part belongs to the last
        # $batch before it.
        batch: object | None = None
        for entry in log:
            if entry.path == "$batch":
                batch = entry
            elif entry.in_batch and id(entry) in write_ids and batch is not None:
                carriers.add(id(batch))
        self.write_requests = len(carriers)
        self.writes = len(writes)
        self.failed_calls = sum(r.status >= 400 for r in log)
        # The steps, in order: deletes and moves, creates, tags (categories and marks only); the
        # mailbox's master category list (its colour) is a write of its own.
        steps = [0, 0, 0, 0]
        for request in writes:
            tags = request.method == "PATCH" and set(request.body or {}) <= QUIET_FIELDS
            category = "masterCategories" in request.path
            steps[3 if category else 2 if tags else 1 if request.method == "POST" else 0] += 1
        self.steps = steps

    def move_interview(self, standin: GraphStandin) -> None:
        """Moves the first seeded interview (certainly ahead) by a day, as another client would."""
        interview = self.events[0]
        assert interview.interview
        stored = next(e for e in standin.events("primary") if e["iCalUId"] == interview.uid)

        def later(value: dict[str, str]) -> dict[str, str]:
            moment = datetime.fromisoformat(value["dateTime"][:19]) + timedelta(days=1)
            return {"dateTime": moment.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": value["timeZone"]}

        standin.modify_event(
            "primary", stored["id"], {"start": later(stored["start"]), "end": later(stored["end"])}
        )

    def first_sync(self, key: str, label: str, latency: float = 0.0) -> None:
        standin, proxy = self.scenario(latency)
        try:
            self.measures[key], _ = self.sync(label, proxy, self.config(key, proxy))
        finally:
            proxy.close()
            standin.stop()

    def ask_seed(self, path: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
        """One GET answered by the seeded stand-in directly (not counted)."""
        lowered = {
            "authorization": AUTH["Authorization"],
            **{k.lower(): v for k, v in (headers or {}).items()},
        }
        status, _, page = self.seed.handle("GET", "/v1.0/" + path, lowered, b"")
        assert status == 200, page
        return dict(page)

    def relative(self, link: str) -> str:
        assert link.startswith(self.seed.api_endpoint), link
        return link.removeprefix(self.seed.api_endpoint)

    def window_pages(self) -> list[dict[str, Any]]:
        """The calendarView of the window, in the pages the backend asks for."""
        query = {
            "startDateTime": (self.now - timedelta(days=WINDOW_PAST_DAYS)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "endDateTime": (self.now + timedelta(days=WINDOW_FUTURE_DAYS)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "$select": SELECT,
            "$expand": expand_marks(),
            "$top": str(PAGE_SIZE),
        }
        prefer = {"Prefer": PREFER_READ}
        paths = [f"{CALENDAR_PATH}/calendarView?{urlencode(query)}"]
        while True:
            link = self.ask_seed(paths[-1], prefer).get("@odata.nextLink")
            if not link:
                return [raw_request("GET", path, headers=prefer) for path in paths]
            paths.append(self.relative(link))

    def delta_check(self) -> dict[str, Any]:
        """The delta request a no-op sends: the current delta link of the calendar view."""
        query = {
            "startDateTime": (self.now - timedelta(days=400)).strftime("%Y-%m-%dT00:00:00Z"),
            "endDateTime": (self.now + timedelta(days=3700)).strftime("%Y-%m-%dT00:00:00Z"),
        }
        prefer = {"Prefer": "odata.maxpagesize=500"}
        path = f"{CALENDAR_PATH}/calendarView/delta?{urlencode(query)}"
        while True:
            page = self.ask_seed(path, prefer)
            if "@odata.deltaLink" in page:
                return raw_request("GET", self.relative(page["@odata.deltaLink"]), headers=prefer)
            path = self.relative(page["@odata.nextLink"])

    def floors(self, first_writes: list[RecordedWrite]) -> None:
        def floor(label: str, requests: list[dict[str, Any]], latency: float = 0.0) -> Measure:
            return standin_floor(self, label, requests, latency)

        pages = self.window_pages()
        check = self.delta_check()
        self.measures["floor_sync"] = median_run(
            [floor("floor: delta check (deltatoken)", [check]) for _ in range(TRIES)]
        )
        self.measures["floor_noop"] = median_run(
            [floor("floor: window listing", pages) for _ in range(TRIES)]
        )
        writes = batched(write_parts(first_writes))
        self.measures["floor_first"] = floor("floor: listing + writes in $batch of 20", [*pages, *writes])
        if self.latency:
            self.measures["floor_first_latency"] = floor(
                f"floor: listing + $batch writes, {self.latency:g} ms latency",
                [*pages, *writes],
                self.latency,
            )


def microsoft_targets(
    results: list[SizeResult], benches: list[MicrosoftBench], help_seconds: float
) -> list[str]:
    """Issue 12's targets that apply to Microsoft, each at every size measured."""
    rows: list[tuple[bool | None, str]] = []
    for result, bench in zip(results, benches, strict=True):
        m, n = result.measures, result.size
        rows += standin_size_rows(result, bench, BATCH_LIMIT)
        if "first_latency" in m:
            got = m["first_latency"].seconds / m["floor_first_latency"].seconds
            rows.append(
                (
                    got <= 1.5,
                    f"{n}: first sync within 1.5x of its floor, {bench.latency:g} ms (got {got:.2f}x)",
                )
            )
    rows += noop_path_rows(results)
    rows.append((help_seconds < 0.3, f"followup-cal --help under 0.3 s (got {help_seconds:.3f} s)"))
    large = results[-1].measures
    peak = max(measure.peak_mb for key, measure in large.items() if not key.startswith("floor"))
    rows.append((peak < 150, f"peak memory of a sync at {results[-1].size} under 150 MB (got {peak:.1f} MB)"))
    return [f"{verdict(ok)}  {text}" for ok, text in rows]
