"""``followup-cal init --type microsoft``: sign in (unless the token file already holds a sign-in), list
the account's calendars through Microsoft Graph, pick where interviews are read and reminders go, and
return the ``[calendars.*]`` tables. The client id goes into each table: refreshing the token needs it.

msal is imported only when this runs (the wizard imports this module inside its ``microsoft`` step).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from followup_cal.errors import AuthenticationError, UsageError

if TYPE_CHECKING:
    from followup_cal.commands.calendar_access import CalendarAccess
    from followup_cal.commands.setup_wizard import Setup, Wizard

PORTAL_HINT = (
    "register an app in the Azure portal (App registrations > New registration; redirect URI "
    "http://localhost for a public client) and copy its Application (client) ID, as the README's "
    "Microsoft section shows"
)


def microsoft_setup(wizard: Wizard) -> Setup:
    from followup_cal.backends.microsoft_auth import (
        DEFAULT_AUTHORITY,
        authority_for,
        check_client_id,
        load_token_source,
        sign_in,
    )
    from followup_cal.commands.calendar_access import microsoft_calendars
    from followup_cal.commands.setup_wizard import Setup
    from followup_cal.config.load import default_microsoft_token_file

    o = wizard.o
    token_file = (o.token_file or default_microsoft_token_file()).expanduser().absolute()
    if not o.client_id and wizard.interactive:
        click.echo(f"followup-cal needs an app registration of your own: {PORTAL_HINT}.")
    client_id = check_client_id(
        wizard.ask(o.client_id, "--client-id", f"Application (client) ID ({PORTAL_HINT})")
    )
    authority = authority_for(o.tenant, o.authority)
    if o.sign_in or not token_file.exists():
        device_code = o.device_code
        if wizard.interactive and not device_code:
            device_code = not click.confirm("Is there a web browser on this machine to sign in with?", True)
        account = sign_in(client_id, authority, token_file, device_code=device_code, show=click.echo)
        click.echo(f"Signed in as {account}; saved the Microsoft token to {token_file} (mode 0600).")
    source = load_token_source(token_file, client_id, authority, None)
    try:
        found = microsoft_calendars(source, o.api_endpoint)
    except AuthenticationError as error:
        raise AuthenticationError(
            f"{error} (the token at {token_file} may be another sign-in: pass --sign-in to sign in "
            "again); nothing was written"
        ) from None
    if not found:
        raise UsageError(
            "this Microsoft account lists no calendars: open Outlook's calendar once, then retry"
        )
    click.echo(f"Found {len(found)} calendar(s): " + ", ".join(c.name for c in found))
    default = next((c for c in found if c.primary), None)
    interviews = wizard.pick(
        " holds your interviews", found, o.calendar_id or o.calendar, "--calendar-id", default
    )
    reminders = wizard.reminders_calendar(found, interviews)

    def table(calendar: CalendarAccess) -> dict[str, Any]:
        return {
            "type": "microsoft",
            "client_id": client_id,
            "calendar_id": "primary" if calendar.primary else calendar.address,
            "token_file": str(token_file),
            "api_endpoint": o.api_endpoint,
            "authority": None if authority == DEFAULT_AUTHORITY else authority,
        }

    setup = Setup(username=source.account_name())
    wizard.add_tables(setup, interviews, reminders, table, primary_name="outlook")
    return setup
