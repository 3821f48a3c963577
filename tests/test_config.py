"""Loading and validation of the TOML configuration (DESIGN.md "Configuration")."""

from __future__ import annotations

import importlib.resources
import tomllib
import zoneinfo
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from followup_cal.config import load as config
from followup_cal.config.load import (
    config_path,
    load_settings,
    parse_duration,
    parse_settings,
    system_timezone,
)
from followup_cal.errors import ConfigError

# The example of DESIGN.md, plus the calendar that its reminders_to names.
DESIGN_EXAMPLE = """\
timezone = "Europe/Berlin"           # optional, default: the system's zone
me = ["Alice@Example.com"]           # optional: your addresses

[rules]
thank_you_delay = "2h"
checkin_wait_days = 5
working_hours = "09:00-18:00"
workdays = ["mon", "tue", "wed", "thu", "fri"]
reminder_minutes = 30
window_past_days = 30
window_future_days = 120

[detect]
extra_keywords = ["coffee chat"]
exclude = ["mock interview"]
my_domains = ["Brightwave.io"]       # your employer's domains: interviews there are ones you give

[calendars.work]                     # one table per calendar; the name is the user's
type = "caldav"                      # caldav | google | ics | vdir
url = "https://dav.example.com/calendars/alice/work/"
username = "alice"
password_env = "DAV_PASSWORD"        # or password_command = ["pass", "show", "dav"]
reminders_to = "followups"           # optional: another [calendars.*] receives the reminders

[calendars.followups]
type = "ics"
path = "followups.ics"

[calendars.gmail]
type = "google"
calendar_id = "primary"
token_file = "~/.local/share/followup-cal/google-token.json"   # OAuth user token (authorized-user JSON)
api_endpoint = "http://127.0.0.1:8080/calendar/v3/"             # optional: a local stand-in of the API

[calendars.laptop]
type = "vdir"                        # a folder of .ics files (khal / vdirsyncer); "ics" is one file
path = "~/.calendars/personal"
"""


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_design_example_parses_to_expected_values(tmp_path: Path) -> None:
    path = write_config(tmp_path, DESIGN_EXAMPLE)
    settings = load_settings(path)

    assert settings.source == str(path)
    assert settings.timezone == ZoneInfo("Europe/Berlin")
    assert settings.me == ("alice@example.com",)
    rules = settings.rules
    assert rules.thank_you_delay == timedelta(hours=2)
    assert rules.checkin_wait_days == 5
    assert (rules.work_start, rules.work_end) == (time(9, 0), time(18, 0))
    assert rules.workdays == frozenset({0, 1, 2, 3, 4})
    assert rules.reminder_minutes == 30
    assert (rules.window_past_days, rules.window_future_days) == (30, 120)
    assert settings.detect.extra_keywords == ("coffee chat",)
    assert settings.detect.exclude == ("mock interview",)
    assert settings.detect.my_domains == ("brightwave.io",)

    assert list(settings.calendars) == ["work", "followups", "gmail", "laptop"]
    work = settings.calendars["work"]
    assert (work.name, work.type, work.reminders_to) == ("work", "caldav", "followups")
    assert work.options == {
        "url": "https://dav.example.com/calendars/alice/work/",
        "username": "alice",
        "password_env": "DAV_PASSWORD",
        "verify": True,
        "ca_bundle": None,
        "connections": 4,
    }
    # A relative path is taken from the configuration's folder.
    assert settings.calendars["followups"].options == {"path": tmp_path / "followups.ics"}
    gmail = settings.calendars["gmail"]
    assert gmail.reminders_to is None
    assert gmail.options == {
        "calendar_id": "primary",
        "token_file": Path.home() / ".local/share/followup-cal/google-token.json",
        "api_endpoint": "http://127.0.0.1:8080/calendar/v3/",
        "batch": True,
    }
    assert settings.calendars["laptop"].options == {"path": Path.home() / ".calendars/personal"}


