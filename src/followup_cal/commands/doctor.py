"""``followup-cal doctor``: checks everything a sync needs, one pass/fail line each, and writes nothing.

The config is valid; the time zone is known; the keyring holds the password (when a calendar uses it);
each calendar is reachable and the login works; each reminders calendar is writable (from the server's
privileges: CalDAV ``current-user-privilege-set``, Google ``accessRole``, Microsoft ``canEdit``); the lock
and cache folder is writable; and, from a read-only run of the analysis that ``status`` shows, whether the
calendars keep followup-cal's marks and the next reminders due.
"""

from __future__ import annotations

import tempfile
import tomllib
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from followup_cal.commands.context import Context, catch_errors, open_calendars
from followup_cal.core.settings import CalendarSettings, Settings
from followup_cal.errors import (
    EXIT_CALENDAR_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    ConfigError,
    FollowupCalError,
    UsageError,
)

NEXT_REMINDERS_SHOWN = 5
CRON_KEYRING_HINT = (
    "cron and systemd timers often run without your desktop keyring unlocked: password_env is the safe "
    "choice there"
)


@dataclass(frozen=True)
class Check:
    ok: bool
    what: str
    detail: str
    hint: str = ""

    def line(self) -> str:
        text = f"{'ok  ' if self.ok else 'FAIL'}  {self.what}: {self.detail}"
        return f"{text} (hint: {self.hint})" if self.hint and not self.ok else text


@dataclass
class Report:
    checks: list[Check]
    config_error: bool = False

    def add(self, check: Check) -> None:
        self.checks.append(check)
        click.echo(check.line())


def _raw_config(path: Path) -> dict[str, Any] | None:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None


def check_config(path: Path, report: Report) -> Settings | None:
    """The config and time zone lines. An unknown time zone alone still lets the other checks run
    (with the system's zone), so the user sees every problem at once."""
    from followup_cal.config.load import load_settings, parse_settings, system_timezone

    fix_hint = (
        "fix it, or write a new one with `followup-cal init --force`"
        if path.exists()
        else "run `followup-cal init` to write one"
    )
    raw = _raw_config(path) or {}
    zone = raw.get("timezone")
    zone_problem = None
    try:
        settings = load_settings(path)
    except ConfigError as error:
        zone_problem = _zone_problem(zone)
        report.config_error = True
        if zone_problem is None:
            report.add(Check(False, "config", str(error), fix_hint))
            return None
        try:
            without_zone = {key: value for key, value in raw.items() if key != "timezone"}
            settings = parse_settings(without_zone, str(path), base_dir=path.parent)
        except ConfigError as other:
            report.add(Check(False, "config", str(other), fix_hint))
            report.add(Check(False, "time zone", zone_problem, "set timezone in the config"))
            return None
    if not settings.calendars:
        report.config_error = True
        report.add(Check(False, "config", f"{path} names no calendars", "run `followup-cal init`"))
        return None
    names = ", ".join(settings.calendars)
    valid = "is valid apart from the time zone" if zone_problem else "is valid"
    report.add(Check(True, "config", f"{path} {valid} ({len(settings.calendars)} calendar(s): {names})"))
    if zone_problem:
        hint = f"set timezone in the config; the checks below use the system's zone, {system_timezone().key}"
        report.add(Check(False, "time zone", zone_problem, hint))
    else:
        now = datetime.now(settings.timezone)
        where = "" if zone else " (the system's; set timezone in the config so cron uses the same)"
        report.add(Check(True, "time zone", f"{settings.timezone.key}{where}, now {now:%a %d %b %H:%M}"))
    return settings


def _zone_problem(zone: object) -> str | None:
    """Why ``zone`` (the config's timezone value) is not a known time zone, or None."""
    from followup_cal.commands.setup_answers import check_timezone

    if not isinstance(zone, str):
        return None
    try:
        check_timezone(zone)
    except UsageError as error:
        return str(error)
    return None


def check_calendars(settings: Settings, report: Report) -> set[str]:
    """Keyring, reachability and login, then the reminders calendars' write access. Returns the names of
    the calendars that passed."""
    from followup_cal.commands.calendar_access import CalendarAccess, check_calendar
    from followup_cal.config.secrets import resolve_password

    reached: dict[str, CalendarAccess] = {}
    for name, calendar in settings.calendars.items():
        what = f"calendar '{name}'"
        if calendar.type == "caldav" and calendar.options.get("keyring"):
            user = calendar.options.get("username")
            try:
                resolve_password(calendar)
            except ConfigError as error:
                report.add(Check(False, "keyring", str(error), CRON_KEYRING_HINT))
                report.add(Check(False, what, "not checked: no password", "see the keyring line"))
                continue
            report.add(Check(True, "keyring", f"holds the password of {user!r} ({what})"))
        try:
            access = check_calendar(calendar)
        except FollowupCalError as error:
            report.add(Check(False, what, str(error), _hint(error, calendar.type)))
            continue
        reached[name] = access
        online = calendar.type in ("caldav", "google", "microsoft")
        detail = "reachable, login works" if online else "found"
        report.add(Check(True, what, f"{detail} ({access.name} <{access.address}>){_scope_note(calendar)}"))
    for target in dict.fromkeys(cal.reminders_to or name for name, cal in settings.calendars.items()):
        target_access = reached.get(target)
        if target_access is None:
            continue  # its failure is already shown
        what = f"reminders calendar '{target}'"
        if target_access.writable:
            report.add(Check(True, what, f"writable ({target_access.how})"))
        else:
            hint = 'ask its owner for write access, or send reminders elsewhere with reminders_to = "NAME"'
            report.add(Check(False, what, f"read-only: {target_access.how}", hint))
    return set(reached)


