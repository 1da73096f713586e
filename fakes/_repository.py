"""FakeRepository: the ArtifactRepository Protocol over a FakeWandb."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from artifact_guard._model import CollectionKind, CollectionRef, Lineage, Link, ManifestEntry, Scope, Version

if TYPE_CHECKING:
    from ._backend import FakeWandb

__all__ = ["FakeRepository"]


class FakeRepository:
    """An in-memory :class:`~artifact_guard.ArtifactRepository`.

    ``write_calls`` records every write call made through it, in order, as
    ``(method, argument)`` pairs, so tests can prove a dry run made none.
    """

    default_rate: float | None = None
    """In memory: nothing to protect from load, so ``apply`` does not pace writes by default."""

    def __init__(self, fake: FakeWandb) -> None:
        self.fake = fake
        self.write_calls: list[tuple[str, str]] = []

    def versions(self, scope: Scope) -> Iterator[Version]:
        return self.fake.iter_versions(scope)

    def version(self, version_id: str) -> Version:
        return self.fake.version(version_id)

    def manifest(self, version_id: str) -> tuple[ManifestEntry, ...]:
        return self.fake.manifest(version_id)

    def lineage(self, version_id: str) -> Lineage:
        return self.fake.lineage(version_id)

    def links(self, version_id: str) -> tuple[Link, ...]:
        return self.fake.links(version_id)

    @property
    def dedupe_scope(self) -> str:
        """The scope in which the fake shares stored files: what a plan uses by default."""
        return self.fake.dedupe

    def entity_scopes(self, entity: str) -> list[Scope]:
        """Every project of an entity (an optional read: plans with entity dedupe need it)."""
        return [s for s in self.fake.scopes() if s.entity == entity]

    def referenced(self) -> dict[str, tuple[str, ...]]:
        """Every version live versions reference (``wandb-artifact://``), in any project, with their
        referrers: an optional read that lets a plan see referrers outside its own project."""
        return self.fake.referenced()

    def collection_exists(self, collection: CollectionRef) -> bool:
        """Whether a source collection exists, emptied ones included (an optional read the planner uses)."""
        info = self.fake.find_collection(collection.scope, collection.name)
        return info is not None and info.ref.kind is CollectionKind.SEQUENCE

    def now(self) -> datetime:
        """The fake's clock (``FakeWandb.now()``): writes judge ages by it."""
        return self.fake.now()

    def delete_version(self, version_id: str, *, delete_aliases: bool = False) -> None:
        self.write_calls.append(("delete_version", version_id))
        self.fake.delete_version(version_id, delete_aliases=delete_aliases)

    def delete_collection(self, collection: CollectionRef) -> None:
        self.write_calls.append(("delete_collection", str(collection)))
        self.fake.delete_collection(collection)

    def remove_aliases(self, version_id: str, aliases: Iterable[str]) -> None:
        self.write_calls.append(("remove_aliases", version_id))
        self.fake.remove_aliases(version_id, aliases)
