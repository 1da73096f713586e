"""The audit: what changed between two snapshots of a project, and which safety rules it broke.

:func:`audit` compares a project *before* and *after* any change (a cleanup
script run, an apply, a test's code) and lists every version deletion, alias
removal, registry unlink, TTL change and collection deletion. Each change is
judged with the same rules (:mod:`artifact_guard._rules`) and policy the planner
uses, so a script is held to exactly the standard a plan would be: on the state
just before it when the live state kept a record of it (a ``FakeWandb`` records
every deletion with the facts it met, so promoting ``best`` from v27 to v38 and
then deleting v27 is no violation), else on the BEFORE state. A TTL set or
shortened is a deferred deletion and is judged as one, at the time it expires.
A deletion a surviving version still references (``wandb-artifact://``)
violates ``referenced``; a referrer deleted too does not count.

The bytes freed are what garbage collection will reclaim because of the
change: stored digests that some version referenced before, and that no
surviving version in the same dedupe scope references after. Reference
entries (``s3://...``) are not stored by W&B and free nothing.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from ._conformance import Conformance, check_conformance
from ._errors import SnapshotError
from ._model import CollectionRef, Lineage, Link, Scope, Version
from ._planner import format_bytes
from ._policy import RULE_IDS, Policy
from ._repository import ArtifactRepository
from ._rules import Facts, Reason, _dur, _reason, describe, evaluate, last_version, outlives, reference_target
from ._snapshot import Snapshot, capture

__all__ = ["AuditReport", "Change", "ChangeKind", "Violation", "audit"]


class ChangeKind(enum.Enum):
    """What happened to one object between the two snapshots."""

    DELETE_VERSION = "delete-version"
    REMOVE_ALIAS = "remove-alias"
    UNLINK = "unlink"
    DELETE_COLLECTION = "delete-collection"
    SET_TTL = "set-ttl"
    """A TTL set or shortened: a deferred deletion."""
    NO_SURVIVOR = "no-survivor"
    """A collection left with versions, but none a survivor (only PENDING or expiring ones)."""


@dataclass(frozen=True, slots=True)
class Change:
    """One change the audit found, with every safety rule it violates (judged on the before state)."""

    kind: ChangeKind
    collection: CollectionRef
    version: Version | None = None
    """The version as it was BEFORE (deletions, alias removals, unlinks)."""
    aliases: tuple[str, ...] = ()
    """Alias removals: the aliases removed."""
    moved_to: str | None = None
    """Alias removals: the version (``name:vN``) now holding the alias, when it moved rather than went."""
    link: Link | None = None
    """Unlinks: the registry link that went."""
    ttl: timedelta | None = None
    """TTL changes: the TTL set."""
    reasons: tuple[Reason, ...] = ()
    """Every safety rule the change violates; empty when it is safe."""

    @property
    def ok(self) -> bool:
        return not self.reasons

    @property
    def target(self) -> str:
        """The object changed, as W&B names it."""
        if self.kind is ChangeKind.UNLINK and self.link is not None:
            return self.link.name
        if self.version is not None:
            return self.version.qualified_name
        return str(self.collection)

    def describe(self) -> str:
        """The change in words, without its violations."""
        if self.kind is ChangeKind.DELETE_VERSION:
            held = sorted(self.version.aliases) if self.version is not None else []
            return f"deleted {self.target}" + (f" (aliases {', '.join(held)})" if held else "")
        if self.kind is ChangeKind.REMOVE_ALIAS:
            moved = f" (moved to {self.moved_to})" if self.moved_to else ""
            return f"removed alias {', '.join(self.aliases)} from {self.target}{moved}"
        if self.kind is ChangeKind.UNLINK:
            source = f" (source {self.version.qualified_name})" if self.version else ""
            return f"unlinked {self.target}{source}"
        if self.kind is ChangeKind.NO_SURVIVOR:
            return (
                f"left collection {self.target} without a survivor "
                "(what remains is PENDING, or its TTL runs out within the grace period)"
            )
        if self.kind is ChangeKind.SET_TTL:
            seconds = int(self.ttl.total_seconds()) if self.ttl is not None else 0
            return f"set a TTL of {seconds} s on {self.target} (a deferred deletion)"
        return f"deleted collection {self.target} (no version left)"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description."""
        out: dict[str, Any] = {
            "kind": self.kind.value,
            "target": self.target,
            "collection": str(self.collection),
            "violations": [_reason_dict(r) for r in self.reasons],
        }
        if self.version is not None:
            out["version_id"] = self.version.id
            out["version"] = self.version.name
        if self.aliases:
            out["aliases"] = list(self.aliases)
        if self.moved_to:
            out["moved_to"] = self.moved_to
        if self.link is not None:
            out["link"] = self.link.name
        if self.ttl is not None:
            out["ttl_s"] = int(self.ttl.total_seconds())
        return out


