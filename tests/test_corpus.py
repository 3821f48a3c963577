"""Real calendar files from other programs in a vdir (../shared/ics-corpus, or in a lone clone the .ics
files icalendar ships with its tests: see the ics_corpus fixture): reading never fails as a whole, what
cannot be read is reported by file name, and tagging any readable event changes nothing but the tag."""

from __future__ import annotations

import shutil
import warnings
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest

from followup_cal.backends.objectstore import split_href
from followup_cal.backends.vdir import VdirBackend
from followup_cal.core.model import PROP_ISSUED, Event, Kind, Listing, MarkUpdate, Moment
from followup_cal.ical import read as ical

TZ = ZoneInfo("Europe/Berlin")
WINDOW = (datetime(1900, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))

# Files with VEVENTs that legitimately have no occurrence and no problem (checked by hand).
NO_OCCURRENCE = {
    "khal-event_dt_rrule_until_before_start.ics",  # RRULE UNTIL before DTSTART: an empty series
}


@pytest.fixture(scope="module")
def corpus_vdir(ics_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    for source in sorted(ics_corpus.rglob("*.ics")):
        name = "-".join(source.relative_to(ics_corpus).parts)
        shutil.copyfile(source, folder / name)
    return folder


@pytest.fixture(scope="module")
def listing(corpus_vdir: Path) -> Listing:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # icalendar warns about guessed vendor TZIDs
        return VdirBackend("corpus", corpus_vdir).list_window(*WINDOW, TZ)


def test_every_corpus_file_is_read_or_reported(corpus_vdir: Path, listing: Listing) -> None:
    names = {path.name for path in corpus_vdir.iterdir()}
    assert len(names) > 150
    read = {split_href(event.href)[0] for event in listing.events}
    reported = {problem.where for problem in listing.problems}
    assert reported <= names and read <= names
    with_events = {name for name in names if b"BEGIN:VEVENT" in (corpus_vdir / name).read_bytes().upper()}
    assert with_events - read - reported == NO_OCCURRENCE & names
    # Files that are broken as a whole are reported, each under its own name (the khal ones are in the
    # shared corpus only; a lone clone reads icalendar's test files).
    broken = {
        "khal-invalid_tzoffset.ics",
        "icalendar-calendars-big_bad_calendar.ics",
        "icalendar-calendars-fuzz_testcase_invalid_month.ics",
        "khal-event_dt_local_missing_tz.ics",
        "khal-without_uid.ics",
    }
    assert len(broken & names) >= 2
    for name in broken & names:
        assert name in reported and name not in read, name
    # Odd but readable ones are read.
    fine = {
        "khal-tz_windows_format.ics",
        "khal-event_dt_recuid_no_master.ics",
        "khal-event_dt_no_end.ics",
        "icalendar-calendars-america_new_york.ics",
        "icalendar-calendars-issue_1231_recurrence.ics",
        "icalendar-events-event_with_unicode_fields.ics",
    }
    assert len(fine & names) >= 2
    for name in fine & names:
        assert name in read, name
    print(f"corpus: {len(names)} files, {len(read)} read, {len(reported)} reported")


def _properties(component: icalendar.Component) -> list[tuple[str, bytes]]:
    items = []
    for name, value in component.property_items(recursive=False, sorted=False):
        if name in ("BEGIN", "END"):
            continue
        items.append((name, value.to_ical() if hasattr(value, "to_ical") else str(value).encode()))
    return sorted(items)


def _without_marks(component: icalendar.Component) -> list[tuple[str, bytes]]:
    """The properties without the tag: its own CATEGORIES line, or its value joined to the event's."""
    issued = component.get(PROP_ISSUED)
    joined = str(getattr(issued, "params", {}).get("X-FOLLOWUP-CAL-TAG", "")) == "JOINED"
    found = []
    for name, value in _properties(component):
        if name == PROP_ISSUED or (name == "CATEGORIES" and value == b"Interview"):
            continue
        if joined and name == "CATEGORIES" and value.endswith(b",Interview"):
            value = value[: -len(b",Interview")]
        found.append((name, value))
    return sorted(found)


def _occurrences(listing: Listing) -> dict[str, dict[str, set[Moment | None]]]:
    found: dict[str, dict[str, set[Moment | None]]] = defaultdict(lambda: defaultdict(set))
    for event in listing.events:
        found[split_href(event.href)[0]][event.uid].add(event.recurrence_id)
    return found


def _first_occurrence(events: list[Event], uid: str) -> Moment | None:
    rids = [event.recurrence_id for event in events if event.uid == uid]
    return rids[len(rids) // 2]


def test_marks_on_every_readable_event_change_nothing_else(corpus_vdir: Path, listing: Listing) -> None:
    checked = 0
    for href, uids in sorted(_occurrences(listing).items()):
        data = (corpus_vdir / href).read_bytes()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            before_events, before_problems = ical.read_events(
                data, calendar="c", href=href, etag=None, tz=TZ, start=WINDOW[0], end=WINDOW[1]
            )
            for uid in sorted(uids):
                rid = _first_occurrence(before_events, uid)
                update = MarkUpdate(rid, frozenset({Kind.THANK_YOU}))
                marked = ical.apply_marks(data, uid, [update])
                before = icalendar.Calendar.from_ical(data, multiple=True)
                after = icalendar.Calendar.from_ical(marked, multiple=True)
                pairs = [
                    pair
                    for cals in zip(before, after, strict=True)
                    for pair in zip(cals[0].walk(), cals[1].walk(), strict=True)
                ]
                for old, new in pairs:
                    assert old.name == new.name
                    assert _without_marks(new) == _properties(old), (href, uid, old.name)
                after_events, after_problems = ical.read_events(
                    marked, calendar="c", href=href, etag=None, tz=TZ, start=WINDOW[0], end=WINDOW[1]
                )
                assert len(after_events) == len(before_events), href
                assert len(after_problems) == len(before_problems), href
                [tagged] = [e for e in after_events if e.uid == uid and e.recurrence_id == rid]
                assert tagged.tagged and tagged.issued == frozenset({Kind.THANK_YOU}), (href, uid)
                assert ical.apply_marks(marked, uid, [MarkUpdate(rid, None)]) == data, (href, uid)
                checked += 1
    assert checked > 75  # 80 in icalendar's test files alone, more with the shared corpus


def _sync_one_file(source: Path, folder: Path) -> tuple[int, int]:
    """Syncs a vdir holding a copy of ``source`` with every titled event in it counted as an interview
    and "now" just before its first event. Returns (interviews tagged, reminders written)."""
    from dataclasses import replace

    from followup_cal.core.settings import CalendarSettings, DetectSettings, Rules, Settings
    from followup_cal.run.sync import run
    from hostile_checks import assert_clean_reminder, measure, tree, without_tag_lines

    cal = folder / "cal"
    cal.mkdir(parents=True)
    shutil.copyfile(source, cal / source.name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = VdirBackend("cal", cal).list_window(*WINDOW, TZ)
    starts = [
        e.start if isinstance(e.start, datetime) else datetime(*e.start.timetuple()[:3], tzinfo=TZ)
        for e in found.events
    ]
    titles = tuple(sorted({e.summary.strip() for e in found.events if e.summary.strip()}))
    if not starts or not titles:
        return 0, 0
    now = min(starts).astimezone(UTC) - timedelta(days=1)
    settings = Settings(
        timezone=TZ,
        me=("me@example.com",),
        rules=replace(Rules(), window_past_days=1, window_future_days=60),
        detect=DetectSettings(extra_keywords=titles),
        calendars={"cal": CalendarSettings("cal", "vdir")},
    )
    before = tree(folder)
    lines: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report, _ = measure(
            lambda: run(settings, {"cal": VdirBackend("cal", cal)}, now=now, report=lines.append)
        )
    assert not report.failures, (source.name, report.failures)
    assert {p.where for p in report.problems} <= {source.name}
    after = tree(folder)
    assert set(before) <= set(after) and all(name.startswith("cal/") for name in after)
    assert without_tag_lines(after[f"cal/{source.name}"]) == before[f"cal/{source.name}"], source.name
    new = {name: data for name, data in after.items() if name not in before}
    for data in new.values():
        [calendar] = icalendar.Calendar.from_ical(data, multiple=True)
        assert_clean_reminder(data, str(calendar.walk("VEVENT")[0]["RELATED-TO"]))
    again: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run(settings, {"cal": VdirBackend("cal", cal)}, now=now, report=again.append)
    assert again == [] and tree(folder) == after, (source.name, again)
    return sum(line.startswith("cal: tagged") for line in lines), len(new)


def test_sync_of_every_corpus_file_with_its_events_as_interviews(
    ics_corpus: Path, corpus_vdir: Path, tmp_path: Path
) -> None:
    """The real sync over each corpus file, its events made interviews (their titles as keywords) so that
    the text of real invitations flows into reminders: no calendar fails, nothing is written outside the
    folder, the file changes only in its tag lines, each reminder parses back clean, a second sync is a
    no-op, and each run stays bounded (hostile_checks.bounded_run)."""
    files = sorted(corpus_vdir.iterdir())
    tagged = written = 0
    for index, source in enumerate(files):
        interviews, reminders = _sync_one_file(source, tmp_path / str(index))
        tagged += interviews
        written += reminders
    assert len(files) > 150 and tagged > 100 and written > 200
    print(f"corpus sync: {len(files)} files, {tagged} interviews tagged, {written} reminders written")
