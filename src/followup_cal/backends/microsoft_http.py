"""Plain HTTP to Microsoft Graph for the microsoft backend: one request, retried on throttling and
transient failures (429, 503, 504, ... with ``Retry-After``, bounded backoff), and many requests sent
through JSON ``$batch`` (at most 20 a batch, each sub-response handled on its own).

Graph lets an app run at most 4 requests at once against one mailbox: every HTTP request goes through a
semaphore of 4. ``submit`` lets threads that each have one request to send join them into one batch (the
sync runs its independent writes on several threads, see run/writes.py).
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from followup_cal.backends.http import DEFAULT_TIMEOUT, RetryPolicy, is_transient, parse_retry_after

log = logging.getLogger(__name__)

BATCH_SIZE = 20  # Graph's limit of requests in one $batch
CONCURRENT_REQUESTS = 4  # Graph's limit of requests at once against one mailbox
LINGER_SECONDS = 0.02  # how long a submitted request waits for others to share its batch
GRAPH_ENDPOINT = "https://graph.microsoft.com/v1.0/"


@dataclass
class GraphRequest:
    method: str
    path: str  # below the endpoint, query included: "me/calendar/events?$filter=..."
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    retry: bool = True  # sending it again is safe (a read, or a write whose precondition guards it)


@dataclass
class GraphAnswer:
    status: int  # 0: no answer came (the request failed on the way, even after retries)
    headers: dict[str, str]  # lower-case names
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def error(self) -> tuple[str, str]:
        """Graph's error ``(code, message)``."""
        error = self.body.get("error") if isinstance(self.body, dict) else None
        if isinstance(error, dict):
            return str(error.get("code", "")), str(error.get("message", ""))
        return "", ""


@dataclass
class _Slot:
    request: GraphRequest
    since: float
    answer: GraphAnswer | None = None
    failure: BaseException | None = None


