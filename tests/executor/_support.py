"""Shared builders for the executor tests: a small project, a fault-injecting repository, a fake clock."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta

from artifact_guard import (
    ArtifactRepository,
    CollectionRef,
    Lineage,
    Link,
    ManifestEntry,
    Scope,
    Version,
)
from fakes import FakeWandb

PROJECT = "team/proj"
NOW = datetime(2030, 1, 1, tzinfo=UTC)
"""The fakes' frozen clock, by which apply judges ages."""


def seed(
    fake: FakeWandb | None = None,
    *,
    collections: dict[str, int] | None = None,
    age: timedelta = timedelta(days=30),
) -> FakeWandb:
    """One finished run logging ``collections`` (name -> version count), every version ``age`` old."""
    fake = fake or FakeWandb(now=NOW)
    run = fake.create_run(PROJECT, "trainer")
    for name, count in (collections or {"ckpt": 6}).items():
        for i in range(count):
            fake.log_artifact(
                run,
                name,
                "model",
                {f"w{i}.bin": f"{name}-{i}".encode() * 10},
                created_at=fake.now() - age - timedelta(hours=count - i),
            )
    return fake


def version_of(fake: FakeWandb, collection: str, index: int) -> Version:
    return next(v for v in fake.versions(scope=PROJECT) if v.collection == collection and v.index == index)


class FakeClock:
    """A monotonic clock whose ``sleep`` only moves time forward."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.t

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.t += max(0.0, seconds)


class FaultyRepository:
    """Wraps a repository; ``script`` maps a method name to a callable deciding, per call, what to raise.

    ``calls`` counts calls per ``(method, argument)``; ``writes`` lists the
    write calls that reached the inner repository and succeeded.
    """

    def __init__(
        self,
        inner: ArtifactRepository,
        script: dict[str, Callable[[str, int], BaseException | None]] | None = None,
    ) -> None:
        self.inner = inner
        self.script = script or {}
        self.calls: Counter[tuple[str, str]] = Counter()
        self.writes: list[tuple[str, str]] = []
        self.default_rate: float | None = None
        self._lock = threading.Lock()

    def _enter(self, method: str, arg: str) -> None:
        with self._lock:
            self.calls[(method, arg)] += 1
            n = sum(c for (m, _), c in self.calls.items() if m == method)
        decide = self.script.get(method) or self.script.get("*")
        if decide is not None:
            exc = decide(arg, n)
            if exc is not None:
                raise exc

    def versions(self, scope: Scope) -> Iterator[Version]:
        self._enter("versions", str(scope))
        return self.inner.versions(scope)

    def version(self, version_id: str) -> Version:
        self._enter("version", version_id)
        return self.inner.version(version_id)

    def manifest(self, version_id: str) -> tuple[ManifestEntry, ...]:
        self._enter("manifest", version_id)
        return self.inner.manifest(version_id)

    def lineage(self, version_id: str) -> Lineage:
        self._enter("lineage", version_id)
        return self.inner.lineage(version_id)

    def links(self, version_id: str) -> tuple[Link, ...]:
        self._enter("links", version_id)
        return self.inner.links(version_id)

    def now(self) -> datetime:
        return self.inner.now()

    def delete_version(self, version_id: str, *, delete_aliases: bool = False) -> None:
        self._enter("delete_version", version_id)
        self.inner.delete_version(version_id, delete_aliases=delete_aliases)
        with self._lock:
            self.writes.append(("delete_version", version_id))

    def delete_collection(self, collection: CollectionRef) -> None:
        self._enter("delete_collection", str(collection))
        self.inner.delete_collection(collection)
        with self._lock:
            self.writes.append(("delete_collection", str(collection)))

    def remove_aliases(self, version_id: str, aliases: Iterable[str]) -> None:
        self._enter("remove_aliases", version_id)
        self.inner.remove_aliases(version_id, aliases)
