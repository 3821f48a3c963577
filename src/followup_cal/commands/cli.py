"""The command line. Thin: it loads the configuration, opens backends, calls ``sync`` and prints.

Only light modules are imported at the top, so ``followup-cal --help`` stays fast under cron.
"""

from __future__ import annotations

import json
import logging
import sys
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from followup_cal import __version__
from followup_cal.commands.context import Context, catch_errors, open_calendars
from followup_cal.errors import EXIT_CALENDAR_FAILED, EXIT_OK, FollowupCalError

if TYPE_CHECKING:
    from followup_cal.core.settings import CalendarSettings, Settings
    from followup_cal.run.sync import RunReport

log = logging.getLogger("followup_cal")


def _configure_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING
    if quiet:
        level = logging.ERROR
    elif verbose >= 2:
        level = logging.DEBUG
    elif verbose == 1:
        level = logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    from followup_cal.config.redact import install as redact_logs

    redact_logs()  # no password or token in any log line, -vv and tracebacks included
    if not verbose:
        # Parsers warn about odd but readable input (vendor TZIDs, ...); cron mail should not carry that.
        warnings.filterwarnings("ignore", module=r"icalendar|recurring_ical_events|x_wr_timezone")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config",
    metavar="PATH",
    help="Config file (default: $FOLLOWUP_CAL_CONFIG or the user config dir).",
)
@click.option("-v", "--verbose", count=True, help="More detail; -v shows tracebacks, -vv debug logs.")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
@click.version_option(__version__, prog_name="followup-cal")
@click.pass_context
def cli(ctx: click.Context, config: str | None, verbose: int, quiet: bool) -> None:
    """Thank-you and check-in reminders for your job interviews, in the calendar you already use.

    \b
    Examples:
      followup-cal demo                 try it on a sample week, no account needed
      followup-cal sync --dry-run       show what a sync would write
      followup-cal sync                 tag interviews and write the reminders
      followup-cal status               where each application stands
      followup-cal status --agenda      the coming follow-ups, day by day

    \b
    Shell completion (bash; zsh and fish alike, see the README):
      eval "$(_FOLLOWUP_CAL_COMPLETE=bash_source followup-cal)"
    """
    _configure_logging(verbose, quiet)
    ctx.obj = Context(config, verbose, quiet)


def _run(
    obj: Context,
    settings: Settings,
    *,
    dry_run: bool,
    clean: bool,
    only: tuple[str, ...],
    force: bool = False,
) -> RunReport:
    from contextlib import nullcontext

    from followup_cal.config.load import config_path
    from followup_cal.run.lock import run_lock

    # Two runs that write at once could both create the same reminder; a dry run only reads.
    with nullcontext() if dry_run else run_lock(config_path(obj.config)):
        return _run_unlocked(obj, settings, dry_run=dry_run, clean=clean, only=only, force=force)


def _run_unlocked(
    obj: Context, settings: Settings, *, dry_run: bool, clean: bool, only: tuple[str, ...], force: bool
) -> RunReport:
    from followup_cal.config.load import config_path
    from followup_cal.run.progress import ProgressBar
    from followup_cal.run.sync import run
    from followup_cal.run.sync_state import SyncCache, cache_file

    usable, backends, failures = open_calendars(settings, only)
    progress = ProgressBar(enabled=False if obj.quiet else None)  # drawn only on a terminal's stderr
    echo = (lambda line: None) if obj.quiet else progress.echo(click.echo)
    cache = None if dry_run or clean else SyncCache(cache_file(config_path(obj.config)))
    result = run(
        usable,
        backends,
        now=datetime.now(UTC),
        dry_run=dry_run,
        clean=clean,
        only=only,
        report=echo,
        force=force,
        cache=cache,
        progress=progress,
    )
    progress.clear()
    if cache is not None:
        cache.save()
    result.failures.update(failures)
    for problem in result.problems:
        if not obj.quiet:
            click.echo(f"{problem.calendar}: skipped {problem.where}: {problem.message}", err=True)
    if result.marks_lost and not obj.quiet:
        from followup_cal.run.sync import marks_lost_line

        click.echo(marks_lost_line(result.marks_lost), err=True)
    for name, message in result.failures.items():
        click.echo(f"followup-cal: calendar '{name}' was not synced: {message}", err=True)
    return result


