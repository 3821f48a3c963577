"""The pieces of ``followup-cal init`` that need no terminal and no server: the CalDAV provider presets,
checks of typed answers (time zone, working hours, addresses), naming and finding calendars, writing the
TOML config (atomically, mode 0600, never over an existing file unasked) and storing a password in the
system keyring (service ``followup-cal``, the username as key: where ``secrets`` looks it up).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from followup_cal.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from followup_cal.commands.calendar_access import CalendarAccess


@dataclass(frozen=True)
class Provider:
    label: str
    url: str  # {username} and {server} are filled in
    username_hint: str
    password_hint: str


PROVIDERS = {
    "icloud": Provider(
        "iCloud",
        "https://caldav.icloud.com/",
        "your Apple ID e-mail",
        "an app-specific password (appleid.apple.com > Sign-In and Security)",
    ),
    "fastmail": Provider(
        "Fastmail",
        "https://caldav.fastmail.com/dav/calendars/user/{username}/",
        "your Fastmail e-mail address",
        "an app password (Settings > Privacy & Security > App passwords)",
    ),
    "nextcloud": Provider(
        "Nextcloud",
        "{server}/remote.php/dav/calendars/{username}/",
        "your Nextcloud user name",
        "an app password (Settings > Security > Devices & sessions)",
    ),
    "other": Provider("another CalDAV server", "", "empty if the server needs no login", "your password"),
}


def provider_url(provider: str, username: str, url: str | None) -> str | None:
    """The account URL for a provider preset: ``url`` overrides iCloud's and Fastmail's; for Nextcloud
    ``url`` is the server's address (a full ``.../remote.php/...`` URL is kept as it is)."""
    if provider == "nextcloud":
        if not url or "/remote.php/" in url:
            return url
        server = url if "://" in url else f"https://{url}"
        return PROVIDERS["nextcloud"].url.format(server=server.rstrip("/"), username=quote(username))
    if url or provider == "other":
        return url
    return PROVIDERS[provider].url.format(username=quote(username, safe="@"))


def table_name(name: str, taken: Sequence[str] = ()) -> str:
    """A bare TOML key for ``[calendars.NAME]`` from a calendar's display name, unique among ``taken``."""
    base = re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")[:40].strip("-") or "calendar"
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}-{number}", number + 1
    return candidate


def find_calendar(found: Sequence[CalendarAccess], wanted: str) -> CalendarAccess | None:
    """The calendar ``wanted`` names: its URL (or path), id, display name or last URL segment."""
    from followup_cal.backends.dav import same_path

    wanted = wanted.strip()
    for matches in (
        lambda c: c.address == wanted or (wanted == "primary" and c.primary),
        lambda c: wanted.startswith(("http://", "https://", "/")) and same_path(c.address, wanted),
        lambda c: c.name.casefold() == wanted.casefold(),
        lambda c: c.address.rstrip("/").rsplit("/", 1)[-1].casefold() == wanted.casefold(),
    ):
        hits = [calendar for calendar in found if matches(calendar)]
        if hits:
            return hits[0]
    return None


def check_timezone(name: str) -> str:
    from zoneinfo import available_timezones

    name = name.strip()
    known = available_timezones()
    if name in known:
        return name
    close = difflib.get_close_matches(name, sorted(known), n=3, cutoff=0.6)
    maybe = f" (did you mean {' or '.join(close)}?)" if close else ""
    raise UsageError(
        f"unknown time zone {name!r}{maybe}: use an IANA name such as Europe/Berlin or America/New_York"
    )


