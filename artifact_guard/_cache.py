"""The metadata cache: what W&B can never change, kept in the workspace database.

W&B never changes a committed version's manifest, nor its collection, index,
type, creation time, producer or digest. Those facts are fetched once and
kept here, in tables prefixed ``cache_`` of the workspace SQLite database
(:mod:`artifact_guard._workspace`). Everything that *can* change (state,
aliases, TTL, consumers, registry links, a run's state) is never stored here:
the adapter re-reads it on every listing, so a cached answer can never hide a
new consumer or a moved alias.

Entries are keyed by ``(namespace, version id)``, the namespace being the
server's base URL: version ids are unique per server, not across servers, so
a workspace that talks to W&B and to a fake never mixes their entries.

Only versions in state ``COMMITTED`` may be stored: a ``PENDING`` version is
still uploading and its manifest may still grow.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from ._errors import ArtifactGuardError
from ._model import ManifestEntry, Version, VersionState
from ._workspace import connect, ensure_schema

__all__ = ["CacheStats", "CachedVersion", "MetadataCache"]

_COMPONENT = "cache"
_SCHEMA_VERSION = 1
_DDL = """
CREATE TABLE cache_manifests (
    namespace  TEXT NOT NULL,
    version_id TEXT NOT NULL,
    entries    TEXT NOT NULL,  -- JSON: [[path, digest, size, ref-or-null], ...]
    fetched_at TEXT NOT NULL,
    PRIMARY KEY (namespace, version_id)
);
CREATE TABLE cache_versions (
    namespace  TEXT NOT NULL,
    version_id TEXT NOT NULL,
    entity     TEXT NOT NULL,
    project    TEXT NOT NULL,
    collection TEXT NOT NULL,
    type       TEXT NOT NULL,
    idx        INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    producer   TEXT,
    digest     TEXT NOT NULL,
    size       INTEGER NOT NULL,
    PRIMARY KEY (namespace, version_id)
);
"""
_SCHEMA_PROBES = (
    "SELECT namespace, version_id, entries, fetched_at FROM cache_manifests LIMIT 0",
    "SELECT namespace, version_id, entity, project, collection, type, idx, created_at, producer, digest, size"
    " FROM cache_versions LIMIT 0",
)
"""Every column of the cache tables, read once when the cache is opened."""


@dataclass(frozen=True, slots=True)
class CachedVersion:
    """The immutable facts of a committed version."""

    id: str
    entity: str
    project: str
    collection: str
    type: str
    index: int
    created_at: datetime
    producer: str | None
    digest: str
    size: int


@dataclass
class CacheStats:
    """Hits and misses since the cache was opened (for benchmarks and tests)."""

    manifest_hits: int = 0
    manifest_misses: int = 0
    manifests_stored: int = 0


class CacheCorruptError(ArtifactGuardError):
    """A cache row cannot be decoded (the row is dropped and fetched again), or the workspace is unusable."""


class MetadataCache:
    """Manifests and immutable version facts, in the workspace database.

    Safe to share between threads (the adapter fetches manifests from a
    pool): one lock serialises use of the one connection.
    """

    def __init__(self, path: str | os.PathLike[str] | sqlite3.Connection, *, namespace: str) -> None:
        self._owns = not isinstance(path, sqlite3.Connection)
        self._lock = threading.Lock()
        self.namespace = namespace
        self.stats = CacheStats()
        try:
            self._conn = path if isinstance(path, sqlite3.Connection) else connect(path)
            with self._lock:
                ensure_schema(self._conn, _COMPONENT, _SCHEMA_VERSION, _DDL)
                # A database that claims the cache schema but lacks its tables fails here, not mid-listing.
                for probe in _SCHEMA_PROBES:
                    self._conn.execute(probe)
        except sqlite3.DatabaseError as exc:
            where = "the workspace database" if isinstance(path, sqlite3.Connection) else os.fspath(path)
            raise CacheCorruptError(
                f"{where} is not a usable workspace database ({exc}); give another --workspace or remove it"
            ) from None

    def close(self) -> None:
        """Close the connection if this cache opened it."""
        if self._owns:
            with self._lock:
                self._conn.close()

    def __enter__(self) -> MetadataCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<MetadataCache namespace={self.namespace!r}>"

    # ------------------------------------------------------------------ manifests

    def manifests(self, version_ids: Iterable[str]) -> dict[str, tuple[ManifestEntry, ...]]:
        """The cached manifests among ``version_ids`` (misses are simply absent)."""
        ids = list(dict.fromkeys(version_ids))
        found: dict[str, tuple[ManifestEntry, ...]] = {}
        with self._lock:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._conn.execute(
                    f"SELECT version_id, entries FROM cache_manifests "  # noqa: S608 - only placeholders
                    f"WHERE namespace = ? AND version_id IN ({marks})",
                    (self.namespace, *chunk),
                ).fetchall()
                for vid, text in rows:
                    try:
                        found[vid] = _decode_entries(text)
                    except CacheCorruptError:
                        self._conn.execute(
                            "DELETE FROM cache_manifests WHERE namespace = ? AND version_id = ?",
                            (self.namespace, vid),
                        )
            self.stats.manifest_hits += len(found)
            self.stats.manifest_misses += len(ids) - len(found)
        return found

    def manifest(self, version_id: str) -> tuple[ManifestEntry, ...] | None:
        """One cached manifest, or None."""
        return self.manifests([version_id]).get(version_id)

    def put_manifests(self, manifests: Mapping[str, tuple[ManifestEntry, ...]], *, now: datetime) -> None:
        """Store manifests of committed versions (the caller has checked the state)."""
        rows = [
            (self.namespace, vid, _encode_entries(entries), now.isoformat())
            for vid, entries in manifests.items()
        ]
        if not rows:
            return
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                self._conn.executemany(
                    "INSERT OR REPLACE INTO cache_manifests VALUES (?, ?, ?, ?)",
                    rows,
                )
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            self.stats.manifests_stored += len(rows)

    # ------------------------------------------------------------------ versions

    def put_versions(self, versions: Iterable[Version]) -> None:
        """Record the immutable facts of committed versions; others are skipped."""
        rows = [
            (
                self.namespace,
                v.id,
                v.entity,
                v.project,
                v.collection,
                v.type,
                v.index,
                v.created_at.isoformat(),
                v.producer,
                v.digest,
                v.size,
            )
            for v in versions
            if v.state is VersionState.COMMITTED
        ]
        if not rows:
            return
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                self._conn.executemany(
                    "INSERT OR IGNORE INTO cache_versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
                )
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def version(self, version_id: str) -> CachedVersion | None:
        """The immutable facts of a version seen committed, or None."""
        with self._lock:
            row = self._conn.execute(
                "SELECT version_id, entity, project, collection, type, idx, created_at, producer, digest, "
                "size FROM cache_versions WHERE namespace = ? AND version_id = ?",
                (self.namespace, version_id),
            ).fetchone()
        if row is None:
            return None
        return CachedVersion(
            row[0], row[1], row[2], row[3], row[4], int(row[5]), datetime.fromisoformat(row[6]), *row[7:]
        )

    def clear(self) -> None:
        """Forget everything cached for this namespace."""
        with self._lock:
            self._conn.execute("DELETE FROM cache_manifests WHERE namespace = ?", (self.namespace,))
            self._conn.execute("DELETE FROM cache_versions WHERE namespace = ?", (self.namespace,))

    def counts(self) -> tuple[int, int]:
        """``(manifests, versions)`` cached for this namespace."""
        with self._lock:
            m = self._conn.execute(
                "SELECT COUNT(*) FROM cache_manifests WHERE namespace = ?", (self.namespace,)
            ).fetchone()[0]
            v = self._conn.execute(
                "SELECT COUNT(*) FROM cache_versions WHERE namespace = ?", (self.namespace,)
            ).fetchone()[0]
        return int(m), int(v)


def _encode_entries(entries: tuple[ManifestEntry, ...]) -> str:
    return json.dumps([[e.path, e.digest, e.size, e.ref] for e in entries], separators=(",", ":"))


def _decode_entries(text: str) -> tuple[ManifestEntry, ...]:
    try:
        items = json.loads(text)
        return tuple(
            ManifestEntry(str(path), str(digest), int(size), None if ref is None else str(ref))
            for path, digest, size, ref in items
        )
    except (ValueError, TypeError) as e:
        raise CacheCorruptError(f"undecodable cached manifest: {e}") from None
