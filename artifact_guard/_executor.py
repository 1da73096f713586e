"""The executor: a journaled, resumable, paced apply with re-validation.

``apply(plan, repository)`` reads top to bottom: compile the plan into
operations and record them in a journal bound to the plan
(:class:`~artifact_guard._journal.PlanJournal`); then

1. **Coarse scopes first.** When the plan deletes every surviving version of a
   source collection, one ``delete_collection`` call replaces N deletes, but
   only if, at apply time, the collection holds no version the plan did not
   list, every member still passes the rules (no running producer, no registry
   link, no new consumer, aliases unchanged), and its newest version is older
   than the grace period. Otherwise the members fall back to per-version
   deletes, each re-validated.
   A collection holding a version that a planned deletion outside it
   references goes whole only after that referrer is deleted.
2. **Per-version deletes, batch by batch**: re-read the batch
   (:class:`~artifact_guard._revalidate.Revalidator`, one request per 50
   versions where the repository can), judge each version with the journal's
   policy (plus: the collection keeps a survivor, the aliases are those the
   plan saw), write, record. What changed since planning is skipped with its
   reason, never deleted.

**References between planned deletions.** A plan may delete a version T
together with a version R whose manifest references T (``wandb-artifact://``;
the planner's ``referenced`` rule lets T go because R goes too). Apply reads
the manifests of the planned deletions once (cached by
:class:`~artifact_guard.adapters.wandb.WandbRepository`; otherwise one URL
look-up per 50 versions and one storage download each), records the graph in
the journal (a resume uses the same graph), and runs in rounds
(:mod:`artifact_guard._ordering` decides each one): a version is
written only after every planned referrer of it is done (deleted, confirmed).
A referrer skipped, failed or of unknown outcome keeps its targets, and theirs
(skipped, reason ``referenced``). Versions referencing each other (a cycle)
are judged together and deleted only if every one passes; if one is skipped,
so are the others. A cycle member whose delete fails after others went
through is the one gap left: the others are already gone.

Writes are paced (:mod:`artifact_guard._pacing`): adaptive by default, backoff
with jitter on 429/5xx honouring ``Retry-After``, and a circuit breaker that
stops cleanly after repeated credential errors or throttling.

Ages are judged by the repository's own clock (``repository.now()``), never by
the plan's time; a plan dated later than that clock is refused.

Exactly once: an operation is marked ``in-flight`` in the journal before its
write call goes out. A write whose reply is lost (timeout, 5xx) is noted as of
unknown outcome and sent again only after a fresh read shows the state it was
judged on unchanged. After a crash, ``resume`` re-reads each in-flight target
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

import functools
import math
import random
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar

from ._errors import (
    AliasedVersionError,
    ArtifactGuardError,
    JournalError,
    NotFoundError,
    PlanError,
    RateLimitedError,
    ReadOnlyViolation,
    TransientError,
)
from ._journal import Journal, NewOp, OpRecord, OpState, PlanJournal
from ._model import CollectionRef, ManifestEntry, Scope, Version
from ._ordering import References, next_round, reference_edges
from ._pacing import (
    AUTO_CEILING,
    DEFAULT_RATE,
    AdaptivePacer,
    CircuitBreaker,
    RateLimiter,
    RetryPolicy,
    backoff_delay,
    call_with_retries,
    check_ceiling,
)
from ._planner import Action, Plan, format_bytes
from ._progress import ProgressReporter, make_progress
from ._repository import ArtifactRepository, ReadOnlyRepository
from ._revalidate import BATCH_MAX, REVALIDATE_MAX_AGE, CollectionLister, Reading, Revalidator, Verdict
from ._rules import Reason, _reason, describe, referenced_reason

__all__ = [
    "DEFAULT_CONCURRENCY",
    "ApplyEstimate",
    "ApplyResult",
    "CollectionLister",
    "apply",
    "describe_reason",
    "estimate_apply",
    "journal_status",
    "resume",
]

DEFAULT_CONCURRENCY = 8
"""Worker threads at most; with ``rate="auto"`` the calls in flight follow rate x latency below it."""

_T = TypeVar("_T")


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
    "outcome-unknown": lambda a: "a delete of unknown outcome was followed by changes",
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
                        # References may name a version by client id: the reference graph needs it.
                        **({"client_id": v.client_id} if v.client_id else {}),
                    },
                )
            )
    return ops, kept


@dataclass(frozen=True)
class ApplyEstimate:
    """What applying a plan will send, and how long that takes at a given rate."""

    version_deletes: int
    collection_deletes: int
    requests: int
    rate: float

    @property
    def seconds(self) -> float:
        return self.requests / self.rate

    def __str__(self) -> str:
        from ._policy_file import format_duration

        took = format_duration(timedelta(seconds=max(1, round(self.seconds))))
        return (
            f"~{self.version_deletes} deletes, {self.collection_deletes} collection deletes: about {took} "
            f"at {self.rate:g} requests/s (W&B's guidance; faster as the rate adapts)"
        )


def estimate_apply(plan: Plan, *, rate: float = DEFAULT_RATE, coarse: bool = True) -> ApplyEstimate:
    """Requests an apply of ``plan`` sends if nothing changed since planning, and the time at ``rate``.

    Per version: its delete, plus its share of a batch re-read (one per
    :data:`BATCH_MAX`, at least one per collection touched). Per whole
    collection: a listing, a look-up and the delete. Plus one preflight.
    """
    ops, _ = compile_ops(plan, coarse=coarse)
    coll_ops = [o for o in ops if o.kind == "delete_collection"]
    covered = {o.op_id for o in coll_ops}
    singles = [o for o in ops if o.kind == "delete_version" and o.parent not in covered]
    batches = max(math.ceil(len(singles) / BATCH_MAX), len({o.collection for o in singles}) // BATCH_MAX)
    requests = 1 + len(singles) + batches + 3 * len(coll_ops)
    return ApplyEstimate(len(singles), len(coll_ops), requests, rate)


# ---------------------------------------------------------------------- executor


def repository_clock(repository: ArtifactRepository) -> Callable[[], datetime]:
    """The repository's own clock (``now()``), or the wall clock in UTC for one without it."""
    clock = getattr(repository, "now", None)
    if callable(clock):
        return clock  # type: ignore[no-any-return]
    return lambda: datetime.now(UTC)


