"""Google's JSON error shape and the injectable faults of the Google stand-in (tests/google_standin.py)."""

from __future__ import annotations

from dataclasses import dataclass

from google_recurrence import Json

FAULT_REASONS = {
    403: ("usageLimits", "rateLimitExceeded", "Rate Limit Exceeded"),
    429: ("usageLimits", "rateLimitExceeded", "Rate Limit Exceeded"),
    500: ("global", "backendError", "Backend Error"),
    503: ("global", "backendError", "The service is currently unavailable."),
}


class ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str, domain: str = "global") -> None:
        super().__init__(message)
        self.code, self.reason, self.message, self.domain = code, reason, message, domain

    def body(self) -> Json:
        error = {"domain": self.domain, "reason": self.reason, "message": self.message}
        return {"error": {"code": self.code, "message": self.message, "errors": [error]}}


@dataclass
class Fault:
    status: int
    count: int
    method: str | None  # only requests with this HTTP method, None: any
    after_processing: bool  # do the work, then answer with the error (the client never sees the result)
