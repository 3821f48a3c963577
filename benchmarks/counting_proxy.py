"""A forwarding HTTP/1.1 proxy on 127.0.0.1 that counts what a client costs: requests per method, bytes
the client received (status line, headers and body, exactly as sent to it), client connections, and the
time the client waited on the server. It keeps one upstream connection per client connection, so the
client's own keep-alive and pooling are what gets measured. Writes (PUT, DELETE, POST, PATCH) are
recorded for replay by the floor.

With ``latency_ms`` every request waits that long in the proxy, half before it is forwarded and half
before the answer goes back: a model of the round trips to a remote server.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "upgrade", "content-length"}
)
RECORDED_HEADERS = ("content-type", "if-match", "if-none-match")


@dataclass(frozen=True)
class RecordedWrite:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Traffic:
    requests: Counter[str] = field(default_factory=Counter)
    bytes_received: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    connections: int = 0
    # (start, end) per request, perf_counter seconds: from forwarding the request to having the whole
    # answer (the server's time) and from receiving the request to having sent the answer (the time the
    # client waited, the simulated latency included).
    server_intervals: list[tuple[float, float]] = field(default_factory=list)
    wait_intervals: list[tuple[float, float]] = field(default_factory=list)
    server_log: list[tuple[str, str, float]] = field(default_factory=list)  # method, path, server seconds

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    @property
    def total_bytes(self) -> int:
        return sum(self.bytes_received.values())

    @property
    def server_seconds(self) -> float:
        """The time the server was busy with this client's requests (overlapping requests count once)."""
        return union_seconds(self.server_intervals)

    @property
    def wait_seconds(self) -> float:
        """The time the client waited on answers, the simulated latency included (overlaps count once)."""
        return union_seconds(self.wait_intervals)

    def by_method(self) -> str:
        return " ".join(f"{method}:{count}" for method, count in sorted(self.requests.items())) or "-"

    def as_json(self) -> dict[str, Any]:
        return {
            "requests": dict(self.requests),
            "bytes_received": dict(self.bytes_received),
            "statuses": {str(status): count for status, count in self.statuses.items()},
            "connections": self.connections,
            "server_seconds": self.server_seconds,
            "wait_seconds": self.wait_seconds,
            "server_log": [[method, path, round(seconds, 4)] for method, path, seconds in self.server_log],
        }


def union_seconds(intervals: list[tuple[float, float]]) -> float:
    """The length of the union of ``intervals``: with parallel requests, time when at least one ran."""
    total = 0.0
    covered_until = float("-inf")
    for start, end in sorted(intervals):
        if end <= covered_until:
            continue
        total += end - max(start, covered_until)
        covered_until = end
    return total


class CountingProxy:
    def __init__(self, target_port: int, latency_ms: float = 0.0) -> None:
        self.target_port = target_port
        self.half_latency = latency_ms / 2000
        self.traffic = Traffic()
        self.recorded: list[RecordedWrite] = []
        self._lock = threading.Lock()
        # Requests being handled, counted until their bookkeeping is done: a client may read its answer
        # and exit before the handler thread has counted it, and take() must not miss that count.
        self._in_flight = 0
        self._idle = threading.Condition(self._lock)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            upstream: http.client.HTTPConnection | None = None

            def log_message(self, format: str, *args: object) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                with proxy._lock:
                    proxy.traffic.connections += 1

            def finish(self) -> None:
                super().finish()
                if self.upstream is not None:
                    self.upstream.close()

            def handle_any(self) -> None:
                with proxy._lock:
                    proxy._in_flight += 1
                try:
                    self.handle_counted()
                finally:
                    with proxy._lock:
                        proxy._in_flight -= 1
                        proxy._idle.notify_all()

            def handle_counted(self) -> None:
                received = time.perf_counter()
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                headers.pop("Host", None)
                if self.command in ("PUT", "DELETE", "POST", "PATCH"):
                    kept = {k: v for k, v in headers.items() if k.lower() in RECORDED_HEADERS}
                    with proxy._lock:
                        proxy.recorded.append(RecordedWrite(self.command, self.path, kept, body))
                if proxy.half_latency:
                    time.sleep(proxy.half_latency)
                forwarded = time.perf_counter()
                status, reason, answer_headers, answer = self.forward(body, headers)
                answered = time.perf_counter()
                if proxy.half_latency:
                    time.sleep(proxy.half_latency)
                head = [f"HTTP/1.1 {status} {reason}"]
                head += [f"{k}: {v}" for k, v in answer_headers if k.lower() not in HOP_BY_HOP]
                head.append(f"Content-Length: {len(answer)}")
                if self.close_connection:
                    head.append("Connection: close")
                raw = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + answer
                self.wfile.write(raw)
                self.wfile.flush()
                sent = time.perf_counter()
                with proxy._lock:
                    proxy.traffic.server_intervals.append((forwarded, answered))
                    proxy.traffic.wait_intervals.append((received, sent))
                    proxy.traffic.server_log.append((self.command, self.path, answered - forwarded))
                    proxy.traffic.requests[self.command] += 1
                    proxy.traffic.bytes_received[self.command] += len(raw)
                    proxy.traffic.statuses[status] += 1

            def forward(
                self, body: bytes, headers: dict[str, str]
            ) -> tuple[int, str, list[tuple[str, str]], bytes]:
                for attempt in (1, 2):  # Radicale may have closed an idle upstream connection
                    if self.upstream is None:
                        self.upstream = http.client.HTTPConnection(
                            "127.0.0.1", proxy.target_port, timeout=300
                        )
                    try:
                        self.upstream.request(self.command, self.path, body or None, headers)
                        response = self.upstream.getresponse()
                        answer = response.read()
                    except (ConnectionError, http.client.HTTPException):
                        self.upstream.close()
                        self.upstream = None
                        if attempt == 2:
                            raise
                        continue
                    if response.will_close:
                        self.upstream.close()
                        self.upstream = None
                    return response.status, response.reason, response.getheaders(), answer
                raise AssertionError("unreachable")

            do_GET = do_PUT = do_DELETE = do_REPORT = do_PROPFIND = do_OPTIONS = handle_any
            do_HEAD = do_POST = do_PATCH = do_PROPPATCH = do_MKCALENDAR = handle_any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port: int = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})
        self.thread.daemon = True
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def take(self) -> tuple[Traffic, list[RecordedWrite]]:
        """What was counted and recorded since the last call (after the requests being handled are
        counted); starts counting afresh."""
        with self._lock:
            self._idle.wait_for(lambda: self._in_flight == 0, timeout=30)
            traffic, recorded = self.traffic, self.recorded
            self.traffic, self.recorded = Traffic(), []
        return traffic, recorded

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
