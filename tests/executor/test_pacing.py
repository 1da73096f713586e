"""Pacing: rate limit, backoff honouring Retry-After, circuit breaker, through a faulty repository."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import pytest

import artifact_guard as ag
from artifact_guard import Policy, VersionState
from artifact_guard._pacing import CircuitBreaker, RateLimiter, RetryPolicy, call_with_retries

from ._support import NOW, PROJECT, FakeClock, FaultyRepository, seed

FAST = RetryPolicy(attempts=4, base=0.01, max_wait=0.05)


def _plan(fake: object) -> ag.Plan:
    return ag.plan(fake.repository(), PROJECT, Policy(keep_last=1), now=NOW)  # type: ignore[attr-defined]


# ---------------------------------------------------------------------- units


def test_rate_limiter_spaces_operations_evenly() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10.0, clock=clock, sleep=clock.sleep)
    start = clock()
    for _ in range(21):
        limiter.acquire()
    assert clock() - start == pytest.approx(2.0)


def test_rate_limiter_halves_on_429_pauses_everyone_and_climbs_back() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10.0, clock=clock, sleep=clock.sleep)
    limiter.on_rate_limited()
    assert limiter.rate == 5.0
    limiter.pause(3.0)
    before = clock()
    limiter.acquire()
    assert clock() - before >= 3.0
    for _ in range(20):
        limiter.on_success()
    assert limiter.rate == 10.0


def test_unlimited_rate_never_sleeps() -> None:
    clock = FakeClock()
    limiter = RateLimiter(None, clock=clock, sleep=clock.sleep)
    for _ in range(1000):
        limiter.acquire()
    assert clock.slept == []


def test_backoff_honours_retry_after_and_gives_up_after_the_attempts() -> None:
    clock = FakeClock()
    calls = []

    def always_limited() -> None:
        calls.append(1)
        raise ag.RateLimitedError("slow down", retry_after=7.0)

    with pytest.raises(ag.RateLimitedError):
        call_with_retries(always_limited, policy=RetryPolicy(attempts=3, base=0.1), sleep=clock.sleep)
    assert len(calls) == 3
    assert len(clock.slept) == 2 and all(7.0 <= s <= 7.7 for s in clock.slept)


def test_backoff_is_exponential_with_jitter_and_capped() -> None:
    clock = FakeClock()
    flaky = iter([ag.TransientError("502")] * 5)

    def call() -> str:
        exc = next(flaky, None)
        if exc is not None:
            raise exc
        return "ok"

    policy = RetryPolicy(attempts=6, base=1.0, max_wait=4.0)
    assert call_with_retries(call, policy=policy, sleep=clock.sleep, rng=random.Random(1)) == "ok"
    caps = [1.0, 2.0, 4.0, 4.0, 4.0]
    assert all(0 <= s <= cap for s, cap in zip(clock.slept, caps, strict=True))
    assert len(set(clock.slept)) == 5  # jittered, not a fixed ladder


def test_other_errors_are_not_retried() -> None:
    calls = []

    def refused() -> None:
        calls.append(1)
        raise ag.ConflictError("no")

    with pytest.raises(ag.ConflictError):
        call_with_retries(refused, policy=RetryPolicy(), sleep=lambda s: None)
    assert calls == [1]


def test_breaker_opens_on_consecutive_credential_errors_only() -> None:
    breaker = CircuitBreaker(3)
    breaker.record_failure(ag.AuthenticationError("bad key"))
    breaker.record_failure(ag.ProtectedAliasError("protected"))  # about a version, not the key
    breaker.record_failure(ag.PermissionDeniedError("no"))
    breaker.record_success()
    assert not breaker.open
    for _ in range(3):
        breaker.record_failure(ag.PermissionDeniedError("no"))
    assert breaker.open and "3 consecutive PermissionDeniedErrors" in (breaker.reason or "")


# ---------------------------------------------------------------------- through apply


def test_apply_paces_writes_at_the_requested_rate() -> None:
    fake = seed(collections={"ckpt": 11})
    repo = FaultyRepository(fake.repository())

    # Ten deletes at 50/s, evenly spaced: at least 9 gaps of 20 ms, whatever the concurrency.
    began = time.monotonic()
    result = ag.apply(_plan(fake), repo, rate=50.0, concurrency=4)
    assert result.ok and len(result.done) == 10
    assert time.monotonic() - began >= 0.18


def test_apply_rides_out_429s_and_5xx_and_every_operation_settles() -> None:
    fake = seed(collections={"a": 15, "b": 15})
    rng = random.Random(5)
    lock = threading.Lock()

    def flaky(arg: str, n: int) -> BaseException | None:
        with lock:
            roll = rng.random()
        if roll < 0.1:
            return ag.RateLimitedError("429", retry_after=0.01)
        if roll < 0.2:
            return ag.TransientError("500")
        return None

    plan = _plan(fake)
    repo = FaultyRepository(fake.repository(), {"*": flaky})
    result = ag.apply(plan, repo, concurrency=4, retry=RetryPolicy(attempts=8, base=0.001, max_wait=0.01))

    assert result.complete
    planned = {d.version.id for d in plan.deletions}
    # Every operation ends done, skipped or failed with a reason; nothing outside the plan is touched.
    assert set(result.done) | {v for v, _ in result.skipped} | {v for v, _ in result.failed} == planned
    assert {vid for _, vid in repo.writes} <= planned
    deleted = {v.id for v in fake.versions(include_deleted=True) if v.state is VersionState.DELETED}
    assert deleted <= planned and set(result.done) == deleted
    assert result.ok, result.failed  # with eight attempts the faults above never win


def test_breaker_stops_cleanly_then_resume_finishes(tmp_path: Path) -> None:
    fake = seed(collections={"ckpt": 12})
    plan = _plan(fake)
    key_ok = threading.Event()

    def refuse(arg: str, n: int) -> BaseException | None:
        return None if key_ok.is_set() else ag.AuthenticationError("API key refused")

    repo = FaultyRepository(fake.repository(), {"delete_version": refuse})
    journal = tmp_path / "ws.sqlite3"

    stopped = ag.apply(plan, repo, journal=journal, concurrency=1, breaker_threshold=3)

    assert not stopped.ok and stopped.stopped is not None
    assert "3 consecutive AuthenticationErrors" in stopped.stopped
    assert len(stopped.failed) == 3 and stopped.done == []
    assert len(stopped.pending) == len(plan.deletions) - 3
    assert repo.writes == []
    assert ag.journal_status(journal).stopped == stopped.stopped

    key_ok.set()
    finished = ag.resume(journal, repo)
    assert finished.ok and sorted(finished.done) == sorted(d.version.id for d in plan.deletions)
    assert sorted(vid for _, vid in repo.writes) == sorted(finished.done)


def test_progress_plain_lines_report_rate_and_eta(capsys: pytest.CaptureFixture[str]) -> None:
    from artifact_guard._progress import PlainProgress

    fake = seed(collections={"ckpt": 5})
    ag.apply(_plan(fake), fake.repository(), progress=PlainProgress(every=0.0))

    err = capsys.readouterr().err.splitlines()
    assert err[0] == "apply: 4 operations to run (0 settled earlier)"
    assert err[-1].startswith("apply: 4/4 settled (4 done, 0 skipped, 0 failed)")
    assert "ops/s, ETA" in err[-1]


def test_progress_true_off_a_terminal_prints_plain_lines(capsys: pytest.CaptureFixture[str]) -> None:
    fake = seed(collections={"ckpt": 3})
    ag.apply(_plan(fake), fake.repository(), progress=True)
    assert "apply: 2/2 settled" in capsys.readouterr().err


def test_without_a_journal_path_a_stopped_apply_saves_its_journal_for_resume() -> None:
    fake = seed(collections={"ckpt": 6})
    plan = _plan(fake)
    key_ok = threading.Event()
    repo = FaultyRepository(
        fake.repository(),
        {
            "delete_version": lambda a, n: (
                None if key_ok.is_set() else ag.PermissionDeniedError("read-only key")
            )
        },
    )

    stopped = ag.apply(plan, repo, concurrency=1, breaker_threshold=2)

    assert stopped.stopped and stopped.journal_path is not None and stopped.journal_path.is_file()
    key_ok.set()
    finished = ag.resume(stopped.journal_path, repo)
    assert finished.ok and len(finished.done) == len(plan.deletions)
