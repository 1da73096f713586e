"""Snapshots: the full metadata of one project at one moment, in memory.

A :class:`Snapshot` is what the audit compares (before/after) and what the
snapshot file format stores. :func:`capture` reads one from any repository,
through the read-only wrapper.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ._model import Lineage, Link, ManifestEntry, Run, Scope, Version
from ._repository import ArtifactRepository, ReadOnlyRepository

__all__ = ["Snapshot", "capture"]


@dataclass(frozen=True)
class Snapshot:
    """Surviving versions of a project with their manifests, lineage and links."""

    scope: Scope
    taken_at: datetime
    versions: tuple[Version, ...]
    manifests: Mapping[str, tuple[ManifestEntry, ...]]
    lineage: Mapping[str, Lineage]
    links: Mapping[str, tuple[Link, ...]]
    dedupe: str = "collection"
    runs: Mapping[str, Run] = field(default_factory=dict)
    """Every run seen as a producer or consumer, by path."""

    def version(self, version_id: str) -> Version | None:
        for v in self.versions:
            if v.id == version_id:
                return v
        return None

    @property
    def by_id(self) -> dict[str, Version]:
        return {v.id: v for v in self.versions}


def capture(
    repository: ArtifactRepository,
    scope: Scope | str,
    *,
    dedupe: str = "collection",
    now: datetime | None = None,
) -> Snapshot:
    """Read a whole project through a read-only view of ``repository``."""
    repo = repository if isinstance(repository, ReadOnlyRepository) else ReadOnlyRepository(repository)
    sc = Scope.parse(scope) if isinstance(scope, str) else scope
    versions = tuple(sorted(repo.versions(sc), key=lambda v: (v.collection, v.index)))
    repo.prefetch_manifests([v.id for v in versions])  # one pipeline across collections, where it can
    manifests = {v.id: repo.manifest(v.id) for v in versions}
    lineage = {v.id: repo.lineage(v.id) for v in versions}
    links = {v.id: repo.links(v.id) for v in versions}
    runs: dict[str, Run] = {}
    for lin in lineage.values():
        for run in (lin.producer, *lin.consumers):
            if run is not None:
                runs[run.path] = run
    return Snapshot(
        scope=sc,
        taken_at=now or datetime.now(UTC),
        versions=versions,
        manifests=manifests,
        lineage=lineage,
        links=links,
        dedupe=dedupe,
        runs=runs,
    )
