"""The sync benchmark on Google (issue 12): the same calendars as on Radicale, in the Google stand-in
(tests/google_standin.py, in this process), the real CLI in fresh processes through the counting proxy.

Runs per size: the first sync (writes in batch requests), a no-op sync twice (#1 right after the writing
sync, #2 the steady state), a sync after one interview was moved, and the first sync with ``batch = false``
(one request per write, as before batching). With ``--latency MS`` the two first syncs run again through
a proxy that holds every request MS milliseconds, beside a floor sent through the same proxy.

Floors, sent raw by a fresh interpreter over one kept-alive connection, plus interpreter start: the change
query with the current syncToken (what a no-op must send); the window listing in pages of 2,500 (the
most Google gives); that listing plus the first sync's writes as the batch requests it sent (at most 50
calls each).
"""

from __future__ import annotations

import argparse
import base64
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench_report import (
    Measure,
    SizeResult,
    median_run,
    probed_sync,
    standin_floor,
    standin_size_rows,
    verdict,
)
from counting_proxy import CountingProxy, RecordedWrite
from seed_calendar import ME, WINDOW_FUTURE_DAYS, WINDOW_PAST_DAYS, SeededEvent, generate

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from followup_cal.backends.google_auth import save_credentials
from google_helpers import credentials_for
from google_standin import ACCESS_TOKEN, GoogleStandin

CALENDAR_ID = "primary"
EVENTS_PATH = f"/calendar/v3/calendars/{CALENDAR_ID}/events"
AUTH = {"Authorization": f"Bearer {ACCESS_TOKEN}"}
BATCH_LIMIT = 50
TRIES = 3
_ICAL_TIME = "%Y%m%dT%H%M%SZ"


def google_body(event: SeededEvent, text: str) -> dict[str, Any]:
    """A seeded event (its iCalendar text) as the Calendar API resource another client would have stored."""
    fields: dict[str, str] = {}
    attendees: list[dict[str, Any]] = []
    for line in text.split("\r\n"):
        name, _, value = line.partition(":")
        key, *params = name.split(";")
        if key == "ATTENDEE":
            email = value.removeprefix("mailto:")
            names = [p.split("=", 1)[1] for p in params if p.startswith("CN=")]
            answer = "accepted" if "PARTSTAT=ACCEPTED" in params else "needsAction"
            attendees.append(
                {"email": email, "displayName": names[0] if names else "", "responseStatus": answer}
                | ({"self": True} if email == ME else {})
            )
        elif key == "ORGANIZER":
            names = [p.split("=", 1)[1] for p in params if p.startswith("CN=")]
            fields["organizer"] = value.removeprefix("mailto:")
            fields["organizer_name"] = names[0] if names else ""
        elif key:
            fields.setdefault(key, value)

    def moment(value: str) -> dict[str, str]:
        return {"dateTime": datetime.strptime(value, _ICAL_TIME).strftime("%Y-%m-%dT%H:%M:%SZ")}

    body: dict[str, Any] = {
        "id": "bench" + event.uid.split("@")[0].removeprefix("bench-"),
        "iCalUID": event.uid,
        "summary": fields.get("SUMMARY", ""),
        "start": moment(fields["DTSTART"]),
        "end": moment(fields["DTEND"]),
    }
    for key, name in (("DESCRIPTION", "description"), ("LOCATION", "location")):
        if key in fields:
            body[name] = fields[key]
    if "RRULE" in fields:
        body["recurrence"] = [f"RRULE:{fields['RRULE']}"]
    if "organizer" in fields:
        body["organizer"] = {"email": fields["organizer"], "displayName": fields["organizer_name"]}
    if attendees:
        body["attendees"] = attendees
    return body


def write_config(folder: Path, standin: GoogleStandin, proxy: CountingProxy, batch: bool) -> Path:
    token = folder / "google-token.json"
    credentials = credentials_for(standin, ACCESS_TOKEN)
    credentials.expiry = datetime(2999, 1, 1)
    save_credentials(credentials, token)
    config = folder / "config.toml"
    config.write_text(
        'timezone = "Europe/Berlin"\nme = ["me@example.com"]\n'
        f"[rules]\nwindow_past_days = {WINDOW_PAST_DAYS}\nwindow_future_days = {WINDOW_FUTURE_DAYS}\n"
        f'[calendars.gmail]\ntype = "google"\ncalendar_id = "{CALENDAR_ID}"\ntoken_file = "{token}"\n'
        f'api_endpoint = "{proxy.url("calendar/v3/")}"\nbatch = {str(batch).lower()}\n'
    )
    return config


def get(path: str, query: dict[str, Any]) -> dict[str, Any]:
    return {"method": "GET", "path": f"{path}?{urlencode(query)}", "headers": AUTH, "body": ""}


