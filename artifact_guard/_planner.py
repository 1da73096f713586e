"""The planner: one pass over a project that returns a decision for every version.

The planner only reads, through :class:`ReadOnlyRepository`: a plan can never
write, whatever repository it is handed.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from operator import itemgetter
from typing import Literal

from ._errors import EmptyPolicyError, NotFoundError, PlanError
from ._model import CollectionRef, ManifestEntry, Scope, Version, VersionState
from ._policy import Policy
from ._repository import ArtifactRepository, ReadOnlyRepository
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

__all__ = ["Action", "CollectionSummary", "Decision", "Plan", "plan"]

PlanDedupe = Literal["collection", "project", "entity"]
DEDUPE_SCOPES: tuple[PlanDedupe, ...] = ("collection", "project", "entity")


class Action(enum.Enum):
    KEEP = "keep"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class Decision:
    """What happens to one version, and every rule or policy clause that claimed it."""

    version: Version
    action: Action
    reasons: tuple[Reason, ...]

    @property
    def blocked(self) -> bool:
        """Kept because a safety rule blocked a deletion the policy asked for."""
        return self.action is Action.KEEP and any(r.blocks for r in self.reasons)

    @property
    def rules(self) -> tuple[str, ...]:
        return tuple(r.rule for r in self.reasons)


@dataclass(frozen=True, slots=True)
class CollectionSummary:
    """Per-collection totals of a plan."""

    collection: CollectionRef
    type: str
    kept: int
    deleted: int
    blocked: int
    reclaimable_bytes: int


@dataclass(frozen=True)
class Plan:
    """The result of :func:`plan`: a decision for every surviving version in scope.

    ``reclaimable_bytes`` is exact and dedupe-aware: the sizes of stored digests
    that deleted versions reference and no surviving version in the same
    dedupe scope does. Reference entries free nothing.
    """

    scope: Scope
    policy: Policy
    created_at: datetime
    dedupe: PlanDedupe
    decisions: tuple[Decision, ...]
    reclaimable_bytes: int
    collections: tuple[CollectionSummary, ...]
    id: str = field(default="")

    # Derived views are computed once: a plan of a large project holds millions of decisions.

    @cached_property
    def deletions(self) -> tuple[Decision, ...]:
        """The decisions to delete, in plan order."""
        return tuple(d for d in self.decisions if d.action is Action.DELETE)

    @cached_property
    def blocked(self) -> tuple[Decision, ...]:
        """The versions kept because a safety rule blocked a deletion the policy asked for."""
        return tuple(d for d in self.decisions if d.blocked)

    @cached_property
    def _by_id(self) -> dict[str, Decision]:
        return {d.version.id: d for d in self.decisions}

    def decision(self, version_id: str) -> Decision:
        """The decision for one version id; :class:`KeyError` if the plan does not cover it."""
        return self._by_id[version_id]

    def summary(self) -> str:
        """A few lines a reviewer reads first."""
        deleted = sum(c.deleted for c in self.collections)
        blocked = sum(c.blocked for c in self.collections)
        lines = [
            f"plan {self.id[:12]} for {self.scope} at {self.created_at:%Y-%m-%d %H:%M:%S %Z}",
            f"policy: {self.policy}",
            f"{len(self.decisions)} versions in {len(self.collections)} collections: "
            f"{deleted} to delete, {len(self.decisions) - deleted} to keep "
            f"({blocked} blocked by safety rules)",
            f"reclaimable: {format_bytes(self.reclaimable_bytes)} ({self.reclaimable_bytes} bytes, "
            f"dedupe scope {self.dedupe})",
        ]
        changed = self.policy.changed_defaults()
        if changed:
            lines.append("changed from defaults: " + ", ".join(sorted(changed)))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def format_bytes(n: int) -> str:
    """A byte count for people: ``1536`` -> ``"1.5 KiB"`` (binary units, up to TiB)."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def refuse_empty(policy: Policy) -> None:
    """Raise :class:`EmptyPolicyError` for a policy that keeps nothing, unless it says ``allow_empty``."""
    if not policy.keeps_something and not policy.allow_empty:
        raise EmptyPolicyError(
            "the policy keeps nothing (no keep_last, keep_within, older_than or alias selection); "
            "set allow_empty=True if you mean to delete every eligible version"
        )