@dataclass(frozen=True, slots=True)
class Violation:
    """One safety rule one change broke."""

    change: Change
    reason: Reason

    @property
    def rule(self) -> str:
        return self.reason.rule

    def __str__(self) -> str:
        return f"{self.change.describe()}: {self.reason.rule}: {describe(self.reason)}"


def _safety_words(policy: Policy) -> str:
    """The parts of a policy an audit applies: its safety rules, not its selection."""
    parts = [f"protected aliases {', '.join(sorted(policy.protected_aliases)) or '(none)'}"]
    grace = int(policy.grace_period.total_seconds())
    if grace:
        parts.append(f"grace period {_dur(grace)}")
    waived = sorted(r for r in RULE_IDS if policy.waived(r))
    if waived:
        parts.append("waived " + ", ".join(waived))
    return "; ".join(parts)


def _fold(changes: Iterable[Change]) -> list[list[Change]]:
    """Group consecutive safe, alias-free deletions of one collection so a long clean-up reads short."""
    groups: list[list[Change]] = []
    for c in changes:
        foldable = (
            c.kind is ChangeKind.DELETE_VERSION and c.ok and c.version is not None and not c.version.aliases
        )
        prev = groups[-1][0] if groups else None
        if (
            foldable
            and prev is not None
            and prev.kind is ChangeKind.DELETE_VERSION
            and prev.ok
            and prev.version is not None
            and not prev.version.aliases
            and prev.collection == c.collection
        ):
            groups[-1].append(c)
        else:
            groups.append([c])
    return groups


def _ranges(indexes: list[int]) -> str:
    """``[0, 1, 2, 5]`` -> ``"v0-v2, v5"``."""
    spans: list[tuple[int, int]] = []
    for i in sorted(indexes):
        if spans and i == spans[-1][1] + 1:
            spans[-1] = (spans[-1][0], i)
        else:
            spans.append((i, i))
    return ", ".join(f"v{a}" if a == b else f"v{a}-v{b}" for a, b in spans)


def _reason_dict(reason: Reason) -> dict[str, Any]:
    return {
        "rule": reason.rule,
        "message": describe(reason),
        "params": {k: list(v) if isinstance(v, tuple) else v for k, v in reason.params},
    }


