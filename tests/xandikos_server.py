"""A real Xandikos server for the CalDAV tests: the PyPI package run as ``python -m xandikos serve`` on
127.0.0.1 and a free port, its git-backed store in a temporary folder, stopped afterwards.

Xandikos serves one principal, ``/user/``, with its calendars under ``/user/calendars/``. Unlike Radicale
it stores each calendar in a git repository and answers ``423 Locked`` when two writes reach one at the
same time, and ``412`` with ``no-uid-conflict`` when a UID is taken.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from radicale_server import STARTUP_SECONDS, RadicaleServer, _memory_backed_temp, free_port

PRINCIPAL = "/user/"


class XandikosServer(RadicaleServer):
    """The same raw-HTTP helpers as :class:`RadicaleServer` (so the tests written for one take the other);
    only the calendars' place differs."""

    def make_calendar(
        self, user: str, slug: str, display_name: str = "", components: tuple[str, ...] = ("VEVENT",)
    ) -> str:
        """Creates the calendar ``/user/calendars/<slug>/`` with MKCALENDAR; returns its URL. ``user`` is
        ignored: Xandikos serves one principal."""
        comps = "".join(f'<C:comp name="{name}"/>' for name in components)
        name_prop = f"<D:displayname>{display_name}</D:displayname>" if display_name else ""
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>'
            f"{name_prop}<C:supported-calendar-component-set>{comps}</C:supported-calendar-component-set>"
            "</D:prop></D:set></C:mkcalendar>"
        ).encode()
        path = f"{PRINCIPAL}calendars/{slug}/"
        status, _, answer = self.request(
            "MKCALENDAR", path, body, headers={"Content-Type": "application/xml; charset=utf-8"}
        )
        if status != 201:
            raise RuntimeError(f"MKCALENDAR {path} answered {status}: {answer[:300]!r}")
        return self.url(path)


def _wait_until_answering(server: XandikosServer, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            output = log.read_text(errors="replace")
            raise RuntimeError(f"xandikos exited with {server.process.returncode}:\n{output[-2000:]}")
        try:
            status, _, _ = server.request("PROPFIND", PRINCIPAL, headers={"Depth": "0"})
            if status == 207:
                return
        except OSError:
            pass
        time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"xandikos did not answer on {server.root} within {STARTUP_SECONDS} s")


@contextmanager
def running_xandikos(folder: Path | None = None) -> Iterator[XandikosServer]:
    """Starts Xandikos with its store in ``folder`` (default: a new temporary folder, removed afterwards),
    without authentication; the principal ``/user/`` exists. Stops it on exit."""
    if folder is None:
        with (
            tempfile.TemporaryDirectory(prefix="xandikos-", dir=_memory_backed_temp()) as temporary,
            running_xandikos(Path(temporary)) as server,
        ):
            yield server
        return
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "xandikos",
        "serve",
        "--directory",
        str(folder / "store"),
        "--state-dir",  # not $XDG_DATA_HOME: nothing of the tests lands in a real home
        str(folder / "state"),
        "--defaults",  # the principal, its calendar home and one calendar
        "--listen-address",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-detect-systemd",
    ]
    log = folder / "xandikos.log"
    # The log goes to a file: a pipe nobody reads could fill up and stall the server.
    with log.open("wb") as output:
        process = subprocess.Popen(args, stdout=output, stderr=subprocess.STDOUT)
    server = XandikosServer(f"http://127.0.0.1:{port}/", folder, {}, process)
    try:
        _wait_until_answering(server, log)
        yield server
    finally:
        server.stop()
