"""Pacing: how fast the executor may talk to W&B, and when it must stop.

Four parts, each thread-safe and each with an injectable clock so tests run
without sleeping:

- :class:`RateLimiter`: a token bucket for write operations per second, for a
  fixed ``rate=N``. Every HTTP 429 halves the current rate (down to a floor)
  and pauses every worker for the server's ``Retry-After``; successes raise it
  back towards N. The limit W&B enforces is per project, so one worker's 429
  slows all of them.
- :class:`AdaptivePacer` (``rate="auto"``, the default): starts at W&B's
  guidance (``sleep(0.1)``: 10/s), climbs additively while writes succeed at
  steady latency, backs off multiplicatively on 429s and on latency rising
  above its baseline (wandb-core retries 429s itself, so that is often the
  only sign), never above a ceiling; calls in flight follow rate x latency.
- :func:`call_with_retries`: exponential backoff with full jitter (tenacity)
  on :class:`RateLimitedError` and :class:`TransientError`, never waiting less
  than the server's ``Retry-After`` when it gave one.
- :class:`CircuitBreaker`: after ``threshold`` consecutive authentication or
  permission errors, or operations throttled through every retry, the apply
  stops cleanly and says why, instead of hammering W&B with requests it will
  refuse.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import tenacity

from ._errors import (
    AuthenticationError,
    PermissionDeniedError,
    ProtectedAliasError,
    RateLimitedError,
    TransientError,
)

__all__ = [
    "AUTO_CEILING",
    "DEFAULT_RATE",
    "AdaptivePacer",
    "CircuitBreaker",
    "RateLimiter",
    "RetryPolicy",
    "backoff_delay",
    "call_with_retries",
    "check_ceiling",
]

DEFAULT_RATE = 10.0
"""Write operations per second: W&B's ``sleep(0.1)`` between calls."""

AUTO_CEILING = 100.0
"""``rate="auto"`` never goes above this many write operations per second unless the user raises it."""

_T = TypeVar("_T")
Clock = Callable[[], float]
Sleep = Callable[[float], None]


