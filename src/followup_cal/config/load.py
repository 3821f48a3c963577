"""Finds, reads and validates the TOML configuration (DESIGN.md "Configuration") into ``settings``.

Every problem is a :class:`ConfigError` whose message names the file, the dotted key and what is
expected, e.g. ``config.toml: rules.working_hours = "9-18": expected "HH:MM-HH:MM", e.g. "09:00-18:00"``.
Values of keys that may hold secrets are never repeated in messages.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tomllib
from collections.abc import Mapping
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import platformdirs

from followup_cal.config.values import MISSING, Reader, dotted, suggest
from followup_cal.core.settings import WEEKDAYS, CalendarSettings, DetectSettings, Rules, Settings
from followup_cal.errors import ConfigError

APP_NAME = "followup-cal"
CONFIG_ENV = "FOLLOWUP_CAL_CONFIG"
CALENDAR_TYPES = ("caldav", "google", "microsoft", "ics", "vdir")
DEFAULT_CONNECTIONS = 4  # parallel writes to one CalDAV calendar; 1 = one connection, sequential writes
MAX_CONNECTIONS = 16

_TOP_KEYS = ("timezone", "me", "rules", "detect", "calendars")
_RULE_KEYS = (
    "holidays",
    "thank_you_delay",
    "checkin_wait_days",
    "working_hours",
    "workdays",
    "reminder_minutes",
    "window_past_days",
    "window_future_days",
)
_DETECT_KEYS = ("extra_keywords", "exclude", "my_domains")
_DOMAIN = re.compile(r"(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}")
_COMMON_CALENDAR_KEYS = ("type", "reminders_to")
_CALENDAR_KEYS = {
    "caldav": (
        "url",
        "username",
        "password_env",
        "password_command",
        "keyring",
        "verify",
        "ca_bundle",
        "connections",
    ),
    "google": ("calendar_id", "token_file", "api_endpoint", "batch"),
    "microsoft": ("client_id", "calendar_id", "token_file", "api_endpoint", "authority"),
    "ics": ("path",),
    "vdir": ("path",),
}
_PASSWORD_KEYS = ("password_env", "password_command", "keyring")

_CLIENT_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WORKING_HOURS = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")
_DURATION_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*,?")
_DURATION_UNITS = {
    **dict.fromkeys(("d", "day", "days"), 86400),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
}
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def config_path(explicit: str | None) -> Path:
    """``--config PATH``, else ``$FOLLOWUP_CAL_CONFIG``, else ``config.toml`` in the user config dir."""
    if explicit:
        return Path(explicit).expanduser()
    from_env = os.environ.get(CONFIG_ENV, "").strip()
    if from_env:
        return Path(from_env).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def default_token_file() -> Path:
    """Where a Google calendar's OAuth token lives unless ``token_file`` says otherwise."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "google-token.json"


def default_microsoft_token_file() -> Path:
    """Where a Microsoft calendar's msal token cache lives unless ``token_file`` says otherwise."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "microsoft-token.json"


def load_settings(path: Path) -> Settings:
    """Reads and validates the configuration file at ``path``."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(
            f"No configuration file at {path}. Create one with `followup-cal init`, or copy the example "
            f"from the README there (or point --config or ${CONFIG_ENV} at yours)."
        ) from None
    except IsADirectoryError:
        raise ConfigError(f"{path} is a folder, not a configuration file: expected a TOML file.") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text: save the configuration as UTF-8.") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the configuration: {error.strerror or error}.") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        # The message carries "(at line N, column M)" and never echoes the file's text.
        raise ConfigError(f"{path}: not valid TOML: {error}.") from None
    return parse_settings(data, str(path), base_dir=path.parent)


