"""Fault injection for the fake server: per-operation schedules and per-project rate limits.

A :class:`FaultRule` answers matching GraphQL operations with an HTTP error
(429 with ``Retry-After``, 500, 502, ...) and/or added latency, either the next
``times`` matching requests or a ``fraction`` of them (drawn from a seeded
generator, so a test run is reproducible). A :class:`RateLimit` is a token
bucket per ``entity/project``: when empty, the request gets HTTP 429 with
``Retry-After``, ``RateLimit-Remaining`` and ``RateLimit-Reset``, the headers
W&B sends.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FaultDecision", "FaultRule", "Faults", "RateLimit"]

_ERROR_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


@dataclass
class FaultRule:
    """Answer matching operations with ``status`` and/or after ``latency`` seconds.

    ``operation`` is a GraphQL operation name, or ``"*"`` for every operation.
    With ``times`` the rule fires that many times then retires; with
    ``fraction`` it fires on that share of matching requests; with neither it
    fires on every match.
    """

    operation: str = "*"
    status: int | None = None
    latency: float = 0.0
    times: int | None = None
    fraction: float | None = None
    retry_after: float = 1.0
    fired: int = 0

    def __post_init__(self) -> None:
        if self.status is not None and self.status not in _ERROR_STATUSES:
            raise ValueError(f"fault status must be one of {sorted(_ERROR_STATUSES)}, not {self.status}")
        if self.latency < 0:
            raise ValueError("fault latency must be >= 0 seconds")
        if self.times is not None and self.times < 0:
            raise ValueError("fault times must be >= 0")
        if self.fraction is not None and not 0.0 <= self.fraction <= 1.0:
            raise ValueError("fault fraction must be between 0 and 1")
        if self.times is not None and self.fraction is not None:
            raise ValueError("give a fault either times or fraction, not both")

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FaultRule:
        """Build a rule from the JSON the ``/_fake/faults`` endpoint accepts."""
        known = {"operation", "status", "latency", "times", "fraction", "retry_after"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault fields {sorted(unknown)}; known: {sorted(known)}")
        return cls(
            operation=str(data.get("operation", "*")),
            status=None if data.get("status") is None else int(data["status"]),
            latency=float(data.get("latency", 0.0)),
            times=None if data.get("times") is None else int(data["times"]),
            fraction=None if data.get("fraction") is None else float(data["fraction"]),
            retry_after=float(data.get("retry_after", 1.0)),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "status": self.status,
            "latency": self.latency,
            "times": self.times,
            "fraction": self.fraction,
            "retry_after": self.retry_after,
            "fired": self.fired,
        }


@dataclass
class RateLimit:
    """A token bucket per project: ``rate`` requests per second, bursts up to ``burst``."""

    rate: float
    burst: int

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError("rate limit needs rate > 0 and burst >= 1")


@dataclass
class _Bucket:
    tokens: float
    stamp: float


@dataclass(frozen=True)
class FaultDecision:
    """What the server must do with one request."""

    latency: float = 0.0
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    reason: str = ""


class Faults:
    """The fault schedule of one server. Thread-safe."""

    def __init__(self, *, seed: int = 0, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._seed = seed
        self._clock = clock
        self._rules: list[FaultRule] = []
        self._rate_limit: RateLimit | None = None
        self._buckets: dict[str, _Bucket] = {}
        self._random = random.Random(seed)  # noqa: S311 - reproducible fault draws, not secrets

    def add(
        self,
        operation: str = "*",
        *,
        status: int | None = None,
        latency: float = 0.0,
        times: int | None = None,
        fraction: float | None = None,
        retry_after: float = 1.0,
    ) -> FaultRule:
        """Schedule a fault; returns the rule (its ``fired`` counts how often it fired)."""
        rule = FaultRule(operation, status, latency, times, fraction, retry_after)
        with self._lock:
            self._rules.append(rule)
        return rule

    def add_rule(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            self._rules.append(rule)
        return rule

    def rate_limit(self, rate: float | None, burst: int | None = None) -> None:
        """Limit every project to ``rate`` requests/second (bursts of ``burst``); None lifts it."""
        with self._lock:
            self._rate_limit = None if rate is None else RateLimit(rate, burst or max(1, math.ceil(rate)))
            self._buckets.clear()

    def clear(self) -> None:
        """Remove every rule and the rate limit."""
        with self._lock:
            self._rules.clear()
            self._rate_limit = None
            self._buckets.clear()
            self._random = random.Random(self._seed)  # noqa: S311

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            limit = self._rate_limit
            return {
                "rules": [r.to_json() for r in self._rules],
                "rate_limit": None if limit is None else {"rate": limit.rate, "burst": limit.burst},
            }

    def storage_latency(self, operation: str) -> float:
        """Seconds to add to a storage request (``"GET manifest"``): only rules naming it exactly
        apply (``"*"`` means every API operation), and storage is never rate-limited."""
        with self._lock:
            return sum(r.latency for r in self._rules if r.operation == operation)

    def decide(self, operation: str, project: str | None) -> FaultDecision:
        """Consume the schedule for one request of ``operation`` on ``project``."""
        with self._lock:
            latency = 0.0
            for rule in self._rules:
                if rule.operation not in ("*", operation):
                    continue
                if rule.times is not None and rule.fired >= rule.times:
                    continue
                if rule.fraction is not None and self._random.random() >= rule.fraction:
                    continue
                rule.fired += 1
                latency += rule.latency
                if rule.status is not None:
                    headers = {}
                    if rule.status == 429:
                        headers["Retry-After"] = _seconds(rule.retry_after)
                    return FaultDecision(latency, rule.status, headers, f"fault rule for {rule.operation}")
            return self._limit(operation, project, latency)

    def _limit(self, operation: str, project: str | None, latency: float) -> FaultDecision:
        limit = self._rate_limit
        if limit is None or project is None:
            return FaultDecision(latency)
        now = self._clock()
        bucket = self._buckets.get(project)
        if bucket is None:
            bucket = self._buckets[project] = _Bucket(float(limit.burst), now)
        bucket.tokens = min(float(limit.burst), bucket.tokens + (now - bucket.stamp) * limit.rate)
        bucket.stamp = now
        reset = (limit.burst - bucket.tokens) / limit.rate
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            headers = {
                "RateLimit-Limit": str(limit.burst),
                "RateLimit-Remaining": str(int(bucket.tokens)),
                "RateLimit-Reset": _seconds(reset + 1.0 / limit.rate),
            }
            return FaultDecision(latency, None, headers)
        wait = (1.0 - bucket.tokens) / limit.rate
        headers = {
            "Retry-After": _seconds(wait),
            "RateLimit-Limit": str(limit.burst),
            "RateLimit-Remaining": "0",
            "RateLimit-Reset": _seconds(reset),
        }
        return FaultDecision(latency, 429, headers, f"rate limit of project {project}")


def _seconds(value: float) -> str:
    # HTTP delta-seconds are whole numbers; round up so a client never retries early.
    return str(max(1, math.ceil(value)))