class GraphTransport:
    def __init__(
        self,
        endpoint: str | None,
        access_token: Callable[[], str],
        *,
        policy: RetryPolicy | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.endpoint = (endpoint or GRAPH_ENDPOINT).rstrip("/") + "/"
        self.access_token = access_token
        self.policy = policy or RetryPolicy(attempts=8, base_delay=0.5)
        self.timeout = timeout
        self.retries = 0  # requests sent again after a transient failure, over the transport's life
        self._slots = threading.BoundedSemaphore(CONCURRENT_REQUESTS)
        self._queue: list[_Slot] = []
        self._cond = threading.Condition()
        self._token_lock = threading.Lock()  # one token refresh at a time

    # -- one request ----------------------------------------------------------------------------------

    def send(self, request: GraphRequest) -> GraphAnswer:
        """Sends one request; a transient failure is retried (when ``request.retry``) with backoff. The
        last answer is returned whatever its status (status 0: nothing came back)."""
        attempt = 0
        refreshed = False
        while True:
            answer = self._http(request.method, self.url(request.path), request.body, request.headers)
            if answer.status == 401 and not refreshed and self._refresh_token():
                refreshed = True  # the token was refused before it expired: one more try with a new one
                continue
            attempt += 1
            if not (answer.status == 0 or is_transient(answer.status)):
                return answer
            if not request.retry or attempt >= self.policy.attempts:
                return answer
            self.retries += 1
            self.policy.wait(attempt, parse_retry_after(answer.headers.get("retry-after")))

    def _token(self) -> str:
        with self._token_lock:
            return self.access_token()

    def _refresh_token(self) -> bool:
        """Asks the token source for a new access token, when it can (msal's does); False if not."""
        refresh = getattr(self.access_token, "refresh", None)
        if refresh is None:
            return False
        with self._token_lock:
            refresh()
        return True

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.endpoint + path.lstrip("/")

    def _relative(self, path: str) -> str:
        """A path below the endpoint, as a batch's sub-request names it (a next link is a whole URL)."""
        return path[len(self.endpoint) :] if path.startswith(self.endpoint) else path

    def owns(self, url: str) -> bool:
        """Whether ``url`` (a next or delta link) points at this endpoint, so the token may go there."""
        return url.startswith(self.endpoint)

    # -- many requests --------------------------------------------------------------------------------

    def send_all(self, requests: Sequence[GraphRequest]) -> list[GraphAnswer]:
        """Sends independent requests in batches of BATCH_SIZE, up to CONCURRENT_REQUESTS at once; the
        answers in the order of ``requests``."""
        chunks = [list(requests[i : i + BATCH_SIZE]) for i in range(0, len(requests), BATCH_SIZE)]
        if len(chunks) <= 1:
            return self._batch(chunks[0]) if chunks else []
        results: list[list[GraphAnswer]] = [[] for _ in chunks]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=CONCURRENT_REQUESTS) as pool:
            for index, answers in enumerate(pool.map(self._batch, chunks)):
                results[index] = answers
        return [answer for answers in results for answer in answers]

    def submit(self, request: GraphRequest) -> GraphAnswer:
        """Sends one request together with those other threads submit at about the same time."""
        slot = _Slot(request, time.monotonic())
        with self._cond:
            self._queue.append(slot)
            self._cond.notify_all()
        while True:
            with self._cond:
                chunk = self._take(slot)
            if chunk is None:
                break
            try:
                answers = self._batch([s.request for s in chunk])
            except BaseException as error:  # every waiter hears of it (an expired grant, say)
                with self._cond:
                    for waiting in chunk:
                        waiting.failure = error
                    self._cond.notify_all()
                raise
            with self._cond:
                for waiting, answer in zip(chunk, answers, strict=True):
                    waiting.answer = answer
                self._cond.notify_all()
        if slot.failure is not None:
            raise slot.failure
        assert slot.answer is not None
        return slot.answer

    def _take(self, slot: _Slot) -> list[_Slot] | None:
        """Under the lock: the next chunk for this thread to send, or None once ``slot`` is answered."""
        while True:
            if slot.answer is not None or slot.failure is not None:
                return None
            if not self._queue:
                self._cond.wait()
                continue
            waited = time.monotonic() - self._queue[0].since
            if len(self._queue) < BATCH_SIZE and waited < LINGER_SECONDS:
                self._cond.wait(LINGER_SECONDS - waited)
                continue
            chunk = self._queue[:BATCH_SIZE]
            del self._queue[:BATCH_SIZE]
            return chunk

    def _batch(self, requests: list[GraphRequest]) -> list[GraphAnswer]:
        """One ``$batch`` (a single request goes alone); sub-requests that met throttling or a transient
        failure are sent again, in a smaller batch, after the longest ``Retry-After`` among them."""
        if len(requests) == 1:
            return [self.send(requests[0])]
        answers: list[GraphAnswer | None] = [None] * len(requests)
        pending = list(range(len(requests)))
        attempt = 0
        while pending:
            got, whole = self._one_batch([requests[i] for i in pending])
            attempt += 1
            if whole:  # the batch as a whole failed, after the retries send() made of it
                for index, answer in zip(pending, got, strict=True):
                    answers[index] = answer
                break
            again: list[int] = []
            waits: list[float] = []
            for index, answer in zip(pending, got, strict=True):
                answers[index] = answer
                transient = answer.status == 0 or is_transient(answer.status)
                if transient and requests[index].retry and attempt < self.policy.attempts:
                    again.append(index)
                    waits.append(parse_retry_after(answer.headers.get("retry-after")) or 0.0)
            if again:
                self.retries += len(again)
                self.policy.wait(attempt, max(waits))
            pending = again
        return [answer for answer in answers if answer is not None]

    def _one_batch(self, requests: list[GraphRequest]) -> tuple[list[GraphAnswer], bool]:
        """The answers to one ``$batch``, and whether they are the batch's own failure (not its parts')."""
        if len(requests) == 1:
            return [self.send(requests[0])], True
        body = {
            "requests": [
                {
                    "id": str(number),
                    "method": request.method,
                    "url": "/" + self._relative(request.path).lstrip("/"),
                    **({"headers": request.headers} if request.headers else {}),
                    **({"body": request.body} if request.body is not None else {}),
                }
                for number, request in enumerate(requests, start=1)
            ]
        }
        if any(r.body is not None for r in requests):
            for sub in body["requests"]:
                if "body" in sub:
                    sub.setdefault("headers", {})["Content-Type"] = "application/json"
        # The batch as a whole is sent again only when every request in it may be.
        outer = GraphRequest("POST", "$batch", body, retry=all(r.retry for r in requests))
        answer = self.send(outer)
        if not answer.ok:
            return [answer] * len(requests), True
        by_id: dict[str, GraphAnswer] = {}
        for sub in (answer.body or {}).get("responses") or []:
            headers = {str(k).lower(): str(v) for k, v in (sub.get("headers") or {}).items()}
            by_id[str(sub.get("id"))] = GraphAnswer(int(sub.get("status", 0)), headers, sub.get("body"))
        missing = GraphAnswer(0, {}, {"error": {"code": "", "message": "no answer in the batch"}})
        return [by_id.get(str(number), missing) for number in range(1, len(requests) + 1)], False

    # -- the wire -------------------------------------------------------------------------------------

    def _http(self, method: str, url: str, body: Any, headers: dict[str, str]) -> GraphAnswer:
        data = None if body is None else json.dumps(body).encode()
        all_headers = {
            "Authorization": f"Bearer {self._token()}",
            "Accept": "application/json",
            **headers,
        }
        if data is not None:
            all_headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=all_headers)
        try:
            with self._slots:
                try:
                    with urllib.request.urlopen(request, timeout=self.timeout) as response:
                        status, raw_headers, raw = response.status, response.headers, response.read()
                except urllib.error.HTTPError as error:
                    status, raw_headers, raw = error.code, error.headers, error.read()
            answer_headers = {k.lower(): v for k, v in raw_headers.items()}
            parsed = json.loads(raw) if raw.strip() else None
        except (OSError, http.client.HTTPException, ValueError) as error:
            # OSError covers URLError and timeouts; HTTPException an answer cut short; ValueError a
            # garbled body.
            log.debug("%s %s failed: %s", method, _path_only(url), type(error).__name__)
            message = f"cannot reach Microsoft Graph ({type(error).__name__}: {error})"
            return GraphAnswer(0, {}, {"error": {"code": "unreachable", "message": message}})
        log.debug("%s %s -> %s", method, _path_only(url), status)
        return GraphAnswer(status, answer_headers, parsed)


def _path_only(url: str) -> str:
    """A URL for the log, without its query (delta and skip tokens are long and say nothing)."""
    return url.split("?", 1)[0]
