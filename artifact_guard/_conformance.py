"""Policy conformance: did a change do what the team's policy says, beyond breaking no safety rule?

The audit (:mod:`artifact_guard._audit`) judges each change against the safety
rules. Conformance asks the other half of "is this cleanup script right": plan
the *before* snapshot with the same policy, the way ``artifact-guard plan``
would, and compare that plan with what the script did:

- a version the script deleted that the plan keeps by policy (``among the
  newest 5``, ``logged within 30 days``, not of a type the policy considers) is
  a **violation**, with the policy's keep reason;
- a version the plan deletes that the script left is a **warning** (the
  script is more careful than the policy), a failure with ``strict``.

A policy that sets no retention at all (nothing to keep: the planner refuses
it) has nothing to conform to: :func:`check_conformance` returns None and the
audit checks the safety rules only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from ._errors import EmptyPolicyError, NotFoundError
from ._model import CollectionRef, Lineage, Link, ManifestEntry, Scope, Version
from ._planner import Action, Decision, Plan, plan
from ._policy import Policy
from ._rules import Reason, describe
from ._snapshot import Snapshot

__all__ = ["Conformance", "KeptByPolicy", "check_conformance"]

SHOWN = 20
"""Versions listed one by one per kind in the text report; the rest are counted."""


@dataclass(frozen=True, slots=True)
class KeptByPolicy:
    """A version the change deleted although the policy keeps it, with the policy's reasons."""

    version: Version
    reasons: tuple[Reason, ...]

    def __str__(self) -> str:
        why = "; ".join(f"{describe(r)} ({r.rule})" for r in self.reasons)
        return f"deleted {self.version.qualified_name}, which the policy keeps: {why}"