def plan(
    repository: ArtifactRepository,
    scope: Scope | str,
    policy: Policy,
    *,
    now: datetime | None = None,
    dedupe: PlanDedupe | None = None,
    removed_runs: Iterable[str] = (),
) -> Plan:
    """Decide, for every surviving version in ``scope``, whether to delete or keep it, and why.

    ``now`` is the clock the age rules use (default: the current UTC time).
    ``dedupe`` is the scope in which W&B shares stored files (``"collection"``,
    ``"project"`` or ``"entity"``): it must match the server's for
    ``reclaimable_bytes`` to be exact. By default it is the scope the repository
    states (a fake, or one loaded from a snapshot, has its own: optional
    ``dedupe_scope`` attribute), else ``"collection"``. With ``"entity"`` the
    surviving files of the entity's other projects count as survivors too: the
    repository must list them (optional ``entity_scopes(entity)`` read), else
    :class:`PlanError`. ``removed_runs`` are run
    paths the caller is deleting too: their consumption does not block.
    Raises :class:`EmptyPolicyError` for a policy that keeps nothing unless
    ``policy.allow_empty``; :class:`NotFoundError` naming an unknown scope, or a
    collection the policy names literally (no glob) that does not exist (one
    an earlier clean-up emptied plans as empty, through a repository with the
    optional ``collection_exists`` read).

    Survivors: ``keep_last`` counts committed versions only, and ``last-version``
    is satisfied only by a committed version whose TTL outlasts the grace period
    (a PENDING upload may never commit; an expiring version will be gone).
    ``referenced`` keeps, transitively, every candidate a kept version of the
    project references (``wandb-artifact://``); references from other projects'
    versions are not read.

    Idempotence: once a plan is applied, planning again with the same policy,
    clock and ``removed_runs`` deletes nothing more. A deletion never removes
    one of the newest ``keep_last`` versions, nor the survivor the
    ``last-version`` rule kept (chosen from the policy and the per-version rules
    alone, before ``referenced``, so the same survivor is chosen again), and the
    only KEEP reason that depends on other versions, ``referenced``, depends on
    versions the plan keeps, so every KEEP decision stands. This assumes that
    deleting a version does not give its aliases to another, which is what W&B
    appears to do. On a server that moves ``latest`` on delete
    (``FakeWandb(move_latest_on_delete=True)``), a policy that selects aliased
    versions may select the new holder on the next plan, and an apply refuses
    (skips) a version whose aliases changed after planning.
    """
    refuse_empty(policy)
    if dedupe is None:
        stated = getattr(_innermost(repository), "dedupe_scope", None)
        dedupe = stated if stated in DEDUPE_SCOPES else "collection"
    if dedupe not in DEDUPE_SCOPES:
        raise PlanError(f"dedupe must be 'collection', 'project' or 'entity', not {dedupe!r}")
    if dedupe == "entity" and not callable(getattr(_innermost(repository), "entity_scopes", None)):
        raise PlanError(
            "dedupe 'entity' needs the files of the entity's other projects, and this repository "
            "cannot list them (no entity_scopes read)"
        )
    if now is not None and now.utcoffset() is None:
        raise PlanError(f"now must be timezone-aware (W&B times are UTC), got {now.isoformat()}")
    repo = repository if isinstance(repository, ReadOnlyRepository) else ReadOnlyRepository(repository)
    sc = Scope.parse(scope) if isinstance(scope, str) else scope
    if now is None:
        # The repository's own clock (the fake's for fakes), as apply will judge ages by it.
        clock = getattr(repo, "now", None)
        now = clock() if callable(clock) else datetime.now(UTC)
    removed = frozenset(removed_runs)

    by_collection: dict[str, list[Version]] = {}
    for v in repo.versions(sc):
        group = by_collection.get(v.collection)
        if group is None:
            by_collection[v.collection] = group = []
        group.append(v)
    _require_named_collections(repo, policy, by_collection, sc)

    ctx = _Context(repo, policy, now, removed)
    per_collection: dict[str, list[Decision]] = {}
    for name in sorted(by_collection):
        versions = by_collection[name]
        versions.sort(key=_newest_first)
        per_collection[name] = ctx.decide_collection(name, versions)
    del by_collection
    read: dict[str, tuple[ManifestEntry, ...]] | None = None
    if not policy.waived("referenced"):
        read = _block_referenced(repo, per_collection)
    decisions: list[Decision] = []
    for ds in per_collection.values():
        decisions.extend(ds)

    freed = _reclaimable(repo, per_collection, dedupe, read=read)
    summaries = tuple(
        CollectionSummary(
            collection=CollectionRef(sc.entity, sc.project, name),
            type=ds[0].version.type,
            kept=sum(d.action is Action.KEEP for d in ds),
            deleted=sum(d.action is Action.DELETE for d in ds),
            blocked=sum(d.blocked for d in ds),
            reclaimable_bytes=freed.get(name, 0),
        )
        for name, ds in per_collection.items()
    )
    digest = hashlib.sha256(f"{sc}|{policy.fingerprint()}|{now.isoformat()}|{dedupe}".encode())
    for d in decisions:
        digest.update(f"{d.version.id}={d.action.value};".encode())
    return Plan(
        scope=sc,
        policy=policy,
        created_at=now,
        dedupe=dedupe,
        decisions=tuple(decisions),
        reclaimable_bytes=sum(freed.values()),
        collections=summaries,
        id=digest.hexdigest(),
    )