def replayed(writes: list[RecordedWrite]) -> list[dict[str, Any]]:
    return [
        {
            "method": w.method,
            "path": w.path,
            "headers": {**w.headers, **AUTH},
            "body": base64.b64encode(w.body).decode(),
        }
        for w in writes
    ]


class GoogleBench:
    """The runs at one calendar size, each scenario on a fresh copy of the seeded stand-in."""

    def __init__(self, size: int, now: datetime, tmp: Path, args: argparse.Namespace, interpreter: float):
        self.size, self.now, self.tmp, self.interpreter = size, now, tmp, interpreter
        self.latency: float = args.latency
        self.measures: dict[str, Measure] = {}
        self.seed = GoogleStandin(timezone="Europe/Berlin")
        self.events: list[SeededEvent] = []
        self.write_requests = 0  # the first sync's: batch requests plus single writes
        self.writes = 0  # calls written by the first sync
        self.failed_calls = 0  # answered 4xx/5xx in the first sync (retried or re-planned)
        self.steps = [0, 0, 0]  # the first sync's writes per step: deletes and moves, creates, tags

    def log(self, text: str) -> None:
        print(f"[google, {self.size} events] {text} ...", file=sys.stderr, flush=True)

    def run(self) -> SizeResult:
        from bench_sync import run_child

        self.run_child = run_child
        self.log("seeding")
        seeded = generate(self.size, self.now)
        self.events = [event for event, _ in seeded]
        self.seed.seed(CALENDAR_ID, [google_body(event, text) for event, text in seeded])
        self.log("syncing")
        first_writes = self.main_runs()
        self.log("one request per write (batch = false)")
        self.first_sync("sequential", "first sync, batch = false", batch=False)
        if self.latency:
            self.log(f"first syncs with {self.latency:g} ms latency")
            ms = f"{self.latency:g} ms latency"
            self.first_sync("first_latency", f"first sync, {ms}", batch=True, latency=self.latency)
            self.first_sync("sequential_latency", f"first sync, batch = false, {ms}", False, self.latency)
        self.log("floor")
        self.floors(first_writes)
        links = {"first": "floor_first", "sequential": "floor_first", "noop1": "floor_sync"}
        links |= {"noop2": "floor_sync", "moved": "floor_noop"}
        if self.latency:
            links |= {"first_latency": "floor_first_latency", "sequential_latency": "floor_first_latency"}
        for key, floor in links.items():
            self.measures[key].floor = floor
        interviews = sum(e.interview for e in self.events)
        return SizeResult(self.size, interviews, 1, self.measures)

    def scenario(self, latency: float = 0.0) -> tuple[GoogleStandin, CountingProxy]:
        standin = self.seed.copy_of().start()
        return standin, CountingProxy(int(standin.url.rsplit(":", 1)[1].strip("/")), latency)

    def sync(self, label: str, proxy: CountingProxy, config: Path) -> tuple[Measure, list[RecordedWrite]]:
        from bench_sync import CHILD_ENV

        env = {**CHILD_ENV, "XDG_CACHE_HOME": str(config.parent / "cache")}
        return probed_sync(self.run_child, label, proxy, config, env)

    def folder(self, name: str) -> Path:
        folder = self.tmp / f"google-{name}-{self.size}"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def main_runs(self) -> list[RecordedWrite]:
        standin, proxy = self.scenario()
        try:
            config = write_config(self.folder("main"), standin, proxy, batch=True)
            self.measures["first"], first_writes = self.sync("first sync", proxy, config)
            self.count_writes(standin)
            self.measures["noop1"], _ = self.sync("no-op sync #1 (right after it)", proxy, config)
            steady = [self.sync("no-op sync #2", proxy, config)[0] for _ in range(TRIES)]
            self.measures["noop2"] = median_run(steady)
            self.move_interview(standin)
            self.measures["moved"], _ = self.sync("one interview moved", proxy, config)
        finally:
            proxy.close()
            standin.stop()
        return first_writes

    def count_writes(self, standin: GoogleStandin) -> None:
        log = standin.request_log
        writes = [r for r in log if r.method in ("POST", "PATCH", "PUT", "DELETE")]
        singles = [r for r in writes if not r.in_batch]
        self.write_requests = len(standin.batch_sizes) + len(singles)
        self.writes = len(writes)
        self.failed_calls = sum(r.status >= 400 for r in log)
        # The steps, in order: deletes and moves, creates, tags (a tag patches extendedProperties only).
        steps = [0, 0, 0]
        for request in writes:
            tags = request.method == "PATCH" and set(request.body or {}) == {"extendedProperties"}
            step = 2 if tags else 0 if request.method in ("DELETE", "PUT", "PATCH") else 1
            steps[step] += 1
        self.steps = steps

    def move_interview(self, standin: GoogleStandin) -> None:
        """Moves the first seeded interview (certainly ahead) by a day, as another client would."""
        interview = self.events[0]
        assert interview.interview
        event_id = "bench" + interview.uid.split("@")[0].removeprefix("bench-")
        stored = next(e for e in standin.events(CALENDAR_ID) if e["id"] == event_id)

        def later(value: dict[str, str]) -> dict[str, str]:
            moment = datetime.fromisoformat(value["dateTime"].replace("Z", "+00:00")) + timedelta(days=1)
            return {"dateTime": moment.isoformat()}

        standin.modify_event(
            CALENDAR_ID, event_id, {"start": later(stored["start"]), "end": later(stored["end"])}
        )

    def first_sync(self, key: str, label: str, batch: bool, latency: float = 0.0) -> None:
        standin, proxy = self.scenario(latency)
        try:
            config = write_config(self.folder(key), standin, proxy, batch=batch)
            self.measures[key], _ = self.sync(label, proxy, config)
        finally:
            proxy.close()
            standin.stop()

    def window_pages(self, standin: GoogleStandin) -> list[dict[str, Any]]:
        """The window listing in pages of 2,500 (the page tokens asked of the stand-in directly)."""
        query = {
            "timeMin": (self.now - timedelta(days=WINDOW_PAST_DAYS)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "timeMax": (self.now + timedelta(days=WINDOW_FUTURE_DAYS)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "singleEvents": "true",
            "showDeleted": "true",
            "maxResults": 2500,
        }
        pages = [get(EVENTS_PATH, query)]
        while True:
            status, page = standin.handle(
                "GET", pages[-1]["path"], {"authorization": AUTH["Authorization"]}, b""
            )
            assert status == 200, page
            if "nextPageToken" not in page:
                return pages
            pages.append(get(EVENTS_PATH, {**query, "pageToken": page["nextPageToken"]}))

    def sync_token(self, standin: GoogleStandin) -> str:
        query: dict[str, Any] = {"maxResults": 2500, "fields": "nextPageToken,nextSyncToken"}
        while True:
            path = f"{EVENTS_PATH}?{urlencode(query)}"
            status, page = standin.handle("GET", path, {"authorization": AUTH["Authorization"]}, b"")
            assert status == 200, page
            if "nextSyncToken" in page:
                return str(page["nextSyncToken"])
            query["pageToken"] = page["nextPageToken"]

    def floors(self, first_writes: list[RecordedWrite]) -> None:
        def floor(label: str, requests: list[dict[str, Any]], latency: float = 0.0) -> Measure:
            return standin_floor(self, label, requests, latency)

        pages = self.window_pages(self.seed)
        token = self.sync_token(self.seed)
        check = get(
            EVENTS_PATH,
            {
                "syncToken": token,
                "maxResults": 2500,
                "fields": "items(id,etag,status),nextPageToken,nextSyncToken",
            },
        )
        self.measures["floor_sync"] = median_run(
            [floor("floor: change query (syncToken)", [check]) for _ in range(TRIES)]
        )
        self.measures["floor_noop"] = median_run(
            [floor("floor: window listing", pages) for _ in range(TRIES)]
        )
        writes = replayed(first_writes)
        self.measures["floor_first"] = floor("floor: listing + first sync's batches", [*pages, *writes])
        if self.latency:
            self.measures["floor_first_latency"] = floor(
                f"floor: listing + batches, {self.latency:g} ms latency", [*pages, *writes], self.latency
            )


def google_targets(results: list[SizeResult], benches: list[GoogleBench], help_seconds: float) -> list[str]:
    """Issue 12's targets on Google, each at every size measured."""
    rows: list[tuple[bool | None, str]] = []
    for result, bench in zip(results, benches, strict=True):
        m, n = result.measures, result.size
        rows += standin_size_rows(result, bench, BATCH_LIMIT)
        if "first_latency" in m:
            ms = f"{bench.latency:g} ms"
            got = m["first_latency"].seconds / m["floor_first_latency"].seconds
            rows.append(
                (got <= 1.5, f"{n}: first sync within 1.5x of its batched floor, {ms} (got {got:.2f}x)")
            )
            got = m["sequential_latency"].seconds / m["first_latency"].seconds
            rows.append(
                (got >= 5, f"{n}: first sync at least 5x faster than batch = false, {ms} (got {got:.2f}x)")
            )
        else:
            rows.append(
                (None, f"{n}: first sync at least 5x faster than batch = false with latency (--latency MS)")
            )
    rows.append((help_seconds < 0.3, f"followup-cal --help under 0.3 s (got {help_seconds:.3f} s)"))
    large = results[-1].measures
    peak = max(measure.peak_mb for key, measure in large.items() if not key.startswith("floor"))
    rows.append((peak < 150, f"peak memory of a sync at {results[-1].size} under 150 MB (got {peak:.1f} MB)"))
    return [f"{verdict(ok)}  {text}" for ok, text in rows]
