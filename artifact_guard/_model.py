"""Immutable value types describing W&B artifacts as artifact-guard sees them."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from ._errors import NotFoundError

__all__ = [
    "CollectionKind",
    "CollectionRef",
    "Lineage",
    "Link",
    "ManifestEntry",
    "Run",
    "Scope",
    "Version",
    "VersionState",
]


class VersionState(enum.Enum):
    """Lifecycle of an artifact version on the server."""

    PENDING = "PENDING"
    """Still uploading: its files may be half there."""
    COMMITTED = "COMMITTED"
    DELETED = "DELETED"
    """Soft-deleted: hidden from listings; its files go at the next garbage collection."""


class CollectionKind(enum.Enum):
    """A source sequence owns versions; a registry portfolio only links to them."""

    SEQUENCE = "sequence"
    PORTFOLIO = "portfolio"


def _split_path(path: str, parts: int, what: str) -> list[str]:
    pieces = path.split("/")
    if len(pieces) != parts or not all(pieces):
        shape = "/".join(["entity", "project", "name"][:parts])
        raise NotFoundError(f"malformed {what} {path!r}: expected {shape}")
    return pieces


@dataclass(frozen=True, slots=True)
class Scope:
    """An ``entity/project``: the unit a plan covers."""

    entity: str
    project: str

    @classmethod
    def parse(cls, path: str) -> Scope:
        """Parse ``"entity/project"``; raises :class:`NotFoundError` naming a malformed path."""
        entity, project = _split_path(path, 2, "scope")
        return cls(entity, project)

    def __str__(self) -> str:
        return f"{self.entity}/{self.project}"


@dataclass(frozen=True, slots=True)
class CollectionRef:
    """One collection: a source sequence, or a registry portfolio."""

    entity: str
    project: str
    name: str
    kind: CollectionKind = CollectionKind.SEQUENCE

    @classmethod
    def parse(cls, path: str, kind: CollectionKind = CollectionKind.SEQUENCE) -> CollectionRef:
        """Parse ``"entity/project/name"``."""
        entity, project, name = _split_path(path, 3, "collection")
        return cls(entity, project, name, kind)

    @property
    def scope(self) -> Scope:
        return Scope(self.entity, self.project)

    def __str__(self) -> str:
        return f"{self.entity}/{self.project}/{self.name}"


class ManifestEntry(NamedTuple):
    """One file of a version's manifest.

    ``digest`` is the base64 MD5 W&B uses to store each file once. A reference
    entry (``ref`` set, e.g. ``s3://bucket/key``) is not stored by W&B, so
    deleting it frees nothing.
    """

    path: str
    digest: str
    size: int
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Run:
    """A run, by path ``entity/project/run_id``, and its state as W&B reports it."""

    path: str
    state: str = "finished"

    RUNNING_STATES = frozenset({"running", "pending"})

    @property
    def running(self) -> bool:
        """Whether the run may still log or upload."""
        return self.state.lower() in self.RUNNING_STATES

    @property
    def scope(self) -> Scope:
        entity, project, _ = self.path.split("/", 2)
        return Scope(entity, project)


@dataclass(frozen=True, slots=True)
class Lineage:
    """Who logged a version and who consumed it."""

    producer: Run | None = None
    consumers: tuple[Run, ...] = ()


@dataclass(frozen=True, slots=True)
class Link:
    """A registry link: a source version linked into a portfolio with its own aliases."""

    portfolio: CollectionRef
    version_id: str
    index: int
    aliases: frozenset[str] = frozenset()
    protected_aliases: frozenset[str] = frozenset()
    """Aliases only an admin may remove: the source cannot be deleted while they stand."""

    @property
    def name(self) -> str:
        return f"{self.portfolio}:v{self.index}"


@dataclass(frozen=True, slots=True)
class Version:
    """One artifact version in a source collection."""

    id: str
    entity: str
    project: str
    collection: str
    type: str
    index: int
    created_at: datetime
    state: VersionState = VersionState.COMMITTED
    aliases: frozenset[str] = frozenset()
    size: int = 0
    ttl: timedelta | None = None
    producer: str | None = None
    """Path of the run that logged it, if known."""
    digest: str = field(default="", compare=False)
    """The manifest's own digest, as W&B reports it (informational)."""
    client_id: str = field(default="", compare=False)
    """The id the client gave the artifact before commit (``wandb-client-artifact://`` references
    name it), when known; empty otherwise."""

    @property
    def name(self) -> str:
        """``collection:vN``, as W&B names it."""
        return f"{self.collection}:v{self.index}"

    @property
    def qualified_name(self) -> str:
        return f"{self.entity}/{self.project}/{self.collection}:v{self.index}"

    @property
    def collection_ref(self) -> CollectionRef:
        return CollectionRef(self.entity, self.project, self.collection)

    @property
    def scope(self) -> Scope:
        return Scope(self.entity, self.project)
