"""Faults during apply: lost replies, retries after an ambiguous failure, clocks.

A write whose reply is lost (timeout, 502) may or may not have happened. It
is never sent again blindly: the executor first re-establishes the state it
was judged on, and the journal says the first attempt's outcome was unknown.
Ages are judged by the repository's own clock, and a plan dated later than
that clock is refused.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import artifact_guard as ag
from artifact_guard import CollectionRef, Policy, TransientError, VersionState
from artifact_guard._pacing import RetryPolicy
from artifact_guard._rules import Facts, evaluate
from fakes import FakeWandb

from ._support import NOW, PROJECT, FaultyRepository, seed

EMPTYING = Policy(allow_empty=True, allow_empty_collection=True, allow_delete_aliases=True)


class LostReply(FaultyRepository):
    """The first ``delete_collection`` reaches W&B (if ``happens``), ``meanwhile`` runs, its reply is lost."""

    def __init__(self, fake: FakeWandb, meanwhile: object = None, *, happens: bool = True) -> None:
        super().__init__(fake.repository())
        self.fake = fake
        self.meanwhile = meanwhile
        self.happens = happens
        self.lost = 0

    def delete_collection(self, collection: CollectionRef) -> None:
        self.calls[("delete_collection", str(collection))] += 1
        if self.lost == 0:
            self.lost += 1
            if self.happens:
                self.inner.delete_collection(collection)
            if callable(self.meanwhile):
                self.meanwhile()
            raise TransientError("W&B did not respond in time (502)")
        self.inner.delete_collection(collection)
        self.writes.append(("delete_collection", str(collection)))


def test_a_version_logged_after_a_lost_collection_delete_survives_the_retry() -> None:
    fake = seed(collections={"ckpt": 4})
    plan = ag.plan(fake.repository(), PROJECT, EMPTYING, now=NOW)
    newcomer: list[ag.Version] = []
    repo = LostReply(
        fake,
        lambda: newcomer.append(fake.log_artifact(f"{PROJECT}/trainer", "ckpt", "model", {"n.bin": b"new"})),
    )

    result = ag.apply(plan, repo, sleep=lambda s: None)

    assert fake.version(newcomer[0].id).state is VersionState.COMMITTED
    assert [v.id for v in fake.versions(scope=PROJECT)] == [newcomer[0].id]
    assert sorted(result.done) == sorted(d.version.id for d in plan.deletions)
    assert repo.calls[("delete_collection", f"{PROJECT}/ckpt")] == 1, "never sent again once it changed"
    coll = next(o for o in result.operations if o.kind == "delete_collection")
    assert any("outcome unknown" in n for n in coll.notes), coll.notes


def test_a_lost_collection_delete_that_did_not_happen_falls_back_when_the_collection_changed() -> None:
    fake = seed(collections={"ckpt": 4})
    plan = ag.plan(fake.repository(), PROJECT, EMPTYING, now=NOW)
    newcomer: list[ag.Version] = []
    repo = LostReply(
        fake,
        lambda: newcomer.append(fake.log_artifact(f"{PROJECT}/trainer", "ckpt", "model", {"n.bin": b"new"})),
        happens=False,
    )

    result = ag.apply(plan, repo, sleep=lambda s: None)

    assert [v.id for v in fake.versions(scope=PROJECT)] == [newcomer[0].id]
    assert sorted(result.done) == sorted(d.version.id for d in plan.deletions)
    assert [m for m, _ in repo.writes] == ["delete_version"] * 4


def test_a_lost_collection_delete_on_an_unchanged_collection_is_sent_again() -> None:
    fake = seed(collections={"ckpt": 4})
    plan = ag.plan(fake.repository(), PROJECT, EMPTYING, now=NOW)
    repo = LostReply(fake, happens=False)

    result = ag.apply(plan, repo, sleep=lambda s: None)

    assert result.ok and fake.versions(scope=PROJECT) == []
    assert result.collections_deleted == [f"{PROJECT}/ckpt"]
    coll = next(o for o in result.operations if o.kind == "delete_collection")
    assert any("outcome unknown" in n for n in coll.notes)


def test_a_lost_version_delete_is_re_validated_before_it_is_sent_again() -> None:
    fake = seed(collections={"ckpt": 3})
    plan = ag.plan(fake.repository(), PROJECT, Policy(keep_last=1, allow_delete_aliases=True), now=NOW)
    victim = plan.deletions[0].version
    state = {"lost": False}

    def lose(arg: str, n: int) -> BaseException | None:
        if arg == victim.id and not state["lost"]:
            state["lost"] = True
            # The delete never reached W&B; meanwhile someone tags the version.
            fake.add_aliases(victim.id, ["just-promoted"])
            return TransientError("connection reset")
        return None

    repo = FaultyRepository(fake.repository(), {"delete_version": lose})

    result = ag.apply(plan, repo, sleep=lambda s: None, coarse=False)

    assert fake.version(victim.id).state is VersionState.COMMITTED
    assert "just-promoted" in fake.version(victim.id).aliases
    op = next(o for o in result.operations if o.target == victim.id)
    assert op.state == "skipped" and any("outcome unknown" in n for n in op.notes)


# ---------------------------------------------------------------------- clocks


def test_a_plan_dated_later_than_the_repository_clock_is_refused() -> None:
    fake = seed(collections={"ckpt": 4}, age=timedelta(minutes=30))
    future = ag.plan(fake.repository(), PROJECT, Policy(keep_last=1), now=fake.now() + timedelta(days=3))
    assert future.deletions, "the future-dated plan thinks the 30-minute-old versions are old"

    with pytest.raises(ag.PlanError, match="later than") as info:
        ag.apply(future, fake.repository())

    assert "\n" not in str(info.value)
    assert len(fake.versions(scope=PROJECT)) == 4


def test_ages_are_judged_by_the_repository_clock_not_the_wall_clock() -> None:
    # The fake's clock says the versions are 2 hours old; the wall clock says years.
    then = datetime(2020, 1, 1, tzinfo=UTC)
    fake = seed(FakeWandb(now=then), collections={"ckpt": 3}, age=timedelta(hours=2))
    plan = ag.plan(
        fake.repository(),
        PROJECT,
        Policy(
            allow_empty=True,
            allow_empty_collection=True,
            allow_delete_aliases=True,
            grace_period=timedelta(0),
        ),
        now=fake.now(),
    )
    repo = FaultyRepository(fake.repository())

    result = ag.apply(plan, repo)

    assert result.ok
    # A collection whose newest version is younger than a day (by the fake's clock) is not deleted whole.
    assert result.collections_deleted == []
    assert [m for m, _ in repo.writes] == ["delete_version"] * 3


def test_a_repository_clock_earlier_than_the_plan_is_refused_on_resume(tmp_path: object) -> None:
    fake = seed(collections={"ckpt": 3})
    plan = ag.plan(fake.repository(), PROJECT, Policy(keep_last=1), now=NOW)
    path = f"{tmp_path}/ws.sqlite3"
    stopper = FaultyRepository(
        fake.repository(), {"delete_version": lambda a, n: ag.AuthenticationError("key revoked")}
    )
    first = ag.apply(plan, stopper, journal=path, breaker_threshold=1, concurrency=1)
    assert not first.complete

    earlier = seed(FakeWandb(now=NOW - timedelta(days=1)), collections={"ckpt": 3})
    with pytest.raises(ag.PlanError, match="later than"):
        ag.resume(path, earlier.repository())


# ---------------------------------------------------------------------- the sixth invariant

FAULTS = st.lists(st.sampled_from(["ok", "lost", "transient", "429"]), max_size=12)
EVENTS = st.lists(
    st.tuples(st.sampled_from(["log", "alias", "consume", "link"]), st.integers(0, 30)), max_size=4
)
FAULT_POLICIES = st.builds(
    Policy,
    keep_last=st.sampled_from([None, 0, 1, 2]),
    allow_delete_aliases=st.booleans(),
    allow_empty_collection=st.booleans(),
    allow_empty=st.just(True),
)


def _concurrent_change(fake: FakeWandb, kind: str, n: int) -> None:
    """What another writer does: log a version, tag one, consume one, link one."""
    live = fake.versions(scope=PROJECT)
    if not live:
        return
    v = live[n % len(live)]
    if kind == "log" and v.producer is not None:
        fake.log_artifact(v.producer, v.collection, "model", {"n.bin": f"late{n}-{len(live)}".encode()})
    elif kind == "alias":
        fake.add_aliases(v, [f"late{n}"])
    elif kind == "consume":
        fake.use_artifact(fake.create_run(PROJECT, f"reader{n}-{len(fake.runs())}"), v)
    elif kind == "link":
        with contextlib.suppress(ag.ConflictError):
            fake.link(v, f"team/wandb-registry-model/late{n}")


class Chaos(FaultyRepository):
    """A FakeRepository with faults on its writes and another writer acting while replies are lost.

    Every write that reaches the fake is checked against the state at that moment:
    ``violations`` lists any deletion of a version outside the plan, or of one
    the rules block then.
    """

    def __init__(
        self,
        fake: FakeWandb,
        plan: ag.Plan,
        faults: list[str],
        events: list[tuple[str, int]],
    ) -> None:
        super().__init__(fake.repository())
        self.fake = fake
        self.planned = {d.version.id: d.version for d in plan.deletions}
        self.policy = plan.policy
        self.faults = list(faults)
        self.events = list(events)
        self.violations: list[str] = []
        self.ambiguous = 0
        """Writes whose reply the executor never got (lost or 5xx)."""

    def _fault(self) -> str:
        return self.faults.pop(0) if self.faults else "ok"

    def _meanwhile(self) -> None:
        if self.events:
            _concurrent_change(self.fake, *self.events.pop(0))

    def _check(self, vid: str) -> None:
        v = self.fake.version(vid)
        if v.state is VersionState.DELETED:
            return
        if vid not in self.planned:
            self.violations.append(f"{v.name} deleted but not in the plan")
            return
        blocks = evaluate(
            Facts(v, self.fake.lineage(vid), self.fake.links(vid), self.fake.now()), self.policy
        )
        if blocks:
            self.violations.append(f"{v.name} deleted though {[r.rule for r in blocks]} block it now")
        if v.aliases and v.aliases != self.planned[vid].aliases:
            self.violations.append(
                f"{v.name} deleted with aliases {sorted(v.aliases)} it was not planned with"
            )

    def _write(self, check: list[str], call: Callable[[], None]) -> None:
        fault = self._fault()
        if fault == "429":
            raise ag.RateLimitedError("429 Too Many Requests", retry_after=0.0)
        if fault == "transient":
            self.ambiguous += 1
            self._meanwhile()
            raise TransientError("503 Service Unavailable")
        for vid in check:
            self._check(vid)
        call()
        if fault == "lost":
            self.ambiguous += 1
            self._meanwhile()
            raise TransientError("W&B did not respond in time (reply lost)")

    def delete_version(self, version_id: str, *, delete_aliases: bool = False) -> None:
        self.calls[("delete_version", version_id)] += 1
        self._write(
            [version_id], lambda: self.inner.delete_version(version_id, delete_aliases=delete_aliases)
        )

    def delete_collection(self, collection: CollectionRef) -> None:
        self.calls[("delete_collection", str(collection))] += 1
        members = [v.id for v in self.fake.versions(scope=PROJECT) if v.collection == collection.name]
        self._write(members, lambda: self.inner.delete_collection(collection))


def _fault_project(sizes: list[int]) -> FakeWandb:
    fake = FakeWandb(now=NOW)
    for c, size in enumerate(sizes):
        run = fake.create_run(PROJECT, f"r{c}")
        for i in range(size):
            fake.log_artifact(
                run,
                f"coll-{c}",
                "model",
                {"f.bin": f"{c}-{i}".encode()},
                aliases=["tag"] if (c + i) % 4 == 1 else [],
                created_at=NOW - timedelta(days=40 - i),
            )
    return fake


@given(
    sizes=st.lists(st.integers(1, 5), min_size=1, max_size=3),
    policy=FAULT_POLICIES,
    before=EVENTS,
    faults=FAULTS,
    during=EVENTS,
)
def test_nothing_outside_the_plan_is_deleted_whatever_faults_occur(
    sizes: list[int],
    policy: Policy,
    before: list[tuple[str, int]],
    faults: list[str],
    during: list[tuple[str, int]],
) -> None:
    fake = _fault_project(sizes)
    plan = ag.plan(fake.repository(), PROJECT, policy, now=NOW)
    for kind, n in before:  # another writer, between plan and apply
        _concurrent_change(fake, kind, n)
    existing = {v.id for v in fake.versions(include_deleted=True) if v.state is not VersionState.DELETED}
    repo = Chaos(fake, plan, faults, during)

    result = ag.apply(plan, repo, concurrency=1, sleep=lambda s: None, retry=RetryPolicy(attempts=4))

    assert repo.violations == []
    deleted = {v.id for v in fake.versions(include_deleted=True) if v.state is VersionState.DELETED}
    assert deleted & existing <= set(repo.planned)
    assert not (deleted - existing), "a version logged during apply was deleted"
    assert result.pending == [] or result.stopped
    # Every write whose outcome the executor could not know is on the journal's record.
    assert sum(n.count("outcome unknown") for o in result.operations for n in o.notes) == repo.ambiguous


def test_the_sixth_invariant_catches_an_executor_that_retries_blindly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Planted bug: resend a write after an unknown outcome without re-checking anything."""
    from artifact_guard import _executor
    from artifact_guard._pacing import call_with_retries

    def blind_send(self: Any, op: Any, write: Callable[[], None], recheck: Any, reading: Any = None) -> None:
        self.journal.start([op.op_id], write=True)
        call_with_retries(write, policy=self.retry, sleep=self._sleep)

    monkeypatch.setattr(_executor._Executor, "_send", blind_send)
    # Hypothesis may find several distinct failures and raise them together (an ExceptionGroup).
    with pytest.raises((AssertionError, ExceptionGroup)) as caught:
        test_nothing_outside_the_plan_is_deleted_whatever_faults_occur()
    if isinstance(caught.value, ExceptionGroup):
        assert caught.value.subgroup(AssertionError) is not None
