"""A fault-injecting HTTP proxy on 127.0.0.1 for the crash and network-fault tests.

It forwards every request to one real server (Radicale, or the Google stand-in) and asks a *plan* what to
do with each one first. A plan may leave the request alone or inject one fault:

- ``drop``: close the connection without an answer (the request never reaches the server);
- ``drop-after``: forward it, then close without an answer (the server did it, the client never hears);
- ``500`` / ``502`` / ``503``: answer that status without forwarding;
- ``stall``: say nothing until the client gives up (``stall_seconds``), then close;
- ``truncate``: forward it, then send the answer's headers with a Content-Length larger than the body
  that follows, and close;
- ``kill-before`` / ``kill-after``: SIGKILL the client process (``victim``) before forwarding the request,
  or after the server did it but before the client got the answer.

Every injected fault is counted by kind in ``injected``.
"""

from __future__ import annotations

import http.client
import os
import signal
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

WRITE_METHODS = frozenset({"PUT", "DELETE", "PATCH", "POST"})
STATUS_FAULTS = {"500": 500, "502": 502, "503": 503}
FAULT_KINDS = ("drop", "drop-after", "500", "502", "503", "stall", "truncate", "kill-before", "kill-after")
HOP_BY_HOP = frozenset({"transfer-encoding", "connection", "content-length", "keep-alive", "date", "server"})


@dataclass(frozen=True)
class Seen:
    """A request as the plan sees it."""

    method: str
    path: str
    body: bytes
    number: int  # 1 for the first request through the proxy
    write_number: int  # 1 for the first PUT/DELETE/PATCH/POST, 0 for a read

    @property
    def is_write(self) -> bool:
        return self.write_number > 0

    @property
    def key(self) -> tuple[str, str, bytes]:
        """Equal for a request and its retries."""
        return (self.method, self.path, self.body)


Plan = Callable[[Seen], str | None]


def no_faults(seen: Seen) -> str | None:
    return None


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that was killed or gave up leaves broken pipes behind: expected here


class FaultProxy:
    def __init__(self, target: str, plan: Plan = no_faults, *, stall_seconds: float = 3.0) -> None:
        self.target = urlsplit(target)
        self.plan = plan
        self.stall_seconds = stall_seconds
        self.victim: int | None = None  # the pid the kill faults kill
        self.injected: Counter[str] = Counter()
        self.requests = 0
        self.writes = 0
        self.lock = threading.Lock()
        self.closing = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the clients expect: a drop hits a reused socket

            def log_message(self, format: str, *args: object) -> None:
                pass

            def handle_any(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                seen = proxy.count(self.command, self.path, body)
                fault = proxy.plan(seen)
                if fault is not None:
                    assert fault in FAULT_KINDS, fault
                    with proxy.lock:
                        proxy.injected[fault] += 1
                if fault in ("drop", "stall", "kill-before") or fault in STATUS_FAULTS:
                    if fault == "stall":
                        proxy.closing.wait(proxy.stall_seconds)
                    elif fault == "kill-before":
                        proxy.kill_victim()
                    elif fault in STATUS_FAULTS:
                        self.answer(STATUS_FAULTS[fault], [("Content-Type", "text/plain")], b"injected fault")
                        return
                    self.close_connection = True
                    return
                status, headers, answer = proxy.forward(self.command, self.path, body, self.headers.items())
                if fault in ("drop-after", "kill-after"):
                    if fault == "kill-after":
                        proxy.kill_victim()
                    self.close_connection = True
                    return
                if fault == "truncate":
                    self.send_response(status)
                    self.copy_headers(headers)
                    self.send_header("Content-Length", str(len(answer) + 64))
                    self.end_headers()
                    self.wfile.write(answer[: len(answer) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.answer(status, headers, answer)

            def copy_headers(self, headers: list[tuple[str, str]]) -> None:
                for key, value in headers:
                    if key.lower() not in HOP_BY_HOP:
                        self.send_header(key, value)

            def answer(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
                self.send_response(status)
                self.copy_headers(headers)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_PUT = do_DELETE = do_REPORT = do_PROPFIND = do_OPTIONS = handle_any
            do_POST = do_PATCH = do_MKCALENDAR = handle_any

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.root = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def count(self, method: str, path: str, body: bytes) -> Seen:
        with self.lock:
            self.requests += 1
            write_number = 0
            if method in WRITE_METHODS:
                self.writes += 1
                write_number = self.writes
            return Seen(method, path, body, self.requests, write_number)

    def forward(
        self, method: str, path: str, body: bytes, headers: object
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        items: list[tuple[str, str]] = list(headers)  # type: ignore[call-overload]
        connection = http.client.HTTPConnection(self.target.hostname or "", self.target.port, timeout=30)
        kept = {k: v for k, v in items if k.lower() not in ("host", "connection", "keep-alive")}
        try:
            connection.request(method, path, body or None, kept)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def kill_victim(self) -> None:
        assert self.victim is not None, "a kill fault needs proxy.victim set to the client's pid"
        os.kill(self.victim, signal.SIGKILL)

    def reset(self, plan: Plan = no_faults) -> None:
        with self.lock:
            self.plan = plan
            self.requests = self.writes = 0
            self.victim = None

    def url(self, real_url: str) -> str:
        return self.root + urlsplit(real_url).path.lstrip("/")

    def close(self) -> None:
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()