def _check_names(settings: Settings, names: tuple[str, ...]) -> None:
    from followup_cal.errors import UsageError

    if not settings.calendars:
        raise UsageError(
            f"no calendars configured in {settings.source}: add a [calendars.NAME] table "
            "(see the README's Configuration section)"
        )
    unknown = [name for name in names if name not in settings.calendars]
    if unknown:
        known = ", ".join(sorted(settings.calendars)) or "none"
        raise UsageError(f"no calendar named {unknown[0]!r} in {settings.source} (configured: {known})")


@cli.command()
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option(
    "--calendar", "calendars", multiple=True, metavar="NAME", help="Only this calendar (repeatable)."
)
@click.option(
    "--force", is_flag=True, help="Remove reminders even when a run would remove most of them at once."
)
@click.pass_obj
@catch_errors
def sync(obj: Context, dry_run: bool, calendars: tuple[str, ...], force: bool) -> None:
    """Tag interviews and write their follow-up reminders.

    Prints one line per change and nothing when nothing changed, so it suits cron. On a terminal, a
    long first run shows a progress bar on stderr.

    \b
    Examples:
      followup-cal sync --dry-run       show what would be written
      followup-cal sync --calendar work only the calendar [calendars.work]
      */15 * * * * followup-cal -q sync (a crontab line; see `followup-cal schedule`)
    """
    settings = obj.settings()
    _check_names(settings, calendars)
    result = _run(obj, settings, dry_run=dry_run, clean=False, only=calendars, force=force)
    sys.exit(EXIT_CALENDAR_FAILED if result.failures else EXIT_OK)


@cli.command()
@click.option("--dry-run", is_flag=True, help="Show what would be removed; remove nothing.")
@click.pass_obj
@catch_errors
def clean(obj: Context, dry_run: bool) -> None:
    """Remove the reminders and tags followup-cal wrote (reminders you edited stay).

    \b
    Examples:
      followup-cal clean --dry-run      list what would be removed
      followup-cal clean                remove it
    """
    settings = obj.settings()
    _check_names(settings, ())
    result = _run(obj, settings, dry_run=dry_run, clean=True, only=())
    sys.exit(EXIT_CALENDAR_FAILED if result.failures else EXIT_OK)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (see --schema).")
@click.option("--agenda", is_flag=True, help="Only the coming follow-ups, day by day.")
@click.option("--schema", "show_schema", is_flag=True, help="Print the JSON Schema of --json and exit.")
@click.pass_obj
@catch_errors
def status(obj: Context, as_json: bool, agenda: bool, show_schema: bool) -> None:
    """Where each application stands. Reads the calendars and writes nothing.

    One row per interview: when, the company, why it counts as an interview, the thank-you and the
    check-in with their dates and state (planned, written, done, edited by you, dismissed, superseded,
    ended, skipped, withdrawn), and why the check-in falls when it does. A table in a terminal, plain
    text in a pipe.

    \b
    Examples:
      followup-cal status
      followup-cal status --agenda      what is coming, day by day
      followup-cal status --json | jq '.upcoming[] | [.at, .summary]'
    """
    from followup_cal.commands.status import (
        interview_statuses,
        print_rich,
        render_agenda,
        render_json,
        render_text,
        schema_text,
        supports_rich,
    )
    from followup_cal.run.sync import run

    if show_schema:
        click.echo(schema_text(), nl=False)
        return
    settings = obj.settings()
    _check_names(settings, ())
    usable, backends, failures = open_calendars(settings)
    now = datetime.now(UTC)
    result = run(usable, backends, now=now, dry_run=True)
    result.failures.update(failures)
    rows = interview_statuses(result.analyses, now, settings)
    if as_json:
        click.echo(json.dumps(render_json(rows, now, settings), indent=2))
    elif agenda:
        click.echo(render_agenda(rows, settings, now))
    elif supports_rich(sys.stdout):
        print_rich(rows, settings, now, sys.stdout)
    else:
        click.echo(render_text(rows, settings, now))
    for name, message in result.failures.items():
        click.echo(f"followup-cal: calendar '{name}' could not be read: {message}", err=True)
    sys.exit(EXIT_CALENDAR_FAILED if result.failures else EXIT_OK)