def _unknown(attempt: int, exc: BaseException) -> str:
    return f"attempt {attempt}: outcome unknown ({type(exc).__name__}: {exc})"


class _Executor:
    """Runs one plan's journal: collections first, then versions in batches (read, judge, write, record)."""

    def __init__(
        self,
        repository: ArtifactRepository,
        journal: PlanJournal,
        *,
        limiter: RateLimiter,
        retry: RetryPolicy,
        breaker: CircuitBreaker,
        concurrency: int,
        progress: ProgressReporter,
        clock: Callable[[], datetime],
        sleep: Callable[[float], None],
    ) -> None:
        self.repo = repository
        self.journal = journal
        self.limiter = limiter
        self.retry = retry
        self.breaker = breaker
        self.concurrency = concurrency
        self.progress = progress
        self._sleep = sleep
        self._rng = random.Random()  # noqa: S311 - jitter, not secrets
        self.refs = References({})
        ops = journal.ops()
        targets: dict[str, set[str]] = {}
        for op in ops:
            if op.kind == "delete_version":
                targets.setdefault(op.collection, set()).add(op.target)
        self.check = Revalidator(
            repository, journal.header(), clock=clock, read=self._read, targets_by_collection=targets
        )

    def _read(self, fn: Callable[[], _T]) -> _T:
        return call_with_retries(fn, policy=self.retry, limiter=self.limiter, sleep=self._sleep)

    # ------------------------------------------------------------------ run

    def run(self) -> None:
        """Compile-time operations are in the journal; settle each one.

        Deletions run in rounds ordered by the plan's references
        (:mod:`artifact_guard._ordering`): an operation runs once every planned
        deletion referencing it is done; one whose planned referrer was skipped
        or failed is skipped (``referenced``), and so are its own targets in
        later rounds.
        """
        ops = self.journal.ops()
        versions = [o for o in ops if o.kind == "delete_version"]
        settled = sum(o.state in ("done", "skipped", "failed") for o in versions)
        self.progress.start(len(versions), already=settled)
        try:
            self.refs = self._references(versions)
            before = [(o.op_id, o.state) for o in ops]
            while not self.breaker.open and self._round():
                after = [(o.op_id, o.state) for o in self.journal.ops()]
                if after == before:
                    break  # nothing settled: what is left waits on something that will not run now
                before = after
        finally:
            self.progress.finish()

    def _references(self, versions: Sequence[OpRecord]) -> References:
        """The reference graph between planned deletions: recorded in the journal on the first run,
        so a resume judges by the same graph even after referrers are gone."""
        if self.check.policy.waived("referenced"):
            return References({})
        header = self.journal.header()
        stored = header.options.get("references")
        if isinstance(stored, dict):
            edges = {str(k): [str(t) for t in v] for k, v in stored.items()}
        else:
            # Every referrer not yet gone: a skipped or failed one (an older journal's) still holds on.
            todo = [o for o in versions if o.state != "done"]
            ids = [o.target for o in todo]
            prefetch = getattr(self.repo, "prefetch_manifests", None)
            if callable(prefetch) and ids:
                self._read(lambda: prefetch(ids))  # batched where the repository can (W&B: 50 per request)
            edges = reference_edges(todo, versions, self._manifest_or_none)
            self.journal.set_option("references", edges)
        return References(edges)

    def _manifest_or_none(self, version_id: str) -> tuple[ManifestEntry, ...] | None:
        try:
            return self._read(functools.partial(self.repo.manifest, version_id))
        except NotFoundError:
            return None

    def _round(self) -> bool:
        """Carry out one round (:func:`~artifact_guard._ordering.next_round`); whether anything moved."""
        step = next_round(self.journal.ops(), self.refs)
        for c, why in step.fall_back:
            self.journal.finish([c.op_id], "skipped", reasons=(why,), outcome="fell back to per-version")
        if step.collections:
            members = {c.op_id: ms for c, ms in step.collections}
            self._parallel(
                lambda c: self._run_collection(c, members[c.op_id]), [c for c, _ in step.collections]
            )
            return True
        for op, why in step.blocked:
            self._settle([op.op_id], "skipped", 1, reasons=(why,), outcome="referrer kept")
        if step.blocked:
            return True
        for batch in self._batches(step.singles):
            if self.breaker.open:
                return False
            reading = self._read_batch(batch)
            if reading is not None:
                self._parallel(functools.partial(self._run_version, reading=reading), batch)
        labels = {o.target: o.label for group in step.cycles for o in group}
        for group in step.cycles:
            if self.breaker.open:
                return False
            self._run_cycle(group, labels)
        return not step.empty

    def _run_cycle(self, group: Sequence[OpRecord], labels: Mapping[str, str]) -> None:
        """Versions referencing each other: all judged first; deleted only if every one passes."""
        reading = self._read_batch(group)
        if reading is None:
            return
        verdicts: dict[int, Verdict] = {}
        for op in group:
            try:
                verdicts[op.op_id] = self.check.verdict(op, reading)
            except ArtifactGuardError as exc:
                self.breaker.record_failure(exc)
                self._settle([op.op_id], "failed", 1, error=exc, outcome="re-read failed")
                self._skip_rest(group, labels, op)
                return
        blockers = [op for op in group if verdicts[op.op_id].reasons]
        if blockers:
            for op in group:
                v = verdicts[op.op_id]
                if v.gone:
                    self._settle([op.op_id], "done", 1, outcome="already-deleted")
                elif v.reasons:
                    self._settle(
                        [op.op_id], "skipped", 1, reasons=v.reasons, outcome="changed since planning"
                    )
                else:
                    by = tuple(labels[b.target] for b in blockers)
                    self._settle(
                        [op.op_id], "skipped", 1, reasons=(referenced_reason(by),), outcome="referrer kept"
                    )
            return
        for op in group:
            if self.breaker.open:
                return
            if not self._write_version(op, verdicts[op.op_id], reading):
                self._skip_rest(group, labels, op)
                return

    def _skip_rest(self, group: Sequence[OpRecord], labels: Mapping[str, str], failed: OpRecord) -> None:
        pending = {o.op_id for o in self.journal.ops() if o.state == "pending"}
        rest = [o.op_id for o in group if o.op_id in pending]
        why = referenced_reason((labels[failed.target],))
        self._settle(rest, "skipped", len(rest), reasons=(why,), outcome="referrer kept")

    def _batch_size(self) -> int:
        """As many versions as the current rate writes within the re-read's age bound (8/10 of it)."""
        rate = self.limiter.rate
        if rate is None:
            return BATCH_MAX
        return max(1, min(BATCH_MAX, int(rate * REVALIDATE_MAX_AGE * 0.8)))

    def _batches(self, todo: Sequence[OpRecord]) -> Iterator[list[OpRecord]]:
        start = 0
        while start < len(todo):
            size = self._batch_size()
            yield list(todo[start : start + size])
            start += size

    def _read_batch(self, batch: Sequence[OpRecord]) -> Reading | None:
        """One re-read for the batch (paced like a write); if it fails, the batch fails, unwritten."""
        self.limiter.acquire()
        try:
            return self.check.read(batch)
        except ArtifactGuardError as exc:
            self.breaker.record_failure(exc)
            self._settle([o.op_id for o in batch], "failed", len(batch), error=exc, outcome="re-read failed")
            return None

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

    def _settle(self, op_ids: Sequence[int], state: OpState, count: int, **kw: Any) -> None:
        self.journal.finish(op_ids, state, **kw)
        self.progress.advance(state, count)

    # ------------------------------------------------------------------ writes

    def _send(
        self,
        op: OpRecord,
        write: Callable[[], None],
        recheck: Callable[[], bool],
        reading: Reading | None = None,
    ) -> None:
        """Send one write, journaled in flight first; retried only where that is known to be safe.

        A 429 means W&B refused the call: wait and send it again. A timeout or
        a 5xx leaves the outcome unknown: the journal says so, and the write
        goes again only if ``recheck()`` (a fresh read of what it was judged on)
        says nothing changed; ``recheck`` settles the operation itself when it
        returns False. Other errors are raised. Any retry expires ``reading``
        (the batch read): the versions after this one are re-read on their own.
        """
        self.journal.start([op.op_id], write=True)
        attempt = 0
        while True:
            attempt += 1
            if attempt > 1:
                self.journal.count_call(op.op_id)
                self.limiter.acquire()
            try:
                with self.limiter.slot():
                    write()
                return
            except RateLimitedError as exc:
                if reading is not None:
                    reading.expire()
                self.limiter.on_rate_limited()
                if attempt >= self.retry.attempts:
                    raise
                pause = backoff_delay(self.retry, attempt, exc, self._rng)
                self.limiter.pause(pause)
                self._sleep(pause)
            except TransientError as exc:
                if reading is not None:
                    reading.expire()
                self.journal.note(op.op_id, _unknown(attempt, exc))
                if attempt >= self.retry.attempts:
                    raise
                self._sleep(backoff_delay(self.retry, attempt, exc, self._rng))
                if not recheck():
                    raise _Settled from None

    def _run_version(self, op: OpRecord, reading: Reading) -> None:
        if self.breaker.open:
            return
        self.limiter.acquire()  # before judging, so the write follows the check at once
        if self.breaker.open:
            return
        try:
            verdict = self.check.verdict(op, reading)
        except ArtifactGuardError as exc:
            self.breaker.record_failure(exc)
            self._settle([op.op_id], "failed", 1, error=exc, outcome="re-read failed")
            return
        if self._settled_by(op, verdict) or self.breaker.open:
            return
        self._write_version(op, verdict, reading)

    def _write_version(self, op: OpRecord, verdict: Verdict, reading: Reading | None) -> bool:
        """Delete one judged version and record the outcome; whether it is now gone."""

        def recheck() -> bool:
            nonlocal verdict
            verdict = self.check.verdict(op)
            return not self._settled_by(op, verdict)

        try:
            self._send(
                op,
                lambda: self.repo.delete_version(op.target, delete_aliases=verdict.delete_aliases),
                recheck,
                reading,
            )
        except _Settled:
            return any(o.op_id == op.op_id and o.state == "done" for o in self.journal.ops())
        except NotFoundError:
            # Gone between the re-read and the call, or an earlier attempt went through.
            self._settle([op.op_id], "done", 1, outcome="already-deleted")
            return True
        except AliasedVersionError as exc:
            before = tuple(op.planned.get("aliases", ()))
            after = ("(W&B refused: the version holds aliases)",)
            self._settle(
                [op.op_id],
                "skipped",
                1,
                reasons=(_reason("aliases-changed", before=before, after=after),),
                outcome=f"server refused: {exc}",
            )
            return False
        except ArtifactGuardError as exc:
            self.breaker.record_failure(exc)
            self._settle([op.op_id], "failed", 1, error=exc)
            return False
        self.limiter.on_success()
        self.breaker.record_success()
        self._settle([op.op_id], "done", 1, outcome="deleted")
        return True

    def _settled_by(self, op: OpRecord, verdict: Verdict) -> bool:
        """Settle an operation a verdict rules out (gone, or blocked); whether it did."""
        if verdict.gone:
            self._settle([op.op_id], "done", 1, outcome="already-deleted")
            return True
        if verdict.reasons:
            self._settle([op.op_id], "skipped", 1, reasons=verdict.reasons, outcome="changed since planning")
            return True
        return False

    # ------------------------------------------------------------------ one collection

    def _run_collection(self, op: OpRecord, children: Sequence[OpRecord]) -> None:
        if self.breaker.open:
            return
        self.limiter.acquire()
        if self.breaker.open:
            return
        try:
            blockers, alive = self.check.coarse_blockers(op, children)
        except ArtifactGuardError as exc:
            self.breaker.record_failure(exc)
            self.journal.finish([op.op_id], "failed", error=exc, outcome="re-check failed")
            return
        if not blockers and not alive:
            self._settle_emptied(op, children, alive)
            return
        if blockers:
            self.journal.finish([op.op_id], "skipped", reasons=blockers, outcome="fell back to per-version")
            return
        if self.breaker.open:
            return
        ref = CollectionRef.parse(op.collection)

        def recheck() -> bool:
            # The first call may have deleted the collection, and a version may have been logged
            # since: never send it again unless the collection is exactly as it was judged.
            again, now_alive = self.check.coarse_blockers(op, children, fresh=True)
            if not now_alive:
                self._settle_emptied(op, children, alive)
                return False
            if again or now_alive != alive:
                why = again or (_reason("collection-changed", new=tuple(sorted(now_alive - alive))),)
                self.journal.finish([op.op_id], "skipped", reasons=why, outcome="fell back to per-version")
                return False
            return True

        try:
            self._send(op, lambda: self.repo.delete_collection(ref), recheck)
        except _Settled:
            return
        except NotFoundError:
            self._settle_emptied(op, children, alive)
        except ArtifactGuardError as exc:
            # The members fall back to per-version deletes, each re-validated.
            self.breaker.record_failure(exc)
            self.journal.finish([op.op_id], "failed", error=exc)
        else:
            self.limiter.on_success()
            self.breaker.record_success()
            pending = [c.op_id for c in children if c.state == "pending" and c.target in alive]
            gone = [c.op_id for c in children if c.state == "pending" and c.target not in alive]
            self._settle(gone, "done", len(gone), outcome="already-deleted")
            self._settle(pending, "done", len(pending), outcome="via-collection")
            self.journal.finish([op.op_id], "done", outcome="collection-deleted")

    def _settle_emptied(self, op: OpRecord, children: Sequence[OpRecord], alive: frozenset[str]) -> None:
        """The collection holds nothing now: its pending members are gone."""
        gone = [c.op_id for c in children if c.state == "pending"]
        self._settle(gone, "done", len(gone), outcome="already-deleted")
        self.journal.finish([op.op_id], "done", outcome="already-empty")


