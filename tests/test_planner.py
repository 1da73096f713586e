"""The planner: one decision per version, every rule that claimed it, exact dedupe-aware bytes, no writes."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

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