@dataclass(frozen=True)
class AuditReport:
    """The result of :func:`audit`.

    ``ok`` is true when no change violates a safety rule. ``bytes_freed`` is
    what garbage collection reclaims because of the changes (dedupe-aware).
    Collections left without ``latest`` (survivors remain but none holds it)
    are listed as a warning; they do not make the report fail.
    """

    scope: Scope
    policy: Policy
    changes: tuple[Change, ...]
    bytes_freed: int
    bytes_freed_by_collection: Mapping[str, int]
    without_latest: tuple[CollectionRef, ...]
    added: tuple[Version, ...] = ()
    """Versions that exist after and not before (the change logged them)."""
    notes: tuple[str, ...] = field(default=())
    conformance: Conformance | None = None
    """Policy conformance (:mod:`artifact_guard._conformance`): the plan the policy makes of the
    before state next to what the change did; None when the policy sets no retention."""

    @property
    def ok(self) -> bool:
        """No safety rule broken, and nothing the policy keeps deleted (see :attr:`conformance`)."""
        return not self.violations and (self.conformance is None or self.conformance.ok)

    @property
    def violations(self) -> tuple[Violation, ...]:
        """Every (change, rule) pair that broke a safety rule, in change order."""
        return tuple(Violation(c, r) for c in self.changes for r in c.reasons)

    def of_kind(self, kind: ChangeKind) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.kind is kind)

    @property
    def deletions(self) -> tuple[Change, ...]:
        """Version deletions, in the order of the before snapshot."""
        return self.of_kind(ChangeKind.DELETE_VERSION)

    def summary(self) -> str:
        """One line: counts, bytes and verdict."""
        counts = [
            f"{len(self.of_kind(ChangeKind.DELETE_VERSION))} version(s) deleted",
            f"{len(self.of_kind(ChangeKind.REMOVE_ALIAS))} alias removal(s)",
            f"{len(self.of_kind(ChangeKind.UNLINK))} unlink(s)",
            f"{len(self.of_kind(ChangeKind.DELETE_COLLECTION))} collection(s) emptied",
        ]
        if self.of_kind(ChangeKind.SET_TTL):
            counts.append(f"{len(self.of_kind(ChangeKind.SET_TTL))} TTL change(s)")
        if self.of_kind(ChangeKind.NO_SURVIVOR):
            counts.append(
                f"{len(self.of_kind(ChangeKind.NO_SURVIVOR))} collection(s) left without a survivor"
            )
        verdict = "OK: no safety rule violated" if self.ok else f"UNSAFE: {len(self.violations)} violation(s)"
        if self.conformance is not None and not self.conformance.ok:
            verdict = (
                f"UNSAFE: {len(self.violations)} violation(s), {self.conformance.failures} against the policy"
                if self.violations
                else f"NOT CONFORMING: {self.conformance.failures} change(s) against the policy"
            )
        elif self.conformance is not None and self.ok:
            verdict = "OK: no safety rule violated, the policy's retention kept"
        return (
            f"{', '.join(counts)}; frees {format_bytes(self.bytes_freed)} ({self.bytes_freed} bytes) "
            f"after GC. {verdict}"
        )

    def explain(self) -> str:
        """A readable report: every change with its violations, then the totals."""
        lines = [f"audit of {self.scope}; safety rules: {_safety_words(self.policy)}"]
        if not self.changes:
            lines.append("no deletion, alias removal or unlink")
        for group in _fold(self.changes):
            change = group[0]
            if len(group) > 1:
                indexes = _ranges([c.version.index for c in group if c.version is not None])
                lines.append(f"  ok   deleted {change.collection}:{indexes} ({len(group)} versions)")
                continue
            mark = "ok  " if change.ok else "FAIL"
            lines.append(f"  {mark} {change.describe()}")
            for r in change.reasons:
                lines.append(f"         - {r.rule}: {describe(r)}")
        for ref in self.without_latest:
            lines.append(f"  warn collection {ref} is left without 'latest'")
        if self.added:
            lines.append(f"  note {len(self.added)} version(s) were added")
        lines.extend(f"  note {note}" for note in self.notes)
        if self.conformance is not None:
            lines.extend(self.conformance.lines())
        lines.append(self.summary())
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.explain()

    def __repr__(self) -> str:
        # Short: pytest shows it in `assert report.ok` failures; explain() has the detail.
        return f"<AuditReport of {self.scope}: {self.summary()}>"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready report (stable keys; ``format`` names its version)."""
        return {
            "format": "artifact-guard-audit",
            "format_version": 2,
            "scope": str(self.scope),
            "policy": str(self.policy),
            "safety_rules": _safety_words(self.policy),
            "ok": self.ok,
            "bytes_freed": self.bytes_freed,
            "bytes_freed_by_collection": dict(sorted(self.bytes_freed_by_collection.items())),
            "changes": [c.to_dict() for c in self.changes],
            "violations": [
                {"target": v.change.target, "kind": v.change.kind.value, **_reason_dict(v.reason)}
                for v in self.violations
            ],
            "without_latest": [str(ref) for ref in self.without_latest],
            "added": [{"id": v.id, "name": v.qualified_name} for v in self.added],
            "notes": list(self.notes),
            "conformance": self.conformance.to_dict() if self.conformance is not None else None,
        }


class _HasRepository(Protocol):
    def repository(self) -> ArtifactRepository: ...


def _as_snapshot(state: Snapshot | ArtifactRepository | _HasRepository, scope: Scope) -> Snapshot:
    if isinstance(state, Snapshot):
        return state
    repo = state.repository() if hasattr(state, "repository") else state
    now_fn = getattr(state, "now", None)
    now = now_fn() if callable(now_fn) else None
    return capture(repo, scope, dedupe=getattr(state, "dedupe", "collection"), now=now)


def audit(
    before: Snapshot,
    after: Snapshot | ArtifactRepository | _HasRepository,
    policy: Policy | None = None,
    *,
    strict: bool = False,
) -> AuditReport:
    """Compare ``before`` and ``after`` under ``policy`` (default: :class:`Policy` defaults).

    Besides the safety rules, the report checks conformance to the policy's retention
    (:mod:`artifact_guard._conformance`): deleting a version the policy keeps fails the
    report; leaving one the policy deletes is a warning, a failure with ``strict``.

    ``before`` is a :class:`~artifact_guard._snapshot.Snapshot` taken before the
    change (``capture(fake.repository(), scope, now=fake.now())``). ``after`` is
    a snapshot too, or, for convenience, the live state itself: a repository
    or a ``fakes.FakeWandb``, captured now in ``before``'s scope.

    Example::

        before = capture(fake.repository(), "team/proj", now=fake.now())
        my_cleanup(fake)
        report = audit(before, fake, Policy())
        assert report.ok, report.explain()
    """
    if not isinstance(before, Snapshot):
        # A live fake or repository cannot be "before": it already holds the change.
        raise TypeError(
            "audit(before, ...) needs a Snapshot taken before the change: "
            "before = artifact_guard.capture(fake.repository(), 'entity/project', now=fake.now())"
        )
    policy = policy if policy is not None else Policy()
    after_snap = _as_snapshot(after, before.scope)
    if after_snap.scope != before.scope:
        raise SnapshotError(f"cannot compare {before.scope} with {after_snap.scope}: different projects")
    survivors = after_snap.by_id
    changes: list[Change] = []
    deleted: list[Version] = []
    record_of = _deletion_records(after)
    ttl_record_of = _deletion_records(after, "ttl_set_on")
    referrers = _surviving_referrers(after_snap)

    for v in before.versions:
        now_v = survivors.get(v.id)
        if now_v is None:
            deleted.append(v)
            changes.append(
                Change(
                    ChangeKind.DELETE_VERSION,
                    v.collection_ref,
                    version=v,
                    reasons=evaluate(_deletion_facts(before, v, record_of, referrers, survivors), policy),
                )
            )
            continue
        changes.extend(_alias_removals(before, after_snap, v, now_v, policy))
        changes.extend(_unlinks(before, after_snap, v, policy))
        changes.extend(_ttl_changes(before, v, now_v, ttl_record_of(v.id), referrers, survivors, policy))

    changes.extend(_emptied_collections(before, after_snap, deleted, policy))
    changes.extend(_survivors_lost(before, after_snap, changes, policy))
    freed, by_collection = _bytes_freed(before, after_snap)
    before_ids = {v.id for v in before.versions}
    added = tuple(v for v in after_snap.versions if v.id not in before_ids)
    notes: list[str] = []
    if before.dedupe == "entity":
        notes.append(
            "dedupe scope is the entity: other projects may share files, so bytes freed is an upper bound"
        )
    return AuditReport(
        scope=before.scope,
        policy=policy,
        changes=tuple(changes),
        bytes_freed=freed,
        bytes_freed_by_collection=by_collection,
        without_latest=_without_latest(before, after_snap),
        added=added,
        notes=tuple(notes),
        conformance=check_conformance(before, after_snap, policy, strict=strict),
    )


def _facts(
    before: Snapshot, v: Version, *, now: datetime | None = None, referrers: tuple[str, ...] = ()
) -> Facts:
    # Consumers count even if the script deleted their runs too: a snapshot
    # cannot tell a deleted run from one that merely stopped referencing a
    # survivor, and the audit errs on the side of reporting.
    return Facts(
        version=v,
        lineage=before.lineage.get(v.id) or Lineage(),
        links=tuple(before.links.get(v.id, ())),
        now=now if now is not None else before.taken_at,
        referrers=referrers,
    )


class _Deletion(Protocol):
    """What a live state recorded about one deletion (``fakes.Deletion``): the facts just before it."""

    @property
    def version(self) -> Version: ...
    @property
    def at(self) -> datetime: ...
    @property
    def lineage(self) -> Lineage: ...
    @property
    def links(self) -> tuple[Link, ...]: ...
    @property
    def referrers(self) -> tuple[str, ...]: ...


def _deletion_records(after: object, read: str = "deletion_of") -> Callable[[str], _Deletion | None]:
    """The live state's record of each deletion (optional ``deletion_of``; ``ttl_set_on`` for TTLs)."""
    for holder in (after, getattr(after, "fake", None)):
        lookup = getattr(holder, read, None)
        if callable(lookup):
            return lookup  # type: ignore[no-any-return]
    return lambda version_id: None


