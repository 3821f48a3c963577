"""Resolves a calendar's password from the place its configuration names, and keeps the files that hold
secrets (the config, a Google token) private: written with mode 0600, warned about when others can read them.

A password comes from an environment variable, a command's output or the system keyring; never from the
configuration file or the command line. No message here ever contains a password or a command's output.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from followup_cal.config.redact import register_secret
from followup_cal.core.settings import CalendarSettings, Settings
from followup_cal.errors import ConfigError

KEYRING_SERVICE = "followup-cal"
PASSWORD_COMMAND_TIMEOUT = 30  # seconds


def resolve_password(calendar: CalendarSettings) -> str | None:
    """The password for ``calendar``, or ``None`` when its configuration names no source for one.
    A password found is registered with :mod:`redact`, so no log line can show it."""
    options = calendar.options
    password: str | None = None
    if options.get("password_env"):
        password = _from_environment(calendar.name, str(options["password_env"]))
    elif options.get("password_command"):
        password = _from_command(calendar.name, [str(part) for part in options["password_command"]])
    elif options.get("keyring"):
        password = _from_keyring(calendar.name, str(options.get("username") or ""))
    register_secret(password, options.get("username"))
    return password


def _from_environment(calendar: str, variable: str) -> str:
    value = os.environ.get(variable, "")
    if not value:
        raise ConfigError(
            f"Calendar {calendar!r}: the environment variable {variable} (password_env) is not set or empty: "
            f"set it to the password before running followup-cal."
        )
    return value


def _from_command(calendar: str, command: list[str]) -> str:
    import subprocess  # here, not at the top: a no-op sync with password_env needs none

    program = command[0]
    where = f"Calendar {calendar!r}: password_command {program!r}"
    try:
        # A list and shell=False: no argument is ever interpreted by a shell. stderr is left to the
        # terminal so that the program's own complaints (a locked store, say) reach the user.
        finished = subprocess.run(
            command,
            shell=False,
            stdout=subprocess.PIPE,
            timeout=PASSWORD_COMMAND_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise ConfigError(f"{where} was not found: install it or give its full path.") from None
    except PermissionError:
        raise ConfigError(f"{where} cannot be run (permission denied): check the path.") from None
    except subprocess.TimeoutExpired:
        raise ConfigError(
            f"{where} did not finish within {PASSWORD_COMMAND_TIMEOUT} seconds: "
            "check that it does not wait for input."
        ) from None
    except OSError as error:
        raise ConfigError(
            f"{where} could not be started ({error.strerror or type(error).__name__})."
        ) from None
    if finished.returncode != 0:
        raise ConfigError(
            f"{where} failed with exit status {finished.returncode}: run it yourself to see why."
        )
    try:
        output = finished.stdout.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{where} printed something that is not UTF-8 text.") from None
    # Tools such as `pass show` print the password on the first line and notes after it.
    password = output.removesuffix("\n").removesuffix("\r").split("\n", 1)[0].removesuffix("\r")
    if not password:
        raise ConfigError(f"{where} printed nothing: it should print the password on its first line.")
    return password


def _from_keyring(calendar: str, username: str) -> str:
    import keyring
    import keyring.errors

    try:
        password = keyring.get_password(KEYRING_SERVICE, username)
    except keyring.errors.KeyringError as error:
        raise ConfigError(
            f"Calendar {calendar!r}: the system keyring could not be read ({type(error).__name__}): "
            "unlock it, or use password_env or password_command instead."
        ) from None
    if password is None:
        raise ConfigError(
            f"Calendar {calendar!r}: the keyring holds no password for {username!r}: "
            f"store it with `keyring set {KEYRING_SERVICE} {username}`."
        )
    return str(password)


def write_private_file(path: Path, text: str, *, overwrite: bool = True) -> None:
    """Writes ``text`` to ``path`` atomically (a temporary file beside it, synced, then renamed), with mode
    0600 (a folder it creates gets 0700). Without ``overwrite`` an existing file is never replaced, even
    one created a moment ago: FileExistsError."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(temporary, path)
        else:
            os.link(temporary, path)  # fails if the file exists
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)  # already gone after a replace


def warn_if_readable_by_others(path: Path) -> str | None:
    """A warning when ``path`` (a file holding secrets) can be read by its group or by other users."""
    mode = _mode_open_to_others(path)
    if mode is None:
        return None
    return f"{path} holds secrets but other users can read it (mode {mode:04o}): run `chmod 600 {path}`."


def config_warning(path: Path, settings: Settings) -> str | None:
    """A warning when the configuration names a ``password_command`` (the program followup-cal runs to
    get a password, and where the password lives) and other users can read or change the file."""
    if not any(cal.options.get("password_command") for cal in settings.calendars.values()):
        return None
    mode = _mode_open_to_others(path)
    if mode is None:
        return None
    return (
        f"{path} names a password_command but other users can read or change it (mode {mode:04o}): "
        f"run `chmod 600 {path}`."
    )


def _mode_open_to_others(path: Path) -> int | None:
    """The permission bits of ``path`` when its group or other users have any access to it; None when
    they have none or the file cannot be looked at."""
    if os.name != "posix":
        return None  # Windows has no such mode bits; its ACLs are another matter.
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    return mode if mode & 0o077 else None