def zone_country(zone: str) -> str | None:
    """The country of an IANA zone, from the tz database's zone.tab (the system's copy, else tzdata's)."""
    import zoneinfo
    from importlib import resources

    sources: list[Path] = [Path(folder) / "zone.tab" for folder in zoneinfo.TZPATH]
    texts = [path.read_text(encoding="utf-8") for path in sources if path.is_file()]
    if not texts:
        try:
            texts = [resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")]
        except (ModuleNotFoundError, OSError):
            return None
    for line in texts[0].splitlines():
        fields = line.split("\t")
        if len(fields) >= 3 and not line.startswith("#") and fields[2] == zone:
            return fields[0]
    return None


def propose_holidays(zone: str | None) -> str | None:
    """The public-holiday calendar ``init`` proposes for a time zone: its country, when the holidays package
    knows it. (A subdivision cannot be told from the zone: the user adds it, e.g. "US-CA".)"""
    from followup_cal.core.holiday_calendar import holiday_code_problem

    country = zone_country(zone) if zone else None
    if country is None or holiday_code_problem(country) is not None:
        return None
    return country


def check_holidays(value: str) -> str | None:
    """A --holidays answer: a country code with an optional subdivision, or "none"."""
    from followup_cal.core.holiday_calendar import holiday_code_problem, split_code

    if value.strip().lower() in ("", "none", "-"):
        return None
    problem = holiday_code_problem(value)
    if problem is not None:
        raise UsageError(f"public holidays {value.strip()!r}: expected {problem}, e.g. DE or US-CA (or none)")
    country, subdivision = split_code(value)
    return f"{country}-{subdivision}" if subdivision else country


def check_working_hours(value: str) -> str:
    from followup_cal.config.load import parse_settings

    try:
        parse_settings({"timezone": "UTC", "rules": {"working_hours": value}}, "--working-hours")
    except ConfigError:
        raise UsageError(
            f"working hours {value!r}: expected HH:MM-HH:MM with the start before the end, e.g. 09:00-18:00"
        ) from None
    return value.strip()


def check_addresses(values: Sequence[str]) -> list[str]:
    addresses = [part.strip() for value in values for part in value.split(",") if part.strip()]
    for address in addresses:
        if "@" not in address.strip("@") or " " in address:
            raise UsageError(f"{address!r} is not an e-mail address (expected e.g. alice@example.com)")
    return addresses


def toml_value(value: str | bool | list[str]) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    # A JSON string is a TOML basic string, except that TOML also wants DEL escaped.
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def render_config(
    timezone: str | None,
    me: Sequence[str],
    working_hours: str,
    calendars: dict[str, dict[str, Any]],
    holidays: str | None = None,
) -> str:
    lines = [
        "# followup-cal configuration, written by `followup-cal init`.",
        "# Every key is explained in the README's Configuration section. Passwords are never stored here.",
        "",
    ]
    if timezone:
        lines.append(f"timezone = {toml_value(timezone)}")
    if me:
        lines.append(f"me = {toml_value(list(me))}")
    lines += ["", "[rules]", f"working_hours = {toml_value(working_hours)}"]
    if holidays:
        lines.append(f"holidays = {toml_value(holidays)}  # public holidays count as days off")
    for name, table in calendars.items():
        lines += ["", f"[calendars.{name}]"]
        lines += [f"{key} = {toml_value(value)}" for key, value in table.items() if value is not None]
    return "\n".join(lines) + "\n"


def write_config(path: Path, text: str, *, overwrite: bool) -> None:
    """Writes ``text`` atomically with mode 0600; without ``overwrite`` never replaces an existing file."""
    from followup_cal.config.secrets import (
        write_private_file,  # here: secrets loads redact, which `--help` does without
    )

    try:
        write_private_file(path, text, overwrite=overwrite)
    except FileExistsError:
        raise UsageError(
            f"{path} already exists: pass --force to overwrite it, or --config PATH for another file"
        ) from None


def keyring_problem() -> str | None:
    """Why the system keyring cannot hold the password, or None when a keyring backend is usable."""
    import keyring
    from keyring.backends import fail

    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring):
        return "no system keyring is available here (no Secret Service, KWallet, macOS or Windows keyring)"
    return None


def store_password(username: str, password: str) -> None:
    import keyring
    import keyring.errors

    from followup_cal.config.secrets import KEYRING_SERVICE

    problem = keyring_problem()
    try:
        if problem is None:
            keyring.set_password(KEYRING_SERVICE, username, password)
    except keyring.errors.KeyringError as error:
        problem = f"the system keyring refused the password ({type(error).__name__})"
    if problem:
        raise UsageError(
            f"{problem}: use --password-env NAME instead and set that variable where followup-cal runs; "
            "nothing was written"
        )