def _surviving_referrers(after: Snapshot) -> dict[str, tuple[str, ...]]:
    """Target id -> qualified names of the versions that survive the change and reference it."""
    by_client = {v.client_id: v.id for v in after.versions if v.client_id}
    found: dict[str, set[str]] = defaultdict(set)
    for v in after.versions:
        for e in after.manifests.get(v.id, ()):
            target = reference_target(e.ref)
            if target is None:
                continue
            tid = target[1] if target[0] == "id" else by_client.get(target[1])
            if tid is not None and tid != v.id:
                found[tid].add(v.qualified_name)
    return {tid: tuple(sorted(names)) for tid, names in found.items()}


def _deletion_facts(
    before: Snapshot,
    v: Version,
    record_of: Callable[[str], _Deletion | None],
    referrers: Mapping[str, tuple[str, ...]],
    survivors: Mapping[str, Version],
) -> Facts:
    """A deletion's facts: the state just before it when recorded, else the BEFORE state.

    Referrers count when they survive the whole change (removed together: a referrer deleted
    too does not block), whether they referenced the version before or were logged since.
    """
    record = record_of(v.id)
    if record is None or record.version.id != v.id:
        return _facts(before, v, referrers=referrers.get(v.id, ()))
    names = {survivors[r].qualified_name for r in record.referrers if r in survivors}
    names.update(referrers.get(v.id, ()))
    return Facts(
        version=record.version,
        lineage=record.lineage,
        links=record.links,
        now=record.at,
        referrers=tuple(sorted(names)),
    )


