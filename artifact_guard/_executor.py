"""The executor: a journaled, resumable, paced apply with re-validation.

``apply(plan, repository)`` compiles a plan into operations, records them in a
journal (:mod:`artifact_guard._journal`) and runs them:

1. **Coarse scopes first.** When the plan deletes every surviving version of a
   source collection, one ``delete_collection`` call replaces N deletes, but
   only if, at apply time, the collection holds no version the plan did not
   list, every member still passes the rules (no running producer, no registry
   link, no new consumer, aliases unchanged), and its newest version is older
   than the grace period. Otherwise the members fall back to per-version
   deletes, each re-validated.
2. **Per-version deletes**, on ``concurrency`` threads, each preceded by a
   re-read of the version, its lineage and links and a re-run of the rules
   with the journal's policy (plus: the collection keeps a survivor, the
   aliases are those the plan saw). What changed since planning is skipped
   with its reason, never deleted.

Write calls are paced (:mod:`artifact_guard._pacing`): a rate limit in
operations per second, backoff with jitter on 429/5xx honouring
``Retry-After``, and a circuit breaker that stops cleanly after repeated
authentication or permission errors.

Exactly once: an operation is marked ``in-flight`` in the journal before its
write call goes out. After a crash, ``resume`` re-reads each in-flight target
first: a version already gone (``NotFoundError`` or state ``DELETED``) counts
as done and is not deleted again. Nothing the plan did not list is ever
written to.

Journal location: ``apply(..., journal=PATH)`` keeps the journal in the
workspace database at ``PATH`` (resumable after any crash). Without one, the
journal is held in memory; if the apply stops early (circuit breaker), it is
saved to a fresh temporary directory and ``ApplyResult.journal_path`` says
where, so it can still be resumed. A process killed without a journal path
leaves nothing to resume from: pass ``journal=`` for long applies.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

from ._errors import (
    AliasedVersionError,
    ArtifactGuardError,
    JournalError,
    NotFoundError,
    PlanError,
    ReadOnlyViolation,
)
from ._journal import Journal, JournalHeader, NewOp, OpRecord
from ._model import CollectionRef, Link, Scope, Version, VersionState
from ._pacing import DEFAULT_RATE, CircuitBreaker, RateLimiter, RetryPolicy, call_with_retries
from ._planner import Action, Plan, format_bytes
from ._progress import ProgressReporter, make_progress
from ._repository import ArtifactRepository, ReadOnlyRepository
from ._rules import Facts, Reason, _reason, describe, evaluate, last_version

__all__ = [
    "DEFAULT_CONCURRENCY",
    "ApplyResult",
    "CollectionLister",
    "apply",
    "describe_reason",
    "journal_status",
    "resume",
]

DEFAULT_CONCURRENCY = 4
COARSE_MIN_GRACE = timedelta(hours=24)
"""A collection is deleted whole only if its newest version is at least this old,
even when the policy waived the grace period: a fresh collection may be about to
receive a version."""
SURVIVOR_CACHE_S = 1.0
"""How long a re-read survivor of a collection is trusted for the last-version check."""
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


# ---------------------------------------------------------------------- reasons

_APPLY_TEMPLATES: dict[str, Callable[[dict[str, Any]], str]] = {
    "aliases-changed": lambda a: (
        f"aliases changed since planning (then: {', '.join(a['before']) or 'none'}; "
        f"now: {', '.join(a['after']) or 'none'})"
    ),
    "identity-changed": lambda a: f"the id now names {a['now']}, not {a['planned']}",
    "collection-changed": lambda a: (
        f"{len(a['new'])} version(s) not in the plan appeared: " + ", ".join(a["new"][:3])
    ),
    "collection-fresh": lambda a: f"newest version is only {a['age_s']} s old (needs {a['grace_s']} s)",
    "member-blocked": lambda a: "members changed since planning: " + ", ".join(a["members"][:3]),
    "member-settled": lambda a: "members already settled separately: " + ", ".join(a["members"][:3]),
    "last-version-policy": lambda a: "the policy does not allow emptying a collection",
}


def describe_reason(reason: Reason) -> str:
    """A reason in words: the rules' own, or one of the apply-time checks."""
    template = _APPLY_TEMPLATES.get(reason.rule)
    return template(reason.args) if template is not None else describe(reason)


