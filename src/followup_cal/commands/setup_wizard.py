"""``followup-cal init``: connect a calendar, test the connection, pick the calendars, write the config.

Without ``--type`` it asks its questions (click prompts); with ``--type`` every answer comes from flags and
nothing is asked, except the hidden password prompt of ``--keyring`` without ``--password-stdin``. The
password never goes into the file: it stays in an environment variable the config names, or is stored in
the system keyring under the service ``followup-cal`` and the username (as ``secrets`` reads it).
The parts that need no terminal and no server are in ``setup_answers``.
"""

from __future__ import annotations

import os
import re
import sys
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from followup_cal.commands.context import Context, catch_errors
from followup_cal.commands.setup_answers import (
    PROVIDERS,
    check_addresses,
    check_holidays,
    check_timezone,
    check_working_hours,
    find_calendar,
    keyring_problem,
    propose_holidays,
    provider_url,
    render_config,
    store_password,
    table_name,
    write_config,
)
from followup_cal.errors import UsageError

if TYPE_CHECKING:
    from followup_cal.commands.calendar_access import CalendarAccess

TYPES = {
    "caldav": "CalDAV (iCloud, Fastmail, Nextcloud, Radicale, Baikal, ...)",
    "google": "Google Calendar",
    "microsoft": "Outlook.com or Microsoft 365",
    "vdir": "a folder of .ics files (khal, vdirsyncer)",
    "ics": "one .ics file",
}
DEFAULT_WORKING_HOURS = "09:00-18:00"
DEFAULT_PASSWORD_ENV = "DAV_PASSWORD"
GOOGLE_CONSOLE_HINT = (
    "create an OAuth client of type 'Desktop app' in Google Cloud Console (APIs & Services > Credentials) "
    "and download its JSON file"
)


# ---- the questions


@dataclass
class InitOptions:
    kind: str | None = None
    provider: str | None = None
    url: str | None = None
    username: str | None = None
    password_env: str | None = None
    use_keyring: bool = False
    password_stdin: bool = False
    calendar: str | None = None
    reminders_to: str | None = None
    timezone: str | None = None
    working_hours: str | None = None
    holidays: str | None = None
    me: tuple[str, ...] = ()
    client_secrets: Path | None = None
    no_browser: bool = False
    client_id: str | None = None
    tenant: str | None = None
    device_code: bool = False
    sign_in: bool = False
    authority: str | None = None
    calendar_id: str | None = None
    token_file: Path | None = None
    api_endpoint: str | None = None
    path: Path | None = None
    force: bool = False


@dataclass
class Setup:
    calendars: dict[str, dict[str, Any]] = field(default_factory=dict)
    keyring_entry: tuple[str, str] | None = None  # (username, password) to store once all is well
    username: str | None = None


def _prompt_proc(check: Callable[[str], Any]) -> Callable[[str], Any]:
    """A click prompt ``value_proc``: our UsageError becomes click's, so click asks again."""

    def proc(value: str) -> Any:
        try:
            return check(value)
        except UsageError as error:
            raise click.UsageError(str(error)) from None

    return proc