def test_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, ""))
    assert settings.rules == config.Rules()
    assert settings.me == ()
    assert settings.calendars == {}
    assert isinstance(settings.timezone, ZoneInfo)


@pytest.mark.parametrize(("value", "expected"), [("DE", "DE"), (" us-ca ", "US-CA"), ("de-by", "DE-BY")])
def test_holidays_name_a_country_and_optionally_a_subdivision(value: str, expected: str) -> None:
    settings = parse_settings({"rules": {"holidays": value}}, "config.toml")
    assert settings.rules.holidays == expected


def test_google_defaults(tmp_path: Path) -> None:
    settings = parse_settings({"calendars": {"g": {"type": "google"}}}, "config.toml")
    options = settings.calendars["g"].options
    assert options["calendar_id"] == "primary"
    assert options["token_file"] == config.default_token_file()
    assert options["token_file"].name == "google-token.json"
    assert options["api_endpoint"] is None
    assert options["batch"] is True
    unbatched = parse_settings({"calendars": {"g": {"type": "google", "batch": False}}}, "config.toml")
    assert unbatched.calendars["g"].options["batch"] is False


MS_CLIENT = "00000000-0000-0000-0000-000000000000"


def test_microsoft_options_and_defaults() -> None:
    table = {"type": "microsoft", "client_id": MS_CLIENT}
    options = parse_settings({"calendars": {"o": table}}, "config.toml").calendars["o"].options
    assert options == {
        "client_id": MS_CLIENT,
        "calendar_id": "primary",
        "token_file": config.default_microsoft_token_file(),
        "api_endpoint": None,
        "authority": None,
    }
    assert options["token_file"].name == "microsoft-token.json"
    table |= {"api_endpoint": "http://127.0.0.1:9/v1.0/", "authority": "https://127.0.0.1:8/common"}
    options = parse_settings({"calendars": {"o": table}}, "config.toml").calendars["o"].options
    assert (options["api_endpoint"], options["authority"]) == (table["api_endpoint"], table["authority"])


