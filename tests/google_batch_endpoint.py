"""The batch endpoint of the Google stand-in (tests/google_standin.py): ``POST /batch/calendar/v3`` with
up to 50 calls as ``multipart/mixed`` parts, each ``application/http`` with its own ``Content-ID`` and
Authorization, answered part by part in order with ``Content-ID: <response-ID>`` as Google documents
(developers.google.com/calendar/api/guides/batch). Each call is carried out, logged and faulted by the
stand-in exactly as if it had been sent alone."""

from __future__ import annotations

import email.parser
import json
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from google_standin import GoogleStandin

MAX_BATCH_CALLS = 50
BATCH_PATH = "/batch/calendar/v3"


@dataclass(frozen=True)
class RawAnswer:
    """An answer that is not JSON (the batch endpoint's multipart/mixed)."""

    content_type: str
    data: bytes


_REASONS = {200: "OK", 204: "No Content", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden"}
_REASONS |= {404: "Not Found", 409: "Conflict", 410: "Gone", 412: "Precondition Failed"}
_REASONS |= {429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}


def answer_batch(
    standin: GoogleStandin, method: str, headers: dict[str, str], raw_body: bytes
) -> tuple[int, Any]:
    """``POST /batch/calendar/v3``: each ``application/http`` part is one call, answered in order."""
    auth = headers.get("authorization", "")
    if not auth.startswith("Bearer ") or auth[len("Bearer ") :] not in standin.access_tokens:
        return 401, _error(401, "authError", "Invalid Credentials").body()
    content_type = headers.get("content-type", "")
    if method != "POST" or not content_type.startswith("multipart/mixed"):
        return 400, _error(400, "badRequest", "Batch requests must be multipart/mixed POSTs.").body()
    with standin.lock:
        fault = standin.take_fault("BATCH")
    if fault is not None:
        return standin.fault_answer(fault.status)
    message = email.parser.BytesParser().parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw_body
    )
    calls = message.get_payload() if message.is_multipart() else []
    if not isinstance(calls, list) or not calls:
        return 400, _error(400, "badRequest", "The batch request holds no calls.").body()
    if len(calls) > MAX_BATCH_CALLS:
        return 400, _error(
            400, "badRequest", f"A batch request holds at most {MAX_BATCH_CALLS} calls."
        ).body()
    with standin.lock:
        standin.batch_sizes.append(len(calls))
        standin.batches_in_flight += 1
        standin.most_batches_at_once = max(standin.most_batches_at_once, standin.batches_in_flight)
    try:
        time.sleep(standin.batch_delay)
        return _answer_calls(standin, calls)
    finally:
        with standin.lock:
            standin.batches_in_flight -= 1


def _answer_calls(standin: GoogleStandin, calls: list[Any]) -> tuple[int, Any]:
    boundary = f"batch_{uuid.uuid4().hex}"
    out: list[str] = []
    for call in calls:
        content_id = str(call.get("Content-ID", "")).strip()
        status, answer = _batch_call(standin, call.get_payload(decode=True) or b"")
        data = "" if answer is None else json.dumps(answer)
        head = f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
        if data:
            head += "Content-Type: application/json; charset=UTF-8\r\n"
        head += f"Content-Length: {len(data.encode())}\r\n"
        response_id = f"<response-{content_id[1:-1]}>" if content_id.startswith("<") else content_id
        out.append(
            f"--{boundary}\r\nContent-Type: application/http\r\nContent-ID: {response_id}\r\n\r\n"
            f"{head}\r\n{data}\r\n"
        )
    out.append(f"--{boundary}--\r\n")
    return 200, RawAnswer(f"multipart/mixed; boundary={boundary}", "".join(out).encode())


def _batch_call(standin: GoogleStandin, payload: bytes) -> tuple[int, Any]:
    """One ``application/http`` part: a request line, headers, a blank line, the body."""
    text = payload.decode("utf-8")
    request_line, _, rest = text.partition("\n")
    try:
        method, target, _version = request_line.strip().split(" ")
    except ValueError:
        return 400, _error(400, "badRequest", "Malformed call in the batch.").body()
    inner = email.parser.Parser().parsestr(rest)
    headers = {k.lower(): v for k, v in inner.items()}
    body = inner.get_payload()
    parts = urlsplit(target)
    path = parts.path
    if not path.startswith("/calendar/v3/"):
        return 404, _error(404, "notFound", "Not Found").body()
    query = parse_qs(parts.query, keep_blank_values=True)
    raw = body.encode() if isinstance(body, str) else b""
    return standin.call(method, path[len("/calendar/v3") :], query, headers, raw, in_batch=True)


def _error(code: int, reason: str, message: str) -> Any:
    from google_standin_errors import ApiError

    return ApiError(code, reason, message)