_NOT_SELECTED_TYPE = _reason("policy:not-selected", by="type or collection")
_GLOB_CHARS = frozenset("*?[")


def _holds_slot(v: Version) -> bool:
    """Whether a version takes one of ``keep_last``'s slots: a committed one, never a PENDING upload."""
    return v.state is VersionState.COMMITTED


def _newest_first(v: Version) -> int:
    return -v.index


def _innermost(repo: object) -> object:
    """The repository under any read-only wrappers: where optional reads live."""
    while isinstance(repo, ReadOnlyRepository):
        repo = repo.inner
    return repo


def _require_named_collections(
    repo: ReadOnlyRepository, policy: Policy, by_collection: dict[str, list[Version]], scope: Scope
) -> None:
    """A collection the policy names literally (no glob) must exist: a typo must not plan silently.

    A collection emptied by an earlier clean-up still exists in W&B and plans as
    empty: a recurring job keeps working. Telling it from a typo takes the
    optional ``collection_exists(ref)`` read (the fake and the W&B adapter have
    it); through a repository without it, a collection without surviving
    versions counts as unknown, and the message says so.
    """
    exists = getattr(_innermost(repo), "collection_exists", None)
    for name in policy.collections:
        if _GLOB_CHARS.isdisjoint(name) and name not in by_collection:
            if callable(exists) and exists(CollectionRef(scope.entity, scope.project, name)):
                continue
            raise NotFoundError(
                f"collection {name!r} named by the policy has no surviving versions in {scope} "
                "(unknown, or emptied)"
            )


class _Context:
    """What one plan computes once: the policy's reasons, bound repository reads."""

    def __init__(self, repo: ReadOnlyRepository, policy: Policy, now: datetime, removed: frozenset[str]):
        self.policy = policy
        self.now = now
        self.removed = removed
        self.lineage = repo.lineage
        self.links = repo.links
        self.aliases_reason = _reason("policy:aliases", selector=policy.aliases)
        # Built whether or not the policy sets the clause; only used when it does.
        within_s = int(policy.keep_within.total_seconds()) if policy.keep_within is not None else 0
        older_s = int(policy.older_than.total_seconds()) if policy.older_than is not None else 0
        self.within_reason = _reason("policy:keep-within", within_s=within_s)
        self.older_reason = _reason("policy:older-than", older_than_s=older_s)
        # Reasons are values: one object per rank serves every collection. Made on demand, so the
        # cost follows the largest collection, never the policy's number (keep_last = 10**15).
        self._keep_last: list[Reason] = []
        self._selected: list[Reason] = []
        self.horizon = timedelta(0) if policy.waived("grace-period") else policy.grace_period
        # Equal reason tuples are shared between decisions: a large plan then holds one new object
        # per version (its Decision) instead of two, which also spares the collector work.
        self._tuples: dict[tuple[Reason, ...], tuple[Reason, ...]] = {}

    def keep_last(self, rank: int) -> Reason:
        cache = self._keep_last
        while len(cache) <= rank:
            cache.append(_reason("policy:keep-last", n=self.policy.keep_last, rank=len(cache)))
        return cache[rank]

    def selected(self, rank: int) -> Reason:
        cache = self._selected
        while len(cache) <= rank:
            cache.append(_reason("policy:selected", rank=len(cache)))
        return cache[rank]

    def shared(self, reasons: tuple[Reason, ...]) -> tuple[Reason, ...]:
        return self._tuples.setdefault(reasons, reasons)

    def decide_collection(self, name: str, versions: list[Version]) -> list[Decision]:
        """Decisions for one collection, newest first."""
        policy = self.policy
        if not policy.selects_collection(versions[0].type, name):
            return [Decision(v, Action.KEEP, (_NOT_SELECTED_TYPE,)) for v in versions]
        now, removed = self.now, self.removed
        only_unaliased = policy.aliases == "unaliased"
        only_aliased = policy.aliases == "aliased"
        keep_last = policy.keep_last if policy.keep_last is not None else 0
        within, older = policy.keep_within, policy.older_than
        lineage, links, shared = self.lineage, self.links, self.shared
        out: list[Decision] = []
        append = out.append
        # keep_last counts committed versions only: a PENDING upload may never commit (it is kept
        # anyway, by in-flight, but it does not take the slot of a committed version).
        slot = 0
        for rank, v in enumerate(versions):
            keep: list[Reason] = []
            if (only_unaliased and v.aliases) or (only_aliased and not v.aliases):
                keep.append(self.aliases_reason)
            holds = _holds_slot(v)
            if slot < keep_last and holds:
                keep.append(self.keep_last(slot))
            if holds:
                slot += 1
            if within is not None or older is not None:
                age = now - v.created_at
                if within is not None and age < within:
                    keep.append(self.within_reason)
                if older is not None and age <= older:
                    keep.append(self.older_reason)
            if keep:
                append(Decision(v, Action.KEEP, shared(tuple(keep))))
                continue
            blocks = evaluate(Facts(v, lineage(v.id), links(v.id), now, removed), policy)
            if blocks:
                append(Decision(v, Action.KEEP, (self.selected(rank), *blocks)))
            else:
                append(Decision(v, Action.DELETE, shared((self.selected(rank),))))
        if not policy.waived("last-version"):
            self._keep_a_survivor(name, out)
        return out

    def _keep_a_survivor(self, name: str, out: list[Decision]) -> None:
        """last-version: unless a version kept for its own sake survives (committed, and its TTL
        outlasts the grace period), keep the newest candidate that would; if none would, keep
        at least one version.

        Decided before ``referenced`` (which depends on other collections), on the policy and the
        per-version rules alone: the choice is then the same when the plan is made again after
        it was applied, which is what makes plans idempotent.
        """
        now, horizon = self.now, self.horizon
        for d in out:
            if d.action is Action.KEEP and outlives(d.version, now, horizon):
                return
        for i, d in enumerate(out):
            if d.action is Action.DELETE and outlives(d.version, now, horizon):
                out[i] = Decision(d.version, Action.KEEP, (*d.reasons, last_version(name)))
                return
        # No candidate outlives either (every one's TTL runs out): a plan still never empties the
        # collection itself (some version stays); letting the TTL do so is W&B's doing, not ours.
        # The apply's survivor check follows the same rule.
        if all(d.action is Action.DELETE for d in out):
            newest = out[0]
            out[0] = Decision(newest.version, Action.KEEP, (*newest.reasons, last_version(name)))