def _hint(error: FollowupCalError, kind: str) -> str:
    from followup_cal.errors import AuthenticationError

    if isinstance(error, AuthenticationError):
        if kind in ("google", "microsoft"):
            return ""  # the message says to sign in again
        return "check the password; iCloud and Fastmail need an app-specific password, not the account's"
    if isinstance(error, ConfigError):
        return "a password from password_env must be set where followup-cal runs (cron too)"
    return ""


def _scope_note(calendar: CalendarSettings) -> str:
    """For a Microsoft calendar whose grant lacks MailboxSettings.ReadWrite: what that costs (little)."""
    if calendar.type != "microsoft":
        return ""
    from followup_cal.backends.microsoft_auth import granted_scopes

    granted = {scope.casefold() for scope in granted_scopes(Path(calendar.options["token_file"]))}
    if not granted or "mailboxsettings.readwrite" in granted:
        return ""
    return "; MailboxSettings.ReadWrite is not granted, so the Interview category stays uncoloured"


def check_folders(report: Report) -> None:
    import platformdirs

    from followup_cal.run.lock import APP_NAME, lock_dir_name

    folders = list(dict.fromkeys([lock_dir_name(), platformdirs.user_cache_dir(APP_NAME, appauthor=False)]))
    for folder in folders:
        what = "lock and cache folder" if len(folders) == 1 else f"folder {folder}"
        try:
            Path(folder).mkdir(parents=True, exist_ok=True, mode=0o700)
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as error:
            hint = "make it writable, or set XDG_CACHE_HOME to a folder you can write"
            report.add(Check(False, what, f"cannot write in {folder} ({error.strerror or error})", hint))
        else:
            report.add(Check(True, what, f"{folder} is writable"))


def check_next_reminders(settings: Settings, usable: set[str], report: Report) -> None:
    """Runs the analysis that ``status`` shows, without writing, and lists the next reminders due."""
    from followup_cal.commands.status import interview_statuses
    from followup_cal.core import text
    from followup_cal.run.sync import run

    calendars = {
        name: cal
        for name, cal in settings.calendars.items()
        if name in usable and (cal.reminders_to is None or cal.reminders_to in usable)
    }
    if not calendars:
        return
    narrowed, backends, failures = open_calendars(replace(settings, calendars=calendars))
    now = datetime.now(UTC)
    try:
        result = run(narrowed, backends, now=now, dry_run=True)
    finally:
        for backend in backends.values():
            close = getattr(backend, "close", None)
            if close is not None:
                close()
    result.failures.update(failures)
    for name, message in result.failures.items():
        report.add(Check(False, f"calendar '{name}'", f"could not be read: {message}"))
    check_marks([a.group.target for a in result.analyses if a.marks_lost], bool(result.analyses), report)
    rows = interview_statuses(result.analyses, now)
    upcoming = sorted(
        (state.at, row, state)
        for row in rows
        for state in row.reminders
        if state.at is not None and state.at > now and state.state in ("written", "planned", "edited")
    )
    tz = settings.timezone
    if not upcoming:
        detail = f"none due ({len(rows)} interview(s) in the window)"
        report.add(Check(True, "next reminders", detail))
        return
    report.add(Check(True, "next reminders", f"{len(upcoming)} due, from {len(rows)} interview(s):"))
    for at, row, state in upcoming[:NEXT_REMINDERS_SHOWN]:
        when = text.when_text(at, tz)
        summary = text.clean(row.event.summary, 50)
        click.echo(f"        {when}  {state.kind:<9}  {state.state:<7}  {summary}  [{row.calendar}]")


def check_marks(losing: list[str], read: bool, report: Report) -> None:
    """Whether the calendars keep followup-cal's marks (an app that re-saves events may drop them)."""
    if not read:
        return
    if not losing:
        report.add(Check(True, "marks", "followup-cal's marks are intact"))
        return
    names = ", ".join(f"'{name}'" for name in losing)
    report.add(
        Check(
            False,
            "marks",
            f"lost in {names}: reminders are still known by their UIDs, but a reminder you delete may come "
            "back and a reminder of a moved interview stays where it was",
            "an app or the server re-saves events without their X-FOLLOWUP-CAL properties; see the README, "
            '"Calendars in the wild"',
        )
    )


def run_doctor(config: str | None) -> int:
    from followup_cal.config.load import config_path

    report = Report([])
    settings = check_config(config_path(config), report)
    if settings is not None:
        usable = check_calendars(settings, report)
        check_folders(report)
        check_next_reminders(settings, usable, report)
    failed = sum(not check.ok for check in report.checks)
    if report.config_error:
        click.echo(f"{failed} check(s) failed: fix the configuration first.")
        return EXIT_USAGE
    if failed:
        click.echo(f"{failed} check(s) failed.")
        return EXIT_CALENDAR_FAILED
    click.echo("All checks passed.")
    return EXIT_OK


@click.command("doctor")
@click.pass_context
def doctor(ctx: click.Context) -> None:
    """Check the config, each calendar's login and write access, the folders, and the next reminders.

    Writes nothing. Exit status 0 when every check passes, 1 when one fails, 2 for a config error.

    \b
    Example:
      followup-cal doctor
      ok    config: /home/alice/.config/followup-cal/config.toml is valid (1 calendar(s): work)
      FAIL  calendar 'work': authentication failed for ... (hint: ...)
    """

    obj = ctx.find_object(Context)
    code = catch_errors(run_doctor)(obj.config if obj else None)
    ctx.exit(code)