class Wizard:
    def __init__(self, options: InitOptions) -> None:
        self.o = options
        self.interactive = options.kind is None

    def ask(self, given: str | None, flag: str, question: str, default: str | None = None) -> str:
        if given:
            return given
        if not self.interactive:
            if default is not None:
                return default
            raise UsageError(f"missing {flag}: {question[0].lower()}{question[1:]}")
        return str(click.prompt(question, default=default)).strip()

    def choose(self, question: str, labels: Sequence[str], default: int = 0) -> int:
        for number, label in enumerate(labels, 1):
            click.echo(f"  {number}. {label}")
        answer: int = click.prompt(question, type=click.IntRange(1, len(labels)), default=default + 1)
        return answer - 1

    def pick(
        self,
        role: str,
        found: Sequence[CalendarAccess],
        wanted: str | None,
        flag: str,
        default: CalendarAccess | None,
    ) -> CalendarAccess:
        listing = "; ".join(f"{c.name} <{c.address}>" for c in found)
        if wanted:
            hit = find_calendar(found, wanted)
            if hit is None:
                raise UsageError(f"{flag} {wanted!r}: the account has no such calendar; it has: {listing}")
            return hit
        if len(found) == 1:
            return found[0]
        if not self.interactive:
            if default is not None:
                return default
            raise UsageError(
                f"the account has several calendars: pass {flag} to say which one{role}, one of: {listing}"
            )
        click.echo(f"Which calendar{role}?")
        index = self.choose(
            "Number", [f"{c.name}  <{c.address}>" for c in found], found.index(default or found[0])
        )
        return found[index]

    def password_source(self, username: str | None, password_hint: str) -> tuple[str, str | None]:
        """("env", NAME), ("keyring", None) or ("none", None)."""
        o = self.o
        if o.password_env and o.use_keyring:
            raise UsageError("pass either --password-env or --keyring, not both")
        if o.password_env:
            return "env", o.password_env
        if o.use_keyring:
            return "keyring", None
        if not self.interactive or not username:
            return "none", None
        click.echo(f"Where should followup-cal get the password ({password_hint}) from?")
        choices = [
            "the system keyring (stored there now; good on a desktop)",
            "an environment variable (best for cron and servers)",
            "nowhere: the server needs no password",
        ]
        index = self.choose("Number", choices, 0 if keyring_problem() is None else 1)
        if index == 1:
            name = click.prompt("Name of the environment variable", default=DEFAULT_PASSWORD_ENV)
            return "env", str(name).strip()
        return ("keyring", None) if index == 0 else ("none", None)

    def password(self, source: str, env_name: str | None) -> str | None:
        if source == "env" and env_name:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", env_name):
                raise UsageError(
                    "--password-env takes the NAME of an environment variable (e.g. DAV_PASSWORD), "
                    "not the password itself"
                )
            value = os.environ.get(env_name, "")
            if value:
                return value
            if not self.interactive:
                raise UsageError(
                    f"the environment variable {env_name} is not set: set it to the password in this shell "
                    f"(e.g. `read -rs {env_name}; export {env_name}`) and run init again, so that the "
                    "connection can be tested"
                )
            return str(click.prompt(f"{env_name} is not set here; password (to test only)", hide_input=True))
        if source == "keyring":
            problem = keyring_problem()
            if problem:
                raise UsageError(f"{problem}: use --password-env NAME instead; nothing was written")
            if self.o.password_stdin:
                line = sys.stdin.readline().rstrip("\r\n")
                if not line:
                    raise UsageError("--password-stdin: stdin held no password (one line expected)")
                return line
            return str(click.prompt("Password (stored in the system keyring)", hide_input=True))
        return None

    # ---- per type

    def caldav(self) -> Setup:
        from followup_cal.commands.calendar_access import caldav_calendars
        from followup_cal.errors import AuthenticationError

        o = self.o
        provider = o.provider
        if provider is None:
            if self.interactive:
                click.echo("Which CalDAV provider?")
                names = list(PROVIDERS)
                provider = names[self.choose("Number", [PROVIDERS[n].label for n in names], len(names) - 1)]
            else:
                provider = "other"
        preset = PROVIDERS[provider]
        username = self.ask(
            o.username,
            "--username",
            f"User name ({preset.username_hint})",
            "" if provider == "other" else None,
        )
        url = provider_url(provider, username, o.url)
        if url is None:
            question = (
                "Nextcloud address (e.g. https://cloud.example.com)"
                if provider == "nextcloud"
                else ("CalDAV URL (server, account or calendar)")
            )
            url = provider_url(provider, username, self.ask(None, "--url", question))
        assert url is not None
        source, env_name = self.password_source(username or None, preset.password_hint)
        if source == "keyring" and not username:
            raise UsageError("--keyring needs --username: the keyring stores the password under it")
        password = self.password(source, env_name)
        click.echo(f"Connecting to {url} ...")
        try:
            found = caldav_calendars(url, username or None, password)
        except AuthenticationError as error:
            extra = "" if password else " (no password was given: pass --password-env NAME or --keyring)"
            raise AuthenticationError(f"{error}{extra}; nothing was written") from None
        if not found:
            raise UsageError(
                f"no calendar for events at {url}: create one in your calendar app, or check the URL"
            )
        click.echo(f"Found {len(found)} calendar(s): " + ", ".join(c.name for c in found))
        interviews = self.pick(" holds your interviews", found, o.calendar, "--calendar", None)
        reminders = self.reminders_calendar(found, interviews)
        account: dict[str, Any] = {"type": "caldav", "url": None, "username": username or None}
        if source == "env":
            account["password_env"] = env_name
        elif source == "keyring":
            account["keyring"] = True
        setup = Setup(username=username or None)
        if source == "keyring" and password is not None:
            setup.keyring_entry = (username, password)
        self.add_tables(setup, interviews, reminders, lambda c: {**account, "url": c.address})
        return setup

    def reminders_calendar(
        self, found: Sequence[CalendarAccess], interviews: CalendarAccess
    ) -> CalendarAccess:
        writable = [c for c in found if c.writable]
        if not writable:
            raise UsageError(
                "none of these calendars is writable for this account, and the reminders need one: "
                "create a calendar of your own or ask for write access"
            )
        default = interviews if interviews.writable else None
        if self.o.reminders_to is None and not self.interactive and default is None:
            raise UsageError(
                f"{interviews.name} is read-only for this account: pass --reminders-to with a writable "
                "calendar: " + ", ".join(c.name for c in writable)
            )
        chosen = self.pick(" gets the reminders", writable, self.o.reminders_to, "--reminders-to", default)
        return chosen

    def add_tables(
        self,
        setup: Setup,
        interviews: CalendarAccess,
        reminders: CalendarAccess,
        table: Callable[[CalendarAccess], dict[str, Any]],
        primary_name: str = "google",
    ) -> None:
        name = table_name(primary_name if interviews.primary else interviews.name)
        setup.calendars[name] = table(interviews)
        if reminders.address != interviews.address:
            target = table_name(primary_name if reminders.primary else reminders.name, [name])
            setup.calendars[name]["reminders_to"] = target
            setup.calendars[target] = table(reminders)
        click.echo(f"Interviews are read from: {interviews.name}; reminders go to: {reminders.name}")

    def google(self) -> Setup:
        from followup_cal.backends.google_auth import load_credentials, run_oauth_flow
        from followup_cal.commands.calendar_access import google_calendars
        from followup_cal.config.load import default_token_file

        o = self.o
        token_file = (o.token_file or default_token_file()).expanduser().absolute()
        client_secrets = o.client_secrets
        if client_secrets is None and not token_file.exists():
            if not self.interactive:
                raise UsageError(
                    f"no Google token at {token_file}: pass --client-secrets FILE ({GOOGLE_CONSOLE_HINT}), "
                    "or --token-file with a token saved by `followup-cal auth google`"
                )
            click.echo(f"followup-cal needs your own OAuth client: {GOOGLE_CONSOLE_HINT}.")
            client_secrets = Path(click.prompt("Path of the downloaded client file")).expanduser()
        if client_secrets is not None:
            run_oauth_flow(client_secrets, token_file, open_browser=not o.no_browser)
        credentials = load_credentials(token_file)
        found = google_calendars(credentials, o.api_endpoint)
        if not found:
            raise UsageError("this Google account lists no calendars: open Google Calendar once, then retry")
        click.echo(f"Found {len(found)} calendar(s): " + ", ".join(c.name for c in found))
        primary = next((c for c in found if c.primary), None)
        interviews = self.pick(
            " holds your interviews", found, o.calendar_id or o.calendar, "--calendar-id", primary
        )
        reminders = self.reminders_calendar(found, interviews)

        def table(calendar: CalendarAccess) -> dict[str, Any]:
            return {
                "type": "google",
                "calendar_id": "primary" if calendar.primary else calendar.address,
                "token_file": str(token_file),
                "api_endpoint": o.api_endpoint,
            }

        setup = Setup(username=primary.address if primary else None)
        self.add_tables(setup, interviews, reminders, table)
        return setup

    def local(self, kind: str) -> Setup:
        from followup_cal.commands.calendar_access import local_calendar

        what = "Folder of .ics files (vdir)" if kind == "vdir" else "The .ics file"
        given = str(self.o.path) if self.o.path else None
        path = Path(self.ask(given, "--path", what)).expanduser().absolute()
        access = local_calendar(path, folder=kind == "vdir", label=str(path))
        if not access.writable:
            raise UsageError(f"{access.how}: followup-cal writes its reminders there; fix the permissions")
        return Setup(calendars={table_name(path.stem): {"type": kind, "path": str(path)}})

    def common(self, username: str | None) -> tuple[str | None, list[str], str]:
        from followup_cal.config.load import system_timezone

        o = self.o
        system = system_timezone().key
        default_zone = system if system != "localtime" else None
        if o.timezone or not self.interactive:
            zone = check_timezone(o.timezone) if o.timezone else default_zone
        else:
            zone = click.prompt("Time zone", default=default_zone, value_proc=_prompt_proc(check_timezone))
        if o.working_hours or not self.interactive:
            hours = check_working_hours(o.working_hours or DEFAULT_WORKING_HOURS)
        else:
            hours = click.prompt(
                "Working hours", default=DEFAULT_WORKING_HOURS, value_proc=_prompt_proc(check_working_hours)
            )
        if o.me or not self.interactive:
            me = check_addresses(o.me)
        else:
            guess = username if username and "@" in username else ""
            me = click.prompt(
                "Your e-mail address(es), comma-separated (to know which attendee is you)",
                default=guess,
                value_proc=_prompt_proc(lambda value: check_addresses([value])),
            )
        return zone, me, hours

    def holidays(self, zone: str | None) -> str | None:
        """The public holidays to skip: --holidays, else the zone's country (asked when interactive)."""
        if self.o.holidays is not None:
            return check_holidays(self.o.holidays)
        proposed = propose_holidays(zone)
        if not self.interactive:
            return proposed
        answer = click.prompt(
            "Public holidays to skip (country code, e.g. DE or US-CA; none for none)",
            default=proposed or "none",
            value_proc=_prompt_proc(lambda value: check_holidays(value) or "none"),
        )
        return None if answer == "none" else str(answer)


