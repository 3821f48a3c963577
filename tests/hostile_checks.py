"""Checks shared by the hostile-input tests: a run stays bounded, a reminder written from hostile text
parses back with exactly the properties followup-cal writes, and a user's file changed only in its tag."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import icalendar

from followup_cal.core.model import PROP_FINGERPRINT, PROP_ISSUED, PROP_KIND, PROP_SOURCE
from followup_cal.ical import marks as ical_marks

MAX_SECONDS = 10.0  # CPU seconds of this process: other work on a shared machine does not count
MAX_WALL_SECONDS = 60.0  # elapsed, for a machine under load
MAX_MEGABYTES = 300.0

REMINDER_PROPERTIES = {
    "UID",
    "DTSTAMP",
    "DTSTART",
    "DTEND",
    "SUMMARY",
    "DESCRIPTION",
    "TRANSP",
    "CLASS",
    "RELATED-TO",
    PROP_KIND,
    PROP_SOURCE,
    PROP_FINGERPRINT,
}
OPTIONAL_REMINDER_PROPERTIES = {"URL"}
ALARM_PROPERTIES = {"ACTION", "DESCRIPTION", "TRIGGER"}
CALENDAR_PROPERTIES = {"VERSION", "PRODID"}
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

T = TypeVar("T")


@dataclass
class Bounds:
    seconds: float = 0.0  # elapsed (perf_counter)
    cpu_seconds: float = 0.0  # process_time, every thread of this process
    megabytes: float = 0.0  # growth of the resident set while the run lasted


def _rss_bytes() -> int:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    import os

    return pages * os.sysconf("SC_PAGE_SIZE")


@contextmanager
def bounded_run() -> Iterator[Bounds]:
    """Measures elapsed and CPU time (perf_counter, process_time) and the peak growth of the resident
    set (sampled every 5 ms from /proc/self/statm, without tracemalloc's slowdown); asserts the bounds."""
    bounds = Bounds()
    baseline = _rss_bytes()
    peak = [baseline]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.005):
            peak[0] = max(peak[0], _rss_bytes())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        yield bounds
    finally:
        bounds.seconds = time.perf_counter() - started
        bounds.cpu_seconds = time.process_time() - cpu_started
        done.set()
        sampler.join()
        peak[0] = max(peak[0], _rss_bytes())
        bounds.megabytes = (peak[0] - baseline) / 1e6
    assert bounds.cpu_seconds < MAX_SECONDS, f"took {bounds.cpu_seconds:.1f} CPU seconds"
    assert bounds.seconds < MAX_WALL_SECONDS, f"took {bounds.seconds:.1f} s"
    assert bounds.megabytes < MAX_MEGABYTES, f"grew by {bounds.megabytes:.0f} MB"


def measure(function: Callable[[], T]) -> tuple[T, Bounds]:
    with bounded_run() as bounds:
        result = function()
    return result, bounds


def content_line_names(data: bytes) -> list[str]:
    """The name of every logical line, read by octets independently of icalendar."""
    lines = ical_marks.physical_lines(ical_marks.unfold_bytes(data).decode("utf-8", "surrogateescape"))
    return [line.name for line in ical_marks.content_lines(lines)]


def assert_clean_reminder(data: bytes, parent_uid: str) -> icalendar.Event:
    """One VCALENDAR with one VEVENT and one VALARM, holding exactly followup-cal's properties, each once,
    without parameters (but RELATED-TO's RELTYPE), and pointing back at ``parent_uid``."""
    names = content_line_names(data)
    assert names.count("BEGIN") == 3 and names.count("END") == 3, names
    allowed = REMINDER_PROPERTIES | OPTIONAL_REMINDER_PROPERTIES | ALARM_PROPERTIES | CALENDAR_PROPERTIES
    assert set(names) - {"BEGIN", "END"} <= allowed, set(names) - allowed
    [calendar] = icalendar.Calendar.from_ical(data, multiple=True)
    assert [c.name for c in calendar.walk()] == ["VCALENDAR", "VEVENT", "VALARM"]
    assert set(calendar.keys()) == CALENDAR_PROPERTIES
    [event] = calendar.walk("VEVENT")
    [alarm] = event.walk("VALARM")
    assert REMINDER_PROPERTIES <= set(event.keys()) <= REMINDER_PROPERTIES | OPTIONAL_REMINDER_PROPERTIES
    assert set(alarm.keys()) == ALARM_PROPERTIES
    for name, value in [*event.property_items(recursive=False), *alarm.property_items(recursive=False)]:
        if name in ("BEGIN", "END"):
            continue
        assert not isinstance(value, list), f"{name} appears more than once"
        params = dict(getattr(value, "params", {}))
        assert params == ({"RELTYPE": "PARENT"} if name == "RELATED-TO" else {}), (name, params)
    assert str(event["RELATED-TO"]) == parent_uid
    for name in ("SUMMARY", "DESCRIPTION"):
        assert not CONTROL.search(str(event[name])), name
    assert "\n" not in str(event["SUMMARY"]) and "\r" not in str(event["SUMMARY"])
    if "URL" in event:
        url = str(event["URL"])
        assert url.startswith("mailto:") and not re.search(r"[\s<>\"]", url), url
        assert url.count("?") == 1, url  # the address cannot add its own ?bcc= or &body=
    return event


TAG_LINE = re.compile(rb"^(CATEGORIES:Interview\r?\n|" + PROP_ISSUED.encode() + rb"[:;])")


def without_tag_lines(data: bytes) -> bytes:
    """The bytes without the tag's lines (and their folded continuations), and without the tag that
    joined an event's CATEGORIES line (``,Interview`` at its end, or on a continuation line of its own)
    when the ISSUED record says it joined one."""
    joined = b"X-FOLLOWUP-CAL-TAG=JOINED" in data.replace(b"\r\n ", b"").replace(b"\n ", b"")
    logical: list[list[bytes]] = []
    for line in data.splitlines(keepends=True):
        if line[:1] in (b" ", b"\t") and logical:
            logical[-1].append(line)
        else:
            logical.append([line])
    kept: list[bytes] = []
    for physical in logical:
        if TAG_LINE.match(physical[0]):
            continue
        if joined and physical[0].upper().startswith(b"CATEGORIES"):
            body = physical[-1].rstrip(b"\r\n")
            ending = physical[-1][len(body) :]
            if len(physical) > 1 and body == b" ,Interview":
                physical = physical[:-1]
            elif body.endswith(b",Interview") and not body.endswith(b"\\,Interview"):
                physical = [*physical[:-1], body[: -len(b",Interview")] + ending]
        kept.extend(physical)
    return b"".join(kept)


def tree(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` with its bytes (relative names)."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }
