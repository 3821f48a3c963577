"""The program's entry point (``followup-cal`` and ``python -m followup_cal``).

A cron job runs ``followup-cal sync`` every 15 minutes, and almost every time nothing changed. So a plain
``sync`` first tries the *quick no-op*: with nothing but the configuration, the sync cache and the
backends' change checks (no click, no deciding core, no iCalendar parsing), it confirms that every
calendar group is still settled, and then ends, quiet, with exit status 0. Whenever it cannot confirm
that -- no settled state, a calendar changed, a warning to show, any error -- it leaves everything as it
found it (the cache unsaved) and the full command line runs as if it had not been tried; then the change
check is sent once more, the price of a run that has work to do anyway.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

QUICK_COMMAND = "sync"


def main() -> None:
    if _quick_noop(sys.argv[1:]):
        _end_settled_run()
    from followup_cal.commands.cli import main as full_main

    full_main()


def _end_settled_run() -> NoReturn:
    """Ends a quick no-op with status 0, skipping the interpreter's teardown of its ~200 modules (about
    8 ms, a sixth of what the program itself costs on such a run). Nothing waits for that teardown: the
    run printed nothing, its cache is saved and its lock released, and it started no thread."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(0)


def quick_arguments(argv: list[str]) -> str | bool | None:
    """The ``--config`` value of a command line that is a plain sync (``[--config PATH] [-q] sync``),
    None when it names no config; False for any other command line (``-v`` included: it asks for logs)."""
    config: str | None = None
    rest = list(argv)
    while rest and rest[0] != QUICK_COMMAND:
        option = rest.pop(0)
        if option in ("-q", "--quiet"):
            continue
        if option == "--config" and rest:
            config = rest.pop(0)
        elif option.startswith("--config="):
            config = option.partition("=")[2]
        else:
            return False
    return config if rest == [QUICK_COMMAND] else False


class _Heard(logging.Handler):
    """Notes that something was logged at WARNING or above: then the full command line must run and say
    it, with its log redaction."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.heard = False

    def emit(self, record: logging.LogRecord) -> None:
        self.heard = True


def _quick_noop(argv: list[str]) -> bool:
    """True when the command line is a plain sync and every calendar group was confirmed settled."""
    config = quick_arguments(argv)
    if config is False:
        return False
    logger = logging.getLogger("followup_cal")
    heard = _Heard()
    logger.addHandler(heard)
    propagate, logger.propagate = logger.propagate, False
    try:
        quiet = any(option in ("-q", "--quiet") for option in argv)
        return _all_settled(config if isinstance(config, str) else None, quiet) and not heard.heard
    except Exception:  # whatever it was, the full command line meets it again and says it
        return False
    finally:
        logger.removeHandler(heard)
        logger.propagate = propagate


def _all_settled(config: str | None, quiet: bool) -> bool:
    """Every group settled, and nothing to say: a settled group's lasting problems (an unreadable
    event) are said again by the full command line, unless it runs with ``-q`` (as cron's does)."""
    from followup_cal.backends.base import CalendarBackend
    from followup_cal.backends.registry import open_backend
    from followup_cal.config.load import config_path, load_settings
    from followup_cal.config.secrets import config_warning, warn_if_readable_by_others
    from followup_cal.run.lock import run_lock
    from followup_cal.run.sync import calendar_groups, check_settled, settled_may_hold
    from followup_cal.run.sync_state import SyncCache, cache_file

    path = config_path(config)
    settings = load_settings(path)
    if not settings.calendars or config_warning(path, settings):
        return False
    for calendar in settings.calendars.values():
        if calendar.options.get("verify") is False:
            return False  # the full command line warns that TLS checks are off
        if calendar.type in ("google", "microsoft") and warn_if_readable_by_others(
            Path(calendar.options["token_file"])
        ):
            return False
    cache = SyncCache(cache_file(path))
    now = datetime.now(UTC)
    groups = calendar_groups(settings)
    if not all(settled_may_hold(group, settings, now, cache) for group in groups):
        return False  # no request sent: the full run reads anyway
    with run_lock(path):
        backends: dict[str, CalendarBackend] = {
            name: open_backend(calendar) for name, calendar in settings.calendars.items()
        }
        for group in groups:
            settled, _tokens = check_settled(group, backends, settings, now, cache)
            if settled is None or (settled.problems and not quiet):
                return False
        cache.save()
    return True
