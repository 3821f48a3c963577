"""The commands that set a machine up besides the config file: ``auth google`` and ``auth microsoft``
(save a token) and ``schedule`` (print a crontab line, a systemd user timer or a launchd agent that runs
``sync``).

cli.py registers them, as it does doctor and init.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from followup_cal.commands.context import Context, catch_errors

if TYPE_CHECKING:
    from followup_cal.core.settings import Settings


@click.group()
def auth() -> None:
    """Grant followup-cal access to an account (Google, Microsoft).

    \b
    Examples:
      followup-cal auth google --client-secrets ~/Downloads/client_secret.json
      followup-cal auth microsoft --client-id 00000000-0000-0000-0000-000000000000
    """


@auth.command("google")
@click.option(
    "--client-secrets",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The OAuth client file (desktop app) you downloaded from Google Cloud Console.",
)
@click.option("--no-browser", is_flag=True, help="Headless machine: print the URL and read the code back.")
@click.option(
    "--calendar",
    "calendar_name",
    metavar="NAME",
    help="The [calendars.NAME] table whose token_file to write (default: every Google calendar's).",
)
@click.pass_obj
def auth_google(obj: Context, client_secrets: Path, no_browser: bool, calendar_name: str | None) -> None:
    """Run Google's OAuth flow and save the token (mode 0600) where the config's token_file says.

    \b
    Example:
      followup-cal auth google --client-secrets ~/Downloads/client_secret.json
    """

    catch_errors(save_google_token)(obj, client_secrets, no_browser, calendar_name)


def save_google_token(
    obj: Context, client_secrets: Path, no_browser: bool, calendar_name: str | None
) -> None:
    from followup_cal.backends.google_auth import run_oauth_flow
    from followup_cal.config.load import default_token_file
    from followup_cal.errors import ConfigError, UsageError

    token_files: list[Path] = []
    try:
        settings = obj.settings()
    except ConfigError:
        if obj.config:
            raise
        settings = None
    if settings is not None:
        token_files = [
            Path(cal.options["token_file"])
            for cal in settings.calendars.values()
            if cal.type == "google" and calendar_name in (None, cal.name)
        ]
    distinct = sorted(set(token_files))
    if len(distinct) > 1:
        raise UsageError(
            "your Google calendars use different token_file paths: name one with --calendar NAME"
        )
    token_file = distinct[0] if distinct else default_token_file()
    run_oauth_flow(client_secrets, token_file, open_browser=not no_browser)
    click.echo(f"Saved the Google token to {token_file}. Now run: followup-cal sync --dry-run")


@auth.command("microsoft")
@click.option(
    "--client-id",
    metavar="ID",
    help="The Application (client) ID of your app registration (default: the config's client_id).",
)
@click.option(
    "--tenant",
    metavar="TENANT",
    help="common (default), consumers, organizations, or your tenant's id or domain.",
)
@click.option("--device-code", is_flag=True, help="No browser here: sign in on another device with a code.")
@click.option(
    "--calendar",
    "calendar_name",
    metavar="NAME",
    help="The [calendars.NAME] table whose token_file to write (default: every Microsoft calendar's).",
)
@click.option("--authority", metavar="URL", hidden=True, help="A local stand-in of the sign-in service.")
@click.pass_obj
def auth_microsoft(
    obj: Context,
    client_id: str | None,
    tenant: str | None,
    device_code: bool,
    calendar_name: str | None,
    authority: str | None,
) -> None:
    """Sign in to Microsoft (Outlook.com, Microsoft 365) and save the token (mode 0600) where the
    config's token_file says. Refreshing it needs the client id: it goes into the calendar's client_id.

    \b
    Examples:
      followup-cal auth microsoft --client-id 00000000-0000-0000-0000-000000000000
      followup-cal auth microsoft --device-code     (a machine without a browser)
    """

    catch_errors(save_microsoft_token)(obj, client_id, tenant, device_code, calendar_name, authority)


def save_microsoft_token(
    obj: Context,
    client_id: str | None,
    tenant: str | None,
    device_code: bool,
    calendar_name: str | None,
    authority: str | None = None,
) -> None:
    from followup_cal.backends.microsoft_auth import (
        DEFAULT_AUTHORITY,
        authority_for,
        check_client_id,
        sign_in,
    )
    from followup_cal.config.load import config_path, default_microsoft_token_file
    from followup_cal.errors import ConfigError, UsageError

    settings = None
    try:
        settings = obj.settings()
    except ConfigError:
        if obj.config:
            raise
    calendars = [
        cal
        for cal in (settings.calendars.values() if settings else ())
        if cal.type == "microsoft" and calendar_name in (None, cal.name)
    ]
    if calendar_name and not calendars:
        raise UsageError(f"--calendar {calendar_name}: no [calendars.{calendar_name}] of type microsoft")
    token_files = sorted({Path(cal.options["token_file"]) for cal in calendars})
    if len(token_files) > 1:
        raise UsageError(
            "your Microsoft calendars use different token_file paths: name one with --calendar NAME"
        )
    configured_ids = sorted({str(cal.options.get("client_id") or "") for cal in calendars} - {""})
    client_id = (client_id or "").strip() or (configured_ids[0] if len(configured_ids) == 1 else "")
    if not client_id:
        raise UsageError(
            "missing --client-id: the Application (client) ID of your app registration in the Azure portal "
            "(see the README's Microsoft section)"
        )
    client_id = check_client_id(client_id)
    configured_authorities = sorted({str(cal.options.get("authority") or "") for cal in calendars} - {""})
    if authority is None:
        use_config = tenant is None and len(configured_authorities) == 1
        authority = configured_authorities[0] if use_config else authority_for(tenant)
    token_file = token_files[0] if token_files else default_microsoft_token_file()
    account = sign_in(client_id, authority, token_file, device_code=device_code, show=click.echo)
    click.echo(f"Signed in as {account}; saved the Microsoft token to {token_file} (mode 0600).")
    if not calendars:
        flags = f" --tenant {tenant}" if tenant else ""
        click.echo(
            f"Next: `followup-cal init --type microsoft --client-id {client_id}{flags}` writes a config "
            "that uses this token."
        )
        return
    assert settings is not None
    keys = [] if client_id in configured_ids and len(configured_ids) == 1 else [f'client_id = "{client_id}"']
    if authority != DEFAULT_AUTHORITY and authority not in configured_authorities:
        keys.append(f'authority = "{authority}"')
    if keys:
        tables = ", ".join(f"[calendars.{cal.name}]" for cal in calendars)
        click.echo(
            f"Now put {' and '.join(keys)} in {tables} of {config_path(obj.config)}: refreshing the token "
            "needs it. Then run: followup-cal sync --dry-run"
        )
    else:
        click.echo("Now run: followup-cal sync --dry-run")


_HOW_TO_SET = {
    "cron": "add a line `{name}=...` above the job with `crontab -e` (your crontab is private to you)",
    "systemd": "add `Environment={name}=...` to the service, or an `EnvironmentFile=` with mode 0600",
    "launchd": "add it under an `EnvironmentVariables` dict in the plist",
}


def _scheduled_secret_notes(settings: Settings, kind: str) -> list[str]:
    """A scheduled run sees neither your shell's variables nor, often, your desktop keyring: say which
    calendars need what, so the first scheduled run does not fail."""
    notes = []
    for name, calendar in settings.calendars.items():
        variable = calendar.options.get("password_env")
        if variable:
            notes.append(
                f"calendar '{name}' reads its password from ${variable}, which a scheduled run does not "
                f"inherit from your shell: "
                + _HOW_TO_SET[kind].format(name=variable)
                + ", or use password_command"
            )
        elif calendar.options.get("keyring"):
            notes.append(
                f"calendar '{name}' reads its password from the keyring, which is often locked for "
                "scheduled runs; if `followup-cal doctor` fails there, use password_env or password_command"
            )
    return notes


@click.command()
@click.option("--cron", "kind", flag_value="cron", default=True, help="A crontab line (the default).")
@click.option("--systemd", "kind", flag_value="systemd", help="A systemd user service and timer.")
@click.option("--launchd", "kind", flag_value="launchd", help="A launchd agent plist (macOS).")
@click.option(
    "--every",
    type=click.IntRange(1, 1440),
    default=15,
    show_default=True,
    metavar="MINUTES",
    help="How often to sync.",
)
@click.pass_obj
def schedule(obj: Context, kind: str, every: int) -> None:
    """Print a ready-to-install schedule that runs `sync` every few minutes, with absolute paths.

    \b
    Examples:
      followup-cal schedule             a crontab line and how to add it
      followup-cal schedule --systemd   a user service and timer
      followup-cal schedule --launchd > ~/Library/LaunchAgents/com.followup-cal.sync.plist
    """

    catch_errors(print_schedule)(obj, kind, every)


def print_schedule(obj: Context, kind: str, every: int) -> None:
    from followup_cal.commands.schedule import render_cron, render_launchd, render_systemd, this_program
    from followup_cal.config.load import config_path

    program = this_program(sys.argv[0])
    config = config_path(obj.config).absolute()
    if not config.is_file():
        click.echo(f"followup-cal: note: no config at {config} yet; create it before the first run", err=True)
    else:
        for note in _scheduled_secret_notes(obj.settings(), kind):
            click.echo(f"followup-cal: note: {note}", err=True)
    if kind == "systemd":
        click.echo(render_systemd(program, config, every), nl=False)
    elif kind == "launchd":
        click.echo(render_launchd(program, config, every, Path.home()), nl=False)
    else:
        click.echo(render_cron(program, config, every), nl=False)