def run_init(config: str | None, options: InitOptions) -> None:
    from followup_cal.config.load import config_path, load_settings, parse_settings

    path = config_path(config)
    wizard = Wizard(options)
    overwrite = options.force
    if path.exists() and not overwrite:
        if not wizard.interactive:
            raise UsageError(
                f"{path} already exists: pass --force to overwrite it, or --config PATH for another file"
            )
        if not click.confirm(f"{path} already exists. Overwrite it?", default=False):
            click.echo("Kept the existing configuration; nothing was written.")
            return
        overwrite = True
    kind = options.kind
    if kind is None:
        click.echo("Where are your interviews?")
        kind = list(TYPES)[wizard.choose("Number", list(TYPES.values()))]
    if kind == "caldav":
        setup = wizard.caldav()
    elif kind == "google":
        setup = wizard.google()
    elif kind == "microsoft":
        from followup_cal.commands.setup_microsoft import microsoft_setup

        setup = microsoft_setup(wizard)
    else:
        setup = wizard.local(kind)
    zone, me, hours = wizard.common(setup.username)
    text = render_config(zone, me, hours, setup.calendars, wizard.holidays(zone))
    parse_settings(tomllib.loads(text), str(path), base_dir=path.parent)  # never write a file that fails
    if setup.keyring_entry:
        store_password(*setup.keyring_entry)
        click.echo(
            f"Stored the password in the system keyring (service followup-cal, user {setup.keyring_entry[0]})"
        )
    write_config(path, text, overwrite=overwrite)
    load_settings(path)
    click.echo(f"Wrote {path} (mode 0600).")
    click.echo(
        "Next: `followup-cal doctor` checks everything; "
        "then `followup-cal sync --dry-run` shows what a sync would write."
    )