class _Settled(Exception):  # noqa: N818 - control flow, not an error
    """A re-check after an unknown outcome settled the operation; nothing more to send."""


# ---------------------------------------------------------------------- public API

Rate = float | None | Literal["auto"]


def _make_limiter(
    rate: Rate,
    repository: ArtifactRepository,
    *,
    max_rate: float | None,
    resume_from: object,
    concurrency: int,
    sleep: Callable[[float], None],
) -> RateLimiter:
    """The pacing of one run: a fixed rate, none, or adaptive (``"auto"``) from where the journal left off."""
    ceiling = AUTO_CEILING if max_rate is None else check_ceiling(max_rate)
    if rate == "auto":
        hinted = getattr(repository, "default_rate", DEFAULT_RATE)
        if hinted is None:
            return RateLimiter(None, sleep=sleep)  # in memory: nothing to protect from load
        start = float(hinted)
        if isinstance(resume_from, int | float) and not isinstance(resume_from, bool) and resume_from > 0:
            start = float(resume_from)
        return AdaptivePacer(min(start, ceiling), ceiling=ceiling, max_concurrency=concurrency, sleep=sleep)
    if rate is not None and (
        isinstance(rate, bool) or not isinstance(rate, int | float) or not math.isfinite(rate) or rate <= 0
    ):
        raise ValueError(f"rate must be > 0 operations per second, None or 'auto'; got {rate!r}")
    return RateLimiter(rate if rate is None else min(rate, ceiling), sleep=sleep)


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


