"""What every command shares: the per-invocation ``Context``, the one place where errors become
messages (``catch_errors``), and opening the configured calendars (``open_calendars``).

Kept apart from ``cli`` so that the commands defined in other modules (doctor, init, auth, schedule) can
use these without importing ``cli``, which imports them.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from followup_cal.errors import EXIT_CALENDAR_FAILED, FollowupCalError

if TYPE_CHECKING:
    from followup_cal.backends.base import CalendarBackend
    from followup_cal.core.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("followup_cal")


class Context:
    def __init__(self, config: str | None, verbose: int, quiet: bool) -> None:
        self.config = config
        self.verbose = verbose
        self.quiet = quiet

    def settings(self) -> Settings:
        from followup_cal.config.load import config_path, load_settings
        from followup_cal.config.secrets import config_warning

        path = config_path(self.config)
        settings = load_settings(path)
        if warning := config_warning(path, settings):
            click.echo(f"followup-cal: warning: {warning}", err=True)
        return settings


def catch_errors(function: F) -> F:
    """The one place where errors become messages: one line, no traceback unless -v."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except FollowupCalError as error:
            context = click.get_current_context()
            obj = context.find_object(Context)
            if obj is not None and obj.verbose:
                log.exception("details")
            click.echo(f"followup-cal: {error}", err=True)
            context.exit(error.exit_code)

    return wrapper  # type: ignore[return-value]


def open_calendars(
    settings: Settings, only: tuple[str, ...] = ()
) -> tuple[Settings, dict[str, CalendarBackend], dict[str, str]]:
    """Opens the calendars a run needs: all, or with ``--calendar`` those and their reminders calendars.

    Returns the settings narrowed to the calendars that can run, their backends, and a message for each
    calendar that cannot (it failed to open, or its reminders calendar did): those are reported and the
    others go on.
    """
    from dataclasses import replace

    from followup_cal.backends.registry import open_backend

    needed = set(only or settings.calendars)
    needed |= {
        cal.reminders_to for name, cal in settings.calendars.items() if name in needed and cal.reminders_to
    }
    failures: dict[str, str] = {}
    backends = {}
    for name, calendar in settings.calendars.items():
        if name not in needed:
            continue
        if calendar.type == "caldav" and calendar.options.get("verify") is False:
            click.echo(
                f"followup-cal: warning: TLS certificate checks are off for calendar '{name}' "
                "(verify = false): anyone on the network path can read your calendar and password",
                err=True,
            )
        if calendar.type in ("google", "microsoft"):
            from followup_cal.config.secrets import warn_if_readable_by_others

            warning = warn_if_readable_by_others(Path(calendar.options["token_file"]))
            if warning:
                click.echo(f"followup-cal: warning: {warning}", err=True)
        try:
            backends[name] = open_backend(calendar)
        except FollowupCalError as error:
            if error.exit_code != EXIT_CALENDAR_FAILED:
                raise
            failures[name] = str(error)
    runnable = {}
    for name, cal in settings.calendars.items():
        if name not in backends:
            continue
        if cal.reminders_to in failures:
            failures[name] = f"its reminders calendar '{cal.reminders_to}' could not be opened"
        else:
            runnable[name] = cal
    return replace(settings, calendars=runnable), backends, failures
