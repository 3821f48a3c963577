"""A forwarding HTTP proxy on 127.0.0.1 for the CalDAV tests: sits in front of a real server and, when
told to, answers with an error (before or after forwarding the request, as a flaky network or a
failing load balancer would), demands Digest authentication, and records the methods it saw.
"""

from __future__ import annotations

import hashlib
import http.client
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

DIGEST_REALM = "followup-cal test"


@dataclass
class Fault:
    method: str
    status: int
    times: int = 1
    forward_first: bool = False  # the request reaches the server, but its answer is lost
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    path_suffix: str = ""  # only requests whose path ends so


@dataclass(frozen=True)
class Span:
    """One request the proxy answered: when it arrived and when its answer was ready (monotonic)."""

    method: str
    path: str
    status: int
    arrived: float
    done: float


class FlakyProxy:
    def __init__(self, target: str) -> None:
        self.target = urlsplit(target)
        self.faults: list[Fault] = []
        self.log: list[str] = []
        self.digest_user: tuple[str, str] | None = None  # (name, password): demand Digest auth
        self.nonce = uuid.uuid4().hex
        self.in_flight = 0
        self.most_in_flight = 0  # the most requests it had forwarded at once
        self.spans: list[Span] = []
        self._count_lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def handle_any(self) -> None:
                proxy.log.append(self.command)
                arrived = time.monotonic()
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if proxy.digest_user and not proxy.digest_ok(self.command, self.headers.get("Authorization")):
                    self.send_response(401)
                    self.send_header(
                        "WWW-Authenticate",
                        f'Digest realm="{DIGEST_REALM}", nonce="{proxy.nonce}", qop="auth"',
                    )
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                fault = next(
                    (
                        f
                        for f in proxy.faults
                        if f.method == self.command and f.times > 0 and self.path.endswith(f.path_suffix)
                    ),
                    None,
                )
                if fault is not None:
                    fault.times -= 1
                    if fault.forward_first:
                        proxy.forward(self.command, self.path, body, dict(self.headers.items()))
                    proxy.spans.append(Span(self.command, self.path, fault.status, arrived, time.monotonic()))
                    self.send_response(fault.status)
                    for key, value in fault.headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(fault.body)))
                    self.end_headers()
                    self.wfile.write(fault.body)
                    return
                status, headers, answer = proxy.forward(
                    self.command, self.path, body, dict(self.headers.items())
                )
                proxy.spans.append(Span(self.command, self.path, status, arrived, time.monotonic()))
                self.send_response(status)
                for key, value in headers:
                    if key.lower() not in (
                        "transfer-encoding",
                        "connection",
                        "content-length",
                        "date",
                        "server",
                    ):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_PUT = do_DELETE = do_REPORT = do_PROPFIND = do_OPTIONS = handle_any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.root = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def forward(
        self, method: str, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(self.target.hostname or "", self.target.port, timeout=10)
        headers = {k: v for k, v in headers.items() if k.lower() not in ("host", "connection")}
        # Counted here, not around the whole exchange: once the answer is on its way back the client
        # may send its next request, which must not look concurrent with this one.
        with self._count_lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            connection.request(method, path, body or None, headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()
            with self._count_lock:
                self.in_flight -= 1

    def digest_ok(self, method: str, header: str | None) -> bool:
        """Checks an RFC 7616 Digest answer (MD5, qop=auth)."""
        assert self.digest_user is not None
        if not header or not header.startswith("Digest "):
            return False
        fields = dict(re.findall(r'(\w+)="?([^",]*)"?', header[len("Digest ") :]))
        name, password = self.digest_user

        def md5(text: str) -> str:
            return hashlib.md5(text.encode()).hexdigest()

        ha1 = md5(f"{name}:{DIGEST_REALM}:{password}")
        ha2 = md5(f"{method}:{fields.get('uri', '')}")
        expected = md5(f"{ha1}:{self.nonce}:{fields.get('nc')}:{fields.get('cnonce')}:auth:{ha2}")
        return fields.get("username") == name and fields.get("response") == expected

    def url(self, real_url: str) -> str:
        return self.root + urlsplit(real_url).path.lstrip("/")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
