"""The planner: one decision per version, every rule that claimed it, exact dedupe-aware bytes, no writes."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import artifact_guard as ag
from artifact_guard import Action, EmptyPolicyError, NotFoundError, PlanError, Policy, Scope
from fakes import FakeRepository, FakeWandb

NOW = datetime(2026, 6, 1, tzinfo=UTC)
P = "team/vision"
OLD = NOW - timedelta(days=10)


def blob(name: str, size: int = 100) -> tuple[str, int]:
    return (f"{name}==", size)


def project(counts: dict[str, int], *, dedupe: str = "collection") -> FakeWandb:
    """Old versions per collection; version i holds `{c}-{i}` alone and shares `{c}-shared`."""
    fake = FakeWandb(now=NOW, dedupe=dedupe)  # type: ignore[arg-type]
    run = fake.create_run(P, "producer")
    for collection, n in counts.items():
        for i in range(n):
            files = {"own": blob(f"{collection}-{i}"), "shared": blob(f"{collection}-shared", 7)}
            fake.log_artifact(run, collection, "model", files, created_at=OLD + timedelta(hours=i))
    return fake


def decisions_by_name(plan: ag.Plan) -> dict[str, Action]:
    return {d.version.name: d.action for d in plan.decisions}


def rules_of(plan: ag.Plan, name: str) -> list[str]:
    return [r.rule for r in next(d for d in plan.decisions if d.version.name == name).reasons]


# ---------------------------------------------------------------- keep_last and selection


def test_keep_last_keeps_the_newest_n_of_each_collection_and_proposes_the_rest() -> None:
    fake = project({"a": 5, "b": 2})
    plan = ag.plan(fake.repository(), P, Policy(keep_last=2, allow_delete_aliases=False), now=NOW)
    assert decisions_by_name(plan) == {
        "a:v4": Action.KEEP,
        "a:v3": Action.KEEP,
        "a:v2": Action.DELETE,
        "a:v1": Action.DELETE,
        "a:v0": Action.DELETE,
        "b:v1": Action.KEEP,
        "b:v0": Action.KEEP,
    }
    assert rules_of(plan, "a:v4") == ["policy:keep-last"]
    assert rules_of(plan, "a:v2") == ["policy:selected"]
    # one decision per surviving version, collections in name order, newest first
    assert [d.version.name for d in plan.decisions] == [
        "a:v4",
        "a:v3",
        "a:v2",
        "a:v1",
        "a:v0",
        "b:v1",
        "b:v0",
    ]


def test_reclaimable_bytes_count_only_digests_no_survivor_references() -> None:
    fake = project({"a": 5})
    fake.gc()
    plan = ag.plan(fake.repository(), P, Policy(keep_last=2), now=NOW)
    # a:v0..v2 each hold 100 bytes alone; the shared 7 bytes survive with v3, v4
    assert plan.reclaimable_bytes == 300
    assert [(c.collection.name, c.kept, c.deleted, c.reclaimable_bytes) for c in plan.collections] == [
        ("a", 2, 3, 300)
    ]
    ag.apply(plan, fake.repository())
    assert fake.gc() == 300


def test_keep_within_and_older_than_keep_young_versions() -> None:
    fake = project({"a": 4})  # created OLD + 0h .. 3h
    within = ag.plan(
        fake.repository(), P, Policy(keep_within=NOW - OLD - timedelta(hours=1, minutes=30)), now=NOW
    )
    assert decisions_by_name(within) == {
        "a:v3": Action.KEEP,
        "a:v2": Action.KEEP,
        "a:v1": Action.DELETE,
        "a:v0": Action.DELETE,
    }
    assert "policy:keep-within" in rules_of(within, "a:v3")
    older = ag.plan(fake.repository(), P, Policy(older_than=NOW - OLD - timedelta(hours=1)), now=NOW)
    assert decisions_by_name(older)["a:v1"] is Action.KEEP  # exactly as old as the bound: not older
    assert decisions_by_name(older)["a:v0"] is Action.DELETE
    assert "policy:older-than" in rules_of(older, "a:v1")


def test_alias_selector_and_type_and_glob_selection() -> None:
    fake = project({"ckpt-1": 3, "data": 3})
    fake.add_aliases(fake.resolve(f"{P}/ckpt-1:v0"), ["exp"])
    only_unaliased = ag.plan(
        fake.repository(), P, Policy(aliases="unaliased", collections=("ckpt-*",)), now=NOW
    )
    got = decisions_by_name(only_unaliased)
    assert got["ckpt-1:v0"] is Action.KEEP and rules_of(only_unaliased, "ckpt-1:v0") == ["policy:aliases"]
    assert got["ckpt-1:v2"] is Action.KEEP  # holds latest
    assert got["ckpt-1:v1"] is Action.DELETE
    assert all(a is Action.KEEP for n, a in got.items() if n.startswith("data"))
    assert rules_of(only_unaliased, "data:v0") == ["policy:not-selected"]
    aliased = ag.plan(
        fake.repository(), P, Policy(aliases="aliased", allow_delete_aliases=True, keep_last=1), now=NOW
    )
    got = decisions_by_name(aliased)
    assert got["ckpt-1:v0"] is Action.DELETE and got["ckpt-1:v1"] is Action.KEEP
    typed = ag.plan(fake.repository(), P, Policy(keep_last=1, types=("dataset",)), now=NOW)
    assert all(a is Action.KEEP for n, a in decisions_by_name(typed).items())
    excluded = ag.plan(fake.repository(), P, Policy(keep_last=1, exclude_collections=("ckpt-*",)), now=NOW)
    assert {n for n, a in decisions_by_name(excluded).items() if a is Action.DELETE} == {"data:v1", "data:v0"}


# ---------------------------------------------------------------- the safety rules, through the planner


def test_every_rule_blocks_in_a_plan_and_says_why() -> None:
    fake = project({"a": 9})
    v = {i: fake.resolve(f"{P}/a:v{i}") for i in range(9)}
    fake.add_aliases(v[0], ["production"])
    fake.add_aliases(v[1], ["exp"])
    fake.use_artifact(fake.create_run(P, "eval"), v[2])
    fake.link(v[3], "team/wandb-registry-model/champ")
    fake.link(v[4], "team/wandb-registry-model/locked", protected=["gold"])
    live = fake.create_run(P, "live", state="running")
    pending = fake.log_artifact(live, "a", "model", {"x": blob("p")}, state="PENDING", created_at=OLD)
    fresh = fake.log_artifact(fake.create_run(P, "late"), "a", "model", {"x": blob("f")}, created_at=NOW)
    plan = ag.plan(fake.repository(), P, Policy(keep_last=0, allow_empty=True), now=NOW)
    blocked = {d.version.name: [r.rule for r in d.reasons if r.blocks] for d in plan.decisions}
    assert blocked["a:v0"] == ["protected-alias", "has-aliases"]
    assert blocked["a:v1"] == ["has-aliases"]
    assert blocked["a:v2"] == ["consumed"]
    assert blocked["a:v3"] == ["registry-linked"]
    assert blocked["a:v4"] == ["protected-alias", "registry-linked"]
    assert blocked[pending.name] == ["in-flight"]
    assert blocked[fresh.name] == ["has-aliases", "grace-period"]  # latest, and minutes old
    assert blocked["a:v5"] == [] and decisions_by_name(plan)["a:v5"] is Action.DELETE
    assert {d.version.name for d in plan.blocked} == {
        "a:v0", "a:v1", "a:v2", "a:v3", "a:v4", pending.name, fresh.name
    }  # fmt: skip


def test_waivers_let_the_rules_go_but_never_protected_aliases_or_in_flight() -> None:
    fake = project({"a": 3})
    fake.add_aliases(fake.resolve(f"{P}/a:v0"), ["production"])
    fake.use_artifact(fake.create_run(P, "eval"), fake.resolve(f"{P}/a:v1"))
    policy = Policy(keep_last=0, allow_empty=True, allow_delete_aliases=True, allow_consumed=True,
                    allow_empty_collection=True)  # fmt: skip
    got = decisions_by_name(ag.plan(fake.repository(), P, policy, now=NOW))
    assert got == {"a:v2": Action.DELETE, "a:v1": Action.DELETE, "a:v0": Action.KEEP}


def test_last_version_keeps_the_newest_when_everything_else_would_go() -> None:
    fake = project({"a": 3})
    fake.remove_aliases(fake.resolve(f"{P}/a:v2"), ["latest"])
    plan = ag.plan(fake.repository(), P, Policy(allow_empty=True), now=NOW)
    assert decisions_by_name(plan) == {"a:v2": Action.KEEP, "a:v1": Action.DELETE, "a:v0": Action.DELETE}
    assert rules_of(plan, "a:v2") == ["policy:selected", "last-version"]
    emptied = ag.plan(fake.repository(), P, Policy(allow_empty=True, allow_empty_collection=True), now=NOW)
    assert set(decisions_by_name(emptied).values()) == {Action.DELETE}


def test_removed_runs_do_not_block_as_consumers() -> None:
    fake = project({"a": 3})
    fake.use_artifact(fake.create_run(P, "eval"), fake.resolve(f"{P}/a:v0"))
    policy = Policy(keep_last=1)
    assert decisions_by_name(ag.plan(fake.repository(), P, policy, now=NOW))["a:v0"] is Action.KEEP
    freed = ag.plan(fake.repository(), P, policy, now=NOW, removed_runs=[f"{P}/eval"])
    assert decisions_by_name(freed)["a:v0"] is Action.DELETE


# ---------------------------------------------------------------- bytes: dedupe scopes and references


def test_references_free_nothing() -> None:
    fake = FakeWandb(now=NOW)
    run = fake.create_run(P)
    for i in range(3):
        fake.log_artifact(run, "preds", "predictions", {}, references=[("p", f"s3://b/{i}", 10_000)],
                          created_at=OLD)  # fmt: skip
    plan = ag.plan(fake.repository(), P, Policy(keep_last=1), now=NOW)
    assert len(plan.deletions) == 2 and plan.reclaimable_bytes == 0


@pytest.mark.parametrize(("dedupe", "expected"), [("collection", 2 * 50), ("project", 0)])
def test_a_digest_shared_across_collections_frees_per_dedupe_scope(dedupe: str, expected: int) -> None:
    fake = FakeWandb(now=NOW, dedupe=dedupe)  # type: ignore[arg-type]
    run = fake.create_run(P)
    for collection in ("a", "b"):
        fake.log_artifact(run, collection, "model", {"x": blob("X", 50)}, created_at=OLD)
        fake.log_artifact(run, collection, "model", {"y": blob(f"Y{collection}", 1)}, created_at=OLD)
    fake.log_artifact(run, "c", "model", {"x": blob("X", 50)}, created_at=OLD)  # a survivor holding X
    fake.gc()
    plan = ag.plan(fake.repository(), P, Policy(keep_last=1), now=NOW, dedupe=dedupe)  # type: ignore[arg-type]
    assert plan.reclaimable_bytes == expected
    ag.apply(plan, fake.repository())
    assert fake.gc() == expected


def test_a_digest_freed_in_two_collections_counts_once_with_project_dedupe() -> None:
    fake = FakeWandb(now=NOW, dedupe="project")
    run = fake.create_run(P)
    for collection in ("a", "b"):
        fake.log_artifact(run, collection, "model", {"x": blob("X", 50)}, created_at=OLD)
        fake.log_artifact(run, collection, "model", {"y": blob(f"Y{collection}", 1)}, created_at=OLD)
    fake.gc()
    plan = ag.plan(fake.repository(), P, Policy(keep_last=1), now=NOW, dedupe="project")
    assert plan.reclaimable_bytes == 50
    assert {c.collection.name: c.reclaimable_bytes for c in plan.collections} == {"a": 50, "b": 0}
    ag.apply(plan, fake.repository())
    assert fake.gc() == 50


# ---------------------------------------------------------------- bad input and dry runs


def test_an_empty_policy_is_refused_unless_allowed_and_nothing_is_written() -> None:
    fake = project({"a": 3})
    repo = fake.repository()
    with pytest.raises(EmptyPolicyError, match="allow_empty=True"):
        ag.plan(repo, P, Policy(), now=NOW)
    assert repo.write_calls == []
    assert ag.plan(repo, P, Policy(allow_empty=True), now=NOW).deletions


@pytest.mark.parametrize("scope", ["team/ghost", "nobody/vision"])
def test_an_unknown_scope_is_not_found_by_name_and_nothing_is_written(scope: str) -> None:
    fake = project({"a": 3})
    repo = fake.repository()
    with pytest.raises(NotFoundError, match=scope):
        ag.plan(repo, scope, Policy(keep_last=1), now=NOW)
    assert repo.write_calls == []
    assert len(fake.versions()) == 3


def test_a_malformed_scope_is_refused_by_name() -> None:
    with pytest.raises(NotFoundError, match="'team'"):
        ag.plan(project({"a": 1}).repository(), "team", Policy(keep_last=1), now=NOW)


def test_a_collection_the_policy_names_literally_must_exist() -> None:
    fake = project({"resnet": 3})
    repo = fake.repository()
    with pytest.raises(NotFoundError, match="'resnt'") as info:
        ag.plan(repo, P, Policy(keep_last=1, collections=("resnt",)), now=NOW)
    assert "team/vision" in str(info.value)
    assert repo.write_calls == []
    # a glob that matches nothing is a selection, not a name: it plans nothing
    plan = ag.plan(repo, P, Policy(keep_last=1, collections=("vit-*",)), now=NOW)
    assert plan.deletions == ()


def test_an_unknown_dedupe_scope_is_a_plan_error() -> None:
    with pytest.raises(PlanError, match="dedupe"):
        ag.plan(project({"a": 1}).repository(), P, Policy(keep_last=1), now=NOW, dedupe="bucket")  # type: ignore[arg-type]


def test_a_version_unknown_to_the_repository_is_not_found_by_name() -> None:
    repo = project({"a": 1}).repository()
    for read in (repo.version, repo.manifest, repo.lineage, repo.links):
        with pytest.raises(NotFoundError, match="'no-such-id'"):
            read("no-such-id")


class _ExplodingWrites(FakeRepository):
    """A repository whose every write is a test failure: planning must never get here."""

    def delete_version(self, version_id: str, *, delete_aliases: bool = False) -> None:
        raise AssertionError("plan wrote")

    def delete_collection(self, collection: ag.CollectionRef) -> None:
        raise AssertionError("plan wrote")

    def remove_aliases(self, version_id: str, aliases: object) -> None:  # type: ignore[override]
        raise AssertionError("plan wrote")


def test_planning_goes_through_the_read_only_boundary() -> None:
    fake = project({"a": 4})
    plan = ag.plan(_ExplodingWrites(fake), P, Policy(keep_last=1), now=NOW)
    assert len(plan.deletions) == 3
    with pytest.raises(ag.ReadOnlyViolation, match="delete_version"):
        ag.ReadOnlyRepository(fake.repository()).delete_version("x")
    with pytest.raises(ag.ReadOnlyViolation):
        ag.ReadOnlyRepository(fake.repository()).delete_collection(ag.CollectionRef.parse(f"{P}/a"))
    with pytest.raises(ag.ReadOnlyViolation):
        ag.ReadOnlyRepository(fake.repository()).remove_aliases("x", ["best"])


# ---------------------------------------------------------------- the plan as a value


def test_plan_id_is_deterministic_and_changes_with_the_policy_or_the_clock() -> None:
    fake = project({"a": 4})
    one = ag.plan(fake.repository(), P, Policy(keep_last=1), now=NOW)
    assert one.id == ag.plan(fake.repository(), P, Policy(keep_last=1), now=NOW).id
    assert one.id != ag.plan(fake.repository(), P, Policy(keep_last=2), now=NOW).id
    assert one.id != ag.plan(fake.repository(), P, Policy(keep_last=1), now=NOW + timedelta(seconds=1)).id


def test_summary_says_what_a_reviewer_reads_first() -> None:
    fake = project({"a": 4})
    fake.gc()
    plan = ag.plan(fake.repository(), Scope.parse(P), Policy(keep_last=1), now=NOW)
    text = plan.summary()
    assert "for team/vision" in text
    assert "4 versions in 1 collections: 3 to delete, 1 to keep (0 blocked by safety rules)" in text
    assert "reclaimable: 300 B (300 bytes, dedupe scope collection)" in text
    assert "changed from defaults: keep_last" in text
    assert str(plan) == text
    assert plan.decision(plan.decisions[0].version.id) is plan.decisions[0]
    with pytest.raises(KeyError):
        plan.decision("nope")


def test_now_defaults_to_the_repository_clock() -> None:
    # The clock apply will judge ages by: the fake's own for a fake, the wall clock for W&B.
    fake = project({"a": 2})
    plan = ag.plan(fake.repository(), P, Policy(keep_last=1))
    assert plan.created_at == fake.now()

    class NoClock:
        def __init__(self, inner: ag.ArtifactRepository) -> None:
            self.versions, self.version, self.manifest = inner.versions, inner.version, inner.manifest
            self.lineage, self.links = inner.lineage, inner.links

    plan = ag.plan(NoClock(fake.repository()), P, Policy(keep_last=1))  # type: ignore[arg-type]
    assert abs(plan.created_at - datetime.now(UTC)) < timedelta(minutes=1)


def test_format_bytes() -> None:
    assert ag.format_bytes(0) == "0 B"
    assert ag.format_bytes(1536) == "1.5 KiB"
    assert ag.format_bytes(5 * 1024**4) == "5.0 TiB"
    assert ag.format_bytes(3 * 1024**5) == "3072.0 TiB"


def test_idempotence_assumes_deleting_does_not_move_aliases() -> None:
    # The documented boundary of invariant 4 (see plan()'s docstring): with W&B's behaviour (latest
    # stays with the deleted version) a second plan deletes nothing; with a server that moves latest
    # on delete, a policy selecting aliased versions finds the new holder.
    for moves, more in ((False, False), (True, True)):
        fake = FakeWandb(now=NOW, move_latest_on_delete=moves)
        run = fake.create_run(P)
        for i in range(3):
            fake.log_artifact(run, "a", "model", {"x": blob(f"X{i}")}, created_at=OLD)
        policy = Policy(aliases="aliased", allow_delete_aliases=True)
        first = ag.plan(fake.repository(), P, policy, now=NOW)
        assert [d.version.name for d in first.deletions] == ["a:v2"]
        ag.apply(first, fake.repository())
        again = ag.plan(fake.repository(), P, policy, now=NOW)
        assert bool(again.deletions) is more


def test_a_naive_clock_is_refused_before_anything_is_read() -> None:
    repo = project({"a": 2}).repository()
    with pytest.raises(PlanError, match="timezone-aware"):
        ag.plan(repo, P, Policy(keep_last=1), now=datetime(2026, 6, 1))
    assert repo.write_calls == []


def test_plan_id_is_the_same_in_every_process() -> None:
    # Python randomises str hashing per process; a plan id must not depend on it.
    code = (
        "import artifact_guard as ag; from fakes.demo import seed_demo; f = seed_demo(); "
        "print(ag.plan(f.repository(), 'demo-team/vision', ag.Policy(keep_last=5), now=f.now()).id)"
    )
    ids = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.strip()
        for seed in ("1", "2", "3")
    }
    assert len(ids) == 1, ids


# ---------------------------------------------------------------- issue 10: what counts as a survivor


def test_a_pending_version_holds_no_keep_last_slot_and_is_no_survivor() -> None:
    fake = project({"a": 3})
    fake.remove_aliases(fake.resolve(f"{P}/a:v2"), ["latest"])
    fake.log_artifact(fake.create_run(P, "late"), "a", "model", {"own": blob("a-pending")},
                      state="PENDING", created_at=OLD + timedelta(hours=5))  # fmt: skip
    plan = ag.plan(fake.repository(), P, Policy(keep_last=1), now=NOW)
    got = decisions_by_name(plan)
    # v3 is PENDING: kept (in-flight), but the one keep slot goes to the newest committed version.
    assert got == {"a:v3": Action.KEEP, "a:v2": Action.KEEP, "a:v1": Action.DELETE, "a:v0": Action.DELETE}
    assert "in-flight" in rules_of(plan, "a:v3")
    assert rules_of(plan, "a:v2") == ["policy:keep-last"]


def test_a_pending_version_does_not_satisfy_last_version() -> None:
    fake = project({"a": 2})
    fake.remove_aliases(fake.resolve(f"{P}/a:v1"), ["latest"])
    fake.log_artifact(fake.create_run(P, "late"), "a", "model", {"own": blob("a-pending")},
                      state="PENDING", created_at=OLD)  # fmt: skip
    plan = ag.plan(fake.repository(), P, Policy(allow_empty=True), now=NOW)
    assert decisions_by_name(plan) == {"a:v2": Action.KEEP, "a:v1": Action.KEEP, "a:v0": Action.DELETE}
    assert rules_of(plan, "a:v1") == ["policy:selected", "last-version"]


@pytest.mark.parametrize("expires_in", [timedelta(0), timedelta(hours=-1), timedelta(hours=23)])
def test_a_kept_version_whose_ttl_runs_out_within_the_grace_period_is_no_survivor(
    expires_in: timedelta,
) -> None:
    fake = project({"a": 3})
    newest = fake.resolve(f"{P}/a:v2")
    fake.set_ttl(newest, (NOW - newest.created_at) + expires_in)
    plan = ag.plan(fake.repository(), P, Policy(keep_last=1), now=NOW)
    got = decisions_by_name(plan)
    # v2 is kept by keep_last but expires: v1 must survive, by the last-version rule.
    assert got == {"a:v2": Action.KEEP, "a:v1": Action.KEEP, "a:v0": Action.DELETE}
    assert rules_of(plan, "a:v1") == ["policy:selected", "last-version"]
    # Applied, then the TTL runs out: the collection still holds a version.
    ag.apply(plan, fake.repository())
    fake.advance(timedelta(days=2))
    fake.expire_ttl()
    assert [v.name for v in fake.versions(scope=P)] == ["a:v1"]


def test_a_ttl_that_outlives_the_grace_period_keeps_its_version_a_survivor() -> None:
    fake = project({"a": 3})
    newest = fake.resolve(f"{P}/a:v2")
    fake.set_ttl(newest, (NOW - newest.created_at) + timedelta(hours=25))
    got = decisions_by_name(ag.plan(fake.repository(), P, Policy(keep_last=1), now=NOW))
    assert got == {"a:v2": Action.KEEP, "a:v1": Action.DELETE, "a:v0": Action.DELETE}


def test_a_huge_ttl_or_grace_period_does_not_overflow() -> None:
    fake = project({"a": 2})
    fake.set_ttl(fake.resolve(f"{P}/a:v1"), timedelta.max)
    got = decisions_by_name(ag.plan(fake.repository(), P, Policy(keep_last=1), now=NOW))
    assert got == {"a:v1": Action.KEEP, "a:v0": Action.DELETE}
    plan = ag.plan(fake.repository(), P, Policy(keep_last=1, grace_period=timedelta.max), now=NOW)
    assert plan.deletions == ()


def test_keep_last_cost_does_not_depend_on_the_policys_number() -> None:
    import tracemalloc

    fake = project({"a": 3})
    tracemalloc.start()
    try:
        plan = ag.plan(fake.repository(), P, Policy(keep_last=10**15), now=NOW)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert plan.deletions == ()
    assert peak < 5_000_000


# ---------------------------------------------------------------- issue 10: artifact references


def artifact_ref(target: ag.Version, path: str = "own") -> str:
    """W&B's form: the target's id (base64) as hex, then the path."""
    import base64

    return f"wandb-artifact://{base64.b64decode(target.id).hex()}/{path}"


def test_a_version_another_survivor_references_is_kept_by_the_referenced_rule() -> None:
    fake = project({"a": 3})
    run = fake.run(f"{P}/producer")
    target = fake.resolve(f"{P}/a:v0")
    fake.log_artifact(run, "eval", "predictions", {}, references=[("w", artifact_ref(target))],
                      created_at=OLD)  # fmt: skip
    plan = ag.plan(fake.repository(), P, Policy(keep_last=1, collections=("a",)), now=NOW)
    got = decisions_by_name(plan)
    assert got["a:v0"] is Action.KEEP and got["a:v1"] is Action.DELETE
    reason = next(r for r in plan.decision(target.id).reasons if r.rule == "referenced")
    assert reason.args["by"] == (f"{P}/eval:v0",)
    assert "referenced by" in str(reason)
    waived = ag.plan(fake.repository(), P, Policy(keep_last=1, collections=("a",), allow_referenced=True),
                     now=NOW)  # fmt: skip
    assert decisions_by_name(waived)["a:v0"] is Action.DELETE


def test_a_referrer_removed_in_the_same_plan_does_not_block_and_chains_hold() -> None:
    fake = project({"a": 3, "b": 3, "c": 2})
    run = fake.run(f"{P}/producer")
    # b:v3 (old, deletable) references a:v0; c:v2 (newest of c, kept) references b:v0.
    fake.log_artifact(run, "b", "model", {}, references=[("w", artifact_ref(fake.resolve(f"{P}/a:v0")))],
                      created_at=OLD - timedelta(days=1))  # fmt: skip
    fake.log_artifact(run, "c", "model", {}, references=[("w", artifact_ref(fake.resolve(f"{P}/b:v0")))],
                      created_at=OLD + timedelta(days=1))  # fmt: skip
    plan = ag.plan(fake.repository(), P, Policy(keep_last=1), now=NOW)
    got = decisions_by_name(plan)
    assert got["b:v3"] is Action.KEEP  # newest by index of b: keep_last
    fake2 = project({"a": 3})
    run2 = fake2.run(f"{P}/producer")
    fake2.log_artifact(run2, "z", "model", {"x": blob("x")}, created_at=OLD)
    fake2.log_artifact(run2, "z", "model", {}, references=[("w", artifact_ref(fake2.resolve(f"{P}/a:v0")))],
                       created_at=OLD)  # fmt: skip
    fake2.log_artifact(run2, "z", "model", {"y": blob("y")}, created_at=OLD)
    # z:v1 references a:v0 and is deleted in the same plan: a:v0 goes too.
    plan2 = ag.plan(fake2.repository(), P, Policy(keep_last=1), now=NOW)
    got2 = decisions_by_name(plan2)
    assert got2["z:v1"] is Action.DELETE and got2["a:v0"] is Action.DELETE
    # Keep z:v1 (alias): now a:v0 is referenced by a survivor, and what a:v0 references would be too.
    fake2.add_aliases(fake2.resolve(f"{P}/z:v1"), ["best"])
    got3 = decisions_by_name(ag.plan(fake2.repository(), P, Policy(keep_last=1), now=NOW))
    assert got3["z:v1"] is Action.KEEP and got3["a:v0"] is Action.KEEP


def test_a_chain_of_references_is_kept_whole() -> None:
    fake = project({"a": 2})
    run = fake.run(f"{P}/producer")
    a0 = fake.resolve(f"{P}/a:v0")
    m0 = fake.log_artifact(run, "m", "model", {}, references=[("w", artifact_ref(a0))], created_at=OLD)
    fake.log_artifact(run, "m", "model", {"m": blob("m")}, created_at=OLD)
    fake.log_artifact(run, "n", "model", {}, references=[("w", artifact_ref(m0))], created_at=OLD,
                      aliases=["production"])  # fmt: skip
    got = decisions_by_name(ag.plan(fake.repository(), P, Policy(keep_last=1), now=NOW))
    assert got["m:v0"] is Action.KEEP and got["a:v0"] is Action.KEEP
    plan = ag.plan(fake.repository(), P, Policy(keep_last=1), now=NOW)
    ag.apply(plan, fake.repository())
    assert ag.plan(fake.repository(), P, Policy(keep_last=1), now=NOW).deletions == ()


def test_a_client_artifact_reference_of_a_pending_upload_blocks_its_target() -> None:
    fake = FakeWandb(now=NOW)
    run = fake.create_run(P, "producer")
    target = fake.log_artifact(run, "a", "model", {"own": blob("a-0")}, created_at=OLD, client_id="c-1234")
    for i in (1, 2, 3):
        fake.log_artifact(run, "a", "model", {"own": blob(f"a-{i}")}, created_at=OLD)
    fake.log_artifact(fake.create_run(P, "uploader"), "eval", "predictions", {},
                      references=[("w", "wandb-client-artifact://c-1234/own")], state="PENDING",
                      created_at=OLD)  # fmt: skip
    plan = ag.plan(fake.repository(), P, Policy(keep_last=1, collections=("a",)), now=NOW)
    assert "referenced" in rules_of(plan, target.name)
    assert sum(d.action is Action.DELETE for d in plan.decisions) == 2


# ------------------------------------------------ issue 10: a recurring job on an emptied collection


def test_a_collection_named_literally_and_emptied_by_an_earlier_run_plans_as_empty() -> None:
    fake = project({"a": 3, "b": 2})
    policy = Policy(keep_last=0, allow_empty=True, collections=("a",), allow_empty_collection=True)
    first = ag.plan(fake.repository(), P, policy, now=NOW)
    assert len(first.deletions) == 2  # v2 holds latest
    ag.apply(first, fake.repository())
    fake.delete_version(fake.resolve(f"{P}/a:v2"), delete_aliases=True)
    assert fake.collections(P, type="model")[0].name == "a"  # W&B keeps the emptied collection
    again = ag.plan(fake.repository(), P, policy, now=NOW)
    assert again.deletions == ()
    assert {d.version.collection for d in again.decisions} == {"b"}
    # Through an explicit read-only wrapper too; and a typo is still refused by name.
    ag.plan(ag.ReadOnlyRepository(fake.repository()), P, policy, now=NOW)
    with pytest.raises(NotFoundError, match="'aa'"):
        ag.plan(fake.repository(), P, Policy(keep_last=1, collections=("aa",)), now=NOW)


# ------------------------------------------------ issue 10: every dedupe scope, the snapshot's own


def _shared_across(dedupe: str) -> FakeWandb:
    """Two projects of one entity; each old version's file is also held by a survivor elsewhere."""
    fake = FakeWandb(now=NOW, dedupe=dedupe)  # type: ignore[arg-type]
    run, other = fake.create_run(P, "producer"), fake.create_run("team/other", "producer")
    for i in range(3):
        fake.log_artifact(run, "a", "model", {"f": blob(f"f{i}", 1000)}, created_at=OLD)
    fake.log_artifact(run, "b", "model", {"f": blob("f0", 1000)}, created_at=OLD)
    fake.log_artifact(other, "a", "model", {"f": blob("f1", 1000)}, created_at=OLD)
    fake.gc()
    return fake


