"""A real Radicale server for the CalDAV tests: started from the PyPI package as a subprocess on 127.0.0.1
and a free port, with its storage in a temporary folder, stopped afterwards.

Two variants: no authentication (any request is anonymous, or logged in as whatever Basic username it
carries) and htpasswd authentication (plain-text htpasswd file, Basic auth).
"""

from __future__ import annotations

import base64
import ipaddress
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

STARTUP_SECONDS = 20.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class RadicaleServer:
    root: str  # "http://127.0.0.1:PORT/"
    storage: Path
    users: dict[str, str]  # empty when the server does not authenticate
    process: subprocess.Popen[bytes]

    def url(self, path: str = "") -> str:
        return self.root + path.lstrip("/")

    def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        *,
        user: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        """One raw HTTP request (for test setup and checks, independent of the code under test)."""
        request = urllib.request.Request(self.url(path), data=body or None, method=method)
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        if user is not None:
            token = base64.b64encode(f"{user}:{self.users.get(user, 'x')}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        context = None
        if self.root.startswith("https:"):
            context = ssl.create_default_context(cafile=str(self.storage / "server.pem"))
        try:
            with urllib.request.urlopen(request, timeout=10, context=context) as response:
                return response.status, dict(response.headers.items()), response.read()
        except urllib.error.HTTPError as failure:
            return failure.code, dict(failure.headers.items()), failure.read()

    def put_ics(self, path: str, body: bytes, *, user: str | None = None) -> int:
        """PUTs an iCalendar object at ``path`` (a path, or a URL on this server); returns the status."""
        path = path.removeprefix(self.root.rstrip("/"))
        status, _, _ = self.request("PUT", path, body, user=user, headers={"Content-Type": "text/calendar"})
        return status

    def make_calendar(
        self, user: str, slug: str, display_name: str = "", components: tuple[str, ...] = ("VEVENT",)
    ) -> str:
        """Creates the calendar collection /<user>/<slug>/ with MKCALENDAR; returns its URL."""
        comps = "".join(f'<C:comp name="{name}"/>' for name in components)
        name_prop = f"<D:displayname>{display_name}</D:displayname>" if display_name else ""
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>'
            f"{name_prop}<C:supported-calendar-component-set>{comps}</C:supported-calendar-component-set>"
            "</D:prop></D:set></C:mkcalendar>"
        ).encode()
        path = f"/{user}/{slug}/"
        status, _, answer = self.request(
            "MKCALENDAR", path, body, user=user, headers={"Content-Type": "text/xml"}
        )
        if status != 201:
            raise RuntimeError(f"MKCALENDAR {path} answered {status}: {answer[:300]!r}")
        return self.url(path)

    def stop(self) -> None:
        stop_process(self.process)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Terminates a server process (killed if it has not exited 10 s later) and waits for it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_answering(server: RadicaleServer) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            output = (server.storage / "radicale.log").read_text(errors="replace")
            raise RuntimeError(f"radicale exited with {server.process.returncode}:\n{output[-2000:]}")
        try:
            server.request("OPTIONS", "/")
            return
        except OSError:
            time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"radicale did not answer on {server.root} within {STARTUP_SECONDS} s")


def write_self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (valid one day) and its key, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "followup-cal test server")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "server.pem", folder / "server.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def _memory_backed_temp() -> str | None:
    """/dev/shm when there is one: Radicale fsyncs every write, which costs ~40 ms on a disk."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


@contextmanager
def running_radicale(
    folder: Path | None = None,
    users: dict[str, str] | None = None,
    *,
    tls: bool = False,
    rights: str | None = None,
) -> Iterator[RadicaleServer]:
    """Starts Radicale with its storage in ``folder`` (default: a new temporary folder, removed
    afterwards); with ``users`` (name -> password) it requires htpasswd Basic authentication, otherwise
    none. With ``tls`` it serves HTTPS with a self-signed certificate (``folder / "server.pem"``). With
    ``rights`` (the text of a Radicale rights file) access follows that file instead of owner_only.
    Stops it on exit."""
    if folder is None:
        with (
            tempfile.TemporaryDirectory(prefix="radicale-", dir=_memory_backed_temp()) as temporary,
            running_radicale(Path(temporary), users, tls=tls, rights=rights) as server,
        ):
            yield server
        return
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "radicale",
        "--config",
        "",
        "--server-hosts",
        f"127.0.0.1:{port}",
        "--storage-filesystem-folder",
        str(folder / "collections"),
        "--rights-type",
        "owner_only" if rights is None else "from_file",
        "--web-type",
        "none",
        "--logging-level",
        "warning",
        "--auth-delay",  # no pause after a refused login: the tests try wrong passwords on purpose
        "0",
    ]
    if rights is not None:
        (folder / "rights").write_text(rights)
        args += ["--rights-file", str(folder / "rights")]
    if users:
        htpasswd = folder / "users"
        htpasswd.write_text("".join(f"{name}:{password}\n" for name, password in users.items()))
        args += [
            "--auth-type",
            "htpasswd",
            "--auth-htpasswd-filename",
            str(htpasswd),
            "--auth-htpasswd-encryption",
            "plain",
        ]
    else:
        args += ["--auth-type", "none"]
    scheme = "http"
    if tls:
        cert_file, key_file = write_self_signed_certificate(folder)
        args += ["--server-ssl", "--server-certificate", str(cert_file), "--server-key", str(key_file)]
        scheme = "https"
    # The log goes to a file: a pipe nobody reads could fill up and stall the server.
    with (folder / "radicale.log").open("wb") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    server = RadicaleServer(f"{scheme}://127.0.0.1:{port}/", folder, dict(users or {}), process)
    try:
        _wait_until_answering(server)
        yield server
    finally:
        server.stop()