@dataclass(frozen=True)
class Conformance:
    """The plan the policy makes of the before state, next to what the change did."""

    plan: Plan
    """What artifact-guard would have done: ``plan(before, policy)``."""
    deleted: frozenset[str]
    """Ids of the versions the change deleted."""
    kept_but_deleted: tuple[KeptByPolicy, ...]
    """Violations: deleted although the policy keeps them."""
    left: tuple[Version, ...]
    """Warnings (failures with ``strict``): the policy deletes them, the change left them."""
    strict: bool = False

    @property
    def ok(self) -> bool:
        """No version the policy keeps was deleted (and, with ``strict``, none it deletes was left)."""
        return not self.kept_but_deleted and not (self.strict and self.left)

    @property
    def failures(self) -> int:
        return len(self.kept_but_deleted) + (len(self.left) if self.strict else 0)

    def per_collection(self) -> list[tuple[str, int, int, int, int]]:
        """Per collection: (name, the policy deletes, the change deleted, deleted-but-kept, left)."""
        rows: dict[str, list[int]] = {}
        for d in self.plan.decisions:
            row = rows.setdefault(d.version.collection, [0, 0, 0, 0])
            row[0] += d.action is Action.DELETE
            row[1] += d.version.id in self.deleted
        for k in self.kept_but_deleted:
            rows[k.version.collection][2] += 1
        for v in self.left:
            rows[v.collection][3] += 1
        return [(name, *counts) for name, counts in rows.items()]  # type: ignore[misc]

    def lines(self) -> list[str]:
        """The text report: the plan next to the outcome, violations, then warnings."""
        policy_deletes = len(self.plan.deletions)
        out = [
            f"policy conformance: artifact-guard's plan deletes {policy_deletes} version(s), "
            f"the change deleted {len(self.deleted)}"
        ]
        rows = [r for r in self.per_collection() if any(r[1:])]
        if rows:
            width = max(len("collection"), *(len(r[0]) for r in rows))
            out.append(f"  {'collection':<{width}}  plan deletes  deleted  kept by policy  left")
            for name, would, did, kept, left in rows:
                out.append(f"  {name:<{width}}  {would:>12}  {did:>7}  {kept:>14}  {left:>4}")
        for k in self.kept_but_deleted[:SHOWN]:
            out.append(f"  FAIL {k}")
        if len(self.kept_but_deleted) > SHOWN:
            out.append(
                f"  FAIL ... and {len(self.kept_but_deleted) - SHOWN} more deleted that the policy keeps"
            )
        mark = "FAIL" if self.strict else "warn"
        by_collection: dict[str, list[Version]] = {}
        for v in self.left:
            by_collection.setdefault(f"{v.entity}/{v.project}/{v.collection}", []).append(v)
        for name, versions in by_collection.items():
            count = f" ({len(versions)} versions)" if len(versions) > 1 else ""
            out.append(
                f"  {mark} left {name}:{_ranges([v.index for v in versions])}{count}, "
                "which the policy deletes"
            )
        if self.left and not self.strict:
            out.append("       (a warning: --strict, or audit(strict=True), makes leaving them a failure)")
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the counts, each violation with its keep reasons, each version left."""
        return {
            "ok": self.ok,
            "strict": self.strict,
            "plan_deletes": len(self.plan.deletions),
            "deleted": len(self.deleted),
            "collections": [
                {"name": name, "plan_deletes": would, "deleted": did, "kept_by_policy": kept, "left": left}
                for name, would, did, kept, left in self.per_collection()
            ],
            "kept_but_deleted": [
                {
                    "id": k.version.id,
                    "name": k.version.qualified_name,
                    "reasons": [{"rule": r.rule, "message": describe(r)} for r in k.reasons],
                }
                for k in self.kept_but_deleted
            ],
            "left": [{"id": v.id, "name": v.qualified_name} for v in self.left],
        }


def _ranges(indexes: list[int]) -> str:
    """``[0, 1, 2, 5]`` -> ``"v0-v2, v5"``."""
    spans: list[tuple[int, int]] = []
    for i in sorted(indexes):
        if spans and i == spans[-1][1] + 1:
            spans[-1] = (spans[-1][0], i)
        else:
            spans.append((i, i))
    return ", ".join(f"v{a}" if a == b else f"v{a}-v{b}" for a, b in spans)


class _SnapshotRepository:
    """A snapshot read as a repository, so the planner can plan the before state. Read-only."""

    def __init__(self, snapshot: Snapshot) -> None:
        self._s = snapshot
        self._by_id = snapshot.by_id

    def versions(self, scope: Scope) -> Iterator[Version]:
        if scope != self._s.scope:
            raise NotFoundError(f"project {scope} is not in this snapshot")
        return iter(self._s.versions)

    def version(self, version_id: str) -> Version:
        try:
            return self._by_id[version_id]
        except KeyError:
            raise NotFoundError(f"version {version_id} is not in this snapshot") from None

    def manifest(self, version_id: str) -> tuple[ManifestEntry, ...]:
        return tuple(self._s.manifests.get(version_id, ()))

    def lineage(self, version_id: str) -> Lineage:
        return self._s.lineage.get(version_id) or Lineage()

    def links(self, version_id: str) -> tuple[Link, ...]:
        return tuple(self._s.links.get(version_id, ()))

    def now(self) -> datetime:
        """A snapshot's clock stands still at the moment it was taken."""
        return self._s.taken_at

    def delete_version(self, version_id: str, *, delete_aliases: bool = False) -> None:
        raise TypeError("a snapshot is read-only")

    def delete_collection(self, collection: CollectionRef) -> None:
        raise TypeError("a snapshot is read-only")

    def remove_aliases(self, version_id: str, aliases: Iterable[str]) -> None:
        raise TypeError("a snapshot is read-only")


def _keep_reasons(d: Decision) -> tuple[Reason, ...]:
    return tuple(r for r in d.reasons if not r.blocks and r.rule != "policy:selected")


def check_conformance(
    before: Snapshot, after: Snapshot, policy: Policy, *, strict: bool = False
) -> Conformance | None:
    """Compare what changed from ``before`` to ``after`` with ``plan(before, policy)``.

    None when the policy keeps nothing by itself (no retention to conform to).
    """
    dedupe: Literal["collection", "project"] = "collection" if before.dedupe == "collection" else "project"
    try:
        would = plan(_SnapshotRepository(before), before.scope, policy, now=before.taken_at, dedupe=dedupe)
    except (EmptyPolicyError, NotFoundError):
        return None
    survivors = after.by_id
    deleted = frozenset(v.id for v in before.versions if v.id not in survivors)
    kept_but_deleted = tuple(
        KeptByPolicy(d.version, _keep_reasons(d))
        for d in would.decisions
        if d.action is Action.KEEP and d.version.id in deleted and _keep_reasons(d)
    )
    left = tuple(
        d.version for d in would.decisions if d.action is Action.DELETE and d.version.id in survivors
    )
    return Conformance(would, deleted, kept_but_deleted, left, strict)
