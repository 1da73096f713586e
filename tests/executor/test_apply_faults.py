"""Faults during apply: lost replies, retries after an ambiguous failure, clocks.

A write whose reply is lost (timeout, 502) may or may not have happened. It
is never sent again blindly: the executor first re-establishes the state it
was judged on, and the journal says the first attempt's outcome was unknown.
Ages are judged by the repository's own clock, and a plan dated later than
that clock is refused.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import artifact_guard as ag
from artifact_guard import CollectionRef, Policy, TransientError, VersionState
from fakes import FakeWandb

from ._support import NOW, PROJECT, FaultyRepository, seed

EMPTYING = Policy(allow_empty=True, allow_empty_collection=True, allow_delete_aliases=True)


class LostReply(FaultyRepository):
    """The first ``delete_collection`` goes through on the server, then ``meanwhile`` runs and the reply is lost."""

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
        Policy(allow_empty=True, allow_empty_collection=True, allow_delete_aliases=True, grace_period=timedelta(0)),
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