@pytest.mark.parametrize(("dedupe", "freed"), [("collection", 2000), ("project", 1000), ("entity", 0)])
def test_every_dedupe_scope_of_the_fake_plans_exactly_and_is_the_default(dedupe: str, freed: int) -> None:
    fake = _shared_across(dedupe)
    plan = ag.plan(fake.repository(), P, Policy(keep_last=1), now=NOW)  # the fake's own scope
    assert plan.dedupe == dedupe
    assert plan.reclaimable_bytes == freed
    ag.apply(plan, fake.repository())
    assert fake.gc() == freed


def test_a_plan_from_a_snapshot_uses_the_snapshots_dedupe_scope(tmp_path: object) -> None:
    from fakes import load_snapshot

    fake = _shared_across("project")
    snap = ag.capture(fake.repository(), P, dedupe=fake.dedupe, now=NOW)
    restored = load_snapshot(snap)
    plan = ag.plan(restored.repository(), P, Policy(keep_last=1), now=NOW)
    assert (plan.dedupe, plan.reclaimable_bytes) == ("project", 1000)
    ag.apply(plan, restored.repository())
    assert restored.gc() == 1000


def test_entity_dedupe_needs_a_repository_that_lists_the_entitys_projects() -> None:
    fake = _shared_across("entity")

    class Narrow:
        """Only the Protocol: no optional reads."""

        def __init__(self) -> None:
            self.inner = fake.repository()

        def __getattr__(self, name: str) -> object:
            if name in ("entity_scopes", "dedupe_scope", "collection_exists"):
                raise AttributeError(name)
            return getattr(self.inner, name)

    with pytest.raises(PlanError, match="entity"):
        ag.plan(Narrow(), P, Policy(keep_last=1), now=NOW, dedupe="entity")  # type: ignore[arg-type]
    assert ag.plan(Narrow(), P, Policy(keep_last=1), now=NOW).dedupe == "collection"  # type: ignore[arg-type]


