"""What a plan costs in requests (from the fake server's log), and that the cache never hides a change."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from artifact_guard import Action, Policy, Scope, plan
from fakes.demo import DEMO_NOW, DEMO_PROJECT, seed_demo

from .conftest import settled, wandb_repository

POLICY = Policy(keep_last=5, grace_period=timedelta(hours=1))


@pytest.mark.server
@pytest.mark.timeout(120)
def test_first_plan_and_replan_stay_within_the_request_budget(fake_server: Any, tmp_path: Path) -> None:
    fake_server.reset()
    seed_demo(fake_server.fake)
    count = len(fake_server.fake.versions(scope=DEMO_PROJECT))
    cache = tmp_path / "workspace.sqlite3"

    fake_server.clear_requests()
    first = plan(
        wandb_repository(fake_server, cache=cache, page_size=100), DEMO_PROJECT, POLICY, now=DEMO_NOW
    )
    logged = settled(fake_server)
    first_requests = len(logged)
    first_lookups = sum(r.operation == "ArtifactGuardManifestUrls" for r in logged)
    first_downloads = sum(r.operation == "GET manifest" for r in logged)

    fake_server.clear_requests()
    again = plan(
        wandb_repository(fake_server, cache=cache, page_size=100), DEMO_PROJECT, POLICY, now=DEMO_NOW
    )
    replan_requests = len(settled(fake_server))

    assert first_requests / count <= 3
    # Every version's manifest is read (the plan deletes some), each downloaded once, PENDING ones
    # included; the look-ups are full batches of 50 across collections, not one batch per collection.
    assert first_downloads == count
    assert first_lookups == -(-count // 50)
    assert replan_requests / count <= 0.05
    # A re-plan reads from W&B only what can change: the listing, and the manifests of PENDING
    # versions (still uploading, so never cached; the referenced rule reads every kept manifest).
    pending = sum(v.state.value == "PENDING" for v in fake_server.fake.versions(scope=DEMO_PROJECT))
    manifest_reads = [r for r in fake_server.requests if r.operation == "GET manifest"]
    assert len(manifest_reads) == pending
    lookups = sum(r.operation == "ArtifactGuardManifestUrls" for r in fake_server.requests)
    assert lookups == -(-pending // 50)
    assert {r.operation for r in settled(fake_server)} <= {
        "Viewer",
        "ArtifactGuardProjectVersions",
        "ArtifactGuardProtectedAliases",
        "ArtifactGuardManifestUrls",
        "GET manifest",
    }
    assert sum(r.operation == "ArtifactGuardProtectedAliases" for r in fake_server.requests) == 1
    assert again.decisions == first.decisions
    assert again.reclaimable_bytes == first.reclaimable_bytes


@pytest.mark.server
@pytest.mark.timeout(120)
def test_a_cached_replan_still_sees_a_new_consumer_and_a_new_alias(fake_server: Any, tmp_path: Path) -> None:
    # given a plan that deletes some versions, made with a warm cache
    fake_server.reset()
    seed_demo(fake_server.fake)
    cache = tmp_path / "workspace.sqlite3"
    first = plan(wandb_repository(fake_server, cache=cache), DEMO_PROJECT, POLICY, now=DEMO_NOW)
    doomed = [d.version for d in first.deletions]
    assert len(doomed) >= 2

    # when a run consumes one of them and another one gets an alias
    reader = fake_server.fake.create_run(DEMO_PROJECT, "late-reader")
    fake_server.fake.use_artifact(reader, doomed[0].id)
    fake_server.fake.add_aliases(doomed[1].id, ["keep-me"])

    # then the re-plan (same cache, new process) keeps both, for the right reasons
    again = plan(wandb_repository(fake_server, cache=cache), DEMO_PROJECT, POLICY, now=DEMO_NOW)
    consumed = again.decision(doomed[0].id)
    aliased = again.decision(doomed[1].id)
    assert consumed.action is Action.KEEP and "consumed" in consumed.rules
    assert aliased.action is Action.KEEP and "has-aliases" in aliased.rules


@pytest.mark.server
@pytest.mark.timeout(120)
def test_a_version_read_right_before_a_delete_sees_a_consumer_added_after_the_listing(
    fake_server: Any,
) -> None:
    # The executor re-validates with version() then lineage(): that must not be answered from memory.
    fake_server.reset()
    seed_demo(fake_server.fake)
    repo = wandb_repository(fake_server, page_size=100)
    victim = next(v for v in repo.versions(fake_server.fake.versions()[0].scope) if not v.aliases)
    assert repo.lineage(victim.id).consumers == ()
    reader = fake_server.fake.create_run(DEMO_PROJECT, "just-now")
    fake_server.fake.use_artifact(reader, victim.id)
    repo.version(victim.id)
    assert [r.path for r in repo.lineage(victim.id).consumers] == [reader.path]


@pytest.mark.server
@pytest.mark.timeout(120)
def test_invalidate_makes_the_next_lineage_read_ask_the_server(fake_server: Any) -> None:
    # given lineage answered from the listing, then a new consumer on the server
    fake_server.reset()
    seed_demo(fake_server.fake)
    repo = wandb_repository(fake_server, page_size=100)
    victim = next(v for v in repo.versions(fake_server.fake.versions()[0].scope) if not v.aliases)
    assert repo.lineage(victim.id).consumers == ()
    reader = fake_server.fake.create_run(DEMO_PROJECT, "after-listing")
    fake_server.fake.use_artifact(reader, victim.id)
    assert repo.lineage(victim.id).consumers == ()  # still the listing's answer

    # when the executor's hook forgets it
    repo.invalidate([victim.id])

    # then the next read sees the consumer
    assert [r.path for r in repo.lineage(victim.id).consumers] == [reader.path]


@pytest.mark.server
@pytest.mark.timeout(120)
def test_only_committed_manifests_are_cached(fake_server: Any, tmp_path: Path) -> None:
    fake_server.reset()
    run = fake_server.fake.create_run("team/proj", "r", state="running")
    done = fake_server.fake.log_artifact(run, "m", "model", {"a": b"a"})
    pending = fake_server.fake.log_artifact(run, "m", "model", {"b": b"b"}, state="PENDING")
    repo = wandb_repository(fake_server, cache=tmp_path / "ws.sqlite3")
    list(repo.versions(Scope("team", "proj")))
    assert repo.manifest(pending.id) == fake_server.fake.manifest(pending.id)
    assert repo.manifest(done.id) == fake_server.fake.manifest(done.id)
    assert repo.cache is not None
    assert set(repo.cache.manifests([done.id, pending.id])) == {done.id}

    # A pending manifest is asked for again; a committed one never is.
    fake_server.clear_requests()
    repo.manifest(pending.id)
    repo.manifest(done.id)
    assert [r.operation for r in fake_server.requests] == ["ArtifactGuardManifestUrls", "GET manifest"]


@pytest.mark.server
@pytest.mark.timeout(120)
def test_threads_reading_at_once_get_right_answers_and_never_download_a_manifest_twice(
    fake_server: Any,
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    fake_server.reset()
    seed_demo(fake_server.fake)
    repo = wandb_repository(fake_server, page_size=100)
    ids = [v.id for v in fake_server.fake.versions(scope=DEMO_PROJECT)]
    list(repo.versions(Scope.parse(DEMO_PROJECT)))
    fake_server.clear_requests()
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda vid: (repo.version(vid), repo.lineage(vid), repo.manifest(vid)), ids))
    fake = fake_server.fake
    assert all(
        g == (fake.version(v), fake.lineage(v), fake.manifest(v)) for g, v in zip(got, ids, strict=True)
    )
    # A PENDING manifest is never kept, so a waiting thread may fetch it again; a committed one, never.
    committed = {v.id for v in fake.versions(scope=DEMO_PROJECT) if v.state.value == "COMMITTED"}
    downloads = [r.variables["id"] for r in fake_server.requests if r.operation == "GET manifest"]
    assert sorted(d for d in downloads if d in committed) == sorted(committed)


@pytest.mark.server
@pytest.mark.timeout(180)
def test_a_plan_survives_rate_limits_and_server_errors(fake_server: Any) -> None:
    from fakes.server import FaultRule

    fake_server.reset()
    seed_demo(fake_server.fake)
    truth = plan(fake_server.fake.repository(), DEMO_PROJECT, POLICY, now=DEMO_NOW)
    repo = wandb_repository(fake_server, page_size=25, timeout=30)
    fake_server.faults.add_rule(FaultRule(operation="*", status=429, fraction=0.2, retry_after=0.05))
    fake_server.faults.add_rule(FaultRule(operation="*", status=503, fraction=0.1))
    try:
        seen = plan(repo, DEMO_PROJECT, POLICY, now=DEMO_NOW)
    finally:
        fake_server.faults.clear()
    assert [(d.version, d.action) for d in seen.decisions] == [(d.version, d.action) for d in truth.decisions]
    assert seen.reclaimable_bytes == truth.reclaimable_bytes
    assert any(r.status in (429, 503) for r in fake_server.requests)
