"""A vdir: a folder of ``.ics`` files, one VCALENDAR per file (khal, vdirsyncer).

href = the file name; etag = a hash of the file's bytes (mtimes are too coarse on some file systems to
see two writes in the same second). Writes go to a hidden temporary file in the same folder, are fsynced,
and then moved into place: ``os.link`` for a create (fails if the name is taken), ``os.replace`` for an
update after re-checking the etag. Hidden files and files not ending in ``.ics`` are ignored, as
vdirsyncer does.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from followup_cal.backends.objectstore import ObjectStoreBackend, content_etag
from followup_cal.errors import AlreadyExists, BackendError, NotFound, PreconditionFailed

SUFFIX = ".ics"


class VdirBackend(ObjectStoreBackend):
    def __init__(self, name: str, path: str | os.PathLike[str]) -> None:
        self.name = name
        self.path = Path(path).expanduser()

    def _folder(self) -> Path:
        if not self.path.is_dir():
            raise BackendError(
                f"Calendar {self.name!r}: the folder {self.path} does not exist; create it or fix 'path'."
            )
        return self.path

    def _file(self, href: str) -> Path:
        """The file of ``href``, refusing anything that would leave the folder."""
        folder = self._folder()
        bad = (
            not href.endswith(SUFFIX)
            or href.startswith(".")
            or any(sep in href for sep in ("/", "\\", "\x00"))
            or Path(href).name != href
        )
        target = folder / href
        if bad or target.resolve().parent != folder.resolve():
            raise BackendError(f"Calendar {self.name!r}: {href!r} is not a file name in {folder}.")
        return target

    def _hrefs(self) -> list[str]:
        folder = self._folder()
        try:
            names = sorted(entry.name for entry in os.scandir(folder) if entry.is_file())
        except OSError as exc:
            raise BackendError(f"Calendar {self.name!r}: cannot list {folder}: {exc.strerror}.") from exc
        return [name for name in names if name.endswith(SUFFIX) and not name.startswith(".")]

    def _read(self, href: str) -> bytes | None:
        try:
            return self._file(href).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise BackendError(f"cannot read {href}: {exc.strerror or exc}") from exc

    def _write_temp(self, data: bytes, mode: int | None) -> Path:
        fd, name = tempfile.mkstemp(dir=self._folder(), prefix=".followup-cal-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            if mode is not None:
                os.chmod(name, mode)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(name)
            raise
        return Path(name)

    def _sync_folder(self) -> None:
        with contextlib.suppress(OSError):
            fd = os.open(self._folder(), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def _store_new(self, href: str, data: bytes) -> None:
        target = self._file(href)
        temp = self._write_temp(data, 0o644 & ~_UMASK)
        try:
            os.link(temp, target)  # atomic, and fails when the name is taken (If-None-Match: *)
        except FileExistsError as exc:
            raise AlreadyExists(f"Calendar {self.name!r}: {href} already exists.") from exc
        except OSError as exc:
            raise BackendError(f"Calendar {self.name!r}: cannot write {target}: {exc.strerror}.") from exc
        finally:
            with contextlib.suppress(OSError):
                temp.unlink()
        self._sync_folder()

    def _current(self, href: str, etag: str | None) -> Path | None:
        """The file if it exists and still has ``etag``; None when gone."""
        target = self._file(href)
        data = self._read(href)
        if data is None:
            return None
        if etag is not None and content_etag(data) != etag:
            raise PreconditionFailed(f"Calendar {self.name!r}: {href} changed since it was read.")
        return target

    def _replace(self, href: str, data: bytes, etag: str | None) -> None:
        target = self._current(href, etag)
        if target is None:
            raise NotFound(f"Calendar {self.name!r}: {href} is gone; re-read the calendar.")
        try:
            mode: int | None = target.stat().st_mode & 0o7777
        except OSError:
            mode = None
        temp = self._write_temp(data, mode)
        try:
            os.replace(temp, target)
        except OSError as exc:
            with contextlib.suppress(OSError):
                temp.unlink()
            raise BackendError(f"Calendar {self.name!r}: cannot write {target}: {exc.strerror}.") from exc
        self._sync_folder()

    def _remove(self, href: str, etag: str | None) -> None:
        target = self._current(href, etag)
        if target is None:
            return
        try:
            target.unlink()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise BackendError(f"Calendar {self.name!r}: cannot delete {target}: {exc.strerror}.") from exc
        self._sync_folder()


def _read_umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


_UMASK = _read_umask()  # read once: os.umask can only be read by setting it
