"""Google Calendar writes in batch requests: up to 50 calls in one ``multipart/mixed`` POST to the
API's batch endpoint (``/batch/calendar/v3``), through the client library's ``BatchHttpRequest``.

Each call in a batch is answered on its own, and each answer is read exactly as the single request's
(``google.py``): a 409 on an insert is :class:`AlreadyExists`, a 412 :class:`PreconditionFailed`, a
delete's 404/410 is done. A call answered with a rate limit or a 5xx is sent again alone, with backoff,
when its precondition makes that safe (a client-chosen id, an ``If-Match`` etag); that retry counts as
one whose earlier attempt may have landed. When the batch request itself fails transiently, the whole
batch is sent again (only when every call in it may be retried).
"""

from __future__ import annotations

import dataclasses
import functools
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from followup_cal.backends.base import CreateWrite, DeleteWrite, MarksWrite, UpdateWrite, Write
from followup_cal.backends.google_items import (
    Json,
    has_private,
    is_our_reminder,
    occurrence_id,
    private_marks,
    reminder_body,
)
from followup_cal.errors import BackendError, FollowupCalError, NotFound, TransientError

if TYPE_CHECKING:
    from followup_cal.backends.google import GoogleBackend
    from followup_cal.backends.google_service import ApiFailure


@dataclass(frozen=True)
class _Part:
    request: Callable[[], Any]  # a fresh request for the call, its If-Match header set
    retry: bool  # a transient failure may be retried: its precondition makes that safe
    event_id: str  # the event written (for a create: the id it is given)
    deletes: bool
    settle: Callable[[ApiFailure, bool], object]  # an error answer (tried?): returns when done, else raises
    alone: Callable[[bool], object]  # the call sent alone; (True: an earlier attempt may have landed)


def write_batch(backend: GoogleBackend, writes: Sequence[Write]) -> list[BaseException | None]:
    """``WritesInBatches.write_batch`` for Google (see base.py)."""
    if len(writes) > backend.batch_size:
        raise ValueError(f"at most {backend.batch_size} writes in one batch, got {len(writes)}")
    outcomes: list[BaseException | None] = [None] * len(writes)
    parts: dict[int, _Part] = {}
    later: list[int] = []  # writes that need more than one call: sent alone after the batch
    for index, write in enumerate(writes):
        made = _part(backend, write)
        if made is None:
            later.append(index)
        else:
            parts[index] = made
    if len(parts) == 1:
        ((index, only),) = parts.items()
        outcomes[index] = _guarded(functools.partial(only.alone, False))
    elif parts:
        answers, tried = _send(backend, parts)
        again: list[int] = []
        for index, part in parts.items():
            outcomes[index], transient = _outcome(backend, part, answers[index], tried)
            if transient:
                again.append(index)
        if again:
            _pause(backend)
        for index in again:
            part = parts[index]
            if part.retry:
                outcomes[index] = _guarded(functools.partial(part.alone, True))
            else:
                outcomes[index] = TransientError(
                    f"Calendar '{backend.name}': Google answered a write with a temporary error and it "
                    "cannot safely be sent again (it may or may not have been made); run sync again later"
                )
    for index in later:
        write = writes[index]
        assert isinstance(write, MarksWrite)
        outcomes[index] = _guarded(lambda w=write: backend.write_marks(w.href, w.etag, w.updates))  # type: ignore[misc]
    return outcomes


def _part(backend: GoogleBackend, write: Write) -> _Part | None:
    if isinstance(write, CreateWrite):
        draft = write.draft
        return _Part(
            request=lambda: backend.insert_request(draft),
            retry=True,
            event_id=draft.uid,
            deletes=False,
            settle=lambda failure, tried: backend.settle_create(draft, failure, tried=tried),
            alone=lambda tried: backend.create_sent(draft, tried=tried),
        )
    if isinstance(write, UpdateWrite):
        existing, draft = write.existing, write.draft
        return _conditional(
            backend,
            lambda: backend.patch_request(existing.href, reminder_body(draft)),
            existing.etag,
            "updating a reminder",
            existing.href,
            functools.partial(is_our_reminder, draft=draft),
            alone=lambda tried: backend.update_sent(existing, draft, tried=tried),
        )
    if isinstance(write, DeleteWrite):
        existing = write.existing
        part = _conditional(
            backend,
            lambda: backend.delete_request(existing.href),
            existing.etag,
            "deleting a reminder",
            existing.href,
            None,
            alone=lambda tried: backend.delete_sent(existing, tried=tried),
        )
        return dataclasses.replace(part, deletes=True, settle=_gone_is_done(part.settle))
    if len(write.updates) != 1 or occurrence_id(write.href, write.updates[0].recurrence_id) != write.href:
        return None  # another occurrence than the one read: its etag must be read first
    private = private_marks(write.updates[0])
    return _conditional(
        backend,
        lambda: backend.patch_request(write.href, {"extendedProperties": {"private": private}}),
        write.etag,
        "tagging an interview",
        write.href,
        functools.partial(has_private, private=private),
        alone=lambda tried: backend.marks_sent(write.href, write.etag, private, tried=tried),
    )