def _ttl_changes(
    before: Snapshot,
    v: Version,
    now_v: Version,
    record: _Deletion | None,
    referrers: Mapping[str, tuple[str, ...]],
    survivors: Mapping[str, Version],
    policy: Policy,
) -> Iterable[Change]:
    """A TTL set or shortened is a deferred deletion: judged as one, at its expiry, on the state
    just before it was set when that was recorded, else on the BEFORE state."""
    if now_v.ttl is None or now_v.ttl == v.ttl or (v.ttl is not None and now_v.ttl > v.ttl):
        return []
    try:
        expires = v.created_at + now_v.ttl
    except OverflowError:
        return []  # past the year 9999: never, for any purpose here
    if record is not None and record.version.id == v.id:
        names = {survivors[r].qualified_name for r in record.referrers if r in survivors}
        names.update(referrers.get(v.id, ()))
        facts = Facts(
            version=record.version,
            lineage=record.lineage,
            links=record.links,
            now=max(record.at, expires),
            referrers=tuple(sorted(names)),
        )
    else:
        facts = _facts(before, v, now=max(before.taken_at, expires), referrers=referrers.get(v.id, ()))
    return [
        Change(
            ChangeKind.SET_TTL, v.collection_ref, version=v, ttl=now_v.ttl, reasons=evaluate(facts, policy)
        )
    ]


def _alias_removals(
    before: Snapshot, after: Snapshot, v: Version, now_v: Version, policy: Policy
) -> Iterable[Change]:
    gone = sorted(v.aliases - now_v.aliases)
    if not gone:
        return []
    holders = {
        (w.collection, alias): w.name
        for w in after.versions
        if w.collection == v.collection
        for alias in w.aliases
    }
    out: list[Change] = []
    for alias in gone:
        moved_to = holders.get((v.collection, alias))
        reasons: tuple[Reason, ...] = ()
        # Moving an alias (a new version took it) is how W&B promotes; only a
        # protected alias that vanished from the collection breaks anything.
        if moved_to is None and alias in policy.protected_aliases:
            reasons = (_reason("protected-alias", aliases=(alias,), registry_aliases=()),)
        out.append(
            Change(
                ChangeKind.REMOVE_ALIAS,
                v.collection_ref,
                version=v,
                aliases=(alias,),
                moved_to=moved_to,
                reasons=reasons,
            )
        )
    return out