# ---------------------------------------------------------------------- result


@dataclass
class ApplyResult:
    """What an apply (or resume) did, read back from its journal.

    ``done`` lists the version ids settled as gone: deleted by this apply
    (alone or by a collection delete) or found already deleted; the latter are
    also in ``already_deleted``. ``ok`` means every operation settled without
    error: skipped versions are a safe outcome, listed with their reasons.
    """

    plan_id: str = ""
    scope: str = ""
    done: list[str] = field(default_factory=list)
    already_deleted: list[str] = field(default_factory=list)
    skipped: list[tuple[str, tuple[Reason, ...]]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    """Versions not settled: the apply stopped before them; ``resume`` runs them."""
    stopped: str | None = None
    """Why the apply stopped early (circuit breaker, interruption), if it did."""
    collections_deleted: list[str] = field(default_factory=list)
    write_calls: int = 0
    calls_saved: int = 0
    """Per-version delete calls replaced by collection deletes."""
    predicted_bytes: int = 0
    journal_path: Path | None = None
    operations: tuple[OpRecord, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    """Version id -> ``collection:vN``, for messages."""

    @property
    def ok(self) -> bool:
        return not self.failed and not self.pending and self.stopped is None

    @property
    def complete(self) -> bool:
        """Every operation settled (done, skipped or failed)."""
        return not self.pending and self.stopped is None

    def summary(self) -> str:
        """A few lines for people: counts, reasons, calls, bytes."""
        deleted = len(self.done) - len(self.already_deleted)
        lines = [
            f"apply of plan {self.plan_id[:12]} ({self.scope}): {len(self.done)} done "
            f"({deleted} deleted, {len(self.already_deleted)} already gone), "
            f"{len(self.skipped)} skipped, {len(self.failed)} failed, {len(self.pending)} not run"
        ]
        if self.stopped:
            lines.append(f"stopped: {self.stopped}")
        for vid, reasons in self.skipped[:20]:
            why = "; ".join(f"{r.rule}: {describe_reason(r)}" for r in reasons)
            lines.append(f"  skipped {self.labels.get(vid, vid)}: {why}")
        if len(self.skipped) > 20:
            lines.append(f"  ... and {len(self.skipped) - 20} more skipped")
        for vid, err in self.failed[:20]:
            lines.append(f"  failed {self.labels.get(vid, vid)}: {err}")
        if len(self.failed) > 20:
            lines.append(f"  ... and {len(self.failed) - 20} more failed")
        lines.append(
            f"write calls: {self.write_calls}; {len(self.collections_deleted)} collection(s) deleted whole, "
            f"saving {self.calls_saved} call(s)"
        )
        exact = "" if self.ok and not self.skipped else " (if every planned deletion had gone through)"
        lines.append(f"bytes predicted to be freed: {format_bytes(self.predicted_bytes)}{exact}")
        if self.journal_path is not None:
            lines.append(f"journal: {self.journal_path}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def _result(journal: Journal, plan_id: str, *, keep_path: bool) -> ApplyResult:
    header = journal.header(plan_id)
    ops = journal.ops(plan_id)
    res = ApplyResult(
        plan_id=plan_id,
        scope=header.scope,
        predicted_bytes=header.reclaimable_bytes,
        journal_path=journal.path if keep_path else None,
        operations=tuple(ops),
    )
    for op in ops:
        res.write_calls += op.calls
        if op.kind == "delete_collection":
            if op.state == "done" and op.outcome == "collection-deleted":
                res.collections_deleted.append(op.target)
                covered = sum(1 for o in ops if o.parent == op.op_id and o.outcome == "via-collection")
                res.calls_saved += max(0, covered - op.calls)
            continue
        res.labels[op.target] = f"{op.collection}:v{op.planned.get('index', '?')}"
        if op.state == "done":
            res.done.append(op.target)
            if op.outcome == "already-deleted":
                res.already_deleted.append(op.target)
        elif op.state == "skipped":
            res.skipped.append((op.target, op.reasons))
        elif op.state == "failed":
            res.failed.append((op.target, f"{op.error_class}: {op.error_message}"))
        else:
            res.pending.append(op.target)
    if header.status == "stopped":
        res.stopped = header.stop_reason or "stopped"
    return res


# ---------------------------------------------------------------------- compile


def compile_ops(plan: Plan, *, coarse: bool) -> tuple[list[NewOp], dict[str, list[str]]]:
    """The operations of a plan, and per collection the ids of the versions it keeps."""
    by_collection: dict[str, list[tuple[Version, Action]]] = {}
    for d in plan.decisions:
        by_collection.setdefault(str(d.version.collection_ref), []).append((d.version, d.action))
    kept = {c: [v.id for v, a in vs if a is Action.KEEP] for c, vs in by_collection.items()}
    ops: list[NewOp] = []
    for coll, vs in by_collection.items():
        doomed = [v for v, a in vs if a is Action.DELETE]
        if not doomed:
            continue
        parent = None
        if coarse and len(doomed) >= 2 and len(doomed) == len(vs):
            parent = len(ops) + 1
            ops.append(
                NewOp(
                    parent, "delete_collection", coll, coll, coll, None, {"members": [v.id for v in doomed]}
                )
            )
        for v in doomed:
            ops.append(
                NewOp(
                    len(ops) + 1,
                    "delete_version",
                    v.id,
                    coll,
                    v.name,
                    parent,
                    {
                        "aliases": sorted(v.aliases),
                        "index": v.index,
                        "created_at": v.created_at.isoformat(),
                        "state": v.state.value,
                    },
                )
            )
    return ops, kept


# ---------------------------------------------------------------------- executor


@dataclass(frozen=True)
class _Verdict:
    gone: bool = False
    reasons: tuple[Reason, ...] = ()
    delete_aliases: bool = False


class _Executor:
    def __init__(
        self,
        repository: ArtifactRepository,
        journal: Journal,
        header: JournalHeader,
        *,
        limiter: RateLimiter,
        retry: RetryPolicy,
        breaker: CircuitBreaker,
        concurrency: int,
        progress: ProgressReporter,
        now: datetime | None,
        sleep: Callable[[float], None],
    ) -> None:
        self.repo = repository
        self.journal = journal
        self.header = header
        self.plan_id = header.plan_id
        self.policy = header.policy
        self.limiter = limiter
        self.retry = retry
        self.breaker = breaker
        self.concurrency = concurrency
        self.progress = progress
        self._fixed_now = now
        self._sleep = sleep
        self.removed_runs = frozenset(header.options.get("removed_runs", ()))
        self._survivor_lock = threading.Lock()
        self._survivor_seen: dict[str, float] = {}
        self._targets_by_collection: dict[str, set[str]] = {}
        self._listing_lock = threading.Lock()
        self._listing: tuple[float, list[Version] | None] = (0.0, None)

    # ------------------------------------------------------------------ helpers

    def now(self) -> datetime:
        if self._fixed_now is not None:
            return self._fixed_now
        # Ages only grow: never judge with a clock earlier than the plan's (a fake's frozen clock).
        return max(datetime.now(UTC), self.header.plan_created_at)

    def _read(self, fn: Callable[[], _T]) -> _T:
        return call_with_retries(fn, policy=self.retry, limiter=self.limiter, sleep=self._sleep)

    def _list_collection(self, collection: str) -> list[Version]:
        """The surviving versions of one collection, as W&B says now (at most LISTING_REUSE_S old)."""
        ref = CollectionRef.parse(collection)
        if isinstance(self.repo, CollectionLister):
            lister = self.repo
            return self._read(lambda: list(lister.collection_versions(ref)))
        # Only a whole-project listing is available: share one between the collection checks
        # running at the same moment instead of listing the project once per collection.
        with self._listing_lock:
            stamp, listing = self._listing
            if listing is None or time.monotonic() - stamp > LISTING_REUSE_S:
                started = time.monotonic()
                listing = self._read(lambda: list(self.repo.versions(ref.scope)))
                self._listing = (started, listing)
        return [v for v in listing if v.collection == ref.name]

    # ------------------------------------------------------------------ run

    def run(self) -> None:
        ops = self.journal.ops(self.plan_id)
        for op in ops:
            if op.kind == "delete_version":
                self._targets_by_collection.setdefault(op.collection, set()).add(op.target)
        versions = [o for o in ops if o.kind == "delete_version"]
        settled = sum(o.state in ("done", "skipped", "failed") for o in versions)
        self.progress.start(len(versions), already=settled)
        try:
            colls = [o for o in ops if o.kind == "delete_collection" and o.state == "pending"]
            children = {o.op_id: [c for c in versions if c.parent == o.op_id] for o in colls}
            self._parallel(lambda o: self._run_collection(o, children[o.op_id]), colls)
            now_ops = self.journal.ops(self.plan_id)
            parents = {o.op_id: o.state for o in now_ops if o.kind == "delete_collection"}
            todo = [
                o
                for o in now_ops
                if o.kind == "delete_version"
                and o.state == "pending"
                and (o.parent is None or parents.get(o.parent) in ("skipped", "failed"))
            ]
            self._parallel(self._run_version, todo)
        finally:
            self.progress.finish()

    def _parallel(self, fn: Callable[[OpRecord], None], items: Sequence[OpRecord]) -> None:
        """Run ``fn`` over ``items`` on up to ``concurrency`` threads; the first error is raised."""
        if self.concurrency == 1 or len(items) <= 1:
            for item in items:
                fn(item)
            return
        workers = min(self.concurrency, len(items))
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="artifact-guard-apply")
        try:
            done, _ = wait([pool.submit(fn, item) for item in items])
            for f in done:
                exc = f.exception()
                if exc is not None:
                    raise exc
        except BaseException:
            # Interrupted or a bug: workers take no new operation; those in flight finish and are journaled.
            self.breaker.trip("interrupted")
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)

    # ------------------------------------------------------------------ judging

    def _judge(
        self, v: Version, planned: Mapping[str, Any]
    ) -> tuple[tuple[Reason, ...], bool, tuple[Link, ...]]:
        """Re-run the rules on a fresh read of one version: (blocking reasons, delete_aliases, links)."""
        reasons: list[Reason] = []
        if v.index != planned.get("index"):
            reasons.append(_reason("identity-changed", planned=planned.get("index"), now=v.name))
        lineage = self._read(lambda: self.repo.lineage(v.id))
        links = self._read(lambda: self.repo.links(v.id))
        reasons.extend(evaluate(Facts(v, lineage, links, self.now(), self.removed_runs), self.policy))
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

    def _has_survivor(self, collection: str) -> bool:
        """Whether the collection keeps a surviving version this apply will not delete."""
        with self._survivor_lock:
            seen = self._survivor_seen.get(collection)
            if seen is not None and time.monotonic() - seen < SURVIVOR_CACHE_S:
                return True
        found = False
        for kid in self.header.kept.get(collection, ()):
            self._forget([kid])
            try:
                kv = self._read(lambda kid=kid: self.repo.version(kid))  # type: ignore[misc]
            except NotFoundError:
                continue
            if kv.state is not VersionState.DELETED:
                found = True
                break
        if not found:
            # Every version the plan kept is gone: a version logged since planning still counts.
            ours = self._targets_by_collection.get(collection, set())
            found = any(v.id not in ours for v in self._list_collection(collection))
        if found:
            with self._survivor_lock:
                self._survivor_seen[collection] = time.monotonic()
        return found

    def _forget(self, version_ids: Sequence[str]) -> None:
        """Ask a repository that caches reads (optional ``invalidate``) to ask W&B again."""
        invalidate = getattr(self.repo, "invalidate", None)
        if callable(invalidate):
            invalidate(version_ids)

    def _revalidate(self, op: OpRecord) -> _Verdict:
        self._forget([op.target])
        try:
            v = self._read(lambda: self.repo.version(op.target))
        except NotFoundError:
            return _Verdict(gone=True)
        if v.state is VersionState.DELETED:
            return _Verdict(gone=True)
        try:
            reasons, delete_aliases, _ = self._judge(v, op.planned)
            if not self.policy.waived("last-version") and not self._has_survivor(op.collection):
                reasons = (*reasons, last_version(op.collection))
        except NotFoundError:
            # Deleted by someone else while we read it? Only W&B's word on the version itself says so.
            try:
                again = self._read(lambda: self.repo.version(op.target))
            except NotFoundError:
                return _Verdict(gone=True)
            if again.state is VersionState.DELETED:
                return _Verdict(gone=True)
            raise
        return _Verdict(reasons=reasons, delete_aliases=delete_aliases)

    # ------------------------------------------------------------------ one version

    def _settle(self, op_ids: Sequence[int], state: str, count: int, **kw: Any) -> None:
        self.journal.finish(self.plan_id, op_ids, state, **kw)  # type: ignore[arg-type]
        self.progress.advance(state, count)

    def _run_version(self, op: OpRecord) -> None:
        if self.breaker.open:
            return
        # Wait for the rate limiter *before* re-reading, so the write follows the check at once.
        self.limiter.acquire()
        if self.breaker.open:
            return
        try:
            verdict = self._revalidate(op)
        except ArtifactGuardError as exc:
            self.breaker.record_failure(exc)
            self._settle([op.op_id], "failed", 1, error=exc, outcome="re-read failed")
            return
        if verdict.gone:
            self._settle([op.op_id], "done", 1, outcome="already-deleted")
            return
        if verdict.reasons:
            self._settle([op.op_id], "skipped", 1, reasons=verdict.reasons, outcome="changed since planning")
            return
        if self.breaker.open:
            return
        self.journal.start(self.plan_id, [op.op_id], write=True)
        attempt = 0

        def call() -> None:
            nonlocal attempt
            attempt += 1
            if attempt > 1:
                self.journal.count_call(self.plan_id, op.op_id)
            self.repo.delete_version(op.target, delete_aliases=verdict.delete_aliases)

        try:
            call_with_retries(call, policy=self.retry, limiter=self.limiter, sleep=self._sleep)
        except NotFoundError:
            # Gone between the re-read and the call, or an earlier attempt went through.
            self._settle([op.op_id], "done", 1, outcome="already-deleted")
        except AliasedVersionError as exc:
            self._settle(
                [op.op_id],
                "skipped",
                1,
                reasons=(
                    _reason(
                        "aliases-changed",
                        before=tuple(op.planned.get("aliases", ())),
                        after=("(W&B refused: the version holds aliases)",),
                    ),
                ),
                outcome=f"server refused: {exc}",
            )
        except ArtifactGuardError as exc:
            self.breaker.record_failure(exc)
            self._settle([op.op_id], "failed", 1, error=exc)
        else:
            self.limiter.on_success()
            self.breaker.record_success()
            self._settle([op.op_id], "done", 1, outcome="deleted")

    # ------------------------------------------------------------------ one collection

    def _coarse_blockers(
        self, op: OpRecord, children: Sequence[OpRecord]
    ) -> tuple[tuple[Reason, ...], frozenset[str]]:
        """Why the collection cannot go whole (empty: it can), and the ids of its surviving versions."""
        if not self.policy.waived("last-version"):
            return (_reason("last-version-policy"),), frozenset()
        survivors = self._list_collection(op.collection)
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
            reasons, _, links = self._judge(v, by_target[v.id].planned)
            if reasons or links or v.state is not VersionState.COMMITTED:
                blocked.append(v.name)
        if blocked:
            return (_reason("member-blocked", members=tuple(sorted(blocked))),), alive
        return (), alive

    def _run_collection(self, op: OpRecord, children: Sequence[OpRecord]) -> None:
        if self.breaker.open:
            return
        self.limiter.acquire()
        if self.breaker.open:
            return
        try:
            blockers, alive = self._coarse_blockers(op, children)
        except ArtifactGuardError as exc:
            self.breaker.record_failure(exc)
            self.journal.finish(self.plan_id, [op.op_id], "failed", error=exc, outcome="re-check failed")
            return
        pending = [c.op_id for c in children if c.state == "pending" and c.target in alive]
        gone = [c.op_id for c in children if c.state == "pending" and c.target not in alive]
        if not blockers and not alive:
            self._settle(gone, "done", len(gone), outcome="already-deleted")
            self.journal.finish(self.plan_id, [op.op_id], "done", outcome="already-empty")
            return
        if blockers:
            self.journal.finish(
                self.plan_id, [op.op_id], "skipped", reasons=blockers, outcome="fell back to per-version"
            )
            return
        if self.breaker.open:
            return
        self.journal.start(self.plan_id, [op.op_id], write=True)
        attempt = 0
        ref = CollectionRef.parse(op.collection)

        def call() -> None:
            nonlocal attempt
            attempt += 1
            if attempt > 1:
                self.journal.count_call(self.plan_id, op.op_id)
            self.repo.delete_collection(ref)

        try:
            call_with_retries(call, policy=self.retry, limiter=self.limiter, sleep=self._sleep)
        except NotFoundError:
            self._settle(pending + gone, "done", len(pending) + len(gone), outcome="already-deleted")
            self.journal.finish(self.plan_id, [op.op_id], "done", outcome="already-empty")
        except ArtifactGuardError as exc:
            # The members fall back to per-version deletes, each re-validated.
            self.breaker.record_failure(exc)
            self.journal.finish(self.plan_id, [op.op_id], "failed", error=exc)
        else:
            self.limiter.on_success()
            self.breaker.record_success()
            self._settle(gone, "done", len(gone), outcome="already-deleted")
            self._settle(pending, "done", len(pending), outcome="via-collection")
            self.journal.finish(self.plan_id, [op.op_id], "done", outcome="collection-deleted")


# ---------------------------------------------------------------------- public API

Rate = float | None | Literal["auto"]


def _resolve_rate(rate: Rate, repository: ArtifactRepository) -> float | None:
    if rate == "auto":
        hinted: float | None = getattr(repository, "default_rate", DEFAULT_RATE)
        return hinted
    if rate is not None and (isinstance(rate, bool) or not isinstance(rate, int | float) or rate <= 0):
        raise ValueError(f"rate must be > 0 operations per second, None or 'auto'; got {rate!r}")
    return rate


def _preflight(repository: ArtifactRepository, scope: Scope, retry: RetryPolicy) -> None:
    """Fail before anything is written when the project is gone or the credentials are refused.

    Uses the repository's ``check_scope`` when it has one (one cheap request),
    else the first item of a listing.
    """
    check = getattr(repository, "check_scope", None)

    def probe() -> None:
        if callable(check):
            check(scope)
        else:
            next(iter(repository.versions(scope)), None)

    call_with_retries(probe, policy=retry)


def _execute(
    repository: ArtifactRepository,
    journal: Journal,
    plan_id: str,
    *,
    rate: Rate,
    concurrency: int,
    progress: bool | ProgressReporter | None,
    now: datetime | None,
    retry: RetryPolicy | None,
    breaker_threshold: int,
    sleep: Callable[[float], None],
) -> None:
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be an integer >= 1, got {concurrency!r}")
    header = journal.header(plan_id)
    breaker = CircuitBreaker(breaker_threshold)
    executor = _Executor(
        repository,
        journal,
        header,
        limiter=RateLimiter(_resolve_rate(rate, repository), sleep=sleep),
        retry=retry or RetryPolicy(),
        breaker=breaker,
        concurrency=concurrency,
        progress=make_progress(progress),
        now=now,
        sleep=sleep,
    )
    try:
        executor.run()
    except KeyboardInterrupt:
        journal.set_status(plan_id, "stopped", "interrupted by the user")
        raise
    except BaseException as exc:
        journal.set_status(plan_id, "stopped", f"stopped by {type(exc).__name__}: {exc}")
        raise
    left = [o for o in journal.ops(plan_id) if o.state in ("pending", "in-flight")]
    if breaker.reason is not None:
        journal.set_status(plan_id, "stopped", breaker.reason)
    elif left:
        journal.set_status(plan_id, "stopped", f"{len(left)} operation(s) did not run")
    else:
        journal.set_status(plan_id, "finished")


def _refuse_read_only(repository: ArtifactRepository) -> None:
    if isinstance(repository, ReadOnlyRepository):
        raise ReadOnlyViolation("apply needs a writable repository; it was given a read-only one")


def apply(
    plan: Plan,
    repository: ArtifactRepository,
    *,
    journal: str | Path | None = None,
    rate: Rate = "auto",
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: bool | ProgressReporter | None = None,
    coarse: bool = True,
    removed_runs: Iterable[str] = (),
    now: datetime | None = None,
    retry: RetryPolicy | None = None,
    breaker_threshold: int = 3,
    sleep: Callable[[float], None] = time.sleep,
) -> ApplyResult:
    """Carry out a plan's deletions, safely; returns what happened, read back from the journal.

    - ``journal``: a workspace database to journal into (see the module doc for
      the default). If it already holds this plan's journal, the apply carries on
      from it; if it holds an unfinished journal of another plan,
      :class:`JournalError` and nothing is done.
    - ``rate``: write operations per second; ``"auto"`` asks the repository
      (``default_rate`` attribute; in-memory fakes say None) and else uses
      :data:`DEFAULT_RATE` (10/s, W&B's ``sleep(0.1)``); ``None``: no limit.
    - ``concurrency``: worker threads (re-reads and writes in parallel).
    - ``progress``: None (bar on a terminal only), True (bar, or plain lines
      off a terminal), False, or a :class:`ProgressReporter`.
    - ``coarse``: delete whole collections in one call where that is safe.
    - ``removed_runs``: run paths being deleted too (as given to ``plan``):
      their consumption does not block.
    - ``now``: the clock of the age rules (default: wall time, never earlier
      than the plan's).
    - ``retry``, ``breaker_threshold``, ``sleep``: pacing knobs (tests use ``sleep``).

    Raises :class:`NotFoundError` (the project is gone) or
    :class:`AuthenticationError` before anything is written, and
    :class:`ReadOnlyViolation` for a read-only repository.
    """
    _refuse_read_only(repository)
    if not plan.id:
        raise PlanError("the plan has no id; make plans with artifact_guard.plan()")
    retry_policy = retry or RetryPolicy()
    _preflight(repository, plan.scope, retry_policy)
    j = Journal.memory() if journal is None else Journal.open(journal)
    path = j.path
    try:
        j.claim()
        known = dict(j.plan_ids())
        if plan.id in known:
            header = j.header(plan.id)
            if header.scope != str(plan.scope):
                raise JournalError(f"journal {path} records plan {plan.id[:12]} for another scope")
            j.reopen(plan.id, retry_failed=True)
        else:
            unfinished = [pid for pid, status in known.items() if status != "finished"]
            if unfinished:
                raise JournalError(
                    f"journal {path} holds the unfinished apply of another plan ({unfinished[0][:12]}); "
                    "resume it with artifact_guard.resume() or give another journal path"
                )
            ops, kept = compile_ops(plan, coarse=coarse)
            j.create(
                plan_id=plan.id,
                scope=str(plan.scope),
                policy=plan.policy,
                plan_created_at=plan.created_at,
                dedupe=plan.dedupe,
                reclaimable_bytes=plan.reclaimable_bytes,
                kept=kept,
                options={"removed_runs": sorted(removed_runs)},
                ops=ops,
            )
        _execute(
            repository,
            j,
            plan.id,
            rate=rate,
            concurrency=concurrency,
            progress=progress,
            now=now,
            retry=retry,
            breaker_threshold=breaker_threshold,
            sleep=sleep,
        )
        result = _result(j, plan.id, keep_path=journal is not None)
        if journal is None and not result.complete:
            # Stopped early without a journal path: keep what happened, so it can be resumed.
            saved = Path(tempfile.mkdtemp(prefix="artifact-guard-")) / "journal.sqlite3"
            j.save_to(saved)
            result.journal_path = saved
    finally:
        j.close()
    return result


def _pick_plan(journal: Journal, plan_id: str | None) -> str:
    known = journal.plan_ids()
    if plan_id is not None:
        matches = [
            pid for pid, _ in known if pid == plan_id or (len(plan_id) >= 8 and pid.startswith(plan_id))
        ]
        if len(matches) != 1:
            raise JournalError(f"journal {journal.path} has no single plan matching {plan_id!r}")
        return matches[0]
    if not known:
        raise JournalError(f"journal {journal.path} records no apply")
    unfinished = [pid for pid, status in known if status != "finished"]
    if len(unfinished) > 1:
        raise JournalError(
            f"journal {journal.path} holds {len(unfinished)} unfinished applies; pass plan_id= "
            f"(one of {', '.join(p[:12] for p in unfinished)})"
        )
    return unfinished[0] if unfinished else known[-1][0]


def resume(
    journal_path: str | Path,
    repository: ArtifactRepository,
    *,
    plan_id: str | None = None,
    retry_failed: bool = True,
    rate: Rate = "auto",
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: bool | ProgressReporter | None = None,
    now: datetime | None = None,
    retry: RetryPolicy | None = None,
    breaker_threshold: int = 3,
    sleep: Callable[[float], None] = time.sleep,
) -> ApplyResult:
    """Finish an interrupted apply from its journal alone (the plan object is not needed).

    Operations still pending run; in-flight ones are settled by re-reading
    their target first (already gone counts as done, never deleted twice);
    failed ones run again when ``retry_failed``. Skipped ones stay skipped.
    ``plan_id`` chooses among several journals in one workspace (a prefix of
    at least 8 characters will do). Other options as for :func:`apply`.
    """
    _refuse_read_only(repository)
    j = Journal.open(journal_path, create=False)
    try:
        j.claim()
        pid = _pick_plan(j, plan_id)
        header = j.header(pid)
        retry_policy = retry or RetryPolicy()
        _preflight(repository, Scope.parse(header.scope), retry_policy)
        j.reopen(pid, retry_failed=retry_failed)
        _execute(
            repository,
            j,
            pid,
            rate=rate,
            concurrency=concurrency,
            progress=progress,
            now=now,
            retry=retry,
            breaker_threshold=breaker_threshold,
            sleep=sleep,
        )
        return _result(j, pid, keep_path=True)
    finally:
        j.close()


def journal_status(journal_path: str | Path, *, plan_id: str | None = None) -> ApplyResult:
    """What a journal records, without touching any repository.

    Operations left ``in-flight`` by a crash show as pending: only a resume,
    which re-reads W&B, can tell whether their call went through.
    """
    j = Journal.open(journal_path, create=False)
    try:
        return _result(j, _pick_plan(j, plan_id), keep_path=True)
    finally:
        j.close()