@cli.command()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Save the result as an .ics file.",
)
@click.pass_obj
@catch_errors
def demo(obj: Context, out: Path | None) -> None:
    """Run the whole job on a bundled sample week of interviews (no account needed).

    \b
    Example:
      followup-cal demo --out demo.ics  then import demo.ics into any calendar app
    """
    from followup_cal.commands.demo import run_demo

    run_demo(out, click.echo)


@cli.command()
@click.pass_obj
@catch_errors
def calendars(obj: Context) -> None:
    """List the calendars each CalDAV or Microsoft account can see, to pick `url`, `calendar_id` and
    `reminders_to`.

    \b
    Example: point `url` at the server root (CalDAV) or sign in (Microsoft), then
      followup-cal calendars
    and copy the URL or id of the calendar you want into the config.
    """
    settings = obj.settings()
    accounts = [cal for cal in settings.calendars.values() if cal.type in ("caldav", "microsoft")]
    if not accounts:
        click.echo(
            f"No CalDAV or Microsoft calendars in {settings.source}; only those accounts can be listed."
        )
        return
    failed = False
    listed: set[str] = set()
    for cal in accounts:
        try:
            lines = _caldav_listing(cal) if cal.type == "caldav" else _microsoft_listing(cal)
        except FollowupCalError as error:
            if error.exit_code != EXIT_CALENDAR_FAILED:
                raise
            click.echo(f"followup-cal: calendar '{cal.name}': {error}", err=True)
            failed = True
            continue
        if lines[0] not in listed:  # calendars of one account share its listing
            listed.add(lines[0])
            for line in lines[1:]:
                click.echo(line)
    sys.exit(EXIT_CALENDAR_FAILED if failed else EXIT_OK)


def _caldav_listing(cal: CalendarSettings) -> list[str]:
    """The account's key, then its lines: a heading and one line per calendar."""
    from followup_cal.backends.dav_discovery import list_calendars
    from followup_cal.config.secrets import resolve_password

    options = cal.options
    found = list_calendars(
        options["url"],
        options.get("username"),
        resolve_password(cal),
        options.get("verify", True),
        options.get("ca_bundle"),
    )
    lines = [f"caldav {cal.name}", f"[calendars.{cal.name}] {options['url']}"]
    for info in found:
        traits = ", ".join(
            [
                "events" if info.holds_events else "no events",
                "writable" if info.writable else "read-only",
            ]
        )
        lines.append(f"  {info.display_name or '(no name)'}  {info.url}  ({traits})")
    return lines


def _microsoft_listing(cal: CalendarSettings) -> list[str]:
    from followup_cal.backends.microsoft_auth import load_token_source
    from followup_cal.commands.calendar_access import microsoft_calendars

    options = cal.options
    token_file = Path(options["token_file"])
    source = load_token_source(token_file, options["client_id"], options.get("authority"), cal.name)
    found = microsoft_calendars(source, options.get("api_endpoint"))
    account = source.account_name()
    lines = [f"microsoft {token_file.expanduser()}", f"[calendars.{cal.name}] Microsoft account {account}"]
    for access in found:
        traits = ["default"] if access.primary else []
        traits.append("writable" if access.writable else "read-only")
        lines.append(f"  {access.name}  {access.address}  ({', '.join(traits)})")
    return lines


from followup_cal.commands.doctor import doctor  # noqa: E402  (these commands live in their own modules)
from followup_cal.commands.setup_commands import auth, schedule  # noqa: E402
from followup_cal.commands.setup_wizard import init  # noqa: E402

cli.add_command(init)
cli.add_command(doctor)
cli.add_command(auth)
cli.add_command(schedule)


def main() -> None:
    cli(prog_name="followup-cal")