@click.command("init")
@click.option(
    "--type", "kind", type=click.Choice(list(TYPES)), help="Calendar type; with it, nothing is asked."
)
@click.option("--provider", type=click.Choice(list(PROVIDERS)), help="CalDAV preset that fills in the URL.")
@click.option("--url", help="CalDAV server, account or calendar URL (Nextcloud: the server's address).")
@click.option("--username", help="CalDAV user name.")
@click.option("--password-env", metavar="NAME", help="The password is in this environment variable.")
@click.option("--keyring", "use_keyring", is_flag=True, help="Store the password in the system keyring.")
@click.option("--password-stdin", is_flag=True, help="With --keyring: read the password from stdin.")
@click.option("--calendar", metavar="URL_OR_NAME", help="The calendar your interviews are in.")
@click.option(
    "--reminders-to", metavar="URL_OR_NAME", help="The calendar for the reminders (default: the same)."
)
@click.option(
    "--timezone", metavar="ZONE", help="IANA time zone, e.g. Europe/Berlin (default: the system's)."
)
@click.option("--working-hours", metavar="HH:MM-HH:MM", help=f"Default: {DEFAULT_WORKING_HOURS}.")
@click.option(
    "--holidays",
    metavar="CODE",
    help="Public holidays to skip, e.g. DE or US-CA, or none (default: the zone's).",
)
@click.option("--me", multiple=True, metavar="EMAIL", help="Your e-mail address (repeatable).")
@click.option(
    "--client-secrets", type=click.Path(dir_okay=False, path_type=Path), help="Google OAuth client file."
)
@click.option("--no-browser", is_flag=True, help="Google on a headless machine: paste the address back.")
@click.option("--client-id", metavar="ID", help="Microsoft: your app registration's Application (client) ID.")
@click.option("--tenant", metavar="TENANT", help="Microsoft: common (default), consumers, organizations, ...")
@click.option("--device-code", is_flag=True, help="Microsoft without a browser: sign in with a code.")
@click.option("--sign-in", is_flag=True, help="Microsoft: sign in even if the token file exists.")
@click.option("--authority", metavar="URL", hidden=True, help="A local stand-in of Microsoft's sign-in.")
@click.option("--calendar-id", help="Google or Microsoft calendar id (default: primary).")
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where the Google or Microsoft token is kept.",
)
@click.option("--api-endpoint", metavar="URL", help="A local stand-in of the Google or Graph API (tests).")
@click.option("--path", type=click.Path(path_type=Path), help="vdir folder or .ics file.")
@click.option("--yes", "--force", "force", is_flag=True, help="Overwrite an existing config without asking.")
@click.pass_context
def init(ctx: click.Context, /, **options: Any) -> None:
    """Connect your calendar, test it, pick calendars and write the config (mode 0600).

    Asks its questions; with --type it asks nothing and takes every answer from flags.

    \b
    Examples:
      followup-cal init
      DAV_PASSWORD=... followup-cal init --type caldav --url http://127.0.0.1:5232/ \\
          --username alice --password-env DAV_PASSWORD --calendar work --timezone Europe/Berlin
    """

    obj = ctx.find_object(Context)
    catch_errors(run_init)(obj.config if obj else None, InitOptions(**options))
