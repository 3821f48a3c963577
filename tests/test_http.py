"""The retry and URL helpers shared by the network backends."""

from __future__ import annotations

from datetime import UTC, datetime

from followup_cal.backends.http import RetryPolicy, is_transient, parse_retry_after, redact_url


def test_backoff_grows_is_jittered_and_bounded() -> None:
    policy = RetryPolicy(attempts=5, base_delay=0.5, max_delay=3.0)
    for retry_number, backoff in ((1, 0.5), (2, 1.0), (3, 2.0), (4, 3.0), (9, 3.0)):
        delays = {policy.delay(retry_number) for _ in range(50)}
        assert all(backoff / 2 <= d <= backoff for d in delays)
        assert len(delays) > 1  # jitter


def test_retry_after_is_honoured_up_to_the_bound() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0)
    assert policy.delay(1, retry_after=2.0) == 2.0
    assert policy.delay(1, retry_after=60.0) == 4.0


def test_wait_sleeps_the_delay() -> None:
    slept: list[float] = []
    RetryPolicy(base_delay=1.0, max_delay=1.0, sleep=slept.append).wait(1, retry_after=1.0)
    assert slept == [1.0]


def test_parse_retry_after() -> None:
    now = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Thu, 26 Nov 2026 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Thu, 26 Nov 2026 11:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_transient_statuses() -> None:
    assert all(is_transient(s) for s in (429, 500, 502, 503, 504))
    assert not any(is_transient(s) for s in (400, 401, 403, 404, 409, 412, 501))


def test_redact_url_drops_credentials() -> None:
    assert redact_url("https://alice:s3cret@dav.example.com:8443/cal/") == "https://dav.example.com:8443/cal/"
    assert redact_url("https://dav.example.com/cal/") == "https://dav.example.com/cal/"
    assert "s3cret" not in redact_url("https://alice:s3cret@[::1]/x")
