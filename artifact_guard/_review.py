"""Reviewing a plan: exclude versions from deletion or include more, every change re-checked by the rules.

:func:`revise` re-plans with the plan's own policy and clock, then applies the
reviewer's lists:

- an **excluded** version the plan deletes is kept, with the reason
  ``policy:excluded`` (excluding never needs a check: keeping is always safe);
- an **included** version the policy kept is deleted, with the reason
  ``policy:included``, only if no safety rule blocks it: the same rules the
  planner runs, on facts re-read from the repository, plus ``last-version``
  for the collection as revised. A refused inclusion stays kept and is
  returned with the rules that refused it.

Bytes are recomputed the planner's way, so the revised plan's
``reclaimable_bytes`` stays exact.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ._planner import Action, CollectionSummary, Decision, Plan, _block_referenced, _reclaimable, plan
from ._repository import ArtifactRepository, ReadOnlyRepository
from ._rules import Facts, Reason, _reason, describe, evaluate, last_version, outlives

__all__ = ["Refusal", "Revision", "reason_text", "revise"]

EXCLUDED = _reason("policy:excluded", by="review")
INCLUDED = _reason("policy:included", by="review")


@dataclass(frozen=True, slots=True)
class Refusal:
    """A change the rules refused: the version, and every rule that blocked it."""

    version_id: str
    label: str
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class Revision:
    """The revised plan and the inclusions the rules refused."""

    plan: Plan
    refused: tuple[Refusal, ...]


def revise(
    original: Plan,
    repository: ArtifactRepository,
    *,
    exclude: Iterable[str] = (),
    include: Iterable[str] = (),
    removed_runs: Iterable[str] = (),
) -> Revision:
    """Re-plan ``original`` (same scope, policy, clock, dedupe) and apply the reviewer's lists of version ids.

    An id that is not in the fresh plan (unknown, or deleted since) is refused
    with the reason ``policy:not-in-plan``; excluding a version the plan keeps
    anyway, or including one it deletes anyway, changes nothing.
    """
    repo = repository if isinstance(repository, ReadOnlyRepository) else ReadOnlyRepository(repository)
    removed = frozenset(removed_runs)
    fresh = plan(
        repo,
        original.scope,
        original.policy,
        now=original.created_at,
        dedupe=original.dedupe,
        removed_runs=removed,
    )
    excluded = frozenset(exclude)
    included = frozenset(include) - excluded
    known = {d.version.id for d in fresh.decisions}
    refused: list[Refusal] = [
        Refusal(vid, vid, (_reason("policy:not-in-plan"),)) for vid in sorted((excluded | included) - known)
    ]

    per_collection: dict[str, list[Decision]] = {}
    for d in fresh.decisions:
        per_collection.setdefault(d.version.collection, []).append(d)

    policy, now = original.policy, original.created_at
    horizon = timedelta(0) if policy.waived("grace-period") else policy.grace_period
    for name, ds in per_collection.items():
        before = list(ds)
        for i, d in enumerate(ds):
            vid = d.version.id
            if vid in excluded and d.action is Action.DELETE:
                ds[i] = Decision(d.version, Action.KEEP, (*d.reasons, EXCLUDED))
            elif vid in included and d.action is Action.KEEP:
                facts = Facts(d.version, repo.lineage(vid), repo.links(vid), now, removed)
                blocks = evaluate(facts, policy)
                if blocks:
                    refused.append(Refusal(vid, d.version.name, blocks))
                else:
                    ds[i] = Decision(d.version, Action.DELETE, (INCLUDED,))
        if not policy.waived("last-version") and (
            all(d.action is Action.DELETE for d in ds)
            or (_survives(before, now, horizon) and not _survives(ds, now, horizon))
        ):
            # An inclusion emptied the collection, or took its last survivor (a PENDING upload or a
            # version whose TTL runs out is none): refuse the newest included version.
            for i, d in enumerate(ds):
                if INCLUDED in d.reasons:
                    ds[i] = before[i]
                    refused.append(Refusal(d.version.id, d.version.name, (last_version(name),)))
                    break

    if not policy.waived("referenced"):
        # Keeping a referrer keeps what it references; an included version a kept one references
        # is refused, with the rule.
        _block_referenced(repo, per_collection)
        for ds in per_collection.values():
            for i, d in enumerate(ds):
                if d.version.id in included and d.action is Action.KEEP and "referenced" in d.rules:
                    ref = next(r for r in d.reasons if r.rule == "referenced")
                    if INCLUDED in d.reasons:  # an inclusion refused: the plan's own decision stands
                        ds[i] = fresh.decision(d.version.id)
                    refused.append(Refusal(d.version.id, d.version.name, (ref,)))
    freed = _reclaimable(repo, per_collection, original.dedupe)
    summaries = tuple(
        CollectionSummary(
            collection=c.collection,
            type=c.type,
            kept=sum(d.action is Action.KEEP for d in per_collection[c.collection.name]),
            deleted=sum(d.action is Action.DELETE for d in per_collection[c.collection.name]),
            blocked=sum(d.blocked for d in per_collection[c.collection.name]),
            reclaimable_bytes=freed.get(c.collection.name, 0),
        )
        for c in fresh.collections
    )
    decisions = tuple(d for c in fresh.collections for d in per_collection[c.collection.name])
    digest = hashlib.sha256(f"{fresh.id}|review".encode())
    for d in decisions:
        digest.update(f"{d.version.id}={d.action.value};".encode())
    revised = Plan(
        scope=fresh.scope,
        policy=policy,
        created_at=fresh.created_at,
        dedupe=fresh.dedupe,
        decisions=decisions,
        reclaimable_bytes=sum(freed.values()),
        collections=summaries,
        # Same decisions, same plan: a review that changed nothing keeps the plan's id.
        id=digest.hexdigest() if decisions != fresh.decisions else fresh.id,
    )
    return Revision(revised, tuple(refused))


def _survives(ds: list[Decision], now: datetime, horizon: timedelta) -> bool:
    return any(d.action is Action.KEEP and outlives(d.version, now, horizon) for d in ds)


_REVIEW_TEXT = {
    "policy:excluded": "excluded from deletion by a reviewer",
    "policy:included": "included for deletion by a reviewer; no rule blocks it",
    "policy:not-in-plan": "not a surviving version of this plan's scope",
}


def reason_text(reason: Reason) -> str:
    """A reason in words, review marks included (``describe`` knows only the planner's)."""
    text = _REVIEW_TEXT.get(reason.rule)
    return text if text is not None else describe(reason)
