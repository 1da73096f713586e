"""The planner: one pass over a project that returns a decision for every version.

The planner only reads, through :class:`ReadOnlyRepository`: a plan can never
write, whatever repository it is handed.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Literal

from ._errors import EmptyPolicyError, NotFoundError, PlanError
from ._model import CollectionRef, Scope, Version
from ._policy import Policy
from ._repository import ArtifactRepository, ReadOnlyRepository
from ._rules import Facts, Reason, _reason, evaluate, last_version

__all__ = ["Action", "CollectionSummary", "Decision", "Plan", "plan"]

PlanDedupe = Literal["collection", "project"]


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
    dedupe: PlanDedupe = "collection",
    removed_runs: Iterable[str] = (),
) -> Plan:
    """Decide, for every surviving version in ``scope``, whether to delete or keep it, and why.

    ``now`` is the clock the age rules use (default: the current UTC time).
    ``dedupe`` is the scope in which W&B shares stored files: it must match the
    server's for ``reclaimable_bytes`` to be exact. ``removed_runs`` are run
    paths the caller is deleting too: their consumption does not block.
    Raises :class:`EmptyPolicyError` for a policy that keeps nothing unless
    ``policy.allow_empty``; :class:`NotFoundError` naming an unknown scope, or a
    collection the policy names literally (no glob) that has no surviving
    version in scope.

    Idempotence: once a plan is applied, planning again with the same policy,
    clock and ``removed_runs`` deletes nothing more. A deletion never removes
    one of the newest ``keep_last`` versions, nor the survivor the
    ``last-version`` rule kept, and no KEEP reason depends on which other
    versions survive, so every KEEP decision stands. This assumes that
    deleting a version does not give its aliases to another, which is what W&B
    appears to do. On a server that moves ``latest`` on delete
    (``FakeWandb(move_latest_on_delete=True)``), a policy that selects aliased
    versions may select the new holder on the next plan, and an apply refuses
    (skips) a version whose aliases changed after planning.
    """
    refuse_empty(policy)
    if dedupe not in ("collection", "project"):
        raise PlanError(f"dedupe must be 'collection' or 'project', not {dedupe!r}")
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
    _require_named_collections(policy, by_collection, sc)

    ctx = _Context(repo, policy, now, removed)
    decisions: list[Decision] = []
    per_collection: dict[str, list[Decision]] = {}
    for name in sorted(by_collection):
        versions = by_collection[name]
        versions.sort(key=_newest_first)
        ds = ctx.decide_collection(name, versions)
        per_collection[name] = ds
        decisions.extend(ds)
    del by_collection

    freed = _reclaimable(repo, per_collection, dedupe)
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


def _newest_first(v: Version) -> int:
    return -v.index


def _require_named_collections(policy: Policy, by_collection: dict[str, list[Version]], scope: Scope) -> None:
    """A collection the policy names literally (no glob) must exist: a typo must not plan silently.

    Only surviving versions are visible through the repository, so a collection
    emptied earlier counts as unknown here too, and the message says so.
    """
    for name in policy.collections:
        if _GLOB_CHARS.isdisjoint(name) and name not in by_collection:
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
        # Reasons are values: one object per rank serves every collection.
        n = policy.keep_last or 0
        self._keep_last = [_reason("policy:keep-last", n=policy.keep_last, rank=rank) for rank in range(n)]
        self._selected: list[Reason] = []
        # Equal reason tuples are shared between decisions: a large plan then holds one new object
        # per version (its Decision) instead of two, which also spares the collector work.
        self._tuples: dict[tuple[Reason, ...], tuple[Reason, ...]] = {}

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
        for rank, v in enumerate(versions):
            keep: list[Reason] = []
            if (only_unaliased and v.aliases) or (only_aliased and not v.aliases):
                keep.append(self.aliases_reason)
            if rank < keep_last:
                keep.append(self._keep_last[rank])
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
        if not policy.waived("last-version") and all(d.action is Action.DELETE for d in out):
            newest = out[0]
            out[0] = Decision(newest.version, Action.KEEP, (*newest.reasons, last_version(name)))
        return out


def _reclaimable(
    repo: ReadOnlyRepository,
    per_collection: dict[str, list[Decision]],
    dedupe: PlanDedupe,
) -> dict[str, int]:
    """Bytes freed per collection: digests that deletions reference and survivors do not.

    Each freed digest counts once, for the first collection (in plan order) whose
    deletions reference it. Only manifests that can matter are read: with
    collection dedupe, those of collections that lose a version.
    """
    groups: list[list[str]]
    if dedupe == "collection":
        groups = [[name] for name, ds in per_collection.items() if any(d.action is Action.DELETE for d in ds)]
    else:
        touched = any(d.action is Action.DELETE for ds in per_collection.values() for d in ds)
        groups = [list(per_collection)] if touched else []
    manifest = repo.manifest
    keep, delete = Action.KEEP, Action.DELETE
    freed: dict[str, int] = {}
    for names in groups:
        # First what survivors hold, then what deletions add: a digest seen once is never counted again.
        seen: set[str] = set()
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