def parse_settings(data: dict[str, Any], source: str, *, base_dir: Path | None = None) -> Settings:
    """Validates a parsed TOML document. ``source`` names the file in messages; relative paths in it are
    taken from ``base_dir`` (the configuration's folder), else from the current folder."""
    reader = _Reader(source, base_dir)
    reader.check_keys(data, _TOP_KEYS, ())
    timezone = reader.timezone(data.get("timezone", MISSING))
    me = tuple(address.lower() for address in reader.addresses(data.get("me", MISSING), ("me",)))
    rules = reader.rules(reader.table(data, "rules"))
    detect_table = reader.table(data, "detect")
    reader.check_keys(detect_table, _DETECT_KEYS, ("detect",))
    detect = DetectSettings(
        extra_keywords=tuple(
            reader.strings(detect_table.get("extra_keywords", MISSING), "detect", "extra_keywords")
        ),
        exclude=tuple(reader.strings(detect_table.get("exclude", MISSING), "detect", "exclude")),
        my_domains=_my_domains(reader, detect_table.get("my_domains", MISSING)),
    )
    calendars = reader.calendars(reader.table(data, "calendars"))
    return Settings(timezone=timezone, me=me, rules=rules, detect=detect, calendars=calendars, source=source)


def _my_domains(reader: _Reader, value: Any) -> tuple[str, ...] | None:
    """``[detect] my_domains``: your employer's e-mail domains; None when absent (then ``me`` decides)."""
    if value is MISSING:
        return None
    expected = (
        'a list of your employer\'s e-mail domains (the part after "@"), e.g. ["brightwave.io"]; [] for none'
    )
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise reader.fail(("detect", "my_domains"), value, expected)
    domains = []
    for item in value:
        domain = item.strip().lower().removeprefix("@").rstrip(".")
        if not _DOMAIN.fullmatch(domain):
            raise reader.fail(("detect", "my_domains"), value, f"{expected} ({json.dumps(item)} is not one)")
        domains.append(domain)
    return tuple(domains)


def parse_duration(text: str) -> timedelta:
    """``"2h"``, ``"90m"``, ``"1h30m"``, ``"45 min"``, ``"1 day"``, ``"1.5 hours"`` -> a timedelta.

    Raises ``ValueError`` when ``text`` is not such a duration.
    """
    cleaned = text.strip().lower()
    position, seconds = 0, 0.0
    while position < len(cleaned):
        match = _DURATION_PART.match(cleaned, position)
        if match is None or match.group(2) not in _DURATION_UNITS:
            raise ValueError(f"not a duration: {text!r}")
        seconds += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        position = match.end()
    if position == 0:
        raise ValueError(f"not a duration: {text!r}")
    return timedelta(seconds=round(seconds))


def system_timezone(environ: Mapping[str, str] | None = None, etc: Path = Path("/etc")) -> ZoneInfo:
    """The system's zone: ``$TZ``, the ``/etc/localtime`` link, ``/etc/timezone``, the contents of
    ``/etc/localtime``; UTC when none of them names a zone. Never raises."""
    environ = os.environ if environ is None else environ
    candidates: list[str] = []
    tz_variable = environ.get("TZ", "").strip().removeprefix(":")
    if tz_variable:
        candidates.append(_zone_name_from_path(tz_variable) if tz_variable.startswith("/") else tz_variable)
    localtime = etc / "localtime"
    if localtime.is_symlink():
        candidates.append(_zone_name_from_path(os.path.realpath(localtime)))
    with contextlib.suppress(OSError, UnicodeDecodeError):
        candidates.append((etc / "timezone").read_text(encoding="utf-8").strip().split("\n")[0].strip())
    for name in candidates:
        zone = _zone_or_none(name)
        if zone is not None:
            return zone
    try:
        with localtime.open("rb") as handle:
            return ZoneInfo.from_file(handle, key="localtime")
    except (OSError, ValueError):
        return ZoneInfo("UTC")


def _zone_name_from_path(path: str) -> str:
    """``/usr/share/zoneinfo/Europe/Berlin`` -> ``Europe/Berlin`` (also ``.../zoneinfo/posix/...``)."""
    _, found, name = path.rpartition("zoneinfo/")
    if not found:
        return ""
    return name.removeprefix("posix/").removeprefix("right/")


def _zone_or_none(name: str) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


