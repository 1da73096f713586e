"""Re-validation: judging, right before a write, whether a planned deletion is still safe.

The executor never deletes on the strength of the plan alone. Just before
each write it re-reads the target from W&B and re-runs the rules with the
journal's policy, plus the apply-time checks (identity, aliases unchanged,
the collection keeps a survivor).

Batches
-------
Per-version deletes are re-read in batches: one request re-reads up to
:data:`BATCH_MAX` versions (a repository with ``versions_by_id``, such as
:class:`~artifact_guard.adapters.wandb.WandbRepository`, answers a batch
with one aliased multi-id query; others are asked one id at a time). The
same request refreshes each version's lineage and links, so judging it asks
W&B nothing more. A read serves a write only while it is younger than
:data:`REVALIDATE_MAX_AGE` (1 s, the same bound as the survivor check has
always used); a write whose batch read is older is re-read on its own first.

The window that remains: a change made to a version after its batch read
and before its write (at most :data:`REVALIDATE_MAX_AGE`, plus the write's
own latency) is not seen by the executor. W&B itself refuses two of them
(an alias added to a version deleted without ``delete_aliases``, a
protected registry alias); a new consumer or registry link in that second
is not refused. The per-version re-read that preceded this also left a
window, one request's latency wide, plus up to 1 s for the survivor check.

References: W&B has no query for an artifact's referrers, so each apply run
lists the scope once, on its first judgment (or reuses the listing a
collection check made in the same run), and reads the manifests of the
versions the plan never saw (:meth:`Revalidator.new_referrers`). A reference
made after that listing, while the apply runs, is not seen.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar, runtime_checkable

from ._errors import NotFoundError
from ._journal import JournalHeader, OpRecord
from ._model import CollectionRef, Link, Scope, Version, VersionState
from ._repository import ArtifactRepository
from ._rules import (
    Facts,
    Reason,
    _reason,
    evaluate,
    last_version,
    outlives,
    reference_target,
    referenced_reason,
)

__all__ = [
    "BATCH_MAX",
    "COARSE_MIN_GRACE",
    "REVALIDATE_MAX_AGE",
    "BatchReader",
    "CollectionLister",
    "Reading",
    "Revalidator",
    "Verdict",
]

BATCH_MAX = 50
"""Versions re-read by one request (W&B's aliased multi-id query; as for manifest URLs)."""
REVALIDATE_MAX_AGE = 1.0
"""Seconds a re-read serves a write; older, the version is re-read on its own."""
COARSE_MIN_GRACE = timedelta(hours=24)
"""A collection is deleted whole only if its newest version is at least this old,
even when the policy waived the grace period: a fresh collection may be about to
receive a version."""
SURVIVOR_CACHE_S = 1.0
"""How long a re-read survivor of a collection is trusted for the last-version check."""
_KEPT_READS = 3
"""Kept versions re-read one by one for the survivor check before listing the collection."""
LISTING_REUSE_S = 1.0
"""How long one project listing serves the collection checks (repositories without
``collection_versions``); the clock starts when the listing was requested."""

_T = TypeVar("_T")


@runtime_checkable
class CollectionLister(Protocol):
    """Optional repository capability: the surviving versions of one collection.

    Used to re-check a collection right before deleting it whole. Repositories
    without it are listed through ``versions(scope)``, filtered (slower on
    large projects).
    """

    def collection_versions(self, collection: CollectionRef) -> Iterable[Version]: ...


@runtime_checkable
class BatchReader(Protocol):
    """Optional repository capability: re-read many versions in few requests.

    Answers like ``version()`` for each id (deleted versions included, always
    asking W&B); an id W&B does not know is absent from the mapping.
    """

    def versions_by_id(self, version_ids: Sequence[str]) -> Mapping[str, Version]: ...


@dataclass
class Reading:
    """Versions as one batch read found them (None: W&B does not know the id).

    ``targets`` are the batch's operations; ``judged`` the ids already judged
    on it. When the reading turns stale, the targets not yet judged are read
    again together, in one request (:meth:`Revalidator.refresh`).
    """

    versions: dict[str, Version | None] = field(default_factory=dict)
    read_at: float = field(default_factory=time.monotonic)
    targets: tuple[OpRecord, ...] = ()
    judged: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fresh(self, version_id: str) -> bool:
        return version_id in self.versions and time.monotonic() - self.read_at <= REVALIDATE_MAX_AGE

    def expire(self) -> None:
        """Serve no more writes: time passed (a retry's backoff) in which anything may have changed."""
        self.read_at = -float("inf")


@dataclass(frozen=True)
class Verdict:
    """What a re-read says of one planned deletion."""

    gone: bool = False
    reasons: tuple[Reason, ...] = ()
    delete_aliases: bool = False


class Revalidator:
    """Reads and judges for the executor; thread-safe.

    ``read`` wraps each read call (retries and pacing); ``clock`` is the age
    rules' clock (the repository's).
    """

    def __init__(
        self,
        repository: ArtifactRepository,
        header: JournalHeader,
        *,
        clock: Callable[[], datetime],
        read: Callable[[Callable[[], Any]], Any],
        targets_by_collection: Mapping[str, set[str]],
    ) -> None:
        self.repo = repository
        self.policy = header.policy
        self.kept = header.kept
        self.removed_runs = frozenset(header.options.get("removed_runs", ()))
        self.now = clock
        self._read = read
        self._targets = targets_by_collection
        self._survivor_lock = threading.Lock()
        self._survivor_seen: dict[str, float] = {}
        self._listing_lock = threading.Lock()
        self._listing: tuple[float, Scope | None, list[Version] | None] = (0.0, None, None)
        self.batch_reads = 0
        """Batch re-reads made (for the summary and the benchmarks)."""
        self._scope = header.scope
        self._horizon = timedelta(0) if self.policy.waived("grace-period") else self.policy.grace_period
        self._refs_lock = threading.Lock()
        self._new_referrers: dict[str, tuple[str, ...]] | None = None

    # ------------------------------------------------------------------ reads

    def _forget(self, version_ids: Sequence[str]) -> None:
        """Ask a repository that caches reads (optional ``invalidate``) to ask W&B again."""
        invalidate = getattr(self.repo, "invalidate", None)
        if callable(invalidate):
            invalidate(version_ids)

    def read(self, ops: Sequence[OpRecord]) -> Reading:
        """Re-read the targets of ``ops`` (and, where the last-version rule applies, one kept
        version per collection) in as few requests as the repository allows."""
        found, started = self._read_many(ops)
        return Reading(found, started, tuple(ops))

    def refresh(self, reading: Reading) -> None:
        """Read a stale batch again: its targets not yet judged, together (one request per batch)."""
        with reading.lock:
            if time.monotonic() - reading.read_at <= REVALIDATE_MAX_AGE:
                return  # another worker refreshed it meanwhile
            rest = [op for op in reading.targets if op.target not in reading.judged]
            found, started = self._read_many(rest)
            reading.versions = found
            reading.read_at = started

    def _read_many(self, ops: Sequence[OpRecord]) -> tuple[dict[str, Version | None], float]:
        ids = [op.target for op in ops]
        if not self.policy.waived("last-version"):
            # Free riders on the same request: the survivor check then needs no read of its own.
            for coll in dict.fromkeys(op.collection for op in ops):
                ids.extend(self.kept.get(coll, ())[:1])
        ids = list(dict.fromkeys(ids))
        self._forget(ids)
        started = time.monotonic()
        found: dict[str, Version | None]
        if isinstance(self.repo, BatchReader):
            reader = self.repo
            got: dict[str, Version] = {}
            for start in range(0, len(ids), BATCH_MAX):
                chunk = ids[start : start + BATCH_MAX]
                got.update(self._read(functools.partial(reader.versions_by_id, chunk)))
            found = {vid: got.get(vid) for vid in ids}
        else:
            found = {vid: self._read_one(vid) for vid in ids}
        self.batch_reads += 1
        return found, started

    def _read_one(self, version_id: str) -> Version | None:
        try:
            v: Version = self._read(lambda: self.repo.version(version_id))
        except NotFoundError:
            return None
        return v

    def list_collection(self, collection: str, *, fresh: bool = False) -> list[Version]:
        """The surviving versions of one collection, as W&B says now (at most LISTING_REUSE_S old;
        ``fresh``: listed now)."""
        ref = CollectionRef.parse(collection)
        if isinstance(self.repo, CollectionLister):
            lister = self.repo
            listed: list[Version] = self._read(lambda: list(lister.collection_versions(ref)))
            return listed
        # Only a whole-project listing is available: share one between the collection checks
        # running at the same moment (and the reference check) instead of listing the project
        # once per collection.
        listing = self._scope_listing(ref.scope, max_age=0.0 if fresh else LISTING_REUSE_S)
        return [v for v in listing if v.collection == ref.name]

    def _scope_listing(self, scope: Scope, *, max_age: float | None) -> list[Version]:
        """The scope's surviving versions, listed at most ``max_age`` seconds ago (``None``: listed
        at any time during this run; ``0``: listed now). One listing serves every caller."""
        with self._listing_lock:
            stamp, listed_scope, listing = self._listing
            if (
                listing is None
                or listed_scope != scope
                or (max_age is not None and (max_age <= 0 or time.monotonic() - stamp > max_age))
            ):
                started = time.monotonic()
                listing = self._read(lambda: list(self.repo.versions(scope)))
                self._listing = (started, scope, listing)
            return listing

    def new_referrers(self) -> dict[str, tuple[str, ...]]:
        """Target id -> qualified names of versions the plan never saw that reference it.

        The planner judged ``referenced`` on the manifests of the versions it
        listed; a version logged since may reference a planned deletion, and W&B
        has no query for an artifact's referrers. So, once per apply run, the
        scope is listed and the manifests of the versions absent from the plan
        are read (committed manifests never change: only new versions matter).
        """
        with self._refs_lock:
            if self._new_referrers is not None:
                return self._new_referrers
            planned: set[str] = {vid for ids in self.kept.values() for vid in ids}
            for ids in self._targets.values():
                planned.update(ids)
            # Any listing made during this run will do (one a collection check made, typically):
            # what matters is that it postdates the plan.
            listing = self._scope_listing(Scope.parse(self._scope), max_age=None)
            by_client = {v.client_id: v.id for v in listing if v.client_id}
            found: dict[str, set[str]] = {}
            for v in listing:
                if v.id in planned or v.state is VersionState.DELETED:
                    continue
                try:
                    entries = self._read(functools.partial(self.repo.manifest, v.id))
                except NotFoundError:
                    continue  # deleted since the listing: it references nothing any more
                for entry in entries:
                    target = reference_target(entry.ref)
                    if target is None:
                        continue
                    tid = target[1] if target[0] == "id" else by_client.get(target[1])
                    if tid is not None and tid != v.id:
                        found.setdefault(tid, set()).add(v.qualified_name)
            self._new_referrers = {t: tuple(sorted(names)) for t, names in found.items()}
            return self._new_referrers

    # ------------------------------------------------------------------ judging

    def judge(
        self, v: Version, planned: Mapping[str, Any]
    ) -> tuple[tuple[Reason, ...], bool, tuple[Link, ...]]:
        """Re-run the rules on a fresh read of one version: (blocking reasons, delete_aliases, links)."""
        reasons: list[Reason] = []
        if v.index != planned.get("index"):
            reasons.append(_reason("identity-changed", planned=planned.get("index"), now=v.name))
        lineage = self._read(lambda: self.repo.lineage(v.id))
        links = self._read(lambda: self.repo.links(v.id))
        reasons.extend(evaluate(Facts(v, lineage, links, self.now(), self.removed_runs), self.policy))
        if not self.policy.waived("referenced"):
            referrers = self.new_referrers().get(v.id)
            if referrers:
                reasons.append(referenced_reason(referrers))
        before = frozenset(planned.get("aliases", ()))
        delete_aliases = False
        if v.aliases and self.policy.waived("has-aliases"):
            if v.aliases != before:
                reasons.append(
                    _reason("aliases-changed", before=tuple(sorted(before)), after=tuple(sorted(v.aliases)))
                )
            else:
                delete_aliases = True
        return tuple(reasons), delete_aliases, links

    def _survivor_recent(self, collection: str) -> bool:
        with self._survivor_lock:
            seen = self._survivor_seen.get(collection)
        return seen is not None and time.monotonic() - seen < SURVIVOR_CACHE_S

    def has_survivor(
        self, collection: str, reading: Reading | None = None, target: Version | None = None
    ) -> bool:
        """Whether deleting ``target`` leaves the collection a survivor, as the planner means it.

        A survivor is a version this apply will not delete that is committed and outlives the
        grace period (``outlives``, judged now: a TTL set or a PENDING upload since the plan
        counts for nothing). When no such version stays, deleting a target that would survive
        is refused (the planner keeps one); a target that would not survive either may go as
        long as some version stays (the planner's rule when nothing outlives).
        """
        if self._survivor_recent(collection):
            return True
        now = self.now()
        found = stays = False
        # The newest kept versions first (free riders on the batch read): most often one outlives.
        for kid in self.kept.get(collection, ())[:_KEPT_READS]:
            if reading is not None and reading.fresh(kid):
                kv = reading.versions[kid]
            else:
                self._forget([kid])
                kv = self._read_one(kid)
            if kv is not None and kv.state is not VersionState.DELETED:
                stays = True
                if outlives(kv, now, self._horizon):
                    found = True
                    break
        if not found:
            # Then every version that stays, as W&B lists it now: the other kept ones, and the
            # versions logged since planning.
            ours = self._targets.get(collection, set())
            for v in self.list_collection(collection):
                if v.id in ours or v.state is VersionState.DELETED:
                    continue
                stays = True
                if outlives(v, now, self._horizon):
                    found = True
                    break
        if found:
            with self._survivor_lock:
                self._survivor_seen[collection] = time.monotonic()
            return True
        if target is not None and outlives(target, now, self._horizon):
            return False
        return stays

    def verdict(self, op: OpRecord, reading: Reading | None = None) -> Verdict:
        """Judge one planned version deletion on ``reading`` (read again if stale), else on a new read."""
        if reading is not None and op.target in reading.versions and not reading.fresh(op.target):
            self.refresh(reading)
        if reading is not None and reading.fresh(op.target):
            with reading.lock:
                reading.judged.add(op.target)
                v = reading.versions[op.target]
        else:
            self._forget([op.target])
            v = self._read_one(op.target)
        if v is None or v.state is VersionState.DELETED:
            return Verdict(gone=True)
        try:
            reasons, delete_aliases, _ = self.judge(v, op.planned)
            if not self.policy.waived("last-version") and not self.has_survivor(op.collection, reading, v):
                reasons = (*reasons, last_version(op.collection))
        except NotFoundError:
            # Deleted by someone else while we read it? Only W&B's word on the version itself says so.
            self._forget([op.target])
            again = self._read_one(op.target)
            if again is None or again.state is VersionState.DELETED:
                return Verdict(gone=True)
            raise
        return Verdict(reasons=reasons, delete_aliases=delete_aliases)

    def coarse_blockers(
        self, op: OpRecord, children: Sequence[OpRecord], *, fresh: bool = False
    ) -> tuple[tuple[Reason, ...], frozenset[str]]:
        """Why the collection cannot go whole (empty: it can), and the ids of its surviving versions."""
        if not self.policy.waived("last-version"):
            return (_reason("last-version-policy"),), frozenset()
        survivors = self.list_collection(op.collection, fresh=fresh)
        alive = frozenset(v.id for v in survivors)
        if not survivors:
            return (), alive
        by_target = {c.target: c for c in children}
        new = [v.name for v in survivors if v.id not in by_target]
        if new:
            return (_reason("collection-changed", new=tuple(sorted(new))),), alive
        settled = [v.name for v in survivors if by_target[v.id].state != "pending"]
        if settled:
            return (_reason("member-settled", members=tuple(sorted(settled))),), alive
        grace = max(self.policy.grace_period, COARSE_MIN_GRACE)
        age = self.now() - max(v.created_at for v in survivors)
        if age < grace:
            return (
                _reason(
                    "collection-fresh", age_s=int(age.total_seconds()), grace_s=int(grace.total_seconds())
                ),
            ), alive
        blocked = []
        for v in survivors:
            reasons, _, links = self.judge(v, by_target[v.id].planned)
            if reasons or links or v.state is not VersionState.COMMITTED:
                blocked.append(v.name)
        if blocked:
            return (_reason("member-blocked", members=tuple(sorted(blocked))),), alive
        return (), alive
