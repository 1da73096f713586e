"""The snapshot file format: one project's metadata, written once, simulated against offline.

A snapshot file is UTF-8 JSON (gzip-compressed when the file name ends in
``.gz``; reading detects gzip by its magic bytes). The format is documented in
``docs/snapshot-format.md``; in short::

    {
      "format": "artifact-guard-snapshot",
      "format_version": 1,
      "scope": "entity/project",
      "taken_at": "2026-11-27T12:00:00+00:00",
      "dedupe": "collection",
      "runs": [{"path": "entity/project/run-id", "state": "finished"}, ...],
      "versions": [
        {"id": "...", "collection": "name", "type": "model", "index": 0,
         "created_at": "...", "state": "COMMITTED", "aliases": ["latest"],
         "size": 123, "ttl_seconds": null, "producer": "entity/project/run-id",
         "digest": "...", "consumers": ["entity/project/other-run"],
         "manifest": [{"path": "model.ckpt", "digest": "...", "size": 123, "ref": null}],
         "links": [{"portfolio": "entity/registry-project/name", "index": 0,
                    "aliases": ["latest"], "protected_aliases": []}]},
        ...
      ]
    }

Reading is strict: a truncated file, a newer format version, an unknown
field, a wrong type or a hand edit that makes the snapshot inconsistent
(dangling run paths, an alias on two versions of one collection, two versions
with the same index, one digest with two sizes, ...) raises
:class:`~artifact_guard.SnapshotError` naming what is wrong and where. Hand
edits that stay consistent are welcome: that is how one asks "what if".
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ._errors import ArtifactGuardError, SnapshotError
from ._json_file import LineReader, Source, read_bounded, version_fields, write_lines
from ._model import (
    CollectionKind,
    CollectionRef,
    Lineage,
    Link,
    ManifestEntry,
    Run,
    Scope,
    Version,
    VersionState,
)
from ._snapshot import Snapshot

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "read_snapshot",
    "snapshot_from_json",
    "snapshot_to_json",
    "write_snapshot",
]

FORMAT = "artifact-guard-snapshot"
FORMAT_VERSION = 1
"""Bumped whenever a reader of the previous version would misread a new file."""

MAX_SNAPSHOT_BYTES = 8 << 30
"""Snapshots larger than this (8 GiB of JSON once decompressed) are refused, read no further."""

_DEDUPE = ("collection", "project", "entity")
_TOP_FIELDS = {"format", "format_version", "scope", "taken_at", "dedupe", "runs", "versions"}
_RUN_FIELDS = {"path", "state", "deleted"}
_VERSION_FIELDS = {
    "id",
    "collection",
    "type",
    "index",
    "created_at",
    "state",
    "aliases",
    "size",
    "ttl_seconds",
    "producer",
    "digest",
    "consumers",
    "manifest",
    "links",
}
_ENTRY_FIELDS = {"path", "digest", "size", "ref"}
_LINK_FIELDS = {"portfolio", "index", "aliases", "protected_aliases"}


# ---------------------------------------------------------------------- writing


def snapshot_to_json(snapshot: Snapshot) -> dict[str, Any]:
    """The snapshot as the JSON object the file holds (see the module docstring)."""
    head, versions = _parts(snapshot)
    return {**head, "versions": list(versions)}


def _parts(snapshot: Snapshot) -> tuple[dict[str, Any], Iterator[dict[str, Any]]]:
    """The top-level fields but ``versions``, and the versions one at a time."""
    runs: dict[str, dict[str, Any]] = {
        path: {"path": path, "state": run.state} for path, run in sorted(snapshot.runs.items())
    }
    for lin in snapshot.lineage.values():
        for run in (lin.producer, *lin.consumers):
            if run is not None and run.path not in runs:
                runs[run.path] = {"path": run.path, "state": run.state}
    for v in snapshot.versions:
        # A producer path whose run is gone (W&B keeps the version): recorded as a deleted run
        # so the reference is explicit rather than dangling.
        if v.producer is not None and v.producer not in runs:
            runs[v.producer] = {"path": v.producer, "state": "finished", "deleted": True}
    for v in snapshot.versions:
        if (v.entity, v.project) != (snapshot.scope.entity, snapshot.scope.project):
            raise SnapshotError(f"version {v.id} ({v.qualified_name}) is outside the scope {snapshot.scope}")

    def versions() -> Iterator[dict[str, Any]]:
        for v in sorted(snapshot.versions, key=lambda v: (v.collection, v.index)):
            yield _version_json(snapshot, v)

    head = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "scope": str(snapshot.scope),
        "taken_at": snapshot.taken_at.isoformat(),
        "dedupe": snapshot.dedupe,
        "runs": list(runs.values()),
    }
    return head, versions()


def _version_json(snapshot: Snapshot, v: Version) -> dict[str, Any]:
    lineage = snapshot.lineage.get(v.id, Lineage())
    return {
        "id": v.id,
        **version_fields(v),
        "consumers": [run.path for run in lineage.consumers],
        "manifest": [
            {"path": e.path, "digest": e.digest, "size": e.size, "ref": e.ref}
            for e in snapshot.manifests.get(v.id, ())
        ],
        "links": [
            {
                "portfolio": str(link.portfolio),
                "index": link.index,
                "aliases": sorted(link.aliases),
                "protected_aliases": sorted(link.protected_aliases),
            }
            # In the repository's order (the order they were made): plans name them in it.
            for link in snapshot.links.get(v.id, ())
        ],
    }


def write_snapshot(snapshot: Snapshot, path: str | os.PathLike[str]) -> Path:
    """Write ``snapshot`` to ``path`` (gzip if it ends in ``.gz``), atomically; returns the path.

    Streaming: one version per line (see ``docs/snapshot-format.md``), so no
    more than one version's text is held at a time. The file is written next
    to its destination and renamed into place, so a crash never leaves a
    half-written snapshot under the final name.
    """
    p = Path(path)
    head, versions = _parts(snapshot)
    lines = (json.dumps(v, separators=(",", ":"), ensure_ascii=False).encode() for v in versions)
    tmp = p.with_name(p.name + ".tmp")
    try:
        with tmp.open("wb", buffering=1 << 20) as raw:
            if p.suffix == ".gz":
                with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
                    write_lines(gz, head, "versions", lines)
            else:
                write_lines(raw, head, "versions", lines)
        os.replace(tmp, p)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise SnapshotError(f"cannot write snapshot {p}: {e.strerror or e}") from None
    return p


# ---------------------------------------------------------------------- reading


def read_snapshot(path: str | os.PathLike[str]) -> Snapshot:
    """Read and validate a snapshot file; :class:`SnapshotError` names anything wrong.

    A file laid out as :func:`write_snapshot` writes it is read one version at
    a time; any other layout of the same JSON is read whole (bounded by
    :data:`MAX_SNAPSHOT_BYTES`).
    """
    p = Path(path)
    streamed = _read_streaming(p)
    if streamed is not None:
        return streamed
    raw = read_bounded(p, limit=MAX_SNAPSHOT_BYTES, what="snapshot", error=SnapshotError)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SnapshotError(f"snapshot {p} is not UTF-8 text (byte {e.start})") from None
    if not text.strip():
        raise SnapshotError(f"snapshot {p} is empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        hint = "truncated" if e.pos >= len(text.rstrip()) - 1 else "not valid JSON"
        raise SnapshotError(f"snapshot {p} is {hint}: {e.msg} at line {e.lineno} column {e.colno}") from None
    except RecursionError:
        raise SnapshotError(f"snapshot {p} is not a snapshot: JSON nested too deeply") from None
    try:
        return snapshot_from_json(data)
    except SnapshotError as e:
        raise SnapshotError(f"snapshot {p}: {e}") from None


def _read_streaming(p: Path) -> Snapshot | None:
    try:
        f = p.open("rb")
    except OSError as e:
        raise SnapshotError(f"cannot read snapshot {p}: {e.strerror or e}") from None
    with f:
        try:
            stream: Source = gzip.GzipFile(fileobj=f, mode="rb") if f.peek(2)[:2] == b"\x1f\x8b" else f
            lines = LineReader.open(
                stream,
                key="versions",
                first_key="format",
                source=f"snapshot {p}",
                limit=MAX_SNAPSHOT_BYTES,
                error=SnapshotError,
            )
            if lines is None:
                return None

            def items() -> Iterator[Any]:
                for i, raw in enumerate(lines.items()):
                    try:
                        yield json.loads(raw)
                    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
                        raise SnapshotError(f"snapshot {p}: versions[{i}] is not valid JSON") from None

            try:
                return _from_parts(lines.head, items())
            except SnapshotError as e:
                if str(e).startswith(f"snapshot {p}"):
                    raise
                raise SnapshotError(f"snapshot {p}: {e}") from None
        except (EOFError, OSError, zlib.error) as e:
            raise SnapshotError(f"snapshot {p} is truncated or corrupt ({e})") from None


class _Reader:
    """Typed field access that names the place of every problem (``versions[3].manifest[0].size``)."""

    def __init__(self, obj: Any, where: str, fields: set[str]) -> None:
        if not isinstance(obj, dict):
            raise SnapshotError(f"{where} must be a JSON object, not {_kind(obj)}")
        unknown = sorted(set(obj) - fields)
        if unknown:
            raise SnapshotError(f"{where} has unknown field(s) {', '.join(map(repr, unknown))}")
        self.obj = obj
        self.where = where

    def _get(self, name: str, required: bool) -> Any:
        if name not in self.obj:
            if required:
                raise SnapshotError(f"{self.where} is missing field {name!r}")
            return None
        return self.obj[name]

    def text(self, name: str, *, required: bool = True, nullable: bool = False, empty: bool = False) -> Any:
        value = self._get(name, required)
        if value is None and (nullable or not required):
            return None
        if not isinstance(value, str):
            raise SnapshotError(f"{self.where}.{name} must be a string, not {_kind(value)}")
        if not empty and not value:
            raise SnapshotError(f"{self.where}.{name} must not be empty")
        return value

    def integer(self, name: str, *, required: bool = True, minimum: int = 0) -> int:
        value = self._get(name, required)
        if value is None and not required:
            return minimum
        # bool is an int in Python but never a size or an index in a snapshot.
        if not isinstance(value, int) or isinstance(value, bool):
            raise SnapshotError(f"{self.where}.{name} must be an integer, not {_kind(value)}")
        if value < minimum:
            raise SnapshotError(f"{self.where}.{name} must be at least {minimum}, not {value}")
        if value > _MAX_INT64:
            raise SnapshotError(
                f"{self.where}.{name} must be at most {_MAX_INT64} (W&B's Int64), not {value}"
            )
        return value

    def items(self, name: str, *, required: bool = True) -> list[Any]:
        value = self._get(name, required)
        if value is None and not required:
            return []
        if not isinstance(value, list):
            raise SnapshotError(f"{self.where}.{name} must be a list, not {_kind(value)}")
        return value

    def strings(self, name: str, *, required: bool = True) -> list[str]:
        items = self.items(name, required=required)
        for i, item in enumerate(items):
            if not isinstance(item, str) or not item:
                raise SnapshotError(f"{self.where}.{name}[{i}] must be a non-empty string, not {_kind(item)}")
        dupes = sorted({s for s in items if items.count(s) > 1})
        if dupes:
            raise SnapshotError(f"{self.where}.{name} lists {dupes[0]!r} twice")
        return items

    def time(self, name: str) -> datetime:
        value = self.text(name)
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            raise SnapshotError(f"{self.where}.{name} is not an ISO 8601 time: {value!r}") from None
        if when.tzinfo is None:
            raise SnapshotError(f"{self.where}.{name} has no UTC offset: {value!r}")
        return when


_MAX_INT64 = 2**63 - 1
"""W&B sizes and indexes are Int64; larger numbers would also overflow the SQLite journal."""


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list"}.get(
        type(value), "an object" if isinstance(value, dict) else type(value).__name__
    )


def snapshot_from_json(data: Any) -> Snapshot:
    """Validate a decoded snapshot object and build the :class:`Snapshot`."""
    if not isinstance(data, dict):
        raise SnapshotError(f"the top level must be a JSON object, not {_kind(data)}")
    if data.get("format") != FORMAT:
        raise SnapshotError(f"not an artifact-guard snapshot (field 'format' is {data.get('format')!r})")
    version = data.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise SnapshotError(f"field 'format_version' must be a positive integer, not {version!r}")
    if version > FORMAT_VERSION:
        raise SnapshotError(
            f"format version {version} is newer than this artifact-guard understands ({FORMAT_VERSION}); "
            "upgrade artifact-guard to read it"
        )
    return _from_parts({k: v for k, v in data.items() if k != "versions"}, _versions_of(data))


def _versions_of(data: dict[str, Any]) -> Iterator[Any]:
    top = _Reader(data, "snapshot", _TOP_FIELDS)
    yield from top.items("versions")


def _from_parts(head: dict[str, Any], version_items: Iterable[Any]) -> Snapshot:
    """The snapshot from its top-level fields and its versions (decoded, one at a time)."""
    if head.get("format") != FORMAT:
        raise SnapshotError(f"not an artifact-guard snapshot (field 'format' is {head.get('format')!r})")
    version = head.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise SnapshotError(f"field 'format_version' must be a positive integer, not {version!r}")
    if version > FORMAT_VERSION:
        raise SnapshotError(
            f"format version {version} is newer than this artifact-guard understands ({FORMAT_VERSION}); "
            "upgrade artifact-guard to read it"
        )
    top = _Reader(head, "snapshot", _TOP_FIELDS - {"versions"})
    try:
        scope = Scope.parse(top.text("scope"))
    except ArtifactGuardError as e:
        raise SnapshotError(f"snapshot.scope: {e}") from None
    taken_at = top.time("taken_at")
    dedupe = top.text("dedupe")
    if dedupe not in _DEDUPE:
        raise SnapshotError(f"snapshot.dedupe must be one of {', '.join(_DEDUPE)}, not {dedupe!r}")

    runs, deleted_runs = _read_runs(top.items("runs"))
    versions: list[Version] = []
    manifests: dict[str, tuple[ManifestEntry, ...]] = {}
    lineage: dict[str, Lineage] = {}
    links: dict[str, tuple[Link, ...]] = {}
    for i, item in enumerate(version_items):
        where = f"versions[{i}]"
        r = _Reader(item, where, _VERSION_FIELDS)
        v, entries, consumers, vlinks = _read_version(r, scope, runs, deleted_runs)
        if v.id in manifests:
            raise SnapshotError(f"{where}.id {v.id!r} is used by two versions")
        versions.append(v)
        manifests[v.id] = entries
        producer = runs.get(v.producer) if v.producer is not None else None
        lineage[v.id] = Lineage(producer, consumers)
        links[v.id] = vlinks
    _check_consistency(versions, manifests, links, dedupe)
    return Snapshot(
        scope=scope,
        taken_at=taken_at,
        versions=tuple(sorted(versions, key=lambda v: (v.collection, v.index))),
        manifests=manifests,
        lineage=lineage,
        links=links,
        dedupe=dedupe,
        runs=runs,
    )


def _read_runs(items: list[Any]) -> tuple[dict[str, Run], set[str]]:
    runs: dict[str, Run] = {}
    deleted: set[str] = set()
    for i, item in enumerate(items):
        where = f"runs[{i}]"
        r = _Reader(item, where, _RUN_FIELDS)
        path = r.text("path")
        if len(path.split("/")) != 3 or not all(path.split("/")):
            raise SnapshotError(f"{where}.path {path!r} is not entity/project/run-id")
        if path in runs or path in deleted:
            raise SnapshotError(f"{where}.path {path!r} is listed twice")
        state = r.text("state")
        flag = r.obj.get("deleted", False)
        if not isinstance(flag, bool):
            raise SnapshotError(f"{where}.deleted must be a boolean, not {_kind(flag)}")
        if flag:
            deleted.add(path)
        else:
            runs[path] = Run(path, state)
    return runs, deleted


_MAX_TTL_SECONDS = timedelta.max.total_seconds() - 86_400  # exact max rounds up and overflows
"""The longest TTL a :class:`~datetime.timedelta` holds."""


def _read_version(
    r: _Reader, scope: Scope, runs: Mapping[str, Run], deleted_runs: set[str]
) -> tuple[Version, tuple[ManifestEntry, ...], tuple[Run, ...], tuple[Link, ...]]:
    where = r.where
    vid = r.text("id")
    collection = r.text("collection")
    if any(c in collection for c in "/:"):
        raise SnapshotError(f"{where}.collection {collection!r} may not contain '/' or ':'")
    state_name = r.text("state")
    try:
        state = VersionState(state_name)
    except ValueError:
        raise SnapshotError(f"{where}.state must be PENDING or COMMITTED, not {state_name!r}") from None
    if state is VersionState.DELETED:
        raise SnapshotError(f"{where}.state is DELETED: a snapshot holds surviving versions only")
    ttl_raw = r.obj.get("ttl_seconds")
    ttl: timedelta | None = None
    if ttl_raw is not None:
        # "not 0 < x <= max" also refuses NaN; max keeps timedelta() from overflowing (2**70, 1e308, inf).
        if (
            not isinstance(ttl_raw, int | float)
            or isinstance(ttl_raw, bool)
            or not 0 < ttl_raw <= _MAX_TTL_SECONDS
        ):
            raise SnapshotError(
                f"{where}.ttl_seconds must be a positive number of seconds (at most {_MAX_TTL_SECONDS:.0f})"
                f" or null, not {ttl_raw!r}"
            )
        ttl = timedelta(seconds=ttl_raw)
    producer = r.text("producer", nullable=True)
    if producer is not None and producer not in runs and producer not in deleted_runs:
        raise SnapshotError(f"{where}.producer {producer!r} is not in 'runs'")
    consumers: list[Run] = []
    for path in r.strings("consumers"):
        if path not in runs:
            what = "a deleted run" if path in deleted_runs else "not in 'runs'"
            raise SnapshotError(f"{where}.consumers: {path!r} is {what}")
        consumers.append(runs[path])
    aliases = r.strings("aliases")
    for alias in aliases:
        if any(c in alias for c in "/:"):
            raise SnapshotError(f"{where}.aliases: {alias!r} may not contain '/' or ':'")
    v = Version(
        id=vid,
        entity=scope.entity,
        project=scope.project,
        collection=collection,
        type=r.text("type"),
        index=r.integer("index"),
        created_at=r.time("created_at"),
        state=state,
        aliases=frozenset(aliases),
        size=r.integer("size"),
        ttl=ttl,
        producer=producer,
        digest=r.text("digest", empty=True),
    )
    entries: list[ManifestEntry] = []
    paths: set[str] = set()
    for j, item in enumerate(r.items("manifest")):
        e = _Reader(item, f"{where}.manifest[{j}]", _ENTRY_FIELDS)
        path = e.text("path")
        if path in paths:
            raise SnapshotError(f"{e.where}.path {path!r} appears twice in the manifest")
        paths.add(path)
        entries.append(
            ManifestEntry(path, e.text("digest"), e.integer("size"), e.text("ref", required=False))
        )
    vlinks: list[Link] = []
    for j, item in enumerate(r.items("links")):
        lk = _Reader(item, f"{where}.links[{j}]", _LINK_FIELDS)
        try:
            portfolio = CollectionRef.parse(lk.text("portfolio"), CollectionKind.PORTFOLIO)
        except ArtifactGuardError as err:
            raise SnapshotError(f"{lk.where}.portfolio: {err}") from None
        link_aliases = frozenset(lk.strings("aliases"))
        protected = frozenset(lk.strings("protected_aliases", required=False))
        if not protected <= link_aliases:
            extra = sorted(protected - link_aliases)[0]
            raise SnapshotError(f"{lk.where}: protected alias {extra!r} is not one of the link's aliases")
        vlinks.append(Link(portfolio, vid, lk.integer("index"), link_aliases, protected))
    return v, tuple(entries), tuple(consumers), tuple(vlinks)


def _check_consistency(
    versions: list[Version],
    manifests: Mapping[str, tuple[ManifestEntry, ...]],
    links: Mapping[str, tuple[Link, ...]],
    dedupe: str,
) -> None:
    """Cross-version rules W&B itself maintains; a hand edit can break them."""
    types: dict[str, str] = {}
    indices: dict[tuple[str, int], str] = {}
    alias_holders: dict[tuple[str, str], str] = {}
    for v in versions:
        known = types.setdefault(v.collection, v.type)
        if known != v.type:
            raise SnapshotError(f"collection {v.collection!r} has versions of type {known!r} and {v.type!r}")
        other = indices.setdefault((v.collection, v.index), v.id)
        if other != v.id:
            raise SnapshotError(f"{v.name} is claimed by two versions ({other} and {v.id})")
        for alias in sorted(v.aliases):
            holder = alias_holders.setdefault((v.collection, alias), v.id)
            if holder != v.id:
                raise SnapshotError(
                    f"alias {alias!r} is on two versions of collection {v.collection!r} ({holder} and {v.id})"
                )
    link_slots: dict[tuple[str, int], str] = {}
    link_aliases: dict[tuple[str, str], str] = {}
    for vid, vlinks in links.items():
        for link in vlinks:
            if link.portfolio.scope == versions[0].scope and link.portfolio.name in types:
                raise SnapshotError(f"{link.portfolio} is both a source collection and a registry collection")
            slot = link_slots.setdefault((str(link.portfolio), link.index), vid)
            if slot != vid:
                raise SnapshotError(f"{link.name} is claimed by two versions ({slot} and {vid})")
            for alias in sorted(link.aliases):
                holder = link_aliases.setdefault((str(link.portfolio), alias), link.name)
                if holder != link.name:
                    raise SnapshotError(
                        f"alias {alias!r} of {link.portfolio} is on two links ({holder}, {link.name})"
                    )
    # W&B stores each digest once per dedupe scope: one digest, one size.
    sizes: dict[tuple[str, str], tuple[int, str]] = {}
    for v in versions:
        key = v.collection if dedupe == "collection" else ""
        for e in manifests[v.id]:
            if e.ref is not None:
                continue
            seen = sizes.setdefault((key, e.digest), (e.size, v.name))
            if seen[0] != e.size:
                raise SnapshotError(
                    f"digest {e.digest!r} has size {seen[0]} in {seen[1]} but {e.size} in {v.name} ({e.path})"
                )