class _Reader(Reader):
    """The sections of the configuration: its time zone, rules and calendars."""

    def timezone(self, value: Any) -> ZoneInfo:
        if value is MISSING:
            return system_timezone()
        expected = 'an IANA time zone name, e.g. "Europe/Berlin"'
        if not isinstance(value, str):
            raise self.fail(("timezone",), value, expected)
        zone = _zone_or_none(value.strip())
        if zone is None:
            raise self.fail(("timezone",), value, expected + suggest(value, available_timezones()))
        return zone

    def rules(self, table: dict[str, Any]) -> Rules:
        self.check_keys(table, _RULE_KEYS, ("rules",))
        defaults = Rules()
        delay = defaults.thank_you_delay
        raw_delay = table.get("thank_you_delay", MISSING)
        if raw_delay is not MISSING:
            expected = 'a duration from 1m to 23h59m, e.g. "2h", "90m" or "1h30m"'
            try:
                delay = parse_duration(raw_delay) if isinstance(raw_delay, str) else timedelta(0)
            except ValueError:
                raise self.fail(("rules", "thank_you_delay"), raw_delay, expected) from None
            if not timedelta(minutes=1) <= delay < timedelta(hours=24):
                raise self.fail(("rules", "thank_you_delay"), raw_delay, expected)
        work_start, work_end = defaults.work_start, defaults.work_end
        if "working_hours" in table:
            work_start, work_end = self.working_hours(table["working_hours"])
        workdays = defaults.workdays
        if "workdays" in table:
            workdays = self.workdays(table["workdays"])
        return Rules(
            thank_you_delay=delay,
            checkin_wait_days=self.integer(
                table, ("rules", "checkin_wait_days"), 1, 60, defaults.checkin_wait_days
            ),
            work_start=work_start,
            work_end=work_end,
            workdays=workdays,
            reminder_minutes=self.integer(
                table, ("rules", "reminder_minutes"), 1, 720, defaults.reminder_minutes
            ),
            window_past_days=self.integer(
                table, ("rules", "window_past_days"), 0, 3650, defaults.window_past_days
            ),
            window_future_days=self.integer(
                table, ("rules", "window_future_days"), 1, 3650, defaults.window_future_days
            ),
            holidays=self.holidays(table.get("holidays", MISSING)),
        )

    def holidays(self, value: Any) -> str | None:
        """A public-holiday calendar: a country code, optionally with a subdivision ("DE", "US-CA")."""
        if value is MISSING:
            return None
        path = ("rules", "holidays")
        expected = 'a country code, optionally with a subdivision, e.g. "DE" or "US-CA"'
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, value, expected)
        from followup_cal.core.holiday_calendar import holiday_code_problem, split_code

        problem = holiday_code_problem(value)
        if problem is not None:
            raise self.fail(path, value, f"{expected}: {problem}")
        country, subdivision = split_code(value)
        return f"{country}-{subdivision}" if subdivision else country

    def working_hours(self, value: Any) -> tuple[time, time]:
        path = ("rules", "working_hours")
        expected = '"HH:MM-HH:MM", e.g. "09:00-18:00"'
        match = _WORKING_HOURS.fullmatch(value) if isinstance(value, str) else None
        if match is None:
            raise self.fail(path, value, expected)
        start_hour, start_minute, end_hour, end_minute = (int(group) for group in match.groups())
        if max(start_hour, end_hour) > 23 or max(start_minute, end_minute) > 59:
            raise self.fail(
                path, value, '"HH:MM-HH:MM" with hours 00-23 and minutes 00-59, e.g. "09:00-18:00"'
            )
        start, end = time(start_hour, start_minute), time(end_hour, end_minute)
        if start >= end:
            raise self.fail(path, value, '"HH:MM-HH:MM" with the start before the end, e.g. "09:00-18:00"')
        return start, end

    def workdays(self, value: Any) -> frozenset[int]:
        path = ("rules", "workdays")
        expected = f"a non-empty list of days from {', '.join(repr(d) for d in WEEKDAYS)}".replace("'", '"')
        if not isinstance(value, list) or not value:
            raise self.fail(path, value, expected)
        days = set()
        for item in value:
            name = item.strip().lower() if isinstance(item, str) else ""
            if name in WEEKDAYS:
                days.add(WEEKDAYS.index(name))
            elif name in _DAY_NAMES:
                days.add(_DAY_NAMES.index(name))
            else:
                raise self.fail(path, value, expected)
        return frozenset(days)

    def calendars(self, table: dict[str, Any]) -> dict[str, CalendarSettings]:
        calendars = {name: self.calendar(name, value) for name, value in table.items()}
        for name, calendar in calendars.items():
            target = calendar.reminders_to
            path = ("calendars", name, "reminders_to")
            if target is None:
                continue
            if target == name:
                raise self.fail(path, target, "the name of another [calendars.NAME] table, not this one")
            if target not in calendars:
                known = ", ".join(other for other in calendars if other != name) or "none"
                raise self.fail(
                    path,
                    target,
                    f"the name of another [calendars.NAME] table{suggest(target, calendars)} "
                    f"(configured: {known})",
                )
        return calendars

    def calendar(self, name: str, value: Any) -> CalendarSettings:
        if not name.strip():
            raise ConfigError(f'{self.source}: calendars."": expected a calendar name, e.g. [calendars.work]')
        if not isinstance(value, dict):
            raise self.fail(("calendars", name), value, f"a table: a [calendars.{dotted([name])}] section")
        kind = value.get("type", MISSING)
        if kind not in CALENDAR_TYPES:
            expected = "one of " + ", ".join(f'"{t}"' for t in CALENDAR_TYPES)
            if isinstance(kind, str):
                expected += suggest(kind, CALENDAR_TYPES)
            raise self.fail(("calendars", name, "type"), kind, expected)
        known = (*_COMMON_CALENDAR_KEYS, *_CALENDAR_KEYS[kind])
        for key in value:
            owners = [other for other, keys in _CALENDAR_KEYS.items() if key in keys and key not in known]
            if owners:
                hint = f' for type = "{kind}"; it belongs to type = "{owners[0]}"'
                self.check_keys({key: None}, known, ("calendars", name), hint)
        self.check_keys(value, known, ("calendars", name))
        reminders_to = self.text(value, ("calendars", name, "reminders_to"), '"followups"')
        options = getattr(self, f"_{kind}_options")(name, value)
        return CalendarSettings(name=name, type=kind, options=options, reminders_to=reminders_to)

    def _caldav_options(self, name: str, table: dict[str, Any]) -> dict[str, Any]:
        prefix = ("calendars", name)
        example = "https://dav.example.com/calendars/alice/work/"
        url = self.url(table, (*prefix, "url"), example)
        if url is None:
            raise self.fail((*prefix, "url"), MISSING, f'an http:// or https:// URL, e.g. "{example}"')
        options: dict[str, Any] = {"url": url, "username": self.text(table, (*prefix, "username"), '"alice"')}
        chosen = [key for key in _PASSWORD_KEYS if key in table and table[key] is not False]
        if len(chosen) > 1:
            raise ConfigError(
                f"{self.source}: {dotted(prefix)}: {' and '.join(chosen)} are both set: "
                "expected at most one of password_env, password_command, keyring"
            )
        env_name = self.text(table, (*prefix, "password_env"), '"DAV_PASSWORD"', secret=True)
        if env_name is not None:
            if not _ENV_NAME.fullmatch(env_name):
                # It may be the password itself typed in by mistake: never repeat it.
                raise self.fail(
                    (*prefix, "password_env"),
                    env_name,
                    'the NAME of an environment variable holding the password, e.g. "DAV_PASSWORD"',
                    secret=True,
                )
            options["password_env"] = env_name
        if "password_command" in table:
            command = table["password_command"]
            if (
                not isinstance(command, list)
                or not command
                or not all(isinstance(part, str) for part in command)
                or not command[0].strip()
            ):
                raise self.fail(
                    (*prefix, "password_command"),
                    command,
                    'a non-empty list of strings (a program and its arguments), e.g. ["pass", "show", "dav"]',
                    secret=True,
                )
            options["password_command"] = list(command)
        if self.boolean(table, (*prefix, "keyring"), False):
            options["keyring"] = True
        if chosen and options["username"] is None:
            raise self.fail(
                (*prefix, "username"), MISSING, f'the user name to log in with {chosen[0]}, e.g. "alice"'
            )
        options["verify"] = self.boolean(table, (*prefix, "verify"), True)
        ca_bundle = self.path(table, (*prefix, "ca_bundle"), '"/etc/ssl/my-ca.pem"')
        if ca_bundle is not None:
            if not ca_bundle.exists():
                raise self.fail(
                    (*prefix, "ca_bundle"),
                    table["ca_bundle"],
                    f"an existing file; {ca_bundle} does not exist",
                )
            if not options["verify"]:
                raise self.fail(
                    (*prefix, "verify"), False, "true (or no ca_bundle): ca_bundle is used only to verify"
                )
        options["ca_bundle"] = ca_bundle
        options["connections"] = self.integer(
            table, (*prefix, "connections"), 1, MAX_CONNECTIONS, DEFAULT_CONNECTIONS
        )
        return options

    def _google_options(self, name: str, table: dict[str, Any]) -> dict[str, Any]:
        prefix = ("calendars", name)
        return {
            "calendar_id": self.text(table, (*prefix, "calendar_id"), '"primary"') or "primary",
            "token_file": self.path(
                table, (*prefix, "token_file"), '"~/.local/share/followup-cal/google-token.json"'
            )
            or default_token_file(),
            "api_endpoint": self.url(table, (*prefix, "api_endpoint"), "http://127.0.0.1:8080/calendar/v3/"),
            "batch": self.boolean(table, (*prefix, "batch"), True),
        }

    def _microsoft_options(self, name: str, table: dict[str, Any]) -> dict[str, Any]:
        prefix = ("calendars", name)
        example = '"00000000-0000-0000-0000-000000000000"'
        client_id = self.text(table, (*prefix, "client_id"), example)
        expected = f"the application (client) ID of your app registration, e.g. {example}"
        if client_id is None:
            raise self.fail((*prefix, "client_id"), MISSING, expected)
        if not _CLIENT_ID.fullmatch(client_id):
            raise self.fail((*prefix, "client_id"), table["client_id"], expected)
        authority = self.url(table, (*prefix, "authority"), "https://login.microsoftonline.com/common")
        if authority is not None and not authority.startswith("https://"):
            raise self.fail(
                (*prefix, "authority"),
                table["authority"],
                'an https:// URL (msal signs in only over https), e.g. "https://login.microsoftonline.com/common"',
            )
        return {
            "client_id": client_id,
            "calendar_id": self.text(table, (*prefix, "calendar_id"), '"primary"') or "primary",
            "token_file": self.path(
                table, (*prefix, "token_file"), '"~/.local/share/followup-cal/microsoft-token.json"'
            )
            or default_microsoft_token_file(),
            "api_endpoint": self.url(table, (*prefix, "api_endpoint"), "http://127.0.0.1:8080/v1.0/"),
            "authority": authority,
        }

    def _ics_options(self, name: str, table: dict[str, Any]) -> dict[str, Any]:
        return {"path": self._calendar_path(name, table, folder=False)}

    def _vdir_options(self, name: str, table: dict[str, Any]) -> dict[str, Any]:
        return {"path": self._calendar_path(name, table, folder=True)}

    def _calendar_path(self, name: str, table: dict[str, Any], *, folder: bool) -> Path:
        key = ("calendars", name, "path")
        what = (
            'a folder of .ics files, e.g. "~/.calendars/personal"'
            if folder
            else 'an .ics file, e.g. "~/cal.ics"'
        )
        path = self.path(table, key, what.partition("e.g. ")[2])
        if path is None:
            raise self.fail(key, MISSING, what)
        # A path that does not exist (yet, or not mounted) fails that calendar alone at sync time.
        if path.exists() and path.is_dir() != folder:
            raise self.fail(key, table["path"], f"{what}; {path} is {'a file' if folder else 'a folder'}")
        return path