def _block_referenced(
    repo: ReadOnlyRepository, per_collection: dict[str, list[Decision]]
) -> dict[str, tuple[ManifestEntry, ...]] | None:
    """The ``referenced`` rule, over the whole plan: keep every deletion candidate that a version
    this plan keeps references (``wandb-artifact://`` entries), transitively.

    A referrer deleted by the same plan does not block (removed together). The planner sees the
    manifests of the versions in scope only: a reference from another project's version is not
    seen, unless the repository offers the optional ``referenced`` read (the fake does; W&B
    offers no query for an artifact's referrers). Returns the manifests it read (every version's,
    when anything was to be deleted), so the byte count does not read them again.
    """
    delete = Action.DELETE
    if not any(d.action is delete for ds in per_collection.values() for d in ds):
        return None
    # Told up front, the repository can fetch every manifest in one pipeline across collections
    # (W&B: URL look-ups 50 per request while the downloads run), rather than one collection per read.
    repo.prefetch_manifests([d.version.id for ds in per_collection.values() for d in ds])
    # One pass reads every manifest (kept for the byte count) and notes the few reference entries;
    # the maps the rule needs are built only when there are any.
    manifest = repo.manifest
    read: dict[str, tuple[ManifestEntry, ...]] = {}
    pointing: list[tuple[Version, tuple[str, str]]] = []
    for ds in per_collection.values():
        for d in ds:
            v = d.version
            read[v.id] = entries = manifest(v.id)
            if not any(map(_REF, entries)):
                continue  # no reference entry at all (most manifests): checked at C speed
            for _path, _digest, _size, ref in entries:
                if ref is not None and ref.startswith("wandb-"):
                    target = reference_target(ref)
                    if target is not None:
                        pointing.append((v, target))
    # Referrers outside the project: seen only through a repository that can say (optional
    # ``referenced`` read, one call for the whole plan; W&B has no such query).
    elsewhere: dict[str, tuple[str, ...]] = {}
    referenced_read = getattr(_innermost(repo), "referenced", None)
    if callable(referenced_read):
        for tid, rids in referenced_read().items():
            if tid in read:
                outside = tuple(r for r in rids if r not in read)
                if outside:
                    elsewhere[tid] = outside
    if not pointing and not elsewhere:
        return read
    where: dict[str, tuple[str, int]] = {}
    for name, ds in per_collection.items():
        for i, d in enumerate(ds):
            if d.action is delete:
                where[d.version.id] = (name, i)
    by_client = {d.version.client_id: d.version.id for ds in per_collection.values() for d in ds
                 if d.version.client_id}  # fmt: skip
    referrers_of: dict[str, list[Version]] = {}
    targets_of: dict[str, list[str]] = {}
    for v, (kind, key) in pointing:
        tid = key if kind == "id" else by_client.get(key)
        if tid is None or tid == v.id or tid not in where:
            continue
        referrers_of.setdefault(tid, []).append(v)
        targets_of.setdefault(v.id, []).append(tid)
    for tid, rids in elsewhere.items():
        # Another project's versions: this plan deletes none of them, so each one blocks.
        if tid in where:
            referrers_of.setdefault(tid, []).extend(repo.version(r) for r in rids)
    if not referrers_of:
        return read
    # Fixpoint: a candidate referenced by a kept version is kept, and then blocks what it references.
    deleted = set(where)
    stack = [t for t, refs in referrers_of.items() if any(r.id not in deleted for r in refs)]
    while stack:
        tid = stack.pop()
        if tid not in deleted:
            continue
        deleted.discard(tid)
        stack.extend(u for u in targets_of.get(tid, ()) if u in deleted)
    for tid, (name, i) in where.items():
        if tid in deleted:
            continue
        d = per_collection[name][i]
        by = tuple(sorted({r.qualified_name for r in referrers_of[tid] if r.id not in deleted}))
        per_collection[name][i] = Decision(d.version, Action.KEEP, (*d.reasons, referenced_reason(by)))
    return read


