"""Pacing: rate limit, backoff honouring Retry-After, circuit breaker, through a faulty repository."""

from __future__ import annotations

import contextlib
import random
import threading
import time
from pathlib import Path

import pytest

import artifact_guard as ag
from artifact_guard import Policy, VersionState
from artifact_guard._pacing import AdaptivePacer, CircuitBreaker, RateLimiter, RetryPolicy, call_with_retries

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


# ---------------------------------------------------------------------- adaptive pacing (rate="auto")


def test_auto_climbs_additively_while_writes_succeed_and_never_passes_the_ceiling() -> None:
    clock = FakeClock()
    pacer = AdaptivePacer(10.0, ceiling=40.0, clock=clock, sleep=clock.sleep)
    rates = []
    for _ in range(10):  # ten successes at 10/s: one second's worth
        pacer.on_success()
    rates.append(pacer.rate)
    assert rates[0] == pytest.approx(10.0 + 30.0, rel=0.35)  # 3 x start per second before any throttling
    for _ in range(500):
        pacer.on_success()
    assert pacer.rate == 40.0


def test_auto_halves_on_a_429_once_per_cooldown_then_climbs_more_gently() -> None:
    clock = FakeClock()
    pacer = AdaptivePacer(40.0, ceiling=100.0, clock=clock, sleep=clock.sleep)
    pacer.on_rate_limited()
    pacer.on_rate_limited()  # the same burst: counted once
    assert pacer.rate == 20.0
    clock.sleep(1.5)
    pacer.on_rate_limited()
    assert pacer.rate == 10.0
    for _ in range(10):
        pacer.on_success()
    assert pacer.rate == pytest.approx(10.0 + 2.0, rel=0.2)  # a tenth of the rate it was throttled at


def test_auto_reads_rising_latency_as_throttling() -> None:
    # wandb-core retries 429s itself: the executor sees only that calls got slow.
    clock = FakeClock()
    pacer = AdaptivePacer(50.0, clock=clock, sleep=clock.sleep)
    for _ in range(20):
        pacer.observe(0.03)
    assert pacer.rate == 50.0
    for _ in range(3):
        pacer.observe(2.0)
    assert pacer.rate is not None and pacer.rate < 50.0
    assert pacer.latency_cuts == 1


def test_auto_concurrency_follows_rate_times_latency() -> None:
    clock = FakeClock()
    pacer = AdaptivePacer(20.0, max_concurrency=16, clock=clock, sleep=clock.sleep)
    for _ in range(10):
        pacer.observe(0.05)
    assert pacer.concurrency() == 2  # 20/s x 0.05 s x 2
    for _ in range(10):
        pacer.observe(0.5)
    assert pacer.concurrency() > 2


@pytest.mark.parametrize("bad", [0, -5, float("nan"), float("inf"), "fast"])
def test_a_bad_ceiling_is_a_one_line_value_error_before_anything(bad: object) -> None:
    fake = seed()
    repo = FaultyRepository(fake.repository())
    with pytest.raises(ValueError, match="max_rate") as info:
        ag.apply(_plan(fake), repo, max_rate=bad)  # type: ignore[arg-type]
    assert "\n" not in str(info.value)
    assert repo.writes == [] and not repo.calls


class _Paced(FaultyRepository):
    """A repository that asks to be paced (like W&B) and answers 429 to every write."""

    def __init__(self, inner: ag.ArtifactRepository, throttle: bool) -> None:
        super().__init__(
            inner,
            {
                "delete_version": lambda a, n: (
                    ag.RateLimitedError("429", retry_after=0.0) if throttle else None
                )
            },
        )
        self.default_rate = 1000.0  # high, so that waits stay short in real time


def test_the_journal_records_the_rate_reached_and_resume_starts_there(tmp_path: Path) -> None:
    fake = seed(collections={"ckpt": 30})
    journal = tmp_path / "ws.sqlite3"
    stopped = ag.apply(
        _plan(fake),
        _Paced(fake.repository(), throttle=True),
        journal=journal,
        sleep=lambda s: None,
        retry=FAST,
    )
    assert stopped.stopped is not None and "throttles every request" in stopped.stopped
    assert all(v.state is VersionState.COMMITTED for v in fake.versions(scope=PROJECT))
    from artifact_guard._journal import Journal

    j = Journal.open(journal, create=False)
    try:
        recorded = j.header(stopped.plan_id).options["rate"]
    finally:
        j.close()
    assert 0 < recorded < 1000.0  # throttled below where it started

    seen: list[float | None] = []
    original = AdaptivePacer.__init__

    def spy(self: AdaptivePacer, start: float, **kw: object) -> None:
        seen.append(start)
        original(self, start, **kw)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(AdaptivePacer, "__init__", spy)
        finished = ag.resume(journal, _Paced(fake.repository(), throttle=False), sleep=lambda s: None)
    assert seen == [recorded]
    assert finished.ok and len(finished.done) == 29


# ---------------------------------------------------------------------- batch re-validation


class _Batched(FaultyRepository):
    """Counts batch re-reads; answers them from the fake."""

    def __init__(self, inner: ag.ArtifactRepository) -> None:
        super().__init__(inner)
        self.batches = 0

    def versions_by_id(self, version_ids: list[str]) -> dict[str, ag.Version]:
        self.batches += 1
        out = {}
        for vid in version_ids:
            with contextlib.suppress(ag.NotFoundError):
                out[vid] = self.inner.version(vid)
        return out


def test_re_validation_reads_in_batches_of_at_most_a_tenth_of_a_request_per_deletion() -> None:
    fake = seed(collections={"a": 60, "b": 45})
    plan = ag.plan(fake.repository(), PROJECT, Policy(keep_last=1), now=NOW)
    repo = _Batched(fake.repository())

    result = ag.apply(plan, repo)

    assert result.ok and len(result.done) == 103
    assert repo.batches <= 0.1 * len(result.done)
    assert sum(c for (m, _), c in repo.calls.items() if m == "version") == 0


def test_a_change_after_the_batch_read_is_caught_by_a_stale_read_being_read_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from artifact_guard import _revalidate

    fake = seed(collections={"a": 6})
    plan = ag.plan(fake.repository(), PROJECT, Policy(keep_last=1), now=NOW)
    victim = plan.deletions[-1].version
    repo = _Batched(fake.repository())
    # Every batch read is stale by the time it is used: each write re-reads its version alone.
    monkeypatch.setattr(_revalidate, "REVALIDATE_MAX_AGE", -1.0)
    fake.add_aliases(victim.id, ["promoted"])

    result = ag.apply(plan, repo)

    assert victim.id in {vid for vid, _ in result.skipped}
    assert sum(c for (m, _), c in repo.calls.items() if m == "version") >= len(plan.deletions)