def test_caldav_password_command_keyring_and_ca_bundle(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not really a certificate")
    data = {
        "calendars": {
            "a": {
                "type": "caldav",
                "url": "http://127.0.0.1:5232/a/",
                "username": "u",
                "password_command": ["pass", "show", "dav"],
                "ca_bundle": "ca.pem",
            },
            "b": {
                "type": "caldav",
                "url": "https://x.example/",
                "username": "u",
                "keyring": True,
                "verify": False,
            },
            "c": {"type": "caldav", "url": "https://x.example/", "keyring": False},
        }
    }
    calendars = parse_settings(data, "config.toml", base_dir=tmp_path).calendars
    assert calendars["a"].options["password_command"] == ["pass", "show", "dav"]
    assert calendars["a"].options["ca_bundle"] == bundle
    assert calendars["b"].options["keyring"] is True
    assert calendars["b"].options["verify"] is False
    assert "keyring" not in calendars["c"].options
    assert calendars["c"].options["username"] is None


def test_lenient_spellings_are_accepted() -> None:
    data = {
        "rules": {
            "working_hours": " 8:30 - 17:15 ",
            "workdays": ["Monday", "SAT", "sun"],
            "thank_you_delay": "1 hour 30 min",
        }
    }
    rules = parse_settings(data, "config.toml").rules
    assert (rules.work_start, rules.work_end) == (time(8, 30), time(17, 15))
    assert rules.workdays == frozenset({0, 5, 6})
    assert rules.thank_you_delay == timedelta(minutes=90)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2h", timedelta(hours=2)),
        ("90m", timedelta(minutes=90)),
        ("1h30m", timedelta(minutes=90)),
        ("45 min", timedelta(minutes=45)),
        ("1 day", timedelta(days=1)),
        ("1.5 hours", timedelta(minutes=90)),
        ("2H 5S", timedelta(hours=2, seconds=5)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "2", "h", "2x", "-2h", "2h-", "two hours", "1h30"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


CALDAV = {"type": "caldav", "url": "https://dav.example.com/cal/", "username": "alice"}

# (the configuration, the dotted key that the message must name, a fragment of what it must expect)
BAD_CONFIGS: list[tuple[dict[str, Any], str, str]] = [
    ({"timezone": "Europe/Berln"}, "timezone", 'did you mean "Europe/Berlin"'),
    ({"timezone": 1}, "timezone = 1", "IANA time zone name"),
    ({"me": "alice@example.com"}, "me", "a list of e-mail addresses"),
    ({"me": ["alice"]}, "me", "a list of e-mail addresses"),
    ({"colour": "blue"}, "colour", "unknown key"),
    ({"rule": {}}, "rule", 'did you mean "rules"'),
    ({"rules": 5}, "rules = 5", "a table"),
    ({"rules": {"thank_you_dealy": "2h"}}, "rules.thank_you_dealy", 'did you mean "thank_you_delay"'),
    ({"rules": {"thank_you_delay": "2 parsecs"}}, 'rules.thank_you_delay = "2 parsecs"', '"2h", "90m"'),
    ({"rules": {"thank_you_delay": 2}}, "rules.thank_you_delay = 2", "a duration"),
    ({"rules": {"thank_you_delay": "25h"}}, "rules.thank_you_delay", "from 1m to 23h59m"),
    ({"rules": {"checkin_wait_days": 0}}, "rules.checkin_wait_days = 0", "a whole number from 1 to 60"),
    ({"rules": {"checkin_wait_days": "5"}}, 'rules.checkin_wait_days = "5"', "a whole number from 1 to 60"),
    ({"rules": {"checkin_wait_days": True}}, "rules.checkin_wait_days = true", "a whole number"),
    (
        {"rules": {"working_hours": "9-18"}},
        'rules.working_hours = "9-18"',
        'expected "HH:MM-HH:MM", e.g. "09:00-18:00"',
    ),
    ({"rules": {"working_hours": "18:00-09:00"}}, "rules.working_hours", "the start before the end"),
    ({"rules": {"working_hours": "09:00-24:00"}}, "rules.working_hours", "hours 00-23"),
    ({"rules": {"workdays": []}}, "rules.workdays = []", "a non-empty list of days"),
    ({"rules": {"workdays": ["mon", "funday"]}}, "rules.workdays", '"mon", "tue"'),
    ({"rules": {"reminder_minutes": 721}}, "rules.reminder_minutes = 721", "from 1 to 720"),
    ({"rules": {"window_past_days": -1}}, "rules.window_past_days = -1", "from 0 to 3650"),
    ({"rules": {"window_future_days": 0}}, "rules.window_future_days = 0", "from 1 to 3650"),
    ({"rules": {"holidays": "XX"}}, 'rules.holidays = "XX"', "a country the holidays package knows"),
    ({"rules": {"holidays": "Germany"}}, 'rules.holidays = "Germany"', 'e.g. "DE" or "US-CA"'),
    ({"rules": {"holidays": "US-ZZ"}}, 'rules.holidays = "US-ZZ"', "a subdivision of US (AK, AL"),
    ({"rules": {"holidays": 49}}, "rules.holidays = 49", "a country code"),
    ({"detect": {"extra_keywords": "coffee chat"}}, "detect.extra_keywords", "a list of non-empty strings"),
    ({"detect": {"exclude": ["ok", 3]}}, "detect.exclude", "a list of non-empty strings"),
    ({"detect": {"keywords": []}}, "detect.keywords", "unknown key"),
    ({"detect": {"my_domains": "acme.com"}}, 'detect.my_domains = "acme.com"', "e-mail domains"),
    ({"detect": {"my_domains": ["jane@acme.com"]}}, "detect.my_domains", '"jane@acme.com" is not one'),
    ({"detect": {"my_domains": ["acme"]}}, "detect.my_domains", 'e.g. ["brightwave.io"]'),
    ({"detect": {"my_domains": ["acme.com", 7]}}, "detect.my_domains", "e-mail domains"),
    ({"calendars": {"work": "caldav"}}, 'calendars.work = "caldav"', "a table"),
    ({"calendars": {"work": {"url": "https://x/"}}}, "calendars.work.type is missing", '"caldav", "google"'),
    ({"calendars": {"work": {"type": "caldva"}}}, 'calendars.work.type = "caldva"', 'did you mean "caldav"'),
    ({"calendars": {"work": {"type": "caldav"}}}, "calendars.work.url is missing", "URL"),
    (
        {"calendars": {"work": {**CALDAV, "url": "ftp://x.example/"}}},
        "calendars.work.url",
        "an http:// or https:// URL",
    ),
    ({"calendars": {"work": {**CALDAV, "url": "dav.example.com"}}}, "calendars.work.url", "https://"),
    (
        {"calendars": {"work": {**CALDAV, "usernme": "a"}}},
        "calendars.work.usernme",
        'did you mean "username"',
    ),
    (
        {"calendars": {"work": {**CALDAV, "calendar_id": "primary"}}},
        "calendars.work.calendar_id",
        'unknown key for type = "caldav"; it belongs to type = "google"',
    ),
    (
        {"calendars": {"work": {**CALDAV, "password_env": "DAV", "keyring": True}}},
        "calendars.work",
        "at most one of password_env, password_command, keyring",
    ),
    (
        {"calendars": {"work": {**CALDAV, "password_command": []}}},
        "calendars.work.password_command",
        "a non-empty list of strings",
    ),
    (
        {"calendars": {"work": {**CALDAV, "password_command": "pass show dav"}}},
        "calendars.work.password_command",
        '["pass", "show", "dav"]',
    ),
    (
        {"calendars": {"work": {"type": "caldav", "url": "https://x.example/", "password_env": "P"}}},
        "calendars.work.username is missing",
        "user name",
    ),
    (
        {"calendars": {"work": {**CALDAV, "keyring": "yes"}}},
        'calendars.work.keyring = "yes"',
        "true or false",
    ),
    ({"calendars": {"work": {**CALDAV, "verify": "no"}}}, 'calendars.work.verify = "no"', "true or false"),
    (
        {"calendars": {"work": {**CALDAV, "ca_bundle": "/nonexistent/ca.pem"}}},
        "calendars.work.ca_bundle",
        "an existing file",
    ),
    (
        {"calendars": {"work": {**CALDAV, "reminders_to": "work"}}},
        'calendars.work.reminders_to = "work"',
        "another [calendars.NAME] table, not this one",
    ),
    (
        {
            "calendars": {
                "work": {**CALDAV, "reminders_to": "folowups"},
                "followups": {"type": "vdir", "path": "/x"},
            }
        },
        "calendars.work.reminders_to",
        'did you mean "followups"',
    ),
    (
        {"calendars": {"g": {"type": "google", "api_endpoint": "localhost:8080"}}},
        "calendars.g.api_endpoint",
        "an http:// or https:// URL",
    ),
    (
        {"calendars": {"g": {"type": "google", "calendar_id": ""}}},
        'calendars.g.calendar_id = ""',
        "a non-empty string",
    ),
    (
        {"calendars": {"g": {"type": "google", "token_file": 3}}},
        "calendars.g.token_file = 3",
        "a non-empty string",
    ),
    ({"calendars": {"o": {"type": "microsoft"}}}, "calendars.o.client_id is missing", "app registration"),
    (
        {"calendars": {"o": {"type": "microsoft", "client_id": "my-app"}}},
        'calendars.o.client_id = "my-app"',
        "the application (client) ID",
    ),
    (
        {
            "calendars": {
                "o": {"type": "microsoft", "client_id": MS_CLIENT, "authority": "http://login.example/"}
            }
        },
        "calendars.o.authority",
        "an https:// URL",
    ),
    (
        {"calendars": {"o": {"type": "microsoft", "client_id": MS_CLIENT, "url": "https://x.example/"}}},
        "calendars.o.url",
        'unknown key for type = "microsoft"; it belongs to type = "caldav"',
    ),
    ({"calendars": {"f": {"type": "ics"}}}, "calendars.f.path is missing", "an .ics file"),
    ({"calendars": {"d": {"type": "vdir", "path": ["a"]}}}, "calendars.d.path", "a non-empty string"),
    ({"calendars": {"my cal": {"type": "ics", "pth": "x"}}}, 'calendars."my cal".pth', 'did you mean "path"'),
]


@pytest.mark.parametrize(("data", "key", "expected"), BAD_CONFIGS, ids=[case[1] for case in BAD_CONFIGS])
def test_wrong_key_type_or_value_names_file_key_and_expectation(
    data: dict[str, Any], key: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(data, "config.toml")
    message = str(caught.value)
    assert message.startswith("config.toml: "), message
    assert key in message, message
    assert expected in message, message


def test_working_hours_message_matches_the_contract() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({"rules": {"working_hours": "9-18"}}, "config.toml")
    assert (
        str(caught.value)
        == 'config.toml: rules.working_hours = "9-18": expected "HH:MM-HH:MM", e.g. "09:00-18:00"'
    )


def test_ics_path_that_is_a_folder_and_vdir_path_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file.ics").write_text("")
    with pytest.raises(ConfigError, match=r"calendars\.f\.path = .*is a folder"):
        parse_settings({"calendars": {"f": {"type": "ics", "path": str(tmp_path)}}}, "c.toml")
    with pytest.raises(ConfigError, match=r"calendars\.d\.path = .*is a file"):
        parse_settings(
            {"calendars": {"d": {"type": "vdir", "path": "file.ics"}}}, "c.toml", base_dir=tmp_path
        )


def test_values_that_may_be_secrets_are_not_repeated() -> None:
    secret = "hunter2-Sup3r!"
    cases: list[dict[str, Any]] = [
        {**CALDAV, "password_env": secret},  # the password typed where the variable's name belongs
        {**CALDAV, "password_command": ["echo", secret, 3]},
        {**CALDAV, "url": f"https://alice:{secret}@dav.example.com/"},
    ]
    for table in cases:
        with pytest.raises(ConfigError) as caught:
            parse_settings({"calendars": {"work": table}}, "config.toml")
        assert secret not in str(caught.value)
        assert "calendars.work." in str(caught.value)


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write_config(tmp_path, 'timezone = "UTC"\n[rules]\nreminder_minutes = \n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(path) in str(caught.value)
    assert "line 3" in str(caught.value)


def test_errors_from_a_file_name_the_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[rules]\nworking_hours = "9-18"\n')
    with pytest.raises(ConfigError, match=r"config\.toml: rules\.working_hours"):
        load_settings(path)


def test_missing_file_says_where_it_looked_and_how_to_create_one(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "config.toml"
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert str(path) in message
    assert "followup-cal init" in message
    assert "README" in message


def test_a_folder_instead_of_a_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a folder"):
        load_settings(tmp_path)


def test_byte_order_mark_is_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes('\ufefftimezone = "Asia/Tokyo"\n'.encode())
    assert load_settings(path).timezone == ZoneInfo("Asia/Tokyo")


def test_design_example_is_valid_toml_as_written() -> None:
    # Guards the test above against a typo in the example itself.
    assert tomllib.loads(DESIGN_EXAMPLE)["calendars"]["work"]["type"] == "caldav"


def test_config_path_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FOLLOWUP_CAL_CONFIG", str(tmp_path / "from-env.toml"))
    assert config_path(str(tmp_path / "explicit.toml")) == tmp_path / "explicit.toml"
    assert config_path(None) == tmp_path / "from-env.toml"

    monkeypatch.setenv("FOLLOWUP_CAL_CONFIG", "")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    default = config_path(None)
    assert default.name == "config.toml"
    assert default.parent.name == "followup-cal"
    if default.is_relative_to(tmp_path):  # Linux and other XDG platforms
        assert default == tmp_path / "xdg" / "followup-cal" / "config.toml"

    monkeypatch.delenv("FOLLOWUP_CAL_CONFIG")
    assert config_path(None) == default


def test_config_path_expands_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FOLLOWUP_CAL_CONFIG", raising=False)
    assert config_path("~/cfg.toml") == Path.home() / "cfg.toml"


def make_etc(tmp_path: Path) -> Path:
    etc = tmp_path / "etc"
    etc.mkdir()
    return etc


def test_system_timezone_from_tz_variable(tmp_path: Path) -> None:
    etc = make_etc(tmp_path)
    assert system_timezone({"TZ": "America/New_York"}, etc) == ZoneInfo("America/New_York")
    assert system_timezone({"TZ": ":Europe/Paris"}, etc) == ZoneInfo("Europe/Paris")
    assert system_timezone({"TZ": "/usr/share/zoneinfo/Asia/Tokyo"}, etc) == ZoneInfo("Asia/Tokyo")


def test_system_timezone_from_localtime_link(tmp_path: Path) -> None:
    etc = make_etc(tmp_path)
    target = tmp_path / "usr/share/zoneinfo/posix/Europe/Berlin"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"")
    (etc / "localtime").symlink_to(target)
    (etc / "timezone").write_text("Asia/Tokyo\n")  # a stale Debian file loses to the link
    assert system_timezone({}, etc) == ZoneInfo("Europe/Berlin")


def test_system_timezone_from_etc_timezone_and_garbage(tmp_path: Path) -> None:
    etc = make_etc(tmp_path)
    (etc / "timezone").write_text("Australia/Sydney\n")
    assert system_timezone({"TZ": "Not/AZone"}, etc) == ZoneInfo("Australia/Sydney")


def test_system_timezone_falls_back_to_utc(tmp_path: Path) -> None:
    etc = make_etc(tmp_path)
    (etc / "timezone").write_bytes(b"\xff\xfe")
    (etc / "localtime").write_bytes(b"not a TZif file")
    assert system_timezone({"TZ": "../../etc/passwd"}, etc) == ZoneInfo("UTC")
    assert system_timezone({}, tmp_path / "missing") == ZoneInfo("UTC")


def zone_file_bytes(name: str) -> bytes:
    """The compiled zone file that zoneinfo itself would read."""
    for root in zoneinfo.TZPATH:
        candidate = Path(root) / name
        if candidate.is_file():
            return candidate.read_bytes()
    return importlib.resources.files("tzdata.zoneinfo").joinpath(*name.split("/")).read_bytes()


def test_system_timezone_from_localtime_contents(tmp_path: Path) -> None:
    etc = make_etc(tmp_path)
    (etc / "localtime").write_bytes(zone_file_bytes("Asia/Kolkata"))
    zone = system_timezone({}, etc)
    assert datetime(2026, 1, 1, tzinfo=zone).utcoffset() == timedelta(hours=5, minutes=30)


def test_connections_must_be_a_small_positive_number(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[calendars.work]\ntype = "caldav"\nurl = "https://dav.example.com/cal/"\nconnections = 0\n'
    )
    with pytest.raises(ConfigError) as failure:
        config.load_settings(path)
    assert "connections" in str(failure.value) and str(path) in str(failure.value)
    path.write_text(
        '[calendars.work]\ntype = "caldav"\nurl = "https://dav.example.com/cal/"\nconnections = 1\n'
    )
    assert config.load_settings(path).calendars["work"].options["connections"] == 1


def test_my_domains_default_to_the_work_addresses_of_me_and_can_be_turned_off() -> None:
    from followup_cal.core.detect import my_domains

    me = {"me": ["alice@gmail.com", "Alice@Brightwave.io", "a@yahoo.co.uk"]}
    assert parse_settings(me, "c.toml").detect.my_domains is None
    assert my_domains(parse_settings(me, "c.toml")) == {"brightwave.io"}
    assert my_domains(parse_settings({**me, "detect": {"my_domains": []}}, "c.toml")) == set()
    explicit = parse_settings({**me, "detect": {"my_domains": ["@acme.example"]}}, "c.toml")
    assert my_domains(explicit) == {"acme.example"}