_REF = itemgetter(3)
"""A manifest entry's ``ref``."""


def _reclaimable(
    repo: ReadOnlyRepository,
    per_collection: dict[str, list[Decision]],
    dedupe: PlanDedupe,
    *,
    read: dict[str, tuple[ManifestEntry, ...]] | None = None,
) -> dict[str, int]:
    """Bytes freed per collection: digests that deletions reference and survivors do not.

    Each freed digest counts once, for the first collection (in plan order) whose
    deletions reference it. Only manifests that can matter are read: with
    collection dedupe, those of collections that lose a version; with entity
    dedupe, also those of the entity's other projects (their survivors share files).
    """
    groups: list[list[str]]
    if dedupe == "collection":
        groups = [[name] for name, ds in per_collection.items() if any(d.action is Action.DELETE for d in ds)]
    else:
        touched = any(d.action is Action.DELETE for ds in per_collection.values() for d in ds)
        groups = [list(per_collection)] if touched else []
    keep, delete = Action.KEEP, Action.DELETE
    held_elsewhere: set[str] = set()
    if dedupe == "entity" and groups:
        held_elsewhere = _held_by_other_projects(repo, per_collection)
    if read is None and groups:
        repo.prefetch_manifests([d.version.id for names in groups for n in names for d in per_collection[n]])
    manifest = read.__getitem__ if read is not None else repo.manifest
    freed: dict[str, int] = {}
    for names in groups:
        # First what survivors hold, then what deletions add: a digest seen once is never counted again.
        seen: set[str] = set(held_elsewhere)
        for name in names:
            for d in per_collection[name]:
                if d.action is keep:
                    for _path, digest, _size, ref in manifest(d.version.id):
                        if ref is None:
                            seen.add(digest)
        for name in names:
            total = 0
            for d in per_collection[name]:
                if d.action is delete:
                    for _path, digest, size, ref in manifest(d.version.id):
                        if ref is None and digest not in seen:
                            seen.add(digest)
                            total += size
            if total:
                freed[name] = total
    return freed


def _held_by_other_projects(repo: ReadOnlyRepository, per_collection: dict[str, list[Decision]]) -> set[str]:
    """Stored digests the surviving versions of the entity's other projects reference."""
    here = next(d.version.scope for ds in per_collection.values() for d in ds)
    list_scopes = getattr(_innermost(repo), "entity_scopes", None)
    if not callable(list_scopes):
        raise PlanError("dedupe 'entity' needs a repository that lists the entity's projects (entity_scopes)")
    held: set[str] = set()
    for other in list_scopes(here.entity):
        if other == here:
            continue
        ids = [v.id for v in repo.versions(other)]
        repo.prefetch_manifests(ids)
        for vid in ids:
            held.update(e.digest for e in repo.manifest(vid) if e.ref is None)
    return held