def _check_clock(plan_created_at: datetime, clock: Callable[[], datetime], plan_id: str) -> None:
    """Refuse a plan dated later than the clock its writes are judged by (it would shorten every age)."""
    now = clock()
    if plan_created_at > now:
        raise PlanError(
            f"plan {plan_id[:12]} is dated {plan_created_at.isoformat()}, later than the repository's "
            f"clock ({now.isoformat()}); ages would be misjudged, so it is refused: make the plan again"
        )


def _execute(
    repository: ArtifactRepository,
    journal: PlanJournal,
    *,
    rate: Rate,
    max_rate: float | None,
    concurrency: int,
    progress: bool | ProgressReporter | None,
    clock: Callable[[], datetime],
    retry: RetryPolicy | None,
    breaker_threshold: int,
    sleep: Callable[[float], None],
) -> None:
    header = journal.header()
    limiter = _make_limiter(
        rate,
        repository,
        max_rate=max_rate,
        resume_from=header.options.get("rate"),
        concurrency=concurrency,
        sleep=sleep,
    )
    breaker = CircuitBreaker(breaker_threshold)
    executor = _Executor(
        repository,
        journal,
        limiter=limiter,
        retry=retry or RetryPolicy(),
        breaker=breaker,
        concurrency=concurrency,
        progress=make_progress(progress),
        clock=clock,
        sleep=sleep,
    )
    try:
        executor.run()
    except KeyboardInterrupt:
        journal.set_status("stopped", "interrupted by the user")
        raise
    except BaseException as exc:
        journal.set_status("stopped", f"stopped by {type(exc).__name__}: {exc}")
        raise
    finally:
        if isinstance(limiter, AdaptivePacer) and limiter.rate is not None:
            journal.set_option("rate", round(limiter.rate, 3))  # resume starts where this run ended
    left = [o for o in journal.ops() if o.state in ("pending", "in-flight")]
    if breaker.reason is not None:
        journal.set_status("stopped", breaker.reason)
    elif left:
        journal.set_status("stopped", f"{len(left)} operation(s) did not run")
    else:
        journal.set_status("finished")


