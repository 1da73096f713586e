"""Coarse scopes: one delete_collection call instead of N, only when that is safe at apply time."""

from __future__ import annotations

from datetime import timedelta

import artifact_guard as ag
from artifact_guard import Policy, VersionState

from ._support import NOW, PROJECT, FaultyRepository, seed, version_of

EMPTYING = Policy(allow_empty=True, allow_empty_collection=True, allow_delete_aliases=True)


def _plan(fake: object, policy: Policy = EMPTYING) -> ag.Plan:
    return ag.plan(fake.repository(), PROJECT, policy, now=NOW)  # type: ignore[attr-defined]


def test_emptying_collections_uses_one_call_each_and_reports_calls_saved() -> None:
    fake = seed(collections={"ckpt": 20, "data": 5})
    plan = _plan(fake)
    repo = FaultyRepository(fake.repository())

    result = ag.apply(plan, repo)

    assert result.ok
    assert repo.writes == [
        ("delete_collection", f"{PROJECT}/ckpt"),
        ("delete_collection", f"{PROJECT}/data"),
    ] or sorted(repo.writes) == sorted(
        [("delete_collection", f"{PROJECT}/ckpt"), ("delete_collection", f"{PROJECT}/data")]
    )
    assert sorted(result.collections_deleted) == [f"{PROJECT}/ckpt", f"{PROJECT}/data"]
    assert result.write_calls == 2
    assert result.calls_saved == 25 - 2
    # The collection checks and the reference check (versions logged since the plan) share one
    # listing of the project: a repository that can only list the whole project is asked once,
    # plus the preflight's probe (its first item only).
    assert sum(n for (method, _), n in repo.calls.items() if method == "versions") == 2
    assert sorted(result.done) == sorted(d.version.id for d in plan.deletions)
    assert fake.versions(scope=PROJECT) == []


def test_coarse_off_deletes_one_version_at_a_time() -> None:
    fake = seed(collections={"ckpt": 4})
    repo = FaultyRepository(fake.repository())

    result = ag.apply(_plan(fake), repo, coarse=False)

    assert result.ok and result.calls_saved == 0
    assert [m for m, _ in repo.writes] == ["delete_version"] * 4


def test_a_version_logged_since_planning_makes_it_fall_back_and_survives() -> None:
    fake = seed(collections={"ckpt": 4})
    plan = _plan(fake)
    newcomer = fake.log_artifact(f"{PROJECT}/trainer", "ckpt", "model", {"n.bin": b"n"})
    repo = FaultyRepository(fake.repository())

    result = ag.apply(plan, repo)

    assert result.ok and result.collections_deleted == []
    assert [m for m, _ in repo.writes] == ["delete_version"] * 4
    assert [v.id for v in fake.versions(scope=PROJECT)] == [newcomer.id]
    coll_op = next(o for o in result.operations if o.kind == "delete_collection")
    assert coll_op.state == "skipped" and coll_op.reasons[0].rule == "collection-changed"


def test_a_fresh_collection_is_not_deleted_whole() -> None:
    fake = seed(collections={"ckpt": 3}, age=timedelta(hours=2))
    plan = _plan(
        fake,
        Policy(
            allow_empty=True,
            allow_empty_collection=True,
            allow_delete_aliases=True,
            grace_period=timedelta(0),
        ),
    )
    repo = FaultyRepository(fake.repository())

    result = ag.apply(plan, repo)

    assert result.ok and result.collections_deleted == []
    assert [m for m, _ in repo.writes] == ["delete_version"] * 3
    coll_op = next(o for o in result.operations if o.kind == "delete_collection")
    assert coll_op.reasons[0].rule == "collection-fresh"


def test_a_member_consumed_since_planning_falls_back_and_only_it_survives() -> None:
    fake = seed(collections={"ckpt": 5})
    plan = _plan(fake)
    used = version_of(fake, "ckpt", 2)
    fake.use_artifact(fake.create_run(PROJECT, "eval"), used)

    result = ag.apply(plan, fake.repository())

    assert result.collections_deleted == []
    assert [vid for vid, _ in result.skipped] == [used.id]
    assert [v.id for v in fake.versions(scope=PROJECT)] == [used.id]


def test_a_member_linked_since_planning_falls_back() -> None:
    fake = seed(collections={"ckpt": 3})
    plan = _plan(
        fake,
        Policy(
            allow_empty=True,
            allow_empty_collection=True,
            allow_delete_aliases=True,
            allow_registry_linked=True,
        ),
    )
    linked = version_of(fake, "ckpt", 0)
    fake.link(linked, "team/wandb-registry-model/ckpt", aliases=["candidate"])

    result = ag.apply(plan, fake.repository())

    # The policy allows deleting linked versions one by one, never a whole collection holding a link.
    assert result.collections_deleted == []
    assert fake.version(linked.id).state is VersionState.DELETED


def test_members_already_deleted_elsewhere_still_let_the_rest_go_in_one_call() -> None:
    fake = seed(collections={"ckpt": 6})
    plan = _plan(fake)
    fake.delete_version(version_of(fake, "ckpt", 1).id)
    repo = FaultyRepository(fake.repository())

    result = ag.apply(plan, repo)

    assert result.ok and repo.writes == [("delete_collection", f"{PROJECT}/ckpt")]
    assert result.calls_saved == 4
    assert len(result.done) == 6


def test_a_refused_collection_delete_falls_back_to_re_validated_versions() -> None:
    fake = seed(collections={"ckpt": 3})
    plan = _plan(fake)
    repo = FaultyRepository(
        fake.repository(), {"delete_collection": lambda arg, n: ag.ConflictError("not today")}
    )

    result = ag.apply(plan, repo)

    assert result.ok and sorted(result.done) == sorted(d.version.id for d in plan.deletions)
    assert [m for m, _ in repo.writes] == ["delete_version"] * 3
