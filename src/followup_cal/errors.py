"""Every error followup-cal reports on purpose. Each class carries its exit status; ``cli.catch_errors``
turns them into one line for the user (a traceback only with ``-v``)."""

from __future__ import annotations

EXIT_OK = 0
EXIT_CALENDAR_FAILED = 1
EXIT_USAGE = 2


class FollowupCalError(Exception):
    """Base class. ``str(error)`` is the message shown to the user: what happened and what to do."""

    exit_code = EXIT_CALENDAR_FAILED


class ConfigError(FollowupCalError):
    """The configuration file is missing, unreadable or has a wrong key, type or value."""

    exit_code = EXIT_USAGE


class DataFileError(FollowupCalError):
    """A data file shipped with followup-cal (a language's word lists) cannot be read: the installation
    is broken."""


class UsageError(FollowupCalError):
    exit_code = EXIT_USAGE


class BackendError(FollowupCalError):
    """A calendar could not be read or written. The other calendars still sync."""


class AuthenticationError(BackendError):
    """The server refused the credentials (or the OAuth grant expired)."""


class TransientError(BackendError):
    """A rate limit, a 5xx answer or a network fault that may pass if retried."""


class PreconditionFailed(BackendError):
    """The stored object changed since it was read (ETag mismatch, HTTP 412). Re-read and re-plan."""


class AlreadyExists(BackendError):
    """A create found an object with that UID/id already there (HTTP 412 on If-None-Match, Google 409).

    It may be live, or a deleted one the server remembers (trash bin): look it up to tell.
    """


class NotFound(BackendError):
    """The object to update or delete is gone."""


class LockedError(FollowupCalError):
    """Another followup-cal run holds the lock."""

    exit_code = EXIT_OK


class MassRemovalRefused(BackendError):
    """A run would remove most of the reminders followup-cal wrote; it stops unless ``--force``."""
