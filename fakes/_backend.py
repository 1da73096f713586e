"""FakeWandb: in-memory W&B artifact state with W&B's deletion semantics.

Backend state only: no HTTP, no GraphQL. The loopback server and
:class:`fakes.FakeRepository` are two faces over the same object. All state is
made in ``__init__`` so ``reset()`` (which re-runs it) cannot leave anything
behind.

Semantics followed (see DESIGN.md): versions numbered v0, v1, ... per
collection; an alias names at most one version of a collection and moves when
given to another; every commit adds ``latest``; deletion is a soft delete that
drops aliases; deleting an aliased version without ``delete_aliases`` is a
conflict; a source linked with a registry-protected alias cannot be deleted;
unlinking frees nothing; collection and run deletes; storage keeps each digest
once per dedupe scope and garbage collection removes a digest only when no
surviving version in that scope references it. ``latest`` is not moved when its
holder is deleted (the unconfirmed real behaviour; ``move_latest_on_delete``
switches it).
"""

from __future__ import annotations

import base64
import bisect
import fnmatch
import hashlib
import heapq
import itertools
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, ParamSpec, TypeVar

from sortedcontainers import SortedList

from artifact_guard._errors import (
    AliasedVersionError,
    ConflictError,
    NotFoundError,
    ProtectedAliasError,
)
from artifact_guard._model import (
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
from artifact_guard._rules import reference_target

from ._backend_write import (
    ArtifactDetails,
    RunDetails,
    UploadSlot,
    _json_object,
    manifest_entries,
    parse_manifest,
)
from ._blobs import BlobStore

if TYPE_CHECKING:
    from ._repository import FakeRepository

__all__ = ["CollectionInfo", "DedupeScope", "Deletion", "FakeWandb", "FileSpec", "RegistryInfo"]

DedupeScope = Literal["collection", "project", "entity"]
FileSpec = bytes | tuple[str, int]
"""A file given to :meth:`FakeWandb.log_artifact`: its bytes, or ``(digest, size)``."""

_P = ParamSpec("_P")
_T = TypeVar("_T")


def _locked(method: Callable[_P, _T]) -> Callable[_P, _T]:
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        self = args[0]
        with self._lock:  # type: ignore[attr-defined]
            return method(*args, **kwargs)

    wrapper.__name__ = method.__name__
    wrapper.__doc__ = method.__doc__
    return wrapper


_NO_ALIASES: frozenset[str] = frozenset()
_LIVE_STATES = (VersionState.PENDING, VersionState.COMMITTED)


def _shared(aliases: frozenset[str]) -> frozenset[str]:
    # Most versions end with no alias (``latest`` moved on): one shared empty set
    # instead of one per version saves ~200 bytes and a tracked object each.
    return aliases if aliases else _NO_ALIASES


def md5_b64(data: bytes) -> str:
    """W&B's file digest: base64 of the MD5."""
    return base64.b64encode(hashlib.md5(data).digest()).decode()  # noqa: S324 - W&B's own choice


def _encode_id(kind: str, number: int) -> str:
    return base64.b64encode(f"{kind}:{number}".encode()).decode()


def _decode_counter(gid: str) -> int:
    """The number in an id made by :func:`_encode_id`, or 0 for an id made elsewhere."""
    try:
        _, _, number = base64.b64decode(gid.encode(), validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return 0
    return int(number) if number.isdigit() else 0


@dataclass
class _Collection:
    ref: CollectionRef
    type: str
    created_at: datetime
    next_index: int = 0
    version_ids: list[str] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)
    """alias -> version id (sequence) or link index as str (portfolio)."""
    links: dict[int, Link] = field(default_factory=dict)
    """Portfolio only: link index -> live link."""
    id: str = ""
    description: str = ""
    by_index: dict[int, str] = field(default_factory=dict)
    """Sequence only: version index -> version id (every version, deleted ones too)."""
    live: dict[VersionState | None, Any] = field(default_factory=dict)
    """Sequence only: ascending ``SortedList`` of the indices of live versions, per state
    (``None``: every live state), so a listing page costs O(log n + page), not O(collection)."""
    ordered: bool = True
    last_index: int = -1
    """Whether ``version_ids`` is in ascending index order (always, unless a snapshot was
    restored into a collection that already had later versions); listings index only then."""
    tags: tuple[str, ...] = ()
    updated_at: datetime | None = None
    """Last change of the collection's own record (description, tags, type); None: never changed."""
    _link_order: Any = None

    def link_order(self) -> Any:
        """Portfolio only: a ``SortedList`` of the live link indices, kept in step with ``links``.

        Made on first use, then updated by every link and unlink (see
        :meth:`links_changed`), so paging a portfolio costs O(log n + page),
        not a sort per page.
        """
        if self._link_order is None:
            self._link_order = SortedList(self.links)
        return self._link_order

    def links_changed(self, added: int | None = None, removed: int | None = None) -> None:
        """Keep :meth:`link_order` in step with one link added or removed (neither: rebuild later)."""
        if self._link_order is None:
            return
        if added is not None:
            self._link_order.add(added)
        elif removed is not None:
            self._link_order.discard(removed)
        else:
            self._link_order = None

    def index_state(self, index: int, old: VersionState | None, new: VersionState) -> None:
        """Keep ``live`` in step with one version's state change (``old`` None: a new version)."""
        if not self.live:
            self.live = {state: SortedList() for state in (None, *_LIVE_STATES)}
        if old is not None and old is not VersionState.DELETED:
            self.live[old].remove(index)
            if new is VersionState.DELETED:
                self.live[None].remove(index)
        if new is not VersionState.DELETED:
            self.live[new].add(index)
            if old is None or old is VersionState.DELETED:
                self.live[None].add(index)

    def info(self) -> CollectionInfo:
        return CollectionInfo(
            self.ref,
            self.id,
            self.type,
            self.created_at,
            self.description,
            self.tags,
            self.updated_at or self.created_at,
        )


@dataclass(frozen=True, slots=True)
class Deletion:
    """A version's deletion as the fake saw it, on the state just before it: what an audit judges.

    Kept for every deletion, in order (``FakeWandb.deletions()``), so that a
    script's change is judged on the state it met, not on the state before the
    whole script: a ``best`` moved to another version first no longer protects
    the version deleted after.
    """

    seq: int
    version: Version
    """The version as it was just before."""
    at: datetime
    """The fake's clock at the deletion."""
    lineage: Lineage
    links: tuple[Link, ...]
    referrers: tuple[str, ...]
    """Ids of live versions whose manifests referenced it (``wandb-artifact://``) just before."""
    cause: str
    """``delete-version``, ``delete-collection``, ``delete-run`` or ``ttl``."""


@dataclass(frozen=True, slots=True)
class CollectionInfo:
    """A collection as the wire shows it: path and kind, id, type, creation time."""

    ref: CollectionRef
    id: str
    type: str
    created_at: datetime
    description: str = ""
    tags: tuple[str, ...] = ()
    updated_at: datetime | None = None


REGISTRY_PREFIX = "wandb-registry-"
"""Registries are projects of the organization's entity named with this prefix (W&B's own)."""


@dataclass(frozen=True, slots=True)
class RegistryInfo:
    """A registry: a project of the organization's entity, with its registry settings."""

    scope: Scope
    description: str = ""
    access: str = "PRIVATE"
    allow_all_types: bool = True
    types: tuple[str, ...] = ()
    created_at: datetime | None = None
    updated_at: datetime | None = None
    members: tuple[tuple[str, str], ...] = ()
    """(user id, role) of the registry's user members."""
    team_members: tuple[tuple[str, str], ...] = ()
    """(team entity name, role) of the registry's team members."""


class FakeWandb:
    """In-memory W&B: runs, collections, versions, manifests, lineage, links, storage.

    Builder surface (stable; used by checks outside this repository):
    ``create_run``, ``finish_run``, ``log_artifact``, ``use_artifact``,
    ``link``, ``delete_version``, ``gc``, ``stored_bytes``, ``stored_digests``,
    ``versions``, ``repository``.
    """

    def __init__(
        self,
        *,
        dedupe: DedupeScope = "collection",
        now: datetime | None = None,
        move_latest_on_delete: bool = False,
    ) -> None:
        if dedupe not in ("collection", "project", "entity"):
            raise ValueError(f"dedupe must be collection, project or entity, not {dedupe!r}")
        self._lock = threading.RLock()
        self.dedupe: DedupeScope = dedupe
        self.move_latest_on_delete = move_latest_on_delete
        self._frozen_now = now
        self._offset = timedelta(0)
        self._runs: dict[str, Run] = {}
        self._collections: dict[tuple[str, str, str], _Collection] = {}
        self._versions: dict[str, Version] = {}
        self._manifests: dict[str, tuple[ManifestEntry, ...]] = {}
        self._consumers: dict[str, list[str]] = {}
        self._links_by_source: dict[str, list[tuple[str, str, str, int]]] = {}
        self._stored: dict[tuple[str, str], int] = {}
        self._projects: set[Scope] = set()
        self._by_project: dict[Scope, list[_Collection]] = {}
        """Each project's collections in creation order (= id order): no scan of other projects."""
        self._by_id: dict[str, _Collection] = {}
        self._by_producer: dict[str, list[str]] = {}
        """Run path -> ids of the versions it logged, in creation order (a run's outputs without a scan)."""
        self._by_project_type: dict[tuple[Scope, str], list[_Collection]] = {}
        self._unordered_projects: set[Scope] = set()
        """Projects whose collections were not made in id order (never, with ids from ``_next``)."""
        """Projects that exist: made by their first run or collection; deleting runs keeps them."""
        self._counter = 0
        self._referrers: dict[str, set[str]] = {}
        """Target version id -> ids of versions whose manifests reference it (``wandb-artifact://``)."""
        self._by_client_id: dict[str, str] = {}
        self._deletions: list[Deletion] = []
        """Every deletion, in order, with the facts just before it (see :meth:`deletions`)."""
        self._deleted_by: dict[str, Deletion] = {}
        self._ttl_set: dict[str, Deletion] = {}
        self._init_args = {"dedupe": dedupe, "now": now, "move_latest_on_delete": move_latest_on_delete}
        self._protected: dict[tuple[str, str], set[str]] = {}
        """(entity, admin type) -> registry aliases only that entity's admins may remove (W&B's own model)."""
        self._admins: set[tuple[str, str]] = set()
        """(entity, admin type) pairs whose admin the wire's viewer is."""
        self._registries: dict[Scope, RegistryInfo] = {}
        """Registry settings made by ``upsert_registry``; a registry made by a link has the defaults."""
        self._init_write_path()

    def reset(self) -> None:
        """Forget everything: re-run ``__init__`` with the original options."""
        with self._lock:
            lock = self._lock
            self.__init__(**self._init_args)  # type: ignore[misc]
            self._lock = lock

    # ------------------------------------------------------------------ clock

    def now(self) -> datetime:
        """The fake's clock: frozen at ``now`` (plus ``advance``) when given, else wall time."""
        base = self._frozen_now if self._frozen_now is not None else datetime.now(UTC)
        return base + self._offset

    def advance(self, delta: timedelta) -> None:
        """Move the fake's clock forward."""
        self._offset += delta

    # ------------------------------------------------------------------ helpers

    def _next(self, kind: str) -> str:
        self._counter += 1
        return _encode_id(kind, self._counter)

    @staticmethod
    def _run_path(run: Run | str) -> str:
        return run.path if isinstance(run, Run) else run

    def _run(self, run: Run | str) -> Run:
        path = self._run_path(run)
        try:
            return self._runs[path]
        except KeyError:
            raise NotFoundError(f"run {path!r} not found") from None

    def _version(self, version: Version | str) -> Version:
        vid = version.id if isinstance(version, Version) else version
        try:
            return self._versions[vid]
        except KeyError:
            raise NotFoundError(f"artifact version {vid!r} not found") from None

    def _live(self, version: Version | str) -> Version:
        v = self._version(version)
        if v.state is VersionState.DELETED:
            raise NotFoundError(f"artifact version {v.qualified_name} was deleted")
        return v

    def _dedupe_key(self, v: Version) -> str:
        return self._dedupe_key_of(v.entity, v.project, v.collection)

    def _dedupe_key_of(self, entity: str, project: str, collection: str) -> str:
        if self.dedupe == "collection":
            return f"{entity}/{project}/{collection}"
        if self.dedupe == "project":
            return f"{entity}/{project}"
        return entity

    def _set(self, v: Version) -> Version:
        old = self._versions.get(v.id)
        self._versions[v.id] = v
        if old is None or old.state is not v.state:
            self._index_version(v, old.state if old is not None else None)
        return v

    def _index_version(self, v: Version, old: VersionState | None) -> None:
        # Every version change goes through ``_set`` (or ``restore``): the listing
        # index of its collection follows here, and only here.
        coll = self._collections[(v.entity, v.project, v.collection)]
        if old is None:
            if v.producer:
                self._by_producer.setdefault(v.producer, []).append(v.id)
            if v.index <= coll.last_index:
                coll.ordered = False
            coll.last_index = v.index
            coll.by_index[v.index] = v.id
        coll.index_state(v.index, old, v.state)

    def _collection(self, ref: CollectionRef | str, kind: CollectionKind | None = None) -> _Collection:
        if isinstance(ref, str):
            ref = CollectionRef.parse(ref)
        coll = self._collections.get((ref.entity, ref.project, ref.name))
        if coll is None or (kind is not None and coll.ref.kind is not kind):
            raise NotFoundError(f"artifact collection {ref} not found")
        return coll

    def _add_collection(self, coll: _Collection) -> None:
        ref = coll.ref
        self._collections[(ref.entity, ref.project, ref.name)] = coll
        self._projects.add(ref.scope)
        for listing in (
            self._by_project.setdefault(ref.scope, []),
            self._by_project_type.setdefault((ref.scope, coll.type), []),
        ):
            if listing and _decode_counter(coll.id) <= _decode_counter(listing[-1].id):
                self._unordered_projects.add(ref.scope)
            listing.append(coll)
        self._by_id[coll.id] = coll

    def _assign_alias(self, coll: _Collection, alias: str, vid: str) -> None:
        previous = coll.aliases.get(alias)
        if previous == vid:
            return
        if previous is not None:
            old = self._versions[previous]
            self._set(replace(old, aliases=_shared(old.aliases - {alias})))
        coll.aliases[alias] = vid
        v = self._versions[vid]
        self._set(replace(v, aliases=v.aliases | {alias}))

    def _protected_links(self, vid: str) -> list[Link]:
        return [link for link in self._links_of(vid) if link.protected_aliases]

    def _links_of(self, vid: str) -> list[Link]:
        found = []
        for e, p, n, index in self._links_by_source.get(vid, ()):
            link = self._collections[(e, p, n)].links.get(index)
            if link is not None:
                found.append(self._effective(link))
        return found

    def _effective(self, link: Link) -> Link:
        """A link as W&B shows it: its aliases that its registry's entity protects are protected."""
        guarded = self._protected.get((link.portfolio.entity, "MODEL"))
        protected = link.aliases & guarded if guarded else _NO_ALIASES
        return link if protected == link.protected_aliases else replace(link, protected_aliases=protected)

    def _index_references(self, v: Version, entries: Iterable[ManifestEntry]) -> None:
        if v.client_id:
            self._by_client_id[v.client_id] = v.id
        for e in entries:
            target = reference_target(e.ref)
            if target is None:
                continue
            if target[0] == "id":
                tid: str | None = target[1]
            else:  # a builder's client id, or one the SDK sent (write path)
                tid = self._by_client_id.get(target[1]) or self._client_ids.get(target[1])
            if tid is not None and tid != v.id:
                self._referrers.setdefault(tid, set()).add(v.id)

    def _live_referrers(self, vid: str) -> tuple[str, ...]:
        found = self._referrers.get(vid)
        if not found:
            return ()
        return tuple(sorted(r for r in found if self._versions[r].state is not VersionState.DELETED))

    def referrers(self, version: Version | str) -> tuple[str, ...]:
        """Ids of the live versions whose manifests reference this one (``wandb-artifact://``)."""
        with self._lock:
            return self._live_referrers(self._version(version).id)

    def referenced(self) -> dict[str, tuple[str, ...]]:
        """Every version live versions reference (``wandb-artifact://``), with their ids, any project."""
        with self._lock:
            found = {vid: self._live_referrers(vid) for vid in self._referrers}
            return {vid: refs for vid, refs in found.items() if refs}

    def deletions(self, since: int = 0) -> list[Deletion]:
        """Every deletion since position ``since`` (``len(fake.deletions())`` marks a point), in order."""
        with self._lock:
            return self._deletions[since:]

    def deletion_of(self, version_id: str) -> Deletion | None:
        """How a version was deleted, judged on the state just before (None: never deleted here)."""
        with self._lock:
            return self._deleted_by.get(version_id)

    # ------------------------------------------------------------------ runs

    @_locked
    def create_run(self, project_path: str, run_id: str | None = None, state: str = "finished") -> Run:
        """Create a run in ``entity/project``; returns its reference."""
        scope = Scope.parse(project_path)
        if run_id is None:
            # The counter only grows, so a generated id is never that of a deleted run.
            self._counter += 1
            run_id = hashlib.sha1(f"run:{self._counter}".encode()).hexdigest()[:8]  # noqa: S324
        path = f"{scope}/{run_id}"
        if path in self._runs:
            raise ConflictError(f"run {path!r} already exists")
        run = Run(path, state)
        self._runs[path] = run
        self._projects.add(scope)
        return run

    @_locked
    def finish_run(self, run: Run | str, state: str = "finished") -> Run:
        """Mark a run finished (or another final state)."""
        updated = replace(self._run(run), state=state)
        self._runs[updated.path] = updated
        return updated

    @_locked
    def delete_run(self, run: Run | str, *, delete_artifacts: bool = False) -> None:
        """Delete a run; with ``delete_artifacts`` also every version it logged."""
        r = self._run(run)
        if delete_artifacts:
            logged = [
                v
                for v in (self._versions[vid] for vid in self._by_producer.get(r.path, ()))
                if v.state is not VersionState.DELETED
            ]
            # Refuse before deleting anything: never half a run's artifacts.
            blocked = [v for v in logged if self._protected_links(v.id)]
            if blocked:
                raise ProtectedAliasError(
                    f"run {r.path}: {blocked[0].qualified_name} is linked with protected aliases; "
                    "nothing deleted"
                )
            for v in logged:
                self._delete(v, delete_aliases=True, cause="delete-run")
        del self._runs[r.path]

    def runs(self) -> list[Run]:
        """Every run that exists."""
        with self._lock:
            return list(self._runs.values())

    def run(self, path: str) -> Run:
        with self._lock:
            return self._run(path)

    # ------------------------------------------------------------------ logging

    @_locked
    def log_artifact(
        self,
        run: Run | str,
        name: str,
        type: str,  # noqa: A002 - W&B's own parameter name
        files: Mapping[str, FileSpec],
        aliases: Iterable[str] = (),
        references: Iterable[tuple[str, str] | tuple[str, str, int]] | Mapping[str, str] = (),
        *,
        state: VersionState | str = VersionState.COMMITTED,
        created_at: datetime | None = None,
        ttl: timedelta | None = None,
        client_id: str = "",
    ) -> Version:
        """Log a new version of collection ``name`` from ``run``; returns the new version.

        ``files`` maps path to bytes or to ``(digest, size)``. ``references`` are
        ``(path, uri)`` or ``(path, uri, size)`` entries, not stored by W&B; a
        ``wandb-artifact://`` (or ``wandb-client-artifact://``, naming ``client_id``)
        URI makes this version depend on another. Sizes must be >= 0 and
        ``created_at`` timezone-aware (W&B times are UTC): :class:`ValueError` otherwise.
        """
        r = self._run(run)
        entity, project, _ = r.path.split("/", 2)
        state = VersionState(state)
        if state is VersionState.DELETED:
            raise ValueError("cannot log a version in state DELETED")
        if ":" in name or "/" in name or not name:
            raise ValueError(f"invalid artifact name {name!r}")
        # Every check before any change: a refused log leaves no trace (no collection, no version).
        alias_list = list(aliases)
        for alias in alias_list:
            self._check_alias_name(alias)
        if created_at is not None and created_at.utcoffset() is None:
            raise ValueError(f"created_at must be timezone-aware (W&B times are UTC), got {created_at}")
        if ttl is not None and ttl < timedelta(0):
            raise ValueError(f"ttl must not be negative, got {ttl}")
        entries: list[ManifestEntry] = []
        for path, spec in files.items():
            if isinstance(spec, bytes):
                entries.append(ManifestEntry(path, md5_b64(spec), len(spec)))
            else:
                digest, size = spec
                entries.append(ManifestEntry(path, digest, int(size)))
        ref_items = references.items() if isinstance(references, Mapping) else references
        for item in ref_items:
            path, uri = item[0], item[1]
            size = int(item[2]) if len(item) > 2 else 0
            entries.append(ManifestEntry(path, md5_b64(uri.encode()), size, uri))
        for e in entries:
            if e.size < 0:
                raise ValueError(f"file {e.path!r} has a negative size ({e.size})")
        dkey = self._dedupe_key_of(entity, project, name)
        sizes: dict[str, int] = {}
        for e in entries:
            if e.ref is not None:
                continue
            held = sizes.setdefault(e.digest, self._stored.get((dkey, e.digest), e.size))
            if held != e.size:
                # A digest names its content: the same digest with another size is a broken fixture,
                # and would make stored bytes and planned bytes disagree.
                raise ValueError(f"digest {e.digest!r} is stored with size {held}, not {e.size} ({e.path!r})")
        now = created_at or self.now()
        coll = self._sequence(entity, project, name, type, now)

        vid = self._next("Artifact")
        digest = md5_b64("\n".join(f"{e.path} {e.digest}" for e in entries).encode())
        v = Version(
            id=vid,
            entity=entity,
            project=project,
            collection=name,
            type=type,
            index=coll.next_index,
            created_at=now,
            state=state,
            size=sum(e.size for e in entries),
            ttl=ttl,
            producer=r.path,
            digest=digest,
            client_id=client_id,
        )
        coll.next_index += 1
        coll.version_ids.append(vid)
        self._set(v)
        self._manifests[vid] = tuple(entries)
        self._index_references(v, entries)
        for e in entries:
            if e.ref is None:
                self._stored[(dkey, e.digest)] = e.size
        for spec in files.values():
            if isinstance(spec, bytes):
                self.blobs.put(spec)
        for alias in alias_list:
            self._assign_alias(coll, alias, vid)
        if state is VersionState.COMMITTED:
            self._assign_alias(coll, "latest", vid)
        return self._versions[vid]

    @staticmethod
    def _check_alias_name(alias: str) -> None:
        if not alias or any(c in alias for c in "/:") or (alias[0] == "v" and alias[1:].isdigit()):
            raise ValueError(f"invalid alias {alias!r}")

    @_locked
    def commit(self, version: Version | str) -> Version:
        """Finish uploading a pending version: COMMITTED, and it takes ``latest``."""
        v = self._live(version)
        if v.state is VersionState.COMMITTED:
            return v
        self._set(replace(v, state=VersionState.COMMITTED))
        self._assign_alias(self._collection(v.collection_ref), "latest", v.id)
        return self._versions[v.id]

    @_locked
    def use_artifact(self, run: Run | str, version: Version | str) -> None:
        """Record that ``run`` consumed ``version``."""
        r = self._run(run)
        v = self._live(version)
        users = self._consumers.setdefault(v.id, [])
        if r.path not in users:
            users.append(r.path)

    # ------------------------------------------------------------------ aliases

    @_locked
    def add_aliases(self, version: Version | str, aliases: Iterable[str]) -> Version:
        """Give aliases to a version; each moves from the version that held it."""
        v = self._live(version)
        coll = self._collection(v.collection_ref)
        wanted = list(aliases)
        for alias in wanted:  # all or none
            self._check_alias_name(alias)
        for alias in wanted:
            self._assign_alias(coll, alias, v.id)
        return self._versions[v.id]

    @_locked
    def remove_aliases(self, version: Version | str, aliases: Iterable[str]) -> Version:
        """Remove aliases from a version; aliases it does not hold are ignored."""
        v = self._live(version)
        coll = self._collection(v.collection_ref)
        drop = set(aliases) & v.aliases
        for alias in drop:
            coll.aliases.pop(alias, None)
        return self._set(replace(v, aliases=_shared(v.aliases - drop)))

    # ------------------------------------------------------------------ registry

    @_locked
    def link(
        self,
        version: Version | str,
        portfolio: str,
        aliases: Iterable[str] = (),
        protected: Iterable[str] = (),
    ) -> Link:
        """Link a version into ``entity/registry-project/collection`` with aliases.

        ``protected`` aliases (also given to the link) can only be removed by an
        admin, and block deleting the source. Linking clears the version's TTL.
        """
        v = self._live(version)
        ref = CollectionRef.parse(portfolio, CollectionKind.PORTFOLIO)
        protected_set = frozenset(protected)
        alias_set = frozenset(aliases) | protected_set | {"latest"}
        for alias in alias_set:
            self._check_alias_name(alias)
        key = (ref.entity, ref.project, ref.name)
        coll = self._collections.get(key)
        if coll is not None:
            # Every check before any change: a refused link leaves no trace.
            if coll.ref.kind is not CollectionKind.PORTFOLIO:
                raise ConflictError(f"{ref} is a source collection, not a registry collection")
            for existing in coll.links.values():
                if existing.version_id == v.id:
                    raise ConflictError(f"{v.qualified_name} is already linked into {ref}")
            for alias in sorted(alias_set):
                holder = coll.aliases.get(alias)
                old = coll.links.get(int(holder)) if holder is not None else None
                if old is not None and alias in self._effective(old).protected_aliases:
                    raise ProtectedAliasError(f"alias {alias!r} of {old.name} is protected")
        else:
            coll = _Collection(ref, v.type, self.now(), id=self._next("ArtifactPortfolio"))
            self._add_collection(coll)
        index = coll.next_index
        coll.next_index += 1
        link = Link(ref, v.id, index, frozenset())
        coll.links[index] = link
        coll.links_changed(added=index)
        self._links_by_source.setdefault(v.id, []).append((*key, index))
        for alias in alias_set:
            self._move_link_alias(coll, alias, index)
        if protected_set:
            # As an admin protecting them, once they are this link's: W&B protects aliases per entity.
            self._protected.setdefault((ref.entity, "MODEL"), set()).update(protected_set)
        if v.ttl is not None:
            self._set(replace(v, ttl=None))
        return self._effective(coll.links[index])

    def _move_link_alias(self, coll: _Collection, alias: str, index: int) -> None:
        previous = coll.aliases.get(alias)
        if previous is not None and int(previous) in coll.links:
            old = coll.links[int(previous)]
            if alias in self._effective(old).protected_aliases and int(previous) != index:
                raise ProtectedAliasError(f"alias {alias!r} of {old.name} is protected")
            coll.links[old.index] = replace(old, aliases=old.aliases - {alias})
        coll.aliases[alias] = str(index)
        link = coll.links[index]
        coll.links[index] = replace(link, aliases=link.aliases | {alias})

    @_locked
    def unlink(self, link: Link) -> None:
        """Delete a link: only unlinks, frees nothing, aliases go with it."""
        coll = self._collection(link.portfolio, CollectionKind.PORTFOLIO)
        current = coll.links.get(link.index)
        if current is None:
            raise NotFoundError(f"link {link.name} not found")
        current = self._effective(current)
        if current.protected_aliases:
            raise ProtectedAliasError(
                f"link {link.name} holds protected aliases {sorted(current.protected_aliases)}"
            )
        del coll.links[link.index]
        coll.links_changed(removed=link.index)
        for alias in current.aliases:
            coll.aliases.pop(alias, None)
        key = (link.portfolio.entity, link.portfolio.project, link.portfolio.name, link.index)
        self._links_by_source[current.version_id].remove(key)

    def portfolio_links(self, portfolio: CollectionRef | str) -> list[Link]:
        """The live links of a registry collection, newest first."""
        with self._lock:
            coll = self._collection(portfolio, CollectionKind.PORTFOLIO)
            return sorted((self._effective(lk) for lk in coll.links.values()), key=lambda lk: -lk.index)

    # ------------------------------------------------------------------ deletes

    def _delete(self, v: Version, *, delete_aliases: bool, cause: str = "delete-version") -> None:
        protected = self._protected_links(v.id)
        if protected:
            names = ", ".join(link.name for link in protected)
            raise ProtectedAliasError(f"{v.qualified_name} is linked with protected aliases ({names})")
        if v.aliases and not delete_aliases:
            raise AliasedVersionError(
                f"cannot delete {v.qualified_name}: it has aliases {sorted(v.aliases)}; "
                "use delete_aliases=True"
            )
        coll = self._collection(v.collection_ref)
        record = Deletion(
            seq=len(self._deletions),
            version=v,
            at=self.now(),
            lineage=self._lineage(v),
            links=tuple(self._links_of(v.id)),
            referrers=self._live_referrers(v.id),
            cause=cause,
        )
        self._deletions.append(record)
        self._deleted_by[v.id] = record
        for alias in v.aliases:
            if coll.aliases.get(alias) == v.id:
                del coll.aliases[alias]
        self._set(replace(v, state=VersionState.DELETED, aliases=_NO_ALIASES))
        if self.move_latest_on_delete and "latest" in v.aliases:
            survivors = [
                self._versions[i]
                for i in coll.version_ids
                if self._versions[i].state is VersionState.COMMITTED
            ]
            if survivors:
                self._assign_alias(coll, "latest", survivors[-1].id)

    @_locked
    def delete_version(self, version_id: Version | str, delete_aliases: bool = False) -> None:
        """Soft-delete a version (state DELETED, aliases dropped; files go at ``gc``)."""
        self._delete(self._live(version_id), delete_aliases=delete_aliases)

    @_locked
    def delete_collection(self, collection: CollectionRef | str) -> None:
        """Delete every version of a sequence, or every link of a portfolio.

        The emptied collection remains, showing no versions.
        """
        ref = CollectionRef.parse(collection) if isinstance(collection, str) else collection
        coll = self._collection(ref)
        if coll.ref.kind is CollectionKind.PORTFOLIO:
            protected = [lk for lk in coll.links.values() if self._effective(lk).protected_aliases]
            if protected:
                raise ProtectedAliasError(f"{coll.ref} holds links with protected aliases")
            for link in list(coll.links.values()):
                self.unlink(link)
            return
        live = [
            self._versions[i] for i in coll.version_ids if self._versions[i].state is not VersionState.DELETED
        ]
        blocked = [v for v in live if self._protected_links(v.id)]
        if blocked:
            raise ProtectedAliasError(
                f"{coll.ref}: {blocked[0].name} is linked with protected aliases; nothing deleted"
            )
        for v in live:
            self._delete(v, delete_aliases=True, cause="delete-collection")

    @_locked
    def expire_ttl(self) -> list[Version]:
        """Soft-delete every version whose TTL has run out; returns them."""
        now = self.now()
        # now - created_at, not created_at + ttl: a TTL of centuries must not overflow datetime.
        # Every check before any change: a version that cannot be deleted (linked with a protected
        # alias, which only restored state can pair with a TTL) does not expire, and never stops
        # the others halfway.
        expired = [
            v
            for v in self._versions.values()
            if v.state is not VersionState.DELETED
            and v.ttl is not None
            and now - v.created_at >= v.ttl
            and not self._protected_links(v.id)
        ]
        for v in expired:
            self._delete(v, delete_aliases=True, cause="ttl")
        return expired

    # ------------------------------------------------------------------ storage

    @_locked
    def gc(self) -> int:
        """Garbage-collect storage: drop digests no surviving version in their scope references.

        Returns the bytes freed.
        """
        referenced: set[tuple[str, str]] = set()
        for v in self._versions.values():
            if v.state is VersionState.DELETED:
                continue
            key = self._dedupe_key(v)
            referenced.update((key, e.digest) for e in self._manifests[v.id] if e.ref is None)
        freed = 0
        for stored_key in [k for k in self._stored if k not in referenced]:
            freed += self._stored.pop(stored_key)
        self._gc_blobs()
        return freed

    def stored_bytes(self) -> int:
        """Bytes currently held in storage."""
        with self._lock:
            return sum(self._stored.values())

    def stored_digests(self) -> frozenset[str]:
        """Digests currently held in storage (in any dedupe scope)."""
        with self._lock:
            return frozenset(d for _, d in self._stored)

    def stored_objects(self) -> dict[tuple[str, str], int]:
        """Storage as ``(dedupe scope, digest) -> size``."""
        with self._lock:
            return dict(self._stored)

    # ------------------------------------------------------------------ reads

    def versions(self, include_deleted: bool = False, *, scope: Scope | str | None = None) -> list[Version]:
        """Every version of every source collection, oldest first."""
        with self._lock:
            sc = Scope.parse(scope) if isinstance(scope, str) else scope
            return [
                v
                for v in self._versions.values()
                if (include_deleted or v.state is not VersionState.DELETED)
                and (sc is None or (v.entity == sc.entity and v.project == sc.project))
            ]

    def iter_versions(self, scope: Scope) -> Iterator[Version]:
        """Surviving versions of one project, without copying the whole table first."""
        with self._lock:
            self._require_project(scope)
            found = [
                self._versions[vid]
                for coll in self._by_project.get(scope, ())
                if coll.ref.kind is CollectionKind.SEQUENCE
                for vid in coll.version_ids
            ]
        return (v for v in found if v.state is not VersionState.DELETED)

    def _require_project(self, scope: Scope) -> None:
        if scope not in self._projects:
            raise NotFoundError(f"project {scope} not found")

    def version(self, version_id: str) -> Version:
        with self._lock:
            return self._version(version_id)

    def manifest(self, version_id: str) -> tuple[ManifestEntry, ...]:
        with self._lock:
            self._version(version_id)
            return self._manifests[version_id]

    def lineage(self, version_id: str) -> Lineage:
        with self._lock:
            return self._lineage(self._version(version_id))

    def _lineage(self, v: Version) -> Lineage:
        producer = self._runs.get(v.producer) if v.producer else None
        consumers = tuple(self._runs[p] for p in self._consumers.get(v.id, ()) if p in self._runs)
        return Lineage(producer, consumers)

    def links(self, version_id: str) -> tuple[Link, ...]:
        with self._lock:
            self._version(version_id)
            return tuple(self._links_of(version_id))

    def collections(self, scope: Scope | str, *, type: str | None = None) -> list[CollectionRef]:  # noqa: A002
        """Every collection of a project (sequences and portfolios)."""
        sc = Scope.parse(scope) if isinstance(scope, str) else scope
        with self._lock:
            return [c.ref for c in self._by_project.get(sc, ()) if type is None or c.type == type]

    def collection_infos(self, scope: Scope | str) -> list[CollectionInfo]:
        """Every collection of a project as the wire shows it, oldest first (creation and id order)."""
        sc = Scope.parse(scope) if isinstance(scope, str) else scope
        with self._lock:
            return [c.info() for c in self._by_project.get(sc, ())]

    def collections_page(
        self,
        scope: Scope | str,
        *,
        limit: int,
        type: str | None = None,  # noqa: A002 - W&B's own name
        newest_first: bool = True,
        offset: int = 0,
        after_counter: int | None = None,
    ) -> tuple[list[CollectionInfo], int, int] | None:
        """One page of a project's collections (of one type, if given) by id, in O(log n + limit).

        The listing runs newest first (descending id number) or oldest first;
        the page starts at position ``offset``, or just past id number
        ``after_counter`` along that order. Returns ``(page, total,
        remaining)`` as :meth:`collection_page` does; None if the project's
        collections are not in id order (then list :meth:`collection_infos`).
        """
        sc = Scope.parse(scope) if isinstance(scope, str) else scope
        with self._lock:
            if sc in self._unordered_projects:
                return None
            listing: list[_Collection] = (
                self._by_project.get(sc, []) if type is None else self._by_project_type.get((sc, type), [])
            )
            n = len(listing)
            limit = max(0, limit)

            def number(c: _Collection) -> int:
                return _decode_counter(c.id)

            if newest_first:
                if after_counter is not None:
                    end = bisect.bisect_left(listing, after_counter, key=number)
                else:
                    end = max(0, n - offset)
                chosen = listing[max(0, end - limit) : end][::-1]
                remaining = end
            else:
                if after_counter is not None:
                    begin = bisect.bisect_right(listing, after_counter, key=number)
                else:
                    begin = min(n, offset)
                chosen = listing[begin : begin + limit]
                remaining = n - begin
            return [c.info() for c in chosen], n, remaining

    def find_collection(self, scope: Scope | str, name: str) -> CollectionInfo | None:
        """A project's collection by name (sequence or portfolio), or None; no scan."""
        sc = Scope.parse(scope) if isinstance(scope, str) else scope
        with self._lock:
            coll = self._collections.get((sc.entity, sc.project, name))
            return coll.info() if coll is not None else None

    def collection_type(self, collection: CollectionRef | str) -> str:
        with self._lock:
            return self._collection(collection).type

    def collection_versions(self, collection: CollectionRef | str) -> list[Version]:
        """Surviving versions of a sequence, newest first."""
        with self._lock:
            coll = self._collection(collection, CollectionKind.SEQUENCE)
            return [
                self._versions[i]
                for i in reversed(coll.version_ids)
                if self._versions[i].state is not VersionState.DELETED
            ]

    def collection_page(
        self,
        collection: CollectionRef | str,
        *,
        limit: int,
        states: frozenset[VersionState] | None = None,
        newest_first: bool = True,
        offset: int = 0,
        after_index: int | None = None,
    ) -> tuple[list[Version], int, int] | None:
        """One page of a sequence's live versions in O(log n + limit), for paginated listings.

        The listing is the live versions whose state is in ``states`` (None: any
        live state), by index, newest first or oldest first. The page starts at
        position ``offset`` of the listing or, when ``after_index`` is given,
        just past that index along the listing order (strictly older when newest
        first, strictly newer otherwise; it need not be a live version, so
        deleting seen versions shifts nothing). Returns ``(page, total,
        remaining)``: the listing's length, and how many items run from the
        page's start to its end (more follow when ``remaining > len(page)``).
        None when the collection's versions are not in index order (a snapshot
        restored into a collection that already had later versions): list it
        with :meth:`collection_versions` instead.
        """
        with self._lock:
            coll = self._collection(collection, CollectionKind.SEQUENCE)
            if not coll.ordered:
                return None
            chosen = [s for s in _LIVE_STATES if states is None or s in states]
            if not coll.live or not chosen:
                return [], 0, 0
            indices = coll.live[None] if len(chosen) == len(_LIVE_STATES) else coll.live[chosen[0]]
            n = len(indices)
            limit = max(0, limit)
            if newest_first:
                end = indices.bisect_left(after_index) if after_index is not None else max(0, n - offset)
                page = indices.islice(max(0, end - limit), end, reverse=True)
                remaining = end
            else:
                begin = indices.bisect_right(after_index) if after_index is not None else min(n, offset)
                page = indices.islice(begin, begin + limit)
                remaining = n - begin
            return [self._versions[coll.by_index[i]] for i in page], n, remaining

    def resolve(self, path: str) -> Version:
        """Resolve ``entity/project/name:vN`` or ``entity/project/name:alias`` to a source version.

        A name in a registry collection resolves to the linked source version.
        """
        with self._lock:
            coll_path, sep, tag = path.rpartition(":")
            if not sep:
                coll_path, tag = path, "latest"
            coll = self._collection(coll_path)
            if coll.ref.kind is CollectionKind.PORTFOLIO:
                index = self._tag_index(tag, coll.aliases)
                link = coll.links.get(index) if index is not None else None
                if link is None:
                    raise NotFoundError(f"artifact {path!r} not found")
                return self._versions[link.version_id]
            index = self._tag_index(tag, None)
            if index is not None and coll.ordered:
                # Indices are unique in an ordered collection: no scan.
                found = coll.by_index.get(index)
                if found is not None and self._versions[found].state is not VersionState.DELETED:
                    return self._versions[found]
            elif index is not None:
                for vid in coll.version_ids:
                    v = self._versions[vid]
                    if v.index == index and v.state is not VersionState.DELETED:
                        return v
            elif tag in coll.aliases:
                return self._versions[coll.aliases[tag]]
            raise NotFoundError(f"artifact {path!r} not found")

    @staticmethod
    def _tag_index(tag: str, aliases: Mapping[str, str] | None) -> int | None:
        if tag.startswith("v") and tag[1:].isdigit():
            return int(tag[1:])
        if aliases is not None and tag in aliases:
            return int(aliases[tag])
        return None

    def find_collections(self, scope: Scope, pattern: str) -> list[CollectionRef]:
        """Collections of a project whose name matches a glob."""
        return [c for c in self.collections(scope) if fnmatch.fnmatchcase(c.name, pattern)]

    # ------------------------------------------------------------------ wire reads (fakes.server)

    def collection_info(self, collection: CollectionRef | str) -> CollectionInfo:
        """One collection's record (id, type, creation time), by path."""
        with self._lock:
            return self._collection(collection).info()

    def collection_by_id(self, collection_id: str) -> CollectionInfo:
        """One collection's record, by its W&B-style id."""
        with self._lock:
            coll = self._by_id.get(collection_id)
            if coll is not None:
                return coll.info()
            raise NotFoundError(f"artifact collection {collection_id!r} not found")

    def scopes(self) -> list[Scope]:
        """Every project that holds a run or a collection (registry projects included), sorted."""
        with self._lock:
            found = {Scope(e, p) for e, p, _ in self._collections}
            found.update(run.scope for run in self._runs.values())
            return sorted(found, key=str)

    def has_project(self, scope: Scope | str) -> bool:
        """Whether ``entity/project`` exists: made by its first run or collection, kept when runs go."""
        sc = Scope.parse(scope) if isinstance(scope, str) else scope
        with self._lock:
            try:
                self._require_project(sc)
            except NotFoundError:
                return False
            return True

    def run_inputs(self, run: Run | str) -> list[Version]:
        """Versions a run consumed (including since-deleted ones), in the order it used them."""
        with self._lock:
            path = self._run(run).path
            return [self._versions[vid] for vid, users in self._consumers.items() if path in users]

    def run_outputs(self, run: Run | str) -> list[Version]:
        """Versions a run logged (including since-deleted ones), oldest first."""
        with self._lock:
            path = self._run(run).path
            return [self._versions[vid] for vid in self._by_producer.get(path, ())]

    @_locked
    def set_ttl(self, version: Version | str, ttl: timedelta | None) -> Version:
        """Set or clear a version's TTL.

        A negative TTL is a :class:`ValueError`; a version linked into the registry
        cannot carry one (linking clears it): :class:`ConflictError`.
        """
        v = self._live(version)
        if ttl is not None:
            if ttl < timedelta(0):
                raise ValueError(f"ttl must not be negative, got {ttl}")
            if self._links_of(v.id):
                raise ConflictError(f"{v.qualified_name} is linked into the registry: it cannot have a TTL")
            # A TTL is a deferred deletion: keep the facts it met, for the audit.
            self._ttl_set[v.id] = Deletion(
                seq=len(self._deletions),
                version=v,
                at=self.now(),
                lineage=self._lineage(v),
                links=tuple(self._links_of(v.id)),
                referrers=self._live_referrers(v.id),
                cause="set-ttl",
            )
        return self._set(replace(v, ttl=ttl))

    def ttl_set_on(self, version_id: str) -> Deletion | None:
        """The last TTL set on a version, with the facts just before it (a deferred deletion)."""
        with self._lock:
            return self._ttl_set.get(version_id)

    # ------------------------------------------------------------------ snapshots (fakes._snapshot_load)

    @_locked
    def restore(
        self,
        *,
        runs: Iterable[Run],
        versions: Iterable[tuple[Version, tuple[ManifestEntry, ...]]],
        consumers: Mapping[str, Iterable[str]],
        links: Iterable[Link],
        projects: Iterable[Scope] = (),
    ) -> None:
        """Insert recorded state verbatim: ids, indices, aliases and links as a snapshot holds them.

        Unlike the builder methods this keeps the recorded version ids, so a
        plan made against the restored fake names the same versions as the
        original. The caller (``fakes.load_snapshot``) has validated the data;
        an id that already exists here is refused.
        """
        runs, versions = list(runs), list(versions)
        # Every check before any change: a refused restore leaves the fake as it was.
        for run in runs:
            if run.path in self._runs:
                raise ConflictError(f"run {run.path!r} already exists")
        for v, _ in versions:
            if v.id in self._versions:
                raise ConflictError(f"artifact version {v.id!r} already exists")
        self._projects.update(projects)
        for run in runs:
            self._runs[run.path] = run
            self._projects.add(run.scope)
        highest = self._counter
        for v, entries in sorted(versions, key=lambda item: (item[0].collection, item[0].index)):
            if v.id in self._versions:
                raise ConflictError(f"artifact version {v.id!r} already exists")
            key = (v.entity, v.project, v.collection)
            coll = self._collections.get(key)
            if coll is None:
                coll = _Collection(v.collection_ref, v.type, v.created_at, id=self._next("ArtifactSequence"))
                self._add_collection(coll)
            coll.next_index = max(coll.next_index, v.index + 1)
            coll.created_at = min(coll.created_at, v.created_at)
            coll.version_ids.append(v.id)
            for alias in v.aliases:
                coll.aliases[alias] = v.id
            self._versions[v.id] = v
            self._index_version(v, None)
            self._manifests[v.id] = entries
            self._index_references(v, entries)
            dkey = self._dedupe_key(v)
            for e in entries:
                if e.ref is None:
                    self._stored[(dkey, e.digest)] = e.size
            highest = max(highest, _decode_counter(v.id))
        for vid, paths in consumers.items():
            self._consumers[vid] = list(paths)
        for link in links:
            key = (link.portfolio.entity, link.portfolio.project, link.portfolio.name)
            coll = self._collections.get(key)
            if coll is None:
                source = self._versions[link.version_id]
                coll = _Collection(
                    link.portfolio, source.type, source.created_at, id=self._next("ArtifactPortfolio")
                )
                self._add_collection(coll)
            if link.protected_aliases:
                self._protected.setdefault((link.portfolio.entity, "MODEL"), set()).update(
                    link.protected_aliases
                )
            coll.links[link.index] = replace(link, protected_aliases=frozenset())
            coll.links_changed()
            coll.next_index = max(coll.next_index, link.index + 1)
            for alias in link.aliases:
                coll.aliases[alias] = str(link.index)
            self._links_by_source.setdefault(link.version_id, []).append((*key, link.index))
        # New ids made after a restore must not collide with restored ones.
        self._counter = max(self._counter, highest)

    # ------------------------------------------------------------------ paged wire reads

    def consumers_page(
        self, version_id: str, *, limit: int, after: int | None = None
    ) -> tuple[list[tuple[int, Run]], bool]:
        """One page of a version's consumers (``usedBy``) in O(page), in the order they used it.

        Each consumer comes with its position in the version's use record,
        which only grows, so a position is a stable cursor: deleting a run
        seen earlier shifts nothing. Starts just past position ``after`` (None:
        at the start); deleted runs are skipped. Returns the page and whether
        more follow.
        """
        with self._lock:
            self._version(version_id)
            users = self._consumers.get(version_id, [])
            start = 0 if after is None else max(0, after + 1)
            page: list[tuple[int, Run]] = []
            for position in range(start, len(users)):
                run = self._runs.get(users[position])
                if run is None:
                    continue
                if len(page) == max(0, limit):
                    return page, True
                page.append((position, run))
            return page, False

    def portfolio_links_page(
        self, portfolio: CollectionRef | str, *, limit: int, before_index: int | None = None
    ) -> tuple[list[Link], bool]:
        """One page of a registry collection's links, newest first, in O(log n + page).

        Starts just below link index ``before_index`` (None: the newest).
        Returns the page and whether more follow.
        """
        with self._lock:
            coll = self._collection(portfolio, CollectionKind.PORTFOLIO)
            order = coll.link_order()
            end = len(order) if before_index is None else order.bisect_left(before_index)
            chosen = order.islice(max(0, end - max(0, limit)), end, reverse=True)
            return [self._effective(coll.links[i]) for i in chosen], end > max(0, limit)

    def registry_portfolios(self, entity: str) -> list[CollectionInfo]:
        """Every registry collection of ``entity``'s registries, in creation (id) order, without links."""
        with self._lock:
            found = [
                c
                for s in self._projects
                if s.entity == entity and s.project.startswith(REGISTRY_PREFIX)
                for c in self._by_project.get(s, ())
                if c.ref.kind is CollectionKind.PORTFOLIO
            ]
            found.sort(key=lambda c: _decode_counter(c.id))
            return [c.info() for c in found]

    def merged_collections_page(
        self,
        scopes: Iterable[Scope],
        *,
        limit: int,
        newest_first: bool = True,
        after_counter: int | None = None,
        keep: Callable[[CollectionInfo], bool] | None = None,
    ) -> tuple[list[CollectionInfo], bool]:
        """One page of the collections of several projects merged in id (creation) order, O(page) per page.

        Starts just past id number ``after_counter`` along the order (newest
        or oldest first); ``keep`` filters as it goes. Returns the page and
        whether more follow. Each project's listing is in id order already
        (one that is not, after an out-of-order restore, is sorted first).
        """
        with self._lock:
            runs = []
            for sc in scopes:
                listing = self._by_project.get(sc, [])
                if sc in self._unordered_projects:
                    listing = sorted(listing, key=lambda c: _decode_counter(c.id))
                if newest_first:
                    end = len(listing)
                    if after_counter is not None:
                        end = bisect.bisect_left(listing, after_counter, key=lambda c: _decode_counter(c.id))
                    runs.append(map(listing.__getitem__, range(end - 1, -1, -1)))
                else:
                    begin = 0
                    if after_counter is not None:
                        begin = bisect.bisect_right(
                            listing, after_counter, key=lambda c: _decode_counter(c.id)
                        )
                    runs.append(map(listing.__getitem__, range(begin, len(listing))))
            sign = -1 if newest_first else 1
            page: list[CollectionInfo] = []
            for coll in heapq.merge(*runs, key=lambda c: sign * _decode_counter(c.id)):
                info = coll.info()
                if keep is not None and not keep(info):
                    continue
                if len(page) == max(0, limit):
                    return page, True
                page.append(info)
            return page, False

    def link_count(self, portfolio: CollectionRef | str) -> int:
        """How many live links a registry collection holds."""
        with self._lock:
            return len(self._collection(portfolio, CollectionKind.PORTFOLIO).links)

    # ------------------------------------------------------------------ protected aliases

    @_locked
    def add_protected_aliases(
        self,
        entity: str,
        aliases: Iterable[str],
        *,
        admin_type: str = "MODEL",  # W&B's WorkflowsAdminType
    ) -> frozenset[str]:
        """Protect aliases in ``entity``'s registries (as its admin); returns the entity's protected set.

        A protected alias can be removed from a link only by an admin, and a
        source linked with one cannot be deleted (W&B's ``addProtectedAliases``).
        """
        wanted = list(aliases)
        for alias in wanted:
            self._check_alias_name(alias)
        held = self._protected.setdefault((entity, admin_type), set())
        held.update(wanted)
        return frozenset(held)

    @_locked
    def remove_protected_aliases(
        self, entity: str, aliases: Iterable[str], *, admin_type: str = "MODEL"
    ) -> frozenset[str]:
        """Stop protecting aliases in ``entity`` (as its admin); returns the entity's protected set."""
        held = self._protected.setdefault((entity, admin_type), set())
        held.difference_update(aliases)
        return frozenset(held)

    def protected_aliases(self, entity: str, *, admin_type: str = "MODEL") -> frozenset[str]:
        """The aliases ``entity`` protects (W&B's ``Entity.protectedAliases(adminType:)``)."""
        with self._lock:
            return frozenset(self._protected.get((entity, admin_type), ()))

    @_locked
    def set_admin(self, entity: str, admin: bool = True, *, admin_type: str = "MODEL") -> None:
        """Make the wire's viewer an admin of ``entity`` (or not): only admins change protected aliases."""
        if admin:
            self._admins.add((entity, admin_type))
        else:
            self._admins.discard((entity, admin_type))

    def is_admin(self, entity: str, *, admin_type: str = "MODEL") -> bool:
        """Whether the wire's viewer is an admin of ``entity`` (no one is, unless :meth:`set_admin`)."""
        with self._lock:
            return (entity, admin_type) in self._admins

    # ------------------------------------------------------------------ link aliases

    def _current_link(self, link: Link) -> tuple[_Collection, Link]:
        coll = self._collection(link.portfolio, CollectionKind.PORTFOLIO)
        current = coll.links.get(link.index)
        if current is None:
            raise NotFoundError(f"link {link.name} not found")
        return coll, current

    @_locked
    def add_link_aliases(self, link: Link, aliases: Iterable[str]) -> Link:
        """Give aliases to a link (a version reached through its registry collection); each moves.

        Moving a protected alias away from the link that holds it is refused.
        """
        coll, current = self._current_link(link)
        wanted = list(aliases)
        for alias in wanted:
            self._check_alias_name(alias)
        for alias in wanted:  # all or none
            holder = coll.aliases.get(alias)
            old = coll.links.get(int(holder)) if holder is not None else None
            if (
                old is not None
                and old.index != current.index
                and alias in self._effective(old).protected_aliases
            ):
                raise ProtectedAliasError(f"alias {alias!r} of {old.name} is protected")
        for alias in wanted:
            self._move_link_alias(coll, alias, current.index)
        return self._effective(coll.links[current.index])

    @_locked
    def remove_link_aliases(self, link: Link, aliases: Iterable[str], *, admin: bool = False) -> Link:
        """Remove aliases from a link; a protected one only as an admin (else nothing is removed)."""
        coll, current = self._current_link(link)
        drop = set(aliases) & current.aliases
        guarded = drop & self._effective(current).protected_aliases
        if guarded and not admin:
            raise ProtectedAliasError(
                f"aliases {sorted(guarded)} of {current.name} are protected: only an admin may remove them"
            )
        for alias in drop:
            coll.aliases.pop(alias, None)
        coll.links[current.index] = replace(current, aliases=current.aliases - drop)
        return self._effective(coll.links[current.index])

    # ------------------------------------------------------------------ collection records

    @_locked
    def add_collection_tags(self, collection: CollectionRef | str, tags: Iterable[str]) -> tuple[str, ...]:
        """Tag a collection (W&B's ``createArtifactCollectionTagAssignments``); returns its tags."""
        coll = self._collection(collection)
        wanted = [t for t in dict.fromkeys(tags) if t not in coll.tags]
        for tag in wanted:
            if not tag or len(tag) > 128:
                raise ValueError(f"invalid tag {tag!r}")
        if wanted:
            coll.tags = (*coll.tags, *wanted)
            coll.updated_at = self.now()
        return coll.tags

    @_locked
    def remove_collection_tags(self, collection: CollectionRef | str, tags: Iterable[str]) -> tuple[str, ...]:
        """Remove tags from a collection; tags it does not carry are ignored."""
        coll = self._collection(collection)
        drop = set(tags)
        if drop & set(coll.tags):
            coll.tags = tuple(t for t in coll.tags if t not in drop)
            coll.updated_at = self.now()
        return coll.tags

    @_locked
    def update_collection(
        self, collection: CollectionRef | str, *, description: str | None = None, name: str | None = None
    ) -> CollectionInfo:
        """Change a collection's description. Renaming is refused by name (not modelled)."""
        coll = self._collection(collection)
        if name is not None and name != coll.ref.name:
            raise ValueError(
                f"the fake does not model renaming artifact collections ({coll.ref} to {name!r})"
            )
        if description is not None and description != coll.description:
            coll.description = description
            coll.updated_at = self.now()
        return coll.info()

    @_locked
    def move_collection(self, collection: CollectionRef | str, new_type: str) -> CollectionInfo:
        """Give a sequence and all its versions another artifact type (W&B's ``moveArtifactSequence``)."""
        coll = self._collection(collection, CollectionKind.SEQUENCE)
        if not new_type or "/" in new_type or ":" in new_type:
            raise ValueError(f"invalid artifact type {new_type!r}")
        if new_type == coll.type:
            return coll.info()
        scope = coll.ref.scope
        self._by_project_type[(scope, coll.type)].remove(coll)
        listing = self._by_project_type.setdefault((scope, new_type), [])
        bisect.insort(listing, coll, key=lambda c: _decode_counter(c.id))
        coll.type = new_type
        for vid in coll.version_ids:
            self._versions[vid] = replace(self._versions[vid], type=new_type)
        coll.updated_at = self.now()
        return coll.info()

    # ------------------------------------------------------------------ registries

    def _registry_scope(self, entity: str, name: str) -> Scope:
        project = name if name.startswith(REGISTRY_PREFIX) else REGISTRY_PREFIX + name
        return Scope(entity, project)

    def registry(self, scope: Scope | str) -> RegistryInfo | None:
        """A registry's record (None if ``scope`` is no registry project that exists)."""
        sc = Scope.parse(scope) if isinstance(scope, str) else scope
        with self._lock:
            if not sc.project.startswith(REGISTRY_PREFIX) or sc not in self._projects:
                return None
            return self._registries.get(sc) or RegistryInfo(sc)

    def registries(self, entity: str) -> list[RegistryInfo]:
        """Every registry of ``entity`` (its registry projects), by name."""
        with self._lock:
            scopes = sorted(
                (s for s in self._projects if s.entity == entity and s.project.startswith(REGISTRY_PREFIX)),
                key=lambda s: s.project,
            )
            return [self._registries.get(s) or RegistryInfo(s) for s in scopes]

    @_locked
    def upsert_registry(
        self,
        entity: str,
        name: str,
        *,
        description: str | None = None,
        access: str | None = None,
        allow_all_types: bool | None = None,
        types: Iterable[str] | None = None,
    ) -> tuple[RegistryInfo, bool]:
        """Create or update a registry (``name`` with or without its prefix); returns it and if it is new."""
        scope = self._registry_scope(entity, name)
        now = self.now()
        inserted = scope not in self._projects
        old = self._registries.get(scope) or RegistryInfo(scope, created_at=now)
        info = replace(
            old,
            description=old.description if description is None else description,
            access=old.access if access is None else access,
            allow_all_types=old.allow_all_types if allow_all_types is None else allow_all_types,
            types=old.types if types is None else tuple(dict.fromkeys(types)),
            created_at=old.created_at or now,
            updated_at=now,
        )
        self._registries[scope] = info
        self._projects.add(scope)
        return info, inserted

    @_locked
    def delete_registry(self, scope: Scope | str) -> None:
        """Delete a registry and its collections (every link unlinked; refused whole if one is protected)."""
        sc = Scope.parse(scope) if isinstance(scope, str) else scope
        if self.registry(sc) is None:
            raise NotFoundError(f"registry {sc} not found")
        colls = list(self._by_project.get(sc, ()))
        for coll in colls:
            if coll.ref.kind is CollectionKind.SEQUENCE:
                raise ValueError(
                    f"the fake does not model deleting a registry that holds logged versions ({coll.ref})"
                )
            if any(self._effective(lk).protected_aliases for lk in coll.links.values()):
                raise ProtectedAliasError(f"{coll.ref} holds links with protected aliases; nothing deleted")
        for coll in colls:
            for link in list(coll.links.values()):
                self.unlink(link)
            del self._collections[(coll.ref.entity, coll.ref.project, coll.ref.name)]
            self._by_id.pop(coll.id, None)
            self._by_project_type.pop((sc, coll.type), None)
        self._by_project.pop(sc, None)
        self._registries.pop(sc, None)
        self._projects.discard(sc)

    @_locked
    def rename_registry(self, scope: Scope | str, new_name: str) -> RegistryInfo:
        """Rename an empty registry; renaming one that holds collections is refused (not modelled)."""
        sc = Scope.parse(scope) if isinstance(scope, str) else scope
        info = self.registry(sc)
        if info is None:
            raise NotFoundError(f"registry {sc} not found")
        target = self._registry_scope(sc.entity, new_name)
        if target in self._projects:
            raise ConflictError(f"registry {target} already exists")
        if self._by_project.get(sc):
            raise ValueError(f"the fake does not model renaming a registry that holds collections ({sc})")
        self._registries.pop(sc, None)
        self._projects.discard(sc)
        moved = replace(info, scope=target, updated_at=self.now())
        self._registries[target] = moved
        self._projects.add(target)
        return moved

    @_locked
    def set_registry_members(
        self,
        scope: Scope | str,
        *,
        users: Mapping[str, str | None] | None = None,
        teams: Mapping[str, str | None] | None = None,
    ) -> RegistryInfo:
        """Add, re-role (role given) or remove (role None) user and team members of a registry."""
        sc = Scope.parse(scope) if isinstance(scope, str) else scope
        info = self.registry(sc)
        if info is None:
            raise NotFoundError(f"registry {sc} not found")

        def merged(old: tuple[tuple[str, str], ...], change: Mapping[str, str | None] | None) -> Any:
            current = dict(old)
            for who, role in (change or {}).items():
                if role is None:
                    current.pop(who, None)
                else:
                    current[who] = role
            return tuple(current.items())

        updated = replace(
            info, members=merged(info.members, users), team_members=merged(info.team_members, teams)
        )
        self._registries[sc] = updated
        return updated

    # ------------------------------------------------------------------ write path (wandb.init, log_artifact)

    def _init_write_path(self) -> None:
        # Write-path state (see fakes._backend_write): made here so reset() rebuilds it too.
        previous = getattr(self, "blobs", None)
        if isinstance(previous, BlobStore):
            previous.close()  # a reset removes the stored bytes (and their folder) at once
        self.blobs = BlobStore()
        """File bytes by digest (uploads, and builder files given as bytes)."""
        self._run_details: dict[str, RunDetails] = {}
        self._artifact_details: dict[str, ArtifactDetails] = {}
        self._client_ids: dict[str, str] = {}
        """Client id (the SDK's, before the server's id is known) -> version id."""
        self._uploads: dict[str, UploadSlot] = {}
        """Storage path -> the upload it expects (until the bytes arrive)."""
        self._parts: dict[tuple[str, int], str] = {}
        """(storage path, part number) -> the digest its bytes are kept under in :attr:`blobs`."""
        self._md5_of: dict[str, str] = {}
        """Manifest digest (XXH128) -> the MD5 the bytes are stored under, for SDKs not using MD5."""
        self._relogged: dict[str, list[str]] = {}
        """Run path -> versions it logged again (same contents: W&B answered with the existing one)."""

    # ------------------------------------------------------------------ runs

    def upsert_run(
        self,
        path: str,
        *,
        job_type: str | None = None,
        display_name: str | None = None,
        group: str | None = None,
        notes: str | None = None,
        tags: Iterable[str] | None = None,
        config: str | None = None,
        summary: str | None = None,
        state: str | None = None,
        reopen: bool = True,
    ) -> tuple[Run, bool]:
        """Create (``running``) or update the run ``entity/project/run_id``; returns it and if it is new.

        ``config`` and ``summary`` are JSON text as the SDK sends them; config
        values arrive wrapped (``{"lr": {"value": 0.1}}``) and are kept unwrapped.
        ``reopen``: an ended run runs again (``wandb.init(resume=...)``); False
        for an edit of a run's details (the public API's ``run.update()``).
        """
        parsed_config = _json_object(config, "config")
        parsed_summary = _json_object(summary, "summaryMetrics")
        with self._lock:
            inserted = path not in self._runs
            run = (
                self.create_run(path.rsplit("/", 1)[0], path.rsplit("/", 1)[1], state="running")
                if inserted
                else self._runs[path]
            )
            details = self._run_details.setdefault(path, RunDetails(created_at=self.now()))
            if job_type is not None:
                details.job_type = job_type
            if display_name is not None:
                details.display_name = display_name
            if group is not None:
                details.group = group
            if notes is not None:
                details.notes = notes
            if tags is not None:
                details.tags = tuple(tags)
            for key, value in parsed_config.items():
                details.config[key] = (
                    value.get("value") if isinstance(value, dict) and "value" in value else value
                )
            details.summary.update(parsed_summary)
            details.heartbeat_at = self.now()
            if state is not None and state != run.state:
                run = self.finish_run(run, state)
            elif reopen and not inserted and not run.running:
                # A resumed run runs again.
                run = self.finish_run(run, "running")
            return run, inserted

    def run_logged(self, run: Run | str) -> list[Version]:
        """Versions a run logged: :meth:`run_outputs`, then those it logged again with the same contents."""
        with self._lock:
            path = self._run(run).path
            again = [self._versions[vid] for vid in self._relogged.get(path, ())]
        return self.run_outputs(path) + again

    def run_details(self, path: str) -> RunDetails:
        """What the run at ``path`` wrote (empty details for a run made by the builders)."""
        with self._lock:
            run = self._run(path)
            found = self._run_details.get(run.path)
            return found if found is not None else RunDetails(created_at=self.now())

    def stream_run(
        self,
        path: str,
        files: Mapping[str, Iterable[str]],
        *,
        complete: bool = False,
        exit_code: int | None = None,
    ) -> Run:
        """Apply one ``file_stream`` request: history, summary, events and console lines; the run's end.

        ``files`` maps W&B's stream file names (``wandb-history.jsonl``,
        ``wandb-summary.json``, ``wandb-events.jsonl``, ``output.log``) to the
        lines sent. ``complete`` ends the run: ``finished`` for exit code 0,
        ``failed`` otherwise.
        """
        with self._lock:
            run = self._run(path)
            details = self._run_details.setdefault(run.path, RunDetails(created_at=self.now()))
            for name, lines in files.items():
                for line in lines:
                    if name == "wandb-history.jsonl":
                        details.history.append(_json_object(line, "a history line"))
                    elif name == "wandb-summary.json":
                        details.summary = _json_object(line, "the summary")
                    elif name == "wandb-events.jsonl":
                        details.events.append(_json_object(line, "an events line"))
                    elif name == "output.log":
                        details.console.append(line)
            details.heartbeat_at = self.now()
            if complete:
                details.exit_code = exit_code
                state = "finished" if not exit_code else "failed"
                run = self.finish_run(run, state)
            return run

    def crash_silent_runs(self, after: timedelta = timedelta(minutes=5)) -> list[Run]:
        """Mark ``crashed`` every run the SDK started whose stream has been silent for ``after``.

        W&B does this to a run whose process died without ending it (killed,
        out of memory): its heartbeats stop. Judged by the fake's clock
        (:meth:`now`, :meth:`advance`); returns the runs marked.
        """
        with self._lock:
            now = self.now()
            silent = [
                path
                for path, details in self._run_details.items()
                if path in self._runs
                and self._runs[path].running
                and details.heartbeat_at is not None
                and now - details.heartbeat_at >= after
            ]
            return [self.finish_run(path, "crashed") for path in silent]

    def record_run_file(self, path: str, name: str, size: int) -> None:
        """Record that a run file (``config.yaml``, ``output.log``, ...) was uploaded."""
        with self._lock:
            run = self._run(path)
            self._run_details.setdefault(run.path, RunDetails(created_at=self.now())).files[name] = size

    # ------------------------------------------------------------------ artifacts

    def artifact_details(self, version_id: str) -> ArtifactDetails:
        """Description, metadata and tags of a version (empty for a builder's version)."""
        with self._lock:
            self._version(version_id)
            found = self._artifact_details.get(version_id)
            return found if found is not None else ArtifactDetails()

    def create_artifact(
        self,
        run: str | None,
        collection: str,
        type: str,  # noqa: A002 - W&B's own name
        *,
        digest: str,
        client_id: str | None = None,
        sequence_client_id: str | None = None,
        aliases: Iterable[str] = (),
        description: str | None = None,
        metadata: str | None = None,
        tags: Iterable[str] = (),
        ttl: timedelta | None = None,
        history_step: int | None = None,
        digest_algorithm: str = "MANIFEST_MD5",
        scope: str | None = None,
    ) -> Version:
        """Start a version of ``collection`` logged by ``run``: ``PENDING``, files to come.

        ``run`` None: a version no run logged (``run.use_artifact`` of an
        artifact never logged creates it so), in project ``scope``. When a
        committed version of the collection already has ``digest`` (the same
        contents), W&B answers with that version instead and the SDK skips the
        upload; the aliases asked for move to it.
        """
        meta = _json_object(metadata, "metadata")
        wanted = [a for a in aliases if a != "latest"]
        for alias in wanted:
            self._check_alias_name(alias)
        with self._lock:
            r = self._run(run) if run is not None else None
            if r is not None:
                entity, project, _ = r.path.split("/", 2)
            elif scope is not None:
                entity, project = Scope.parse(scope).entity, Scope.parse(scope).project
            else:
                raise ValueError("create_artifact needs a run or a scope")
            coll = self._collections.get((entity, project, collection))
            if coll is not None and coll.ref.kind is CollectionKind.SEQUENCE and coll.type != type:
                raise ConflictError(
                    f"artifact collection {collection!r} already exists with type {coll.type!r}, not {type!r}"
                )
            if coll is not None and coll.ref.kind is CollectionKind.SEQUENCE:
                for vid in reversed(coll.version_ids):
                    same = self._versions[vid]
                    if same.state is VersionState.COMMITTED and same.digest == digest:
                        if client_id:
                            self._client_ids[client_id] = same.id
                        if (
                            r is not None
                            and same.producer != r.path
                            and same.id not in self._relogged.get(r.path, ())
                        ):
                            self._relogged.setdefault(r.path, []).append(same.id)
                        self.add_aliases(same, wanted)
                        return self._versions[same.id]
            if r is not None:
                v = self.log_artifact(
                    r, collection, type, {}, state=VersionState.PENDING, ttl=ttl, client_id=client_id or ""
                )
            else:
                v = self._pending_without_run(entity, project, collection, type, ttl, client_id or "")
            v = self._set(replace(v, digest=digest))
            self._artifact_details[v.id] = ArtifactDetails(
                description=description,
                metadata=meta,
                tags=tuple(tags),
                client_id=client_id,
                sequence_client_id=sequence_client_id,
                history_step=history_step,
                digest_algorithm=digest_algorithm,
                aliases=tuple(wanted),
            )
            if client_id:
                self._client_ids[client_id] = v.id
            return v

    def _sequence(
        self,
        entity: str,
        project: str,
        name: str,
        type: str,  # noqa: A002 - W&B's own name
        now: datetime,
    ) -> _Collection:
        """The source collection a version is logged to, made on first use; a registry collection of
        that name, or one of another type, is refused."""
        coll = self._collections.get((entity, project, name))
        if coll is None:
            coll = _Collection(
                CollectionRef(entity, project, name), type, now, id=self._next("ArtifactSequence")
            )
            self._add_collection(coll)
        elif coll.ref.kind is not CollectionKind.SEQUENCE:
            raise ConflictError(f"{coll.ref} is a registry collection; link to it instead")
        elif coll.type != type:
            raise ConflictError(f"artifact collection {coll.ref} has type {coll.type!r}, not {type!r}")
        return coll

    def _pending_without_run(
        self,
        entity: str,
        project: str,
        name: str,
        type: str,  # noqa: A002 - W&B's own name
        ttl: timedelta | None,
        client_id: str,
    ) -> Version:
        # What log_artifact makes for an empty PENDING version, with no producer.
        if ":" in name or "/" in name or not name:
            raise ValueError(f"invalid artifact name {name!r}")
        now = self.now()
        coll = self._sequence(entity, project, name, type, now)
        v = Version(
            id=self._next("Artifact"),
            entity=entity,
            project=project,
            collection=name,
            type=type,
            index=coll.next_index,
            created_at=now,
            state=VersionState.PENDING,
            ttl=ttl,
            client_id=client_id,
        )
        coll.next_index += 1
        coll.version_ids.append(v.id)
        self._set(v)
        self._manifests[v.id] = ()
        return v

    def version_by_client_id(self, client_id: str) -> Version | None:
        """The version the SDK created under ``client_id``, None if none."""
        with self._lock:
            vid = self._client_ids.get(client_id)
            return self._versions[vid] if vid is not None else None

    def create_manifest(
        self, version_id: str, *, manifest_type: str = "FULL", base_id: str | None = None
    ) -> str:
        """Record that ``version_id`` will get a manifest (FULL, INCREMENTAL or PATCH); returns its id."""
        with self._lock:
            v = self._live(version_id)
            if manifest_type not in ("FULL", "INCREMENTAL", "PATCH"):
                raise ValueError(f"unknown manifest type {manifest_type!r}")
            if base_id is not None:
                self._version(base_id)
            details = self._artifact_details.setdefault(v.id, ArtifactDetails())
            details.manifest_type = manifest_type
            details.base_id = base_id
            details.manifest_id = f"manifest-{v.id}"
            return details.manifest_id

    def version_of_manifest(self, manifest_id: str) -> Version:
        """The version a manifest id (from :meth:`create_manifest`) belongs to."""
        if not manifest_id.startswith("manifest-"):
            raise NotFoundError(f"artifact manifest {manifest_id!r} not found")
        return self.version(manifest_id.removeprefix("manifest-"))

    def request_upload(
        self,
        version_id: str,
        name: str,
        md5: str,
        *,
        digest: str | None = None,
        parts: Iterable[tuple[int, str]] = (),
    ) -> UploadSlot | None:
        """Where to upload file ``name`` of a pending version; None when its digest is already stored.

        Deduplication as W&B does it: a digest already stored in the version's
        dedupe scope is not uploaded again. ``digest`` is the file's digest in
        the manifest when the SDK negotiated another algorithm than MD5 (XXH128):
        dedupe keys follow it, and the bytes (checked by ``md5``) are found by it.
        """
        key = digest or md5
        with self._lock:
            v = self._live(version_id)
            if key != md5:
                self._md5_of[key] = md5
            if (self._dedupe_key(v), key) in self._stored:
                return None
            # W&B's storage layout: content-addressed under wandb_artifacts/.
            slot = UploadSlot(f"wandb_artifacts/{base64.b64decode(md5).hex()}", md5, v.id, tuple(parts))
            self._uploads[slot.storage_path] = slot
            return slot

    def upload_slot(self, storage_path: str) -> UploadSlot:
        """The upload expected at ``storage_path``; NotFoundError if none."""
        with self._lock:
            slot = self._uploads.get(storage_path)
        if slot is None:
            raise NotFoundError(f"no upload expected at {storage_path!r}")
        return slot

    def store_part(
        self, storage_path: str, part: int, read: Callable[[int], bytes], length: int | None
    ) -> str:
        """Keep one part of a multipart upload, streamed to :attr:`blobs`; returns its hex MD5.

        The part must have the MD5 announced for it in ``createArtifactFiles``.
        """
        slot = self.upload_slot(storage_path)
        expected = dict(slot.parts).get(part)
        if expected is None:
            raise ValueError(f"upload {storage_path!r} has no part {part}")
        try:
            announced = base64.b64encode(bytes.fromhex(expected)).decode()
        except ValueError:
            raise ValueError(f"part {part} was announced with MD5 {expected!r}, not hex") from None
        digest, _ = self.blobs.put_stream(read, length, expect=announced)
        with self._lock:
            self._parts[(storage_path, part)] = digest
        return expected

    def complete_multipart(self, storage_path: str, parts: Iterable[tuple[int, str]]) -> str:
        """Join the uploaded parts (in part order) into the file; returns its digest.

        A part missing, or parts that do not join into the announced digest,
        is refused and nothing is stored. The parts' own bytes go at the next
        :meth:`gc`.
        """
        slot = self.upload_slot(storage_path)
        numbers = sorted(n for n, _ in parts)
        announced = sorted(n for n, _ in slot.parts)
        if numbers != announced:
            raise ValueError(f"upload {storage_path!r} completes parts {numbers}, expected {announced}")
        with self._lock:
            missing = [n for n in numbers if (storage_path, n) not in self._parts]
            if missing:
                raise ValueError(f"upload {storage_path!r} is missing parts {missing}")
            keys = [self._parts[(storage_path, n)] for n in numbers]
        chunks = itertools.chain.from_iterable(self.blobs.chunks(k) for k in keys)
        pending = bytearray()

        def read(n: int) -> bytes:
            # Streams the parts one chunk at a time: the joined file is never in memory whole.
            while len(pending) < n:
                chunk = next(chunks, b"")
                if not chunk:
                    break
                pending.extend(chunk)
            out = bytes(pending[:n])
            del pending[:n]
            return out

        digest, _ = self.blobs.put_stream(read, None, expect=slot.digest)
        with self._lock:
            for n in numbers:
                self._parts.pop((storage_path, n), None)
        return digest

    def set_manifest(self, version_id: str, raw: bytes) -> tuple[ManifestEntry, ...]:
        """Receive the uploaded ``wandb_manifest.json`` of a pending version (applied at commit).

        INCREMENTAL and PATCH manifests are applied over the base version's
        entries, path by path; the base is the one named at ``create_manifest``,
        else the collection's latest committed version.
        """
        document = parse_manifest(raw)
        with self._lock:
            v = self._live(version_id)
            if v.state is not VersionState.PENDING:
                raise ConflictError(f"{v.qualified_name} is committed; its manifest cannot change")
            details = self._artifact_details.setdefault(v.id, ArtifactDetails())
            if details.manifest_type in ("INCREMENTAL", "PATCH"):
                base_id = details.base_id
                if base_id is None:
                    latest = self._collection(v.collection_ref).aliases.get("latest")
                    base_id = latest if latest != v.id else None
                if base_id is not None:
                    contents = dict(self.manifest_document(base_id)["contents"])
                    contents.update(document["contents"])
                    document = {**document, "contents": contents}
            entries = manifest_entries(document)
            details.manifest = entries
            details.document = document
            return entries

    def manifest_document(self, version_id: str) -> dict[str, Any]:
        """A version's ``wandb_manifest.json``: as the SDK uploaded it, else built from its entries."""
        with self._lock:
            v = self._version(version_id)
            details = self._artifact_details.get(v.id)
            if details is not None and details.document is not None and v.state is not VersionState.PENDING:
                return details.document
            contents: dict[str, dict[str, Any]] = {}
            for entry in self._manifests[v.id]:
                item: dict[str, Any] = {"digest": entry.digest, "size": entry.size}
                if entry.ref is not None:
                    item["ref"] = entry.ref
                else:
                    item["birthArtifactID"] = v.id
                contents[entry.path] = item
        return {
            "version": 1,
            "storagePolicy": "wandb-storage-policy-v1",
            "storagePolicyConfig": {"storageLayout": "V2"},
            "contents": contents,
        }

    def commit_artifact(self, version_id: str) -> Version:
        """Commit a pending version written through the SDK.

        Refused (the version stays ``PENDING``) when no manifest was uploaded,
        or a stored file of the manifest was neither uploaded nor already held
        in the dedupe scope, or a file's size differs from what is stored.
        """
        with self._lock:
            v = self._live(version_id)
            if v.state is VersionState.COMMITTED:
                return v
            details = self._artifact_details.setdefault(v.id, ArtifactDetails())
            entries = details.manifest
            if entries is None:
                raise ConflictError(f"cannot commit {v.qualified_name}: no manifest was uploaded")
            dkey = self._dedupe_key(v)
            missing = [
                e.path
                for e in entries
                if e.ref is None
                and (dkey, e.digest) not in self._stored
                and self.bytes_key(e.digest) not in self.blobs
            ]
            if missing:
                raise ConflictError(
                    f"cannot commit {v.qualified_name}: files not uploaded: {', '.join(sorted(missing)[:5])}"
                )
            for e in entries:
                if e.ref is not None:
                    continue
                held = self._stored.get((dkey, e.digest))
                if held is None:
                    held = self.blobs.size(self.bytes_key(e.digest))
                if held is not None and held != e.size:
                    raise ConflictError(
                        f"cannot commit {v.qualified_name}: {e.path!r} is {held} bytes, "
                        f"the manifest says {e.size}"
                    )
            for e in entries:
                if e.ref is None:
                    self._stored[(dkey, e.digest)] = e.size
            self._manifests[v.id] = entries
            self._index_references(v, entries)
            self._set(replace(v, size=sum(e.size for e in entries)))
            aliases = details.aliases
            for path in [p for p, slot in self._uploads.items() if slot.version_id == v.id]:
                del self._uploads[path]
            details.manifest = None
            details.aliases = ()
            self.commit(v.id)
            coll = self._collection(v.collection_ref)
            for alias in aliases:
                self._assign_alias(coll, alias, v.id)
            return self._versions[v.id]

    def update_artifact_details(
        self,
        version_id: str,
        *,
        description: str | None = None,
        metadata: str | None = None,
        tags_to_add: Iterable[str] = (),
        tags_to_delete: Iterable[str] = (),
    ) -> ArtifactDetails:
        """Change a version's description, metadata and tags (``UpdateArtifact``)."""
        meta = _json_object(metadata, "metadata") if metadata is not None else None
        with self._lock:
            self._live(version_id)
            details = self._artifact_details.setdefault(version_id, ArtifactDetails())
            if description is not None:
                details.description = description
            if meta is not None:
                details.metadata = meta
            drop = set(tags_to_delete)
            tags = [t for t in details.tags if t not in drop]
            tags += [t for t in tags_to_add if t not in tags]
            details.tags = tuple(tags)
            return details

    def file_bytes_digest(self, version_id: str, path: str) -> ManifestEntry:
        """The manifest entry of ``path`` in a version (to serve its bytes)."""
        with self._lock:
            for e in self.manifest(version_id):
                if e.path == path:
                    return e
        raise NotFoundError(f"{path!r} is not a file of artifact {version_id!r}")

    def bytes_key(self, digest: str) -> str:
        """The key (MD5) the bytes of a file with manifest digest ``digest`` are stored under."""
        return self._md5_of.get(digest, digest)

    def _gc_blobs(self) -> None:
        """Drop bytes no stored digest and no upload in progress still needs (called by ``gc``)."""
        keep = {d for _, d in self._stored}
        keep.update(slot.digest for slot in self._uploads.values())
        for details in self._artifact_details.values():
            if details.manifest is not None:
                keep.update(e.digest for e in details.manifest)
        keep = {self.bytes_key(d) for d in keep}
        for digest in self.blobs.digests() - keep:
            self.blobs.discard(digest)

    def repository(self) -> FakeRepository:
        """An :class:`~artifact_guard.ArtifactRepository` over this fake."""
        from ._repository import FakeRepository

        return FakeRepository(self)
