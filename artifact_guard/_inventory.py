"""Inventory: what a project holds, per type and collection, with dedupe-aware bytes.

W&B stores each file once per digest within its dedupe scope, so "stored bytes"
counts each digest once per collection, and "exclusive bytes" counts only what
deleting the whole collection would free: with ``dedupe="collection"`` (each
collection stores its own copy) that is all of it; with ``dedupe="project"``
only the digests no other collection of the scope references. The scope's
total counts each stored copy once. Reference entries (``s3://...``) are not
stored by W&B and count nowhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from ._errors import PlanError
from ._model import Scope
from ._repository import ArtifactRepository, ReadOnlyRepository

__all__ = ["CollectionInventory", "Inventory", "TypeInventory", "inventory"]


@dataclass(frozen=True, slots=True)
class CollectionInventory:
    """One collection: its versions and the bytes it stores."""

    name: str
    type: str
    versions: int
    pending: int
    stored_bytes: int
    exclusive_bytes: int
    """Bytes of digests referenced by no other collection in scope."""
    last_logged: datetime
    aliases: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TypeInventory:
    """Totals of one artifact type."""

    type: str
    collections: int
    versions: int
    stored_bytes: int
    exclusive_bytes: int
    """Bytes of digests referenced by no collection of another type."""


@dataclass(frozen=True, slots=True)
class Inventory:
    """A project's collections and types, and the bytes stored in all."""

    scope: Scope
    collections: tuple[CollectionInventory, ...]
    types: tuple[TypeInventory, ...]
    stored_bytes: int
    dedupe: str = "collection"

    def total_line(self) -> str:
        """One line: versions, collections and bytes stored (the inventory table's last line)."""
        from ._planner import format_bytes

        versions = sum(c.versions for c in self.collections)
        return (
            f"{versions} versions in {len(self.collections)} collections; "
            f"{format_bytes(self.stored_bytes)} stored "
            f"({self.stored_bytes} bytes; dedupe scope {self.dedupe})"
        )

    def to_json(self) -> dict[str, Any]:
        """The inventory as JSON (``inventory --json``): format ``artifact-guard-inventory`` version 1."""
        return {
            "format": "artifact-guard-inventory",
            "format_version": 1,
            "scope": str(self.scope),
            "dedupe": self.dedupe,
            "stored_bytes": self.stored_bytes,
            "types": [
                {
                    "type": t.type,
                    "collections": t.collections,
                    "versions": t.versions,
                    "stored_bytes": t.stored_bytes,
                    "exclusive_bytes": t.exclusive_bytes,
                }
                for t in self.types
            ],
            "collections": [
                {
                    "name": c.name,
                    "type": c.type,
                    "versions": c.versions,
                    "pending": c.pending,
                    "stored_bytes": c.stored_bytes,
                    "exclusive_bytes": c.exclusive_bytes,
                    "last_logged": c.last_logged.isoformat(),
                    "aliases": list(c.aliases),
                }
                for c in self.collections
            ],
        }


def inventory(
    repository: ArtifactRepository,
    scope: Scope | str,
    *,
    dedupe: Literal["collection", "project"] = "collection",
) -> Inventory:
    """Read every surviving version of ``scope`` and its manifest (read-only).

    ``dedupe`` is the scope in which the server shares stored files, as for :func:`artifact_guard.plan`.
    """
    if dedupe not in ("collection", "project"):
        raise PlanError(f"dedupe must be 'collection' or 'project', not {dedupe!r}")
    shared = dedupe == "project"
    repo = repository if isinstance(repository, ReadOnlyRepository) else ReadOnlyRepository(repository)
    sc = Scope.parse(scope) if isinstance(scope, str) else scope
    sizes: dict[str, int] = {}
    holders: dict[str, set[str]] = {}  # digest -> collections referencing it
    per: dict[str, dict[str, Any]] = {}
    listed = list(repo.versions(sc))
    repo.prefetch_manifests([v.id for v in listed])  # one pipeline across collections, where it can
    for v in listed:
        info = per.get(v.collection)
        if info is None:
            info = per[v.collection] = {
                "type": v.type,
                "versions": 0,
                "pending": 0,
                "digests": set(),
                "last": v.created_at,
                "aliases": set(),
            }
        info["versions"] += 1
        info["pending"] += v.state.value == "PENDING"
        info["last"] = max(info["last"], v.created_at)
        info["aliases"] |= v.aliases
        for entry in repo.manifest(v.id):
            if entry.ref is not None:
                continue
            sizes[entry.digest] = entry.size
            info["digests"].add(entry.digest)
            holders.setdefault(entry.digest, set()).add(v.collection)

    collections: list[CollectionInventory] = []
    for name in sorted(per):
        info = per[name]
        digests: set[str] = info["digests"]
        collections.append(
            CollectionInventory(
                name=name,
                type=info["type"],
                versions=info["versions"],
                pending=info["pending"],
                stored_bytes=sum(sizes[d] for d in digests),
                exclusive_bytes=sum(sizes[d] for d in digests if not shared or len(holders[d]) == 1),
                last_logged=info["last"],
                aliases=tuple(sorted(info["aliases"])),
            )
        )
    type_of = {name: info["type"] for name, info in per.items()}
    types: list[TypeInventory] = []
    for t in sorted({c.type for c in collections}):
        members = [c for c in collections if c.type == t]
        if shared:
            digests_t = {d for c in members for d in per[c.name]["digests"]}
            stored = sum(sizes[d] for d in digests_t)
            exclusive = sum(sizes[d] for d in digests_t if all(type_of[h] == t for h in holders[d]))
        else:
            stored = exclusive = sum(c.stored_bytes for c in members)
        types.append(
            TypeInventory(
                type=t,
                collections=len(members),
                versions=sum(c.versions for c in members),
                stored_bytes=stored,
                exclusive_bytes=exclusive,
            )
        )
    total = sum(sizes.values()) if shared else sum(c.stored_bytes for c in collections)
    return Inventory(sc, tuple(collections), tuple(types), total, dedupe)
