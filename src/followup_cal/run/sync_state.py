"""A disposable cache that lets a sync with nothing to do stop after one request per calendar.

After a run in which a group of calendars needed no change, the cache remembers each calendar's change
token (a CalDAV sync-token, a Google syncToken, a hash of a local calendar's bytes) and until when that
settled state holds: the next moment at which time alone could change what a sync does (an interview
starting or ending, a reminder falling due, an event entering the window). The next run asks each
backend whether anything changed since its token; when nothing did, the settings are the same and that
moment has not come, the group is left alone. Anything else means a full read, exactly as without the
cache: deleting the file changes no result, only the cost.

A run that wrote settles its group too: it keeps the tokens taken before it read, and *vouches* for its
own writes (each object it wrote, with the etag the write left, or deleted). The next run's change check
then ignores exactly those changes, so it is one request as well; any other change (another etag,
another object) means a full read.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from followup_cal import __version__
from followup_cal.core.settings import Settings

if TYPE_CHECKING:  # the model's classes cost a no-op sync time to build; it rarely needs them
    from followup_cal.core.model import Moment, Problem

log = logging.getLogger(__name__)

FORMAT = 1
LOOKAHEAD = timedelta(days=1)
"""How far past the window's end a sync with the cache reads, to know when the next event enters it."""


@dataclass
class SettledGroup:
    """A group of calendars that needed no change when last synced."""

    fingerprint: str  # of the settings and program version that decided it
    tokens: dict[str, str]  # calendar name -> change token taken before that read
    checked_at: datetime
    stable_until: datetime
    problems: list[Problem] = field(default_factory=list)  # reported again while the state holds
    # calendar name -> what the run wrote after taking its token (href -> etag left, None: deleted)
    vouched: dict[str, dict[str, str | None]] = field(default_factory=dict)

    def holds(self, fingerprint: str, now: datetime) -> bool:
        return self.fingerprint == fingerprint and self.checked_at <= now < self.stable_until


PROGRAM_FILE_PATTERNS = ("*.py", "*.toml")  # the code and the data that decides (the language word lists)


def program_files() -> list[Path]:
    """Every source and data file that decides what a sync writes. A change to any of them (a new reminder
    wording, a word added to a language's list, how a backend reads marks, an installed update that kept
    the version number) must not hide behind a settled state."""
    package = Path(__file__).parent.parent
    return sorted(path for pattern in PROGRAM_FILE_PATTERNS for path in package.rglob(pattern))


def _program_digest() -> str:
    """A digest of the program: its version and each file's name, size and modification time (an edit or
    an installed update changes them; stat costs a fraction of reading every file on each no-op sync,
    and a no-op opens no word list: the benchmark checks that)."""
    digest = hashlib.sha256(__version__.encode())
    for path in program_files():
        try:
            stat = path.stat()
            digest.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
        except OSError:
            digest.update(f"{path.name}\n".encode())
    return digest.hexdigest()


_program_digest_once = functools.cache(_program_digest)  # the files do not change during one run


def group_fingerprint(settings: Settings, calendars: Iterable[str]) -> str:
    """Everything besides the calendars' contents that decides a sync: rules, detection, addresses,
    time zone, the group's calendar tables, and the program (its version and deciding code)."""
    parts = [
        _program_digest_once(),
        repr(settings.rules),
        repr(settings.detect),
        repr(sorted(settings.me)),
        str(settings.timezone),
    ]
    for name in sorted(calendars):
        calendar = settings.calendars[name]
        parts.append(repr((name, calendar.type, calendar.reminders_to, sorted(calendar.options.items()))))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def instant(moment: Moment, tz: ZoneInfo) -> datetime:
    if isinstance(moment, datetime):
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)
    assert isinstance(moment, date)
    return datetime.combine(moment, time(), tzinfo=tz)


def stable_until(
    now: datetime, moments: Iterable[Moment], next_entry: Moment | None, settings: Settings
) -> datetime:
    """The first moment after ``now`` at which time alone could change a sync's outcome.

    ``moments`` are the times the core compares with ``now`` (interview starts and ends, reminder
    starts, planned reminder times); ``next_entry`` is the start of the first event beyond the window's
    end (read up to ``LOOKAHEAD`` further), which enters the window ``window_future_days`` before it
    starts. Without one, nothing enters before the lookahead is used up.
    """
    tz = settings.timezone
    horizon = now + LOOKAHEAD
    if next_entry is not None:
        horizon = min(horizon, instant(next_entry, tz) - timedelta(days=settings.rules.window_future_days))
    for moment in moments:
        at = instant(moment, tz)
        if at > now:
            horizon = min(horizon, at)
    return max(horizon, now)


def cache_file(config_path: Path) -> Path:
    from followup_cal.run.lock import lock_dir

    digest = hashlib.sha256(str(config_path.expanduser().resolve()).encode()).hexdigest()[:16]
    return lock_dir() / f"sync-state-{digest}.json"


class SyncCache:
    """The settled groups of one configuration, in a JSON file in the user's cache dir. Every failure
    to read or write it is only logged: the cache is a speed-up, never needed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._groups: dict[str, SettledGroup] = {}
        self._dirty = False
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if raw.get("format") == FORMAT:
                self._groups = {name: _load_group(value) for name, value in raw["groups"].items()}
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            log.info("ignoring the sync cache %s (%s); reading every calendar in full", path, error)

    def settled(self, target: str) -> SettledGroup | None:
        return self._groups.get(target)

    def remember(self, target: str, state: SettledGroup) -> None:
        self._groups[target] = state
        self._dirty = True

    def forget(self, target: str) -> None:
        if self._groups.pop(target, None) is not None:
            self._dirty = True

    def save(self) -> None:
        if not self._dirty:
            return
        data = {"format": FORMAT, "groups": {name: _dump_group(g) for name, g in self._groups.items()}}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".sync-state.", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump(data, handle)
                os.replace(temp, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
                raise
        except OSError as error:
            log.info("could not save the sync cache %s (%s); the next sync reads in full", self.path, error)
        self._dirty = False


def _dump_group(state: SettledGroup) -> dict[str, Any]:
    return {
        "fingerprint": state.fingerprint,
        "tokens": state.tokens,
        "checked_at": state.checked_at.isoformat(),
        "stable_until": state.stable_until.isoformat(),
        "problems": [[p.calendar, p.where, p.message] for p in state.problems],
        "vouched": state.vouched,
    }


def _load_group(value: dict[str, Any]) -> SettledGroup:
    tokens = value["tokens"]
    if not isinstance(tokens, dict) or not all(isinstance(v, str) for v in tokens.values()):
        raise ValueError("tokens are not strings")
    vouched = value.get("vouched", {})
    if not isinstance(vouched, dict) or not all(
        isinstance(writes, dict) and all(isinstance(e, str | None) for e in writes.values())
        for writes in vouched.values()
    ):
        raise ValueError("vouched writes are not etags")
    problems: list[Problem] = []
    if value["problems"]:
        from followup_cal.core.model import Problem

        problems = [Problem(str(c), str(w), str(m)) for c, w, m in value["problems"]]
    return SettledGroup(
        vouched={str(name): dict(writes) for name, writes in vouched.items()},
        fingerprint=str(value["fingerprint"]),
        tokens=dict(tokens),
        checked_at=datetime.fromisoformat(value["checked_at"]).astimezone(UTC),
        stable_until=datetime.fromisoformat(value["stable_until"]).astimezone(UTC),
        problems=problems,
    )
