"""One run at a time per configuration: cron may start a sync while the last one still runs.

The lock is ``fcntl.flock`` on a file in the user's cache dir (see ``lock_dir``), named from a hash of
the resolved config path. The kernel drops a flock when its process dies, so a killed run never leaves a
stale lock behind. On platforms without ``fcntl`` (Windows) runs are not locked.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import platformdirs

from followup_cal.errors import FollowupCalError, LockedError

APP_NAME = "followup-cal"

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


def lock_dir_name() -> str:
    return platformdirs.user_cache_dir(APP_NAME, appauthor=False)


def lock_dir() -> Path:
    """The user's cache dir. Not the runtime dir: cron runs without ``$XDG_RUNTIME_DIR``, so a cron run
    and a run from a login shell would find different runtime dirs and never see each other's lock."""
    path = Path(lock_dir_name())
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def lock_file(config_path: Path) -> Path:
    digest = hashlib.sha256(str(config_path.expanduser().resolve()).encode()).hexdigest()[:16]
    return lock_dir() / f"sync-{digest}.lock"


@contextmanager
def run_lock(config_path: Path) -> Iterator[None]:
    """Holds the lock for ``config_path`` while the block runs; LockedError when another run holds it."""
    if fcntl is None:
        yield
        return
    try:
        path = lock_file(config_path)
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as error:
        raise FollowupCalError(
            f"could not open the lock file in {lock_dir_name()}: {error.strerror}; "
            "make that folder writable (or set $XDG_CACHE_HOME)"
        ) from error
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockedError(
                f"another followup-cal sync is running for {config_path}; this run does nothing"
            ) from None
        yield
    finally:
        os.close(descriptor)  # closing the descriptor releases the flock