def _unlinks(before: Snapshot, after: Snapshot, v: Version, policy: Policy) -> Iterable[Change]:
    kept = {(link.portfolio, link.index) for link in after.links.get(v.id, ())}
    out: list[Change] = []
    for link in before.links.get(v.id, ()):
        if (link.portfolio, link.index) in kept:
            continue
        reasons: list[Reason] = []
        held = sorted(link.aliases & policy.protected_aliases)
        if link.protected_aliases or held:
            reasons.append(
                _reason(
                    "protected-alias",
                    aliases=tuple(held),
                    registry_aliases=tuple(sorted(link.protected_aliases)),
                )
            )
        # Unlinking takes the version out of the registry: whoever resolves the
        # registry name loses it, the same harm as deleting a linked source.
        if not policy.waived("registry-linked"):
            reasons.append(_reason("registry-linked", links=(link.name,)))
        out.append(Change(ChangeKind.UNLINK, v.collection_ref, version=v, link=link, reasons=tuple(reasons)))
    return out


def _emptied_collections(
    before: Snapshot, after: Snapshot, deleted: list[Version], policy: Policy
) -> Iterable[Change]:
    touched = sorted({v.collection for v in deleted})
    alive = {v.collection for v in after.versions}
    out: list[Change] = []
    for name in touched:
        if name in alive:
            continue
        ref = CollectionRef(before.scope.entity, before.scope.project, name)
        reasons = () if policy.waived("last-version") else (last_version(str(ref)),)
        out.append(Change(ChangeKind.DELETE_COLLECTION, ref, reasons=reasons))
    return out


def _survivors_lost(
    before: Snapshot, after: Snapshot, changes: list[Change], policy: Policy
) -> Iterable[Change]:
    """last-version for what remains: a collection the change left holding only PENDING uploads or
    versions whose TTL runs out within the grace period, when it had a survivor before."""
    if policy.waived("last-version"):
        return []
    horizon = timedelta(0) if policy.waived("grace-period") else policy.grace_period
    touched = {
        c.collection.name for c in changes if c.kind in (ChangeKind.DELETE_VERSION, ChangeKind.SET_TTL)
    }
    emptied = {c.collection.name for c in changes if c.kind is ChangeKind.DELETE_COLLECTION}
    out: list[Change] = []
    for name in sorted(touched - emptied):
        had = any(outlives(v, before.taken_at, horizon) for v in before.versions if v.collection == name)
        has = any(outlives(v, after.taken_at, horizon) for v in after.versions if v.collection == name)
        if had and not has:
            ref = CollectionRef(before.scope.entity, before.scope.project, name)
            out.append(Change(ChangeKind.NO_SURVIVOR, ref, reasons=(last_version(str(ref)),)))
    return out


def _dedupe_key(v: Version, dedupe: str) -> str:
    if dedupe == "collection":
        return f"{v.entity}/{v.project}/{v.collection}"
    if dedupe == "project":
        return f"{v.entity}/{v.project}"
    return v.entity


def _bytes_freed(before: Snapshot, after: Snapshot) -> tuple[int, dict[str, int]]:
    """Digests survivors referenced before and none references after, per dedupe scope."""
    dedupe = before.dedupe
    still: set[tuple[str, str]] = set()
    for v in after.versions:
        key = _dedupe_key(v, dedupe)
        still.update((key, e.digest) for e in after.manifests.get(v.id, ()) if e.ref is None)
    gone: dict[tuple[str, str], tuple[int, str]] = {}
    survivors = after.by_id
    # Walk deleted versions first so a freed digest is attributed to a
    # collection that lost a version, not to one that merely shared the file.
    ordered = sorted(before.versions, key=lambda v: v.id in survivors)
    for v in ordered:
        key = _dedupe_key(v, dedupe)
        for e in before.manifests.get(v.id, ()):
            if e.ref is None and (key, e.digest) not in still:
                gone.setdefault((key, e.digest), (e.size, v.collection))
    by_collection: dict[str, int] = defaultdict(int)
    for size, collection in gone.values():
        by_collection[collection] += size
    return sum(by_collection.values()), dict(by_collection)


def _without_latest(before: Snapshot, after: Snapshot) -> tuple[CollectionRef, ...]:
    had = {v.collection for v in before.versions if "latest" in v.aliases}
    holds = {v.collection for v in after.versions if "latest" in v.aliases}
    alive = {v.collection for v in after.versions}
    return tuple(
        CollectionRef(before.scope.entity, before.scope.project, name) for name in sorted(had & alive - holds)
    )