def test_plan_fake_snapshot_on_the_command_line_uses_the_snapshots_scope(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from artifact_guard._snapshot_file import write_snapshot
    from artifact_guard.cli import app

    fake = _shared_across("project")
    path = write_snapshot(ag.capture(fake.repository(), P, dedupe="project", now=NOW), tmp_path / "s.json")
    policy = tmp_path / "p.toml"
    policy.write_text("keep-last = 1\n")
    result = CliRunner().invoke(app, ["plan", P, "--fake", str(path), "-p", str(policy), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["dedupe"], doc["reclaimable_bytes"]) == ("project", 1000)
    told = CliRunner().invoke(
        app, ["plan", P, "--fake", str(path), "-p", str(policy), "--json", "--dedupe", "collection"]
    )
    assert json.loads(told.stdout)["reclaimable_bytes"] == 2000  # said explicitly: as told


def test_a_referrer_in_another_project_blocks_when_the_repository_can_say() -> None:
    fake = project({"a": 3})
    target = fake.resolve(f"{P}/a:v0")
    elsewhere = fake.create_run("team/other", "r")
    referrer = fake.log_artifact(
        elsewhere, "eval", "predictions", {}, references=[("w", artifact_ref(target))]
    )
    plan = ag.plan(fake.repository(), P, Policy(keep_last=1), now=NOW)
    reason = next(r for r in plan.decision(target.id).reasons if r.rule == "referenced")
    assert reason.args["by"] == (referrer.qualified_name,)

    class Narrow:
        """The Protocol and nothing more: the other project's referrer is not seen (the documented limit)."""

        def __init__(self) -> None:
            self.inner = fake.repository()

        def __getattr__(self, name: str) -> object:
            if name == "referenced":
                raise AttributeError(name)
            return getattr(self.inner, name)

    blind = ag.plan(Narrow(), P, Policy(keep_last=1), now=NOW)  # type: ignore[arg-type]
    assert blind.decision(target.id).action is Action.DELETE


def test_a_collection_whose_every_version_expires_is_never_emptied_by_the_plan() -> None:
    # Nothing survives there anyway (the TTLs run out): the plan may delete the expiring candidates,
    # but some version stays (emptying it is the TTL's doing, never the plan's).
    fake = project({"a": 3})
    for v in fake.versions(scope=P):
        fake.set_ttl(v, NOW - v.created_at)
    fake.remove_aliases(fake.resolve(f"{P}/a:v2"), ["latest"])
    plan = ag.plan(fake.repository(), P, Policy(keep_last=0, allow_empty=True, grace_period=timedelta(0)),
                   now=NOW)  # fmt: skip
    assert decisions_by_name(plan) == {"a:v2": Action.KEEP, "a:v1": Action.DELETE, "a:v0": Action.DELETE}
    assert rules_of(plan, "a:v2") == ["policy:selected", "last-version"]
    assert ag.apply(plan, fake.repository()).ok


# ---------------------------------------------------------------- reading manifests


class _Prefetching(FakeRepository):
    """The fake with the optional batched read, noting the order of prefetches and manifest reads."""

    def __init__(self, fake: FakeWandb) -> None:
        super().__init__(fake)
        self.calls: list[tuple[str, object]] = []

    def prefetch_manifests(self, version_ids: object) -> None:
        self.calls.append(("prefetch", list(version_ids)))  # type: ignore[call-overload]

    def manifest(self, version_id: str) -> tuple[ag.ManifestEntry, ...]:
        self.calls.append(("manifest", version_id))
        return super().manifest(version_id)


@pytest.mark.parametrize("allow_referenced", [False, True])
def test_the_planner_tells_the_repository_every_manifest_it_will_read_before_reading_one(
    allow_referenced: bool,
) -> None:
    # given a project of several collections, through a repository that can fetch ahead
    fake = project({"a": 4, "b": 3, "c": 1})
    repo = _Prefetching(fake)

    # when a plan deletes something
    plan = ag.plan(repo, P, Policy(keep_last=1, allow_referenced=allow_referenced), now=NOW)
    assert plan.deletions

    # then one prefetch named, up front, every version whose manifest it then read (not one per collection)
    assert repo.calls[0][0] == "prefetch"
    assert sum(kind == "prefetch" for kind, _ in repo.calls) == 1
    read = {vid for kind, vid in repo.calls if kind == "manifest"}
    assert read and read <= set(repo.calls[0][1])  # type: ignore[arg-type]


def test_a_plan_that_deletes_nothing_reads_and_prefetches_no_manifest() -> None:
    repo = _Prefetching(project({"a": 2, "b": 1}))
    plan = ag.plan(repo, P, Policy(keep_last=5), now=NOW)
    assert not plan.deletions
    assert repo.calls == []


def test_a_read_only_wrapper_passes_the_prefetch_through_and_a_repository_without_one_still_plans() -> None:
    fake = project({"a": 3})
    repo = _Prefetching(fake)
    ag.ReadOnlyRepository(repo).prefetch_manifests(["x"])
    assert repo.calls == [("prefetch", ["x"])]
    ag.ReadOnlyRepository(fake.repository()).prefetch_manifests(["x"])  # no such read: nothing happens
    assert ag.plan(ag.ReadOnlyRepository(repo), P, Policy(keep_last=1), now=NOW).deletions
    assert repo.calls[1][0] == "prefetch"
