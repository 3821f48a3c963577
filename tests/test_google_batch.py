"""Google writes in batch requests: the real client library's BatchHttpRequest against the stand-in's batch
endpoint. A sync in batches ends exactly like one write per request, sends at most 50 calls a batch, and
reads every call's answer on its own (409, 412, gone, rate limits and 5xx retried alone)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from backend_contract import make_draft
from followup_cal.backends.base import CreateWrite, DeleteWrite, MarksWrite, UpdateWrite
from followup_cal.core.model import Kind, MarkUpdate, reminder_uid
from followup_cal.errors import AlreadyExists, PreconditionFailed
from followup_cal.run.sync import run
from google_helpers import make_backend
from google_standin import GoogleStandin
from scenarios import World, local
from test_google_scenarios import GoogleCalendarUser

WRITES = ("POST", "PATCH", "PUT", "DELETE")


def _seed_interviews(user: GoogleCalendarUser, count: int) -> None:
    for number in range(count):
        start = local(1, 10, month=12) + timedelta(days=number % 20, hours=number % 5)
        user.add(
            f"interview-{number}",
            f"Interview with Company {number}",
            start,
            start + timedelta(hours=1),
            organizer=(f"hr{number}@company{number}.example", f"Hiring Manager {number}"),
        )


def _reminders(world: World) -> dict[tuple[str, Kind], tuple[object, str, str]]:
    return {key: (e.start, e.summary, e.uid) for key, e in world.reminders().items()}


def test_a_sync_in_batches_ends_like_one_write_per_request() -> None:
    results = []
    for batch in (False, True):
        with GoogleStandin(timezone="Europe/Berlin") as standin:
            user = GoogleCalendarUser(standin)
            _seed_interviews(user, 30)
            # A deleted event at one reminder's derived id: Google answers 409, the next UID is used.
            taken = reminder_uid("interview-7", Kind.THANK_YOU, 0)
            standin.add_event("primary", {"id": taken, "iCalUID": taken, **_far_away()})
            standin.delete_event("primary", taken)
            world = World(make_backend(standin, name="cal", batch=batch), user)  # type: ignore[arg-type]
            ticks: list[int] = []
            report = run(
                world.settings,
                {"cal": world.backend},
                now=world.now,
                report=world.lines.append,
                progress=lambda _calendar, done, _total, ticks=ticks: ticks.append(done),
            )
            assert not report.failures
            assert ticks == list(range(1, 30 * 3 + 1))  # two reminders and one tag each
            single_writes = [r for r in standin.request_log if r.method in WRITES and not r.in_batch]
            if batch:
                # 60 inserts in 50 + 10, then 30 tags; the 409 goes on alone (a look-up, the next UID).
                assert sorted(standin.batch_sizes[:2]) == [10, 50] and standin.batch_sizes[2:] == [30]
                assert [(r.method, r.status) for r in single_writes] == [("POST", 200)]
            else:
                assert standin.batch_sizes == [] and len(single_writes) == 1 + 60 + 30
            results.append((sorted(world.lines), _reminders(world)))
            world.sync()
            assert world.lines == []  # converged
    assert results[0] == results[1]
    assert results[0][1][("interview-7", Kind.THANK_YOU)][2] == reminder_uid("interview-7", Kind.THANK_YOU, 1)


def _far_away() -> dict[str, object]:
    return {"start": {"dateTime": "2001-01-01T10:00:00Z"}, "end": {"dateTime": "2001-01-01T11:00:00Z"}}


def test_each_call_of_a_batch_is_answered_on_its_own(standin: GoogleStandin) -> None:
    backend = make_backend(standin)
    kept = backend.create(replace(make_draft(summary="kept"), uid=reminder_uid("a", Kind.THANK_YOU, 0)))
    stale = backend.create(replace(make_draft(summary="stale"), uid=reminder_uid("b", Kind.THANK_YOU, 0)))
    gone = backend.create(replace(make_draft(summary="gone"), uid=reminder_uid("c", Kind.THANK_YOU, 0)))
    standin.modify_event("primary", stale.href, {"summary": "edited by the user"})
    standin.delete_event("primary", gone.href)
    fresh = replace(make_draft(summary="fresh"), uid=reminder_uid("d", Kind.THANK_YOU, 0))
    # The first insert in the batch answers 503 (after being stored: the answer is lost); it is sent
    # again alone, meets its own 409 and is recognised as landed.
    standin.inject_faults(503, 1, method="POST", after_processing=True)
    standin.request_log.clear()
    outcomes = backend.write_batch(
        [
            CreateWrite(fresh),
            CreateWrite(replace(make_draft(summary="clash"), uid=kept.uid)),
            UpdateWrite(stale, replace(make_draft(summary="moved"), uid=stale.uid)),
            DeleteWrite(gone),
            MarksWrite(kept.href, kept.etag, (MarkUpdate(None, frozenset({Kind.THANK_YOU})),)),
        ]
    )
    assert outcomes[0] is None
    assert isinstance(outcomes[1], AlreadyExists)
    assert isinstance(outcomes[2], PreconditionFailed)
    assert outcomes[3] is None  # already gone is done
    assert outcomes[4] is None
    assert standin.batch_sizes == [5]
    assert backend.retries == 1
    alone = [(r.method, r.status) for r in standin.request_log if not r.in_batch]
    assert alone == [("POST", 409), ("GET", 200)]  # the retry alone, then reading what landed
    stored = {e["id"]: e for e in standin.events("primary")}
    assert stored[fresh.uid]["summary"] == "fresh"
    assert stored[stale.href]["summary"] == "edited by the user"
    assert stored[kept.href]["extendedProperties"]["private"]["followupCalIssued"] == "thank-you"


def test_a_rate_limited_batch_is_sent_again(standin: GoogleStandin) -> None:
    backend = make_backend(standin)
    drafts = [
        replace(make_draft(summary=f"r{n}"), uid=reminder_uid(f"s{n}", Kind.CHECK_IN, 0)) for n in range(3)
    ]
    standin.inject_faults(429, 1, method="BATCH")
    assert backend.write_batch([CreateWrite(d) for d in drafts]) == [None, None, None]
    assert standin.batch_sizes == [3] and backend.retries == 1
    assert {d.uid for d in drafts} <= {e["id"] for e in standin.events("primary")}


@pytest.mark.parametrize("batch", [True, False])
def test_the_batches_of_one_step_are_sent_at_once(batch: bool) -> None:
    """120 new reminders are three batches, sent together on their own connections (each held 0.3 s
    by the stand-in, so they overlap); without batching, one write at a time as before."""
    with GoogleStandin(timezone="Europe/Berlin") as standin:
        standin.batch_delay = 0.3
        user = GoogleCalendarUser(standin)
        _seed_interviews(user, 60)
        world = World(make_backend(standin, name="cal", batch=batch), user)  # type: ignore[arg-type]
        world.sync()
        assert len(world.reminders()) == 120
        if batch:
            assert sorted(standin.batch_sizes) == [10, 20, 50, 50, 50]  # 120 creates, then 60 tags
            assert standin.most_batches_at_once == 3
        else:
            assert standin.batch_sizes == [] and standin.most_batches_at_once == 0
