"""Time of check, time of use: what changed between plan and apply is skipped with its reason."""

from __future__ import annotations

from datetime import timedelta

import pytest

import artifact_guard as ag
from artifact_guard import Policy, VersionState

from ._support import NOW, PROJECT, FaultyRepository, seed, version_of


def _plan(fake: object, **policy: object) -> ag.Plan:
    return ag.plan(fake.repository(), PROJECT, Policy(**policy), now=NOW)  # type: ignore[attr-defined, arg-type]


def _skipped_rules(result: ag.ApplyResult) -> dict[str, set[str]]:
    return {vid: {r.rule for r in reasons} for vid, reasons in result.skipped}


def test_unchanged_plan_deletes_exactly_the_planned_versions() -> None:
    fake = seed()
    plan = _plan(fake, keep_last=2)
    repo = fake.repository()

    result = ag.apply(plan, repo)

    assert result.ok and result.complete
    assert sorted(result.done) == sorted(d.version.id for d in plan.deletions)
    assert sorted(vid for _, vid in repo.write_calls) == sorted(result.done)
    assert result.skipped == [] and result.already_deleted == []
    assert result.journal_path is None  # temporary journal removed once everything settled


def test_alias_added_after_planning_is_skipped() -> None:
    fake = seed()
    plan = _plan(fake, keep_last=2)
    target = version_of(fake, "ckpt", 1)
    fake.add_aliases(target, ["keep-me"])

    result = ag.apply(plan, fake.repository())

    assert _skipped_rules(result) == {target.id: {"has-aliases"}}
    assert fake.version(target.id).state is VersionState.COMMITTED
    assert len(result.done) == len(plan.deletions) - 1
    assert "holds aliases keep-me" in result.summary()


def test_alias_change_blocks_even_when_the_policy_allows_deleting_aliases() -> None:
    fake = seed()
    fake.add_aliases(version_of(fake, "ckpt", 1), ["old-tag"])
    plan = _plan(fake, keep_last=2, allow_delete_aliases=True)
    tagged = version_of(fake, "ckpt", 1)
    assert tagged.id in {d.version.id for d in plan.deletions}
    fake.add_aliases(tagged, ["new-tag"])

    result = ag.apply(plan, fake.repository())

    assert _skipped_rules(result) == {tagged.id: {"aliases-changed"}}
    assert fake.version(tagged.id).aliases == {"old-tag", "new-tag"}


def test_unchanged_aliases_are_deleted_with_the_version_when_the_policy_allows() -> None:
    fake = seed()
    fake.add_aliases(version_of(fake, "ckpt", 1), ["old-tag"])
    plan = _plan(fake, keep_last=2, allow_delete_aliases=True)

    result = ag.apply(plan, fake.repository())

    assert result.ok and result.skipped == []
    assert {v.index for v in fake.versions(scope=PROJECT)} == {4, 5}


def test_new_consumer_after_planning_is_skipped() -> None:
    fake = seed()
    plan = _plan(fake, keep_last=2)
    target = version_of(fake, "ckpt", 0)
    reader = fake.create_run(PROJECT, "eval")
    fake.use_artifact(reader, target)

    result = ag.apply(plan, fake.repository())

    assert _skipped_rules(result) == {target.id: {"consumed"}}
    assert fake.version(target.id).state is VersionState.COMMITTED


def test_consumer_being_removed_does_not_block() -> None:
    fake = seed()
    plan = _plan(fake, keep_last=2)
    target = version_of(fake, "ckpt", 0)
    reader = fake.create_run(PROJECT, "eval")
    fake.use_artifact(reader, target)

    result = ag.apply(plan, fake.repository(), removed_runs=[reader.path])

    assert result.skipped == []
    assert fake.version(target.id).state is VersionState.DELETED


def test_version_already_deleted_counts_as_done_without_a_call() -> None:
    fake = seed()
    plan = _plan(fake, keep_last=2)
    gone = version_of(fake, "ckpt", 2)
    fake.delete_version(gone.id)
    repo = fake.repository()

    result = ag.apply(plan, repo)

    assert result.ok
    assert result.already_deleted == [gone.id]
    assert gone.id in result.done
    assert ("delete_version", gone.id) not in repo.write_calls


def test_registry_link_after_planning_is_skipped() -> None:
    fake = seed()
    plan = _plan(fake, keep_last=2)
    target = version_of(fake, "ckpt", 3)
    fake.link(target, "team/wandb-registry-model/ckpt", aliases=["candidate"])

    result = ag.apply(plan, fake.repository())

    assert _skipped_rules(result) == {target.id: {"registry-linked"}}