class RateLimiter:
    """A token bucket of ``rate`` operations per second, adaptive to HTTP 429.

    ``rate=None`` means no limit (for in-memory repositories). ``burst`` is how
    many operations may start back to back after a quiet spell; 1 keeps the
    calls evenly spaced, as W&B asks.
    """

    def __init__(
        self,
        rate: float | None,
        *,
        burst: int = 1,
        floor: float = 0.5,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        if rate is not None and not rate > 0:
            raise ValueError(f"rate must be > 0 operations per second, or None; got {rate!r}")
        if burst < 1:
            raise ValueError(f"burst must be >= 1, got {burst!r}")
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep
        self.ceiling = rate
        self._rate = rate
        self._floor = min(floor, rate) if rate is not None else floor
        self._burst = float(burst)
        self._tokens = float(burst)
        self._stamp = clock()
        self._not_before = 0.0
        self.waited = 0.0
        """Total seconds callers spent waiting here (for the summary)."""
        self.throttled = 0
        """How many times a 429 lowered the rate."""

    @property
    def rate(self) -> float | None:
        """The current rate (lower than the ceiling after 429s)."""
        with self._lock:
            return self._rate

    def acquire(self) -> None:
        """Block until one operation may start."""
        while True:
            with self._lock:
                now = self._clock()
                wait = self._not_before - now
                if wait <= 0 and self._rate is None:
                    return
                if wait <= 0 and self._rate is not None:
                    self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
                    self._stamp = now
                    if self._tokens >= 1.0:
                        self._tokens -= 1.0
                        return
                    wait = (1.0 - self._tokens) / self._rate
                self.waited += wait
            self._sleep(wait)

    def pause(self, seconds: float) -> None:
        """Hold every caller back for ``seconds`` (the server's ``Retry-After``)."""
        with self._lock:
            self._not_before = max(self._not_before, self._clock() + max(0.0, seconds))

    def on_rate_limited(self) -> None:
        """A 429 came back: halve the current rate, down to the floor."""
        with self._lock:
            self.throttled += 1
            if self._rate is not None:
                self._rate = max(self._floor, self._rate / 2)

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Around one call: a fixed rate does not limit calls in flight (the executor's threads do)."""
        yield

    def observe(self, seconds: float) -> None:
        """A call's latency: a fixed rate ignores it."""

    def on_success(self) -> None:
        """A write succeeded: climb back towards the ceiling (additively, 5% of it per success)."""
        with self._lock:
            if self._rate is not None and self.ceiling is not None and self._rate < self.ceiling:
                self._rate = min(self.ceiling, self._rate + self.ceiling * 0.05)


def check_ceiling(value: object, what: str = "max_rate") -> float:
    """A user-set rate ceiling, or ValueError in one line (0, negative, NaN, infinite, not a number)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"{what} must be a finite number of operations per second > 0, got {value!r}")
    return float(value)


class AdaptivePacer(RateLimiter):
    """``rate="auto"``: additive increase, multiplicative decrease, and a concurrency that follows.

    It starts at ``start`` (W&B's guidance, or the rate a previous run of the
    same journal ended at) and climbs while writes succeed at steady latency:
    by ``3 x start`` operations/s per second of successes before the first
    throttling signal; then by a tenth of the rate it was last throttled at
    up to 90% of that rate, and by a fiftieth above it (probing gently where
    the limit was). It halves on a 429 the executor sees (with the server's
    ``Retry-After`` pause) and drops by 15% when call latency rises well above
    its recent baseline, the only sign left when wandb-core absorbs 429s by
    retrying them itself. At most one decrease per ``cooldown`` seconds, so one burst
    of slow answers counts once. Never above ``ceiling``.

    Concurrency: :meth:`slot` lets at most ``rate x latency x 2`` calls be
    in flight (at least 1, at most ``max_concurrency``): enough to keep the
    rate busy, no more piled on a slow server.
    """

    def __init__(
        self,
        start: float,
        *,
        ceiling: float = AUTO_CEILING,
        max_concurrency: int = 16,
        floor: float = 0.5,
        cooldown: float = 1.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        super().__init__(ceiling, floor=floor, clock=clock, sleep=sleep)
        self._rate = min(max(start, floor), ceiling)
        self._start = self._rate
        self._max_concurrency = max(1, max_concurrency)
        self._cooldown = cooldown
        self._last_cut = -math.inf
        self._throttle_point: float | None = None
        self._samples: deque[float] = deque(maxlen=64)
        self._ewma: float | None = None
        self._in_flight = 0
        self._slots = threading.Condition(self._lock)
        self.latency_cuts = 0
        """How many times rising latency lowered the rate."""

    # -- signals ----------------------------------------------------------------

    def _cut(self, factor: float) -> bool:
        now = self._clock()
        if now - self._last_cut < self._cooldown or self._rate is None:
            return False
        self._last_cut = now
        self._throttle_point = self._rate
        self._rate = max(self._floor, self._rate * factor)
        return True

    def on_rate_limited(self) -> None:
        """A 429 reached the executor: halve (once per cooldown)."""
        with self._lock:
            self.throttled += 1
            self._cut(0.5)
            self._slots.notify_all()

    def on_success(self) -> None:
        """A write succeeded: climb (additively) towards the ceiling."""
        with self._lock:
            if self._rate is None or self.ceiling is None:
                return
            tp = self._throttle_point
            if tp is None:
                step = 3 * self._start
            elif self._rate < 0.9 * tp:
                step = max(1.0, tp * 0.1)  # back up to near where it was throttled, briskly
            else:
                step = max(0.5, tp * 0.02)  # then probe above it gently

            # ``step`` operations/s more per second's worth of successes at the current rate.
            self._rate = min(self.ceiling, self._rate + step / self._rate)

    def observe(self, seconds: float) -> None:
        """One write call's latency: a rise well above the baseline is read as throttling."""
        with self._lock:
            self._samples.append(seconds)
            baseline = min(self._samples)
            self._ewma = seconds if self._ewma is None else 0.7 * self._ewma + 0.3 * seconds
            rising = len(self._samples) >= 8 and self._ewma > max(3 * baseline, baseline + 0.25)
            if rising and self._cut(0.85):
                self.latency_cuts += 1
                self._ewma = baseline

    # -- concurrency ------------------------------------------------------------

    def concurrency(self) -> int:
        """How many calls may be in flight now."""
        with self._lock:
            return self._allowed()

    def _allowed(self) -> int:
        if self._rate is None or self._ewma is None:
            return self._max_concurrency
        return max(1, min(self._max_concurrency, math.ceil(self._rate * self._ewma * 2)))

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the in-flight slots while a call runs, and time it."""
        with self._slots:
            while self._in_flight >= self._allowed():
                self._slots.wait(timeout=0.05)
            self._in_flight += 1
        started = self._clock()
        try:
            yield
        finally:
            elapsed = self._clock() - started
            with self._slots:
                self._in_flight -= 1
                self._slots.notify()
            self.observe(elapsed)


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """Backoff on rate-limit and transient errors.

    ``attempts`` counts the first try. Waits grow as ``base * 2**n`` with full
    jitter, capped at ``max_wait`` seconds, and never below ``Retry-After``.
    """

    attempts: int = 6
    base: float = 0.5
    max_wait: float = 30.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be >= 1, got {self.attempts!r}")
        if self.base < 0 or self.max_wait < 0:
            raise ValueError("base and max_wait must be >= 0 seconds")


RETRYABLE = (RateLimitedError, TransientError)


class _BackoffWait(tenacity.wait.wait_base):
    """Full-jitter exponential backoff that honours ``Retry-After``."""

    def __init__(self, policy: RetryPolicy, limiter: RateLimiter | None, rng: random.Random) -> None:
        self._policy = policy
        self._limiter = limiter
        self._rng = rng

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        ceiling = min(self._policy.max_wait, self._policy.base * 2 ** (retry_state.attempt_number - 1))
        wait = self._rng.uniform(0, ceiling)
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        if isinstance(exc, RateLimitedError):
            if exc.retry_after is not None:
                # Small jitter on top so that workers paused together do not return together.
                wait = max(wait, exc.retry_after * (1 + self._rng.uniform(0, 0.1)))
            if self._limiter is not None:
                self._limiter.on_rate_limited()
                self._limiter.pause(wait)
        return wait


def backoff_delay(
    policy: RetryPolicy, attempt: int, exc: BaseException | None, rng: random.Random | None = None
) -> float:
    """Seconds to wait before try ``attempt + 1``: full jitter, capped, never below ``Retry-After``."""
    r = rng or random.Random()  # noqa: S311 - jitter, not secrets
    wait = r.uniform(0, min(policy.max_wait, policy.base * 2 ** (attempt - 1)))
    if isinstance(exc, RateLimitedError) and exc.retry_after is not None:
        wait = max(wait, exc.retry_after * (1 + r.uniform(0, 0.1)))
    return wait


def call_with_retries(
    fn: Callable[[], _T],
    *,
    policy: RetryPolicy,
    limiter: RateLimiter | None = None,
    sleep: Sleep = time.sleep,
    rng: random.Random | None = None,
    on_retry: Callable[[BaseException], None] | None = None,
) -> _T:
    """Call ``fn``; on :class:`RateLimitedError` or :class:`TransientError` wait and try again.

    After ``policy.attempts`` tries the last error is raised as it was. Any
    other error is raised at once.
    """

    def before_sleep(state: tenacity.RetryCallState) -> None:
        if on_retry is not None and state.outcome is not None:
            exc = state.outcome.exception()
            if exc is not None:
                on_retry(exc)

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(RETRYABLE),
        stop=tenacity.stop_after_attempt(policy.attempts),
        wait=_BackoffWait(policy, limiter, rng or random.Random()),  # noqa: S311 - jitter, not secrets
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    return retrying(fn)


def trips_breaker(exc: BaseException) -> bool:
    """Whether an error says the credentials or the server, not the operation, are the problem.

    A protected alias is a property of one version, not of the credentials. A
    429 that outlasted every retry means the server throttles everything: going
    on would only be refused again.
    """
    if isinstance(exc, RateLimitedError):
        return True
    return isinstance(exc, AuthenticationError | PermissionDeniedError) and not isinstance(
        exc, ProtectedAliasError
    )


class CircuitBreaker:
    """Opens after ``threshold`` consecutive credential errors; any success closes the count."""

    def __init__(self, threshold: int = 3) -> None:
        if threshold < 1:
            raise ValueError(f"threshold must be >= 1, got {threshold!r}")
        self.threshold = threshold
        self._lock = threading.Lock()
        self._consecutive = 0
        self._reason: str | None = None

    @property
    def open(self) -> bool:
        """Whether the apply must stop."""
        with self._lock:
            return self._reason is not None

    @property
    def reason(self) -> str | None:
        """Why the breaker opened, in words."""
        with self._lock:
            return self._reason

    def record_success(self) -> None:
        with self._lock:
            self._consecutive = 0

    def record_failure(self, exc: BaseException) -> bool:
        """Count an error; returns whether the breaker is now open."""
        if not trips_breaker(exc):
            return self.open
        with self._lock:
            self._consecutive += 1
            if self._consecutive >= self.threshold and self._reason is None:
                advice = (
                    "the server throttles every request; resume later"
                    if isinstance(exc, RateLimitedError)
                    else "check the API key and its permissions, then resume"
                )
                self._reason = (
                    f"stopped after {self._consecutive} consecutive {type(exc).__name__}s "
                    f"(last: {exc}); {advice}"
                )
            return self._reason is not None

    def trip(self, reason: str) -> None:
        """Open the breaker at once (e.g. the user interrupted)."""
        with self._lock:
            if self._reason is None:
                self._reason = reason