def _check_options(concurrency: int, max_rate: float | None) -> None:
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be an integer >= 1, got {concurrency!r}")
    if max_rate is not None:
        check_ceiling(max_rate)


def _refuse_read_only(repository: ArtifactRepository) -> None:
    if isinstance(repository, ReadOnlyRepository):
        raise ReadOnlyViolation("apply needs a writable repository; it was given a read-only one")


def apply(
    plan: Plan,
    repository: ArtifactRepository,
    *,
    journal: str | Path | None = None,
    rate: Rate = "auto",
    max_rate: float | None = None,
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
    - ``rate``: ``"auto"`` (default) paces adaptively: it starts at the
      repository's ``default_rate`` (W&B: :data:`DEFAULT_RATE`, 10/s, W&B's
      ``sleep(0.1)``; in-memory fakes: no limit), or at the rate recorded in
      the journal by the previous run of this plan, climbs while writes
      succeed at steady latency and backs off on 429s and on rising latency
      (see :class:`~artifact_guard._pacing.AdaptivePacer`). A number: that
      fixed rate (halved on 429s); ``None``: no limit.
    - ``max_rate``: the ceiling the rate never exceeds (default
      :data:`~artifact_guard._pacing.AUTO_CEILING`); 0, negative, NaN or
      infinite: :class:`ValueError`.
    - ``concurrency``: at most this many worker threads; with ``rate="auto"``
      the calls in flight follow the rate times the latency, up to it.
    - ``progress``: None (bar on a terminal only), True (bar, or plain lines
      off a terminal), False, or a :class:`ProgressReporter`.
    - ``coarse``: delete whole collections in one call where that is safe.
    - ``removed_runs``: run paths being deleted too (as given to ``plan``):
      their consumption does not block.
    - ``now``: the clock of the age rules (default: the repository's own
      clock, ``repository.now()``: the wall clock in UTC for W&B, the fake's
      clock for fakes; a plan's own time is never used).
    - ``retry``, ``breaker_threshold``, ``sleep``: pacing knobs (tests use ``sleep``).

    Raises :class:`PlanError` when the plan is dated later than that clock
    (its ages would be misjudged), :class:`NotFoundError` (the project is
    gone) or :class:`AuthenticationError` before anything is written,
    :class:`ReadOnlyViolation` for a read-only repository, and
    :class:`ValueError` for a bad ``rate``, ``max_rate`` or ``concurrency``.
    """
    _refuse_read_only(repository)
    if not plan.id:
        raise PlanError("the plan has no id; make plans with artifact_guard.plan()")
    _check_options(concurrency, max_rate)
    clock = (lambda: now) if now is not None else repository_clock(repository)
    _check_clock(plan.created_at, clock, plan.id)
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
            j.bind(plan.id),
            rate=rate,
            max_rate=max_rate,
            concurrency=concurrency,
            progress=progress,
            clock=clock,
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
    max_rate: float | None = None,
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
        _check_options(concurrency, max_rate)
        clock = (lambda: now) if now is not None else repository_clock(repository)
        _check_clock(header.plan_created_at, clock, pid)
        retry_policy = retry or RetryPolicy()
        _preflight(repository, Scope.parse(header.scope), retry_policy)
        j.reopen(pid, retry_failed=retry_failed)
        _execute(
            repository,
            j.bind(pid),
            rate=rate,
            max_rate=max_rate,
            concurrency=concurrency,
            progress=progress,
            clock=clock,
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