def _conditional(
    backend: GoogleBackend,
    make: Callable[[], Any],
    etag: str | None,
    what: str,
    event_id: str,
    landed: Callable[[Json], bool] | None,
    *,
    alone: Callable[[bool], object],
) -> _Part:
    def request() -> Any:
        built = make()
        if etag is not None:
            built.headers["If-Match"] = etag
        return built

    return _Part(
        request=request,
        retry=etag is not None,
        event_id=event_id,
        deletes=False,
        settle=lambda failure, tried: backend.settle_conditional(
            failure, what, event_id, landed, tried=tried
        ),
        alone=alone,
    )


def _gone_is_done(settle: Callable[[ApiFailure, bool], object]) -> Callable[[ApiFailure, bool], object]:
    def settled(failure: ApiFailure, tried: bool) -> object:
        try:
            return settle(failure, tried)
        except NotFound:
            return None  # already gone

    return settled


def _guarded(call: Callable[[], object]) -> BaseException | None:
    try:
        call()
    except FollowupCalError as error:
        return error
    return None


def _outcome(
    backend: GoogleBackend, part: _Part, answer: tuple[Any, Any], tried: bool
) -> tuple[BaseException | None, bool]:
    """What one call's answer means: (its failure or None, whether it failed transiently). What a call
    that is done left is recorded (``own_writes``)."""
    from followup_cal.backends.google_service import ApiFailure, error_details, is_transient

    response, error = answer
    if error is None:
        backend.record_write(part.event_id, None if part.deletes else response)
        return None, False
    status = int(error.resp.status)
    reason, message = error_details(error)
    if is_transient(status, reason):
        return None, True

    def settle() -> None:
        item = part.settle(ApiFailure(status, reason, message), tried)
        backend.record_write(part.event_id, None if part.deletes else item)  # type: ignore[arg-type]

    return _guarded(settle), False


class _Batch:
    """The calls as one request with ``execute(num_retries=...)``, as GoogleBackend.execute_request sends
    it; each execution sends a fresh batch and returns ``{index: (response, HttpError or None)}``."""

    def __init__(self, backend: GoogleBackend, parts: dict[int, _Part]) -> None:
        self.backend, self.parts = backend, parts

    def execute(self, http: Any = None, num_retries: int = 0) -> dict[int, tuple[Any, Any]]:
        from googleapiclient.errors import BatchError

        answers: dict[int, tuple[Any, Any]] = {}

        def heard(request_id: str, response: Any, error: Any) -> None:
            answers[int(request_id)] = (response, error)

        batch = self.backend.new_batch(heard)
        for index, part in self.parts.items():
            batch.add(part.request(), request_id=str(index))
        try:
            batch.execute(http=http)
        except (BatchError, KeyError) as error:  # a garbled answer, or one without every part
            raise BackendError(
                f"Calendar '{self.backend.name}': Google's answer to a batch of writes could not be read "
                f"({error}); try again later"
            ) from None
        return answers


def _send(backend: GoogleBackend, parts: dict[int, _Part]) -> tuple[dict[int, tuple[Any, Any]], bool]:
    """Sends the parts as one batch; returns the answers and whether the batch had to be sent again."""
    from followup_cal.backends.google_service import ApiFailure

    retries_before = backend.retries_here()
    retry = all(part.retry for part in parts.values())
    try:
        answers: dict[int, tuple[Any, Any]] = backend.execute_request(
            _Batch(backend, parts), retry=retry, what="writing a batch of changes"
        )
    except ApiFailure as failure:
        raise backend.error_for(failure, "writing a batch of changes") from None
    return answers, backend.retries_here() > retries_before


def _pause(backend: GoogleBackend) -> None:
    """The backoff before calls of a batch are sent again alone."""
    time.sleep(min(backend.backoff_cap, backend.backoff_base) * random.uniform(0.5, 1.0))
    backend.count_retry()
