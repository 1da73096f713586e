"""The repository seam: everything artifact-guard reads from or writes to W&B.

Kept as narrow as httpx's transport: five reads (one of them the clock), three writes. The real adapter
(``artifact_guard.adapters.wandb``) and the fake (``fakes.FakeRepository``)
both implement it, and one contract suite checks they agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from ._errors import ReadOnlyViolation
from ._model import CollectionRef, Lineage, Link, ManifestEntry, Scope, Version

__all__ = ["ArtifactRepository", "ReadOnlyRepository", "WRITE_METHODS"]

WRITE_METHODS = ("delete_version", "delete_collection", "remove_aliases")


@runtime_checkable
class ArtifactRepository(Protocol):
    """Read and write access to W&B artifacts.

    Read side: ``versions``, ``version``, ``manifest``, ``lineage``, ``links``,
    and ``now``, the repository's own clock, by which writes judge ages.
    Write side: ``delete_version``, ``delete_collection``, ``remove_aliases``.
    Errors are those of :mod:`artifact_guard._errors`, never a library's own.
    """

    def versions(self, scope: Scope) -> Iterator[Version]:
        """Every surviving (pending or committed) version of every source collection in scope."""
        ...

    def version(self, version_id: str) -> Version:
        """Re-read one version, deleted ones included; :class:`NotFoundError` if unknown."""
        ...

    def manifest(self, version_id: str) -> tuple[ManifestEntry, ...]:
        """The files of one version."""
        ...

    def lineage(self, version_id: str) -> Lineage:
        """The run that logged the version and the runs that consumed it."""
        ...

    def links(self, version_id: str) -> tuple[Link, ...]:
        """The registry links whose source is this version."""
        ...

    def now(self) -> datetime:
        """The repository's clock (timezone-aware UTC): wall time for W&B, the fake's own clock for fakes."""
        ...

    def delete_version(self, version_id: str, *, delete_aliases: bool = False) -> None:
        """Soft-delete a version. With aliases and without ``delete_aliases``:
        :class:`AliasedVersionError`. Deleting a link only unlinks."""
        ...

    def delete_collection(self, collection: CollectionRef) -> None:
        """Delete every version of a sequence, or every link of a portfolio."""
        ...

    def remove_aliases(self, version_id: str, aliases: Iterable[str]) -> None:
        """Remove aliases from a version."""
        ...


class ReadOnlyRepository:
    """Wraps a repository so that any write call raises :class:`ReadOnlyViolation`.

    Every dry run (plan, simulate, audit) goes through this wrapper: the
    guarantee that a dry run writes nothing lives at the boundary, not in an
    ``if`` of the caller.
    """

    def __init__(self, inner: ArtifactRepository) -> None:
        self._inner = inner

    @property
    def inner(self) -> ArtifactRepository:
        return self._inner

    def versions(self, scope: Scope) -> Iterator[Version]:
        return self._inner.versions(scope)

    def version(self, version_id: str) -> Version:
        return self._inner.version(version_id)

    def manifest(self, version_id: str) -> tuple[ManifestEntry, ...]:
        return self._inner.manifest(version_id)

    def prefetch_manifests(self, version_ids: Iterable[str]) -> None:
        """The optional batched read, passed through when the inner repository offers it; else nothing.

        A read, so a dry run may send it: it fetches ahead what :meth:`manifest` is about to be asked.
        """
        prefetch = getattr(self._inner, "prefetch_manifests", None)
        if callable(prefetch):
            prefetch(version_ids)

    def lineage(self, version_id: str) -> Lineage:
        return self._inner.lineage(version_id)

    def links(self, version_id: str) -> tuple[Link, ...]:
        return self._inner.links(version_id)

    def now(self) -> datetime:
        clock = getattr(self._inner, "now", None)
        return clock() if callable(clock) else datetime.now(UTC)

    def delete_version(self, version_id: str, *, delete_aliases: bool = False) -> None:
        raise ReadOnlyViolation(f"read-only repository: refused delete_version({version_id!r})")

    def delete_collection(self, collection: CollectionRef) -> None:
        raise ReadOnlyViolation(f"read-only repository: refused delete_collection({collection})")

    def remove_aliases(self, version_id: str, aliases: Iterable[str]) -> None:
        raise ReadOnlyViolation(f"read-only repository: refused remove_aliases({version_id!r})")