def test_producer_running_again_is_in_flight() -> None:
    fake = seed()
    plan = _plan(fake, keep_last=2)
    fake.finish_run(f"{PROJECT}/trainer", state="running")

    result = ag.apply(plan, fake.repository())

    assert result.done == []
    assert all(rules == {"in-flight"} for rules in _skipped_rules(result).values())
    assert len(result.skipped) == len(plan.deletions)


def test_last_survivor_deleted_elsewhere_blocks_emptying_the_collection() -> None:
    fake = seed()
    plan = _plan(fake, keep_last=1)
    kept = version_of(fake, "ckpt", 5)
    fake.delete_version(kept.id, delete_aliases=True)

    result = ag.apply(plan, fake.repository())

    assert result.done == []
    assert {rules for rules in map(frozenset, _skipped_rules(result).values())} == {
        frozenset({"last-version"})
    }
    assert len(fake.versions(scope=PROJECT)) == 5


def test_a_version_logged_since_planning_is_a_survivor() -> None:
    fake = seed()
    plan = _plan(fake, keep_last=1)
    fake.delete_version(version_of(fake, "ckpt", 5).id, delete_aliases=True)
    fake.log_artifact(f"{PROJECT}/trainer", "ckpt", "model", {"new.bin": b"new"})

    result = ag.apply(plan, fake.repository())

    assert result.ok and result.skipped == []
    assert [v.index for v in fake.versions(scope=PROJECT)] == [6]


def test_a_clock_earlier_than_the_plan_is_refused_not_silently_replaced() -> None:
    fake = seed(age=timedelta(hours=30))
    plan = ag.plan(fake.repository(), PROJECT, Policy(keep_last=2), now=NOW)
    assert plan.deletions

    with pytest.raises(ag.PlanError, match="later than"):
        ag.apply(plan, fake.repository(), now=NOW - timedelta(hours=10))
    assert len(fake.versions(scope=PROJECT)) == 6


def test_read_only_repository_is_refused_before_anything() -> None:
    fake = seed()
    plan = _plan(fake, keep_last=2)
    with pytest.raises(ag.ReadOnlyViolation):
        ag.apply(plan, ag.ReadOnlyRepository(fake.repository()))
    assert len(fake.versions(scope=PROJECT)) == 6


def test_a_version_deleted_while_being_re_read_counts_as_done_without_a_call() -> None:
    fake = seed()
    plan = _plan(fake, keep_last=2)
    target = version_of(fake, "ckpt", 0)

    def vanish(arg: str, n: int) -> BaseException | None:
        if arg != target.id:
            return None
        fake.delete_version(arg)
        return ag.NotFoundError(f"artifact version {arg} was deleted")

    repo = FaultyRepository(fake.repository(), {"lineage": vanish})
    result = ag.apply(plan, repo)

    assert result.ok and result.already_deleted == [target.id]
    assert ("delete_version", target.id) not in repo.writes


def test_a_lineage_read_failing_for_a_live_version_fails_that_operation_only() -> None:
    fake = seed()
    plan = _plan(fake, keep_last=2)
    target = version_of(fake, "ckpt", 0)
    repo = FaultyRepository(
        fake.repository(), {"lineage": lambda a, n: ag.NotFoundError("run gone") if a == target.id else None}
    )

    result = ag.apply(plan, repo)

    assert [vid for vid, _ in result.failed] == [target.id]
    assert "NotFoundError: run gone" in result.failed[0][1]
    assert fake.version(target.id).state is VersionState.COMMITTED
    assert len(result.done) == len(plan.deletions) - 1


def test_an_alias_arriving_between_re_read_and_delete_is_refused_by_w_and_b_and_skipped() -> None:
    fake = seed()
    plan = _plan(fake, keep_last=2)
    target = version_of(fake, "ckpt", 0)

    def late_alias(arg: str, n: int) -> BaseException | None:
        if arg == target.id:
            fake.add_aliases(arg, ["late"])  # the fake then refuses: it has aliases, delete_aliases=False
        return None

    repo = FaultyRepository(fake.repository(), {"delete_version": late_alias})
    result = ag.apply(plan, repo)

    assert _skipped_rules(result) == {target.id: {"aliases-changed"}}
    assert fake.version(target.id).state is VersionState.COMMITTED
    assert result.ok
